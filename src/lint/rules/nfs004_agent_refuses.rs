//! NFS004 agent-refuses.

use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
For every resource of nfsha's own agents (`ocf:nfsha:nfsstate`,
`nfsserver`, `exportfs`, `vip`), runs the agent's own checks on the
configured parameters: its parameter table (required, type, range, the
per-parameter checks, refused and unknown names) and `validate-all` at
check level 0, which is what the agent runs before every start. It reports
what the agent would refuse, in the agent's own words.

## Why is this bad?
The agent answers the start with `OCF_ERR_CONFIGURED`, which Pacemaker
treats as fatal for the resource on every node: it stays stopped and the
NFS service with it, at the first start or at the next failover. A
configuration that lints clean must start.

## Example
```text
primitive nfsserver ocf:nfsha:nfsserver \
    params state_directory=/srv/nfs-state server_hostname=nfs.example.com lease_time=90s
```
(`lease_time` is a whole number of seconds.)

## Use instead
crm: `crm resource param nfsserver set lease_time 90`

pcs: `pcs resource update nfsserver lease_time=90`

## References
- `nfsha <agent> meta-data`, and docs/server-agents.md (each parameter)
- OCF Resource Agent API, `validate-all` and `OCF_ERR_CONFIGURED`
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS004",
    name: "agent-refuses",
    severity: Severity::Error,
    why: "the agent refuses to start a resource it cannot accept, so the NFS service stays down",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (i, r) in ctx.m.primitives() {
        let Some(reason) = ctx.verdict(i).and_then(|v| v.refusal.as_deref()) else {
            continue;
        };
        let agent = r.agent().map(|a| a.to_string()).unwrap_or_default();
        let conditional = std::iter::once(i)
            .chain(ctx.m.ancestors(i))
            .any(|x| ctx.m.resources[x].params.iter().any(|p| p.conditional));
        out.push(
            Finding::new(
                &RULE,
                format!("`{}` ({agent}) would not start: {reason}", r.id),
            )
            .objects([r.id.as_str()])
            .at(&r.loc)
            .conditional(conditional)
            .mirrors(reason)
            .help(format!(
                "crm: crm resource param {} set <parameter> <value> (or delete <parameter>)",
                r.id
            ))
            .help(format!(
                "pcs: pcs resource update {} <parameter>=<value> (empty to delete it)",
                r.id
            )),
        );
    }
}
