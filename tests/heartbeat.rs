//! The heartbeat daemon end to end, against a real FUSE filesystem that
//! hangs on demand: renewals in place in the lease area, a status that
//! answers while the storage hangs, fence decisions (recorded, never carried
//! out), no decision through latency spikes, outages shorter than
//! `fence_after` or an emulated NFSv4 grace period, peers' verdicts, a full
//! run directory and an invalid configuration.
//!
//! Exact timings are pinned by the state machine's unit tests
//! (`src/heartbeat/machine_tests.rs`, a virtual clock); these tests assert
//! what happened and its order, and lower bounds that hold by construction
//! (never a fence before `fence_after`), never an upper bound on time.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::hangfs::{Mode, Mounted};
use common::hb::{lease_record, nfsha, write_config, Daemon};

/// How long a test waits for something that must happen (a hang detector,
/// not a speed requirement: the daemon's timings are seconds).
const PATIENCE: Duration = Duration::from_secs(60);

fn config(mount: &Path, run_dir: &Path, extra: &str) -> String {
    format!(
        "host_id = \"kvm1\"\ninterval = \"200ms\"\nio_timeout = \"1s\"\nfence_after = \"3s\"\ntakeover_margin = \"1s\"\nrun_dir = \"{}\"\nfence_record_file = \"{}\"\n{extra}\n[[storage]]\nname = \"pool\"\nmount = \"{}\"\n",
        run_dir.display(),
        run_dir.join("fence.log").display(),
        mount.display()
    )
}

/// `text` with an I/O timeout no load makes a healthy storage miss (10 s;
/// `fence_after` 12 s to stay valid): for tests that assert that nothing
/// fails or that exactly so many writers renew, not how fast.
fn patient(text: &str) -> String {
    text.replace("io_timeout = \"1s\"", "io_timeout = \"10s\"")
        .replace("fence_after = \"3s\"", "fence_after = \"12s\"")
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
    /// of the first storage.
    fn start(&self, cfg: &Path, renewals: u64) -> Daemon {
        let d = Daemon::start(cfg, &self.run);
        d.wait_for(PATIENCE, &format!("{renewals} renewals"), |s| {
            s.storages[0].totals.ok >= renewals
        });
        d
    }
}

/// Run `nfsha heartbeat status` (it must answer even while the storage hangs).
fn status_cmd(cfg: &Path) -> (i32, String) {
    let out = nfsha(&["heartbeat", "status", "--config", cfg.to_str().unwrap()]);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn hung_storage_fences_no_earlier_than_fence_after_and_status_answers_meanwhile() {
    need_fuse!();
    let rig = Rig::new();
    let cfg = rig.write(&rig.config(""));
    let mut d = rig.start(&cfg, 3);
    let rec = lease_record(&rig.fs.path, "kvm1").expect("a valid record in the lease area");
    assert_eq!(rec.state.name(), "ok");
    let ops = rig.fs.ops();
    assert_eq!(ops.get("rename"), None, "renewed in place: no rename");

    rig.fs.set(Mode::Block);
    // The attempt in flight is counted as failed at io_timeout; the helper
    // stays stuck in the kernel and no second one is started meanwhile.
    let s = d.wait_for(PATIENCE, "a timed-out attempt", |s| {
        s.storages[0].totals.timeouts >= 1 && s.storages[0].totals.blocked >= 1
    });
    let st = &s.storages[0];
    let entry = st.history.iter().find(|h| h.result == "timeout").unwrap();
    assert!(
        entry.error.as_deref().unwrap().contains("io_timeout 1s"),
        "{entry:?}"
    );
    assert_eq!(st.stuck_helpers, 1);
    // `status` reads only the daemon's file: it answers while every
    // operation on the storage hangs.
    let (_, text) = status_cmd(&cfg);
    assert!(text.contains("storage pool"), "{text}");
    assert!(text.contains("timeout"), "{text}");

    let s = d.wait_for(PATIENCE, "the fence decision", |s| {
        s.fence.state == "fencing"
    });
    let lines = d.wait_for_lines(&rig.run.join("fence.log"), 1);
    assert_eq!(lines.len(), 1, "exactly one fence step: {lines:?}");
    let (at, step) = lines[0].split_once(' ').unwrap();
    assert!(
        step.starts_with("reboot fence: storage pool: no successful renewal for"),
        "{step}"
    );
    assert!(
        step.contains("last error (timeout)"),
        "the decision names its cause: {step}"
    );
    let at: u64 = at.parse().unwrap();
    let t0 = s.storages[0].last_success_ms.unwrap();
    assert!(
        at >= t0 + 3000,
        "fenced {} ms after the last renewal began: before fence_after",
        at - t0
    );
    assert!(d.running(), "the daemon keeps running");
    let log = d.log_text();
    let decision = log.find("FENCE DECISION").expect("decision logged");
    let action = log.find("fence step: reboot(2)").expect("action logged");
    assert!(decision < action, "decision logged before acting");
    assert_eq!(status_cmd(&cfg).0, 1);
    // Still publishing, and no second reboot step after a recorded one.
    let updated = d.status().unwrap().updated_ms;
    d.wait_for(PATIENCE, "a newer status", |s| s.updated_ms > updated);
    assert_eq!(fence_lines(&rig.run).len(), 1);
}

#[test]
fn a_grace_period_longer_than_fence_after_does_not_stop_renewals() {
    need_fuse!();
    let rig = Rig::new();
    let cfg = rig.write(&rig.config(""));
    let d = rig.start(&cfg, 3);
    // The server is in grace: no new opens, creates or renames for three
    // times fence_after. Renewals through the open lease area go on.
    let seq = lease_record(&rig.fs.path, "kvm1").unwrap().seq;
    rig.fs.set(Mode::Grace);
    let ok = d.status().unwrap().storages[0].totals.ok;
    let s = d.wait_for(PATIENCE, "renewals during grace", |s| {
        s.storages[0].totals.ok >= ok + 45
    });
    // (Slow rounds on a loaded machine may time out and answer late; none
    // fails, and none waits for the end of grace.)
    assert_eq!(s.storages[0].totals.errors, 0, "{:?}", s.storages[0].totals);
    assert_eq!(s.fence.state, "healthy");
    // The write-then-rename of a whole file (what nfsha did before, and
    // CloudStack's hb-<IP> still does) waits meanwhile: it needs an OPEN
    // with create and a RENAME.
    let write = nfsha::sys::child::Spec::new(common::nfsha())
        .args(["heartbeat", "io", "--write"])
        .arg(rig.fs.path.join("KVMHA-hb"))
        .arg("31373935333035363631");
    let r = nfsha::sys::child::run(&write, std::time::Instant::now() + Duration::from_secs(2));
    assert!(
        matches!(r, Err(nfsha::sys::RunError::Timeout { .. })),
        "a new file cannot be created in grace: {r:?}"
    );
    rig.fs.set(Mode::Normal);
    // (Reading the area from here needs an open: only after grace.)
    assert!(lease_record(&rig.fs.path, "kvm1").unwrap().seq >= seq + 45);
    assert!(fence_lines(&rig.run).is_empty());
}

#[test]
fn a_daemon_started_during_grace_waits_in_open_and_says_so_without_fencing() {
    need_fuse!();
    let rig = Rig::new();
    let cfg = rig.write(&rig.config(""));
    // The area exists from an earlier run; the server is in grace.
    let d = rig.start(&cfg, 1);
    drop(d);
    rig.fs.set(Mode::Grace);
    let d = Daemon::start(&cfg, &rig.run);
    let s = d.wait_for(PATIENCE, "a timeout in open", |s| {
        s.storages[0].totals.timeouts >= 1
    });
    let e = s.storages[0].last_error.clone().unwrap();
    assert!(e.contains("while opening the lease area"), "{e}");
    assert!(e.contains("grace period"), "{e}");
    // Past fence_after: the previous run's last success continues the
    // timeline of this boot, so it does fence (peers saw the record stop).
    d.wait_for(PATIENCE, "the decision", |s| s.fence.state == "fencing");
    assert!(d
        .log_text()
        .contains("timeline continued from the previous run"));
    rig.fs.set(Mode::Normal);
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
    let s = d.wait_for(PATIENCE, "three slow renewals", |s| {
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
        // Hold it until the stuck attempt has been counted as failed.
        let t = d.status().unwrap().storages[0].totals.timeouts;
        d.wait_for(PATIENCE, "a timeout", |s| s.storages[0].totals.timeouts > t);
        rig.fs.set(Mode::Normal);
        // The stuck write answers late; renewals go on at once.
        let ok = d.status().unwrap().storages[0].totals.ok;
        d.wait_for(PATIENCE, "recovery", |s| s.storages[0].totals.ok > ok);
    }
    let s = d.status().unwrap();
    assert!(s.storages[0].totals.late >= 3, "{:?}", s.storages[0].totals);
    // The decision depends only on the gaps between successful renewals
    // (by their start): none reached fence_after, so nothing was decided.
    let starts: Vec<u64> = s.storages[0]
        .history
        .iter()
        .filter(|h| h.result == "ok" || h.result == "late-ok")
        .map(|h| h.at_ms)
        .collect();
    let longest = starts
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .max()
        .unwrap();
    assert!(
        longest < 5000,
        "an outage of {longest} ms is not shorter than fence_after"
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
    d.wait_for(PATIENCE, "the not-fenced decision", |s| {
        s.fence.state == "not-fenced"
    });
    let lines = d.wait_for_lines(&rig.run.join("fence.log"), 1);
    assert!(lines[0].contains("restart-agent touch"), "{lines:?}");
    d.wait_for(PATIENCE, "the hook's result", |s| {
        s.fence.steps.iter().any(|l| l.contains("done"))
    });
    assert!(hook.exists(), "the restart hook ran");
    rig.fs.set(Mode::Normal);
    d.wait_for(PATIENCE, "healthy again", |s| s.fence.state == "healthy");
    assert!(d.log_text().contains("withdrawn"));
    assert_eq!(fence_lines(&rig.run).len(), 1, "once");
    let rec = lease_record(&rig.fs.path, "kvm1").unwrap();
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
    let d = rig.start(&cfg, 2);
    let check = |wait: &str| common::hb::check(&peer_cfg, "kvm1", wait);
    let out = check("30s");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("kvm1: alive"), "{text}");

    rig.fs.set(Mode::BlockWrites);
    let blocked = nfsha::heartbeat::clock::boottime_ms();
    // Once the record has stopped changing it is no longer alive (a look
    // may still see the last write as a change, dated when it is seen).
    let t = std::time::Instant::now();
    while check("1s").status.code() == Some(0) {
        assert!(t.elapsed() < PATIENCE, "still alive");
    }
    let out = check("60s");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(want_exit), "{text}");
    assert!(text.starts_with(&format!("kvm1: {want_word}")), "{text}");
    // Never before kvm1's dead_after (it advertises it in its record).
    let dead_after = d.status().unwrap().dead_after_ms;
    assert!(
        nfsha::heartbeat::clock::boottime_ms() >= blocked + dead_after.min(5000) - 1000,
        "{text}"
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
    let s = d.wait_for(PATIENCE, "failures", |s| s.storages[0].totals.errors >= 20);
    assert_eq!(s.storages[0].state, "never-renewed");
    assert_eq!(s.storages[0].last_fault.as_deref(), Some("unmounted"));
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
fn a_full_run_directory_is_not_a_storage_failure() {
    need_fuse!();
    let rig = Rig::new();
    // A 64 KiB tmpfs as the run directory, filled up once the daemon runs.
    std::fs::create_dir_all(&rig.run).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "nfsha-test-run"])
        .arg(&rig.run)
        .status()
        .unwrap();
    assert!(mounted.success(), "mount a small tmpfs (needs root)");
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _u = Unmount(rig.run.clone());
    // A generous io_timeout: a renewal slowed by load is not a failure here.
    let cfg = rig.write(&patient(&rig.config("")));
    let d = rig.start(&cfg, 2);
    let filler = rig.run.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 128 * 1024]);
    let full_since = std::time::Instant::now();
    let before = lease_record(&rig.fs.path, "kvm1").unwrap().seq;
    // Well past fence_after (12 s) with the run directory full, and 60
    // renewals later: renewals go on, nothing is decided. (A wait for that
    // state, not a timed assertion.)
    let mut seq = before;
    while seq < before + 60 || full_since.elapsed() < Duration::from_secs(18) {
        std::thread::sleep(Duration::from_millis(200));
        seq = lease_record(&rig.fs.path, "kvm1").unwrap().seq;
    }
    assert!(d.log_text().contains("renewals go on"), "{}", d.log_text());
    assert!(!d.log_text().contains("FENCE DECISION"), "{}", d.log_text());
    let _ = std::fs::remove_file(&filler);
    let s = d.wait_for(PATIENCE, "a status again", |s| s.storages[0].totals.ok > 20);
    assert_eq!(s.fence.state, "healthy");
    assert_eq!(
        s.storages[0].totals.errors + s.storages[0].totals.timeouts,
        0
    );
}

#[test]
fn an_invalid_configuration_keeps_renewing_with_built_in_defaults() {
    need_fuse!();
    let rig = Rig::new();
    // A type error (interval without quotes) in an otherwise usable file.
    let text = rig
        .config("")
        .replace("interval = \"200ms\"", "interval = 200")
        .replace(
            "fence_after = \"3s\"",
            "fence_after = \"3s\"\nbogus_key = true",
        );
    let cfg = rig.write(&text);
    let out = nfsha(&["heartbeat", "validate", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(":2: interval = 200: expected a duration"),
        "{err}"
    );
    assert!(err.contains("bogus_key: unknown key"), "{err}");
    let d = Daemon::start(&cfg, &rig.run);
    // Built-in interval (10 s): two renewals take a while.
    let s = d.wait_for(PATIENCE, "renewals", |s| s.storages[0].totals.ok >= 2);
    assert_eq!(s.interval_ms, 10_000, "built-in I/O defaults");
    assert_eq!(s.host_id, "kvm1", "the host id is kept");
    assert!(
        s.config_errors
            .iter()
            .any(|e| e.starts_with("line 2: interval = 200")),
        "{:?}",
        s.config_errors
    );
    assert!(
        s.config_errors
            .iter()
            .any(|e| e.contains("bogus_key: unknown key")),
        "{:?}",
        s.config_errors
    );
    assert!(s.fence.dry_run, "the recorder is kept");
    assert!(lease_record(&rig.fs.path, "kvm1").is_some());
    let (code, text) = status_cmd(&cfg);
    assert_eq!(code, 1, "not healthy: {text}");
    assert!(text.contains("CONFIGURATION ERROR"), "{text}");
    assert!(
        d.log_text().contains("running FAIL-SAFE"),
        "{}",
        d.log_text()
    );
}

#[test]
fn storagehb_agent_monitor_fails_while_the_mount_hangs() {
    need_fuse!();
    let rig = Rig::new();
    let cfg = rig.write(&rig.config(""));
    let d = rig.start(&cfg, 2);
    let agent = |action: &str, extra: &[(&str, &str)]| {
        let mut c = std::process::Command::new(common::nfsha());
        c.args(["agent", "storagehb", action])
            .env("OCF_RESKEY_mount", &rig.fs.path)
            .env("OCF_RESKEY_config", &cfg)
            .env("OCF_RESKEY_CRM_meta_interval", "10000")
            .env("OCF_RESKEY_CRM_meta_on_node", "kvm1.example.com")
            .env("OCF_RESOURCE_INSTANCE", "hb:0")
            .env("HA_RSCTMP", rig.tmp.path().join("rsctmp"));
        for (k, v) in extra {
            c.env(format!("OCF_RESKEY_{k}"), v);
        }
        let out = c.output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    std::fs::create_dir_all(rig.tmp.path().join("rsctmp")).unwrap();
    assert_eq!(agent("monitor", &[]).0, 7);
    assert_eq!(agent("start", &[]).0, 0);
    assert_eq!(agent("monitor", &[]).0, 0);
    // The clone's per-node check: the node's own name.
    assert_eq!(agent("monitor", &[("host_id", "@node")]).0, 0);
    let (rc, err) = agent("monitor", &[("host_id", "kvm1.example.com=kvm2")]);
    assert_eq!(rc, 1, "{err}");
    rig.fs.set(Mode::Block);
    // The monitor reads only the status: it answers while the mount hangs,
    // and fails once the daemon sees the renewal overdue.
    let failed = loop {
        let (rc, err) = agent("monitor", &[]);
        if rc == 1 {
            break err;
        }
        assert_eq!(rc, 0, "{err}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(failed.contains("ocf-exit-reason:heartbeat on"), "{failed}");
    rig.fs.set(Mode::Normal);
    d.wait_for(PATIENCE, "recovery", |s| s.storages[0].state == "ok");
    assert_eq!(agent("monitor", &[]).0, 0);
    assert_eq!(agent("stop", &[]).0, 0);
    assert_eq!(agent("monitor", &[]).0, 7);
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

    let mut d = rig.start(&cfg, 2);
    d.wait_for(PATIENCE, "two pets", |_| size() >= 2);
    d.stop();
    assert_eq!(last(), Some(b'V'), "magic close on a clean, healthy stop");

    // Fresh "device": the daemon writes from offset 0, as to a real one.
    std::fs::write(&wd, b"").unwrap();
    let mut d = rig.start(&cfg, 2);
    rig.fs.set(Mode::Block);
    let s = d.wait_for(PATIENCE, "the fence decision", |s| {
        s.fence.state == "fencing"
    });
    assert!(
        s.watchdog.as_deref().unwrap().contains("NOT petting"),
        "{:?}",
        s.watchdog
    );
    let pets = size();
    // Some status updates later, no more pets.
    let t = s.updated_ms;
    d.wait_for(PATIENCE, "later statuses", |s| s.updated_ms > t + 2000);
    assert_eq!(size(), pets, "no pets once unhealthy");
    d.stop();
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
    let decided = d
        .wait_for(PATIENCE, "the fence decision", |s| {
            s.fence.state == "fencing"
        })
        .fence
        .decided_ms
        .unwrap();
    // The graceful reboot stops services, this daemon included.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(d.child.id() as i32, libc::SIGTERM) };
    let lines = d.wait_for_lines(&rig.run.join("fence.log"), 2);
    assert!(
        lines[0].contains("graceful-reboot systemctl reboot"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("reboot graceful reboot did not finish within escalate_after"),
        "{lines:?}"
    );
    let at = |l: &str| l.split(' ').next().unwrap().parse::<u64>().unwrap();
    // escalate_after counts from the decision (the first step is recorded
    // a little after it, both on CLOCK_BOOTTIME).
    assert!(
        at(&lines[1]) >= decided + 2000,
        "escalated before escalate_after (decided at {decided}): {lines:?}"
    );
    assert!(d.log_text().contains("stop requested while fencing"));
    d.wait_exit(PATIENCE);
}

#[test]
fn log_only_keeps_writing_an_explicit_not_fenced_state() {
    need_fuse!();
    let rig = Rig::new();
    // A 1 s interval: the "not fenced" record stays there for a second.
    let text = rig
        .config("fence_action = \"log-only\"")
        .replace("interval = \"200ms\"", "interval = \"1s\"");
    let d = rig.start(&rig.write(&text), 2);
    let state = || lease_record(&rig.fs.path, "kvm1").map(|r| r.state.name());
    assert_eq!(state(), Some("ok"));
    rig.fs.set(Mode::BlockWrites);
    d.wait_for(PATIENCE, "the log-only decision", |s| {
        s.fence.state == "not-fenced"
    });
    assert!(d
        .log_text()
        .contains("fence_action = log-only: NOT fencing"));
    // Hold the stuck write until it started over fence_after ago, so that
    // its late answer does not end the outage by itself.
    d.wait_for(PATIENCE, "a long outage", |s| {
        s.storages[0].in_flight_ms > s.fence_after_ms
    });
    // Writes get through again: the first record written says so explicitly,
    // then it is back to ok.
    rig.fs.set(Mode::Normal);
    let mut seen = Vec::new();
    let t = std::time::Instant::now();
    while seen.last() != Some(&"ok") || !seen.contains(&"not-fenced") {
        if let Some(s) = state() {
            if seen.last() != Some(&s) {
                seen.push(s);
            }
        }
        assert!(
            t.elapsed() < PATIENCE,
            "states seen: {seen:?}; status: {:#?}; log:\n{}",
            d.status().map(|s| (s.fence, s.storages[0].history.clone())),
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        fence_lines(&rig.run).is_empty(),
        "log-only records no fence step"
    );
}

#[test]
fn a_clean_stop_says_stopped_so_peers_never_say_dead() {
    need_fuse!();
    let rig = Rig::new();
    let mut d = rig.start(&rig.write(&rig.config("")), 2);
    d.stop();
    let rec = lease_record(&rig.fs.path, "kvm1").unwrap();
    assert_eq!(rec.state.name(), "stopped");
    assert!(!rec.self_fences());
}

/// A stop is a service stop on a host that keeps running (its VMs too)
/// unless systemd says the whole system is going down
/// (`systemctl is-system-running` prints `stopping`; a fake `systemctl` on
/// the daemon's PATH here). Mistaking a stop for a shutdown is the unsafe
/// side — no "stopped" record, so peers declare the host dead while its VMs
/// run — so anything but `stopping` (running, degraded, a systemctl that
/// hangs past its 2 s bound, no systemctl at all) writes "stopped".
#[test]
fn a_stop_says_stopped_unless_systemd_says_the_system_is_stopping() {
    need_fuse!();
    for (systemctl, stopped) in [
        (Some("echo running"), true),
        (Some("echo degraded; exit 1"), true),
        (Some("exec sleep 30"), true),
        (None, true),
        (Some("echo stopping; exit 1"), false),
    ] {
        let rig = Rig::new();
        let bin = rig.tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        if let Some(body) = systemctl {
            let fake = bin.join("systemctl");
            std::fs::write(
                &fake,
                format!(
                    "#!/bin/sh
[ \"$1\" = is-system-running ] || exit 2
{body}
"
                ),
            )
            .unwrap();
            std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        // Only the fake (and sh and sleep for it): no real systemctl.
        std::os::unix::fs::symlink("/bin/sh", bin.join("sh")).unwrap();
        std::os::unix::fs::symlink("/bin/sleep", bin.join("sleep")).unwrap();
        let cfg = rig.write(&rig.config(""));
        let mut d = Daemon::start_with_path(&cfg, &rig.run, Some(bin.to_str().unwrap()));
        d.wait_for(PATIENCE, "2 renewals", |s| s.storages[0].totals.ok >= 2);
        d.stop();
        let rec = lease_record(&rig.fs.path, "kvm1").unwrap();
        assert_eq!(
            rec.state.name(),
            if stopped { "stopped" } else { "ok" },
            "systemctl {systemctl:?}; log:\n{}",
            d.log_text()
        );
        assert_eq!(rec.self_fences(), !stopped);
        assert!(
            d.log_text().contains("(system shutdown)") != stopped,
            "{}",
            d.log_text()
        );
    }
}

/// What a peer concludes once the record has not changed for dead_after:
/// after a service stop, not-fenced (exit 4; CloudStack's agent reads it as
/// alive: the VMs stay where they run); after a system shutdown, dead
/// (exit 1: the VMs stopped before the daemon did, they may be restarted).
#[test]
fn peers_say_not_fenced_after_a_stop_and_dead_after_a_shutdown() {
    need_fuse!();
    for (shutdown, verdict) in [(false, (4, "kvm1: not-fenced")), (true, (1, "kvm1: dead"))] {
        let rig = Rig::new();
        let bin = rig.tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let fake = bin.join("systemctl");
        let state = if shutdown { "stopping" } else { "running" };
        std::fs::write(&fake, format!("#!/bin/sh\necho {state}\n")).unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        std::os::unix::fs::symlink("/bin/sh", bin.join("sh")).unwrap();
        let cfg = rig.write(&rig.config(""));
        let peer_cfg = write_config(
            rig.tmp.path(),
            "peer.toml",
            &config(&rig.fs.path, &rig.tmp.path().join("peer-run"), "")
                .replace("host_id = \"kvm1\"", "host_id = \"kvm2\""),
        );
        let mut d = Daemon::start_with_path(&cfg, &rig.run, Some(bin.to_str().unwrap()));
        d.wait_for(PATIENCE, "2 renewals", |s| s.storages[0].totals.ok >= 2);
        // The peer sees kvm1 renew first.
        let out = common::hb::check(&peer_cfg, "kvm1", "30s");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        d.stop();
        // Then watches its record until it can decide (dead_after and more).
        // The last record is a change: alive for one alive window (a check
        // answers alive at once), then not any more.
        let mut looks = 0;
        let (out, text) = loop {
            let out = common::hb::check(&peer_cfg, "kvm1", "60s");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.code() != Some(0) {
                break (out, text);
            }
            looks += 1;
            assert!(looks < 1000, "alive for ever after the stop: {text}");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(out.status.code(), Some(verdict.0), "{text}");
        assert!(text.starts_with(verdict.1), "{text}");
        if !shutdown {
            assert!(text.contains("stopped cleanly"), "{text}");
        }
    }
}

#[test]
fn a_stop_on_hung_storage_is_held_until_the_stopped_record_lands() {
    need_fuse!();
    let rig = Rig::new();
    let text = rig
        .config("")
        .replace("fence_after = \"3s\"", "fence_after = \"600s\"");
    let mut d = rig.start(&rig.write(&text), 2);
    rig.fs.set(Mode::Block);
    d.terminate();
    // Leaving now would leave a record saying "fences itself": peers would
    // call this host dead while its VMs run. It stays and says why.
    let t = std::time::Instant::now();
    while !d.log_text().contains("stop held") {
        assert!(t.elapsed() < PATIENCE, "log:\n{}", d.log_text());
        assert!(
            d.running(),
            "exited on hung storage; log:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.running());
    rig.fs.set(Mode::Normal);
    d.wait_exit(PATIENCE);
    let rec = lease_record(&rig.fs.path, "kvm1").unwrap();
    assert_eq!(rec.state.name(), "stopped", "log:\n{}", d.log_text());
    assert!(fence_lines(&rig.run).is_empty());
}

#[test]
fn check_answers_from_a_running_daemons_observations_while_the_storage_hangs() {
    need_fuse!();
    let tmp = tempfile::tempdir().unwrap();
    let fs = Mounted::new(&tmp.path().join("mnt"));
    let (run1, run2) = (tmp.path().join("run1"), tmp.path().join("run2"));
    // Generous I/O timeouts: a claim slowed by load must not be abandoned
    // and retried (that is a test of timeouts, not of this).
    let cfg1 = write_config(
        tmp.path(),
        "kvm1.toml",
        &patient(&config(&fs.path, &run1, "")),
    );
    let cfg2 = write_config(
        tmp.path(),
        "kvm2.toml",
        &patient(&config(&fs.path, &run2, "fence_action = \"log-only\"")).replace("kvm1", "kvm2"),
    );
    let d1 = Daemon::start(&cfg1, &run1);
    let d2 = Daemon::start(&cfg2, &run2);
    // Wait for the state: both renew their own slot, and kvm2 sees kvm1's
    // renewals change.
    d1.wait_for(PATIENCE, "kvm1 to renew its slot", |s| {
        s.storages[0].slot.is_some() && s.storages[0].totals.ok >= 2
    });
    d2.wait_for(PATIENCE, "kvm2 to renew and see kvm1 change", |s| {
        s.storages[0].slot.is_some()
            && s.storages[0].totals.ok >= 2
            && s.storages[0]
                .peers
                .iter()
                .any(|p| p.host == "kvm1" && p.changes >= 2)
    });
    // One lease area, two slots.
    let bytes = std::fs::read(nfsha::heartbeat::lease_area::path(&fs.path)).unwrap();
    assert_eq!(bytes.len(), 2 * nfsha::heartbeat::record::SLOT_SIZE);
    fs.set(Mode::Block);
    let out = nfsha(&[
        "heartbeat",
        "check",
        "--host",
        "kvm1",
        "--json",
        "--config",
        cfg2.to_str().unwrap(),
    ]);
    fs.set(Mode::Normal);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["verdict"], "alive");
    assert_eq!(v["storages"][0]["source"], "daemon");
    let out = nfsha(&["heartbeat", "status", "--config", cfg2.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("peer kvm1             alive"));
}

#[test]
fn a_copied_host_id_is_reported_by_both_writers_and_peers() {
    need_fuse!();
    let tmp = tempfile::tempdir().unwrap();
    let fs = Mounted::new(&tmp.path().join("mnt"));
    let runs: Vec<PathBuf> = (0..3).map(|i| tmp.path().join(format!("run{i}"))).collect();
    // Two hosts with the same host_id, and a third that watches.
    let a = write_config(
        tmp.path(),
        "a.toml",
        &config(&fs.path, &runs[0], "fence_action = \"log-only\""),
    );
    let b = write_config(
        tmp.path(),
        "b.toml",
        &config(&fs.path, &runs[1], "fence_action = \"log-only\""),
    );
    let c = write_config(
        tmp.path(),
        "c.toml",
        &config(&fs.path, &runs[2], "fence_action = \"log-only\"").replace("kvm1", "kvm3"),
    );
    let da = Daemon::start(&a, &runs[0]);
    let _db = Daemon::start(&b, &runs[1]);
    let dc = Daemon::start(&c, &runs[2]);
    da.wait_for(PATIENCE, "the conflict", |s| {
        s.storages[0].conflict.is_some()
    });
    assert!(da
        .log_text()
        .contains("another writer renews host_id \"kvm1\""));
    let (code, text) = status_cmd(&a);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("CONFLICT"), "{text}");
    dc.wait_for(PATIENCE, "kvm3 to see two writers", |s| {
        s.storages[0]
            .peers
            .iter()
            .any(|p| p.host == "kvm1" && p.conflict_ms.is_some())
    });
    let out = common::hb::check(&c, "kvm1", "1s");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("two writers renew the record of kvm1"),
        "{text}"
    );
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
    d.wait_for(PATIENCE, "renewals on both", |s| {
        s.storages.iter().all(|st| st.totals.ok >= 2)
    });
    hung.set(Mode::Block);
    let s = d.wait_for(PATIENCE, "a timeout on the hung one", |s| {
        s.storages[0].totals.timeouts >= 1
    });
    let before = s.storages[1].totals.ok;
    // While the first stays stuck, the second keeps renewing.
    let s = d.wait_for(PATIENCE, "renewals on the good one", |s| {
        s.storages[1].totals.ok >= before + 10
    });
    assert_eq!(s.storages[1].state, "ok");
    assert!(s.storages[1]
        .history
        .iter()
        .rev()
        .take(5)
        .all(|h| h.result == "ok"));
    assert_eq!(s.storages[0].stuck_helpers, 1);
}
