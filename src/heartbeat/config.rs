//! `/etc/nfsha/heartbeat.toml`: one file, defaults documented per field in
//! `docs/heartbeat.md`, and every bad value rejected at start with its key.
//!
//! The fence timeline (when this host has certainly stopped writing after its
//! storage failed) is computed here from the same values, and the takeover
//! time peers must wait (`dead_after`) may never be shorter than it.

use crate::formats::duration;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::fence::FenceAction;

/// Everything wrong with a configuration, naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConfigError {}

/// The file as written; durations are strings so errors can name the key.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    host_id: Option<String>,
    interval: Option<String>,
    io_timeout: Option<String>,
    fence_action: Option<String>,
    fence_after: Option<String>,
    escalate_after: Option<String>,
    restart_agent_command: Option<Vec<String>>,
    graceful_reboot_command: Option<Vec<String>>,
    command_timeout: Option<String>,
    takeover_margin: Option<String>,
    dead_after: Option<String>,
    run_dir: Option<PathBuf>,
    watch_peers: Option<bool>,
    require_mounted: Option<bool>,
    history: Option<usize>,
    /// Testing only: record fence decisions to this file instead of rebooting.
    fence_record_file: Option<PathBuf>,
    watchdog: Option<RawWatchdog>,
    /// Read and checked by `cloudstack::settings`, which owns the section.
    cloudstack: Option<toml::Table>,
    #[serde(default)]
    storage: Vec<RawStorage>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawWatchdog {
    device: Option<PathBuf>,
    timeout: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    name: Option<String>,
    mount: Option<PathBuf>,
    fence: Option<bool>,
}

/// One storage the daemon renews a record on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    pub name: String,
    pub mount: PathBuf,
    /// Whether failures here fence the host (false for, e.g., a backup share).
    pub fence: bool,
}

impl Storage {
    /// `<mount>/.nfsha/hb`: the directory of all hosts' records.
    pub fn hb_dir(&self) -> PathBuf {
        self.mount.join(".nfsha/hb")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watchdog {
    pub device: PathBuf,
    pub timeout: Duration,
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub host_id: String,
    pub interval: Duration,
    pub io_timeout: Duration,
    pub fence_action: FenceAction,
    /// Whether the file names `fence_action` (else the CloudStack scripts
    /// take the agent's `kvm.heartbeat.fence.action`).
    pub fence_action_set: bool,
    pub fence_after: Duration,
    pub escalate_after: Option<Duration>,
    pub restart_agent_command: Vec<String>,
    pub graceful_reboot_command: Vec<String>,
    pub command_timeout: Duration,
    pub takeover_margin: Duration,
    pub dead_after: Duration,
    pub run_dir: PathBuf,
    pub watch_peers: bool,
    pub require_mounted: bool,
    pub history: usize,
    pub fence_record_file: Option<PathBuf>,
    pub watchdog: Option<Watchdog>,
    /// The `[cloudstack]` section as written; `cloudstack::settings` reads
    /// and checks it (the CloudStack scripts' own settings).
    pub cloudstack: toml::Table,
    pub storages: Vec<Storage>,
}

pub const DEFAULT_PATH: &str = "/etc/nfsha/heartbeat.toml";

fn dur(key: &str, raw: Option<&String>, default: Duration) -> Result<Duration, ConfigError> {
    match raw {
        None => Ok(default),
        Some(r) => duration::strict(r).map_err(|e| ConfigError(format!("{key} = {r:?}: {e}"))),
    }
}

fn host_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}

/// Check a host id (used for file names on the shared storage).
pub fn check_host_id(key: &str, id: &str) -> Result<(), ConfigError> {
    if host_id_ok(id) {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "{key} = {id:?}: expected 1 to 64 letters, digits, '.', '-', '_' or ':'"
        )))
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.split('.').next().unwrap_or("").to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        Config::parse(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }

    /// Parse and validate the text of a configuration file.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let raw: Raw = toml::from_str(text).map_err(|e| ConfigError(e.message().to_string()))?;
        let host_id = raw.host_id.clone().unwrap_or_else(hostname);
        check_host_id("host_id", &host_id)?;
        let interval = dur("interval", raw.interval.as_ref(), Duration::from_secs(10))?;
        let io_timeout = dur(
            "io_timeout",
            raw.io_timeout.as_ref(),
            Duration::from_secs(10),
        )?;
        if interval.is_zero() {
            return Err(ConfigError("interval must be greater than 0".into()));
        }
        if io_timeout.is_zero() {
            return Err(ConfigError("io_timeout must be greater than 0".into()));
        }
        let fence_action = match &raw.fence_action {
            None => FenceAction::Reboot,
            Some(a) => FenceAction::parse(a).ok_or_else(|| {
                ConfigError(format!(
                    "fence_action = {a:?}: expected log-only, restart-agent, graceful-reboot or reboot"
                ))
            })?,
        };
        let fence_after = dur(
            "fence_after",
            raw.fence_after.as_ref(),
            Duration::from_secs(80),
        )?;
        if fence_after < io_timeout + interval {
            return Err(ConfigError(format!(
                "fence_after = {} is shorter than io_timeout + interval ({} + {}): a single slow write would fence the host",
                duration::fmt(fence_after),
                duration::fmt(io_timeout),
                duration::fmt(interval)
            )));
        }
        let escalate_after = match &raw.escalate_after {
            None => None,
            Some(r) => {
                let d = dur("escalate_after", Some(r), Duration::ZERO)?;
                if fence_action != FenceAction::GracefulReboot {
                    return Err(ConfigError(format!(
                        "escalate_after = {r:?}: escalation applies only to fence_action = \"graceful-reboot\" (then reboot); fence_action is {:?}",
                        fence_action.name()
                    )));
                }
                if d.is_zero() {
                    return Err(ConfigError(format!(
                        "escalate_after = {r:?}: must be greater than 0 (leave it out for no escalation)"
                    )));
                }
                Some(d)
            }
        };
        let restart_agent_command = raw.restart_agent_command.clone().unwrap_or_else(|| {
            vec![
                "systemctl".into(),
                "restart".into(),
                "cloudstack-agent".into(),
            ]
        });
        if restart_agent_command.is_empty() || restart_agent_command[0].is_empty() {
            return Err(ConfigError(
                "restart_agent_command = []: expected a program and its arguments, e.g. [\"systemctl\", \"restart\", \"cloudstack-agent\"]".into(),
            ));
        }
        let graceful_reboot_command = raw
            .graceful_reboot_command
            .clone()
            .unwrap_or_else(|| vec!["systemctl".into(), "reboot".into()]);
        if graceful_reboot_command.is_empty() || graceful_reboot_command[0].is_empty() {
            return Err(ConfigError(
                "graceful_reboot_command = []: expected a program and its arguments, e.g. [\"systemctl\", \"reboot\"]".into(),
            ));
        }
        let command_timeout = dur(
            "command_timeout",
            raw.command_timeout.as_ref(),
            Duration::from_secs(60),
        )?;
        let takeover_margin = dur(
            "takeover_margin",
            raw.takeover_margin.as_ref(),
            Duration::from_secs(20),
        )?;
        let watchdog = match &raw.watchdog {
            None => None,
            Some(w) => {
                let timeout = dur(
                    "watchdog.timeout",
                    w.timeout.as_ref(),
                    Duration::from_secs(60),
                )?;
                if timeout < Duration::from_secs(1) {
                    return Err(ConfigError(format!(
                        "watchdog.timeout = {}: must be at least 1s",
                        duration::fmt(timeout)
                    )));
                }
                if !fence_action.fences() {
                    return Err(ConfigError(format!(
                        "[watchdog] with fence_action = {:?}: the watchdog resets the host when storage fails, which {:?} promises not to do; use graceful-reboot or reboot, or remove [watchdog]",
                        fence_action.name(),
                        fence_action.name()
                    )));
                }
                Some(Watchdog {
                    device: w.device.clone().unwrap_or_else(|| "/dev/watchdog".into()),
                    timeout,
                })
            }
        };
        let history = raw.history.unwrap_or(180);
        if history == 0 || history > 100_000 {
            return Err(ConfigError(format!(
                "history = {history}: expected 1 to 100000 entries"
            )));
        }
        let mut storages = Vec::new();
        for (i, s) in raw.storage.iter().enumerate() {
            let mount = s.mount.clone().ok_or_else(|| {
                ConfigError(format!(
                    "storage[{i}].mount is required (the mount point, e.g. \"/mnt/primary\")"
                ))
            })?;
            if !mount.is_absolute() {
                return Err(ConfigError(format!(
                    "storage[{i}].mount = {:?}: expected an absolute path",
                    mount.display().to_string()
                )));
            }
            let name = s
                .name
                .clone()
                .unwrap_or_else(|| mount.display().to_string());
            if storages
                .iter()
                .any(|o: &Storage| o.name == name || o.mount == mount)
            {
                return Err(ConfigError(format!(
                    "storage[{i}]: name {name:?} or mount {:?} is listed twice",
                    mount.display().to_string()
                )));
            }
            storages.push(Storage {
                name,
                mount,
                fence: s.fence.unwrap_or(true),
            });
        }
        let mut cfg = Config {
            host_id,
            interval,
            io_timeout,
            fence_action,
            fence_action_set: raw.fence_action.is_some(),
            fence_after,
            escalate_after,
            restart_agent_command,
            graceful_reboot_command,
            command_timeout,
            takeover_margin,
            dead_after: Duration::ZERO,
            run_dir: raw.run_dir.clone().unwrap_or_else(|| "/run/nfsha".into()),
            watch_peers: raw.watch_peers.unwrap_or(true),
            require_mounted: raw.require_mounted.unwrap_or(true),
            history,
            fence_record_file: raw.fence_record_file.clone(),
            watchdog,
            cloudstack: raw.cloudstack.clone().unwrap_or_default(),
            storages,
        };
        let tl = super::timeline::Timeline::of(&cfg);
        if tl.fence_done.is_none() && cfg.fence_action == FenceAction::GracefulReboot {
            return Err(ConfigError(
                "fence_action = \"graceful-reboot\" has no bound: a reboot can hang on the dead mount; set escalate_after (then reboot) or add [watchdog]".into(),
            ));
        }
        let min = tl.dead_after_min;
        cfg.dead_after = match &raw.dead_after {
            None => min,
            Some(r) => {
                let d = dur("dead_after", Some(r), min)?;
                if d < min {
                    return Err(ConfigError(format!(
                        "dead_after = {r:?} is shorter than the fence timeline plus takeover_margin ({}): peers would restart VMs before this host has stopped writing (see `nfsha heartbeat timeline`)",
                        duration::fmt(min)
                    )));
                }
                d
            }
        };
        Ok(cfg)
    }

    /// The storage named `key` (by name or mount point).
    pub fn storage(&self, key: &str) -> Option<&Storage> {
        self.storages
            .iter()
            .find(|s| s.name == key || s.mount == Path::new(key))
    }

    pub fn status_file(&self) -> PathBuf {
        status_file_in(&self.run_dir)
    }
}

/// Where the daemon keeps its status (a local tmpfs, never the storage).
pub fn status_file_in(run_dir: &Path) -> PathBuf {
    run_dir.join("heartbeat-status.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(extra: &str) -> String {
        format!("host_id = \"kvm1\"\n{extra}\n[[storage]]\nmount = \"/mnt/p1\"\n")
    }

    #[test]
    fn defaults_are_sanlock_like_and_timeline_bounded() {
        let c = Config::parse(&base("")).unwrap();
        assert_eq!(c.interval, Duration::from_secs(10));
        assert_eq!(c.io_timeout, Duration::from_secs(10));
        assert_eq!(c.fence_after, Duration::from_secs(80));
        assert_eq!(c.fence_action, FenceAction::Reboot);
        assert!(c.dead_after > c.fence_after);
        assert_eq!(c.storages[0].name, "/mnt/p1");
        assert_eq!(c.storages[0].hb_dir(), PathBuf::from("/mnt/p1/.nfsha/hb"));
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = Config::parse(&base("bogus = 1")).unwrap_err().0;
        assert!(e.contains("bogus"), "{e}");
        let e = Config::parse(&base("io_timeout = \"-5s\"")).unwrap_err().0;
        assert!(
            e.starts_with("io_timeout = \"-5s\": durations cannot be negative"),
            "{e}"
        );
        let e = Config::parse(&base("io_timeout = \"30s\"\nfence_after = \"20s\""))
            .unwrap_err()
            .0;
        assert!(
            e.starts_with("fence_after = 20s is shorter than io_timeout"),
            "{e}"
        );
        let e = Config::parse(&base("dead_after = \"30s\"")).unwrap_err().0;
        assert!(
            e.starts_with("dead_after = \"30s\" is shorter than the fence timeline"),
            "{e}"
        );
        let e = Config::parse(&base("fence_action = \"sysrq\""))
            .unwrap_err()
            .0;
        assert!(e.starts_with("fence_action = \"sysrq\""), "{e}");
        let e = Config::parse(&base("fence_action = \"graceful-reboot\""))
            .unwrap_err()
            .0;
        assert!(e.contains("escalate_after"), "{e}");
        let e = Config::parse(&base(
            "fence_action = \"log-only\"\nescalate_after = \"30s\"",
        ))
        .unwrap_err()
        .0;
        assert!(e.starts_with("escalate_after"), "{e}");
        let e = Config::parse(&base(
            "fence_action = \"log-only\"\n[watchdog]\ntimeout = \"60s\"",
        ))
        .unwrap_err()
        .0;
        assert!(e.starts_with("[watchdog] with fence_action"), "{e}");
        let e = Config::parse("host_id = \"a b\"").unwrap_err().0;
        assert!(e.starts_with("host_id = \"a b\""), "{e}");
        let e = Config::parse("[[storage]]\nname = \"x\"").unwrap_err().0;
        assert!(e.starts_with("storage[0].mount is required"), "{e}");
        let e = Config::parse(&base("[watchdog]\ntimeaut = \"1s\""))
            .unwrap_err()
            .0;
        assert!(e.contains("timeaut"), "{e}");
    }

    #[test]
    fn graceful_with_escalation_or_watchdog_is_bounded() {
        let c = Config::parse(&base(
            "fence_action = \"graceful-reboot\"\nescalate_after = \"60s\"",
        ))
        .unwrap();
        assert!(c.dead_after >= c.fence_after + Duration::from_secs(60));
        let c = Config::parse(&base(
            "fence_action = \"graceful-reboot\"\n[watchdog]\ntimeout = \"30s\"",
        ))
        .unwrap();
        assert!(c.dead_after >= c.fence_after + Duration::from_secs(30));
    }
}
