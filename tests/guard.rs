//! `nfsha guard`: deadlines for NAS jobs, with the whole process group killed,
//! cleanup run, and a child stuck in D state on a hung mount abandoned.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::hangfs::{Mode, Mounted};
use common::hb::nfsha;

fn procs_with_arg(arg: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|c| c.split(|&b| b == 0).any(|a| a == arg.as_bytes()))
        .count()
}

#[test]
fn exit_codes_pass_through() {
    assert_eq!(
        nfsha(&["guard", "--timeout", "10s", "--", "true"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        nfsha(&["guard", "--timeout", "10s", "--", "false"])
            .status
            .code(),
        Some(1)
    );
    let out = nfsha(&["guard", "--timeout", "10s", "--", "/nonexistent/prog"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run `/nonexistent/prog`"));
    let out = nfsha(&["guard", "--timeout=-5s", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("negative"));
}

#[test]
fn the_whole_group_is_killed_at_the_deadline_and_cleanup_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("cleaned up");
    let cleanup = format!("touch '{}'", marker.display());
    let t = Instant::now();
    let out = nfsha(&[
        "guard",
        "--timeout",
        "1s",
        "--kill-grace",
        "500ms",
        "--on-timeout",
        &cleanup,
        "--",
        "sh",
        "-c",
        "sleep 61.25 & sleep 61.25; wait",
    ]);
    let took = t.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(124), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(err.contains("did not finish within 1s"), "{err}");
    assert!(err.contains("killed after"), "{err}");
    assert!(marker.exists(), "cleanup ran: {err}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        procs_with_arg("61.25"),
        0,
        "background child of the job killed too"
    );
}

#[test]
fn a_child_stuck_on_a_hung_mount_is_abandoned_not_waited_for() {
    need_fuse!();
    let tmp = tempfile::tempdir().unwrap();
    let fs = Mounted::new(&tmp.path().join("mnt"));
    std::fs::write(fs.path.join("backup.img"), b"data").unwrap();
    fs.set(Mode::Block);
    let t = Instant::now();
    let out = nfsha(&[
        "guard",
        "--timeout",
        "1s",
        "--kill-grace",
        "300ms",
        "--",
        "cat",
        fs.path.join("backup.img").to_str().unwrap(),
    ]);
    let took = t.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(124), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(err.contains("stuck in the kernel"), "{err}");
    fs.set(Mode::Normal);
}
