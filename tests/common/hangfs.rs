//! A FUSE filesystem for tests that can be told to hang: every operation,
//! or only the mutating ones (create, write, rename, …), waits until it is
//! released, or data writes take a fixed extra delay. Blocked operations wait
//! on their own threads, so with `BlockWrites` a reader still gets answers
//! while a writer is stuck — one host's write path failing while the storage
//! still serves its peers.
//!
//! A process whose request is already in this filesystem's hands stays in
//! uninterruptible sleep (D state) even after SIGKILL, exactly like a task on
//! a hung hard NFS mount.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

use fuser::{
    FileAttr, FileType, Filesystem, MountOption, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyOpen, ReplyWrite, Request, TimeOrNow,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Every operation waits until the mode changes.
    Block,
    /// Mutating operations wait; lookups, reads and listings answer.
    BlockWrites,
    /// Data writes take this much longer.
    DelayWrites(Duration),
    /// Like an NFSv4 server in its grace period: operations that need new
    /// state or change names (open, create, mkdir, rename, unlink, setattr)
    /// wait; reads and writes through files already open, lookups and
    /// listings answer.
    Grace,
}

/// The operations an NFSv4 server in its grace period holds back here.
const NEW_STATE: &[&str] = &["open", "create", "mkdir", "rename", "unlink", "setattr"];

struct Gate {
    mode: Mutex<Mode>,
    cv: Condvar,
    /// Operations seen, by name (for the benchmark's IOPS figures).
    ops: Mutex<BTreeMap<&'static str, u64>>,
}

impl Gate {
    /// Wait as the mode says; `mutating` ops are held back by BlockWrites.
    fn pass(&self, op: &str, mutating: bool, data_write: bool) {
        let mut m = self.mode.lock().unwrap();
        loop {
            match *m {
                Mode::Normal => return,
                Mode::Grace if NEW_STATE.contains(&op) => m = self.cv.wait(m).unwrap(),
                Mode::Grace => return,
                Mode::Block => m = self.cv.wait(m).unwrap(),
                Mode::BlockWrites if mutating => m = self.cv.wait(m).unwrap(),
                Mode::BlockWrites => return,
                Mode::DelayWrites(d) => {
                    drop(m);
                    if data_write {
                        std::thread::sleep(d);
                    }
                    return;
                }
            }
        }
    }
}

struct Node {
    kind: FileType,
    data: Vec<u8>,
    children: BTreeMap<OsString, u64>,
    parent: u64,
    mtime: SystemTime,
}

impl Node {
    /// An empty file or directory under `parent`, modified now.
    fn new(kind: FileType, parent: u64) -> Node {
        Node {
            kind,
            data: Vec::new(),
            children: BTreeMap::new(),
            parent,
            mtime: SystemTime::now(),
        }
    }
}

struct Inner {
    nodes: HashMap<u64, Node>,
    next: u64,
}

impl Inner {
    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let n = self.nodes.get(&ino)?;
        Some(FileAttr {
            ino,
            size: n.data.len() as u64,
            blocks: (n.data.len() as u64).div_ceil(512),
            atime: n.mtime,
            mtime: n.mtime,
            ctime: n.mtime,
            crtime: n.mtime,
            kind: n.kind,
            perm: if n.kind == FileType::Directory {
                0o755
            } else {
                0o644
            },
            nlink: if n.kind == FileType::Directory { 2 } else { 1 },
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }
    fn add(&mut self, parent: u64, name: &OsStr, kind: FileType) -> Result<u64, i32> {
        let p = self.nodes.get(&parent).ok_or(libc::ENOENT)?;
        if let Some(&ino) = p.children.get(name) {
            return Ok(ino);
        }
        let ino = self.next;
        self.next += 1;
        self.nodes.insert(ino, Node::new(kind, parent));
        self.nodes
            .get_mut(&parent)
            .unwrap()
            .children
            .insert(name.to_owned(), ino);
        Ok(ino)
    }
}

pub struct HangFs {
    inner: Arc<Mutex<Inner>>,
    gate: Arc<Gate>,
}

const TTL: Duration = Duration::ZERO;

impl HangFs {
    /// Run `f` after the gate lets it pass, on its own thread when it may wait.
    fn later(
        &self,
        op: &'static str,
        mutating: bool,
        data_write: bool,
        f: impl FnOnce(&mut Inner) + Send + 'static,
    ) {
        *self.gate.ops.lock().unwrap().entry(op).or_default() += 1;
        let (inner, gate) = (self.inner.clone(), self.gate.clone());
        std::thread::spawn(move || {
            gate.pass(op, mutating, data_write);
            f(&mut inner.lock().unwrap());
        });
    }
}

impl Filesystem for HangFs {
    fn lookup(&mut self, _r: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        let name = name.to_owned();
        self.later("lookup", false, false, move |fs| {
            let ino = fs
                .nodes
                .get(&parent)
                .and_then(|p| p.children.get(&name).copied());
            match ino.and_then(|i| fs.attr(i)) {
                Some(a) => reply.entry(&TTL, &a, 0),
                None => reply.error(libc::ENOENT),
            }
        });
    }
    fn getattr(&mut self, _r: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        self.later("getattr", false, false, move |fs| match fs.attr(ino) {
            Some(a) => reply.attr(&TTL, &a),
            None => reply.error(libc::ENOENT),
        });
    }
    fn setattr(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
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
        self.later("setattr", true, false, move |fs| {
            if let (Some(sz), Some(n)) = (size, fs.nodes.get_mut(&ino)) {
                n.data.resize(sz as usize, 0);
                n.mtime = SystemTime::now();
            }
            match fs.attr(ino) {
                Some(a) => reply.attr(&TTL, &a),
                None => reply.error(libc::ENOENT),
            }
        });
    }
    fn mkdir(
        &mut self,
        _r: &Request<'_>,
        parent: u64,
        name: &OsStr,
        _m: u32,
        _u: u32,
        reply: ReplyEntry,
    ) {
        let name = name.to_owned();
        self.later("mkdir", true, false, move |fs| {
            match fs.add(parent, &name, FileType::Directory) {
                Ok(ino) => reply.entry(&TTL, &fs.attr(ino).unwrap(), 0),
                Err(e) => reply.error(e),
            }
        });
    }
    fn create(
        &mut self,
        _r: &Request<'_>,
        parent: u64,
        name: &OsStr,
        _m: u32,
        _u: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let name = name.to_owned();
        self.later("create", true, false, move |fs| {
            match fs.add(parent, &name, FileType::RegularFile) {
                Ok(ino) => {
                    fs.nodes.get_mut(&ino).unwrap().data.clear();
                    reply.created(&TTL, &fs.attr(ino).unwrap(), 0, 0, 0)
                }
                Err(e) => reply.error(e),
            }
        });
    }
    fn open(&mut self, _r: &Request<'_>, ino: u64, _flags: i32, reply: ReplyOpen) {
        self.later("open", false, false, move |fs| {
            if fs.nodes.contains_key(&ino) {
                // direct_io: every read and write goes to us, no page cache.
                reply.opened(0, fuser::consts::FOPEN_DIRECT_IO)
            } else {
                reply.error(libc::ENOENT)
            }
        });
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
        self.later("read", false, false, move |fs| match fs.nodes.get(&ino) {
            Some(n) => {
                let start = (offset as usize).min(n.data.len());
                let end = (start + size as usize).min(n.data.len());
                reply.data(&n.data[start..end])
            }
            None => reply.error(libc::ENOENT),
        });
    }
    fn write(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        data: &[u8],
        _wf: u32,
        _flags: i32,
        _lock: Option<u64>,
        reply: ReplyWrite,
    ) {
        let data = data.to_vec();
        self.later("write", true, true, move |fs| {
            match fs.nodes.get_mut(&ino) {
                Some(n) => {
                    let end = offset as usize + data.len();
                    if n.data.len() < end {
                        n.data.resize(end, 0);
                    }
                    n.data[offset as usize..end].copy_from_slice(&data);
                    n.mtime = SystemTime::now();
                    reply.written(data.len() as u32)
                }
                None => reply.error(libc::ENOENT),
            }
        });
    }
    fn flush(&mut self, _r: &Request<'_>, _ino: u64, _fh: u64, _lock: u64, reply: ReplyEmpty) {
        *self.gate.ops.lock().unwrap().entry("flush").or_default() += 1;
        reply.ok();
    }
    fn fsync(&mut self, _r: &Request<'_>, _ino: u64, _fh: u64, _ds: bool, reply: ReplyEmpty) {
        self.later("fsync", true, false, move |_| reply.ok());
    }
    fn rename(
        &mut self,
        _r: &Request<'_>,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        _flags: u32,
        reply: ReplyEmpty,
    ) {
        let (name, newname) = (name.to_owned(), newname.to_owned());
        self.later("rename", true, false, move |fs| {
            let Some(ino) = fs
                .nodes
                .get_mut(&parent)
                .and_then(|p| p.children.remove(&name))
            else {
                return reply.error(libc::ENOENT);
            };
            let old = fs
                .nodes
                .get_mut(&newparent)
                .and_then(|p| p.children.insert(newname, ino));
            if let Some(o) = old {
                fs.nodes.remove(&o);
            }
            if let Some(n) = fs.nodes.get_mut(&ino) {
                n.parent = newparent;
            }
            reply.ok()
        });
    }
    fn unlink(&mut self, _r: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let name = name.to_owned();
        self.later("unlink", true, false, move |fs| {
            match fs
                .nodes
                .get_mut(&parent)
                .and_then(|p| p.children.remove(&name))
            {
                Some(ino) => {
                    fs.nodes.remove(&ino);
                    reply.ok()
                }
                None => reply.error(libc::ENOENT),
            }
        });
    }
    fn readdir(
        &mut self,
        _r: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        self.later("readdir", false, false, move |fs| {
            let Some(n) = fs.nodes.get(&ino) else {
                return reply.error(libc::ENOENT);
            };
            let mut entries = vec![
                (ino, FileType::Directory, OsString::from(".")),
                (n.parent, FileType::Directory, OsString::from("..")),
            ];
            for (name, &child) in &n.children {
                entries.push((child, fs.nodes[&child].kind, name.clone()));
            }
            for (i, (ino, kind, name)) in entries.into_iter().enumerate().skip(offset as usize) {
                if reply.add(ino, (i + 1) as i64, kind, name) {
                    break;
                }
            }
            reply.ok()
        });
    }
    fn access(&mut self, _r: &Request<'_>, _ino: u64, _mask: i32, reply: ReplyEmpty) {
        *self.gate.ops.lock().unwrap().entry("access").or_default() += 1;
        reply.ok();
    }
}

/// A mounted HangFs; unmounts (lazily, after releasing every waiter) on drop.
pub struct Mounted {
    pub path: PathBuf,
    gate: Arc<Gate>,
    session: Option<fuser::BackgroundSession>,
}

impl Mounted {
    pub fn new(path: &Path) -> Mounted {
        std::fs::create_dir_all(path).unwrap();
        let mut nodes = HashMap::new();
        // The root directory is its own parent.
        nodes.insert(1, Node::new(FileType::Directory, 1));
        let gate = Arc::new(Gate {
            mode: Mutex::new(Mode::Normal),
            cv: Condvar::new(),
            ops: Mutex::new(BTreeMap::new()),
        });
        let fs = HangFs {
            inner: Arc::new(Mutex::new(Inner { nodes, next: 2 })),
            gate: gate.clone(),
        };
        let session = fuser::spawn_mount2(
            fs,
            path,
            &[MountOption::FSName("hangfs".into()), MountOption::RW],
        )
        .expect("mount the test FUSE filesystem (needs /dev/fuse and fusermount3)");
        // Wait until the mount shows up.
        for _ in 0..100 {
            if nfsha::heartbeat::daemon::is_mounted(path) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Mounted {
            path: path.to_path_buf(),
            gate,
            session: Some(session),
        }
    }

    /// Operations served so far, by name.
    pub fn ops(&self) -> BTreeMap<&'static str, u64> {
        self.gate.ops.lock().unwrap().clone()
    }

    pub fn set(&self, mode: Mode) {
        *self.gate.mode.lock().unwrap() = mode;
        self.gate.cv.notify_all();
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.set(Mode::Normal);
        let _ = std::process::Command::new("fusermount3")
            .args(["-u", "-z"])
            .arg(&self.path)
            .status();
        if let Some(s) = self.session.take() {
            // Joining could wait on a stuck request thread; detach instead.
            std::mem::forget(s);
        }
    }
}
