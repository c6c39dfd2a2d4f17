//! Optional `/dev/watchdog` backing: the daemon pets it only while no storage
//! has been failing for `fence_after`, so a hung or killed daemon (or a fence
//! step that itself hangs) still ends in a reset `watchdog.timeout` later.
//!
//! A clean stop writes the magic 'V' so the device disarms; any other exit
//! leaves it armed, on purpose.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::Duration;

use super::config::Watchdog as WatchdogConfig;

/// `WDIOC_SETTIMEOUT` = _IOWR('W', 6, int).
const WDIOC_SETTIMEOUT: libc::c_ulong = 0xC004_5706;

pub struct Watchdog {
    file: File,
    pub cfg: WatchdogConfig,
    pub pets: u64,
}

impl Watchdog {
    /// Open (and so arm) the device and set its timeout.
    pub fn open(cfg: &WatchdogConfig) -> Result<Watchdog, String> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&cfg.device)
            .map_err(|e| {
                format!(
                    "watchdog.device = {:?}: cannot open: {e} (load a driver, e.g. modprobe softdog)",
                    cfg.device.display().to_string()
                )
            })?;
        let mut secs: libc::c_int = cfg.timeout.as_secs().max(1) as libc::c_int;
        // SAFETY: ioctl on our fd with a pointer to an int we own. On a file
        // that is not a watchdog it fails with ENOTTY, which we report.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), WDIOC_SETTIMEOUT as _, &mut secs) };
        if rc < 0 {
            tracing::warn!(
                "watchdog {}: cannot set the timeout to {}s ({}); the device's own timeout applies",
                cfg.device.display(),
                cfg.timeout.as_secs(),
                std::io::Error::last_os_error()
            );
        }
        Ok(Watchdog {
            file,
            cfg: cfg.clone(),
            pets: 0,
        })
    }

    /// How often to pet: a third of the timeout.
    pub fn pet_interval(&self) -> Duration {
        (self.cfg.timeout / 3).max(Duration::from_millis(100))
    }

    pub fn pet(&mut self) {
        if self.file.write_all(b"\0").is_ok() {
            self.pets += 1;
        }
    }

    /// Disarm on a clean, deliberate stop.
    pub fn disarm(mut self) {
        let _ = self.file.write_all(b"V");
    }
}
