//! NFS503 duplicate-export.

use std::collections::BTreeMap;

use super::helpers::quote_list;
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
```text
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
        // One finding per (directory, clients) with several owners, and one
        // per directory with several fsids: linear, whatever the count.
        let mut by_client: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for e in &list {
            by_client
                .entry(e.client.as_str())
                .or_default()
                .push(e.object.as_str());
        }
        for (client, owners) in by_client {
            if owners.len() < 2 {
                continue;
            }
            let who = if client.is_empty() {
                "the same clients"
            } else {
                client
            };
            let last = list
                .iter()
                .rev()
                .find(|e| e.client == client)
                .expect("owner listed");
            out.push(
                Finding::new(&RULE, format!("{} all export {dir} to {who}", quote_list(&owners)))
                    .objects(owners.iter().copied())
                    .at(&last.loc)
                    .help(format!("crm: keep one export of {dir} per client spec (crm configure delete <the others>)"))
                    .help("pcs: pcs resource delete <the others>; remove cluster-managed directories from /etc/exports"),
            );
        }
        let mut fsids: Vec<(&str, &str)> = list
            .iter()
            .filter_map(|e| Some((e.fsid.as_deref()?, e.object.as_str())))
            .collect();
        fsids.sort_unstable();
        fsids.dedup_by_key(|x| x.0);
        if fsids.len() > 1 {
            let owners: Vec<&str> = fsids.iter().map(|x| x.1).collect();
            let values: Vec<&str> = fsids.iter().map(|x| x.0).collect();
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "{} export {dir} with different fsids ({})",
                        quote_list(&owners),
                        values.join(", ")
                    ),
                )
                .objects(owners.iter().copied())
                .at(&list[list.len() - 1].loc)
                .help(format!("crm: give every export of {dir} the same fsid"))
                .help("pcs: pcs resource update <export> fsid=<the common value>"),
            );
        }
    }
}
