//! The heartbeat daemon's decisions as a pure state machine: given the time
//! and what happened (an I/O round answered, a fence step finished, a stop
//! was asked for), it says what to do (start a round, run a fence step, pet
//! the watchdog, log, exit). No clock, no I/O: [`super::daemon`] is the shell
//! that carries the actions out, and the tests drive it with a virtual clock.
//!
//! The rules:
//! - A round renews this host's slot in the storage's lease area and reads
//!   the whole area. It counts as failed at `io_timeout`; the helper that
//!   runs it is never killed (it holds the open the NFS client reclaims
//!   after a server failover), and while it is stuck no other round starts
//!   on that storage (each interval is counted as `blocked`). A round that
//!   answers late and succeeded is a renewal at the time it started.
//! - The fence decision comes when no renewal on a `fence = true` storage has
//!   succeeded for `fence_after`, counted from the *start* of the last
//!   successful one. A storage that has never renewed since boot does not
//!   fence (a pool not mounted yet at boot cannot cause a reboot loop); a
//!   daemon restarted during the same boot continues from the last success
//!   its predecessor published.
//! - What fails the renewals does not matter to the decision, only that
//!   they fail: peers see this host's record stop changing either way. The
//!   decision names the cause (storage error, timeout, not mounted, or a
//!   local fault such as a helper that cannot be started).
//! - A decision that may reboot is never withdrawn, not when renewals
//!   recover and not when a stop is asked for (the stop is held until the
//!   fence is done). log-only and restart-agent decisions are withdrawn once
//!   renewals succeed again.
//! - The watchdog is petted only while no fencing storage is past
//!   `fence_after` and no fence has reached a reboot.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use super::config::{Config, Storage};
use super::fence::{FenceAction, Scope};
use super::lease_area::{self, check_own, choose, Choice, Slot, SlotCheck};
use super::peer::PeerStatus;
use super::plan::{Plan, PlanSpec, Step, StepResult};
use super::record::{Record, WriterState};
use super::status::{FenceStatus, HistoryEntry, Status, StorageStatus, Totals};
use crate::formats::duration;

/// What the machine is built from (the configuration's relevant part).
#[derive(Clone, Debug)]
pub struct Settings {
    pub host_id: String,
    pub interval: Duration,
    pub io_timeout: Duration,
    pub fence_after: Duration,
    pub dead_after: Duration,
    pub fence_action: FenceAction,
    pub plan: PlanSpec,
    /// How often to pet the watchdog (`None`: no watchdog).
    pub watchdog_pet: Option<Duration>,
    pub history: usize,
    pub watch_peers: bool,
    pub storages: Vec<Storage>,
}

impl Settings {
    pub fn of(c: &Config) -> Settings {
        Settings {
            host_id: c.host_id.clone(),
            interval: c.interval,
            io_timeout: c.io_timeout,
            fence_after: c.fence_after,
            dead_after: c.dead_after,
            fence_action: c.fence_action,
            plan: c.plan_spec(),
            watchdog_pet: c
                .watchdog
                .as_ref()
                .map(|w| (w.timeout / 3).max(Duration::from_millis(100))),
            history: c.history,
            watch_peers: c.watch_peers,
            storages: c.storages.clone(),
        }
    }
}

/// Where a storage helper is in a round (it says so before each call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoStep {
    Open,
    Read,
    Write,
}

impl IoStep {
    pub fn name(self) -> &'static str {
        match self {
            IoStep::Open => "open",
            IoStep::Read => "read",
            IoStep::Write => "write",
        }
    }
    pub fn parse(s: &str) -> Option<IoStep> {
        [IoStep::Open, IoStep::Read, IoStep::Write]
            .into_iter()
            .find(|x| x.name() == s)
    }
    /// What being stuck in this step means.
    fn stuck_in(self) -> &'static str {
        match self {
            // Linux retries NFS4ERR_GRACE inside the kernel: a refused open
            // shows as a call that does not return, not as an error.
            IoStep::Open => "while opening the lease area: that needs new NFSv4 state, which a server in its grace period refuses until grace ends (or the storage is hung)",
            IoStep::Read => "while reading the lease area (the storage is hung or very slow)",
            IoStep::Write => "while writing this host's slot (the storage is hung or very slow)",
        }
    }
}

/// Why a round failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The storage answered with an error.
    Storage(String),
    /// The mount point is not mounted.
    Unmounted,
    /// This host, not the storage: the helper could not be started or died.
    Local(String),
}

impl Fault {
    fn kind(&self) -> &'static str {
        match self {
            Fault::Storage(_) => "storage",
            Fault::Unmounted => "unmounted",
            Fault::Local(_) => "local",
        }
    }
}

/// What a successful round brought back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundReport {
    /// The bytes of the lease area read.
    pub area: Vec<u8>,
    pub read: Duration,
    /// The write's latency; None when nothing was written (a round that
    /// only read, or a slot another host had taken meanwhile).
    pub write: Option<Duration>,
    pub direct: bool,
    /// This host's wall clock when the answer came (skew display only).
    pub wall_ms: i64,
}

/// Which plan a fence step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PlanKey {
    Host,
    Storage(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Time passed.
    Tick,
    /// The storage's helper is about to make this call.
    Progress { storage: usize, step: IoStep },
    RoundDone {
        storage: usize,
        seq: u64,
        result: Result<RoundReport, Fault>,
    },
    StepDone {
        plan: PlanKey,
        id: usize,
        result: StepResult,
    },
    /// A fence handed over by CloudStack's `-c` (or an operator).
    FenceRequest {
        action: FenceAction,
        mount: Option<PathBuf>,
        cause: String,
        /// The request's escalation (the caller's configuration); `None`:
        /// this daemon's.
        escalate_after: Option<Duration>,
    },
    /// SIGTERM/SIGINT; `system_shutdown` when the whole system is going down.
    Stop { system_shutdown: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Have storage `storage`'s helper read `read_len` bytes of the lease
    /// area and then write `write` (slot, record) if given. `create`: the
    /// area may be created. The shell stamps the record's wall time.
    StartRound {
        storage: usize,
        seq: u64,
        write: Option<(usize, Record)>,
        read_len: usize,
        create: bool,
    },
    Step {
        plan: PlanKey,
        id: usize,
        step: Step,
    },
    PetWatchdog,
    Log {
        level: Level,
        msg: String,
    },
    Exit {
        disarm_watchdog: bool,
    },
}

#[derive(Clone, Debug)]
struct Round {
    seq: u64,
    started: Duration,
    timed_out: bool,
    writes: bool,
    read_len: usize,
    step: Option<IoStep>,
}

#[derive(Clone, Debug)]
struct St {
    cfg: Storage,
    seq: u64,
    slot: Option<usize>,
    lost: Vec<usize>,
    sent_max: Option<u64>,
    /// A write of ours to `slot` succeeded.
    confirmed: bool,
    round: Option<Round>,
    next_due: Duration,
    last_success: Option<Duration>,
    failures: u32,
    totals: Totals,
    history: VecDeque<HistoryEntry>,
    peers: BTreeMap<String, PeerStatus>,
    last_error: Option<String>,
    last_fault: Option<&'static str>,
    conflict: Option<(String, Duration)>,
    conflict_logged: Option<Duration>,
    area_len: usize,
    area_full: bool,
    direct: Option<bool>,
    /// A fail-safe storage without a lease of this host: not renewed.
    no_lease: bool,
    not_fenced_logged: bool,
}

impl St {
    fn since_success(&self, now: Duration) -> Option<Duration> {
        self.last_success.map(|t| now.saturating_sub(t))
    }
    fn push(&mut self, max: usize, e: HistoryEntry) {
        self.history.push_back(e);
        while self.history.len() > max {
            self.history.pop_front();
        }
    }
}

#[derive(Clone, Debug)]
struct Stopping {
    since: Duration,
    /// Rounds writing the final "stopped" record, still to answer.
    final_rounds: BTreeSet<usize>,
    /// Storages this host fences for whose record does not say "stopped"
    /// yet. The daemon may not exit before they do: a stale record saying
    /// "fences itself" is judged dead by peers after `dead_after`, while
    /// this host's VMs run on.
    unconfirmed: BTreeSet<usize>,
    held_logged: bool,
}

pub struct Machine {
    s: Settings,
    generation: u64,
    storages: Vec<St>,
    plans: BTreeMap<PlanKey, Plan>,
    step_log: Vec<String>,
    next_pet: Option<Duration>,
    pets: u64,
    stop_requested: Option<bool>,
    stop_held_logged: bool,
    stopping: Option<Stopping>,
    exited: bool,
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

impl Machine {
    /// A machine starting at `now`. `restored` are the last successful
    /// renewals (CLOCK_BOOTTIME) a predecessor published this boot, by mount.
    pub fn new(
        s: Settings,
        generation: u64,
        now: Duration,
        restored: &BTreeMap<PathBuf, Duration>,
    ) -> Machine {
        let storages = s
            .storages
            .iter()
            .map(|c| St {
                cfg: c.clone(),
                seq: 0,
                slot: None,
                lost: Vec::new(),
                sent_max: None,
                confirmed: false,
                round: None,
                next_due: now,
                last_success: restored.get(&c.mount).copied().filter(|t| *t <= now),
                failures: 0,
                totals: Totals::default(),
                history: VecDeque::new(),
                peers: BTreeMap::new(),
                last_error: None,
                last_fault: None,
                conflict: None,
                conflict_logged: None,
                area_len: 0,
                area_full: false,
                direct: None,
                no_lease: false,
                not_fenced_logged: false,
            })
            .collect();
        Machine {
            next_pet: s.watchdog_pet.map(|_| now),
            s,
            generation,
            storages,
            plans: BTreeMap::new(),
            step_log: Vec::new(),
            pets: 0,
            stop_requested: None,
            stop_held_logged: false,
            stopping: None,
            exited: false,
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn settings(&self) -> &Settings {
        &self.s
    }

    /// Handle `event` at `now`; what to do about it (and about time passing).
    pub fn step(&mut self, now: Duration, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        if self.exited {
            return out;
        }
        match event {
            Event::Tick => {}
            Event::Progress { storage, step } => {
                if let Some(r) = self
                    .storages
                    .get_mut(storage)
                    .and_then(|s| s.round.as_mut())
                {
                    r.step = Some(step);
                }
            }
            Event::RoundDone {
                storage,
                seq,
                result,
            } => self.round_done(storage, seq, result, now, &mut out),
            Event::StepDone { plan, id, result } => {
                let shown = match &result {
                    StepResult::Done => "done".to_string(),
                    StepResult::VmsLeft(v) => format!("VMs still running: {}", v.join(", ")),
                    StepResult::Failed(e) => format!("failed: {e}"),
                };
                self.step_log
                    .push(format!("step {id} of {plan:?}: {shown}"));
                let level = match result {
                    StepResult::Done => Level::Warn,
                    _ => Level::Error,
                };
                out.push(Action::Log {
                    level,
                    msg: format!("fence step {shown}"),
                });
                if let Some(p) = self.plans.get_mut(&plan) {
                    p.finished(id, result, now);
                }
            }
            Event::FenceRequest {
                action,
                mount,
                cause,
                escalate_after,
            } => self.requested(action, mount, cause, escalate_after, now, &mut out),
            Event::Stop { system_shutdown } => {
                if self.stop_requested.is_none() {
                    self.stop_requested = Some(system_shutdown);
                }
            }
        }
        self.timeouts(now, &mut out);
        self.decide(now, &mut out);
        self.run_plans(now, &mut out);
        self.start_rounds(now, &mut out);
        self.pet(now, &mut out);
        self.stop(now, &mut out);
        out
    }

    fn round_done(
        &mut self,
        i: usize,
        seq: u64,
        result: Result<RoundReport, Fault>,
        now: Duration,
        out: &mut Vec<Action>,
    ) {
        let max = self.s.history;
        let Some(st) = self.storages.get_mut(i) else {
            return;
        };
        let Some(round) = st.round.take() else {
            return;
        };
        if round.seq != seq {
            st.round = Some(round);
            return;
        }
        if let Some(stop) = &mut self.stopping {
            stop.final_rounds.remove(&i);
        }
        let late = round.timed_out;
        // A storage the fail-safe mode found, where this host never had a
        // lease (no area, or no slot): not one of its storages.
        if !st.cfg.claim && st.slot.is_none() && st.last_success.is_none() && result.is_err() {
            st.no_lease = true;
            out.push(Action::Log {
                level: Level::Info,
                msg: format!(
                    "storage {}: no lease area of this host there ({}); not renewing (found while running fail-safe)",
                    st.cfg.name,
                    match &result {
                        Err(Fault::Storage(e) | Fault::Local(e)) => e.as_str(),
                        _ => "not mounted",
                    }
                ),
            });
            return;
        }
        match result {
            Err(fault) => {
                let msg = match &fault {
                    Fault::Storage(e) => e.clone(),
                    Fault::Unmounted => format!(
                        "{} is not mounted (nothing is written into the directory underneath)",
                        st.cfg.mount.display()
                    ),
                    Fault::Local(e) => format!("on this host, not the storage: {e}"),
                };
                if late {
                    // Counted as a timeout already: only history says how it ended.
                    st.push(
                        max,
                        entry(round.started, "late-error", None, None, Some(&msg)),
                    );
                } else {
                    st.failures += 1;
                    st.totals.attempts += 1;
                    st.totals.errors += 1;
                    let result = if fault == Fault::Unmounted {
                        "unmounted"
                    } else {
                        "error"
                    };
                    st.push(max, entry(round.started, result, None, None, Some(&msg)));
                    out.push(Action::Log {
                        level: Level::Warn,
                        msg: format!(
                            "storage {}: renewal {} failed ({}): {msg}",
                            st.cfg.name,
                            round.seq,
                            fault.kind()
                        ),
                    });
                }
                st.last_error = Some(msg);
                st.last_fault = Some(fault.kind());
            }
            Ok(rep) => {
                if round.writes && rep.write.is_some() {
                    if let Some(stop) = &mut self.stopping {
                        // Written after the stop was asked for: it says "stopped".
                        if round.started >= stop.since {
                            stop.unconfirmed.remove(&i);
                        }
                    }
                    if st.failures > 0 {
                        out.push(Action::Log {
                            level: Level::Info,
                            msg: format!(
                                "storage {}: renewal succeeded again after {} failure(s){}",
                                st.cfg.name,
                                st.failures,
                                if late { " (a late answer)" } else { "" }
                            ),
                        });
                    }
                    if late {
                        st.totals.late += 1;
                    } else {
                        st.totals.attempts += 1;
                        st.totals.ok += 1;
                    }
                    st.failures = 0;
                    st.last_success = Some(
                        st.last_success
                            .map_or(round.started, |t| t.max(round.started)),
                    );
                    st.last_error = None;
                    st.last_fault = None;
                    st.not_fenced_logged = false;
                    st.push(
                        max,
                        entry(
                            round.started,
                            if late { "late-ok" } else { "ok" },
                            rep.write,
                            Some(rep.read),
                            None,
                        ),
                    );
                }
                st.direct = Some(rep.direct);
                let slots = lease_area::parse(&rep.area);
                st.area_full = rep.area.len() >= round.read_len;
                st.area_len = rep.area.len();
                self.fold_area(i, &slots, now, rep.wall_ms, out);
                // After the check: this round's read was made before its write.
                if round.writes && rep.write.is_some() && self.storages[i].slot.is_some() {
                    self.storages[i].confirmed = true;
                }
                // A late answer means the storage is back: renew at once.
                if late || self.storages[i].slot.is_some() && !round.writes {
                    self.storages[i].next_due = now;
                }
            }
        }
    }

    /// What a read of storage `i`'s area says about this host's slot and the peers.
    fn fold_area(
        &mut self,
        i: usize,
        slots: &[Slot],
        now: Duration,
        wall_ms: i64,
        out: &mut Vec<Action>,
    ) {
        let host = self.s.host_id.clone();
        let generation = self.generation;
        let watch = self.s.watch_peers;
        let st = &mut self.storages[i];
        // Checked only once a write of ours has been confirmed: before that
        // the slot may still hold the record of this host's previous run.
        let written = if st.confirmed { st.sent_max } else { None };
        if let Some(k) = st.slot {
            match check_own(slots, k, &host, generation, written) {
                SlotCheck::Ours => {}
                SlotCheck::ForeignWriter { generation: g, seq } => {
                    let msg = format!(
                        "another writer renews host_id {host:?} in slot {k} (generation {g:016x} seq {seq}, ours is {generation:016x}): two hosts share this host_id; set a unique host_id on each host"
                    );
                    let log_due = st
                        .conflict_logged
                        .map_or(true, |t| now >= t + Duration::from_secs(60));
                    if log_due {
                        out.push(Action::Log {
                            level: Level::Error,
                            msg: format!("storage {}: {msg}", st.cfg.name),
                        });
                        st.conflict_logged = Some(now);
                    }
                    st.conflict = Some((msg, now));
                }
                SlotCheck::Taken { by } => {
                    out.push(Action::Log {
                        level: Level::Warn,
                        msg: format!(
                            "storage {}: slot {k} was taken by {by:?} at the same time as by this host; taking another",
                            st.cfg.name
                        ),
                    });
                    st.lost.push(k);
                    st.slot = None;
                    st.confirmed = false;
                }
                SlotCheck::Bad(e) => out.push(Action::Log {
                    level: Level::Warn,
                    msg: format!(
                        "storage {}: this host's slot {k} read back unreadable: {e}",
                        st.cfg.name
                    ),
                }),
            }
        }
        if st.slot.is_none() {
            match choose(slots, &host, &st.lost) {
                Choice::Reuse(k) => {
                    st.slot = Some(k);
                    st.next_due = now;
                }
                Choice::Take(k) if st.cfg.claim => {
                    st.slot = Some(k);
                    st.next_due = now;
                    out.push(Action::Log {
                        level: Level::Info,
                        msg: format!("storage {}: taking slot {k} of the lease area", st.cfg.name),
                    });
                }
                Choice::Take(_) => {
                    st.no_lease = true;
                    out.push(Action::Log {
                        level: Level::Info,
                        msg: format!(
                            "storage {}: no lease of host {host:?} there; not renewing (found while running fail-safe)",
                            st.cfg.name
                        ),
                    });
                }
                Choice::Full => {
                    st.last_error = Some(format!(
                        "the lease area has no free slot (all {} taken)",
                        lease_area::MAX_SLOTS
                    ));
                    st.last_fault = Some("storage");
                }
            }
        }
        if watch {
            let mut hosts: BTreeSet<String> = st.peers.keys().cloned().collect();
            hosts.extend(slots.iter().filter_map(|s| match s {
                Slot::Record(r) if r.host != host => Some(r.host.clone()),
                _ => None,
            }));
            let now_ms = now.as_millis() as u64;
            for h in hosts {
                let o = st
                    .peers
                    .entry(h.clone())
                    .or_insert_with(|| PeerStatus::new(&h, now_ms));
                o.observe_area(slots, now_ms, wall_ms);
            }
        }
    }

    fn timeouts(&mut self, now: Duration, out: &mut Vec<Action>) {
        let (max, io_timeout) = (self.s.history, self.s.io_timeout);
        for st in &mut self.storages {
            // A conflict not seen again for dead_after is over.
            if st
                .conflict
                .as_ref()
                .is_some_and(|(_, t)| now >= *t + self.s.dead_after)
            {
                st.conflict = None;
            }
            let Some(r) = st.round.as_mut() else { continue };
            if r.timed_out || now < r.started + io_timeout {
                continue;
            }
            r.timed_out = true;
            let (started, step) = (r.started, r.step);
            let msg = format!(
                "no answer within io_timeout {} {}; the helper is left to finish (never killed: it holds the open the NFS client reclaims after a failover)",
                duration::fmt(io_timeout),
                step.map_or("before the helper started its I/O", |s| s.stuck_in())
            );
            st.failures += 1;
            st.totals.attempts += 1;
            st.totals.timeouts += 1;
            st.push(max, entry(started, "timeout", None, None, Some(&msg)));
            out.push(Action::Log {
                level: Level::Warn,
                msg: format!("storage {}: renewal {}: {msg}", st.cfg.name, st.seq),
            });
            st.last_error = Some(msg);
            st.last_fault = Some("timeout");
        }
    }

    fn writer_state(&self, i: usize, now: Duration) -> WriterState {
        let st = &self.storages[i];
        let fences = self.s.fence_action.fences();
        // A fence decided while a stop is held (the "stopped" record could
        // not be written) is what peers must see.
        if let Some(p) = self.plans.get(&PlanKey::Host) {
            return if p.action.fences() && st.cfg.fence {
                WriterState::Fencing
            } else {
                WriterState::NotFenced
            };
        }
        if self.stopping.is_some() {
            return WriterState::Stopped;
        }
        if self.plans.contains_key(&PlanKey::Storage(i)) {
            return WriterState::NotFenced;
        }
        let past = st
            .since_success(now)
            .is_some_and(|d| d >= self.s.fence_after);
        if past && (!st.cfg.fence || !fences) {
            WriterState::NotFenced
        } else if st.failures > 0 {
            WriterState::Failing
        } else {
            WriterState::Ok
        }
    }

    fn record(&self, i: usize, seq: u64, now: Duration) -> Record {
        let st = &self.storages[i];
        Record {
            host: self.s.host_id.clone(),
            generation: self.generation,
            seq,
            mono_ms: now.as_millis() as u64,
            wall_ms: 0,
            interval_ms: self.s.interval.as_millis() as u64,
            io_timeout_ms: self.s.io_timeout.as_millis() as u64,
            dead_after_ms: self.s.dead_after.as_millis() as u64,
            fence_action: if st.cfg.fence {
                self.s.fence_action
            } else {
                FenceAction::LogOnly
            },
            state: self.writer_state(i, now),
            failing_ms: match (st.failures, st.since_success(now)) {
                (0, _) | (_, None) => 0,
                (_, Some(d)) => d.as_millis() as u64,
            },
        }
    }

    fn start_rounds(&mut self, now: Duration, out: &mut Vec<Action>) {
        // While a stop is held, only the storages still without a "stopped"
        // record go on renewing.
        let held: Option<BTreeSet<usize>> = match &self.stopping {
            Some(s) if !s.unconfirmed.is_empty() => Some(s.unconfirmed.clone()),
            Some(_) => return,
            None if self.stop_requested.is_some() && !self.committed() => return,
            None => None,
        };
        let max = self.s.history;
        for i in 0..self.storages.len() {
            if held.as_ref().is_some_and(|h| !h.contains(&i)) {
                continue;
            }
            let interval = self.s.interval;
            let st = &mut self.storages[i];
            if st.no_lease || now < st.next_due {
                continue;
            }
            // A round still within io_timeout is slow, not failed: the next
            // one starts as soon as it answers.
            if st.round.as_ref().is_some_and(|r| !r.timed_out) {
                continue;
            }
            st.next_due += interval;
            if st.next_due <= now {
                st.next_due = now + interval;
            }
            if let Some(r) = &st.round {
                let msg = format!(
                    "the attempt started {} ago has not answered; not starting another",
                    secs(now.saturating_sub(r.started))
                );
                st.failures += 1;
                st.totals.blocked += 1;
                st.push(max, entry(now, "blocked", None, None, Some(&msg)));
                continue;
            }
            self.send_round(i, now, out);
        }
    }

    fn send_round(&mut self, i: usize, now: Duration, out: &mut Vec<Action>) {
        self.storages[i].seq += 1;
        let seq = self.storages[i].seq;
        let write = self.storages[i].slot.map(|k| (k, self.record(i, seq, now)));
        let st = &mut self.storages[i];
        if write.is_some() {
            st.sent_max = Some(seq);
        }
        let read_len = lease_area::read_len(st.area_len, st.area_full, st.slot);
        st.round = Some(Round {
            seq,
            started: now,
            timed_out: false,
            writes: write.is_some(),
            read_len,
            step: None,
        });
        out.push(Action::StartRound {
            storage: i,
            seq,
            write,
            read_len,
            create: st.cfg.claim,
        });
    }

    /// Storages past fence_after, with the cause.
    fn failing(&self, now: Duration) -> Vec<(usize, String)> {
        self.storages
            .iter()
            .enumerate()
            .filter(|(_, s)| s.cfg.fence)
            .filter_map(|(i, s)| {
                let d = s.since_success(now).filter(|d| *d >= self.s.fence_after)?;
                Some((
                    i,
                    format!(
                        "storage {}: no successful renewal for {} (fence_after {}); last error{}: {}",
                        s.cfg.name,
                        secs(d),
                        duration::fmt(self.s.fence_after),
                        s.last_fault.map(|f| format!(" ({f})")).unwrap_or_default(),
                        s.last_error.as_deref().unwrap_or("none recorded")
                    ),
                ))
            })
            .collect()
    }

    fn decide(&mut self, now: Duration, out: &mut Vec<Action>) {
        let fa = self.s.fence_after;
        for st in &mut self.storages {
            if !st.cfg.fence
                && !st.not_fenced_logged
                && st.since_success(now).is_some_and(|d| d >= fa)
            {
                out.push(Action::Log {
                    level: Level::Error,
                    msg: format!(
                        "storage {}: no successful renewal for {} (fence_after {}); fence = false for this storage: NOT fencing, its records say \"not fenced\"",
                        st.cfg.name,
                        secs(st.since_success(now).unwrap_or_default()),
                        duration::fmt(fa)
                    ),
                });
                st.not_fenced_logged = true;
            }
        }
        let failing = self.failing(now);
        let action = self.s.fence_action;
        match action.scope() {
            Scope::Host => {
                if let Some((i, cause)) = failing.first() {
                    if !self.plans.contains_key(&PlanKey::Host) {
                        let mount = self.storages[*i].cfg.mount.clone();
                        self.decided(PlanKey::Host, action, Some(mount), cause.clone(), now, out);
                    }
                }
            }
            Scope::Pool => {
                for (i, cause) in &failing {
                    if !self.plans.contains_key(&PlanKey::Storage(*i)) {
                        let mount = self.storages[*i].cfg.mount.clone();
                        self.decided(
                            PlanKey::Storage(*i),
                            action,
                            Some(mount),
                            cause.clone(),
                            now,
                            out,
                        );
                    }
                }
            }
        }
        // Withdraw what may be withdrawn once renewals are healthy again.
        let failing: BTreeSet<usize> = failing.into_iter().map(|(i, _)| i).collect();
        let keys: Vec<PlanKey> = self.plans.keys().copied().collect();
        for key in keys {
            let p = &self.plans[&key];
            let healthy = match key {
                PlanKey::Host => failing.is_empty(),
                PlanKey::Storage(i) => !failing.contains(&i),
            };
            if healthy && p.complete() && !p.committed() && !p.rebooting() {
                out.push(Action::Log {
                    level: Level::Warn,
                    msg: format!(
                        "storage renewals healthy again: fence decision ({}) withdrawn",
                        p.action.name()
                    ),
                });
                self.plans.remove(&key);
            }
        }
    }

    fn decided(
        &mut self,
        key: PlanKey,
        action: FenceAction,
        mount: Option<PathBuf>,
        cause: String,
        now: Duration,
        out: &mut Vec<Action>,
    ) {
        let spec = self.s.plan.clone();
        self.decided_with(key, action, mount, cause, &spec, now, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn decided_with(
        &mut self,
        key: PlanKey,
        action: FenceAction,
        mount: Option<PathBuf>,
        cause: String,
        spec: &PlanSpec,
        now: Duration,
        out: &mut Vec<Action>,
    ) {
        // The decision is logged before anything is done about it.
        out.push(Action::Log {
            level: Level::Error,
            msg: format!("FENCE DECISION: {cause}: fence_action = {}", action.name()),
        });
        self.plans
            .insert(key, Plan::new(action, mount, cause, now, spec));
    }

    /// A fence handed over: carried out as requested (its action and its
    /// escalation), with this host's commands.
    fn requested(
        &mut self,
        action: FenceAction,
        mount: Option<PathBuf>,
        cause: String,
        escalate_after: Option<Duration>,
        now: Duration,
        out: &mut Vec<Action>,
    ) {
        let cause = format!("{REQUESTED}{cause}");
        let key = match (action.scope(), &mount) {
            (Scope::Pool, Some(m)) => self
                .storages
                .iter()
                .position(|s| &s.cfg.mount == m)
                .map_or(PlanKey::Host, PlanKey::Storage),
            _ => PlanKey::Host,
        };
        if let Some(p) = self.plans.get(&key) {
            if !p.complete() {
                out.push(Action::Log {
                    level: Level::Warn,
                    msg: format!(
                        "fence requested ({cause}) while a fence is under way ({}): not starting another",
                        p.cause
                    ),
                });
                return;
            }
        }
        let spec = self
            .s
            .plan
            .for_request(action, escalate_after, self.s.watchdog_pet.is_some());
        self.decided_with(key, action, mount, cause, &spec, now, out);
    }

    fn run_plans(&mut self, now: Duration, out: &mut Vec<Action>) {
        let mut finished_logs = Vec::new();
        for (key, p) in self.plans.iter_mut() {
            for (id, step) in p.due(now) {
                let shown = describe(&step);
                self.step_log.push(format!("{}: {shown}", secs(now)));
                if step == Step::Log {
                    out.push(Action::Log {
                        level: Level::Error,
                        msg: "fence_action = log-only: NOT fencing; this host's VMs keep running and its records say \"not fenced\": peers must not restart them. Operator: investigate the storage now".into(),
                    });
                    finished_logs.push((*key, id));
                    continue;
                }
                out.push(Action::Log {
                    level: Level::Error,
                    msg: format!("fence step: {shown}"),
                });
                out.push(Action::Step {
                    plan: *key,
                    id,
                    step,
                });
            }
        }
        for (key, id) in finished_logs {
            if let Some(p) = self.plans.get_mut(&key) {
                p.finished(id, StepResult::Done, now);
            }
        }
    }

    /// Whether the watchdog may be petted now.
    fn pet_ok(&self, now: Duration) -> bool {
        let rebooting = self.plans.values().any(Plan::rebooting);
        let host_scope = self.s.fence_action.scope() == Scope::Host;
        let host_fence = self
            .plans
            .get(&PlanKey::Host)
            .is_some_and(|p| p.action.fences());
        !rebooting && (!host_scope || self.failing(now).is_empty()) && !host_fence
    }

    fn pet(&mut self, now: Duration, out: &mut Vec<Action>) {
        let (Some(every), Some(next)) = (self.s.watchdog_pet, self.next_pet) else {
            return;
        };
        if now < next {
            return;
        }
        self.next_pet = Some(now + every);
        if self.pet_ok(now) {
            self.pets += 1;
            out.push(Action::PetWatchdog);
        }
    }

    /// Whether storage `i`'s record must say "stopped" before the daemon may
    /// exit: it says this host fences itself, and peers have seen it renew.
    /// Not once a fence was decided: the fence speaks for the host then.
    fn needs_stopped_record(&self, i: usize) -> bool {
        let st = &self.storages[i];
        self.s.fence_action.fences()
            && st.cfg.fence
            && st.slot.is_some()
            && !st.no_lease
            && st.last_success.is_some()
            && !self.plans.contains_key(&PlanKey::Host)
            && !self.plans.contains_key(&PlanKey::Storage(i))
    }

    /// A fence that may reboot is under way: a stop must wait for it.
    fn committed(&self) -> bool {
        self.plans.values().any(Plan::committed)
    }

    fn stop(&mut self, now: Duration, out: &mut Vec<Action>) {
        let Some(system_shutdown) = self.stop_requested else {
            return;
        };
        if self.committed() {
            if !self.stop_held_logged {
                self.stop_held_logged = true;
                out.push(Action::Log {
                    level: Level::Warn,
                    msg: "stop requested while fencing: staying until the fence completes".into(),
                });
            }
            return;
        }
        if self.stopping.is_none() {
            // A service stop on a host that keeps running: say so in the
            // record, so peers answer "not fenced" rather than "dead" once
            // it is stale. A system shutdown stops the VMs first (the unit
            // is ordered before libvirt-guests and machine.slice): no such
            // record.
            let unconfirmed = if system_shutdown {
                BTreeSet::new()
            } else {
                (0..self.storages.len())
                    .filter(|&i| self.needs_stopped_record(i))
                    .collect()
            };
            self.stopping = Some(Stopping {
                since: now,
                final_rounds: BTreeSet::new(),
                unconfirmed,
                held_logged: false,
            });
            if !system_shutdown {
                for i in 0..self.storages.len() {
                    let st = &mut self.storages[i];
                    if st.slot.is_none() || st.no_lease {
                        continue;
                    }
                    if st.round.is_none() {
                        self.send_round(i, now, out);
                        if let Some(s) = &mut self.stopping {
                            s.final_rounds.insert(i);
                        }
                    } else {
                        // The next round, saying "stopped", as soon as
                        // this one answers.
                        st.next_due = now;
                    }
                }
            }
        }
        let io_timeout = self.s.io_timeout;
        let still: BTreeSet<usize> = self
            .stopping
            .as_ref()
            .expect("set above")
            .unconfirmed
            .iter()
            .copied()
            .filter(|&i| self.needs_stopped_record(i))
            .collect();
        let stopping = self.stopping.as_mut().expect("set above");
        stopping.unconfirmed = still;
        if !stopping.unconfirmed.is_empty() {
            if now >= stopping.since + io_timeout && !stopping.held_logged {
                stopping.held_logged = true;
                let names: Vec<String> = stopping
                    .unconfirmed
                    .iter()
                    .map(|&i| {
                        let st = &self.storages[i];
                        match &st.last_error {
                            Some(e) => format!("{} ({e})", st.cfg.name),
                            None => format!("{} (no answer yet)", st.cfg.name),
                        }
                    })
                    .collect();
                out.push(Action::Log {
                    level: Level::Error,
                    msg: format!(
                        "stop held: no record saying \"stopped\" could be written on {}; exiting now would leave a record saying this host fences itself, which peers declare dead after dead_after while its VMs run. Renewing on; the stop completes once the record is written, or the fence goes ahead at fence_after",
                        names.join(", ")
                    ),
                });
            }
            return;
        }
        if stopping.final_rounds.is_empty() || now >= stopping.since + io_timeout {
            self.exited = true;
            out.push(Action::Exit {
                disarm_watchdog: self.pet_ok(now),
            });
        }
    }

    /// When after `now` the machine next needs a [`Event::Tick`] (None:
    /// nothing planned). Everything due at or before `now` has been handled
    /// by the [`Machine::step`] at `now`.
    pub fn next_wake(&self, now: Duration) -> Option<Duration> {
        if self.exited {
            return None;
        }
        let mut wake: Vec<Duration> = Vec::new();
        for st in &self.storages {
            match &st.round {
                Some(r) if !r.timed_out => wake.push(r.started + self.s.io_timeout),
                _ if !st.no_lease => wake.push(st.next_due),
                _ => {}
            }
            if st.cfg.fence {
                if let Some(t) = st.last_success {
                    wake.push(t + self.s.fence_after);
                }
            }
            if let Some((_, t)) = &st.conflict {
                wake.push(*t + self.s.dead_after);
            }
        }
        wake.extend(self.plans.values().filter_map(Plan::next_wake));
        wake.extend(self.next_pet);
        if let Some(s) = &self.stopping {
            wake.push(s.since + self.s.io_timeout);
        }
        wake.into_iter().filter(|t| *t > now).min()
    }

    /// How long the shell may wait after stepping the machine at
    /// `stepped_at`, `now` being the time it is ready to wait: until the
    /// next deadline after `stepped_at` (at most 1 s). A deadline that fell
    /// between the two (while the shell acted and wrote its status) is
    /// due: no wait. Asking [`Self::next_wake`] with `now` instead would
    /// skip it, and the decision would wait for the next round's tick.
    pub fn wait_after_step(&self, stepped_at: Duration, now: Duration) -> Duration {
        let cap = stepped_at + Duration::from_secs(1);
        let wake = self.next_wake(stepped_at).unwrap_or(cap).min(cap);
        wake.saturating_sub(now)
    }

    pub fn exited(&self) -> bool {
        self.exited
    }

    /// The daemon's status at `now` (the shell fills in pid, boot id,
    /// configuration errors and the watchdog device).
    pub fn status(&self, now: Duration) -> Status {
        let now_ms = now.as_millis() as u64;
        let host = self.plans.get(&PlanKey::Host);
        let (state, decided_ms, reason) = match host {
            None => ("healthy", None, None),
            Some(p) => (
                if p.action.fences() || p.rebooting() {
                    "fencing"
                } else {
                    "not-fenced"
                },
                Some(p.decided_at.as_millis() as u64),
                Some(p.cause.clone()),
            ),
        };
        Status {
            version: 1,
            pid: 0,
            host_id: self.s.host_id.clone(),
            generation: format!("{:016x}", self.generation),
            boot_id: String::new(),
            config_errors: Vec::new(),
            updated_ms: now_ms,
            interval_ms: self.s.interval.as_millis() as u64,
            io_timeout_ms: self.s.io_timeout.as_millis() as u64,
            fence_after_ms: self.s.fence_after.as_millis() as u64,
            dead_after_ms: self.s.dead_after.as_millis() as u64,
            fence: FenceStatus {
                action: self.s.fence_action,
                state: state.into(),
                decided_ms,
                reason,
                dry_run: false,
                steps: self.step_log.clone(),
            },
            watchdog: self.s.watchdog_pet.map(|_| {
                format!(
                    "pets {} ({})",
                    self.pets,
                    if self.pet_ok(now) {
                        "petting"
                    } else {
                        "NOT petting: storage unhealthy or fencing"
                    }
                )
            }),
            storages: (0..self.storages.len())
                .map(|i| self.storage_status(i, now))
                .collect(),
        }
    }

    fn storage_status(&self, i: usize, now: Duration) -> StorageStatus {
        let s = &self.storages[i];
        let overdue = s
            .round
            .as_ref()
            .is_some_and(|r| now.saturating_sub(r.started) > self.s.io_timeout);
        let past = s
            .since_success(now)
            .is_some_and(|d| d >= self.s.fence_after);
        let pool = self.plans.get(&PlanKey::Storage(i));
        let host_fencing = self
            .plans
            .get(&PlanKey::Host)
            .is_some_and(|p| p.action.fences() || p.rebooting());
        let state = if s.no_lease {
            "no-lease"
        } else if host_fencing && s.cfg.fence {
            "fencing"
        } else if s.conflict.is_some() {
            "conflict"
        } else if s.last_success.is_none() {
            "never-renewed"
        } else if s.failures == 0 && !overdue {
            "ok"
        } else if past || pool.is_some() {
            match self.writer_state(i, now) {
                WriterState::Fencing => "fencing",
                WriterState::NotFenced => "not-fenced",
                _ => "failing",
            }
        } else {
            "failing"
        };
        StorageStatus {
            name: s.cfg.name.clone(),
            mount: s.cfg.mount.display().to_string(),
            record: s.cfg.lease_area().display().to_string(),
            state: state.into(),
            fence: s.cfg.fence,
            slot: s.slot.map(|k| k as u32),
            direct_io: s.direct,
            conflict: s.conflict.as_ref().map(|(m, _)| m.clone()),
            last_fault: s.last_fault.map(str::to_string),
            pool_fence: pool.map(|p| {
                format!(
                    "{} ({}): {}",
                    p.action.name(),
                    if p.complete() { "done" } else { "under way" },
                    p.cause
                )
            }),
            seq: s.seq,
            last_success_ms: s.last_success.map(|t| t.as_millis() as u64),
            failing_ms: match (s.failures, s.since_success(now)) {
                (0, _) | (_, None) => 0,
                (_, Some(d)) => d.as_millis() as u64,
            },
            in_flight_ms: s
                .round
                .as_ref()
                .map_or(0, |r| now.saturating_sub(r.started).as_millis() as u64),
            stuck_helpers: u32::from(s.round.as_ref().is_some_and(|r| r.timed_out)),
            consecutive_failures: s.failures,
            last_error: s.last_error.clone(),
            totals: s.totals.clone(),
            history: s.history.iter().cloned().collect(),
            peers: s.peers.values().cloned().collect(),
        }
    }
}

/// Fence causes that came from a request start with this.
const REQUESTED: &str = "requested: ";

fn entry(
    at: Duration,
    result: &str,
    write: Option<Duration>,
    read: Option<Duration>,
    error: Option<&str>,
) -> HistoryEntry {
    HistoryEntry {
        at_ms: at.as_millis() as u64,
        result: result.into(),
        write_ms: write.map_or(0, |d| d.as_millis() as u64),
        read_ms: read.map_or(0, |d| d.as_millis() as u64),
        error: error.map(str::to_string),
    }
}

/// A step as the log shows it.
pub fn describe(step: &Step) -> String {
    match step {
        Step::Log => "log only".into(),
        Step::Command { what, argv } => format!("{what}: `{}`", argv.join(" ")),
        Step::Reboot { why } => format!("reboot(2) without sync: {why}"),
        Step::StopPoolVms { mount, how } => {
            format!(
                "virsh {} the VMs with a disk under {}",
                how.verb(),
                mount.display()
            )
        }
        Step::VerifyPoolVms { mount } => format!(
            "check that no VM with a disk under {} still runs (else reboot)",
            mount.display()
        ),
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
