//! The resource limits `nfsha guard` can put on a job, as given on its
//! command line, checked before anything runs:
//!
//! - `--io-class idle|best-effort`: the I/O scheduling class of the job's
//!   process group, inherited by everything it starts (`ionice -c 3` for the
//!   whole job). Honoured by the BFQ scheduler; `none` and `mq-deadline`
//!   ignore it, so it is a courtesy, not a limit.
//! - `--read-bps DEV=RATE`, `--write-bps DEV=RATE`: a bandwidth cap on one
//!   block device (cgroup v2 `io.max`, or the v1 blkio throttle where the
//!   io controller lives in v1). DEV is a block device (`/dev/sdb`,
//!   `/dev/drbd0`), `MAJ:MIN`, or a path on a filesystem whose device it
//!   means; a partition means its disk (the kernel throttles whole disks).
//!   RATE is bytes per second: `50M` (MiB/s, as PR #12846's `-b`), `512K`,
//!   `1G`, or a number of bytes.
//! - `--cpu-weight 1..10000`: the job's CPU weight (cgroup v2 `cpu.weight`,
//!   default 100; v1 `cpu.shares` scaled from it).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// An I/O scheduling class (ioprio_set(2)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoClass {
    /// `IOPRIO_CLASS_IDLE`: disk time only when nobody else wants it.
    Idle,
    /// `IOPRIO_CLASS_BE` at level 7, the lowest of best effort.
    BestEffortLow,
}

impl IoClass {
    pub fn parse(s: &str) -> Result<IoClass, String> {
        match s {
            "idle" | "3" => Ok(IoClass::Idle),
            "best-effort" | "2" => Ok(IoClass::BestEffortLow),
            _ => Err(format!(
                "{s:?}: expected idle or best-effort (realtime is not offered: a backup must never starve VMs)"
            )),
        }
    }
    /// The ioprio value: class << 13 | level.
    pub fn ioprio(self) -> i32 {
        match self {
            IoClass::Idle => 3 << 13,
            IoClass::BestEffortLow => (2 << 13) | 7,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            IoClass::Idle => "idle",
            IoClass::BestEffortLow => "best-effort (level 7)",
        }
    }
}

/// Parse a rate in bytes per second: `50M`, `50MiB`, `50M/s`, `512k`, `1G`, `1048576`.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t.strip_suffix("/s").unwrap_or(t);
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| {
        format!("{s:?}: expected bytes per second, e.g. 50M (MiB/s), 512K or 1048576")
    })?;
    let mult: u64 = match unit {
        "" | "B" => 1,
        "k" | "K" | "KiB" | "KB" => 1 << 10,
        "m" | "M" | "MiB" | "MB" => 1 << 20,
        "g" | "G" | "GiB" | "GB" => 1 << 30,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {unit:?} (K, M and G are powers of 1024)"
            ))
        }
    };
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| format!("{s:?}: too large"))?;
    if bytes == 0 {
        return Err(format!(
            "{s:?}: a limit of 0 would stop the job's I/O forever"
        ));
    }
    Ok(bytes)
}

/// A block device, as the kernel names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dev {
    pub major: u32,
    pub minor: u32,
}

impl std::fmt::Display for Dev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

fn split_dev(rdev: u64) -> Dev {
    Dev {
        major: libc::major(rdev),
        minor: libc::minor(rdev),
    }
}

/// The whole disk a device is part of (via `/sys/dev/block`), and whether
/// it was a partition.
pub fn whole_disk(sys_dev_block: &Path, d: Dev) -> Result<(Dev, bool), String> {
    let node = sys_dev_block.join(d.to_string());
    if !node.exists() {
        return Err(format!("{d}: no such block device"));
    }
    if !node.join("partition").exists() {
        return Ok((d, false));
    }
    let parent = std::fs::read_to_string(node.join("../dev"))
        .map_err(|e| format!("{d}: a partition whose disk cannot be found: {e}"))?;
    let (ma, mi) = parent
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("{d}: unreadable disk number {parent:?}"))?;
    match (ma.parse(), mi.parse()) {
        (Ok(major), Ok(minor)) => Ok((Dev { major, minor }, true)),
        _ => Err(format!("{d}: unreadable disk number {parent:?}")),
    }
}

/// Resolve DEV (a device node, `MAJ:MIN`, or a path on a filesystem) to the
/// whole disk to throttle. Nothing on the path is read; one stat.
pub fn resolve_dev(spec: &str, sys_dev_block: &Path) -> Result<(Dev, String), String> {
    let d = if let Some((ma, mi)) = spec.split_once(':').filter(|_| !spec.starts_with('/')) {
        match (ma.parse(), mi.parse()) {
            (Ok(major), Ok(minor)) => Dev { major, minor },
            _ => {
                return Err(format!(
                    "{spec:?}: expected MAJ:MIN, a device node or a path"
                ))
            }
        }
    } else {
        let m = std::fs::metadata(spec).map_err(|e| format!("{spec}: {e}"))?;
        if m.file_type().is_block_device() {
            split_dev(m.rdev())
        } else if m.file_type().is_char_device() {
            return Err(format!("{spec} is a character device, not a block device"));
        } else {
            let d = split_dev(m.dev());
            if d.major == 0 {
                return Err(format!(
                    "{spec} is on a filesystem without a block device ({d}: NFS, tmpfs, FUSE…): the kernel cannot throttle it; throttle the block device, or the copy itself (qemu-img convert -r)"
                ));
            }
            d
        }
    };
    let (disk, partition) = whole_disk(sys_dev_block, d)?;
    let note = if partition {
        format!("{spec} ({d}) is a partition: its disk {disk} is throttled")
    } else {
        String::new()
    };
    Ok((disk, note))
}

/// Which way a bandwidth limit applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Read,
    Write,
}

/// One `--read-bps`/`--write-bps`, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bandwidth {
    pub dev: Dev,
    pub dir: Direction,
    pub bytes_per_s: u64,
    /// What the user wrote (for messages).
    pub given: String,
}

/// Parse `DEV=RATE`.
pub fn parse_bandwidth(
    arg: &str,
    dir: Direction,
    sys_dev_block: &Path,
) -> Result<(Bandwidth, String), String> {
    let (dev, rate) = arg
        .rsplit_once('=')
        .ok_or_else(|| format!("{arg:?}: expected DEV=RATE, e.g. /dev/sdb=50M"))?;
    let bytes_per_s = parse_rate(rate)?;
    let (dev, note) = resolve_dev(dev, sys_dev_block)?;
    Ok((
        Bandwidth {
            dev,
            dir,
            bytes_per_s,
            given: arg.to_string(),
        },
        note,
    ))
}

/// A CPU weight in cgroup v2 terms.
pub fn parse_cpu_weight(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(w) if (1..=10_000).contains(&w) => Ok(w),
        _ => Err(format!(
            "{s:?}: expected 1 to 10000 (100 is the default weight)"
        )),
    }
}

/// cgroup v1 `cpu.shares` for a v2 weight (shares default 1024 ↔ weight 100).
pub fn shares_of_weight(w: u64) -> u64 {
    (w * 1024 / 100).max(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("50M").unwrap(), 50 << 20);
        assert_eq!(parse_rate("50MiB/s").unwrap(), 50 << 20);
        assert_eq!(parse_rate("512k").unwrap(), 512 << 10);
        assert_eq!(parse_rate("1G").unwrap(), 1 << 30);
        assert_eq!(parse_rate("4096").unwrap(), 4096);
        for bad in ["", "0", "0M", "fast", "5T", "-1M", "99999999999999999G"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn classes_and_weights() {
        assert_eq!(IoClass::parse("idle").unwrap().ioprio(), 3 << 13);
        assert_eq!(
            IoClass::parse("best-effort").unwrap().ioprio(),
            (2 << 13) | 7
        );
        assert!(IoClass::parse("realtime")
            .unwrap_err()
            .contains("not offered"));
        assert_eq!(IoClass::parse("3").unwrap().name(), "idle");
        assert_eq!(IoClass::parse("2").unwrap().name(), "best-effort (level 7)");
        assert_eq!(parse_cpu_weight("100").unwrap(), 100);
        assert!(parse_cpu_weight("0").is_err() && parse_cpu_weight("10001").is_err());
        assert_eq!(shares_of_weight(100), 1024);
        assert_eq!(shares_of_weight(1), 10);
        assert_eq!(shares_of_weight(10_000), 102_400);
    }

    #[test]
    fn devices_resolve_to_whole_disks() {
        let tmp = tempfile::tempdir().unwrap();
        let sys = tmp.path();
        std::fs::create_dir_all(sys.join("8:0")).unwrap();
        std::fs::write(sys.join("8:0/dev"), "8:0\n").unwrap();
        // /sys/dev/block/8:1 is a symlink into the disk's directory.
        std::fs::create_dir_all(sys.join("8:0/sda1")).unwrap();
        std::fs::write(sys.join("8:0/sda1/partition"), "1\n").unwrap();
        std::os::unix::fs::symlink(sys.join("8:0/sda1"), sys.join("8:1")).unwrap();
        assert_eq!(
            resolve_dev("8:0", sys).unwrap().0,
            Dev { major: 8, minor: 0 }
        );
        let (d, note) = resolve_dev("8:1", sys).unwrap();
        assert_eq!(d, Dev { major: 8, minor: 0 });
        assert!(
            note.contains("is a partition: its disk 8:0 is throttled"),
            "{note}"
        );
        assert!(resolve_dev("9:9", sys)
            .unwrap_err()
            .contains("no such block device"));
        assert!(resolve_dev("/dev/null", sys)
            .unwrap_err()
            .contains("character device"));
        assert!(resolve_dev("/proc/self", sys)
            .unwrap_err()
            .contains("without a block device"));
        assert!(resolve_dev("/nonexistent", sys).is_err());
        let (b, _) = parse_bandwidth("8:0=10M", Direction::Write, sys).unwrap();
        assert_eq!((b.dev.to_string(), b.bytes_per_s), ("8:0".into(), 10 << 20));
        assert!(parse_bandwidth("8:0", Direction::Read, sys)
            .unwrap_err()
            .contains("DEV=RATE"));
    }
}
