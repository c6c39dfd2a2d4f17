//! NFS104 promote-order.

use crate::lint::{Ctx, Finding, Rule, Severity};
use std::collections::HashMap;

use crate::lint::fix::{Fix, OrderSpec};
use crate::model::{Action, Order, OrderKind};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds a filesystem on DRBD (`Filesystem` with a `/dev/drbd…` device, or
nfsha's `nfsstate`) whose start is not ordered after the *promote* of its
DRBD clone. It names the three usual causes: no order at all; an order after
the DRBD *start* (the device is still Secondary then); and the then-action
trap, `order o Mandatory: cl-drbd:promote g-nfs` with no action on the second
resource, which Pacemaker reads as "promote g-nfs after promoting cl-drbd"
(an absent then-action defaults to the first-action), so the group's start is
not ordered at all.

## Why is this bad?
A DRBD device can only be mounted where it is Primary. Mounting races the
promotion: the start fails, the group moves or the node is fenced.

## Example
```text
order o-drbd-before-nfs Mandatory: cl-drbd-nfs:promote g-nfs
```

## Use instead
crm: `order o-drbd-before-nfs Mandatory: cl-drbd-nfs:promote g-nfs:start`

pcs: `pcs constraint order promote cl-drbd-nfs then start g-nfs`

## References
- Pacemaker `lib/pacemaker/pcmk_sched_ordering.c`: `if (action_then == NULL) action_then = action_first;`
- Pacemaker Explained, "Ordering Constraints" (then-action defaults to first-action)
- LINBIT DRBD 9 User's Guide, "Integrating DRBD with Pacemaker clusters"
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS104",
    name: "promote-order",
    severity: Severity::Error,
    why: "DRBD can only be mounted where it is Primary; without promote → start the mount races the promotion",
    doc: rule_doc!(),
    check,
};

/// One ordered pair of sets from an order constraint, expanded once.
struct Step<'a> {
    order: &'a Order,
    first: Action,
    then: Action,
    then_prims: Vec<usize>,
}

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    // Index, once, every adjacent pair of sets by the primitives of its first
    // side, so each mount only looks at the orders that name its DRBD.
    let mut by_first: HashMap<usize, Vec<Step>> = HashMap::new();
    for o in &m.orders {
        let acts = o.actions();
        for w in 0..o.sets.len().saturating_sub(1) {
            let then_prims: Vec<usize> = o.sets[w + 1]
                .resources
                .iter()
                .flat_map(|r| m.expand(r))
                .collect();
            for r in &o.sets[w].resources {
                for p in m.expand(r) {
                    by_first.entry(p).or_default().push(Step {
                        order: o,
                        first: acts[w],
                        then: acts[w + 1],
                        then_prims: then_prims.clone(),
                    });
                }
            }
        }
    }
    // One finding per top-level resource (the group) and DRBD, not per mount.
    let mut reported = Vec::new();
    for &(fs, _) in ctx.mounts() {
        let Some((Some(drbd), clone)) = ctx.drbd_for_mount(fs) else {
            continue;
        };
        if reported.contains(&(m.top(fs), drbd)) {
            continue;
        }
        // The order graph knows every path, through groups, sets and other
        // resources; the orders are looked at only to say what went wrong.
        if ctx.order.before(drbd, Action::Promote, fs, Action::Start) {
            continue;
        }
        let covers = |prims: &[usize]| {
            prims
                .iter()
                .any(|&p| p == fs || ctx.order.starts_before(p, fs))
        };
        let mut trap = None;
        let mut after_start = None;
        for st in by_first.get(&drbd).map(Vec::as_slice).unwrap_or(&[]) {
            if !covers(&st.then_prims) {
                continue;
            }
            let o = st.order;
            match (st.first, st.then) {
                (Action::Promote, Action::Promote) if o.simple && o.sets[1].action.is_none() => {
                    trap = Some(o)
                }
                (Action::Start, Action::Start) => after_start = Some(o),
                _ => {}
            }
        }
        reported.push((m.top(fs), drbd));
        let cid = clone.map_or(ctx.id(drbd), |c| ctx.id(c)).to_string();
        let (msg, objs, loc) = if let Some(o) = trap {
            (
                format!(
                    "order `{}` orders the *promote* of `{}` after promoting `{cid}` (the then-action defaults to the first-action), so the start of `{}` is not ordered after the promote",
                    o.id, o.sets[1].resources.join(" "), ctx.id(fs)
                ),
                vec![o.id.clone(), cid.clone(), ctx.id(fs).to_string()],
                o.loc.clone(),
            )
        } else if let Some(o) = after_start {
            (
                format!("order `{}` starts `{}` after the *start* of `{cid}`, when DRBD is still Secondary; it must follow the promote", o.id, ctx.id(fs)),
                vec![o.id.clone(), cid.clone(), ctx.id(fs).to_string()],
                o.loc.clone(),
            )
        } else {
            (
                format!(
                    "`{}` is on DRBD `{}` but is not ordered after the promote of `{cid}`",
                    ctx.id(fs),
                    ctx.id(drbd)
                ),
                vec![ctx.id(fs).to_string(), cid.clone()],
                m.resources[fs].loc.clone(),
            )
        };
        // A simple order gets the right actions; otherwise a new order.
        let fix = match trap.or(after_start).filter(|o| o.simple) {
            Some(o) => Fix::ReplaceOrder(OrderSpec {
                id: o.id.clone(),
                kind: OrderKind::Mandatory,
                first: o.sets[0].resources[0].clone(),
                first_action: Action::Promote,
                then: o.sets[1].resources[0].clone(),
                then_action: Action::Start,
                symmetrical: o.symmetrical,
            }),
            None => ctx.add_order(drbd, Action::Promote, fs, Action::Start),
        };
        out.push(Finding::new(&RULE, msg).objects(objs).at(&loc).fix(fix));
    }
}
