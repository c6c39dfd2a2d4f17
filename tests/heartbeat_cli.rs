//! The heartbeat's command line without storage: configuration errors that
//! name their key, the fence timeline, the mount-option lint.

mod common;

use common::hb::{nfsha, write_config};

fn run(args: &[&str]) -> (i32, String) {
    let out = nfsha(args);
    (
        out.status.code().unwrap(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn bad_configurations_are_rejected_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    for (text, want) in [
        (
            "interval = \"10s\"\nintervall = \"5s\"\n",
            "unknown field `intervall`",
        ),
        (
            "io_timeout = \"-1s\"\n",
            "io_timeout = \"-1s\": durations cannot be negative",
        ),
        (
            "io_timeout = \"30s\"\nfence_after = \"20s\"\n",
            "fence_after = 20s is shorter than io_timeout + interval",
        ),
        (
            "dead_after = \"60s\"\n",
            "dead_after = \"60s\" is shorter than the fence timeline",
        ),
        (
            "fence_action = \"sysrq\"\n",
            "fence_action = \"sysrq\": expected log-only, restart-agent, graceful-reboot or reboot",
        ),
    ] {
        let cfg = write_config(tmp.path(), "hb.toml", text);
        for sub in ["run", "validate", "timeline"] {
            let (code, out) = run(&["heartbeat", sub, "--config", cfg.to_str().unwrap()]);
            assert_eq!(code, 2, "{sub}: {out}");
            assert!(out.contains(want), "{sub}: {out}");
        }
    }
}

#[test]
fn timeline_prints_the_fence_bound_and_dead_after() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(
        tmp.path(),
        "hb.toml",
        "host_id = \"kvm1\"\nfence_action = \"graceful-reboot\"\nescalate_after = \"30s\"\n[watchdog]\ntimeout = \"60s\"\n",
    );
    let (code, out) = run(&["heartbeat", "timeline", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("T+80s") && out.contains("graceful reboot: systemctl reboot"),
        "{out}"
    );
    assert!(out.contains("/dev/watchdog fires"), "{out}");
    assert!(out.contains("fenced by:     T+141s"), "{out}");
    assert!(out.contains("dead_after:    161s"), "{out}");
    let cfg = write_config(tmp.path(), "lo.toml", "fence_action = \"log-only\"\n");
    let (_, out) = run(&["heartbeat", "timeline", "--config", cfg.to_str().unwrap()]);
    assert!(
        out.contains("never (this host does not fence itself)"),
        "{out}"
    );
    assert!(out.contains("peers must not restart its VMs"), "{out}");
}

#[test]
fn mount_lint_on_a_proc_mounts_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let mounts = write_config(
        tmp.path(),
        "mounts",
        "192.0.2.9:/ACS /tmp/csbackup.X1 nfs4 rw,relatime,vers=4.1,hard,proto=tcp,timeo=600,retrans=2 0 0\n\
         192.0.2.9:/primary /mnt/0a1b2c3d-1111-2222-3333-444455556666 nfs soft,timeo=50,retrans=3 0 0\n",
    );
    let (code, out) = run(&["heartbeat", "mounts", mounts.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(":1: warning[hard-backup-mount]"), "{out}");
    assert!(out.contains(":2: error[soft-vm-disk-mount]"), "{out}");
    assert!(out.contains("600ds×3 = 180.0s"), "{out}");
    let (code, out) = run(&["heartbeat", "mounts", "--json", mounts.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("\"code\": \"hard-backup-mount\""), "{out}");
}

#[test]
fn status_without_a_daemon_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out) = run(&[
        "heartbeat",
        "status",
        "--status-file",
        tmp.path().join("none.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 3);
    assert!(out.contains("the heartbeat daemon is not running"), "{out}");
}
