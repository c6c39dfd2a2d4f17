//! The mount table (`/proc/self/mountinfo`), parsed without touching any of
//! the mounted filesystems: reading it cannot hang on dead storage, unlike a
//! `stat` or `statfs` of the mount point.

use std::path::{Path, PathBuf};

/// One line of mountinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// `st_dev` of the filesystem: DRBD devices have major 147.
    pub major: u32,
    pub minor: u32,
    /// The directory the filesystem is mounted on.
    pub mount_point: PathBuf,
    /// Per-mount options (`rw` or `ro`, `relatime`, …).
    pub options: Vec<String>,
    pub fstype: String,
    /// The mount source as mount(8) recorded it (`/dev/drbd0`, `tmpfs`, …).
    pub source: String,
    /// Superblock options: `ro` here means the filesystem itself went
    /// read-only (e.g. ext4 `errors=remount-ro`).
    pub super_options: Vec<String>,
}

impl Mount {
    /// Writable both as a mount and as a filesystem.
    pub fn is_rw(&self) -> bool {
        self.options.iter().any(|o| o == "rw") && !self.super_options.iter().any(|o| o == "ro")
    }
}

/// mountinfo escapes blanks, tabs, newlines and backslashes as `\ooo`.
pub fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse mountinfo text; malformed lines are skipped.
pub fn parse(text: &str) -> Vec<Mount> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        if sep < 6 || fields.len() < sep + 4 {
            continue;
        }
        let Some((major, minor)) = fields[2].split_once(':') else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else {
            continue;
        };
        mounts.push(Mount {
            major,
            minor,
            mount_point: PathBuf::from(unescape(fields[4])),
            options: fields[5].split(',').map(str::to_string).collect(),
            fstype: fields[sep + 1].to_string(),
            source: unescape(fields[sep + 2]),
            super_options: fields[sep + 3].split(',').map(str::to_string).collect(),
        });
    }
    mounts
}

/// One mount as `/proc/mounts`, an fstab or mountinfo describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableEntry {
    /// 1-based line in the text.
    pub line: u32,
    pub source: String,
    pub mount_point: String,
    pub fstype: String,
    /// Mount options; for mountinfo the per-mount and the superblock ones
    /// (where NFS keeps `hard`, `timeo`, `vers`).
    pub options: Vec<String>,
}

/// Parse `/proc/mounts` or an fstab (`fstab(5)`: source, mount point, type,
/// options, …, with `\ooo` escapes), or mountinfo text, which is told apart
/// by its fields. Comments, blank and short lines are skipped.
pub fn parse_table(text: &str) -> Vec<TableEntry> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let [m] = parse(raw).as_slice() {
            out.push(TableEntry {
                line: n as u32 + 1,
                source: m.source.clone(),
                mount_point: m.mount_point.to_string_lossy().into_owned(),
                fstype: m.fstype.clone(),
                options: m.options.iter().chain(&m.super_options).cloned().collect(),
            });
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        out.push(TableEntry {
            line: n as u32 + 1,
            source: unescape(f[0]),
            mount_point: unescape(f[1]),
            fstype: f[2].to_string(),
            options: f[3].split(',').map(str::to_string).collect(),
        });
    }
    out
}

/// The mount `path` lives on: the one with the longest mount point that is
/// `path` or a parent of it; of mounts stacked on the same point, the last.
/// `path` must be absolute and normalised (no symlinks are resolved).
pub fn containing<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| path.starts_with(&m.mount_point))
        .max_by_key(|(i, m)| (m.mount_point.components().count(), *i))
        .map(|(_, m)| m)
}

/// The mount whose mount point is exactly `path` (the top one if stacked).
pub fn at<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts.iter().rev().find(|m| m.mount_point == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
25 22 0:5 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
40 22 147:0 / /srv/nfs-state rw,relatime shared:20 - ext4 /dev/drbd0 rw
41 22 147:1 / /srv/nfs\\040share rw,relatime shared:21 - ext4 /dev/drbd1 ro
42 40 0:45 / /srv/nfs-state/sub ro,relatime shared:22 - tmpfs tmpfs rw,size=1024k
bogus line
";

    #[test]
    fn parses_fields_and_escapes() {
        let m = parse(TEXT);
        assert_eq!(m.len(), 5);
        assert_eq!((m[2].major, m[2].minor), (147, 0));
        assert_eq!(m[2].source, "/dev/drbd0");
        assert_eq!(m[2].fstype, "ext4");
        assert_eq!(m[3].mount_point, PathBuf::from("/srv/nfs share"));
        assert!(m[2].is_rw());
        assert!(!m[3].is_rw(), "superblock ro counts");
        assert!(!m[4].is_rw(), "mount ro counts");
    }

    #[test]
    fn mount_tables_fstab_and_mountinfo() {
        let t = parse_table(
            "# fstab\nsrv:/x /mnt/a\\040b nfs4 hard,timeo=600 0 0\n\n/dev/sda1 / ext4\n36 25 0:32 / /mnt/c rw,relatime - nfs4 srv:/c rw,vers=4.2,soft\n",
        );
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].line, t[0].mount_point.as_str()), (2, "/mnt/a b"));
        assert_eq!(t[0].options, ["hard", "timeo=600"]);
        assert_eq!(
            (t[1].line, t[1].fstype.as_str(), t[1].source.as_str()),
            (5, "nfs4", "srv:/c")
        );
        assert!(
            t[1].options.contains(&"soft".to_string())
                && t[1].options.contains(&"relatime".to_string())
        );
    }

    #[test]
    fn finds_the_containing_mount() {
        let m = parse(TEXT);
        let c = |p: &str| containing(&m, Path::new(p)).unwrap().mount_point.clone();
        assert_eq!(c("/srv/nfs-state"), PathBuf::from("/srv/nfs-state"));
        assert_eq!(c("/srv/nfs-state/nfsdcld"), PathBuf::from("/srv/nfs-state"));
        assert_eq!(
            c("/srv/nfs-state/sub/x"),
            PathBuf::from("/srv/nfs-state/sub")
        );
        // A name that merely starts with a mount point is not inside it.
        assert_eq!(c("/srv/nfs-statex"), PathBuf::from("/"));
        assert_eq!(at(&m, Path::new("/srv/nfs-state")).unwrap().minor, 0);
        assert!(at(&m, Path::new("/srv")).is_none());
    }
}
