//! `nfsha heartbeat run`: the I/O shell around [`super::machine`]. It owns
//! the per-storage helpers ([`super::helper`]), the fence step runner, the
//! watchdog device, the control socket CloudStack's `-c` hands fences to,
//! and the status file; it turns what happens into events and carries out
//! the machine's actions. One thread and one `poll(2)` loop: nothing here
//! waits on the storage.
//!
//! With a configuration that cannot be used it does not stop: it renews
//! with built-in I/O defaults where the file (or the previous run's status,
//! or a lease of this host on a mounted NFS storage) says this host has a
//! lease, fences with the configured or default action, and says so loudly
//! in the log and in its status.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::clock::{boottime, random_u64, wall_ms};
use super::config::{self, Config, ConfigError, Storage};
use super::executor::StepRunner;
use super::fence::{Fencer, RealFencer, RecordingFencer};
use super::handoff;
use super::helper::{Helper, Message};
use super::machine::{Action, Event, Fault, Level, Machine, Settings};
use super::status::Status;
use super::watchdog::Watchdog;
use crate::formats::duration;
use crate::sys::child::{self, wait_readable, Spec};
use crate::sys::{mounts, Real};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// The kernel's id of this boot.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Whether `path` is a mount point now (read from mountinfo, never by
/// touching the path).
pub fn is_mounted(path: &Path) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| mounts::at(&mounts::parse(&t), path).is_some())
        .unwrap_or(false)
}

/// The status a previous daemon left this boot, if any.
fn previous(run_dir: &Path, host_id: &str, boot: &str) -> Option<Status> {
    Status::read(&config::status_file_in(run_dir))
        .ok()
        .filter(|s| !boot.is_empty() && s.boot_id == boot && s.host_id == host_id)
}

/// Fail-safe mode: storages where this host may still hold a lease: those
/// of the previous run, and every NFS mount (renewed only if the lease area
/// there already has a slot naming this host).
fn discovered(cfg: &Config, prev: Option<&Status>) -> Vec<Storage> {
    let mut found: Vec<Storage> = Vec::new();
    let mut add = |name: String, mount: PathBuf, fence: bool, claim: bool| {
        if !cfg
            .storages
            .iter()
            .chain(found.iter())
            .any(|s| s.mount == mount || s.name == name)
        {
            found.push(Storage {
                name,
                mount,
                fence,
                claim,
            });
        }
    };
    for s in prev.map(|p| p.storages.as_slice()).unwrap_or_default() {
        add(s.name.clone(), s.mount.clone().into(), s.fence, true);
    }
    if let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") {
        for m in mounts::parse(&text) {
            if m.fstype == "nfs" || m.fstype == "nfs4" {
                let name = m.mount_point.display().to_string();
                add(name, m.mount_point, true, false);
            }
        }
    }
    found
}

/// Whether a stop is part of a system shutdown: only when systemd says so.
/// Anything else (no systemctl, no answer within 2 s, running, degraded) is
/// a service stop on a host that keeps running: its record must say
/// "stopped", or peers would declare it dead while its VMs run.
fn system_shutdown() -> bool {
    child::run(
        &Spec::new("systemctl").arg("is-system-running"),
        Instant::now() + Duration::from_secs(2),
    )
    .map(|o| o.stdout.trim() == "stopping")
    .unwrap_or(false)
}

struct Shell {
    cfg: Config,
    machine: Machine,
    helpers: Vec<Option<Helper>>,
    /// The round each storage's helper is working on.
    in_flight: Vec<Option<u64>>,
    runner: StepRunner,
    watchdog: Option<Watchdog>,
    listener: Option<std::os::unix::net::UnixListener>,
    status_path: PathBuf,
    boot_id: String,
    config_errors: Vec<String>,
    status_failed: bool,
    pending: Vec<Event>,
}

impl Shell {
    fn log(level: Level, msg: &str) {
        match level {
            Level::Info => tracing::info!("{msg}"),
            Level::Warn => tracing::warn!("{msg}"),
            Level::Error => tracing::error!("{msg}"),
        }
    }

    fn start_round(
        &mut self,
        i: usize,
        seq: u64,
        write: Option<(usize, super::record::Record)>,
        read_len: usize,
        create: bool,
    ) {
        let fail = |f: Fault| Event::RoundDone {
            storage: i,
            seq,
            result: Err(f),
        };
        let mount = self.machine.settings().storages[i].mount.clone();
        if self.cfg.require_mounted && !is_mounted(&mount) {
            self.pending.push(fail(Fault::Unmounted));
            return;
        }
        let slot = match write {
            None => None,
            Some((k, mut rec)) => {
                rec.wall_ms = wall_ms();
                match rec.encode_slot() {
                    Some(b) => Some((k, b)),
                    None => {
                        self.pending.push(fail(Fault::Local(
                            "the record does not fit a 512-byte slot".into(),
                        )));
                        return;
                    }
                }
            }
        };
        if self.helpers[i].as_ref().is_some_and(|h| h.lost) {
            if let Some(h) = self.helpers[i].take() {
                h.dismiss();
            }
        }
        if self.helpers[i].is_none() {
            match Helper::spawn(&super::lease_area::path(&mount)) {
                Ok(h) => self.helpers[i] = Some(h),
                Err(e) => {
                    self.pending.push(fail(Fault::Local(format!(
                        "cannot start the I/O helper: {e}"
                    ))));
                    return;
                }
            }
        }
        let h = self.helpers[i].as_mut().expect("started above");
        match h.send(
            seq,
            read_len,
            slot.as_ref().map(|(k, b)| (*k, &b[..])),
            create,
        ) {
            Ok(()) => self.in_flight[i] = Some(seq),
            Err(e) => {
                h.lost = true;
                self.pending.push(fail(Fault::Local(format!(
                    "the I/O helper (pid {}) is gone: {e}",
                    h.pid()
                ))));
            }
        }
    }

    fn execute(&mut self, actions: Vec<Action>) -> Option<bool> {
        let mut exit = None;
        for a in actions {
            match a {
                Action::Log { level, msg } => Shell::log(level, &msg),
                Action::StartRound {
                    storage,
                    seq,
                    write,
                    read_len,
                    create,
                } => self.start_round(storage, seq, write, read_len, create),
                Action::Step { plan, id, step } => self.runner.start(plan, id, step),
                Action::PetWatchdog => {
                    if let Some(w) = &mut self.watchdog {
                        w.pet();
                    }
                }
                Action::Exit { disarm_watchdog } => exit = Some(disarm_watchdog),
            }
        }
        exit
    }

    /// Events from the helpers, the step runner, the control socket and signals.
    fn collect(&mut self) {
        let wall = wall_ms();
        for i in 0..self.helpers.len() {
            let Some(h) = self.helpers[i].as_mut() else {
                continue;
            };
            for m in h.receive(wall) {
                match m {
                    Message::Progress(step) => {
                        self.pending.push(Event::Progress { storage: i, step })
                    }
                    Message::Done { seq, result } => {
                        self.in_flight[i] = None;
                        self.pending.push(Event::RoundDone {
                            storage: i,
                            seq,
                            result,
                        });
                    }
                }
            }
            if h.lost {
                if let Some(seq) = self.in_flight[i].take() {
                    self.pending.push(Event::RoundDone {
                        storage: i,
                        seq,
                        result: Err(Fault::Local(format!(
                            "the I/O helper (pid {}) exited without an answer",
                            h.pid()
                        ))),
                    });
                }
            }
        }
        for (plan, id, result) in self.runner.results() {
            self.pending.push(Event::StepDone { plan, id, result });
        }
        if let Some(l) = &self.listener {
            for r in handoff::accept(l, std::process::id()) {
                match r {
                    Ok(req) => {
                        tracing::error!(
                            "fence requested on the control socket: {} ({})",
                            req.action.name(),
                            req.cause
                        );
                        self.pending.push(Event::FenceRequest {
                            action: req.action,
                            mount: req.mount,
                            cause: req.cause,
                            escalate_after: req.escalate_after_ms.map(Duration::from_millis),
                        });
                    }
                    Err(e) => tracing::warn!("{e}"),
                }
            }
        }
        if STOP.swap(false, Ordering::SeqCst) {
            let system_shutdown = system_shutdown();
            tracing::info!(
                "stop requested{}",
                if system_shutdown {
                    " (system shutdown)"
                } else {
                    ""
                }
            );
            self.pending.push(Event::Stop { system_shutdown });
        }
    }

    fn status(&self) -> Status {
        let mut s = self.machine.status(boottime());
        s.pid = std::process::id();
        s.boot_id = self.boot_id.clone();
        s.config_errors = self.config_errors.clone();
        s.fence.dry_run = self.cfg.fence_record_file.is_some();
        if let (Some(w), Some(text)) = (&self.watchdog, &s.watchdog) {
            s.watchdog = Some(format!(
                "{} timeout {} {text}",
                w.cfg.device.display(),
                duration::fmt(w.cfg.timeout)
            ));
        }
        s
    }

    fn write_status(&mut self) {
        match self.status().write(&self.status_path) {
            Ok(()) => self.status_failed = false,
            Err(e) => {
                // Local, not the storage: renewals do not depend on it.
                if !self.status_failed {
                    tracing::error!(
                        "cannot write {}: {e} (status, check and storagehb cannot see this daemon; renewals go on)",
                        self.status_path.display()
                    );
                }
                self.status_failed = true;
            }
        }
    }

    fn run(mut self) -> i32 {
        let mut fds: Vec<Option<i32>>;
        let disarm = loop {
            self.collect();
            let now = boottime();
            let mut exit = None;
            let events: Vec<Event> = std::mem::take(&mut self.pending);
            for ev in events.into_iter().chain([Event::Tick]) {
                let actions = self.machine.step(now, ev);
                exit = exit.or(self.execute(actions));
            }
            // Events made while acting (an unmounted storage, a helper that
            // cannot start) are handled at once.
            while !self.pending.is_empty() {
                let events: Vec<Event> = std::mem::take(&mut self.pending);
                for ev in events {
                    let actions = self.machine.step(now, ev);
                    exit = exit.or(self.execute(actions));
                }
            }
            self.write_status();
            if let Some(d) = exit {
                break d;
            }
            // From the time the machine was stepped at, not a later reading:
            // a deadline that passed while acting must wake it at once.
            let wait = self.machine.wait_after_step(now, boottime());
            fds = self
                .helpers
                .iter()
                .map(|h| h.as_ref().map(Helper::pollable))
                .collect();
            fds.push(Some(self.runner.pollable()));
            fds.push(self.listener.as_ref().map(|l| {
                use std::os::fd::AsRawFd;
                l.as_raw_fd()
            }));
            if !wait.is_zero() {
                wait_readable(&fds, wait);
            }
        };
        tracing::info!("stopping");
        if let Some(w) = self.watchdog.take() {
            if disarm {
                w.disarm();
            } else {
                // Unhealthy storage or fencing: a stop must not cancel the reset.
                tracing::warn!("storage unhealthy: leaving the watchdog armed");
                drop(w);
            }
        }
        for h in self.helpers.into_iter().flatten() {
            h.dismiss();
        }
        0
    }
}

/// Start the daemon on `cfg` (`config_errors`: why it runs fail-safe).
pub fn run(mut cfg: Config, config_errors: Vec<ConfigError>) -> i32 {
    let boot = boot_id();
    let prev = previous(&cfg.run_dir, &cfg.host_id, &boot);
    let mut errors: Vec<String> = config_errors.iter().map(ToString::to_string).collect();
    if !errors.is_empty() {
        let extra = discovered(&cfg, prev.as_ref());
        cfg.storages.extend(extra);
    }
    // Where the timeline stood when a predecessor stopped this boot.
    let restored: BTreeMap<PathBuf, Duration> = prev
        .iter()
        .flat_map(|p| p.storages.iter())
        .filter_map(|s| {
            Some((
                PathBuf::from(&s.mount),
                Duration::from_millis(s.last_success_ms?),
            ))
        })
        .collect();
    let sys: &'static Real = Box::leak(Box::new(Real::new()));
    let fencer: Arc<dyn Fencer> = match &cfg.fence_record_file {
        Some(f) => Arc::new(RecordingFencer {
            file: f.clone(),
            sys,
        }),
        None => Arc::new(RealFencer { sys }),
    };
    let runner = match StepRunner::new(fencer, cfg.command_timeout) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            return 1;
        }
    };
    let watchdog = match &cfg.watchdog {
        None => None,
        Some(w) => match Watchdog::open(w) {
            Ok(w) => Some(w),
            Err(e) => {
                // Renewals and the fence go on without it; say so everywhere.
                tracing::error!("{e}: running WITHOUT the watchdog");
                errors.push(e);
                None
            }
        },
    };
    let listener = match handoff::listen(&cfg.run_dir) {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(
                "cannot open the control socket: {e}; CloudStack's -c will start a detached fence instead"
            );
            None
        }
    };
    // SAFETY: installing an async-signal-safe handler that sets an atomic.
    unsafe {
        for sig in [libc::SIGTERM, libc::SIGINT] {
            libc::signal(sig, on_stop_signal as *const () as libc::sighandler_t);
        }
        // A helper that died must not kill us through a broken pipe.
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let now = boottime();
    let machine = Machine::new(Settings::of(&cfg), random_u64(), now, &restored);
    tracing::info!(
        "started: host {} generation {:016x}, {} storage(s), interval {}, io_timeout {}, fence_action {} after {}, dead_after {}{}{}",
        cfg.host_id,
        machine.generation(),
        cfg.storages.len(),
        duration::fmt(cfg.interval),
        duration::fmt(cfg.io_timeout),
        cfg.fence_action.name(),
        duration::fmt(cfg.fence_after),
        duration::fmt(cfg.dead_after),
        if cfg.fence_record_file.is_some() { " (DRY RUN: fence steps recorded only)" } else { "" },
        if restored.is_empty() { String::new() } else { format!(", timeline continued from the previous run for {} storage(s)", restored.len()) }
    );
    if cfg.storages.is_empty() {
        tracing::error!(
            "no storage to renew: nothing is protected; peers see this host's records (if any) stop and may declare it dead"
        );
    }
    let n = cfg.storages.len();
    let shell = Shell {
        status_path: cfg.status_file(),
        cfg,
        machine,
        helpers: (0..n).map(|_| None).collect(),
        in_flight: vec![None; n],
        runner,
        watchdog,
        listener,
        boot_id: boot,
        config_errors: errors,
        status_failed: false,
        pending: Vec::new(),
    };
    shell.run()
}

/// Entry point for `nfsha heartbeat run`.
pub fn main(path: &Path, log_stderr: bool) -> i32 {
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
    match config::load_fail_safe(path) {
        (cfg, errors) if errors.is_empty() => run(cfg, errors),
        (cfg, errors) => {
            let file = path.display().to_string();
            for e in &errors {
                tracing::error!(
                    "CONFIGURATION ERROR: {}",
                    config::render_errors(&file, std::slice::from_ref(e))
                );
            }
            tracing::error!(
                "running FAIL-SAFE with built-in defaults (interval {}, io_timeout {}, fence_after {}, fence_action {}) on {} configured storage(s): fix {file} and restart; `nfsha heartbeat validate` shows every error",
                duration::fmt(cfg.interval),
                duration::fmt(cfg.io_timeout),
                duration::fmt(cfg.fence_after),
                cfg.fence_action.name(),
                cfg.storages.len()
            );
            eprintln!(
                "nfsha heartbeat run: {}\nnfsha heartbeat run: running fail-safe with built-in defaults",
                config::render_errors(&file, &errors)
            );
            run(cfg, errors)
        }
    }
}
