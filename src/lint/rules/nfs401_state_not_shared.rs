//! NFS401 state-not-shared.

use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds an NFS server whose NFSv4 client-tracking state is not on storage that
fails over with it. The state lives in `/var/lib/nfs` (nfsdcld, or
nfsdcltrack before nfs-utils 2.8.3), moved by `nfs_shared_infodir`
(`ocf:heartbeat:nfsserver`), `state_directory` (`ocf:nfsha:nfsserver`) or
nfs.conf `[nfsdcld]`/`[nfsdcltrack]` `storagedir`. It must be inside a
`Filesystem` (or `ocf:nfsha:nfsstate`) placed with the server.

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
