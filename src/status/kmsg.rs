//! The kernel's own messages about nfsd's NFSv4 grace period, from the kernel
//! log (`/dev/kmsg`, under the seam's `kmsg` root).
//!
//! `fs/nfsd/nfs4state.c` (Linux 6.1) logs at KERN_INFO, with the network
//! namespace's inode number:
//!
//! - `NFSD: starting 90-second grace period (net f0000000)` when nfsd starts
//!   and some client may reclaim;
//! - `NFSD: no clients to reclaim, skipping NFSv4 grace period (net …)` when
//!   nfsdcld knows no client (no grace at all);
//! - `NFSD: all clients done reclaiming, ending NFSv4 grace period (net …)`
//!   when the last client allowed to reclaim sent RECLAIM_COMPLETE (grace
//!   ends early).
//!
//! The normal end after the grace time is not logged (a tracepoint only);
//! `v4_end_grace` in the nfsd filesystem says whether grace is over.
//!
//! Record timestamps are the kernel's `local_clock()` in microseconds since
//! boot; they are compared with each other, and with `CLOCK_MONOTONIC` only
//! to match a message with an nfsd start (see [`super::grace`]).

use std::io::{self, Read};
use std::path::Path;
use std::time::Duration;

/// One grace event from the kernel log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When the kernel logged it (its clock, since boot).
    pub at: Duration,
    /// The network namespace's inode number.
    pub net: u64,
    pub kind: Kind,
    /// The message as logged.
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Grace started, for this many seconds.
    Started { seconds: u64 },
    /// No client may reclaim: no grace period.
    Skipped,
    /// Every client allowed to reclaim has reclaimed: grace ended early.
    AllReclaimed,
}

/// The grace event in one log message, if it is one.
pub fn parse_message(at: Duration, msg: &str) -> Option<Event> {
    let msg = msg.trim_end();
    let rest = msg.strip_prefix("NFSD: ")?;
    let (body, net) = rest.rsplit_once(" (net ")?;
    let net = u64::from_str_radix(net.strip_suffix(')')?, 16).ok()?;
    let kind = if let Some(n) = body
        .strip_prefix("starting ")
        .and_then(|b| b.strip_suffix("-second grace period"))
    {
        Kind::Started {
            seconds: n.parse().ok()?,
        }
    } else if body == "no clients to reclaim, skipping NFSv4 grace period" {
        Kind::Skipped
    } else if body == "all clients done reclaiming, ending NFSv4 grace period" {
        Kind::AllReclaimed
    } else {
        return None;
    };
    Some(Event {
        at,
        net,
        kind,
        text: msg.to_string(),
    })
}

/// The grace events in `/dev/kmsg` records (`prio,seq,usec,flags;message`,
/// continuation lines starting with a blank), oldest first.
pub fn parse_records(text: &str) -> Vec<Event> {
    text.lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| {
            let (head, msg) = l.split_once(';')?;
            let usec: u64 = head.split(',').nth(2)?.parse().ok()?;
            parse_message(Duration::from_micros(usec), msg)
        })
        .collect()
}

/// Why the log could not be read, or what it holds.
pub type LogResult = Result<Vec<Event>, String>;

/// Read every record the kernel still keeps, without waiting for new ones.
/// `/dev/kmsg` returns one record per read and `EAGAIN` at the end when
/// opened non-blocking; `EPIPE` means records were overwritten while
/// reading, and reading goes on. A regular file (tests) is read whole.
pub fn read(path: &Path) -> LogResult {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    // A record is at most 8 KiB (PRINTK_MESSAGE_MAX plus its prefix).
    let mut buf = vec![0u8; 16 * 1024];
    // Bounded: the ring buffer holds a finite number of records; this
    // stops a device that never says EAGAIN from looping forever.
    for _ in 0..1_000_000 {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        }
    }
    Ok(parse_records(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_messages_of_linux_6_1() {
        let log = "6,1203,412345678,-;NFSD: starting 90-second grace period (net f0000000)\n\
                   6,1204,412399000,-;nfsd: something else\n \
                   SUBSYSTEM=foo\n\
                   6,1205,430000001,-;NFSD: all clients done reclaiming, ending NFSv4 grace period (net f0000000)\n\
                   6,1300,900000000,-;NFSD: no clients to reclaim, skipping NFSv4 grace period (net f00000a8)\n";
        let ev = parse_records(log);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[0].kind, Kind::Started { seconds: 90 });
        assert_eq!(ev[0].at, Duration::from_micros(412_345_678));
        assert_eq!(ev[0].net, 0xf000_0000);
        assert_eq!(ev[1].kind, Kind::AllReclaimed);
        assert_eq!(ev[2].kind, Kind::Skipped);
        assert_eq!(ev[2].net, 0xf000_00a8);
        assert!(ev[0].text.starts_with("NFSD: starting"));
    }

    #[test]
    fn near_misses_are_not_events() {
        for msg in [
            "NFSD: starting 90-second grace period",
            "NFSD: starting x-second grace period (net f0000000)",
            "NFSD: Unable to end grace period: -5 (net f0000000)",
            "nfsd: starting 90-second grace period (net f0000000)",
        ] {
            assert_eq!(parse_message(Duration::ZERO, msg), None, "{msg}");
        }
    }
}
