//! NFS702 fence-before-failover.

use std::time::Duration;

use crate::formats::duration;
use super::helpers::key_line;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Loc;

macro_rules! rule_doc {
    () => {
        r#"## What it does
When the KVM-host heartbeat settings (`/etc/nfsha/heartbeat.toml`) are given
together with the server cluster's configuration, checks that hosts do not
fence (`fence_after`, as the heartbeat daemon reads it, its default 80 s
when unset) before a server failover can finish:
the stop and start timeouts of everything placed with the NFS server, the
demote and promote timeouts of the DRBD underneath it, plus the lease and
grace times during which clients reclaim state.

## Why is this bad?
During a failover the storage is unavailable by design. A host heartbeat that
declares the storage dead and fences (reboots) the host before the failover
and grace period complete turns every planned or unplanned server switchover
into a mass reboot of virtual machines — exactly what the HA server was meant
to prevent.

## Example
```text
# heartbeat.toml
fence_after = "60s"
```
with an NFS group whose stops and starts may take 2 minutes and a 90 s lease.

## Use instead
heartbeat.toml: `fence_after = "<above the failover budget nfsha lint prints>"`

crm/pcs: or shorten the server-side timeouts that are larger than needed (never the lease below 60 s, NFS301).

## References
- SUSE TID 000020396, section 5 (grace period)
- nfsha issue 5 (KVM-host storage heartbeat)
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS702",
    name: "fence-before-failover",
    severity: Severity::Error,
    why: "hosts that fence before the server failover and grace period finish reboot their VMs on every switchover",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    // A file the daemon refuses is NFS703's; its values mean nothing.
    let (Some(file), Some(Ok(hb))) = (ctx.m.host.heartbeat.as_ref(), ctx.heartbeat.as_ref()) else {
        return;
    };
    // The daemon fences at fence_after (its default when unset).
    let (deadline, key) = (hb.fence_after, "fence_after");
    let servers = ctx.servers();
    let Some(&s) = servers.first() else { return };
    let members: Vec<usize> = ctx
        .m
        .primitives()
        .map(|(i, _)| i)
        .filter(|&i| ctx.together(i, s))
        .collect();
    // The DRBD (or other promotable clone) under the server is not stopped
    // in a failover: it is demoted on the old node and promoted on the new.
    let promoted: Vec<usize> = ctx
        .placement
        .near_clones(s)
        .iter()
        .filter(|&&c| ctx.promotable(c))
        .flat_map(|&c| ctx.m.leaves(c))
        .collect();
    let stops: Duration = members.iter().map(|&i| ctx.op_timeout(i, "stop").0).sum::<Duration>()
        + promoted.iter().map(|&i| ctx.op_timeout(i, "demote").0).sum::<Duration>();
    let starts: Duration = members.iter().map(|&i| ctx.op_timeout(i, "start").0).sum::<Duration>()
        + promoted.iter().map(|&i| ctx.op_timeout(i, "promote").0).sum::<Duration>();
    let (lease, grace) = (ctx.lease(), ctx.grace());
    let budget = stops + starts + lease.value + grace.value;
    if deadline >= budget {
        return;
    }
    let mut f = Finding::new(
        &RULE,
        format!(
            "hosts fence after {} ({key}) but a failover of `{}` may take {} (stops and demotes {} + promotes and starts {} + lease {} + grace {})",
            duration::fmt(deadline),
            ctx.id(ctx.m.top(s)),
            duration::fmt(budget),
            duration::fmt(stops),
            duration::fmt(starts),
            duration::fmt(lease.value),
            duration::fmt(grace.value)
        ),
    )
    .objects([key.to_string(), ctx.id(s).to_string()])
    .help(format!("heartbeat.toml: {key} = \"{}\" or more", duration::fmt(budget)));
    f.location = Some(Loc::new(&file.file, key_line(&file.text, key)));
    out.push(f);
}
