//! The CloudStack agent's own heartbeat timeline, from its numbers
//! (`KVMHAMonitor`, `KVMHAChecker`, `Script`), and the defaults nfsha's
//! personalities derive from it. Pure: durations in, durations out.
//!
//! Time 0 is the start of the agent's last successful write on a pool. The
//! agent then sleeps `kvm.heartbeat.update.frequency` after the round, and
//! when the storage fails it tries `max.tries` times, sleeping `retry.sleep`
//! after every failed try, the last one included, before it calls `-c`:
//!
//! ```text
//! T+0                          last good write starts
//! T+io                         it has ended (each call is bounded by io_timeout)
//! T+io+freq                    next round: first failing try
//! T+io+freq+tries×(io+sleep)   -c (the fence) starts
//! … + the fence action's bound  the host has stopped writing
//! … + takeover_margin           dead_after: peers may take over
//! ```
//!
//! With the defaults (io 50 s, freq 60 s, 5 tries, sleep 10 s, reboot):
//! 50 + 60 + 5 × 60 = 410 s to `-c`, 418 s fenced (1 s slack, 2 s journal
//! flush, 5 s reset), dead_after 438 s.

use std::time::Duration;

use crate::heartbeat::fence::JOURNAL_FLUSH_BOUND;
use crate::heartbeat::timeline::{REBOOT_SETTLE, SCHED_SLACK};

use super::agent_properties::AgentProperties;

/// What nfsha keeps between its own bound and the agent's SIGKILL, so that
/// the agent gets nfsha's answer rather than "timeout".
pub const AGENT_KILL_MARGIN: Duration = Duration::from_secs(10);

/// How many pools a whole `KVMHAChecker` run (pools one after another, each
/// bounded by `kvm.heartbeat.checker.timeout`) must leave room for.
pub const POOLS_PER_CHECK: u32 = 12;

/// The default bound on each script call's storage I/O: below the agent's
/// `heartbeat.update.timeout` by [`AGENT_KILL_MARGIN`] (50 s of 60 s).
pub fn default_io_timeout(update_timeout: Duration) -> Duration {
    update_timeout
        .saturating_sub(AGENT_KILL_MARGIN)
        .max(update_timeout / 2)
        .max(Duration::from_secs(1))
}

/// The default bound on a whole `-r` call: the agent's checker timeout
/// shared by [`POOLS_PER_CHECK`] pools (30 s of 360 s).
pub fn default_check_budget(checker_timeout: Duration) -> Duration {
    (checker_timeout / POOLS_PER_CHECK).max(Duration::from_secs(2))
}

/// How long the fence action itself takes once `-c` starts, when it stops
/// the host: `None` when it does not (restart-agent, log-only, custom).
pub fn fence_action_bound(fences: bool, escalate_after: Option<Duration>) -> Option<Duration> {
    fences.then(|| {
        SCHED_SLACK + escalate_after.unwrap_or_default() + JOURNAL_FLUSH_BOUND + REBOOT_SETTLE
    })
}

/// The agent's timeline for one pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentTimeline {
    /// Bound on each write (nfsha's `[cloudstack] io_timeout`).
    pub write_bound: Duration,
    /// When the first failing try of the next round can start.
    pub next_round: Duration,
    /// When the agent calls `-c`.
    pub fence_call: Duration,
    /// When the host has certainly stopped writing; `None`: the agent never
    /// fences (`reboot.host.and.alert.management.on.heartbeat.timeout=false`
    /// or an action that does not stop the host).
    pub fence_done: Option<Duration>,
    /// The longest gap between two successful writes of a healthy agent
    /// (one pool), plus the takeover margin: no record may be judged dead
    /// sooner, or a slow but healthy host would be.
    pub healthy_gap: Duration,
}

impl AgentTimeline {
    pub fn of(
        agent: &AgentProperties,
        io_timeout: Duration,
        action_bound: Option<Duration>,
        takeover_margin: Duration,
    ) -> AgentTimeline {
        let next_round = io_timeout + agent.update_frequency;
        let fence_call = next_round + (io_timeout + agent.retry_sleep) * agent.max_tries;
        let fence_done = if agent.fence_on_timeout {
            action_bound.map(|b| fence_call + b)
        } else {
            None
        };
        AgentTimeline {
            write_bound: io_timeout,
            next_round,
            fence_call,
            fence_done,
            healthy_gap: next_round + takeover_margin,
        }
    }

    /// Takeover time when the agent is the one that fences.
    pub fn dead_after(&self, takeover_margin: Duration) -> Option<Duration> {
        self.fence_done.map(|d| d + takeover_margin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn defaults_from_cloudstacks_numbers() {
        let a = AgentProperties::default();
        assert_eq!(default_io_timeout(a.update_timeout), s(50));
        assert_eq!(default_io_timeout(s(12)), s(6));
        assert_eq!(default_io_timeout(Duration::from_millis(500)), s(1));
        assert_eq!(default_check_budget(a.checker_timeout), s(30));
        assert_eq!(default_check_budget(s(6)), s(2));
        let bound = fence_action_bound(true, None);
        assert_eq!(bound, Some(s(8)));
        let t = AgentTimeline::of(&a, s(50), bound, s(20));
        assert_eq!(t.next_round, s(110));
        assert_eq!(t.fence_call, s(410));
        assert_eq!(t.fence_done, Some(s(418)));
        assert_eq!(t.dead_after(s(20)), Some(s(438)));
        assert_eq!(t.healthy_gap, s(130));
    }

    #[test]
    fn no_fence_no_dead_after() {
        let a = AgentProperties {
            fence_on_timeout: false,
            ..Default::default()
        };
        let t = AgentTimeline::of(&a, s(50), fence_action_bound(true, None), s(20));
        assert_eq!((t.fence_done, t.dead_after(s(20))), (None, None));
        let t = AgentTimeline::of(
            &AgentProperties::default(),
            s(50),
            fence_action_bound(false, None),
            s(20),
        );
        assert_eq!(t.fence_done, None);
        assert_eq!(
            fence_action_bound(true, Some(s(60))),
            Some(s(68)),
            "a graceful reboot's escalation counts"
        );
    }
}
