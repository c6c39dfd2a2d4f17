//! NFS302 server-scope.

use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
With NFSv4.1 or 4.2 enabled (the default), finds an NFS server whose server
scope is not fixed: `ocf:heartbeat:nfsserver` without `nfs_server_scope`,
`ocf:nfsha:nfsserver` without `server_hostname`, or a systemd/LSB nfs-server
with no `scope` in nfs.conf `[nfsd]` and no `-S` in `nfsd_args`.

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

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    if !ctx.versions().2 {
        return;
    }
    let conf_scope = ctx
        .m
        .host
        .nfsconf("nfsd.scope")
        .is_some_and(|p| !p.value.is_empty());
    for s in ctx.servers() {
        let r = &ctx.m.resources[s];
        let nfsha = r.agent().is_some_and(|a| a.is_nfsha());
        let fixed = if nfsha {
            ctx.param(s, "server_hostname")
                .is_some_and(|v| !v.is_empty())
        } else {
            conf_scope
                || ctx
                    .param(s, "nfs_server_scope")
                    .is_some_and(|v| !v.is_empty())
                || ctx.param(s, "nfsd_args").is_some_and(|a| {
                    a.split_whitespace()
                        .any(|w| w == "-S" || w.starts_with("--scope"))
                })
        };
        if fixed {
            continue;
        }
        let (param, example) = if nfsha {
            ("server_hostname", "nfs.example.com")
        } else {
            ("nfs_server_scope", "<service ip>")
        };
        let mut f = Finding::new(&RULE, format!("NFS server `{}` has no fixed server scope; NFSv4.1+ clients cannot reclaim state after failover", r.id))
            .objects([r.id.as_str()])
            .at(&r.loc);
        if r.agent().is_some_and(|a| a.class == "ocf") {
            f = f
                .help(format!(
                    "crm: crm resource param {} set {param} {example}",
                    r.id
                ))
                .help(format!(
                    "pcs: pcs resource update {} {param}={example}",
                    r.id
                ));
        } else {
            f = f.help("nfs.conf: [nfsd] scope=<same name on every node> (nfs-utils 2.6.3+), or use ocf:heartbeat:nfsserver with nfs_server_scope");
        }
        out.push(f);
    }
}
