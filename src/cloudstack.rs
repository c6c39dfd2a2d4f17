//! `kvmheartbeat.sh`, CloudStack's NFS heartbeat script, as a drop-in: the
//! same flags (`-i ip -p path -m mountpoint -h hostIP [-r -t secs] [-c]`), the
//! same file (`<mount>/KVMHA/hb-<hostIP>`, a decimal Unix time that hosts still
//! running CloudStack's own script read correctly) and the same output lines
//! the agent's Java code looks for, but:
//!
//! - every mode's storage I/O runs in an abandonable helper with a deadline
//!   (`cloudstack.io_timeout`, 50 s: below the agent's own 60 s);
//! - `-r` judges this tool's richer record beside it (`KVMHA/nfsha-hb-<IP>`)
//!   by change on the reader's clock; CloudStack's decimal time is judged by
//!   its age against `-t`, any age, never wrapped modulo 256; missing,
//!   unreadable, corrupt or future-dated is UNKNOWN, never ALIVE;
//! - `-c` runs the configured `fence_action` and touches no storage;
//! - it never mounts anything and never kills VMs: a mount point that is not
//!   mounted is a failure it reports.
//!
//! The agent treats a host as dead only when the script exits 0 and its
//! first line contains `DEAD`; every other answer keeps the host's VMs where
//! they are.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::heartbeat::check::{judge, load_cache, observe_as, save_cache, Limits, Verdict};
use crate::heartbeat::clock::{boottime, boottime_ms, wall_ms};
use crate::heartbeat::config::{Config, DEFAULT_PATH};
use crate::heartbeat::mounts::is_mounted;
use crate::heartbeat::record::{Record, WriterState};
use crate::heartbeat::worker::{run_bounded, IoRequest, ReadError, ReadResult};
use crate::sys::{Real, System};

/// The parsed command line (`getopts 'i:p:m:h:t:rc'`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub ip: String,
    pub path: String,
    pub mount: String,
    pub host: String,
    pub interval: Option<String>,
    pub read: bool,
    pub fence: bool,
}

pub fn parse_flags(args: &[String]) -> Result<Flags, String> {
    let mut f = Flags::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let Some(opts) = a.strip_prefix('-').filter(|o| !o.is_empty()) else {
            return Err(format!("unexpected argument {a:?}"));
        };
        for (at, c) in opts.char_indices() {
            match c {
                'r' => f.read = true,
                'c' => f.fence = true,
                'i' | 'p' | 'm' | 'h' | 't' => {
                    let rest = &opts[at + 1..];
                    let value = if !rest.is_empty() {
                        rest.to_string()
                    } else {
                        let v = args
                            .get(i)
                            .cloned()
                            .ok_or_else(|| format!("-{c} needs a value"))?;
                        i += 1;
                        v
                    };
                    match c {
                        'i' => f.ip = value,
                        'p' => f.path = value,
                        'm' => f.mount = value,
                        'h' => f.host = value,
                        _ => f.interval = Some(value),
                    }
                    break;
                }
                other => return Err(format!("unknown option -{other}")),
            }
        }
    }
    Ok(f)
}

const USAGE: &str = "usage: kvmheartbeat.sh -i nfs-server-ip -p nfs-server-path -m mount-point -h host-ip   (write this host's heartbeat)
       kvmheartbeat.sh -i IP -p PATH -m MOUNT -h peer-ip -r -t seconds          (is the peer alive?)
       kvmheartbeat.sh -i IP -p PATH -m MOUNT -c                                 (fence: run fence_action)
nfsha's drop-in for CloudStack's script; configured by /etc/nfsha/heartbeat.toml (NFSHA_HEARTBEAT_CONFIG).
";

fn config() -> Result<Config, String> {
    let path = std::env::var_os("NFSHA_HEARTBEAT_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
    if path.exists() {
        Config::load(&path).map_err(|e| e.to_string())
    } else {
        Config::parse("").map_err(|e| e.to_string())
    }
}

fn hb_dir(mount: &str) -> PathBuf {
    Path::new(mount).join("KVMHA")
}

/// The file CloudStack's script and Java read and write.
pub fn legacy_file(mount: &str, host: &str) -> PathBuf {
    hb_dir(mount).join(format!("hb-{host}"))
}

/// nfsha's richer record beside it (a name `kvmsmpheartbeat.sh`'s clean-up
/// of `hb-<IP>.*` leaves alone).
pub fn rich_file(mount: &str, host: &str) -> PathBuf {
    hb_dir(mount).join(format!("nfsha-hb-{host}"))
}

/// Entry point when called as `kvmheartbeat.sh`.
pub fn main(argv: Vec<OsString>) -> i32 {
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let flags = match parse_flags(&args) {
        Ok(f) => f,
        Err(e) => {
            eprint!("kvmheartbeat.sh: {e}\n{USAGE}");
            return 1;
        }
    };
    crate::log::init(crate::log::LogOptions {
        tag: "kvmheartbeat.sh".into(),
        debug: false,
        logfile: None,
        facility: 3,
        syslog: crate::log::default_syslog_socket(),
        stderr: false,
    });
    let cfg = match config() {
        Ok(c) => c,
        Err(e) => {
            println!("kvmheartbeat.sh: configuration error: {e}");
            return 1;
        }
    };
    let (code, out) = run(&flags, &cfg, &Real::new());
    if !out.is_empty() {
        println!("{out}");
    }
    code
}

/// Do what `flags` ask; returns the exit code and the one line to print.
pub fn run(flags: &Flags, cfg: &Config, sys: &dyn System) -> (i32, String) {
    // As CloudStack's script: the server address is mandatory in every mode.
    if flags.ip.is_empty() {
        return (
            1,
            "kvmheartbeat.sh: -i (NFS server address) is required".into(),
        );
    }
    if flags.mount.is_empty() {
        return (1, "kvmheartbeat.sh: -m (mount point) is required".into());
    }
    if flags.fence {
        return fence(flags, cfg, sys);
    }
    if flags.host.is_empty() {
        return (1, "kvmheartbeat.sh: -h (host IP) is required".into());
    }
    if let Err(e) = crate::heartbeat::config::check_host_id("-h", &flags.host) {
        return (1, format!("kvmheartbeat.sh: {e}"));
    }
    if !is_mounted(Path::new(&flags.mount)) {
        return (
            1,
            format!(
                "kvmheartbeat.sh: {} is not mounted; nfsha never mounts it (mount the pool through libvirt)",
                flags.mount
            ),
        );
    }
    if flags.read {
        read(flags, cfg)
    } else {
        write(flags, cfg)
    }
}

/// A generation per boot: the boot id, hashed.
fn boot_generation() -> u64 {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.trim().bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn next_seq(cfg: &Config, mount: &str, host: &str) -> u64 {
    let key: String = format!("{mount}-{host}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = cfg.run_dir.join("cloudstack").join(format!("{key}.seq"));
    let seq = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new("/")));
    let _ = std::fs::write(&path, seq.to_string());
    seq
}

fn write(flags: &Flags, cfg: &Config) -> (i32, String) {
    let now = boottime();
    let rec = Record {
        host: flags.host.clone(),
        generation: boot_generation(),
        seq: next_seq(cfg, &flags.mount, &flags.host),
        mono_ms: now.as_millis() as u64,
        wall_ms: wall_ms(),
        interval_ms: cfg.cloudstack_interval.as_millis() as u64,
        io_timeout_ms: cfg.cloudstack_io_timeout.as_millis() as u64,
        dead_after_ms: cfg.dead_after.max(cfg.cloudstack_dead_after).as_millis() as u64,
        fence_action: cfg.fence_action,
        // What happens on failure is in fence_action; the agent decides
        // about failures, so this writer only ever reports itself ok.
        state: WriterState::Ok,
        failing_ms: 0,
    };
    let legacy = legacy_file(&flags.mount, &flags.host);
    let unix_secs = rec.wall_ms.div_euclid(1000);
    let req = IoRequest {
        mkdirs: vec![hb_dir(&flags.mount)],
        writes: vec![
            (legacy.clone(), format!("{unix_secs}\n").into_bytes()),
            (
                rich_file(&flags.mount, &flags.host),
                rec.encode().into_bytes(),
            ),
        ],
        ..Default::default()
    };
    match run_bounded(&req, &cfg.run_dir.join("io"), cfg.cloudstack_io_timeout) {
        Ok(r) => match r.write_error().or_else(|| r.errors.first().cloned()) {
            None => (0, String::new()),
            Some(e) => (
                1,
                format!("Failed to write the heartbeat {}: {e}", legacy.display()),
            ),
        },
        Err(e) => (
            1,
            format!("Failed to write the heartbeat {}: {e}", legacy.display()),
        ),
    }
}

/// Strict parse of CloudStack's decimal Unix time (digits only, at most 12).
pub fn parse_legacy(data: &[u8]) -> Result<i64, String> {
    let text = std::str::from_utf8(data)
        .map_err(|_| "not text".to_string())?
        .trim();
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "not a decimal Unix time: {:?}",
            text.chars().take(40).collect::<String>()
        ));
    }
    text.parse().map_err(|_| "not a number".into())
}

/// Tolerance for a decimal time slightly ahead of ours (clock jitter).
const FUTURE_TOLERANCE_S: i64 = 5;

fn dead_line(file: &Path, age_s: u64, max_s: u64) -> String {
    format!(
        "=====> Considering host as DEAD because last write on [{}] was [{age_s}] seconds ago, but the max interval is [{max_s}] <======",
        file.display()
    )
}

fn unknown_line(why: &str) -> String {
    // The agent looks for the word DEAD anywhere in the line: never print it here.
    format!(
        "=====> UNKNOWN (neither alive nor dead): {} <=====",
        why.replace("DEAD", "dead").replace("ALIVE", "alive")
    )
}

fn read(flags: &Flags, cfg: &Config) -> (i32, String) {
    let max_s: u64 = match flags.interval.as_deref().map(str::parse::<u64>) {
        None => 60,
        Some(Ok(v)) => v,
        Some(Err(_)) => {
            return (
                1,
                format!(
                    "kvmheartbeat.sh: -t {:?}: expected whole seconds",
                    flags.interval.as_deref().unwrap_or("")
                ),
            )
        }
    };
    let legacy = legacy_file(&flags.mount, &flags.host);
    let rich = rich_file(&flags.mount, &flags.host);
    let budget_end = boottime() + cfg.cloudstack_io_timeout;
    let limits = Limits {
        dead_after: cfg.dead_after.max(Duration::from_secs(max_s)),
        interval: cfg.cloudstack_interval,
        io_timeout: cfg.cloudstack_io_timeout,
    };
    let mut cache = load_cache(&cfg.run_dir);
    let key = format!("kvmheartbeat:{}|{}", flags.mount, flags.host);
    let mut obs = cache
        .remove(&key)
        .unwrap_or_else(|| crate::heartbeat::check::empty_observation(&flags.host, boottime_ms()));
    let step = Duration::from_secs(1);
    let answer = loop {
        let left = budget_end.saturating_sub(boottime());
        if left.is_zero() {
            break (3, unknown_line("no decision within cloudstack.io_timeout"));
        }
        let req = IoRequest {
            reads: vec![legacy.clone(), rich.clone()],
            ..Default::default()
        };
        let report = match run_bounded(&req, &cfg.run_dir.join("io"), left) {
            Ok(r) => r,
            Err(e) => {
                break (
                    3,
                    unknown_line(&format!(
                        "cannot read {}: {e}",
                        hb_dir(&flags.mount).display()
                    )),
                )
            }
        };
        let get = |p: &Path| {
            report
                .reads
                .iter()
                .find(|(q, _)| q == p)
                .map(|(_, r)| r.clone())
        };
        let legacy_data = get(&legacy);
        let now_ms = boottime_ms();
        match get(&rich) {
            Some(Ok((_, data))) => match Record::decode(&data) {
                Ok(rec) if rec.host == flags.host => {
                    // A host switched back to CloudStack's own script updates only
                    // the decimal file: its changes count as life too.
                    let legacy_text = match &legacy_data {
                        Some(Ok((_, d))) => String::from_utf8_lossy(d).trim().to_string(),
                        _ => String::new(),
                    };
                    observe_as(
                        &mut obs,
                        format!("{:016x}:{legacy_text}", rec.generation),
                        &rec,
                        now_ms,
                    );
                    let (v, why) = judge(&obs, now_ms, &limits);
                    let since_s = now_ms.saturating_sub(obs.last_change_ms) / 1000;
                    match v {
                        Verdict::Alive => break (0, "=====> ALIVE <=====".to_string()),
                        Verdict::Dead => break (0, dead_line(&rich, since_s, limits.dead_after.as_secs().max(rec.dead_after_ms / 1000))),
                        Verdict::NotFenced => {
                            break (
                                4,
                                format!(
                                    "=====> NOT FENCED: host {} stopped renewing but does not fence itself (fence_action {}); its VMs must not be restarted elsewhere <=====",
                                    flags.host,
                                    rec.fence_action.name()
                                ),
                            )
                        }
                        Verdict::Unknown if boottime() + step >= budget_end => break (3, unknown_line(&why)),
                        Verdict::Unknown => {}
                    }
                }
                Ok(rec) => {
                    break (
                        3,
                        unknown_line(&format!("{} names host {:?}", rich.display(), rec.host)),
                    )
                }
                Err(e) => {
                    break (
                        3,
                        unknown_line(&format!("{} is corrupt: {e}", rich.display())),
                    )
                }
            },
            Some(Err(ReadError::Io(e))) => {
                break (
                    3,
                    unknown_line(&format!("cannot read {}: {e}", rich.display())),
                )
            }
            // No nfsha record: CloudStack's own decimal time, judged by its age.
            _ => break legacy_verdict(&legacy, legacy_data, max_s),
        }
        std::thread::sleep(step);
    };
    cache.insert(key, obs);
    save_cache(&cfg.run_dir, &cache);
    answer
}

fn legacy_verdict(file: &Path, data: Option<ReadResult>, max_s: u64) -> (i32, String) {
    let data = match data {
        Some(Ok((_, d))) => d,
        Some(Err(ReadError::Missing)) | None => {
            return (
                3,
                unknown_line(&format!("no heartbeat file {}", file.display())),
            )
        }
        Some(Err(ReadError::Io(e))) => {
            return (
                3,
                unknown_line(&format!("cannot read {}: {e}", file.display())),
            )
        }
    };
    let hb = match parse_legacy(&data) {
        Ok(v) => v,
        Err(e) => return (3, unknown_line(&format!("{}: {e}", file.display()))),
    };
    let now = wall_ms().div_euclid(1000);
    if hb > now + FUTURE_TOLERANCE_S {
        return (
            3,
            unknown_line(&format!(
                "{} is {}s in the future: the clocks disagree, its age means nothing",
                file.display(),
                hb - now
            )),
        );
    }
    let age = (now - hb).max(0) as u64;
    if age > max_s {
        (0, dead_line(file, age, max_s))
    } else {
        (0, "=====> ALIVE <=====".to_string())
    }
}

fn fence(flags: &Flags, cfg: &Config, sys: &dyn System) -> (i32, String) {
    // No I/O on the mount from here on, not even a stat: it may be hung.
    // The agent SIGKILLs us at its timeout: a staged fence is handed to the
    // heartbeat daemon or a detached process that outlives us.
    let req = crate::heartbeat::handoff::FenceRequest {
        action: cfg.fence_action,
        mount: Some(PathBuf::from(&flags.mount)),
        cause: format!(
            "the CloudStack agent asked to fence (kvmheartbeat.sh -c) after failing to write the heartbeat on {}",
            flags.mount
        ),
    };
    tracing::error!(
        "FENCE DECISION: {}: fence_action = {}",
        req.cause,
        req.action.name()
    );
    let path = std::env::var_os("NFSHA_HEARTBEAT_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
    let fencer: Box<dyn crate::heartbeat::fence::Fencer + '_> = match &cfg.fence_record_file {
        Some(f) => Box::new(crate::heartbeat::fence::RecordingFencer {
            file: f.clone(),
            sys,
        }),
        None => Box::new(crate::heartbeat::fence::RealFencer { sys }),
    };
    match crate::heartbeat::handoff::fence(&req, cfg, &path, fencer.as_ref()) {
        Ok(who) => (
            0,
            format!(
                "kvmheartbeat.sh: fence_action = {}: {who}",
                req.action.name()
            ),
        ),
        Err(e) => (
            1,
            format!(
                "kvmheartbeat.sh: fence_action = {} failed: {e}",
                req.action.name()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_as_the_agent_passes_them() {
        let f = parse_flags(&v(&[
            "-i",
            "10.0.0.5",
            "-p",
            "/export/primary",
            "-m",
            "/mnt/abc",
            "-h",
            "10.0.0.21",
        ]))
        .unwrap();
        assert_eq!(
            (f.ip.as_str(), f.host.as_str(), f.read, f.fence),
            ("10.0.0.5", "10.0.0.21", false, false)
        );
        let f = parse_flags(&v(&[
            "-i", "ip", "-p", "p", "-m", "m", "-h", "h", "-r", "-t", "60",
        ]))
        .unwrap();
        assert!(f.read);
        assert_eq!(f.interval.as_deref(), Some("60"));
        let f = parse_flags(&v(&["-i", "ip", "-p", "p", "-m", "m", "-c"])).unwrap();
        assert!(f.fence && f.host.is_empty());
        let f = parse_flags(&v(&["-rc", "-t30", "-iip"])).unwrap();
        assert!(f.read && f.fence);
        assert_eq!((f.interval.as_deref(), f.ip.as_str()), (Some("30"), "ip"));
        assert!(parse_flags(&v(&["-x"])).is_err());
        assert!(parse_flags(&v(&["-i"])).is_err());
    }

    #[test]
    fn legacy_times_parse_strictly() {
        assert_eq!(parse_legacy(b"1795305661\n").unwrap(), 1_795_305_661);
        assert!(parse_legacy(b"").is_err());
        assert!(parse_legacy(b"-5").is_err());
        assert!(parse_legacy(b"12ab").is_err());
        assert!(parse_legacy(b"1234567890123").is_err());
    }

    #[test]
    fn legacy_ages_are_never_wrapped() {
        let now = wall_ms() / 1000;
        let f = Path::new("/m/KVMHA/hb-h");
        let at = |age: i64| {
            legacy_verdict(
                f,
                Some(Ok((
                    Duration::ZERO,
                    format!("{}\n", now - age).into_bytes(),
                ))),
                60,
            )
        };
        assert_eq!(at(10).1, "=====> ALIVE <=====");
        for age in [256, 300, 512] {
            let (code, line) = at(age);
            assert_eq!(code, 0);
            assert!(
                line.contains(&format!("was [{age}] seconds ago"))
                    || line.contains(&format!("was [{}] seconds ago", age + 1)),
                "{line}"
            );
            assert!(
                line.contains("DEAD") && line.ends_with("max interval is [60] <======"),
                "{line}"
            );
        }
        let (code, line) = at(-3600);
        assert_eq!(code, 3);
        assert!(
            !line.contains("ALIVE") && !line.contains("DEAD") && line.contains("future"),
            "{line}"
        );
        let (code, line) = legacy_verdict(f, Some(Err(ReadError::Missing)), 60);
        assert_eq!(code, 3);
        assert!(!line.contains("DEAD"));
    }
}
