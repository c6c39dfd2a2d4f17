//! NFSv3 reboot notification after a failover, on the real programs: the
//! `vip` agent adds the service address and, because nfsserver's marker says
//! NFSv3 is offered, runs the real `sm-notify` on the state directory; a real
//! client-side `rpc.statd` (with its own `rpcbind`, in a network namespace
//! of its own) that monitors the server by its address receives the
//! SM_NOTIFY from that address and calls its lock manager back, the step
//! after which a Linux client reclaims its NLM locks.
//!
//! Not here (the VM lab): a kernel lockd on either side. Where this test's
//! client would call lockd, nothing is registered, and statd says so
//! ("service 100021 not registered"): that line is the proof that the
//! notification matched the monitored server.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::net::{Netns, VethPair};
use common::{require, require_root, run_ok};

const SERVER: &str = "198.18.77.1";
const VIP: &str = "198.18.77.10";
const CLIENT: &str = "198.18.77.20";

/// End every process left in `ns` (by pid: rpcbind, statd, sm-notify).
fn end_processes(ns: &Netns) {
    let out = Command::new("ip")
        .args(["netns", "pids", &ns.name])
        .output()
        .unwrap();
    for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        if let Ok(pid) = pid.parse::<i32>() {
            // SAFETY: kill(2) on a process of this test's own namespace.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// The two namespaces, whose processes are ended (and this test's children
/// reaped) before they are deleted.
struct Net(VethPair, Vec<std::process::Child>);

impl Drop for Net {
    fn drop(&mut self) {
        end_processes(&self.0.local);
        end_processes(&self.0.peer);
        for c in &mut self.1 {
            let _ = c.wait();
        }
    }
}

/// A line in the server's statd `sm/`: a client it monitors, as statd
/// writes it (`support/nsm/file.c`): address, lockd's callback
/// (program, version, procedure), 16 private bytes, mon_name, my_name.
fn monitor_record(mon_name: &str, my_name: &str) -> String {
    format!(
        "{:08x} {:08x} {:08x} {:08x} {} {mon_name} {my_name}\n",
        0x0100_007f_u32,
        100_021,
        4,
        16,
        "00".repeat(16)
    )
}

/// Run the vip agent in the server namespace, with `hosts` as /etc/hosts.
fn vip_start(net: &Net, hosts: &Path, env: &[(String, String)]) -> (i32, String) {
    let nfsha = common::nfsha();
    let mut c = net.0.local.command("unshare");
    c.args([
        "-m",
        "sh",
        "-c",
        "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
        hosts.to_str().unwrap(),
        nfsha.to_str().unwrap(),
        "agent",
        "vip",
        "start",
    ]);
    c.envs(env.iter().cloned())
        .env("OCF_RESOURCE_INSTANCE", "nfs-vip")
        .env("OCF_RESKEY_ip", VIP)
        .env("OCF_RESKEY_nic", "veth0")
        .env("OCF_RESKEY_cidr_netmask", "24")
        .env("OCF_RESKEY_arp_count", "1");
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_vip_tells_nfsv3_clients_to_reclaim_from_the_service_address() {
    require_root();
    for (tool, pkg) in [
        ("sm-notify", "nfs-common"),
        ("rpc.statd", "nfs-common"),
        ("rpcbind", "rpcbind"),
        ("unshare", "util-linux"),
    ] {
        require(tool, pkg);
    }
    let mut net = Net(VethPair::new("smn"), Vec::new());
    net.0
        .local
        .ip(&["addr", "add", &format!("{SERVER}/24"), "dev", "veth0"]);
    net.0
        .peer
        .ip(&["addr", "add", &format!("{CLIENT}/24"), "dev", "veth1"]);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let hosts = t.join("hosts");
    std::fs::write(
        &hosts,
        format!("127.0.0.1 localhost\n{VIP} nfs-ha\n{CLIENT} client1\n"),
    )
    .unwrap();

    // The client: rpcbind and rpc.statd, monitoring the server by its
    // address (a Linux client's lockd registers it so: nsm_use_hostnames=0).
    let client = t.join("client");
    for d in ["sm", "sm.bak"] {
        std::fs::create_dir_all(client.join(d)).unwrap();
    }
    std::fs::write(client.join("sm").join(VIP), monitor_record(VIP, "client1")).unwrap();
    let client_log = t.join("client.log");
    let mut c = net.0.peer.command("unshare");
    c.args([
        "-m",
        "sh",
        "-c",
        "mount -t tmpfs nfsha-test /run && mkdir /run/rpcbind && \
         mount --bind \"$0\" /etc/hosts && { rpcbind -f -w & sleep 0.5; } && exec \"$@\"",
        hosts.to_str().unwrap(),
        "rpc.statd",
        "-F",
        "-d",
        "-P",
        client.to_str().unwrap(),
    ])
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(&client_log).unwrap())
    .stderr(std::fs::File::create(t.join("client.err")).unwrap());
    net.1.push(c.spawn().unwrap());
    let until = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(t.join("client.err"))
        .unwrap_or_default()
        .contains("Waiting for client connections")
    {
        assert!(Instant::now() < until, "client statd did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }

    // The server: nfsserver's marker (NFSv3 offered, this state directory),
    // a running nfsd with one export (the vip's ordering check), and statd's
    // state with the client in sm/.
    let state = t.join("state");
    let statd = state.join("statd");
    for d in ["sm", "sm.bak"] {
        std::fs::create_dir_all(statd.join(d)).unwrap();
    }
    std::fs::write(
        statd.join("sm").join(CLIENT),
        monitor_record(CLIENT, "nfs-ha"),
    )
    .unwrap();
    let rsctmp = t.join("rsctmp");
    std::fs::create_dir_all(&rsctmp).unwrap();
    std::fs::write(
        rsctmp.join("nfsha-nfsserver-state"),
        format!(
            "mode=direct\nhostname=nfs-ha\npids=\nversions=3,4.2\nstate_directory={}\n",
            state.display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(t.join("nfsd")).unwrap();
    std::fs::write(t.join("nfsd/threads"), "8\n").unwrap();
    std::fs::create_dir_all(t.join("varlib")).unwrap();
    std::fs::write(
        t.join("varlib/etab"),
        "/srv/share\t198.18.77.0/24(rw,fsid=1)\n",
    )
    .unwrap();
    let env = vec![
        ("HA_RSCTMP".to_string(), rsctmp.display().to_string()),
        ("HA_LOGFILE".into(), t.join("ha.log").display().to_string()),
        (
            "NFSHA_PROC_NFSD".into(),
            t.join("nfsd").display().to_string(),
        ),
        (
            "NFSHA_VAR_LIB_NFS".into(),
            t.join("varlib").display().to_string(),
        ),
    ];

    // Without a name for the address, sm-notify cannot send as it ("my_name
    // is unusable", in syslog): the vip's start fails with the likely reason
    // instead of leaving NFSv3 locks unrecovered.
    let bare = t.join("hosts.bare");
    std::fs::write(&bare, "127.0.0.1 localhost\n").unwrap();
    let (rc, err) = vip_start(&net, &bare, &env);
    assert_eq!(rc, 1, "{err}");
    assert!(
        err.contains("sm-notify -f -v 198.18.77.10 -P")
            && err.contains("198.18.77.10 has no host name on this node"),
        "{err}"
    );
    run_ok(
        "ip",
        &[
            "-n",
            &net.0.local.name,
            "addr",
            "del",
            &format!("{VIP}/24"),
            "dev",
            "veth0",
        ],
    );

    let (rc, err) = vip_start(&net, &hosts, &env);
    assert_eq!(rc, 0, "{err}");
    let until = Instant::now() + Duration::from_secs(30);
    let log = loop {
        let log = std::fs::read_to_string(t.join("client.err")).unwrap_or_default();
        if log.contains("not registered on localhost") || Instant::now() > until {
            break log;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        log.contains("Received SM_NOTIFY from nfs-ha"),
        "the client got no SM_NOTIFY:\n{log}"
    );
    assert!(
        log.contains(&format!("check_default: access by {VIP} ALLOWED")),
        "sent from the service address:\n{log}"
    );
    assert!(
        log.contains("service 100021 not registered on localhost"),
        "the client matched it to the server it monitors and called lockd back:\n{log}"
    );
    // The server's statd state: the client was notified and retired, and
    // the NSM state number was raised (sm-notify makes it odd: "rebooted").
    let until = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(statd.join("sm.bak")).unwrap().count() > 0 {
        assert!(
            Instant::now() < until,
            "the client stayed on the notify list"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(std::fs::read_dir(statd.join("sm")).unwrap().count(), 0);
    let number = std::fs::read(statd.join("state")).unwrap();
    assert_eq!(number.len(), 4);
    assert_eq!(u32::from_ne_bytes(number.try_into().unwrap()) % 2, 1);
}
