//! A client's TCP connection to the vip across a real move, on a real kernel:
//! three network namespaces on one bridge (the client, the old node A, the
//! new node B), a listener on 2049 standing in for nfsd on each node (the
//! host kernel has no nfsd), real nftables and iptables rules.
//!
//! What a user notices, checked here: while A stops, the client hears nothing
//! from A (no FIN, no RST, no ICMP; captured on the client's side of A's
//! cable) and its connection stays open; once B has started, the client's
//! idle connection fails at once with ECONNRESET — which only B's tickle can
//! cause, since an idle client sends nothing by itself. No assertion is timed:
//! waits are for events, with generous guards that fail instead of hanging.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::net::{Capture, Lan, Netns};
use common::{require, require_root};
use nfsha::net::connections::{self, Conn};

/// One cluster node's private state: its resource state directory
/// (`HA_RSCTMP`) and its log file.
struct Node {
    rsctmp: tempfile::TempDir,
}

impl Node {
    fn new() -> Node {
        Node {
            rsctmp: tempfile::tempdir().unwrap(),
        }
    }
    fn log(&self) -> PathBuf {
        self.rsctmp.path().join("ha.log")
    }
    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }
    /// Wait until the takeover helper this node's start ran has ended (a
    /// monitor leaves the record alone while it runs).
    fn wait_for_helper(&self, vip: &str) {
        let pidfile = self
            .rsctmp
            .path()
            .join(format!("nfsha-vip-{}.announce.pid", vip.replace(':', "_")));
        let Ok(pid) = std::fs::read_to_string(pidfile) else {
            return;
        };
        let guard = Instant::now() + Duration::from_secs(60);
        while Path::new(&format!("/proc/{}", pid.trim())).exists() {
            assert!(Instant::now() < guard, "the helper outlived its bound");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `nfsha agent vip ACTION` in `ns`, as node `node`, as Pacemaker calls it.
fn agent_command(ns: &Netns, node: &Node, action: &str, params: &[(&str, &str)]) -> Command {
    let mut c = ns.command(common::nfsha().to_str().unwrap());
    c.args(["agent", "vip", action])
        .env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", "nfs_ip")
        .env("OCF_RESKEY_CRM_meta_interval", "10000")
        .env("OCF_RESKEY_require_exports", "false")
        .env("HA_RSCTMP", node.rsctmp.path())
        .env("HA_LOGFILE", node.log());
    for (k, v) in params {
        c.env(format!("OCF_RESKEY_{k}"), v);
    }
    c
}

/// Run the agent: its exit code and stderr.
fn vip(ns: &Netns, node: &Node, action: &str, params: &[(&str, &str)]) -> (i32, String) {
    let out = agent_command(ns, node, action, params)
        .output()
        .expect("run agent");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The fields of a captured frame the assertions look at.
#[derive(Debug)]
struct Packet {
    src: IpAddr,
    dst: IpAddr,
    /// IP protocol (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).
    proto: u8,
    /// TCP: ports, seq, ack, flags, window; ICMP: type in `flags`.
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
}

const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

fn parse(frame: &[u8]) -> Option<Packet> {
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let (src, dst, proto, l4) = match ethertype {
        0x0800 => {
            let ip = &frame[14..];
            let ihl = (ip[0] & 0x0f) as usize * 4;
            let a = |i: usize| IpAddr::from([ip[i], ip[i + 1], ip[i + 2], ip[i + 3]]);
            (a(12), a(16), ip[9], &ip[ihl..])
        }
        0x86dd => {
            let ip = &frame[14..];
            let a = |i: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&ip[i..i + 16]);
                IpAddr::from(o)
            };
            (a(8), a(24), ip[6], &ip[40..])
        }
        _ => return None,
    };
    let be16 = |i: usize| u16::from_be_bytes([l4[i], l4[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([l4[i], l4[i + 1], l4[i + 2], l4[i + 3]]);
    Some(match proto {
        6 => Packet {
            src,
            dst,
            proto,
            sport: be16(0),
            dport: be16(2),
            seq: be32(4),
            ack: be32(8),
            flags: l4[13],
            window: be16(14),
        },
        _ => Packet {
            src,
            dst,
            proto,
            sport: 0,
            dport: 0,
            seq: 0,
            ack: 0,
            flags: l4.first().copied().unwrap_or(0),
            window: 0,
        },
    })
}

/// ICMP errors (unreachable, time exceeded, parameter problem; ICMPv6 1–4).
fn icmp_error(p: &Packet) -> bool {
    (p.proto == 1 && matches!(p.flags, 3 | 11 | 12))
        || (p.proto == 58 && (1..=4).contains(&p.flags))
}

/// Everything `server` sent up to now: a datagram sent from its own address
/// after the fact marks the end (a veth keeps order), so nothing is missed
/// and nothing is waited for by the clock.
fn everything_sent(
    lan: &Lan,
    server: usize,
    cap: &Capture,
    from: SocketAddr,
    to: SocketAddr,
) -> Vec<Packet> {
    lan.servers[server].enter(|| {
        let s = UdpSocket::bind(from).unwrap();
        s.send_to(b"nfsha-end-of-capture", to).unwrap();
    });
    let guard = Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    loop {
        for f in cap.frames() {
            if f.windows(20).any(|w| w == b"nfsha-end-of-capture") {
                return got;
            }
            if let Some(p) = parse(&f) {
                got.push(p);
            }
        }
        assert!(
            Instant::now() < guard,
            "the end-of-capture datagram never arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Family {
    client: &'static str,
    a: &'static str,
    b: &'static str,
    vip: &'static str,
    prefix: &'static str,
    any: &'static str,
}

const V4: Family = Family {
    client: "192.0.2.2",
    a: "192.0.2.11",
    b: "192.0.2.12",
    vip: "192.0.2.50",
    prefix: "24",
    any: "0.0.0.0",
};

const V6: Family = Family {
    client: "fd00:12::2",
    a: "fd00:12::11",
    b: "fd00:12::12",
    vip: "fd00:12::50",
    prefix: "64",
    any: "::",
};

fn sa(ip: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), port)
}

fn lan(fam: &Family) -> Lan {
    require_root();
    require("ip", "iproute2");
    let mut lan = Lan::new("tkc");
    lan.add_server("tka");
    lan.add_server("tkb");
    let add = |ns: &Netns, dev: &str, ip: &str| {
        let cidr = format!("{ip}/{}", fam.prefix);
        if ip.contains(':') {
            ns.ip(&["addr", "add", &cidr, "dev", dev, "nodad"]);
        } else {
            ns.ip(&["addr", "add", &cidr, "dev", dev]);
        }
    };
    add(&lan.client, "br0", fam.client);
    add(&lan.servers[0], "eth0", fam.a);
    add(&lan.servers[1], "eth0", fam.b);
    lan
}

fn nfsd_listener(ns: &Netns, fam: &Family) -> TcpListener {
    let any = fam.any;
    ns.enter(move || TcpListener::bind((any, 2049)).expect("listen on 2049"))
}

/// The rules nfsha may have left in `ns`: nft tables and iptables chains.
fn leftover_rules(ns: &Netns) -> String {
    let mut left = String::new();
    for (prog, args) in [
        ("nft", &["list", "tables"][..]),
        ("iptables", &["-w", "5", "-S"][..]),
        ("ip6tables", &["-w", "5", "-S"][..]),
    ] {
        let out = ns.command(prog).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{prog}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            if l.contains("nfsha") {
                left.push_str(&format!("{prog}: {l}\n"));
            }
        }
    }
    left
}

fn move_a_connection(fam: &Family, firewall: &str) {
    require("nft", "nftables");
    require("iptables", "iptables");
    let lan = lan(fam);
    let (a, b) = (Node::new(), Node::new());
    let shared = tempfile::tempdir().unwrap(); // the replicated state directory
    let tickle_dir = shared.path().to_str().unwrap();
    let p = [
        ("ip", fam.vip),
        ("nic", "eth0"),
        ("cidr_netmask", fam.prefix),
        ("tickle_dir", tickle_dir),
        ("firewall", firewall),
        ("arp_count", "3"),
        ("arp_interval_ms", "50"),
    ];

    // Node A serves the address; the client mounts (connects) and goes idle.
    let (rc, err) = vip(&lan.servers[0], &a, "start", &p);
    assert_eq!(rc, 0, "start on A: {err}");
    let listener = nfsd_listener(&lan.servers[0], fam);
    let vip_ip = fam.vip;
    let mut client = lan
        .client
        .enter(move || TcpStream::connect((vip_ip, 2049)).expect("connect to the vip"));
    let (mut on_a, _) = listener.accept().unwrap();
    client.write_all(b"call").unwrap();
    let mut buf = [0u8; 4];
    on_a.read_exact(&mut buf).unwrap();
    on_a.write_all(b"repl").unwrap();
    client.read_exact(&mut buf).unwrap();
    let client_addr = client.local_addr().unwrap();

    // Monitor records the connection on the shared directory.
    a.wait_for_helper(fam.vip);
    assert_eq!(vip(&lan.servers[0], &a, "monitor", &p).0, 0);
    let record_path = shared
        .path()
        .join(connections::Record::file_name(fam.vip.parse().unwrap()));
    let record = connections::load(&record_path, fam.vip.parse().unwrap())
        .expect("a readable record")
        .unwrap_or_else(|| panic!("no record; A's log:\n{}", a.log_text()));
    assert_eq!(
        record.conns,
        vec![Conn {
            server_port: 2049,
            client: client_addr
        }]
    );

    // A stops, then its "nfsd" goes away: the client must hear nothing.
    let cap_a = Capture::open(&lan.client, "port0");
    let (rc, err) = vip(&lan.servers[0], &a, "stop", &p);
    assert_eq!(rc, 0, "stop on A: {err}\n{}", a.log_text());
    let aborted = on_a.read(&mut buf).map_err(|e| e.raw_os_error());
    assert_eq!(
        aborted,
        Err(Some(libc::ECONNABORTED)),
        "A's socket was aborted locally"
    );
    drop(on_a);
    drop(listener);
    let heard = everything_sent(&lan, 0, &cap_a, sa(fam.a, 0), sa(fam.client, 9));
    let from_vip: Vec<&Packet> = heard
        .iter()
        .filter(|p| p.src.to_string() == fam.vip || icmp_error(p))
        .collect();
    assert!(
        from_vip.is_empty(),
        "the client heard the old node: {from_vip:?}"
    );
    client.set_nonblocking(true).unwrap();
    let still = client.read(&mut buf).map_err(|e| e.kind());
    assert_eq!(
        still,
        Err(ErrorKind::WouldBlock),
        "the connection must look alive"
    );
    client.set_nonblocking(false).unwrap();
    assert_eq!(leftover_rules(&lan.servers[0]), "", "rules left on A");
    assert!(
        !a.rsctmp
            .path()
            .join(format!("nfsha-vip-{}.blackhole", fam.vip.replace(':', "_")))
            .exists(),
        "marker left on A"
    );

    // B takes over: its nfsd listens, the address comes up, the tickles go out.
    let _listener_b = nfsd_listener(&lan.servers[1], fam);
    let cap_b = Capture::open(&lan.client, "port1");
    let (rc, err) = vip(&lan.servers[1], &b, "start", &p);
    assert_eq!(rc, 0, "start on B: {err}");
    // An idle client sends nothing: only a tickle can make it talk to B.
    client
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let reset = client.read(&mut buf).map_err(|e| e.kind());
    assert_eq!(
        reset,
        Err(ErrorKind::ConnectionReset),
        "the client's connection must be reset by the new node\n{}",
        b.log_text()
    );
    let heard = everything_sent(&lan, 1, &cap_b, sa(fam.b, 0), sa(fam.client, 9));
    let ours = |p: &&Packet| {
        p.proto == 6
            && p.src.to_string() == fam.vip
            && p.sport == 2049
            && p.dst == client_addr.ip()
            && p.dport == client_addr.port()
    };
    let tickle = heard
        .iter()
        .filter(ours)
        .position(|p| p.flags == ACK && p.seq == 0 && p.ack == 0 && p.window == 1234)
        .expect("a tickle ACK from B");
    let rst = heard
        .iter()
        .filter(ours)
        .position(|p| p.flags & RST != 0)
        .expect("a RST from B");
    assert!(tickle < rst, "the tickle comes first: {heard:?}");
    assert!(
        !heard.iter().filter(ours).any(|p| p.flags & FIN != 0),
        "{heard:?}"
    );
    assert!(
        b.log_text().contains("tickling 1 connection(s)"),
        "{}",
        b.log_text()
    );

    let (rc, err) = vip(&lan.servers[1], &b, "stop", &p);
    assert_eq!(rc, 0, "stop on B: {err}");
    assert_eq!(leftover_rules(&lan.servers[1]), "");
}

#[test]
fn ipv4_move_old_node_silent_client_reset_at_once() {
    move_a_connection(&V4, "auto");
}

#[test]
fn ipv6_move_old_node_silent_client_reset_at_once() {
    move_a_connection(&V6, "auto");
}

#[test]
fn iptables_fallback_keeps_the_old_node_silent_too() {
    move_a_connection(&V4, "iptables");
}

/// The control for the captures above: a RST the old node's kernel sends for
/// an aborted socket when no rule drops it (firewall=none, and an admin's
/// `ss -K` doing what stop's abort does behind the rules) is seen, and resets
/// the client.
#[test]
fn the_capture_sees_a_reset_that_nothing_drops() {
    let lan = lan(&V4);
    let a = Node::new();
    let p = [
        ("ip", V4.vip),
        ("nic", "eth0"),
        ("firewall", "none"),
        ("tickle_rounds", "0"),
    ];
    assert_eq!(vip(&lan.servers[0], &a, "start", &p).0, 0);
    let listener = nfsd_listener(&lan.servers[0], &V4);
    let mut client = lan
        .client
        .enter(|| TcpStream::connect((V4.vip, 2049)).expect("connect to the vip"));
    let (_on_a, _) = listener.accept().unwrap();
    let port = client.local_addr().unwrap().port();
    let cap = Capture::open(&lan.client, "port0");
    // Without rules stop aborts nothing (the RST would go out).
    assert_eq!(vip(&lan.servers[0], &a, "stop", &p).0, 0);
    lan.servers[0].ip(&["addr", "add", "192.0.2.50/24", "dev", "eth0"]);
    let out = lan.servers[0]
        .command("ss")
        .args(["-K", "-t", "src", "192.0.2.50"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let heard = everything_sent(&lan, 0, &cap, sa(V4.a, 0), sa(V4.client, 9));
    assert!(
        heard
            .iter()
            .any(|p| p.src.to_string() == V4.vip && p.dport == port && p.flags & RST != 0),
        "{heard:?}"
    );
    let mut buf = [0u8; 1];
    client
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(
        client.read(&mut buf).map_err(|e| e.kind()),
        Err(ErrorKind::ConnectionReset)
    );
}

/// `ip` that stands in for the real one on `addr del` until killed: the stop
/// is then past its rules and before the address removal.
fn hanging_ip(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let ip = bin.join("ip");
    let real = which::which("ip").unwrap();
    std::fs::write(
        &ip,
        format!(
            "#!/bin/sh\ncase \"$*\" in *\" del \"*) echo $$ > {}/reached.tmp; mv {}/reached.tmp {}/reached; exec sleep 600;; esac\nexec {} \"$@\"\n",
            dir.display(),
            dir.display(),
            dir.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ip, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn killed_stop_leaves_nothing(firewall: &str, cleaner: &str) {
    require("nft", "nftables");
    require("iptables", "iptables");
    let lan = lan(&V4);
    let a = Node::new();
    let p = [
        ("ip", V4.vip),
        ("nic", "eth0"),
        ("cidr_netmask", "24"),
        ("firewall", firewall),
        ("tickle_rounds", "0"),
    ];
    assert_eq!(vip(&lan.servers[0], &a, "start", &p).0, 0);
    // Stop, with `ip addr del` hanging; SIGKILL the agent once it got there.
    let dir = tempfile::tempdir().unwrap();
    let bin = hanging_ip(dir.path());
    let mut c = agent_command(&lan.servers[0], &a, "stop", &p);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    c.env("PATH", path);
    // `ip netns exec` execs the agent: the child's pid is the agent's.
    let mut child = c.spawn().unwrap();
    let guard = Instant::now() + Duration::from_secs(60);
    while !dir.path().join("reached").exists() {
        assert!(child.try_wait().unwrap().is_none(), "stop ended early");
        assert!(Instant::now() < guard, "stop never reached `ip addr del`");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the child we spawned, then on the stand-in `ip`
    // (it wrote its pid) that the killed agent leaves behind.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let hung: i32 = std::fs::read_to_string(dir.path().join("reached"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    unsafe { libc::kill(hung, libc::SIGKILL) };
    let left = leftover_rules(&lan.servers[0]);
    if firewall == "nft" {
        // The table belonged to the killed process: the kernel removed it.
        assert_eq!(left, "", "the kernel keeps no table of a dead stop");
    } else {
        assert!(
            left.contains("nfsha-vip-"),
            "the killed stop left its rules: {left:?}"
        );
    }
    // The address is still up here; the next action removes what is left and
    // the marker the killed stop wrote.
    let (rc, err) = vip(&lan.servers[0], &a, cleaner, &p);
    assert_eq!(rc, 0, "{cleaner}: {err}");
    assert_eq!(leftover_rules(&lan.servers[0]), "", "after {cleaner}");
    assert!(
        a.log_text()
            .contains("an interrupted stop left its marker for 192.0.2.50"),
        "{}",
        a.log_text()
    );
    assert!(!a
        .rsctmp
        .path()
        .join("nfsha-vip-192.0.2.50.blackhole")
        .exists());
    assert_eq!(vip(&lan.servers[0], &a, "stop", &p).0, 0);
}

/// Rules without a marker — a ruleset saved (`nft list ruleset >
/// /etc/nftables.conf`) while a stop ran, loaded at the next boot — must not
/// make the address a black hole: start removes them.
#[test]
fn start_removes_a_saved_ruleset_it_has_no_marker_for() {
    let lan = lan(&V4);
    let a = Node::new();
    let t = "nfsha-vip-192.0.2.50";
    let nft = |args: &[&str]| {
        let out = lan.servers[0].command("nft").args(args).output().unwrap();
        assert!(out.status.success(), "nft {args:?}: {out:?}");
    };
    nft(&["add", "table", "inet", t]);
    nft(&[
        "add", "chain", "inet", t, "in", "{", "type", "filter", "hook", "input", "priority", "raw",
        ";", "}",
    ]);
    nft(&[
        "add",
        "rule",
        "inet",
        t,
        "in",
        "ip",
        "daddr",
        "192.0.2.50",
        "drop",
    ]);
    let p = [("ip", V4.vip), ("nic", "eth0"), ("tickle_rounds", "0")];
    assert_eq!(vip(&lan.servers[0], &a, "start", &p).0, 0);
    assert_eq!(leftover_rules(&lan.servers[0]), "");
    // The address answers.
    let _listener = nfsd_listener(&lan.servers[0], &V4);
    lan.client
        .enter(|| TcpStream::connect((V4.vip, 2049)).expect("the address is reachable"));
    assert_eq!(vip(&lan.servers[0], &a, "stop", &p).0, 0);
}

#[test]
fn killed_stop_nft_table_dies_with_it_and_monitor_clears_the_marker() {
    killed_stop_leaves_nothing("nft", "monitor");
}

#[test]
fn killed_stop_nft_table_dies_with_it_and_start_clears_the_marker() {
    killed_stop_leaves_nothing("nft", "start");
}

#[test]
fn killed_stop_iptables_rules_removed_by_monitor() {
    killed_stop_leaves_nothing("iptables", "monitor");
}

#[test]
fn killed_stop_iptables_rules_removed_by_start() {
    killed_stop_leaves_nothing("iptables", "start");
}

/// Start with a bad record: it succeeds, the helper warns and still
/// announces. Waits for the helper to exit (its pidfile's process).
fn start_with_record(content: &[u8], why: &str) {
    let lan = lan(&V4);
    let a = Node::new();
    let shared = tempfile::tempdir().unwrap();
    let record = shared.path().join("nfsha-vip-192.0.2.50.conns");
    std::fs::write(&record, content).unwrap();
    if content.is_empty() {
        // A huge file, sparse so that it costs no disk.
        std::fs::File::options()
            .write(true)
            .open(&record)
            .unwrap()
            .set_len(64 << 20)
            .unwrap();
    }
    let p = [
        ("ip", V4.vip),
        ("nic", "eth0"),
        ("tickle_dir", shared.path().to_str().unwrap()),
        ("arp_count", "1"),
    ];
    let (rc, err) = vip(&lan.servers[0], &a, "start", &p);
    assert_eq!(rc, 0, "a bad record must not block a start: {err}");
    a.wait_for_helper(V4.vip);
    let log = a.log_text();
    assert!(
        log.contains(&format!(
            "ignoring the connection record {}: {why}",
            record.display()
        )),
        "{log}"
    );
    assert_eq!(vip(&lan.servers[0], &a, "stop", &p).0, 0);
}

#[test]
fn truncated_record_is_ignored_with_a_warning() {
    start_with_record(
        b"nfsha-connections 1\naddress 192.0.2.50\nconn 2049 192.0.2.2 800\nconn 2049 192.0.2.2 8",
        "it is truncated",
    );
}

#[test]
fn foreign_record_is_ignored_with_a_warning() {
    start_with_record(
        b"nfsha-connections 1\naddress 192.0.2.99\nend 0\n",
        "it is not this address's record: it records 192.0.2.99, not 192.0.2.50",
    );
    start_with_record(
        b"192.0.2.50:2049\t192.0.2.2:800\n",
        "it is not this address's record: it starts with",
    );
}

#[test]
fn huge_record_is_ignored_with_a_warning() {
    start_with_record(b"", "it is 67108864 bytes");
}

/// The helper never outlives its bound, even stuck in a read that never
/// returns (here a FIFO nobody writes; on a cluster, a hung state directory).
#[test]
fn takeover_helper_ends_at_its_bound() {
    let lan = lan(&V4);
    lan.servers[0].ip(&["addr", "add", "192.0.2.50/24", "dev", "eth0"]);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("record");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let mut c = lan.servers[0].command(common::nfsha().to_str().unwrap());
    c.args([
        "announce",
        "--nic",
        "eth0",
        "--ip",
        "192.0.2.50",
        "--bound-ms",
        "300",
    ])
    .arg("--connections")
    .arg(&fifo);
    let status = c.status().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGALRM), "{status:?}");
}
