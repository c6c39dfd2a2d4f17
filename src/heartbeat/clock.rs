//! The clocks: `CLOCK_BOOTTIME` for every judgement (system-wide, so the
//! daemon, `check` and the OCF agent on one host share it; it counts suspend
//! and never jumps), and the wall clock only for display.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time since boot, including suspend.
pub fn boottime() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe {
        libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts);
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

pub fn boottime_ms() -> u64 {
    boottime().as_millis() as u64
}

/// Unix wall time in milliseconds (display only; may be negative in theory).
pub fn wall_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// 64 random bits (a new generation per daemon start).
pub fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom fills the buffer we own.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), 8, 0) };
    if n == 8 {
        u64::from_ne_bytes(buf)
    } else {
        boottime().as_nanos() as u64 ^ (std::process::id() as u64) << 32
    }
}
