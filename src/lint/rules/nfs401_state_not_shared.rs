//! NFS401 state-not-shared.

use std::path::Path;

use crate::agents::storage;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds an NFS server whose NFSv4 client-tracking state is not on storage that
fails over with it. The state lives in `/var/lib/nfs` (nfsdcld, or
nfsdcltrack before nfs-utils 2.8.3), moved by `nfs_shared_infodir`
(`ocf:heartbeat:nfsserver`), `state_directory` (`ocf:nfsha:nfsserver`) or
nfs.conf `[nfsdcld]`/`[nfsdcltrack]` `storagedir`. It must be inside a
`Filesystem` (or `ocf:nfsha:nfsstate`) placed with the server.

With `ocf:nfsha:nfsstate`/`nfsserver` and nfs.conf given, nfs.conf's
`storagedir`s must be the state directory's `nfsdcld`/`nfsdcltrack`
subdirectories: the agents' own check (they refuse to start otherwise).
Given nfs.conf on its own, warns when `[nfsdcld] storagedir` is left under
`/var/lib/nfs`, which is each node's local disk unless a cluster filesystem
is mounted there.

## Why is this bad?
After failover the new server must know which clients held state, or it
refuses their reclaims: every open, lock and delegation is lost and
applications see EIO. A state directory that is not on a filesystem resource
(or on one that runs elsewhere) is each node's own local copy.

## Example
```text
primitive nfsserver nfsserver params nfs_shared_infodir=/srv/nfs/info
primitive fs-nfs-share Filesystem params directory=/srv/nfs/share …
```

## Use instead
crm: `primitive fs-nfs-state Filesystem params device=/dev/drbd0 directory=/var/lib/nfs fstype=ext4`, first in `g-nfs`

pcs: `pcs resource create nfs-daemon nfsserver nfs_shared_infodir=/nfsshare/nfsinfo --group nfsgroup` (under the group's Filesystem)

## References
- SUSE TID 000020396, section 1
- resource-agents `heartbeat/nfsserver` (`nfs_shared_infodir`)
- nfs-utils `nfs.conf(5)`, `nfsdcld(8)`
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS401",
    name: "state-not-shared",
    severity: Severity::Error,
    why: "client records on a node's local disk are lost on failover, so the new server refuses every reclaim",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let h = &ctx.m.host;
    if !ctx.m.has_cluster {
        alone(ctx, out);
        return;
    }
    nfsha_dirs(ctx, out);
    let conf_dirs: Vec<(String, String)> = ["nfsdcld.storagedir", "nfsdcltrack.storagedir"]
        .iter()
        .filter_map(|k| h.nfsconf(k).map(|p| (k.to_string(), p.value.clone())))
        .collect();
    for s in ctx.servers() {
        let r = &ctx.m.resources[s];
        let explicit = ["nfs_shared_infodir", "state_directory"]
            .iter()
            .find_map(|k| ctx.m.param(s, k).map(|p| (k, p)));
        if let Some((key, p)) = explicit {
            if ctx.mount_holding(&p.value, Some(s)).is_none() {
                out.push(
                    Finding::new(&RULE, format!("`{}` keeps its NFS state in {key}={} but no filesystem resource placed with it holds that directory", r.id, p.value))
                        .objects([r.id.as_str()])
                        .conditional(p.conditional)
                        .at(&p.loc)
                        .help(format!("crm: set {key} to a directory inside a Filesystem of the NFS group"))
                        .help(format!("pcs: pcs resource update {} {key}=<dir inside a Filesystem of the group>", r.id)),
                );
            }
            continue;
        }
        if ctx.mount_holding("/var/lib/nfs", Some(s)).is_some() {
            continue;
        }
        if conf_dirs
            .iter()
            .any(|(_, d)| ctx.mount_holding(d, Some(s)).is_some())
        {
            continue;
        }
        out.push(
            Finding::new(&RULE, format!("the NFSv4 state of `{}` (/var/lib/nfs) is not on a filesystem that fails over with it", r.id))
                .objects(std::iter::once(r.id.clone()).chain(conf_dirs.iter().map(|(k, _)| k.clone())))
                .at(&r.loc)
                .help("crm: primitive fs-nfs-state Filesystem params device=<drbd or shared device> directory=/var/lib/nfs fstype=ext4; add it first to the NFS group")
                .help(format!("pcs: pcs resource update {} nfs_shared_infodir=<dir inside a Filesystem of the group>", r.id)),
        );
    }
}

/// nfs.conf against the state directories of nfsha's agents, with the
/// agents' own check.
fn nfsha_dirs(ctx: &Ctx, out: &mut Vec<Finding>) {
    if ctx.m.host.nfsconf.is_empty() {
        return;
    }
    let mut dirs: Vec<(usize, &str)> = Vec::new();
    for (i, r) in ctx.m.primitives() {
        if ctx.verdict(i).is_none() {
            continue;
        }
        let key = match r.part() {
            Part::NfsState => "directory",
            Part::NfsServer => "state_directory",
            _ => continue,
        };
        if let Some(d) = ctx.param(i, key) {
            if !dirs.iter().any(|(_, x)| *x == d) {
                dirs.push((i, d));
            }
        }
    }
    for (i, dir) in dirs {
        let wrong = storage::nfs_conf_wrong(&|s, k| ctx.nfs_conf(s, k), Path::new(dir));
        if wrong.is_empty() {
            continue;
        }
        let r = &ctx.m.resources[i];
        let loc = ctx
            .m
            .host
            .nfsconf
            .iter()
            .find(|p| p.name.ends_with(".storagedir"))
            .or(ctx.m.host.nfsconf.first())
            .map(|p| &p.loc);
        out.push(
            Finding::new(&RULE, format!("nfs.conf does not keep the client-tracking state in `{}`'s state directory {dir}, so nfsd would track clients on the local disk and ocf:nfsha refuses to start; set {}", r.id, wrong.join(" and ")))
                .objects([r.id.as_str(), "nfs.conf storagedir"])
                .at_opt(loc)
                .help(format!("nfs.conf: set {} on every node", wrong.join(" and "))),
        );
    }
}

/// nfs.conf on its own: nfsdcld's records left under /var/lib/nfs.
fn alone(ctx: &Ctx, out: &mut Vec<Finding>) {
    let h = &ctx.m.host;
    if h.nfsconf.is_empty() {
        return;
    }
    let p = h.nfsconf("nfsdcld.storagedir");
    let dir = p.map_or("/var/lib/nfs/nfsdcld", |p| p.value.as_str());
    if dir != "/var/lib/nfs" && !dir.starts_with("/var/lib/nfs/") {
        return;
    }
    let what = if p.is_some() { "" } else { " (the default)" };
    out.push(
        Finding::new(&RULE, format!("nfs.conf keeps nfsdcld's client records in {dir}{what}: that is each node's local disk unless a filesystem that fails over with the server is mounted on /var/lib/nfs"))
            .severity(Severity::Warning)
            .objects(["nfs.conf [nfsdcld] storagedir"])
            .at_opt(p.map(|p| &p.loc).or(h.nfsconf.first().map(|p| &p.loc)))
            .help("nfs.conf: [nfsdcld] storagedir=<dir on the failover storage>/nfsdcld (and [nfsdcltrack] alike), or mount a cluster filesystem on /var/lib/nfs"),
    );
}
