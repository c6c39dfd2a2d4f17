//! NFS001 dangling-reference.

use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds constraints (order, colocation, location) that name a resource, template
or tag that does not exist, and groups or clones that name a member that is not
defined (crm `group g a b` without a `primitive b`, `pcs resource group add g b`
before `b` exists).

## Why is this bad?
Pacemaker ignores such a constraint (`crm_verify` only warns), so the order or
placement it was meant to enforce silently does not exist. crmsh's NFS wizards
still reference `ms-<drbd>` although the DRBD wizard now creates
`promotable-<drbd>`: the DRBD promote → mount ordering is then missing.

## Example
```text
clone promotable-drbd0 drbd0 meta promotable=true
order o-drbd-first Mandatory: ms-drbd0:promote g-nfs:start
```

## Use instead
crm: `order o-drbd-first Mandatory: promotable-drbd0:promote g-nfs:start`

pcs: `pcs constraint order promote drbd0-clone then start g-nfs`

## References
- Pacemaker Explained, "Resource Constraints"
- crmsh `scripts/nfsserver-lvm-drbd/main.yml` (dangling `ms-` reference)
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS001",
    name: "dangling-reference",
    severity: Severity::Error,
    why: "Pacemaker ignores a constraint whose resource does not exist, so the order or placement is silently missing",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    let mut report = |kind: &str, id: &str, missing: &str, loc| {
        out.push(
            Finding::new(&RULE, format!("{kind} `{id}` references `{missing}`, which is not a resource, template or tag"))
                .objects([id, missing])
                .at(loc)
                .help(format!("crm: point `{id}` at an existing resource (`crm configure show` lists them), or delete it"))
                .help(format!("pcs: pcs constraint delete {id}, then recreate it with an existing resource id")),
        )
    };
    for o in &m.orders {
        for r in o.references() {
            if !m.resolves(r) {
                report("order", &o.id, r, &o.loc);
            }
        }
    }
    for c in &m.colocations {
        for r in c.references() {
            if !m.resolves(r) {
                report("colocation", &c.id, r, &c.loc);
            }
        }
    }
    for l in &m.locations {
        if !m.resolves(&l.rsc) {
            report("location", &l.id, &l.rsc, &l.loc);
        }
    }
    for mm in &m.missing_members {
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "`{}` names the member `{}`, which is not defined, so it is not in the group",
                    mm.container, mm.member
                ),
            )
            .objects([mm.container.as_str(), mm.member.as_str()])
            .at(&mm.loc)
            .help(format!(
                "crm: define `{}` (primitive …) or correct the name in `{}`",
                mm.member, mm.container
            ))
            .help(format!(
                "pcs: create `{}` first, then pcs resource group add {} {}",
                mm.member, mm.container, mm.member
            )),
        );
    }
}
