//! The operations an agent advises in its meta-data `<actions>`: what
//! `pcs resource create` copies into the CIB (see [`super::pcs::default_ops`])
//! and what `crm configure default-timeouts` fills in.
//!
//! Where the values come from:
//! * nfsha's own agents (`ocf:nfsha:*`): their one parameter/action table
//!   ([`crate::agents`]), the same one their meta-data is rendered from;
//! * ClusterLabs' agents (`ocf:heartbeat:*`, `ocf:pacemaker:*`): the meta-data
//!   of resource-agents 4.12.0 and pacemaker 2.1.5 as installed on Debian 12,
//!   read by `scripts/gen-advised-actions` into [`resource_agents`];
//! * LINBIT's `ocf:linbit:drbd`: drbd-utils 9.22 as installed on Debian 12
//!   (`scripts/drbd.ocf`), in the same generated table;
//! * `systemd:`/`service:` and `lsb:` units: the meta-data Pacemaker itself
//!   synthesises for them (`lib/services/systemd.c`, `services_lsb.c`);
//! * fence agents: only a `monitor` without interval or timeout (pcs gives it
//!   60 s).

mod resource_agents;

use std::time::Duration;

use super::Agent;

/// One `<action>` of an agent's meta-data. Durations in whole seconds, as
/// every agent writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advised {
    pub name: &'static str,
    pub timeout: Option<u32>,
    pub interval: Option<u32>,
    /// The role as the meta-data writes it (`Master`, `Slave`, `Promoted`, …).
    pub role: Option<&'static str>,
    /// `OCF_CHECK_LEVEL` of a monitor.
    pub depth: u32,
}

impl Advised {
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout.map(|s| Duration::from_secs(s.into()))
    }
    pub fn interval(&self) -> Option<Duration> {
        self.interval.map(|s| Duration::from_secs(s.into()))
    }
}

pub(crate) const fn a(
    name: &'static str,
    timeout: Option<u32>,
    interval: Option<u32>,
    role: Option<&'static str>,
    depth: u32,
) -> Advised {
    Advised {
        name,
        timeout,
        interval,
        role,
        depth,
    }
}

/// Pacemaker's meta-data for a systemd unit (`systemd_unit_metadata`).
static SYSTEMD: &[Advised] = &[
    a("start", Some(100), None, None, 0),
    a("stop", Some(100), None, None, 0),
    a("monitor", Some(100), Some(60), None, 0),
];

/// Pacemaker's meta-data for an LSB init script (`lsb_get_metadata`).
static LSB: &[Advised] = &[
    a("start", Some(15), None, None, 0),
    a("stop", Some(15), None, None, 0),
    a("restart", Some(15), None, None, 0),
    a("force-reload", Some(15), None, None, 0),
    a("monitor", Some(15), Some(15), None, 0),
];

/// Fence agents advise a monitor without interval or timeout.
static STONITH: &[Advised] = &[a("monitor", None, None, None, 0)];

/// The advised actions of `agent`, in meta-data order; `None` when nfsha
/// does not carry that agent's meta-data.
pub fn actions(agent: &Agent) -> Option<Vec<Advised>> {
    let class = agent.class.to_ascii_lowercase();
    match class.as_str() {
        "stonith" => return Some(STONITH.to_vec()),
        "systemd" | "service" => return Some(SYSTEMD.to_vec()),
        "lsb" => return Some(LSB.to_vec()),
        "ocf" => {}
        _ => return None,
    }
    let provider = agent.provider.as_deref().unwrap_or("heartbeat");
    let table = match provider {
        "nfsha" => return nfsha(&agent.ty),
        "heartbeat" => resource_agents::HEARTBEAT,
        "pacemaker" => resource_agents::PACEMAKER,
        "linbit" => resource_agents::LINBIT,
        _ => return None,
    };
    table
        .binary_search_by(|(name, _)| (*name).cmp(agent.ty.as_str()))
        .ok()
        .map(|i| table[i].1.to_vec())
}

/// The advised timeout of one action (the first entry of that name).
pub fn timeout(agent: &Agent, action: &str) -> Option<Duration> {
    actions(agent)?
        .iter()
        .find(|a| a.name == action)
        .and_then(Advised::timeout)
}

/// nfsha's agents, from their spec (the table their meta-data is made from).
fn nfsha(ty: &str) -> Option<Vec<Advised>> {
    let spec = crate::agents::find(ty)?.spec();
    let t = &spec.timeouts;
    let secs = |d: Duration| Some(d.as_secs().try_into().unwrap_or(u32::MAX));
    let mut v = vec![
        a("start", secs(t.start), None, None, 0),
        a("stop", secs(t.stop), None, None, 0),
        a(
            "monitor",
            secs(t.monitor),
            secs(t.monitor_interval),
            None,
            0,
        ),
    ];
    for &depth in spec.monitor_depths {
        v.push(a(
            "monitor",
            secs(t.monitor),
            secs(t.monitor_interval * 6),
            None,
            depth,
        ));
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_lookup() {
        for t in [
            resource_agents::HEARTBEAT,
            resource_agents::PACEMAKER,
            resource_agents::LINBIT,
        ] {
            for w in t.windows(2) {
                assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
            }
        }
    }

    #[test]
    fn known_agents() {
        let stop = |s: &str| timeout(&Agent::parse(s), "stop").map(|d| d.as_secs());
        assert_eq!(stop("Filesystem"), Some(60));
        assert_eq!(stop("ocf:heartbeat:exportfs"), Some(120));
        assert_eq!(stop("ocf:linbit:drbd"), Some(100));
        assert_eq!(stop("systemd:nfs-server"), Some(100));
        assert_eq!(stop("ocf:heartbeat:NoSuchAgent"), None);
        let nfsha = actions(&Agent::parse("ocf:nfsha:nfsserver")).unwrap();
        let spec = crate::agents::find("nfsserver").unwrap().spec();
        assert_eq!(nfsha[1].timeout(), Some(spec.timeouts.stop));
        let mon = actions(&Agent::parse("IPaddr2")).unwrap();
        assert!(mon
            .iter()
            .any(|a| a.name == "monitor" && a.interval == Some(10)));
    }

    /// The generated table is what the installed agents say (Debian 12's
    /// resource-agents and pacemaker, which CI installs).
    #[test]
    fn table_matches_installed_agents() {
        let installed = ["heartbeat/Filesystem", "linbit/drbd"].iter().all(|a| {
            std::path::Path::new("/usr/lib/ocf/resource.d")
                .join(a)
                .exists()
        });
        if !installed {
            assert!(
                std::env::var("CI").is_err(),
                "resource-agents is not installed (apt-get install resource-agents drbd-utils)"
            );
            eprintln!("resource-agents or drbd-utils not installed here: table check not run");
            return;
        }
        let out = std::process::Command::new("python3")
            .arg("scripts/gen-advised-actions")
            .output()
            .expect("python3 runs the generator");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let now = String::from_utf8(out.stdout).unwrap();
        let have = include_str!("resource_agents.rs");
        // The first line names package versions; compare the table.
        let table = |s: &str| {
            s.split_once("use super")
                .map_or(String::new(), |x| x.1.trim_end().to_string())
        };
        let (now, have) = (table(&now), table(have));
        let diff = now
            .lines()
            .zip(have.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("installed: {a}\ntable:     {b}"));
        assert!(
            now == have,
            "the installed agents advise other values; regenerate with\n\
             scripts/gen-advised-actions > src/model/advised/resource_agents.rs\n{}",
            diff.unwrap_or_else(|| "(one table is longer)".into())
        );
    }
}
