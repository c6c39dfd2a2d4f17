//! The `vip` agent against the real kernel, in network namespaces of its own
//! joined by a veth pair (this kernel has no `dummy` link type).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::net::VethPair;
use common::require;
use serde_json::Value;

/// Run `nfsha agent vip ACTION` inside the namespace with OCF_RESKEY_* params.
fn vip(pair: &VethPair, action: &str, params: &[(&str, &str)]) -> (i32, String) {
    let mut c = pair.local.command(common::nfsha().to_str().unwrap());
    c.args(["agent", "vip", action]);
    run_agent(c, params)
}

fn run_agent(mut c: Command, params: &[(&str, &str)]) -> (i32, String) {
    c.env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", "test_vip")
        .env("OCF_RESKEY_CRM_meta_interval", "10000");
    // These tests are about the address itself; the ordering check against
    // this node's exports has its own test below.
    if !params.iter().any(|(k, _)| *k == "require_exports") {
        c.env("OCF_RESKEY_require_exports", "false");
    }
    for (k, v) in params {
        c.env(format!("OCF_RESKEY_{k}"), v);
    }
    let out = c.output().expect("run agent");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Addresses on `dev` in the namespace, read with `ip -j addr`.
fn addrs(pair: &VethPair, dev: &str) -> Vec<(String, u64, Option<String>)> {
    let json: Value =
        serde_json::from_str(&pair.local.ip(&["-j", "addr", "show", "dev", dev])).unwrap();
    json[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["local"].as_str().unwrap().to_string(),
                a["prefixlen"].as_u64().unwrap(),
                a["label"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn has(pair: &VethPair, ip: &str) -> bool {
    addrs(pair, "veth0").iter().any(|(a, _, _)| a == ip)
}

fn setup() -> VethPair {
    require("ip", "iproute2");
    let pair = VethPair::new("vip");
    pair.local
        .ip(&["addr", "add", "192.0.2.1/24", "dev", "veth0"]);
    pair.peer
        .ip(&["addr", "add", "192.0.2.2/24", "dev", "veth1"]);
    pair
}

#[test]
fn start_stop_monitor_are_idempotent() {
    let pair = setup();
    let p = [
        ("ip", "192.0.2.50"),
        ("nic", "veth0"),
        ("cidr_netmask", "24"),
    ];
    assert_eq!(vip(&pair, "monitor", &p).0, 7, "monitor before start");
    assert_eq!(vip(&pair, "start", &p).0, 0);
    assert!(has(&pair, "192.0.2.50"));
    assert!(addrs(&pair, "veth0").contains(&("192.0.2.50".into(), 24, Some("veth0".into()))));
    assert_eq!(vip(&pair, "start", &p).0, 0, "second start");
    assert_eq!(
        addrs(&pair, "veth0")
            .iter()
            .filter(|a| a.0 == "192.0.2.50")
            .count(),
        1
    );
    assert_eq!(vip(&pair, "monitor", &p).0, 0);
    assert_eq!(vip(&pair, "stop", &p).0, 0);
    assert!(!has(&pair, "192.0.2.50"));
    assert_eq!(vip(&pair, "stop", &p).0, 0, "second stop");
    assert_eq!(vip(&pair, "monitor", &p).0, 7, "monitor after stop");
    // The node's own address is untouched throughout.
    assert!(has(&pair, "192.0.2.1"));
}

#[test]
fn nic_and_prefix_come_from_the_connected_route() {
    let pair = setup();
    let p = [("ip", "192.0.2.60")];
    assert_eq!(vip(&pair, "start", &p).0, 0);
    assert!(addrs(&pair, "veth0").contains(&("192.0.2.60".into(), 24, Some("veth0".into()))));
    assert_eq!(vip(&pair, "monitor", &p).0, 0);
    assert_eq!(vip(&pair, "stop", &p).0, 0);
    assert!(!has(&pair, "192.0.2.60"));
    // No route covers this one here and no nic is given: wrong on this node
    // (2), so Pacemaker may try the other node.
    let (rc, err) = vip(&pair, "start", &[("ip", "198.51.100.9")]);
    assert_eq!(rc, 2, "{err}");
    assert!(
        err.contains(
            "ocf-exit-reason:nic is not set and no directly connected route on this node covers 198.51.100.9"
        ),
        "{err}"
    );
}

/// A nic missing on this node is this node's problem: 2 (OCF_ERR_ARGS), not
/// 6, which would stop the resource on every node.
#[test]
fn missing_nic_is_an_error_of_this_node() {
    let pair = setup();
    let (rc, err) = vip(
        &pair,
        "start",
        &[("ip", "192.0.2.70"), ("nic", "eth-missing")],
    );
    assert_eq!(rc, 2, "the other node may have it");
    assert!(
        err.contains("nic=\"eth-missing\": no such interface"),
        "{err}"
    );
    // A probe on a node without the interface simply finds it not running.
    assert_eq!(
        vip(
            &pair,
            "monitor",
            &[("ip", "192.0.2.70"), ("nic", "eth-missing")]
        )
        .0,
        7
    );
}

#[test]
fn hostile_values_are_rejected_and_nothing_runs() {
    let pair = setup();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("x");
    let hostile = format!("10.0.0.5;touch {}", marker.display());
    for action in ["start", "validate-all", "monitor", "stop"] {
        let (rc, err) = vip(&pair, action, &[("ip", &hostile), ("nic", "veth0")]);
        assert_eq!(rc, 6, "{action}: {err}");
        assert!(err.contains(&format!("ip={hostile:?}")), "{err}");
    }
    let (rc, _) = vip(
        &pair,
        "start",
        &[("ip", "192.0.2.80"), ("nic", "veth0$(touch /tmp/y)")],
    );
    assert_eq!(rc, 6);
    assert!(!marker.exists(), "a shell ran the hostile value");
    assert!(!has(&pair, "10.0.0.5"));
}

#[test]
fn label_is_applied() {
    let pair = setup();
    let p = [("ip", "192.0.2.90"), ("nic", "veth0"), ("label", "nfs")];
    assert_eq!(vip(&pair, "start", &p).0, 0);
    assert!(addrs(&pair, "veth0").contains(&("192.0.2.90".into(), 24, Some("veth0:nfs".into()))));
    assert_eq!(vip(&pair, "stop", &p).0, 0);
}

#[test]
fn link_down_fails_the_monitor() {
    let pair = setup();
    let p = [("ip", "192.0.2.100"), ("nic", "veth0")];
    assert_eq!(vip(&pair, "start", &p).0, 0);
    pair.peer.ip(&["link", "set", "veth1", "down"]);
    let (rc, err) = vip(&pair, "monitor", &p);
    assert_eq!(rc, 1, "no carrier must be a failure");
    assert!(err.contains("no carrier"), "{err}");
    pair.local.ip(&["link", "set", "veth0", "down"]);
    let (rc, err) = vip(&pair, "monitor", &p);
    assert_eq!(rc, 1);
    assert!(err.contains("administratively down"), "{err}");
}

#[test]
fn ipv6_start_monitor_stop() {
    let pair = setup();
    pair.local
        .ip(&["addr", "add", "fd00:5::1/64", "dev", "veth0", "nodad"]);
    let p = [("ip", "fd00:5::50")];
    assert_eq!(vip(&pair, "start", &p).0, 0);
    let a = addrs(&pair, "veth0");
    assert!(
        a.iter()
            .any(|(ip, len, _)| ip == "fd00:5::50" && *len == 64),
        "{a:?}"
    );
    assert_eq!(vip(&pair, "monitor", &p).0, 0);
    assert_eq!(vip(&pair, "stop", &p).0, 0);
    assert!(!has(&pair, "fd00:5::50"));
    assert_eq!(vip(&pair, "monitor", &p).0, 7);
}

/// Wait until `ip neigh` in the peer namespace maps `ip` to `mac`.
fn peer_learns(pair: &VethPair, ip: &str, mac: &str) -> bool {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        let json: Value =
            serde_json::from_str(&pair.peer.ip(&["-j", "neigh", "show", "dev", "veth1"])).unwrap();
        if json
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["dst"] == ip && n["lladdr"] == mac)
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn local_mac(pair: &VethPair) -> String {
    let json: Value =
        serde_json::from_str(&pair.local.ip(&["-j", "link", "show", "veth0"])).unwrap();
    json[0]["address"].as_str().unwrap().to_string()
}

#[test]
fn gratuitous_arp_reaches_the_peer() {
    let pair = setup();
    // Let the peer create neighbour entries from unsolicited ARP.
    let mut c = pair.peer.command("sysctl");
    c.args(["-qw", "net.ipv4.conf.veth1.arp_accept=1"]);
    assert!(c.status().unwrap().success());
    let p = [
        ("ip", "192.0.2.110"),
        ("nic", "veth0"),
        ("arp_count", "3"),
        ("arp_interval_ms", "50"),
    ];
    assert_eq!(vip(&pair, "start", &p).0, 0);
    assert!(
        peer_learns(&pair, "192.0.2.110", &local_mac(&pair)),
        "the peer never saw a gratuitous ARP for 192.0.2.110"
    );
    assert_eq!(vip(&pair, "stop", &p).0, 0);
}

#[test]
fn unsolicited_neighbour_advertisement_reaches_the_peer() {
    let pair = setup();
    pair.local
        .ip(&["addr", "add", "fd00:6::1/64", "dev", "veth0", "nodad"]);
    pair.peer
        .ip(&["addr", "add", "fd00:6::2/64", "dev", "veth1", "nodad"]);
    // Linux only accepts an unsolicited NA for an address it already has an
    // entry for (or with accept_untracked_na); create a stale entry first.
    pair.peer.ip(&[
        "neigh",
        "replace",
        "fd00:6::50",
        "lladdr",
        "02:00:00:00:00:99",
        "dev",
        "veth1",
        "nud",
        "stale",
    ]);
    let p = [
        ("ip", "fd00:6::50"),
        ("arp_count", "3"),
        ("arp_interval_ms", "100"),
    ];
    assert_eq!(vip(&pair, "start", &p).0, 0);
    assert!(
        peer_learns(&pair, "fd00:6::50", &local_mac(&pair)),
        "the peer never updated fd00:6::50 from an unsolicited NA"
    );
    assert_eq!(vip(&pair, "stop", &p).0, 0);
}

#[test]
fn called_through_a_symlink_it_is_the_agent() {
    let pair = setup();
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("vip");
    std::os::unix::fs::symlink(common::nfsha(), &link).unwrap();
    let p = [("ip", "192.0.2.120"), ("nic", "veth0")];
    let mut c = pair.local.command(link.to_str().unwrap());
    c.arg("start").arg("ignored-extra-argument");
    assert_eq!(run_agent(c, &p).0, 0);
    assert!(has(&pair, "192.0.2.120"));
    let mut c = pair.local.command(link.to_str().unwrap());
    c.arg("stop");
    assert_eq!(run_agent(c, &p).0, 0);
    assert!(!has(&pair, "192.0.2.120"));
}

#[test]
fn ocf_tester_passes() {
    require("ocf-tester", "resource-agents");
    let pair = setup();
    // ocf-tester runs meta-data as `nobody`: the agent must be reachable by it.
    let dir = tempfile::Builder::new()
        .prefix("nfsha-ocf")
        .tempdir_in("/tmp")
        .unwrap();
    let bin_copy = dir.path().join("nfsha");
    std::fs::copy(common::nfsha(), &bin_copy).unwrap();
    let link = dir.path().join("vip");
    std::os::unix::fs::symlink(&bin_copy, &link).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = pair.local.command("ocf-tester");
    c.args([
        "-n",
        "test_vip",
        "-o",
        "ip=192.0.2.130",
        "-o",
        "nic=veth0",
        "-o",
        "cidr_netmask=24",
        "-o",
        "require_exports=false",
    ])
    .arg(&link);
    let out = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "ocf-tester failed:\n{text}");
    assert!(text.contains("passed all tests"), "{text}");
    assert!(
        !has(&pair, "192.0.2.130"),
        "ocf-tester ends with the resource stopped"
    );
}

#[test]
fn start_refuses_while_nothing_is_exported() {
    let pair = setup();
    // No nfsd on this host: the address must not come up in front of nothing.
    let p = [
        ("ip", "192.0.2.140"),
        ("nic", "veth0"),
        ("require_exports", "true"),
    ];
    let (rc, err) = vip(&pair, "start", &p);
    assert_eq!(rc, 1, "{err}");
    assert!(
        err.contains("ocf-exit-reason:ordering: nfsd is not running on this node"),
        "{err}"
    );
    assert!(!has(&pair, "192.0.2.140"));
    // Stop only warns about ordering: a failed stop gets a node fenced.
    assert_eq!(vip(&pair, "stop", &p).0, 0);
}
