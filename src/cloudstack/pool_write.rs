//! Write mode (`-i IP -p PATH -m MOUNT -h HOSTIP`): this host's heartbeat
//! on one pool, every `kvm.heartbeat.update.frequency`.
//!
//! It writes `KVMHA/hb-<HOSTIP>` exactly as the stock script does (so hosts
//! still on the stock scripts, and the stock `kvmvmactivity.sh`, read it)
//! and nfsha's record beside it, both by write-then-rename in one helper
//! bounded by `[cloudstack] io_timeout`. The record says who will fence
//! this host if its writes stop, and so how long peers must wait: the
//! heartbeat daemon when it runs and fences on this pool, the agent's `-c`
//! when `reboot.host.and.alert.management.on.heartbeat.timeout` is true and
//! the action stops the host, else nobody (`not-fenced`: never dead).
//!
//! Only storage failures fail a write. A full or unwritable `run_dir` is
//! worked around (see [`super::localdir`]); an unmounted or read-only pool
//! fails without touching the storage, with the cause kept for `-c`.

use std::path::Path;
use std::time::Duration;

use crate::heartbeat::clock::{boottime_ms, wall_ms};
use crate::heartbeat::fence::FenceAction;
use crate::heartbeat::record::{Record, WriterState};
use crate::heartbeat::status::Status;
use crate::heartbeat::worker::{run_bounded, IoFailure, IoRequest};

use super::files;
use super::localdir::Local;
use super::pool_state::{self, Outcome};
use super::settings::{PlanAction, Settings};

/// Who stops this host's VMs when its heartbeat on a pool stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhoFences {
    pub state: WriterState,
    pub fence_action: FenceAction,
    /// What peers must wait before they may take over.
    pub dead_after: Duration,
    pub why: String,
}

/// The action as a record can state it (a custom script is not counted on).
fn record_action(s: &Settings) -> FenceAction {
    match &s.plan.action {
        PlanAction::Core(a) => *a,
        PlanAction::Custom(_) => FenceAction::LogOnly,
    }
}

/// Pure: who fences, from the settings and the daemon's status.
pub fn who_fences(s: &Settings, mount: &Path, status: Option<&Status>) -> WhoFences {
    let tl = s.agent_timeline();
    let floor = tl.healthy_gap.max(s.cs.dead_after.unwrap_or_default());
    let daemon = status.and_then(|st| {
        let storage = st.storage(&mount.to_string_lossy())?;
        (storage.fence && st.fence.action.fences())
            .then(|| (st.fence.action, Duration::from_millis(st.dead_after_ms)))
    });
    let agent = tl.dead_after(s.cfg.takeover_margin);
    match (daemon, agent) {
        (Some((action, d)), a) => WhoFences {
            state: WriterState::Ok,
            fence_action: action,
            dead_after: a.map_or(d, |a| a.min(d)).max(floor),
            why: format!(
                "the heartbeat daemon fences on this pool ({}){}",
                action.name(),
                if a.is_some() {
                    ", and the agent's -c"
                } else {
                    ""
                }
            ),
        },
        (None, Some(a)) => WhoFences {
            state: WriterState::Ok,
            fence_action: record_action(s),
            dead_after: a.max(floor),
            why: format!("the agent's -c fences ({})", s.plan.name()),
        },
        (None, None) => WhoFences {
            state: WriterState::NotFenced,
            fence_action: record_action(s),
            dead_after: floor,
            why: if s.agent.fence_on_timeout {
                format!("-c does not stop the host ({})", s.plan.name())
            } else {
                "the agent never calls -c (reboot.host.and.alert.management.on.heartbeat.timeout=false) and no heartbeat daemon fences on this pool".into()
            },
        },
    }
}

/// A generation per boot: the boot id, hashed (a reboot is a new writer).
fn boot_generation() -> u64 {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    super::fnv1a64(id.trim())
}

/// Write `host`'s heartbeat on `mount` (already checked to be mounted and
/// writable). Returns the exit code and the failure line.
pub fn write(s: &Settings, local: &Local, mount: &Path, host: &str) -> super::Outcome {
    let status = super::peer_check::daemon_status(s);
    let who = who_fences(s, mount, status.as_ref());
    let now_ms = boottime_ms();
    let rec = Record {
        host: host.to_string(),
        generation: boot_generation(),
        // CLOCK_BOOTTIME grows for the whole boot, so it is a sequence
        // number that needs no state file.
        seq: now_ms,
        mono_ms: now_ms,
        wall_ms: wall_ms(),
        interval_ms: s.cs.interval.as_millis() as u64,
        io_timeout_ms: s.cs.io_timeout.as_millis() as u64,
        dead_after_ms: who.dead_after.as_millis() as u64,
        fence_action: who.fence_action,
        state: who.state,
        failing_ms: 0,
    };
    let legacy = files::legacy_file(mount, host);
    let req = IoRequest {
        mkdirs: vec![files::hb_dir(mount)],
        writes: vec![
            (
                legacy.clone(),
                files::legacy_text(rec.wall_ms.div_euclid(1000)).into_bytes(),
            ),
            (files::dropin_file(mount, host), rec.encode().into_bytes()),
        ],
        ..Default::default()
    };
    let (outcome, detail) = match run_bounded(&req, &local.io, s.cs.io_timeout) {
        Ok(r) => match r.write_error().or_else(|| r.errors.first().cloned()) {
            None => (Outcome::Ok, String::new()),
            Some(e) => (Outcome::Error, e),
        },
        Err(e @ IoFailure::Timeout(_)) => (Outcome::Timeout, e.to_string()),
        Err(e) => (Outcome::Error, e.to_string()),
    };
    finish(
        local,
        mount,
        outcome,
        &detail,
        &format!("{}", legacy.display()),
    )
}

/// Keep the outcome for `-c` and say it: silent on success, as the script.
pub fn finish(
    local: &Local,
    mount: &Path,
    outcome: Outcome,
    detail: &str,
    file: &str,
) -> super::Outcome {
    if let Err(e) = pool_state::record(&local.pools, mount, outcome, detail, boottime_ms()) {
        tracing::warn!("cannot keep the outcome of this write: {e}");
    }
    if outcome == Outcome::Ok {
        return (0, None);
    }
    let line = format!(
        "Failed to write the heartbeat {file}: {}{}",
        outcome.describe(),
        if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        }
    );
    tracing::warn!("{line}");
    (1, Some(line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::status::{FenceStatus, StorageStatus, Totals};

    fn settings(props: &str, toml: &str) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("agent.properties");
        std::fs::write(&p, props).unwrap();
        Settings::from_text(
            Path::new("/h.toml"),
            Some(Ok(toml.to_string())),
            Some(p.to_str().unwrap()),
        )
    }

    fn status(mount: &str, fence: bool, action: FenceAction) -> Status {
        Status {
            version: 1,
            pid: 1,
            host_id: "10.0.0.1".into(),
            generation: "g".into(),
            updated_ms: boottime_ms(),
            interval_ms: 10_000,
            io_timeout_ms: 10_000,
            fence_after_ms: 80_000,
            dead_after_ms: 108_000,
            fence: FenceStatus {
                action,
                state: "healthy".into(),
                decided_ms: None,
                reason: None,
                dry_run: false,
                ..FenceStatus::default()
            },
            watchdog: None,
            storages: vec![StorageStatus {
                name: "p".into(),
                mount: mount.into(),
                record: String::new(),
                state: "ok".into(),
                fence,
                seq: 1,
                last_success_ms: None,
                failing_ms: 0,
                in_flight_ms: 0,
                stuck_helpers: 0,
                consecutive_failures: 0,
                last_error: None,
                totals: Totals::default(),
                history: vec![],
                peers: vec![],
                ..StorageStatus::default()
            }],
            ..Status::default()
        }
    }

    #[test]
    fn the_agent_fences_by_default_with_its_own_timeline() {
        let s = settings("", "");
        let w = who_fences(&s, Path::new("/mnt/p"), None);
        assert_eq!(w.state, WriterState::Ok);
        assert_eq!(w.fence_action, FenceAction::Reboot);
        assert_eq!(w.dead_after, Duration::from_secs(438));
    }

    #[test]
    fn the_daemon_fences_sooner_when_it_watches_the_pool() {
        let s = settings("", "");
        let st = status("/mnt/p", true, FenceAction::Reboot);
        let w = who_fences(&s, Path::new("/mnt/p"), Some(&st));
        assert_eq!(w.state, WriterState::Ok);
        // The daemon's 108 s, but never below a healthy agent's gap (130 s).
        assert_eq!(w.dead_after, Duration::from_secs(130));
        assert!(w.why.contains("heartbeat daemon"), "{}", w.why);
        // Not on this pool, or fence = false there: the agent's timeline.
        let w = who_fences(&s, Path::new("/mnt/other"), Some(&st));
        assert_eq!(w.dead_after, Duration::from_secs(438));
        let st = status("/mnt/p", false, FenceAction::Reboot);
        assert_eq!(
            who_fences(&s, Path::new("/mnt/p"), Some(&st)).dead_after,
            Duration::from_secs(438)
        );
    }

    #[test]
    fn nobody_fences_is_said_in_the_record() {
        let s = settings(
            "reboot.host.and.alert.management.on.heartbeat.timeout=false\n",
            "",
        );
        let w = who_fences(&s, Path::new("/mnt/p"), None);
        assert_eq!(w.state, WriterState::NotFenced);
        assert!(w.why.contains("never calls -c"), "{}", w.why);
        let s = settings("kvm.heartbeat.fence.action=log-only\n", "");
        let w = who_fences(&s, Path::new("/mnt/p"), None);
        assert_eq!(
            (w.state, w.fence_action),
            (WriterState::NotFenced, FenceAction::LogOnly)
        );
        let s = settings("kvm.heartbeat.fence.action=custom\n", "");
        assert_eq!(
            who_fences(&s, Path::new("/mnt/p"), None).state,
            WriterState::NotFenced
        );
        // With agent.properties saying log-only, the daemon still fences.
        let s = settings("kvm.heartbeat.fence.action=log-only\n", "");
        let st = status("/mnt/p", true, FenceAction::Reboot);
        assert_eq!(
            who_fences(&s, Path::new("/mnt/p"), Some(&st)).state,
            WriterState::Ok
        );
    }
}
