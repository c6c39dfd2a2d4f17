//! The process table (`/proc`), read through the seam: which processes
//! live, what they are called, and which of them keep a filesystem busy.
//!
//! Only `/proc` is read, and links are read, never followed: a process whose
//! working directory sits on hung storage is found without touching it
//! (like ocf:heartbeat:Filesystem's `force_unmount=safe`, unlike `fuser`).

use std::path::{Path, PathBuf};

use super::System;

/// A live process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    /// The kernel's name for it (`comm`, at most 15 bytes).
    pub comm: String,
}

/// The command name of process `pid` from `/proc/<pid>/stat`
/// (`pid (comm) S …`); `None` when it is gone or a zombie, which keeps its
/// name until it is reaped but serves nothing.
pub fn live_comm(sys: &dyn System, pid: u32) -> Option<String> {
    let stat = sys
        .read_to_string(&sys.paths().proc.join(pid.to_string()).join("stat"))
        .ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let state = stat.get(close + 1..)?.split_whitespace().next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    Some(stat.get(open + 1..close)?.to_string())
}

/// Process `pid` lives and is called `comm`.
pub fn is(sys: &dyn System, pid: u32, comm: &str) -> bool {
    live_comm(sys, pid).is_some_and(|c| c == comm)
}

/// Every live process.
pub fn list(sys: &dyn System) -> Vec<Process> {
    let proc = sys.paths().proc.clone();
    let mut all: Vec<Process> = sys
        .list_dir(&proc)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| n.parse::<u32>().ok())
        .filter_map(|pid| live_comm(sys, pid).map(|comm| Process { pid, comm }))
        .collect();
    all.sort_by_key(|p| p.pid);
    all
}

/// Live processes called `comm`.
pub fn named(sys: &dyn System, comm: &str) -> Vec<u32> {
    list(sys)
        .into_iter()
        .filter(|p| p.comm == comm)
        .map(|p| p.pid)
        .collect()
}

/// How a process uses a filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Use {
    /// Its working directory.
    Cwd,
    /// Its root directory (chroot).
    Root,
    /// Its executable.
    Exe,
    /// An open file descriptor.
    Fd(u32),
    /// A mapped file (a library, a database).
    Map,
}

impl std::fmt::Display for Use {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Use::Cwd => write!(f, "working directory"),
            Use::Root => write!(f, "root directory"),
            Use::Exe => write!(f, "executable"),
            Use::Fd(n) => write!(f, "open file (fd {n})"),
            Use::Map => write!(f, "mapped file"),
        }
    }
}

/// A process that keeps something at or below a directory in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub comm: String,
    pub how: Use,
    pub path: PathBuf,
}

/// `path` as `/proc` shows it, without the ` (deleted)` the kernel appends
/// to unlinked files (they still pin their filesystem).
fn shown_path(p: PathBuf) -> PathBuf {
    match p.to_str().and_then(|s| s.strip_suffix(" (deleted)")) {
        Some(s) => PathBuf::from(s),
        None => p,
    }
}

/// What `pid` uses at or below `dir`: the first use found, in the order
/// working directory, root, executable, open files, mappings.
fn use_of(sys: &dyn System, pid: u32, dir: &Path) -> Option<(Use, PathBuf)> {
    let base = sys.paths().proc.join(pid.to_string());
    let under = |p: &Path| p.starts_with(dir);
    for (name, how) in [("cwd", Use::Cwd), ("root", Use::Root), ("exe", Use::Exe)] {
        if let Ok(p) = sys.read_link(&base.join(name)).map(shown_path) {
            if under(&p) {
                return Some((how, p));
            }
        }
    }
    let mut fds: Vec<u32> = sys
        .list_dir(&base.join("fd"))
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    fds.sort_unstable();
    for fd in fds {
        if let Ok(p) = sys
            .read_link(&base.join("fd").join(fd.to_string()))
            .map(shown_path)
        {
            if under(&p) {
                return Some((Use::Fd(fd), p));
            }
        }
    }
    let maps = sys.read_to_string(&base.join("maps")).unwrap_or_default();
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5).map(|_| l))
        .filter_map(|l| l.find(" /").map(|i| l[i + 1..].trim_end()))
        .map(|p| shown_path(PathBuf::from(p)))
        .find(|p| under(p))
        .map(|p| (Use::Map, p))
}

/// Live processes that `which` selects (by pid and name, before anything
/// else is read) and that use anything at or below `dir` (working
/// directory, root, executable, open file or mapping), except this process
/// itself. `dir` must be absolute and normalised.
pub fn holders(sys: &dyn System, dir: &Path, which: &dyn Fn(&Process) -> bool) -> Vec<Holder> {
    let me = std::process::id();
    list(sys)
        .into_iter()
        .filter(|p| p.pid != me && which(p))
        .filter_map(|p| {
            use_of(sys, p.pid, dir).map(|(how, path)| Holder {
                pid: p.pid,
                comm: p.comm,
                how,
                path,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::Fake;
    use crate::sys::Real;

    fn fake() -> Fake {
        let f = Fake::new();
        f.file("/proc/10/stat", "10 (rpc.statd) S 1 10 10 0");
        f.file("/proc/10/cwd", "symlink:/srv/nfs-state/statd");
        f.file("/proc/11/stat", "11 (sm-notify) Z 1 11 11 0");
        f.file("/proc/11/cwd", "symlink:/srv/nfs-state/statd");
        f.file("/proc/12/stat", "12 (nfsdcld) S 1 12 12 0");
        f.file("/proc/12/cwd", "symlink:/");
        f.file("/proc/12/fd/3", "symlink:/dev/null");
        f.file(
            "/proc/12/fd/7",
            "symlink:/srv/nfs-state/nfsdcld/main.sqlite",
        );
        f.file("/proc/13/stat", "13 (my (odd) name) S 1 13 13 0");
        f.file("/proc/13/cwd", "symlink:/srv/nfs-statex");
        f.file(
            "/proc/13/maps",
            "7f00-7f01 r--p 00000000 93:00 12 /srv/nfs-state/lib/x.so (deleted)\n",
        );
        f.file("/proc/14/stat", "14 (bash) S 1 14 14 0");
        f.file("/proc/14/cwd", "symlink:/root");
        f.file("/proc/self", "symlink:14");
        f
    }

    #[test]
    fn names_and_zombies() {
        let f = fake();
        assert_eq!(live_comm(&f, 10).as_deref(), Some("rpc.statd"));
        assert_eq!(live_comm(&f, 11), None, "a zombie is not alive");
        assert_eq!(live_comm(&f, 13).as_deref(), Some("my (odd) name"));
        assert_eq!(live_comm(&f, 99), None);
        assert!(is(&f, 12, "nfsdcld") && !is(&f, 12, "rpc.statd"));
        assert_eq!(named(&f, "rpc.statd"), vec![10]);
        assert_eq!(
            list(&f).iter().map(|p| p.pid).collect::<Vec<_>>(),
            vec![10, 12, 13, 14]
        );
    }

    #[test]
    fn holders_by_cwd_fd_and_map() {
        let f = fake();
        let h = holders(&f, Path::new("/srv/nfs-state"), &|_| true);
        let got: Vec<(u32, Use)> = h.iter().map(|h| (h.pid, h.how.clone())).collect();
        assert_eq!(got, vec![(10, Use::Cwd), (12, Use::Fd(7)), (13, Use::Map)]);
        assert_eq!(h[2].path, PathBuf::from("/srv/nfs-state/lib/x.so"));
        assert!(holders(&f, Path::new("/srv/other"), &|_| true).is_empty());
        let only = holders(&f, Path::new("/srv/nfs-state"), &|p| p.comm == "nfsdcld");
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].pid, 12);
    }

    #[test]
    fn finds_a_real_process_by_its_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .current_dir(dir.path())
            .spawn()
            .unwrap();
        let found = holders(&Real::new(), dir.path(), &|_| true);
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            found
                .iter()
                .any(|h| h.pid == child.id() && h.how == Use::Cwd && h.comm == "sleep"),
            "{found:?}"
        );
    }
}
