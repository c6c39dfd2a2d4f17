//! NFS802 soft-vm-disk-mount.

use super::client_mount::{mounts_of_use, Use};
use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
With `nfsha lint --mounts FILE`, finds VM disks on an NFS mount that is
`soft` (or `softerr`): a CloudStack primary storage pool (`/mnt/<uuid>`),
libvirt's images directory, or a path naming primary storage or VM disks.

## Why is this bad?
A soft mount gives up on a request after its retries and reports an error
to the writer — for a VM, a write that the guest was told went to disk and
did not, reported late or never: `nfs(5)` calls it silent data corruption.
VM disks need `hard` (the guest waits), with fencing by the storage
heartbeat when the storage is really gone.

## Example
```text
nas:/primary /mnt/0a1b2c3d-1111-2222-3333-444455556666 nfs soft,timeo=50,retrans=3 0 0
```

## Use instead
```text
nas:/primary /mnt/0a1b2c3d-1111-2222-3333-444455556666 nfs hard,proto=tcp,timeo=600,retrans=2 0 0
```
with `nfsha heartbeat` fencing the host when the pool stays unreachable.
There is no crm or pcs side to this: the mount is the KVM host's.

## References
- `nfs(5)`, "The soft / hard options" (silent data corruption)
- docs/heartbeat.md
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS802",
    name: "soft-vm-disk-mount",
    severity: Severity::Error,
    why: "a soft mount drops timed-out writes: VM disks on it are silently corrupted",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    mounts_of_use(
        ctx,
        out,
        &RULE,
        (Use::VmDisks, true),
        |mp, n| format!(
            "VM disk mount {mp} is soft: a timed-out write is dropped and reported late or never (nfs(5): silent data corruption); VM disks need hard. {}",
            n.bound_text()
        ),
        "mount: hard,proto=tcp (and the storage heartbeat, nfsha heartbeat, to fence when the pool is gone)",
    );
}
