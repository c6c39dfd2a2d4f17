//! Unit tests of the vip agent against the `Fake` seam.
use super::*;
use crate::net::netlink::Route;
use crate::ocf;
use crate::sys::fake::{fail, ok, Fake};
use crate::sys::System;
use std::collections::BTreeMap;
use std::path::Path;

/// A node of a started NFS group (nfsd running, one export active), so
/// the ordering check before adding the address passes.
fn fake_net() -> Fake {
    let f = Fake::new();
    f.file("/proc/fs/nfsd/threads", "8\n");
    f.file(
        "/var/lib/nfs/etab",
        "/srv/nfs/share\t192.0.2.0/24(rw,sync,fsid=1)\n",
    );
    f.set_links(vec![
        Link {
            ifindex: 1,
            name: "lo".into(),
            up: true,
            lower_up: true,
            mac: None,
        },
        Link {
            ifindex: 2,
            name: "eth0".into(),
            up: true,
            lower_up: true,
            mac: Some([2, 0, 0, 0, 0, 2]),
        },
    ]);
    f.set_routes(vec![
        Route {
            dst: "192.0.2.0".parse().unwrap(),
            prefix_len: 24,
            oif: Some(2),
            gateway: None,
            unicast: true,
        },
        Route {
            dst: "0.0.0.0".parse().unwrap(),
            prefix_len: 0,
            oif: Some(2),
            gateway: Some("192.0.2.1".parse().unwrap()),
            unicast: true,
        },
    ]);
    f
}

fn addr(ip: &str, prefix: u8, ifindex: u32) -> IfAddr {
    IfAddr {
        ifindex,
        addr: ip.parse().unwrap(),
        prefix_len: prefix,
        label: None,
        tentative: false,
        dad_failed: false,
    }
}

fn go(sys: &Fake, action: &str, params: &[(&str, &str)]) -> (i32, String) {
    go_at(sys, action, params, 0)
}

/// `go` with `OCF_CHECK_LEVEL` set (validate-all at depth 10 checks this node).
fn go_at(sys: &Fake, action: &str, params: &[(&str, &str)], depth: u32) -> (i32, String) {
    let mut env: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (format!("OCF_RESKEY_{k}"), v.to_string()))
        .collect();
    env.insert("OCF_RESKEY_CRM_meta_interval".into(), "10000".into());
    if depth > 0 {
        env.insert("OCF_CHECK_LEVEL".into(), depth.to_string());
    }
    let (mut o, mut e) = (Vec::new(), Vec::new());
    let rc = ocf::run(&Vip, Some(action), env, sys, &mut o, &mut e);
    (rc, String::from_utf8(e).unwrap())
}

#[test]
fn start_finds_nic_and_prefix_from_the_connected_route() {
    let f = fake_net();
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
    // The fake does not apply `ip addr add`, so the verification fails,
    // but the command it ran is what matters here.
    assert_eq!(rc, 1, "{err}");
    assert_eq!(f.commands(), vec!["ip -4 addr add 192.0.2.50/24 dev eth0"]);
}

#[test]
fn start_refuses_before_the_exports_are_active() {
    let f = fake_net();
    f.file("/proc/fs/nfsd/threads", "0\n");
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 1);
    assert!(
        err.contains("ordering: nfsd is not running on this node"),
        "{err}"
    );
    let f = fake_net();
    f.file("/var/lib/nfs/etab", "");
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 1);
    assert!(err.contains("ordering: nothing is exported"), "{err}");
    // An export an nfsha exportfs resource started here has gone.
    let f = fake_net();
    f.file(
        "/run/resource-agents/nfsha-exportfs-192.0.2.0_24@_srv_nfs_other",
        "directory=/srv/nfs/other\nclient=192.0.2.0/24\n",
    );
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 1);
    assert!(
        err.contains("ordering: the export of /srv/nfs/other to 192.0.2.0/24 is not active"),
        "{err}"
    );
    assert!(f.commands().is_empty(), "no address added");
    // At stop the same finding is only a warning.
    f.set_addresses(vec![addr("192.0.2.50", 24, 2)]);
    let (_, err) = go(&f, "stop", &[("ip", "192.0.2.50")]);
    assert!(!err.contains("ordering"), "{err}");
    assert_eq!(f.commands(), vec!["ip -4 addr del 192.0.2.50/24 dev eth0"]);
}

#[test]
fn start_is_idempotent_and_announces_nothing_twice() {
    let f = fake_net();
    f.set_addresses(vec![addr("192.0.2.50", 24, 2)]);
    let (rc, _) = go(&f, "start", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 0);
    assert!(f.commands().is_empty());
    assert!(f.spawned().is_empty());
}

#[test]
fn start_refuses_a_conflicting_prefix_or_interface() {
    let f = fake_net();
    f.set_addresses(vec![addr("192.0.2.50", 25, 2)]);
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50"), ("cidr_netmask", "24")]);
    assert_eq!(rc, 1);
    assert!(err.contains("already on eth0 with prefix /25"), "{err}");
    f.set_addresses(vec![addr("192.0.2.50", 24, 1)]);
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 1);
    assert!(err.contains("another interface"), "{err}");
}

/// A missing interface or route is this node's problem, not the
/// configuration's: exit 2 (OCF_ERR_ARGS) lets Pacemaker try another node,
/// where 6 (OCF_ERR_CONFIGURED) would stop the resource everywhere.
#[test]
fn no_route_or_nic_here_is_a_node_local_error() {
    let f = fake_net();
    let (rc, err) = go(&f, "start", &[("ip", "198.51.100.7")]);
    assert_eq!(rc, 2, "{err}");
    assert!(
        err.contains("no directly connected route on this node covers 198.51.100.7; set nic="),
        "{err}"
    );
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50"), ("nic", "eth9")]);
    assert_eq!(rc, 2);
    assert!(err.contains("nic=\"eth9\": no such interface"), "{err}");
    let deep = go_at(
        &f,
        "validate-all",
        &[("ip", "192.0.2.50"), ("nic", "eth9")],
        10,
    );
    assert_eq!(deep.0, 2, "{}", deep.1);
    // A route without a prefix on the chosen interface, and a label that only
    // this node's interface name makes too long.
    let (rc, err) = go(&f, "start", &[("ip", "198.51.100.7"), ("nic", "eth0")]);
    assert_eq!(rc, 2, "{err}");
    assert!(
        err.contains("cidr_netmask is not set and no route on eth0"),
        "{err}"
    );
    let (rc, err) = go(
        &f,
        "start",
        &[("ip", "192.0.2.50"), ("label", "abcdefghijk")],
    );
    assert_eq!(rc, 2, "{err}");
    assert!(
        err.contains(
            "label=\"abcdefghijk\" is invalid on this node: \"eth0:abcdefghijk\" is longer than 15"
        ),
        "{err}"
    );
    assert!(f.commands().is_empty());
}

#[test]
fn validate_all_level_0_checks_only_the_parameters() {
    let f = fake_net();
    assert_eq!(
        go(&f, "validate-all", &[("ip", "192.0.2.50"), ("nic", "eth9")]).0,
        0
    );
    let mut env = vec![("ip", "192.0.2.50"), ("nic", "eth9")];
    env.push(("cidr_netmask", "40"));
    let (rc, err) = go(&f, "validate-all", &env);
    assert_eq!(rc, 6);
    assert!(err.contains("cidr_netmask=\"40\" is invalid: an IPv4 prefix is at most 32"));
    let (rc, err) = go(&f, "validate-all", &[("ip", "fd00::5"), ("label", "nfs")]);
    assert_eq!(rc, 6);
    assert!(err.contains("IPv6 addresses have no labels"));
    let (rc, err) = go(&f, "validate-all", &[("ip", "10.0.0.5;touch /tmp/x")]);
    assert_eq!(rc, 6);
    assert!(err.contains("ip=\"10.0.0.5;touch /tmp/x\""), "{err}");
    // Addresses no client can mount from, and labels ip(8) would not take.
    for (name, value, why) in [
        ("ip", "0.0.0.0", "expected a unicast address"),
        ("ip", "::", "expected a unicast address"),
        ("ip", "224.0.0.5", "expected a unicast address"),
        ("ip", "ff02::1", "expected a unicast address"),
        ("label", "nfs vip", "expected a short label"),
        ("label", "", ""),
        ("label", "abcdefghijklmno", "expected a short label"),
    ] {
        let mut p = vec![("ip", "192.0.2.50"), (name, value)];
        if name == "ip" {
            p.remove(0);
        }
        let (rc, err) = go(&f, "validate-all", &p);
        if value.is_empty() {
            assert_eq!(rc, 0, "an empty value is unset: {err}");
            continue;
        }
        assert_eq!(rc, 6, "{name}={value}: {err}");
        assert!(err.contains(&format!("{name}={value:?}")), "{err}");
        assert!(err.contains(why), "{err}");
    }
    let p = [("ip", "192.0.2.50"), ("label", "a-b_c.9")];
    assert_eq!(go(&f, "validate-all", &p).0, 0);
    assert!(f.commands().is_empty());
}

#[test]
fn label_and_ipv6_commands() {
    let f = fake_net();
    go(&f, "start", &[("ip", "192.0.2.50"), ("label", "nfs")]);
    assert_eq!(
        f.commands(),
        vec!["ip -4 addr add 192.0.2.50/24 dev eth0 label eth0:nfs"]
    );
    let f = fake_net();
    go(
        &f,
        "start",
        &[("ip", "fd00::5"), ("nic", "eth0"), ("cidr_netmask", "64")],
    );
    assert_eq!(f.commands(), vec!["ip -6 addr add fd00::5/64 dev eth0"]);
}

#[test]
fn failing_ip_command_is_reported() {
    let f = fake_net();
    f.respond(|c| {
        (c.program == "ip")
            .then(|| fail(2, "RTNETLINK answers: Permission denied"))
            .flatten()
    });
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 1);
    assert!(
        err.contains("RTNETLINK answers: Permission denied"),
        "{err}"
    );
}

#[test]
fn monitor_states() {
    let f = fake_net();
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 7);
    f.set_addresses(vec![addr("192.0.2.50", 24, 2)]);
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    let (rc, err) = go(&f, "monitor", &[("ip", "192.0.2.50"), ("nic", "lo")]);
    assert_eq!(rc, 1);
    assert!(err.contains("not on the configured lo"));
    let mut links = f.links().unwrap();
    links[1].lower_up = false;
    f.set_links(links);
    let (rc, err) = go(&f, "monitor", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 1);
    assert!(err.contains("no carrier"), "{err}");
}

#[test]
fn stop_when_stopped_succeeds_and_stop_removes() {
    let f = fake_net();
    assert_eq!(go(&f, "stop", &[("ip", "192.0.2.50")]).0, 0);
    assert!(f.commands().is_empty());
    f.set_addresses(vec![addr("192.0.2.50", 24, 2)]);
    // The fake keeps the address, so stop must report it could not remove it.
    let (rc, err) = go(&f, "stop", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 1);
    assert!(err.contains("could not remove 192.0.2.50 from eth0"));
    assert_eq!(f.commands(), vec!["ip -4 addr del 192.0.2.50/24 dev eth0"]);
}

// ---- connection record, silence at stop, takeover at start (issue 12) ----

use crate::net::sock_diag::{Mapped, SocketId, TcpSocket};
use std::sync::Arc;

/// The nftables writes, as the double logs them (netlink, no `nft` process).
const NFT_ADD: &str = "netlink nft add table inet nfsha-vip-192.0.2.50";
const NFT_DELETE: &str = "netlink nft delete table inet nfsha-vip-192.0.2.50";
const MARKER: &str = "/run/resource-agents/nfsha-vip-192.0.2.50.blackhole";
const SAVED: &str = "/run/resource-agents/nfsha-vip-192.0.2.50.conns.saved";
const RECORD: &str = "/srv/state/nfsha-vip-192.0.2.50.conns";

fn sock(local: &str, remote: &str, state: u8) -> TcpSocket {
    TcpSocket {
        local: local.parse().unwrap(),
        remote: remote.parse().unwrap(),
        state,
        id: SocketId {
            family: 2,
            raw: [0; 48],
        },
    }
}

/// A node running the group with the address up, nft installed, nfsstate's
/// directory /srv/state, and `ip addr add/del` applied to the address list.
fn running_node(programs: &[&str]) -> Arc<Fake> {
    let f = Arc::new(fake_net().with_programs(programs));
    if programs.contains(&"nft") {
        f.set_nft_tables(&[]); // a kernel with nf_tables
    }
    f.file(
        "/run/resource-agents/nfsha-nfsstate-_srv_state",
        "directory=/srv/state\nbacking=drbd0\n",
    );
    f.set_addresses(vec![addr("192.0.2.50", 24, 2)]);
    let weak = Arc::downgrade(&f);
    f.respond(move |c| {
        let f = weak.upgrade()?;
        match (c.program.as_str(), c.args.get(2).map(String::as_str)) {
            ("ip", Some("del")) => f.set_addresses(vec![]),
            ("ip", Some("add")) => f.set_addresses(vec![addr("192.0.2.50", 24, 2)]),
            _ => return None,
        }
        ok("")
    });
    f.set_tcp_sockets(vec![
        sock("192.0.2.50:2049", "192.0.2.21:822", 1),
        sock("192.0.2.50:2049", "192.0.2.22:901", 1),
        // Not an NFS port: aborted at stop, not recorded.
        sock("192.0.2.50:22", "192.0.2.21:50000", 1),
        // Closing: aborted, not recorded.
        sock("192.0.2.50:2049", "192.0.2.23:700", 8),
        // Another address of the node: left alone.
        sock("192.0.2.1:2049", "192.0.2.21:823", 1),
    ]);
    f
}

/// `/proc/<pid>/cmdline` of a takeover helper for `ip`.
fn helper_cmdline(ip: &str) -> String {
    [
        "/usr/sbin/nfsha",
        "announce",
        "--nic",
        "eth0",
        "--ip",
        ip,
        "",
    ]
    .join("\0")
}

fn saves(f: &Fake) -> Vec<String> {
    f.commands()
        .into_iter()
        .filter(|c| c.contains("internal-save-connections"))
        .collect()
}

#[test]
fn stop_is_silent_first_and_records_the_nfs_connections() {
    let f = running_node(&["nft"]);
    let (rc, err) = go(&f, "stop", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 0, "{err}");
    let cmds = f.commands();
    // Rules, then the address, then the rules off, then the record.
    assert_eq!(cmds[0], NFT_ADD);
    assert_eq!(cmds[1], "ip -4 addr del 192.0.2.50/24 dev eth0");
    assert_eq!(cmds[2], NFT_DELETE);
    assert!(cmds[3].contains(&format!(
        "internal-save-connections --from /run/resource-agents/nfsha-vip-192.0.2.50.conns.pending --to {RECORD} --ip 192.0.2.50 --no-sync"
    )), "{cmds:?}");
    assert_eq!(cmds.len(), 4, "{cmds:?}");
    // Every connection of the address was aborted, none of another address.
    let destroyed: Vec<String> = f.destroyed().iter().map(|s| s.remote.to_string()).collect();
    assert_eq!(
        destroyed,
        vec![
            "192.0.2.21:822",
            "192.0.2.22:901",
            "192.0.2.21:50000",
            "192.0.2.23:700"
        ]
    );
    // The record holds the established NFS connections only.
    let saved = f.file_content(SAVED).expect("saved copy");
    assert_eq!(
        saved,
        format!(
            "{RECORD}\n# nfsha vip: TCP connections to 192.0.2.50 (tickled after a move; written by nfsha)\n\
             nfsha-connections 1\naddress 192.0.2.50\nconn 2049 192.0.2.21 822\nconn 2049 192.0.2.22 901\nend 2\n"
        )
    );
    assert_eq!(
        f.file_content(MARKER),
        None,
        "no marker once the rules are off"
    );
    assert_eq!(
        f.file_content("/run/resource-agents/nfsha-vip-192.0.2.50.conns.pending"),
        None
    );
}

#[test]
fn stop_without_rules_aborts_nothing() {
    // No firewall tool: the kernel's RSTs would reach the clients, so the
    // sockets are left to go quiet with the address.
    for (programs, firewall) in [(&[][..], "auto"), (&["nft"][..], "none")] {
        let f = running_node(programs);
        let (rc, err) = go(&f, "stop", &[("ip", "192.0.2.50"), ("firewall", firewall)]);
        assert_eq!(rc, 0, "{err}");
        assert!(f.destroyed().is_empty(), "{firewall}");
        assert!(
            !f.commands().iter().any(|c| c.contains("nft")),
            "{firewall}"
        );
        assert_eq!(saves(&f).len(), 1, "the record is still kept");
    }
    // Rules that cannot be written: the same; the marker stays, since what
    // the kernel holds cannot be told, and the next monitor tries again.
    let f = running_node(&["nft"]);
    f.fail_nft(libc::EPERM);
    let (rc, err) = go(&f, "stop", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 0, "{err}");
    assert!(f.destroyed().is_empty());
    assert_eq!(f.commands()[..2], [NFT_ADD, NFT_DELETE]);
    assert_eq!(f.file_content(MARKER).as_deref(), Some("nft"));
}

#[test]
fn stop_falls_back_to_iptables_and_survives_a_kernel_without_destroy() {
    let f = running_node(&["iptables"]);
    f.fail_destroy(libc::EOPNOTSUPP);
    let (rc, err) = go(&f, "stop", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 0, "{err}");
    let cmds = f.commands();
    let chain = crate::net::filter::iptables_chain("192.0.2.50".parse().unwrap());
    assert_eq!(cmds[0], format!("iptables -w 5 -N {chain}"));
    assert!(
        cmds[4].ends_with(&format!("-I OUTPUT 1 -j {chain}")),
        "{cmds:?}"
    );
    assert_eq!(cmds[5], "ip -4 addr del 192.0.2.50/24 dev eth0");
    assert_eq!(cmds[6], format!("iptables -w 5 -D INPUT -j {chain}"));
    assert_eq!(cmds[10], format!("iptables -w 5 -n -L {chain}"));
    assert!(f.destroyed().is_empty());
    // The probe succeeded (the fake answers 0): the chain looks present, so
    // the marker stays for the next monitor to retry.
    assert_eq!(f.file_content(MARKER).as_deref(), Some("iptables"));
}

#[test]
fn monitor_records_only_what_changed() {
    let f = running_node(&["nft"]);
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(saves(&f).len(), 1);
    assert!(
        !saves(&f)[0].contains("--no-sync"),
        "monitor's record is fsynced"
    );
    // The same connections again: nothing is run at all.
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(f.commands().len(), 1, "{:?}", f.commands());
    // A new client: written again.
    let mut socks = f
        .tcp_sockets("192.0.2.50".parse().unwrap(), u32::MAX, Mapped::Include)
        .unwrap();
    socks.push(sock("192.0.2.50:2049", "192.0.2.30:1000", 1));
    f.set_tcp_sockets(socks);
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(saves(&f).len(), 2);
    assert!(f
        .file_content(SAVED)
        .unwrap()
        .contains("conn 2049 192.0.2.30 1000"));
}

#[test]
fn monitor_leaves_the_record_alone_while_the_takeover_helper_reads_it() {
    let f = running_node(&["nft"]);
    f.file(
        "/run/resource-agents/nfsha-vip-192.0.2.50.announce.pid",
        "4242\n",
    );
    f.file("/proc/4242/cmdline", &helper_cmdline("192.0.2.50"));
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    assert!(saves(&f).is_empty());
    // Another address's helper (a prefix of ours, even) does not count.
    f.file("/proc/4242/cmdline", &helper_cmdline("192.0.2.5"));
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(saves(&f).len(), 1);
}

#[test]
fn a_failed_save_is_a_warning_and_is_retried() {
    let f = running_node(&["nft"]);
    f.respond(|c| {
        c.args
            .first()
            .filter(|a| *a == "internal-save-connections")
            .and_then(|_| fail(1, "writing /srv/state/x: Read-only file system"))
    });
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(f.file_content(SAVED), None);
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(saves(&f).len(), 2, "retried at the next monitor");
}

#[test]
fn recording_follows_tickle_dir_ports_and_rounds() {
    // tickle_rounds=0: nothing recorded.
    let f = running_node(&["nft"]);
    assert_eq!(
        go(
            &f,
            "monitor",
            &[("ip", "192.0.2.50"), ("tickle_rounds", "0")]
        )
        .0,
        0
    );
    assert!(f.commands().is_empty());
    // An explicit directory and port list.
    let f = running_node(&["nft"]);
    let p = [
        ("ip", "192.0.2.50"),
        ("tickle_dir", "/srv/other"),
        ("tcp_ports", "22"),
    ];
    assert_eq!(go(&f, "monitor", &p).0, 0);
    assert!(saves(&f)[0].contains("--to /srv/other/nfsha-vip-192.0.2.50.conns"));
    let saved = f.file_content(SAVED).unwrap();
    assert!(
        saved.contains("conn 22 192.0.2.21 50000\nend 1\n"),
        "{saved}"
    );
    // Ports from nfs.conf: nfsd's own and the fixed NFSv3 daemons'.
    let f = running_node(&["nft"]);
    f.file("/etc/nfs.conf", "[nfsd]\nport=2049\n[mountd]\nport=22\n");
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    assert!(f.file_content(SAVED).unwrap().contains("end 3\n"));
    // No nfsstate here, or two of them: no directory, nothing recorded.
    let f = running_node(&["nft"]);
    f.remove_file(Path::new("/run/resource-agents/nfsha-nfsstate-_srv_state"))
        .unwrap();
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    let f = running_node(&["nft"]);
    f.file(
        "/run/resource-agents/nfsha-nfsstate-_srv_b",
        "directory=/srv/b\nbacking=drbd2\n",
    );
    assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
    assert!(saves(&f).is_empty());
}

#[test]
fn stale_rules_are_cleaned_by_monitor_and_start() {
    // A stop killed mid-way left its marker (and rules): monitor removes them.
    let f = running_node(&["nft"]);
    f.file(MARKER, "nft");
    assert_eq!(
        go(
            &f,
            "monitor",
            &[("ip", "192.0.2.50"), ("tickle_rounds", "0")]
        )
        .0,
        0
    );
    assert_eq!(f.commands(), vec![NFT_DELETE]);
    assert_eq!(f.file_content(MARKER), None);
    // Without a marker monitor runs nothing.
    assert_eq!(
        go(
            &f,
            "monitor",
            &[("ip", "192.0.2.50"), ("tickle_rounds", "0")]
        )
        .0,
        0
    );
    assert_eq!(f.commands().len(), 1);
    // Start removes them before the address goes up, marker or not (a
    // ruleset saved during a stop and loaded at boot has no marker): one
    // netlink request.
    let f = running_node(&["nft"]);
    f.set_addresses(vec![]);
    f.set_nft_tables(&["nfsha-vip-192.0.2.50", "admins-own"]);
    assert_eq!(go(&f, "start", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(f.commands()[0], NFT_DELETE);
    assert_eq!(f.commands()[1], "ip -4 addr add 192.0.2.50/24 dev eth0");
    assert_eq!(f.nft_tables(), vec!["admins-own"]);
    // Rules the marker names that cannot be removed: start refuses.
    let f = running_node(&["nft"]);
    f.set_addresses(vec![]);
    f.file(MARKER, "nft");
    f.fail_nft(libc::EPERM);
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 1);
    assert!(
        err.contains("nftables table inet nfsha-vip-192.0.2.50"),
        "{err}"
    );
    assert!(err.contains("the address would be unreachable"), "{err}");
    assert_eq!(
        f.commands(),
        vec![NFT_DELETE],
        "no address added: {:?}",
        f.commands()
    );
    // Even an address already up is not left behind rules.
    let f = running_node(&["nft"]);
    f.file(MARKER, "nft");
    assert_eq!(go(&f, "start", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(f.commands(), vec![NFT_DELETE]);
    // A stop finding no address still cleans up.
    let f = running_node(&["nft"]);
    f.set_addresses(vec![]);
    f.file(MARKER, "nft");
    assert_eq!(go(&f, "stop", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(f.commands(), vec![NFT_DELETE]);
}

#[test]
fn start_hands_the_record_to_a_bounded_takeover_helper() {
    let f = running_node(&["nft"]);
    f.set_addresses(vec![]);
    f.file(SAVED, "stale copy from this node's last run");
    let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
    assert_eq!(rc, 0, "{err}");
    let spawned = f.spawned();
    assert_eq!(spawned.len(), 1);
    let argv = &spawned[0][1..];
    let arg = |name: &str| {
        argv.iter()
            .position(|a| a == name)
            .map(|i| argv[i + 1].clone())
            .unwrap_or_else(|| panic!("{name} missing from {argv:?}"))
    };
    assert_eq!(argv[0], "announce");
    assert_eq!(arg("--ip"), "192.0.2.50");
    assert_eq!(arg("--nic"), "eth0");
    assert_eq!(arg("--connections"), RECORD);
    assert_eq!(arg("--tickle-rounds"), "3");
    assert_eq!(arg("--tickle-interval-ms"), "1000");
    assert_eq!(arg("--tag"), "vip(vip)");
    let bound: u64 = arg("--bound-ms").parse().unwrap();
    assert!(
        bound > 0 && bound <= 18_000,
        "within the start's budget: {bound}"
    );
    assert_eq!(
        f.file_content("/run/resource-agents/nfsha-vip-192.0.2.50.announce.pid")
            .as_deref(),
        Some("40001\n")
    );
    assert_eq!(
        f.file_content(SAVED),
        None,
        "the record is the previous owner's now"
    );
    // Without tickles nor announcements nothing is spawned.
    let f = running_node(&["nft"]);
    f.set_addresses(vec![]);
    let p = [
        ("ip", "192.0.2.50"),
        ("tickle_rounds", "0"),
        ("arp_count", "0"),
    ];
    assert_eq!(go(&f, "start", &p).0, 0);
    assert!(f.spawned().is_empty());
    // Announcements only.
    let f = running_node(&["nft"]);
    f.set_addresses(vec![]);
    assert_eq!(
        go(&f, "start", &[("ip", "192.0.2.50"), ("tickle_rounds", "0")]).0,
        0
    );
    assert!(!f.spawned()[0].contains(&"--connections".to_string()));
}

#[test]
fn stop_ends_the_takeover_helper() {
    let f = running_node(&["nft"]);
    f.file(
        "/run/resource-agents/nfsha-vip-192.0.2.50.announce.pid",
        "4242\n",
    );
    f.file("/proc/4242/cmdline", &helper_cmdline("192.0.2.50"));
    assert_eq!(go(&f, "stop", &[("ip", "192.0.2.50")]).0, 0);
    assert_eq!(f.killed(), vec![(4242, libc::SIGTERM)]);
    // A recycled pid running something else is not signalled.
    let f = running_node(&["nft"]);
    f.file(
        "/run/resource-agents/nfsha-vip-192.0.2.50.announce.pid",
        "4242\n",
    );
    f.file("/proc/4242/cmdline", "/usr/sbin/sshd\0-D\0");
    assert_eq!(go(&f, "stop", &[("ip", "192.0.2.50")]).0, 0);
    assert!(f.killed().is_empty());
}

#[test]
fn new_parameters_are_checked() {
    let f = fake_net().with_programs(&[]);
    for (name, value, expect) in [
        ("tcp_ports", "0", "TCP ports (1-65535)"),
        ("tcp_ports", "2049,x", "TCP ports (1-65535)"),
        ("tcp_ports", "70000", "TCP ports (1-65535)"),
        ("firewall", "ufw", "auto, nft, iptables or none"),
        ("firewall", "REJECT", "auto, nft, iptables or none"),
        ("tickle_interval_ms", "100", "from 500 to 10000"),
        ("tickle_rounds", "11", "from 0 to 10"),
        ("tickle_dir", "srv/state", "absolute path"),
        ("tickle_dir", "/srv/$(x)", ""),
    ] {
        let (rc, err) = go(&f, "validate-all", &[("ip", "192.0.2.50"), (name, value)]);
        assert_eq!(rc, 6, "{name}={value}: {err}");
        assert!(err.contains(&format!("{name}={value:?}")), "{err}");
        assert!(err.contains(expect), "{err}");
    }
    assert_eq!(
        go(
            &f,
            "validate-all",
            &[("ip", "192.0.2.50"), ("tcp_ports", "2049, 20048,2049")]
        )
        .0,
        0
    );
    // An explicitly named firewall missing on this node: exit 5 at depth 10.
    let (rc, err) = go_at(
        &f,
        "validate-all",
        &[("ip", "192.0.2.50"), ("firewall", "nft")],
        10,
    );
    assert_eq!(rc, 5, "{err}");
    assert!(
        err.contains("firewall=nft but this kernel has no nf_tables"),
        "{err}"
    );
    let (rc, err) = go_at(
        &f,
        "validate-all",
        &[("ip", "192.0.2.50"), ("firewall", "iptables")],
        10,
    );
    assert_eq!(rc, 5, "{err}");
    assert!(
        err.contains("firewall=iptables but iptables is not installed"),
        "{err}"
    );
    f.set_nft_tables(&[]);
    let p = [("ip", "192.0.2.50"), ("firewall", "nft")];
    assert_eq!(go_at(&f, "validate-all", &p, 10).0, 0);
}
