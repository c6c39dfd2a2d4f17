//! The judgement of one peer on one pool, from what was read and what was
//! seen before. Pure: the I/O shell ([`super::peer_check`]) gathers the
//! evidence; this decides, and the tests pin every boundary.
//!
//! - nfsha's records (the daemon's and the drop-in's) are judged by change
//!   on this host's clock (`heartbeat::check::judge`), never by their times;
//!   alive when any of them is alive (or the peer is seen alive on another
//!   pool), dead only when every one present is dead.
//! - A peer with no nfsha record runs CloudStack's stock script: its decimal
//!   time is judged by its age against `-t`, as the stock script does, but
//!   never wrapped modulo 256, and missing, unreadable, garbage or
//!   future-dated is unknown, never alive.

use std::path::PathBuf;

use crate::heartbeat::check::{judge, Limits, Verdict};
use crate::heartbeat::status::PeerStatus;

use super::lines::Answer;

/// How far in the future (seconds) a decimal time may be before it means
/// the clocks disagree rather than jitter.
pub const FUTURE_TOLERANCE_S: i64 = 5;

/// CloudStack's decimal-time file, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Legacy {
    Missing,
    /// Unreadable or not a decimal time: the reason.
    Bad(String),
    /// Unix seconds.
    Time(i64),
}

/// One of nfsha's records of the peer on this pool, and what was seen of it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub file: PathBuf,
    pub obs: PeerStatus,
    pub limits: Limits,
}

#[derive(Clone, Debug)]
pub struct Evidence {
    pub legacy_file: PathBuf,
    pub legacy: Legacy,
    /// nfsha records present on this pool (absent ones are left out).
    pub records: Vec<Seen>,
    /// Where the peer was just judged alive on another pool, if anywhere.
    pub alive_elsewhere: Option<String>,
}

/// Judge a host on the stock script: its decimal time against `-t`.
pub fn legacy_answer(file: &std::path::Path, legacy: &Legacy, now_s: i64, max_s: u64) -> Answer {
    let hb = match legacy {
        Legacy::Missing => return Answer::Unknown(format!("no heartbeat file {}", file.display())),
        Legacy::Bad(why) => return Answer::Unknown(format!("{}: {why}", file.display())),
        Legacy::Time(t) => *t,
    };
    if hb > now_s + FUTURE_TOLERANCE_S {
        return Answer::Unknown(format!(
            "{} is {}s in the future: the clocks disagree, its age means nothing",
            file.display(),
            hb - now_s
        ));
    }
    let age = (now_s - hb).max(0) as u64;
    if age > max_s {
        Answer::Dead {
            file: file.display().to_string(),
            age_s: age,
            max_s,
        }
    } else {
        Answer::Alive
    }
}

/// The answer for the evidence at `now_ms` (this host's CLOCK_BOOTTIME) and
/// `now_s` (its wall clock, for stock peers only).
pub fn decide(e: &Evidence, now_ms: u64, now_s: i64, max_s: u64) -> Answer {
    let judged: Vec<(Verdict, String, &Seen)> = e
        .records
        .iter()
        .map(|s| {
            let (v, why) = judge(&s.obs, now_ms, &s.limits);
            (v, why, s)
        })
        .collect();
    if judged.iter().any(|(v, _, _)| *v == Verdict::Alive) || e.alive_elsewhere.is_some() {
        return Answer::Alive;
    }
    if judged.is_empty() {
        return legacy_answer(&e.legacy_file, &e.legacy, now_s, max_s);
    }
    if judged.iter().all(|(v, _, _)| *v == Verdict::Dead) {
        // Name the record that changed last: the age is the shortest one.
        let (_, _, s) = judged
            .iter()
            .max_by_key(|(_, _, s)| s.obs.last_change_ms)
            .expect("not empty");
        let dead_after_ms = judged
            .iter()
            .map(|(_, _, s)| (s.limits.dead_after.as_millis() as u64).max(s.obs.dead_after_ms))
            .max()
            .unwrap_or(0);
        return Answer::Dead {
            file: s.file.display().to_string(),
            age_s: now_ms.saturating_sub(s.obs.last_change_ms) / 1000,
            max_s: dead_after_ms / 1000,
        };
    }
    let reasons = judged
        .iter()
        .map(|(v, why, s)| format!("{}: {} ({why})", s.file.display(), v.name()))
        .collect::<Vec<_>>()
        .join("; ");
    if judged
        .iter()
        .all(|(v, _, _)| matches!(v, Verdict::Dead | Verdict::NotFenced))
    {
        return Answer::NotFenced {
            host: judged[0].2.obs.host.clone(),
            why: reasons,
        };
    }
    Answer::Unknown(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::check::{empty_observation, observe};
    use crate::heartbeat::fence::FenceAction;
    use crate::heartbeat::record::{Record, WriterState};
    use std::path::Path;
    use std::time::Duration;

    const NOW_S: i64 = 1_800_000_000;

    fn at(age: i64, max_s: u64) -> Answer {
        legacy_answer(
            Path::new("/m/KVMHA/hb-h"),
            &Legacy::Time(NOW_S - age),
            NOW_S,
            max_s,
        )
    }

    #[test]
    fn cloudstacks_age_boundary_60_alive_61_dead() {
        assert_eq!(at(60, 60), Answer::Alive);
        assert_eq!(
            at(61, 60),
            Answer::Dead {
                file: "/m/KVMHA/hb-h".into(),
                age_s: 61,
                max_s: 60
            }
        );
        assert_eq!(at(0, 60), Answer::Alive);
        assert_eq!(
            at(-FUTURE_TOLERANCE_S, 60),
            Answer::Alive,
            "jitter is not skew"
        );
        // Never wrapped modulo 256, as `return $diff` in the stock script is.
        for age in [256, 300, 512] {
            assert!(matches!(at(age, 60), Answer::Dead { age_s, .. } if age_s == age as u64));
        }
    }

    #[test]
    fn missing_garbage_and_future_are_unknown_never_alive() {
        let f = Path::new("/m/KVMHA/hb-h");
        assert!(
            matches!(legacy_answer(f, &Legacy::Missing, NOW_S, 60), Answer::Unknown(w) if w.contains("no heartbeat file"))
        );
        assert!(matches!(
            legacy_answer(f, &Legacy::Bad("x".into()), NOW_S, 60),
            Answer::Unknown(_)
        ));
        assert!(
            matches!(at(-FUTURE_TOLERANCE_S - 1, 60), Answer::Unknown(w) if w.contains("6s in the future"))
        );
    }

    fn rec(seq: u64, dead_after_s: u64, fa: FenceAction, state: WriterState) -> Record {
        Record {
            host: "10.0.0.2".into(),
            generation: 7,
            seq,
            mono_ms: 0,
            wall_ms: 0,
            interval_ms: 1000,
            io_timeout_ms: 1000,
            dead_after_ms: dead_after_s * 1000,
            fence_action: fa,
            state,
            failing_ms: 0,
        }
    }

    const L: Limits = Limits {
        dead_after: Duration::from_secs(10),
        interval: Duration::from_secs(1),
        io_timeout: Duration::from_secs(1),
    };

    /// Seen changing at `changed_ms`, last read at `read_ms`.
    fn seen(file: &str, changed_ms: u64, read_ms: u64, dead_after_s: u64, fa: FenceAction) -> Seen {
        let mut o = empty_observation("10.0.0.2", 0);
        observe(&mut o, &rec(1, dead_after_s, fa, WriterState::Ok), 0);
        observe(
            &mut o,
            &rec(2, dead_after_s, fa, WriterState::Ok),
            changed_ms,
        );
        observe(&mut o, &rec(2, dead_after_s, fa, WriterState::Ok), read_ms);
        Seen {
            file: file.into(),
            obs: o,
            limits: L,
        }
    }

    fn ev(records: Vec<Seen>) -> Evidence {
        Evidence {
            legacy_file: "/m/KVMHA/hb-10.0.0.2".into(),
            legacy: Legacy::Time(NOW_S),
            records,
            alive_elsewhere: None,
        }
    }

    #[test]
    fn records_are_judged_by_change_not_by_the_fresh_decimal_time() {
        let r = FenceAction::Reboot;
        // A fresh decimal time does not make a stale record alive.
        let e = ev(vec![seen(
            "/m/KVMHA/nfsha-hb-10.0.0.2",
            1000,
            12_000,
            10,
            r,
        )]);
        assert!(matches!(
            decide(&e, 12_000, NOW_S, 60),
            Answer::Dead {
                age_s: 11,
                max_s: 10,
                ..
            }
        ));
        // Dead needs every record dead: the daemon's changed recently.
        let e = ev(vec![
            seen("/m/KVMHA/nfsha-hb-10.0.0.2", 1000, 12_000, 10, r),
            seen("/m/.nfsha/hb/10.0.0.2", 11_500, 12_000, 10, r),
        ]);
        assert_eq!(decide(&e, 12_000, NOW_S, 60), Answer::Alive);
        let e = ev(vec![
            seen("/m/KVMHA/nfsha-hb-10.0.0.2", 1000, 30_000, 10, r),
            seen("/m/.nfsha/hb/10.0.0.2", 5000, 14_000, 10, r),
        ]);
        // The daemon's record is stale but not yet confirmed by a fresh read.
        assert!(matches!(decide(&e, 30_000, NOW_S, 60), Answer::Unknown(_)));
        let e = ev(vec![
            seen("/m/KVMHA/nfsha-hb-10.0.0.2", 1000, 30_000, 20, r),
            seen("/m/.nfsha/hb/10.0.0.2", 5000, 30_000, 10, r),
        ]);
        // Dead: named after the record that changed last, with the larger dead_after.
        assert_eq!(
            decide(&e, 30_000, NOW_S, 60),
            Answer::Dead {
                file: "/m/.nfsha/hb/10.0.0.2".into(),
                age_s: 25,
                max_s: 20
            }
        );
        let mut e = ev(vec![seen(
            "/m/KVMHA/nfsha-hb-10.0.0.2",
            1000,
            30_000,
            10,
            r,
        )]);
        e.alive_elsewhere = Some("/mnt/other".into());
        assert_eq!(decide(&e, 30_000, NOW_S, 60), Answer::Alive);
    }

    #[test]
    fn a_writer_that_does_not_fence_is_not_fenced_never_dead() {
        let e = ev(vec![seen(
            "/m/KVMHA/nfsha-hb-10.0.0.2",
            1000,
            30_000,
            10,
            FenceAction::LogOnly,
        )]);
        let a = decide(&e, 30_000, NOW_S, 60);
        assert!(
            matches!(&a, Answer::NotFenced { host, .. } if host == "10.0.0.2"),
            "{a:?}"
        );
        let e = ev(vec![
            seen(
                "/m/KVMHA/nfsha-hb-10.0.0.2",
                1000,
                30_000,
                10,
                FenceAction::LogOnly,
            ),
            seen(
                "/m/.nfsha/hb/10.0.0.2",
                1000,
                30_000,
                10,
                FenceAction::Reboot,
            ),
        ]);
        assert!(matches!(
            decide(&e, 30_000, NOW_S, 60),
            Answer::NotFenced { .. }
        ));
    }

    #[test]
    fn without_nfsha_records_the_stock_rule_applies() {
        let mut e = ev(vec![]);
        e.legacy = Legacy::Time(NOW_S - 61);
        assert!(matches!(
            decide(&e, 0, NOW_S, 60),
            Answer::Dead { age_s: 61, .. }
        ));
        e.legacy = Legacy::Missing;
        assert!(matches!(decide(&e, 0, NOW_S, 60), Answer::Unknown(_)));
    }
}
