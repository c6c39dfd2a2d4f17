//! Where the running nfsd is in its NFSv4 grace period, judged from what the
//! kernel exposes. Pure: the observations and `now` go in, a verdict comes
//! out, so every case is tested with made-up times.
//!
//! What Linux 6.1 does (`fs/nfsd/nfs4state.c`): when nfsd starts it begins a
//! grace period of `nfsv4gracetime` seconds (unless no client may reclaim),
//! and its laundromat runs at the end of it. Grace then ends, unless some
//! client reclaimed since the last look: then the laundromat looks again every
//! second, but never past two lease times after the start. Grace ends early
//! once every client allowed to reclaim has sent RECLAIM_COMPLETE.
//! `/proc/fs/nfsd/v4_end_grace` reads `Y` once grace is over, `N` before.

use std::time::Duration;

use super::kmsg::{Event, Kind};

/// What is known about the running nfsd.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// At least one nfsd thread runs.
    pub running: bool,
    /// `nfsv4gracetime` and `nfsv4leasetime` (seconds) in effect.
    pub grace: Option<u64>,
    pub lease: Option<u64>,
    /// `v4_end_grace`: `Some(true)` once grace is over.
    pub ended: Option<bool>,
    /// How long ago nfsd started (its oldest kernel thread, on the boot
    /// clock), when known.
    pub started_ago: Option<Duration>,
    /// The kernel's grace messages for this nfsd's network namespace, oldest
    /// first, with the kernel log's clock now (to tell their age).
    pub log: Option<(Vec<Event>, Duration)>,
}

/// Where the grace period stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// nfsd does not run: no grace period.
    NotRunning,
    /// In grace: clients may reclaim, new state is refused.
    InGrace,
    /// Past the grace time, kept on because clients are still reclaiming
    /// (at most until two lease times after the start).
    Extended,
    /// Over, at or after the grace time.
    Ended,
    /// Over before the grace time: every client allowed to reclaim did.
    EndedEarly,
    /// There was none: no client was allowed to reclaim.
    Skipped,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::NotRunning => "not-running",
            State::InGrace => "in-grace",
            State::Extended => "extended",
            State::Ended => "ended",
            State::EndedEarly => "ended-early",
            State::Skipped => "skipped",
        }
    }
}

/// The verdict, with how each figure was found.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// `None` when even the state cannot be told (the reason is in `why`).
    pub state: Option<State>,
    /// Seconds of grace left at the grace time (0 once past it or over).
    pub remaining: Option<f64>,
    /// Seconds until grace ends at the latest, if clients keep reclaiming
    /// (only while in grace or extended, and only when it can run past the
    /// grace time).
    pub latest_end_in: Option<f64>,
    /// Seconds since nfsd (and so grace) started.
    pub started_ago: Option<f64>,
    /// Seconds after the start at which grace ended early, from the kernel's
    /// message.
    pub ended_after: Option<f64>,
    /// The kernel messages the verdict used.
    pub messages: Vec<String>,
    /// What could not be told, and why.
    pub why: Vec<String>,
}

/// How far the kernel log's clock may drift from the boot clock over `age`
/// before a message no longer counts as this start's: the log uses the
/// scheduler clock, which NTP does not steer (up to 500 ppm apart).
fn tolerance(age: Duration) -> Duration {
    Duration::from_secs(3) + age / 1000
}

/// The messages of the current nfsd start: from its `Started`/`Skipped`
/// message on. `None` when the log holds none that fits `started_ago`.
fn this_start(log: &[Event], log_now: Duration, started_ago: Option<Duration>) -> Option<&[Event]> {
    let i = log
        .iter()
        .rposition(|e| matches!(e.kind, Kind::Started { .. } | Kind::Skipped))?;
    let age = log_now.saturating_sub(log[i].at);
    if let Some(ago) = started_ago {
        let diff = if age > ago { age - ago } else { ago - age };
        if diff > tolerance(age.max(ago)) {
            // The message is of an earlier start; this one's was overwritten.
            return None;
        }
    }
    Some(&log[i..])
}

/// Judge the grace period from `o`.
pub fn judge(o: &Observed) -> Verdict {
    let mut v = Verdict {
        state: None,
        remaining: None,
        latest_end_in: None,
        started_ago: o.started_ago.map(|d| d.as_secs_f64()),
        ended_after: None,
        messages: Vec::new(),
        why: Vec::new(),
    };
    if !o.running {
        v.state = Some(State::NotRunning);
        v.remaining = Some(0.0);
        v.started_ago = None;
        return v;
    }
    let events = match &o.log {
        Some((log, now)) => {
            let ev = this_start(log, *now, o.started_ago);
            if ev.is_none() && !log.is_empty() {
                v.why
                    .push("the kernel log no longer holds this start's grace message".to_string());
            }
            ev
        }
        None => None,
    };
    if let Some(ev) = events {
        v.messages = ev.iter().map(|e| e.text.clone()).collect();
        if v.started_ago.is_none() {
            // No nfsd thread seen (e.g. in another namespace): the log dates it.
            if let Some((_, now)) = &o.log {
                v.started_ago = Some(now.saturating_sub(ev[0].at).as_secs_f64());
            }
        }
        if ev[0].kind == Kind::Skipped {
            v.state = Some(State::Skipped);
            v.remaining = Some(0.0);
            return v;
        }
        if let Some(e) = ev.iter().find(|e| e.kind == Kind::AllReclaimed) {
            v.ended_after = Some(e.at.saturating_sub(ev[0].at).as_secs_f64());
        }
    }
    let grace = o
        .grace
        .or_else(|| match events.map(|e| e[0].kind) {
            Some(Kind::Started { seconds }) => Some(seconds),
            _ => None,
        })
        .map(|g| g as f64);
    let double_lease = o.lease.map(|l| 2.0 * l as f64);
    match o.ended {
        Some(true) => {
            v.remaining = Some(0.0);
            let early = v.ended_after.is_some()
                || matches!((v.started_ago, grace), (Some(a), Some(g)) if a < g);
            v.state = Some(if early {
                State::EndedEarly
            } else {
                State::Ended
            });
        }
        Some(false) => match (v.started_ago, grace) {
            (Some(ago), Some(g)) => {
                let left = g - ago;
                v.state = Some(if left > 0.0 {
                    State::InGrace
                } else {
                    State::Extended
                });
                v.remaining = Some(left.max(0.0));
                // The laundromat keeps grace on while clients still reclaim,
                // never past two lease times after the start.
                if let Some(dl) = double_lease.filter(|dl| *dl > g) {
                    v.latest_end_in = Some((dl - ago).max(0.0));
                }
            }
            _ => {
                v.state = Some(State::InGrace);
                v.why.push(
                    "when nfsd started is not known, so the grace left is not either".to_string(),
                );
            }
        },
        None => match (v.started_ago, grace) {
            // No v4_end_grace (older kernels): from the time alone. Grace
            // may have ended early, which only the file would say.
            (Some(ago), Some(g)) if ago < g => {
                v.state = Some(State::InGrace);
                v.remaining = Some(g - ago);
                v.why
                    .push("the kernel has no v4_end_grace: grace may have ended early".to_string());
            }
            (Some(_), Some(_)) => {
                v.state = Some(if v.ended_after.is_some() {
                    State::EndedEarly
                } else {
                    State::Ended
                });
                v.remaining = Some(0.0);
            }
            _ => v
                .why
                .push("neither v4_end_grace nor the start time of nfsd can be read".to_string()),
        },
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn ev(at: u64, kind: Kind) -> Event {
        Event {
            at: secs(at),
            net: 0xf000_0000,
            kind,
            text: format!("{kind:?}"),
        }
    }

    fn running(grace: u64, lease: u64, ended: bool, ago: u64) -> Observed {
        Observed {
            running: true,
            grace: Some(grace),
            lease: Some(lease),
            ended: Some(ended),
            started_ago: Some(secs(ago)),
            log: None,
        }
    }

    #[test]
    fn not_running_has_no_grace() {
        let v = judge(&Observed::default());
        assert_eq!(v.state, Some(State::NotRunning));
        assert_eq!(v.remaining, Some(0.0));
    }

    #[test]
    fn in_grace_counts_down_from_the_start() {
        let v = judge(&running(90, 90, false, 30));
        assert_eq!(v.state, Some(State::InGrace));
        assert_eq!(v.remaining, Some(60.0));
        // 2 × lease = 180 s > 90 s of grace: reclaiming clients may keep it on.
        assert_eq!(v.latest_end_in, Some(150.0));
        let v = judge(&running(90, 90, false, 89));
        assert_eq!(v.remaining, Some(1.0));
    }

    #[test]
    fn grace_longer_than_two_leases_cannot_be_extended() {
        let v = judge(&running(120, 45, false, 20));
        assert_eq!(v.remaining, Some(100.0));
        assert_eq!(v.latest_end_in, None);
    }

    #[test]
    fn past_the_grace_time_and_not_over_is_extended() {
        let v = judge(&running(90, 90, false, 95));
        assert_eq!(v.state, Some(State::Extended));
        assert_eq!(v.remaining, Some(0.0));
        assert_eq!(v.latest_end_in, Some(85.0));
    }

    #[test]
    fn over_before_the_grace_time_is_an_early_end() {
        let v = judge(&running(90, 90, true, 10));
        assert_eq!(v.state, Some(State::EndedEarly));
        assert_eq!(v.remaining, Some(0.0));
        let v = judge(&running(90, 90, true, 200));
        assert_eq!(v.state, Some(State::Ended));
    }

    #[test]
    fn the_kernel_messages_date_the_early_end() {
        let mut o = running(90, 90, true, 100);
        o.log = Some((
            vec![
                ev(500, Kind::Started { seconds: 60 }),
                ev(1000, Kind::Started { seconds: 90 }),
                ev(1004, Kind::AllReclaimed),
            ],
            secs(1100),
        ));
        let v = judge(&o);
        assert_eq!(v.state, Some(State::EndedEarly));
        assert_eq!(v.ended_after, Some(4.0));
        assert_eq!(v.messages.len(), 2, "{:?}", v.messages);
    }

    #[test]
    fn a_message_of_an_earlier_start_is_not_used() {
        // nfsd started 20 s ago; the only message is 600 s old (this start's
        // was overwritten in the ring buffer).
        let mut o = running(90, 90, true, 20);
        o.log = Some((
            vec![
                ev(400, Kind::Started { seconds: 90 }),
                ev(401, Kind::AllReclaimed),
            ],
            secs(1000),
        ));
        let v = judge(&o);
        assert_eq!(v.ended_after, None);
        assert!(v.messages.is_empty());
        assert_eq!(v.state, Some(State::EndedEarly), "from v4_end_grace alone");
        assert!(v.why[0].contains("no longer holds"));
    }

    #[test]
    fn a_skipped_grace_period() {
        let mut o = running(90, 90, true, 5);
        o.log = Some((vec![ev(995, Kind::Skipped)], secs(1000)));
        let v = judge(&o);
        assert_eq!(v.state, Some(State::Skipped));
    }

    #[test]
    fn the_log_dates_a_start_no_thread_shows() {
        let mut o = running(90, 90, false, 0);
        o.started_ago = None;
        o.log = Some((vec![ev(970, Kind::Started { seconds: 90 })], secs(1000)));
        let v = judge(&o);
        assert_eq!(v.state, Some(State::InGrace));
        assert_eq!(v.remaining, Some(60.0));
    }

    #[test]
    fn without_a_start_time_the_remaining_grace_is_unknown() {
        let mut o = running(90, 90, false, 0);
        o.started_ago = None;
        let v = judge(&o);
        assert_eq!(v.state, Some(State::InGrace));
        assert_eq!(v.remaining, None);
        assert!(!v.why.is_empty());
    }

    #[test]
    fn without_v4_end_grace_the_time_decides() {
        let mut o = running(90, 90, false, 30);
        o.ended = None;
        let v = judge(&o);
        assert_eq!(v.state, Some(State::InGrace));
        assert_eq!(v.remaining, Some(60.0));
        o.started_ago = Some(secs(91));
        assert_eq!(judge(&o).state, Some(State::Ended));
    }
}
