//! Carrying out fence steps without ever blocking the caller's loop: each
//! step runs on a thread of its own (every command in it has a deadline, see
//! [`crate::sys::child`]), and its result comes back through a channel; a
//! byte on a pipe wakes the caller's `poll`.
//!
//! [`execute`] runs one [`Plan`] to its end: the detached fence that
//! CloudStack's `-c` hands over when no heartbeat daemon runs.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use super::clock::boottime;
use super::fence::Fencer;
use super::machine::{describe, PlanKey};
use super::plan::{Plan, Step, StepResult};
use crate::sys::child::wait_readable;

/// Carry out one step (blocking, bounded by the commands' deadlines).
pub fn run_step(fencer: &dyn Fencer, step: &Step, command_timeout: Duration) -> StepResult {
    let r =
        match step {
            Step::Log => Ok(()),
            Step::Command { what, argv } => fencer.command(what, argv, command_timeout),
            Step::Reboot { why } => fencer.reboot_now(why),
            Step::StopPoolVms { mount, how } => fencer
                .stop_pool_vms(mount, *how, command_timeout)
                .map(|vms| {
                    tracing::warn!(
                        "virsh {}: {} VM(s) with a disk under {}: {}",
                        how.verb(),
                        vms.len(),
                        mount.display(),
                        vms.join(", ")
                    )
                }),
            Step::VerifyPoolVms { mount } => match fencer.pool_vms(mount, command_timeout) {
                Ok(v) if v.is_empty() => Ok(()),
                Ok(v) => return StepResult::VmsLeft(v),
                Err(e) => Err(e),
            },
        };
    match r {
        Ok(()) => StepResult::Done,
        Err(e) => StepResult::Failed(e),
    }
}

/// Steps on threads, results through a channel and a wake-up pipe.
pub struct StepRunner {
    fencer: Arc<dyn Fencer>,
    command_timeout: Duration,
    tx: mpsc::Sender<(PlanKey, usize, StepResult)>,
    rx: mpsc::Receiver<(PlanKey, usize, StepResult)>,
    wake_r: std::fs::File,
    wake_w: Arc<std::fs::File>,
}

fn pipe() -> std::io::Result<(std::fs::File, std::fs::File)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors from pipe2.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((r.into(), w.into()))
}

impl StepRunner {
    pub fn new(fencer: Arc<dyn Fencer>, command_timeout: Duration) -> std::io::Result<StepRunner> {
        let (tx, rx) = mpsc::channel();
        let (wake_r, wake_w) = pipe()?;
        Ok(StepRunner {
            fencer,
            command_timeout,
            tx,
            rx,
            wake_r,
            wake_w: Arc::new(wake_w),
        })
    }

    /// Start `step` of plan `plan` on a thread.
    pub fn start(&self, plan: PlanKey, id: usize, step: Step) {
        let (fencer, tx, wake, timeout) = (
            self.fencer.clone(),
            self.tx.clone(),
            self.wake_w.clone(),
            self.command_timeout,
        );
        std::thread::spawn(move || {
            let result = run_step(fencer.as_ref(), &step, timeout);
            let _ = tx.send((plan, id, result));
            let _ = (&*wake).write(b"x");
        });
    }

    /// The descriptor that becomes readable when a step has finished.
    pub fn pollable(&self) -> RawFd {
        self.wake_r.as_raw_fd()
    }

    /// Results that have arrived (never blocks).
    pub fn results(&self) -> Vec<(PlanKey, usize, StepResult)> {
        let mut sink = [0u8; 64];
        while matches!((&self.wake_r).read(&mut sink), Ok(n) if n > 0) {}
        self.rx.try_iter().collect()
    }
}

/// Run `plan` to its end (a reboot that works does not return). Ignores
/// SIGTERM, SIGINT and SIGHUP: this process must outlive the caller that
/// handed the fence over and a shutdown that hangs; the commands it runs get
/// their default signal handling back.
pub fn execute(mut plan: Plan, fencer: Arc<dyn Fencer>, command_timeout: Duration) -> i32 {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: ignoring a signal in this process.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
    let runner = match StepRunner::new(fencer, command_timeout) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot run the fence steps: {e}");
            return 1;
        }
    };
    tracing::error!(
        "FENCE DECISION: {}: fence_action = {}",
        plan.cause,
        plan.action.name()
    );
    loop {
        let now = boottime();
        for (_, id, result) in runner.results() {
            match &result {
                StepResult::Done => tracing::warn!("fence step {id} done"),
                other => tracing::error!("fence step {id}: {other:?}"),
            }
            plan.finished(id, result, now);
        }
        for (id, step) in plan.due(now) {
            tracing::error!("fence step: {}", describe(&step));
            runner.start(PlanKey::Host, id, step);
        }
        if plan.complete() {
            return 0;
        }
        let wait = plan
            .next_wake()
            .map_or(Duration::from_secs(1), |t| t.saturating_sub(boottime()))
            .min(Duration::from_secs(1));
        wait_readable(&[Some(runner.pollable())], wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::fence::{FenceAction, RecordingFencer};
    use crate::heartbeat::plan::PlanSpec;

    #[test]
    fn a_plan_runs_to_its_end_through_the_recording_fencer() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("fence.log");
        let sys: &'static crate::sys::Real = Box::leak(Box::new(crate::sys::Real::new()));
        let fencer = Arc::new(RecordingFencer {
            file: log.clone(),
            sys,
        });
        let hook = dir.path().join("ran");
        let spec = PlanSpec {
            escalate_after: Some(Duration::from_millis(300)),
            graceful_reboot_command: vec!["touch".into(), hook.display().to_string()],
            restart_agent_command: vec![],
        };
        let plan = Plan::new(
            FenceAction::GracefulReboot,
            None,
            "test".into(),
            boottime(),
            &spec,
        );
        // SIGTERM is ignored while it runs: keep the test harness's own.
        let old = unsafe { libc::signal(libc::SIGTERM, libc::SIG_DFL) };
        assert_eq!(execute(plan, fencer, Duration::from_secs(5)), 0);
        unsafe {
            libc::signal(libc::SIGTERM, old);
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGHUP, libc::SIG_DFL);
        }
        let lines = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = lines.lines().collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("graceful-reboot touch"), "{lines:?}");
        assert!(
            lines[1].contains("reboot graceful reboot did not finish within escalate_after: test"),
            "{lines:?}"
        );
        assert!(hook.exists(), "a harmless command runs for real");
    }
}
