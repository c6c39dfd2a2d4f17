//! NFS302 server-scope.

use crate::agents::nfsserver;
use crate::lint::fix::Fix;
use crate::lint::nfs_utils::{NfsUtils, SCOPE_SINCE};
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

nfs.conf `[nfsd] scope` and rpc.nfsd's `-S/--scope` exist only from
nfs-utils 2.6.3 on: Debian 12's 2.6.2 ignores the key, and its rpc.nfsd
exits with "invalid option -- 'S'". Tell the lint the servers' version with
`--nfs-utils 2.6.2` (or `nfs-utils = "2.6.2"` in `--config`): before 2.6.3
such a scope counts as none (an error); with the version unknown it is a
warning that says so. For `ocf:nfsha:nfsserver`, an nfs.conf `[nfsd] scope`
other than its `server_hostname` is a warning: from 2.6.3 on rpc.nfsd
presents that scope instead of the host name the agent starts it under.

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

nfs.conf (nfs-utils ≥ 2.6.3 only; not Debian 12): `[nfsd] scope=<name>` on every node.

## References
- SUSE TID 000020396, section 6
- RFC 8881 §2.10.4 (server scope); resource-agents issue #1644 and PR #1688
- `rpc.nfsd(8)` `--scope`; nfs-utils commit 580ac005 (2.6.3), "allow server
  scope to be set with config or command line"
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

/// How the servers' nfs-utils treats an nfs.conf `[nfsd] scope` or an
/// rpc.nfsd `-S`: `Some(true)` honoured, `Some(false)` not, `None` unknown.
fn scope_honoured(ctx: &Ctx) -> Option<bool> {
    ctx.nfs_utils.map(NfsUtils::sets_scope)
}

/// What the finding says about a scope set only where nfs-utils must
/// honour it.
fn scope_needs(ctx: &Ctx, what: &str) -> String {
    match ctx.nfs_utils {
        Some(v) if !v.sets_scope() => format!(
            "{what} does not count: nfs-utils {v} ignores nfs.conf [nfsd] scope and its rpc.nfsd \
             refuses -S (both came in {SCOPE_SINCE})"
        ),
        _ => format!(
            "{what} is honoured only by nfs-utils {SCOPE_SINCE} or later (Debian 12 ships 2.6.2, \
             which ignores [nfsd] scope and refuses -S); say which version the servers run with \
             --nfs-utils"
        ),
    }
}

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let h = &ctx.m.host;
    let conf_scope_at = h.nfsconf("nfsd.scope").filter(|p| !p.value.is_empty());
    let conf_scope = conf_scope_at.is_some();
    if !ctx.m.has_cluster {
        // nfs.conf on its own: the scope of any server started with it.
        let offers_41 = ctx.versions().2;
        if let (Some(p), true, Some(false) | None) = (conf_scope_at, offers_41, scope_honoured(ctx))
        {
            let known_old = scope_honoured(ctx).is_some();
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "nfs.conf sets [nfsd] scope={}, but {}",
                        p.value,
                        scope_needs(ctx, "the key")
                    ),
                )
                .severity(if known_old { Severity::Warning } else { Severity::Info })
                .objects(["nfs.conf [nfsd] scope"])
                .at(&p.loc)
                .help("crm/pcs: ocf:heartbeat:nfsserver nfs_server_scope=<name>, or ocf:nfsha:nfsserver server_hostname=<name> (both start rpc.nfsd under that host name)"),
            );
        }
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
            if let (Some(c), Some(name)) = (conf_scope_at, p.str("server_hostname")) {
                if c.value != name {
                    let (severity, effect) = match ctx.nfs_utils {
                        Some(v) if !v.sets_scope() => (
                            Severity::Info,
                            format!("nfs-utils {v} ignores the key today, but from {SCOPE_SINCE} on rpc.nfsd presents it as the server scope"),
                        ),
                        Some(v) => (
                            Severity::Warning,
                            format!("rpc.nfsd of nfs-utils {v} presents it as the server scope instead of the host name the agent starts it under, so a node whose nfs.conf differs presents another scope after a failover"),
                        ),
                        None => (
                            Severity::Warning,
                            format!("from nfs-utils {SCOPE_SINCE} on rpc.nfsd presents it as the server scope instead of the host name the agent starts it under, so a node whose nfs.conf differs presents another scope after a failover"),
                        ),
                    };
                    out.push(
                        Finding::new(
                            &RULE,
                            format!("nfs.conf [nfsd] scope={} differs from `{}` server_hostname={name}: {effect}", c.value, r.id),
                        )
                        .severity(severity)
                        .objects(["nfs.conf [nfsd] scope".to_string(), format!("{} server_hostname", r.id)])
                        .at(&c.loc)
                        .help(format!("nfs.conf: delete [nfsd] scope, or set it to {name} on every node")),
                    );
                }
            }
            continue;
        }
        if ctx
            .param(s, "nfs_server_scope")
            .is_some_and(|v| !v.is_empty())
        {
            continue;
        }
        // Scopes only nfs-utils 2.6.3+ honours.
        let dash_s = ctx.param(s, "nfsd_args").is_some_and(|a| {
            a.split_whitespace()
                .any(|w| w.starts_with("-S") || w.starts_with("--scope"))
        });
        let by_nfs_utils = match (conf_scope, dash_s) {
            (true, true) => Some("the scope from nfs.conf [nfsd] scope and nfsd_args -S"),
            (true, false) => Some("the scope from nfs.conf [nfsd] scope"),
            (false, true) => Some("the scope from nfsd_args -S"),
            (false, false) => None,
        };
        let mut f = match (by_nfs_utils, scope_honoured(ctx)) {
            (Some(_), Some(true)) => continue,
            (Some(what), honoured) => Finding::new(
                &RULE,
                format!(
                    "NFS server `{}`: {}; NFSv4.1+ clients cannot reclaim state after failover where it is not",
                    r.id,
                    scope_needs(ctx, what)
                ),
            )
            .severity(if honoured.is_none() { Severity::Warning } else { Severity::Error }),
            (None, _) => Finding::new(&RULE, format!("NFS server `{}` has no fixed server scope; NFSv4.1+ clients cannot reclaim state after failover", r.id)),
        }
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
