//! ClusterLabs' `ocf-tester` passes for every agent in the binary's table,
//! each in an environment that fakes only what this host lacks (see
//! `common::Node`: DRBD role and kernel nfsd stand-ins, labelled there); vip
//! runs in a network namespace of its own with a veth pair.

mod common;

use common::{p, Node};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `<dir>/<agent>` → the nfsha binary, as `nfsha install` lays it out.
fn agent_link(dir: &Path, name: &str) -> PathBuf {
    let link = dir.join(name);
    std::os::unix::fs::symlink(common::nfsha(), &link).unwrap();
    link
}

fn ocf_tester(
    log: &Path,
    prefix: &[&str],
    env: &[(String, String)],
    name: &str,
    params: &[(&str, &str)],
    agent: &Path,
) {
    common::require("ocf-tester", "resource-agents");
    let mut args: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
    args.extend(["ocf-tester".to_string(), "-n".into(), name.into()]);
    for (k, v) in params {
        args.push("-o".into());
        args.push(format!("{k}={v}"));
    }
    args.push(agent.display().to_string());
    let out = Command::new(&args[0])
        .args(&args[1..])
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains(&format!("{} passed all tests", agent.display())),
        "ocf-tester {name} failed:\n{text}\nagent log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn every_agent_is_covered(tested: &[&str]) {
    for name in common::agent_names() {
        assert!(
            tested.contains(&name.as_str()),
            "no ocf-tester run for agent {name}"
        );
    }
}

#[test]
fn ocf_tester_passes_for_every_agent() {
    let mut n = Node::new();
    let links = n.path("agents");
    std::fs::create_dir_all(&links).unwrap();
    let env = n.env();
    let log = n.path("ha.log");
    let mut tested = Vec::new();

    ocf_tester(
        &log,
        &[],
        &env,
        "it-nfsstate",
        &p(&n.state_params()),
        &agent_link(&links, "nfsstate"),
    );
    tested.push("nfsstate");

    // nfsserver needs its state directory in place.
    let (rc, err) = n.agent("nfsstate", "start", &p(&n.state_params()));
    assert_eq!(rc, 0, "{err}");
    ocf_tester(
        &log,
        &[],
        &env,
        "it-nfsserver",
        &p(&n.server_params()),
        &agent_link(&links, "nfsserver"),
    );
    tested.push("nfsserver");

    // exportfs needs nfsd "running" and its filesystem mounted.
    std::fs::write(n.path("nfsd/threads"), "8\n").unwrap();
    n.mount_export();
    ocf_tester(
        &log,
        &[],
        &env,
        "it-exportfs",
        &p(&n.export_params()),
        &agent_link(&links, "exportfs"),
    );
    tested.push("exportfs");

    // vip: in its own network namespace, in front of an active export.
    common::require("ip", "iproute2");
    let ns = format!("nfsha-it-{}", std::process::id());
    common::run_ok("ip", &["netns", "add", &ns]);
    struct Ns(String);
    impl Drop for Ns {
        fn drop(&mut self) {
            let _ = common::run("ip", &["netns", "del", &self.0]);
        }
    }
    let _guard = Ns(ns.clone());
    for args in [
        vec!["link", "set", "lo", "up"],
        // A veth pair (the dummy module may be missing); both ends up so
        // nfsha0 has a carrier.
        vec![
            "link", "add", "nfsha0", "type", "veth", "peer", "name", "nfsha1",
        ],
        vec!["link", "set", "nfsha1", "up"],
        vec!["link", "set", "nfsha0", "up"],
    ] {
        let mut a = vec!["netns", "exec", &ns, "ip"];
        a.extend(args);
        common::run_ok("ip", &a);
    }
    let varlib = n.path("varlib");
    std::fs::create_dir_all(&varlib).unwrap();
    std::fs::write(
        varlib.join("etab"),
        "/srv/nfs/share\t192.0.2.0/24(rw,fsid=1)\n",
    )
    .unwrap();
    let mut vip_env = env.clone();
    vip_env.push(("NFSHA_VAR_LIB_NFS".into(), varlib.display().to_string()));
    ocf_tester(
        &log,
        &["ip", "netns", "exec", &ns],
        &vip_env,
        "it-vip",
        &[
            ("ip", "192.0.2.50"),
            ("cidr_netmask", "24"),
            ("nic", "nfsha0"),
            ("arp_count", "1"),
        ],
        &agent_link(&links, "vip"),
    );
    tested.push("vip");

    assert_eq!(n.agent("nfsstate", "stop", &p(&n.state_params())).0, 0);

    // storagehb: a real heartbeat daemon renewing on a real (tmpfs) mount;
    // fencing is recorded to a file, never carried out.
    let hb = n.path("hb");
    let mnt = hb.join("mnt");
    let run = hb.join("run");
    std::fs::create_dir_all(&mnt).unwrap();
    common::run_ok("mount", &["-t", "tmpfs", "nfsha-hb", mnt.to_str().unwrap()]);
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = common::run("umount", &["-l", self.0.to_str().unwrap()]);
        }
    }
    let _unmount = Unmount(mnt.clone());
    let cfg = common::hb::write_config(
        &hb,
        "hb.toml",
        &format!(
            "host_id = \"kvm1\"\ninterval = \"200ms\"\nio_timeout = \"1s\"\nfence_after = \"3s\"\n\
             takeover_margin = \"1s\"\nrun_dir = \"{}\"\nfence_record_file = \"{}\"\n\
             [[storage]]\nname = \"pool\"\nmount = \"{}\"\n",
            run.display(),
            hb.join("fence.log").display(),
            mnt.display()
        ),
    );
    let daemon = common::hb::Daemon::start(&cfg, &run);
    daemon.wait_for(std::time::Duration::from_secs(10), "renewals", |s| {
        s.storages[0].totals.ok >= 2
    });
    ocf_tester(
        &log,
        &[],
        &env,
        "it-storagehb",
        &[
            ("mount", mnt.to_str().unwrap()),
            ("config", cfg.to_str().unwrap()),
        ],
        &agent_link(&links, "storagehb"),
    );
    tested.push("storagehb");
    drop(daemon);

    every_agent_is_covered(&tested);
}
