//! `ocf:nfsha:exportfs` — one NFS export, added after nfsd runs and removed
//! without waiting out the lease.
//!
//! Stop unexports and releases the export's locks (`unlock_filesystem`) and
//! returns: nfsserver stops next and ends all state, while the clients'
//! record stays on the state directory for them to reclaim on the next node
//! (SUSE's rule 4). `wait_for_leasetime_on_stop` is accepted only as false
//! (for configurations migrated from ClusterLabs' exportfs); true is refused
//! with that reason.

use std::path::PathBuf;
use std::time::Duration;

use crate::agents::{exec, group_checks};
use crate::formats::bools;
use crate::nfs::markers::ExportMarker;
use crate::nfs::{etab, nfsd, Export};
use crate::ocf::params::absolute_path;
use crate::ocf::{Agent, AgentSpec, Ctx, OcfError, OcfResult, ParamSpec, Rc, Timeouts};
use crate::sys::Cmd;

pub struct ExportFs;

/// exportfs client specifications: hosts, networks, wildcards, netgroups,
/// bracketed IPv6. Wildcards (`*`, `?`, `[]`) are exportfs syntax here and
/// reach it as argv, never through a shell.
pub fn check_clientspec(raw: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Err("expected a client specification such as 192.0.2.0/24".into());
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-:/*?@[]".contains(*c)))
    {
        return Err(format!(
            "the character {c:?} is not allowed in a client specification (one client per \
             resource: use one exportfs resource per network)"
        ));
    }
    if raw.contains("..") {
        return Err("'..' is not allowed here".into());
    }
    Ok(())
}

/// exportfs options: a comma-separated list of words and `key=value`.
pub fn check_options(raw: &str) -> Result<(), String> {
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_=,.:/@-+".contains(*c)))
    {
        return Err(format!(
            "the character {c:?} is not allowed in export options"
        ));
    }
    if raw.contains("..") {
        return Err("'..' is not allowed here".into());
    }
    if raw.split(',').any(str::is_empty) {
        return Err("expected a comma-separated list without empty entries".into());
    }
    if raw.split(',').any(|o| o.starts_with("fsid=")) {
        return Err("give the fsid in the fsid parameter, not in options".into());
    }
    Ok(())
}

/// `root`, a 32-bit integer, or a UUID (32 hex digits, dashes allowed).
pub fn check_fsid(raw: &str) -> Result<(), String> {
    if raw == "root" || raw.parse::<u32>().is_ok() {
        return Ok(());
    }
    let hex: String = raw.chars().filter(|c| *c != '-').collect();
    if hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(());
    }
    Err("expected an integer (0 to 4294967295), a UUID, or root".into())
}

const WHY_NO_LEASE_WAIT: &str = "nfsha's exportfs never waits out the NFSv4 lease on stop. \
    That wait (lease + 2 s, 92 s by default, in ClusterLabs' exportfs) only made sense when \
    nfsd kept running on the node; in the NFS group nfsserver stops next and releases every \
    open file at once, while the clients' record on the state directory lets them reclaim \
    their locks on the next node. Waiting delays every failover and makes the locks expire \
    (SUSE TID 000020396, rule 4)";

/// `wait_for_leasetime_on_stop`: only "off" is accepted.
fn check_no_lease_wait(raw: &str) -> Result<(), String> {
    match bools::pacemaker(raw) {
        Some(true) => Err(format!(
            "{WHY_NO_LEASE_WAIT}; remove the parameter or set it to false"
        )),
        _ => Ok(()),
    }
}

const DIRECTORY: ParamSpec = ParamSpec::new(
    "directory",
    "The directory to export (one per resource)",
    "An absolute path on a filesystem that moves with the NFS group. Start refuses \
     (\"ordering: …\") unless it is a mount point or inside one other than /: exporting \
     the empty directory under a missing mount would hand clients the wrong filesystem.",
)
.required()
.check(absolute_path);

const CLIENTSPEC: ParamSpec = ParamSpec::new(
    "clientspec",
    "Client specification (one host, network, wildcard or @netgroup)",
    "Who may mount, in exportfs syntax: 192.0.2.0/24, [2001:db8::]/64, *.example.com, \
     @netgroup, *. One per resource; use another exportfs resource for another network \
     (with the same directory and the same fsid).",
)
.required()
.check(check_clientspec);

const OPTIONS: ParamSpec = ParamSpec::new(
    "options",
    "Export options (comma-separated, as in exports(5))",
    "Passed to exportfs -o, e.g. rw,sync,no_subtree_check. Without it exportfs' defaults \
     apply (read-only). The fsid goes into the fsid parameter, not here. Monitor checks \
     that every option given here is in effect.",
)
.check(check_options);

const FSID: ParamSpec = ParamSpec::new(
    "fsid",
    "Filesystem id: integer or UUID, one per exported directory (0/root: the NFSv4 pseudo-root)",
    "Identifies the exported filesystem in file handles, so handles stay valid when the \
     export moves to the other node (the device numbers differ there). One directory \
     exported to several networks (one resource each) uses the same fsid in every one; \
     two different directories must not share one: start refuses (exit 2) an fsid that \
     an export of another directory on this node already uses. 0 or root makes this \
     export the NFSv4 pseudo-root (clients then mount paths relative to it); use it only \
     for that.",
)
.required()
.check(check_fsid);

const UNLOCK_ON_STOP: ParamSpec = ParamSpec::new(
    "unlock_on_stop",
    "Release the export's locks on stop",
    "On stop, write the directory to /proc/fs/nfsd/unlock_filesystem so that nfsd \
     drops the locks (and, on recent kernels, the NFSv4 state) held on it and the \
     filesystem can be unmounted at once. Clients reclaim them on the next node.",
)
.boolean()
.default("true");

const WAIT_FOR_LEASETIME_ON_STOP: ParamSpec = ParamSpec::new(
    "wait_for_leasetime_on_stop",
    "Deprecated, accepted only as false (ClusterLabs exportfs compatibility)",
    "Deprecated: accepted so that resources migrated from ocf:heartbeat:exportfs with \
     wait_for_leasetime_on_stop=false load unchanged; it has no effect. True is refused \
     (exit 6): nfsha's exportfs never waits out the NFSv4 lease on stop. That wait (lease \
     + 2 s, 92 s by default) only made sense when nfsd kept running on the node; in the \
     NFS group nfsserver stops next and releases every open file at once, while the \
     clients' record on the state directory lets them reclaim their locks on the next \
     node. Waiting delays every failover and makes the locks expire (SUSE TID 000020396, \
     rule 4).",
)
.boolean()
.default("false")
.check(check_no_lease_wait);

static PARAMS: &[ParamSpec] = &[
    DIRECTORY,
    CLIENTSPEC,
    OPTIONS,
    FSID,
    UNLOCK_ON_STOP,
    WAIT_FOR_LEASETIME_ON_STOP,
];

static SPEC: AgentSpec = AgentSpec {
    name: "exportfs",
    shortdesc: "One NFS export, added after nfsd and removed without a lease wait",
    longdesc: "Exports one directory to one client specification with exportfs (argv, no \
        shell). Start refuses unless nfsd is running (nfsserver started) and the directory is \
        on a mounted filesystem; monitor reads /var/lib/nfs/etab and checks the options; stop \
        unexports, releases the export's locks through /proc/fs/nfsd/unlock_filesystem and \
        returns at once, with no sleep. Group order: nfsstate, nfsserver, exportfs (one per \
        export), vip.",
    params: PARAMS,
    refused: &[],
    timeouts: Timeouts {
        start: Duration::from_secs(40),
        stop: Duration::from_secs(40),
        monitor: Duration::from_secs(20),
        monitor_interval: Duration::from_secs(10),
        validate: Duration::from_secs(20),
    },
    monitor_depths: &[],
};

struct Config {
    directory: PathBuf,
    clientspec: String,
    options: Vec<String>,
    fsid: String,
    unlock_on_stop: bool,
}

impl Config {
    /// The client as etab lists it (IPv6 without brackets).
    fn etab_client(&self) -> String {
        self.clientspec.replace(['[', ']'], "")
    }
    /// The `client:directory` argument of exportfs.
    fn target(&self) -> String {
        format!("{}:{}", self.clientspec, self.directory.display())
    }
    fn fsid_in_etab(&self) -> &str {
        if self.fsid == "root" {
            "0"
        } else {
            &self.fsid
        }
    }
}

fn config(ctx: &Ctx) -> OcfResult<Config> {
    let p = &ctx.params;
    let fsid: String = p.get(&FSID);
    if (fsid == "0" || fsid == "root") && ctx.action == crate::ocf::Action::Start {
        tracing::info!("fsid={fsid}: this export is the NFSv4 pseudo-root");
    }
    let options: Option<&str> = p.get(&OPTIONS);
    Ok(Config {
        directory: p.get(&DIRECTORY),
        clientspec: p.get(&CLIENTSPEC),
        options: options
            .map(|o| o.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        fsid,
        unlock_on_stop: p.get(&UNLOCK_ON_STOP),
    })
}

/// How exportfs writes an option back into etab.
fn canonical_option(o: &str) -> &str {
    match o {
        "mp" => "mountpoint",
        o => o,
    }
}

fn find<'a>(exports: &'a [Export], cfg: &Config) -> Option<&'a Export> {
    let client = cfg.etab_client();
    exports
        .iter()
        .find(|e| e.directory == cfg.directory && e.client == client)
}

/// Options given in the resource that etab does not show.
fn missing_options(e: &Export, cfg: &Config) -> Vec<String> {
    let mut want: Vec<String> = cfg
        .options
        .iter()
        .map(|o| canonical_option(o).to_string())
        .collect();
    want.push(format!("fsid={}", cfg.fsid_in_etab()));
    want.into_iter()
        .filter(|o| !e.options.contains(o))
        .collect()
}

impl Config {
    fn marker(&self) -> ExportMarker {
        ExportMarker {
            directory: self.directory.clone(),
            client: self.etab_client(),
        }
    }
}

impl Agent for ExportFs {
    fn spec(&self) -> &'static AgentSpec {
        &SPEC
    }

    fn validate(&self, ctx: &Ctx) -> OcfResult {
        config(ctx).map(|_| ())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        group_checks::before_exportfs_start(ctx, &cfg.directory)?;
        if !exec::test_path(ctx, "-d", &cfg.directory)? {
            return Err(OcfError::generic(format!(
                "directory={:?} does not exist on its filesystem",
                cfg.directory.display().to_string()
            )));
        }
        // The same directory to another network shares the fsid; another
        // directory must not. The clash is in this node's etab (an export
        // from /etc/exports, another resource): exit 2, wrong on this node.
        let exports = etab::exports(ctx.sys);
        if let Some(other) = exports
            .iter()
            .find(|e| e.fsid() == Some(cfg.fsid_in_etab()) && e.directory != cfg.directory)
        {
            return Err(OcfError::new(
                Rc::ErrArgs,
                format!(
                    "fsid={} is already used on this node by the export of {} to {}; every \
                     exported directory needs its own fsid (the same directory exported to \
                     several networks shares one)",
                    cfg.fsid,
                    other.directory.display(),
                    other.client
                ),
            ));
        }
        let mut opts = cfg.options.clone();
        opts.push(format!("fsid={}", cfg.fsid));
        let cmd = Cmd::new("exportfs").args(["-o", &opts.join(","), &cfg.target()]);
        exec::run_ok(ctx, &cmd, ctx.deadline, "nfs-kernel-server")?;
        let exports = etab::exports(ctx.sys);
        match find(&exports, &cfg) {
            Some(e) => {
                let missing = missing_options(e, &cfg);
                if !missing.is_empty() {
                    return Err(OcfError::generic(format!(
                        "exported {}, but without {}",
                        cfg.target(),
                        missing.join(",")
                    )));
                }
            }
            None => {
                return Err(OcfError::generic(format!(
                    "`{}` succeeded but {} does not list the export",
                    cmd.display(),
                    ctx.sys.paths().etab().display()
                )))
            }
        }
        cfg.marker()
            .save(ctx.sys)
            .map_err(|e| OcfError::generic(format!("cannot write the resource marker: {e}")))?;
        tracing::info!("exported {} ({})", cfg.target(), opts.join(","));
        Ok(())
    }

    fn stop(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        let exports = etab::exports(ctx.sys);
        if find(&exports, &cfg).is_some() {
            let cmd = Cmd::new("exportfs").args(["-u", &cfg.target()]);
            let result = exec::run(ctx, &cmd, ctx.deadline, "nfs-kernel-server");
            if find(&etab::exports(ctx.sys), &cfg).is_some() {
                let why = match result {
                    Ok(out) => out.failure_text(),
                    Err(e) => e.reason,
                };
                return Err(OcfError::generic(format!(
                    "could not unexport {}: {why}",
                    cfg.target()
                )));
            }
            tracing::info!("unexported {}", cfg.target());
        }
        if cfg.unlock_on_stop {
            let path = ctx.sys.paths().nfsd("unlock_filesystem");
            if ctx.sys.exists(&path) {
                let dir = format!("{}\n", cfg.directory.display());
                // EINVAL when nfsd no longer runs: nothing left to release.
                if let Err(e) = ctx.sys.write(&path, dir.as_bytes()) {
                    tracing::warn!("releasing locks on {}: {e}", cfg.directory.display());
                }
            }
        }
        let _ = cfg.marker().remove(ctx.sys);
        Ok(())
    }

    fn monitor(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        // etab survives a reboot; the marker in /run does not.
        if !cfg.marker().exists(ctx.sys) {
            return Err(OcfError::not_running(format!(
                "{} is not exported",
                cfg.target()
            )));
        }
        let exports = etab::exports(ctx.sys);
        let Some(e) = find(&exports, &cfg) else {
            return Err(OcfError::not_running(format!(
                "{} is no longer exported",
                cfg.target()
            )));
        };
        if !nfsd::running(ctx.sys) {
            return Err(OcfError::generic(format!(
                "{} is listed, but nfsd is not running",
                cfg.target()
            )));
        }
        let missing = missing_options(e, &cfg);
        if !missing.is_empty() {
            return Err(OcfError::generic(format!(
                "{} is exported without {}",
                cfg.target(),
                missing.join(",")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::{fail, Fake};
    use std::sync::Arc;

    const P: &[(&str, &str)] = &[
        ("directory", "/srv/nfs/share"),
        ("clientspec", "192.0.2.0/24"),
        ("options", "rw,sync,no_subtree_check,mp"),
        ("fsid", "1"),
    ];

    /// nfsd running, /srv/nfs/share mounted; `exportfs -o`/`-u` edit etab
    /// the way the real one does (options expanded, `mp` spelled out).
    fn node() -> Arc<Fake> {
        let f = Arc::new(Fake::new());
        f.file("/proc/fs/nfsd/threads", "8\n");
        f.file("/proc/fs/nfsd/unlock_filesystem", "");
        f.file(
            "/proc/self/mountinfo",
            "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n41 22 147:1 / /srv/nfs/share rw - ext4 /dev/drbd1 rw\n",
        );
        f.file("/var/lib/nfs/etab", "");
        let g = f.clone();
        f.respond(move |c| {
            if c.program != "exportfs" {
                return None;
            }
            let etab = g.file_content("/var/lib/nfs/etab").unwrap_or_default();
            let target = c.args.last().unwrap();
            let (client, dir) = target.rsplit_once(":/").unwrap();
            let client = client.replace(['[', ']'], "");
            let dir = format!("/{dir}");
            let kept: String = etab
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with(&format!("{dir}\t{client}(")))
                .map(|l| format!("{l}\n"))
                .collect();
            if c.args[0] == "-o" {
                let opts = c.args[1]
                    .replace(",mp", ",mountpoint")
                    .replace("fsid=root", "fsid=0");
                g.file(
                    "/var/lib/nfs/etab",
                    &format!("{kept}{dir}\t{client}(wdelay,hide,{opts},sec=sys)\n"),
                );
            } else if kept.len() == etab.len() {
                return fail(
                    1,
                    &format!("exportfs: Could not find '{target}' to unexport."),
                );
            } else {
                g.file("/var/lib/nfs/etab", &kept);
            }
            None
        });
        f
    }

    fn go(f: &Fake, action: &str, params: &[(&str, &str)]) -> (i32, String) {
        crate::agents::harness::run_agent(&ExportFs, f, action, params, &[])
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = P.to_vec();
        for (k, val) in extra {
            v.retain(|(n, _)| n != k);
            v.push((k, val));
        }
        v
    }

    /// Every exit code exportfs gives, by situation (docs/server-agents.md,
    /// "Exit codes").
    #[test]
    fn exit_codes_per_ocf_1_1() {
        use crate::sys::fake::missing;
        let rc =
            |f: &Fake, action: &str, p: &[(&'static str, &'static str)]| go(f, action, &with(p)).0;
        // 6: the parameters themselves.
        assert_eq!(rc(&node(), "start", &[("fsid", "1,2")]), 6);
        assert_eq!(rc(&node(), "start", &[("clientspec", "a b")]), 6);
        assert_eq!(
            rc(&node(), "start", &[("wait_for_leasetime_on_stop", "1")]),
            6
        );
        // 2: another directory uses the fsid in this node's etab.
        let f = node();
        f.file("/var/lib/nfs/etab", "/srv/x\t*(ro,fsid=1)\n");
        assert_eq!(rc(&f, "start", &[]), 2);
        // 1: ordering, a directory missing on its filesystem, exportfs failing.
        let f = node();
        f.file("/proc/fs/nfsd/threads", "0\n");
        assert_eq!(rc(&f, "start", &[]), 1);
        assert_eq!(rc(&node(), "start", &[("directory", "/srv/elsewhere")]), 1);
        let f = node();
        f.respond(|c| (c.program == "test").then(|| fail(1, "")).flatten());
        assert_eq!(rc(&f, "start", &[]), 1);
        let f = node();
        f.respond(|c| {
            (c.program == "exportfs")
                .then(|| fail(1, "exportfs: bad"))
                .flatten()
        });
        assert_eq!(rc(&f, "start", &[]), 1);
        assert_eq!(rc(&f, "monitor", &[]), 7);
        // 5: exportfs is not installed.
        let f = node();
        f.respond(|c| (c.program == "exportfs").then(|| missing(c)).flatten());
        assert_eq!(rc(&f, "start", &[]), 5);
        // 0 and 7, and a stop that cannot unexport is 1.
        let f = node();
        assert_eq!(rc(&f, "start", &[]), 0);
        assert_eq!(rc(&f, "monitor", &[]), 0);
        f.respond(|c| {
            (c.program == "exportfs" && c.args[0] == "-u")
                .then(|| fail(1, "exportfs: busy"))
                .flatten()
        });
        assert_eq!(rc(&f, "stop", &[]), 1);
        assert_eq!(rc(&f, "monitor", &[]), 0, "still exported");
        assert_eq!(rc(&node(), "stop", &[]), 0, "stop when stopped");
    }

    #[test]
    fn start_monitor_stop_cycle() {
        let f = node();
        assert_eq!(go(&f, "monitor", P).0, 7);
        assert_eq!(go(&f, "start", P), (0, String::new()));
        assert!(f.commands().contains(
            &"exportfs -o rw,sync,no_subtree_check,mp,fsid=1 192.0.2.0/24:/srv/nfs/share"
                .to_string()
        ));
        assert_eq!(go(&f, "monitor", P).0, 0);
        assert_eq!(go(&f, "stop", P).0, 0);
        assert!(f
            .commands()
            .contains(&"exportfs -u 192.0.2.0/24:/srv/nfs/share".to_string()));
        assert_eq!(
            f.file_content("/proc/fs/nfsd/unlock_filesystem").as_deref(),
            Some("/srv/nfs/share\n")
        );
        assert_eq!(f.slept(), Duration::ZERO, "stop never sleeps");
        assert_eq!(f.sleeps(), 0, "not even for nothing");
        assert_eq!(go(&f, "monitor", P).0, 7);
        assert_eq!(go(&f, "stop", P).0, 0, "stop when stopped");
    }

    #[test]
    fn unlock_on_stop_can_be_turned_off() {
        let f = node();
        go(&f, "start", P);
        assert_eq!(go(&f, "stop", &with(&[("unlock_on_stop", "false")])).0, 0);
        assert_eq!(
            f.file_content("/proc/fs/nfsd/unlock_filesystem").as_deref(),
            Some("")
        );
    }

    #[test]
    fn ordering_nfsd_and_the_mount_first() {
        let f = node();
        f.file("/proc/fs/nfsd/threads", "0\n");
        let (rc, err) = go(&f, "start", P);
        assert_eq!(rc, 1);
        assert!(err.contains("ordering: nfsd is not running"), "{err}");
        let f = node();
        let (rc, err) = go(&f, "start", &with(&[("directory", "/srv/nfs/other")]));
        assert_eq!(rc, 1);
        assert!(
            err.contains("ordering: /srv/nfs/other is not on a mounted filesystem"),
            "{err}"
        );
        assert!(f.commands().is_empty());
        // Inside a mount is fine.
        assert_eq!(
            go(&f, "start", &with(&[("directory", "/srv/nfs/share/sub")])).0,
            0
        );
    }

    #[test]
    fn stale_etab_after_reboot_is_not_running() {
        let f = node();
        f.file(
            "/var/lib/nfs/etab",
            "/srv/nfs/share\t192.0.2.0/24(rw,sync,no_subtree_check,mountpoint,fsid=1)\n",
        );
        assert_eq!(
            go(&f, "monitor", P).0,
            7,
            "no marker: not started since boot"
        );
    }

    #[test]
    fn monitor_checks_options_and_nfsd() {
        let f = node();
        go(&f, "start", P);
        f.file(
            "/var/lib/nfs/etab",
            "/srv/nfs/share\t192.0.2.0/24(ro,sync,fsid=1)\n",
        );
        let (rc, err) = go(&f, "monitor", P);
        assert_eq!(rc, 1);
        assert!(
            err.contains("exported without rw,no_subtree_check,mountpoint"),
            "{err}"
        );
        go(&f, "start", P);
        f.file("/proc/fs/nfsd/threads", "0\n");
        let (rc, err) = go(&f, "monitor", P);
        assert_eq!(rc, 1);
        assert!(err.contains("nfsd is not running"), "{err}");
    }

    #[test]
    fn one_fsid_per_directory_and_well_formed() {
        let f = node();
        f.file("/var/lib/nfs/etab", "/srv/nfs/other\t*(rw,fsid=1)\n");
        let (rc, err) = go(&f, "start", P);
        assert_eq!(rc, 2, "a clash in this node's etab is node-local");
        assert!(
            err.contains(
                "fsid=1 is already used on this node by the export of /srv/nfs/other to *"
            ),
            "{err}"
        );
        assert!(!f.commands().iter().any(|c| c.starts_with("exportfs")));
        // One directory to two networks: two resources, one fsid.
        let f = node();
        assert_eq!(go(&f, "start", P).0, 0);
        let other_net = with(&[("clientspec", "198.51.100.0/24")]);
        assert_eq!(go(&f, "start", &other_net), (0, String::new()));
        assert_eq!(go(&f, "monitor", P).0, 0);
        assert_eq!(go(&f, "monitor", &other_net).0, 0);
        assert_eq!(go(&f, "stop", &other_net).0, 0);
        assert_eq!(go(&f, "monitor", P).0, 0, "the first export stays");
        for ok in [
            "0",
            "root",
            "4294967295",
            "7f1a0c2e-0000-4000-8000-000000000001",
        ] {
            assert!(check_fsid(ok).is_ok(), "{ok}");
        }
        for bad in ["-1", "1,2", "abc", "4294967296", ""] {
            assert!(check_fsid(bad).is_err(), "{bad}");
        }
        let (rc, _) = go(&f, "validate-all", &with(&[("fsid", "")]));
        assert_eq!(rc, 6, "fsid is required");
    }

    #[test]
    fn the_pseudo_root_is_named_at_start_only() {
        use crate::agents::harness::run_agent_logged;
        let said = |lines: &[String]| lines.iter().any(|l| l.contains("NFSv4 pseudo-root"));
        for fsid in ["0", "root"] {
            let f = node();
            let (rc, _, lines) =
                run_agent_logged(&ExportFs, &*f, "start", &with(&[("fsid", fsid)]));
            assert_eq!(rc, 0);
            assert!(said(&lines), "{fsid}: {lines:?}");
            let (_, _, lines) =
                run_agent_logged(&ExportFs, &*f, "monitor", &with(&[("fsid", fsid)]));
            assert!(!said(&lines), "monitor is quiet: {lines:?}");
        }
        let (_, _, lines) = run_agent_logged(&ExportFs, &*node(), "start", P);
        assert!(!said(&lines), "fsid=1 is no pseudo-root: {lines:?}");
    }

    #[test]
    fn ipv6_clients_and_root_fsid() {
        let f = node();
        let p = with(&[("clientspec", "[2001:db8::]/64"), ("fsid", "root")]);
        assert_eq!(go(&f, "start", &p).0, 0);
        assert!(f
            .commands()
            .iter()
            .any(|c| c.ends_with("fsid=root [2001:db8::]/64:/srv/nfs/share")));
        assert_eq!(go(&f, "monitor", &p).0, 0, "etab has it unbracketed");
    }

    #[test]
    fn metacharacters_newlines_and_dotdot_are_configuration_errors() {
        let f = node();
        for (k, v) in [
            ("clientspec", "192.0.2.0/24;reboot"),
            ("clientspec", "a b"),
            ("clientspec", "host\nx"),
            ("clientspec", "$(id)"),
            ("clientspec", "../x"),
            ("options", "rw,`id`"),
            ("options", "rw\nro"),
            ("options", "refer=/a/../b@h"),
            ("options", "rw,fsid=3"),
            ("directory", "/srv/../etc"),
            ("directory", "/srv/a b"),
            ("directory", "/srv/x\n"),
        ] {
            let (rc, err) = go(&f, "validate-all", &with(&[(k, v)]));
            assert_eq!(rc, 6, "{k}={v:?}: {err}");
            assert!(err.contains(&format!("{k}={v:?}")), "{err}");
        }
        assert!(check_clientspec("*.example.com").is_ok());
        assert!(check_clientspec("@trusted").is_ok());
        assert!(f.commands().is_empty());
    }

    #[test]
    fn wait_for_leasetime_on_stop_is_refused_with_the_reason() {
        let f = node();
        let (rc, err) = go(
            &f,
            "validate-all",
            &with(&[("wait_for_leasetime_on_stop", "true")]),
        );
        assert_eq!(rc, 6);
        assert!(
            err.contains(
                "wait_for_leasetime_on_stop=\"true\" is invalid: nfsha's exportfs never waits"
            ),
            "{err}"
        );
        assert!(err.contains("rule 4"), "{err}");
        // Migrated from ClusterLabs' exportfs: false (in any spelling) is accepted.
        for off in ["0", "no", "off", "False"] {
            assert_eq!(
                go(
                    &f,
                    "validate-all",
                    &with(&[("wait_for_leasetime_on_stop", off)])
                )
                .0,
                0,
                "{off}"
            );
        }
        assert_eq!(
            go(
                &f,
                "validate-all",
                &with(&[("wait_for_leasetime_on_stop", "false")])
            )
            .0,
            0
        );
    }
}
