//! A test double of [`System`]: in-memory files, scripted command answers,
//! a recorded command log, a network state tests set up, and a virtual
//! clock that only [`System::sleep`] moves (deadlines run on it too).
//!
//! The nfsd control files refuse like the kernel's: writing
//! `nfsv4leasetime`, `nfsv4gracetime`, `versions` or `nfsv4recoverydir`
//! while `threads` is above 0 fails with EBUSY (`fs/nfsd/nfsctl.c`).
//!
//! Used by unit tests to drive every decision of an agent; the integration
//! tests run the same agents against the real machine.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Cmd, Deadline, Output, Paths, RunError, System};
use crate::net::netlink::{IfAddr, Link, Route};
use crate::net::nftables::{table_name, NftHole};
use crate::net::sock_diag::{Mapped, TcpSocket};

type Responder = Box<dyn Fn(&Cmd) -> Option<Result<Output, RunError>> + Send + Sync>;

#[derive(Default)]
struct State {
    files: BTreeMap<PathBuf, String>,
    log: Vec<Cmd>,
    addrs: Vec<IfAddr>,
    links: Vec<Link>,
    routes: Vec<Route>,
    killed: Vec<(u32, i32)>,
    spawned: Vec<Vec<String>>,
    slept: Duration,
    sleeps: u32,
    /// Processes that exit on a signal: pid → signal.
    exits_on: BTreeMap<u32, i32>,
    /// File contents that appear once this much virtual time has passed.
    later: Vec<(Duration, PathBuf, String)>,
    /// How often each directory was listed.
    listed: BTreeMap<PathBuf, u32>,
    // net branch (issue 12): the TCP sockets served, those destroyed, and
    // the errno destroying fails with (None: it works).
    tcp: Vec<TcpSocket>,
    destroyed: Vec<TcpSocket>,
    destroy_errno: Option<i32>,
    nft_tables: Vec<String>,
    nft_available: bool,
    nft_errno: Option<i32>,
}

/// The double. Commands without a matching responder "succeed" with no output.
pub struct Fake {
    state: Mutex<State>,
    responders: Mutex<Vec<Responder>>,
    programs: Mutex<Vec<String>>,
    start: Instant,
    paths: Paths,
}

impl Default for Fake {
    fn default() -> Self {
        Fake {
            state: Mutex::default(),
            responders: Mutex::default(),
            programs: Mutex::new(Vec::new()),
            start: Instant::now(),
            paths: Paths::default(),
        }
    }
}

impl Fake {
    pub fn new() -> Fake {
        Fake::default()
    }
    /// Use other roots than the real ones.
    pub fn with_paths(mut self, paths: Paths) -> Fake {
        self.paths = paths;
        self
    }
    /// Declare programs as installed.
    pub fn with_programs(self, programs: &[&str]) -> Fake {
        self.programs
            .lock()
            .unwrap()
            .extend(programs.iter().map(|p| p.to_string()));
        self
    }
    pub fn file(&self, path: &str, content: &str) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(PathBuf::from(path), content.to_string());
    }
    pub fn file_content(&self, path: &str) -> Option<String> {
        self.state
            .lock()
            .unwrap()
            .files
            .get(Path::new(path))
            .cloned()
    }
    /// Answer commands for which `f` returns `Some`; later responders win.
    pub fn respond(
        &self,
        f: impl Fn(&Cmd) -> Option<Result<Output, RunError>> + Send + Sync + 'static,
    ) {
        self.responders.lock().unwrap().push(Box::new(f));
    }
    pub fn set_links(&self, links: Vec<Link>) {
        self.state.lock().unwrap().links = links;
    }
    pub fn set_addresses(&self, addrs: Vec<IfAddr>) {
        self.state.lock().unwrap().addrs = addrs;
    }
    pub fn set_routes(&self, routes: Vec<Route>) {
        self.state.lock().unwrap().routes = routes;
    }
    /// Every command run so far, as display strings.
    pub fn commands(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .map(Cmd::display)
            .collect()
    }
    pub fn spawned(&self) -> Vec<Vec<String>> {
        self.state.lock().unwrap().spawned.clone()
    }
    pub fn killed(&self) -> Vec<(u32, i32)> {
        self.state.lock().unwrap().killed.clone()
    }
    /// Make process `pid` exit when it gets `signal` (its `/proc/<pid>`
    /// entries disappear). Without this, the double's processes ignore
    /// every signal, even SIGKILL, like a task stuck on hung storage.
    pub fn exits_on(&self, pid: u32, signal: i32) {
        self.state.lock().unwrap().exits_on.insert(pid, signal);
    }
    /// Set `path` to `content` once `after` of virtual time has passed
    /// (something outside the agent changing, e.g. nfsd's threads ending).
    pub fn file_after(&self, after: Duration, path: &str, content: &str) {
        self.state
            .lock()
            .unwrap()
            .later
            .push((after, PathBuf::from(path), content.to_string()));
    }
    /// How many times `path` was listed ([`System::list_dir`]).
    pub fn listed(&self, path: &str) -> u32 {
        self.state
            .lock()
            .unwrap()
            .listed
            .get(Path::new(path))
            .copied()
            .unwrap_or(0)
    }
    /// Virtual time spent in [`System::sleep`].
    pub fn slept(&self) -> Duration {
        self.state.lock().unwrap().slept
    }
    /// How many times [`System::sleep`] was called.
    pub fn sleeps(&self) -> u32 {
        self.state.lock().unwrap().sleeps
    }

    // ---- Added by the `net` branch (issue 12) ----

    /// The TCP sockets the kernel would list (any local address).
    pub fn set_tcp_sockets(&self, sockets: Vec<TcpSocket>) {
        self.state.lock().unwrap().tcp = sockets;
    }
    /// Sockets aborted through `destroy_tcp_socket`, in order.
    pub fn destroyed(&self) -> Vec<TcpSocket> {
        self.state.lock().unwrap().destroyed.clone()
    }
    /// Make `destroy_tcp_socket` fail with `errno` (e.g. EOPNOTSUPP).
    pub fn fail_destroy(&self, errno: i32) {
        self.state.lock().unwrap().destroy_errno = Some(errno);
    }
    /// The nftables `inet` tables that exist (nf_tables is then available).
    pub fn set_nft_tables(&self, names: &[&str]) {
        let mut s = self.state.lock().unwrap();
        s.nft_available = true;
        s.nft_tables = names.iter().map(|n| n.to_string()).collect();
    }
    pub fn nft_tables(&self) -> Vec<String> {
        self.state.lock().unwrap().nft_tables.clone()
    }
    /// Make nftables writes fail with `errno` (e.g. EPERM).
    pub fn fail_nft(&self, errno: i32) {
        self.state.lock().unwrap().nft_errno = Some(errno);
    }
}

/// nfsd control files the kernel refuses to change while threads run.
const BUSY_WHILE_RUNNING: &[&str] = &[
    "nfsv4leasetime",
    "nfsv4gracetime",
    "versions",
    "nfsv4recoverydir",
];

/// A successful output with `stdout`.
pub fn ok(stdout: &str) -> Option<Result<Output, RunError>> {
    Some(Ok(Output {
        code: Some(0),
        stdout: stdout.to_string(),
        stderr: String::new(),
    }))
}

/// The program is not installed (exec finds nothing).
pub fn missing(cmd: &Cmd) -> Option<Result<Output, RunError>> {
    Some(Err(RunError::NotFound(cmd.program.clone())))
}

/// A failed output with exit `code` and `stderr`.
pub fn fail(code: i32, stderr: &str) -> Option<Result<Output, RunError>> {
    Some(Ok(Output {
        code: Some(code),
        stdout: String::new(),
        stderr: stderr.to_string(),
    }))
}

impl System for Fake {
    fn run(&self, cmd: &Cmd, deadline: Deadline) -> Result<Output, RunError> {
        self.state.lock().unwrap().log.push(cmd.clone());
        if deadline.passed(self) {
            return Err(RunError::Timeout {
                cmd: cmd.display(),
                after: Duration::ZERO,
            });
        }
        for r in self.responders.lock().unwrap().iter().rev() {
            if let Some(answer) = r(cmd) {
                return answer;
            }
        }
        Ok(Output {
            code: Some(0),
            ..Output::default()
        })
    }
    /// The process gets pid 40001, 40002, … and shows up in `/proc` like a
    /// real one (`stat` with the program's name as `comm`, `cmdline`).
    fn spawn_detached(&self, argv: &[String]) -> io::Result<u32> {
        let mut s = self.state.lock().unwrap();
        s.spawned.push(argv.to_vec());
        let pid = 40000 + s.spawned.len() as u32;
        let comm: String = argv
            .first()
            .and_then(|p| Path::new(p).file_name())
            .map(|n| n.to_string_lossy().chars().take(15).collect())
            .unwrap_or_default();
        let dir = self.paths.proc.join(pid.to_string());
        s.files.insert(
            dir.join("stat"),
            format!("{pid} ({comm}) S 1 {pid} {pid} 0"),
        );
        s.files.insert(dir.join("cmdline"), argv.join("\0") + "\0");
        Ok(pid)
    }
    fn has_program(&self, program: &str) -> bool {
        self.programs.lock().unwrap().iter().any(|p| p == program)
    }
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.state
            .lock()
            .unwrap()
            .files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{}", path.display())))
    }
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let nfsd = &self.paths.proc_nfsd;
        let busy = path.parent() == Some(nfsd.as_path())
            && path
                .file_name()
                .is_some_and(|n| BUSY_WHILE_RUNNING.iter().any(|b| n == *b))
            && self
                .read_to_string(&nfsd.join("threads"))
                .is_ok_and(|t| t.trim().parse::<u32>().is_ok_and(|n| n > 0));
        if busy {
            return Err(io::Error::from_raw_os_error(libc::EBUSY));
        }
        self.state.lock().unwrap().files.insert(
            path.to_path_buf(),
            String::from_utf8_lossy(data).into_owned(),
        );
        Ok(())
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.state
            .lock()
            .unwrap()
            .files
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
    fn exists(&self, path: &Path) -> bool {
        let s = self.state.lock().unwrap();
        s.files.contains_key(path) || s.files.keys().any(|k| k.starts_with(path))
    }
    fn addresses(&self) -> io::Result<Vec<IfAddr>> {
        Ok(self.state.lock().unwrap().addrs.clone())
    }
    fn links(&self) -> io::Result<Vec<Link>> {
        Ok(self.state.lock().unwrap().links.clone())
    }
    fn routes(&self, v6: bool) -> io::Result<Vec<Route>> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .routes
            .iter()
            .filter(|r| r.dst.is_ipv6() == v6)
            .cloned()
            .collect())
    }
    fn now(&self) -> Instant {
        self.start + self.state.lock().unwrap().slept
    }
    fn sleep(&self, d: Duration) {
        let mut s = self.state.lock().unwrap();
        s.slept += d;
        s.sleeps += 1;
        let now = s.slept;
        let (due, later): (Vec<_>, Vec<_>) = s.later.drain(..).partition(|(at, _, _)| *at <= now);
        s.later = later;
        for (_, path, content) in due {
            s.files.insert(path, content);
        }
    }
    fn kill(&self, pid: u32, signal: i32) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        s.killed.push((pid, signal));
        if s.exits_on.get(&pid) == Some(&signal) {
            let dir = self.paths.proc.join(pid.to_string());
            s.files.retain(|k, _| !k.starts_with(&dir));
        }
        Ok(())
    }
    fn state_dir(&self) -> PathBuf {
        PathBuf::from("/run/resource-agents")
    }
    fn paths(&self) -> &Paths {
        &self.paths
    }
    /// Symlinks are files whose content starts with `symlink:`.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        match self.state.lock().unwrap().files.get(path) {
            Some(c) if c.starts_with("symlink:") => Ok(PathBuf::from(&c["symlink:".len()..])),
            _ => Ok(path.to_path_buf()),
        }
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        match self.state.lock().unwrap().files.get(path) {
            Some(c) if c.starts_with("symlink:") => Ok(PathBuf::from(&c["symlink:".len()..])),
            Some(_) => Err(io::Error::from_raw_os_error(libc::EINVAL)),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}", path.display()),
            )),
        }
    }
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut s = self.state.lock().unwrap();
        *s.listed.entry(path.to_path_buf()).or_default() += 1;
        let mut names: Vec<String> = s
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(path).ok())
            .filter_map(|rest| rest.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        names.dedup();
        if names.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}", path.display()),
            ));
        }
        Ok(names)
    }

    // ---- Added by the `net` branch (issue 12) ----

    fn tcp_sockets(
        &self,
        local: IpAddr,
        states: u32,
        _mapped: Mapped,
    ) -> io::Result<Vec<TcpSocket>> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .tcp
            .iter()
            .filter(|s| s.local.ip() == local && states & (1 << s.state) != 0)
            .cloned()
            .collect())
    }
    fn destroy_tcp_socket(&self, socket: &TcpSocket) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        if let Some(errno) = s.destroy_errno {
            return Err(io::Error::from_raw_os_error(errno));
        }
        s.tcp.retain(|t| t != socket);
        s.destroyed.push(socket.clone());
        Ok(())
    }
    /// Logged among the commands as `netlink nft add|delete table inet …`.
    fn nft_drop_address(&self, ip: IpAddr) -> io::Result<Box<dyn NftHole + '_>> {
        let table = table_name(ip);
        self.nft_write("add", &table)?;
        Ok(Box::new(FakeHole { fake: self, table }))
    }
    fn nft_delete_table(&self, name: &str) -> io::Result<bool> {
        let existed = self.nft_tables().iter().any(|t| t == name);
        self.nft_write("delete", name)?;
        Ok(existed)
    }
    fn nft_available(&self) -> bool {
        self.state.lock().unwrap().nft_available
    }
}

// ---- Added by the `net` branch (issue 12) ----

impl Fake {
    fn nft_write(&self, verb: &str, table: &str) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        s.log
            .push(Cmd::new("netlink").args(["nft", verb, "table", "inet", table]));
        if let Some(errno) = s.nft_errno {
            return Err(io::Error::from_raw_os_error(errno));
        }
        if !s.nft_available {
            return Err(io::Error::from_raw_os_error(libc::EPROTONOSUPPORT));
        }
        s.nft_tables.retain(|t| t != table);
        if verb == "add" {
            s.nft_tables.push(table.to_string());
        }
        Ok(())
    }
}

/// The double's rules: a table in the fake's list until lifted.
struct FakeHole<'a> {
    fake: &'a Fake,
    table: String,
}

impl NftHole for FakeHole<'_> {
    fn owned(&self) -> bool {
        true
    }
    fn lift(self: Box<Self>) -> io::Result<()> {
        self.fake.nft_write("delete", &self.table)
    }
}
