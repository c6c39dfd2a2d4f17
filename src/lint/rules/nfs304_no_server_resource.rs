//! NFS304 no-server-resource.

use super::helpers::quote_list;
use crate::formats::bools;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds exports (`exportfs`) managed by the cluster with no NFS server
resource that the cluster manages: none at all (nfs-server left enabled in
systemd on every node, as in linstor-gateway's template and crmsh's plain
NFS wizard), or one with `is-managed=false`.

## Why is this bad?
The cluster then moves the exports and the address, but nfsd keeps running
on every node, started at boot and never restarted by a failover:

- no fresh start on failover, so no grace period: clients cannot reclaim
  their opens and locks on the node they fail over to, and applications
  see EIO or lose their locks;
- the server's state (`/var/lib/nfs`: nfsdcld's client records, statd) stays
  on each node's local disk, so even a restart would find no record of the
  clients;
- no fixed server scope: each node presents its own host name, and NFSv4.1+
  clients refuse to reclaim from a server with another scope.

## Example
```text
group g-nfs fs-nfs-state fs-nfs-share exportfs-nfs vip-nfs
# nfs-server.service enabled on both nodes
```

## Use instead
crm: `primitive nfsserver nfsserver params nfs_shared_infodir=/var/lib/nfs nfs_server_scope=<service ip>`, then
`crm configure modgroup g-nfs add nfsserver before exportfs-nfs`, and `systemctl disable nfs-server` on every node

pcs: `pcs resource create nfs-daemon ocf:heartbeat:nfsserver nfs_shared_infodir=<dir in the group's filesystem> nfs_server_scope=<service ip> --group g-nfs --before exportfs-nfs`, and `systemctl disable nfs-server` on every node

## References
- SUSE TID 000020396, sections 2 and 5
- LINBIT linstor-gateway (its kernel NFS template), crmsh `scripts/nfsserver/main.yml`
- RFC 8881 §8.4.2 (reclaim during grace), §2.10.4 (server scope)
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS304",
    name: "no-server-resource",
    severity: Severity::Error,
    why: "an nfsd the cluster does not restart on failover gives clients no grace period, keeps its state local and has no fixed scope",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    let exports = ctx.part(Part::Exportfs);
    if exports.is_empty() {
        return;
    }
    let managed = |i: usize| {
        m.meta(i, "is-managed")
            .and_then(|p| bools::pacemaker(&p.value))
            != Some(false)
    };
    let servers = ctx.part(Part::NfsServer);
    if servers.iter().any(|&s| managed(s)) {
        return;
    }
    let names: Vec<&str> = exports.iter().map(|&e| ctx.id(e)).collect();
    let vips: Vec<&str> = ctx.part(Part::Vip).iter().map(|&v| ctx.id(v)).collect();
    let with_vip = if vips.is_empty() {
        String::new()
    } else {
        format!(" and address {}", quote_list(&vips))
    };
    let what = match servers.first() {
        Some(&s) => format!("NFS server `{}` is not managed (is-managed=false)", ctx.id(s)),
        None => "no NFS server resource is".to_string(),
    };
    let group = m.group_of(exports[0]).map_or("<nfs group>", |g| ctx.id(g));
    out.push(
        Finding::new(
            &RULE,
            format!(
                "the cluster moves export{} {}{with_vip}, but {what}: nfsd runs on every node from boot, so a failover gives clients no grace period to reclaim their locks, its state stays on each node's local disk, and its scope is each node's host name",
                if names.len() == 1 { "" } else { "s" },
                quote_list(&names)
            ),
        )
        .objects(names.iter().copied().chain(servers.iter().map(|&s| ctx.id(s))))
        .at(&m.resources[exports[0]].loc)
        .help(format!("crm: primitive nfsserver nfsserver params nfs_shared_infodir=<dir in the group's filesystem> nfs_server_scope=<service ip>; crm configure modgroup {group} add nfsserver before {}; systemctl disable nfs-server on every node", names[0]))
        .help(format!("pcs: pcs resource create nfs-daemon ocf:heartbeat:nfsserver nfs_shared_infodir=<dir in the group's filesystem> nfs_server_scope=<service ip> --group {group} --before {}; systemctl disable nfs-server on every node", names[0])),
    );
}
