//! What this host has seen of its peers' records, kept between the agent's
//! calls (each `-r` is a new process) in the local directory: one file per
//! (record kind, pool, peer), so that checks of different peers never touch
//! the same file, and a lock per file so that concurrent checks of one peer
//! each add what they saw. Every writer writes its own temporary file and
//! renames it into place.
//!
//! (The agent runs `KVMHAChecker` for several hosts at once; with one shared
//! file and one shared temporary name, twelve parallel checks kept the
//! observations of one to three peers.)

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::heartbeat::status::PeerStatus;

/// Which record an observation is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `KVMHA/nfsha-hb-<host>` (the agent's writes through nfsha).
    Dropin,
    /// The host's slot of `.nfsha/leases` (the heartbeat daemons' lease area).
    Daemon,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dropin => "dropin",
            Kind::Daemon => "daemon",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub mount: String,
    pub kind: String,
    pub obs: PeerStatus,
}

/// The observation files in one directory.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

/// How long a check waits for another check of the same peer to finish its
/// update (updates are local and take microseconds).
const LOCK_WAIT: Duration = Duration::from_secs(2);

struct Locked(File);

impl Drop for Locked {
    fn drop(&mut self) {
        // SAFETY: unlocking the descriptor we locked (closing it would too).
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

fn lock(path: &Path) -> std::io::Result<Locked> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    let until = Instant::now() + LOCK_WAIT;
    loop {
        // SAFETY: flock(2) on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(Locked(f));
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) || Instant::now() >= until {
            return Err(e);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl Store {
    pub fn new(dir: &Path) -> Store {
        Store {
            dir: dir.to_path_buf(),
        }
    }

    /// `<dir>/<fnv(mount)>-<host>.<kind>.json`; the host is a checked id.
    fn path(&self, kind: Kind, mount: &Path, host: &str) -> PathBuf {
        self.dir.join(format!(
            "{}-{host}.{}.json",
            super::path_key(mount),
            kind.name()
        ))
    }

    fn read(path: &Path, kind: Kind, mount: &Path) -> Option<PeerStatus> {
        let text = std::fs::read_to_string(path).ok()?;
        let e: Entry = serde_json::from_str(&text).ok()?;
        (e.kind == kind.name() && Path::new(&e.mount) == mount).then_some(e.obs)
    }

    pub fn load(&self, kind: Kind, mount: &Path, host: &str) -> Option<PeerStatus> {
        Store::read(&self.path(kind, mount, host), kind, mount)
    }

    /// Replace the observation with `f(current)`, under the entry's lock.
    pub fn update(
        &self,
        kind: Kind,
        mount: &Path,
        host: &str,
        f: impl FnOnce(Option<PeerStatus>) -> PeerStatus,
    ) -> std::io::Result<PeerStatus> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(kind, mount, host);
        let _lock = lock(&path.with_extension("lock"))?;
        let obs = f(Store::read(&path, kind, mount));
        let entry = Entry {
            mount: mount.to_string_lossy().into_owned(),
            kind: kind.name().into(),
            obs: obs.clone(),
        };
        let tmp = path.with_extension(format!(
            "tmp.{}.{:x}",
            std::process::id(),
            crate::heartbeat::clock::random_u64() & 0xffff
        ));
        let result = std::fs::write(
            &tmp,
            serde_json::to_vec(&entry).map_err(std::io::Error::other)?,
        )
        .and_then(|_| std::fs::rename(&tmp, &path));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map(|_| obs)
    }

    /// Every kept observation of `host`, on any pool: `(mount, kind, obs)`.
    pub fn of_host(&self, host: &str) -> Vec<(PathBuf, String, PeerStatus)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<_> = entries
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.ends_with(".json")
                    && name
                        .split_once('-')
                        .is_some_and(|(_, rest)| rest.starts_with(&format!("{host}.")))
            })
            .filter_map(|e| {
                let text = std::fs::read_to_string(e.path()).ok()?;
                let entry: Entry = serde_json::from_str(&text).ok()?;
                (entry.obs.host == host)
                    .then(|| (PathBuf::from(entry.mount), entry.kind, entry.obs))
            })
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::check::empty_observation;

    #[test]
    fn concurrent_updates_keep_every_peer_and_every_update() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        let mount = Path::new("/mnt/pool");
        let threads: Vec<_> = (0..12)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        store
                            .update(Kind::Dropin, mount, &format!("10.0.0.{i}"), |o| {
                                let mut o = o.unwrap_or_else(|| {
                                    empty_observation(&format!("10.0.0.{i}"), 0)
                                });
                                o.seq += 1;
                                o
                            })
                            .unwrap();
                        // And all of them on one peer too.
                        store
                            .update(Kind::Daemon, mount, "shared", |o| {
                                let mut o = o.unwrap_or_else(|| empty_observation("shared", 0));
                                o.seq += 1;
                                o
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for i in 0..12 {
            assert_eq!(
                store
                    .load(Kind::Dropin, mount, &format!("10.0.0.{i}"))
                    .unwrap()
                    .seq,
                20
            );
        }
        assert_eq!(store.load(Kind::Daemon, mount, "shared").unwrap().seq, 240);
        assert!(store
            .load(Kind::Daemon, Path::new("/mnt/other"), "shared")
            .is_none());
        let of = store.of_host("10.0.0.1");
        assert_eq!(of.len(), 1);
        assert_eq!(of[0].0, mount);
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp."))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
