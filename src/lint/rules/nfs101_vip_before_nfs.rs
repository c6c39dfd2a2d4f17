//! NFS101 vip-before-nfs.

use super::helpers::quote_list;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::{Action, Part};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds a virtual IP (`IPaddr2`, `IPaddr`, `ocf:nfsha:vip`) that is placed with
an NFS server or an export but is not ordered to start after it.

## Why is this bad?
The address is how clients find the service. If it comes up before the exports
and the server, reconnecting clients get "access denied", stale file handles
or a refused connection, and give up instead of retrying; at stop, the address
must go first so that clients see a plain network failure they retry. SUSE and
Red Hat both put the address last in the group.

Exception: LINBIT's layout starts the address before nfsd but blocks TCP 2049
with `portblock action=block` before it and unblocks it with
`portblock action=unblock` after the exports. That is accepted.

## Example
```text
group g-nfs vip-nfs fs-nfs nfsserver exportfs-nfs
```

## Use instead
crm: `group g-nfs fs-nfs nfsserver exportfs-nfs vip-nfs`

pcs: `pcs resource group add g-nfs vip-nfs --after exportfs-nfs`

## References
- SUSE TID 000020396, section 3 and "Additional Information"
- Red Hat, "Configuring an active/passive NFS server in a Red Hat High Availability cluster"
- resource-agents `heartbeat/portblock` meta-data
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS101",
    name: "vip-before-nfs",
    severity: Severity::Error,
    why: "clients reaching the address before the exports exist get errors instead of a retryable network failure",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    let blocks = |action: &str| -> Vec<usize> {
        ctx.part(Part::PortBlock)
            .iter()
            .copied()
            .filter(|&i| {
                ctx.param(i, "action")
                    .is_some_and(|a| a.eq_ignore_ascii_case(action))
            })
            .collect()
    };
    let (block, unblock) = (blocks("block"), blocks("unblock"));
    for &v in ctx.part(Part::Vip) {
        let vr = &m.resources[v];
        let late: Vec<usize> = ctx
            .placed_with(v)
            .iter()
            .copied()
            .filter(|&s| matches!(m.resources[s].part(), Part::Exportfs | Part::NfsServer))
            .filter(|&s| !ctx.order.starts_before(s, v))
            .filter(|&s| {
                // Port 2049 blocked before the address and unblocked after s.
                let blocked = block.iter().any(|&b| ctx.order.starts_before(b, v));
                let unblocked = unblock.iter().any(|&u| ctx.order.starts_before(s, u));
                !(blocked && unblocked)
            })
            .collect();
        if late.is_empty() {
            continue;
        }
        let names: Vec<&str> = late.iter().map(|&s| ctx.id(s)).collect();
        let mut f = Finding::new(&RULE, format!("virtual IP `{}` can start before {}", vr.id, quote_list(&names)))
            .objects(std::iter::once(vr.id.as_str()).chain(names.iter().copied()))
            .at(&vr.loc);
        // Members of the address's group: it moves right after the last
        // export or server of the group. Others are ordered before it.
        let g = m.group_of(v);
        if let Some(g) = g.filter(|&g| late.iter().any(|&s| m.group_of(s) == Some(g))) {
            let children = &m.resources[g].children;
            let last = children
                .iter()
                .rev()
                .find(|&&c| matches!(m.resources[c].part(), Part::Exportfs | Part::NfsServer))
                .copied()
                .expect("a late member is in the group");
            f = f.fix(ctx.move_after(v, last).expect("same group"));
        }
        let mut units: Vec<&str> = vec![ctx.unit(v)];
        for &s in late.iter().filter(|&&s| g.is_none() || m.group_of(s) != g) {
            if !units.contains(&ctx.unit(s)) {
                units.push(ctx.unit(s));
                f = f.fix(ctx.add_order(s, Action::Start, v, Action::Start));
            }
        }
        out.push(f);
    }
}
