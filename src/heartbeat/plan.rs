//! A staged fence, as data: which steps run when, counted from the decision,
//! and how a failed step escalates. Pure (time is passed in), shared by the
//! daemon's state machine and the detached executor that carries out a fence
//! handed over by CloudStack's `-c`.
//!
//! Escalation is by time, not by completion: a graceful reboot that hangs on
//! the dead mount is escalated to `reboot(2)` at `escalate_after` whether or
//! not `systemctl reboot` ever returned. A step that fails escalates at once.
//! A plan is never cancelled once a step that may reboot is under way.

use std::path::PathBuf;
use std::time::Duration;

use super::fence::{FenceAction, VmStop};

/// How long to wait before retrying a `reboot(2)` that returned.
pub const REBOOT_RETRY: Duration = Duration::from_secs(5);
/// The id of the reboot a failed step escalates to.
pub const ESCALATED: usize = usize::MAX;

/// One thing to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing but the logged decision (log-only).
    Log,
    /// An argv command (the graceful reboot, the restart hook).
    Command {
        what: &'static str,
        argv: Vec<String>,
    },
    /// `reboot(2)` without sync.
    Reboot { why: String },
    /// Stop the VMs with a disk under the mount.
    StopPoolVms { mount: PathBuf, how: VmStop },
    /// Are any of them still running? If so (or if it cannot tell): reboot.
    VerifyPoolVms { mount: PathBuf },
}

/// What a step's execution came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepResult {
    Done,
    /// VMs still running with a disk on the storage (VerifyPoolVms).
    VmsLeft(Vec<String>),
    Failed(String),
}

/// `escalate_after` for the pool-scoped actions when it is not set, and for
/// any staged action handed over without a bound.
pub const DEFAULT_POOL_ESCALATE: Duration = Duration::from_secs(60);

/// The commands and times a plan is built from (from the configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanSpec {
    pub escalate_after: Option<Duration>,
    pub graceful_reboot_command: Vec<String>,
    pub restart_agent_command: Vec<String>,
}

impl PlanSpec {
    /// The spec a fence handed over (CloudStack's `-c`, `nfsha heartbeat
    /// fence`) is carried out with, by the daemon or by a detached executor:
    /// the commands are this host's, the escalation is the request's when it
    /// names one (the caller built it from its own configuration: a daemon
    /// started with other settings must not change it), else this spec's.
    /// A staged action that would still have no bound gets
    /// [`DEFAULT_POOL_ESCALATE`], except a graceful reboot that `watchdog`
    /// backs (the daemon stops petting it once a host fence is decided);
    /// a pool action always needs its verification step.
    pub fn for_request(
        &self,
        action: FenceAction,
        requested: Option<Duration>,
        watchdog: bool,
    ) -> PlanSpec {
        let mut spec = self.clone();
        if let Some(e) = requested.filter(|e| !e.is_zero()) {
            spec.escalate_after = Some(e);
        }
        let needs_bound = match action {
            FenceAction::GracefulReboot => !watchdog,
            FenceAction::DestroyPoolVms | FenceAction::ShutdownPoolVms => true,
            FenceAction::Reboot | FenceAction::RestartAgent | FenceAction::LogOnly => false,
        };
        if needs_bound {
            spec.escalate_after = spec.escalate_after.or(Some(DEFAULT_POOL_ESCALATE));
        }
        spec
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Stage {
    at: Duration,
    step: Step,
    started: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub action: FenceAction,
    /// The storage whose VMs a pool-scoped action stops.
    pub mount: Option<PathBuf>,
    /// Why the fence was decided (logged, shown in the status).
    pub cause: String,
    /// When it was decided (CLOCK_BOOTTIME).
    pub decided_at: Duration,
    stages: Vec<Stage>,
    /// Steps that are running, whose results are awaited.
    running: Vec<usize>,
    /// The plan escalated to an unscheduled reboot (a step failed).
    escalated: Option<String>,
    reboot_retry_at: Option<Duration>,
    rebooted: bool,
    complete: bool,
}

impl Plan {
    pub fn new(
        action: FenceAction,
        mount: Option<PathBuf>,
        cause: String,
        decided_at: Duration,
        spec: &PlanSpec,
    ) -> Plan {
        let esc = spec.escalate_after.unwrap_or(Duration::MAX / 4);
        let reboot = |why: &str| Step::Reboot {
            why: format!("{why}: {cause}"),
        };
        let pool = || mount.clone().unwrap_or_default();
        let staged: Vec<(Duration, Step)> = match action {
            FenceAction::LogOnly => vec![(Duration::ZERO, Step::Log)],
            FenceAction::RestartAgent => vec![(
                Duration::ZERO,
                Step::Command {
                    what: "restart-agent",
                    argv: spec.restart_agent_command.clone(),
                },
            )],
            FenceAction::Reboot => vec![(Duration::ZERO, reboot("fence"))],
            FenceAction::GracefulReboot => {
                let mut v = vec![(
                    Duration::ZERO,
                    Step::Command {
                        what: "graceful-reboot",
                        argv: spec.graceful_reboot_command.clone(),
                    },
                )];
                if spec.escalate_after.is_some() {
                    v.push((
                        esc,
                        reboot("graceful reboot did not finish within escalate_after"),
                    ));
                }
                v
            }
            FenceAction::DestroyPoolVms => vec![
                (
                    Duration::ZERO,
                    Step::StopPoolVms {
                        mount: pool(),
                        how: VmStop::Destroy,
                    },
                ),
                (esc, Step::VerifyPoolVms { mount: pool() }),
            ],
            FenceAction::ShutdownPoolVms => vec![
                (
                    Duration::ZERO,
                    Step::StopPoolVms {
                        mount: pool(),
                        how: VmStop::Shutdown,
                    },
                ),
                (
                    esc,
                    Step::StopPoolVms {
                        mount: pool(),
                        how: VmStop::Destroy,
                    },
                ),
                (esc.saturating_mul(2), Step::VerifyPoolVms { mount: pool() }),
            ],
        };
        Plan {
            action,
            mount,
            decided_at,
            stages: staged
                .into_iter()
                .map(|(at, step)| Stage {
                    at: decided_at.saturating_add(at),
                    step,
                    started: false,
                })
                .collect(),
            cause,
            running: Vec::new(),
            escalated: None,
            reboot_retry_at: None,
            rebooted: false,
            complete: false,
        }
    }

    /// Steps to start at `now`, each with the id its result is reported under.
    /// A step whose time has come starts even while an earlier one is still
    /// running (a `systemctl reboot` that hangs does not hold back the
    /// escalation).
    pub fn due(&mut self, now: Duration) -> Vec<(usize, Step)> {
        let retry_ok = self.reboot_retry_at.map_or(true, |t| now >= t);
        if self.complete {
            return Vec::new();
        }
        if let Some(why) = &self.escalated {
            if !retry_ok || self.running.contains(&ESCALATED) {
                return Vec::new();
            }
            self.running.push(ESCALATED);
            return vec![(
                ESCALATED,
                Step::Reboot {
                    why: format!("{why}: {}", self.cause),
                },
            )];
        }
        let mut out = Vec::new();
        for (i, st) in self.stages.iter_mut().enumerate() {
            if st.started {
                continue;
            }
            if now < st.at || (matches!(st.step, Step::Reboot { .. }) && !retry_ok) {
                break;
            }
            st.started = true;
            self.running.push(i);
            out.push((i, st.step.clone()));
        }
        out
    }

    /// The result of step `id` (from [`Plan::due`]) at `now`.
    pub fn finished(&mut self, id: usize, result: StepResult, now: Duration) {
        let Some(at) = self.running.iter().position(|r| *r == id) else {
            return;
        };
        self.running.remove(at);
        let step = if id == ESCALATED {
            None
        } else {
            self.stages.get(id).map(|s| s.step.clone())
        };
        let is_reboot = id == ESCALATED || matches!(step, Some(Step::Reboot { .. }));
        if is_reboot {
            match result {
                // Recorded (tests), or the machine is already going down.
                StepResult::Done => {
                    self.rebooted = true;
                    self.complete = true;
                }
                _ => {
                    // Try again: a reboot that returned is retried until it works.
                    self.reboot_retry_at = Some(now + REBOOT_RETRY);
                    if id != ESCALATED {
                        self.stages[id].started = false;
                    }
                }
            }
            return;
        }
        let last = id + 1 == self.stages.len() && self.running.is_empty();
        match (step, result) {
            (Some(Step::VerifyPoolVms { .. }), StepResult::Done) => self.complete = true,
            (Some(Step::VerifyPoolVms { .. }), StepResult::VmsLeft(vms)) => {
                self.escalated = Some(format!(
                    "VMs still running on the failed storage ({})",
                    vms.join(", ")
                ))
            }
            // A graceful shutdown that failed is followed by the destroy stage.
            (
                Some(Step::StopPoolVms {
                    how: VmStop::Shutdown,
                    ..
                }),
                StepResult::Failed(_),
            ) => {}
            (Some(_), StepResult::Failed(e)) if self.action.may_reboot() => {
                self.escalated = Some(format!("fence step failed ({e})"))
            }
            _ if last => self.complete = true,
            _ => {}
        }
    }

    /// When the plan next wants to run a step (None: nothing scheduled).
    pub fn next_wake(&self) -> Option<Duration> {
        if self.complete {
            return None;
        }
        if self.escalated.is_some() {
            return (!self.running.contains(&ESCALATED))
                .then(|| self.reboot_retry_at.unwrap_or_default());
        }
        self.stages
            .iter()
            .find(|s| !s.started)
            .map(|s| s.at.max(self.reboot_retry_at.unwrap_or_default()))
    }

    /// Every step done (or the reboot carried out or recorded).
    pub fn complete(&self) -> bool {
        self.complete
    }

    /// A step that may reboot the host is due or under way: the plan must
    /// not be given up (not on recovery, not on a stop request).
    pub fn committed(&self) -> bool {
        !self.complete
            && (self.action.fences()
                || self.escalated.is_some()
                || self.stages.iter().any(|s| s.started) && self.action.may_reboot())
    }

    /// The plan reached (or is about to run) a reboot.
    pub fn rebooting(&self) -> bool {
        self.rebooted
            || self.escalated.is_some()
            || self
                .stages
                .iter()
                .any(|s| s.started && matches!(s.step, Step::Reboot { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn spec(esc: Option<u64>) -> PlanSpec {
        PlanSpec {
            escalate_after: esc.map(Duration::from_secs),
            graceful_reboot_command: vec!["systemctl".into(), "reboot".into()],
            restart_agent_command: vec!["hook".into()],
        }
    }

    fn plan(a: FenceAction, esc: Option<u64>) -> Plan {
        Plan::new(
            a,
            Some("/mnt/p".into()),
            "storage p: no renewal".into(),
            100 * S,
            &spec(esc),
        )
    }

    #[test]
    fn reboot_at_once_and_retried_until_it_works() {
        let mut p = plan(FenceAction::Reboot, None);
        assert!(p.committed() && !p.rebooting());
        assert_eq!(p.due(99 * S), vec![], "not before the decision");
        let d = p.due(100 * S);
        assert!(
            matches!(&d[..], [(0, Step::Reboot { why })] if why == "fence: storage p: no renewal"),
            "{d:?}"
        );
        assert_eq!(p.due(100 * S), vec![], "one at a time");
        p.finished(0, StepResult::Failed("EPERM".into()), 100 * S);
        assert!(!p.complete());
        assert_eq!(p.next_wake(), Some(105 * S));
        assert_eq!(p.due(104 * S), vec![]);
        assert_eq!(p.due(105 * S).len(), 1, "retried after 5 s");
        p.finished(0, StepResult::Done, 105 * S);
        assert!(p.complete() && p.rebooting() && !p.committed());
        assert_eq!(p.next_wake(), None);
    }

    #[test]
    fn graceful_reboot_escalates_by_time_even_while_the_command_hangs() {
        let mut p = plan(FenceAction::GracefulReboot, Some(30));
        let d = p.due(100 * S);
        assert!(matches!(
            &d[..],
            [(
                0,
                Step::Command {
                    what: "graceful-reboot",
                    ..
                }
            )]
        ));
        // systemctl reboot never returns (hung on the dead mount)...
        assert_eq!(p.next_wake(), Some(130 * S));
        assert_eq!(p.due(129 * S), vec![]);
        let d = p.due(130 * S);
        assert!(
            matches!(&d[..], [(1, Step::Reboot { why })] if why.starts_with("graceful reboot did not finish")),
            "{d:?}"
        );
    }

    #[test]
    fn a_graceful_reboot_command_that_fails_reboots_at_once() {
        let mut p = plan(FenceAction::GracefulReboot, Some(30));
        p.due(100 * S);
        p.finished(
            0,
            StepResult::Failed("exit 1: Failed to start reboot.target".into()),
            101 * S,
        );
        assert_eq!(p.next_wake(), Some(Duration::ZERO), "now");
        let d = p.due(101 * S);
        assert!(
            matches!(&d[..], [(ESCALATED, Step::Reboot { why })] if why.starts_with("fence step failed (exit 1")),
            "{d:?}"
        );
        assert_eq!(p.next_wake(), None, "the reboot is running");
        p.finished(ESCALATED, StepResult::Failed("EPERM".into()), 101 * S);
        assert_eq!(p.next_wake(), Some(106 * S));
        assert_eq!(p.due(105 * S), vec![]);
        assert_eq!(p.due(106 * S).len(), 1);
        p.finished(ESCALATED, StepResult::Done, 106 * S);
        assert!(p.complete());
    }

    #[test]
    fn graceful_reboot_that_returns_escalates_at_escalate_after() {
        let mut p = plan(FenceAction::GracefulReboot, Some(30));
        p.due(100 * S);
        p.finished(0, StepResult::Done, 101 * S);
        assert!(!p.complete(), "the reboot may still hang");
        assert_eq!(p.next_wake(), Some(130 * S));
        assert_eq!(p.due(129 * S), vec![]);
        let d = p.due(130 * S);
        assert!(
            matches!(&d[..], [(1, Step::Reboot { why })] if why.starts_with("graceful reboot did not finish"))
        );
        p.finished(1, StepResult::Done, 130 * S);
        assert!(p.complete());
    }

    #[test]
    fn graceful_without_escalation_ends_with_the_command() {
        let mut p = plan(FenceAction::GracefulReboot, None);
        p.due(100 * S);
        p.finished(0, StepResult::Done, 101 * S);
        assert!(p.complete() && !p.rebooting());
    }

    #[test]
    fn pool_vms_destroyed_then_verified_then_reboot_if_any_remain() {
        let mut p = plan(FenceAction::DestroyPoolVms, Some(30));
        assert!(!p.committed(), "nothing started yet");
        let d = p.due(100 * S);
        assert_eq!(
            d,
            vec![(
                0,
                Step::StopPoolVms {
                    mount: "/mnt/p".into(),
                    how: VmStop::Destroy
                }
            )]
        );
        assert!(p.committed());
        p.finished(0, StepResult::Done, 101 * S);
        assert_eq!(p.next_wake(), Some(130 * S));
        assert_eq!(
            p.due(130 * S),
            vec![(
                1,
                Step::VerifyPoolVms {
                    mount: "/mnt/p".into()
                }
            )]
        );
        p.finished(1, StepResult::VmsLeft(vec!["web1".into()]), 131 * S);
        assert!(!p.complete());
        let d = p.due(131 * S);
        assert!(
            matches!(&d[..], [(_, Step::Reboot { why })] if why.contains("VMs still running on the failed storage (web1)")),
            "{d:?}"
        );
        // All gone: done, the host stays up.
        let mut p = plan(FenceAction::DestroyPoolVms, Some(30));
        p.due(100 * S);
        p.finished(0, StepResult::Done, 101 * S);
        p.due(130 * S);
        p.finished(1, StepResult::Done, 131 * S);
        assert!(p.complete() && !p.rebooting() && !p.committed());
    }

    #[test]
    fn a_failed_stop_reboots_at_once() {
        let mut p = plan(FenceAction::DestroyPoolVms, Some(30));
        p.due(100 * S);
        p.finished(0, StepResult::Failed("virsh timed out".into()), 160 * S);
        assert!(p.rebooting());
        assert!(matches!(&p.due(160 * S)[..], [(_, Step::Reboot { .. })]));
        // A result for a step that is not running is ignored.
        p.finished(7, StepResult::Done, 161 * S);
        assert!(!p.complete());
    }

    #[test]
    fn shutdown_then_destroy_then_verify() {
        let mut p = plan(FenceAction::ShutdownPoolVms, Some(20));
        assert!(matches!(
            &p.due(100 * S)[..],
            [(
                0,
                Step::StopPoolVms {
                    how: VmStop::Shutdown,
                    ..
                }
            )]
        ));
        p.finished(0, StepResult::Done, 100 * S);
        assert_eq!(p.next_wake(), Some(120 * S));
        assert!(matches!(
            &p.due(120 * S)[..],
            [(
                1,
                Step::StopPoolVms {
                    how: VmStop::Destroy,
                    ..
                }
            )]
        ));
        p.finished(1, StepResult::Done, 121 * S);
        assert_eq!(p.next_wake(), Some(140 * S));
        assert!(matches!(
            &p.due(140 * S)[..],
            [(2, Step::VerifyPoolVms { .. })]
        ));
    }

    #[test]
    fn hooks_and_logs_complete_and_never_reboot() {
        for a in [FenceAction::LogOnly, FenceAction::RestartAgent] {
            let mut p = plan(a, None);
            let d = p.due(100 * S);
            assert_eq!(d.len(), 1);
            assert!(!p.committed(), "{a:?} may be withdrawn");
            p.finished(0, StepResult::Failed("hook failed".into()), 100 * S);
            assert!(p.complete() && !p.rebooting(), "{a:?}");
            assert_eq!(p.due(200 * S), vec![]);
        }
    }
}
