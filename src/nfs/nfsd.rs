//! The kernel nfsd's control files (`/proc/fs/nfsd`, under the seam's
//! `proc_nfsd` root): the thread count, lease and grace time, versions and
//! the legacy recovery directory.
//!
//! The kernel refuses to change `nfsv4leasetime`, `nfsv4gracetime`,
//! `versions` and `nfsv4recoverydir` while nfsd runs (EBUSY, from
//! `fs/nfsd/nfsctl.c`): they are written before the threads start.

use std::io;

use crate::sys::System;

/// Control files the kernel refuses to change while threads run.
pub const SET_BEFORE_THREADS: [&str; 4] = [
    "nfsv4leasetime",
    "nfsv4gracetime",
    "versions",
    "nfsv4recoverydir",
];

/// `threads`: `None` when it cannot be read (nfsd module not loaded or the
/// filesystem not mounted), else the count.
pub fn threads(sys: &dyn System) -> Option<u32> {
    read_number(sys, "threads")
}

/// nfsd serves requests: at least one thread runs.
pub fn running(sys: &dyn System) -> bool {
    threads(sys).is_some_and(|n| n > 0)
}

/// A number from a control file (`nfsv4leasetime`, `nfsv4gracetime`).
pub fn read_number(sys: &dyn System, name: &str) -> Option<u32> {
    sys.read_to_string(&sys.paths().nfsd(name))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// Write `value` (and the newline the kernel expects) to a control file.
pub fn write(sys: &dyn System, name: &str, value: &str) -> io::Result<()> {
    sys.write(&sys.paths().nfsd(name), format!("{value}\n").as_bytes())
}

/// The enabled versions as nfsd lists them (`+4.1 +4.2` parts only),
/// e.g. `["4.1", "4.2"]` from `-3 +4 -4.0 +4.1 +4.2`.
pub fn enabled_versions(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|v| v.strip_prefix('+'))
        .filter(|v| *v != "4")
        .map(str::to_string)
        .collect()
}

/// The versions nfsd offers now (empty when unreadable).
pub fn versions(sys: &dyn System) -> Vec<String> {
    sys.read_to_string(&sys.paths().nfsd("versions"))
        .map(|v| enabled_versions(&v))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::Fake;

    #[test]
    fn versions_from_the_kernel() {
        assert_eq!(
            enabled_versions("-2 -3 +4 -4.0 +4.1 +4.2\n"),
            vec!["4.1", "4.2"]
        );
        assert_eq!(enabled_versions("+3 +4 +4.0 -4.1"), vec!["3", "4.0"]);
    }

    #[test]
    fn threads_and_the_test_double_refusing_like_the_kernel() {
        let f = Fake::new();
        assert_eq!(threads(&f), None);
        assert!(!running(&f));
        f.file("/proc/fs/nfsd/threads", "0\n");
        for name in SET_BEFORE_THREADS {
            write(&f, name, "90").unwrap();
        }
        assert_eq!(read_number(&f, "nfsv4leasetime"), Some(90));
        f.file("/proc/fs/nfsd/threads", "8\n");
        assert!(running(&f));
        for name in SET_BEFORE_THREADS {
            let e = write(&f, name, "120").unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EBUSY), "{name}");
        }
        assert_eq!(read_number(&f, "nfsv4leasetime"), Some(90));
        // Other control files take writes while nfsd runs.
        write(&f, "unlock_filesystem", "/srv/x").unwrap();
    }
}
