//! NFS202 drbd-colocation.

use crate::lint::{Ctx, Finding, Rule, Severity};
use std::collections::HashMap;

use crate::lint::fix::{ColocSpec, Fix};
use crate::model::{ColocPair, Colocation, Role, INFINITY};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds a filesystem on DRBD that is not placed with the *Promoted* role of its
DRBD clone: no colocation at all, a colocation without
`with-rsc-role=Promoted` (which means "any role", so the Secondary too), a
colocation in the wrong direction (the DRBD clone placed with the group), a
DRBD clone that is not promotable, or a DRBD device with no DRBD resource in
the cluster.

## Why is this bad?
The mount succeeds only where DRBD is Primary. In crm syntax
`colocation c inf: A B` means "A with B", the opposite of what many expect,
and pcs writes `colocation add A with B`; with the direction reversed,
Pacemaker places the DRBD clone after the group instead of the group on the
Primary.

## Example
```text
colocation col-nfs-on-drbd inf: cl-drbd-nfs:Promoted g-nfs
```

## Use instead
crm: `colocation col-nfs-on-drbd inf: g-nfs cl-drbd-nfs:Promoted`

pcs: `pcs constraint colocation add g-nfs with Promoted cl-drbd-nfs INFINITY`

## References
- Pacemaker Explained, "Colocation Properties" (with-rsc-role defaults to Started)
- SUSE HA NFS guide (SLE HA 15 SP6), `col-nfs-on-drbd`
- crmsh `crm.8.adoc`, colocation; SUSE/doc-sleha PR #464
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS202",
    name: "drbd-colocation",
    severity: Severity::Error,
    why: "a DRBD device mounts only where it is Primary; the group must be placed with the Promoted role",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    let mut reported_tops = Vec::new();
    // Index the mandatory colocation pairs once, by the primitives of each side.
    type ByPrimary<'a> = HashMap<usize, Vec<(&'a Colocation, ColocPair, Vec<usize>)>>;
    let mut with_primary: ByPrimary = HashMap::new();
    let mut with_dependent: HashMap<usize, Vec<(&Colocation, Vec<usize>)>> = HashMap::new();
    for c in &m.colocations {
        for p in c.pairs() {
            if p.score < INFINITY {
                continue;
            }
            let deps = m.expand(&p.dependent);
            let prims = m.expand(&p.primary);
            for &d in &deps {
                with_dependent
                    .entry(d)
                    .or_default()
                    .push((c, prims.clone()));
            }
            for &x in &prims {
                with_primary
                    .entry(x)
                    .or_default()
                    .push((c, p.clone(), deps.clone()));
            }
        }
    }
    for &(fs, _) in ctx.mounts() {
        let Some((drbd, clone)) = ctx.drbd_for_mount(fs) else {
            continue;
        };
        let top = m.top(fs);
        if reported_tops.contains(&top) {
            continue;
        }
        let fid = ctx.id(top).to_string();
        let Some(drbd) = drbd else {
            reported_tops.push(top);
            out.push(
                Finding::new(&RULE, format!("`{}` mounts a DRBD device but no DRBD resource is configured, so nothing makes this node Primary", ctx.id(fs)))
                    .severity(Severity::Warning)
                    .objects([ctx.id(fs)])
                    .at(&m.resources[fs].loc)
                    .help("crm: primitive drbd-nfs ocf:linbit:drbd params drbd_resource=<res>; clone cl-drbd-nfs drbd-nfs meta promotable=true (or rely on DRBD 9 auto-promote deliberately)")
                    .help("pcs: pcs resource create drbd-nfs ocf:linbit:drbd drbd_resource=<res> promotable notify=true"),
            );
            continue;
        };
        let cid = clone.map_or(ctx.id(drbd), |c| ctx.id(c)).to_string();
        // `fid` placed with the Promoted role of `cid`: a new colocation, or
        // `id` rewritten when it is a simple one.
        let spec = |id: String| ColocSpec {
            id,
            score: INFINITY,
            rsc: fid.clone(),
            rsc_role: None,
            with: cid.clone(),
            with_role: Some(Role::Promoted),
        };
        let fix = |c: Option<&Colocation>| match c.filter(|c| c.simple) {
            Some(c) => Fix::ReplaceColocation(spec(c.id.clone())),
            None => Fix::AddColocation(spec(ctx.new_id(&format!("col-{fid}-on-drbd")))),
        };
        if let Some(c) = clone.filter(|&c| !ctx.promotable(c)) {
            reported_tops.push(top);
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "DRBD clone `{}` is not promotable, so no node becomes Primary for `{}`",
                        ctx.id(c),
                        ctx.id(fs)
                    ),
                )
                .objects([ctx.id(c), ctx.id(fs)])
                .at(&m.resources[c].loc)
                .help(format!("crm: make `{}` promotable (clone … meta promotable=true, as ocf:linbit:drbd needs) and place `{fid}` with its Promoted role", ctx.id(c)))
                .help(format!("pcs: recreate the DRBD resource with `promotable`, then pcs constraint colocation add {fid} with Promoted {} INFINITY", ctx.id(c))),
            );
            continue;
        }
        let mut good = false;
        let mut wrong_role = None;
        let mut reversed = None;
        for (c, p, deps) in with_primary.get(&drbd).map(Vec::as_slice).unwrap_or(&[]) {
            if deps.contains(&fs) {
                if p.primary_role == Role::Promoted {
                    good = true;
                } else {
                    wrong_role = Some(*c);
                }
            }
        }
        for (c, primaries) in with_dependent.get(&drbd).map(Vec::as_slice).unwrap_or(&[]) {
            if primaries.contains(&fs) {
                reversed = Some(*c);
            }
        }
        if good {
            continue;
        }
        reported_tops.push(top);
        let f = if let Some(c) = reversed {
            Finding::new(&RULE, format!("colocation `{}` places `{cid}` with `{fid}`: the wrong direction; `{fid}` must be placed with the Promoted role of `{cid}`", c.id))
                .objects([c.id.as_str(), cid.as_str(), fid.as_str()])
                .at(&c.loc)
                .fix(fix(Some(c)))
        } else if let Some(c) = wrong_role {
            Finding::new(&RULE, format!("colocation `{}` places `{fid}` with `{cid}` in any role, so it may run on the DRBD Secondary; add the Promoted role", c.id))
                .objects([c.id.as_str(), cid.as_str(), fid.as_str()])
                .at(&c.loc)
                .fix(fix(Some(c)))
        } else {
            Finding::new(
                &RULE,
                format!(
                    "`{fid}` is on DRBD `{}` but not colocated with the Promoted role of `{cid}`",
                    ctx.id(drbd)
                ),
            )
            .objects([fid.as_str(), cid.as_str()])
            .at(&m.resources[top].loc)
            .fix(fix(None))
        };
        out.push(f);
    }
}
