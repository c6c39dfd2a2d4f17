//! `-r`: is the peer alive? The I/O shell around [`super::verdict`].
//!
//! When this host runs `nfsha heartbeat run` and its daemon watches the pool,
//! the daemon's continuous observations of the peer's record answer at once
//! (one bounded read of the drop-in's files besides). Otherwise the peer's
//! records are read, each read bounded, and read again until a verdict is
//! reached or `[cloudstack] check_budget` runs out (30 s by default: room
//! for twelve pools in the agent's 360 s `KVMHAChecker`). What each call
//! saw is kept ([`super::observations`]), so the agent's repeated calls add
//! up to the observation a dead verdict needs.

use std::path::Path;
use std::time::Duration;

use crate::heartbeat::check::{empty_observation, fold_read, judge, observe_as, Limits, Verdict};
use crate::heartbeat::clock::{boottime, boottime_ms, wall_ms};
use crate::heartbeat::lease_area;
use crate::heartbeat::record::Record;
use crate::heartbeat::status::{PeerStatus, Status};
use crate::heartbeat::worker::{run_bounded, IoRequest, ReadError, ReadResult};

use super::files;
use super::lines::Answer;
use super::localdir::Local;
use super::observations::{Kind, Store};
use super::settings::Settings;
use super::verdict::{decide, Evidence, Legacy, Seen};

/// Time between reads while waiting for a change.
const STEP: Duration = Duration::from_secs(1);
/// Bound on the drop-in's read when the daemon's observations answer.
const QUICK_READ: Duration = Duration::from_secs(5);

/// The heartbeat daemon's status, if it runs (fresh) on this host.
pub fn daemon_status(s: &Settings) -> Option<Status> {
    Status::read(&s.cfg.status_file())
        .ok()
        .filter(|st| st.stale_for(boottime_ms()).is_none())
}

/// The daemon's own limits, as its status publishes them.
pub fn status_limits(st: &Status) -> Limits {
    Limits {
        dead_after: Duration::from_millis(st.dead_after_ms),
        interval: Duration::from_millis(st.interval_ms),
        io_timeout: Duration::from_millis(st.io_timeout_ms),
    }
}

/// This reader's limits for the drop-in's records: never dead sooner than
/// `-t`, a healthy agent's longest gap between writes, or `[cloudstack]
/// dead_after`.
pub fn dropin_limits(s: &Settings, max_s: u64) -> Limits {
    let gap = s.agent_timeline().healthy_gap;
    Limits {
        dead_after: Duration::from_secs(max_s)
            .max(gap)
            .max(s.cs.dead_after.unwrap_or_default()),
        interval: s.cs.interval,
        io_timeout: s.cs.io_timeout,
    }
}

/// This reader's limits for a heartbeat daemon's record it reads itself.
pub fn daemon_record_limits(s: &Settings, max_s: u64) -> Limits {
    let mut l = s.cfg.limits();
    l.dead_after = l.dead_after.max(Duration::from_secs(max_s));
    l
}

/// This reader's limits for a kept observation of the given kind.
pub fn limits_of_kind(s: &Settings, kind: &str, max_s: u64) -> Limits {
    if kind == Kind::Daemon.name() {
        daemon_record_limits(s, max_s)
    } else {
        dropin_limits(s, max_s)
    }
}

/// Fold one read of the peer's record into the kept observation. The
/// drop-in's identity includes CloudStack's decimal text, so a host switched
/// back to the stock script (which updates only `hb-<host>`) still counts as
/// alive. A read older than what is kept adds nothing.
#[allow(clippy::too_many_arguments)]
fn fold(
    store: &Store,
    kind: Kind,
    mount: &Path,
    host: &str,
    file: &Path,
    read: &ReadResult,
    legacy_text: &str,
    at_ms: u64,
) -> PeerStatus {
    let apply = |cur: Option<PeerStatus>| {
        let mut o = cur.unwrap_or_else(|| empty_observation(host, at_ms));
        if o.generation.is_some() && o.last_read_ms > at_ms {
            return o;
        }
        match (kind, read) {
            (Kind::Dropin, Ok((_, data))) => match Record::decode(data) {
                Ok(rec) if rec.host == host => observe_as(
                    &mut o,
                    format!("{:016x}:{legacy_text}", rec.generation),
                    &rec,
                    at_ms,
                ),
                _ => fold_read(&mut o, file, read, at_ms),
            },
            // The daemons' lease area: the peer's own slot, renewed in place.
            (Kind::Daemon, Ok((_, data))) => {
                o.observe_area(&lease_area::parse(data), at_ms, wall_ms());
            }
            _ => fold_read(&mut o, file, read, at_ms),
        }
        o
    };
    match store.update(kind, mount, host, apply) {
        Ok(o) => o,
        Err(e) => {
            // A local fault: judge from this call alone, and say so.
            tracing::warn!(
                "cannot keep the observation of {host} on {}: {e}",
                mount.display()
            );
            apply(store.load(kind, mount, host))
        }
    }
}

/// Where `host` was just judged alive on a pool other than `mount`.
fn alive_elsewhere(
    status: Option<&Status>,
    store: &Store,
    s: &Settings,
    mount: &Path,
    host: &str,
    max_s: u64,
) -> Option<String> {
    let now = boottime_ms();
    if let Some(st) = status {
        let limits = status_limits(st);
        for storage in &st.storages {
            if Path::new(&storage.mount) == mount {
                continue;
            }
            if let Some(p) = storage.peers.iter().find(|p| p.host == host) {
                if judge(p, now, &limits).0 == Verdict::Alive {
                    return Some(format!("{} (heartbeat daemon)", storage.mount));
                }
            }
        }
    }
    store
        .of_host(host)
        .into_iter()
        .filter(|(m, _, _)| m != mount)
        .find(|(_, kind, o)| judge(o, now, &limits_of_kind(s, kind, max_s)).0 == Verdict::Alive)
        .map(|(m, _, _)| m.display().to_string())
}

/// Is `host` alive on the pool mounted at `mount`? `max_s` is `-t`.
pub fn check(s: &Settings, local: &Local, mount: &Path, host: &str, max_s: u64) -> Answer {
    let budget_end = boottime() + s.cs.check_budget;
    let store = Store::new(&local.observations);
    let status = daemon_status(s);
    // The daemon's observation of the peer's record on this pool.
    let watched = status.as_ref().and_then(|st| {
        let storage = st.storage(&mount.to_string_lossy())?;
        let p = storage.peers.iter().find(|p| p.host == host)?;
        Some(Seen {
            file: lease_area::path(mount),
            obs: p.clone(),
            limits: status_limits(st),
        })
    });
    // Alive needs no storage I/O: the daemon sees the peer renewing here or
    // on another pool, or an earlier check saw it alive on another pool.
    let now = boottime_ms();
    if let Some(w) = watched
        .as_ref()
        .filter(|w| judge(&w.obs, now, &w.limits).0 == Verdict::Alive)
    {
        tracing::debug!(
            "{host}: alive from the heartbeat daemon's observation of {}",
            w.file.display()
        );
        return Answer::Alive;
    }
    if let Some(w) = alive_elsewhere(status.as_ref(), &store, s, mount, host, max_s) {
        tracing::info!("{host} is alive on {w}: alive on {} too", mount.display());
        return Answer::Alive;
    }
    let legacy_file = files::legacy_file(mount, host);
    let dropin_file = files::dropin_file(mount, host);
    // The peer's daemon renews its slot of the storage's lease area.
    let daemon_file = lease_area::path(mount);
    loop {
        let left = budget_end.saturating_sub(boottime());
        if left.is_zero() {
            return Answer::Unknown(format!(
                "no decision within check_budget ({}s)",
                s.cs.check_budget.as_secs()
            ));
        }
        let bound = if watched.is_some() {
            s.cs.io_timeout.min(QUICK_READ)
        } else {
            s.cs.io_timeout
        }
        .min(left);
        let mut reads = vec![legacy_file.clone(), dropin_file.clone()];
        if watched.is_none() {
            reads.push(daemon_file.clone());
        }
        let req = IoRequest {
            reads,
            ..Default::default()
        };
        let report = match run_bounded(&req, &local.io, bound) {
            Ok(r) => r,
            Err(e) => {
                return Answer::Unknown(format!(
                    "cannot read {}: {e}",
                    files::hb_dir(mount).display()
                ))
            }
        };
        let at_ms = boottime_ms();
        let get = |p: &Path| -> ReadResult {
            report
                .reads
                .iter()
                .find(|(q, _)| q == p)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| Err(ReadError::Io("the I/O helper reported nothing".into())))
        };
        let (legacy, legacy_text) = match get(&legacy_file) {
            Ok((_, data)) => (
                super::files::parse_legacy(&data)
                    .map(Legacy::Time)
                    .unwrap_or_else(Legacy::Bad),
                String::from_utf8_lossy(&data).trim().to_string(),
            ),
            Err(ReadError::Missing) => (Legacy::Missing, String::new()),
            Err(ReadError::Io(e)) => (Legacy::Bad(format!("cannot read: {e}")), String::new()),
        };
        let mut records = Vec::new();
        let sampled = [(Kind::Dropin, &dropin_file, dropin_limits(s, max_s))]
            .into_iter()
            .chain(
                watched
                    .is_none()
                    .then(|| (Kind::Daemon, &daemon_file, daemon_record_limits(s, max_s))),
            );
        for (kind, file, limits) in sampled {
            let read = get(file);
            if matches!(read, Err(ReadError::Missing)) {
                continue;
            }
            let obs = fold(&store, kind, mount, host, file, &read, &legacy_text, at_ms);
            records.push(Seen {
                file: file.clone(),
                obs,
                limits,
            });
        }
        records.extend(watched.clone());
        let has_records = !records.is_empty();
        let evidence = Evidence {
            legacy_file: legacy_file.clone(),
            legacy,
            records,
            alive_elsewhere: alive_elsewhere(status.as_ref(), &store, s, mount, host, max_s),
        };
        if let Some(w) = &evidence.alive_elsewhere {
            tracing::info!("{host} is alive on {w}: alive on {} too", mount.display());
        }
        let answer = decide(&evidence, boottime_ms(), wall_ms().div_euclid(1000), max_s);
        let undecided = matches!(answer, Answer::Unknown(_));
        // Waiting helps only while a change of an nfsha record may still show.
        if !undecided || watched.is_some() || !has_records || boottime() + STEP >= budget_end {
            return answer;
        }
        std::thread::sleep(STEP);
    }
}
