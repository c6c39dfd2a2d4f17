//! What crmsh adds to an object typed as a command, per crmsh version
//! (`nfsha lint --crmsh`). Read from crmsh itself (`crmsh/parse.py`,
//! `crmsh/cibconfig.py`, `crmsh/ra.py`) and checked against the real crmsh
//! 4.4.1, 4.4.2, 4.6.0, 4.6.1 and 5.0.0 (`tests/crmsh_versions.rs`):
//!
//! * Only what is typed is completed: `crm configure primitive …`, lines at
//!   crm's prompt, a `crm configure` here-document, `crm -f FILE` (crmsh
//!   parses these word by word). A file loaded with `crm configure load
//!   update`, an editor session and `show` output are read as written.
//! * **Advised operations** (crmsh 4.4.2 to 4.6.0, commit ce2ea9a9
//!   "populate advised monitor/start/stop operations values"): a typed
//!   primitive gets its agent's meta-data actions named monitor, start,
//!   stop, promote and demote that it does not configure (every advised
//!   monitor, with its interval, timeout and role; an action without an
//!   interval gets 0 s), and an operation it configures without a timeout
//!   gets the advised one, a monitor without an interval the advised one
//!   (20 s when the agent advises none). Fence agents too, until
//!   `has_fa_advised_op` (bsc#1228858, default off). Not for a primitive
//!   made from a template (`@tmpl`).
//! * crmsh 4.6.1 and 5.x add none: the option `has_ra_advised_op`
//!   (bsc#1231386, "this auto-add feature might surprise users") is off by
//!   default. A site that turns it on in crm.conf lints with `--crmsh
//!   4.6.0`.
//! * **Clone meta** (crmsh 4.4.2 on, 5.x included; commit ef3d2515,
//!   bsc#1205522): a typed `clone` of a primitive whose agent advises
//!   promote and demote gets `promotable=true` and `interleave=true`, any
//!   other typed clone of a primitive `interleave=true`, where not set.
//! * SUSE's packages are snapshots (`4.6.0+20241016.a9feecb0`): the date
//!   says which of these changes they carry (each backported to the 4.4, 4.5
//!   and 4.6 branches; the ops off from 2024-10-10 on).
//!
//! The advised values come from [`crate::model::advised`]; for an agent
//! whose meta-data nfsha does not carry nothing is added (crmsh would add
//! what that agent advises).

use std::time::Duration;

use super::super::advised::{self, Advised};
use super::super::{Agent, Kind, Loc, NvPair, Op, Resource, Role};
use crate::formats::version::{self, Version};

/// The crmsh that runs the commands; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crmsh(pub Version);

/// Which primitives a crmsh gives their advised operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdvisedOps {
    None,
    /// Resource agents, not fence agents.
    ResourceAgents,
    /// Resource and fence agents.
    All,
}

/// The date (`YYYYMMDD`) of each change on crmsh's master and 4.5 branches,
/// and on its 4.4 branch, whose snapshots carry the 4.4.0 tag.
struct Change {
    released_in: (u32, u32, u32),
    master: u32,
    branch_4_4: u32,
}

const ADVISED_OPS: Change = Change {
    released_in: (4, 4, 2),
    master: 20221107,
    branch_4_4: 20221125,
};
const CLONE_META: Change = Change {
    released_in: (4, 4, 2),
    master: 20221129,
    branch_4_4: 20221130,
};
/// bsc#1231386: advised operations off by default, on every branch.
const OPS_OFF_SNAPSHOT: u32 = 20241010;
/// bsc#1228858: not for fence agents (crmsh-4.6 branch).
const FENCE_OFF_SNAPSHOT: u32 = 20240829;

/// A fence agent's actions as crmsh reads them: the agent advises a
/// monitor without interval or timeout, and Pacemaker appends start and
/// stop with 20 s (`crm_resource --show-metadata stonith:fence_ipmilan`).
/// pcs copies only the monitor ([`advised::actions`]).
static FENCE: &[Advised] = &[
    advised::a("monitor", None, None, None, 0),
    advised::a("stop", Some(20), None, None, 0),
    advised::a("start", Some(20), None, None, 0),
];

/// The actions crmsh copies (`constants.ADVISED_ACTION_LIST`).
const COPIED: &[&str] = &["monitor", "start", "stop", "promote", "demote"];

impl Default for Crmsh {
    /// 4.4.1, Debian 12's, which adds nothing: see [`Crmsh::DEFAULT`].
    fn default() -> Crmsh {
        Crmsh(Version {
            release: (4, 4, 1),
            snapshot: None,
        })
    }
}

impl Crmsh {
    /// The version assumed when none is given: Debian 12's crmsh, which
    /// completes nothing, so a command file is read as written and a
    /// missing operation is never assumed filled in.
    pub const DEFAULT: &'static str = "4.4.1";

    /// Read `4.6.0`, Debian's `4.4.1-1+deb12u1`, SUSE's
    /// `4.6.0+20241016.a9feecb0-150600.3.9.1`.
    pub fn parse(raw: &str) -> Result<Crmsh, String> {
        version::parse(raw).map(Crmsh).ok_or_else(|| {
            format!("crmsh version {raw:?} is invalid: expected e.g. 4.6.0, 4.4.1-1+deb12u1 or 4.6.0+20241016.a9feecb0")
        })
    }

    /// Whether this crmsh carries a change.
    fn has(self, c: &Change) -> bool {
        let Version { release, snapshot } = self.0;
        if release >= c.released_in {
            return true;
        }
        match snapshot {
            Some(d) if release == (4, 4, 0) => d >= c.branch_4_4,
            Some(d) if release > (4, 4, 0) => d >= c.master,
            _ => false,
        }
    }

    /// Which typed primitives get their agent's advised operations.
    pub fn advised_ops(self) -> AdvisedOps {
        let Version { release, snapshot } = self.0;
        let date = snapshot.unwrap_or(0);
        if !self.has(&ADVISED_OPS) || release >= (4, 6, 1) || date >= OPS_OFF_SNAPSHOT {
            AdvisedOps::None
        } else if release >= (4, 6, 0) && date >= FENCE_OFF_SNAPSHOT {
            AdvisedOps::ResourceAgents
        } else {
            AdvisedOps::All
        }
    }

    /// Whether a typed clone gets `promotable`/`interleave` meta.
    pub fn clone_meta(self) -> bool {
        self.has(&CLONE_META)
    }
}

impl std::fmt::Display for Crmsh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b, c) = self.0.release;
        write!(f, "{a}.{b}.{c}")?;
        match self.0.snapshot {
            Some(d) => write!(f, "+{d}"),
            None => Ok(()),
        }
    }
}

/// Complete a primitive typed as a crm command, as `crmsh` does.
pub(super) fn primitive(r: &mut Resource, crmsh: Crmsh, loc: &Loc) {
    if r.template.is_some() {
        return;
    }
    let Kind::Primitive(agent) = &r.kind else {
        return;
    };
    let fence = agent.class.eq_ignore_ascii_case("stonith");
    match crmsh.advised_ops() {
        AdvisedOps::None => return,
        AdvisedOps::ResourceAgents if fence => return,
        _ => {}
    }
    let actions = if fence {
        FENCE.to_vec()
    } else {
        match advised::actions(agent) {
            Some(a) => a,
            None => return,
        }
    };
    let copied: Vec<&Advised> = actions
        .iter()
        .filter(|a| COPIED.contains(&a.name))
        .collect();
    let secs = |s: u32| Duration::from_secs(s.into());
    let configured: Vec<String> = r.ops.iter().map(|o| o.name.clone()).collect();
    for op in &mut r.ops {
        if op.interval.is_none() {
            // The parser gives every other operation 0 s; a monitor takes
            // the advised interval, else 20 s.
            op.interval = Some(match op.name.as_str() {
                "monitor" => extract(&copied, "monitor", op.role, |a| {
                    Some(a.interval.unwrap_or(0))
                })
                .map_or(Duration::from_secs(20), secs),
                _ => Duration::ZERO,
            });
        }
        if op.timeout.is_none() {
            op.timeout = extract(&copied, &op.name, op.role, |a| a.timeout).map(secs);
        }
    }
    // Every advised monitor first, then the other actions (one per name,
    // the last advised), as crmsh lists them.
    let monitors = copied.iter().filter(|a| a.name == "monitor");
    let others = COPIED[1..]
        .iter()
        .filter_map(|n| copied.iter().rev().find(|a| a.name == *n));
    for a in monitors.chain(others) {
        if configured.iter().any(|n| n == a.name) {
            continue;
        }
        let mut op = Op::named(a.name, loc.clone());
        op.interval = Some(secs(a.interval.unwrap_or(0)));
        op.timeout = a.timeout();
        op.role = a.role.and_then(Role::parse);
        r.ops.push(op);
    }
}

/// The advised value that completes a configured operation
/// (`extract_advised_value`): for a monitor with a role, that of the last
/// advised monitor of a compatible role, the search stopping at one
/// without a role or without the value; for a monitor without a role, the
/// first advised monitor's; for another action, the advised one's.
fn extract(
    copied: &[&Advised],
    name: &str,
    role: Option<Role>,
    value: impl Fn(&Advised) -> Option<u32>,
) -> Option<u32> {
    let mut same = copied.iter().filter(|a| a.name == name);
    match (name, role) {
        ("monitor", Some(role)) => {
            let mut found = None;
            for a in same {
                let Some(theirs) = a.role.and_then(Role::parse) else {
                    break;
                };
                if theirs == role {
                    match value(a) {
                        Some(v) => found = Some(v),
                        None => break,
                    }
                }
            }
            found
        }
        ("monitor", None) => same.next().and_then(|a| value(a)),
        _ => same.next_back().and_then(|a| value(a)),
    }
}

/// Complete a clone typed as a crm command whose member is `member`.
pub(super) fn clone(r: &mut Resource, member: Option<&Agent>, crmsh: Crmsh, loc: &Loc) {
    if !crmsh.clone_meta() || !matches!(r.kind, Kind::Clone { .. }) {
        return;
    }
    let Some(agent) = member else {
        return; // a clone of a group, or of nothing yet: crmsh adds nothing
    };
    let actions = advised::actions(agent).unwrap_or_default();
    let promotable = ["promote", "demote"]
        .iter()
        .all(|n| actions.iter().any(|a| a.name == *n));
    let names: &[&str] = if promotable {
        &["promotable", "interleave"]
    } else {
        &["interleave"]
    };
    let unset: Vec<&str> = ["promotable", "interleave"]
        .into_iter()
        .filter(|n| !r.meta.iter().any(|p| p.name == *n))
        .collect();
    if unset.is_empty() {
        return;
    }
    for name in names.iter().filter(|n| unset.contains(n)) {
        r.meta.push(NvPair {
            name: (*name).to_string(),
            value: "true".into(),
            loc: loc.clone(),
            conditional: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn crmsh(v: &str) -> Crmsh {
        Crmsh::parse(v).unwrap()
    }

    #[test]
    fn versions_that_add_advised_operations() {
        for (v, want) in [
            ("4.4.1", AdvisedOps::None),
            ("4.4.1-1+deb12u1", AdvisedOps::None),
            ("4.4.2", AdvisedOps::All),
            ("4.5.1", AdvisedOps::All),
            ("4.6.0", AdvisedOps::All),
            ("4.6.1", AdvisedOps::None),
            ("4.6.2", AdvisedOps::None),
            ("5.0.0", AdvisedOps::None),
            // SUSE snapshots: the 4.4 branch carries the 4.4.0 tag.
            ("4.4.0+20221124.abc", AdvisedOps::None),
            ("4.4.0+20221125.abc", AdvisedOps::All),
            ("4.4.1+20221106.abc", AdvisedOps::None),
            ("4.4.1+20221107.abc", AdvisedOps::All),
            ("4.6.0+20240828.abc", AdvisedOps::All),
            ("4.6.0+20240829.abc", AdvisedOps::ResourceAgents),
            ("4.5.1+20240829.abc", AdvisedOps::All),
            ("4.6.0+20241010.abc", AdvisedOps::None),
            ("4.5.1+20241011.abc", AdvisedOps::None),
            ("4.4.0+20241016.abc", AdvisedOps::None),
        ] {
            assert_eq!(crmsh(v).advised_ops(), want, "{v}");
        }
        for (v, want) in [
            ("4.4.1", false),
            ("4.4.2", true),
            ("4.6.1", true),
            ("5.0.0", true),
            ("4.4.0+20221129.abc", false),
            ("4.4.0+20221130.abc", true),
            ("4.4.1+20221128.abc", false),
            ("4.4.1+20221129.abc", true),
            ("4.6.0+20241016.abc", true),
        ] {
            assert_eq!(crmsh(v).clone_meta(), want, "{v}");
        }
        assert_eq!(Crmsh::default(), crmsh(Crmsh::DEFAULT));
        assert_eq!(
            crmsh("4.6.0+20241016.a9feecb0-1.1").to_string(),
            "4.6.0+20241016"
        );
        assert!(Crmsh::parse("4.six").unwrap_err().contains("\"4.six\""));
    }

    type Row = (String, Option<u64>, Option<u64>, Option<Role>);

    fn complete(agent: &str, given: &[(&str, &[(&str, &str)])], v: &str) -> Vec<Row> {
        let file: Arc<str> = Arc::from("t");
        let mut r = Resource::new(
            "r",
            Kind::Primitive(Agent::parse(agent)),
            Loc::new(&file, 1),
        );
        for (name, attrs) in given {
            let mut op = Op::named(name, Loc::new(&file, 1));
            for (k, val) in *attrs {
                op.set(k, val);
            }
            r.ops.push(op);
        }
        primitive(&mut r, crmsh(v), &Loc::new(&file, 1));
        r.ops
            .into_iter()
            .map(|o| {
                (
                    o.name,
                    o.interval.map(|d| d.as_secs()),
                    o.timeout.map(|d| d.as_secs()),
                    o.role,
                )
            })
            .collect()
    }

    fn row(n: &str, i: u64, t: Option<u64>, role: Option<Role>) -> Row {
        (n.to_string(), Some(i), t, role)
    }

    /// What the real crmsh 4.6.0 wrote for `crm configure primitive` (see
    /// tests/fixtures/crmsh/).
    #[test]
    fn advised_operations_as_crmsh_adds_them() {
        assert_eq!(
            complete("IPaddr2", &[], "4.6.0"),
            [
                row("monitor", 10, Some(20), None),
                row("start", 0, Some(20), None),
                row("stop", 0, Some(20), None),
            ]
        );
        assert!(complete("IPaddr2", &[], "4.4.1").is_empty());
        assert!(complete("IPaddr2", &[], "5.0.0").is_empty());
        // Configured operations are completed, not replaced.
        assert_eq!(
            complete(
                "ocf:heartbeat:exportfs",
                &[
                    ("monitor", &[("timeout", "30s")]),
                    ("stop", &[("interval", "0")])
                ],
                "4.5.0"
            ),
            [
                row("monitor", 10, Some(30), None),
                row("stop", 0, Some(120), None),
                row("start", 0, Some(40), None),
            ]
        );
        // Both monitors of a promotable agent, with their roles; promote
        // and demote too; a configured monitor with a role takes that
        // role's advised values.
        let drbd = complete(
            "ocf:linbit:drbd",
            &[("monitor", &[("role", "Slave")])],
            "4.6.0",
        );
        assert_eq!(
            drbd[0],
            row("monitor", 20, Some(20), Some(Role::Unpromoted))
        );
        assert!(drbd.iter().any(|o| o.0 == "promote"));
        assert!(drbd.iter().any(|o| o.0 == "demote"));
        assert!(!drbd.iter().skip(1).any(|o| o.0 == "monitor"));
        // Fence agents: a monitor without interval (not recurring), and
        // Pacemaker's start and stop, until crmsh stopped completing them.
        assert_eq!(
            complete("stonith:fence_ipmilan", &[], "4.6.0"),
            [
                row("monitor", 0, None, None),
                row("start", 0, Some(20), None),
                row("stop", 0, Some(20), None),
            ]
        );
        assert!(complete("stonith:fence_ipmilan", &[], "4.6.0+20240901.x").is_empty());
        assert_eq!(complete("IPaddr2", &[], "4.6.0+20240901.x").len(), 3);
        // Agents whose meta-data nfsha does not carry: nothing.
        assert!(complete("ocf:acme:thing", &[], "4.6.0").is_empty());
        // An agent nfsha has no meta-data for: left as written.
        assert_eq!(
            complete("ocf:acme:thing", &[("monitor", &[])], "4.6.0"),
            [(String::from("monitor"), None, None, None)]
        );
        // galera advises a monitor without a role before its role
        // monitors: crmsh's search stops there, so a configured
        // Promoted monitor gets 20 s and no timeout.
        assert_eq!(
            complete(
                "ocf:heartbeat:galera",
                &[("monitor", &[("role", "Promoted")])],
                "4.6.0"
            )[0],
            row("monitor", 20, None, Some(Role::Promoted))
        );
    }
}
