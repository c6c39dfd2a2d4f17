//! NFS301 lease-time.

use std::time::Duration;

use crate::formats::duration;
use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Checks the NFSv4 lease and grace times wherever they are set
(`ocf:nfsha:nfsserver` `lease_time`/`grace_time`, `nfsd_args="-L … -G …"`,
nfs.conf `[nfsd] lease-time`/`grace-time`, `/etc/sysconfig/nfs`
`NFSV4LEASETIME`/`NFSV4GRACETIME`): an error below 30 s or outside the
10–3600 s that `rpc.nfsd` accepts, a warning below 60 s, and a warning when
the grace time is shorter than the lease.

30–59 s is the short-lease profile: an NFSv4 client caps its reconnect
back-off at half the lease, so a failover's worst stall shrinks with it.
It is safe against network blips only on Linux ≥ 5.19, whose nfsd keeps
the state of a client that missed its lease until another client's
request conflicts with it (courteous server); the warning says so, and
`ocf:nfsha:nfsserver validate-all` reads the node's kernel and turns it
into information there.

## Why is this bad?
Linux clients renew after 2/3 of the lease and must finish within the last
third: at 15 s that is 5 s, and ordinary delays expire leases, losing state
(EIO). A grace period shorter than the lease ends before every client has
even noticed the failover, so their reclaims are refused. Short leases are
usually set to shorten `wait_for_leasetime_on_stop` delays, which should not
be used at all (NFS501).

## Example
```text
primitive nfsserver nfsserver params nfsd_args="-G 20 -L 15"
```

## Use instead
crm: `primitive nfsserver nfsserver params nfs_server_scope=<service ip>` (defaults: lease 90 s, grace = lease)

pcs: `pcs resource update nfs-daemon nfsd_args=` and in /etc/nfs.conf `[nfsd] lease-time=90`

## References
- SUSE TID 000020396, section 5 ("strongly discourages any value lower than 30")
- SUSE HA NFS guide: "we recommend a value of 60 or higher"
- `rpc.nfsd(8)`: `--lease-time` range 10–3600
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS301",
    name: "lease-time",
    severity: Severity::Error,
    why: "a short lease expires under ordinary delays and a short grace refuses reclaims: clients lose locks (EIO)",
    doc: rule_doc!(),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let help = |f: Finding| {
        f.help("crm/pcs: drop -L/-G from nfsd_args (or lease_time/grace_time on ocf:nfsha:nfsserver) to get 90 s")
            .help("nfs.conf: [nfsd] lease-time=90 and grace-time=90 (or at least 60)")
    };
    if let Some(lease) = ctx.lease_set() {
        let s = lease.value;
        let (sev, what) = if s < Duration::from_secs(10) || s > Duration::from_secs(3600) {
            (
                Severity::Error,
                "outside the 10–3600 s rpc.nfsd accepts".to_string(),
            )
        } else if s < Duration::from_secs(30) {
            (
                Severity::Error,
                "below 30 s, which SUSE strongly discourages".to_string(),
            )
        } else if s < Duration::from_secs(60) {
            // The short-lease profile (docs/server-agents.md): the gain and
            // the condition that makes it safe.
            (
                Severity::Warning,
                format!(
                    "below the recommended 60 s: after a failover NFSv4 clients then wait at \
                     most {} s (lease/2) before they retry, but a client that misses its \
                     renewals that long loses its opens and locks unless the server keeps them \
                     (courteous server): safe only where every NFS server node runs Linux ≥ 5.19",
                    s.as_secs() / 2
                ),
            )
        } else {
            (Severity::Info, String::new())
        };
        if !what.is_empty() {
            out.push(help(
                Finding::new(
                    &RULE,
                    format!(
                        "NFSv4 lease time {} ({}) is {what}",
                        duration::fmt(s),
                        lease.key
                    ),
                )
                .severity(sev)
                .objects([lease.key.clone()])
                .at_opt(lease.loc.as_ref()),
            ));
        }
    }
    if let Some(grace) = ctx.grace_set() {
        let lease = ctx.lease();
        if grace.value < lease.value {
            out.push(help(
                Finding::new(
                    &RULE,
                    format!(
                        "NFSv4 grace time {} ({}) is shorter than the lease time {} ({})",
                        duration::fmt(grace.value),
                        grace.key,
                        duration::fmt(lease.value),
                        lease.key
                    ),
                )
                .severity(Severity::Warning)
                .objects([grace.key.clone(), lease.key.clone()])
                .at_opt(grace.loc.as_ref()),
            ));
        }
    }
}
