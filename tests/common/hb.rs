//! Helpers for the heartbeat tests: the real binary run with arguments,
//! configs in temporary directories, a daemon that is stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nfsha::heartbeat::lease_area::{self, Slot};
use nfsha::heartbeat::record::Record;
use nfsha::heartbeat::status::Status;

/// The binary under test (the same as `common::nfsha()`).
pub fn bin() -> PathBuf {
    super::nfsha()
}

pub fn nfsha(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

/// `nfsha heartbeat check --host HOST --wait WAIT --config CONFIG`.
#[allow(dead_code)]
pub fn check(config: &Path, host: &str, wait: &str) -> Output {
    nfsha(&[
        "heartbeat",
        "check",
        "--host",
        host,
        "--wait",
        wait,
        "--config",
        config.to_str().unwrap(),
    ])
}

/// The record `host` last wrote in the lease area on `mount` (None when the
/// area is missing or does not name it exactly once).
#[allow(dead_code)]
pub fn lease_record(mount: &Path, host: &str) -> Option<Record> {
    let bytes = std::fs::read(lease_area::path(mount)).ok()?;
    let slots = lease_area::parse(&bytes);
    match lease_area::slots_of(&slots, host).as_slice() {
        [k] => match &slots[*k] {
            Slot::Record(r) => Some(r.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Write `data` (one slot) as slot `index` of the lease area on `mount`,
/// in place, as a peer's daemon would.
#[allow(dead_code)]
pub fn put_slot(mount: &Path, index: usize, data: &[u8]) {
    use std::os::unix::fs::FileExt;
    let p = lease_area::path(mount);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .unwrap();
    let mut slot = data.to_vec();
    slot.resize(nfsha::heartbeat::record::SLOT_SIZE, 0);
    f.write_all_at(&slot, lease_area::offset(index)).unwrap();
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
        Daemon::start_with_path(config, run_dir, None)
    }

    /// [`Daemon::start`] with its own `PATH` (fake commands first).
    pub fn start_with_path(config: &Path, run_dir: &Path, path: Option<&str>) -> Daemon {
        let log = run_dir.with_extension("log");
        let mut cmd = Command::new(bin());
        if let Some(p) = path {
            cmd.env("PATH", p);
        }
        let child = cmd
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

    /// The first `n` lines of `file` once it has that many (the fence
    /// recorder's file); panics with the log after `PATIENCE`-like limits.
    pub fn wait_for_lines(&self, file: &Path, n: usize) -> Vec<String> {
        let t = Instant::now();
        loop {
            let lines: Vec<String> = std::fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect();
            if lines.len() >= n {
                return lines;
            }
            if t.elapsed() > Duration::from_secs(60) {
                panic!(
                    "{} has {} lines, waited for {n}; log:\n{}",
                    file.display(),
                    lines.len(),
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the daemon has exited by itself.
    pub fn wait_exit(&mut self, limit: Duration) {
        let t = Instant::now();
        while self.running() {
            assert!(
                t.elapsed() < limit,
                "still running; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, without waiting.
    pub fn terminate(&self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
    }

    /// SIGTERM, then wait until it has exited.
    pub fn stop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.wait_exit(Duration::from_secs(60));
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
