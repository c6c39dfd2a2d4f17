//! `kvmvmactivity.sh`: Host HA's activity check. The management server
//! asks a neighbour whether a suspect host is still doing anything on a
//! pool: `-i IP -p PATH -m MOUNT -h HOST -u vol1,vol2 -t NOW -d SUSPECT`
//! (`LibvirtStoragePool.vmActivityCheck`; `-t` and `-d` are Unix seconds
//! of the management server). The agent's `Script` timeout for it is
//! `activityScriptTimeout.getStandardSeconds()` passed where milliseconds
//! are expected: 3600 ms. So the whole check is bounded well inside that.
//!
//! - A fresh heartbeat gives ALIVE: the heartbeat daemon or earlier checks
//!   saw the host's records change, or `hb-<HOST>` is under 61 s old (the
//!   stock rule; ALIVE is the safe direction, so a clock comparison may
//!   give it).
//! - Else, a volume written after the suspect time gives ALIVE (its mtime,
//!   set by the storage server, against `-d`, as the stock script compares).
//! - Else DEAD: no fresh heartbeat and, of the volumes examined, none
//!   written since the suspect time (or `-u` is empty, as the stock script).
//! - When this host cannot tell (the pool is not mounted here, the storage
//!   does not answer within the bound, no volume could be examined) the
//!   answer is UNKNOWN, exit 3, which the agent reads as alive: a neighbour
//!   with a broken mount is no reason to power a host off. The stock script
//!   says DEAD there.
//!
//! It writes nothing on the pool (the stock script keeps `KVMHA/ac-<HOST>`;
//! nfsha neither needs nor touches it, so stock checkers keep theirs).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::heartbeat::check::{judge, Verdict};
use crate::heartbeat::clock::{boottime, boottime_ms, wall_ms};
use crate::heartbeat::worker::{run_bounded, IoRequest, ReadError};
use crate::sys::{Cmd, Deadline, Real, System};

use super::getopts::{getopts, value};
use super::lines::Activity;
use super::localdir::Local;
use super::observations::Store;
use super::pool_script::{local_dirs, log_problems, mount_state, MountRule, MountState};
use super::settings::Settings;
use super::{files, peer_check};

/// The whole check, below the agent's 3.6 s.
pub const BUDGET: Duration = Duration::from_millis(3000);
/// Share of it for reading the heartbeat files.
const READ_BOUND: Duration = Duration::from_millis(1200);
/// The stock script's freshness rule: `now - hb < 61`.
pub const FRESH_S: i64 = 61;

const USAGE: &str = "usage: kvmvmactivity.sh -i server-ip -p export-path -m mount-point -h host -u vol-uuid[,vol-uuid…] -t now -d suspect-time
nfsha's drop-in for CloudStack's Host HA activity check; see docs/heartbeat.md.";

/// What was learnt of the host's heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heartbeat {
    Fresh(String),
    NotFresh(String),
    /// Could not be read here.
    Unreadable(String),
}

/// One volume's modification time, as examined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Volume {
    Mtime(i64),
    NotExamined(String),
}

/// Pure: the answer from the evidence.
pub fn decide(
    hb: &Heartbeat,
    uuids_given: bool,
    volumes: &[(String, Volume)],
    suspect: i64,
) -> Activity {
    let hb_why = match hb {
        Heartbeat::Fresh(why) => return Activity::Alive(why.clone()),
        Heartbeat::Unreadable(why) => return Activity::Unknown(why.clone()),
        Heartbeat::NotFresh(why) => why,
    };
    if !uuids_given {
        return Activity::Dead(format!("empty UUIDList and no fresh heartbeat ({hb_why})"));
    }
    let examined: Vec<(&String, i64)> = volumes
        .iter()
        .filter_map(|(u, v)| match v {
            Volume::Mtime(t) => Some((u, *t)),
            Volume::NotExamined(_) => None,
        })
        .collect();
    if let Some((u, t)) = examined.iter().find(|(_, t)| *t > suspect) {
        return Activity::Alive(format!(
            "volume {u} written at [{t}], after the suspect time [{suspect}]"
        ));
    }
    match examined.iter().max_by_key(|(_, t)| *t) {
        Some((u, t)) => Activity::Dead(format!(
            "no volume written since the suspect time [{suspect}] (latest: {u} at [{t}]) and no fresh heartbeat ({hb_why})"
        )),
        None => Activity::Unknown(format!(
            "none of the volumes could be examined: {}",
            volumes
                .iter()
                .map(|(u, v)| match v {
                    Volume::NotExamined(e) => format!("{u}: {e}"),
                    Volume::Mtime(_) => u.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

/// Pure: freshness of CloudStack's decimal time by the stock rule.
pub fn legacy_fresh(hb: i64, now_s: i64) -> bool {
    now_s - hb < FRESH_S
}

fn volume_ok(u: &str) -> bool {
    !u.is_empty()
        && u != "."
        && u != ".."
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The host's heartbeat as this host can see it, within `bound`.
fn heartbeat(s: &Settings, local: &Local, mount: &Path, host: &str, bound: Duration) -> Heartbeat {
    let now = boottime_ms();
    // What the heartbeat daemon and earlier checks saw, on any pool.
    if let Some(st) = peer_check::daemon_status(s) {
        let limits = peer_check::status_limits(&st);
        for storage in &st.storages {
            if let Some(p) = storage.peers.iter().find(|p| p.host == host) {
                if judge(p, now, &limits).0 == Verdict::Alive {
                    return Heartbeat::Fresh(format!(
                        "the heartbeat daemon sees {host} renewing on {}",
                        storage.mount
                    ));
                }
            }
        }
    }
    for (m, kind, o) in Store::new(&local.observations).of_host(host) {
        if judge(&o, now, &peer_check::limits_of_kind(s, &kind, 60)).0 == Verdict::Alive {
            return Heartbeat::Fresh(format!(
                "{host}'s {kind} record on {} was seen changing",
                m.display()
            ));
        }
    }
    let file = files::legacy_file(mount, host);
    let req = IoRequest {
        reads: vec![file.clone()],
        ..Default::default()
    };
    let report = match run_bounded(&req, &local.io, bound) {
        Ok(r) => r,
        Err(e) => return Heartbeat::Unreadable(format!("cannot read {}: {e}", file.display())),
    };
    let now_s = wall_ms().div_euclid(1000);
    match report.reads.first().map(|(_, r)| r) {
        Some(Ok((_, data))) => match files::parse_legacy(data) {
            Ok(t) if legacy_fresh(t, now_s) => Heartbeat::Fresh(format!(
                "{} written {}s ago (under {FRESH_S}s)",
                file.display(),
                now_s - t
            )),
            Ok(t) => Heartbeat::NotFresh(format!("{} is {}s old", file.display(), now_s - t)),
            Err(e) => Heartbeat::NotFresh(format!("{}: {e}", file.display())),
        },
        Some(Err(ReadError::Missing)) => {
            Heartbeat::NotFresh(format!("no heartbeat file {}", file.display()))
        }
        Some(Err(ReadError::Io(e))) => {
            Heartbeat::Unreadable(format!("cannot read {}: {e}", file.display()))
        }
        None => Heartbeat::Unreadable("the I/O helper reported nothing".into()),
    }
}

/// The volumes' mtimes, with one bounded `stat` (it may hang on the pool).
fn volumes(
    sys: &dyn System,
    mount: &Path,
    uuids: &[String],
    deadline: Deadline,
) -> Vec<(String, Volume)> {
    let paths: Vec<(String, PathBuf)> = uuids
        .iter()
        .filter(|u| volume_ok(u))
        .map(|u| (u.clone(), mount.join(u)))
        .collect();
    let mut out: Vec<(String, Volume)> = uuids
        .iter()
        .filter(|u| !volume_ok(u))
        .map(|u| (u.clone(), Volume::NotExamined("not a volume name".into())))
        .collect();
    if paths.is_empty() {
        return out;
    }
    let cmd = Cmd::new("stat")
        .arg("--format=%Y:%n")
        .arg("--")
        .args(paths.iter().map(|(_, p)| p.display().to_string()));
    let text = match sys.run(&cmd, deadline) {
        Ok(o) => o.stdout,
        Err(e) => {
            out.extend(
                paths
                    .into_iter()
                    .map(|(u, _)| (u, Volume::NotExamined(e.to_string()))),
            );
            return out;
        }
    };
    for (u, p) in paths {
        let want = p.display().to_string();
        let found = text.lines().find_map(|l| {
            let (t, name) = l.split_once(':')?;
            (name == want).then(|| t.parse::<i64>().ok()).flatten()
        });
        out.push((
            u,
            match found {
                Some(t) => Volume::Mtime(t),
                None => Volume::NotExamined("missing".into()),
            },
        ));
    }
    out
}

pub fn main(args: &[String]) -> super::Outcome {
    let started = boottime();
    let opts = match getopts("i:p:m:u:t:h:d:", args) {
        Ok(o) => o,
        Err(e) => return (1, Some(format!("kvmvmactivity.sh: {e}\n{USAGE}"))),
    };
    // As the stock script: no -i or no -d is exit 2.
    let (Some(_), Some(suspect)) = (
        value(&opts, 'i').filter(|v| !v.is_empty()),
        value(&opts, 'd').filter(|v| !v.is_empty()),
    ) else {
        return (
            2,
            Some(format!("kvmvmactivity.sh: -i and -d are required\n{USAGE}")),
        );
    };
    let Ok(suspect) = suspect.trim().parse::<i64>() else {
        return (
            2,
            Some(format!(
                "kvmvmactivity.sh: -d {suspect:?}: expected Unix seconds"
            )),
        );
    };
    let (Some(mount), Some(host)) = (value(&opts, 'm'), value(&opts, 'h')) else {
        return (
            2,
            Some(format!("kvmvmactivity.sh: -m and -h are required\n{USAGE}")),
        );
    };
    if let Err(e) = crate::heartbeat::config::check_host_id("-h", host) {
        return (2, Some(format!("kvmvmactivity.sh: {e}")));
    }
    let mount = PathBuf::from(mount.trim_end_matches('/'));
    let uuids: Vec<String> = value(&opts, 'u')
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    let s = Settings::load();
    log_problems(&s);
    let answer = {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        match (
            mount_state(MountRule::OnMountedFs, &mountinfo, &mount),
            local_dirs(&s),
        ) {
            (MountState::NotMounted, _) => Activity::Unknown(format!(
                "{} is not mounted on this host: it cannot tell",
                mount.display()
            )),
            (_, Err(e)) => Activity::Unknown(format!("local fault on this host: {e}")),
            (_, Ok(local)) => {
                let hb = heartbeat(&s, &local, &mount, host, READ_BOUND);
                let vols = if matches!(hb, Heartbeat::NotFresh(_)) && !uuids.is_empty() {
                    let left = BUDGET.saturating_sub(boottime().saturating_sub(started));
                    let sys = Real::new();
                    volumes(&sys, &mount, &uuids, Deadline::after(&sys, left))
                } else {
                    Vec::new()
                };
                decide(&hb, !uuids.is_empty(), &vols, suspect)
            }
        }
    };
    match &answer {
        Activity::Alive(why) => tracing::info!("{host} is active on {}: {why}", mount.display()),
        Activity::Dead(why) => {
            tracing::warn!("{host} shows no activity on {}: {why}", mount.display())
        }
        Activity::Unknown(why) => {
            tracing::warn!("{host} on {}: cannot tell: {why}", mount.display())
        }
    }
    (answer.exit_code(), Some(answer.line()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nf() -> Heartbeat {
        Heartbeat::NotFresh("hb is 300s old".into())
    }

    #[test]
    fn fresh_heartbeat_then_volumes_then_dead() {
        assert!(matches!(
            decide(&Heartbeat::Fresh("x".into()), true, &[], 100),
            Activity::Alive(_)
        ));
        assert!(matches!(
            decide(&Heartbeat::Unreadable("hung".into()), true, &[], 100),
            Activity::Unknown(_)
        ));
        assert!(
            matches!(decide(&nf(), false, &[], 100), Activity::Dead(w) if w.contains("empty UUIDList"))
        );
        let v = |t: i64| {
            vec![
                ("a".to_string(), Volume::Mtime(50)),
                ("b".to_string(), Volume::Mtime(t)),
            ]
        };
        // Written after the suspect time: strictly later, as the stock `-gt`.
        assert!(
            matches!(decide(&nf(), true, &v(101), 100), Activity::Alive(w) if w.contains("volume b"))
        );
        assert!(
            matches!(decide(&nf(), true, &v(100), 100), Activity::Dead(w) if w.contains("latest: b at [100]"))
        );
        let none = vec![("a".to_string(), Volume::NotExamined("missing".into()))];
        assert!(
            matches!(decide(&nf(), true, &none, 100), Activity::Unknown(w) if w.contains("a: missing"))
        );
    }

    #[test]
    fn the_stock_freshness_rule() {
        assert!(legacy_fresh(1000, 1060));
        assert!(!legacy_fresh(1000, 1061));
        assert!(legacy_fresh(2000, 1000), "future-dated: not provably old");
        assert!(volume_ok("6b3a-uuid.qcow2"));
        for bad in ["", ".", "..", "../etc/passwd", "a/b"] {
            assert!(!volume_ok(bad), "{bad}");
        }
    }
}
