//! Fencing this host (or the VMs on one storage) when its storage heartbeat
//! keeps failing: the actions, and the [`Fencer`] that carries out one step.
//!
//! Nothing on this path touches the storage: no `sync(2)`, no file on the
//! mount. A reboot is `reboot(2)` with `RB_AUTOBOOT` (no sync: a sync can hang
//! on the dead mount forever); the graceful reboot, the agent restart and the
//! `virsh` calls are argv commands with a deadline. When to do which step is
//! decided in [`super::plan`]; each decision is logged before it is acted on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sys::{Cmd, Deadline, System};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FenceAction {
    /// Log the decision; the host keeps running and says "not fenced".
    LogOnly,
    /// Run the restart hook (e.g. restart cloudstack-agent); VMs keep running: "not fenced".
    RestartAgent,
    /// `systemctl reboot`, escalated to `reboot(2)` after `escalate_after`.
    GracefulReboot,
    /// `reboot(2)` at once, without sync (the default).
    #[default]
    Reboot,
    /// `virsh destroy` the VMs with a disk on the failed storage; `reboot(2)`
    /// if any is still running `escalate_after` later. The host keeps running.
    DestroyPoolVms,
    /// `virsh shutdown` those VMs, `virsh destroy` the rest after
    /// `escalate_after`, `reboot(2)` if any is still running after another.
    ShutdownPoolVms,
}

/// What a fence action stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole host (or nothing, for log-only and restart-agent).
    Host,
    /// The VMs on the storage whose renewals failed.
    Pool,
}

impl FenceAction {
    pub const ALL: [FenceAction; 6] = [
        FenceAction::LogOnly,
        FenceAction::RestartAgent,
        FenceAction::GracefulReboot,
        FenceAction::Reboot,
        FenceAction::DestroyPoolVms,
        FenceAction::ShutdownPoolVms,
    ];

    pub fn parse(s: &str) -> Option<FenceAction> {
        FenceAction::ALL.into_iter().find(|a| a.name() == s)
    }
    pub fn name(self) -> &'static str {
        match self {
            FenceAction::LogOnly => "log-only",
            FenceAction::RestartAgent => "restart-agent",
            FenceAction::GracefulReboot => "graceful-reboot",
            FenceAction::Reboot => "reboot",
            FenceAction::DestroyPoolVms => "destroy-pool-vms",
            FenceAction::ShutdownPoolVms => "shutdown-pool-vms",
        }
    }
    /// The accepted names, for error messages.
    pub fn names() -> String {
        FenceAction::ALL.map(|a| a.name()).join(", ")
    }
    /// Whether the action stops the whole host (so peers may take over all
    /// of its VMs once it stopped renewing).
    pub fn fences(self) -> bool {
        matches!(self, FenceAction::GracefulReboot | FenceAction::Reboot)
    }
    pub fn scope(self) -> Scope {
        match self {
            FenceAction::DestroyPoolVms | FenceAction::ShutdownPoolVms => Scope::Pool,
            _ => Scope::Host,
        }
    }
    /// Whether the action may end in `reboot(2)` (so it needs a bound and may
    /// have a watchdog).
    pub fn may_reboot(self) -> bool {
        !matches!(self, FenceAction::LogOnly | FenceAction::RestartAgent)
    }
}

/// How VMs on a failed storage are stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmStop {
    Shutdown,
    Destroy,
}

impl VmStop {
    pub fn verb(self) -> &'static str {
        match self {
            VmStop::Shutdown => "shutdown",
            VmStop::Destroy => "destroy",
        }
    }
}

/// Carries out fence steps. [`RealFencer`] acts on the machine; tests use
/// [`RecordingFencer`], which writes each step to a file instead.
pub trait Fencer: Send + Sync {
    /// Immediate reset without sync. Returns only if it failed (or is recorded).
    fn reboot_now(&self, why: &str) -> Result<(), String>;
    /// Run an argv command (graceful reboot, agent restart) within `timeout`.
    fn command(&self, what: &str, argv: &[String], timeout: Duration) -> Result<(), String>;
    /// Stop the running VMs with a disk under `mount`; returns their names.
    fn stop_pool_vms(
        &self,
        mount: &Path,
        how: VmStop,
        timeout: Duration,
    ) -> Result<Vec<String>, String>;
    /// The running VMs with a disk under `mount`.
    fn pool_vms(&self, mount: &Path, timeout: Duration) -> Result<Vec<String>, String>;
}

pub struct RealFencer<'a> {
    pub sys: &'a dyn System,
}

fn run_argv(sys: &dyn System, argv: &[String], deadline: Deadline) -> Result<String, String> {
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    let cmd = Cmd::new(prog).args(args.iter().cloned());
    match sys.run(&cmd, deadline) {
        Ok(out) if out.success() => Ok(out.stdout),
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

fn virsh(args: &[&str]) -> Vec<String> {
    ["virsh", "--connect", "qemu:///system"]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect()
}

/// The disk sources of `virsh domblklist --details` output.
pub fn disk_sources(domblklist: &str) -> Vec<PathBuf> {
    domblklist
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // Type Device Target Source; the source may contain blanks.
            match f.as_slice() {
                [kind, _dev, _target, _first, ..] if *kind == "file" || *kind == "block" => {
                    let at = l.find(f[3])?;
                    Some(PathBuf::from(l[at..].trim_end()))
                }
                _ => None,
            }
        })
        .collect()
}

/// Running domains with a disk under `mount`, each call within `deadline`.
fn domains_on(sys: &dyn System, mount: &Path, deadline: Deadline) -> Result<Vec<String>, String> {
    let names = run_argv(sys, &virsh(&["list", "--name"]), deadline)?;
    let mut on = Vec::new();
    for name in names.lines().map(str::trim).filter(|n| !n.is_empty()) {
        let disks = run_argv(sys, &virsh(&["domblklist", "--details", name]), deadline)?;
        if disk_sources(&disks).iter().any(|d| d.starts_with(mount)) {
            on.push(name.to_string());
        }
    }
    Ok(on)
}

impl Fencer for RealFencer<'_> {
    fn reboot_now(&self, _why: &str) -> Result<(), String> {
        // Give the decision just logged a bounded chance to reach the local
        // journal files (a targeted fsync of local files, not sync(2), which
        // could hang on the dead mount).
        if self.sys.has_program("journalctl") {
            let _ = run_argv(
                self.sys,
                &["journalctl".into(), "--sync".into()],
                Deadline::after(self.sys, JOURNAL_FLUSH_BOUND),
            );
        }
        // SAFETY: reboot(2) with RB_AUTOBOOT: resets the machine at once,
        // without syncing filesystems (a sync could hang on the dead mount).
        // In a PID namespace other than the first it ends that namespace.
        let rc = unsafe { libc::reboot(libc::RB_AUTOBOOT) };
        Err(format!(
            "reboot(2) returned {rc}: {}",
            std::io::Error::last_os_error()
        ))
    }
    fn command(&self, _what: &str, argv: &[String], timeout: Duration) -> Result<(), String> {
        run_argv(self.sys, argv, Deadline::after(self.sys, timeout)).map(|_| ())
    }
    fn stop_pool_vms(
        &self,
        mount: &Path,
        how: VmStop,
        timeout: Duration,
    ) -> Result<Vec<String>, String> {
        let deadline = Deadline::after(self.sys, timeout);
        let doms = domains_on(self.sys, mount, deadline)?;
        let mut failed = Vec::new();
        for d in &doms {
            if let Err(e) = run_argv(self.sys, &virsh(&[how.verb(), d]), deadline) {
                failed.push(e);
            }
        }
        if failed.is_empty() {
            Ok(doms)
        } else {
            Err(failed.join("; "))
        }
    }
    fn pool_vms(&self, mount: &Path, timeout: Duration) -> Result<Vec<String>, String> {
        domains_on(self.sys, mount, Deadline::after(self.sys, timeout))
    }
}

/// Programs a test configuration must never run for real, even with a
/// recording fencer: they would reboot or power off the test machine.
const POWER_PROGRAMS: &[&str] = &[
    "systemctl",
    "reboot",
    "shutdown",
    "poweroff",
    "halt",
    "init",
    "telinit",
    "virsh",
];

fn harmless(argv: &[String]) -> bool {
    argv.first().is_some_and(|p| {
        let base = Path::new(p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        !POWER_PROGRAMS.contains(&base.as_str())
    })
}

/// Testing: appends `<boottime_ms> <step> <detail>` lines to a file. Commands
/// run for real only when they cannot reboot anything (a test's script);
/// reboots and `virsh` are only recorded.
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
        if harmless(argv) {
            run_argv(self.sys, argv, Deadline::after(self.sys, timeout)).map(|_| ())
        } else {
            Ok(())
        }
    }
    fn stop_pool_vms(&self, mount: &Path, how: VmStop, _: Duration) -> Result<Vec<String>, String> {
        self.record(&format!("{}-pool-vms {}", how.verb(), mount.display()))?;
        Ok(Vec::new())
    }
    fn pool_vms(&self, mount: &Path, _: Duration) -> Result<Vec<String>, String> {
        self.record(&format!("check-pool-vms {}", mount.display()))?;
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::{ok, Fake};

    #[test]
    fn names_round_trip() {
        for a in FenceAction::ALL {
            assert_eq!(FenceAction::parse(a.name()), Some(a));
        }
        assert_eq!(FenceAction::parse("sysrq"), None);
        assert!(!FenceAction::LogOnly.fences());
        assert!(!FenceAction::RestartAgent.fences());
        assert!(!FenceAction::DestroyPoolVms.fences());
        assert!(FenceAction::Reboot.fences());
        assert!(FenceAction::GracefulReboot.fences());
        assert_eq!(FenceAction::ShutdownPoolVms.scope(), Scope::Pool);
        assert_eq!(FenceAction::GracefulReboot.scope(), Scope::Host);
        assert!(FenceAction::DestroyPoolVms.may_reboot());
        assert!(!FenceAction::RestartAgent.may_reboot());
    }

    #[test]
    fn recorder_records_and_runs_only_harmless_commands() {
        let dir = tempfile::tempdir().unwrap();
        let sys = Fake::new();
        let f = RecordingFencer {
            file: dir.path().join("fence.log"),
            sys: &sys,
        };
        f.reboot_now("test").unwrap();
        let t = Duration::from_secs(1);
        f.command("graceful-reboot", &["systemctl".into(), "reboot".into()], t)
            .unwrap();
        f.command(
            "graceful-reboot",
            &["/bin/systemctl".into(), "reboot".into()],
            t,
        )
        .unwrap();
        f.command(
            "restart-agent",
            &["/usr/local/bin/hook".into(), "x".into()],
            t,
        )
        .unwrap();
        f.stop_pool_vms(Path::new("/mnt/p"), VmStop::Destroy, t)
            .unwrap();
        let log = std::fs::read_to_string(dir.path().join("fence.log")).unwrap();
        assert_eq!(log.lines().count(), 5, "{log}");
        assert!(log.contains(" reboot test"));
        assert!(log.contains(" destroy-pool-vms /mnt/p"));
        assert_eq!(sys.commands(), vec!["/usr/local/bin/hook x"]);
    }

    #[test]
    fn disk_sources_of_domblklist() {
        let out = " Type   Device   Target   Source\n\
                   ------------------------------------------------\n \
                   file   disk     vda      /mnt/0a1b/vol 1.qcow2\n \
                   network disk    vdb      pool/vol\n \
                   file   cdrom    sda      -\n \
                   block  disk     vdc      /dev/drbd1000\n";
        assert_eq!(
            disk_sources(out),
            vec![
                PathBuf::from("/mnt/0a1b/vol 1.qcow2"),
                PathBuf::from("-"),
                PathBuf::from("/dev/drbd1000")
            ]
        );
    }

    #[test]
    fn pool_vms_are_found_by_their_disks_and_destroyed_by_argv() {
        let sys = Fake::new();
        sys.respond(|c| {
            let a = c.args.join(" ");
            if a.ends_with("list --name") {
                return ok("web1\nweb 2\ndb1\n\n");
            }
            if a.ends_with("domblklist --details web1") {
                return ok("Type Device Target Source\nfile disk vda /mnt/pool/web1.qcow2\n");
            }
            if a.ends_with("domblklist --details web 2") {
                return ok("Type Device Target Source\nfile disk vda /mnt/pool-b/w.qcow2\n");
            }
            if a.ends_with("domblklist --details db1") {
                return ok("Type Device Target Source\nfile disk vda /var/lib/x.qcow2\nfile disk vdb /mnt/pool/db1-data.qcow2\n");
            }
            None
        });
        let f = RealFencer { sys: &sys };
        let t = Duration::from_secs(5);
        assert_eq!(
            f.pool_vms(Path::new("/mnt/pool"), t).unwrap(),
            vec!["web1", "db1"],
            "/mnt/pool-b is another pool"
        );
        let stopped = f
            .stop_pool_vms(Path::new("/mnt/pool"), VmStop::Destroy, t)
            .unwrap();
        assert_eq!(stopped, vec!["web1", "db1"]);
        let cmds = sys.commands();
        assert!(
            cmds.contains(&"virsh --connect qemu:///system destroy web1".to_string()),
            "{cmds:?}"
        );
        assert!(cmds.contains(&"virsh --connect qemu:///system destroy db1".to_string()));
        assert!(!cmds.iter().any(|c| c.contains("destroy web 2")));
    }

    #[test]
    fn a_failing_virsh_is_an_error_not_an_empty_list() {
        let sys = Fake::new();
        sys.respond(|c| {
            (c.args.last().map(String::as_str) == Some("--name"))
                .then(|| crate::sys::fake::fail(1, "error: failed to connect to the hypervisor"))
                .flatten()
        });
        let f = RealFencer { sys: &sys };
        let e = f
            .pool_vms(Path::new("/mnt/pool"), Duration::from_secs(1))
            .unwrap_err();
        assert!(e.contains("failed to connect"), "{e}");
    }
}
