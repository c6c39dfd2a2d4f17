//! NFS306 nfsconf-mismatch.

use crate::agents::nfsserver;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Given nfs.conf together with a configuration that uses `ocf:nfsha:nfsserver`,
compares them with the agent's own start checks: with systemd, `rpc.nfsd`
takes its thread count and NFS versions from nfs.conf `[nfsd]`, so they must
be the resource's `threads` and `nfs_versions`; with NFSv3 offered, statd's
state must be on the state directory (`[statd] state-directory-path`).

## Why is this bad?
The agent refuses to start on a node whose nfs.conf disagrees with the
resource (`OCF_ERR_ARGS`): Pacemaker then tries the other node, and when
every node has the same file, the NFS service does not start at all.
Started anyway by hand, nfsd would offer versions the cluster does not
recover (NFSv4.0 without early grace end, NFSv3 without its statd state).

## Example
```text
primitive nfs-server ocf:nfsha:nfsserver params … threads=16
# /etc/nfs.conf: [nfsd] threads=8
```

## Use instead
nfs.conf: `[nfsd] threads=16` (and `vers3`, `vers4.0`, `vers4.1`, `vers4.2` as `nfs_versions` says) on every node

crm: or `crm resource param nfs-server set threads 8`

pcs: or `pcs resource update nfs-server threads=8`

## References
- docs/server-agents.md (nfsserver, systemd mode)
- `rpc.nfsd(8)`, `nfs.conf(5)`
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS306",
    name: "nfsconf-mismatch",
    severity: Severity::Error,
    why: "ocf:nfsha:nfsserver refuses to start on a node whose nfs.conf disagrees with the resource",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    if ctx.m.host.nfsconf.is_empty() {
        return;
    }
    for &s in ctx.part(Part::NfsServer) {
        let Some(cfg) = ctx.verdict(s).and_then(|v| v.server.as_ref()) else {
            continue;
        };
        let r = &ctx.m.resources[s];
        // The agent's own comparisons, on the nfs.conf given to lint.
        let mut wrong = nfsserver::nfs_conf_mismatches(&|tag| ctx.nfs_conf("nfsd", tag), cfg);
        let systemd = !wrong.is_empty();
        wrong.extend(nfsserver::statd_conf_wrong(&|sec, key| ctx.nfs_conf(sec, key), cfg).map(
            |set| set.to_string(),
        ));
        if wrong.is_empty() {
            continue;
        }
        let loc = ctx.m.host.nfsconf.first().map(|p| &p.loc);
        let why = if systemd {
            "with systemd, rpc.nfsd reads threads and versions from nfs.conf"
        } else {
            "with NFSv3, statd's state must be on the state directory"
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "nfs.conf disagrees with `{}` and the agent refuses to start ({why}); set {}",
                    r.id,
                    wrong.join(", ")
                ),
            )
            .objects([r.id.as_str(), "nfs.conf [nfsd]"])
            .at_opt(loc)
            .help(format!("nfs.conf: set {} on every node", wrong.join(", "))),
        );
    }
}
