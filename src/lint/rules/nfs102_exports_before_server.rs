//! NFS102 exports-before-server.

use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds an export (`exportfs`) not ordered to start after its NFS server:
the one placed with it, or, when none is, a cloned one, which runs on every
node.

## Why is this bad?
Exporting before nfsd runs either fails or creates exports that the server
start then resets (`nfs-server.service` runs `exportfs -r`, which drops
what the cluster exported); at stop, the server must stop after the exports
are gone.
Every vendor order is storage → nfsserver → exportfs → address.

A server in a clone (the crmsh wizards clone `systemd:nfs-server`) serves
every export on its node, so each export must be ordered after the clone.

## Example
```text
group g-nfs fs-nfs exportfs-nfs nfsserver vip-nfs
```

## Use instead
crm: `group g-nfs fs-nfs nfsserver exportfs-nfs vip-nfs`

pcs: `pcs resource group add g-nfs exportfs-nfs --after nfsserver`

For a cloned server, crm: `order o-nfs-server-before-g-nfs Mandatory: cl-nfs-server g-nfs`;
pcs: `pcs constraint order start nfs-server-clone then start g-nfs`

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
    let m = ctx.m;
    let servers = ctx.servers();
    // A server in a clone runs on every node, so it serves the exports that
    // no server of their own is placed with.
    let cloned: Vec<usize> = servers
        .iter()
        .copied()
        .filter(|&s| m.clone_of(s).is_some())
        .collect();
    for &e in ctx.part(Part::Exportfs) {
        let er = &m.resources[e];
        let own: Vec<usize> = servers
            .iter()
            .copied()
            .filter(|&s| ctx.together(s, e))
            .collect();
        let serving = if own.is_empty() { &cloned } else { &own };
        for &s in serving {
            if ctx.order.starts_before(s, e) {
                continue;
            }
            let f = if let Some(c) = m.clone_of(s).filter(|_| own.is_empty()) {
                Finding::new(
                    &RULE,
                    format!(
                        "export `{}` is not ordered after the NFS server clone `{}`: at cluster start it can be exported before nfsd runs, and the server's own start (`exportfs -r`) then drops it",
                        er.id,
                        ctx.id(c)
                    ),
                )
                .objects([er.id.as_str(), ctx.id(c)])
            } else {
                Finding::new(
                    &RULE,
                    format!(
                        "export `{}` is not ordered after NFS server `{}`",
                        er.id,
                        ctx.id(s)
                    ),
                )
                .objects([er.id.as_str(), ctx.id(s)])
            };
            out.push(f.at(&er.loc).fix(ctx.start_after(s, e)));
        }
    }
}
