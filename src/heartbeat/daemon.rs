//! `nfsha heartbeat run`: renews this host's record on every configured
//! storage, reads the peers' records, fences when renewals keep failing, pets
//! the optional watchdog while healthy, and publishes its status on tmpfs.
//!
//! One thread, one `poll(2)` loop. Storage I/O happens only in helper
//! children ([`super::worker`]); the loop waits on their pidfds with a
//! deadline, so a hung mount costs it nothing but an abandoned child.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::clock::{boottime, random_u64, wall_ms};
use super::config::{Config, Storage};
use super::fence::{FenceAction, Fencer, RealFencer, RecordingFencer};
use super::mounts::is_mounted;
use super::record::{Record, WriterState};
use super::status::{FenceStatus, HistoryEntry, PeerStatus, Status, StorageStatus, Totals};
use super::watchdog::Watchdog;
use super::worker::{wait_readable, IoRequest, Job, JobEnd};
use crate::formats::duration;
use crate::sys::{Real, System};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// A finished attempt, as history sees it.
enum Outcome {
    Ok { write: Duration, read: Duration },
    Timeout,
    Error(String),
    Blocked(Duration),
    Unmounted,
}

struct StorageRt {
    cfg: Storage,
    record_path: PathBuf,
    seq: u64,
    job: Option<Job>,
    stuck: Vec<Job>,
    next_due: Duration,
    /// Start of the last successful renewal (time 0 of the fence timeline).
    last_success: Option<Duration>,
    consecutive_failures: u32,
    totals: Totals,
    history: VecDeque<HistoryEntry>,
    peers: BTreeMap<String, PeerStatus>,
    last_error: Option<String>,
    need_mkdir: bool,
    not_fenced_logged: bool,
}

impl StorageRt {
    fn failing_for(&self, now: Duration) -> Duration {
        match self.last_success {
            Some(t0) if self.consecutive_failures > 0 || self.job.is_some() => {
                now.saturating_sub(t0)
            }
            _ => Duration::ZERO,
        }
    }
    /// Time since the last good renewal started (None before the first one:
    /// a storage that never worked does not fence, so a dead pool at boot
    /// cannot cause a reboot loop).
    fn since_success(&self, now: Duration) -> Option<Duration> {
        self.last_success.map(|t0| now.saturating_sub(t0))
    }
}

enum FenceState {
    Healthy,
    Decided {
        at: Duration,
        reason: String,
        escalated: bool,
        /// The reboot step was carried out (or recorded).
        done: bool,
        next_try: Duration,
    },
}

pub struct Daemon<'a> {
    cfg: Config,
    generation: u64,
    storages: Vec<StorageRt>,
    fence: FenceState,
    fencer: Box<dyn Fencer + 'a>,
    watchdog: Option<Watchdog>,
    next_pet: Duration,
}

fn history_push(st: &mut StorageRt, max: usize, e: HistoryEntry) {
    st.history.push_back(e);
    while st.history.len() > max {
        st.history.pop_front();
    }
}

impl<'a> Daemon<'a> {
    pub fn new(cfg: Config, sys: &'a dyn System) -> Result<Daemon<'a>, String> {
        if cfg.storages.is_empty() {
            return Err("no [[storage]] configured: nothing to renew".into());
        }
        let fencer: Box<dyn Fencer> = match &cfg.fence_record_file {
            Some(f) => Box::new(RecordingFencer {
                file: f.clone(),
                sys,
            }),
            None => Box::new(RealFencer { sys }),
        };
        let watchdog = match &cfg.watchdog {
            Some(w) => Some(Watchdog::open(w)?),
            None => None,
        };
        let now = boottime();
        let storages = cfg
            .storages
            .iter()
            .map(|s| StorageRt {
                record_path: s.hb_dir().join(&cfg.host_id),
                cfg: s.clone(),
                seq: 0,
                job: None,
                stuck: Vec::new(),
                next_due: now,
                last_success: None,
                consecutive_failures: 0,
                totals: Totals::default(),
                history: VecDeque::new(),
                peers: BTreeMap::new(),
                last_error: None,
                need_mkdir: true,
                not_fenced_logged: false,
            })
            .collect();
        Ok(Daemon {
            generation: random_u64(),
            storages,
            fence: FenceState::Healthy,
            fencer,
            watchdog,
            next_pet: now,
            cfg,
        })
    }

    fn writer_state(&self, st: &StorageRt, now: Duration) -> WriterState {
        let past = st
            .since_success(now)
            .map(|d| d >= self.cfg.fence_after)
            .unwrap_or(false);
        match &self.fence {
            FenceState::Decided { .. } if self.cfg.fence_action.fences() && st.cfg.fence => {
                WriterState::Fencing
            }
            FenceState::Decided { .. } => WriterState::NotFenced,
            FenceState::Healthy if past && !st.cfg.fence => WriterState::NotFenced,
            FenceState::Healthy if st.consecutive_failures > 0 => WriterState::Failing,
            FenceState::Healthy => WriterState::Ok,
        }
    }

    fn record_for(&self, st: &StorageRt, seq: u64, now: Duration) -> Record {
        Record {
            host: self.cfg.host_id.clone(),
            generation: self.generation,
            seq,
            mono_ms: now.as_millis() as u64,
            wall_ms: wall_ms(),
            interval_ms: self.cfg.interval.as_millis() as u64,
            io_timeout_ms: self.cfg.io_timeout.as_millis() as u64,
            dead_after_ms: self.cfg.dead_after.as_millis() as u64,
            fence_action: if st.cfg.fence {
                self.cfg.fence_action
            } else {
                FenceAction::LogOnly
            },
            state: self.writer_state(st, now),
            failing_ms: st.failing_for(now).as_millis() as u64,
        }
    }

    fn finish(&mut self, i: usize, started: Duration, outcome: Outcome) {
        let max = self.cfg.history;
        let st = &mut self.storages[i];
        st.totals.attempts += 1;
        let (result, write_ms, read_ms, error) = match outcome {
            Outcome::Ok { write, read } => {
                st.totals.ok += 1;
                if st.consecutive_failures > 0 {
                    tracing::info!(
                        "storage {}: renewal succeeded again after {} failure(s)",
                        st.cfg.name,
                        st.consecutive_failures
                    );
                }
                st.consecutive_failures = 0;
                st.last_success = Some(started);
                st.last_error = None;
                st.not_fenced_logged = false;
                (
                    "ok",
                    write.as_millis() as u64,
                    read.as_millis() as u64,
                    None,
                )
            }
            Outcome::Timeout => {
                st.totals.timeouts += 1;
                let e = format!(
                    "no answer within io_timeout {}: attempt abandoned",
                    duration::fmt(self.cfg.io_timeout)
                );
                ("timeout", 0, 0, Some(e))
            }
            Outcome::Error(e) => {
                st.totals.errors += 1;
                ("error", 0, 0, Some(e))
            }
            Outcome::Blocked(d) => {
                st.totals.blocked += 1;
                let e = format!(
                    "an abandoned attempt has been stuck in the kernel for {:.0}s; not starting another",
                    d.as_secs_f64()
                );
                ("blocked", 0, 0, Some(e))
            }
            Outcome::Unmounted => {
                st.totals.errors += 1;
                let e = format!("{} is not mounted", st.cfg.mount.display());
                ("unmounted", 0, 0, Some(e))
            }
        };
        if let Some(e) = &error {
            st.consecutive_failures += 1;
            st.need_mkdir = true;
            tracing::warn!(
                "storage {}: renewal {} failed ({result}): {e}",
                st.cfg.name,
                st.seq
            );
            st.last_error = Some(e.clone());
        }
        history_push(
            st,
            max,
            HistoryEntry {
                at_ms: started.as_millis() as u64,
                result: result.into(),
                write_ms,
                read_ms,
                error,
            },
        );
    }

    fn take_peers(&mut self, i: usize, report: &super::worker::IoReport, now: Duration) {
        let me = self.cfg.host_id.clone();
        let st = &mut self.storages[i];
        let now_ms = now.as_millis() as u64;
        for (path, r) in &report.reads {
            let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            if name == me {
                continue;
            }
            let entry = st
                .peers
                .entry(name.clone())
                .or_insert_with(|| super::check::empty_observation(&name, now_ms));
            super::check::fold_read(entry, path, r, now_ms);
        }
    }

    fn step_storage(&mut self, i: usize, now: Duration) {
        self.storages[i]
            .stuck
            .retain_mut(|j| j.try_finish().is_none());
        if let Some(mut job) = self.storages[i].job.take() {
            let late = now > job.deadline + Duration::from_millis(100);
            match job.try_finish() {
                Some(JobEnd::Done(report)) if !late => {
                    let started = job.started;
                    match report
                        .write_error()
                        .or_else(|| report.errors.first().cloned())
                    {
                        Some(e) => self.finish(i, started, Outcome::Error(e)),
                        None => {
                            self.take_peers(i, &report, now);
                            self.storages[i].need_mkdir = false;
                            self.finish(
                                i,
                                started,
                                Outcome::Ok {
                                    write: report.write_latency(),
                                    read: report.read_latency(),
                                },
                            );
                        }
                    }
                }
                Some(JobEnd::Done(_)) => self.finish(i, job.started, Outcome::Timeout),
                Some(JobEnd::Failed(e)) => self.finish(i, job.started, Outcome::Error(e)),
                None if now >= job.deadline => {
                    job.kill();
                    let started = job.started;
                    self.storages[i].stuck.push(job);
                    self.finish(i, started, Outcome::Timeout);
                }
                None => self.storages[i].job = Some(job),
            }
        }
        let st = &self.storages[i];
        if st.job.is_some() || now < st.next_due {
            return;
        }
        let interval = self.cfg.interval;
        let st = &mut self.storages[i];
        st.next_due += interval;
        if st.next_due <= now {
            st.next_due = now + interval;
        }
        if let Some(oldest) = st.stuck.iter().map(|j| j.started).min() {
            self.finish(i, now, Outcome::Blocked(now - oldest));
            return;
        }
        if self.cfg.require_mounted && !is_mounted(&st.cfg.mount) {
            self.finish(i, now, Outcome::Unmounted);
            return;
        }
        st.seq += 1;
        let seq = st.seq;
        let st = &self.storages[i];
        let rec = self.record_for(st, seq, now);
        let dir = st.cfg.hb_dir();
        let req = IoRequest {
            mkdirs: if st.need_mkdir {
                vec![dir.clone()]
            } else {
                vec![]
            },
            writes: vec![(st.record_path.clone(), rec.encode().into_bytes())],
            reads: vec![],
            read_dirs: if self.cfg.watch_peers {
                vec![dir]
            } else {
                vec![]
            },
            skip: Some(self.cfg.host_id.clone()),
        };
        let out = self
            .cfg
            .run_dir
            .join("io")
            .join(format!("{}-{}.report", i, seq));
        match Job::spawn(&req, out, self.cfg.io_timeout) {
            Ok(job) => self.storages[i].job = Some(job),
            Err(e) => self.finish(
                i,
                now,
                Outcome::Error(format!("cannot start the I/O helper: {e}")),
            ),
        }
    }

    fn fence_step(&mut self, now: Duration) {
        let fa = self.cfg.fence_after;
        for st in &mut self.storages {
            if !st.cfg.fence
                && !st.not_fenced_logged
                && st.since_success(now).is_some_and(|d| d >= fa)
            {
                tracing::error!(
                    "storage {}: no successful renewal for {} (fence_after {}); fence = false for this storage: NOT fencing, its records say \"not fenced\"",
                    st.cfg.name,
                    duration::fmt(st.since_success(now).unwrap_or_default()),
                    duration::fmt(fa)
                );
                st.not_fenced_logged = true;
            }
        }
        let failing = self.storages.iter().filter(|s| s.cfg.fence).find_map(|s| {
            s.since_success(now)
                .filter(|d| *d >= fa)
                .map(|d| (s.cfg.name.clone(), d))
        });
        let action = self.cfg.fence_action;
        match &mut self.fence {
            FenceState::Healthy => {
                let Some((name, d)) = failing else { return };
                let reason = format!(
                    "storage {name}: no successful renewal for {:.1}s (fence_after {})",
                    d.as_secs_f64(),
                    duration::fmt(fa)
                );
                // The decision is logged before anything is done about it.
                tracing::error!("FENCE DECISION: {reason}: fence_action = {}", action.name());
                self.fence = FenceState::Decided {
                    at: now,
                    reason,
                    escalated: false,
                    done: false,
                    next_try: now,
                };
                self.act(now);
            }
            FenceState::Decided { .. } => {
                if failing.is_none() && !action.fences() {
                    tracing::warn!(
                        "storage renewals healthy again: fence decision ({}) withdrawn",
                        action.name()
                    );
                    self.fence = FenceState::Healthy;
                } else {
                    self.act(now);
                }
            }
        }
    }

    fn run_hook_in_background(&self, what: &'static str, argv: Vec<String>) {
        let cfg = self.cfg.clone();
        std::thread::spawn(move || {
            let sys = Real::new();
            let fencer: Box<dyn Fencer> = match &cfg.fence_record_file {
                Some(f) => Box::new(RecordingFencer {
                    file: f.clone(),
                    sys: &sys,
                }),
                None => Box::new(RealFencer { sys: &sys }),
            };
            match fencer.command(what, &argv, cfg.command_timeout) {
                Ok(()) => tracing::warn!("{what}: `{}` done", argv.join(" ")),
                Err(e) => tracing::error!("{what}: {e}"),
            }
        });
    }

    fn act(&mut self, now: Duration) {
        let action = self.cfg.fence_action;
        let escalate_after = self.cfg.escalate_after;
        let FenceState::Decided {
            at,
            reason,
            escalated,
            done,
            next_try,
        } = &mut self.fence
        else {
            return;
        };
        if *done || now < *next_try {
            return;
        }
        let reason = reason.clone();
        match action {
            FenceAction::LogOnly => {
                tracing::error!(
                    "fence_action = log-only: NOT fencing; this host's VMs keep running and its records say \"not fenced\": peers must not restart them. Operator: investigate the storage now"
                );
                *done = true;
            }
            FenceAction::RestartAgent => {
                *done = true;
                let argv = self.cfg.restart_agent_command.clone();
                tracing::error!(
                    "fence_action = restart-agent: running `{}`; VMs keep running (NOT fenced)",
                    argv.join(" ")
                );
                self.run_hook_in_background("restart-agent", argv);
            }
            FenceAction::GracefulReboot if !*escalated => {
                *escalated = true;
                *next_try = *at + escalate_after.unwrap_or(Duration::from_secs(3600 * 24 * 365));
                let argv = self.cfg.graceful_reboot_command.clone();
                tracing::error!(
                    "fence_action = graceful-reboot: running `{}`{}",
                    argv.join(" "),
                    escalate_after
                        .map(|e| format!(
                            "; reboot(2) follows in {} if still running",
                            duration::fmt(e)
                        ))
                        .unwrap_or_default()
                );
                self.run_hook_in_background("graceful-reboot", argv);
            }
            FenceAction::GracefulReboot | FenceAction::Reboot => {
                let why = if action == FenceAction::Reboot {
                    reason
                } else {
                    format!("graceful reboot did not finish within escalate_after: {reason}")
                };
                tracing::error!("rebooting now with reboot(2), without sync: {why}");
                match self.fencer.reboot_now(&why) {
                    Ok(()) => *done = true,
                    Err(e) => {
                        tracing::error!("reboot failed: {e}; retrying in 5s");
                        *next_try = now + Duration::from_secs(5);
                    }
                }
            }
        }
    }

    /// A fencing action has been decided and not yet carried out.
    fn fence_in_progress(&self) -> bool {
        matches!(self.fence, FenceState::Decided { done: false, .. })
            && self.cfg.fence_action.fences()
    }

    fn healthy_for_watchdog(&self, now: Duration) -> bool {
        matches!(self.fence, FenceState::Healthy)
            && self.storages.iter().filter(|s| s.cfg.fence).all(|s| {
                s.since_success(now)
                    .map(|d| d < self.cfg.fence_after)
                    .unwrap_or(true)
            })
    }

    pub fn status(&self, now: Duration) -> Status {
        let now_ms = now.as_millis() as u64;
        let (fstate, decided_ms, reason) = match &self.fence {
            FenceState::Healthy => ("healthy", None, None),
            FenceState::Decided { at, reason, .. } => (
                if self.cfg.fence_action.fences() {
                    "fencing"
                } else {
                    "not-fenced"
                },
                Some(at.as_millis() as u64),
                Some(reason.clone()),
            ),
        };
        Status {
            version: 1,
            pid: std::process::id(),
            host_id: self.cfg.host_id.clone(),
            generation: format!("{:016x}", self.generation),
            updated_ms: now_ms,
            interval_ms: self.cfg.interval.as_millis() as u64,
            io_timeout_ms: self.cfg.io_timeout.as_millis() as u64,
            fence_after_ms: self.cfg.fence_after.as_millis() as u64,
            dead_after_ms: self.cfg.dead_after.as_millis() as u64,
            fence: FenceStatus {
                action: self.cfg.fence_action,
                state: fstate.into(),
                decided_ms,
                reason,
                dry_run: self.cfg.fence_record_file.is_some(),
            },
            watchdog: self.watchdog.as_ref().map(|w| {
                format!(
                    "{} timeout {} pets {} ({})",
                    w.cfg.device.display(),
                    duration::fmt(w.cfg.timeout),
                    w.pets,
                    if self.healthy_for_watchdog(now) {
                        "petting"
                    } else {
                        "NOT petting: storage unhealthy"
                    }
                )
            }),
            storages: self
                .storages
                .iter()
                .map(|s| {
                    // This storage's own health: a host-level "not fenced"
                    // decision caused by another storage does not make a
                    // storage whose renewals work look failed.
                    let overdue = s
                        .job
                        .as_ref()
                        .is_some_and(|j| now.saturating_sub(j.started) > self.cfg.io_timeout);
                    let past = s
                        .since_success(now)
                        .is_some_and(|d| d >= self.cfg.fence_after);
                    let state = if s.last_success.is_none() {
                        "never-renewed"
                    } else if s.consecutive_failures == 0 && !overdue {
                        "ok"
                    } else if past {
                        match self.writer_state(s, now) {
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
                        record: s.record_path.display().to_string(),
                        state: state.into(),
                        fence: s.cfg.fence,
                        seq: s.seq,
                        last_success_ms: s.last_success.map(|t| t.as_millis() as u64),
                        failing_ms: s.failing_for(now).as_millis() as u64
                            * u64::from(s.consecutive_failures > 0),
                        in_flight_ms: s
                            .job
                            .iter()
                            .chain(s.stuck.iter())
                            .map(|j| now.saturating_sub(j.started).as_millis() as u64)
                            .max()
                            .unwrap_or(0),
                        stuck_helpers: s.stuck.len() as u32,
                        consecutive_failures: s.consecutive_failures,
                        last_error: s.last_error.clone(),
                        totals: s.totals.clone(),
                        history: s.history.iter().cloned().collect(),
                        peers: s.peers.values().cloned().collect(),
                    }
                })
                .collect(),
        }
    }

    /// Run until SIGTERM/SIGINT.
    pub fn run(mut self) -> i32 {
        // SAFETY: installing an async-signal-safe handler that sets an atomic.
        unsafe {
            libc::signal(
                libc::SIGTERM,
                on_stop_signal as *const () as libc::sighandler_t,
            );
            libc::signal(
                libc::SIGINT,
                on_stop_signal as *const () as libc::sighandler_t,
            );
        }
        let _ = std::fs::create_dir_all(self.cfg.run_dir.join("io"));
        let status_path = self.cfg.status_file();
        tracing::info!(
            "started: host {} generation {:016x}, {} storage(s), interval {}, io_timeout {}, fence_action {} after {}, dead_after {}{}",
            self.cfg.host_id,
            self.generation,
            self.storages.len(),
            duration::fmt(self.cfg.interval),
            duration::fmt(self.cfg.io_timeout),
            self.cfg.fence_action.name(),
            duration::fmt(self.cfg.fence_after),
            duration::fmt(self.cfg.dead_after),
            if self.cfg.fence_record_file.is_some() { " (DRY RUN: fence steps recorded only)" } else { "" }
        );
        let mut told_holding = false;
        loop {
            if STOP.load(Ordering::SeqCst) {
                // A fence under way is not abandoned because systemd is
                // shutting us down as part of that very reboot: the
                // escalation to reboot(2) must still happen.
                if !self.fence_in_progress() {
                    break;
                }
                if !told_holding {
                    tracing::warn!(
                        "stop requested while fencing: staying until the fence completes"
                    );
                    told_holding = true;
                }
            }
            let now = boottime();
            for i in 0..self.storages.len() {
                self.step_storage(i, now);
            }
            self.fence_step(now);
            if now >= self.next_pet {
                let healthy = self.healthy_for_watchdog(now);
                if let Some(w) = &mut self.watchdog {
                    if healthy {
                        w.pet();
                    }
                    self.next_pet = now + w.pet_interval();
                }
            }
            if let Err(e) = self.status(now).write(&status_path) {
                tracing::warn!("cannot write {}: {e}", status_path.display());
            }
            // Sleep until the next thing can happen.
            let mut wake = now + self.cfg.interval.min(Duration::from_secs(1));
            let mut fds = Vec::new();
            for st in &self.storages {
                match &st.job {
                    Some(j) => {
                        wake = wake.min(j.deadline);
                        fds.push(j.pollable());
                    }
                    None => wake = wake.min(st.next_due),
                }
                for j in &st.stuck {
                    fds.push(j.pollable());
                }
                if let Some(t0) = st.last_success {
                    let at = t0 + self.cfg.fence_after;
                    if at > now {
                        wake = wake.min(at);
                    }
                }
            }
            if self.watchdog.is_some() {
                wake = wake.min(self.next_pet);
            }
            if let FenceState::Decided {
                next_try,
                done: false,
                ..
            } = &self.fence
            {
                wake = wake.min(*next_try);
            }
            let now = boottime();
            if wake > now {
                wait_readable(&fds, wake - now);
            }
        }
        tracing::info!("stopping on signal");
        let healthy = self.healthy_for_watchdog(boottime());
        if let Some(w) = self.watchdog.take() {
            if healthy {
                w.disarm();
            } else {
                // Unhealthy storage: a stop must not cancel the reset.
                tracing::warn!("storage unhealthy: leaving the watchdog armed");
                drop(w);
            }
        }
        let _ = std::fs::remove_file(&status_path);
        0
    }
}

/// Entry point for `nfsha heartbeat run`.
pub fn main(cfg: Config, log_stderr: bool) -> i32 {
    crate::log::init(crate::log::LogOptions {
        tag: "nfsha-heartbeat".into(),
        debug: false,
        logfile: None,
        facility: 3,
        syslog: if log_stderr {
            None
        } else {
            crate::log::default_syslog_socket()
        },
        stderr: log_stderr,
    });
    let sys = Real::new();
    let daemon = Daemon::new(cfg, &sys);
    let rc = match daemon {
        Ok(d) => d.run(),
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("nfsha heartbeat run: {e}");
            1
        }
    };
    rc
}
