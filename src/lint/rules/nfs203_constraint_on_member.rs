//! NFS203 constraint-on-member.

use crate::lint::fix::{ColocSpec, Fix, OrderSpec};
use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds order and colocation constraints that name a member of a group instead
of the group, and constraints between two members of the same group.

## Why is this bad?
Placement and order of a group member come from the group; a constraint on
one member pulls only that member, so the rest of the group (for example the
virtual IP) can end up elsewhere or in another order (crmsh issue #101). An
order between members of one group contradicts the group's own order and
"may block Pacemaker"; pcs refuses to create one since 0.10.14/0.11.3.

## Example
```text
group g-nfs fs-nfs nfsserver exportfs-nfs vip-nfs
colocation c-nfs inf: nfsserver cl-drbd-nfs:Promoted
```

## Use instead
crm: `colocation c-nfs inf: g-nfs cl-drbd-nfs:Promoted`

pcs: `pcs constraint colocation add g-nfs with Promoted cl-drbd-nfs INFINITY`

## References
- ClusterLabs/crmsh#101
- ClusterLabs/pcs PR #509 and #517
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS203",
    name: "constraint-on-member",
    severity: Severity::Warning,
    why: "a constraint on one group member moves or orders only that member, not the group it depends on",
    doc: rule_doc!(),
    check,
};

/// The constraint with every reference to `member` renamed to `group`, when
/// it is a simple one.
fn renamed(ctx: &Ctx, id: &str, member: &str, group: &str) -> Option<Fix> {
    let swap = |r: &mut String| {
        if r == member {
            *r = group.to_string();
        }
    };
    if let Some(o) = ctx.m.orders.iter().find(|o| o.id == id) {
        let mut spec = OrderSpec::of(o)?;
        swap(&mut spec.first);
        swap(&mut spec.then);
        return Some(Fix::ReplaceOrder(spec));
    }
    let c = ctx.m.colocations.iter().find(|c| c.id == id)?;
    let mut spec = ColocSpec::of(c)?;
    swap(&mut spec.rsc);
    swap(&mut spec.with);
    Some(Fix::ReplaceColocation(spec))
}

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    let group_of = |r: &str| m.by_id.get(r).and_then(|&i| m.group_of(i));
    let constraints = m
        .orders
        .iter()
        .map(|o| {
            (
                "order",
                &o.id,
                &o.loc,
                o.references().cloned().collect::<Vec<_>>(),
            )
        })
        .chain(m.colocations.iter().map(|c| {
            (
                "colocation",
                &c.id,
                &c.loc,
                c.references().cloned().collect(),
            )
        }));
    for (kind, id, loc, refs) in constraints {
        let groups: Vec<Option<usize>> = refs.iter().map(|r| group_of(r)).collect();
        if let Some(g) = groups
            .first()
            .copied()
            .flatten()
            .filter(|g| refs.len() > 1 && groups.iter().all(|x| *x == Some(*g)))
        {
            out.push(
                Finding::new(&RULE, format!("{kind} `{id}` is between members of group `{}`, whose own order and placement already apply", ctx.id(g)))
                    .objects(std::iter::once(id.as_str()).chain(refs.iter().map(String::as_str)))
                    .at(loc)
                    .fix(Fix::DeleteConstraint { id: id.clone() }),
            );
            continue;
        }
        for (r, g) in refs.iter().zip(&groups) {
            let Some(g) = g else { continue };
            let mut f = Finding::new(
                &RULE,
                format!(
                    "{kind} `{id}` names `{r}`, a member of group `{}`; name the group",
                    ctx.id(*g)
                ),
            )
            .objects([id.as_str(), r.as_str(), ctx.id(*g)])
            .at(loc);
            f = match renamed(ctx, id, r, ctx.id(*g)) {
                Some(fix) => f.fix(fix),
                None => f
                    .help(format!(
                        "crm: replace `{r}` with `{}` in {kind} {id}",
                        ctx.id(*g)
                    ))
                    .help(format!(
                        "pcs: pcs constraint delete {id}, then recreate it with `{}`",
                        ctx.id(*g)
                    )),
            };
            out.push(f);
        }
    }
}
