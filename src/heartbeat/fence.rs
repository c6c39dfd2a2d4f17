//! Fencing this host when its own storage heartbeat keeps failing.
//!
//! Nothing on this path touches the storage: no `sync(2)`, no file on the
//! mount. A reboot is `reboot(2)` with `RB_AUTOBOOT` (no sync: a sync can hang
//! on the dead mount forever); the graceful reboot and the agent restart are
//! argv commands with a deadline. Each decision is logged before it is acted on.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::sys::{Cmd, Deadline, System};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FenceAction {
    /// Log the decision; the host keeps running and says "not fenced".
    LogOnly,
    /// Run the restart hook (e.g. restart cloudstack-agent); VMs keep running: "not fenced".
    RestartAgent,
    /// `systemctl reboot`, escalated to `reboot(2)` after `escalate_after`.
    GracefulReboot,
    /// `reboot(2)` at once, without sync.
    Reboot,
}

impl FenceAction {
    pub fn parse(s: &str) -> Option<FenceAction> {
        Some(match s {
            "log-only" => FenceAction::LogOnly,
            "restart-agent" => FenceAction::RestartAgent,
            "graceful-reboot" => FenceAction::GracefulReboot,
            "reboot" => FenceAction::Reboot,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            FenceAction::LogOnly => "log-only",
            FenceAction::RestartAgent => "restart-agent",
            FenceAction::GracefulReboot => "graceful-reboot",
            FenceAction::Reboot => "reboot",
        }
    }
    /// Whether the action stops this host's VMs (so peers may take over).
    pub fn fences(self) -> bool {
        matches!(self, FenceAction::GracefulReboot | FenceAction::Reboot)
    }
}

/// Carries out fence steps. [`RealFencer`] acts on the machine; tests use
/// [`RecordingFencer`], which writes each step to a file instead.
pub trait Fencer {
    /// Immediate reset without sync. Returns only if it failed (or is recorded).
    fn reboot_now(&self, why: &str) -> Result<(), String>;
    /// Run an argv command (graceful reboot, agent restart) within `timeout`.
    fn command(&self, what: &str, argv: &[String], timeout: Duration) -> Result<(), String>;
}

pub struct RealFencer<'a> {
    pub sys: &'a dyn System,
}

fn run_argv(sys: &dyn System, argv: &[String], timeout: Duration) -> Result<(), String> {
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    let cmd = Cmd::new(prog).args(args.iter().cloned());
    match sys.run(&cmd, Deadline::after(sys, timeout)) {
        Ok(out) if out.success() => Ok(()),
        Ok(out) => Err(format!(
            "`{}` failed: {}",
            cmd.display(),
            out.failure_text()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// How long the journal may take to reach the local disk before a reset.
pub const JOURNAL_FLUSH_BOUND: Duration = Duration::from_secs(2);

impl Fencer for RealFencer<'_> {
    fn reboot_now(&self, _why: &str) -> Result<(), String> {
        // Give the decision just logged a bounded chance to reach the local
        // journal files (a targeted fsync of local files, not sync(2), which
        // could hang on the dead mount).
        if self.sys.has_program("journalctl") {
            let _ = run_argv(
                self.sys,
                &["journalctl".into(), "--sync".into()],
                JOURNAL_FLUSH_BOUND,
            );
        }
        // SAFETY: reboot(2) with RB_AUTOBOOT: resets the machine at once,
        // without syncing filesystems (a sync could hang on the dead mount).
        let rc = unsafe { libc::reboot(libc::RB_AUTOBOOT) };
        Err(format!(
            "reboot(2) returned {rc}: {}",
            std::io::Error::last_os_error()
        ))
    }
    fn command(&self, _what: &str, argv: &[String], timeout: Duration) -> Result<(), String> {
        run_argv(self.sys, argv, timeout)
    }
}

/// Testing: appends `<boottime_ms> <step> <detail>` lines to a file. The
/// restart hook is still run for real (it is harmless and tests observe it);
/// reboots are only recorded.
pub struct RecordingFencer<'a> {
    pub file: PathBuf,
    pub sys: &'a dyn System,
}

impl RecordingFencer<'_> {
    fn record(&self, line: &str) -> Result<(), String> {
        if let Some(dir) = self.file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.file)
            .map_err(|e| format!("{}: {e}", self.file.display()))?;
        writeln!(f, "{} {line}", super::clock::boottime_ms())
            .map_err(|e| format!("{}: {e}", self.file.display()))
    }
}

impl Fencer for RecordingFencer<'_> {
    fn reboot_now(&self, why: &str) -> Result<(), String> {
        self.record(&format!("reboot {why}"))
    }
    fn command(&self, what: &str, argv: &[String], timeout: Duration) -> Result<(), String> {
        self.record(&format!("{what} {}", argv.join(" ")))?;
        if what == "restart-agent" {
            run_argv(self.sys, argv, timeout)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::Fake;

    #[test]
    fn names_round_trip() {
        for a in [
            FenceAction::LogOnly,
            FenceAction::RestartAgent,
            FenceAction::GracefulReboot,
            FenceAction::Reboot,
        ] {
            assert_eq!(FenceAction::parse(a.name()), Some(a));
        }
        assert!(!FenceAction::LogOnly.fences());
        assert!(!FenceAction::RestartAgent.fences());
        assert!(FenceAction::Reboot.fences());
    }

    #[test]
    fn recorder_records_and_runs_only_the_hook() {
        let dir = tempfile::tempdir().unwrap();
        let sys = Fake::new();
        let f = RecordingFencer {
            file: dir.path().join("fence.log"),
            sys: &sys,
        };
        f.reboot_now("test").unwrap();
        f.command(
            "graceful-reboot",
            &["systemctl".into(), "reboot".into()],
            Duration::from_secs(1),
        )
        .unwrap();
        f.command(
            "restart-agent",
            &[
                "systemctl".into(),
                "restart".into(),
                "cloudstack-agent".into(),
            ],
            Duration::from_secs(1),
        )
        .unwrap();
        let log = std::fs::read_to_string(dir.path().join("fence.log")).unwrap();
        assert_eq!(log.lines().count(), 3);
        assert!(log.contains(" reboot test"));
        assert_eq!(sys.commands(), vec!["systemctl restart cloudstack-agent"]);
    }
}
