//! The daemon's status file (`<run_dir>/heartbeat-status.json`, on tmpfs):
//! rewritten by the daemon on every change, read by `nfsha heartbeat status`,
//! `check` and the `storagehb` agent. Reading it never touches the storage,
//! so it answers at once even while every mount hangs.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::clock::boottime_ms;
use super::fence::FenceAction;
pub use super::peer::PeerStatus;
use super::peer::{judge, Limits};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// CLOCK_BOOTTIME (ms) when the attempt started.
    pub at_ms: u64,
    /// ok, timeout, error, blocked or unmounted.
    pub result: String,
    pub write_ms: u64,
    pub read_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub attempts: u64,
    pub ok: u64,
    pub timeouts: u64,
    pub errors: u64,
    /// Intervals skipped because an earlier attempt was still stuck.
    pub blocked: u64,
    /// Attempts that answered after io_timeout (counted as timeouts first).
    #[serde(default)]
    pub late: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageStatus {
    pub name: String,
    pub mount: String,
    pub record: String,
    /// ok, failing, never-renewed, not-fenced, fencing, conflict, no-lease.
    pub state: String,
    pub fence: bool,
    /// This host's slot in the lease area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u32>,
    /// Whether the lease area is read and written with O_DIRECT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_io: Option<bool>,
    /// Another writer renews this host's record (a copied host_id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
    /// What the last failure was: storage, local, unmounted or timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_fault: Option<String>,
    /// A pool-scoped fence of this storage's VMs: its state and cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_fence: Option<String>,
    pub seq: u64,
    /// CLOCK_BOOTTIME (ms) when the last successful renewal started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_ms: Option<u64>,
    /// How long renewals have failed (0 when the last one succeeded).
    pub failing_ms: u64,
    /// Age of an attempt still in flight or stuck (0 when none).
    pub in_flight_ms: u64,
    /// Abandoned helpers still stuck in the kernel.
    pub stuck_helpers: u32,
    pub consecutive_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub totals: Totals,
    pub history: Vec<HistoryEntry>,
    pub peers: Vec<PeerStatus>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct FenceStatus {
    pub action: FenceAction,
    /// healthy, not-fenced, fencing.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Fence steps are recorded, not carried out (testing).
    pub dry_run: bool,
    /// Steps started, in order, with their results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub version: u32,
    pub pid: u32,
    pub host_id: String,
    pub generation: String,
    /// The kernel's boot id: a status from before a reboot is not this boot's.
    #[serde(default)]
    pub boot_id: String,
    /// The configuration could not be used: the daemon runs with built-in
    /// defaults (fail-safe) and says why here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_errors: Vec<String>,
    /// CLOCK_BOOTTIME (ms) of this snapshot.
    pub updated_ms: u64,
    pub interval_ms: u64,
    pub io_timeout_ms: u64,
    pub fence_after_ms: u64,
    pub dead_after_ms: u64,
    pub fence: FenceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchdog: Option<String>,
    pub storages: Vec<StorageStatus>,
}

impl Status {
    /// The snapshot is too old: the daemon is stopped or hung.
    pub fn stale_for(&self, now_ms: u64) -> Option<Duration> {
        let age = now_ms.saturating_sub(self.updated_ms);
        let limit = 2 * self.interval_ms.max(1000) + 2000;
        (age > limit).then(|| Duration::from_millis(age))
    }

    pub fn storage(&self, key: &str) -> Option<&StorageStatus> {
        let key_trim = key.trim_end_matches('/');
        self.storages
            .iter()
            .find(|s| s.name == key || s.mount.trim_end_matches('/') == key_trim)
    }

    /// Every storage renewing, no fence decision, a usable configuration.
    pub fn healthy(&self) -> bool {
        self.storages.iter().all(|s| s.state == "ok")
            && self.fence.state == "healthy"
            && self.config_errors.is_empty()
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(&tmp, path)
    }

    pub fn read(path: &Path) -> Result<Status, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{} does not exist: the heartbeat daemon is not running (systemctl status nfsha-heartbeat)",
                    path.display()
                )
            } else {
                format!("cannot read {}: {e}", path.display())
            }
        })?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a status file: {e}", path.display()))
    }

    /// The human rendering, now.
    pub fn render(&self) -> String {
        self.render_at(boottime_ms())
    }

    /// The human rendering at `now` (CLOCK_BOOTTIME ms).
    pub fn render_at(&self, now: u64) -> String {
        let secs = |ms: u64| format!("{:.1}s", ms as f64 / 1000.0);
        let mut out = format!(
            "host {} (pid {}, generation {}), fence_action {}{}: {}\n",
            self.host_id,
            self.pid,
            self.generation,
            self.fence.action.name(),
            if self.fence.dry_run {
                " (DRY RUN: recorded only)"
            } else {
                ""
            },
            self.fence.state
        );
        for e in &self.config_errors {
            out.push_str(&format!(
                "  CONFIGURATION ERROR (running fail-safe with built-in defaults): {e}\n"
            ));
        }
        if let Some(r) = &self.fence.reason {
            out.push_str(&format!("  fence decision: {r}\n"));
        }
        for st in &self.fence.steps {
            out.push_str(&format!("  fence step: {st}\n"));
        }
        if let Some(age) = self.stale_for(now) {
            out.push_str(&format!(
                "  WARNING: status not updated for {:.0}s: the daemon is stopped or hung\n",
                age.as_secs_f64()
            ));
        }
        if let Some(w) = &self.watchdog {
            out.push_str(&format!("  watchdog: {w}\n"));
        }
        for s in &self.storages {
            out.push_str(&format!(
                "storage {} ({}): {}{}\n",
                s.name,
                s.mount,
                s.state,
                if s.fence { "" } else { " [fence = false]" }
            ));
            let last = s
                .last_success_ms
                .map(|t| format!("{} ago", secs(now.saturating_sub(t))))
                .unwrap_or_else(|| "never".into());
            out.push_str(&format!(
                "  seq {}  last success {}  failing {}  in flight {}  stuck helpers {}\n",
                s.seq,
                last,
                secs(s.failing_ms),
                secs(s.in_flight_ms),
                s.stuck_helpers
            ));
            out.push_str(&format!(
                "  attempts {}  ok {}  timeouts {}  errors {}  blocked {}\n",
                s.totals.attempts,
                s.totals.ok,
                s.totals.timeouts,
                s.totals.errors,
                s.totals.blocked
            ));
            if let Some(c) = &s.conflict {
                out.push_str(&format!("  CONFLICT: {c}\n"));
            }
            if let Some(p) = &s.pool_fence {
                out.push_str(&format!("  fence of this storage's VMs: {p}\n"));
            }
            if let Some(e) = &s.last_error {
                out.push_str(&format!(
                    "  last error{}: {e}\n",
                    s.last_fault
                        .as_deref()
                        .map(|f| format!(" ({f})"))
                        .unwrap_or_default()
                ));
            }
            for h in s.history.iter().rev().take(5) {
                out.push_str(&format!(
                    "    -{:>7} {:<9} write {}ms read {}ms{}\n",
                    secs(now.saturating_sub(h.at_ms)),
                    h.result,
                    h.write_ms,
                    h.read_ms,
                    h.error
                        .as_deref()
                        .map(|e| format!("  {e}"))
                        .unwrap_or_default()
                ));
            }
            let limits = Limits {
                dead_after: Duration::from_millis(self.dead_after_ms),
                interval: Duration::from_millis(self.interval_ms),
                io_timeout: Duration::from_millis(self.io_timeout_ms),
            };
            for p in &s.peers {
                let (verdict, _) = judge(p, now, &limits);
                out.push_str(&format!(
                    "  peer {:<16} {:<10} seq {:<8} changed {} ago  writer {}  skew {:+.1}s{}\n",
                    p.host,
                    verdict.name(),
                    p.seq,
                    secs(now.saturating_sub(p.last_change_ms)),
                    p.writer_state.as_deref().unwrap_or("?"),
                    p.wall_skew_ms as f64 / 1000.0,
                    p.error
                        .as_deref()
                        .map(|e| format!("  ({e})"))
                        .unwrap_or_default()
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_each_peers_verdict() {
        let now = boottime_ms();
        let peer = |host: &str, changes, last_change_ms, fa| PeerStatus {
            generation: Some("1".into()),
            seq: 5,
            changes,
            last_read_ms: now,
            fence_action: Some(fa),
            writer_state: Some("ok".into()),
            dead_after_ms: 20_000,
            interval_ms: 1000,
            io_timeout_ms: 1000,
            wall_skew_ms: 3_600_000,
            ..PeerStatus::new(host, last_change_ms)
        };
        let s = Status {
            version: 1,
            pid: 1,
            host_id: "kvm1".into(),
            generation: "0".into(),
            updated_ms: now,
            interval_ms: 1000,
            io_timeout_ms: 1000,
            fence_after_ms: 3000,
            dead_after_ms: 10_000,
            fence: FenceStatus {
                action: FenceAction::Reboot,
                state: "healthy".into(),
                decided_ms: None,
                reason: None,
                dry_run: true,
                steps: vec![],
            },
            watchdog: None,
            boot_id: String::new(),
            config_errors: vec![],
            storages: vec![StorageStatus {
                name: "pool".into(),
                mount: "/mnt/pool".into(),
                record: "/mnt/pool/.nfsha/hb/kvm1".into(),
                state: "ok".into(),
                fence: true,
                seq: 3,
                last_success_ms: Some(now),
                failing_ms: 0,
                in_flight_ms: 0,
                stuck_helpers: 0,
                consecutive_failures: 0,
                last_error: None,
                totals: Totals::default(),
                history: vec![],
                peers: vec![
                    peer("kvm2", 3, now, FenceAction::Reboot),
                    peer("kvm3", 1, now.saturating_sub(30_000), FenceAction::Reboot),
                    peer("kvm4", 1, now.saturating_sub(30_000), FenceAction::LogOnly),
                ],
                ..Default::default()
            }],
        };
        let text = s.render_at(now);
        assert!(text.contains("DRY RUN"), "{text}");
        assert!(text.contains("peer kvm2             alive"), "{text}");
        assert!(text.contains("peer kvm3             dead"), "{text}");
        assert!(text.contains("peer kvm4             not-fenced"), "{text}");
        assert!(text.contains("skew +3600.0s"), "{text}");
        assert!(s.healthy());
        let mut broken = s.clone();
        broken.config_errors = vec!["line 2: interval = 10: expected a duration".into()];
        assert!(!broken.healthy(), "a fail-safe daemon is not healthy");
        assert!(broken
            .render_at(now)
            .contains("CONFIGURATION ERROR (running fail-safe with built-in defaults): line 2"));
    }
}
