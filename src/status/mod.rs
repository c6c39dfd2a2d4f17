//! `nfsha status`: what this node is doing, in one screen or one JSON
//! object (schema [`report::SCHEMA`], docs/status.md), fast and never stuck.
//!
//! On an NFS server node: nfsd and who started it, the group's resources,
//! the server scope, lease and grace (configured and running), the grace
//! left after a start, the NFSv4 clients and how many have reclaimed, the
//! exports, DRBD, and the connection records for tickling. On a KVM host:
//! the storage heartbeat.
//!
//! How it stays fast and never blocks: the main process reads only kernel
//! interfaces (`/proc`, `/proc/fs/nfsd`, `/dev/kmsg`, netlink) and tmpfs (the
//! agents' markers, the heartbeat's status). Every file on a disk — nfs.conf,
//! etab, the drop-in, nfsdcld's database on the replicated state directory —
//! is read by a child with a deadline ([`probe`]); DRBD 9 is asked through
//! `drbdsetup` with the same deadline. A child that hangs is abandoned and
//! what it would have read is shown as unknown, with the reason. Pacemaker
//! is never asked: it can be slow or hung during a failover, and the agents'
//! markers say what runs here.
//!
//! - [`report`]: the schema; [`render`]: the human view.
//! - [`server`]: the server side; [`grace`]: where grace stands (pure);
//!   [`kmsg`]: the kernel's grace messages; [`clients`]: nfsd's clients;
//!   [`nfsdcld`]: who has reclaimed; [`procs`]: nfsd's threads and daemons.
//! - [`probe`]: the reads done in children.

pub mod clients;
pub mod grace;
pub mod kmsg;
pub mod nfsdcld;
pub mod probe;
pub mod procs;
pub mod render;
pub mod report;
pub mod server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::formats::duration;
use crate::heartbeat::clock;
use crate::sys::{mounts, Cmd, Deadline, Real, System};
use report::{Known, KvmHost, Report};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print one JSON object (schema nfsha-status/1, see docs/status.md).
    #[arg(long)]
    pub json: bool,
    /// How long a read of a disk-backed file (nfs.conf, etab, nfsdcld's
    /// database) or a DRBD query may take before it is abandoned and shown
    /// as unknown.
    #[arg(long, default_value = "2s", value_parser = duration::strict)]
    pub timeout: Duration,
    /// The KVM-host heartbeat configuration.
    #[arg(long, default_value = crate::heartbeat::config::DEFAULT_PATH)]
    pub heartbeat_config: PathBuf,
}

/// Run `nfsha status`; returns the exit status: 0 all known and well, 1 a
/// problem needs attention, 3 something could not be read.
pub fn run(args: &Args) -> i32 {
    let sys = Real::new();
    let report = collect(&sys, args);
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("nfsha status: {e}");
                return 1;
            }
        }
    } else {
        print!("{}", render::render(&report));
        let unknown = unknowns(&report);
        if !unknown.is_empty() && !args.json {
            println!(
                "\n{} figure(s) unknown (shown above with the reason).",
                unknown.len()
            );
        }
    }
    exit_code(&report)
}

/// 1 when a problem is listed, else 3 when a figure is unknown, else 0.
pub fn exit_code(r: &Report) -> i32 {
    if !r.problems.is_empty() {
        1
    } else if !unknowns(r).is_empty() {
        3
    } else {
        0
    }
}

/// Every unknown figure in `r`: (its JSON path, the reason).
pub fn unknowns(r: &Report) -> Vec<(String, String)> {
    fn walk(v: &serde_json::Value, path: String, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                if let (1, Some(serde_json::Value::String(why))) = (m.len(), m.get("unknown")) {
                    out.push((path, why.clone()));
                    return;
                }
                for (k, v) in m {
                    walk(v, format!("{path}/{k}"), out);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, format!("{path}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::to_value(r) {
        // The heartbeat's own status is reported as it is, not judged here.
        let mut v = v;
        if let Some(hb) = v.pointer_mut("/kvm_host/heartbeat") {
            if hb.get("unknown").is_none() {
                *hb = serde_json::Value::Null;
            }
        }
        walk(&v, String::new(), &mut out);
    }
    out
}

fn node_name() -> String {
    // SAFETY: uname fills the struct we own.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    let bytes: Vec<u8> = u
        .nodename
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn monotonic() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// DRBD 9 answers only through drbdsetup: ask it when DRBD is loaded (or a
/// DRBD device is in use here) and `/proc/drbd` lists no device (DRBD 8.4
/// lists them all there).
fn drbd9(
    sys: &dyn System,
    mounts: &[mounts::Mount],
    deadline: Deadline,
) -> Option<Result<String, String>> {
    let proc = sys.read_to_string(&sys.paths().proc_drbd).ok();
    if proc.as_deref().is_some_and(|t| t.contains(": cs:")) {
        return None;
    }
    let in_use = mounts
        .iter()
        .any(|m| crate::agents::storage::drbd_minor(&m.source).is_some())
        || (reads_directly(mounts, &sys.state_dir()) && server::state_on_drbd(sys));
    if (proc.is_none() && !in_use) || !sys.has_program("drbdsetup") {
        return None;
    }
    Some(
        match sys.run(&Cmd::new("drbdsetup").args(["status", "--json"]), deadline) {
            Ok(out) if out.success() => Ok(out.stdout),
            Ok(out) => Err(format!("drbdsetup status --json: {}", out.failure_text())),
            Err(e) => Err(e.to_string()),
        },
    )
}

/// Collect the report.
pub fn collect(sys: &dyn System, args: &Args) -> Report {
    let t0 = Instant::now();
    let deadline = Deadline::after(sys, args.timeout);
    let hb_config = args.heartbeat_config.as_path();
    let paths = sys.paths();
    let mounts = sys
        .read_to_string(&paths.mountinfo)
        .map(|t| mounts::parse(&t))
        .map_err(|e| format!("{}: {e}", paths.mountinfo.display()));
    let table: &[mounts::Mount] = mounts.as_deref().unwrap_or(&[]);
    let nfsd_loaded = sys.exists(&paths.nfsd("threads"));
    let running = sys
        .read_to_string(&paths.nfsd("threads"))
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        .is_some_and(|t| t > 0);
    let markers = reads_directly(table, &sys.state_dir())
        && sys
            .list_dir(&sys.state_dir())
            .map(|n| n.iter().any(|n| n.starts_with("nfsha-")))
            .unwrap_or(false);
    // Each probe runs here when its files are on safe storage, else in a child.
    let (mut here, mut children) = (Vec::new(), Vec::new());
    for kind in [
        probe::Kind::Config,
        probe::Kind::Heartbeat,
        probe::Kind::Etab,
        probe::Kind::Nfsdcld,
    ] {
        let wanted = match kind {
            probe::Kind::Config | probe::Kind::Heartbeat => true,
            probe::Kind::Etab => nfsd_loaded || markers,
            // Who reclaimed matters only while nfsd runs.
            probe::Kind::Nfsdcld => running,
        };
        if !wanted {
            continue;
        }
        let files = probe::files(kind, sys, hb_config);
        if !files.is_empty() && files.iter().all(|f| safe_to_read(table, f)) {
            here.push(kind);
        } else {
            children.push(kind);
        }
    }
    let (answers, drbd, procs, kmsg) = std::thread::scope(|s| {
        let probes = (!children.is_empty())
            .then(|| s.spawn(|| probe::run(sys, &children, hb_config, deadline)));
        let drbd = s.spawn(|| drbd9(sys, table, deadline));
        let mut answers = probe::Answers::default();
        for kind in here {
            answers.insert(kind, probe::read(kind, sys, hb_config));
        }
        let procs = if nfsd_loaded || markers {
            procs::scan(sys)
        } else {
            Err("not read: no NFS server here".to_string())
        };
        let kmsg = (running && server::kernel_log_helps(sys, procs.as_deref().ok()))
            .then(|| kmsg::read(&sys.paths().kmsg));
        if let Some(p) = probes {
            answers.extend(p.join().unwrap_or_default());
        }
        (answers, drbd.join().unwrap_or(None), procs, kmsg)
    });
    let mut problems = Vec::new();
    let node = node_name();
    let inputs = server::Inputs {
        sys,
        answers: &answers,
        procs,
        mounts,
        drbd9: drbd,
        kmsg,
        boottime: clock::boottime(),
        monotonic: monotonic(),
        node: node.clone(),
    };
    let server = server::collect(&inputs, &mut problems);
    let kvm_host = kvm_host(&answers, &inputs.mounts, &mut problems);
    problems.sort_by_key(|p| if p.severity == "error" { 0 } else { 1 });
    Report {
        schema: report::SCHEMA,
        node,
        unix_time: clock::wall_ms() / 1000,
        elapsed_ms: t0.elapsed().as_millis() as u64,
        server,
        kvm_host,
        problems,
    }
}

fn kvm_host(
    answers: &probe::Answers,
    mounts: &Result<Vec<mounts::Mount>, String>,
    problems: &mut Vec<report::Problem>,
) -> Option<KvmHost> {
    let hb: probe::Heartbeat = match answers.get(probe::Kind::Heartbeat) {
        Ok(h) => h,
        Err(why) => {
            return Some(KvmHost {
                config: String::new(),
                heartbeat: Known::unknown(why),
                healthy: Known::unknown("the heartbeat configuration could not be read"),
                stale_s: None,
            })
        }
    };
    let status_file = match hb.status_file {
        Ok(None) => return None,
        Ok(Some(f)) => PathBuf::from(f),
        Err(e) => {
            problems.push(report::Problem {
                severity: "error",
                message: format!("the heartbeat configuration {} is invalid: {e}", hb.config),
            });
            return Some(KvmHost {
                config: hb.config,
                heartbeat: Known::unknown(e),
                healthy: Known::unknown("the configuration is invalid"),
                stale_s: None,
            });
        }
    };
    let tmpfs = mounts
        .as_ref()
        .map_or(true, |m| reads_directly(m, &status_file));
    let read = if tmpfs {
        crate::heartbeat::status::Status::read(&status_file)
    } else {
        Err(format!(
            "{} is not on tmpfs (run_dir); nfsha status does not read it",
            status_file.display()
        ))
    };
    Some(match read {
        Ok(st) => {
            let stale = st.stale_for(clock::boottime_ms());
            let healthy = st.healthy() && stale.is_none();
            if let Some(age) = stale {
                problems.push(report::Problem {
                    severity: "error",
                    message: format!(
                        "the heartbeat daemon has not updated {} for {:.0} s: it is stopped or hung",
                        status_file.display(),
                        age.as_secs_f64()
                    ),
                });
            } else if !st.healthy() {
                problems.push(report::Problem {
                    severity: "error",
                    message: format!(
                        "the storage heartbeat is not healthy (fence state {}; see below)",
                        st.fence.state
                    ),
                });
            }
            KvmHost {
                config: hb.config,
                heartbeat: Known::Value(serde_json::to_value(&st).unwrap_or_default()),
                healthy: Known::Value(healthy),
                stale_s: stale.map(|a| a.as_secs_f64()),
            }
        }
        Err(e) => {
            problems.push(report::Problem {
                severity: "error",
                message: e.clone(),
            });
            KvmHost {
                config: hb.config,
                heartbeat: Known::unknown(e),
                healthy: Known::unknown("no status from the heartbeat daemon"),
                stale_s: None,
            }
        }
    })
}

/// Whether `nfsha status` may read `path` itself: every directory on the way
/// and the path itself pass [`reads_directly`], and none of them is a
/// symbolic link (which could lead onto storage the mount table does not
/// show for the path). Each component is looked at (lstat) only once the
/// mount it is on is known to be safe.
pub fn safe_to_read(mounts: &[mounts::Mount], path: &Path) -> bool {
    if !path.is_absolute() {
        return false;
    }
    let mut p = PathBuf::from("/");
    for c in path.components().skip(1) {
        p.push(c);
        // Checked before the lstat: a mount point's attributes come from
        // the filesystem mounted there.
        if !reads_directly(mounts, &p) {
            return false;
        }
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => return false,
            Ok(_) => {}
            // Nothing there: reading it costs nothing either.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            Err(_) => return false,
        }
    }
    true
}

/// Whether `nfsha status` may read `path` itself: not on a network or FUSE
/// filesystem, a cluster filesystem or a DRBD device, any of which can hang
/// a reader (by the mount table; symlinks are not followed to check).
pub fn reads_directly(mounts: &[mounts::Mount], path: &Path) -> bool {
    const REMOTE: [&str; 12] = [
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "ceph",
        "glusterfs",
        "9p",
        "virtiofs",
        "lustre",
        "gpfs",
        "ocfs2",
        "gfs2",
    ];
    mounts::containing(mounts, path).is_some_and(|m| {
        !REMOTE.contains(&m.fstype.as_str())
            && !m.fstype.starts_with("fuse")
            && crate::agents::storage::drbd_minor(&m.source).is_none()
    })
}
