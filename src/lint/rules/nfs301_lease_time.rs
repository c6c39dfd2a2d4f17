//! NFS301 lease-time.

use crate::agents::nfsserver;
use crate::formats::duration;
use crate::lint::{Ctx, Finding, Rule, Severity};

macro_rules! rule_doc {
    () => {
        r#"## What it does
Checks the NFSv4 lease and grace times wherever they are set
(`ocf:nfsha:nfsserver` `lease_time`/`grace_time`, `nfsd_args="-L … -G …"`,
nfs.conf `[nfsd] lease-time`/`grace-time`, `/etc/sysconfig/nfs`
`NFSV4LEASETIME`/`NFSV4GRACETIME`) with the check `ocf:nfsha:nfsserver`
and `nfsha dropin` run themselves: an error below 30 s, outside the
10–3600 s the kernel accepts, or when the grace time is shorter than the
lease (the agent refuses all three), and a warning below 60 s. Values are
read as the programs read them: nfs.conf numbers as nfs-utils'
`conf_get_num` (`60s` is 60, `1m` is 1), `-L`/`-G` as rpc.nfsd's `strtol`.

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
    let (lease_set, grace_set) = (ctx.lease_set(), ctx.grace_set());
    if lease_set.is_none() && grace_set.is_none() {
        return;
    }
    let (lease, grace) = (ctx.lease(), ctx.grace());
    let secs = |d: std::time::Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
    let described = format!(
        "NFSv4 lease {} ({}), grace {} ({})",
        duration::fmt(lease.value),
        lease.key,
        duration::fmt(grace.value),
        grace.key
    );
    let objects: Vec<String> = [&lease_set, &grace_set]
        .into_iter()
        .flatten()
        .map(|s| s.key.clone())
        .collect();
    let at = grace_set.as_ref().or(lease_set.as_ref()).and_then(|s| s.loc.clone());
    let help = |f: Finding| {
        f.help("crm/pcs: drop -L/-G from nfsd_args (or lease_time/grace_time on ocf:nfsha:nfsserver) to get 90 s")
            .help("nfs.conf: [nfsd] lease-time=90 and grace-time=90 (or at least 60)")
    };
    // The agent's and `nfsha dropin`'s own check decides.
    match nfsserver::check_lease_grace(secs(lease.value), secs(grace.value)) {
        Err(reason) => out.push(help(
            Finding::new(&RULE, format!("{described}: refused as ocf:nfsha:nfsserver and `nfsha dropin` refuse it: {reason}"))
                .objects(objects)
                .at_opt(at.as_ref())
                .mirrors(reason),
        )),
        Ok(warnings) => {
            for w in warnings {
                out.push(help(
                    Finding::new(&RULE, format!("{described}: {w}"))
                        .severity(Severity::Warning)
                        .objects(objects.clone())
                        .at_opt(at.as_ref()),
                ));
            }
        }
    }
}
