//! NFS503 duplicate-export.

use std::collections::BTreeMap;

use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds the same directory exported twice to the same clients (two `exportfs`
resources, or a resource and an `/etc/exports` line), and the same directory
exported with different fsids.

## Why is this bad?
Two resources managing one export fight: stopping either removes the export
the other still reports as running, and the monitor of the survivor fails. A
directory exported from `/etc/exports` as well as by the cluster is exported
on every node, even where the filesystem is not mounted (exporting the empty
mount point underneath). Different fsids for one directory give clients two
sets of file handles for the same files.

One directory exported to several client networks by separate resources is
fine (one `exportfs` per client spec is the agent's own advice).

## Example
```
primitive exportfs-a exportfs params directory=/srv/nfs clientspec=10.0.0.0/24 fsid=1
primitive exportfs-b exportfs params directory=/srv/nfs clientspec=10.0.0.0/24 fsid=1
```

## Use instead
crm: `crm configure delete exportfs-b`

pcs: `pcs resource delete exportfs-b`

## References
- resource-agents `heartbeat/exportfs` meta-data (`clientspec`, `unique` of `fsid`)
- `exports(5)`
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS503",
    name: "duplicate-export",
    severity: Severity::Error,
    why: "two owners of one export remove it under each other, and two fsids give one file two handles",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let all = super::nfs502_export_fsid::exports(ctx);
    let mut by_dir: BTreeMap<&str, Vec<&super::nfs502_export_fsid::Exp>> = BTreeMap::new();
    for e in &all {
        for d in &e.dirs {
            by_dir.entry(d.as_str()).or_default().push(e);
        }
    }
    for (dir, list) in by_dir {
        for (i, a) in list.iter().enumerate() {
            for b in &list[i + 1..] {
                let same_client = a.client == b.client;
                let fsid_differs = matches!((&a.fsid, &b.fsid), (Some(x), Some(y)) if x != y);
                if !same_client && !fsid_differs {
                    continue;
                }
                let what = if same_client {
                    format!(
                        "`{}` and `{}` both export {dir} to {}",
                        a.object,
                        b.object,
                        if a.client.is_empty() {
                            "the same clients"
                        } else {
                            &a.client
                        }
                    )
                } else {
                    format!(
                        "`{}` and `{}` export {dir} with different fsids",
                        a.object, b.object
                    )
                };
                out.push(
                    Finding::new(&RULE, what)
                        .objects([a.object.as_str(), b.object.as_str()])
                        .at(&b.loc)
                        .help(format!("crm: keep one export of {dir} per client spec, with one fsid (crm configure delete <the other>)"))
                        .help("pcs: pcs resource delete <the other>; remove cluster-managed directories from /etc/exports"),
                );
            }
        }
    }
}
