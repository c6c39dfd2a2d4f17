//! NFS302 server-scope.

use crate::agents::nfsserver;
use crate::lint::fix::Fix;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;
use crate::nfs::versions;

macro_rules! rule_doc {
    () => {
        r#"## What it does
With NFSv4.1 or 4.2 enabled (the default), finds an NFS server whose server
scope is not fixed: `ocf:heartbeat:nfsserver` without `nfs_server_scope`,
`ocf:nfsha:nfsserver` without `server_hostname` (which the agent itself
refuses, with this rule's check), or a systemd/LSB nfs-server with no `scope`
in nfs.conf `[nfsd]` and no `-S` in `nfsd_args`. Given nfs.conf on its own,
warns when it offers NFSv4.1+ without `[nfsd] scope`.

## Why is this bad?
NFSv4.1+ clients reclaim state only from a server with the same server scope,
which defaults to the node's hostname. After failover to a node with another
hostname every reclaim is refused, and clients lose their locks and opens.

## Example
```text
primitive nfsserver nfsserver
```

## Use instead
crm: `primitive nfsserver nfsserver params nfs_server_scope=<service ip or name>`

pcs: `pcs resource update nfs-daemon nfs_server_scope=<service ip or name>`

nfs.conf (nfs-utils ≥ 2.6.3): `[nfsd] scope=<name>` on every node.

## References
- SUSE TID 000020396, section 6
- RFC 8881 §2.10.4 (server scope); resource-agents issue #1644 and PR #1688
- `rpc.nfsd(8)` `--scope`
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS302",
    name: "server-scope",
    severity: Severity::Error,
    why: "NFSv4.1+ clients reclaim locks only from a server with the same scope, which defaults to the node's hostname",
    doc: rule_doc!(),
    check,
};

/// A scope for `ocf:heartbeat:nfsserver`: the same on every node, and
/// telling: the address of the service, else the name of its group.
fn scope_for(ctx: &Ctx, s: usize) -> String {
    ctx.placed_with(s)
        .iter()
        .filter(|&&v| ctx.m.resources[v].part() == Part::Vip)
        .find_map(|&v| ctx.param(v, "ip"))
        .map_or_else(|| ctx.unit(s).to_string(), str::to_string)
}

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let h = &ctx.m.host;
    let conf_scope = h.nfsconf("nfsd.scope").is_some_and(|p| !p.value.is_empty());
    if !ctx.m.has_cluster {
        // nfs.conf on its own: the scope of any server started with it.
        let offers_41 = ctx.versions().2;
        if !h.nfsconf.is_empty() && offers_41 && !conf_scope {
            let loc = h.nfsconf.iter().find(|p| p.name.starts_with("nfsd.")).map(|p| &p.loc);
            out.push(
                Finding::new(&RULE, "nfs.conf offers NFSv4.1+ but sets no [nfsd] scope: a server started with it presents the node's host name as its scope, which changes on failover")
                    .severity(Severity::Warning)
                    .objects(["nfs.conf [nfsd] scope"])
                    .at_opt(loc.or_else(|| h.nfsconf.first().map(|p| &p.loc)))
                    .help("nfs.conf: [nfsd] scope=<the service's name, the same on every node> (read by rpc.nfsd from nfs-utils 2.6.3)"),
            );
        }
        return;
    }
    if !ctx.versions().2 {
        return;
    }
    for s in ctx.servers() {
        let r = &ctx.m.resources[s];
        if let Some(v) = ctx.verdict(s) {
            // nfsha's nfsserver: its own rule, on its own reading of the
            // parameters (nfs_versions defaults to 4.1,4.2).
            let Some(p) = v.params.as_ref() else { continue };
            let versions = versions::parse(p.str("nfs_versions").unwrap_or("4.1,4.2")).unwrap_or_default();
            if let Err(reason) = nfsserver::check_hostname_needed(p.str("server_hostname"), &versions) {
                out.push(
                    Finding::new(&RULE, format!("NFS server `{}` has no server_hostname: {reason}", r.id))
                        .objects([r.id.as_str()])
                        .at(&r.loc)
                        .mirrors(reason)
                        .help(format!("crm: crm resource param {} set server_hostname <the service's DNS name>; then nfsha dropin --hostname <it> on every node", r.id))
                        .help(format!("pcs: pcs resource update {} server_hostname=<the service's DNS name>; then nfsha dropin --hostname <it> on every node", r.id)),
                );
            }
            continue;
        }
        let fixed = conf_scope
            || ctx
                .param(s, "nfs_server_scope")
                .is_some_and(|v| !v.is_empty())
            || ctx.param(s, "nfsd_args").is_some_and(|a| {
                a.split_whitespace()
                    .any(|w| w.starts_with("-S") || w.starts_with("--scope"))
            });
        if fixed {
            continue;
        }
        let mut f = Finding::new(&RULE, format!("NFS server `{}` has no fixed server scope; NFSv4.1+ clients cannot reclaim state after failover", r.id))
            .objects([r.id.as_str()])
            .at(&r.loc);
        if r.agent().is_some_and(|a| a.class == "ocf") {
            f = f.fix(Fix::SetParam {
                rsc: r.id.clone(),
                name: "nfs_server_scope".into(),
                value: scope_for(ctx, s),
            });
        } else {
            f = f.help("nfs.conf: [nfsd] scope=<same name on every node> (nfs-utils 2.6.3+), or use ocf:heartbeat:nfsserver with nfs_server_scope");
        }
        out.push(f);
    }
}
