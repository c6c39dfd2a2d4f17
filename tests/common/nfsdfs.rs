//! A stand-in for the kernel's nfsd control filesystem (`/proc/fs/nfsd`),
//! served over FUSE because this host has no nfsd: the agents write to it
//! through real system calls and get the kernel's answers
//! (`fs/nfsd/nfsctl.c`):
//!
//! - `nfsv4leasetime`, `nfsv4gracetime`, `versions` and `nfsv4recoverydir`
//!   refuse a write with EBUSY while threads run;
//! - lease and grace accept 10 to 3600 (EINVAL otherwise);
//! - `nfsv4recoverydir` must name an existing directory (ENOENT);
//! - `unlock_filesystem` answers EINVAL when nfsd is not running;
//! - `threads` takes a number.
//!
//! A write replaces the value; a read returns it with a newline.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use fuser::{
    FileAttr, FileType, Filesystem, MountOption, ReplyAttr, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyWrite, Request, TimeOrNow,
};

/// The control files, by inode (2, 3, …; 1 is the directory).
const FILES: [&str; 6] = [
    "threads",
    "nfsv4leasetime",
    "nfsv4gracetime",
    "versions",
    "nfsv4recoverydir",
    "unlock_filesystem",
];

const BUSY_WHILE_RUNNING: [&str; 4] = [
    "nfsv4leasetime",
    "nfsv4gracetime",
    "versions",
    "nfsv4recoverydir",
];

type Values = Arc<Mutex<BTreeMap<&'static str, String>>>;

struct NfsdFs {
    values: Values,
}

const TTL: Duration = Duration::ZERO;

fn name_of(ino: u64) -> Option<&'static str> {
    FILES.get(ino.checked_sub(2)? as usize).copied()
}

fn attr(ino: u64, size: u64) -> FileAttr {
    let dir = ino == 1;
    let t = SystemTime::now();
    FileAttr {
        ino,
        size,
        blocks: 0,
        atime: t,
        mtime: t,
        ctime: t,
        crtime: t,
        kind: if dir {
            FileType::Directory
        } else {
            FileType::RegularFile
        },
        perm: if dir { 0o755 } else { 0o644 },
        nlink: if dir { 2 } else { 1 },
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

impl NfsdFs {
    fn size(&self, ino: u64) -> u64 {
        name_of(ino)
            .and_then(|n| self.values.lock().unwrap().get(n).map(|v| v.len() as u64))
            .unwrap_or(0)
    }

    /// What the kernel does with `text` written to `name`.
    fn store(&self, name: &'static str, text: &str) -> Result<(), i32> {
        let mut v = self.values.lock().unwrap();
        let threads: u32 = v["threads"].trim().parse().unwrap_or(0);
        let value = text.trim_end_matches('\n');
        if BUSY_WHILE_RUNNING.contains(&name) && threads > 0 {
            return Err(libc::EBUSY);
        }
        match name {
            "threads" => {
                value.trim().parse::<u32>().map_err(|_| libc::EINVAL)?;
            }
            "nfsv4leasetime" | "nfsv4gracetime" => {
                let n: u32 = value.trim().parse().map_err(|_| libc::EINVAL)?;
                if !(10..=3600).contains(&n) {
                    return Err(libc::EINVAL);
                }
            }
            "nfsv4recoverydir" if !Path::new(value).is_dir() => return Err(libc::ENOENT),
            "unlock_filesystem" if threads == 0 => return Err(libc::EINVAL),
            _ => {}
        }
        v.insert(name, format!("{value}\n"));
        Ok(())
    }
}

impl Filesystem for NfsdFs {
    fn lookup(&mut self, _r: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        match FILES.iter().position(|f| OsStr::new(f) == name) {
            Some(i) if parent == 1 => {
                let ino = i as u64 + 2;
                reply.entry(&TTL, &attr(ino, self.size(ino)), 0)
            }
            _ => reply.error(libc::ENOENT),
        }
    }
    fn getattr(&mut self, _r: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        if ino == 1 || name_of(ino).is_some() {
            reply.attr(&TTL, &attr(ino, self.size(ino)))
        } else {
            reply.error(libc::ENOENT)
        }
    }
    /// Truncation on open(O_TRUNC) is accepted and ignored: the write that
    /// follows replaces the value, as in the kernel's transaction files.
    fn setattr(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        _size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<u64>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<u32>,
        reply: ReplyAttr,
    ) {
        reply.attr(&TTL, &attr(ino, self.size(ino)))
    }
    fn open(&mut self, _r: &Request<'_>, ino: u64, _flags: i32, reply: ReplyOpen) {
        if name_of(ino).is_some() {
            reply.opened(0, fuser::consts::FOPEN_DIRECT_IO)
        } else {
            reply.error(libc::EISDIR)
        }
    }
    fn read(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock: Option<u64>,
        reply: ReplyData,
    ) {
        let Some(name) = name_of(ino) else {
            return reply.error(libc::ENOENT);
        };
        let data = self.values.lock().unwrap()[name].clone().into_bytes();
        let start = (offset as usize).min(data.len());
        let end = (start + size as usize).min(data.len());
        reply.data(&data[start..end])
    }
    fn write(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        _offset: i64,
        data: &[u8],
        _wf: u32,
        _flags: i32,
        _lock: Option<u64>,
        reply: ReplyWrite,
    ) {
        let Some(name) = name_of(ino) else {
            return reply.error(libc::ENOENT);
        };
        match self.store(name, &String::from_utf8_lossy(data)) {
            Ok(()) => reply.written(data.len() as u32),
            Err(e) => reply.error(e),
        }
    }
    fn flush(&mut self, _r: &Request<'_>, _ino: u64, _fh: u64, _lock: u64, reply: ReplyEmpty) {
        reply.ok();
    }
    fn readdir(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        if ino != 1 {
            return reply.error(libc::ENOTDIR);
        }
        let mut entries = vec![
            (1, FileType::Directory, ".".to_string()),
            (1, FileType::Directory, "..".to_string()),
        ];
        for (i, f) in FILES.iter().enumerate() {
            entries.push((i as u64 + 2, FileType::RegularFile, f.to_string()));
        }
        for (i, (ino, kind, name)) in entries.into_iter().enumerate().skip(offset as usize) {
            if reply.add(ino, (i + 1) as i64, kind, name) {
                break;
            }
        }
        reply.ok()
    }
    fn access(&mut self, _r: &Request<'_>, _ino: u64, _mask: i32, reply: ReplyEmpty) {
        reply.ok();
    }
}

/// The mounted stand-in; unmounts on drop.
pub struct NfsdControl {
    pub path: PathBuf,
    values: Values,
    session: Option<fuser::BackgroundSession>,
}

impl NfsdControl {
    /// Mount it on `path` with nfsd stopped and the kernel's defaults.
    pub fn mount(path: &Path) -> NfsdControl {
        assert!(
            Path::new("/dev/fuse").exists() && which::which("fusermount3").is_ok(),
            "the nfsd control stand-in needs FUSE: /dev/fuse and fusermount3 (apt-get install fuse3)"
        );
        std::fs::create_dir_all(path).unwrap();
        let values: Values = Arc::new(Mutex::new(
            [
                ("threads", "0\n"),
                ("nfsv4leasetime", "90\n"),
                ("nfsv4gracetime", "90\n"),
                ("versions", "-3 +4 -4.0 +4.1 +4.2\n"),
                ("nfsv4recoverydir", "/var/lib/nfs/v4recovery\n"),
                ("unlock_filesystem", ""),
            ]
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect(),
        ));
        let session = fuser::spawn_mount2(
            NfsdFs {
                values: values.clone(),
            },
            path,
            &[MountOption::FSName("nfsd-stand-in".into()), MountOption::RW],
        )
        .expect("mount the nfsd control stand-in (needs /dev/fuse and fusermount3)");
        for _ in 0..100 {
            if nfsha::heartbeat::mounts::is_mounted(path) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        NfsdControl {
            path: path.to_path_buf(),
            values,
            session: Some(session),
        }
    }

    /// A control file's value as the kernel would show it.
    pub fn get(&self, name: &str) -> String {
        self.values.lock().unwrap()[name].clone()
    }
}

impl Drop for NfsdControl {
    fn drop(&mut self) {
        let _ = std::process::Command::new("fusermount3")
            .args(["-u", "-z"])
            .arg(&self.path)
            .status();
        if let Some(s) = self.session.take() {
            std::mem::forget(s);
        }
    }
}
