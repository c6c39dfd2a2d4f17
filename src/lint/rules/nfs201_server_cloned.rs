//! NFS201 server-cloned.

use crate::agents::nfsserver;
use crate::lint::fix::{Fix, Place};
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds an NFS server (`ocf:heartbeat:nfsserver`, `ocf:nfsha:nfsserver`,
`systemd:nfs-server`, `lsb:nfsserver`, …) inside a clone, so that it runs on
more than one node.

## Why is this bad?
NFSv4 clients can reclaim their opens and locks only during the grace period
of a freshly started server. A cloned server never restarts on failover, so
after the exports move there is no grace period for them: locks and file
state are lost (EIO in applications), and busy exports can keep the
filesystem from unmounting, which ends in fencing. `ocf:heartbeat:nfsserver`
even refuses a clone when `nfs_shared_infodir` is set.

Deliberate active/active designs exist (distributed NFSv3 exports,
resource-agents PR #943): suppress the finding for that clone, or set
`allow_clone=true` on `ocf:nfsha:nfsserver`.

## Example
```text
primitive nfsserver systemd:nfs-server
clone cl-nfsserver nfsserver meta interleave=true
```

## Use instead
crm: `group g-nfs fs-nfs-state fs-nfs-share nfsserver exportfs-nfs vip-nfs` (one nfsserver, in the group)

pcs: `pcs resource unclone nfsserver && pcs resource group add g-nfs nfsserver --before exportfs-nfs`

## References
- SUSE TID 000020396, section 2
- resource-agents `heartbeat/nfsserver` (`nfsserver_validate`), PR #943
- crmsh wizards `scripts/nfsserver/main.yml` (clones nfs-server)
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS201",
    name: "server-cloned",
    severity: Severity::Error,
    why: "a cloned NFS server never restarts on failover, so clients get no grace period to reclaim locks",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    for s in ctx.servers() {
        let Some(c) = m.clone_of(s) else { continue };
        let r = &m.resources[s];
        // nfsha's nfsserver decides with its own check (and allow_clone as
        // its parameter table reads it).
        let refusal = match ctx.verdict(s) {
            Some(v) => {
                let allow = v.params.as_ref().is_some_and(|p| p.bool("allow_clone"));
                match nfsserver::check_clone(true, allow) {
                    Ok(()) => continue,
                    Err(reason) => Some(reason),
                }
            }
            None => None,
        };
        let mut msg = format!(
            "NFS server `{}` is cloned by `{}` and runs on several nodes",
            r.id,
            ctx.id(c)
        );
        if r.agent().is_some_and(|a| !a.is_nfsha() && a.class == "ocf")
            && ctx.param(s, "nfs_shared_infodir").is_some()
        {
            msg.push_str(
                " (ocf:heartbeat:nfsserver refuses a clone together with nfs_shared_infodir)",
            );
        }
        let mut f = Finding::new(&RULE, msg)
            .objects([ctx.id(c), r.id.as_str()])
            .at(&m.resources[c].loc);
        if let Some(reason) = refusal {
            f = f.mirrors(reason);
        }
        match unclone(ctx, c, s) {
            Some(fixes) => {
                for x in fixes {
                    f = f.fix(x);
                }
            }
            None => {
                f = f
                    .help(format!("crm: crm configure delete {}, then crm configure modgroup <nfs group> add {} before <first export>", ctx.id(c), r.id))
                    .help(format!("pcs: pcs resource unclone {}; pcs resource group add <nfs group> {0} --before <first export>", r.id));
            }
        }
        out.push(f);
    }
}

/// Take server `s` out of clone `c` and put it into the one group that holds
/// exports, before the first of them; the constraints that named the clone
/// go (the group's order replaces them). `None` when that is not one clear
/// change: the clone holds more than the server, or there is no one NFS
/// group.
fn unclone(ctx: &Ctx, c: usize, s: usize) -> Option<Vec<Fix>> {
    let m = ctx.m;
    if m.resources[c].children != [s] {
        return None;
    }
    let mut groups: Vec<usize> = ctx
        .part(Part::Exportfs)
        .iter()
        .filter_map(|&e| m.group_of(e))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let [g] = groups.as_slice() else {
        return None;
    };
    let first_export = m.resources[*g]
        .children
        .iter()
        .copied()
        .find(|&x| m.resources[x].part() == Part::Exportfs)?;
    let (cid, sid) = (&m.resources[c].id, &m.resources[s].id);
    let named = |r: &String| r == cid || r == sid;
    let mut fixes: Vec<Fix> = m
        .orders
        .iter()
        .filter(|o| o.references().any(named))
        .map(|o| o.id.clone())
        .chain(
            m.colocations
                .iter()
                .filter(|x| x.references().any(named))
                .map(|x| x.id.clone()),
        )
        .map(|id| Fix::DeleteConstraint { id })
        .collect();
    fixes.push(Fix::Unclone {
        clone: ctx.id(c).to_string(),
        rsc: ctx.id(s).to_string(),
        group: ctx.id(*g).to_string(),
        place: Place::Before(ctx.id(first_export).to_string()),
    });
    Some(fixes)
}
