//! `nfsha heartbeat check`: is a peer alive? From the running daemon's
//! observations when it watches that storage (an answer at once), else by
//! reading the storage's lease area here, bounded, until the verdict is
//! decided or `--wait` runs out. The judging itself is [`super::peer`].
//!
//! Observations made here are kept in `run_dir` between runs (a lock and a
//! temporary file per writer, so concurrent checks never lose each other's
//! observations), so repeated short checks add up.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::clock::{boottime, boottime_ms, wall_ms};
use super::config::Config;
use super::helper::read_area_once;
use super::lease_area;
pub use super::peer::{judge, Limits, PeerStatus, Verdict};
use super::record::Record;
use super::status::Status;
use super::worker::{ReadError, ReadResult};

/// [`PeerStatus::new`], under the name callers used before.
pub fn empty_observation(host: &str, now_ms: u64) -> PeerStatus {
    PeerStatus::new(host, now_ms)
}

/// Fold a valid record read now: `gen` is the writer's run identity.
pub fn observe_as(o: &mut PeerStatus, gen: String, rec: &Record, now_ms: u64) {
    o.observe(gen, rec, now_ms, wall_ms())
}

/// Fold a valid record read now, the writer's run identity taken from it.
pub fn observe(o: &mut PeerStatus, rec: &Record, now_ms: u64) {
    observe_as(o, format!("{:016x}", rec.generation), rec, now_ms)
}

/// Fold the result of reading a peer's own record file at `path` (the
/// CloudStack drop-in's per-host records): a record naming another host, or
/// that cannot be decoded, is an error, never a sign of life.
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
    super::peer::combine(&vs.iter().map(|v| v.verdict).collect::<Vec<_>>())
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

/// Replace the whole cache (through a temporary file of this process).
pub fn save_cache(run_dir: &Path, c: &Cache) {
    let _ = std::fs::create_dir_all(run_dir);
    let p = cache_path(run_dir);
    let tmp = run_dir.join(format!(
        ".check-observations.{}.{}",
        std::process::id(),
        boottime().as_nanos()
    ));
    if let Ok(v) = serde_json::to_vec(c) {
        if std::fs::write(&tmp, v).is_ok() && std::fs::rename(&tmp, &p).is_ok() {
            return;
        }
    }
    let _ = std::fs::remove_file(&tmp);
}

/// Update the entries `keys` of the cache under an exclusive lock: the
/// entries of other keys written meanwhile by concurrent checks are kept.
pub fn merge_cache(run_dir: &Path, entries: Cache) {
    let _ = std::fs::create_dir_all(run_dir);
    let lock = File::create(run_dir.join("check-observations.lock")).ok();
    if let Some(l) = &lock {
        // SAFETY: flock on a descriptor we own; released when it is closed.
        unsafe { libc::flock(l.as_raw_fd(), libc::LOCK_EX) };
    }
    let mut cache = load_cache(run_dir);
    cache.extend(entries);
    save_cache(run_dir, &cache);
}

/// Watch storage `key`'s lease area at `area` for `host` until the verdict
/// is decided or `wait` has passed (at most `wait` + `io_timeout`: the last
/// read started within `wait` is not cut short).
pub fn sample(
    host: &str,
    key: &str,
    area: &Path,
    run_dir: &Path,
    limits: &Limits,
    wait: Duration,
) -> (Verdict, String, i64) {
    let ckey = format!("{key}|{host}");
    let mut o = load_cache(run_dir)
        .remove(&ckey)
        .unwrap_or_else(|| PeerStatus::new(host, boottime_ms()));
    let until = boottime() + wait;
    let step = (limits.interval / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
    let result = loop {
        // Each read gets its whole io_timeout, however little of `wait` is
        // left: a read cut short by --wait would report healthy storage as
        // not answering. `wait` only bounds how long reads are repeated.
        match read_area_once(area, limits.io_timeout) {
            Ok(bytes) => o.observe_area(&lease_area::parse(&bytes), boottime_ms(), wall_ms()),
            Err(e) => o.error = Some(e),
        }
        let (v, why) = judge(&o, boottime_ms(), limits);
        if v != Verdict::Unknown || boottime() + step > until {
            break (v, why);
        }
        std::thread::sleep(step);
    };
    let skew = o.wall_skew_ms;
    merge_cache(run_dir, Cache::from([(ckey, o)]));
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
    let limits = cfg.limits();
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
                let (v, r, k) = sample(host, &s.name, &s.lease_area(), &cfg.run_dir, &limits, wait);
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

    #[test]
    fn concurrent_writers_keep_each_others_observations() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().to_path_buf();
        let hs: Vec<_> = (0..12)
            .map(|i| {
                let run = run.clone();
                std::thread::spawn(move || {
                    let host = format!("kvm{i}");
                    merge_cache(
                        &run,
                        Cache::from([(format!("p|{host}"), PeerStatus::new(&host, i))]),
                    );
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(load_cache(&run).len(), 12);
        let left: Vec<_> = std::fs::read_dir(&run)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with(".check-observations"))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    }
}
