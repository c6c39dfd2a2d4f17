//! `/etc/nfsha/heartbeat.toml`: the one reader of the format. [`parse`] is
//! strict and reports every error with its key and line (the daemon, the
//! `validate` command and the lint all use it); [`fail_safe`] is what the
//! daemon and CloudStack's `-c` run with when the file is broken: built-in
//! I/O defaults, the storages and host identity that can still be read, and
//! a fencing action — never no heartbeat and no fence at once.
//!
//! Defaults are documented per key in `docs/heartbeat.md`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_edit::{ImDocument, Item, TableLike, Value};

use super::fence::{FenceAction, Scope};
use super::peer::Limits;
use super::plan::PlanSpec;
use super::timeline::{min_fence_after, ServerTimes, Timeline, Timings};
use crate::formats::duration;

pub const DEFAULT_PATH: &str = "/etc/nfsha/heartbeat.toml";
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_ACTION: FenceAction = FenceAction::Reboot;
pub use super::plan::DEFAULT_POOL_ESCALATE;
pub const DEFAULT_RUN_DIR: &str = "/run/nfsha";

/// One thing wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key, dotted (`watchdog.timeout`, `storage[1].mount`); empty for
    /// the file as a whole.
    pub key: String,
    /// 1-based line; 0 when there is no line (the file could not be read).
    pub line: u32,
    /// What is wrong, starting with the key and its value.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}
impl std::error::Error for ConfigError {}

/// Errors of one file, one per line: `FILE:LINE: message`.
pub fn render_errors(file: &str, errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.line > 0 {
                format!("{file}:{}: {}", e.line, e.message)
            } else {
                format!("{file}: {}", e.message)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One storage the daemon renews a lease on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    pub name: String,
    pub mount: PathBuf,
    /// Whether failures here fence the host (false for, e.g., a backup share).
    pub fence: bool,
    /// Whether this host may take a new slot here (false for a storage the
    /// fail-safe mode found: it only renews a lease this host already had).
    pub claim: bool,
}

impl Storage {
    /// The lease area on this storage.
    pub fn lease_area(&self) -> PathBuf {
        super::lease_area::path(&self.mount)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watchdog {
    pub device: PathBuf,
    pub timeout: Duration,
}

/// Where a value came from (`validate` shows it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Set,
    Default,
    /// Computed from other values.
    Derived,
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub host_id: String,
    /// `host_id` was not set: the short host name.
    pub host_id_source: Source,
    pub interval: Duration,
    pub io_timeout: Duration,
    pub fence_action: FenceAction,
    /// Whether the file names `fence_action` (else the CloudStack scripts
    /// take the agent's `kvm.heartbeat.fence.action`).
    pub fence_action_set: bool,
    pub fence_after: Duration,
    pub fence_after_source: Source,
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
    /// `[nfs_server]`: the failover `fence_after` is derived from.
    pub nfs_server: ServerTimes,
    /// The `[cloudstack]` section as written; `cloudstack::settings` reads
    /// and checks it (the CloudStack scripts' own settings).
    pub cloudstack: toml::Table,
    pub storages: Vec<Storage>,
    /// Keys set in the file (dotted), for `validate`'s "set" markers.
    pub set_keys: Vec<String>,
}

const TOP_KEYS: &[&str] = &[
    "host_id",
    "interval",
    "io_timeout",
    "fence_action",
    "fence_after",
    "escalate_after",
    "restart_agent_command",
    "graceful_reboot_command",
    "command_timeout",
    "takeover_margin",
    "dead_after",
    "run_dir",
    "watch_peers",
    "require_mounted",
    "history",
    "fence_record_file",
    "watchdog",
    "cloudstack",
    "nfs_server",
    "storage",
];
const WATCHDOG_KEYS: &[&str] = &["device", "timeout"];
const SERVER_KEYS: &[&str] = &["lease_time", "grace_time", "failover_time"];
const STORAGE_KEYS: &[&str] = &["name", "mount", "fence"];

fn host_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}

/// Check a host id (it names a record on the shared storage).
pub fn check_host_id(key: &str, id: &str) -> Result<(), ConfigError> {
    if host_id_ok(id) {
        Ok(())
    } else {
        Err(ConfigError {
            key: key.into(),
            line: 0,
            message: format!(
                "{key} = {id:?}: expected 1 to 64 letters, digits, '.', '-', '_' or ':'"
            ),
        })
    }
}

/// This host's short name: the default `host_id`.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.split('.').next().unwrap_or("").to_string())
        .filter(|h| host_id_ok(h))
        .unwrap_or_else(|| "localhost".into())
}

/// The reader: values by key with their lines, every error collected.
struct Reader<'a> {
    text: &'a str,
    errors: Vec<ConfigError>,
    set: Vec<String>,
}

fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

impl Reader<'_> {
    fn line(&self, span: Option<Range<usize>>) -> u32 {
        span.map_or(0, |s| {
            self.text[..s.start.min(self.text.len())]
                .matches('\n')
                .count() as u32
                + 1
        })
    }

    fn err(&mut self, key: &str, span: Option<Range<usize>>, message: String) {
        let line = self.line(span);
        self.errors.push(ConfigError {
            key: key.to_string(),
            line,
            message,
        });
    }

    fn unknown_keys(&mut self, t: &dyn TableLike, prefix: &str, known: &[&str]) {
        for (k, _) in t.iter() {
            if !known.contains(&k) {
                let span = t.key(k).and_then(|key| key.span());
                let key = dotted(prefix, k);
                self.err(
                    &key,
                    span,
                    format!("{key}: unknown key (known here: {})", known.join(", ")),
                );
            }
        }
    }

    /// The value at `key`, recorded as set; `None` if absent.
    fn value<'t>(&mut self, t: &'t dyn TableLike, prefix: &str, key: &str) -> Option<&'t Value> {
        let item = t.get(key)?;
        let name = dotted(prefix, key);
        self.set.push(name.clone());
        match item {
            Item::Value(v) => Some(v),
            other => {
                let what = other.type_name();
                self.err(
                    &name,
                    other.span(),
                    format!("{name}: expected a value, found a {what}"),
                );
                None
            }
        }
    }

    fn type_error(&mut self, name: &str, v: &Value, expected: &str) {
        let shown = v.to_string();
        self.err(
            name,
            v.span(),
            format!("{name} = {}: expected {expected}", shown.trim()),
        );
    }

    /// The value at `key` through `convert`: `None` for a value of the wrong
    /// type (reported as not `expected`), `Some(Err(why))` for a value of the
    /// right type that is wrong (reported with `why`).
    fn typed<T>(
        &mut self,
        t: &dyn TableLike,
        prefix: &str,
        key: &str,
        expected: &str,
        convert: impl FnOnce(&Value) -> Option<Result<T, String>>,
    ) -> Option<T> {
        let v = self.value(t, prefix, key)?;
        let name = dotted(prefix, key);
        match convert(v) {
            Some(Ok(x)) => Some(x),
            Some(Err(why)) => {
                let shown = v.to_string();
                self.err(&name, v.span(), format!("{name} = {}: {why}", shown.trim()));
                None
            }
            None => {
                self.type_error(&name, v, expected);
                None
            }
        }
    }

    fn dur(&mut self, t: &dyn TableLike, prefix: &str, key: &str) -> Option<Duration> {
        self.typed(
            t,
            prefix,
            key,
            "a duration with a unit in quotes, e.g. \"10s\"",
            |v| v.as_str().map(duration::strict),
        )
    }

    fn string(&mut self, t: &dyn TableLike, prefix: &str, key: &str) -> Option<String> {
        self.typed(t, prefix, key, "a string in quotes", |v| {
            v.as_str().map(|s| Ok(s.to_string()))
        })
    }

    fn abs_path(&mut self, t: &dyn TableLike, prefix: &str, key: &str) -> Option<PathBuf> {
        self.typed(t, prefix, key, "an absolute path in quotes", |v| {
            v.as_str().map(|s| {
                if s.starts_with('/') {
                    Ok(PathBuf::from(s))
                } else {
                    Err("expected an absolute path".to_string())
                }
            })
        })
    }

    fn boolean(&mut self, t: &dyn TableLike, prefix: &str, key: &str) -> Option<bool> {
        self.typed(t, prefix, key, "true or false", |v| v.as_bool().map(Ok))
    }

    fn integer(
        &mut self,
        t: &dyn TableLike,
        prefix: &str,
        key: &str,
        range: Range<i64>,
    ) -> Option<i64> {
        let v = self.value(t, prefix, key)?;
        let name = dotted(prefix, key);
        match v.as_integer() {
            Some(i) if range.contains(&i) => Some(i),
            _ => {
                self.type_error(
                    &name,
                    v,
                    &format!("a whole number from {} to {}", range.start, range.end - 1),
                );
                None
            }
        }
    }

    fn argv(&mut self, t: &dyn TableLike, key: &str, example: &str) -> Option<Vec<String>> {
        let v = self.value(t, "", key)?;
        let words: Option<Vec<String>> = v
            .as_array()
            .and_then(|a| a.iter().map(|w| w.as_str().map(str::to_string)).collect());
        match words {
            Some(w) if !w.is_empty() && !w[0].is_empty() => Some(w),
            _ => {
                self.type_error(
                    key,
                    v,
                    &format!("a program and its arguments as a list of strings, e.g. {example}"),
                );
                None
            }
        }
    }

    /// The table at `key` (a `[table]` or an inline table).
    fn table<'t>(&mut self, root: &'t dyn TableLike, key: &str) -> Option<&'t dyn TableLike> {
        let item = root.get(key)?;
        match item.as_table_like() {
            Some(t) => Some(t),
            None => {
                let span = item.span();
                self.err(key, span, format!("{key}: expected a table ([{key}])"));
                None
            }
        }
    }

    /// The `[[storage]]` tables.
    fn storages<'t>(&mut self, root: &'t dyn TableLike) -> Vec<&'t dyn TableLike> {
        let Some(item) = root.get("storage") else {
            return Vec::new();
        };
        if let Some(aot) = item.as_array_of_tables() {
            return aot.iter().map(|t| t as &dyn TableLike).collect();
        }
        if let Some(arr) = item.as_array() {
            if let Some(v) = arr
                .iter()
                .map(|v| v.as_inline_table().map(|t| t as &dyn TableLike))
                .collect::<Option<Vec<_>>>()
            {
                return v;
            }
        }
        let span = item.span();
        self.err(
            "storage",
            span,
            "storage: expected [[storage]] tables".into(),
        );
        Vec::new()
    }
}

fn toml_error(text: &str, e: &toml_edit::TomlError) -> ConfigError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u32 + 1)
        .unwrap_or(0);
    ConfigError {
        key: String::new(),
        line,
        message: format!("not valid TOML: {}", e.message()),
    }
}

/// Parse and validate a configuration as `nfsha heartbeat run` needs it:
/// every error, with its key and line. `file` names the file in messages of
/// errors that concern it as a whole.
pub fn parse(text: &str, file: &str) -> Result<Config, Vec<ConfigError>> {
    let cfg = parse_any(text, file)?;
    if cfg.storages.is_empty() {
        return Err(vec![ConfigError {
            key: "storage".into(),
            line: 0,
            message: "no [[storage]]: nothing to renew (add one [[storage]] with mount = \"/mnt/<pool>\" per storage)".into(),
        }]);
    }
    Ok(cfg)
}

/// [`parse`] without requiring a `[[storage]]` (what `check`, `timeline` and
/// CloudStack's drop-in read).
pub fn parse_any(text: &str, _file: &str) -> Result<Config, Vec<ConfigError>> {
    let doc = ImDocument::parse(text).map_err(|e| vec![toml_error(text, &e)])?;
    let mut r = Reader {
        text,
        errors: Vec::new(),
        set: Vec::new(),
    };
    let root: &dyn TableLike = doc.as_table();
    r.unknown_keys(root, "", TOP_KEYS);
    let host_id = r.string(root, "", "host_id");
    if let Some(h) = &host_id {
        if let Err(e) = check_host_id("host_id", h) {
            let span = root.get("host_id").and_then(Item::span);
            r.err("host_id", span, e.message);
        }
    }
    let interval = r.dur(root, "", "interval");
    let io_timeout = r.dur(root, "", "io_timeout");
    let action_raw = r.string(root, "", "fence_action");
    let fence_action = match &action_raw {
        None => Some(DEFAULT_ACTION),
        Some(a) => {
            let parsed = FenceAction::parse(a);
            if parsed.is_none() {
                let span = root.get("fence_action").and_then(Item::span);
                r.err(
                    "fence_action",
                    span,
                    format!(
                        "fence_action = {a:?}: expected one of {}",
                        FenceAction::names()
                    ),
                );
            }
            parsed
        }
    };
    let fence_after = r.dur(root, "", "fence_after");
    let escalate_after = r.dur(root, "", "escalate_after");
    let restart_agent_command = r.argv(
        root,
        "restart_agent_command",
        "[\"systemctl\", \"restart\", \"cloudstack-agent\"]",
    );
    let graceful_reboot_command = r.argv(
        root,
        "graceful_reboot_command",
        "[\"systemctl\", \"reboot\"]",
    );
    let command_timeout = r.dur(root, "", "command_timeout");
    let takeover_margin = r.dur(root, "", "takeover_margin");
    let dead_after = r.dur(root, "", "dead_after");
    let run_dir = r.abs_path(root, "", "run_dir");
    let watch_peers = r.boolean(root, "", "watch_peers");
    let require_mounted = r.boolean(root, "", "require_mounted");
    let history = r.integer(root, "", "history", 1..100_001);
    let fence_record_file = r.abs_path(root, "", "fence_record_file");

    let watchdog = r.table(root, "watchdog").map(|t| {
        r.unknown_keys(t, "watchdog", WATCHDOG_KEYS);
        (
            r.abs_path(t, "watchdog", "device"),
            r.dur(t, "watchdog", "timeout"),
            t,
        )
    });
    // `[cloudstack]` is read and checked by `cloudstack::settings`, which
    // owns it (the CloudStack scripts' settings); here only its shape.
    let cloudstack = match r.table(root, "cloudstack") {
        Some(_) => toml::from_str::<toml::Table>(text)
            .ok()
            .and_then(|mut t| t.remove("cloudstack"))
            .and_then(|v| match v {
                toml::Value::Table(t) => Some(t),
                _ => None,
            })
            .unwrap_or_default(),
        None => toml::Table::new(),
    };
    let server = match r.table(root, "nfs_server") {
        Some(t) => {
            r.unknown_keys(t, "nfs_server", SERVER_KEYS);
            (
                r.dur(t, "nfs_server", "lease_time"),
                r.dur(t, "nfs_server", "grace_time"),
                r.dur(t, "nfs_server", "failover_time"),
            )
        }
        None => (None, None, None),
    };
    let mut storages: Vec<Storage> = Vec::new();
    for (i, t) in r.storages(root).into_iter().enumerate() {
        let prefix = format!("storage[{i}]");
        r.unknown_keys(t, &prefix, STORAGE_KEYS);
        let name = r.string(t, &prefix, "name");
        let fence = r.boolean(t, &prefix, "fence").unwrap_or(true);
        let mount = match (t.get("mount"), r.abs_path(t, &prefix, "mount")) {
            (None, _) => {
                let line = r.line(t.get("name").and_then(Item::span));
                r.errors.push(ConfigError {
                    key: format!("{prefix}.mount"),
                    line,
                    message: format!(
                        "{prefix}.mount is required (the mount point, e.g. \"/mnt/primary\")"
                    ),
                });
                continue;
            }
            (_, None) => continue,
            (_, Some(m)) => m,
        };
        let name = name.unwrap_or_else(|| mount.display().to_string());
        if storages.iter().any(|o| o.name == name || o.mount == mount) {
            let span = t.get("mount").and_then(Item::span);
            r.err(
                &format!("{prefix}.mount"),
                span,
                format!(
                    "{prefix}: name {name:?} or mount {:?} is listed twice",
                    mount.display().to_string()
                ),
            );
            continue;
        }
        storages.push(Storage {
            name,
            mount,
            fence,
            claim: true,
        });
    }

    // Values that depend on others: checked only when those parsed.
    let line_of = |r: &Reader, key: &str| r.line(root.get(key).and_then(Item::span));
    let interval = interval.unwrap_or(DEFAULT_INTERVAL);
    let io_timeout = io_timeout.unwrap_or(DEFAULT_IO_TIMEOUT);
    for (key, d) in [("interval", interval), ("io_timeout", io_timeout)] {
        if d.is_zero() {
            let line = line_of(&r, key);
            r.errors.push(ConfigError {
                key: key.into(),
                line,
                message: format!("{key} = \"0s\": must be greater than 0"),
            });
        }
    }
    let fence_action = fence_action.unwrap_or(DEFAULT_ACTION);
    let nfs_server = ServerTimes {
        lease: server.0.unwrap_or(ServerTimes::DEFAULT.lease),
        grace: server.1.unwrap_or(ServerTimes::DEFAULT.grace),
        failover: server.2.unwrap_or(ServerTimes::DEFAULT.failover),
    };
    let (fence_after, fence_after_source) = match fence_after {
        Some(f) => (f, Source::Set),
        None => (
            min_fence_after(&nfs_server, interval, io_timeout),
            Source::Derived,
        ),
    };
    if fence_after < io_timeout + interval {
        let line = line_of(&r, "fence_after");
        r.errors.push(ConfigError {
            key: "fence_after".into(),
            line,
            message: format!(
                "fence_after = {} is shorter than io_timeout + interval ({} + {}): a single slow write would fence the host",
                duration::fmt(fence_after),
                duration::fmt(io_timeout),
                duration::fmt(interval)
            ),
        });
    }
    let escalate_after = match escalate_after {
        Some(d) if d.is_zero() => {
            let line = line_of(&r, "escalate_after");
            r.errors.push(ConfigError {
                key: "escalate_after".into(),
                line,
                message: "escalate_after = \"0s\": must be greater than 0 (leave it out for no escalation)".into(),
            });
            None
        }
        Some(d)
            if fence_action == FenceAction::GracefulReboot
                || fence_action.scope() == Scope::Pool =>
        {
            Some(d)
        }
        Some(d) => {
            let line = line_of(&r, "escalate_after");
            r.errors.push(ConfigError {
                key: "escalate_after".into(),
                line,
                message: format!(
                    "escalate_after = \"{}\": escalation applies only to fence_action = \"graceful-reboot\" and the pool actions; fence_action is {:?}",
                    duration::fmt(d),
                    fence_action.name()
                ),
            });
            None
        }
        None if fence_action.scope() == Scope::Pool => Some(DEFAULT_POOL_ESCALATE),
        None => None,
    };
    let watchdog = match watchdog {
        None => None,
        Some((device, timeout, t)) => {
            let timeout = timeout.unwrap_or(Duration::from_secs(60));
            let span = t.get("timeout").and_then(Item::span);
            if timeout < Duration::from_secs(1) {
                r.err(
                    "watchdog.timeout",
                    span,
                    format!(
                        "watchdog.timeout = \"{}\": must be at least 1s",
                        duration::fmt(timeout)
                    ),
                );
            }
            if !fence_action.may_reboot() {
                let line = line_of(&r, "watchdog");
                r.errors.push(ConfigError {
                    key: "watchdog".into(),
                    line,
                    message: format!(
                        "[watchdog] with fence_action = {:?}: the watchdog resets the host when the daemon hangs, which {:?} promises not to do; use another action, or remove [watchdog]",
                        fence_action.name(),
                        fence_action.name()
                    ),
                });
            }
            Some(Watchdog {
                device: device.unwrap_or_else(|| "/dev/watchdog".into()),
                timeout,
            })
        }
    };
    let mut cfg = Config {
        host_id_source: if host_id.is_some() {
            Source::Set
        } else {
            Source::Default
        },
        host_id: host_id.unwrap_or_else(hostname),
        interval,
        io_timeout,
        fence_action,
        fence_action_set: action_raw.is_some(),
        fence_after,
        fence_after_source,
        escalate_after,
        restart_agent_command: restart_agent_command.unwrap_or_else(|| {
            vec![
                "systemctl".into(),
                "restart".into(),
                "cloudstack-agent".into(),
            ]
        }),
        graceful_reboot_command: graceful_reboot_command
            .unwrap_or_else(|| vec!["systemctl".into(), "reboot".into()]),
        command_timeout: command_timeout.unwrap_or(Duration::from_secs(60)),
        takeover_margin: takeover_margin.unwrap_or(Duration::from_secs(20)),
        dead_after: Duration::ZERO,
        run_dir: run_dir.unwrap_or_else(|| DEFAULT_RUN_DIR.into()),
        watch_peers: watch_peers.unwrap_or(true),
        require_mounted: require_mounted.unwrap_or(true),
        history: history.unwrap_or(180) as usize,
        fence_record_file,
        watchdog,
        nfs_server,
        cloudstack,
        storages,
        set_keys: Vec::new(),
    };
    let tl = Timeline::of(&cfg.timings());
    if tl.fence_done.is_none() && cfg.fence_action == FenceAction::GracefulReboot {
        let line = line_of(&r, "fence_action");
        r.errors.push(ConfigError {
            key: "fence_action".into(),
            line,
            message: "fence_action = \"graceful-reboot\" has no bound: a reboot can hang on the dead mount; set escalate_after (then reboot) or add [watchdog]".into(),
        });
    }
    cfg.dead_after = match dead_after {
        None => tl.dead_after_min,
        Some(d) if d < tl.dead_after_min => {
            let line = line_of(&r, "dead_after");
            r.errors.push(ConfigError {
                key: "dead_after".into(),
                line,
                message: format!(
                    "dead_after = \"{}\" is shorter than the fence timeline plus takeover_margin ({}): peers would restart VMs before this host has stopped writing (see `nfsha heartbeat timeline`)",
                    duration::fmt(d),
                    duration::fmt(tl.dead_after_min)
                ),
            });
            d
        }
        Some(d) => d,
    };
    if !r.errors.is_empty() {
        r.errors.sort_by_key(|e| e.line);
        return Err(r.errors);
    }
    cfg.set_keys = r.set;
    Ok(cfg)
}

/// The daemon's configuration when the file is missing or invalid: built-in
/// I/O defaults and timeline; from the file only what can still be read on
/// its own and identifies what to protect: `host_id`, `run_dir`, the
/// `[[storage]]` mounts, `fence_action` (with `escalate_after`), `[watchdog]`
/// and `fence_record_file`. A file that is not TOML at all is scanned line
/// by line for those keys.
pub fn fail_safe(text: Option<&str>) -> Config {
    let mut cfg = parse_any("", "").expect("the built-in defaults are valid");
    let Some(text) = text else {
        return cfg;
    };
    let salvage = |key: &str| -> Option<String> {
        match ImDocument::parse(text) {
            Ok(doc) => doc.as_table().get(key)?.as_str().map(str::to_string),
            Err(_) => scan(text, None, key).into_iter().next(),
        }
    };
    if let Some(h) = salvage("host_id").filter(|h| host_id_ok(h)) {
        cfg.host_id = h;
        cfg.host_id_source = Source::Set;
    }
    if let Some(d) = salvage("run_dir").filter(|d| d.starts_with('/')) {
        cfg.run_dir = d.into();
    }
    if let Some(f) = salvage("fence_record_file").filter(|d| d.starts_with('/')) {
        cfg.fence_record_file = Some(f.into());
    }
    if let Some(a) = salvage("fence_action").and_then(|a| FenceAction::parse(&a)) {
        cfg.fence_action = a;
        cfg.fence_action_set = true;
        let esc = salvage("escalate_after").and_then(|e| duration::strict(&e).ok());
        cfg.escalate_after = match a {
            FenceAction::GracefulReboot
            | FenceAction::DestroyPoolVms
            | FenceAction::ShutdownPoolVms => Some(
                esc.filter(|e| !e.is_zero())
                    .unwrap_or(DEFAULT_POOL_ESCALATE),
            ),
            _ => None,
        };
    }
    let mounts: Vec<(Option<String>, String, bool)> = match ImDocument::parse(text) {
        Ok(doc) => {
            let mut r = Reader {
                text,
                errors: Vec::new(),
                set: Vec::new(),
            };
            if let Some(t) = r.table(doc.as_table(), "watchdog") {
                let device = t
                    .get("device")
                    .and_then(Item::as_str)
                    .unwrap_or("/dev/watchdog");
                let timeout = t
                    .get("timeout")
                    .and_then(Item::as_str)
                    .map_or(Ok(Duration::from_secs(60)), duration::strict);
                if let (true, Ok(timeout)) = (device.starts_with('/'), timeout) {
                    if timeout >= Duration::from_secs(1) && cfg.fence_action.may_reboot() {
                        cfg.watchdog = Some(Watchdog {
                            device: device.into(),
                            timeout,
                        });
                    }
                }
            }
            r.storages(doc.as_table())
                .into_iter()
                .filter_map(|t| {
                    let mount = t.get("mount")?.as_str()?.to_string();
                    let name = t.get("name").and_then(Item::as_str).map(str::to_string);
                    let fence = t.get("fence").and_then(Item::as_bool).unwrap_or(true);
                    Some((name, mount, fence))
                })
                .collect()
        }
        Err(_) => scan(text, Some("[[storage]]"), "mount")
            .into_iter()
            .map(|m| (None, m, true))
            .collect(),
    };
    for (name, mount, fence) in mounts {
        if !mount.starts_with('/') || cfg.storages.iter().any(|s| s.mount == Path::new(&mount)) {
            continue;
        }
        let name = name
            .filter(|n| !cfg.storages.iter().any(|s| &s.name == n))
            .unwrap_or_else(|| mount.clone());
        cfg.storages.push(Storage {
            name,
            mount: mount.into(),
            fence,
            claim: true,
        });
    }
    cfg.dead_after = Timeline::of(&cfg.timings()).dead_after_min;
    cfg
}

/// `key = "value"` lines of a file that is not TOML, below `section`
/// headers if given (each header starts a new entry), at the top otherwise.
fn scan(text: &str, section: Option<&str>, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = section.is_none();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = section == Some(line);
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if inside && k.trim() == key {
            let v = v.trim();
            if let Some(v) = v.strip_prefix('"').and_then(|v| v.split('"').next()) {
                out.push(v.to_string());
            }
        }
    }
    out
}

/// [`parse`] the file at `path`; if it cannot be used, the fail-safe
/// configuration and every reason why (a missing file included). The errors
/// are empty when the file is valid.
pub fn load_fail_safe(path: &Path) -> (Config, Vec<ConfigError>) {
    match std::fs::read_to_string(path) {
        Ok(text) => match parse(&text, &path.display().to_string()) {
            Ok(c) => (c, Vec::new()),
            Err(errors) => (fail_safe(Some(&text)), errors),
        },
        Err(e) => (
            fail_safe(None),
            vec![ConfigError {
                key: String::new(),
                line: 0,
                message: format!("cannot read {}: {e}", path.display()),
            }],
        ),
    }
}

impl Config {
    /// Read and validate the file at `path` ([`parse_any`]: no `[[storage]]`
    /// needed); the error lists every problem as `FILE:LINE: message`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            key: String::new(),
            line: 0,
            message: format!("cannot read {file}: {e}"),
        })?;
        parse_any(&text, &file).map_err(|errors| ConfigError {
            key: errors[0].key.clone(),
            line: errors[0].line,
            message: render_errors(&file, &errors),
        })
    }

    /// Parse and validate configuration text ([`parse_any`]); all errors in one.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        parse_any(text, "").map_err(|errors| ConfigError {
            key: errors[0].key.clone(),
            line: errors[0].line,
            message: errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        })
    }

    /// What the fence timeline depends on.
    pub fn timings(&self) -> Timings {
        Timings {
            interval: self.interval,
            io_timeout: self.io_timeout,
            fence_after: self.fence_after,
            fence_action: self.fence_action,
            escalate_after: self.escalate_after,
            command_timeout: self.command_timeout,
            takeover_margin: self.takeover_margin,
            watchdog: self
                .watchdog
                .as_ref()
                .map(|w| (w.device.display().to_string(), w.timeout)),
            graceful_reboot_command: self.graceful_reboot_command.join(" "),
            restart_agent_command: self.restart_agent_command.join(" "),
            unfenced_storage: self.storages.iter().any(|s| !s.fence),
        }
    }

    /// What a fence plan is built from.
    pub fn plan_spec(&self) -> PlanSpec {
        PlanSpec {
            escalate_after: self.escalate_after,
            graceful_reboot_command: self.graceful_reboot_command.clone(),
            restart_agent_command: self.restart_agent_command.clone(),
        }
    }

    /// This host's limits when judging peers.
    pub fn limits(&self) -> Limits {
        Limits {
            dead_after: self.dead_after,
            interval: self.interval,
            io_timeout: self.io_timeout,
        }
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

    /// Whether `key` (dotted) was set in the file.
    pub fn is_set(&self, key: &str) -> bool {
        self.set_keys.iter().any(|k| k == key)
    }

    /// Things `validate` must say although they are not errors.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let min = min_fence_after(&self.nfs_server, self.interval, self.io_timeout);
        if self.fence_after < min && self.fence_action.may_reboot() {
            w.push(format!(
                "fence_after = {} is below failover_time + the longer of lease_time and grace_time + interval + io_timeout ({} + {} + {} + {} = {}): renewals in the lease area survive the grace period when the client reclaims its open, but a failover whose reclaim the server refuses would fence this host",
                duration::fmt(self.fence_after),
                duration::fmt(self.nfs_server.failover),
                duration::fmt(self.nfs_server.lease.max(self.nfs_server.grace)),
                duration::fmt(self.interval),
                duration::fmt(self.io_timeout),
                duration::fmt(min)
            ));
        }
        if self.host_id_source == Source::Default {
            w.push(format!(
                "host_id is not set: the short host name {:?} is used; it must differ on every host",
                self.host_id
            ));
        }
        w
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

    fn errors(text: &str) -> Vec<ConfigError> {
        parse(text, "hb.toml").unwrap_err()
    }

    fn first(text: &str) -> String {
        errors(text)[0].message.clone()
    }

    #[test]
    fn defaults_cover_a_failover_with_a_full_grace() {
        let c = parse(&base(""), "hb.toml").unwrap();
        assert_eq!(c.interval, Duration::from_secs(10));
        assert_eq!(c.io_timeout, Duration::from_secs(10));
        assert_eq!(c.fence_after, Duration::from_secs(170));
        assert_eq!(c.fence_after_source, Source::Derived);
        assert_eq!(c.fence_action, FenceAction::Reboot);
        assert_eq!(c.dead_after, Duration::from_secs(198));
        assert_eq!(c.storages[0].name, "/mnt/p1");
        assert!(c.storages[0].claim && c.storages[0].fence);
        assert_eq!(
            c.storages[0].lease_area(),
            PathBuf::from("/mnt/p1/.nfsha/leases")
        );
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        let c = parse(
            &base("[nfs_server]\nlease_time = \"120s\"\ngrace_time = \"60s\"\nfailover_time = \"30s\""),
            "f",
        )
        .unwrap();
        assert_eq!(
            c.fence_after,
            Duration::from_secs(170),
            "30 + max(120, 60) + 20"
        );
    }

    #[test]
    fn every_error_names_its_key_and_line() {
        let e = errors(
            "host_id = \"kvm1\"\ninterval = 10\nbogus = 1\n[watchdog]\ntimeaut = \"1s\"\n[[storage]]\nmount = \"rel\"\n",
        );
        let got: Vec<(String, u32)> = e.iter().map(|e| (e.key.clone(), e.line)).collect();
        assert_eq!(
            got,
            vec![
                ("interval".into(), 2),
                ("bogus".into(), 3),
                ("watchdog.timeaut".into(), 5),
                ("storage[0].mount".into(), 7)
            ],
            "{e:?}"
        );
        assert_eq!(
            e[0].message,
            "interval = 10: expected a duration with a unit in quotes, e.g. \"10s\""
        );
        assert!(
            e[1].message
                .starts_with("bogus: unknown key (known here: host_id,"),
            "{}",
            e[1].message
        );
        assert_eq!(
            e[3].message,
            "storage[0].mount = \"rel\": expected an absolute path"
        );
        assert_eq!(e[0].to_string(), format!("line 2: {}", e[0].message));
    }

    #[test]
    fn type_errors_name_the_key() {
        for (text, want) in [
            ("watch_peers = \"yes\"", "watch_peers = \"yes\": expected true or false"),
            ("history = 0", "history = 0: expected a whole number from 1 to 100000"),
            ("history = \"5\"", "history = \"5\": expected a whole number"),
            ("restart_agent_command = \"systemctl restart x\"", "restart_agent_command = \"systemctl restart x\": expected a program and its arguments as a list of strings"),
            ("graceful_reboot_command = []", "graceful_reboot_command = []: expected a program"),
            ("run_dir = 5", "run_dir = 5: expected an absolute path in quotes"),
            ("watchdog = 1", "watchdog: expected a table ([watchdog])"),
        ] {
            let m = first(&base(text));
            assert!(m.starts_with(want), "{text}: {m}");
        }
        let m = first("host_id = 5\n[[storage]]\nmount = \"/m\"");
        assert_eq!(m, "host_id = 5: expected a string in quotes");
    }

    #[test]
    fn inconsistent_values_are_rejected() {
        assert!(first(&base("io_timeout = \"-5s\""))
            .starts_with("io_timeout = \"-5s\": durations cannot be negative"));
        assert!(first(&base("io_timeout = \"30s\"\nfence_after = \"20s\""))
            .starts_with("fence_after = 20s is shorter than io_timeout"));
        assert!(first(&base("dead_after = \"30s\""))
            .starts_with("dead_after = \"30s\" is shorter than the fence timeline"));
        assert!(first(&base("fence_action = \"sysrq\"")).starts_with("fence_action = \"sysrq\": expected one of log-only, restart-agent, graceful-reboot, reboot, destroy-pool-vms, shutdown-pool-vms"));
        assert!(first(&base("fence_action = \"graceful-reboot\"")).contains("escalate_after"));
        assert!(first(&base(
            "fence_action = \"log-only\"\nescalate_after = \"30s\""
        ))
        .starts_with("escalate_after"));
        assert!(first(&base(
            "fence_action = \"log-only\"\n[watchdog]\ntimeout = \"60s\""
        ))
        .starts_with("[watchdog] with fence_action"));
        assert!(first(&base("[watchdog]\ntimeout = \"500ms\""))
            .starts_with("watchdog.timeout = \"500ms\": must be at least 1s"));
        assert!(first(&base("interval = \"0s\""))
            .starts_with("interval = \"0s\": must be greater than 0"));
        assert!(first("host_id = \"a b\"\n[[storage]]\nmount = \"/m\"")
            .starts_with("host_id = \"a b\""));
        assert!(first("[[storage]]\nname = \"x\"").starts_with("storage[0].mount is required"));
        assert!(
            first("[[storage]]\nmount = \"/m\"\n[[storage]]\nmount = \"/m\"")
                .contains("listed twice")
        );
        assert!(first("x = [").starts_with("not valid TOML"));
    }

    #[test]
    fn run_needs_a_storage_other_readers_do_not() {
        let e = errors("host_id = \"kvm1\"\n");
        assert_eq!(e[0].key, "storage");
        assert!(e[0].message.starts_with("no [[storage]]"));
        assert!(parse_any("host_id = \"kvm1\"\n", "f").is_ok());
        assert!(Config::parse("").is_ok());
    }

    #[test]
    fn pool_actions_get_an_escalation_and_graceful_needs_a_bound() {
        let c = parse(&base("fence_action = \"destroy-pool-vms\""), "f").unwrap();
        assert_eq!(c.escalate_after, Some(DEFAULT_POOL_ESCALATE));
        let c = parse(
            &base("fence_action = \"graceful-reboot\"\nescalate_after = \"60s\""),
            "f",
        )
        .unwrap();
        assert_eq!(c.dead_after, Duration::from_secs(170 + 1 + 60 + 2 + 5 + 20));
        let c = parse(
            &base("fence_action = \"graceful-reboot\"\n[watchdog]\ntimeout = \"30s\""),
            "f",
        )
        .unwrap();
        assert_eq!(c.dead_after, Duration::from_secs(170 + 30 + 1 + 20));
    }

    #[test]
    fn a_low_fence_after_and_a_default_host_id_are_warned_about() {
        let c = parse(&base("fence_after = \"100s\""), "f").unwrap();
        let w = c.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("(60s + 90s + 10s + 10s = 170s)"), "{}", w[0]);
        let c = parse("[[storage]]\nmount = \"/m\"", "f").unwrap();
        assert_eq!(c.host_id_source, Source::Default);
        assert!(c.warnings()[0].starts_with("host_id is not set"));
        assert!(c.is_set("storage[0].mount") && !c.is_set("interval"));
    }

    #[test]
    fn fail_safe_keeps_what_identifies_the_host_and_its_storage() {
        // A type error elsewhere: the rest is still read.
        let text = "host_id = \"kvm7\"\ninterval = 3\nfence_action = \"log-only\"\nfence_after = \"2s\"\nfence_record_file = \"/tmp/f\"\n[[storage]]\nname = \"p\"\nmount = \"/mnt/p\"\nfence = false\n[[storage]]\nmount = \"/mnt/q\"\n";
        assert!(parse(text, "f").is_err());
        let c = fail_safe(Some(text));
        assert_eq!(c.host_id, "kvm7");
        assert_eq!(
            (c.interval, c.io_timeout),
            (DEFAULT_INTERVAL, DEFAULT_IO_TIMEOUT),
            "built-in I/O defaults"
        );
        assert_eq!(c.fence_after, Duration::from_secs(170));
        assert_eq!(
            c.fence_action,
            FenceAction::LogOnly,
            "the action chosen is kept"
        );
        assert_eq!(c.fence_record_file, Some(PathBuf::from("/tmp/f")));
        let mounts: Vec<_> = c
            .storages
            .iter()
            .map(|s| (s.name.as_str(), s.fence))
            .collect();
        assert_eq!(mounts, vec![("p", false), ("/mnt/q", true)]);
        // Not TOML at all: scanned.
        let c = fail_safe(Some("host_id = \"kvm8\"\nthis is not toml\n[[storage]]\nmount = \"/mnt/a\"\n[[storage]]\nmount=\"/mnt/b\"\n"));
        assert_eq!(c.host_id, "kvm8");
        assert_eq!(c.storages.len(), 2);
        assert_eq!(c.fence_action, FenceAction::Reboot, "default action");
        // An action that needs a bound gets one.
        let c = fail_safe(Some("fence_action = \"graceful-reboot\"\ninterval = 1\n"));
        assert_eq!(c.escalate_after, Some(DEFAULT_POOL_ESCALATE));
        assert!(Timeline::of(&c.timings()).fence_done.is_some());
        // Nothing readable: defaults, no storage.
        let c = fail_safe(None);
        assert!(c.storages.is_empty());
        assert_eq!(c.fence_action, FenceAction::Reboot);
    }

    #[test]
    fn load_fail_safe_reports_a_missing_file() {
        let (c, e) = load_fail_safe(Path::new("/nonexistent/hb.toml"));
        assert!(e[0].message.starts_with("cannot read /nonexistent/hb.toml"));
        assert_eq!(c.fence_action, FenceAction::Reboot);
    }
}
