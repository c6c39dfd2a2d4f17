//! nfsha's agents under a real Pacemaker: install, discovery by pcs and
//! crmsh, a vip reaching Started, and a failed monitor detected and recovered.
//!
//! One cluster serves every scenario, so they run in sequence in one test.

mod common;

use std::time::Duration;

use common::pacemaker::Cluster;
use common::{run, run_ok};

fn install() {
    let bin = common::nfsha();
    let bin = bin.to_str().unwrap();
    // Staged into a DESTDIR first: links point at the final path, and a
    // second run changes nothing.
    let dest = tempfile::tempdir().unwrap();
    let d = dest.path().to_str().unwrap();
    let out = run_ok(bin, &["install", "--prefix", "/usr", "--destdir", d]);
    assert!(
        out.contains(&format!("installed {d}/usr/sbin/nfsha")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{d}/usr/lib/ocf/resource.d/nfsha/vip -> /usr/sbin/nfsha"
        )),
        "{out}"
    );
    let again = run_ok(bin, &["install", "--prefix", "/usr", "--destdir", d]);
    assert!(
        !again.contains("linked") && !again.contains("installed"),
        "not idempotent:\n{again}"
    );
    assert!(
        again.contains(&format!("unchanged {d}/usr/lib/ocf/resource.d/nfsha/vip")),
        "{again}"
    );
    // Then for real, where Pacemaker looks.
    run_ok(bin, &["install", "--prefix", "/usr"]);
    let target = std::fs::read_link("/usr/lib/ocf/resource.d/nfsha/vip").unwrap();
    assert_eq!(target.to_str(), Some("/usr/sbin/nfsha"));
    assert_eq!(
        std::fs::read("/usr/sbin/nfsha").unwrap(),
        std::fs::read(bin).unwrap()
    );
}

fn discovery() {
    let agents = run_ok("crm_resource", &["--list-agents", "ocf:nfsha"]);
    assert!(agents.lines().any(|l| l.trim() == "vip"), "{agents}");
    let pcs = run_ok("pcs", &["resource", "describe", "ocf:nfsha:vip"]);
    for needle in [
        "ip (required)",
        "cidr_netmask",
        "nic",
        "arp_count",
        "arp_interval_ms",
    ] {
        assert!(
            pcs.contains(needle),
            "pcs describe lacks {needle:?}:\n{pcs}"
        );
    }
    let crm = run_ok("crm", &["ra", "info", "ocf:nfsha:vip"]);
    for needle in [
        "ip* (string)",
        "cidr_netmask (integer)",
        "nic (string)",
        "label",
        "arp_count (integer, [5])",
    ] {
        assert!(crm.contains(needle), "crm ra info lacks {needle:?}:\n{crm}");
    }
}

fn addr_present(ip: &str) -> bool {
    let out = run_ok("ip", &["-j", "addr", "show", "dev", "nfsha-pm0"]);
    out.contains(&format!("\"local\":\"{ip}\""))
}

/// A veth pair in the root namespace for Pacemaker's vip (no uplink).
struct Veth;
impl Veth {
    fn new() -> Veth {
        let _ = run("ip", &["link", "del", "nfsha-pm0"]);
        run_ok(
            "ip",
            &[
                "link",
                "add",
                "nfsha-pm0",
                "type",
                "veth",
                "peer",
                "name",
                "nfsha-pm1",
            ],
        );
        run_ok("ip", &["addr", "add", "192.0.2.1/24", "dev", "nfsha-pm0"]);
        run_ok("ip", &["link", "set", "nfsha-pm0", "up"]);
        run_ok("ip", &["link", "set", "nfsha-pm1", "up"]);
        Veth
    }
}
impl Drop for Veth {
    fn drop(&mut self) {
        let _ = run("ip", &["link", "del", "nfsha-pm0"]);
    }
}

fn vip_lifecycle(cluster: &Cluster) {
    let _veth = Veth::new();
    run_ok(
        "pcs",
        &[
            "resource",
            "create",
            "test_vip",
            "ocf:nfsha:vip",
            "ip=192.0.2.200",
            "nic=nfsha-pm0",
            "cidr_netmask=24",
            "require_exports=false",
            "op",
            "monitor",
            "interval=2s",
            "timeout=10s",
        ],
    );
    cluster.wait_role("test_vip", "Started", Duration::from_secs(60));
    assert!(addr_present("192.0.2.200"));
    assert_eq!(cluster.failcount("test_vip"), 0);

    // Break it behind Pacemaker's back: the monitor must notice and recover.
    run_ok("ip", &["addr", "del", "192.0.2.200/24", "dev", "nfsha-pm0"]);
    cluster.wait_until(
        "Pacemaker to record the failed monitor",
        Duration::from_secs(60),
        || cluster.failcount("test_vip") >= 1,
    );
    cluster.wait_until(
        "Pacemaker to restore the address",
        Duration::from_secs(60),
        || addr_present("192.0.2.200"),
    );
    cluster.wait_role("test_vip", "Started", Duration::from_secs(30));

    run_ok("pcs", &["resource", "disable", "test_vip"]);
    cluster.wait_role("test_vip", "Stopped", Duration::from_secs(60));
    assert!(!addr_present("192.0.2.200"));
    run_ok("pcs", &["resource", "delete", "test_vip"]);
    cluster.wait_until("test_vip to leave the CIB", Duration::from_secs(30), || {
        cluster.role("test_vip").is_none()
    });
}

#[test]
fn agents_under_a_real_pacemaker() {
    let cluster = Cluster::start();
    install();
    discovery();
    vip_lifecycle(&cluster);
}
