//! NFS803 soft-nfs4-unbounded.

use super::client_mount::nfs_mounts;
use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
With `nfsha lint --mounts FILE`, finds NFSv4 mounts over TCP that are
`soft` in the belief that this bounds how long a job can hang.

## Why is this bad?
Over TCP, NFSv4 does not retransmit a request while the connection stays
up. A server that keeps ACKing but never answers (a hung export, a
stuck backend) leaves the request waiting with no timeout at all: `soft`
bounds nothing. Only a helper with its own deadline that can abandon the
call bounds the job.

## Example
```text
nas:/jobs /srv/jobs nfs4 soft,timeo=100,retrans=3 0 0
```

## Use instead
Keep the mount as it is and run the job under `nfsha guard --timeout 10m …`,
which abandons a job stuck in the kernel. There is no crm or pcs side to
this: the mount is the KVM host's.

## References
- `nfs(5)`: "NFS version 4 … does not retransmit" over TCP
- docs/heartbeat.md, "nfsha guard"
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS803",
    name: "soft-nfs4-unbounded",
    severity: Severity::Warning,
    why: "soft over NFSv4/TCP never times out while the server keeps the connection up",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    for n in nfs_mounts(&ctx.m.host.mounts) {
        if !(n.soft && n.v4 && !n.udp) {
            continue;
        }
        let mp = &n.mount.mount_point;
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{mp}: soft over NFSv4/TCP does not bound latency when the server keeps the connection up but does not answer (requests are never retransmitted)"
                ),
            )
            .objects([mp.as_str()])
            .at(&n.mount.loc)
            .help("run jobs on it under `nfsha guard --timeout`, which abandons a call stuck in the kernel"),
        );
    }
}
