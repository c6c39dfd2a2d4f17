//! NFS804 rpc-timeout.

use super::client_mount::nfs_mounts;
use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
With `nfsha lint --mounts FILE`, states for every NFS mount how long one
RPC waits before the kernel retries (`hard`) or fails it (`soft`): the
major timeout `min(timeo × (retrans + 1), 600 s)`, `timeo` in deciseconds
(TCP defaults: 600 and 2, so 180 s).

## Why is this bad?
It is not: this is information, to compare with the timeouts of what runs
on the mount (a backup job, the storage heartbeat's `io_timeout`, the
CloudStack agent's own waits). A number nobody computed is how jobs end up
waiting three minutes per call.

## Example
```text
nas:/data /mnt/data nfs rw,hard 0 0
```

## Use instead
Set `timeo`/`retrans` on purpose, e.g. `timeo=50,retrans=3` (20 s) for a
backup mount. There is no crm or pcs side to this: the mount is the KVM
host's.

## References
- `nfs(5)`: `timeo`, `retrans`
- Linux `net/sunrpc/xprtsock.c` (the TCP major timeout)
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS804",
    name: "rpc-timeout",
    severity: Severity::Info,
    why: "how long one NFS call waits on this mount, to set the timeouts of what runs on it",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    for n in nfs_mounts(&ctx.m.host.mounts) {
        let mp = &n.mount.mount_point;
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{mp} ({}, {}): {}; {}",
                    if n.v4 { "NFSv4" } else { "NFSv3 or auto" },
                    if n.soft { "soft" } else { "hard" },
                    n.bound_text(),
                    if n.soft {
                        "a call fails after this"
                    } else {
                        "a call is retried forever after this"
                    }
                ),
            )
            .objects([mp.as_str()])
            .at(&n.mount.loc),
        );
    }
}
