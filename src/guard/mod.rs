//! `nfsha guard --timeout DUR [--on-timeout CMD]… [LIMITS] -- CMD…`: run a
//! NAS job (backup, copy, `qemu-img convert`) with a hard deadline, and so
//! that it cannot starve the production VMs (CloudStack PR #12846): an idle
//! I/O class, bandwidth caps per block device and a CPU weight, all applied
//! before the job starts or the job does not start ([`limits`],
//! [`resources`]).
//!
//! The job runs in its own process group. At the deadline the group gets
//! SIGTERM, then SIGKILL after `--kill-grace`; guard then runs each cleanup
//! command (argv, split like a shell would split words but never run by a
//! shell, each with its own deadline) and exits 124. It never waits for a
//! child stuck in D state on a hung mount: such a child is reported and
//! abandoned. The job's output is relayed through guard's own pipes, so a
//! stuck child never holds the caller's stdout open (a caller reading it to
//! the end, as the CloudStack agent does, would otherwise hang with it).

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub mod cgroup;
pub mod limits;
pub mod resources;
pub mod words;

use crate::formats::duration;
use crate::sys::{Cmd, Deadline, Real, System};

use limits::{Direction, IoClass};
use resources::{Resources, Wanted};
pub use words::split_words;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Deadline for the whole command, e.g. 6h or 90s.
    #[arg(long, value_parser = duration::strict)]
    pub timeout: Duration,
    /// Cleanup to run after a timeout, e.g. 'virsh resume vm1' or 'umount -f /mnt/b'
    /// (split into words, no shell). Repeat for several, run in order.
    #[arg(long = "on-timeout", value_name = "CMD")]
    pub on_timeout: Vec<String>,
    /// Time between SIGTERM and SIGKILL of the process group.
    #[arg(long, value_parser = duration::strict, default_value = "5s")]
    pub kill_grace: Duration,
    /// Deadline for each cleanup command.
    #[arg(long, value_parser = duration::strict, default_value = "60s")]
    pub cleanup_timeout: Duration,
    /// I/O class of the job's process group: idle (ionice -c 3) or best-effort.
    #[arg(long, value_name = "CLASS", value_parser = IoClass::parse)]
    pub io_class: Option<IoClass>,
    /// Cap reads from a block device, e.g. /dev/sdb=50M (MiB/s). Repeatable.
    #[arg(long = "read-bps", value_name = "DEV=RATE")]
    pub read_bps: Vec<String>,
    /// Cap writes to a block device, e.g. /dev/drbd0=50M (MiB/s). Repeatable.
    #[arg(long = "write-bps", value_name = "DEV=RATE")]
    pub write_bps: Vec<String>,
    /// CPU weight of the job, 1 to 10000 (100 is everyone else's).
    #[arg(long, value_name = "WEIGHT", value_parser = limits::parse_cpu_weight)]
    pub cpu_weight: Option<u64>,
    /// The command and its arguments.
    #[arg(last = true, required = true, num_args = 1..)]
    pub command: Vec<String>,
}

/// Exit code after a timeout (as timeout(1)).
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit code when the command could not be started.
pub const EXIT_CANNOT_RUN: i32 = 125;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn pidfd(pid: u32) -> Option<i32> {
    // SAFETY: pidfd_open(2) returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    (fd >= 0).then_some(fd as i32)
}

fn killpg(pgid: u32, sig: i32) {
    // SAFETY: signalling the process group we created.
    unsafe {
        libc::killpg(pgid as libc::pid_t, sig);
    }
}

/// Wait for the child up to `until`; Some(exit code) if it ended.
fn wait_until(child: &mut std::process::Child, fd: Option<i32>, until: Instant) -> Option<i32> {
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)));
        }
        let now = Instant::now();
        if now >= until || INTERRUPTED.load(Ordering::SeqCst) {
            return None;
        }
        let left = (until - now).min(Duration::from_millis(200));
        crate::heartbeat::worker::wait_readable(&[fd], left);
    }
}

/// Copy the child's stdout and stderr to ours on two threads; each sends on
/// the returned channel when its pipe closes.
fn relay_output(child: &mut std::process::Child) -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    fn pump(mut from: impl Read, to: &mut dyn Write) {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
            let _ = to.flush();
        }
    }
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            pump(out, &mut std::io::stdout());
            let _ = tx.send(());
        });
    }
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            pump(err, &mut std::io::stderr());
            let _ = tx.send(());
        });
    }
    rx
}

pub fn main(args: Args) -> i32 {
    let cleanups: Vec<Vec<String>> = match args.on_timeout.iter().map(|c| split_words(c)).collect()
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("nfsha guard: --on-timeout: {e}");
            return 2;
        }
    };
    if let Some(i) = cleanups.iter().position(|c| c.is_empty()) {
        eprintln!(
            "nfsha guard: --on-timeout {:?} is empty",
            args.on_timeout[i]
        );
        return 2;
    }
    let mut wanted = Wanted {
        io_class: args.io_class,
        cpu_weight: args.cpu_weight,
        bandwidth: Vec::new(),
    };
    let sys_dev_block = std::path::Path::new("/sys/dev/block");
    for (flag, list, dir) in [
        ("--read-bps", &args.read_bps, Direction::Read),
        ("--write-bps", &args.write_bps, Direction::Write),
    ] {
        for a in list {
            match limits::parse_bandwidth(a, dir, sys_dev_block) {
                Ok((b, note)) => {
                    if !note.is_empty() {
                        eprintln!("nfsha guard: {flag}: {note}");
                    }
                    wanted.bandwidth.push(b);
                }
                Err(e) => {
                    eprintln!("nfsha guard: {flag} {e}");
                    return 2;
                }
            }
        }
    }
    run(&args, &cleanups, &wanted, &Real::new())
}

pub fn run(args: &Args, cleanups: &[Vec<String>], wanted: &Wanted, sys: &dyn System) -> i32 {
    let shown = args.command.join(" ");
    // SAFETY: handlers that only set an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
    }
    // Limits first: one that cannot be applied is an error, and the job
    // does not start.
    let mut res = match Resources::setup(wanted, std::process::id()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nfsha guard: cannot apply the limits: {e}; `{shown}` was not started");
            return EXIT_CANNOT_RUN;
        }
    };
    if !res.summary.is_empty() {
        eprintln!("nfsha guard: limits: {}", res.summary.join("; "));
    }
    if let Err(e) = res.enter() {
        res.leave(None);
        res.teardown();
        eprintln!("nfsha guard: cannot apply the limits: {e}; `{shown}` was not started");
        return EXIT_CANNOT_RUN;
    }
    let started = Instant::now();
    let spawned = Command::new(&args.command[0])
        .args(&args.command[1..])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    res.leave(spawned.as_ref().ok().map(|c| c.id()));
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            res.teardown();
            eprintln!("nfsha guard: cannot run `{shown}`: {e}");
            return EXIT_CANNOT_RUN;
        }
    };
    let relays_done = relay_output(&mut child);
    let pgid = child.id();
    let fd = pidfd(pgid);
    let close = |fd: Option<i32>| {
        if let Some(fd) = fd {
            // SAFETY: closing the pidfd we opened.
            unsafe { libc::close(fd) };
        }
    };
    if let Some(code) = wait_until(&mut child, fd, started + args.timeout) {
        close(fd);
        // Let the relays drain, but not forever: a background grandchild may
        // keep the pipes open.
        let until = Instant::now() + Duration::from_secs(2);
        for _ in 0..2 {
            let _ = relays_done.recv_timeout(until.saturating_duration_since(Instant::now()));
        }
        res.teardown();
        return code;
    }
    let why = if INTERRUPTED.load(Ordering::SeqCst) {
        "guard was interrupted".to_string()
    } else {
        format!("did not finish within {}", duration::fmt(args.timeout))
    };
    eprintln!("nfsha guard: `{shown}` {why}: sending SIGTERM to its process group {pgid}");
    killpg(pgid, libc::SIGTERM);
    let ended = wait_until(&mut child, fd, Instant::now() + args.kill_grace).is_some() || {
        eprintln!(
            "nfsha guard: still running after {}: SIGKILL",
            duration::fmt(args.kill_grace)
        );
        killpg(pgid, libc::SIGKILL);
        INTERRUPTED.store(false, Ordering::SeqCst);
        wait_until(&mut child, fd, Instant::now() + Duration::from_secs(1)).is_some()
    };
    close(fd);
    if !ended {
        eprintln!(
            "nfsha guard: process {pgid} did not exit after SIGKILL (stuck in the kernel, most likely on a hung NFS mount): abandoned, not waited for"
        );
    }
    res.teardown();
    let mut cleanup_failed = false;
    for argv in cleanups {
        let cmd = Cmd::new(&argv[0]).args(argv[1..].iter().cloned());
        match sys.run(&cmd, Deadline::after(sys, args.cleanup_timeout)) {
            Ok(out) if out.success() => eprintln!("nfsha guard: cleanup `{}` done", cmd.display()),
            Ok(out) => {
                cleanup_failed = true;
                eprintln!(
                    "nfsha guard: cleanup `{}` failed: {}",
                    cmd.display(),
                    out.failure_text()
                )
            }
            Err(e) => {
                cleanup_failed = true;
                eprintln!("nfsha guard: cleanup failed: {e}")
            }
        }
    }
    eprintln!(
        "nfsha guard: `{shown}` killed after {:.1}s ({why}){}",
        started.elapsed().as_secs_f64(),
        if cleanup_failed {
            "; a cleanup command failed"
        } else {
            ""
        }
    );
    EXIT_TIMEOUT
}
