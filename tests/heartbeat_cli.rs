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
fn bad_configurations_are_rejected_naming_the_key_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    for (text, want) in [
        (
            "interval = \"10s\"\nintervall = \"5s\"\n",
            ":2: intervall: unknown key",
        ),
        (
            "io_timeout = \"-1s\"\n",
            ":1: io_timeout = \"-1s\": durations cannot be negative",
        ),
        (
            "io_timeout = \"30s\"\nfence_after = \"20s\"\n",
            ":2: fence_after = 20s is shorter than io_timeout + interval",
        ),
        (
            "dead_after = \"60s\"\n",
            ":1: dead_after = \"60s\" is shorter than the fence timeline",
        ),
        (
            "fence_action = \"sysrq\"\n",
            ":1: fence_action = \"sysrq\": expected one of log-only, restart-agent, graceful-reboot, reboot",
        ),
        ("interval = 10\n", ":1: interval = 10: expected a duration with a unit"),
    ] {
        let cfg = write_config(tmp.path(), "hb.toml", &format!("{text}[[storage]]\nmount = \"/m\"\n"));
        for sub in ["validate", "timeline"] {
            let (code, out) = run(&["heartbeat", sub, "--config", cfg.to_str().unwrap()]);
            assert_eq!(code, 2, "{sub}: {out}");
            assert!(out.contains(want), "{sub}: {out}");
        }
    }
    // All errors at once, each with its line.
    let cfg = write_config(
        tmp.path(),
        "hb.toml",
        "interval = 10\nbogus = 1\n[watchdog]\ntimeout = \"0s\"\n[[storage]]\nmount = \"/m\"\n",
    );
    let (code, out) = run(&["heartbeat", "validate", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    for want in [
        ":1: interval = 10",
        ":2: bogus: unknown key",
        ":4: watchdog.timeout = \"0s\": must be at least 1s",
        "3 error(s)",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
}

#[test]
fn validate_fails_on_what_run_would_refuse_and_prints_every_value() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(tmp.path(), "hb.toml", "host_id = \"kvm1\"\n");
    let (code, out) = run(&["heartbeat", "validate", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no [[storage]]"), "{out}");
    let cfg = write_config(
        tmp.path(),
        "hb.toml",
        "[cloudstack]\ninterval = \"30s\"\n[[storage]]\nmount = \"/mnt/p\"\n",
    );
    let (code, out) = run(&["heartbeat", "validate", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    for want in [
        "valid",
        "warning: host_id is not set",
        "an ordinary failover, even with a full grace period, never fences this host",
        "fence_after = \"170s\"",
        "[nfs_server]",
        "grace_time = \"90s\"",
        "# [watchdog]: none (not armed)",
        "mount = \"/mnt/p\"",
        // The CloudStack scripts' part (cloudstack::validate).
        "[cloudstack] (the kvm*.sh scripts)",
        "interval = \"30s\"  # how often the agent writes",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    let line = out
        .lines()
        .find(|l| l.starts_with("mount = \"/mnt/p\""))
        .unwrap();
    assert!(line.ends_with("# set"), "{line}");
}

#[test]
fn the_shipped_example_is_valid_and_arms_no_watchdog() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/heartbeat.toml");
    let (code, out) = run(&["heartbeat", "validate", "--config", example]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("# [watchdog]: none (not armed)"), "{out}");
    assert!(
        out.contains("host_id is not set"),
        "the example leaves host_id unset: {out}"
    );
    let text = std::fs::read_to_string(example).unwrap();
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("host_id")),
        "host_id must stay commented out"
    );
    // Every value the example sets is marked as not a default.
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(" = "))
    {
        let key = l.split(" = ").next().unwrap().trim();
        if ["name", "mount"].contains(&key) {
            continue;
        }
        assert!(
            l.contains("# not the default"),
            "unmarked non-default value: {l}"
        );
    }
}

#[test]
fn timeline_prints_the_fence_bound_and_dead_after() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(
        tmp.path(),
        "hb.toml",
        "host_id = \"kvm1\"\nfence_after = \"80s\"\nfence_action = \"graceful-reboot\"\nescalate_after = \"30s\"\n[watchdog]\ntimeout = \"60s\"\n",
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
