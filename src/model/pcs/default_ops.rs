//! The operations `pcs resource create` and `pcs stonith create` write into
//! the CIB besides the ones given with `op`, per pcs generation. Read from
//! pcs itself:
//!
//! * pcs 0.9 up to 0.9.159 (`utils.get_default_op_values`,
//!   `resource.resource_create`): for an `ocf:` agent, its meta-data actions
//!   named monitor, start, stop, promote and demote; for any other class
//!   nothing. Then, if no monitor is defined, `monitor interval=60s`.
//!   `--no-default-ops` leaves only that monitor.
//! * pcs 0.9.160 to 0.12 (commit 798021569 "copy more operations", then
//!   `pcs/lib/cib/resource/agent.py` `get_default_operations`): every
//!   meta-data action except `meta-data`, `status` and `validate-all`, for
//!   every class (Pacemaker supplies systemd and LSB meta-data). With
//!   `--no-default-ops`, only the agent's monitor actions. A monitor is
//!   always added if the agent has none (interval 60 s, no timeout).
//! * In both, an operation the user gave with `op <name>` replaces every
//!   default operation of that name; an action without an interval gets 60 s
//!   for monitor and 0 s otherwise; two defaults of one name with the same
//!   interval are moved apart by a second (`uniquify_operations_intervals`).
//! * `pcs stonith create` copies only the fence agent's monitor.
//!
//! The advised values come from [`crate::model::advised`].

use std::time::Duration;

use super::super::advised::{self, Advised};
use super::super::{Agent, Loc, Op, Role};

/// Which pcs wrote the commands; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    /// pcs 0.9 before 0.9.160 (RHEL 6 and RHEL 7.0–7.4).
    Legacy,
    /// pcs 0.9.160 and later (RHEL 7.5 onwards, 0.10, 0.11, 0.12).
    Current,
}

/// The operations added to a new resource of `agent` when the user gave
/// operations named `given`.
pub fn default_ops(
    agent: &Agent,
    stonith: bool,
    no_default_ops: bool,
    given: &[&str],
    generation: Generation,
    loc: &Loc,
) -> Vec<Op> {
    let known = advised::actions(agent).unwrap_or_default();
    let picked: Vec<Advised> = known
        .into_iter()
        .filter(|a| {
            if stonith || no_default_ops {
                return a.name == "monitor" && (generation == Generation::Current || stonith);
            }
            match generation {
                Generation::Legacy => {
                    agent.class.eq_ignore_ascii_case("ocf")
                        && matches!(a.name, "monitor" | "start" | "stop" | "promote" | "demote")
                }
                Generation::Current => true,
            }
        })
        .filter(|a| !given.contains(&a.name))
        .collect();
    let mut ops: Vec<Op> = Vec::new();
    for a in picked {
        let mut op = Op::named(a.name, loc.clone());
        op.interval = Some(a.interval().unwrap_or(default_interval(a.name)));
        op.timeout = a.timeout();
        op.role = a.role.and_then(Role::parse);
        // Two defaults with one name and one interval: pcs moves the later
        // one up a second at a time.
        while ops
            .iter()
            .any(|o| o.name == op.name && o.interval == op.interval)
        {
            op.interval = op.interval.map(|d| d + Duration::from_secs(1));
        }
        ops.push(op);
    }
    if !given.contains(&"monitor") && !ops.iter().any(|o| o.name == "monitor") {
        let mut op = Op::named("monitor", loc.clone());
        op.interval = Some(default_interval("monitor"));
        ops.push(op);
    }
    ops
}

/// pcs's interval for an operation written without one.
pub fn default_interval(name: &str) -> Duration {
    if name == "monitor" {
        Duration::from_secs(60)
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ops(
        agent: &str,
        given: &[&str],
        gen: Generation,
        no_default: bool,
    ) -> Vec<(String, Option<u64>, Option<u64>)> {
        let loc = Loc::new(&Arc::from("t"), 1);
        let stonith = agent.starts_with("stonith:");
        default_ops(&Agent::parse(agent), stonith, no_default, given, gen, &loc)
            .into_iter()
            .map(|o| {
                (
                    o.name,
                    o.interval.map(|d| d.as_secs()),
                    o.timeout.map(|d| d.as_secs()),
                )
            })
            .collect()
    }

    fn op(n: &str, i: u64, t: Option<u64>) -> (String, Option<u64>, Option<u64>) {
        (n.to_string(), Some(i), t)
    }

    /// The same operations pcs 0.11.5 writes (checked with
    /// `pcs -f cib.xml resource create … ` on Debian 12).
    #[test]
    fn current_pcs_copies_the_agents_actions() {
        assert_eq!(
            ops("ocf:heartbeat:nfsserver", &[], Generation::Current, false),
            [
                op("start", 0, Some(40)),
                op("stop", 0, Some(20)),
                op("monitor", 10, Some(20))
            ]
        );
        assert_eq!(
            ops("IPaddr2", &["monitor"], Generation::Current, false),
            [op("start", 0, Some(20)), op("stop", 0, Some(20))]
        );
        assert_eq!(
            ops("stonith:fence_ipmilan", &[], Generation::Current, false),
            [op("monitor", 60, None)]
        );
        assert_eq!(
            ops("ocf:heartbeat:exportfs", &[], Generation::Current, true),
            [op("monitor", 10, Some(20))]
        );
        assert_eq!(
            ops("ocf:acme:unknown", &[], Generation::Current, false),
            [op("monitor", 60, None)]
        );
        let drbd = ops("ocf:linbit:drbd", &[], Generation::Current, false);
        assert!(drbd.contains(&op("stop", 0, Some(100))));
        assert_eq!(drbd.iter().filter(|o| o.0 == "monitor").count(), 2);
    }

    #[test]
    fn legacy_pcs_copies_five_actions_of_ocf_agents_only() {
        assert_eq!(
            ops("ocf:heartbeat:Dummy", &[], Generation::Legacy, false),
            [
                op("start", 0, Some(20)),
                op("stop", 0, Some(20)),
                op("monitor", 10, Some(20))
            ]
        );
        assert_eq!(
            ops("systemd:nfs-server", &[], Generation::Legacy, false),
            [op("monitor", 60, None)]
        );
        assert_eq!(
            ops("systemd:nfs-server", &[], Generation::Current, false).len(),
            3
        );
        assert_eq!(
            ops("ocf:heartbeat:exportfs", &[], Generation::Legacy, true),
            [op("monitor", 60, None)]
        );
    }
}
