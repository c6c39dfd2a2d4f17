//! Peer liveness without synchronised clocks: a peer is alive when its
//! (generation, seq) is seen to change, dead when a fresh read shows no change
//! for `dead_after` — both measured on this host's CLOCK_BOOTTIME. The
//! writer's wall time is shown as skew and never decides anything.
//!
//! Missing, unreadable and corrupt records are `unknown`, never `alive`; a
//! stale record from a writer that does not fence itself is `not-fenced`, and
//! its VMs must not be restarted elsewhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::clock::{boottime, boottime_ms, wall_ms};
use super::config::Config;
use super::record::{Record, WriterState};
use super::status::{PeerStatus, Status};
use super::worker::{run_bounded, IoRequest, ReadError, ReadResult};

/// The answer about one peer. Exit codes in `docs/heartbeat.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Alive,
    Dead,
    Unknown,
    NotFenced,
}

impl Verdict {
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Alive => 0,
            Verdict::Dead => 1,
            Verdict::Unknown => 3,
            Verdict::NotFenced => 4,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Alive => "alive",
            Verdict::Dead => "dead",
            Verdict::Unknown => "unknown",
            Verdict::NotFenced => "not-fenced",
        }
    }
}

/// This reader's own limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub dead_after: Duration,
    pub interval: Duration,
    pub io_timeout: Duration,
}

impl Limits {
    pub fn of(c: &Config) -> Limits {
        Limits {
            dead_after: c.dead_after,
            interval: c.interval,
            io_timeout: c.io_timeout,
        }
    }
}

/// Fold a valid record read at `now_ms` into an observation.
pub fn observe(o: &mut PeerStatus, rec: &Record, now_ms: u64) {
    observe_as(o, format!("{:016x}", rec.generation), rec, now_ms)
}

/// [`observe`] with a caller-chosen identity for the generation: any change
/// of `gen` or of the record's seq counts as a sign of life.
pub fn observe_as(o: &mut PeerStatus, gen: String, rec: &Record, now_ms: u64) {
    let first = o.generation.is_none();
    if !first && (o.generation.as_deref() != Some(gen.as_str()) || o.seq != rec.seq) {
        o.last_change_ms = now_ms;
        o.changes += 1;
    }
    if first {
        o.last_change_ms = now_ms;
    }
    o.generation = Some(gen);
    o.seq = rec.seq;
    o.last_read_ms = now_ms;
    o.fence_action = Some(rec.fence_action);
    o.writer_state = Some(rec.state.name().into());
    o.dead_after_ms = rec.dead_after_ms;
    o.interval_ms = rec.interval_ms;
    o.io_timeout_ms = rec.io_timeout_ms;
    o.wall_skew_ms = rec.wall_ms - wall_ms();
    o.error = None;
}

pub fn empty_observation(host: &str, now_ms: u64) -> PeerStatus {
    PeerStatus {
        host: host.to_string(),
        generation: None,
        seq: 0,
        changes: 0,
        last_change_ms: now_ms,
        last_read_ms: 0,
        fence_action: None,
        writer_state: None,
        dead_after_ms: 0,
        interval_ms: 0,
        io_timeout_ms: 0,
        wall_skew_ms: 0,
        error: None,
    }
}

/// Judge an observation at `now_ms`. Pure: the whole decision is here.
pub fn judge(o: &PeerStatus, now_ms: u64, l: &Limits) -> (Verdict, String) {
    let secs = |ms: u64| format!("{:.1}s", ms as f64 / 1000.0);
    if o.generation.is_none() {
        let why = o
            .error
            .clone()
            .unwrap_or_else(|| "no valid record read yet".into());
        return (Verdict::Unknown, why);
    }
    if let Some(e) = &o.error {
        return (Verdict::Unknown, format!("last read failed: {e}"));
    }
    let dead_after = (l.dead_after.as_millis() as u64).max(o.dead_after_ms);
    let alive_window = 2 * (l.interval.as_millis() as u64).max(o.interval_ms)
        + (l.io_timeout.as_millis() as u64).max(o.io_timeout_ms);
    let since = now_ms.saturating_sub(o.last_change_ms);
    let skew = if o.wall_skew_ms.abs() > 2000 {
        format!(
            "; writer's wall clock differs by {:+.0}s (ignored)",
            o.wall_skew_ms as f64 / 1000.0
        )
    } else {
        String::new()
    };
    let writer_state = o.writer_state.as_deref().unwrap_or("?");
    let self_fences =
        o.fence_action.is_some_and(|a| a.fences()) && writer_state != WriterState::NotFenced.name();
    if o.changes > 0 && since <= alive_window {
        let note = match writer_state {
            "ok" => String::new(),
            s => format!("; the writer reports its own renewals as {s}"),
        };
        return (
            Verdict::Alive,
            format!("seq {} changed {} ago{note}{skew}", o.seq, secs(since)),
        );
    }
    let confirmed = o.last_read_ms >= o.last_change_ms + dead_after;
    if since >= dead_after && confirmed {
        if !self_fences {
            return (
                Verdict::NotFenced,
                format!(
                    "seq {} unchanged for {} but the writer does not fence itself (fence_action {}, state {writer_state}): its VMs may still run; do NOT restart them elsewhere{skew}",
                    o.seq,
                    secs(since),
                    o.fence_action.map(|a| a.name()).unwrap_or("?")
                ),
            );
        }
        return (
            Verdict::Dead,
            format!(
                "seq {} unchanged for {} (dead_after {}){skew}",
                o.seq,
                secs(since),
                secs(dead_after)
            ),
        );
    }
    let why = if o.changes == 0 && since < dead_after {
        format!(
            "no change seen yet in {} of watching (alive needs a change, dead needs {})",
            secs(since),
            secs(dead_after)
        )
    } else if since >= dead_after {
        format!(
            "unchanged for {}, but no fresh read confirms it",
            secs(since)
        )
    } else {
        format!(
            "seq {} unchanged for {}; dead only after {}",
            o.seq,
            secs(since),
            secs(dead_after)
        )
    };
    (Verdict::Unknown, format!("{why}{skew}"))
}

#[derive(Serialize, Debug, Clone)]
pub struct StorageVerdict {
    pub storage: String,
    pub verdict: Verdict,
    pub reason: String,
    /// "daemon" (its observations) or "sampled" (read here).
    pub source: &'static str,
    pub wall_skew_ms: i64,
}

/// Combine per-storage answers: alive anywhere is alive; dead needs all dead.
pub fn combine(vs: &[StorageVerdict]) -> Verdict {
    let any = |v| vs.iter().any(|s| s.verdict == v);
    if vs.is_empty() {
        Verdict::Unknown
    } else if any(Verdict::Alive) {
        Verdict::Alive
    } else if any(Verdict::NotFenced) {
        Verdict::NotFenced
    } else if vs.iter().all(|s| s.verdict == Verdict::Dead) {
        Verdict::Dead
    } else {
        Verdict::Unknown
    }
}

/// Observations kept between runs of `check` (on tmpfs, this boot only).
pub type Cache = BTreeMap<String, PeerStatus>;

fn cache_path(run_dir: &Path) -> PathBuf {
    run_dir.join("check-observations.json")
}

pub fn load_cache(run_dir: &Path) -> Cache {
    std::fs::read_to_string(cache_path(run_dir))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub fn save_cache(run_dir: &Path, c: &Cache) {
    let _ = std::fs::create_dir_all(run_dir);
    let p = cache_path(run_dir);
    let tmp = p.with_extension("json.tmp");
    if let Ok(v) = serde_json::to_vec(c) {
        if std::fs::write(&tmp, v).is_ok() {
            let _ = std::fs::rename(&tmp, &p);
        }
    }
}

/// Fold one read of `path` (the record of `o.host`) into `o`: a valid
/// record is observed; anything else only sets the error (never a change).
pub fn fold_read(o: &mut PeerStatus, path: &Path, r: &ReadResult, now_ms: u64) {
    let err = match r {
        Ok((_, data)) => match Record::decode(data) {
            Ok(rec) if rec.host == o.host => {
                observe(o, &rec, now_ms);
                return;
            }
            Ok(rec) => format!("record names host {:?}", rec.host),
            Err(e) => format!("corrupt record: {e}"),
        },
        Err(ReadError::Missing) => format!("no record at {}", path.display()),
        Err(ReadError::Io(e)) => format!("cannot read {}: {e}", path.display()),
    };
    o.error = Some(err);
}

/// Read `path` once (bounded) and fold it into `o`.
pub fn sample_once(o: &mut PeerStatus, path: &Path, run_dir: &Path, io_timeout: Duration) {
    let req = IoRequest {
        reads: vec![path.to_path_buf()],
        ..Default::default()
    };
    match run_bounded(&req, &run_dir.join("io"), io_timeout) {
        Err(e) => o.error = Some(e.to_string()),
        Ok(rep) => match rep.reads.first() {
            Some((_, r)) => fold_read(o, path, r, boottime_ms()),
            None => o.error = Some("the I/O helper reported nothing".into()),
        },
    }
}

/// Watch `path` until the verdict is decided or `wait` has passed.
pub fn sample(
    host: &str,
    key: &str,
    path: &Path,
    run_dir: &Path,
    limits: &Limits,
    wait: Duration,
) -> (Verdict, String, i64) {
    let mut cache = load_cache(run_dir);
    let ckey = format!("{key}|{host}");
    let mut o = cache
        .remove(&ckey)
        .unwrap_or_else(|| empty_observation(host, boottime_ms()));
    let until = boottime() + wait;
    let step = (limits.interval / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
    let result = loop {
        sample_once(&mut o, path, run_dir, limits.io_timeout);
        let (v, why) = judge(&o, boottime_ms(), limits);
        if v != Verdict::Unknown || boottime() + step > until {
            break (v, why);
        }
        std::thread::sleep(step);
    };
    let skew = o.wall_skew_ms;
    cache.insert(ckey, o);
    save_cache(run_dir, &cache);
    (result.0, result.1, skew)
}

/// `nfsha heartbeat check`.
pub fn check(
    cfg: &Config,
    host: &str,
    storage: Option<&str>,
    wait: Option<Duration>,
) -> Result<Vec<StorageVerdict>, String> {
    let storages: Vec<_> = match storage {
        Some(k) => vec![cfg
            .storage(k)
            .ok_or_else(|| format!("--storage {k:?}: not a configured storage name or mount"))?
            .clone()],
        None => cfg.storages.clone(),
    };
    if storages.is_empty() {
        return Err("no [[storage]] configured".into());
    }
    let limits = Limits::of(cfg);
    let status = Status::read(&cfg.status_file())
        .ok()
        .filter(|s| s.stale_for(boottime_ms()).is_none());
    let mut out = Vec::new();
    for s in storages {
        let from_daemon = status
            .as_ref()
            .and_then(|st| st.storage(&s.name))
            .and_then(|ss| ss.peers.iter().find(|p| p.host == host).cloned());
        let (verdict, reason, skew, source) = match from_daemon {
            Some(p) => {
                let (v, r) = judge(&p, boottime_ms(), &limits);
                (v, r, p.wall_skew_ms, "daemon")
            }
            None => {
                let wait = wait.unwrap_or(cfg.dead_after + cfg.io_timeout);
                let (v, r, k) = sample(
                    host,
                    &s.name,
                    &s.hb_dir().join(host),
                    &cfg.run_dir,
                    &limits,
                    wait,
                );
                (v, r, k, "sampled")
            }
        };
        out.push(StorageVerdict {
            storage: s.name.clone(),
            verdict,
            reason,
            source,
            wall_skew_ms: skew,
        });
    }
    Ok(out)
}

/// The human rendering of a check.
pub fn render(host: &str, vs: &[StorageVerdict]) -> String {
    let mut out = format!("{host}: {}\n", combine(vs).name());
    for v in vs {
        out.push_str(&format!(
            "  {}: {} ({}, {})\n",
            v.storage,
            v.verdict.name(),
            v.reason,
            v.source
        ));
    }
    if combine(vs) == Verdict::NotFenced {
        out.push_str("  do NOT restart this host's VMs elsewhere: it has not fenced itself\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::fence::FenceAction;

    fn rec(seq: u64, skew_ms: i64, fa: FenceAction) -> Record {
        Record {
            host: "kvm2".into(),
            generation: 7,
            seq,
            mono_ms: 1000 * seq,
            wall_ms: wall_ms() + skew_ms,
            interval_ms: 1000,
            io_timeout_ms: 1000,
            dead_after_ms: 20_000,
            fence_action: fa,
            state: WriterState::Ok,
            failing_ms: 0,
        }
    }

    const L: Limits = Limits {
        dead_after: Duration::from_secs(10),
        interval: Duration::from_secs(1),
        io_timeout: Duration::from_secs(1),
    };

    #[test]
    fn change_is_alive_whatever_the_wall_clock() {
        for skew in [-3_600_000, 0, 3_600_000] {
            let mut o = empty_observation("kvm2", 0);
            observe(&mut o, &rec(1, skew, FenceAction::Reboot), 1000);
            assert_eq!(
                judge(&o, 1000, &L).0,
                Verdict::Unknown,
                "one read is no evidence"
            );
            observe(&mut o, &rec(2, skew, FenceAction::Reboot), 2000);
            let (v, why) = judge(&o, 2500, &L);
            assert_eq!(v, Verdict::Alive, "{why}");
            if skew != 0 {
                assert!(why.contains("ignored"), "{why}");
            }
        }
    }

    #[test]
    fn stale_is_dead_only_after_the_larger_dead_after_and_a_fresh_read() {
        let mut o = empty_observation("kvm2", 0);
        observe(&mut o, &rec(1, 3_600_000, FenceAction::Reboot), 1000);
        observe(&mut o, &rec(2, 3_600_000, FenceAction::Reboot), 2000);
        // Writer promises 20 s, reader's own is 10 s: 20 s applies.
        observe(&mut o, &rec(2, 3_600_000, FenceAction::Reboot), 15_000);
        assert_eq!(judge(&o, 15_000, &L).0, Verdict::Unknown);
        assert_eq!(
            judge(&o, 30_000, &L).0,
            Verdict::Unknown,
            "no fresh read after the window"
        );
        observe(&mut o, &rec(2, 3_600_000, FenceAction::Reboot), 22_500);
        assert_eq!(judge(&o, 22_500, &L).0, Verdict::Dead);
    }

    #[test]
    fn stale_log_only_writer_is_not_fenced() {
        let mut o = empty_observation("kvm2", 0);
        observe(&mut o, &rec(1, 0, FenceAction::LogOnly), 0);
        observe(&mut o, &rec(1, 0, FenceAction::LogOnly), 25_000);
        let (v, why) = judge(&o, 25_000, &L);
        assert_eq!(v, Verdict::NotFenced);
        assert!(why.contains("do NOT restart"), "{why}");
    }

    #[test]
    fn errors_are_never_alive() {
        let mut o = empty_observation("kvm2", 0);
        o.error = Some("corrupt record: checksum mismatch".into());
        assert_eq!(judge(&o, 100_000, &L).0, Verdict::Unknown);
        observe(&mut o, &rec(1, 0, FenceAction::Reboot), 0);
        observe(&mut o, &rec(2, 0, FenceAction::Reboot), 500);
        o.error = Some("cannot read".into());
        assert_eq!(judge(&o, 600, &L).0, Verdict::Unknown);
    }

    #[test]
    fn combining_storages() {
        let v = |verdict| StorageVerdict {
            storage: "s".into(),
            verdict,
            reason: String::new(),
            source: "daemon",
            wall_skew_ms: 0,
        };
        assert_eq!(
            combine(&[v(Verdict::Dead), v(Verdict::Alive)]),
            Verdict::Alive
        );
        assert_eq!(
            combine(&[v(Verdict::Dead), v(Verdict::Unknown)]),
            Verdict::Unknown
        );
        assert_eq!(
            combine(&[v(Verdict::Dead), v(Verdict::Dead)]),
            Verdict::Dead
        );
        assert_eq!(combine(&[]), Verdict::Unknown);
    }
}
