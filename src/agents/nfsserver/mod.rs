//! `ocf:nfsha:nfsserver` — the kernel NFS server, started fresh on one node
//! under a fixed hostname, after its client-tracking state is in place.
//!
//! NFSv4.1+ clients reclaim their state after a failover only if the new
//! server presents the same server owner and scope, which the kernel takes
//! from the UTS hostname of the process that starts the nfsd threads. So
//! `rpc.nfsd` runs inside `unshare --uts` with `server_hostname` set, on
//! every node the same ([`crate::nfs::nfsd_launch`]). Lease and grace time
//! and the legacy recovery directory are written before the threads start,
//! the same way in both start modes ([`control`]).
//!
//! - [`config`]: the parameters and their rules;
//! - [`control`]: the nfsd control files;
//! - [`direct`]: starting the daemons and rpc.nfsd without systemd;
//! - [`systemd`]: `nfs-server.service` with the nfsha drop-in.
//!
//! An nfsd that nfsha did not start (Debian starts nfs-server when
//! nfs-kernel-server is installed) runs under the node's own host name,
//! without the cluster's state directory and without a grace period for the
//! failover's clients. Start refuses it; monitor reports it as failed (1),
//! so that Pacemaker's probe sees it and stops it through this agent.

pub mod config;
pub mod control;
pub mod direct;
pub mod systemd;

use std::time::Duration;

use crate::agents::{group_checks, release, storage};
use crate::nfs::markers::{ServerMarker, StartMode};
use crate::nfs::{nfsd, NfsConf};
use crate::ocf::{Action, Agent, AgentSpec, Ctx, OcfError, OcfResult, Rc, Timeouts};
use crate::sys::{procs, uts};
pub use config::{config, Config};

pub use config::{
    check_clone, check_hostname_needed, check_lease_grace, statd_conf_wrong, version_warnings,
};
pub use systemd::nfs_conf_mismatches;

pub struct NfsServer;

static SPEC: AgentSpec = AgentSpec {
    name: "nfsserver",
    shortdesc: "Kernel NFS server on one node with a fixed hostname, lease and grace",
    longdesc: "Starts the kernel NFS server fresh on one node: rpc.nfsd runs in a new UTS \
        namespace with server_hostname, so NFSv4.1+ clients see the same server on every \
        node and can reclaim their state; lease and grace time are validated and applied \
        before the threads start. Through systemd (nfs-server.service with the drop-in \
        written by `nfsha dropin`) when systemd runs, directly (rpc.mountd, nfsdcld, \
        rpc.statd for NFSv3, rpc.nfsd) otherwise. Start refuses unless state_directory \
        (nfsstate) is mounted on a Primary DRBD device, and refuses an nfsd the cluster did \
        not start. Monitor reads /proc/fs/nfsd and the process table only; it reports an \
        nfsd the cluster did not start as failed, so a probe makes Pacemaker stop it. Stop \
        ends nfsd and the helper daemons, leaves no NFS daemon working in state_directory, \
        and unmounts nothing. Group order: nfsstate, nfsserver, exportfs, vip.",
    params: config::PARAMS,
    refused: &[],
    timeouts: Timeouts {
        start: Duration::from_secs(60),
        stop: Duration::from_secs(60),
        monitor: Duration::from_secs(20),
        monitor_interval: Duration::from_secs(10),
        validate: Duration::from_secs(20),
    },
    monitor_depths: &[],
};

/// The NFS daemons that may work in the state directory and that stop ends
/// when they are still there (statd and sm-notify chdir() into statd's
/// state directory; nfsdcld keeps its database open).
const NFS_DAEMONS: [&str; 6] = [
    "rpc.statd",
    "sm-notify",
    "nfsdcld",
    "rpc.mountd",
    "rpc.idmapd",
    "fsidd",
];

/// Everything start checks on this node before touching nfsd; returns
/// nfs.conf as read for the checks, for the start to use.
fn preflight(ctx: &Ctx, cfg: &Config) -> OcfResult<NfsConf> {
    let dir = &cfg.state_directory;
    let conf = NfsConf::load(ctx.sys);
    storage::check_nfs_conf(ctx.sys, &conf, dir)?;
    if let Some(set) = config::statd_conf_wrong(&|s, k| conf.get(s, k).map(str::to_string), cfg) {
        return Err(OcfError::new(
            Rc::ErrArgs,
            format!(
                "nfs_versions offers 3, but {} does not keep statd's state on the state \
                 directory; set {set}",
                ctx.sys.paths().nfs_conf.display(),
            ),
        ));
    }
    check_scope(ctx, cfg, &conf)?;
    if systemd::running(ctx.sys) {
        systemd::preflight(ctx, cfg, &conf)?;
    }
    Ok(conf)
}

/// nfs-utils 2.6.3 and later read `[nfsd] scope` from nfs.conf: rpc.nfsd
/// (and `nfsdctl autostart`) then unshares the UTS namespace once more and
/// sets that name, so it, not `server_hostname`, becomes the server scope
/// the clients compare after a failover. Two names for one server are a
/// configuration of this node to fix (exit 2), whichever start mode.
fn check_scope(ctx: &Ctx, cfg: &Config, conf: &NfsConf) -> OcfResult {
    let (Some(scope), Some(hostname)) = (conf.get("nfsd", "scope"), cfg.hostname.as_deref()) else {
        return Ok(());
    };
    if scope == hostname {
        return Ok(());
    }
    Err(OcfError::new(
        Rc::ErrArgs,
        format!(
            "{} sets [nfsd] scope={scope}, which rpc.nfsd (nfs-utils 2.6.3 and later) makes the \
             server scope instead of server_hostname={hostname}: clients would see another \
             server after a failover to a node without it; remove the line or set \
             scope={hostname}",
            ctx.sys.paths().nfs_conf.display()
        ),
    ))
}

fn not_started_by_the_cluster(what: &str) -> OcfError {
    OcfError::generic(format!(
        "nfsd runs on this node but was not started by the cluster (at boot, or by hand): it \
         runs under this node's own host name, without the cluster's state directory, and \
         offers no grace period to the clients of a failover; {what}"
    ))
}

fn wait_threads_gone(ctx: &Ctx) -> OcfResult {
    let until = ctx.step(Duration::from_secs(10));
    loop {
        match nfsd::threads(ctx.sys) {
            None | Some(0) => return Ok(()),
            Some(n) if until.passed(ctx.sys) => {
                return Err(OcfError::generic(format!(
                    "nfsd still has {n} threads after stopping it"
                )))
            }
            Some(_) => ctx.sys.sleep(Duration::from_millis(100)),
        }
    }
}

impl Agent for NfsServer {
    fn spec(&self) -> &'static AgentSpec {
        &SPEC
    }

    fn validate(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        if ctx.action == Action::ValidateAll && ctx.check_level >= 10 {
            preflight(ctx, &cfg)?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        if nfsd::running(ctx.sys) {
            if ServerMarker::exists(ctx.sys) {
                return Ok(());
            }
            return Err(not_started_by_the_cluster(
                "stop it (`systemctl stop nfs-server` and `systemctl disable nfs-server`, or \
                 `rpc.nfsd 0`) and let nfsserver start it",
            ));
        }
        group_checks::before_nfsserver_start(ctx, &cfg.state_directory)?;
        let conf = preflight(ctx, &cfg)?;
        // v4.0/v3-only servers have no server scope to fix.
        let hostname = match &cfg.hostname {
            Some(h) => h.clone(),
            None => uts::node_hostname(ctx.sys).unwrap_or_default(),
        };
        control::prepare(ctx, &cfg)?;
        let save = |mode: StartMode, daemons: &[crate::nfs::markers::Daemon]| {
            ServerMarker {
                mode,
                hostname: hostname.clone(),
                daemons: daemons.to_vec(),
                versions: cfg.versions.iter().map(|v| v.to_string()).collect(),
                state_directory: Some(cfg.state_directory.clone()),
            }
            .save(ctx.sys)
            .map_err(|e| OcfError::generic(format!("cannot write the resource marker: {e}")))
        };
        let systemd = systemd::running(ctx.sys);
        if systemd {
            let daemons = systemd::start(ctx)?;
            save(StartMode::Systemd, &daemons)?;
        } else {
            let record = |d: &[crate::nfs::markers::Daemon]| save(StartMode::Direct, d);
            let daemons = direct::start(ctx, &cfg, &conf, &hostname, &record)?;
            save(StartMode::Direct, &daemons)?;
        }
        match nfsd::threads(ctx.sys) {
            Some(n) if n > 0 => {
                tracing::info!(
                    "nfsd started: {n} threads, versions {}, host name {hostname}, lease {} s, grace {} s",
                    cfg.versions.join(" "),
                    cfg.lease,
                    cfg.grace
                );
                Ok(())
            }
            _ => Err(OcfError::generic(format!(
                "nfsd has no threads after starting it (see {})",
                if systemd {
                    "`journalctl -u nfs-server`"
                } else {
                    "the system log"
                }
            ))),
        }
    }

    /// Never fails on the parameters' values: a failed stop is a fenced node.
    fn stop(&self, ctx: &Ctx) -> OcfResult {
        let marker = ServerMarker::load(ctx.sys);
        let state_dir: std::path::PathBuf = ctx.params.get(&config::STATE_DIRECTORY);
        let v3 = match &marker {
            Some(m) if !m.versions.is_empty() => m.offers_v3(),
            _ => {
                let raw: &str = ctx.params.get(&config::NFS_VERSIONS);
                crate::nfs::versions::parse(raw).is_ok_and(|v| v.contains(&"3"))
            }
        };
        group_checks::before_nfsserver_stop(ctx);
        let mode = match &marker {
            Some(m) => m.mode,
            None if systemd::running(ctx.sys) => StartMode::Systemd,
            None => StartMode::Direct,
        };
        match mode {
            StartMode::Systemd => {
                let statd = |p: &procs::Process| p.comm == "rpc.statd" || p.comm == "sm-notify";
                let statd_on_state = v3
                    || storage::statd_uses(&NfsConf::load(ctx.sys), &state_dir)
                    || !procs::holders(ctx.sys, &state_dir, &statd).is_empty();
                systemd::stop(ctx, statd_on_state)?;
            }
            StartMode::Direct => {
                let recorded = marker.as_ref().map(|m| m.daemons.as_slice()).unwrap_or(&[]);
                direct::stop(ctx, recorded)?;
            }
        }
        wait_threads_gone(ctx)?;
        // Whatever NFS daemon still works in the state directory (a statd
        // that nfs-server pulled in, sm-notify still retrying, a daemon
        // started outside the cluster) would keep nfsstate from unmounting it.
        let is_nfs_daemon = |p: &procs::Process| NFS_DAEMONS.contains(&p.comm.as_str());
        let left = release::end_holders(
            ctx,
            &state_dir,
            &is_nfs_daemon,
            "nfsstate unmounts the state directory next",
            Duration::from_secs(5),
        );
        if !left.is_empty() {
            tracing::warn!(
                "{} NFS daemon(s) still use {}; nfsstate's stop will try again",
                left.len(),
                state_dir.display()
            );
        }
        ServerMarker::remove(ctx.sys)
            .map_err(|e| OcfError::generic(format!("cannot remove the resource marker: {e}")))?;
        tracing::info!("nfsd stopped");
        Ok(())
    }

    fn monitor(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        let threads = nfsd::threads(ctx.sys).unwrap_or(0);
        if threads == 0 {
            return Err(OcfError::not_running("nfsd has no threads"));
        }
        let Some(m) = ServerMarker::load(ctx.sys) else {
            return Err(not_started_by_the_cluster(
                "reported as failed so that Pacemaker stops it through this resource (see \
                 docs/server-agents.md, \"An nfsd started outside the cluster\")",
            ));
        };
        let cld_expected = m.daemons.iter().any(|d| d.name == "nfsdcld")
            || (m.mode == StartMode::Systemd && ctx.sys.has_program("nfsdcld"));
        let mut expected = vec![("rpc.mountd", "rpc.mountd (exports cannot be looked up)")];
        if cld_expected {
            expected.push((
                "nfsdcld",
                "nfsdcld (new clients are not recorded on the state directory)",
            ));
        }
        if cfg.has("3") {
            expected.push(("rpc.statd", "rpc.statd (NFSv3 locks)"));
        }
        // The pids recorded at start answer without reading the whole
        // process table; only a restarted daemon needs the full scan.
        let mut table: Option<Vec<procs::Process>> = None;
        let mut missing = Vec::new();
        for (name, why) in expected {
            let by_pid = m
                .daemons
                .iter()
                .any(|d| d.name == name && procs::is(ctx.sys, d.pid, name));
            if !by_pid
                && !table
                    .get_or_insert_with(|| procs::list(ctx.sys))
                    .iter()
                    .any(|p| p.comm == name)
            {
                missing.push(why);
            }
        }
        if !missing.is_empty() {
            return Err(OcfError::generic(format!(
                "nfsd runs, but not: {}",
                missing.join(", ")
            )));
        }
        let lease = nfsd::read_number(ctx.sys, "nfsv4leasetime");
        let grace = nfsd::read_number(ctx.sys, "nfsv4gracetime");
        for (name, want, got) in [("lease", cfg.lease, lease), ("grace", cfg.grace, grace)] {
            if let Some(got) = got.filter(|g| *g != want) {
                tracing::warn!(
                    "nfsd runs with {name} time {got} s, but {name}_time={want}; it takes effect at the next start"
                );
            }
        }
        if let Some(dir) = control::recovery_dir(ctx) {
            if !std::path::Path::new(&dir).starts_with(&cfg.state_directory) {
                tracing::warn!(
                    "nfsd's legacy recovery directory is {dir}, not on {}: a client record \
                     there would not follow a failover",
                    cfg.state_directory.display()
                );
            }
        }
        let versions = nfsd::versions(ctx.sys);
        if !versions.is_empty() && versions != cfg.versions {
            tracing::warn!(
                "nfsd offers versions {}, but nfs_versions={}",
                versions.join(","),
                cfg.versions.join(",")
            );
        }
        tracing::info!(
            "nfsd: {threads} threads, versions {}, server host name {} (set at start), lease {} s, grace {} s",
            if versions.is_empty() { "?".to_string() } else { versions.join(" ") },
            if m.hostname.is_empty() { "?" } else { &m.hostname },
            lease.map_or("?".into(), |l| l.to_string()),
            grace.map_or("?".into(), |g| g.to_string()),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::{fail, ok, Fake};
    use std::path::Path;
    use std::sync::Arc;

    const CONF: &str = "[nfsdcld]\nstoragedir=/srv/nfs-state/nfsdcld\n[nfsdcltrack]\nstoragedir=/srv/nfs-state/nfsdcltrack\n";
    const BASE: &[(&str, &str)] = &[
        ("server_hostname", "nfs-ha"),
        ("state_directory", "/srv/nfs-state"),
    ];

    /// A node with the state directory on a Primary DRBD device and nfsd
    /// stopped; `rpc.nfsd` (through unshare) starts threads, `rpc.nfsd 0`
    /// and `systemctl` stop/start them, like the kernel would.
    fn node() -> Arc<Fake> {
        let f = Arc::new(Fake::new().with_programs(&["drbdsetup", "nfsdcld"]));
        f.file(
            "/proc/self/mountinfo",
            "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n40 22 147:0 / /srv/nfs-state rw - ext4 /dev/drbd0 rw\n",
        );
        f.file("/etc/nfs.conf", CONF);
        f.file("/proc/fs/nfsd/threads", "0\n");
        f.file(
            "/proc/fs/nfsd/nfsv4recoverydir",
            "/var/lib/nfs/v4recovery\n",
        );
        f.file(
            "/proc/filesystems",
            "nodev\tproc\nnodev\tnfsd\nnodev\trpc_pipefs\n",
        );
        f.respond(|c| {
            (c.program == "drbdsetup")
                .then(|| ok(r#"[{"name":"nfs","role":"Primary","devices":[{"minor":0}]}]"#))
                .flatten()
        });
        let g = f.clone();
        f.respond(move |c| {
            let line = c.display();
            if line.starts_with("unshare ") || line == "systemctl start nfs-server.service" {
                g.file("/proc/fs/nfsd/threads", "8\n");
            }
            if line == "rpc.nfsd 0" || line.starts_with("systemctl stop") {
                g.file("/proc/fs/nfsd/threads", "0\n");
            }
            None
        });
        f
    }

    fn go(f: &Fake, action: &str, params: &[(&str, &str)]) -> (i32, String) {
        go_meta(f, action, params, &[])
    }

    fn go_meta(
        f: &Fake,
        action: &str,
        params: &[(&str, &str)],
        meta: &[(&str, &str)],
    ) -> (i32, String) {
        crate::agents::harness::run_agent(&NfsServer, f, action, params, meta)
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = BASE.to_vec();
        for (k, val) in extra {
            v.retain(|(n, _)| n != k);
            v.push((k, val));
        }
        v
    }

    /// Every exit code nfsserver gives, by situation (docs/server-agents.md,
    /// "Exit codes"): 6 only for parameters that cannot work on any node,
    /// 2 for what is wrong on this node only, so Pacemaker tries the other.
    #[test]
    fn exit_codes_per_ocf_1_1() {
        use crate::sys::fake::missing;
        let rc =
            |f: &Fake, action: &str, p: &[(&'static str, &'static str)]| go(f, action, &with(p)).0;
        // 6: the parameters themselves.
        assert_eq!(rc(&node(), "start", &[("lease_time", "29")]), 6);
        assert_eq!(rc(&node(), "start", &[("nfs_versions", "4")]), 6);
        assert_eq!(rc(&node(), "start", &[("server_hostname", "a b")]), 6);
        assert_eq!(go_meta(&node(), "start", BASE, &[("clone", "0")]).0, 6);
        // 2: this node's nfs.conf or drop-in.
        let f = node();
        f.file("/etc/nfs.conf", "");
        assert_eq!(rc(&f, "start", &[]), 2);
        assert_eq!(rc(&systemd_node(), "start", &[]), 2, "no drop-in here");
        // 1: ordering, an nfsd not ours, a failing start.
        let f = node();
        f.file(
            "/proc/self/mountinfo",
            "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n",
        );
        assert_eq!(rc(&f, "start", &[]), 1);
        let f = node();
        f.file("/proc/fs/nfsd/threads", "8\n");
        assert_eq!(rc(&f, "start", &[]), 1);
        assert_eq!(rc(&f, "monitor", &[]), 1);
        let f = node();
        f.respond(|c| {
            (c.program == "unshare")
                .then(|| fail(1, "rpc.nfsd: no"))
                .flatten()
        });
        assert_eq!(rc(&f, "start", &[]), 1);
        // 5: a program it needs is not installed (a probe then says 7).
        let f = node();
        f.respond(|c| (c.program == "unshare").then(|| missing(c)).flatten());
        let (code, err) = go(&f, "start", BASE);
        assert_eq!(code, 5);
        assert!(
            err.contains("unshare is not installed (package nfs-kernel-server)"),
            "{err}"
        );
        // 7 and 0: monitor; stop of a stopped server is 0.
        let f = node();
        assert_eq!(rc(&f, "monitor", &[]), 7);
        assert_eq!(go_meta(&f, "monitor", BASE, &[("interval", "0")]).0, 7);
        assert_eq!(rc(&f, "stop", &[]), 0);
        assert_eq!(rc(&f, "start", &[]), 0);
        assert_eq!(rc(&f, "monitor", &[]), 0);
        // A stop never fails on values it does not need (a failed stop is a
        // fence): a malformed lease, a grace shorter than the lease.
        assert_eq!(rc(&f, "stop", &[("lease_time", "5")]), 0);
        assert_eq!(rc(&f, "start", &[]), 0);
        assert_eq!(
            rc(&f, "stop", &[("grace_time", "30"), ("lease_time", "60")]),
            0
        );
    }

    #[test]
    fn stop_waits_for_the_threads_within_bounds() {
        // rpc.nfsd 0 returns before the kernel's threads are gone.
        let f = node();
        assert_eq!(go(&f, "start", BASE).0, 0);
        f.respond(|c| (c.display() == "rpc.nfsd 0").then(|| ok("")).flatten());
        f.file_after(Duration::from_millis(300), "/proc/fs/nfsd/threads", "0\n");
        let slept = f.slept();
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(f.slept() - slept >= Duration::from_millis(300));
        // Threads that never end: a failed stop after 10 s, not a hang.
        let f = node();
        assert_eq!(go(&f, "start", BASE).0, 0);
        f.respond(|c| (c.display() == "rpc.nfsd 0").then(|| ok("")).flatten());
        let slept = f.slept();
        let (rc, err) = go(&f, "stop", BASE);
        assert_eq!(rc, 1);
        assert!(
            err.contains("nfsd still has 8 threads after stopping it"),
            "{err}"
        );
        let waited = f.slept() - slept;
        assert!(
            waited >= Duration::from_secs(10) && waited < Duration::from_secs(16),
            "{waited:?}"
        );
    }

    #[test]
    fn a_start_that_leaves_no_threads_fails() {
        let f = node();
        f.respond(|c| (c.program == "unshare").then(|| ok("")).flatten());
        let (rc, err) = go(&f, "start", BASE);
        assert_eq!(rc, 1);
        assert!(
            err.contains("nfsd has no threads after starting it"),
            "{err}"
        );
    }

    #[test]
    fn validate_all_looks_at_this_node_only_from_level_10() {
        let f = node();
        f.file("/etc/nfs.conf", "");
        assert_eq!(
            go(&f, "validate-all", BASE).0,
            0,
            "level 0: parameters only"
        );
        let mut deep = BASE.to_vec();
        deep.push(("OCF_CHECK_LEVEL", "10"));
        let (rc, err) = go(&f, "validate-all", &deep);
        assert_eq!(rc, 2, "{err}");
        assert!(
            err.contains("[nfsdcld] storagedir=/srv/nfs-state/nfsdcld"),
            "{err}"
        );
    }

    #[test]
    fn stop_takes_nfsv3_from_the_marker_and_from_the_parameters_of_an_older_one() {
        let units = |f: &Fake| {
            f.commands()
                .into_iter()
                .filter(|c| c.starts_with("systemctl stop nfs-server"))
                .collect::<Vec<_>>()
        };
        // The marker says NFSv3: statd's units are stopped whatever the
        // parameters say now.
        let f = systemd_ready("");
        f.file("/proc/fs/nfsd/threads", "8\n");
        ServerMarker {
            mode: StartMode::Systemd,
            hostname: "nfs-ha".into(),
            daemons: vec![],
            versions: vec!["3".into(), "4.2".into()],
            state_directory: Some("/srv/nfs-state".into()),
        }
        .save(&*f)
        .unwrap();
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(
            units(&f)[0].ends_with("rpc-statd.service"),
            "{:?}",
            units(&f)
        );
        // A marker without versions (older nfsha): the parameters decide.
        for (versions, statd) in [("3,4.1", true), ("4.1", false)] {
            let f = systemd_ready("");
            f.file("/proc/fs/nfsd/threads", "8\n");
            f.file(
                "/run/resource-agents/nfsha-nfsserver-state",
                "mode=systemd\nhostname=nfs-ha\npids=\n",
            );
            assert_eq!(go(&f, "stop", &with(&[("nfs_versions", versions)])).0, 0);
            assert_eq!(
                units(&f)[0].ends_with("rpc-statd.service"),
                statd,
                "{versions}"
            );
        }
    }

    #[test]
    fn only_statd_and_sm_notify_there_mean_statd_works_there() {
        let f = systemd_ready("");
        assert_eq!(go(&f, "start", BASE).0, 0);
        f.file("/proc/78/stat", "78 (bash) S 1");
        f.file("/proc/78/cwd", "symlink:/srv/nfs-state");
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(!f.commands().iter().any(|c| c.contains("rpc-statd")));
        let f = systemd_ready("");
        assert_eq!(go(&f, "start", BASE).0, 0);
        f.file("/proc/79/stat", "79 (sm-notify) S 1");
        f.file("/proc/79/cwd", "symlink:/srv/nfs-state/statd");
        f.exits_on(79, libc::SIGTERM);
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(f
            .commands()
            .iter()
            .any(|c| c.ends_with("rpc-statd.service")));
    }

    #[test]
    fn a_daemon_that_will_not_leave_the_state_directory_is_reported() {
        use crate::agents::harness::run_agent_logged;
        let f = node();
        assert_eq!(go(&f, "start", BASE).0, 0);
        // Stuck in the kernel: it survives even SIGKILL.
        f.file("/proc/81/stat", "81 (rpc.statd) D 1");
        f.file("/proc/81/cwd", "symlink:/srv/nfs-state/statd");
        let (rc, _, lines) = run_agent_logged(&NfsServer, &*f, "stop", BASE);
        assert_eq!(
            rc, 0,
            "nfsstate's stop decides what a busy filesystem means"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("WARN")
                    && l.contains("1 NFS daemon(s) still use /srv/nfs-state")),
            "{lines:?}"
        );
        assert!(f.killed().contains(&(81, libc::SIGKILL)));
    }

    #[test]
    fn monitor_expects_nfsdcld_only_where_it_was_started() {
        // Direct mode, nfsdcld not installed when nfsd started: not expected,
        // even once it is installed.
        let f = Arc::new(Fake::new().with_programs(&["drbdsetup"]));
        f.file("/proc/fs/nfsd/threads", "8\n");
        f.file("/proc/60/stat", "60 (rpc.mountd) S 1");
        let marker = |mode| ServerMarker {
            mode,
            hostname: "nfs-ha".into(),
            daemons: vec![crate::nfs::markers::Daemon {
                name: "rpc.mountd".into(),
                pid: 60,
            }],
            versions: vec!["4.1".into(), "4.2".into()],
            state_directory: Some("/srv/nfs-state".into()),
        };
        marker(StartMode::Direct).save(&*f).unwrap();
        assert_eq!(go(&f, "monitor", BASE).0, 0);
        let g = Arc::new(Fake::new().with_programs(&["drbdsetup", "nfsdcld"]));
        g.file("/proc/fs/nfsd/threads", "8\n");
        g.file("/proc/60/stat", "60 (rpc.mountd) S 1");
        marker(StartMode::Direct).save(&*g).unwrap();
        assert_eq!(go(&g, "monitor", BASE).0, 0);
        // systemd mode with nfsdcld installed: nfs-server pulls it in.
        marker(StartMode::Systemd).save(&*g).unwrap();
        let (rc, err) = go(&g, "monitor", BASE);
        assert_eq!(rc, 1);
        assert!(err.contains("not: nfsdcld"), "{err}");
    }

    #[test]
    fn monitor_reads_the_process_table_only_for_a_restarted_daemon() {
        let f = node();
        assert_eq!(go(&f, "start", BASE).0, 0);
        let before = f.listed("/proc");
        assert_eq!(go(&f, "monitor", BASE).0, 0);
        assert_eq!(f.listed("/proc"), before, "the recorded pids answered");
        // rpc.mountd restarted under another pid: found by the full scan.
        f.file("/proc/40001/stat", "40001 (rpc.mountd) Z 1");
        f.file("/proc/70/stat", "70 (rpc.mountd) S 1");
        assert_eq!(go(&f, "monitor", BASE).0, 0);
        assert_eq!(f.listed("/proc"), before + 1);
        // Gone for good: not running.
        f.file("/proc/70/stat", "70 (rpc.mountd) Z 1");
        let (rc, err) = go(&f, "monitor", BASE);
        assert_eq!(rc, 1);
        assert!(err.contains("not: rpc.mountd"), "{err}");
    }

    #[test]
    fn lease_and_grace_boundaries_through_the_agent() {
        let f = node();
        let rc = |p: &[(&'static str, &'static str)]| go(&f, "validate-all", &with(p));
        let (code, err) = rc(&[("lease_time", "29")]);
        assert_eq!(code, 6);
        assert!(
            err.contains("lease_time=\"29\" is invalid: below 30 s"),
            "{err}"
        );
        assert_eq!(rc(&[("lease_time", "30")]).0, 0, "30 is the floor");
        assert_eq!(rc(&[("lease_time", "120")]).0, 0, "grace defaults to lease");
        assert_eq!(rc(&[("lease_time", "120"), ("grace_time", "120")]).0, 0);
        let (code, err) = rc(&[("lease_time", "120"), ("grace_time", "119")]);
        assert_eq!(code, 6);
        assert!(err.contains("shorter than lease_time=120"), "{err}");
        let (code, err) = rc(&[("grace_time", "9")]);
        assert_eq!(code, 6);
        assert!(err.contains("the kernel accepts 10 to 3600"), "{err}");
        assert_eq!(rc(&[("lease_time", "60"), ("grace_time", "90")]).0, 0);
        assert_eq!(rc(&[("lease_time", "3601")]).0, 6);
    }

    #[test]
    fn versions_and_hostname() {
        let f = node();
        let (rc, err) = go(&f, "validate-all", &[("state_directory", "/srv/nfs-state")]);
        assert_eq!(rc, 6);
        assert!(
            err.contains("required parameter server_hostname is not set"),
            "{err}"
        );
        assert_eq!(
            go(
                &f,
                "validate-all",
                &[("state_directory", "/s"), ("nfs_versions", "4.0")]
            )
            .0,
            0
        );
        let (rc, err) = go(
            &f,
            "validate-all",
            &with(&[("server_hostname", "nfs;reboot")]),
        );
        assert_eq!(rc, 6);
        assert!(err.contains("server_hostname=\"nfs;reboot\""), "{err}");
    }

    #[test]
    fn clones_are_refused_unless_allowed() {
        let f = node();
        let (rc, err) = go_meta(&f, "start", BASE, &[("clone", "0")]);
        assert_eq!(rc, 6);
        assert!(err.contains("grace period"), "{err}");
        assert!(f.commands().is_empty());
        let (rc, _) = go_meta(
            &f,
            "validate-all",
            &with(&[("allow_clone", "true")]),
            &[("clone", "0")],
        );
        assert_eq!(rc, 0);
    }

    #[test]
    fn start_refuses_without_the_state_directory() {
        let f = node();
        f.file(
            "/proc/self/mountinfo",
            "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n",
        );
        let (rc, err) = go(&f, "start", BASE);
        assert_eq!(rc, 1);
        assert!(
            err.contains("ordering: /srv/nfs-state is not on a mounted filesystem"),
            "{err}"
        );
        assert!(f.spawned().is_empty() && !f.commands().iter().any(|c| c.starts_with("unshare")));
        // Secondary: also an ordering failure.
        let f = node();
        f.respond(|c| {
            (c.program == "drbdsetup")
                .then(|| ok(r#"[{"name":"nfs","role":"Secondary","devices":[{"minor":0}]}]"#))
                .flatten()
        });
        let (rc, err) = go(&f, "start", BASE);
        assert_eq!(rc, 1);
        assert!(
            err.contains("ordering:") && err.contains("Secondary"),
            "{err}"
        );
    }

    #[test]
    fn direct_start_sets_lease_grace_then_starts_threads_under_the_name() {
        let f = node();
        let (rc, err) = go(
            &f,
            "start",
            &with(&[("lease_time", "120"), ("grace_time", "150")]),
        );
        assert_eq!((rc, err.as_str()), (0, ""));
        assert_eq!(
            f.file_content("/proc/fs/nfsd/nfsv4leasetime").as_deref(),
            Some("120\n")
        );
        assert_eq!(
            f.file_content("/proc/fs/nfsd/nfsv4gracetime").as_deref(),
            Some("150\n")
        );
        assert_eq!(
            f.file_content("/proc/fs/nfsd/nfsv4recoverydir").as_deref(),
            Some("/srv/nfs-state/v4recovery\n")
        );
        assert_eq!(
            f.spawned(),
            vec![
                vec!["rpc.mountd", "-F"],
                vec!["nfsdcld", "-F", "-s", "/srv/nfs-state/nfsdcld"],
            ]
        );
        let unshare: Vec<String> = f
            .commands()
            .into_iter()
            .filter(|c| c.starts_with("unshare"))
            .collect();
        assert_eq!(unshare.len(), 1);
        assert!(
            unshare[0].starts_with("unshare --uts -- /"),
            "{}",
            unshare[0]
        );
        assert!(
            unshare[0].ends_with(" internal-sethostname-exec nfs-ha -- rpc.nfsd -L 120 -G 150 -N 3 -N 4.0 -V 4.1 -V 4.2 8"),
            "{}",
            unshare[0]
        );
        assert!(!f.commands().iter().any(|c| c.contains("sh -c")));
        // nfsdcld needs rpc_pipefs; without systemd nfsserver mounts it.
        assert!(f
            .commands()
            .contains(&"mount -t rpc_pipefs sunrpc /var/lib/nfs/rpc_pipefs".to_string()));
        // Monitor: running with its daemons.
        assert_eq!(go(&f, "monitor", BASE).0, 0);
        // A zombie is not a running daemon.
        f.file("/proc/40002/stat", "40002 (nfsdcld) Z 1 40002 40002 0");
        let (rc, err) = go(&f, "monitor", BASE);
        assert_eq!(rc, 1);
        assert!(err.contains("not: nfsdcld"), "{err}");
        // Start again: idempotent.
        let n = f.commands().len();
        assert_eq!(go(&f, "start", BASE).0, 0);
        assert_eq!(f.commands().len(), n);
    }

    #[test]
    fn rpc_pipefs_is_mounted_only_when_missing() {
        let f = node();
        f.file(
            "/etc/nfs.conf",
            &format!("{CONF}[general]\npipefs-directory=/run/rpc_pipefs\n"),
        );
        let t = f.file_content("/proc/self/mountinfo").unwrap();
        f.file(
            "/proc/self/mountinfo",
            &format!("{t}30 22 0:40 / /run/rpc_pipefs rw - rpc_pipefs sunrpc rw\n"),
        );
        assert_eq!(go(&f, "start", BASE).0, 0);
        assert!(!f.commands().iter().any(|c| c.contains("rpc_pipefs")));
        // A kernel without rpc_pipefs: warn, do not try.
        let f = node();
        f.file("/proc/filesystems", "nodev\tproc\n");
        assert_eq!(go(&f, "start", BASE).0, 0);
        assert!(!f.commands().iter().any(|c| c.contains("rpc_pipefs")));
    }

    #[test]
    fn a_stop_after_a_failed_start_ends_the_helpers() {
        let f = node();
        f.respond(|c| {
            (c.program == "unshare")
                .then(|| fail(1, "rpc.nfsd: unable to set any sockets for nfsd"))
                .flatten()
        });
        let (rc, err) = go(&f, "start", BASE);
        assert_eq!(rc, 1);
        assert!(err.contains("unable to set any sockets"), "{err}");
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(
            f.killed().contains(&(40001, libc::SIGTERM)),
            "{:?}",
            f.killed()
        );
        assert!(
            f.killed().contains(&(40002, libc::SIGTERM)),
            "{:?}",
            f.killed()
        );
    }

    #[test]
    fn nfsd_started_outside_the_cluster_is_refused() {
        let f = node();
        f.file("/proc/fs/nfsd/threads", "8\n");
        let (rc, err) = go(&f, "start", BASE);
        assert_eq!(rc, 1);
        assert!(err.contains("not started by the cluster"), "{err}");
    }

    #[test]
    fn direct_stop_ends_threads_and_daemons_and_unmounts_nothing() {
        let f = node();
        assert_eq!(go(&f, "start", BASE).0, 0);
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(f.commands().contains(&"rpc.nfsd 0".to_string()));
        assert!(f.killed().contains(&(40001, libc::SIGTERM)));
        assert!(f.killed().contains(&(40002, libc::SIGTERM)));
        // The fake's processes ignore SIGTERM: after 5 s they get SIGKILL.
        assert!(f.killed().contains(&(40002, libc::SIGKILL)));
        assert!(!f.commands().iter().any(|c| c.starts_with("umount")));
        assert_eq!(go(&f, "monitor", BASE).0, 7);
        assert_eq!(go(&f, "stop", BASE).0, 0, "stop when stopped");
    }

    fn systemd_node() -> Arc<Fake> {
        let f = node();
        f.file("/run/systemd/system/.present", "");
        f
    }

    #[test]
    fn systemd_start_needs_the_matching_dropin_and_nfs_conf() {
        let f = systemd_node();
        let (rc, err) = go(&f, "start", BASE);
        assert_eq!(rc, 2);
        assert!(
            err.contains("run `nfsha dropin --hostname nfs-ha --lease 90 --grace 90` on this node"),
            "{err}"
        );
        let dropin = crate::dropin::render("other", 90, 90, Path::new("/usr/sbin/nfsha")).unwrap();
        f.file(
            "/etc/systemd/system/nfs-server.service.d/nfsha.conf",
            &dropin,
        );
        let (rc, err) = go(&f, "start", BASE);
        assert_eq!(rc, 2);
        assert!(
            err.contains("sets host name other, lease 90, grace 90, but the resource says nfs-ha"),
            "{err}"
        );
        let dropin = crate::dropin::render("nfs-ha", 90, 90, Path::new("/usr/sbin/nfsha")).unwrap();
        f.file(
            "/etc/systemd/system/nfs-server.service.d/nfsha.conf",
            &dropin,
        );
        let (rc, err) = go(&f, "start", BASE);
        assert_eq!(rc, 2);
        assert!(err.contains("set in [nfsd]: vers3=n, vers4.0=n"), "{err}");
        assert!(!f.commands().iter().any(|c| c.starts_with("systemctl")));
        f.file(
            "/etc/nfs.conf",
            &format!("{CONF}[nfsd]\nvers3=n\nvers4.0=n\n"),
        );
        assert_eq!(go(&f, "start", BASE), (0, String::new()));
        assert!(f.file_content("/run/nfsha/nfs-server.allow").is_some());
        assert!(f
            .commands()
            .contains(&"systemctl start nfs-server.service".to_string()));
        assert!(f.spawned().is_empty(), "systemd starts the daemons");
        // The same control files as in direct mode, before the threads
        // (the fake refuses them afterwards, like the kernel): the legacy
        // tracker records clients on the state directory, not the local disk.
        assert_eq!(
            f.file_content("/proc/fs/nfsd/nfsv4recoverydir").as_deref(),
            Some("/srv/nfs-state/v4recovery\n")
        );
        assert_eq!(
            f.file_content("/proc/fs/nfsd/nfsv4leasetime").as_deref(),
            Some("90\n")
        );

        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(f.file_content("/run/nfsha/nfs-server.allow").is_none());
        let stops: Vec<String> = f
            .commands()
            .into_iter()
            .filter(|c| c.starts_with("systemctl stop"))
            .collect();
        assert_eq!(
            stops,
            ["systemctl stop nfs-server.service nfs-mountd.service nfsdcld.service"]
        );
        assert!(!f.commands().iter().any(|c| c.starts_with("umount")));
    }

    /// A systemd node ready to start: drop-in and nfs.conf agree with BASE.
    fn systemd_ready(extra_conf: &str) -> Arc<Fake> {
        let f = systemd_node();
        let dropin = crate::dropin::render("nfs-ha", 90, 90, Path::new("/usr/sbin/nfsha")).unwrap();
        f.file(
            "/etc/systemd/system/nfs-server.service.d/nfsha.conf",
            &dropin,
        );
        f.file(
            "/etc/nfs.conf",
            &format!("{CONF}[nfsd]\nvers3=n\nvers4.0=n\n{extra_conf}"),
        );
        f
    }

    #[test]
    fn v4_only_stop_stops_a_statd_that_works_in_the_state_directory() {
        // Debian's nfs-server.service Wants rpc-statd, which chdir()s into
        // [statd] state-directory-path even with NFSv3 off.
        let f = systemd_ready("[statd]\nstate-directory-path=/srv/nfs-state/statd\n");
        assert_eq!(go(&f, "start", BASE).0, 0);
        assert_eq!(go(&f, "stop", BASE).0, 0);
        let stops: Vec<String> = f
            .commands()
            .into_iter()
            .filter(|c| c.starts_with("systemctl stop"))
            .collect();
        assert_eq!(
            stops,
            [
                "systemctl stop nfs-server.service nfs-mountd.service nfsdcld.service \
                 rpc-statd-notify.service rpc-statd.service"
            ]
        );
        // statd's directory elsewhere: statd may serve this node's own
        // NFSv3 mounts and is left alone.
        let f = systemd_ready("[statd]\nstate-directory-path=/var/lib/nfs/statd\n");
        assert_eq!(go(&f, "start", BASE).0, 0);
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(!f.commands().iter().any(|c| c.contains("rpc-statd")));
        // Found working there whatever nfs.conf says now: stopped too.
        let f = systemd_ready("");
        assert_eq!(go(&f, "start", BASE).0, 0);
        f.file("/proc/77/stat", "77 (rpc.statd) S 1");
        f.file("/proc/77/cwd", "symlink:/srv/nfs-state/statd");
        f.exits_on(77, libc::SIGTERM);
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(f
            .commands()
            .iter()
            .any(|c| c.starts_with("systemctl stop") && c.ends_with(" rpc-statd.service")));
        assert_eq!(
            f.killed(),
            vec![(77, libc::SIGTERM)],
            "the fake's systemctl ends nothing: stop ends it itself"
        );
    }

    #[test]
    fn stop_ends_nfs_daemons_left_in_the_state_directory_only() {
        let f = node();
        assert_eq!(go(&f, "start", BASE).0, 0);
        // sm-notify still retrying a client, and an admin's shell there.
        f.file("/proc/80/stat", "80 (sm-notify) S 1");
        f.file("/proc/80/cwd", "symlink:/srv/nfs-state/statd");
        f.exits_on(80, libc::SIGTERM);
        f.file("/proc/81/stat", "81 (bash) S 1");
        f.file("/proc/81/cwd", "symlink:/srv/nfs-state");
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(f.killed().contains(&(80, libc::SIGTERM)));
        assert!(
            !f.killed().iter().any(|(p, _)| *p == 81),
            "not an NFS daemon: nfsstate's force_unmount decides"
        );
    }

    #[test]
    fn an_nfsd_the_cluster_did_not_start_is_reported_failed() {
        let f = node();
        f.file("/proc/fs/nfsd/threads", "8\n");
        for interval in ["0", "10000"] {
            let (rc, err) = go_meta(&f, "monitor", BASE, &[("interval", interval)]);
            assert_eq!(rc, 1, "interval {interval}");
            assert!(err.contains("not started by the cluster"), "{err}");
        }
        // Pacemaker then stops it through this agent: no marker, no systemd.
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(f.commands().contains(&"rpc.nfsd 0".to_string()));
        assert_eq!(go(&f, "monitor", BASE).0, 7);
        // With systemd: the unit is stopped.
        let f = systemd_node();
        f.file("/proc/fs/nfsd/threads", "8\n");
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(f
            .commands()
            .iter()
            .any(|c| c.starts_with("systemctl stop nfs-server.service")));
    }

    /// Start and stop log where their time went (the lab reads it from
    /// pacemaker.log); monitor does not.
    #[test]
    fn start_and_stop_log_their_profile() {
        use crate::agents::harness::run_agent_logged;
        let f = systemd_ready("");
        let g = f.clone();
        f.respond(move |c| {
            if c.program == "systemctl" {
                crate::sys::System::sleep(&*g, std::time::Duration::from_millis(1500));
            }
            None
        });
        let profile = |lines: &[String]| {
            lines
                .iter()
                .filter(|l| l.contains(" took "))
                .cloned()
                .collect::<Vec<_>>()
        };
        let (rc, _, lines) = run_agent_logged(&NfsServer, &*f, "start", BASE);
        assert_eq!(rc, 0);
        assert_eq!(
            profile(&lines),
            ["INFO start took 1.50 s: drbdsetup status 0.00 s, systemctl start 1.50 s; other 0.00 s"]
        );
        let (_, _, lines) = run_agent_logged(&NfsServer, &*f, "monitor", BASE);
        assert!(profile(&lines).is_empty(), "{lines:?}");
        let (rc, _, lines) = run_agent_logged(&NfsServer, &*f, "stop", BASE);
        assert_eq!(rc, 0);
        let p = profile(&lines);
        assert!(
            p.len() == 1 && p[0].starts_with("INFO stop took 1.50 s: systemctl stop 1.50 s"),
            "{lines:?}"
        );
    }

    #[test]
    fn an_nfs_conf_scope_other_than_server_hostname_is_refused() {
        for (mode, f) in [("direct", node()), ("systemd", systemd_ready(""))] {
            f.file("/etc/nfs.conf.d/scope.conf", "[nfsd]\nscope = srv1\n");
            let (rc, err) = go(&f, "start", BASE);
            assert_eq!(rc, 2, "{mode}");
            assert!(
                err.contains("sets [nfsd] scope=srv1")
                    && err.contains("instead of server_hostname=nfs-ha"),
                "{mode}: {err}"
            );
            assert_eq!(nfsd::threads(&*f), Some(0), "{mode}: nothing started");
            let mut deep = BASE.to_vec();
            deep.push(("OCF_CHECK_LEVEL", "10"));
            let (rc, err) = go(&f, "validate-all", &deep);
            assert_eq!(rc, 2, "{mode}: {err}");
            // The same name twice is one server scope.
            f.file("/etc/nfs.conf.d/scope.conf", "[nfsd]\nscope=nfs-ha\n");
            assert_eq!(go(&f, "start", BASE), (0, String::new()), "{mode}");
        }
        // Without server_hostname (NFSv4.0 and v3 only) a fixed scope is harmless.
        let f = node();
        f.file("/etc/nfs.conf.d/scope.conf", "[nfsd]\nscope=srv1\n");
        let p = [
            ("state_directory", "/srv/nfs-state"),
            ("nfs_versions", "4.0"),
        ];
        assert_eq!(go(&f, "start", &p).0, 0);
    }

    #[test]
    fn nfsv3_under_systemd_needs_the_notify_dropin() {
        let f = systemd_ready("[statd]\nstate-directory-path=/srv/nfs-state/statd\n");
        f.file("/etc/nfs.conf.d/v3.conf", "[nfsd]\nvers3=y\n");
        let p = with(&[("nfs_versions", "3,4.1,4.2")]);
        let (rc, err) = go(&f, "start", &p);
        assert_eq!(rc, 2);
        assert!(
            err.contains("rpc-statd-notify.service.d/nfsha.conf does not keep rpc-statd-notify"),
            "{err}"
        );
        f.file(
            "/etc/systemd/system/rpc-statd-notify.service.d/nfsha.conf",
            &crate::dropin::render_notify(),
        );
        assert_eq!(go(&f, "start", &p), (0, String::new()));
        let m = ServerMarker::load(&*f).unwrap();
        assert!(m.offers_v3());
        assert_eq!(
            m.state_directory.as_deref(),
            Some(Path::new("/srv/nfs-state"))
        );
    }

    #[test]
    fn systemd_stop_survives_a_missing_helper_unit() {
        let f = systemd_node();
        f.file("/proc/fs/nfsd/threads", "8\n");
        f.respond(|c| {
            (c.display()
                .starts_with("systemctl stop nfs-server.service "))
            .then(|| {
                fail(
                    5,
                    "Failed to stop nfsdcld.service: Unit nfsdcld.service not loaded.",
                )
            })
            .flatten()
        });
        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert_eq!(
            f.commands()
                .iter()
                .filter(|c| c.starts_with("systemctl stop"))
                .count(),
            2,
            "then nfs-server alone: {:?}",
            f.commands()
        );
        // But nfs-server itself failing to stop is an error.
        let f = systemd_node();
        f.file("/proc/fs/nfsd/threads", "8\n");
        f.respond(|c| {
            (c.display().starts_with("systemctl stop nfs-server.service"))
                .then(|| fail(1, "Job for nfs-server.service failed."))
                .flatten()
        });
        let (rc, err) = go(&f, "stop", BASE);
        assert_eq!(rc, 1);
        assert!(err.contains("Job for nfs-server.service failed"), "{err}");
    }

    #[test]
    fn nfsv3_needs_statd_state_on_the_state_directory() {
        let f = node();
        let p = with(&[("nfs_versions", "3,4.1,4.2")]);
        let (rc, err) = go(&f, "start", &p);
        assert_eq!(rc, 2);
        assert!(
            err.contains("set [statd] state-directory-path=/srv/nfs-state/statd"),
            "{err}"
        );
        f.file(
            "/etc/nfs.conf",
            &format!("{CONF}[statd]\nstate-directory-path=/srv/nfs-state/statd\n"),
        );
        assert_eq!(go(&f, "start", &p).0, 0);
        assert!(f.spawned().contains(&vec![
            "rpc.statd".to_string(),
            "-F".into(),
            "--no-notify".into(),
            "-P".into(),
            "/srv/nfs-state/statd".into()
        ]));
    }

    #[test]
    fn monitor_warns_on_drift_but_stays_running() {
        use crate::agents::harness::run_agent_logged;
        let f = node();
        assert_eq!(go(&f, "start", BASE).0, 0);
        let warnings = |f: &Fake| -> Vec<String> {
            let (rc, _, lines) = run_agent_logged(&NfsServer, f, "monitor", BASE);
            assert_eq!(rc, 0);
            lines
                .into_iter()
                .filter(|l| l.starts_with("WARN"))
                .collect()
        };
        f.file("/proc/fs/nfsd/versions", "-3 +4 -4.0 +4.1 +4.2\n");
        assert_eq!(warnings(&f), Vec::<String>::new(), "as configured");
        f.file("/proc/fs/nfsd/nfsv4leasetime", "60\n");
        f.file("/proc/fs/nfsd/nfsv4gracetime", "75\n");
        f.file("/proc/fs/nfsd/versions", "+3 +4 +4.0 +4.1 +4.2\n");
        f.file(
            "/proc/fs/nfsd/nfsv4recoverydir",
            "/var/lib/nfs/v4recovery\n",
        );
        let w = warnings(&f);
        assert_eq!(w.len(), 4, "{w:?}");
        assert!(w[0].contains("lease time 60 s, but lease_time=90"), "{w:?}");
        assert!(w[1].contains("grace time 75 s, but grace_time=90"), "{w:?}");
        assert!(
            w[2].contains("recovery directory is /var/lib/nfs/v4recovery, not on /srv/nfs-state"),
            "{w:?}"
        );
        assert!(
            w[3].contains("offers versions 3,4.0,4.1,4.2, but nfs_versions=4.1,4.2"),
            "{w:?}"
        );
    }

    #[test]
    fn short_leases_and_nfsv4_0_are_accepted_with_a_warning() {
        use crate::agents::harness::run_agent_logged;
        let f = node();
        let warned = |p: &[(&'static str, &'static str)], what: &str| {
            let (rc, err, lines) = run_agent_logged(&NfsServer, &*f, "validate-all", &with(p));
            assert_eq!(rc, 0, "{err}");
            lines
                .iter()
                .any(|l| l.starts_with("WARN") && l.contains(what))
        };
        assert!(warned(&[("lease_time", "59")], "below 60 s"));
        assert!(!warned(&[("lease_time", "60")], "below 60 s"));
        assert!(warned(&[("nfs_versions", "4.0,4.1")], "offers 4.0"));
        assert!(!warned(&[], "offers 4.0"));
        // The short-lease profile: on a courteous server (Linux ≥ 5.19) the
        // trade-off is explained without a warning, on an older kernel warned.
        let logged = |release: &str| {
            f.file("/proc/sys/kernel/osrelease", release);
            let p = with(&[("lease_time", "45")]);
            let (rc, err, lines) = run_agent_logged(&NfsServer, &*f, "validate-all", &p);
            assert_eq!(rc, 0, "{err}");
            lines
        };
        let lines = logged("6.1.0-13-amd64\n");
        assert!(
            lines.iter().any(|l| l.starts_with("INFO")
                && l.contains("at most 22 s (lease/2)")
                && l.contains("this kernel (6.1.0-13-amd64)")),
            "{lines:?}"
        );
        assert!(!lines.iter().any(|l| l.starts_with("WARN")), "{lines:?}");
        let lines = logged("5.10.0-28-amd64\n");
        assert!(
            lines.iter().any(|l| l.starts_with("WARN")
                && l.contains("lease_time=45 on Linux 5.10.0-28-amd64")
                && l.contains("no courteous server")),
            "{lines:?}"
        );
        assert_eq!(lines.iter().filter(|l| l.starts_with("WARN")).count(), 1);
        // A stop never nags about parameters.
        let (_, _, lines) =
            run_agent_logged(&NfsServer, &*f, "stop", &with(&[("lease_time", "45")]));
        assert!(!lines.iter().any(|l| l.contains("below 60 s")), "{lines:?}");
    }
}
