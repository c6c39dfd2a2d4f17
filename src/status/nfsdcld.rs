//! nfsdcld's client-tracking database (`<storagedir>/main.sqlite`, schema
//! version 4, nfs-utils 2.3.4 and later), read without SQLite: the honest
//! source of "who has reclaimed".
//!
//! nfsdcld keeps one table per server epoch, `rec-<epoch as 16 hex digits>`,
//! with the client owners (`id`, the bytes the client sent) established in
//! that epoch, and a table `grace` with one row (`current`, `recovery`):
//!
//! - at a grace start, `recovery` becomes the old `current` and a new empty
//!   `current` table is made; the kernel loads the `recovery` table's clients
//!   as the ones allowed to reclaim;
//! - a client is added to `current` when nfsd records it: at
//!   RECLAIM_COMPLETE for NFSv4.1+, at its first confirmed OPEN for 4.0;
//! - at grace end `recovery` is set to 0 and its table dropped.
//!
//! So during grace, the clients that have reclaimed are those in both
//! tables, and the kernel counts exactly these: it ends grace early when
//! their number reaches the size of the `recovery` table. A client in
//! `current` only is new (it had nothing to reclaim).
//!
//! The database lives on the replicated state directory, so it is read in a
//! child with a deadline ([`super::probe`]), never by `nfsha status` itself.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::formats::sqlite::{Database, Value};

/// The database's name in nfsdcld's storage directory.
pub const FILE: &str = "main.sqlite";

/// What the database says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    /// The schema version in `parameters` (4 for nfs-utils 2.3.4+).
    pub schema_version: Option<i64>,
    pub current_epoch: u64,
    /// 0 outside a grace period.
    pub recovery_epoch: u64,
    /// Client owners recorded in the current epoch (hex).
    pub current: Vec<String>,
    /// Client owners allowed to reclaim (hex); `None` outside grace.
    pub recovery: Option<Vec<String>>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

/// Bytes from [`hex`].
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

fn table_name(epoch: u64) -> String {
    format!("rec-{epoch:016x}")
}

/// Read the tracking state from the bytes of `main.sqlite`.
pub fn from_bytes(data: &[u8]) -> Result<Tracking, String> {
    let db = Database::open(data).map_err(|e| e.to_string())?;
    let schema_version = db
        .table("parameters")
        .map_err(|e| e.to_string())?
        .unwrap_or_default()
        .into_iter()
        .find(|(_, c)| c.first().and_then(Value::as_str) == Some("version"))
        .and_then(|(_, c)| c.get(1).and_then(Value::as_i64));
    if let Some(v) = schema_version.filter(|v| *v != 4) {
        return Err(format!(
            "nfsdcld schema version {v}; this nfsha reads version 4 (nfs-utils 2.3.4 and later)"
        ));
    }
    let grace = db
        .table("grace")
        .map_err(|e| e.to_string())?
        .ok_or("it has no grace table (not an nfsdcld database)")?;
    let (_, row) = grace.first().ok_or("its grace table is empty")?;
    // SQLite keeps these as signed integers; nfsdcld casts them to u64.
    let epoch = |i: usize| row.get(i).and_then(Value::as_i64).map(|v| v as u64);
    let current_epoch = epoch(0).ok_or("the grace table has no current epoch")?;
    let recovery_epoch = epoch(1).unwrap_or(0);
    let ids = |epoch: u64| -> Result<Option<Vec<String>>, String> {
        Ok(db
            .table(&table_name(epoch))
            .map_err(|e| e.to_string())?
            .map(|rows| {
                rows.iter()
                    .filter_map(|(_, c)| c.first().and_then(Value::as_bytes).map(hex))
                    .collect()
            }))
    };
    let current = ids(current_epoch)?.ok_or_else(|| {
        format!(
            "the table of the current epoch ({}) is missing",
            table_name(current_epoch)
        )
    })?;
    let recovery = if recovery_epoch == 0 {
        None
    } else {
        Some(ids(recovery_epoch)?.ok_or_else(|| {
            format!(
                "the table of the recovery epoch ({}) is missing",
                table_name(recovery_epoch)
            )
        })?)
    };
    Ok(Tracking {
        schema_version,
        current_epoch,
        recovery_epoch,
        current,
        recovery,
    })
}

/// Read `path` as SQLite itself would: under a shared lock, so no writer is
/// halfway through a commit, and refusing a hot journal (a writer died
/// mid-commit; nfsdcld rolls it back when it starts). The locks are
/// SQLite's POSIX byte-range locks; taking one never waits.
pub fn read_locked(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    // SQLite's lock bytes (os_unix.c): PENDING at 1 GiB, RESERVED after it,
    // then the 510-byte SHARED range.
    const PENDING: i64 = 0x4000_0000;
    const RESERVED: i64 = PENDING + 1;
    const SHARED: i64 = PENDING + 2;
    const SHARED_LEN: i64 = 510;
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let fd = f.as_raw_fd();
    let lock = |kind: i32, start: i64, len: i64, cmd: i32| -> std::io::Result<libc::flock> {
        // SAFETY: fcntl with a flock we own, on a descriptor we own.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = kind as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        fl.l_start = start;
        fl.l_len = len;
        if unsafe { libc::fcntl(fd, cmd, &mut fl) } == -1 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(fl)
    };
    let mut shared = false;
    for _ in 0..100 {
        // A writer waiting for its exclusive lock holds PENDING: wait for it.
        if lock(libc::F_RDLCK, PENDING, 1, libc::F_SETLK).is_ok() {
            let got = lock(libc::F_RDLCK, SHARED, SHARED_LEN, libc::F_SETLK).is_ok();
            let _ = lock(libc::F_UNLCK, PENDING, 1, libc::F_SETLK);
            if got {
                shared = true;
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    if !shared {
        return Err(format!(
            "{}: nfsdcld kept it locked for writing for over a second",
            path.display()
        ));
    }
    let journal = path.with_file_name(format!(
        "{}-journal",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let journal_len = std::fs::metadata(&journal).map(|m| m.len()).unwrap_or(0);
    if journal_len > 0 {
        let holder = lock(libc::F_WRLCK, RESERVED, 1, libc::F_GETLK)
            .map(|fl| i32::from(fl.l_type) != libc::F_UNLCK)
            .unwrap_or(true);
        if !holder {
            return Err(format!(
                "{} has a hot journal (a write was cut short); nfsdcld rolls it back when it starts",
                journal.display()
            ));
        }
    }
    let mut data = Vec::new();
    // nfsdcld's database is small; a far larger file is not one.
    (&mut f)
        .take(64 << 20)
        .read_to_end(&mut data)
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    Ok(data)
}

/// Who has reclaimed, by the kernel's own count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reclaim {
    /// Grace is running in nfsdcld's view (a recovery epoch is set).
    pub in_grace: bool,
    pub current_epoch: u64,
    pub recovery_epoch: u64,
    /// Clients allowed to reclaim (the recovery epoch's records).
    pub allowed: usize,
    /// Of those, the ones that have reclaimed (recorded again this epoch).
    pub reclaimed: usize,
    /// Clients recorded this epoch that had nothing to reclaim.
    pub new: usize,
    /// Clients recorded in this epoch in all.
    pub recorded: usize,
}

/// A client's place in the reclaim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientReclaim {
    /// Allowed to reclaim and has finished (RECLAIM_COMPLETE).
    Reclaimed,
    /// Allowed to reclaim and not finished yet.
    Pending,
    /// Recorded this epoch, had nothing to reclaim.
    New,
    /// Not recorded (yet): a client that has not finished establishing.
    NotRecorded,
}

impl Tracking {
    fn set(ids: &[String]) -> BTreeSet<&str> {
        ids.iter().map(String::as_str).collect()
    }

    pub fn reclaim(&self) -> Reclaim {
        let current = Self::set(&self.current);
        let recovery = self.recovery.as_deref().map(Self::set).unwrap_or_default();
        let reclaimed = current.intersection(&recovery).count();
        Reclaim {
            in_grace: self.recovery.is_some(),
            current_epoch: self.current_epoch,
            recovery_epoch: self.recovery_epoch,
            allowed: recovery.len(),
            reclaimed,
            new: current.len() - reclaimed,
            recorded: current.len(),
        }
    }

    /// Where the client with owner `name` stands.
    pub fn client(&self, name: &[u8]) -> ClientReclaim {
        let id = hex(name);
        let in_current = self.current.contains(&id);
        let allowed = self.recovery.as_ref().is_some_and(|r| r.contains(&id));
        match (allowed, in_current) {
            (true, true) => ClientReclaim::Reclaimed,
            (true, false) => ClientReclaim::Pending,
            (false, true) => ClientReclaim::New,
            (false, false) => ClientReclaim::NotRecorded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracking(current: &[&str], recovery: Option<&[&str]>) -> Tracking {
        let h = |v: &[&str]| v.iter().map(|s| hex(s.as_bytes())).collect();
        Tracking {
            schema_version: Some(4),
            current_epoch: 5,
            recovery_epoch: if recovery.is_some() { 4 } else { 0 },
            current: h(current),
            recovery: recovery.map(h),
        }
    }

    #[test]
    fn reclaimed_are_the_allowed_clients_recorded_again() {
        let t = tracking(&["a", "c", "n"], Some(&["a", "b", "c"]));
        let r = t.reclaim();
        assert!(r.in_grace);
        assert_eq!((r.allowed, r.reclaimed, r.new, r.recorded), (3, 2, 1, 3));
        assert_eq!(t.client(b"a"), ClientReclaim::Reclaimed);
        assert_eq!(t.client(b"b"), ClientReclaim::Pending);
        assert_eq!(t.client(b"n"), ClientReclaim::New);
        assert_eq!(t.client(b"z"), ClientReclaim::NotRecorded);
    }

    #[test]
    fn outside_grace_nothing_is_pending() {
        let t = tracking(&["a"], None);
        let r = t.reclaim();
        assert!(!r.in_grace);
        assert_eq!((r.allowed, r.reclaimed, r.new), (0, 0, 1));
        assert_eq!(t.client(b"a"), ClientReclaim::New);
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(b"Linux \x00\xff")).unwrap(), b"Linux \x00\xff");
        assert_eq!(unhex("0g"), None);
    }
}
