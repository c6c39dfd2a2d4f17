//! NFS102 exports-before-server.

use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds an export (`exportfs`) placed with an NFS server but not ordered to
start after it.

## Why is this bad?
Exporting before nfsd runs either fails or creates exports that the server
start then resets; at stop, the server must stop after the exports are gone.
Every vendor order is storage → nfsserver → exportfs → address.

## Example
```text
group g-nfs fs-nfs exportfs-nfs nfsserver vip-nfs
```

## Use instead
crm: `group g-nfs fs-nfs nfsserver exportfs-nfs vip-nfs`

pcs: `pcs resource group add g-nfs exportfs-nfs --after nfsserver`

## References
- SUSE TID 000020396, section 3 (3.5 before 3.6)
- Red Hat HA NFS guide; David Vossel's slides: "Mount filesystems → Start NFS server → Export Filesystems → Start Floating IP"
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS102",
    name: "exports-before-server",
    severity: Severity::Error,
    why: "an export started before nfsd is lost or reset when the server starts, and stop order is reversed",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    for s in ctx.servers() {
        for &e in ctx.placed_with(s) {
            let er = &ctx.m.resources[e];
            if er.part() != Part::Exportfs || ctx.order.starts_before(s, e) {
                continue;
            }
            out.push(
                Finding::new(&RULE, format!("export `{}` is not ordered after NFS server `{}`", er.id, ctx.id(s)))
                    .objects([er.id.as_str(), ctx.id(s)])
                    .at(&er.loc)
                    .help(format!("crm: order o-{0}-before-{1} Mandatory: {0} {1}   (or move {1} after {0} in the group)", ctx.id(s), er.id))
                    .help(format!("pcs: pcs constraint order start {} then start {}", ctx.id(s), er.id)),
            );
        }
    }
}
