//! The one seam between nfsha and the machine: commands (argv only, never a
//! shell, always with a deadline), files, the network state and the clock.
//!
//! Agents talk only to [`System`]; [`Real`] is the machine, and tests can
//! substitute a double ([`fake::Fake`]) that records commands, serves files
//! and links, and runs a virtual clock. Built on it: the one mountinfo
//! reader ([`mounts`]), the one `/proc` process scanner ([`procs`]), host
//! names ([`uts`]) and the profile of an action's time ([`timed`]).

pub mod child;
pub mod fake;
pub mod mounts;
pub mod paths;
pub mod procs;
pub mod timed;
pub mod uts;

pub use paths::Paths;

use std::ffi::OsString;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::net::netlink::{self, IfAddr, Link, Route};
use crate::net::nftables::{self, NftHole};
use crate::net::sock_diag::{self, Mapped, TcpSocket};

/// A point in time an action must finish by, on the monotonic clock of a
/// [`System`]: the real clock for [`Real`], the virtual one for the test
/// double, so tests drive deadlines by sleeping through the seam.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// `d` from now on `clock`.
    pub fn after(clock: &dyn System, d: Duration) -> Deadline {
        Deadline(clock.now() + d)
    }
    /// Time left on `clock`, zero once passed.
    pub fn remaining(&self, clock: &dyn System) -> Duration {
        self.0.saturating_duration_since(clock.now())
    }
    pub fn passed(&self, clock: &dyn System) -> bool {
        self.remaining(clock).is_zero()
    }
    /// The earlier of this deadline and `d` from now on `clock`.
    pub fn within(&self, clock: &dyn System, d: Duration) -> Deadline {
        Deadline(self.0.min(clock.now() + d))
    }
}

/// A command to run: program and arguments, passed to exec as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmd {
    pub program: String,
    pub args: Vec<String>,
}

impl Cmd {
    pub fn new(program: &str) -> Cmd {
        Cmd {
            program: program.to_string(),
            args: Vec::new(),
        }
    }
    pub fn arg(mut self, a: impl Into<String>) -> Cmd {
        self.args.push(a.into());
        self
    }
    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
    /// The command line as an admin would type it (for logs and errors only).
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What a finished command left.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
    /// The most useful one-line description of a failure.
    pub fn failure_text(&self) -> String {
        let text = if self.stderr.trim().is_empty() {
            self.stdout.trim()
        } else {
            self.stderr.trim()
        };
        let first = text.lines().next().unwrap_or("");
        match self.code {
            Some(c) => format!("exit {c}: {first}"),
            None => format!("killed by a signal: {first}"),
        }
    }
}

#[derive(Debug)]
pub enum RunError {
    /// The program is not installed (exec found nothing).
    NotFound(String),
    /// The deadline passed; the process group was killed and abandoned.
    Timeout {
        cmd: String,
        after: Duration,
    },
    Io {
        cmd: String,
        err: io::Error,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::NotFound(p) => write!(f, "{p}: command not found"),
            RunError::Timeout { cmd, after } => {
                write!(
                    f,
                    "`{cmd}` did not finish within {:.1} s",
                    after.as_secs_f64()
                )
            }
            RunError::Io { cmd, err } => write!(f, "`{cmd}`: {err}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Everything agents may ask of the machine.
pub trait System: Sync {
    /// Run `cmd` to completion or until `deadline`, whichever is first.
    fn run(&self, cmd: &Cmd, deadline: Deadline) -> Result<Output, RunError>;
    /// Start `argv` detached in its own session (no waiting); returns its pid.
    fn spawn_detached(&self, argv: &[String]) -> io::Result<u32>;
    /// Whether a program is installed (on `PATH`, or an existing absolute path).
    fn has_program(&self, program: &str) -> bool;
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
    /// Write a whole file, creating missing parent directories.
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    fn exists(&self, path: &Path) -> bool;
    fn addresses(&self) -> io::Result<Vec<IfAddr>>;
    fn links(&self) -> io::Result<Vec<Link>>;
    fn routes(&self, v6: bool) -> io::Result<Vec<Route>>;
    fn now(&self) -> Instant;
    fn sleep(&self, d: Duration);
    /// Signal a process (e.g. to end a helper this agent started).
    fn kill(&self, pid: u32, signal: i32) -> io::Result<()>;
    /// Directory for small state files that must not survive a reboot
    /// (`HA_RSCTMP`, `/run/resource-agents` by default).
    fn state_dir(&self) -> PathBuf;
    /// The configurable roots of the kernel's and nfs-utils' files.
    fn paths(&self) -> &Paths;
    /// The names in a directory (not recursive, unsorted). Only for
    /// directories on local, non-hung filesystems (`/proc`, `/etc`).
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// The path with symlinks resolved. Only for paths on local, non-hung
    /// filesystems (`/dev`).
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;
    /// Where a symbolic link points, without following it (the target is
    /// never touched: safe for `/proc/<pid>/cwd` of a process on hung storage).
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;

    // ---- Added by the `net` branch (issue 12: vip connection capture) ----
    // The TCP connections of an address, read and aborted through netlink
    // sock_diag (src/net/sock_diag.rs), and the stop's nftables table, spoken
    // to over netlink (src/net/nftables.rs); the test double keeps lists.

    /// The TCP sockets in `states` (a mask of `1 << state`) whose local
    /// address is `local` (for IPv4, v4-mapped IPv6 sockets too with
    /// `Mapped::Include`).
    fn tcp_sockets(&self, local: IpAddr, states: u32, mapped: Mapped)
        -> io::Result<Vec<TcpSocket>>;
    /// Abort one socket locally (SOCK_DESTROY). The kernel sends the peer a
    /// RST on the way out: drop the address's traffic first.
    fn destroy_tcp_socket(&self, socket: &TcpSocket) -> io::Result<()>;
    /// Drop all traffic to and from `ip` with an nftables table held by this
    /// process (src/net/nftables.rs): `lift` removes it, and the kernel does
    /// when the process ends (Linux ≥ 5.12).
    fn nft_drop_address(&self, ip: IpAddr) -> io::Result<Box<dyn NftHole + '_>>;
    /// Delete the nftables table `inet <name>` if it exists; whether it did.
    fn nft_delete_table(&self, name: &str) -> io::Result<bool>;
    /// Whether this kernel's nf_tables answers.
    fn nft_available(&self) -> bool;
}

/// The real machine.
pub struct Real {
    state_dir: PathBuf,
    paths: Paths,
}

impl Real {
    pub fn new() -> Real {
        let state_dir = std::env::var_os("HA_RSCTMP")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/run/resource-agents"));
        Real {
            state_dir,
            paths: Paths::from_env(),
        }
    }

    /// The real machine with other roots (tests that point nfsha at
    /// temporary files without touching the environment).
    pub fn with_paths(paths: Paths) -> Real {
        Real {
            paths,
            ..Real::new()
        }
    }
}

impl Default for Real {
    fn default() -> Self {
        Real::new()
    }
}

impl System for Real {
    fn run(&self, cmd: &Cmd, deadline: Deadline) -> Result<Output, RunError> {
        child::run(
            &child::Spec::of(cmd),
            Instant::now() + deadline.remaining(self),
        )
    }

    fn spawn_detached(&self, argv: &[String]) -> io::Result<u32> {
        // Its own session, so Pacemaker's end of the action does not end it.
        let (prog, rest) = argv
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty argv"))?;
        child::detach(&child::Spec::new(prog).args(rest))
    }

    fn has_program(&self, program: &str) -> bool {
        if program.starts_with('/') {
            return Path::new(program).exists();
        }
        which::which(program).is_ok()
    }

    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        use std::io::Read;
        // Plain reads into room made up front: the small files of /proc and
        // /sys report a size of 0, and std's read_to_string then asks for
        // the size and position and probes with five growing reads (eight
        // system calls for a 300-byte file); this takes four.
        let mut f = std::fs::File::open(path)?;
        let mut buf = vec![0u8; 4096];
        let mut len = 0;
        loop {
            if len == buf.len() {
                buf.resize(2 * len, 0);
            }
            match f.read(&mut buf[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(len);
        String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, data)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn addresses(&self) -> io::Result<Vec<IfAddr>> {
        netlink::addresses()
    }

    fn links(&self) -> io::Result<Vec<Link>> {
        netlink::links()
    }

    fn routes(&self, v6: bool) -> io::Result<Vec<Route>> {
        netlink::routes(v6)
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }

    fn kill(&self, pid: u32, signal: i32) -> io::Result<()> {
        // SAFETY: kill(2) with a pid and a signal number.
        if unsafe { libc::kill(pid as i32, signal) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn state_dir(&self) -> PathBuf {
        self.state_dir.clone()
    }

    fn paths(&self) -> &Paths {
        &self.paths
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    // ---- Added by the `net` branch (issue 12) ----

    fn tcp_sockets(
        &self,
        local: IpAddr,
        states: u32,
        mapped: Mapped,
    ) -> io::Result<Vec<TcpSocket>> {
        sock_diag::tcp_sockets(local, states, mapped)
    }

    fn destroy_tcp_socket(&self, socket: &TcpSocket) -> io::Result<()> {
        sock_diag::destroy(socket)
    }

    fn nft_drop_address(&self, ip: IpAddr) -> io::Result<Box<dyn NftHole + '_>> {
        Ok(Box::new(nftables::Hole::open(ip)?))
    }

    fn nft_delete_table(&self, name: &str) -> io::Result<bool> {
        nftables::delete_table(name)
    }

    fn nft_available(&self) -> bool {
        nftables::table_exists("nfsha-probe").is_ok()
    }
}

/// The path of this executable, for re-executing ourselves as a helper.
pub fn self_exe() -> OsString {
    std::env::current_exe()
        .map(PathBuf::into_os_string)
        .unwrap_or_else(|_| OsString::from("nfsha"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_argv_without_a_shell() {
        let sys = Real::new();
        let out = sys
            .run(
                &Cmd::new("echo").arg("a;b $(c)"),
                Deadline::after(&sys, Duration::from_secs(5)),
            )
            .unwrap();
        assert!(out.success());
        assert_eq!(out.stdout, "a;b $(c)\n");
    }

    #[test]
    fn missing_program_is_not_found() {
        let sys = Real::new();
        let err = sys
            .run(
                &Cmd::new("nfsha-no-such-program"),
                Deadline::after(&sys, Duration::from_secs(5)),
            )
            .unwrap_err();
        assert!(matches!(err, RunError::NotFound(_)), "{err}");
    }

    #[test]
    fn deadline_kills_and_returns() {
        let sys = Real::new();
        let t = Instant::now();
        let err = sys
            .run(
                &Cmd::new("sleep").arg("30"),
                Deadline::after(&sys, Duration::from_millis(200)),
            )
            .unwrap_err();
        assert!(matches!(err, RunError::Timeout { .. }), "{err}");
        // Generous bound: the point is that we did not wait 30 s.
        assert!(t.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn exit_codes_and_stderr_are_kept() {
        let sys = Real::new();
        let out = sys
            .run(
                &Cmd::new("ls").arg("/nfsha-does-not-exist"),
                Deadline::after(&sys, Duration::from_secs(5)),
            )
            .unwrap();
        assert_eq!(out.code, Some(2));
        assert!(out.failure_text().starts_with("exit 2: ls: cannot access"));
    }
}
