//! nfsserver's parameters: the table (the one source of the meta-data, the
//! README reference and the defaults), the rules for lease and grace time
//! and NFS versions, and the checked [`Config`] an action works from.

use std::path::PathBuf;

use crate::nfs::nfsd_launch::{NfsdLaunch, Offer};
use crate::nfs::versions;
use crate::ocf::params::absolute_path;
use crate::ocf::{Action, Ctx, OcfError, OcfResult, ParamSpec};
use crate::sys::uts::check_hostname;

/// The kernel's bounds for lease and grace time (`fs/nfsd/nfsctl.c`
/// `__nfsd4_write_time`: EINVAL outside them).
pub const KERNEL_TIME_RANGE: std::ops::RangeInclusive<u32> = 10..=3600;
/// The shortest lease nfsha accepts (SUSE: "strongly discourage values lower than 30").
pub const MIN_LEASE: u32 = 30;
/// Below this a lease is accepted with a warning (SUSE: "60 or higher").
pub const WARN_LEASE: u32 = 60;

fn check_versions(raw: &str) -> Result<(), String> {
    versions::parse(raw).map(|_| ())
}

fn parse_secs(raw: &str) -> Option<u32> {
    raw.trim().parse().ok()
}

fn kernel_range(v: u32) -> Result<(), String> {
    if KERNEL_TIME_RANGE.contains(&v) {
        Ok(())
    } else {
        Err("the kernel accepts 10 to 3600 seconds".into())
    }
}

fn short_lease(lease: u32) -> String {
    format!(
        "below {MIN_LEASE} s, ordinary network or scheduling delays make clients miss their \
         renewal and lose their state (EIO); use 60 or more (90 is the default); {lease} s \
         leaves a client {} s to renew",
        lease / 3
    )
}

/// `lease_time` alone (the table's range says the rest).
fn check_lease(raw: &str) -> Result<(), String> {
    match parse_secs(raw) {
        Some(v) => {
            kernel_range(v)?;
            if v < MIN_LEASE {
                return Err(short_lease(v));
            }
            Ok(())
        }
        None => Ok(()),
    }
}

/// `grace_time` alone: the comparison with the lease comes in [`config`].
fn check_grace(raw: &str) -> Result<(), String> {
    match parse_secs(raw) {
        Some(v) => {
            kernel_range(v)?;
            if v < MIN_LEASE {
                return Err(format!(
                    "it would be shorter than any lease nfsha accepts ({MIN_LEASE} s or more)"
                ));
            }
            Ok(())
        }
        None => Ok(()),
    }
}

pub const SERVER_HOSTNAME: ParamSpec = ParamSpec::new(
    "server_hostname",
    "Host name nfsd presents on every node (required for NFSv4.1+)",
    "The kernel takes the NFSv4.1+ server owner and scope from the host name of the \
     process that starts the nfsd threads. After a failover to a node with another \
     name, clients see a different server (\"server_scope mismatch\") and cannot \
     reclaim their opens and locks. nfsha starts rpc.nfsd inside a new UTS namespace \
     (unshare --uts) with this name, so every node presents the same one. Use a name \
     that belongs to the service, e.g. the DNS name of the virtual IP. Required unless \
     nfs_versions offers only 3 and 4.0. With systemd, run `nfsha dropin --hostname \
     <name>` on every node.",
)
.check(check_hostname);

pub const LEASE_TIME: ParamSpec = ParamSpec::new(
    "lease_time",
    "NFSv4 lease time in seconds (30 to 3600)",
    "How long a client's state lives without renewal. Clients renew after 2/3 of it, so \
     a short lease turns ordinary network or scheduling delays into lost state and \
     EIO. The kernel accepts 10 to 3600; nfsha refuses values below 30 (SUSE strongly \
     discourages them) and warns below 60. Applied before the nfsd threads start \
     (the kernel refuses a change while they run). Note: clients wait up to a grace \
     period after every failover; NFSv4.1+ ends grace early once all clients reclaimed.",
)
.integer(MIN_LEASE as i64, 3600)
.default("90")
.check(check_lease);

pub const GRACE_TIME: ParamSpec = ParamSpec::new(
    "grace_time",
    "NFSv4 and NLM grace period in seconds (default: lease_time; at least lease_time)",
    "How long after a start clients may reclaim state and no new state is granted. It \
     must not be shorter than lease_time: a client may only notice the failover when \
     its lease is due, and must still be inside grace then. rpc.nfsd applies it to NLM \
     (NFSv3 locks) too. Default: lease_time.",
)
.integer(MIN_LEASE as i64, 3600)
.check(check_grace);

pub const NFS_VERSIONS: ParamSpec = ParamSpec::new(
    "nfs_versions",
    "NFS versions to offer (comma-separated: 3, 4.0, 4.1, 4.2)",
    "Default 4.1,4.2: the versions whose state recovery works across a failover with a \
     fixed server_hostname and that end grace early. 4.0 identifies the server by \
     address only; it is accepted with a warning. 3 needs rpc.statd with its state in \
     state_directory/statd (nfs.conf [statd] state-directory-path), and NSM reboot \
     notification after a failover: the vip of the group runs `sm-notify -v <address>` \
     once its address is up, so NFSv3 clients reclaim their NLM locks during the grace \
     period; the address needs a host name (/etc/hosts or DNS) on the servers and the \
     clients.",
)
.default("4.1,4.2")
.check(check_versions);

pub const THREADS: ParamSpec =
    ParamSpec::new("threads", "Number of nfsd threads", "Passed to rpc.nfsd.")
        .integer(1, 4096)
        .default("8");

pub const STATE_DIRECTORY: ParamSpec = ParamSpec::new(
    "state_directory",
    "The nfsstate directory (client-tracking state on DRBD)",
    "The directory of the nfsstate resource ordered before this one. Start refuses \
     (\"ordering: …\") unless it is mounted, writable and on a DRBD device that is \
     Primary on this node: nfsd started without its client record would refuse every \
     reclaim. Also used for the legacy v4recovery directory and statd's state. Stop \
     leaves no NFS daemon with files or its working directory there (rpc.statd, \
     sm-notify, nfsdcld), so nfsstate can unmount it next.",
)
.required()
.check(absolute_path);

pub const ALLOW_CLONE: ParamSpec = ParamSpec::new(
    "allow_clone",
    "Allow running as a clone (not recommended)",
    "An NFS server must run on one node only and be started fresh on failover: the \
     grace period in which clients reclaim their locks is only offered when nfsd starts. \
     A cloned nfsserver keeps running on the surviving node, so clients of a moved \
     export get no grace period and lose their locks. Start refuses to run as a clone \
     unless this is true.",
)
.boolean()
.default("false");

pub static PARAMS: &[ParamSpec] = &[
    SERVER_HOSTNAME,
    LEASE_TIME,
    GRACE_TIME,
    NFS_VERSIONS,
    THREADS,
    STATE_DIRECTORY,
    ALLOW_CLONE,
];

/// The checked parameters.
#[derive(Debug)]
pub struct Config {
    pub hostname: Option<String>,
    pub lease: u32,
    pub grace: u32,
    pub versions: Vec<&'static str>,
    pub threads: u32,
    pub state_directory: PathBuf,
}

impl Config {
    pub fn has(&self, v: &str) -> bool {
        self.versions.contains(&v)
    }

    /// How rpc.nfsd is started under `hostname`; `with_offer` puts versions
    /// and threads on the command line (direct mode).
    pub fn launch(&self, hostname: &str, with_offer: bool) -> NfsdLaunch {
        NfsdLaunch {
            hostname: hostname.to_string(),
            lease: self.lease,
            grace: self.grace,
            offer: with_offer.then(|| Offer {
                versions: self.versions.clone(),
                threads: self.threads,
            }),
        }
    }

    /// statd's state directory on the state directory (NFSv3).
    pub fn statd_directory(&self) -> PathBuf {
        self.state_directory.join("statd")
    }
}

/// Linux 5.19 made nfsd a courteous server: a client whose lease expired
/// keeps its state until another client's request conflicts with it.
pub const COURTEOUS_SERVER: (u32, u32) = (5, 19);

/// The first two numbers of a kernel release (`6.1.0-13-amd64` → (6, 1)).
pub fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// What a lease below [`WARN_LEASE`] means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseNote {
    /// A warning (else information: the short-lease profile on a kernel
    /// that makes it safe).
    pub warning: bool,
    pub text: String,
}

/// The short-lease profile (30–59 s): NFSv4 clients cap their reconnect
/// back-off at half the lease, so a short lease shortens a failover's worst
/// stall; it is safe against network blips only on a courteous server.
/// `release`: this node's kernel (`None`: not known here, as for `nfsha
/// dropin`).
pub fn short_lease_note(lease: u32, release: Option<&str>) -> Option<LeaseNote> {
    if !(MIN_LEASE..WARN_LEASE).contains(&lease) {
        return None;
    }
    let gain = format!(
        "after a failover NFSv4 clients wait at most {} s (lease/2) instead of 45 s before they \
         retry, if a tickle does not reach them first",
        lease / 2
    );
    let (major, minor) = COURTEOUS_SERVER;
    let kernel = release.map(|r| (r.trim(), kernel_version(r)));
    Some(match kernel {
        Some((r, Some(v))) if v >= COURTEOUS_SERVER => LeaseNote {
            warning: false,
            text: format!(
                "lease_time={lease}: {gain}. Safe against network blips because this kernel \
                 ({r}) keeps the state of a client that misses its lease until another \
                 client's request conflicts with it (courteous server, Linux ≥ {major}.{minor})"
            ),
        },
        Some((r, Some(_))) => LeaseNote {
            warning: true,
            text: format!(
                "lease_time={lease} on Linux {r}: a client that misses its renewals for \
                 {lease} s (network blip, paused VM) loses its opens and locks; this kernel has \
                 no courteous server (Linux ≥ {major}.{minor}). Use {WARN_LEASE} or more here, \
                 or upgrade"
            ),
        },
        _ => LeaseNote {
            warning: true,
            text: format!(
                "lease_time={lease} is below {WARN_LEASE} s: {gain}, but a client that misses \
                 its renewals for {lease} s loses its opens and locks unless the server keeps \
                 them (courteous server): safe only where every NFS server node runs \
                 Linux ≥ {major}.{minor}"
            ),
        },
    })
}

/// Lease and grace rules; `Ok` carries warnings for the log. Also used by
/// `nfsha dropin`, which names its own options in the errors.
pub fn check_lease_grace(lease: u32, grace: u32) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    // Each value alone first, with the parameter table's own checks in its
    // order, so the agent, `nfsha dropin` and `nfsha lint` give one reason.
    for (name, v, check) in [
        (
            "lease_time",
            lease,
            check_lease as fn(&str) -> Result<(), String>,
        ),
        ("grace_time", grace, check_grace),
    ] {
        if let Err(e) = check(&v.to_string()) {
            return Err(format!("parameter {name}=\"{v}\" is invalid: {e}"));
        }
    }
    if let Some(note) = short_lease_note(lease, None) {
        warnings.push(note.text);
    }
    if grace < lease {
        return Err(format!(
            "parameter grace_time=\"{grace}\" is invalid: it is shorter than lease_time={lease}; a \
             client may only notice the failover when its lease is due and must still be inside \
             the grace period then to reclaim its locks"
        ));
    }
    Ok(warnings)
}

/// The clone rule (also `nfsha lint` NFS201's): refused unless allow_clone.
pub fn check_clone(is_clone: bool, allow_clone: bool) -> Result<(), String> {
    if is_clone && !allow_clone {
        return Err(
            "nfsserver must not run as a clone: clients reclaim their locks only during the grace \
             period of a freshly started nfsd, and a clone keeps nfsd running on the surviving \
             node, so every failover of an export loses its clients' locks; put nfsserver in the \
             NFS group instead (or set allow_clone=true if you accept that)"
                .into(),
        );
    }
    Ok(())
}

/// NFSv4.1+ needs a fixed host name (also `nfsha lint` NFS302's rule).
pub fn check_hostname_needed(hostname: Option<&str>, versions: &[&str]) -> Result<(), String> {
    if hostname.is_none() && versions.iter().any(|v| *v == "4.1" || *v == "4.2") {
        return Err(
            "required parameter server_hostname is not set: NFSv4.1+ clients can reclaim their \
             state after a failover only when every node presents the same server host name"
                .into(),
        );
    }
    Ok(())
}

/// What the agent warns about the versions it offers (also `nfsha lint`
/// NFS305's warnings).
pub fn version_warnings(versions: &[&str]) -> Vec<String> {
    versions
        .iter()
        .filter(|v| **v == "4.0")
        .map(|_| {
            "nfs_versions offers 4.0: NFSv4.0 does not end grace early and identifies the \
             server by address only; prefer 4.1 and 4.2"
                .to_string()
        })
        .collect()
}

/// With NFSv3, statd's state must be on the state directory: the nfs.conf
/// line to set when it is not (`get` reads a section's key; also `nfsha
/// lint` NFS306's check).
pub fn statd_conf_wrong(
    get: &dyn Fn(&str, &str) -> Option<String>,
    cfg: &Config,
) -> Option<String> {
    let want = cfg.statd_directory();
    let want = want.display();
    (cfg.has("3") && get("statd", "state-directory-path").as_deref() != Some(&*want.to_string()))
        .then(|| format!("[statd] state-directory-path={want}"))
}

/// The checked configuration of this action; warnings are logged except
/// at stop (a stop must never fail or nag on parameters).
pub fn config(ctx: &Ctx) -> OcfResult<Config> {
    let p = &ctx.params;
    check_clone(ctx.is_clone(), p.get::<bool>(&ALLOW_CLONE)).map_err(OcfError::configured)?;
    let lease: u32 = p.get(&LEASE_TIME);
    let grace: u32 = p.get::<Option<u32>>(&GRACE_TIME).unwrap_or(lease);
    let warnings = check_lease_grace(lease, grace).map_err(OcfError::configured)?;
    let raw: &str = p.get(&NFS_VERSIONS);
    let versions = versions::parse(raw).map_err(|e| {
        OcfError::configured(format!("parameter nfs_versions={raw:?} is invalid: {e}"))
    })?;
    let hostname: Option<String> = p.get(&SERVER_HOSTNAME);
    check_hostname_needed(hostname.as_deref(), &versions).map_err(OcfError::configured)?;
    if ctx.action != Action::Stop {
        let release = ctx
            .sys
            .read_to_string(&ctx.sys.paths().proc.join("sys/kernel/osrelease"))
            .ok();
        // The short-lease note again, now that this node's kernel is known.
        let general = short_lease_note(lease, None).map(|n| n.text);
        for w in warnings.iter().filter(|w| Some(*w) != general.as_ref()) {
            tracing::warn!("{w}");
        }
        match short_lease_note(lease, release.as_deref()) {
            Some(n) if n.warning => tracing::warn!("{}", n.text),
            Some(n) => tracing::info!("{}", n.text),
            None => {}
        }
        for w in version_warnings(&versions) {
            tracing::warn!("{w}");
        }
    }
    Ok(Config {
        hostname,
        lease,
        grace,
        versions,
        threads: p.get(&THREADS),
        state_directory: p.get(&STATE_DIRECTORY),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_and_grace_at_their_boundaries() {
        assert!(check_lease_grace(90, 90).unwrap().is_empty());
        // 30 is the floor: accepted (with the below-60 warning); 29 is not.
        assert_eq!(check_lease_grace(30, 30).unwrap().len(), 1);
        let e = check_lease_grace(29, 90).unwrap_err();
        assert!(
            e.contains("lease_time=\"29\"") && e.contains("below 30 s"),
            "{e}"
        );
        assert_eq!(
            check_lease_grace(59, 59).unwrap().len(),
            1,
            "warning below 60"
        );
        assert!(check_lease_grace(59, 59).unwrap()[0].contains("Linux ≥ 5.19"));
        assert!(check_lease_grace(60, 60).unwrap().is_empty());
        // grace = lease is fine, one second less is not.
        assert!(check_lease_grace(120, 120).is_ok());
        let e = check_lease_grace(120, 119).unwrap_err();
        assert!(e.contains("shorter than lease_time=120"), "{e}");
        assert!(check_lease_grace(5, 90).unwrap_err().contains("10 to 3600"));
        assert!(check_lease_grace(3600, 3600).is_ok());
        assert!(check_lease_grace(90, 3601)
            .unwrap_err()
            .contains("grace_time=\"3601\""));
    }

    #[test]
    fn the_short_lease_profile_depends_on_the_kernel() {
        assert_eq!(kernel_version("6.1.0-13-amd64\n"), Some((6, 1)));
        assert_eq!(kernel_version("5.19"), Some((5, 19)));
        assert_eq!(kernel_version("4.18.0-553.el8_10.x86_64"), Some((4, 18)));
        assert_eq!(kernel_version("banana"), None);
        // 30 and 59 are in the profile, 29 (refused) and 60 are not.
        for lease in [29, 60, 90] {
            assert_eq!(short_lease_note(lease, Some("6.1.0")), None, "{lease}");
        }
        let n = short_lease_note(30, Some("5.19.0")).unwrap();
        assert!(!n.warning, "{n:?}");
        assert!(n.text.contains("at most 15 s (lease/2)"), "{n:?}");
        assert!(n.text.contains("this kernel (5.19.0)"), "{n:?}");
        let n = short_lease_note(45, Some("5.18.19")).unwrap();
        assert!(n.warning, "{n:?}");
        assert!(
            n.text.contains("lease_time=45 on Linux 5.18.19")
                && n.text.contains("no courteous server"),
            "{n:?}"
        );
        let n = short_lease_note(59, Some("4.18.0")).unwrap();
        assert!(n.warning, "an older major version: {n:?}");
        for unknown in [None, Some("banana")] {
            let n = short_lease_note(59, unknown).unwrap();
            assert!(n.warning && n.text.contains("safe only where"), "{n:?}");
        }
    }

    #[test]
    fn the_table_range_is_the_accepted_range() {
        use crate::ocf::params::ParamKind;
        for spec in [LEASE_TIME, GRACE_TIME] {
            let ParamKind::Integer { min, max } = spec.kind else {
                panic!("{} is an integer", spec.name)
            };
            assert_eq!((min, max), (i64::from(MIN_LEASE), 3600), "{}", spec.name);
            let check = spec.check.unwrap();
            assert!(check("29").is_err() && check("30").is_ok() && check("3600").is_ok());
            assert!(check("3601").is_err() && check("9").is_err());
        }
    }
}
