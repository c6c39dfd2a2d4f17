//! NFS602 monitor-missing.

use std::time::Duration;

use crate::lint::fix::{Fix, OpNow};
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::{Kind, Part, Resource, Role};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds primitives with no enabled recurring `monitor` operation (interval
above zero). For promotable clones, both roles should be monitored, each
with its own interval.

## Why is this bad?
Pacemaker only learns that a resource failed by monitoring it. Without a
monitor a dead nfsd, a vanished export or a lost address stays "Started"
and the cluster never fails over; clients hang until someone notices.

## Example
```text
primitive exportfs-nfs exportfs params directory=/srv/nfs clientspec=10.0.0.0/24
```

## Use instead
crm: `primitive exportfs-nfs exportfs params … op monitor interval=30s timeout=90s`

pcs: `pcs resource op add exportfs-nfs monitor interval=30s timeout=90s`

## References
- Pacemaker Explained, "Monitoring Resources for Failure"
- SUSE HA NFS guide (monitor ops on every primitive)
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS602",
    name: "monitor-missing",
    severity: Severity::Warning,
    why: "without a recurring monitor Pacemaker never notices the resource failed, so it never fails over",
    doc: rule_doc!(),
    check,
};

/// The monitor an agent advises: (interval, timeout), from nfsha's own
/// meta-data, else resource-agents' and drbd-utils' meta-data.
fn advised(r: &Resource) -> (Duration, Duration) {
    let secs = |i, t| (Duration::from_secs(i), Duration::from_secs(t));
    if let Some(a) = r.agent().filter(|a| a.is_nfsha()) {
        if let Some(ag) = crate::agents::find(&a.ty) {
            let t = &ag.spec().timeouts;
            return (t.monitor_interval, t.monitor);
        }
    }
    match r.part() {
        Part::Filesystem => secs(20, 40),
        Part::Exportfs | Part::NfsServer | Part::Vip | Part::PortBlock => secs(10, 20),
        Part::Fence => secs(60, 20),
        _ => secs(30, 60),
    }
}

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    for (i, r) in m.primitives() {
        if m.ancestors(i).any(|a| m.resources[a].kind == Kind::Bundle) {
            continue; // bundles monitor their replicas themselves
        }
        let monitored = r
            .op("monitor")
            .any(|o| o.enabled && o.interval.is_some_and(|d| !d.is_zero()));
        if monitored {
            continue;
        }
        let mut f = Finding::new(
            &RULE,
            format!("`{}` has no recurring monitor operation", r.id),
        )
        .objects([r.id.as_str()])
        .at(&r.loc);
        let promotable = m.clone_of(i).is_some_and(|c| ctx.promotable(c));
        let (interval, timeout) = advised(r);
        // A promotable clone is monitored in each role, at different
        // intervals (Pacemaker tells the two operations apart by interval).
        let roles: &[(Option<Role>, u64)] = if promotable {
            &[(Some(Role::Promoted), 29), (Some(Role::Unpromoted), 31)]
        } else {
            &[(None, 0)]
        };
        for &(role, every) in roles {
            f = f.fix(Fix::SetOp {
                rsc: r.id.clone(),
                name: "monitor".into(),
                interval: if every > 0 { Duration::from_secs(every) } else { interval },
                timeout,
                role,
                now: OpNow::Missing,
            });
        }
        out.push(f);
    }
}
