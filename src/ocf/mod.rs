//! The OCF runtime every agent shares: action dispatch, parameter parsing,
//! exit codes and exit reasons, internal deadlines, and logging.
//!
//! An agent only declares its [`AgentSpec`] and implements [`Agent`]; it
//! never reads the environment, prints XML or picks a log destination itself.

pub mod metadata;
pub mod params;
pub mod rc;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

pub use metadata::{AgentSpec, Timeouts};
pub use params::{ParamSpec, Params, Refused};
pub use rc::{OcfError, OcfResult, Rc};

use crate::log;
use crate::sys::timed::Timed;
use crate::sys::{Deadline, System};

/// An action Pacemaker (or an admin) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Monitor,
    ValidateAll,
    MetaData,
    Usage,
    /// An OCF action this agent does not implement (promote, notify, …).
    Unimplemented,
}

impl Action {
    pub fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "start" => Action::Start,
            "stop" => Action::Stop,
            "monitor" | "status" => Action::Monitor,
            "validate-all" => Action::ValidateAll,
            "meta-data" | "metadata" => Action::MetaData,
            "usage" | "help" | "--help" | "-h" => Action::Usage,
            "promote" | "demote" | "notify" | "reload" | "reload-agent" | "recover"
            | "migrate_to" | "migrate_from" | "restart" | "methods" => Action::Unimplemented,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Monitor => "monitor",
            Action::ValidateAll => "validate-all",
            Action::MetaData => "meta-data",
            Action::Usage => "usage",
            Action::Unimplemented => "unimplemented",
        }
    }
}

/// Everything an action may use.
pub struct Ctx<'a> {
    pub sys: &'a dyn System,
    pub params: Params,
    pub action: Action,
    /// The action must be over by then (derived from `CRM_meta_timeout`).
    pub deadline: Deadline,
    /// `OCF_CHECK_LEVEL` (0 when unset).
    pub check_level: u32,
    /// A monitor with interval 0: Pacemaker asking "is it running here?".
    pub probe: bool,
    /// `OCF_RESOURCE_INSTANCE`, e.g. `nfs_ip` or `nfs_ip:0` in a clone.
    pub instance: String,
    /// `OCF_RESKEY_CRM_meta_*` values by their short name (`timeout`, `clone`, …).
    pub meta: BTreeMap<String, String>,
    /// The whole environment the action was called with.
    pub env: BTreeMap<String, String>,
}

impl Ctx<'_> {
    /// The resource runs as a clone instance.
    pub fn is_clone(&self) -> bool {
        self.meta.contains_key("clone")
    }
    /// The action's deadline has passed (on the seam's clock).
    pub fn out_of_time(&self) -> bool {
        self.deadline.passed(self.sys)
    }
    /// A deadline for one step: at most `max` from now, never past the action's.
    pub fn step(&self, max: Duration) -> Deadline {
        self.deadline.within(self.sys, max)
    }
}

/// The five parts of an OCF agent; the runtime supplies meta-data and usage.
pub trait Agent: Sync {
    fn spec(&self) -> &'static AgentSpec;
    /// Check the parameters. At check level 0 only their consistency (no
    /// look at this host); at 10 and above also this host's environment.
    fn validate(&self, ctx: &Ctx) -> OcfResult;
    fn start(&self, ctx: &Ctx) -> OcfResult;
    fn stop(&self, ctx: &Ctx) -> OcfResult;
    /// `Ok` when running, `Err(NotRunning)` when cleanly stopped.
    fn monitor(&self, ctx: &Ctx) -> OcfResult;
}

/// How much of Pacemaker's timeout an action may use for itself, so that it
/// ends with its own error before Pacemaker kills it (a killed stop is a
/// fenced node): a tenth is kept back, at least 1 s, at most half.
pub fn internal_budget(timeout: Duration) -> Duration {
    let margin = (timeout / 10).max(Duration::from_secs(1)).min(timeout / 2);
    timeout - margin
}

fn action_timeout(spec: &AgentSpec, action: Action) -> Duration {
    let t = &spec.timeouts;
    match action {
        Action::Start => t.start,
        Action::Stop => t.stop,
        Action::Monitor => t.monitor,
        _ => t.validate,
    }
}

fn usage(spec: &AgentSpec) -> String {
    format!(
        "usage: {} {{start|stop|monitor|validate-all|meta-data|usage}}\n\n{}\n\nParameters are passed as OCF_RESKEY_<name> environment variables; \
         run `{} meta-data` for the list.\n",
        spec.name, spec.shortdesc, spec.name
    )
}

/// Run `action_name` of `agent` with `env` and return the exit code.
/// `out` receives meta-data and usage; `err` receives exit reasons.
pub fn run(
    agent: &dyn Agent,
    action_name: Option<&str>,
    env: BTreeMap<String, String>,
    sys: &dyn System,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    run_inner(agent, action_name, env, sys, out, err, false)
}

/// [`run`] as the agent process itself: also arms a watchdog that ends the
/// process with an error if the action overruns its deadline.
pub fn run_process(
    agent: &dyn Agent,
    action_name: Option<&str>,
    env: BTreeMap<String, String>,
    sys: &dyn System,
) -> i32 {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    run_inner(agent, action_name, env, sys, &mut out, &mut err, true)
}

fn run_inner(
    agent: &dyn Agent,
    action_name: Option<&str>,
    env: BTreeMap<String, String>,
    sys: &dyn System,
    out: &mut dyn Write,
    err: &mut dyn Write,
    arm_watchdog: bool,
) -> i32 {
    let spec = agent.spec();
    let action = match action_name.map(Action::parse) {
        Some(Some(a)) => a,
        None => {
            let _ = write!(err, "{}", usage(spec));
            return Rc::ErrArgs.code();
        }
        Some(None) => {
            let _ = write!(err, "{}", usage(spec));
            return Rc::ErrUnimplemented.code();
        }
    };
    match action {
        Action::MetaData => {
            let _ = out.write_all(metadata::render(spec).as_bytes());
            return Rc::Success.code();
        }
        Action::Usage => {
            let _ = out.write_all(usage(spec).as_bytes());
            return Rc::Success.code();
        }
        Action::Unimplemented => return Rc::ErrUnimplemented.code(),
        _ => {}
    }

    let instance = env
        .get("OCF_RESOURCE_INSTANCE")
        .cloned()
        .unwrap_or_else(|| spec.name.to_string());
    log::init(log::LogOptions::from_env(
        format!("{}({})", spec.name, instance),
        &env,
    ));

    // Start and stop are what a failover waits for: where their time went
    // (each program, the waits) is logged when they end.
    let timed = Timed::new(sys);
    let profiled = matches!(action, Action::Start | Action::Stop);
    let sys: &dyn System = if profiled { &timed } else { sys };

    let meta: BTreeMap<String, String> = env
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("OCF_RESKEY_CRM_meta_")
                .map(|m| (m.to_string(), v.clone()))
        })
        .collect();
    let timeout = meta
        .get("timeout")
        .and_then(|ms| ms.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map(Duration::from_millis)
        .unwrap_or_else(|| action_timeout(spec, action));
    let budget = internal_budget(timeout);
    let deadline = Deadline::after(sys, budget);
    let probe = action == Action::Monitor
        && meta
            .get("interval")
            .map(|i| i.trim() == "0" || i.trim().is_empty())
            .unwrap_or(true);
    let check_level = env
        .get("OCF_CHECK_LEVEL")
        .or_else(|| env.get("OCF_RESKEY_OCF_CHECK_LEVEL"))
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);

    let result = parse_params(spec, &env, action).and_then(|params| {
        let ctx = Ctx {
            sys,
            params,
            action,
            deadline,
            check_level,
            probe,
            instance: instance.clone(),
            meta,
            env: env.clone(),
        };
        if arm_watchdog {
            watchdog(action, budget + (timeout - budget) / 2);
        }
        tracing::debug!(
            "{} (timeout {} ms, budget {} ms, check level {check_level}{})",
            action.name(),
            timeout.as_millis(),
            budget.as_millis(),
            if probe { ", probe" } else { "" }
        );
        match action {
            Action::Start => agent.validate(&ctx).and_then(|_| agent.start(&ctx)),
            Action::Stop => agent.stop(&ctx),
            Action::Monitor => agent.monitor(&ctx),
            Action::ValidateAll => agent.validate(&ctx),
            _ => unreachable!("handled above"),
        }
    });

    let (rc, reason) = match result {
        Ok(()) => (Rc::Success, None),
        // A probe that cannot find the software cannot find the resource running.
        Err(e) if probe && e.rc == Rc::ErrInstalled => (Rc::NotRunning, Some(e.reason)),
        Err(e) => (e.rc, Some(e.reason)),
    };
    match (&reason, rc) {
        (Some(r), Rc::NotRunning) => tracing::debug!("{}: not running: {r}", action.name()),
        (Some(r), _) => {
            tracing::error!("{} failed: {r}", action.name());
            let _ = writeln!(err, "ocf-exit-reason:{r}");
        }
        (None, _) => tracing::debug!("{} succeeded", action.name()),
    }
    if profiled {
        tracing::info!("{} took {}", action.name(), timed.profile());
    }
    rc.code()
}

/// The instance parameters of `env` checked against the agent's table: a
/// malformed, missing or refused value is an error, and so is an unknown
/// name, except on stop (a failed stop gets the node fenced over a typo).
fn parse_params(
    spec: &AgentSpec,
    env: &BTreeMap<String, String>,
    action: Action,
) -> OcfResult<Params> {
    let params = if action == Action::Stop {
        Params::parse_for_stop(spec.params, spec.refused, env)?
    } else {
        Params::parse(spec.params, spec.refused, env)?
    };
    if !params.unknown.is_empty() {
        let names = params.unknown.join(", ");
        let known: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
        let msg = format!(
            "unknown parameter(s) {names}; {} accepts: {}",
            spec.name,
            known.join(", ")
        );
        // A stop must not fail on a typo: a failed stop gets the node fenced.
        if action == Action::Stop {
            tracing::warn!("{msg}");
        } else {
            return Err(OcfError::configured(msg));
        }
    }
    Ok(params)
}

/// The context `validate-all` at check level 0 gets for `env`: what
/// `nfsha lint` uses to ask an agent about a configured resource without
/// running it. `sys` is never looked at by a level-0 validation.
pub fn offline_ctx<'a>(
    agent: &dyn Agent,
    env: BTreeMap<String, String>,
    sys: &'a dyn System,
) -> OcfResult<Ctx<'a>> {
    let spec = agent.spec();
    let params = parse_params(spec, &env, Action::ValidateAll)?;
    let meta = env
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("OCF_RESKEY_CRM_meta_")
                .map(|m| (m.to_string(), v.clone()))
        })
        .collect();
    Ok(Ctx {
        sys,
        params,
        action: Action::ValidateAll,
        deadline: Deadline::after(sys, spec.timeouts.validate),
        check_level: 0,
        probe: false,
        instance: env
            .get("OCF_RESOURCE_INSTANCE")
            .cloned()
            .unwrap_or_else(|| spec.name.to_string()),
        meta,
        env,
    })
}

/// If the action is still running at `after` (stuck in a child we cannot
/// kill, say), end the process with an error so Pacemaker gets an answer
/// from us instead of killing us at its own timeout.
fn watchdog(action: Action, after: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(after);
        let reason = format!(
            "{} did not finish within its internal deadline ({} ms)",
            action.name(),
            after.as_millis()
        );
        tracing::error!("{reason}");
        eprintln!("ocf-exit-reason:{reason}");
        std::process::exit(Rc::ErrGeneric.code());
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::Fake;

    static PARAMS: &[ParamSpec] = &[
        ParamSpec::new("name", "A name", "A name.").required(),
        ParamSpec::new("mode", "Mode", "ok, down, noinst, slow").default("ok"),
    ];
    static SPEC: AgentSpec = AgentSpec {
        name: "demo",
        shortdesc: "Demo",
        longdesc: "Demo agent for runtime tests.",
        params: PARAMS,
        refused: &[Refused {
            name: "old_knob",
            why: "it was harmful",
        }],
        timeouts: Timeouts {
            start: Duration::from_secs(20),
            stop: Duration::from_secs(20),
            monitor: Duration::from_secs(10),
            monitor_interval: Duration::from_secs(10),
            validate: Duration::from_secs(5),
        },
        monitor_depths: &[],
    };

    struct Demo;
    impl Agent for Demo {
        fn spec(&self) -> &'static AgentSpec {
            &SPEC
        }
        fn validate(&self, _: &Ctx) -> OcfResult {
            Ok(())
        }
        fn start(&self, ctx: &Ctx) -> OcfResult {
            match ctx.params.str("mode") {
                Some("noinst") => Err(OcfError::installed("no demo binary")),
                _ => Ok(()),
            }
        }
        fn stop(&self, _: &Ctx) -> OcfResult {
            Ok(())
        }
        fn monitor(&self, ctx: &Ctx) -> OcfResult {
            match ctx.params.str("mode") {
                Some("down") => Err(OcfError::not_running("stopped")),
                Some("noinst") => Err(OcfError::installed("no demo binary")),
                Some("level") if ctx.check_level == 10 => Err(OcfError::generic("deep check")),
                _ => Ok(()),
            }
        }
    }

    fn go(action: &str, pairs: &[(&str, &str)]) -> (i32, String, String) {
        let env = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let rc = run(&Demo, Some(action), env, &Fake::new(), &mut out, &mut err);
        (
            rc,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn exit_codes_map_from_results() {
        assert_eq!(go("start", &[("OCF_RESKEY_name", "a")]).0, 0);
        let (rc, _, err) = go(
            "monitor",
            &[
                ("OCF_RESKEY_name", "a"),
                ("OCF_RESKEY_mode", "down"),
                ("OCF_RESKEY_CRM_meta_interval", "10000"),
            ],
        );
        assert_eq!(rc, 7);
        assert_eq!(err, "", "a stopped resource is not a failure");
        let (rc, _, err) = go(
            "start",
            &[("OCF_RESKEY_name", "a"), ("OCF_RESKEY_mode", "noinst")],
        );
        assert_eq!(rc, 5);
        assert_eq!(err, "ocf-exit-reason:no demo binary\n");
    }

    #[test]
    fn probes_with_missing_software_are_not_running() {
        let pairs = [
            ("OCF_RESKEY_name", "a"),
            ("OCF_RESKEY_mode", "noinst"),
            ("OCF_RESKEY_CRM_meta_interval", "0"),
        ];
        assert_eq!(go("monitor", &pairs).0, 7);
        // A recurring monitor reports the real problem.
        let pairs = [
            ("OCF_RESKEY_name", "a"),
            ("OCF_RESKEY_mode", "noinst"),
            ("OCF_RESKEY_CRM_meta_interval", "10000"),
        ];
        assert_eq!(go("monitor", &pairs).0, 5);
    }

    #[test]
    fn configuration_errors_are_6_with_a_reason() {
        let (rc, _, err) = go("start", &[]);
        assert_eq!(rc, 6);
        assert_eq!(err, "ocf-exit-reason:required parameter name is not set\n");
        let (rc, _, err) = go(
            "start",
            &[("OCF_RESKEY_name", "a"), ("OCF_RESKEY_bogus", "1")],
        );
        assert_eq!(rc, 6);
        assert!(err.contains("unknown parameter(s) bogus; demo accepts: name, mode"));
        let (rc, _, err) = go(
            "validate-all",
            &[("OCF_RESKEY_name", "a"), ("OCF_RESKEY_old_knob", "yes")],
        );
        assert_eq!(rc, 6);
        assert!(err.contains("old_knob=\"yes\" is not supported: it was harmful"));
    }

    #[test]
    fn stop_tolerates_unknown_parameters() {
        let (rc, _, _) = go(
            "stop",
            &[("OCF_RESKEY_name", "a"), ("OCF_RESKEY_bogus", "1")],
        );
        assert_eq!(rc, 0);
    }

    #[test]
    fn check_level_reaches_the_agent() {
        let base = [("OCF_RESKEY_name", "a"), ("OCF_RESKEY_mode", "level")];
        assert_eq!(go("monitor", &base).0, 0);
        let mut deep = base.to_vec();
        deep.push(("OCF_CHECK_LEVEL", "10"));
        assert_eq!(go("monitor", &deep).0, 1);
        // As Pacemaker passes a monitor op's OCF_CHECK_LEVEL attribute: with
        // the instance parameters, and not an unknown one of them.
        let mut op_attr = base.to_vec();
        op_attr.push(("OCF_RESKEY_OCF_CHECK_LEVEL", "10"));
        assert_eq!(go("monitor", &op_attr).0, 1);
    }

    #[test]
    fn actions_usage_and_metadata() {
        let (rc, out, _) = go("meta-data", &[]);
        assert_eq!(rc, 0);
        assert!(out.contains("<resource-agent name=\"demo\""));
        let (rc, out, _) = go("usage", &[]);
        assert_eq!(rc, 0);
        assert!(out.starts_with("usage: demo {start|stop|monitor|validate-all|meta-data|usage}"));
        assert_eq!(go("promote", &[]).0, 3);
        assert_eq!(go("notify", &[]).0, 3);
        assert_eq!(go("frobnicate", &[]).0, 3);
        let (mut o, mut e) = (Vec::new(), Vec::new());
        assert_eq!(
            run(&Demo, None, BTreeMap::new(), &Fake::new(), &mut o, &mut e),
            2
        );
    }

    #[test]
    fn budgets_leave_a_margin() {
        for (timeout, budget) in [
            (Duration::from_secs(20), Duration::from_secs(18)),
            (Duration::from_secs(5), Duration::from_secs(4)),
            (Duration::from_secs(1), Duration::from_millis(500)),
            (Duration::from_secs(120), Duration::from_secs(108)),
        ] {
            assert_eq!(internal_budget(timeout), budget, "timeout {timeout:?}");
        }
    }
}
