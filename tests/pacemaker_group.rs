//! The whole NFS group under a real one-node Pacemaker (the harness in
//! `common::pacemaker`), configured once with pcs and once with crmsh:
//! Pacemaker starts nfsstate, nfsserver, exportfs and vip in order, every
//! agent's run-time ordering check passes, and disabling the group stops them
//! in reverse and leaves nothing mounted, exported or addressed.
//!
//! The crm run starts with an nfsd that the cluster did not start (as Debian
//! leaves one after installing nfs-kernel-server): nfsserver's probe reports
//! it failed, Pacemaker stops it through the agent and then starts the group.
//!
//! Real: Pacemaker, corosync, ext4 on a loop device, mount, unshare,
//! exportfs and /var/lib/nfs/etab, the address on a veth. Stand-ins (see
//! `common::Node`): DRBD's role, and the kernel nfsd (its control files over
//! FUSE; rpc.nfsd, rpc.mountd, nfsdcld scripts). They reach the agents
//! through the environment pacemakerd inherits from this test.

mod common;

use std::time::Duration;

use common::pacemaker::Cluster;
use common::{run, run_ok, Node};

const VIP: &str = "192.0.2.210";

/// A veth pair for the group's address (no uplink needed).
struct Veth;
impl Veth {
    fn new() -> Veth {
        let _ = run("ip", &["link", "del", "nfsha-pg0"]);
        run_ok(
            "ip",
            &[
                "link",
                "add",
                "nfsha-pg0",
                "type",
                "veth",
                "peer",
                "name",
                "nfsha-pg1",
            ],
        );
        run_ok("ip", &["addr", "add", "192.0.2.1/24", "dev", "nfsha-pg0"]);
        run_ok("ip", &["link", "set", "nfsha-pg0", "up"]);
        run_ok("ip", &["link", "set", "nfsha-pg1", "up"]);
        Veth
    }
}
impl Drop for Veth {
    fn drop(&mut self) {
        let _ = run("ip", &["link", "del", "nfsha-pg0"]);
    }
}

fn addr_present() -> bool {
    let out = run_ok("ip", &["-j", "addr", "show", "dev", "nfsha-pg0"]);
    out.contains(&format!("\"local\":\"{VIP}\""))
}

const MEMBERS: [&str; 4] = ["nfs-state", "nfs-server", "nfs-export", "nfs-vip"];

/// A group member: (resource, agent, params).
type Member = (&'static str, &'static str, Vec<(&'static str, String)>);

/// The group's members, in start order.
fn group(n: &Node) -> Vec<Member> {
    vec![
        ("nfs-state", "nfsstate", n.state_params()),
        ("nfs-server", "nfsserver", n.server_params()),
        ("nfs-export", "exportfs", n.export_params()),
        (
            "nfs-vip",
            "vip",
            vec![
                ("ip", VIP.to_string()),
                ("nic", "nfsha-pg0".to_string()),
                ("cidr_netmask", "24".to_string()),
                ("arp_count", "1".to_string()),
            ],
        ),
    ]
}

/// The group runs; `failed_probe` names a member whose probe found
/// something to stop first (its failure is expected).
fn assert_running(cluster: &Cluster, n: &Node, failed_probe: Option<&str>) {
    cluster.wait_role("nfs-vip", "Started", Duration::from_secs(120));
    for m in MEMBERS {
        assert_eq!(
            cluster.role(m).as_deref(),
            Some("Started"),
            "{m}\n{}",
            n.log()
        );
        if Some(m) != failed_probe {
            assert_eq!(cluster.failcount(m), 0, "{m} failed\n{}", n.log());
        }
    }
    assert!(n.is_mounted(&n.state_dir));
    assert_eq!(n.threads(), "8");
    let log = std::fs::read_to_string(n.path("rpc.nfsd.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.starts_with("nfs-ha-test -L 120 -G 120 ")),
        "{log}"
    );
    assert!(n.exported());
    assert!(addr_present());
}

fn assert_stopped(cluster: &Cluster, n: &Node) {
    cluster.wait_role("nfs-state", "Stopped", Duration::from_secs(120));
    for m in MEMBERS {
        assert_eq!(cluster.role(m).as_deref(), Some("Stopped"), "{m}");
    }
    assert!(!addr_present());
    assert!(!n.exported());
    assert_eq!(n.threads(), "0");
    assert!(!n.is_mounted(&n.state_dir));
}

#[test]
fn pacemaker_runs_the_group_from_pcs_and_from_crm() {
    let mut n = Node::new();
    n.mount_export();
    let _veth = Veth::new();
    // pacemakerd (and so every agent it runs) inherits this environment.
    for (k, v) in n.env() {
        std::env::set_var(k, v);
    }
    let cluster = Cluster::start();
    run_ok(common::nfsha(), &["install", "--prefix", "/usr"]);

    // pcs: one resource at a time into the group, each with a fast monitor.
    for (id, agent, params) in group(&n) {
        let mut args = vec![
            "resource".to_string(),
            "create".into(),
            id.into(),
            format!("ocf:nfsha:{agent}"),
        ];
        args.extend(params.iter().map(|(k, v)| format!("{k}={v}")));
        args.extend(
            [
                "op",
                "monitor",
                "interval=5s",
                "timeout=20s",
                "--group",
                "g-nfs",
            ]
            .map(String::from),
        );
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        run_ok("pcs", &a);
    }
    assert_running(&cluster, &n, None);
    run_ok("pcs", &["resource", "disable", "g-nfs"]);
    assert_stopped(&cluster, &n);
    run_ok("pcs", &["resource", "delete", "g-nfs"]);
    cluster.wait_until("g-nfs to leave the CIB", Duration::from_secs(60), || {
        MEMBERS.iter().all(|m| cluster.role(m).is_none())
    });
    std::fs::remove_file(n.path("rpc.nfsd.log")).unwrap();

    // crm: the same group as one crm configuration.
    let mut text = String::new();
    for (id, agent, params) in group(&n) {
        text.push_str(&format!("primitive {id} ocf:nfsha:{agent} params"));
        for (k, v) in params {
            text.push_str(&format!(" {k}={v}"));
        }
        text.push_str(" op monitor interval=5s timeout=20s\n");
    }
    text.push_str(&format!("group g-nfs {}\n", MEMBERS.join(" ")));
    let file = n.path("group.crm");
    std::fs::write(&file, text).unwrap();
    // An nfsd the cluster did not start is running (stand-in: threads set
    // behind the agents' back, no marker).
    std::fs::write(n.path("nfsd/threads"), "8\n").unwrap();
    run_ok(
        "crm",
        &["configure", "load", "update", file.to_str().unwrap()],
    );
    assert_running(&cluster, &n, Some("nfs-server"));
    // The probe's failure and its reason, as Pacemaker recorded them.
    let mon = run_ok("crm_mon", &["-1", "--output-as=xml", "--include=failures"]);
    assert!(
        mon.contains("op_key=\"nfs-server_monitor_0\"")
            && mon.contains("nfsd runs on this node but was not started by the cluster"),
        "{mon}"
    );
    // rpc.nfsd's stand-in saw the agent's stop (`rpc.nfsd 0`), then the
    // cluster's start under the fixed host name.
    let calls = std::fs::read_to_string(n.path("rpc.nfsd.log")).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    let stop = lines.iter().position(|l| l.ends_with(" 0"));
    let start = lines
        .iter()
        .position(|l| l.starts_with("nfs-ha-test -L 120"));
    assert!(
        matches!((stop, start), (Some(a), Some(b)) if a < b),
        "stopped through the agent, then started: {calls}"
    );
    run_ok("crm", &["resource", "stop", "g-nfs"]);
    assert_stopped(&cluster, &n);
    run_ok("crm", &["configure", "delete", "g-nfs"]);
    for m in MEMBERS {
        let _ = run("crm", &["configure", "delete", m]);
    }
}
