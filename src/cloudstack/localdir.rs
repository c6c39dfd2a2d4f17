//! Local directories for the scripts' own small files (I/O helper reports,
//! observations of peers, the outcome of the last writes). They belong on
//! tmpfs under `run_dir`; when that is unusable (full, read-only, not a
//! directory) the scripts fall back to `/dev/shm` and then the temporary
//! directory, and say so in the log. A local fault like that is not a
//! storage failure: it must never turn a healthy heartbeat into failed
//! writes, and so into a fence.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A usable directory, and why the preferred one was not used.
#[derive(Clone, Debug)]
pub struct LocalDir {
    pub path: PathBuf,
    /// `(preferred directory, why it was unusable)` when this is a fallback.
    pub fallback_from: Option<(PathBuf, String)>,
}

/// The places tried, in order, for `sub` (e.g. `"io"`).
pub fn candidates(run_dir: &Path, sub: &str) -> Vec<PathBuf> {
    vec![
        run_dir.join("cloudstack").join(sub),
        Path::new("/dev/shm/nfsha-cloudstack").join(sub),
        std::env::temp_dir().join("nfsha-cloudstack").join(sub),
    ]
}

/// Create `dir` (mode 0700) and prove it takes a small file. Fallbacks live
/// in world-writable places, so they must be real directories of ours.
fn usable(dir: &Path, must_own: bool) -> Result<(), String> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    // SAFETY: geteuid(2) cannot fail.
    if must_own && meta.uid() != unsafe { libc::geteuid() } {
        return Err(format!("{} belongs to another user", dir.display()));
    }
    let probe = dir.join(format!(".probe.{}", std::process::id()));
    let result = std::fs::File::create(&probe)
        .and_then(|mut f| f.write_all(&[0u8; 512]).and_then(|_| f.sync_all()))
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()));
    let _ = std::fs::remove_file(&probe);
    result
}

/// The first usable candidate for `sub`; `Err` lists why each failed.
pub fn pick(run_dir: &Path, sub: &str) -> Result<LocalDir, String> {
    let mut why = Vec::new();
    for (i, dir) in candidates(run_dir, sub).into_iter().enumerate() {
        match usable(&dir, i > 0) {
            Ok(()) => {
                return Ok(LocalDir {
                    fallback_from: why
                        .first()
                        .map(|w: &String| (candidates(run_dir, sub)[0].clone(), w.clone())),
                    path: dir,
                })
            }
            Err(e) => why.push(e),
        }
    }
    Err(why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dir_first_then_a_fallback_that_says_why() {
        let tmp = tempfile::tempdir().unwrap();
        let d = pick(tmp.path(), "io").unwrap();
        assert_eq!(d.path, tmp.path().join("cloudstack/io"));
        assert!(d.fallback_from.is_none());
        // run_dir is a regular file: not a storage failure, a fallback.
        let file = tmp.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let d = pick(&file, "io").unwrap();
        assert_ne!(d.path, file.join("cloudstack/io"));
        let (from, why) = d.fallback_from.unwrap();
        assert_eq!(from, file.join("cloudstack/io"));
        assert!(why.contains("cannot create"), "{why}");
    }
}

/// The three local directories a personality uses.
#[derive(Clone, Debug)]
pub struct Local {
    /// Reports of the bounded I/O helpers.
    pub io: PathBuf,
    /// Observations of peers ([`super::observations`]).
    pub observations: PathBuf,
    /// Outcomes of this host's writes ([`super::pool_state`]).
    pub pools: PathBuf,
    /// Fallbacks taken, to log: `(preferred, why)`.
    pub fallbacks: Vec<(PathBuf, String)>,
}

impl Local {
    pub fn pick(run_dir: &Path) -> Result<Local, String> {
        let mut fallbacks = Vec::new();
        let mut one = |sub: &str| -> Result<PathBuf, String> {
            let d = pick(run_dir, sub)?;
            fallbacks.extend(d.fallback_from);
            Ok(d.path)
        };
        Ok(Local {
            io: one("io")?,
            observations: one("observations")?,
            pools: one("pools")?,
            fallbacks,
        })
    }
}
