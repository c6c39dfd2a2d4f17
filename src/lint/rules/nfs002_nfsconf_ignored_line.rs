//! NFS002 nfsconf-ignored-line.

use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Reports every line of nfs.conf (with its includes and `nfs.conf.d/*.conf`
drop-ins) that nfs-utils' own reader skips: a line before the first section,
a line without `=` or without a name, a value with an unmatched quote, the
lines after a section header without its `]`, a last line with no newline
at the end, and an `include` whose file cannot be read. nfsha reads nfs.conf
with the same rules as nfs-utils 2.6 (checked against `nfsconf --get`).

## Why is this bad?
nfs-utils logs a warning that nobody reads and carries on without the
setting. A `lease-time`, `grace-time` or nfsdcld `storagedir` line that is
skipped leaves the server on its defaults: a 90 s lease the cluster's
timeouts were not planned for, or client records on local disk that do not
fail over, so clients lose their locks. The missing final newline is the
easiest one to miss: the file looks right in every editor.

## Example
```text
[nfsd]
lease-time = 60
[nfsdcld
storagedir = /srv/nfsstate/nfsdcld
```

## Use instead
```text
[nfsd]
lease-time = 60
[nfsdcld]
storagedir = /srv/nfsstate/nfsdcld
```
and end the file with a newline. `nfsconf --dump` shows what nfs-utils reads.
There is no crm or pcs side to this: nfs.conf is a host file, the same
under either tool.

## References
- `nfs.conf(5)`; nfs-utils `support/nfs/conffile.c` (the reader)
- nfsha `tests/nfsconf_oracle.rs` (nfsha's reader against `nfsconf`)
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS002",
    name: "nfsconf-ignored-line",
    severity: Severity::Warning,
    why: "nfs-utils skips the line with a warning nobody reads, so the setting on it is not in effect",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    for i in &ctx.m.host.nfsconf_ignored {
        out.push(
            Finding::new(&RULE, format!("nfs.conf: {}", i.message))
                .at(&i.loc)
                .help("fix the line until `nfsconf --dump` shows its setting"),
        );
    }
}
