//! The `[cloudstack]` part of `nfsha heartbeat validate`: the effective
//! values of the CloudStack personalities, where each comes from, the
//! agent's timeline they imply, and the warnings an operator must see
//! before deploying (a mixed cluster with a non-fencing action; a section
//! the scripts would refuse and replace with the built-in defaults).

use std::path::Path;

use crate::formats::duration;

use super::agent_properties::Source;
use super::settings::Settings;

fn d(x: std::time::Duration) -> String {
    format!("{:?}", duration::fmt(x))
}

/// The settings the scripts would run with, given heartbeat.toml at `path`
/// (`AGENT_PROPS` as in the agent's environment).
pub fn settings_for(path: &Path) -> Settings {
    Settings::load_from(path, std::env::var("AGENT_PROPS").ok().as_deref())
}

/// The lines, and whether the section is valid (an invalid one fails validate).
pub fn lines(s: &Settings) -> (Vec<String>, bool) {
    let mut out = vec!["[cloudstack] (the kvm*.sh scripts)".to_string()];
    if let Some(e) = &s.config_error {
        out.push(format!("error: {e}"));
        out.push(
            "  the scripts would run with the built-in defaults below and log this on every call"
                .into(),
        );
    }
    let a = &s.agent;
    out.push(format!("agent_properties = {}", a.describe_source()));
    out.push(format!(
        "  heartbeat.update.timeout = {}, kvm.heartbeat.update.frequency = {}, kvm.heartbeat.update.max.tries = {}, kvm.heartbeat.update.retry.sleep = {}, kvm.heartbeat.checker.timeout = {}, reboot.host.and.alert.management.on.heartbeat.timeout = {}",
        duration::fmt(a.update_timeout),
        duration::fmt(a.update_frequency),
        a.max_tries,
        duration::fmt(a.retry_sleep),
        duration::fmt(a.checker_timeout),
        a.fence_on_timeout
    ));
    for p in &a.problems {
        out.push(format!("warning: {p}"));
    }
    if let Source::Unreadable(p, e) = &a.source {
        out.push(format!("warning: cannot read {}: {e}", p.display()));
    }
    out.push(format!(
        "io_timeout = {}  # each call's storage I/O; below heartbeat.update.timeout",
        d(s.cs.io_timeout)
    ));
    out.push(format!(
        "interval = {}  # how often the agent writes",
        d(s.cs.interval)
    ));
    out.push(format!(
        "check_budget = {}  # a whole -r call; the agent's checker runs pools one after another",
        d(s.cs.check_budget)
    ));
    out.push(format!(
        "fence_action (-c) = {:?}  # from {}",
        s.plan.name(),
        s.plan.source_name()
    ));
    if let Some(e) = s.plan.escalate_after {
        out.push(format!("  escalate_after = {}", d(e)));
    }
    let tl = s.agent_timeline();
    match (tl.fence_done, tl.dead_after(s.cfg.takeover_margin)) {
        (Some(done), Some(dead)) => out.push(format!(
            "agent timeline: -c at T+{}s, fenced by T+{}s; dead_after = {}  # written into the drop-in's records when the agent is the one that fences (a heartbeat daemon watching the pool shortens it)",
            tl.fence_call.as_secs(),
            done.as_secs(),
            d(dead.max(s.cs.dead_after.unwrap_or_default()))
        )),
        _ => out.push(format!(
            "agent timeline: the agent never stops this host ({}): its records say not-fenced unless a heartbeat daemon fences on the pool; peers running nfsha never declare it dead",
            if a.fence_on_timeout { format!("fence_action {}", s.plan.name()) } else { "reboot.host.and.alert.management.on.heartbeat.timeout=false".into() }
        )),
    }
    if let (Some(explicit), Some(derived)) = (s.cs.dead_after, tl.dead_after(s.cfg.takeover_margin))
    {
        if explicit < derived {
            out.push(format!(
                "warning: dead_after = {} is below the agent's timeline ({}): the longer one is used",
                d(explicit),
                d(derived)
            ));
        }
    }
    if !s.plan.fences() {
        out.push(format!(
            "warning: fence_action {} does not stop this host. Hosts still on CloudStack's stock scripts read only hb-<IP>'s age and declare this host DEAD 60 s after its last write, then restart its VMs elsewhere while they still run here. Choose a non-fencing action only once every host in the cluster runs nfsha's scripts.",
            s.plan.name()
        ));
    }
    (out, s.config_error.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str, props: &str) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("agent.properties");
        std::fs::write(&p, props).unwrap();
        Settings::from_text(
            Path::new("/h.toml"),
            Some(Ok(text.into())),
            Some(p.to_str().unwrap()),
        )
    }

    #[test]
    fn validate_shows_values_sources_and_the_mixed_cluster_warning() {
        let (l, ok) = lines(&s("", ""));
        assert!(ok);
        let text = l.join("\n");
        assert!(text.contains("io_timeout = \"50s\""), "{text}");
        assert!(text.contains("check_budget = \"30s\""), "{text}");
        assert!(
            text.contains("fence_action (-c) = \"reboot\"  # from default"),
            "{text}"
        );
        assert!(
            text.contains("-c at T+410s, fenced by T+418s; dead_after = \"438s\""),
            "{text}"
        );
        assert!(!text.contains("warning"), "{text}");
        let (l, _) = lines(&s("", "kvm.heartbeat.fence.action=log-only\n"));
        let text = l.join("\n");
        assert!(
            text.contains("from agent.properties kvm.heartbeat.fence.action"),
            "{text}"
        );
        assert!(
            text.contains("only once every host in the cluster runs nfsha's scripts"),
            "{text}"
        );
        let (l, ok) = lines(&s("[cloudstack]\nio_timeout = \"x\"", ""));
        assert!(!ok);
        assert!(
            l[1].starts_with("error: /h.toml: cloudstack.io_timeout"),
            "{l:?}"
        );
    }
}
