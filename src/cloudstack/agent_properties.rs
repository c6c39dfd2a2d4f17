//! `/etc/cloudstack/agent/agent.properties`: the CloudStack agent's own
//! settings, read so that nfsha's script personalities use the agent's real
//! timeouts and, when heartbeat.toml names no `fence_action`, the fence action
//! the operator chose for CloudStack (`kvm.heartbeat.fence.action`, PR #13090).
//!
//! The file is Java properties text. The agent loads it with
//! `java.util.Properties`, so the last occurrence of a key wins; keys and
//! values are separated by `=`, `:` or blanks; `#` and `!` start comments; a
//! trailing backslash continues a line. That subset is read here. A value the
//! agent would reject (a non-number for a timeout) is reported with its line
//! and the agent's default is used, as the agent itself does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the agent's package puts it.
pub const DEFAULT_PATH: &str = "/etc/cloudstack/agent/agent.properties";

/// PR #13090's default for `kvm.heartbeat.fence.custom.script`.
pub const DEFAULT_CUSTOM_SCRIPT: &str = "/etc/cloudstack/agent/heartbeat-fence-custom.sh";

/// What `kvm.heartbeat.fence.action` asks for (PR #13090). Any value the
/// PR does not know means `hard-reboot`, as in its shell helper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CsFenceAction {
    /// `hard-reboot` (also `reboot`, and anything unknown): immediate reset.
    HardReboot,
    /// `graceful-reboot`: `systemctl reboot`.
    GracefulReboot,
    /// `restart-agent`: restart cloudstack-agent; VMs keep running.
    RestartAgent,
    /// `log-only`: log and do nothing else; VMs keep running.
    LogOnly,
    /// `custom`: run this script with the caller's name as `$1`.
    Custom(PathBuf),
}

/// The agent's heartbeat settings, with the agent's defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentProperties {
    /// Where they were read from, or why not (`None` path: not read).
    pub source: Source,
    /// `heartbeat.update.timeout`: the deadline of each write and of `-c`
    /// (the agent SIGKILLs the script at it).
    pub update_timeout: Duration,
    /// `kvm.heartbeat.update.frequency`: sleep between heartbeat rounds;
    /// `-t` for readers is this in seconds.
    pub update_frequency: Duration,
    /// `kvm.heartbeat.update.max.tries`: write attempts per pool per round.
    pub max_tries: u32,
    /// `kvm.heartbeat.update.retry.sleep`: sleep after each failed attempt.
    pub retry_sleep: Duration,
    /// `kvm.heartbeat.checker.timeout`: the deadline of each `-r` call.
    pub checker_timeout: Duration,
    /// `reboot.host.and.alert.management.on.heartbeat.timeout`: false means
    /// the agent never calls `-c`.
    pub fence_on_timeout: bool,
    /// `kvm.heartbeat.fence.action` when set (`None`: not in the file).
    pub fence_action: Option<CsFenceAction>,
    /// Values that could not be used, each with its line.
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    /// The file does not exist: the agent's defaults.
    Missing(PathBuf),
    /// It exists but cannot be read: the agent's defaults, and a loud log.
    Unreadable(PathBuf, String),
}

impl Default for AgentProperties {
    fn default() -> Self {
        AgentProperties {
            source: Source::Missing(PathBuf::from(DEFAULT_PATH)),
            update_timeout: Duration::from_millis(60_000),
            update_frequency: Duration::from_millis(60_000),
            max_tries: 5,
            retry_sleep: Duration::from_millis(10_000),
            checker_timeout: Duration::from_millis(360_000),
            fence_on_timeout: true,
            fence_action: None,
            problems: Vec::new(),
        }
    }
}

/// Split Java properties text into `key -> (value, line number)`; the last
/// occurrence of a key wins.
pub fn parse_properties(text: &str) -> BTreeMap<String, (String, usize)> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let first = line.trim_start();
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        // A logical line continues while it ends in an odd number of backslashes.
        let mut logical = first.to_string();
        while ends_in_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        out.insert(unescape(&key), (unescape(&value), i + 1));
    }
    out
}

fn ends_in_continuation(s: &str) -> bool {
    s.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

/// Java's rule: the key ends at the first unescaped `=`, `:` or blank; the
/// separator may be surrounded by blanks.
fn split_key_value(line: &str) -> (String, String) {
    let mut key = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                key.push('\\');
                if let Some(n) = chars.next() {
                    key.push(n);
                }
            }
            '=' | ':' => break,
            c if c == ' ' || c == '\t' || c == '\x0c' => {
                while matches!(chars.peek(), Some(' ' | '\t' | '\x0c')) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('=' | ':')) {
                    chars.next();
                }
                break;
            }
            c => key.push(c),
        }
    }
    let rest: String = chars.collect();
    (key, rest.trim_start().to_string())
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&hex),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// PR #13090's reading of a fence action: blanks removed, unknown means hard-reboot.
pub fn fence_action_of(value: &str, custom_script: &Path) -> CsFenceAction {
    let v: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    match v.as_str() {
        "graceful-reboot" => CsFenceAction::GracefulReboot,
        "restart-agent" => CsFenceAction::RestartAgent,
        "log-only" => CsFenceAction::LogOnly,
        "custom" => CsFenceAction::Custom(custom_script.to_path_buf()),
        _ => CsFenceAction::HardReboot,
    }
}

impl AgentProperties {
    /// Read `path`. Never fails: a missing or unreadable file gives the
    /// agent's defaults, and says so in `source`.
    pub fn load(path: &Path) -> AgentProperties {
        match std::fs::read_to_string(path) {
            Ok(text) => AgentProperties::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AgentProperties {
                source: Source::Missing(path.to_path_buf()),
                ..Default::default()
            },
            Err(e) => AgentProperties {
                source: Source::Unreadable(path.to_path_buf(), e.to_string()),
                ..Default::default()
            },
        }
    }

    pub fn parse(text: &str, path: &Path) -> AgentProperties {
        let props = parse_properties(text);
        let mut a = AgentProperties {
            source: Source::File(path.to_path_buf()),
            ..Default::default()
        };
        let where_ = |line: usize| format!("{}:{line}", path.display());
        let ms = |key: &str, slot: &mut Duration, problems: &mut Vec<String>| {
            if let Some((v, line)) = props.get(key) {
                match v.trim().parse::<u64>() {
                    Ok(n) if n > 0 => *slot = Duration::from_millis(n),
                    _ => problems.push(format!(
                        "{}: {key} = {v:?}: expected milliseconds (a whole number above 0); the agent's default {} ms applies",
                        where_(*line),
                        slot.as_millis()
                    )),
                }
            }
        };
        let mut problems = Vec::new();
        ms(
            "heartbeat.update.timeout",
            &mut a.update_timeout,
            &mut problems,
        );
        ms(
            "kvm.heartbeat.update.frequency",
            &mut a.update_frequency,
            &mut problems,
        );
        ms(
            "kvm.heartbeat.update.retry.sleep",
            &mut a.retry_sleep,
            &mut problems,
        );
        ms(
            "kvm.heartbeat.checker.timeout",
            &mut a.checker_timeout,
            &mut problems,
        );
        if let Some((v, line)) = props.get("kvm.heartbeat.update.max.tries") {
            match v.trim().parse::<u32>() {
                Ok(n) if n > 0 => a.max_tries = n,
                _ => problems.push(format!(
                    "{}: kvm.heartbeat.update.max.tries = {v:?}: expected a whole number above 0; the agent's default {} applies",
                    where_(*line),
                    a.max_tries
                )),
            }
        }
        if let Some((v, line)) = props.get("reboot.host.and.alert.management.on.heartbeat.timeout")
        {
            // Java's Boolean.parseBoolean: "true" in any case is true, all else false.
            a.fence_on_timeout = v.trim().eq_ignore_ascii_case("true");
            if !v.trim().eq_ignore_ascii_case("true") && !v.trim().eq_ignore_ascii_case("false") {
                problems.push(format!(
                    "{}: reboot.host.and.alert.management.on.heartbeat.timeout = {v:?}: the agent reads anything but \"true\" as false",
                    where_(*line)
                ));
            }
        }
        let custom = props
            .get("kvm.heartbeat.fence.custom.script")
            .map(|(v, _)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_CUSTOM_SCRIPT.to_string());
        if let Some((v, line)) = props.get("kvm.heartbeat.fence.action") {
            let trimmed: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            // An empty value is "not set" in PR #13090's helper.
            if !trimmed.is_empty() {
                let action = fence_action_of(&trimmed, Path::new(&custom));
                if action == CsFenceAction::HardReboot
                    && trimmed != "hard-reboot"
                    && trimmed != "reboot"
                {
                    problems.push(format!(
                        "{}: kvm.heartbeat.fence.action = {v:?} is not one of hard-reboot, reboot, graceful-reboot, restart-agent, log-only, custom: hard-reboot applies, as in CloudStack",
                        where_(*line)
                    ));
                }
                a.fence_action = Some(action);
            }
        }
        a.problems = problems;
        a
    }

    /// Where these values come from, in words.
    pub fn describe_source(&self) -> String {
        match &self.source {
            Source::File(p) => format!("{} (read)", p.display()),
            Source::Missing(p) => format!("{} (absent: the agent's defaults)", p.display()),
            Source::Unreadable(p, e) => {
                format!("{} (unreadable: {e}; the agent's defaults)", p.display())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_properties_subset() {
        let p = parse_properties(
            "# comment\n! also\n  a=1\nb : 2\nc 3\nd=first\nd=last\ne = long \\\n   value\nf=x\\\\\ng\\ h=sp\ni\t4\n\n   \n",
        );
        assert_eq!(p.len(), 8, "comments and blank lines are no keys: {p:?}");
        assert_eq!(
            p.get("i").map(|(v, _)| v.as_str()),
            Some("4"),
            "a tab separates too"
        );
        let get = |k: &str| p.get(k).map(|(v, _)| v.as_str());
        assert_eq!(get("a"), Some("1"));
        assert_eq!(get("b"), Some("2"));
        assert_eq!(get("c"), Some("3"));
        assert_eq!(get("d"), Some("last"));
        assert_eq!(p["d"].1, 7);
        assert_eq!(get("e"), Some("long value"));
        assert_eq!(get("f"), Some("x\\"));
        assert_eq!(get("g h"), Some("sp"));
    }

    #[test]
    fn the_agents_defaults_and_its_overrides() {
        let a = AgentProperties::parse("", Path::new("/x"));
        assert_eq!(a.update_timeout, Duration::from_secs(60));
        assert_eq!(a.update_frequency, Duration::from_secs(60));
        assert_eq!((a.max_tries, a.fence_on_timeout), (5, true));
        assert_eq!(a.retry_sleep, Duration::from_secs(10));
        assert_eq!(a.checker_timeout, Duration::from_secs(360));
        assert_eq!(a.fence_action, None);
        let a = AgentProperties::parse(
            "heartbeat.update.timeout=30000\nkvm.heartbeat.update.frequency=10000\nkvm.heartbeat.update.max.tries=3\nreboot.host.and.alert.management.on.heartbeat.timeout=FALSE\nkvm.heartbeat.checker.timeout=abc\n",
            Path::new("/etc/cloudstack/agent/agent.properties"),
        );
        assert_eq!(a.update_timeout, Duration::from_secs(30));
        assert_eq!(a.update_frequency, Duration::from_secs(10));
        assert_eq!(a.max_tries, 3);
        assert!(!a.fence_on_timeout);
        assert_eq!(a.checker_timeout, Duration::from_secs(360));
        assert_eq!(a.problems.len(), 1, "{:?}", a.problems);
        assert_eq!(
            a.source,
            Source::File("/etc/cloudstack/agent/agent.properties".into())
        );
        assert_eq!(
            a.describe_source(),
            "/etc/cloudstack/agent/agent.properties (read)"
        );
        assert!(
            a.problems[0].starts_with(
                "/etc/cloudstack/agent/agent.properties:5: kvm.heartbeat.checker.timeout = \"abc\""
            ),
            "{:?}",
            a.problems
        );
    }

    #[test]
    fn values_the_agent_would_reject_keep_its_defaults() {
        let a = AgentProperties::parse(
            "heartbeat.update.timeout=0\nkvm.heartbeat.update.max.tries=0\nreboot.host.and.alert.management.on.heartbeat.timeout=yes\n",
            Path::new("/a"),
        );
        assert_eq!(a.update_timeout, Duration::from_secs(60));
        assert_eq!(a.max_tries, 5);
        assert!(
            !a.fence_on_timeout,
            "Boolean.parseBoolean(\"yes\") is false"
        );
        assert_eq!(a.problems.len(), 3, "{:?}", a.problems);
        let a = AgentProperties::parse(
            "heartbeat.update.timeout=1\nkvm.heartbeat.update.max.tries=1\nreboot.host.and.alert.management.on.heartbeat.timeout=True\n",
            Path::new("/a"),
        );
        assert_eq!(
            (a.update_timeout, a.max_tries),
            (Duration::from_millis(1), 1)
        );
        assert!(a.fence_on_timeout);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
    }

    #[test]
    fn fence_actions_as_pr_13090_reads_them() {
        let fa = |text: &str| AgentProperties::parse(text, Path::new("/a")).fence_action;
        assert_eq!(
            fa("kvm.heartbeat.fence.action=log-only"),
            Some(CsFenceAction::LogOnly)
        );
        assert_eq!(
            fa("kvm.heartbeat.fence.action = graceful-reboot \n"),
            Some(CsFenceAction::GracefulReboot)
        );
        assert_eq!(
            fa("kvm.heartbeat.fence.action=restart-agent\nkvm.heartbeat.fence.action=log-only"),
            Some(CsFenceAction::LogOnly)
        );
        assert_eq!(
            fa("kvm.heartbeat.fence.action=reboot"),
            Some(CsFenceAction::HardReboot)
        );
        assert_eq!(fa("kvm.heartbeat.fence.action="), None);
        assert_eq!(
            fa("kvm.heartbeat.fence.action=custom"),
            Some(CsFenceAction::Custom(DEFAULT_CUSTOM_SCRIPT.into()))
        );
        assert_eq!(
            fa("kvm.heartbeat.fence.custom.script=/opt/f.sh\nkvm.heartbeat.fence.action=custom"),
            Some(CsFenceAction::Custom("/opt/f.sh".into()))
        );
        let a = AgentProperties::parse("kvm.heartbeat.fence.action=poweroff", Path::new("/a"));
        assert_eq!(a.fence_action, Some(CsFenceAction::HardReboot));
        assert!(
            a.problems[0].contains("hard-reboot applies"),
            "{:?}",
            a.problems
        );
    }

    #[test]
    fn a_missing_or_unreadable_file_is_the_agents_defaults() {
        let a = AgentProperties::load(Path::new("/nonexistent/agent.properties"));
        assert_eq!(
            a.source,
            Source::Missing("/nonexistent/agent.properties".into())
        );
        assert_eq!(
            a.describe_source(),
            "/nonexistent/agent.properties (absent: the agent's defaults)"
        );
        assert_eq!(a.update_timeout, Duration::from_secs(60));
        let dir = tempfile::tempdir().unwrap();
        let a = AgentProperties::load(dir.path());
        assert!(
            matches!(&a.source, Source::Unreadable(p, _) if p == dir.path()),
            "{:?}",
            a.source
        );
        assert!(
            a.describe_source().contains("unreadable"),
            "{}",
            a.describe_source()
        );
        let f = dir.path().join("agent.properties");
        std::fs::write(&f, "kvm.heartbeat.update.max.tries=2\n").unwrap();
        let a = AgentProperties::load(&f);
        assert_eq!((a.source, a.max_tries), (Source::File(f), 2));
    }
}
