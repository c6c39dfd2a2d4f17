//! NFS105 order-loop.

use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Finds resources whose start orders form a loop (A before B before … before A),
from group order and order constraints together.

## Why is this bad?
Pacemaker cannot satisfy a mandatory ordering loop: the resources involved do
not start, or the scheduler produces an invalid transition.

## Example
```text
group g-nfs fs nfsserver exportfs
order o-bad Mandatory: exportfs fs
```

## Use instead
crm: `crm configure delete o-bad` (the group already orders its members)

pcs: `pcs constraint delete o-bad`

## References
- Pacemaker Explained, "Ordering Constraints"
- pcs PR #509/#517: orders between members of one group "may block Pacemaker"
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS105",
    name: "order-loop",
    severity: Severity::Error,
    why: "Pacemaker cannot satisfy a loop of start orders; the resources in it do not start",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let cycle = &ctx.order.cycle;
    if cycle.is_empty() {
        return;
    }
    let names: Vec<&str> = cycle.iter().map(|&i| ctx.id(i)).collect();
    out.push(
        Finding::new(&RULE, format!("start orders form a loop through {}", super::nfs101_vip_before_nfs::quote_list(&names)))
            .objects(names.iter().copied())
            .at(&ctx.m.resources[cycle[0]].loc)
            .help("crm: remove the order constraint that closes the loop (nfsha order FILE shows the edges)")
            .help("pcs: pcs constraint delete <order id> (nfsha order FILE shows the edges)"),
    );
}
