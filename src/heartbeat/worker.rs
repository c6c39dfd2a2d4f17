//! Storage I/O that can never block the caller: every read or write of a
//! heartbeat record runs in a short-lived child process (`nfsha heartbeat io`)
//! with a deadline. At the deadline the child is sent SIGKILL and abandoned:
//! a child stuck in the kernel on a hung mount (D state) is never waited for,
//! only reaped later if it ever returns — as sanlock abandons its AIO.
//!
//! The child reports into a small file on the local run directory (tmpfs),
//! never through a pipe that could fill and stall it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::record::MAX_LEN;
use crate::sys::child::Spec;
use crate::sys::RunError;

/// `nfsha heartbeat io`: the child side (hidden subcommand).
#[derive(clap::Args, Debug)]
pub struct IoArgs {
    /// Serve lease-area rounds for the daemon on stdin/stdout (long-lived).
    #[arg(long, value_name = "AREA")]
    pub serve: Option<PathBuf>,
    /// Write the report here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Create these directories (and parents) first.
    #[arg(long)]
    pub mkdir: Vec<PathBuf>,
    /// Write DATA (hex) to PATH via a temporary file, fsync and rename.
    #[arg(long, num_args = 2, value_names = ["PATH", "HEX"])]
    pub write: Vec<String>,
    /// Read a record file.
    #[arg(long)]
    pub read: Vec<PathBuf>,
    /// Read every record file in a directory (names not starting with '.').
    #[arg(long)]
    pub read_dir: Vec<PathBuf>,
    /// A file name --read-dir leaves out (this host's own record).
    #[arg(long)]
    pub skip: Option<String>,
}

/// What to do in one child.
#[derive(Clone, Debug, Default)]
pub struct IoRequest {
    pub mkdirs: Vec<PathBuf>,
    pub writes: Vec<(PathBuf, Vec<u8>)>,
    pub reads: Vec<PathBuf>,
    pub read_dirs: Vec<PathBuf>,
    /// File name the directory reads leave out.
    pub skip: Option<String>,
}

/// Why a read gave no data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    Missing,
    Io(String),
}

/// One read: its latency and the bytes, or why there are none.
pub type ReadResult = Result<(Duration, Vec<u8>), ReadError>;

/// What the child did, with per-operation latency.
#[derive(Clone, Debug, Default)]
pub struct IoReport {
    pub writes: Vec<(PathBuf, Result<Duration, String>)>,
    pub reads: Vec<(PathBuf, ReadResult)>,
    /// Set when a directory could not be listed or created.
    pub errors: Vec<String>,
}

impl IoReport {
    /// The first write error, if any.
    pub fn write_error(&self) -> Option<String> {
        self.writes.iter().find_map(|(p, r)| {
            r.as_ref()
                .err()
                .map(|e| format!("write {}: {e}", p.display()))
        })
    }
    pub fn write_latency(&self) -> Duration {
        self.writes
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .sum()
    }
    pub fn read_latency(&self) -> Duration {
        self.reads
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok().map(|(d, _)| *d))
            .sum()
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn one_line(s: &str) -> String {
    s.replace(['\t', '\n'], " ")
}

/// Write `data` to `path` so readers see the old or the new content only.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn read_small(path: &Path) -> Result<Vec<u8>, ReadError> {
    let f = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Io(e.to_string()),
    })?;
    // One buffer, read until EOF: no small probe reads on the storage.
    let mut f = f;
    let mut buf = vec![0u8; MAX_LEN + 1];
    let mut len = 0;
    while len < buf.len() {
        match f.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e.to_string())),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

/// The child: do the operations in order and write the report.
pub fn run_child(args: &IoArgs) -> i32 {
    if let Some(area) = &args.serve {
        return super::helper::serve(area);
    }
    let mut lines = Vec::new();
    let mut failed = false;
    for d in &args.mkdir {
        if let Err(e) = std::fs::create_dir_all(d) {
            lines.push(format!(
                "error\tmkdir {}: {}",
                d.display(),
                one_line(&e.to_string())
            ));
            failed = true;
        }
    }
    for pair in args.write.chunks(2) {
        let (path, data) = (
            Path::new(&pair[0]),
            unhex(pair.get(1).map(String::as_str).unwrap_or("")),
        );
        let Some(data) = data else {
            lines.push(format!("write\t{}\terr\tbad hex data", path.display()));
            failed = true;
            continue;
        };
        let t = Instant::now();
        match write_atomic(path, &data) {
            Ok(()) => lines.push(format!(
                "write\t{}\tok\t{}",
                path.display(),
                t.elapsed().as_micros()
            )),
            Err(e) => {
                failed = true;
                lines.push(format!(
                    "write\t{}\terr\t{}",
                    path.display(),
                    one_line(&e.to_string())
                ))
            }
        }
    }
    let read_one = |path: &Path, lines: &mut Vec<String>| {
        let t = Instant::now();
        match read_small(path) {
            Ok(data) => lines.push(format!(
                "read\t{}\tok\t{}\t{}",
                path.display(),
                t.elapsed().as_micros(),
                hex(&data)
            )),
            Err(ReadError::Missing) => lines.push(format!("read\t{}\tmissing", path.display())),
            Err(ReadError::Io(e)) => {
                lines.push(format!("read\t{}\terr\t{}", path.display(), one_line(&e)))
            }
        }
    };
    for p in &args.read {
        read_one(p, &mut lines);
    }
    for d in &args.read_dir {
        match std::fs::read_dir(d) {
            Ok(entries) => {
                let mut names: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .filter(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        !name.starts_with('.') && Some(&name) != args.skip.as_ref()
                    })
                    .map(|e| e.path())
                    .collect();
                names.sort();
                for p in names {
                    read_one(&p, &mut lines);
                }
            }
            Err(e) => {
                failed = true;
                lines.push(format!(
                    "error\tlist {}: {}",
                    d.display(),
                    one_line(&e.to_string())
                ))
            }
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    let written = match &args.out {
        Some(out) => {
            let tmp = out.with_extension("tmp");
            std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, out))
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(text.as_bytes()).and_then(|_| o.flush())
        }
    };
    if written.is_err() {
        return 2;
    }
    i32::from(failed)
}

fn parse_report(text: &str) -> IoReport {
    let mut r = IoReport::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let us = |s: &str| Duration::from_micros(s.parse().unwrap_or(0));
        match f.as_slice() {
            ["write", p, "ok", t] => r.writes.push((PathBuf::from(p), Ok(us(t)))),
            ["write", p, "err", e] => r.writes.push((PathBuf::from(p), Err(e.to_string()))),
            ["read", p, "ok", t, h] => match unhex(h) {
                Some(d) => r.reads.push((PathBuf::from(p), Ok((us(t), d)))),
                None => r
                    .reads
                    .push((PathBuf::from(p), Err(ReadError::Io("bad report".into())))),
            },
            ["read", p, "ok", t] => r.reads.push((PathBuf::from(p), Ok((us(t), Vec::new())))),
            ["read", p, "missing"] => r.reads.push((PathBuf::from(p), Err(ReadError::Missing))),
            ["read", p, "err", e] => r
                .reads
                .push((PathBuf::from(p), Err(ReadError::Io(e.to_string())))),
            ["error", e] => r.errors.push(e.to_string()),
            _ => {}
        }
    }
    r
}

/// Why a blocking I/O call gave no report.
#[derive(Debug)]
pub enum IoFailure {
    /// Not finished by the deadline; the child was killed and abandoned.
    Timeout(Duration),
    Spawn(String),
    Failed(String),
}

impl std::fmt::Display for IoFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IoFailure::Timeout(d) => write!(
                f,
                "storage I/O did not finish within {:.1} s (abandoned; the storage is hung or very slow)",
                d.as_secs_f64()
            ),
            IoFailure::Spawn(e) => write!(f, "cannot start the I/O helper: {e}"),
            IoFailure::Failed(e) => f.write_str(e),
        }
    }
}

/// The bounded wait for children, where the guard still expects it.
pub use crate::sys::child::wait_readable;

/// Run one I/O job to completion or `timeout`, whichever is first; the
/// caller is never blocked longer than `timeout` (plus a few milliseconds).
/// `_run_dir` is not used any more (the report comes through a pipe); it is
/// kept for callers written before.
pub fn run_bounded(
    req: &IoRequest,
    _run_dir: &Path,
    timeout: Duration,
) -> Result<IoReport, IoFailure> {
    let mut spec = Spec::new("/proc/self/exe").args(["heartbeat", "io"]);
    spec.arg0 = Some("nfsha-heartbeat-io".into());
    spec.cwd = Some("/".into());
    for d in &req.mkdirs {
        spec = spec.arg("--mkdir").arg(d);
    }
    for (p, data) in &req.writes {
        spec = spec.arg("--write").arg(p).arg(hex(data));
    }
    for p in &req.reads {
        spec = spec.arg("--read").arg(p);
    }
    for d in &req.read_dirs {
        spec = spec.arg("--read-dir").arg(d);
    }
    if let Some(name) = &req.skip {
        spec = spec.arg("--skip").arg(name);
    }
    match crate::sys::child::run(&spec, Instant::now() + timeout) {
        Ok(out) => match out.code {
            Some(0 | 1) => Ok(parse_report(&out.stdout)),
            Some(c) => Err(IoFailure::Failed(format!(
                "I/O helper exited with {c} without a report"
            ))),
            None => Err(IoFailure::Failed("I/O helper killed by a signal".into())),
        },
        Err(RunError::Timeout { after, .. }) => Err(IoFailure::Timeout(after)),
        Err(e) => Err(IoFailure::Spawn(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(b"\x00ab\xff")).unwrap(), b"\x00ab\xff");
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }

    #[test]
    fn child_writes_atomically_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let hb = dir.path().join("m/.nfsha/hb");
        let args = IoArgs {
            serve: None,
            out: Some(dir.path().join("report")),
            mkdir: vec![hb.clone()],
            write: vec![hb.join("kvm1").display().to_string(), hex(b"hello")],
            read: vec![hb.join("nobody")],
            read_dir: vec![hb.clone()],
            skip: Some("other".into()),
        };
        assert_eq!(run_child(&args), 0);
        let r = parse_report(&std::fs::read_to_string(dir.path().join("report")).unwrap());
        assert!(r.writes[0].1.is_ok());
        assert_eq!(r.reads[0].1, Err(ReadError::Missing));
        assert_eq!(r.reads[1].1.as_ref().unwrap().1, b"hello");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&hb)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("kvm1")]);
    }
}
