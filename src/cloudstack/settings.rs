//! The settings every CloudStack personality runs with, and the rule that
//! no configuration error may both stop the heartbeat and disable the fence:
//!
//! - `heartbeat.toml` (`NFSHA_HEARTBEAT_CONFIG`, else
//!   `/etc/nfsha/heartbeat.toml`); absent means the built-in defaults;
//!   unreadable or invalid means the built-in defaults **and** a loud log on
//!   every call, never an exit: writes go on, and `-c` still fences;
//! - its `[cloudstack]` section, read and checked here;
//! - the agent's `agent.properties` (`[cloudstack] agent_properties`, else
//!   `AGENT_PROPS` as CloudStack's own fence helper reads it, else
//!   `/etc/cloudstack/agent/agent.properties`), whose timeouts give the
//!   defaults (see [`super::timeline`]) and whose `kvm.heartbeat.fence.action`
//!   is the fence action whenever heartbeat.toml names none.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::formats::duration;
use crate::heartbeat::config::{Config, DEFAULT_PATH};
use crate::heartbeat::fence::FenceAction;

use super::agent_properties::{self, AgentProperties, CsFenceAction};
use super::timeline::{self, AgentTimeline};

/// The escalation nfsha adds to a `graceful-reboot` taken from
/// agent.properties (CloudStack's helper has none: `systemctl reboot` can
/// hang unmounting the dead pool).
pub const DEFAULT_CS_ESCALATE: Duration = Duration::from_secs(60);

/// The `[cloudstack]` section, defaults filled in from the agent's numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudStack {
    /// Bound on each call's storage I/O.
    pub io_timeout: Duration,
    /// How often the agent writes (its `kvm.heartbeat.update.frequency`).
    pub interval: Duration,
    /// Bound on a whole `-r` call.
    pub check_budget: Duration,
    /// Takeover time written into the drop-in's records; `None`: derived
    /// from who fences (see `who_fences`).
    pub dead_after: Option<Duration>,
    /// Escalation of a `graceful-reboot` taken from agent.properties.
    pub escalate_after: Duration,
    pub agent_properties: PathBuf,
}

/// Where the fence action comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanSource {
    HeartbeatToml,
    AgentProperties,
    Default,
}

/// What `-c` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanAction {
    Core(FenceAction),
    /// CloudStack's `custom`: run the script with the caller's name; when it
    /// is missing or not executable, hard-reboot (as CloudStack does).
    Custom(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FencePlan {
    pub action: PlanAction,
    pub source: PlanSource,
    /// For `graceful-reboot`: reboot(2) this long after it started.
    pub escalate_after: Option<Duration>,
}

impl FencePlan {
    /// Whether it stops this host's VMs (so peers may take over after it).
    pub fn fences(&self) -> bool {
        match &self.action {
            PlanAction::Core(a) => a.fences(),
            // A custom script may do anything: peers must not count on it.
            PlanAction::Custom(_) => false,
        }
    }
    pub fn name(&self) -> String {
        match &self.action {
            PlanAction::Core(a) => a.name().to_string(),
            PlanAction::Custom(p) => format!("custom ({})", p.display()),
        }
    }
    pub fn source_name(&self) -> &'static str {
        match self.source {
            PlanSource::HeartbeatToml => "heartbeat.toml fence_action",
            PlanSource::AgentProperties => "agent.properties kvm.heartbeat.fence.action",
            PlanSource::Default => {
                "default (neither heartbeat.toml nor agent.properties names one)"
            }
        }
    }
    /// How long the action takes once started, when it stops the host.
    pub fn bound(&self) -> Option<Duration> {
        timeline::fence_action_bound(self.fences(), self.escalate_after)
    }
}

/// Everything a personality runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub config_path: PathBuf,
    /// heartbeat.toml, or the built-in defaults.
    pub cfg: Config,
    /// Why heartbeat.toml is not in use (the built-in defaults are).
    pub config_error: Option<String>,
    pub agent: AgentProperties,
    pub cs: CloudStack,
    pub plan: FencePlan,
}

/// The built-in defaults: what an empty heartbeat.toml means.
pub fn builtin_config() -> Config {
    Config::parse("")
        .or_else(|_| Config::parse("host_id = \"localhost\""))
        .expect("the built-in heartbeat defaults are valid")
}

const KEYS: &[&str] = &[
    "io_timeout",
    "interval",
    "check_budget",
    "dead_after",
    "escalate_after",
    "agent_properties",
];

/// Read `[cloudstack]`; durations are strict (`50s`), unknown keys rejected.
fn parse_section(
    table: &toml::Table,
    agent_props_env: Option<&str>,
) -> Result<(PartialCs, PathBuf), String> {
    if let Some(k) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "cloudstack.{k}: unknown key (expected one of {})",
            KEYS.join(", ")
        ));
    }
    let dur = |key: &str| -> Result<Option<Duration>, String> {
        match table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => {
                let d =
                    duration::strict(s).map_err(|e| format!("cloudstack.{key} = {s:?}: {e}"))?;
                if d.is_zero() {
                    return Err(format!("cloudstack.{key} = {s:?}: must be greater than 0"));
                }
                Ok(Some(d))
            }
            Some(v) => Err(format!(
                "cloudstack.{key} = {v}: expected a duration in quotes, e.g. \"50s\""
            )),
        }
    };
    let agent_properties = match table.get("agent_properties") {
        None => PathBuf::from(agent_props_env.unwrap_or(agent_properties::DEFAULT_PATH)),
        Some(toml::Value::String(s)) if Path::new(s).is_absolute() => PathBuf::from(s),
        Some(v) => {
            return Err(format!(
                "cloudstack.agent_properties = {v}: expected an absolute path in quotes"
            ))
        }
    };
    Ok((
        PartialCs {
            io_timeout: dur("io_timeout")?,
            interval: dur("interval")?,
            check_budget: dur("check_budget")?,
            dead_after: dur("dead_after")?,
            escalate_after: dur("escalate_after")?,
        },
        agent_properties,
    ))
}

#[derive(Default)]
struct PartialCs {
    io_timeout: Option<Duration>,
    interval: Option<Duration>,
    check_budget: Option<Duration>,
    dead_after: Option<Duration>,
    escalate_after: Option<Duration>,
}

fn plan_of(
    cfg: &Config,
    use_toml: bool,
    agent: &AgentProperties,
    cs_escalate: Duration,
) -> FencePlan {
    if use_toml && cfg.fence_action_set {
        return FencePlan {
            action: PlanAction::Core(cfg.fence_action),
            source: PlanSource::HeartbeatToml,
            // Validated: graceful has escalate_after or a watchdog.
            escalate_after: cfg.escalate_after,
        };
    }
    let Some(cs) = &agent.fence_action else {
        return FencePlan {
            action: PlanAction::Core(FenceAction::Reboot),
            source: PlanSource::Default,
            escalate_after: None,
        };
    };
    let (action, escalate_after) = match cs {
        CsFenceAction::HardReboot => (PlanAction::Core(FenceAction::Reboot), None),
        CsFenceAction::GracefulReboot => (
            PlanAction::Core(FenceAction::GracefulReboot),
            Some(cs_escalate),
        ),
        CsFenceAction::RestartAgent => (PlanAction::Core(FenceAction::RestartAgent), None),
        CsFenceAction::LogOnly => (PlanAction::Core(FenceAction::LogOnly), None),
        CsFenceAction::Custom(p) => (PlanAction::Custom(p.clone()), None),
    };
    FencePlan {
        action,
        source: PlanSource::AgentProperties,
        escalate_after,
    }
}

impl Settings {
    /// What the personalities run with in this process's environment.
    pub fn load() -> Settings {
        let path = std::env::var_os("NFSHA_HEARTBEAT_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
        Settings::load_from(&path, std::env::var("AGENT_PROPS").ok().as_deref())
    }

    /// Read `path` (absent: the built-in defaults); `agent_props_env` is
    /// `AGENT_PROPS` (empty means unset, as in CloudStack's helper).
    pub fn load_from(path: &Path, agent_props_env: Option<&str>) -> Settings {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Some(Ok(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(Err(format!("cannot read {}: {e}", path.display()))),
        };
        Settings::from_text(path, text, agent_props_env.filter(|s| !s.is_empty()))
    }

    /// [`Settings::load`] without the environment: `text` is the file's
    /// content (`None`: no file, `Some(Err)`: it could not be read).
    pub fn from_text(
        path: &Path,
        text: Option<Result<String, String>>,
        agent_props_env: Option<&str>,
    ) -> Settings {
        let parsed = match text {
            None => Ok(builtin_config()),
            Some(Err(e)) => Err(e),
            Some(Ok(t)) => Config::parse(&t).map_err(|e| format!("{}: {e}", path.display())),
        };
        let parsed = parsed.and_then(|cfg| {
            parse_section(&cfg.cloudstack, agent_props_env)
                .map(|cs| (cfg, cs))
                .map_err(|e| format!("{}: {e}", path.display()))
        });
        let (cfg, (part, agent_path), config_error) = match parsed {
            Ok((cfg, cs)) => (cfg, cs, None),
            Err(e) => (
                builtin_config(),
                (
                    PartialCs::default(),
                    PathBuf::from(agent_props_env.unwrap_or(agent_properties::DEFAULT_PATH)),
                ),
                Some(e),
            ),
        };
        let agent = AgentProperties::load(&agent_path);
        let cs = CloudStack {
            io_timeout: part
                .io_timeout
                .unwrap_or_else(|| timeline::default_io_timeout(agent.update_timeout)),
            interval: part.interval.unwrap_or(agent.update_frequency),
            check_budget: part
                .check_budget
                .unwrap_or_else(|| timeline::default_check_budget(agent.checker_timeout)),
            dead_after: part.dead_after,
            escalate_after: part.escalate_after.unwrap_or(DEFAULT_CS_ESCALATE),
            agent_properties: agent_path,
        };
        let plan = plan_of(&cfg, config_error.is_none(), &agent, cs.escalate_after);
        Settings {
            config_path: path.to_path_buf(),
            cfg,
            config_error,
            agent,
            cs,
            plan,
        }
    }

    /// The agent's own timeline with these settings.
    pub fn agent_timeline(&self) -> AgentTimeline {
        AgentTimeline::of(
            &self.agent,
            self.cs.io_timeout,
            self.plan.bound(),
            self.cfg.takeover_margin,
        )
    }

    /// Problems to log loudly on every call (the scripts never print them:
    /// the agent reads their first line).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.config_error {
            out.push(format!(
                "CONFIGURATION ERROR, built-in defaults in use (heartbeat writes go on; -c runs {} from {}): {e}; check it with `nfsha heartbeat validate --config {}`",
                self.plan.name(),
                self.plan.source_name(),
                self.config_path.display()
            ));
        }
        if let agent_properties::Source::Unreadable(p, e) = &self.agent.source {
            out.push(format!(
                "cannot read {}: {e}; the agent's defaults are assumed",
                p.display()
            ));
        }
        out.extend(self.agent.problems.iter().cloned());
        if self.cs.io_timeout + Duration::from_secs(1) > self.agent.update_timeout {
            out.push(format!(
                "[cloudstack] io_timeout {} is not below the agent's heartbeat.update.timeout {}: the agent will kill calls before nfsha answers",
                duration::fmt(self.cs.io_timeout),
                duration::fmt(self.agent.update_timeout)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: Option<&str>) -> Settings {
        Settings::from_text(
            Path::new("/etc/nfsha/heartbeat.toml"),
            text.map(|t| Ok(t.to_string())),
            Some("/nonexistent/agent.properties"),
        )
    }

    #[test]
    fn no_file_means_defaults_from_the_agents_numbers() {
        let s = load(None);
        assert!(s.config_error.is_none());
        assert_eq!(s.cs.io_timeout, Duration::from_secs(50));
        assert_eq!(s.cs.interval, Duration::from_secs(60));
        assert_eq!(s.cs.check_budget, Duration::from_secs(30));
        assert_eq!(s.plan.action, PlanAction::Core(FenceAction::Reboot));
        assert_eq!(s.plan.source, PlanSource::Default);
        assert_eq!(
            s.cs.agent_properties,
            Path::new("/nonexistent/agent.properties")
        );
    }

    #[test]
    fn an_invalid_file_still_writes_and_still_fences() {
        for bad in [
            "fence_action = \"sysrq\"",
            "interval = 10",
            "[cloudstack]\nio_timeout = \"-1s\"",
            "[cloudstack]\nbogus = \"1s\"",
            "not toml [",
        ] {
            let s = load(Some(bad));
            let e = s.config_error.clone().expect(bad);
            assert!(e.starts_with("/etc/nfsha/heartbeat.toml: "), "{e}");
            assert_eq!(s.cs.io_timeout, Duration::from_secs(50), "{bad}");
            assert!(s.plan.fences(), "{bad}: -c must still fence");
            assert!(s.problems()[0].contains("CONFIGURATION ERROR"), "{bad}");
        }
        let e = load(Some("[cloudstack]\nbogus = \"1s\""))
            .config_error
            .unwrap();
        assert!(e.contains("cloudstack.bogus: unknown key"), "{e}");
        let s = Settings::from_text(
            Path::new("/x.toml"),
            Some(Err("cannot read /x.toml: Permission denied".into())),
            None,
        );
        assert!(s.config_error.unwrap().contains("Permission denied"));
    }

    #[test]
    fn the_fence_action_comes_from_heartbeat_toml_then_agent_properties() {
        let dir = tempfile::tempdir().unwrap();
        let props = dir.path().join("agent.properties");
        std::fs::write(&props, "kvm.heartbeat.fence.action=log-only\n").unwrap();
        let with = |text: Option<&str>| {
            Settings::from_text(
                Path::new("/h.toml"),
                text.map(|t| Ok(t.to_string())),
                Some(props.to_str().unwrap()),
            )
        };
        let s = with(None);
        assert_eq!(s.plan.action, PlanAction::Core(FenceAction::LogOnly));
        assert_eq!(s.plan.source, PlanSource::AgentProperties);
        assert!(!s.plan.fences());
        let s = with(Some("fence_action = \"reboot\""));
        assert_eq!(s.plan.source, PlanSource::HeartbeatToml);
        assert!(s.plan.fences());
        // Invalid heartbeat.toml: what CloudStack itself would do.
        let s = with(Some("fence_action = \"reboot\"\nbogus = 1"));
        assert_eq!(s.plan.source, PlanSource::AgentProperties);
        std::fs::write(&props, "kvm.heartbeat.fence.action=graceful-reboot\n").unwrap();
        let s = with(None);
        assert_eq!(s.plan.escalate_after, Some(DEFAULT_CS_ESCALATE));
        assert_eq!(s.plan.bound(), Some(Duration::from_secs(68)));
        std::fs::write(&props, "kvm.heartbeat.fence.action=custom\n").unwrap();
        let s = with(Some("[cloudstack]\nagent_properties = \"/nonexistent/a\""));
        assert_eq!(
            s.plan.source,
            PlanSource::Default,
            "the section's path wins over AGENT_PROPS"
        );
        let s = with(None);
        assert!(matches!(s.plan.action, PlanAction::Custom(_)));
        assert!(!s.plan.fences());
    }

    #[test]
    fn the_file_absent_unreadable_or_present() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load_from(&dir.path().join("none.toml"), Some(""));
        assert!(s.config_error.is_none());
        assert_eq!(
            s.cs.agent_properties,
            Path::new(agent_properties::DEFAULT_PATH),
            "empty AGENT_PROPS is unset"
        );
        let s = Settings::load_from(dir.path(), Some("/x/agent.properties"));
        let e = s.config_error.unwrap();
        assert!(
            e.starts_with(&format!("cannot read {}: ", dir.path().display())),
            "{e}"
        );
        assert_eq!(s.cs.agent_properties, Path::new("/x/agent.properties"));
        let f = dir.path().join("h.toml");
        std::fs::write(&f, "fence_action = \"log-only\"\n").unwrap();
        let s = Settings::load_from(&f, None);
        assert_eq!(
            (s.config_error, s.plan.source),
            (None, PlanSource::HeartbeatToml)
        );
    }

    #[test]
    fn section_values_and_their_errors() {
        let s = load(Some("[cloudstack]\nio_timeout = \"20s\"\ninterval = \"10s\"\ncheck_budget = \"5s\"\ndead_after = \"600s\""));
        assert!(s.config_error.is_none(), "{:?}", s.config_error);
        assert_eq!(s.cs.io_timeout, Duration::from_secs(20));
        assert_eq!(s.cs.interval, Duration::from_secs(10));
        assert_eq!(s.cs.check_budget, Duration::from_secs(5));
        assert_eq!(s.cs.dead_after, Some(Duration::from_secs(600)));
        let e = load(Some("[cloudstack]\nio_timeout = 5"))
            .config_error
            .unwrap();
        assert!(
            e.contains("cloudstack.io_timeout = 5: expected a duration"),
            "{e}"
        );
        let e = load(Some("[cloudstack]\ncheck_budget = \"0s\""))
            .config_error
            .unwrap();
        assert!(e.contains("must be greater than 0"), "{e}");
        let e = load(Some("[cloudstack]\nagent_properties = \"rel\""))
            .config_error
            .unwrap();
        assert!(e.contains("absolute path"), "{e}");
        let s = load(Some("[cloudstack]\nio_timeout = \"60s\""));
        assert!(s
            .problems()
            .iter()
            .any(|p| p.contains("not below the agent's")));
    }
}
