//! `-c`: the agent decided to fence this host. CloudStack's scripts log a
//! line, `sync &`, sleep 5 s and write `b` to `/proc/sysrq-trigger`. nfsha
//! instead names the cause, runs the configured action (heartbeat.toml's
//! `fence_action`, else the agent's `kvm.heartbeat.fence.action`, else
//! reboot), never sysrq, touches no storage (the pool may be hung: not even
//! a stat), and is bounded. A staged action (graceful-reboot escalating to
//! reboot(2)) is handed over ([`crate::heartbeat::handoff`]) so that it
//! survives the agent's SIGKILL at `heartbeat.update.timeout`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::heartbeat::clock::boottime_ms;
use crate::heartbeat::fence::{Fencer, RealFencer, RecordingFencer};
use crate::heartbeat::handoff::{self, FenceRequest};
use crate::sys::{Real, System};

use super::localdir::Local;
use super::pool_state::{self, Outcome};
use super::settings::{PlanAction, Settings};

/// What `-c` was called for.
pub enum Caller<'a> {
    /// A pool whose writes failed (`kvmheartbeat.sh`, `kvmsmpheartbeat.sh`).
    Pool { script: &'a str, mount: &'a Path },
    /// `kvmspheartbeat.sh -c`: the agent's LINSTOR or StorPool health check failed.
    NodeCheck { script: &'a str },
}

impl Caller<'_> {
    fn script(&self) -> &str {
        match self {
            Caller::Pool { script, .. } | Caller::NodeCheck { script } => script,
        }
    }
}

/// Why the agent asked, as far as this host knows.
pub fn cause(caller: &Caller, local: Option<&Local>, now_ms: u64) -> String {
    match caller {
        Caller::NodeCheck { .. } => "the agent's health check of this host's storage node failed (LINSTOR: drbdsetup status/events2; StorPool: storpool service list); -c carries no other detail".into(),
        Caller::Pool { mount, .. } => {
            match local.and_then(|l| pool_state::load(&l.pools, mount)) {
                Some(st) if st.outcome != Outcome::Ok => format!(
                    "{} failed write{} on {} (last {}s ago: {}{}){}",
                    st.failures,
                    if st.failures == 1 { "" } else { "s" },
                    mount.display(),
                    now_ms.saturating_sub(st.at_ms) / 1000,
                    st.outcome.describe(),
                    if st.detail.is_empty() { String::new() } else { format!(": {}", st.detail) },
                    st.last_ok_ms
                        .map(|t| format!("; last good write {}s ago", now_ms.saturating_sub(t) / 1000))
                        .unwrap_or_default()
                ),
                Some(st) => format!(
                    "the agent asked to fence although nfsha's last write on {} succeeded {}s ago",
                    mount.display(),
                    now_ms.saturating_sub(st.at_ms) / 1000
                ),
                None => format!(
                    "the agent failed to write the heartbeat on {} (nfsha kept no outcome of those writes)",
                    mount.display()
                ),
            }
        }
    }
}

/// Pools on which this host's last write succeeded recently, besides `mount`.
pub fn healthy_elsewhere(local: &Local, mount: &Path, s: &Settings, now_ms: u64) -> Vec<String> {
    let fresh = (s.cs.interval + s.cs.io_timeout * 2).as_millis() as u64;
    pool_state::all(&local.pools)
        .into_iter()
        .filter(|st| Path::new(&st.mount) != mount)
        .filter(|st| st.outcome == Outcome::Ok && now_ms.saturating_sub(st.at_ms) <= fresh)
        .map(|st| st.mount)
        .collect()
}

fn executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Fence, as the agent asked. Returns the exit code and the line.
pub fn fence(s: &Settings, local: Option<&Local>, caller: &Caller) -> super::Outcome {
    let sys = Real::new();
    fence_with(s, local, caller, &sys)
}

pub fn fence_with(
    s: &Settings,
    local: Option<&Local>,
    caller: &Caller,
    sys: &dyn System,
) -> super::Outcome {
    let script = caller.script().to_string();
    let now_ms = boottime_ms();
    let why = cause(caller, local, now_ms);
    let plan = &s.plan;
    tracing::error!(
        "FENCE DECISION: {why}: fence_action = {} (from {})",
        plan.name(),
        plan.source_name()
    );
    if let (Caller::Pool { mount, .. }, Some(l)) = (caller, local) {
        let elsewhere = healthy_elsewhere(l, mount, s, now_ms);
        if !elsewhere.is_empty() {
            tracing::warn!(
                "this host's heartbeat is healthy on {}: only {} failed",
                elsewhere.join(", "),
                mount.display()
            );
        }
    }
    if !plan.fences() {
        tracing::error!(
            "fence_action {} does not stop this host: its VMs keep running. Peers running nfsha answer NOT FENCED and keep them in place, but hosts still on CloudStack's stock scripts read only hb-<IP>'s age and declare this host DEAD 60 s after its last write: choose a non-fencing action only once every host runs nfsha's scripts",
            plan.name()
        );
    }
    // Keep going when the agent gives up on us with SIGTERM at its timeout.
    // SAFETY: ignoring a signal.
    unsafe {
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
    }
    let fencer: Box<dyn Fencer + '_> = match &s.cfg.fence_record_file {
        Some(f) => Box::new(RecordingFencer {
            file: f.clone(),
            sys,
        }),
        None => Box::new(RealFencer { sys }),
    };
    let cfg = &s.cfg;
    let reason = format!("{script} -c: {why}");
    let result: Result<String, String> = match &plan.action {
        PlanAction::Custom(path) if executable(path) => fencer
            .command(
                "custom",
                &[path.display().to_string(), script.clone()],
                cfg.command_timeout,
            )
            .map(|_| format!("{} done; host NOT known to be fenced", path.display())),
        PlanAction::Custom(path) => {
            tracing::error!(
                "custom fence script {} is missing or not executable: hard reboot instead, as CloudStack does",
                path.display()
            );
            fencer
                .reboot_now(&format!(
                    "{reason}; custom script {} missing",
                    path.display()
                ))
                .map(|_| "rebooting".into())
        }
        // The agent SIGKILLs -c at heartbeat.update.timeout: the running
        // heartbeat daemon takes any fence; without one a one-step action is
        // carried out here and a staged one (graceful-reboot escalating to
        // reboot(2), the pool actions) is handed to a detached process that
        // outlives this one, with the plan's escalation.
        PlanAction::Core(action) => {
            let req = FenceRequest {
                action: *action,
                mount: match caller {
                    Caller::Pool { mount, .. } => Some(mount.to_path_buf()),
                    Caller::NodeCheck { .. } => None,
                },
                cause: reason.clone(),
                escalate_after_ms: plan.escalate_after.map(|d| d.as_millis() as u64),
            };
            handoff::fence(&req, cfg, &s.config_path, fencer.as_ref())
        }
    };
    match result {
        Ok(msg) => (
            0,
            Some(format!(
                "{script}: fence decision: {why}; fence_action = {} (from {}): {msg}",
                plan.name(),
                plan.source_name()
            )),
        ),
        Err(e) => {
            tracing::error!("fence_action {} failed: {e}", plan.name());
            (
                1,
                Some(format!(
                    "{script}: fence_action = {} failed: {e}",
                    plan.name()
                )),
            )
        }
    }
}
