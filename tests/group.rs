//! The NFS group on real pieces (ext4 on a loop device, mount, unshare,
//! exportfs and the real etab) with labelled stand-ins for DRBD and the
//! kernel nfsd (see `common::Node`): start order, run-time ordering checks,
//! what each agent leaves behind, and stop in reverse.

mod common;

use common::{p, Node};
use std::time::{Duration, Instant};

#[test]
fn group_starts_in_order_and_stops_in_reverse() {
    let mut n = Node::new();
    n.mount_export();
    let (state, server, export) = (n.state_params(), n.server_params(), n.export_params());

    // Out of order: every agent refuses with an "ordering:" reason.
    let (rc, err) = n.agent("nfsserver", "start", &p(&server));
    assert_eq!(rc, 1, "{err}");
    assert!(
        err.contains("ordering:") && err.contains("is not on a mounted filesystem"),
        "{err}"
    );
    let (rc, err) = n.agent("exportfs", "start", &p(&export));
    assert_eq!(rc, 1, "{err}");
    assert!(err.contains("ordering: nfsd is not running"), "{err}");

    // nfsstate: mounts the DRBD device, makes the subdirectories.
    assert_eq!(n.agent("nfsstate", "monitor", &p(&state)).0, 7);
    let (rc, err) = n.agent("nfsstate", "start", &p(&state));
    assert_eq!(rc, 0, "{err}");
    assert!(n.is_mounted(&n.state_dir));
    let statd_uid = nix::unistd::User::from_name("statd")
        .unwrap()
        .map(|u| u.uid.as_raw());
    {
        use std::os::unix::fs::MetadataExt;
        for d in ["nfsdcld", "nfsdcltrack", "v4recovery"] {
            let m = std::fs::metadata(n.state_dir.join(d)).unwrap();
            assert_eq!((m.uid(), m.mode() & 0o777), (0, 0o700), "{d}");
        }
        if let Some(uid) = statd_uid {
            let m = std::fs::metadata(n.state_dir.join("statd/sm")).unwrap();
            assert_eq!(m.uid(), uid, "statd/sm owned by statd");
        }
    }
    assert_eq!(n.agent("nfsstate", "monitor", &p(&state)).0, 0);

    // nfsserver: lease/grace first, then rpc.nfsd in its own UTS namespace.
    let host_before = nix::unistd::gethostname().unwrap();
    let (rc, err) = n.agent("nfsserver", "start", &p(&server));
    assert_eq!(rc, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(n.path("nfsd/nfsv4leasetime")).unwrap(),
        "120\n"
    );
    assert_eq!(
        std::fs::read_to_string(n.path("nfsd/nfsv4gracetime")).unwrap(),
        "120\n"
    );
    assert_eq!(
        std::fs::read_to_string(n.path("nfsd/nfsv4recoverydir")).unwrap(),
        format!("{}/v4recovery\n", n.state_dir.display())
    );
    let log = std::fs::read_to_string(n.path("rpc.nfsd.log")).unwrap();
    assert_eq!(
        log, "nfs-ha-test -L 120 -G 120 -N 3 -N 4.0 -V 4.1 -V 4.2 8\n",
        "rpc.nfsd saw the fixed host name (real unshare --uts)"
    );
    assert_eq!(
        nix::unistd::gethostname().unwrap(),
        host_before,
        "node keeps its name"
    );
    assert_eq!(n.threads(), "8");
    let (rc, err) = n.agent("nfsserver", "monitor", &p(&server));
    assert_eq!(rc, 0, "{err}");

    // exportfs: the real exportfs writes the real etab.
    let (rc, err) = n.agent("exportfs", "start", &p(&export));
    assert_eq!(rc, 0, "{err}");
    assert!(n.exported());
    assert_eq!(n.agent("exportfs", "monitor", &p(&export)).0, 0);

    // Stop in reverse. exportfs: no lease wait.
    let t = Instant::now();
    let (rc, err) = n.agent("exportfs", "stop", &p(&export));
    let took = t.elapsed();
    assert_eq!(rc, 0, "{err}");
    assert!(took < Duration::from_secs(2), "exportfs stop took {took:?}");
    assert!(!n.exported());
    assert_eq!(
        std::fs::read_to_string(n.path("nfsd/unlock_filesystem")).unwrap(),
        format!("{}\n", n.export_dir.display())
    );
    assert_eq!(n.agent("exportfs", "monitor", &p(&export)).0, 7);

    let (rc, err) = n.agent("nfsserver", "stop", &p(&server));
    assert_eq!(rc, 0, "{err}");
    assert_eq!(n.threads(), "0");
    assert!(n.is_mounted(&n.state_dir), "nfsserver unmounts nothing");
    assert_eq!(n.agent("nfsserver", "monitor", &p(&server)).0, 7);

    let (rc, err) = n.agent("nfsstate", "stop", &p(&state));
    assert_eq!(rc, 0, "{err}");
    assert!(!n.is_mounted(&n.state_dir));
    assert_eq!(n.agent("nfsstate", "monitor", &p(&state)).0, 7);
}

#[test]
fn nfsstate_follows_the_drbd_role() {
    let n = Node::new();
    let state = n.state_params();
    n.set_role("Secondary");
    let (rc, err) = n.agent("nfsstate", "start", &p(&state));
    assert_eq!(rc, 1);
    assert!(err.contains("is Secondary on this node"), "{err}");
    assert!(!n.is_mounted(&n.state_dir));
    n.set_role("Primary");
    assert_eq!(n.agent("nfsstate", "start", &p(&state)).0, 0);
    n.set_role("Secondary");
    let (rc, err) = n.agent("nfsstate", "monitor", &p(&state));
    assert_eq!(rc, 1);
    assert!(err.contains("Secondary"), "{err}");
    n.set_role("Primary");
    assert_eq!(n.agent("nfsstate", "stop", &p(&state)).0, 0);
    assert!(!n.is_mounted(&n.state_dir));
}

#[test]
fn nfsstate_reads_the_role_from_proc_drbd_on_drbd_84() {
    let n = Node::new();
    let state = n.state_params();
    n.drbd84("Secondary");
    let (rc, err) = n.agent("nfsstate", "start", &p(&state));
    assert_eq!(rc, 1);
    assert!(
        err.contains("is Secondary on this node (per /proc/drbd)"),
        "{err}"
    );
    n.drbd84("Primary");
    let (rc, err) = n.agent("nfsstate", "start", &p(&state));
    assert_eq!(rc, 0, "{err}");
    assert_eq!(n.agent("nfsstate", "monitor", &p(&state)).0, 0);
    assert_eq!(n.agent("nfsstate", "stop", &p(&state)).0, 0);
}

#[test]
fn nfsstate_refuses_local_storage_and_leaves_nothing_mounted() {
    let n = Node::new();
    let params = vec![
        ("directory", n.state_dir.display().to_string()),
        ("device", n.loopdev.clone()),
    ];
    let (rc, err) = n.agent("nfsstate", "start", &p(&params));
    assert_eq!(rc, 6, "{err}");
    assert!(err.contains("which is not a DRBD device"), "{err}");
    assert!(!n.is_mounted(&n.state_dir));
    let mut allowed = params.clone();
    allowed.push(("allow_unreplicated", "true".into()));
    assert_eq!(n.agent("nfsstate", "start", &p(&allowed)).0, 0);
    assert_eq!(n.agent("nfsstate", "stop", &p(&allowed)).0, 0);
    assert!(!n.is_mounted(&n.state_dir));
}

#[test]
fn nfsstate_never_unmounts_a_filesystem_it_did_not_mount() {
    let n = Node::new();
    std::fs::create_dir_all(&n.state_dir).unwrap();
    // Another resource (think ocf:heartbeat:Filesystem) mounted it.
    common::run_ok("mount", &[&n.drbd_dev, n.state_dir.to_str().unwrap()]);
    let params = vec![("directory", n.state_dir.display().to_string())];
    let (rc, err) = n.agent("nfsstate", "start", &p(&params));
    assert_eq!(rc, 0, "{err}");
    assert_eq!(n.agent("nfsstate", "monitor", &p(&params)).0, 0);
    assert_eq!(n.agent("nfsstate", "stop", &p(&params)).0, 0);
    assert!(n.is_mounted(&n.state_dir), "still mounted: not nfsstate's");
    assert_eq!(n.agent("nfsstate", "monitor", &p(&params)).0, 7);
}

#[test]
fn exportfs_needs_a_mounted_directory_and_rejects_shell_syntax() {
    let mut n = Node::new();
    std::fs::write(n.path("nfsd/threads"), "8\n").unwrap();
    let export = n.export_params();
    let (rc, err) = n.agent("exportfs", "start", &p(&export));
    assert_eq!(rc, 1);
    assert!(
        err.contains("ordering:") && err.contains("not on a mounted filesystem"),
        "{err}"
    );
    assert!(!n.exported());
    n.mount_export();
    let mut bad = export.clone();
    bad.retain(|(k, _)| *k != "clientspec");
    bad.push(("clientspec", format!("{};touch /tmp/nfsha-pwned", n.client)));
    assert_eq!(n.agent("exportfs", "start", &p(&bad)).0, 6);
    assert!(!std::path::Path::new("/tmp/nfsha-pwned").exists());
    let mut lease = export.clone();
    lease.push(("wait_for_leasetime_on_stop", "true".into()));
    let (rc, err) = n.agent("exportfs", "validate-all", &p(&lease));
    assert_eq!(rc, 6);
    assert!(err.contains("never waits out the NFSv4 lease"), "{err}");
    assert_eq!(n.agent("exportfs", "start", &p(&export)).0, 0);
    assert!(n.exported());
    assert_eq!(n.agent("exportfs", "stop", &p(&export)).0, 0);
    assert!(!n.exported());
}

#[test]
fn the_nfsd_stand_in_refuses_like_the_kernel() {
    let n = Node::new();
    let write = |f: &str, v: &str| std::fs::write(n.path(&format!("nfsd/{f}")), v);
    let errno = |r: std::io::Result<()>| r.unwrap_err().raw_os_error();
    write("nfsv4leasetime", "120\n").unwrap();
    assert_eq!(errno(write("nfsv4leasetime", "5\n")), Some(libc::EINVAL));
    assert_eq!(
        errno(write("nfsv4recoverydir", "/nonexistent\n")),
        Some(libc::ENOENT)
    );
    assert_eq!(
        errno(write("unlock_filesystem", "/srv\n")),
        Some(libc::EINVAL)
    );
    write("threads", "8\n").unwrap();
    for f in [
        "nfsv4leasetime",
        "nfsv4gracetime",
        "versions",
        "nfsv4recoverydir",
    ] {
        assert_eq!(errno(write(f, "90\n")), Some(libc::EBUSY), "{f}");
    }
    assert_eq!(n.nfsd.get("nfsv4leasetime"), "120\n");
    write("unlock_filesystem", "/srv\n").unwrap();
    write("threads", "0\n").unwrap();
    write("nfsv4gracetime", "150\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(n.path("nfsd/nfsv4gracetime")).unwrap(),
        "150\n"
    );
}

/// A real process that stays until killed; killed when dropped.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real process that stays until killed, named `name`, with its working
/// directory in `cwd`.
fn holder(n: &Node, name: &str, cwd: &std::path::Path) -> Holder {
    use std::os::unix::fs::PermissionsExt;
    let script = n.path(&format!("bin/{name}"));
    if !script.exists() {
        std::fs::write(
            &script,
            "#!/bin/sh\n# STAND-IN: a daemon that works in the state directory.\nwhile :; do sleep 1; done\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    Holder(
        std::process::Command::new(&script)
            .current_dir(cwd)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// The holder has exited (reaped here: the agent only signals it).
fn gone(h: &mut Holder) -> bool {
    (0..50).any(|_| {
        if matches!(h.0.try_wait(), Ok(Some(_))) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
        false
    })
}

#[test]
fn a_process_working_in_the_state_filesystem_does_not_fail_the_stop() {
    let n = Node::new();
    let state = n.state_params();
    assert_eq!(n.agent("nfsstate", "start", &p(&state)).0, 0);
    // An admin's shell, a backup job: anything with its cwd on the filesystem.
    let mut child = holder(&n, "busy-job", &n.state_dir.join("statd"));
    let (rc, err) = n.agent("nfsstate", "stop", &p(&state));
    assert_eq!(rc, 0, "{err}\n{}", n.log());
    assert!(!n.is_mounted(&n.state_dir));
    assert!(gone(&mut child), "the holder was ended");
    assert!(
        n.log().contains("busy-job (pid") && n.log().contains("working directory"),
        "{}",
        n.log()
    );

    // force_unmount=false: the busy filesystem fails the stop, as asked.
    assert_eq!(n.agent("nfsstate", "start", &p(&state)).0, 0);
    let child = holder(&n, "busy-job", &n.state_dir);
    let mut keep = state.clone();
    keep.push(("force_unmount", "false".into()));
    // A short action timeout: the unmount retries only until its deadline.
    keep.push(("CRM_meta_timeout", "4000".into()));
    let (rc, err) = n.agent("nfsstate", "stop", &p(&keep));
    assert_eq!(rc, 1, "{err}");
    assert!(err.contains("cannot unmount"), "{err}");
    assert!(n.is_mounted(&n.state_dir));
    drop(child);
    assert_eq!(n.agent("nfsstate", "stop", &p(&state)).0, 0);
}

#[test]
fn nfsserver_stop_ends_a_statd_working_in_the_state_directory() {
    // Debian's nfs-server.service pulls in rpc-statd, which chdir()s into
    // nfs.conf's [statd] state-directory-path even with NFSv3 off: the
    // statd left running would keep nfsstate from unmounting.
    let mut n = Node::new();
    n.mount_export();
    let (state, server) = (n.state_params(), n.server_params());
    assert_eq!(n.agent("nfsstate", "start", &p(&state)).0, 0);
    let (rc, err) = n.agent("nfsserver", "start", &p(&server));
    assert_eq!(rc, 0, "{err}");
    let mut statd = holder(&n, "rpc.statd", &n.state_dir.join("statd"));
    let (rc, err) = n.agent("nfsserver", "stop", &p(&server));
    assert_eq!(rc, 0, "{err}");
    assert!(gone(&mut statd), "rpc.statd was ended:\n{}", n.log());
    let (rc, err) = n.agent("nfsstate", "stop", &p(&state));
    assert_eq!(rc, 0, "{err}");
    assert!(!n.is_mounted(&n.state_dir));
}
