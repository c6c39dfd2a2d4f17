//! NFS105 order-loop.

use crate::lint::fix::Fix;
use crate::lint::order_cmd::loop_text;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Action;
use crate::start_order::EdgeSource;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds orders that form a loop (A before B before … before A) through
starts, promotes, demotes or stops, from groups, order constraints and
their symmetrical inverses together: `order o1 G:start ms:promote` with
`order o2 ms:promote G:start` is a loop too.

## Why is this bad?
Pacemaker cannot satisfy a mandatory ordering loop: the resources involved do
not start, or the scheduler produces an invalid transition.

## Example
```text
group g-nfs fs nfsserver exportfs
order o-bad Mandatory: exportfs fs
```
or
```text
order o-drbd-before-nfs Mandatory: cl-drbd:promote g-nfs:start
order o-nfs-before-drbd Mandatory: g-nfs:start cl-drbd:promote
```

## Use instead
crm: `crm configure delete o-bad` (the group already orders its members)

pcs: `pcs constraint delete o-bad`

## References
- Pacemaker Explained, "Ordering Constraints"
- pcs PR #509/#517: orders between members of one group "may block Pacemaker"
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS105",
    name: "order-loop",
    severity: Severity::Error,
    why: "Pacemaker cannot satisfy a loop of orders; the resources in it do not start",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    for l in &ctx.order.loops {
        let mut names: Vec<&str> = l.actions.iter().map(|&(i, _)| ctx.id(i)).collect();
        names.dedup();
        let orders: Vec<&str> = l
            .sources
            .iter()
            .filter_map(|s| match s {
                EdgeSource::Order(o) => Some(o.as_str()),
                _ => None,
            })
            .collect();
        let loc = orders
            .last()
            .and_then(|o| ctx.m.orders.iter().find(|x| x.id == *o))
            .map_or(&ctx.m.resources[l.actions[0].0].loc, |o| &o.loc);
        let kind = if l.actions.iter().all(|a| a.1 == Action::Start) {
            "start orders"
        } else {
            "orders"
        };
        let mut f = Finding::new(&RULE, format!("{kind} form a loop: {}", loop_text(ctx.m, l)))
            .objects(orders.iter().copied().chain(names.iter().copied()));
        let mut distinct = orders.clone();
        distinct.sort_unstable();
        distinct.dedup();
        // One order against a group's own order (or the start of a
        // resource) is the mistake; with several, which one goes is a choice.
        if let [only] = distinct.as_slice() {
            f = f.fix(Fix::DeleteConstraint {
                id: only.to_string(),
            });
        } else {
            f = f
                .help("crm: crm configure delete <the order that is wrong> (nfsha order FILE shows the loop and the orders in it)")
                .help("pcs: pcs constraint delete <the order that is wrong>");
        }
        out.push(f.at(loc));
    }
}
