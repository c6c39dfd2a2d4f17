//! NFS502 export-fsid.

use std::collections::HashMap;

use crate::lint::placement::Apart;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::{Loc, Part};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Checks the `fsid` of each export (the `exportfs` parameter `fsid`, an
`fsid=` in its `options`, or in `/etc/exports`): two exports of different
directories with the same fsid are an error; an export without any fsid is
reported as info. `fsid=0`/`root` marks the NFSv4 pseudo-root and may appear
once.

## Why is this bad?
The fsid goes into every file handle. Two exports sharing one fsid hand out
colliding handles, so clients open files in the wrong export. Without an
explicit fsid the handle derives from the device or filesystem UUID; on ext4,
xfs and btrfs over DRBD that UUID is the same on both nodes (so SUSE no
longer sets fsids), but for other filesystems or devices whose numbers differ
between nodes, clients see "stale file handle" after every failover.

## Example
```text
primitive exportfs-a exportfs params directory=/srv/a clientspec=* fsid=1
primitive exportfs-b exportfs params directory=/srv/b clientspec=* fsid=1
```

## Use instead
crm: `crm resource param exportfs-b set fsid 2`

pcs: `pcs resource update exportfs-b fsid=2`

## References
- resource-agents `heartbeat/exportfs` (`fsid`)
- openSUSE sca-patterns-hae `nfstale-00001.pl` (TID 3714483)
- `exports(5)`, `fsid=`
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS502",
    name: "export-fsid",
    severity: Severity::Error,
    why: "the fsid is part of every file handle: duplicates collide, and missing ones can change across nodes",
    doc: rule_doc!(),
    check,
};

/// An export as the fsid and duplicate rules see it.
pub(crate) struct Exp {
    /// The exportfs primitive; `None` for an `/etc/exports` line, which is
    /// on every node.
    pub idx: Option<usize>,
    pub object: String,
    pub dirs: Vec<String>,
    pub client: String,
    pub fsid: Option<String>,
    pub loc: Loc,
}

pub(crate) fn exports(ctx: &Ctx) -> Vec<Exp> {
    let from_opts = |o: &str| {
        o.split(',')
            .find_map(|x| x.trim().strip_prefix("fsid="))
            .map(str::to_string)
    };
    let mut v: Vec<Exp> = ctx
        .m
        .of_part(Part::Exportfs)
        .map(|(e, r)| Exp {
            idx: Some(e),
            object: r.id.clone(),
            dirs: ctx
                .param(e, "directory")
                .unwrap_or("")
                .split_whitespace()
                .map(|d| d.trim_end_matches('/').to_string())
                .collect(),
            client: ctx.param(e, "clientspec").unwrap_or("").to_string(),
            fsid: ctx
                .param(e, "fsid")
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .or_else(|| ctx.param(e, "options").and_then(from_opts)),
            loc: r.loc.clone(),
        })
        .collect();
    for x in &ctx.m.host.exports {
        v.push(Exp {
            idx: None,
            object: format!("{} {}", x.directory, x.clients),
            dirs: vec![x.directory.clone()],
            client: x.clients.clone(),
            fsid: from_opts(&x.options),
            loc: x.loc.clone(),
        });
    }
    v
}

fn norm(f: &str) -> String {
    if f.eq_ignore_ascii_case("root") {
        "0".into()
    } else {
        f.to_ascii_lowercase()
    }
}

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let all = exports(ctx);
    let mut by_fsid: HashMap<String, Vec<&Exp>> = HashMap::new();
    for e in &all {
        match &e.fsid {
            Some(f) => by_fsid.entry(norm(f)).or_default().push(e),
            None => out.push(
                Finding::new(&RULE, format!("export `{}` has no fsid; file handles then depend on the device, which may differ between nodes", e.object))
                    .severity(Severity::Info)
                    .objects([e.object.as_str()])
                    .at(&e.loc)
                    .help(format!("crm: crm resource param {} set fsid <unique number or UUID>", e.object))
                    .help(format!("pcs: pcs resource update {} fsid=<unique number or UUID>", e.object)),
            ),
        }
    }
    let mut dups: Vec<(&String, &Vec<&Exp>)> = by_fsid.iter().collect();
    dups.sort_by_key(|(k, _)| k.as_str());
    for (fsid, list) in dups {
        let mut dirs: Vec<&str> = list
            .iter()
            .flat_map(|e| e.dirs.iter().map(String::as_str))
            .collect();
        dirs.sort_unstable();
        dirs.dedup();
        if dirs.len() < 2 {
            continue; // the same directory to several clients shares its fsid legitimately
        }
        if list.len() < 2 {
            // One export of several directories: the agent numbers them
            // fsid, fsid+1, … itself.
            continue;
        }
        // Exports that can run on one node: not kept apart for good.
        let apart = |a: &Exp, b: &Exp| match (a.idx, b.idx) {
            (Some(x), Some(y)) => ctx.placement.apart(x, y),
            _ => None,
        };
        let mut meets = vec![false; list.len()];
        let mut preferred = false;
        for (i, a) in list.iter().enumerate() {
            for (j, b) in list.iter().enumerate().skip(i + 1) {
                if a.dirs == b.dirs {
                    continue;
                }
                match apart(a, b) {
                    Some(Apart::Always) => continue,
                    Some(Apart::Preferred) => preferred = true,
                    None => {}
                }
                meets[i] = true;
                meets[j] = true;
            }
        }
        let meet: Vec<&Exp> = list
            .iter()
            .zip(&meets)
            .filter(|(_, m)| **m)
            .map(|(e, _)| *e)
            .collect();
        if meet.len() < 2 {
            continue;
        }
        let names: Vec<&str> = meet.iter().map(|e| e.object.as_str()).collect();
        let note = if preferred {
            " (they are kept apart only by a finite negative colocation score: on a lone surviving node they meet)"
        } else {
            ""
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "exports {} of different directories share fsid {fsid}{note}",
                    super::helpers::quote_list(&names)
                ),
            )
            .objects(names.iter().copied())
            .at(&meet[meet.len() - 1].loc)
            .help(format!(
                "crm: crm resource param {} set fsid <another unique value>",
                names[names.len() - 1]
            ))
            .help(format!(
                "pcs: pcs resource update {} fsid=<another unique value>",
                names[names.len() - 1]
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::lint::{lint_model, Config};

    /// Found by the `cib` and `crm` fuzz targets: one export of two
    /// directories used to be indexed as if it were two exports.
    #[test]
    fn one_export_of_several_directories() {
        let m = crate::model::crm::parse(
            "primitive e exportfs params directory=\"/a /b\" clientspec=* fsid=1 op monitor interval=10s\n",
            &Arc::from("t"),
        )
        .unwrap();
        let f = lint_model(&m, &Config::default());
        assert!(!f.iter().any(|x| x.code == "NFS502"), "{f:?}");
    }
}
