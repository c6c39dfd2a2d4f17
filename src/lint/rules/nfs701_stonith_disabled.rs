//! NFS701 stonith-disabled.

use crate::formats::bools;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds `stonith-enabled=false` (Pacemaker 3: `fencing-enabled=false`) in a
cluster that manages replicated or shared data (DRBD, filesystems, an NFS
server), and fencing left on (the default) with no fence device configured,
which `crm_verify` rejects as "config not valid": Pacemaker then starts no
resource at all.

## Why is this bad?
Without fencing, a node that stops responding may still be writing. The
survivor takes over the same DRBD device or filesystem and both write:
split brain and data corruption. A failed stop cannot be recovered either, so
the resource blocks. Red Hat does not support clusters without fencing; DRBD
needs `fencing resource-and-stonith` backed by it.

## Example
```text
property cib-bootstrap-options: stonith-enabled=false
```

## Use instead
crm: `primitive stonith-sbd stonith:external/sbd` and `property stonith-enabled=true`

pcs: `pcs stonith create fence-n1 fence_ipmilan …` and `pcs property set stonith-enabled=true`

## References
- Pacemaker Explained, "Fencing"
- Red Hat HA NFS guide ("the resources do not start" without fencing)
- LINBIT DRBD 9 User's Guide, "Fencing"
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS701",
    name: "stonith-disabled",
    severity: Severity::Error,
    why: "without fencing two nodes can write the same replicated data at once: split brain and corruption",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let m = ctx.m;
    if !m.has_cluster {
        return;
    }
    let mut enabled = true;
    for name in ["stonith-enabled", "fencing-enabled"] {
        let Some(p) = m.property(name) else {
            continue;
        };
        if bools::pacemaker(&p.value) != Some(false) {
            continue;
        }
        enabled = false;
        if !ctx.has_data() {
            continue;
        }
        out.push(
            Finding::new(
                &RULE,
                format!("{name}=false in a cluster with replicated or shared NFS data"),
            )
            .objects([name])
            .conditional(p.conditional)
            .at(&p.loc)
            .help(format!(
                "crm: configure a fence device, then crm configure property {name}=true"
            ))
            .help(format!(
                "pcs: pcs stonith create <id> <fence agent> …; pcs property set {name}=true"
            )),
        );
    }
    // Fencing on (the default) with no device: Pacemaker starts nothing
    // (crm_verify: "Resource start-up disabled since no STONITH resources
    // have been defined").
    let resources = m.primitives().any(|(_, r)| r.part() != Part::Fence);
    let devices = m.primitives().any(|(_, r)| r.part() == Part::Fence);
    if enabled && resources && !devices {
        let p = m.property("stonith-enabled").or_else(|| m.property("fencing-enabled"));
        let how = p.map_or("fencing is on by default".to_string(), |p| {
            format!("{}={}", p.name, p.value)
        });
        out.push(
            Finding::new(
                &RULE,
                format!("{how} but no fence device is configured: Pacemaker starts no resource (crm_verify: \"config not valid\")"),
            )
            .objects(["stonith-enabled"])
            .at_opt(p.map(|p| &p.loc).or(m.resources.first().map(|r| &r.loc)))
            .help("crm: crm configure primitive <id> stonith:<fence agent> params … (e.g. stonith:fence_sbd devices=/dev/disk/by-id/…)")
            .help("pcs: pcs stonith create <id> <fence agent> … (e.g. fence_sbd devices=/dev/disk/by-id/…)"),
        );
    }
}
