//! The heartbeat daemon against a real FUSE filesystem that hangs on demand:
//! abandoned writes, a status that answers while the storage hangs, fence
//! decisions at fence_after (recorded, never carried out), no decision for
//! latency spikes below the bound, and peers' verdicts.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::hangfs::{Mode, Mounted};
use common::hb::{nfsha, write_config, Daemon};
use nfsha::heartbeat::clock::boottime_ms;

fn config(mount: &Path, run_dir: &Path, extra: &str) -> String {
    format!(
        "host_id = \"kvm1\"\ninterval = \"200ms\"\nio_timeout = \"1s\"\nfence_after = \"3s\"\ntakeover_margin = \"1s\"\nrun_dir = \"{}\"\nfence_record_file = \"{}\"\n{extra}\n[[storage]]\nname = \"pool\"\nmount = \"{}\"\n",
        run_dir.display(),
        run_dir.join("fence.log").display(),
        mount.display()
    )
}

fn fence_lines(run_dir: &Path) -> Vec<String> {
    std::fs::read_to_string(run_dir.join("fence.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// What most tests start from: a temporary directory with the hanging FUSE
/// filesystem mounted at `mnt` and the daemon's run directory `run`.
struct Rig {
    // Fields drop in order: the mount goes before its directory is removed.
    fs: Mounted,
    run: PathBuf,
    tmp: tempfile::TempDir,
}

impl Rig {
    fn new() -> Rig {
        let tmp = tempfile::tempdir().unwrap();
        Rig {
            fs: Mounted::new(&tmp.path().join("mnt")),
            run: tmp.path().join("run"),
            tmp,
        }
    }

    /// [`config`] for this mount and run directory, with `extra` settings.
    fn config(&self, extra: &str) -> String {
        config(&self.fs.path, &self.run, extra)
    }

    /// Write `text` as `hb.toml` in the temporary directory.
    fn write(&self, text: &str) -> PathBuf {
        write_config(self.tmp.path(), "hb.toml", text)
    }

    /// Start the daemon on `cfg` and wait for `renewals` successful renewals
    /// of the first storage (10 s at most).
    fn start(&self, cfg: &Path, renewals: u64) -> Daemon {
        let d = Daemon::start(cfg, &self.run);
        d.wait_for(
            Duration::from_secs(10),
            &format!("{renewals} renewals"),
            |s| s.storages[0].totals.ok >= renewals,
        );
        d
    }
}

#[test]
fn hung_storage_is_abandoned_status_answers_and_fence_fires_at_fence_after() {
    need_fuse!();
    let rig = Rig::new();
    let cfg = rig.write(&rig.config(""));
    let mut d = rig.start(&cfg, 3);
    let record = std::fs::read(rig.fs.path.join(".nfsha/hb/kvm1")).unwrap();
    nfsha::heartbeat::record::Record::decode(&record).expect("a valid record on the storage");

    rig.fs.set(Mode::Block);
    let blocked_at = boottime_ms();
    // Each attempt is abandoned at io_timeout; the helper stays stuck in the
    // kernel and no second one is started while it is.
    let s = d.wait_for(Duration::from_secs(5), "a timed-out attempt", |s| {
        s.storages[0].totals.timeouts >= 1
    });
    let st = &s.storages[0];
    let timeout_entry = st.history.iter().find(|h| h.result == "timeout").unwrap();
    assert!(timeout_entry
        .error
        .as_deref()
        .unwrap()
        .contains("io_timeout 1s"));
    assert!(
        s.updated_ms - timeout_entry.at_ms >= 1000,
        "abandoned no earlier than io_timeout"
    );
    assert!(
        s.updated_ms.saturating_sub(blocked_at) < 3000,
        "abandoned soon after io_timeout, not later"
    );
    d.wait_for(
        Duration::from_secs(3),
        "the stuck helper to be reported",
        |s| s.storages[0].stuck_helpers >= 1 && s.storages[0].totals.blocked >= 1,
    );

    // `status` answers at once while the storage hangs, and says it is failing.
    let t = Instant::now();
    let out = nfsha(&["heartbeat", "status", "--config", cfg.to_str().unwrap()]);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "status took {:?}",
        t.elapsed()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("storage pool"), "{text}");
    assert!(text.contains("timeout"), "{text}");

    // The fence decision comes at fence_after after the last good renewal began.
    let s = d.wait_for(Duration::from_secs(8), "the fence decision", |s| {
        s.fence.state == "fencing"
    });
    std::thread::sleep(Duration::from_millis(300));
    let lines = fence_lines(&rig.run);
    assert_eq!(lines.len(), 1, "exactly one fence step: {lines:?}");
    let (at, step) = lines[0].split_once(' ').unwrap();
    assert!(
        step.starts_with("reboot storage pool: no successful renewal for"),
        "{step}"
    );
    let at: u64 = at.parse().unwrap();
    let t0 = s.storages[0].last_success_ms.unwrap();
    assert!(
        at - t0 >= 3000,
        "fenced {} ms after the last renewal began: before fence_after",
        at - t0
    );
    assert!(
        at - t0 < 4500,
        "fenced {} ms after the last renewal began: late",
        at - t0
    );
    assert!(d.running(), "the daemon keeps running");
    let log = d.log_text();
    let decision = log.find("FENCE DECISION").expect("decision logged");
    let action = log.find("rebooting now").expect("action logged");
    assert!(decision < action, "decision logged before acting");
    let out = nfsha(&["heartbeat", "status", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));

    // Still updating its status after all this.
    let before = d.status().unwrap().updated_ms;
    std::thread::sleep(Duration::from_millis(1500));
    assert!(d.status().unwrap().updated_ms > before);
    assert_eq!(
        fence_lines(&rig.run).len(),
        1,
        "no second reboot step after a recorded one"
    );
}

#[test]
fn three_second_write_latency_with_fence_after_30s_never_fences() {
    need_fuse!();
    let rig = Rig::new();
    let text = rig
        .config("")
        .replace("interval = \"200ms\"", "interval = \"1s\"")
        .replace("io_timeout = \"1s\"", "io_timeout = \"10s\"")
        .replace("fence_after = \"3s\"", "fence_after = \"30s\"");
    let d = rig.start(&rig.write(&text), 1);
    // Like a DRBD resync: every data write takes 3 s more.
    rig.fs.set(Mode::DelayWrites(Duration::from_secs(3)));
    let s = d.wait_for(Duration::from_secs(20), "three slow renewals", |s| {
        s.storages[0]
            .history
            .iter()
            .filter(|h| h.result == "ok" && h.write_ms >= 3000)
            .count()
            >= 3
    });
    assert_eq!(s.storages[0].totals.timeouts, 0);
    assert_eq!(s.fence.state, "healthy");
    assert!(
        fence_lines(&rig.run).is_empty(),
        "no fence decision for slow writes"
    );
}

#[test]
fn outages_shorter_than_fence_after_never_fence() {
    need_fuse!();
    let rig = Rig::new();
    let text = rig
        .config("")
        .replace("fence_after = \"3s\"", "fence_after = \"5s\"");
    let d = rig.start(&rig.write(&text), 1);
    for _ in 0..3 {
        rig.fs.set(Mode::Block);
        std::thread::sleep(Duration::from_secs(2));
        rig.fs.set(Mode::Normal);
        let ok = d.status().unwrap().storages[0].totals.ok;
        d.wait_for(Duration::from_secs(3), "recovery", |s| {
            s.storages[0].totals.ok > ok
        });
        std::thread::sleep(Duration::from_millis(500));
    }
    let s = d.status().unwrap();
    assert!(
        s.storages[0].totals.timeouts >= 2,
        "{:?}",
        s.storages[0].totals
    );
    assert_eq!(s.fence.state, "healthy");
    assert!(
        fence_lines(&rig.run).is_empty(),
        "{:?}",
        fence_lines(&rig.run)
    );
}

#[test]
fn restart_agent_runs_the_hook_once_reports_not_fenced_and_withdraws() {
    need_fuse!();
    let rig = Rig::new();
    let hook = rig.tmp.path().join("agent-restarted");
    let extra = format!(
        "fence_action = \"restart-agent\"\nrestart_agent_command = [\"touch\", \"{}\"]",
        hook.display()
    );
    let d = rig.start(&rig.write(&rig.config(&extra)), 1);
    rig.fs.set(Mode::Block);
    d.wait_for(Duration::from_secs(8), "the not-fenced decision", |s| {
        s.fence.state == "not-fenced"
    });
    let t = Instant::now();
    while !hook.exists() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(hook.exists(), "the restart hook ran");
    std::thread::sleep(Duration::from_secs(1));
    let lines = fence_lines(&rig.run);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("restart-agent touch"), "{lines:?}");
    assert!(d.log_text().contains("NOT fenced"));
    rig.fs.set(Mode::Normal);
    d.wait_for(Duration::from_secs(8), "healthy again", |s| {
        s.fence.state == "healthy"
    });
    // The records written meanwhile said so, and now say ok again.
    let rec = nfsha::heartbeat::record::Record::decode(
        &std::fs::read(rig.fs.path.join(".nfsha/hb/kvm1")).unwrap(),
    )
    .unwrap();
    assert_eq!(rec.fence_action.name(), "restart-agent");
}

/// Host kvm1 runs the daemon; host kvm2 only runs `check` (no daemon), on the
/// same storage. kvm1's write path hangs while reads still work.
fn peer_verdict_after_writer_hangs(action: &str, want_exit: i32, want_word: &str) {
    let rig = Rig::new();
    let extra = format!("fence_action = \"{action}\"");
    let cfg = rig.write(&rig.config(&extra));
    let peer_run = rig.tmp.path().join("peer-run");
    let peer_cfg = write_config(
        rig.tmp.path(),
        "peer.toml",
        &config(&rig.fs.path, &peer_run, "fence_action = \"log-only\"").replace("kvm1", "kvm2"),
    );
    let _d = rig.start(&cfg, 2);
    let check = |wait: &str| common::hb::check(&peer_cfg, "kvm1", wait);
    let out = check("5s");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("kvm1: alive"));

    rig.fs.set(Mode::BlockWrites);
    let blocked = Instant::now();
    // Never alive once the writer is silent for longer than the alive window.
    std::thread::sleep(Duration::from_secs(2));
    let out = check("1s");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = check("30s");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(want_exit), "{text}");
    assert!(text.starts_with(&format!("kvm1: {want_word}")), "{text}");
    // kvm1 promises dead_after of at least 5 s (log-only) / 12 s (reboot).
    assert!(
        blocked.elapsed() >= Duration::from_secs(5),
        "{:?}",
        blocked.elapsed()
    );
    rig.fs.set(Mode::Normal);
}

#[test]
fn stale_writer_that_reboots_is_dead_after_dead_after() {
    need_fuse!();
    peer_verdict_after_writer_hangs("reboot", 1, "dead");
}

#[test]
fn stale_log_only_writer_is_reported_not_fenced() {
    need_fuse!();
    peer_verdict_after_writer_hangs("log-only", 4, "not-fenced");
}

#[test]
fn unmounted_storage_is_a_failure_not_a_local_write() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let mnt = tmp.path().join("not-a-mount");
    std::fs::create_dir_all(&mnt).unwrap();
    let cfg = write_config(tmp.path(), "hb.toml", &config(&mnt, &run, ""));
    let d = Daemon::start(&cfg, &run);
    let s = d.wait_for(Duration::from_secs(5), "failures", |s| {
        s.storages[0].totals.errors >= 2
    });
    assert_eq!(s.storages[0].state, "never-renewed");
    assert!(s.storages[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("is not mounted"));
    assert!(
        !mnt.join(".nfsha").exists(),
        "nothing written under the empty mount point"
    );
    assert!(
        fence_lines(&run).is_empty(),
        "a storage that never worked does not fence"
    );
}

#[test]
fn storagehb_agent_monitor_fails_while_the_mount_hangs_and_answers_at_once() {
    need_fuse!();
    let rig = Rig::new();
    let cfg = rig.write(&rig.config(""));
    let d = rig.start(&cfg, 2);
    let agent = |action: &str| {
        let t = Instant::now();
        let out = std::process::Command::new(common::nfsha())
            .args(["agent", "storagehb", action])
            .env("OCF_RESKEY_mount", &rig.fs.path)
            .env("OCF_RESKEY_config", &cfg)
            .env("OCF_RESKEY_CRM_meta_interval", "10000")
            .env("OCF_RESOURCE_INSTANCE", "hb:0")
            .env("HA_RSCTMP", rig.tmp.path().join("rsctmp"))
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            t.elapsed(),
        )
    };
    std::fs::create_dir_all(rig.tmp.path().join("rsctmp")).unwrap();
    assert_eq!(agent("monitor").0, 7);
    assert_eq!(agent("start").0, 0);
    assert_eq!(agent("monitor").0, 0);
    rig.fs.set(Mode::Block);
    let t = Instant::now();
    let failed = loop {
        let (rc, err, took) = agent("monitor");
        assert!(took < Duration::from_secs(2), "monitor took {took:?}");
        if rc == 1 {
            break err;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "monitor never failed");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(failed.contains("ocf-exit-reason:heartbeat on"), "{failed}");
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "failed after {:?}",
        t.elapsed()
    );
    rig.fs.set(Mode::Normal);
    d.wait_for(Duration::from_secs(5), "recovery", |s| {
        s.storages[0].state == "ok"
    });
    assert_eq!(agent("monitor").0, 0);
    assert_eq!(agent("stop").0, 0);
    assert_eq!(agent("monitor").0, 7);
}

#[test]
fn watchdog_is_petted_only_while_healthy_and_disarmed_only_when_healthy() {
    need_fuse!();
    let rig = Rig::new();
    // A plain file stands in for /dev/watchdog: each pet is one byte.
    let wd = rig.tmp.path().join("watchdog");
    std::fs::write(&wd, b"").unwrap();
    let extra = format!(
        "[watchdog]\ndevice = \"{}\"\ntimeout = \"3s\"",
        wd.display()
    );
    let text = rig
        .config("")
        .replace("\n[[storage]]", &format!("\n{extra}\n[[storage]]"));
    let cfg = rig.write(&text);
    let size = || std::fs::metadata(&wd).unwrap().len();
    let last = || std::fs::read(&wd).unwrap().last().copied();
    let stop = |d: &mut Daemon| {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(d.child.id() as i32, libc::SIGTERM) };
        let t = Instant::now();
        while d.running() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!d.running());
    };

    let mut d = rig.start(&cfg, 2);
    let before = size();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(size() > before, "petted while healthy");
    stop(&mut d);
    assert_eq!(last(), Some(b'V'), "magic close on a clean, healthy stop");

    // Fresh "device": the daemon writes from offset 0, as to a real one.
    std::fs::write(&wd, b"").unwrap();
    let mut d = rig.start(&cfg, 2);
    rig.fs.set(Mode::Block);
    d.wait_for(Duration::from_secs(8), "the fence decision", |s| {
        s.fence.state == "fencing"
    });
    let s = d.status().unwrap();
    assert!(
        s.watchdog.as_deref().unwrap().contains("NOT petting"),
        "{:?}",
        s.watchdog
    );
    let stopped_at = size();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(size(), stopped_at, "no pets once unhealthy");
    stop(&mut d);
    assert_ne!(
        last(),
        Some(b'V'),
        "a stop while fencing leaves the watchdog armed"
    );
    assert!(d.log_text().contains("leaving the watchdog armed"));
}

#[test]
fn graceful_reboot_escalates_even_when_told_to_stop_by_the_shutdown() {
    need_fuse!();
    let rig = Rig::new();
    let extra = "fence_action = \"graceful-reboot\"\nescalate_after = \"2s\"";
    let mut d = rig.start(&rig.write(&rig.config(extra)), 2);
    rig.fs.set(Mode::Block);
    d.wait_for(Duration::from_secs(8), "the fence decision", |s| {
        s.fence.state == "fencing"
    });
    // The graceful reboot stops services, this daemon included.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(d.child.id() as i32, libc::SIGTERM) };
    std::thread::sleep(Duration::from_millis(500));
    assert!(d.running(), "still there to escalate");
    let t = Instant::now();
    while d.running() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let lines = fence_lines(&rig.run);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains("graceful-reboot systemctl reboot"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("reboot graceful reboot did not finish within escalate_after"),
        "{lines:?}"
    );
    let gap: u64 = lines[1].split(' ').next().unwrap().parse::<u64>().unwrap()
        - lines[0].split(' ').next().unwrap().parse::<u64>().unwrap();
    assert!(
        (1900..3500).contains(&gap),
        "escalated {gap} ms after the graceful step"
    );
    assert!(!d.running(), "exits once the fence is done");
}

#[test]
fn log_only_keeps_writing_an_explicit_not_fenced_state() {
    need_fuse!();
    let rig = Rig::new();
    let d = rig.start(&rig.write(&rig.config("fence_action = \"log-only\"")), 2);
    let record = rig.fs.path.join(".nfsha/hb/kvm1");
    let state = || {
        std::fs::read(&record)
            .ok()
            .and_then(|b| nfsha::heartbeat::record::Record::decode(&b).ok())
            .map(|r| r.state.name())
    };
    assert_eq!(state(), Some("ok"));
    rig.fs.set(Mode::BlockWrites);
    d.wait_for(Duration::from_secs(8), "the log-only decision", |s| {
        s.fence.state == "not-fenced"
    });
    assert!(d
        .log_text()
        .contains("fence_action = log-only: NOT fencing"));
    // Writes get through again: the first record written says so explicitly.
    rig.fs.set(Mode::Normal);
    let t = Instant::now();
    let mut seen = Vec::new();
    while t.elapsed() < Duration::from_secs(4) {
        if let Some(s) = state() {
            if seen.last() != Some(&s) {
                seen.push(s);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(seen.contains(&"not-fenced"), "states seen: {seen:?}");
    assert_eq!(
        seen.last(),
        Some(&"ok"),
        "back to ok once healthy: {seen:?}"
    );
    assert!(
        fence_lines(&rig.run).is_empty(),
        "log-only records no fence step"
    );
}

#[test]
fn check_answers_at_once_from_a_running_daemons_observations() {
    need_fuse!();
    let tmp = tempfile::tempdir().unwrap();
    let fs = Mounted::new(&tmp.path().join("mnt"));
    let (run1, run2) = (tmp.path().join("run1"), tmp.path().join("run2"));
    let cfg1 = write_config(tmp.path(), "kvm1.toml", &config(&fs.path, &run1, ""));
    let cfg2 = write_config(
        tmp.path(),
        "kvm2.toml",
        &config(&fs.path, &run2, "").replace("kvm1", "kvm2"),
    );
    let _d1 = Daemon::start(&cfg1, &run1);
    let d2 = Daemon::start(&cfg2, &run2);
    d2.wait_for(Duration::from_secs(10), "kvm2 to see kvm1 change", |s| {
        s.storages[0]
            .peers
            .iter()
            .any(|p| p.host == "kvm1" && p.changes >= 2)
    });
    let t = Instant::now();
    let out = nfsha(&[
        "heartbeat",
        "check",
        "--host",
        "kvm1",
        "--json",
        "--config",
        cfg2.to_str().unwrap(),
    ]);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["verdict"], "alive");
    assert_eq!(v["storages"][0]["source"], "daemon");
    let out = nfsha(&["heartbeat", "status", "--config", cfg2.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("peer kvm1             alive"));
}

#[test]
fn one_hung_storage_does_not_delay_the_others() {
    need_fuse!();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let hung = Mounted::new(&tmp.path().join("hung"));
    let good = Mounted::new(&tmp.path().join("good"));
    let text = format!(
        "{}[[storage]]\nname = \"good\"\nmount = \"{}\"\n",
        config(&hung.path, &run, "fence_action = \"log-only\""),
        good.path.display()
    );
    let cfg = write_config(tmp.path(), "hb.toml", &text);
    let d = Daemon::start(&cfg, &run);
    d.wait_for(Duration::from_secs(10), "renewals on both", |s| {
        s.storages.iter().all(|st| st.totals.ok >= 2)
    });
    hung.set(Mode::Block);
    std::thread::sleep(Duration::from_millis(300));
    let before = d.status().unwrap().storages[1].totals.ok;
    std::thread::sleep(Duration::from_secs(3));
    let s = d.status().unwrap();
    assert!(
        s.storages[0].totals.timeouts >= 1,
        "{:?}",
        s.storages[0].totals
    );
    let renewed = s.storages[1].totals.ok - before;
    // interval 200 ms: about 15 renewals in 3 s; ask for a third of that.
    assert!(
        renewed >= 5,
        "the healthy storage renewed only {renewed} times"
    );
    assert_eq!(s.storages[1].state, "ok");
    assert!(s.storages[1]
        .history
        .iter()
        .rev()
        .take(5)
        .all(|h| h.result == "ok"));
}
