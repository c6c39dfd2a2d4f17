//! The job's own cgroup, for its bandwidth and CPU limits: cgroup v2 where
//! the io (cpu) controller lives in the unified hierarchy, else cgroup v1
//! (a hybrid host, like systemd's "hybrid" layout, keeps blkio and cpu in
//! v1 and nothing but the empty unified tree in v2). Which one holds a
//! controller is read from the mount table and `cgroup.controllers`, never
//! guessed; a limit nothing can hold is an error before the job starts.
//!
//! The job's cgroup is `<hierarchy>/nfsha-guard/job-<guard's pid>`. Every
//! limit written is read back; the cgroup is removed when the job is over
//! (left, and said so, while a process stuck in the kernel is still in it).

use std::path::{Path, PathBuf};

use super::limits::{shares_of_weight, Bandwidth, Direction};
use crate::sys::mounts;

/// Where the controllers are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hierarchies {
    /// The cgroup2 mount and its root's controllers.
    pub v2: Option<(PathBuf, Vec<String>)>,
    pub v1_blkio: Option<PathBuf>,
    pub v1_cpu: Option<PathBuf>,
}

/// Find the hierarchies in mountinfo; `controllers(path)` reads a cgroup2
/// mount's `cgroup.controllers`.
pub fn detect(mountinfo: &str, controllers: impl Fn(&Path) -> Option<String>) -> Hierarchies {
    let mut h = Hierarchies::default();
    for m in mounts::parse(mountinfo) {
        match m.fstype.as_str() {
            "cgroup2" if h.v2.is_none() => {
                let c = controllers(&m.mount_point).unwrap_or_default();
                h.v2 = Some((
                    m.mount_point.clone(),
                    c.split_whitespace().map(str::to_string).collect(),
                ));
            }
            "cgroup" => {
                let has = |c: &str| m.super_options.iter().any(|o| o == c);
                if has("blkio") && h.v1_blkio.is_none() {
                    h.v1_blkio = Some(m.mount_point.clone());
                }
                if has("cpu") && h.v1_cpu.is_none() {
                    h.v1_cpu = Some(m.mount_point.clone());
                }
            }
            _ => {}
        }
    }
    h
}

/// A hierarchy holding one controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    V2(PathBuf),
    V1(PathBuf),
}

impl Place {
    pub fn mount(&self) -> &Path {
        match self {
            Place::V2(p) | Place::V1(p) => p,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Place::V2(p) => format!("cgroup v2 ({})", p.display()),
            Place::V1(p) => format!("cgroup v1 ({})", p.display()),
        }
    }
}

impl Hierarchies {
    fn v2_with(&self, controller: &str) -> Option<Place> {
        self.v2
            .as_ref()
            .filter(|(_, c)| c.iter().any(|x| x == controller))
            .map(|(p, _)| Place::V2(p.clone()))
    }
    /// Where io limits go: v2 when it has the io controller, else v1 blkio.
    pub fn io(&self) -> Result<Place, String> {
        self.v2_with("io")
            .or_else(|| self.v1_blkio.clone().map(Place::V1))
            .ok_or_else(|| {
                "no cgroup io controller on this host (neither cgroup v2 io nor v1 blkio is mounted): --read-bps/--write-bps cannot be applied".into()
            })
    }
    pub fn cpu(&self) -> Result<Place, String> {
        self.v2_with("cpu")
            .or_else(|| self.v1_cpu.clone().map(Place::V1))
            .ok_or_else(|| {
                "no cgroup cpu controller on this host (neither cgroup v2 cpu nor v1 cpu is mounted): --cpu-weight cannot be applied".into()
            })
    }
}

/// The files to write for the io limits, and the line each must read back.
pub fn io_settings(place: &Place, limits: &[Bandwidth]) -> Vec<(&'static str, String)> {
    match place {
        Place::V2(_) => {
            // One io.max line per device: "MAJ:MIN rbps=N wbps=M".
            let mut devs: Vec<_> = limits.iter().map(|b| b.dev).collect();
            devs.sort();
            devs.dedup();
            devs.into_iter()
                .map(|d| {
                    let get = |dir| {
                        limits
                            .iter()
                            .filter(|b| b.dev == d && b.dir == dir)
                            .map(|b| b.bytes_per_s)
                            .min()
                            .map_or("max".to_string(), |v| v.to_string())
                    };
                    (
                        "io.max",
                        format!(
                            "{d} rbps={} wbps={}",
                            get(Direction::Read),
                            get(Direction::Write)
                        ),
                    )
                })
                .collect()
        }
        Place::V1(_) => limits
            .iter()
            .map(|b| {
                (
                    match b.dir {
                        Direction::Read => "blkio.throttle.read_bps_device",
                        Direction::Write => "blkio.throttle.write_bps_device",
                    },
                    format!("{} {}", b.dev, b.bytes_per_s),
                )
            })
            .collect(),
    }
}

pub fn cpu_setting(place: &Place, weight: u64) -> (&'static str, String) {
    match place {
        Place::V2(_) => ("cpu.weight", weight.to_string()),
        Place::V1(_) => ("cpu.shares", shares_of_weight(weight).to_string()),
    }
}

/// Whether what the kernel shows in `file` holds `line` (io.max lists
/// iops limits too; the throttle files list one rule per line).
pub fn reads_back(shown: &str, line: &str) -> bool {
    let want: Vec<&str> = line.split_whitespace().collect();
    shown.lines().any(|l| {
        let got: Vec<&str> = l.split_whitespace().collect();
        !got.is_empty() && got[0] == want[0] && want[1..].iter().all(|w| got.contains(w))
    })
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {text:?} to {}: {e}", path.display()))
}

/// A job cgroup created in one hierarchy.
#[derive(Debug)]
pub struct JobGroup {
    pub place: Place,
    pub dir: PathBuf,
    /// Where guard itself was (to go back to), a path under the mount.
    pub home: PathBuf,
}

/// Guard's own cgroup in a hierarchy, from `/proc/self/cgroup`.
pub fn own_cgroup(proc_self_cgroup: &str, place: &Place, v1_controller: &str) -> PathBuf {
    let rel = proc_self_cgroup.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (id, ctrls, path) = (f.next()?, f.next()?, f.next()?);
        let hit = match place {
            Place::V2(_) => id == "0" && ctrls.is_empty(),
            Place::V1(_) => ctrls.split(',').any(|c| c == v1_controller),
        };
        hit.then(|| path.trim_start_matches('/').to_string())
    });
    place.mount().join(rel.unwrap_or_default())
}

impl JobGroup {
    /// Create `<mount>/nfsha-guard/job-<id>` and write `settings` into it,
    /// each read back. `controller` is the v2 controller to enable on the way.
    pub fn create(
        place: &Place,
        id: u32,
        controller: &str,
        settings: &[(&str, String)],
        home: PathBuf,
    ) -> Result<JobGroup, String> {
        let base = place.mount().join("nfsha-guard");
        if let Place::V2(root) = place {
            // The controller must be enabled in every parent's subtree_control.
            std::fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
            for dir in [root.as_path(), base.as_path()] {
                let sc = dir.join("cgroup.subtree_control");
                let on = std::fs::read_to_string(&sc).unwrap_or_default();
                if !on.split_whitespace().any(|c| c == controller) {
                    write(&sc, &format!("+{controller}"))?;
                }
            }
        }
        let dir = base.join(format!("job-{id}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let g = JobGroup {
            place: place.clone(),
            dir,
            home,
        };
        for (file, line) in settings {
            let path = g.dir.join(file);
            let result = write(&path, line).and_then(|_| {
                let shown = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                if reads_back(&shown, line) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} shows {:?} after writing {line:?}",
                        path.display(),
                        shown.trim()
                    ))
                }
            });
            if let Err(e) = result {
                g.remove();
                return Err(e);
            }
        }
        Ok(g)
    }

    /// Move the calling process in (its children started from now on are in it too).
    pub fn enter(&self) -> Result<(), String> {
        write(&self.dir.join("cgroup.procs"), "0")
    }

    /// Move the calling process back where it was.
    pub fn leave(&self) {
        if let Err(e) = write(&self.home.join("cgroup.procs"), "0") {
            eprintln!("nfsha guard: cannot return to {}: {e}", self.home.display());
        }
    }

    /// Remove the cgroup; `false` (and a message) while processes remain.
    pub fn remove(&self) -> bool {
        match std::fs::remove_dir(&self.dir) {
            Ok(()) => true,
            Err(e) => {
                eprintln!(
                    "nfsha guard: {} left in place: {e} (a process stuck in the kernel is still in it)",
                    self.dir.display()
                );
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::limits::Dev;

    const HYBRID: &str = "\
25 1 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
27 25 0:24 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
";
    const PURE_V2: &str = "26 1 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";

    #[test]
    fn the_controller_is_where_the_kernel_put_it() {
        let h = detect(HYBRID, |_| Some("hugetlb\n".into()));
        assert_eq!(h.io().unwrap(), Place::V1("/sys/fs/cgroup/blkio".into()));
        assert_eq!(
            h.cpu().unwrap(),
            Place::V1("/sys/fs/cgroup/cpu,cpuacct".into())
        );
        let h = detect(PURE_V2, |_| Some("cpuset cpu io memory pids\n".into()));
        assert_eq!(h.io().unwrap(), Place::V2("/sys/fs/cgroup".into()));
        assert_eq!(h.cpu().unwrap(), Place::V2("/sys/fs/cgroup".into()));
        let h = detect(PURE_V2, |_| Some("memory pids\n".into()));
        assert!(h.io().unwrap_err().contains("cannot be applied"));
        // Order and duplicates: each controller's own mount, the first one.
        let shuffled = "\
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
27 25 0:24 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio
30 25 0:24 / /mnt/blkio-again rw - cgroup cgroup rw,blkio
26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
31 25 0:23 / /mnt/unified-again rw - cgroup2 cgroup2 rw
";
        let h = detect(shuffled, |p| {
            Some(if p == Path::new("/sys/fs/cgroup/unified") {
                "io".into()
            } else {
                String::new()
            })
        });
        assert_eq!(h.v1_blkio, Some("/sys/fs/cgroup/blkio".into()));
        assert_eq!(h.v1_cpu, Some("/sys/fs/cgroup/cpu,cpuacct".into()));
        assert_eq!(h.io().unwrap(), Place::V2("/sys/fs/cgroup/unified".into()));
        assert_eq!(
            h.cpu().unwrap(),
            Place::V1("/sys/fs/cgroup/cpu,cpuacct".into())
        );
        let h = detect(PURE_V2, |_| Some("memory pids\n".into()));
        assert!(h
            .cpu()
            .unwrap_err()
            .contains("--cpu-weight cannot be applied"));
    }

    #[test]
    fn settings_per_hierarchy() {
        let d = Dev { major: 7, minor: 3 };
        let b = |dir, v| Bandwidth {
            dev: d,
            dir,
            bytes_per_s: v,
            given: String::new(),
        };
        let lim = [b(Direction::Write, 8 << 20), b(Direction::Read, 1 << 20)];
        assert_eq!(
            io_settings(&Place::V2("/x".into()), &lim),
            vec![("io.max", "7:3 rbps=1048576 wbps=8388608".to_string())]
        );
        assert_eq!(
            io_settings(&Place::V1("/x".into()), &lim),
            vec![
                ("blkio.throttle.write_bps_device", "7:3 8388608".to_string()),
                ("blkio.throttle.read_bps_device", "7:3 1048576".to_string())
            ]
        );
        assert_eq!(
            cpu_setting(&Place::V1("/x".into()), 50),
            ("cpu.shares", "512".into())
        );
        assert!(reads_back(
            "7:3 rbps=1048576 wbps=max riops=max wiops=max\n",
            "7:3 rbps=1048576 wbps=max"
        ));
        assert!(reads_back("8:0 5\n7:3 8388608\n", "7:3 8388608"));
        assert!(!reads_back("7:3 1\n", "7:3 8388608"));
        assert!(!reads_back("", "7:3 8388608"));
    }

    #[test]
    fn guards_own_cgroup() {
        let text = "9:name=systemd:/\n7:blkio:/user.slice\n1:cpu,cpuacct:/a\n0::/init.scope\n";
        assert_eq!(
            own_cgroup(text, &Place::V1("/sys/fs/cgroup/blkio".into()), "blkio"),
            Path::new("/sys/fs/cgroup/blkio/user.slice")
        );
        assert_eq!(
            own_cgroup(text, &Place::V1("/c".into()), "cpu"),
            Path::new("/c/a")
        );
        assert_eq!(
            own_cgroup(text, &Place::V2("/sys/fs/cgroup".into()), ""),
            Path::new("/sys/fs/cgroup/init.scope")
        );
    }
}
