//! NFS103 server-before-storage.

use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds an NFS server that is not ordered to start after the filesystems it
needs: the one holding its state (`nfs_shared_infodir`, `/var/lib/nfs`,
nfsha's `nfsstate`) and the ones holding its exports.

## Why is this bad?
nfsd reads its client records when it starts. Started before the state
filesystem is mounted, it reads the local, stale copy and clients cannot
reclaim their locks; the export filesystems must be mounted before nfsd (and
unmounted after it stops, which the reverse order gives).

## Example
```text
group g-nfs nfsserver fs-nfs-state fs-nfs-share exportfs-nfs vip-nfs
```

## Use instead
crm: `group g-nfs fs-nfs-state fs-nfs-share nfsserver exportfs-nfs vip-nfs`

pcs: `pcs resource group add g-nfs nfsserver --after fs-nfs-share`

## References
- SUSE TID 000020396, section 3 (3.1–3.4 before 3.5)
- resource-agents `nfsserver` meta-data: the shared info directory "must be able to fail-over before nfsserver itself"
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS103",
    name: "server-before-storage",
    severity: Severity::Error,
    why: "nfsd started before its state or export filesystems reads stale local state and serves the wrong directories",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    for s in ctx.servers() {
        let mut needed: Vec<(usize, String)> = Vec::new();
        let mut need = |fs: Option<usize>, what: String| {
            if let Some(fs) = fs {
                if !needed.iter().any(|(x, _)| *x == fs) {
                    needed.push((fs, what));
                }
            }
        };
        for key in ["nfs_shared_infodir", "state_directory"] {
            if let Some(dir) = ctx.param(s, key) {
                need(ctx.mount_holding(dir, Some(s)), format!("its {key} {dir}"));
            }
        }
        need(
            ctx.mount_holding("/var/lib/nfs", Some(s)),
            "/var/lib/nfs".into(),
        );
        for &x in ctx.placed_with(s) {
            if m.resources[x].part() == Part::NfsState {
                need(Some(x), "its NFS state".into());
            }
        }
        for &e in ctx.placed_with(s) {
            if m.resources[e].part() != Part::Exportfs {
                continue;
            }
            for dir in ctx.param(e, "directory").unwrap_or("").split_whitespace() {
                need(
                    ctx.mount_holding(dir, Some(s)),
                    format!("export directory {dir}"),
                );
            }
        }
        for (fs, what) in needed {
            if ctx.order.starts_before(fs, s) {
                continue;
            }
            out.push(
                Finding::new(&RULE, format!("NFS server `{}` can start before `{}` ({what}) is mounted", ctx.id(s), ctx.id(fs)))
                    .objects([ctx.id(s), ctx.id(fs)])
                    .at(&m.resources[s].loc)
                    .fix(ctx.start_after(fs, s)),
            );
        }
    }
}
