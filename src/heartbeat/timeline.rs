//! The fence timeline: after this host's last successful renewal *started*
//! (time 0), when it decides to fence, when it has certainly stopped writing,
//! and so how long peers must see no change before they may take over; and
//! the shortest `fence_after` an NFS server failover allows.
//!
//! Time 0 is the start of the last good write, not its end: a peer can see
//! that write land before this host hears it succeeded, and the peer starts
//! its own clock at its observation, which is never earlier than time 0.

use std::time::Duration;

use super::fence::{FenceAction, JOURNAL_FLUSH_BOUND};
use crate::formats::duration;

/// Time allowed for `reboot(2)` without sync to reset the machine.
pub const REBOOT_SETTLE: Duration = Duration::from_secs(5);
/// Slack for the daemon's own scheduling after a deadline passes.
pub const SCHED_SLACK: Duration = Duration::from_secs(1);

/// The values the timeline depends on (from a configuration, or as a
/// CloudStack agent's numbers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timings {
    pub interval: Duration,
    pub io_timeout: Duration,
    pub fence_after: Duration,
    pub fence_action: FenceAction,
    pub escalate_after: Option<Duration>,
    /// Deadline of each fence command (graceful reboot, `virsh`).
    pub command_timeout: Duration,
    pub takeover_margin: Duration,
    /// `[watchdog]`: the device and its timeout.
    pub watchdog: Option<(String, Duration)>,
    /// The graceful reboot and restart hook, as shown in the timeline.
    pub graceful_reboot_command: String,
    pub restart_agent_command: String,
    /// Some storage has `fence = false`.
    pub unfenced_storage: bool,
}

/// The NFS server side of a failover, as `[nfs_server]` in heartbeat.toml
/// or the cluster configuration the lint reads says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerTimes {
    /// NFSv4 lease time (nfsd's default 90 s).
    pub lease: Duration,
    /// Grace period after a server start (nfsd's default 90 s).
    pub grace: Duration,
    /// How long the server is unreachable during a failover: stop on one
    /// node, start on the other.
    pub failover: Duration,
}

impl ServerTimes {
    /// knfsd's defaults, and a failover time above the longest client stall
    /// the lab measured in moves and crashes (about 57 s; lab/LAB-RESULTS.md).
    pub const DEFAULT: ServerTimes = ServerTimes {
        lease: Duration::from_secs(90),
        grace: Duration::from_secs(90),
        failover: Duration::from_secs(60),
    };
}

/// The longest storage outage an ordinary failover of the NFS server may
/// cause this host's renewals: the failover itself, then the grace period,
/// which lasts at least one lease (clients have one lease period to notice
/// the restart). Renewals written in place in the lease area need no new
/// state and normally go on as soon as the client has reclaimed its open,
/// seconds after the failover; the grace term covers the cases where they
/// cannot: a reclaim the server refuses (client records not shared between
/// the nodes), a write-then-rename writer such as CloudStack's own script,
/// a daemon (re)started during the grace period.
pub fn failover_outage(s: &ServerTimes) -> Duration {
    s.failover + s.lease.max(s.grace)
}

/// The shortest `fence_after` with which an ordinary failover, even one with
/// a full grace period, never fences: [`failover_outage`] plus one renewal
/// (interval + io_timeout) to notice the storage is back. The lint's NFS702
/// and `nfsha heartbeat validate` both use this.
pub fn min_fence_after(s: &ServerTimes, interval: Duration, io_timeout: Duration) -> Duration {
    failover_outage(s) + interval + io_timeout
}

#[derive(Clone, Debug)]
pub struct Timeline {
    /// (time after the last good renewal started, what happens).
    pub steps: Vec<(Duration, String)>,
    /// When the host has certainly stopped writing; `None`: never (it does
    /// not fence itself).
    pub fence_done: Option<Duration>,
    /// The shortest `dead_after` allowed.
    pub dead_after_min: Duration,
    /// Caveats an admin must know.
    pub notes: Vec<String>,
}

/// When a reboot step started at `at` has certainly reset the host.
fn reset_by(at: Duration) -> Duration {
    at + JOURNAL_FLUSH_BOUND + REBOOT_SETTLE
}

impl Timeline {
    pub fn of(t: &Timings) -> Timeline {
        let mut steps = vec![
            (
                Duration::ZERO,
                "last successful renewal starts (peers' clocks start at or after this)".to_string(),
            ),
            (
                t.interval,
                format!(
                    "next renewal; an attempt without an answer after io_timeout ({}) counts as failed",
                    duration::fmt(t.io_timeout)
                ),
            ),
            (
                t.fence_after,
                format!(
                    "no successful renewal for fence_after: decision to {} (logged first)",
                    t.fence_action.name()
                ),
            ),
        ];
        let mut notes = Vec::new();
        let decided = t.fence_after + SCHED_SLACK;
        let escalate = t.escalate_after.unwrap_or_default();
        let action_done = match t.fence_action {
            FenceAction::Reboot => {
                steps.push((
                    decided,
                    "journalctl --sync (at most 2s), then reboot(2) without sync".into(),
                ));
                Some(reset_by(decided))
            }
            FenceAction::GracefulReboot => {
                steps.push((
                    decided,
                    format!("graceful reboot: {}", t.graceful_reboot_command),
                ));
                t.escalate_after.map(|e| {
                    steps.push((
                        decided + e,
                        "still running after escalate_after: reboot(2) without sync".into(),
                    ));
                    reset_by(decided + e)
                })
            }
            a @ (FenceAction::DestroyPoolVms | FenceAction::ShutdownPoolVms) => {
                let (first, rest) = if a == FenceAction::ShutdownPoolVms {
                    steps.push((
                        decided + escalate,
                        "virsh destroy the ones still running".into(),
                    ));
                    ("shutdown", escalate)
                } else {
                    ("destroy", Duration::ZERO)
                };
                steps.push((
                    decided,
                    format!("virsh {first} the VMs with a disk on the failed storage (the host keeps running)"),
                ));
                steps.push((
                    decided + rest + escalate,
                    "any of them still running: reboot(2) without sync".into(),
                ));
                notes.push(format!(
                    "fence_action = {} stops only the VMs on the failed storage: the host stays up and its records say \"not fenced\"; CloudStack restarts those VMs when its agent reports them stopped",
                    a.name()
                ));
                None
            }
            FenceAction::RestartAgent => {
                steps.push((
                    decided,
                    format!(
                        "restart hook: {} (VMs keep running: NOT fenced)",
                        t.restart_agent_command
                    ),
                ));
                None
            }
            FenceAction::LogOnly => {
                steps.push((decided, "log only (VMs keep running: NOT fenced)".into()));
                None
            }
        };
        let wd_done = t.watchdog.as_ref().map(|(dev, timeout)| {
            if t.fence_action.scope() == super::fence::Scope::Host {
                steps.push((
                    t.fence_after,
                    "watchdog no longer petted (storage unhealthy)".into(),
                ));
                steps.push((
                    t.fence_after + *timeout,
                    format!("{dev} fires and resets the host"),
                ));
            }
            t.fence_after + *timeout + SCHED_SLACK
        });
        // With a watchdog the bound also holds when the daemon itself hangs
        // or is killed, so it is the one peers can rely on.
        let fence_done = match (t.fence_action.fences(), wd_done, action_done) {
            (false, _, _) => None,
            (true, Some(w), _) => Some(w),
            (true, None, a) => {
                if a.is_some() {
                    notes.push(
                        "no [watchdog]: the bound assumes the daemon is running; a hung or killed daemon never fences"
                            .into(),
                    );
                }
                a
            }
        };
        if matches!(
            t.fence_action,
            FenceAction::LogOnly | FenceAction::RestartAgent
        ) {
            notes.push(format!(
                "fence_action = {} never stops this host's VMs: its records say \"not fenced\" and peers must not restart its VMs",
                t.fence_action.name()
            ));
        }
        if t.unfenced_storage {
            notes.push(
                "storages with fence = false never fence the host; their records say \"not fenced\"".into(),
            );
        }
        let base = fence_done.unwrap_or(decided);
        let dead_after_min = base + t.takeover_margin;
        if let Some(done) = fence_done {
            steps.push((done, "host has certainly stopped writing".into()));
            steps.push((
                dead_after_min,
                format!(
                    "earliest takeover (fence timeline + takeover_margin {})",
                    duration::fmt(t.takeover_margin)
                ),
            ));
        }
        steps.sort_by_key(|s| s.0);
        Timeline {
            steps,
            fence_done,
            dead_after_min,
            notes,
        }
    }

    /// The human rendering printed by `nfsha heartbeat timeline`.
    pub fn render(&self, host_id: &str, t: &Timings, dead_after: Duration) -> String {
        let mut out = format!(
            "fence timeline for host {host_id} (fence_action = {}, fence_after = {}):\n",
            t.fence_action.name(),
            duration::fmt(t.fence_after)
        );
        for (at, what) in &self.steps {
            out.push_str(&format!("  T+{:<8} {what}\n", duration::fmt(*at)));
        }
        match self.fence_done {
            Some(d) => out.push_str(&format!(
                "fenced by:     T+{}\ndead_after:    {} (minimum {})\n",
                duration::fmt(d),
                duration::fmt(dead_after),
                duration::fmt(self.dead_after_min)
            )),
            None => out.push_str(&format!(
                "fenced by:     never (this host does not fence itself)\ndead_after:    {} (used when judging peers only)\n",
                duration::fmt(dead_after)
            )),
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn timings(action: FenceAction) -> Timings {
        Timings {
            interval: Duration::from_secs(10),
            io_timeout: Duration::from_secs(10),
            fence_after: Duration::from_secs(170),
            fence_action: action,
            escalate_after: None,
            command_timeout: Duration::from_secs(60),
            takeover_margin: Duration::from_secs(20),
            watchdog: None,
            graceful_reboot_command: "systemctl reboot".into(),
            restart_agent_command: "systemctl restart cloudstack-agent".into(),
            unfenced_storage: false,
        }
    }

    #[test]
    fn reboot_timeline_and_minimum() {
        let t = timings(FenceAction::Reboot);
        let tl = Timeline::of(&t);
        assert_eq!(tl.fence_done, Some(Duration::from_secs(178)));
        assert_eq!(tl.dead_after_min, Duration::from_secs(198));
        let text = tl.render("h", &t, tl.dead_after_min);
        assert!(text.contains("T+170s"), "{text}");
        assert!(text.contains("dead_after:    198s"), "{text}");
        assert!(
            text.contains("hung or killed daemon never fences"),
            "{text}"
        );
    }

    #[test]
    fn watchdog_bounds_the_timeline() {
        let mut t = timings(FenceAction::GracefulReboot);
        t.fence_after = Duration::from_secs(80);
        t.watchdog = Some(("/dev/watchdog".into(), Duration::from_secs(60)));
        let tl = Timeline::of(&t);
        assert_eq!(tl.fence_done, Some(Duration::from_secs(141)));
        assert_eq!(tl.dead_after_min, Duration::from_secs(161));
        t.escalate_after = Some(Duration::from_secs(30));
        t.watchdog = None;
        assert_eq!(Timeline::of(&t).fence_done, Some(Duration::from_secs(118)));
        t.escalate_after = None;
        assert_eq!(
            Timeline::of(&t).fence_done,
            None,
            "unbounded without either"
        );
    }

    #[test]
    fn actions_that_do_not_fence_the_host() {
        for a in [
            FenceAction::LogOnly,
            FenceAction::RestartAgent,
            FenceAction::DestroyPoolVms,
            FenceAction::ShutdownPoolVms,
        ] {
            let mut t = timings(a);
            t.escalate_after = Some(Duration::from_secs(30));
            let tl = Timeline::of(&t);
            assert_eq!(tl.fence_done, None, "{a:?}");
            assert_eq!(tl.dead_after_min, Duration::from_secs(191), "{a:?}");
            assert!(tl
                .render("h", &t, tl.dead_after_min)
                .contains("never (this host does not fence itself)"));
        }
        let mut t = timings(FenceAction::ShutdownPoolVms);
        t.escalate_after = Some(Duration::from_secs(30));
        let text = Timeline::of(&t).render("h", &t, Duration::from_secs(191));
        assert!(text.contains("T+171s     virsh shutdown"), "{text}");
        assert!(text.contains("T+201s     virsh destroy"), "{text}");
        assert!(
            text.contains("T+231s     any of them still running: reboot(2)"),
            "{text}"
        );
    }

    #[test]
    fn fence_after_covers_a_failover_with_a_full_grace() {
        let s = ServerTimes::DEFAULT;
        assert_eq!(failover_outage(&s), Duration::from_secs(150));
        let ten = Duration::from_secs(10);
        assert_eq!(min_fence_after(&s, ten, ten), Duration::from_secs(170));
        // The grace period lasts at least a lease.
        let s = ServerTimes {
            lease: Duration::from_secs(120),
            grace: Duration::from_secs(90),
            failover: Duration::from_secs(30),
        };
        assert_eq!(failover_outage(&s), Duration::from_secs(150));
    }
}
