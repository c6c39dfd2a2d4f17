//! Ending the processes that keep a directory's filesystem busy, so that a
//! stop can unmount it instead of failing (a failed stop is a fenced node).
//!
//! The processes are found from `/proc` links only ([`crate::sys::procs`]),
//! asked to end with SIGTERM, given a moment, then killed; every step goes
//! through the seam (signals, sleeps, the clock). A process stuck in the
//! kernel on hung storage survives SIGKILL: it is reported, and the unmount
//! that follows fails with the reason.

use std::path::Path;
use std::time::Duration;

use crate::ocf::Ctx;
use crate::sys::procs::{self, Holder, Process};

/// How often the process table is read again while waiting.
const POLL: Duration = Duration::from_millis(50);

fn remaining(ctx: &Ctx, dir: &Path, which: &dyn Fn(&Process) -> bool) -> Vec<Holder> {
    procs::holders(ctx.sys, dir, which)
}

/// Wait until none of `which` holds `dir`, for at most `max` (and never past
/// the action's deadline); returns those still there.
fn wait_gone(
    ctx: &Ctx,
    dir: &Path,
    which: &dyn Fn(&Process) -> bool,
    max: Duration,
) -> Vec<Holder> {
    let until = ctx.step(max);
    loop {
        let left = remaining(ctx, dir, which);
        if left.is_empty() || until.passed(ctx.sys) {
            return left;
        }
        ctx.sys.sleep(POLL);
    }
}

/// End the processes `which` selects (by name and pid) among those using
/// `dir` (working directory, open files, mappings): SIGTERM, up to
/// `term_wait` for them to exit, then SIGKILL and up to 2 s more. `why`
/// says, in the log, why they had to go. Returns the ones still there.
pub fn end_holders(
    ctx: &Ctx,
    dir: &Path,
    which: &dyn Fn(&Process) -> bool,
    why: &str,
    term_wait: Duration,
) -> Vec<Holder> {
    let found = remaining(ctx, dir, which);
    if found.is_empty() {
        return found;
    }
    for h in &found {
        tracing::warn!(
            "{} (pid {}) keeps {} busy ({}: {}); ending it: {why}",
            h.comm,
            h.pid,
            dir.display(),
            h.how,
            h.path.display()
        );
        let _ = ctx.sys.kill(h.pid, libc::SIGTERM);
    }
    let left = wait_gone(ctx, dir, which, term_wait);
    if left.is_empty() {
        return left;
    }
    for h in &left {
        tracing::warn!("{} (pid {}) ignored SIGTERM; killing it", h.comm, h.pid);
        let _ = ctx.sys.kill(h.pid, libc::SIGKILL);
    }
    let left = wait_gone(ctx, dir, which, Duration::from_secs(2));
    for h in &left {
        tracing::error!(
            "{} (pid {}) survived SIGKILL (stuck in the kernel?) and still uses {}",
            h.comm,
            h.pid,
            h.path.display()
        );
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocf::{Action, Params};
    use crate::sys::fake::Fake;
    use crate::sys::Deadline;
    use std::sync::Arc;

    fn ctx(sys: &Fake) -> Ctx<'_> {
        Ctx {
            sys,
            params: Params::default(),
            action: Action::Stop,
            deadline: Deadline::after(sys, Duration::from_secs(20)),
            check_level: 0,
            probe: false,
            instance: "t".into(),
            meta: Default::default(),
            env: Default::default(),
        }
    }

    /// pid 10 (rpc.statd) leaves on SIGTERM, pid 11 (sleep) only on SIGKILL.
    fn node() -> Arc<Fake> {
        let f = Arc::new(Fake::new());
        for (pid, comm) in [(10, "rpc.statd"), (11, "sleep"), (12, "bash")] {
            f.file(&format!("/proc/{pid}/stat"), &format!("{pid} ({comm}) S 1"));
        }
        f.file("/proc/10/cwd", "symlink:/srv/state/statd");
        f.file("/proc/11/cwd", "symlink:/srv/state");
        f.file("/proc/12/cwd", "symlink:/root");
        f
    }

    fn gone(f: &Fake, pid: u32) {
        f.file(&format!("/proc/{pid}/stat"), &format!("{pid} (x) Z 1"));
    }

    #[test]
    fn term_then_kill_with_seam_sleeps() {
        let f = node();
        // The fake's processes never exit by themselves: nothing ends them here.
        let left = end_holders(
            &ctx(&f),
            Path::new("/srv/state"),
            &|_| true,
            "test",
            Duration::from_secs(1),
        );
        assert_eq!(
            f.killed(),
            vec![
                (10, libc::SIGTERM),
                (11, libc::SIGTERM),
                (10, libc::SIGKILL),
                (11, libc::SIGKILL)
            ]
        );
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(f.slept() >= Duration::from_secs(3), "{:?}", f.slept());
        assert!(f.sleeps() > 0);
    }

    #[test]
    fn processes_that_leave_on_sigterm_are_not_killed() {
        let f = node();
        f.exits_on(10, libc::SIGTERM);
        f.exits_on(11, libc::SIGTERM);
        let left = end_holders(
            &ctx(&f),
            Path::new("/srv/state"),
            &|_| true,
            "test",
            Duration::from_secs(5),
        );
        assert!(left.is_empty());
        assert_eq!(f.killed(), vec![(10, libc::SIGTERM), (11, libc::SIGTERM)]);
        assert_eq!(f.sleeps(), 0, "gone at the first look");
    }

    #[test]
    fn only_the_selected_and_only_until_they_are_gone() {
        let f = node();
        gone(&f, 11);
        let left = end_holders(
            &ctx(&f),
            Path::new("/srv/state"),
            &|p| p.comm == "rpc.statd",
            "test",
            Duration::from_secs(5),
        );
        assert_eq!(left.len(), 1);
        assert_eq!(f.killed()[0], (10, libc::SIGTERM));
        assert!(
            !f.killed().iter().any(|(p, _)| *p == 12),
            "bash is elsewhere"
        );
        // Nothing to end: no signal, no sleep.
        let g = node();
        gone(&g, 10);
        gone(&g, 11);
        assert!(end_holders(
            &ctx(&g),
            Path::new("/srv/state"),
            &|_| true,
            "t",
            Duration::from_secs(5)
        )
        .is_empty());
        assert!(g.killed().is_empty());
        assert_eq!(g.sleeps(), 0);
    }
}
