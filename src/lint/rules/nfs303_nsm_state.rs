//! NFS303 nsm-state.

use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
When NFSv3 is enabled (nfs.conf `vers3`, on by default; off with
`nfsv4_only=true` or without "3" in nfsha's `nfs_versions`), checks that
the NSM/statd state (`/var/lib/nfs/sm`, or nfs.conf `[statd]
state-directory-path`) is on a filesystem that fails over with the server:
`nfs_shared_infodir`, a filesystem mounted at `/var/lib/nfs`, or one holding
the statd directory.

## Why is this bad?
NFSv3 (NLM) lock recovery depends on the server's statd list of clients: after
failover the new node sends reboot notifications (sm-notify) to the clients
in that list so they reclaim their locks. With the list on each node's local
disk, the new node notifies nobody and v3 clients keep locks the server no
longer knows about. (NFSv4.0 and later lock inside the protocol; their
client records are checked by NFS401, and 4.1+ also needs a fixed server
scope, NFS302.)

## Example
```text
primitive nfsserver nfsserver params nfs_server_scope=SUSE
group g-nfs fs-nfs-share nfsserver exportfs-nfs vip-nfs
```

## Use instead
crm: `primitive fs-nfs-state Filesystem params device=/dev/drbd0 directory=/var/lib/nfs fstype=ext4` first in the group, or `nfsserver params nfsv4_only=true`

pcs: `pcs resource create nfs-daemon nfsserver nfs_shared_infodir=/nfsshare/nfsinfo --group nfsgroup`, or nfs.conf `[nfsd] vers3=n vers4.0=n`

## References
- resource-agents `heartbeat/nfsserver` (`nfs_shared_infodir`, `nfsv4_only`)
- Red Hat HA NFS guide (`nfs_shared_infodir`, nfsnotify)
- `statd(8)`, `sm-notify(8)`
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS303",
    name: "nsm-state",
    severity: Severity::Warning,
    why: "without the statd client list on shared storage, NFSv3 clients are never told to reclaim their locks",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let (v3, _, _) = ctx.versions();
    if !v3 {
        return;
    }
    let statd_dir = ctx
        .m
        .host
        .nfsconf("statd.state-directory-path")
        .map(|p| p.value.clone());
    for s in ctx.servers() {
        let shared = ["nfs_shared_infodir", "state_directory"]
            .iter()
            .filter_map(|k| ctx.param(s, k))
            .any(|d| ctx.mount_holding(d, Some(s)).is_some())
            || ctx.mount_holding("/var/lib/nfs/sm", Some(s)).is_some()
            || statd_dir
                .as_deref()
                .is_some_and(|d| ctx.mount_holding(d, Some(s)).is_some());
        if shared {
            continue;
        }
        let r = &ctx.m.resources[s];
        out.push(
            Finding::new(&RULE, format!("NFSv3 is enabled but the statd/NSM state of `{}` is not on storage that fails over with it", r.id))
                .objects([r.id.as_str()])
                .at(&r.loc)
                .help("crm: add a Filesystem mounted at /var/lib/nfs before the server in the group, or set nfsv4_only=true")
                .help(format!("pcs: pcs resource update {} nfs_shared_infodir=<dir on a clustered Filesystem>, or disable v3 in /etc/nfs.conf ([nfsd] vers3=n)", r.id)),
        );
    }
}
