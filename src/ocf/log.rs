//! Logging through `tracing` to where HA admins look: syslog/journal (via
//! `/dev/log`), `HA_LOGFILE` when Pacemaker sets it, and stderr on a terminal.
//!
//! Every line carries the tag `agent(instance)[pid]`, the same shape as
//! ClusterLabs' agents, so `grep 'vip(nfs_ip)'` finds one resource's story.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::os::unix::net::UnixDatagram;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

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
            .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "yes" | "true" | "on"))
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

struct OcfLayer {
    opts: LogOptions,
    syslog: Option<UnixDatagram>,
    file: Option<Mutex<File>>,
    pid: u32,
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

impl<S: Subscriber> Layer<S> for OcfLayer {
    fn enabled(&self, meta: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        let max = if self.opts.debug {
            Level::DEBUG
        } else {
            Level::INFO
        };
        meta.level() <= &max
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut msg = Message(String::new());
        event.record(&mut msg);
        let (word, severity) = level_word(event.metadata().level());
        if let Some(sock) = &self.syslog {
            let pri = self.opts.facility as u32 * 8 + severity as u32;
            let line = format!("<{pri}>{}[{}]: {word}: {}", self.opts.tag, self.pid, msg.0);
            let _ = sock.send(line.as_bytes());
        }
        if let Some(file) = &self.file {
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
}

/// Install the global subscriber. Calling it twice keeps the first one.
pub fn init(opts: LogOptions) {
    let syslog = opts.syslog.as_ref().and_then(|path| {
        UnixDatagram::unbound()
            .ok()
            .filter(|s| s.connect(path).is_ok())
    });
    let file = opts.logfile.as_ref().and_then(|p| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
            .map(Mutex::new)
    });
    let layer = OcfLayer {
        opts,
        syslog,
        file,
        pid: std::process::id(),
    };
    let _ = tracing_subscriber::registry().with(layer).try_init();
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
