//! What the process table (`/proc`, under the seam's `proc` root) says about
//! the NFS server: nfsd's kernel threads (and so when nfsd started), the
//! NFS daemons, and which network namespace this is.
//!
//! Only `/proc/<pid>/stat` is read, never `cmdline` or `environ`: those take
//! the process's memory-map lock, which a process stuck in a page fault on
//! hung storage holds; `stat` does not.

use std::path::Path;
use std::time::Duration;

use crate::sys::System;

/// The fields of `/proc/<pid>/stat` nfsha uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    pub comm: String,
    /// `R`, `S`, `D`, `Z`, …
    pub state: char,
    /// `PF_*` flags.
    pub flags: u64,
    /// Start time after boot, in clock ticks (`CLOCK_BOOTTIME`).
    pub start_ticks: u64,
}

/// `PF_KTHREAD` (include/linux/sched.h): a kernel thread.
const PF_KTHREAD: u64 = 0x0020_0000;

impl Stat {
    pub fn kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }
}

/// Parse `/proc/<pid>/stat` (`pid (comm) S ppid …`; the name may hold
/// blanks and parentheses, so it ends at the last `)`).
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); field N is rest[N - 3].
    Some(Stat {
        pid,
        comm,
        state: rest.first()?.chars().next()?,
        flags: rest.get(6)?.parse().ok()?,
        start_ticks: rest.get(19)?.parse().ok()?,
    })
}

/// Every process's `stat`, by pid.
pub fn scan(sys: &dyn System) -> Result<Vec<Stat>, String> {
    let proc = sys.paths().proc.clone();
    let names = sys
        .list_dir(&proc)
        .map_err(|e| format!("{}: {e}", proc.display()))?;
    let mut all: Vec<Stat> = names
        .iter()
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|n| sys.read_to_string(&proc.join(n).join("stat")).ok())
        .filter_map(|t| parse_stat(&t))
        .collect();
    all.sort_by_key(|s| s.pid);
    Ok(all)
}

/// Clock ticks per second for `start_ticks` (`USER_HZ`, 100 on Linux).
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// nfsd's kernel threads.
pub fn nfsd_threads(all: &[Stat]) -> Vec<&Stat> {
    all.iter()
        .filter(|s| s.comm == "nfsd" && s.kernel_thread())
        .collect()
}

/// How long ago the oldest nfsd thread started: when nfsd (and its grace
/// period) started. Lowering the thread count stops the newest threads
/// first, so the oldest one lives as long as the server.
pub fn nfsd_started_ago(all: &[Stat], boottime_now: Duration, hz: u64) -> Option<Duration> {
    let first = nfsd_threads(all).iter().map(|s| s.start_ticks).min()?;
    let started = Duration::from_millis(first.saturating_mul(1000) / hz.max(1));
    Some(boottime_now.saturating_sub(started))
}

/// The user-space daemons of an NFS server, as the kernel names them.
pub const DAEMONS: [&str; 6] = [
    "rpc.nfsd",
    "rpc.mountd",
    "nfsdcld",
    "rpc.statd",
    "rpc.idmapd",
    "nfsdcltrack",
];

/// The NFS daemons that run, in [`DAEMONS`] order then by pid.
pub fn daemons(all: &[Stat]) -> Vec<&Stat> {
    let mut d: Vec<&Stat> = all
        .iter()
        .filter(|s| !s.kernel_thread() && s.state != 'Z' && DAEMONS.contains(&s.comm.as_str()))
        .collect();
    d.sort_by_key(|s| (DAEMONS.iter().position(|n| *n == s.comm), s.pid));
    d
}

/// The inode number of a namespace link (`net:[4026531840]`).
pub fn ns_inode(link: &str) -> Option<u64> {
    link.split_once(":[")?.1.strip_suffix(']')?.parse().ok()
}

/// This process's network namespace, and whether it is the host's (pid 1's):
/// (inode, name). Named namespaces (`ip netns add`) are found in
/// `/run/netns` by inode; the host's is `default`.
pub fn network_namespace(proc: &Path, run_netns: &Path) -> (Option<u64>, String) {
    let link = |p: &Path| {
        std::fs::read_link(p)
            .ok()
            .and_then(|l| ns_inode(&l.to_string_lossy()))
    };
    let own = link(&proc.join("self/ns/net"));
    let host = link(&proc.join("1/ns/net"));
    let name = match (own, host) {
        (Some(a), Some(b)) if a == b => "default".to_string(),
        (Some(a), _) => {
            use std::os::unix::fs::MetadataExt;
            // /run/netns is tmpfs holding nsfs bind mounts: stat is safe.
            std::fs::read_dir(run_netns)
                .ok()
                .into_iter()
                .flatten()
                .flatten()
                .find(|e| e.metadata().map(|m| m.ino() == a).unwrap_or(false))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("net:[{a}]"))
        }
        // /proc/1 hidden (hidepid) or unreadable: assume the host's.
        (None, _) => "default".to_string(),
    };
    (own, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(pid: u32, comm: &str, flags: u64, start: u64) -> String {
        format!(
            "{pid} ({comm}) S 2 0 0 0 -1 {flags} 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        )
    }

    #[test]
    fn stat_fields_and_names_with_parentheses() {
        let s = parse_stat(&stat(42, "nfsd", 0x0020_8040, 12345)).unwrap();
        assert_eq!((s.pid, s.comm.as_str(), s.state), (42, "nfsd", 'S'));
        assert!(s.kernel_thread());
        assert_eq!(s.start_ticks, 12345);
        let s = parse_stat(&stat(7, "a) (b", 0x0040_0100, 5)).unwrap();
        assert_eq!(s.comm, "a) (b");
        assert!(!s.kernel_thread());
        assert_eq!(parse_stat("7 (x) S 1"), None);
    }

    #[test]
    fn nfsd_started_with_its_oldest_kernel_thread() {
        let all: Vec<Stat> = [
            stat(100, "nfsd", 0x0020_8040, 5000),
            stat(101, "nfsd", 0x0020_8040, 4000),
            stat(300, "nfsd", 0x0040_0100, 100), // a user process named nfsd
            stat(102, "lockd", 0x0020_8040, 10),
        ]
        .iter()
        .filter_map(|t| parse_stat(t))
        .collect();
        assert_eq!(nfsd_threads(&all).len(), 2);
        let ago = nfsd_started_ago(&all, Duration::from_secs(100), 100).unwrap();
        assert_eq!(ago, Duration::from_secs(60));
        assert_eq!(
            nfsd_started_ago(&all[2..], Duration::from_secs(100), 100),
            None
        );
    }

    #[test]
    fn daemons_in_a_fixed_order() {
        let all: Vec<Stat> = [
            stat(9, "rpc.statd", 0x0040_0100, 1),
            stat(5, "rpc.mountd", 0x0040_0100, 1),
            stat(6, "bash", 0x0040_0100, 1),
        ]
        .iter()
        .filter_map(|t| parse_stat(t))
        .collect();
        let d: Vec<&str> = daemons(&all).iter().map(|s| s.comm.as_str()).collect();
        assert_eq!(d, ["rpc.mountd", "rpc.statd"]);
    }

    #[test]
    fn namespace_links() {
        assert_eq!(ns_inode("net:[4026531840]"), Some(4026531840));
        assert_eq!(ns_inode("uts"), None);
    }
}
