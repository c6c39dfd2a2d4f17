//! Helpers for the heartbeat tests: the real binary run with arguments,
//! configs in temporary directories, a daemon that is stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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
