//! The outcome of this host's recent writes on each pool, kept locally so
//! that `-c` (which the agent calls with no reason, after its last failed
//! try) can name the cause of its fence decision, and can tell a host whose
//! heartbeat is healthy on another pool from one that has lost them all.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How a write ended.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    /// The pool's mount point is not mounted: a local fault, the storage
    /// itself may be healthy.
    NotMounted,
    /// Mounted read-only.
    ReadOnly,
    /// The storage did not answer within the bound (hung or very slow).
    Timeout,
    /// The storage answered with an error.
    Error,
    /// Nothing on this host could run the write (no usable local directory).
    Local,
}

impl Outcome {
    pub fn describe(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotMounted => {
                "the pool is not mounted (a local fault: the storage itself may be healthy)"
            }
            Outcome::ReadOnly => "the pool is mounted read-only",
            Outcome::Timeout => "the storage did not answer within the bound (hung or very slow)",
            Outcome::Error => "the storage returned an error",
            Outcome::Local => "a local fault on this host (no usable local directory)",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PoolState {
    pub mount: String,
    /// CLOCK_BOOTTIME (ms) of the last write and of the last good one.
    pub at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ok_ms: Option<u64>,
    pub outcome: Outcome,
    /// Failed writes since the last good one.
    pub failures: u32,
    pub detail: String,
}

fn path(dir: &Path, mount: &Path) -> PathBuf {
    dir.join(format!("{}.json", super::path_key(mount)))
}

pub fn load(dir: &Path, mount: &Path) -> Option<PoolState> {
    let text = std::fs::read_to_string(path(dir, mount)).ok()?;
    serde_json::from_str::<PoolState>(&text)
        .ok()
        .filter(|s| Path::new(&s.mount) == mount)
}

/// Every pool this host wrote on.
pub fn all(dir: &Path) -> Vec<PoolState> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).ok()?).ok())
        .collect()
}

/// Record a write's outcome (one writer per pool: the agent's monitor).
pub fn record(
    dir: &Path,
    mount: &Path,
    outcome: Outcome,
    detail: &str,
    now_ms: u64,
) -> std::io::Result<()> {
    let prev = load(dir, mount);
    let state = PoolState {
        mount: mount.to_string_lossy().into_owned(),
        at_ms: now_ms,
        last_ok_ms: if outcome == Outcome::Ok {
            Some(now_ms)
        } else {
            prev.as_ref().and_then(|p| p.last_ok_ms)
        },
        outcome,
        failures: match (outcome, &prev) {
            (Outcome::Ok, _) => 0,
            (_, Some(p)) => p.failures + 1,
            (_, None) => 1,
        },
        detail: detail.to_string(),
    };
    std::fs::create_dir_all(dir)?;
    let p = path(dir, mount);
    let tmp = p.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(
        &tmp,
        serde_json::to_vec(&state).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_until_a_good_write() {
        let tmp = tempfile::tempdir().unwrap();
        let m = Path::new("/mnt/a b");
        record(tmp.path(), m, Outcome::Ok, "", 1000).unwrap();
        record(tmp.path(), m, Outcome::Timeout, "after 50s", 2000).unwrap();
        record(tmp.path(), m, Outcome::NotMounted, "", 3000).unwrap();
        let s = load(tmp.path(), m).unwrap();
        assert_eq!(
            (s.outcome, s.failures, s.last_ok_ms),
            (Outcome::NotMounted, 2, Some(1000))
        );
        record(tmp.path(), m, Outcome::Ok, "", 4000).unwrap();
        assert_eq!(load(tmp.path(), m).unwrap().failures, 0);
        assert!(
            load(tmp.path(), Path::new("/mnt/a_b")).is_none(),
            "another pool's file is not ours"
        );
        assert_eq!(all(tmp.path()).len(), 1);
    }
}
