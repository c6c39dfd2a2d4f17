//! `nfsha heartbeat validate`: every error `nfsha heartbeat run` would meet,
//! as `FILE:LINE: message` (exit 2); else every effective value, TOML-like,
//! marked with where it came from, the warnings, and what the fence timeline
//! means for a server failover (exit 0).

use std::path::Path;
use std::time::Duration;

use super::config::{self, Config, Source};
use super::timeline::{failover_outage, min_fence_after, Timeline};
use crate::formats::duration;

fn q(s: &str) -> String {
    format!("{s:?}")
}

fn d(x: Duration) -> String {
    q(&duration::fmt(x))
}

fn argv(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter().map(|a| q(a)).collect::<Vec<_>>().join(", ")
    )
}

/// The effective configuration, one `key = value  # origin` line per key.
pub fn render(c: &Config) -> String {
    let mut out = String::new();
    let mut line = |key: &str, shown: String, origin: &str| {
        out.push_str(&format!("{:<44} # {origin}\n", format!("{key} = {shown}")));
    };
    let mark = |key: &str| if c.is_set(key) { "set" } else { "default" };
    line(
        "host_id",
        q(&c.host_id),
        if c.host_id_source == Source::Set {
            "set"
        } else {
            "default: the short host name"
        },
    );
    line("interval", d(c.interval), mark("interval"));
    line("io_timeout", d(c.io_timeout), mark("io_timeout"));
    line(
        "fence_action",
        q(c.fence_action.name()),
        mark("fence_action"),
    );
    let fa_origin = match c.fence_after_source {
        Source::Set => "set".to_string(),
        _ => format!(
            "derived: nfs_server failover_time + max(lease_time, grace_time) + interval + io_timeout = {} + {} + {} + {}",
            duration::fmt(c.nfs_server.failover),
            duration::fmt(c.nfs_server.lease.max(c.nfs_server.grace)),
            duration::fmt(c.interval),
            duration::fmt(c.io_timeout)
        ),
    };
    line("fence_after", d(c.fence_after), &fa_origin);
    match c.escalate_after {
        Some(e) => line("escalate_after", d(e), mark("escalate_after")),
        None => line("# escalate_after", "(none)".into(), "default"),
    }
    line(
        "restart_agent_command",
        argv(&c.restart_agent_command),
        mark("restart_agent_command"),
    );
    line(
        "graceful_reboot_command",
        argv(&c.graceful_reboot_command),
        mark("graceful_reboot_command"),
    );
    line(
        "command_timeout",
        d(c.command_timeout),
        mark("command_timeout"),
    );
    line(
        "takeover_margin",
        d(c.takeover_margin),
        mark("takeover_margin"),
    );
    line(
        "dead_after",
        d(c.dead_after),
        if c.is_set("dead_after") {
            "set"
        } else {
            "derived: the fence timeline + takeover_margin"
        },
    );
    line(
        "run_dir",
        q(&c.run_dir.display().to_string()),
        mark("run_dir"),
    );
    line(
        "watch_peers",
        c.watch_peers.to_string(),
        mark("watch_peers"),
    );
    line(
        "require_mounted",
        c.require_mounted.to_string(),
        mark("require_mounted"),
    );
    line("history", c.history.to_string(), mark("history"));
    match &c.fence_record_file {
        Some(f) => line(
            "fence_record_file",
            q(&f.display().to_string()),
            "set (TESTING: fence steps are recorded, not carried out)",
        ),
        None => line("# fence_record_file", "(none)".into(), "default"),
    }
    out.push_str("\n[nfs_server]\n");
    let mut line = |key: &str, shown: String, origin: &str| {
        out.push_str(&format!("{:<44} # {origin}\n", format!("{key} = {shown}")));
    };
    line(
        "lease_time",
        d(c.nfs_server.lease),
        mark("nfs_server.lease_time"),
    );
    line(
        "grace_time",
        d(c.nfs_server.grace),
        mark("nfs_server.grace_time"),
    );
    line(
        "failover_time",
        d(c.nfs_server.failover),
        mark("nfs_server.failover_time"),
    );
    match &c.watchdog {
        Some(w) => {
            out.push_str("\n[watchdog]\n");
            let mut line = |key: &str, shown: String, origin: &str| {
                out.push_str(&format!("{:<44} # {origin}\n", format!("{key} = {shown}")));
            };
            line(
                "device",
                q(&w.device.display().to_string()),
                mark("watchdog.device"),
            );
            line("timeout", d(w.timeout), mark("watchdog.timeout"));
        }
        None => out.push_str("\n# [watchdog]: none (not armed)\n"),
    }
    // [cloudstack] is printed by `cloudstack::validate` (it owns the section).
    for (i, s) in c.storages.iter().enumerate() {
        out.push_str("\n[[storage]]\n");
        let mut line = |key: &str, shown: String, origin: &str| {
            out.push_str(&format!("{:<44} # {origin}\n", format!("{key} = {shown}")));
        };
        let k = |key: &str| format!("storage[{i}].{key}");
        line(
            "name",
            q(&s.name),
            if c.is_set(&k("name")) {
                "set"
            } else {
                "default: the mount point"
            },
        );
        line("mount", q(&s.mount.display().to_string()), "set");
        line("fence", s.fence.to_string(), mark(&k("fence")));
    }
    out
}

/// What the timeline means for a server failover.
pub fn failover_summary(c: &Config) -> String {
    let min = min_fence_after(&c.nfs_server, c.interval, c.io_timeout);
    let outage = failover_outage(&c.nfs_server);
    let tl = Timeline::of(&c.timings());
    let mut s = format!(
        "failover: an NFS server failover keeps the storage away for at most failover_time + the grace period = {}; fence_after {} {} {} (that + interval + io_timeout)",
        duration::fmt(outage),
        duration::fmt(c.fence_after),
        if c.fence_after >= min { "≥" } else { "<" },
        duration::fmt(min),
    );
    if c.fence_after >= min {
        s.push_str(": an ordinary failover, even with a full grace period, never fences this host");
    } else {
        s.push_str(": renewals in the lease area survive the grace period once the client has reclaimed its open, so an ordinary failover does not fence, but one whose reclaim is refused would");
    }
    s.push_str(&format!(
        "\ntimeline: fenced by {}; peers take over after dead_after {} (`nfsha heartbeat timeline`)",
        tl.fence_done
            .map_or("never (this host does not fence itself)".into(), |t| format!("T+{}", duration::fmt(t))),
        duration::fmt(c.dead_after)
    ));
    s
}

/// `nfsha heartbeat validate --config PATH`.
pub fn main(path: &Path) -> i32 {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("nfsha heartbeat validate: cannot read {file}: {e}");
            return 2;
        }
    };
    match config::parse(&text, &file) {
        Err(errors) => {
            eprintln!("{}", config::render_errors(&file, &errors));
            eprintln!(
                "nfsha heartbeat validate: {file}: {} error(s); `nfsha heartbeat run` would run fail-safe with built-in defaults",
                errors.len()
            );
            2
        }
        Ok(c) => {
            println!("{file}: valid");
            for w in c.warnings() {
                println!("warning: {w}");
            }
            println!("{}", failover_summary(&c));
            print!("\n{}", render(&c));
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_printed_with_its_origin() {
        let c = config::parse(
            "host_id = \"kvm1\"\nfence_action = \"graceful-reboot\"\nescalate_after = \"60s\"\n[watchdog]\ntimeout = \"30s\"\n[[storage]]\nname = \"p\"\nmount = \"/mnt/p\"\n",
            "f",
        )
        .unwrap();
        let text = render(&c);
        for want in [
            "host_id = \"kvm1\"",
            "fence_action = \"graceful-reboot\"",
            "interval = \"10s\"",
            "fence_after = \"170s\"",
            "# derived: nfs_server failover_time",
            "escalate_after = \"60s\"",
            "dead_after = \"",
            "[watchdog]",
            "device = \"/dev/watchdog\"",
            "timeout = \"30s\"",
            "[nfs_server]",
            "failover_time = \"60s\"",
            "[[storage]]",
            "mount = \"/mnt/p\"",
            "fence = true",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
        let set = text.lines().find(|l| l.starts_with("host_id")).unwrap();
        assert!(set.ends_with("# set"), "{set}");
        let def = text.lines().find(|l| l.starts_with("interval")).unwrap();
        assert!(def.ends_with("# default"), "{def}");
        assert!(failover_summary(&c).contains("never fences this host"));
        let c = config::parse("fence_after = \"100s\"\n[[storage]]\nmount = \"/m\"", "f").unwrap();
        assert!(
            failover_summary(&c).contains("100s < 170s"),
            "{}",
            failover_summary(&c)
        );
        assert!(render(&c).contains("# [watchdog]: none (not armed)"));
    }
}
