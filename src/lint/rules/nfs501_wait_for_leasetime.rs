//! NFS501 wait-for-leasetime.

use crate::formats::bools;
use crate::lint::fix::Fix;
use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Part;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds `exportfs` resources with `wait_for_leasetime_on_stop=true`.

## Why is this bad?
On stop the agent sleeps for the whole NFSv4 lease (+2 s) so that client
state expires before the unmount. That delays every failover by the lease
time and throws away all locks and opens — exactly the state a restarted
server's grace period would let clients reclaim. With the server stopped
before the unmount (the order storage → nfsserver → exportfs → address), the
filesystem is not busy and the wait is unnecessary. It is the usual reason
people lower the lease time (NFS301). crmsh's NFS wizard still sets it.

## Example
```text
primitive exportfs-nfs exportfs params directory=/srv/nfs/share clientspec=10.0.0.0/24 wait_for_leasetime_on_stop=true
```

## Use instead
crm: `crm resource param exportfs-nfs delete wait_for_leasetime_on_stop`

pcs: `pcs resource update exportfs-nfs wait_for_leasetime_on_stop=`

## References
- SUSE TID 000020396, section 4
- SUSE HA NFS guide: "Do not set wait_for_leasetime_on_stop=true"
- crmsh `scripts/exportfs/main.yml`
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS501",
    name: "wait-for-leasetime",
    severity: Severity::Error,
    why: "waiting out the lease on stop delays every failover and discards the locks clients could reclaim",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (e, r) in ctx.m.of_part(Part::Exportfs) {
        let Some(p) = ctx.m.param(e, "wait_for_leasetime_on_stop") else {
            continue;
        };
        if bools::pacemaker(&p.value) != Some(true) {
            continue;
        }
        out.push(
            Finding::new(
                &RULE,
                format!("export `{}` sets wait_for_leasetime_on_stop=true", r.id),
            )
            .objects([r.id.as_str()])
            .conditional(p.conditional)
            .at(&p.loc)
            .fix(Fix::DeleteParam {
                rsc: ctx.id(ctx.param_owner(e, "wait_for_leasetime_on_stop")).to_string(),
                name: "wait_for_leasetime_on_stop".into(),
            }),
        );
    }
}
