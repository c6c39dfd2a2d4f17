//! Logging for every nfsha program (agents, the heartbeat daemon, the CloudStack
//! scripts) through `tracing` to where HA admins look: syslog/journal (via
//! `/dev/log`), `HA_LOGFILE` when Pacemaker sets it, and stderr on a terminal.
//!
//! Every line carries the tag `agent(instance)[pid]`, the same shape as
//! ClusterLabs' agents, so `grep 'vip(nfs_ip)'` finds one resource's story.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::os::unix::net::UnixDatagram;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{span, Event, Level, Metadata, Subscriber};

/// Where log lines go and which ones.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// `agent(instance)` or a daemon name.
    pub tag: String,
    pub debug: bool,
    pub logfile: Option<String>,
    /// syslog facility number (3 = daemon).
    pub facility: u8,
    /// The syslog socket, `/dev/log` unless `NFSHA_SYSLOG_SOCKET` names
    /// another (tests listen on their own); `None` disables syslog.
    pub syslog: Option<String>,
    pub stderr: bool,
}

impl LogOptions {
    /// The options Pacemaker's environment asks for: `HA_debug`, `HA_LOGFILE`,
    /// `HA_LOGFACILITY` (and their `PCMK_` spellings).
    pub fn from_env(tag: String, env: &std::collections::BTreeMap<String, String>) -> LogOptions {
        let get = |a: &str, b: &str| env.get(a).or_else(|| env.get(b)).cloned();
        let debug = get("HA_debug", "PCMK_debug")
            .map(|v| crate::formats::bools::ocf(&v))
            .unwrap_or(false);
        let facility = get("HA_LOGFACILITY", "PCMK_logfacility")
            .and_then(|f| facility_number(&f))
            .unwrap_or(3);
        LogOptions {
            tag,
            debug,
            logfile: get("HA_LOGFILE", "PCMK_logfile").filter(|f| !f.is_empty()),
            facility,
            syslog: Some(
                env.get("NFSHA_SYSLOG_SOCKET")
                    .cloned()
                    .unwrap_or_else(|| "/dev/log".to_string()),
            ),
            stderr: std::io::stderr().is_terminal(),
        }
    }
}

/// The syslog socket from the process environment: `NFSHA_SYSLOG_SOCKET`
/// or `/dev/log`.
pub fn default_syslog_socket() -> Option<String> {
    Some(std::env::var("NFSHA_SYSLOG_SOCKET").unwrap_or_else(|_| "/dev/log".to_string()))
}

fn facility_number(name: &str) -> Option<u8> {
    Some(match name {
        "kern" => 0,
        "user" => 1,
        "daemon" => 3,
        "auth" => 4,
        "syslog" => 5,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    })
}

/// The one subscriber: no span registry (nfsha records no spans) and no
/// sockets or files opened until the first line is written, because most
/// agent calls are monitors that log nothing and start-up is most of their
/// cost (BENCHMARKS.md).
struct OcfSubscriber {
    opts: LogOptions,
    max: Level,
    sinks: OnceLock<Sinks>,
    pid: u32,
}

struct Sinks {
    syslog: Option<UnixDatagram>,
    file: Option<Mutex<File>>,
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={:?}", field.name(), value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={}", field.name(), value);
        }
    }
}

fn level_word(l: &Level) -> (&'static str, u8) {
    match *l {
        Level::ERROR => ("ERROR", 3),
        Level::WARN => ("WARNING", 4),
        Level::INFO => ("INFO", 6),
        _ => ("DEBUG", 7),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a time since the epoch (UTC, no dependencies).
pub fn utc_timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl OcfSubscriber {
    fn sinks(&self) -> &Sinks {
        self.sinks.get_or_init(|| Sinks {
            syslog: self.opts.syslog.as_ref().and_then(|path| {
                UnixDatagram::unbound()
                    .ok()
                    .filter(|s| s.connect(path).is_ok())
            }),
            file: self.opts.logfile.as_ref().and_then(|p| {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .ok()
                    .map(Mutex::new)
            }),
        })
    }
}

impl Subscriber for OcfSubscriber {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.enabled(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::from_level(self.max))
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        meta.level() <= &self.max
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut msg = Message(String::new());
        event.record(&mut msg);
        let (word, severity) = level_word(event.metadata().level());
        let sinks = self.sinks();
        if let Some(sock) = &sinks.syslog {
            let pri = self.opts.facility as u32 * 8 + severity as u32;
            let line = format!("<{pri}>{}[{}]: {word}: {}", self.opts.tag, self.pid, msg.0);
            let _ = sock.send(line.as_bytes());
        }
        if let Some(file) = &sinks.file {
            if let Ok(mut f) = file.lock() {
                let _ = writeln!(
                    f,
                    "{} {}[{}]: {word}: {}",
                    utc_timestamp(SystemTime::now()),
                    self.opts.tag,
                    self.pid,
                    msg.0
                );
            }
        }
        if self.opts.stderr {
            eprintln!("{}: {word}: {}", self.opts.tag, msg.0);
        }
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// Install the global subscriber. Calling it twice keeps the first one.
pub fn init(opts: LogOptions) {
    let max = if opts.debug {
        Level::DEBUG
    } else {
        Level::INFO
    };
    let _ = tracing::subscriber::set_global_default(OcfSubscriber {
        opts,
        max,
        sinks: OnceLock::new(),
        pid: std::process::id(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_305_661);
        assert_eq!(utc_timestamp(t), "2026-11-22T00:01:01Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(utc_timestamp(leap), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn options_follow_pacemaker_environment() {
        let mut env = std::collections::BTreeMap::new();
        env.insert("HA_debug".to_string(), "1".to_string());
        env.insert("HA_LOGFILE".to_string(), "/tmp/x.log".to_string());
        env.insert("HA_LOGFACILITY".to_string(), "local5".to_string());
        let o = LogOptions::from_env("vip(ip1)".into(), &env);
        assert!(o.debug);
        assert_eq!(o.logfile.as_deref(), Some("/tmp/x.log"));
        assert_eq!(o.facility, 21);
        let o = LogOptions::from_env("vip(ip1)".into(), &Default::default());
        assert!(!o.debug);
        assert_eq!(o.logfile, None);
        assert_eq!(o.facility, 3);
    }
}
