//! NFS003 unparsed-statement.

use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Reports every statement of a crm file, pcs script or `pcs config` text that
nfsha could not read, or that crmsh or pcs themselves would refuse: a typo
in a keyword (`primitve`), a command without its agent (`pcs resource
create vip ip=…`), a constraint on a clone's member that pcs refuses
without `--force`, pcs syntax inside crm (`op monitor … --group HA`), a
`crm configure load` of a file that is not given, a `filter` or a crmsh
wizard whose result cannot be known. The rest of the file is still read
and checked.

## Why is this bad?
What was not understood is not checked. A lint that skips a statement
silently reports "no problems" for a configuration it never saw: an order
that pcs refused is missing from the cluster, and a group built by a
statement nfsha could not read looks like free-standing resources. Each
such statement is named, with its line, so the verdict is never "clean" by
omission.

## Example
```text
primitive vip IPaddr2 params ip=192.168.1.100 op monitor interval=10s --group g-nfs
```

## Use instead
crm: `primitive vip IPaddr2 params ip=192.168.1.100 op monitor interval=10s`
then `modgroup g-nfs add vip` (or list it in `group g-nfs … vip`)

pcs: `pcs resource create vip IPaddr2 ip=192.168.1.100 op monitor interval=10s --group g-nfs`

## References
- crmsh `crm.8.adoc` (configure statements), `crmsh/parse.py`
- pcs `pcs/usage.py` for 0.9 to 0.12
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS003",
    name: "unparsed-statement",
    severity: Severity::Warning,
    why: "what was not understood is not checked, so findings it would cause are missing",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    for u in &ctx.m.unparsed {
        out.push(
            Finding::new(
                &RULE,
                format!("`{}` was not understood: {}", u.statement, u.reason),
            )
            .at(&u.loc)
            .help(
                "correct the statement (or remove it), then lint again; nothing it says is checked",
            ),
        );
    }
}
