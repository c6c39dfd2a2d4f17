//! Shared helpers for the integration tests: the real binary, configs in
//! temporary directories, a daemon that is stopped on drop.

#![allow(dead_code)]

pub mod hangfs;

/// Skip a test (with a note) where FUSE is not available; under CI a
/// missing tool is a failure, not a skip.
#[allow(unused_macros)]
macro_rules! need_fuse {
    () => {
        if !$crate::common::fuse_available() {
            if std::env::var_os("CI").is_some() {
                panic!("FUSE is required: /dev/fuse and fusermount3 (apt-get install fuse3)");
            }
            eprintln!("skipped: no /dev/fuse or fusermount3");
            return;
        }
    };
}

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nfsha::heartbeat::status::Status;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nfsha"))
}

pub fn nfsha(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

pub fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A running `nfsha heartbeat run`, sent SIGTERM (then SIGKILL) on drop.
pub struct Daemon {
    pub child: Child,
    pub status_file: PathBuf,
    pub log: PathBuf,
}

impl Daemon {
    pub fn start(config: &Path, run_dir: &Path) -> Daemon {
        let log = run_dir.with_extension("log");
        let child = Command::new(bin())
            .args(["heartbeat", "run", "--log-stderr", "--config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Daemon {
            child,
            status_file: run_dir.join("heartbeat-status.json"),
            log,
        }
    }

    pub fn status(&self) -> Option<Status> {
        Status::read(&self.status_file).ok()
    }

    /// Wait until `f(status)` holds; panics with the log after `limit`.
    pub fn wait_for(&self, limit: Duration, what: &str, f: impl Fn(&Status) -> bool) -> Status {
        let t = Instant::now();
        loop {
            if let Some(s) = self.status() {
                if f(&s) {
                    return s;
                }
            }
            if t.elapsed() > limit {
                panic!(
                    "timed out waiting for {what}; status: {:#?}\nlog:\n{}",
                    self.status(),
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether FUSE tests can run here.
pub fn fuse_available() -> bool {
    Path::new("/dev/fuse").exists() && which("fusermount3")
}

fn which(p: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(p).exists()))
        .unwrap_or(false)
}
