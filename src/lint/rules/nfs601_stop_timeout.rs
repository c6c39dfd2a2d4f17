//! NFS601 stop-timeout.

use std::time::Duration;

use crate::formats::{bools, duration};
use crate::lint::fix::{Fix, OpNow};
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Compares each HA-NFS resource's effective stop timeout (its `stop` op, else
`op_defaults`, else Pacemaker's built-in 20 s) with what the stop needs: the
agent's advised stop timeout (Filesystem 60 s, exportfs 120 s, nfsserver 20 s,
IPaddr2 20 s, DRBD 100 s; nfsha's agents from their own meta-data), and for an
`exportfs` with `wait_for_leasetime_on_stop=true` the lease time plus 2 s.

## Why is this bad?
A stop that times out is a failed stop, and Pacemaker recovers a failed stop
by fencing the node. Unmounting a busy filesystem, unexporting with lock
release, or waiting out the lease routinely take longer than 20 s.

## Example
```text
primitive fs-nfs-share Filesystem params device=/dev/drbd1 directory=/srv/nfs fstype=ext4 \
    op monitor interval=20s timeout=40s
```

## Use instead
crm: `primitive fs-nfs-share Filesystem … op stop timeout=60s interval=0 op monitor interval=20s timeout=40s`

pcs: `pcs resource op add fs-nfs-share stop interval=0s timeout=60s` (or `pcs resource update fs-nfs-share op stop timeout=60s`)

## References
- resource-agents meta-data of Filesystem, exportfs, nfsserver, IPaddr2; drbd-utils `ocf:linbit:drbd`
- Pacemaker Explained, "Resource Operations" (default timeout 20 s; on-fail=fence for stop)
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS601",
    name: "stop-timeout",
    severity: Severity::Warning,
    why: "a stop that times out fails, and Pacemaker recovers a failed stop by fencing the node",
    doc: rule_doc!(),
    check,
};

/// The stop timeout the agent itself advises.
pub(crate) fn advised_stop(ctx: &Ctx, i: usize) -> Option<Duration> {
    let a = ctx.m.resources[i].agent()?;
    if a.is_nfsha() {
        return crate::agents::find(&a.ty).map(|ag| ag.spec().timeouts.stop);
    }
    let secs = match a.part() {
        Part::Filesystem => 60,
        Part::Exportfs => 120,
        Part::NfsServer if a.class == "ocf" => 20,
        Part::Vip => 20,
        Part::Drbd => 100,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let lease = ctx.lease().value;
    for (i, r) in ctx.m.primitives() {
        if !matches!(
            r.part(),
            Part::Filesystem
                | Part::Exportfs
                | Part::NfsServer
                | Part::Vip
                | Part::Drbd
                | Part::NfsState
        ) {
            continue;
        }
        let (have, explicit) = ctx.op_timeout(i, "stop");
        let waits = r.part() == Part::Exportfs
            && ctx
                .param(i, "wait_for_leasetime_on_stop")
                .and_then(bools::pacemaker)
                == Some(true);
        let (need, sev, why) = if waits && have < lease + Duration::from_secs(2) {
            (
                lease + Duration::from_secs(2),
                Severity::Error,
                "it sleeps for the lease time plus 2 s",
            )
        } else if let Some(adv) = advised_stop(ctx, i).filter(|adv| have < *adv) {
            (adv, Severity::Warning, "the agent's advised stop timeout")
        } else {
            continue;
        };
        let source = if explicit {
            ""
        } else {
            " (no stop op: Pacemaker's default)"
        };
        let loc = r.op("stop").next().map_or(&r.loc, |o| &o.loc);
        let t = need.max(Duration::from_secs(need.as_secs().div_ceil(10) * 10));
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "stop timeout of `{}` is {}{source}, below {} ({why})",
                    r.id,
                    duration::fmt(have),
                    duration::fmt(need)
                ),
            )
            .severity(sev)
            .objects([r.id.as_str()])
            .at(loc)
            .fix(Fix::SetOp {
                rsc: r.id.clone(),
                name: "stop".into(),
                interval: Duration::ZERO,
                timeout: t,
                role: None,
                now: if r.op("stop").any(|o| o.timeout.is_some()) {
                    OpNow::Timed
                } else if r.op("stop").next().is_some() {
                    OpNow::Untimed
                } else {
                    OpNow::Missing
                },
            }),
        );
    }
}
