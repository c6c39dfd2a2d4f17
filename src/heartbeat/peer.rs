//! Judging a peer from what was read of its record, without synchronised
//! clocks: a peer is alive when its (generation, seq) is seen to change,
//! dead when a fresh read shows no change for `dead_after` — both measured on
//! this host's CLOCK_BOOTTIME. The writer's wall time is shown as skew and
//! never decides anything.
//!
//! Missing, unreadable, corrupt, foreign and future-format records are
//! `unknown`, never `alive`; so is a host whose record two writers renew
//! (its generation alternates: a copied `host_id`). A stale record from a
//! writer that does not fence itself is `not-fenced`: its VMs must not be
//! restarted elsewhere.
//!
//! Pure: every function takes the time it should judge at.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::fence::FenceAction;
use super::lease_area::{slots_of, Slot};
use super::record::{Record, WriterState};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub dead_after: Duration,
    pub interval: Duration,
    pub io_timeout: Duration,
}

/// What this host has seen of one peer's record (kept by the daemon in its
/// status, and by `check` between runs).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
    pub seq: u64,
    /// How many times (generation, seq) was seen to change: 0 means no
    /// evidence of life yet, however recent the first read.
    #[serde(default)]
    pub changes: u64,
    /// CLOCK_BOOTTIME (ms, this host) when the current (generation, seq) was first seen.
    pub last_change_ms: u64,
    /// CLOCK_BOOTTIME (ms, this host) of the last successful read of the record.
    pub last_read_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence_action: Option<FenceAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_state: Option<String>,
    pub dead_after_ms: u64,
    pub interval_ms: u64,
    pub io_timeout_ms: u64,
    /// Writer's wall clock minus ours, estimated when a change is seen (the
    /// record was written between the previous read and that one). Display only.
    pub wall_skew_ms: i64,
    /// How far off that estimate may be (the time between those two reads).
    #[serde(default)]
    pub skew_uncertainty_ms: u64,
    /// The generation before the current one: seeing it come back means two
    /// writers renew this host's record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_generation: Option<String>,
    /// When two writers were last seen to renew this record (CLOCK_BOOTTIME ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_ms: Option<u64>,
    /// Set when the last read of this record failed its checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PeerStatus {
    /// Nothing seen yet; the watch starts at `now_ms`.
    pub fn new(host: &str, now_ms: u64) -> PeerStatus {
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
            skew_uncertainty_ms: 0,
            prev_generation: None,
            conflict_ms: None,
            error: None,
        }
    }

    /// Fold a valid record of this peer, read at `now_ms` (wall clock
    /// `wall_now_ms`). `gen` is the identity of the writer's run: any change
    /// of it or of the record's seq is a sign of life.
    pub fn observe(&mut self, gen: String, rec: &Record, now_ms: u64, wall_now_ms: i64) {
        match &self.generation {
            None => self.last_change_ms = now_ms,
            Some(cur) if *cur != gen || self.seq != rec.seq => {
                if *cur != gen {
                    if self.prev_generation.as_deref() == Some(gen.as_str()) {
                        self.conflict_ms = Some(now_ms);
                    }
                    self.prev_generation = Some(cur.clone());
                }
                self.last_change_ms = now_ms;
                self.changes += 1;
                // Written since the previous read: that bounds the skew estimate.
                self.wall_skew_ms = rec.wall_ms - wall_now_ms;
                self.skew_uncertainty_ms = now_ms.saturating_sub(self.last_read_ms);
            }
            Some(_) => {}
        }
        self.generation = Some(gen);
        self.seq = rec.seq;
        self.last_read_ms = now_ms;
        self.fence_action = Some(rec.fence_action);
        self.writer_state = Some(rec.state.name().into());
        self.dead_after_ms = rec.dead_after_ms;
        self.interval_ms = rec.interval_ms;
        self.io_timeout_ms = rec.io_timeout_ms;
        self.error = None;
    }

    /// Fold a read of a lease area: this peer's slot, if exactly one slot
    /// names it. Anything else sets the error only (never a change).
    pub fn observe_area(&mut self, slots: &[Slot], now_ms: u64, wall_now_ms: i64) {
        match slots_of(slots, &self.host).as_slice() {
            [i] => {
                if let Slot::Record(r) = &slots[*i] {
                    self.observe(format!("{:016x}", r.generation), r, now_ms, wall_now_ms);
                }
            }
            [] => self.error = Some(format!("no record of {} in the lease area", self.host)),
            many => {
                self.error = Some(format!(
                    "{} is named by {} slots ({many:?}): two hosts use that host_id",
                    self.host,
                    many.len()
                ))
            }
        }
    }
}

/// Judge an observation at `now_ms`. The whole decision is here.
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
    if let Some(c) = o
        .conflict_ms
        .filter(|c| now_ms.saturating_sub(*c) < dead_after)
    {
        return (
            Verdict::Unknown,
            format!(
                "two writers renew the record of {} (generations {} and {} alternate, last {} ago): two hosts share that host_id",
                o.host,
                o.generation.as_deref().unwrap_or("?"),
                o.prev_generation.as_deref().unwrap_or("?"),
                secs(now_ms.saturating_sub(c))
            ),
        );
    }
    let alive_window = 2 * (l.interval.as_millis() as u64).max(o.interval_ms)
        + (l.io_timeout.as_millis() as u64).max(o.io_timeout_ms);
    let since = now_ms.saturating_sub(o.last_change_ms);
    let skew_ms = o.wall_skew_ms.unsigned_abs();
    let skew = if o.changes > 0 && skew_ms > o.skew_uncertainty_ms + 2000 {
        format!(
            "; writer's wall clock differs by about {:+.0}s (±{:.0}s; ignored)",
            o.wall_skew_ms as f64 / 1000.0,
            o.skew_uncertainty_ms as f64 / 1000.0
        )
    } else {
        String::new()
    };
    let writer_state = o.writer_state.as_deref().unwrap_or("?");
    let self_fences = o.fence_action.is_some_and(|a| a.fences())
        && writer_state != WriterState::NotFenced.name()
        && writer_state != WriterState::Stopped.name();
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
            let why = if writer_state == WriterState::Stopped.name() {
                "its heartbeat daemon was stopped cleanly".to_string()
            } else {
                format!(
                    "the writer does not fence itself (fence_action {}, state {writer_state})",
                    o.fence_action.map(|a| a.name()).unwrap_or("?")
                )
            };
            return (
                Verdict::NotFenced,
                format!(
                    "seq {} unchanged for {} but {why}: its VMs may still run; do NOT restart them elsewhere{skew}",
                    o.seq,
                    secs(since),
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

/// Combine per-storage answers: alive anywhere is alive; not fenced anywhere
/// is not fenced; dead needs dead everywhere.
pub fn combine(vs: &[Verdict]) -> Verdict {
    let any = |v| vs.contains(&v);
    if vs.is_empty() {
        Verdict::Unknown
    } else if any(Verdict::Alive) {
        Verdict::Alive
    } else if any(Verdict::NotFenced) {
        Verdict::NotFenced
    } else if vs.iter().all(|v| *v == Verdict::Dead) {
        Verdict::Dead
    } else {
        Verdict::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::record::SLOT_SIZE;

    const WALL: i64 = 1_800_000_000_000;

    fn rec(seq: u64, gen: u64, fa: FenceAction, state: WriterState) -> Record {
        Record {
            host: "kvm2".into(),
            generation: gen,
            seq,
            mono_ms: 1000 * seq,
            wall_ms: WALL,
            interval_ms: 1000,
            io_timeout_ms: 1000,
            dead_after_ms: 20_000,
            fence_action: fa,
            state,
            failing_ms: 0,
        }
    }

    fn see(o: &mut PeerStatus, seq: u64, at: u64) {
        o.observe(
            "7".into(),
            &rec(seq, 7, FenceAction::Reboot, WriterState::Ok),
            at,
            WALL,
        );
    }

    const L: Limits = Limits {
        dead_after: Duration::from_secs(10),
        interval: Duration::from_secs(1),
        io_timeout: Duration::from_secs(1),
    };

    #[test]
    fn one_read_is_no_evidence_a_change_is() {
        let mut o = PeerStatus::new("kvm2", 0);
        see(&mut o, 1, 1000);
        assert_eq!(judge(&o, 1000, &L).0, Verdict::Unknown, "one read");
        see(&mut o, 1, 1500);
        assert_eq!(judge(&o, 1500, &L).0, Verdict::Unknown, "no change");
        see(&mut o, 2, 2000);
        assert_eq!(judge(&o, 2000, &L).0, Verdict::Alive);
        // The alive window: 2 intervals + io_timeout = 3 s after the change.
        assert_eq!(
            judge(&o, 5000, &L).0,
            Verdict::Alive,
            "at the window's edge"
        );
        assert_eq!(judge(&o, 5001, &L).0, Verdict::Unknown, "past it");
    }

    #[test]
    fn dead_needs_the_larger_dead_after_and_a_fresh_read() {
        let mut o = PeerStatus::new("kvm2", 0);
        see(&mut o, 1, 1000);
        see(&mut o, 2, 2000);
        // The writer promises 20 s, the reader's own is 10 s: 20 s applies.
        see(&mut o, 2, 15_000);
        assert_eq!(judge(&o, 15_000, &L).0, Verdict::Unknown);
        assert_eq!(
            judge(&o, 30_000, &L).0,
            Verdict::Unknown,
            "no read after the window"
        );
        see(&mut o, 2, 21_999);
        assert_eq!(judge(&o, 21_999, &L).0, Verdict::Unknown, "1 ms short");
        see(&mut o, 2, 22_000);
        let (v, why) = judge(&o, 22_000, &L);
        assert_eq!(v, Verdict::Dead, "{why}");
        assert!(
            why.contains("unchanged for 20.0s (dead_after 20.0s)"),
            "{why}"
        );
        // The reader's own dead_after when it is the larger.
        let long = Limits {
            dead_after: Duration::from_secs(30),
            ..L
        };
        assert_eq!(judge(&o, 22_000, &long).0, Verdict::Unknown);
    }

    #[test]
    fn writers_that_do_not_fence_are_not_fenced_never_dead() {
        for (fa, st) in [
            (FenceAction::LogOnly, WriterState::Ok),
            (FenceAction::RestartAgent, WriterState::Ok),
            (FenceAction::DestroyPoolVms, WriterState::Ok),
            (FenceAction::Reboot, WriterState::NotFenced),
            (FenceAction::Reboot, WriterState::Stopped),
        ] {
            let mut o = PeerStatus::new("kvm2", 0);
            o.observe("7".into(), &rec(1, 7, fa, st), 0, WALL);
            o.observe("7".into(), &rec(1, 7, fa, st), 25_000, WALL);
            let (v, why) = judge(&o, 25_000, &L);
            assert_eq!(v, Verdict::NotFenced, "{fa:?} {st:?}: {why}");
            assert!(why.contains("do NOT restart"), "{why}");
        }
        let mut o = PeerStatus::new("kvm2", 0);
        let r = rec(1, 7, FenceAction::GracefulReboot, WriterState::Fencing);
        o.observe("7".into(), &r, 0, WALL);
        o.observe("7".into(), &r, 25_000, WALL);
        assert_eq!(judge(&o, 25_000, &L).0, Verdict::Dead);
    }

    #[test]
    fn errors_are_never_alive() {
        let mut o = PeerStatus::new("kvm2", 0);
        o.error = Some("corrupt record: checksum mismatch".into());
        assert_eq!(judge(&o, 100_000, &L).0, Verdict::Unknown);
        see(&mut o, 1, 0);
        see(&mut o, 2, 500);
        o.error = Some("cannot read".into());
        let (v, why) = judge(&o, 600, &L);
        assert_eq!(v, Verdict::Unknown);
        assert!(why.starts_with("last read failed: cannot read"), "{why}");
    }

    #[test]
    fn alternating_generations_are_two_writers() {
        let mut o = PeerStatus::new("kvm2", 0);
        let a = rec(5, 0xa, FenceAction::Reboot, WriterState::Ok);
        let b = rec(9, 0xb, FenceAction::Reboot, WriterState::Ok);
        o.observe("a".into(), &a, 0, WALL);
        o.observe("b".into(), &b, 1000, WALL);
        assert_eq!(
            judge(&o, 1000, &L).0,
            Verdict::Alive,
            "a restart is a change"
        );
        o.observe("a".into(), &a, 2000, WALL);
        let (v, why) = judge(&o, 2000, &L);
        assert_eq!(v, Verdict::Unknown);
        assert!(
            why.contains("two writers renew the record of kvm2"),
            "{why}"
        );
        // Still unknown while the conflict is recent, even when stale.
        assert_eq!(judge(&o, 21_000, &L).0, Verdict::Unknown);
        o.observe("a".into(), &a, 23_000, WALL);
        assert_eq!(
            judge(&o, 23_000, &L).0,
            Verdict::Dead,
            "conflict over, then stale"
        );
    }

    #[test]
    fn skew_is_estimated_from_changes_only() {
        let mut o = PeerStatus::new("kvm2", 0);
        let mut r = rec(1, 7, FenceAction::Reboot, WriterState::Ok);
        r.wall_ms = WALL - 49_000;
        o.observe("7".into(), &r, 1000, WALL);
        r.seq = 2;
        r.wall_ms = WALL + 3_600_000;
        o.observe("7".into(), &r, 1500, WALL);
        let (_, why) = judge(&o, 1500, &L);
        assert!(
            why.contains("differs by about +3600s (±0s; ignored)"),
            "{why}"
        );
        // An old record read once says nothing about clocks.
        let mut o = PeerStatus::new("kvm2", 0);
        let mut r = rec(1, 7, FenceAction::Reboot, WriterState::Ok);
        r.wall_ms = WALL - 49_000;
        o.observe("7".into(), &r, 1000, WALL);
        assert!(!judge(&o, 1000, &L).1.contains("differs"));
    }

    #[test]
    fn areas_name_each_host_once() {
        let slot = |host: &str, gen| {
            let mut r = rec(1, gen, FenceAction::Reboot, WriterState::Ok);
            r.host = host.into();
            r.encode_slot().unwrap()
        };
        let mut bytes = [slot("kvm1", 1), slot("kvm2", 2)].concat();
        let mut o = PeerStatus::new("kvm2", 0);
        o.observe_area(&super::super::lease_area::parse(&bytes), 10, WALL);
        assert_eq!(
            (o.error.as_deref(), o.generation.as_deref()),
            (None, Some("0000000000000002"))
        );
        let mut m = PeerStatus::new("kvm3", 0);
        m.observe_area(&super::super::lease_area::parse(&bytes), 10, WALL);
        assert!(m.error.as_deref().unwrap().contains("no record of kvm3"));
        bytes.extend(slot("kvm2", 3));
        assert_eq!(bytes.len(), 3 * SLOT_SIZE);
        o.observe_area(&super::super::lease_area::parse(&bytes), 20, WALL);
        assert!(
            o.error
                .as_deref()
                .unwrap()
                .contains("named by 2 slots ([1, 2])"),
            "{:?}",
            o.error
        );
        assert_eq!(judge(&o, 20, &L).0, Verdict::Unknown);
    }

    #[test]
    fn combining_storages() {
        use Verdict::*;
        assert_eq!(combine(&[Dead, Alive]), Alive);
        assert_eq!(combine(&[Dead, NotFenced]), NotFenced);
        assert_eq!(combine(&[Dead, Unknown]), Unknown);
        assert_eq!(combine(&[Dead, Dead]), Dead);
        assert_eq!(combine(&[]), Unknown);
    }
}
