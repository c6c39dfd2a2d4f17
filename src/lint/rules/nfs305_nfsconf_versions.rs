//! NFS305 nfsconf-versions.

use crate::agents::nfsserver;
use crate::formats::bools;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::nfs::versions;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Warns when NFSv4.0 is switched on: nfs.conf `[nfsd] vers4.0=y`, or
`nfs_versions` with 4.0 on `ocf:nfsha:nfsserver` (which logs the same
warning at every start). Given nfs.conf on its own, also notes an explicit
`vers3=y` (with a cluster configuration, NFS303 checks what NFSv3 needs).

## Why is this bad?
An NFSv4.0 client never sends RECLAIM_COMPLETE, so the server cannot end
the grace period early when every client has reclaimed: each failover
blocks new opens and locks for the whole grace time. NFSv4.0 also
identifies the server by its address, and its callbacks go to the client
from whichever node runs the server. NFSv3 recovers its locks through statd
notifications, which need statd's state to fail over too.

## Example
```text
[nfsd]
vers4.0=y
```

## Use instead
nfs.conf: `[nfsd] vers4.0=n` (clients mount with `vers=4.1` or `4.2`)

crm: `crm resource param nfs-server set nfs_versions 4.1,4.2`

pcs: `pcs resource update nfs-server nfs_versions=4.1,4.2`

## References
- RFC 8881 §18.51 (RECLAIM_COMPLETE), RFC 7530 §9.6.2 (NFSv4.0 grace)
- `nfs.conf(5)`, `rpc.nfsd(8)`
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS305",
    name: "nfsconf-versions",
    severity: Severity::Warning,
    why: "NFSv4.0 clients never signal that they have reclaimed, so every failover waits out the whole grace period",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let h = &ctx.m.host;
    let explicit = |tag: &str| {
        h.nfsconf(&format!("nfsd.{tag}"))
            .filter(|p| bools::nfs_conf(&p.value) == Some(true))
    };
    if let Some(p) = explicit("vers4.0") {
        out.push(
            Finding::new(&RULE, "nfs.conf switches NFSv4.0 on (vers4.0=y): its clients never send RECLAIM_COMPLETE, so grace never ends early after a failover")
                .objects(["nfs.conf [nfsd] vers4.0"])
                .at(&p.loc)
                .help("nfs.conf: [nfsd] vers4.0=n, and mount clients with vers=4.1 or 4.2"),
        );
    }
    if !ctx.m.has_cluster {
        if let Some(p) = explicit("vers3") {
            out.push(
                Finding::new(&RULE, "nfs.conf switches NFSv3 on (vers3=y): NFSv3 locks recover through statd, whose state (/var/lib/nfs/statd or [statd] state-directory-path) must fail over with the server")
                    .severity(Severity::Info)
                    .objects(["nfs.conf [nfsd] vers3"])
                    .at(&p.loc)
                    .help("nfs.conf: [nfsd] vers3=n if no client needs NFSv3; else [statd] state-directory-path on the failover storage"),
            );
        }
    }
    for &s in ctx.part(crate::model::Part::NfsServer) {
        let Some(params) = ctx.verdict(s).and_then(|v| v.params.as_ref()) else {
            continue;
        };
        let Ok(offered) = versions::parse(params.str("nfs_versions").unwrap_or("4.1,4.2")) else {
            continue;
        };
        let r = &ctx.m.resources[s];
        // The agent's own start-time warnings, NFSv3's left to NFS303.
        for w in nfsserver::version_warnings(&offered)
            .into_iter()
            .filter(|w| w.starts_with("nfs_versions offers 4.0"))
        {
            out.push(
                Finding::new(&RULE, format!("`{}`: {w}", r.id))
                    .objects([format!("{} nfs_versions", r.id)])
                    .at_opt(ctx.m.param(s, "nfs_versions").map(|p| &p.loc))
                    .help(format!("crm: crm resource param {} set nfs_versions 4.1,4.2", r.id))
                    .help(format!("pcs: pcs resource update {} nfs_versions=4.1,4.2", r.id)),
            );
        }
    }
}
