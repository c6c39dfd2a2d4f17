//! Running a child process with a deadline: the one implementation every part
//! of nfsha uses (agents' commands through [`super::Real::run`], the
//! heartbeat's storage helpers and fence steps).
//!
//! The rules it keeps:
//! - argv only, never a shell;
//! - the child gets default signal dispositions and an empty signal mask
//!   (an ignored SIGTERM in the parent, as in a fence step that must outlive
//!   its caller, is never inherited by the commands it runs);
//! - the child runs in its own process group (or session), so a deadline
//!   kills everything it started;
//! - nothing here ever blocks past the deadline: a child that does not exit
//!   after SIGKILL (D state on a hung NFS mount) is handed to a reaper thread
//!   and abandoned, never waited for by the caller.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{Cmd, Output, RunError};

/// Where a child's standard input comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Null,
    /// A pipe the caller writes to ([`Child::take_stdin`]).
    Pipe,
}

/// Where a child's output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    Null,
    /// A pipe the caller reads ([`Child::take_stdout`], [`Child::take_stderr`]).
    Pipe,
    /// The caller's own stream.
    Inherit,
}

/// How the child is detached from the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Its own process group (killed as a whole at a deadline).
    Own,
    /// Its own session (and so its own group): it survives the caller and
    /// its terminal.
    Session,
}

/// What to run and how.
#[derive(Clone, Debug)]
pub struct Spec {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// `argv[0]` as the child sees it (default: the program).
    pub arg0: Option<OsString>,
    pub stdin: Source,
    pub stdout: Sink,
    pub stderr: Sink,
    /// Extra environment variables.
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
    pub group: Group,
}

impl Spec {
    pub fn new(program: impl AsRef<OsStr>) -> Spec {
        Spec {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            arg0: None,
            stdin: Source::Null,
            stdout: Sink::Null,
            stderr: Sink::Null,
            env: Vec::new(),
            cwd: None,
            group: Group::Own,
        }
    }
    /// The spec of a [`Cmd`], output captured, `LC_ALL=C`.
    pub fn of(cmd: &Cmd) -> Spec {
        let mut s = Spec::new(&cmd.program).args(&cmd.args);
        s.stdout = Sink::Pipe;
        s.stderr = Sink::Pipe;
        s.env("LC_ALL", "C")
    }
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Spec {
        self.args.push(a.as_ref().to_owned());
        self
    }
    pub fn args<I, S>(mut self, args: I) -> Spec
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }
    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Spec {
        self.env
            .push((k.as_ref().to_owned(), v.as_ref().to_owned()));
        self
    }
    /// The command line as an admin would type it (logs and errors only).
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(self.args.iter())
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Reset every signal to its default action and unblock all of them. Runs in
/// the forked child before exec; only async-signal-safe calls.
fn reset_signals() -> io::Result<()> {
    // The raw system call, not the C library's wrapper: glibc refuses to
    // touch the signals it reserves (32, 33), yet their dispositions are
    // inherited like any other. An all-zero kernel sigaction is SIG_DFL with
    // no flags and an empty mask, whatever the architecture's field order.
    let dfl = [0u64; 4];
    // SAFETY: rt_sigaction/sigprocmask on the calling (forked,
    // single-threaded) process with memory we own.
    unsafe {
        for sig in 1..=64 {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                dfl.as_ptr(),
                std::ptr::null_mut::<u64>(),
                8usize,
            );
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
    Ok(())
}

fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open(2) returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        None
    } else {
        // SAFETY: a fresh descriptor we own.
        Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
    }
}

/// A running child.
pub struct Child {
    inner: std::process::Child,
    pidfd: Option<OwnedFd>,
    /// When it was started (the monotonic clock).
    pub started: Instant,
}

fn stdio_out(o: Sink) -> Stdio {
    match o {
        Sink::Null => Stdio::null(),
        Sink::Pipe => Stdio::piped(),
        Sink::Inherit => Stdio::inherit(),
    }
}

impl Child {
    /// Start `spec`. Signals are reset in the child, which runs in its own
    /// process group or session.
    pub fn spawn(spec: &Spec) -> io::Result<Child> {
        let mut c = Command::new(&spec.program);
        c.args(&spec.args)
            .stdin(match spec.stdin {
                Source::Null => Stdio::null(),
                Source::Pipe => Stdio::piped(),
            })
            .stdout(stdio_out(spec.stdout))
            .stderr(stdio_out(spec.stderr))
            .envs(spec.env.iter().map(|(k, v)| (k, v)));
        if let Some(a) = &spec.arg0 {
            c.arg0(a);
        }
        if let Some(d) = &spec.cwd {
            c.current_dir(d);
        }
        let session = spec.group == Group::Session;
        if !session {
            c.process_group(0);
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            c.pre_exec(move || {
                reset_signals()?;
                if session && libc::setsid() < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let started = Instant::now();
        let inner = c.spawn()?;
        let pidfd = pidfd_open(inner.id());
        Ok(Child {
            inner,
            pidfd,
            started,
        })
    }

    pub fn pid(&self) -> u32 {
        self.inner.id()
    }

    /// The descriptor that becomes readable when the child exits (for poll).
    pub fn pollable(&self) -> Option<RawFd> {
        self.pidfd.as_ref().map(|f| f.as_raw_fd())
    }

    /// Non-blocking: the exit status once the child has ended (it is reaped).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.inner.try_wait()
    }

    /// Signal the child's process group (its session's group, too).
    pub fn signal_group(&self, sig: i32) {
        // SAFETY: killpg on the group created for this child.
        unsafe {
            libc::killpg(self.inner.id() as libc::pid_t, sig);
        }
    }

    /// SIGKILL the whole group. Never waits.
    pub fn kill_group(&self) {
        self.signal_group(libc::SIGKILL)
    }

    pub fn take_stdin(&mut self) -> Option<std::process::ChildStdin> {
        self.inner.stdin.take()
    }
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.inner.stdout.take()
    }
    pub fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.inner.stderr.take()
    }

    /// Give the child up: a background thread reaps it whenever it exits
    /// (never, if it stays stuck in the kernel). The caller never waits.
    pub fn abandon(self) {
        let mut inner = self.inner;
        if let Ok(Some(_)) = inner.try_wait() {
            return;
        }
        std::thread::spawn(move || {
            let _ = inner.wait();
        });
    }

    /// Wait until the child exits or `until`, whichever is first; `Some`
    /// with its status if it exited.
    pub fn wait_until(&mut self, until: Instant) -> io::Result<Option<ExitStatus>> {
        loop {
            if let Some(st) = self.try_wait()? {
                return Ok(Some(st));
            }
            let now = Instant::now();
            if now >= until {
                return Ok(None);
            }
            wait_readable(&[self.pollable()], (until - now).min(POLL_FALLBACK));
        }
    }
}

/// Without a pidfd (kernels before 5.3) exits are noticed by polling this often.
const POLL_FALLBACK: Duration = Duration::from_millis(50);

/// An exit status as a shell reports it: the code, or 128 + the signal.
pub fn shell_code(st: ExitStatus) -> i32 {
    st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0))
}

/// poll(2) the given descriptors (None entries are skipped) for at most
/// `timeout`; returns the ones that became readable (or hung up).
pub fn wait_readable(fds: &[Option<RawFd>], timeout: Duration) -> Vec<RawFd> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .flatten()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // Round up so that a wait for 0.4 ms is not a busy loop.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    // SAFETY: poll over a vector of pollfds we own (empty is a plain sleep).
    let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if n <= 0 {
        return Vec::new();
    }
    pfds.iter()
        .filter(|p| p.revents != 0)
        .map(|p| p.fd)
        .collect()
}

fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl >= 0 {
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
    }
}

/// Read what a non-blocking pipe has; `false` once it is at EOF or broken.
fn drain(r: &mut impl Read, into: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Run `spec` (output captured) to completion or `deadline` (on the real
/// monotonic clock), whichever is first. At the deadline the process group is killed and abandoned. A child
/// that has exited but left a grandchild holding its pipes is answered with
/// what it wrote once the deadline comes.
pub fn run(spec: &Spec, deadline: Instant) -> Result<Output, RunError> {
    let shown = spec.display();
    let mut spec = spec.clone();
    spec.stdout = Sink::Pipe;
    spec.stderr = Sink::Pipe;
    let mut child = Child::spawn(&spec).map_err(|err| match err.kind() {
        io::ErrorKind::NotFound => RunError::NotFound(spec.program.to_string_lossy().into_owned()),
        _ => RunError::Io {
            cmd: shown.clone(),
            err,
        },
    })?;
    let mut out = child.take_stdout();
    let mut err = child.take_stderr();
    for fd in [
        out.as_ref().map(|o| o.as_raw_fd()),
        err.as_ref().map(|e| e.as_raw_fd()),
    ]
    .into_iter()
    .flatten()
    {
        set_nonblocking(fd);
    }
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut status = None;
    loop {
        if out.as_mut().is_some_and(|o| !drain(o, &mut stdout)) {
            out = None;
        }
        if err.as_mut().is_some_and(|e| !drain(e, &mut stderr)) {
            err = None;
        }
        if status.is_none() {
            status = child.try_wait().map_err(|e| RunError::Io {
                cmd: shown.clone(),
                err: e,
            })?;
        }
        if status.is_some() && out.is_none() && err.is_none() {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            if status.is_some() {
                break;
            }
            child.kill_group();
            let after = child.started.elapsed();
            child.abandon();
            return Err(RunError::Timeout { cmd: shown, after });
        }
        let fds = [
            out.as_ref().map(|o| o.as_raw_fd()),
            err.as_ref().map(|e| e.as_raw_fd()),
            if status.is_none() {
                child.pollable()
            } else {
                None
            },
        ];
        wait_readable(&fds, left.min(POLL_FALLBACK * 4));
    }
    let status = status.expect("loop ends only with a status");
    Ok(Output {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// Start `spec` in its own session, not waited for: it outlives the caller,
/// even a caller killed with SIGKILL. Returns its pid. If the caller is still
/// alive when it exits, a background thread reaps it.
pub fn detach(spec: &Spec) -> io::Result<u32> {
    let mut spec = spec.clone();
    spec.group = Group::Session;
    let child = Child::spawn(&spec)?;
    let pid = child.pid();
    child.abandon();
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Spec {
        Spec::new("sh").arg("-c").arg(script)
    }

    fn in_(d: Duration) -> Instant {
        Instant::now() + d
    }

    #[test]
    fn runs_argv_without_a_shell_and_keeps_codes() {
        let out = run(
            &Spec::of(&Cmd::new("echo").arg("a;b $(c)")),
            in_(Duration::from_secs(5)),
        )
        .unwrap();
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), "a;b $(c)\n"));
        let out = run(
            &sh("echo out; echo err >&2; exit 3"),
            in_(Duration::from_secs(5)),
        )
        .unwrap();
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(3), "out\n", "err\n")
        );
        let out = run(&sh("kill -9 $$"), in_(Duration::from_secs(5))).unwrap();
        assert_eq!(out.code, None, "killed by a signal");
    }

    #[test]
    fn a_missing_program_is_not_found() {
        let e = run(
            &Spec::new("nfsha-no-such-program"),
            in_(Duration::from_secs(5)),
        )
        .unwrap_err();
        assert!(
            matches!(e, RunError::NotFound(ref p) if p == "nfsha-no-such-program"),
            "{e}"
        );
    }

    #[test]
    fn the_deadline_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidf = dir.path().join("grandchild");
        let script = format!("sleep 300 & echo $! > {}; wait", pidf.display());
        let e = run(&sh(&script), in_(Duration::from_millis(300))).unwrap_err();
        assert!(matches!(e, RunError::Timeout { .. }), "{e}");
        let pid: i32 = std::fs::read_to_string(&pidf)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild got SIGKILL with its group: wait for it to be gone
        // (it is a zombie of the abandoned shell until that is reaped).
        let gone = (0..200).any(|_| {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let dead =
                state.is_empty() || state.split(") ").nth(1).is_some_and(|s| s.starts_with('Z'));
            if !dead {
                std::thread::sleep(Duration::from_millis(20));
            }
            dead
        });
        assert!(gone, "grandchild {pid} survived the group kill");
    }

    #[test]
    fn children_do_not_inherit_ignored_or_blocked_signals() {
        // Ignore SIGTERM and SIGUSR1 here, as a fence step that must outlive
        // its caller does; the child must see neither ignored nor blocked.
        // SAFETY: changing dispositions in this test process only; they are
        // restored below.
        let old_term = unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
        let old_usr1 = unsafe { libc::signal(libc::SIGUSR1, libc::SIG_IGN) };
        let out = run(
            &Spec::new("grep")
                .arg("^Sig[IB][gl][nk]:")
                .arg("/proc/self/status"),
            in_(Duration::from_secs(5)),
        );
        unsafe {
            libc::signal(libc::SIGTERM, old_term);
            libc::signal(libc::SIGUSR1, old_usr1);
        }
        let out = out.unwrap();
        for line in out.stdout.lines() {
            let mask = u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap();
            assert_eq!(mask, 0, "{line}");
        }
        assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    }

    #[test]
    fn an_exited_child_whose_grandchild_keeps_the_pipe_is_answered() {
        let out = run(
            &sh("sleep 300 & echo started"),
            in_(Duration::from_millis(500)),
        )
        .unwrap();
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), "started\n"));
    }

    #[test]
    fn detached_children_run_in_their_own_session() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sid");
        let pid = detach(&sh(&format!(
            "cut -d' ' -f6 /proc/$$/stat > {0}.tmp; mv {0}.tmp {0}",
            f.display()
        )))
        .unwrap();
        let mut sid = String::new();
        for _ in 0..250 {
            if let Ok(s) = std::fs::read_to_string(&f) {
                sid = s;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(sid.trim(), pid.to_string(), "session leader is the child");
    }
}
