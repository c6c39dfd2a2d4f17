//! NFS602 monitor-missing.

use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Kind;

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
        out.push(
            Finding::new(
                &RULE,
                format!("`{}` has no recurring monitor operation", r.id),
            )
            .objects([r.id.as_str()])
            .at(&r.loc)
            .help(format!(
                "crm: add `op monitor interval=30s timeout=60s` to primitive {}",
                r.id
            ))
            .help(format!(
                "pcs: pcs resource op add {} monitor interval=30s timeout=60s",
                r.id
            )),
        );
    }
}
