//! The fence timeline: after this host's last successful renewal *started*
//! (time 0), when it decides to fence, when it has certainly stopped writing,
//! and so how long peers must see no change before they may take over.
//!
//! Time 0 is the start of the last good write, not its end: a peer can see
//! that write land before this host hears it succeeded, and the peer starts
//! its own clock at its observation, which is never earlier than time 0.

use std::time::Duration;

use super::config::Config;
use super::fence::{FenceAction, JOURNAL_FLUSH_BOUND};
use crate::formats::duration;

/// Time allowed for `reboot(2)` without sync to reset the machine.
pub const REBOOT_SETTLE: Duration = Duration::from_secs(5);
/// Slack for the daemon's own scheduling after a deadline passes.
pub const SCHED_SLACK: Duration = Duration::from_secs(1);

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

impl Timeline {
    pub fn of(c: &Config) -> Timeline {
        let mut steps = vec![
            (
                Duration::ZERO,
                "last successful renewal starts (peers' clocks start at or after this)".to_string(),
            ),
            (
                c.interval,
                format!(
                    "next renewal; each attempt is abandoned after io_timeout ({})",
                    duration::fmt(c.io_timeout)
                ),
            ),
            (
                c.fence_after,
                format!(
                    "no successful renewal for fence_after: decision to {} (logged first)",
                    c.fence_action.name()
                ),
            ),
        ];
        let mut notes = Vec::new();
        let decided = c.fence_after + SCHED_SLACK;
        let action_done = match c.fence_action {
            FenceAction::Reboot => {
                steps.push((
                    decided,
                    "journalctl --sync (at most 2s), then reboot(2) without sync".into(),
                ));
                Some(decided + JOURNAL_FLUSH_BOUND + REBOOT_SETTLE)
            }
            FenceAction::GracefulReboot => {
                steps.push((
                    decided,
                    format!("graceful reboot: {}", c.graceful_reboot_command.join(" ")),
                ));
                c.escalate_after.map(|e| {
                    steps.push((
                        decided + e,
                        "still running after escalate_after: reboot(2) without sync".into(),
                    ));
                    decided + e + JOURNAL_FLUSH_BOUND + REBOOT_SETTLE
                })
            }
            FenceAction::RestartAgent => {
                steps.push((
                    decided,
                    format!(
                        "restart hook: {} (VMs keep running: NOT fenced)",
                        c.restart_agent_command.join(" ")
                    ),
                ));
                None
            }
            FenceAction::LogOnly => {
                steps.push((decided, "log only (VMs keep running: NOT fenced)".into()));
                None
            }
        };
        let wd_done = c.watchdog.as_ref().map(|w| {
            steps.push((
                c.fence_after,
                "watchdog no longer petted (storage unhealthy)".into(),
            ));
            steps.push((
                c.fence_after + w.timeout,
                format!("{} fires and resets the host", w.device.display()),
            ));
            c.fence_after + w.timeout + SCHED_SLACK
        });
        // With a watchdog the bound also holds when the daemon itself hangs
        // or is killed, so it is the one peers can rely on.
        let fence_done = match (c.fence_action.fences(), wd_done, action_done) {
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
        if !c.fence_action.fences() {
            notes.push(format!(
                "fence_action = {} never stops this host's VMs: its records say \"not fenced\" and peers must not restart its VMs",
                c.fence_action.name()
            ));
        }
        if c.storages.iter().any(|s| !s.fence) {
            notes.push(
                "storages with fence = false never fence the host; their records say \"not fenced\"".into(),
            );
        }
        let base = fence_done.unwrap_or(c.fence_after + SCHED_SLACK);
        let dead_after_min = base + c.takeover_margin;
        if let Some(done) = fence_done {
            steps.push((done, "host has certainly stopped writing".into()));
        }
        steps.push((
            dead_after_min,
            format!(
                "earliest takeover (fence timeline + takeover_margin {})",
                duration::fmt(c.takeover_margin)
            ),
        ));
        steps.sort_by_key(|s| s.0);
        Timeline {
            steps,
            fence_done,
            dead_after_min,
            notes,
        }
    }

    /// The human rendering printed by `nfsha heartbeat timeline`.
    pub fn render(&self, c: &Config) -> String {
        let mut out = format!(
            "fence timeline for host {} (fence_action = {}, fence_after = {}):\n",
            c.host_id,
            c.fence_action.name(),
            duration::fmt(c.fence_after)
        );
        for (t, what) in &self.steps {
            out.push_str(&format!("  T+{:<8} {what}\n", duration::fmt(*t)));
        }
        match self.fence_done {
            Some(d) => out.push_str(&format!(
                "fenced by:     T+{}\ndead_after:    {} (minimum {})\n",
                duration::fmt(d),
                duration::fmt(c.dead_after),
                duration::fmt(self.dead_after_min)
            )),
            None => out.push_str(&format!(
                "fenced by:     never (this host does not fence itself)\ndead_after:    {} (used when judging peers only)\n",
                duration::fmt(c.dead_after)
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

    #[test]
    fn reboot_timeline_and_minimum() {
        let c = Config::parse("host_id = \"h\"\n").unwrap();
        let t = Timeline::of(&c);
        assert_eq!(t.fence_done, Some(Duration::from_secs(88)));
        assert_eq!(t.dead_after_min, Duration::from_secs(108));
        assert_eq!(c.dead_after, t.dead_after_min);
        let text = t.render(&c);
        assert!(text.contains("T+80s"), "{text}");
        assert!(text.contains("dead_after:    108s"), "{text}");
        assert!(
            text.contains("hung or killed daemon never fences"),
            "{text}"
        );
    }

    #[test]
    fn watchdog_bounds_the_timeline() {
        let c = Config::parse(
            "host_id = \"h\"\nfence_action = \"graceful-reboot\"\n[watchdog]\ntimeout = \"60s\"\n",
        )
        .unwrap();
        let t = Timeline::of(&c);
        assert_eq!(t.fence_done, Some(Duration::from_secs(141)));
        assert_eq!(c.dead_after, Duration::from_secs(161));
    }

    #[test]
    fn log_only_never_fences() {
        let c = Config::parse("host_id = \"h\"\nfence_action = \"log-only\"\n").unwrap();
        let t = Timeline::of(&c);
        assert_eq!(t.fence_done, None);
        assert!(t
            .render(&c)
            .contains("never (this host does not fence itself)"));
    }
}
