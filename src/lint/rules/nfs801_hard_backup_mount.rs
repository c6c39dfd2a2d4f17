//! NFS801 hard-backup-mount.

use super::client_mount::{mounts_of_use, Use};
use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
With `nfsha lint --mounts FILE` (`/proc/mounts`, an fstab or mountinfo of a
KVM host), finds a backup repository mounted `hard`: a mount whose path or
source names a backup (CloudStack's `/tmp/csbackup.*`, `/mnt/backup`).

## Why is this bad?
When the NAS stops answering, every process touching a hard mount blocks
in the kernel (D state) until it answers again, retried without end. The
backup job hangs, and with it the agent that waits for the job — CloudStack's
agent stops reporting and the host is declared down (CloudStack #12829).
A backup may fail; it must not take the host with it.

## Example
```text
nas:/backup /tmp/csbackup.Ab12 nfs rw,vers=4.1,hard,proto=tcp,timeo=600,retrans=2 0 0
```

## Use instead
```text
nas:/backup /tmp/csbackup.Ab12 nfs rw,vers=4.1,soft,proto=tcp,timeo=50,retrans=3 0 0
```
(20 s per RPC), and run each job under `nfsha guard --timeout`. There is no
crm or pcs side to this: the mount is the KVM host's, under either tool.

## References
- `nfs(5)`: `soft`, `hard`, `timeo`, `retrans`
- apache/cloudstack issue #12829
- docs/heartbeat.md, "nfsha guard"
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS801",
    name: "hard-backup-mount",
    severity: Severity::Warning,
    why: "a hard mount blocks every job on it for as long as the NAS is gone, and the agent waiting for the job with it",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    mounts_of_use(
        ctx,
        out,
        &RULE,
        (Use::Backup, false),
        |mp, n| format!(
            "backup mount {mp} is hard: when the NAS stops answering, every job on it blocks forever (D state) and with it the agent that waits for the job; {}, retried without end",
            n.bound_text()
        ),
        "mount: soft,timeo=50,retrans=3 (20 s per RPC), and run jobs under `nfsha guard --timeout`",
    );
}
