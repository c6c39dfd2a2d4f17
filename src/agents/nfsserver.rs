//! `ocf:nfsha:nfsserver` — the kernel NFS server, started fresh on one node
//! under a fixed hostname, after its client-tracking state is in place.
//!
//! NFSv4.1+ clients reclaim their state after a failover only if the new
//! server presents the same server owner and scope, which the kernel takes
//! from the UTS hostname of the process that starts the nfsd threads. So
//! `rpc.nfsd` runs inside `unshare --uts` with `server_hostname` set (by
//! `nfsha internal-sethostname-exec`, which refuses to run outside a new UTS
//! namespace), on every node the same. Lease and grace time are applied
//! before the threads start, because the kernel refuses them afterwards.
//!
//! Two ways to start: through systemd (`nfs-server.service` with the
//! drop-in `nfsha dropin` writes) when systemd runs, or directly
//! (`rpc.mountd`, `nfsdcld`, `rpc.statd` for NFSv3, then `rpc.nfsd`) when it
//! does not.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::agents::{nfsstate, util};
use crate::nfs::{self, versions, NfsConf};
use crate::ocf::params::absolute_path;
use crate::ocf::{Agent, AgentSpec, Ctx, OcfError, OcfResult, ParamSpec, Rc, Timeouts};
use crate::storage::{self, Problem};
use crate::sys::{self, Cmd, System};

pub struct NfsServer;

/// A host name as sethostname(2) and DNS accept: labels of letters, digits
/// and '-', separated by dots, at most 64 bytes.
pub fn check_hostname(raw: &str) -> Result<(), String> {
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if raw.is_empty() || raw.len() > 64 || !raw.split('.').all(ok_label) {
        return Err(
            "expected a host name of letters, digits, '-' and '.' (at most 64 characters)".into(),
        );
    }
    Ok(())
}

fn check_versions(raw: &str) -> Result<(), String> {
    versions::parse(raw).map(|_| ())
}

static PARAMS: &[ParamSpec] = &[
    ParamSpec::new(
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
    .check(check_hostname),
    ParamSpec::new(
        "lease_time",
        "NFSv4 lease time in seconds",
        "How long a client's state lives without renewal. Clients renew after 2/3 of it, so \
         a short lease turns ordinary network or scheduling delays into lost state and \
         EIO. The kernel accepts 10 to 3600; nfsha refuses values below 30 (SUSE strongly \
         discourages them) and warns below 60. Applied before the nfsd threads start \
         (the kernel refuses a change while they run). Note: clients wait up to a grace \
         period after every failover; NFSv4.1+ ends grace early once all clients reclaimed.",
    )
    .integer(1, 86_400)
    .default("90"),
    ParamSpec::new(
        "grace_time",
        "NFSv4 grace period in seconds (default: lease_time)",
        "How long after a start clients may reclaim state and no new state is granted. It \
         must not be shorter than lease_time: a client may only notice the failover when \
         its lease is due, and must still be inside grace then. Default: lease_time.",
    )
    .integer(1, 86_400),
    ParamSpec::new(
        "nfs_versions",
        "NFS versions to offer (comma-separated: 3, 4.0, 4.1, 4.2)",
        "Default 4.1,4.2: the versions whose state recovery works across a failover with a \
         fixed server_hostname and that end grace early. 4.0 identifies the server by \
         address only; 3 needs statd, NSM notification and NLM locks, whose state lives in \
         state_directory/statd. Both are accepted with a warning.",
    )
    .default("4.1,4.2")
    .check(check_versions),
    ParamSpec::new("threads", "Number of nfsd threads", "Passed to rpc.nfsd.")
        .integer(1, 4096)
        .default("8"),
    ParamSpec::new(
        "state_directory",
        "The nfsstate directory (client-tracking state on DRBD)",
        "The directory of the nfsstate resource ordered before this one. Start refuses \
         (\"ordering: …\") unless it is mounted, writable and on a DRBD device that is \
         Primary on this node: nfsd started without its client record would refuse every \
         reclaim. Also used for the legacy v4recovery directory and statd's state.",
    )
    .required()
    .check(absolute_path),
    ParamSpec::new(
        "allow_clone",
        "Allow running as a clone (not recommended)",
        "An NFS server must run on one node only and be started fresh on failover: the \
         grace period in which clients reclaim their locks is only offered when nfsd starts. \
         A cloned nfsserver keeps running on the surviving node, so clients of a moved \
         export get no grace period and lose their locks. Start refuses to run as a clone \
         unless this is true.",
    )
    .boolean()
    .default("false"),
];

static SPEC: AgentSpec = AgentSpec {
    name: "nfsserver",
    shortdesc: "Kernel NFS server on one node with a fixed hostname, lease and grace",
    longdesc: "Starts the kernel NFS server fresh on one node: rpc.nfsd runs in a new UTS \
        namespace with server_hostname, so NFSv4.1+ clients see the same server on every \
        node and can reclaim their state; lease and grace time are validated and applied \
        before the threads start. Through systemd (nfs-server.service with the drop-in \
        written by `nfsha dropin`) when systemd runs, directly (rpc.mountd, nfsdcld, \
        rpc.statd for NFSv3, rpc.nfsd) otherwise. Start refuses unless state_directory \
        (nfsstate) is mounted on a Primary DRBD device. Monitor reads /proc/fs/nfsd and \
        the process table only. Stop ends nfsd and the helper daemons and unmounts nothing. \
        Group order: nfsstate, nfsserver, exportfs, vip.",
    params: PARAMS,
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
}

/// Lease and grace rules; warnings go to the log. Also used by `nfsha dropin`.
pub fn check_lease_grace(lease: u32, grace: u32) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    for (name, v) in [("lease_time", lease), ("grace_time", grace)] {
        if !(10..=3600).contains(&v) {
            return Err(format!(
                "parameter {name}=\"{v}\" is invalid: the kernel accepts 10 to 3600 seconds"
            ));
        }
    }
    if lease < 30 {
        return Err(format!(
            "parameter lease_time=\"{lease}\" is invalid: below 30 s, ordinary network or \
             scheduling delays make clients miss their renewal and lose their state (EIO); \
             use 60 or more (90 is the default)"
        ));
    }
    if lease < 60 {
        warnings.push(format!(
            "lease_time={lease} is below 60 s: clients renew after 2/3 of it, leaving {} s for \
             a renewal to complete; 90 is the default",
            lease / 3
        ));
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
        .filter(|v| **v == "3" || **v == "4.0")
        .map(|v| {
            format!(
                "nfs_versions offers {v}: {}",
                if *v == "3" {
                    "NFSv3 locks (NLM) recover through statd notification, not NFSv4 state; keep state_directory/statd in nfs.conf"
                } else {
                    "NFSv4.0 does not end grace early and identifies the server by address only; prefer 4.1 and 4.2"
                }
            )
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
    let want = format!("{}/statd", cfg.state_directory.display());
    (cfg.has("3") && get("statd", "state-directory-path").as_deref() != Some(want.as_str()))
        .then(|| format!("[statd] state-directory-path={want}"))
}

pub fn config(ctx: &Ctx) -> OcfResult<Config> {
    let p = &ctx.params;
    check_clone(ctx.is_clone(), p.bool("allow_clone")).map_err(OcfError::configured)?;
    let lease = p.int("lease_time").unwrap_or(90) as u32;
    let grace = p.int("grace_time").map(|g| g as u32).unwrap_or(lease);
    let warnings = check_lease_grace(lease, grace).map_err(OcfError::configured)?;
    let raw = p.str("nfs_versions").unwrap_or("4.1,4.2");
    let versions = versions::parse(raw).map_err(|e| {
        OcfError::configured(format!("parameter nfs_versions={raw:?} is invalid: {e}"))
    })?;
    let hostname = p.str("server_hostname").map(str::to_string);
    check_hostname_needed(hostname.as_deref(), &versions).map_err(OcfError::configured)?;
    if ctx.action != crate::ocf::Action::Stop {
        for w in &warnings {
            tracing::warn!("{w}");
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
        threads: p.int("threads").unwrap_or(8) as u32,
        state_directory: PathBuf::from(p.str("state_directory").unwrap_or("/")),
    })
}

/// systemd is the running init (it creates `/run/systemd/system`).
fn systemd_running(sys: &dyn System) -> bool {
    sys.exists(&sys.paths().run_systemd)
}

fn marker(ctx: &Ctx) -> PathBuf {
    nfs::marker(ctx.sys, "nfsserver", "state")
}

/// The `rpc.nfsd` arguments for `cfg` (after the program name).
pub fn rpc_nfsd_args(cfg: &Config) -> Vec<String> {
    let mut a = vec![
        "-L".to_string(),
        cfg.lease.to_string(),
        "-G".to_string(),
        cfg.grace.to_string(),
    ];
    for v in versions::VERSIONS {
        a.push(if cfg.has(v) { "-V" } else { "-N" }.to_string());
        a.push(v.to_string());
    }
    a.push(cfg.threads.to_string());
    a
}

/// `argv` run in a new UTS namespace with the host name `name`.
pub fn in_uts_namespace(name: &str, argv: &[String]) -> Cmd {
    Cmd::new("unshare")
        .args(["--uts", "--"])
        .arg(sys::self_exe().to_string_lossy())
        .args(["internal-sethostname-exec", name, "--"])
        .args(argv.iter().cloned())
}

/// What the drop-in on this node sets: (host name, lease, grace).
pub fn parse_dropin(text: &str) -> Option<(String, Option<u32>, Option<u32>)> {
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|l| l.starts_with("ExecStart=") && l.contains("internal-sethostname-exec"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let i = words
        .iter()
        .position(|w| *w == "internal-sethostname-exec")?;
    let name = words.get(i + 1)?.to_string();
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .and_then(|j| words.get(j + 1))
            .and_then(|v| v.parse().ok())
    };
    Some((name, after("-L"), after("-G")))
}

/// nfs.conf `[nfsd]` lines that differ from `cfg` (systemd mode: rpc.nfsd
/// reads threads and versions from there). `get` reads a `[nfsd]` tag; the
/// lint passes its own view of nfs.conf, so both refuse the same file.
pub fn nfs_conf_mismatches(get: &dyn Fn(&str) -> Option<String>, cfg: &Config) -> Vec<String> {
    let mut wrong = Vec::new();
    let threads = get("threads")
        .and_then(|t| t.parse::<u32>().ok())
        .unwrap_or(8);
    if threads != cfg.threads {
        wrong.push(format!("threads={}", cfg.threads));
    }
    for v in versions::VERSIONS {
        let on = versions::conf_offers(get, v);
        if on != cfg.has(v) {
            wrong.push(format!("vers{v}={}", if cfg.has(v) { "y" } else { "n" }));
        }
    }
    wrong
}

/// Everything start checks on this node before touching nfsd; returns
/// nfs.conf as read for the checks, for the start to use.
fn preflight(ctx: &Ctx, cfg: &Config) -> OcfResult<NfsConf> {
    let dir = &cfg.state_directory;
    let conf = NfsConf::load(ctx.sys);
    nfsstate::check_nfs_conf(ctx, &conf, dir)?;
    if let Some(set) = statd_conf_wrong(&|s, k| conf.get(s, k).map(str::to_string), cfg) {
        return Err(OcfError::new(
            Rc::ErrArgs,
            format!(
                "nfs_versions offers 3, but {} does not keep statd's state on the state \
                 directory; set {set}",
                ctx.sys.paths().nfs_conf.display()
            ),
        ));
    }
    if systemd_running(ctx.sys) {
        let path = ctx.sys.paths().nfs_server_dropin();
        let fix = format!(
            "run `nfsha dropin --hostname {} --lease {} --grace {}` on this node",
            cfg.hostname.as_deref().unwrap_or("<server_hostname>"),
            cfg.lease,
            cfg.grace
        );
        let text = ctx
            .sys
            .read_to_string(&path)
            .map_err(|e| OcfError::new(Rc::ErrArgs, format!("{}: {e}; {fix}", path.display())))?;
        let (name, lease, grace) = parse_dropin(&text).ok_or_else(|| {
            OcfError::new(
                Rc::ErrArgs,
                format!(
                    "{} does not start rpc.nfsd under a fixed host name; {fix}",
                    path.display()
                ),
            )
        })?;
        if Some(name.as_str()) != cfg.hostname.as_deref()
            || lease != Some(cfg.lease)
            || grace != Some(cfg.grace)
        {
            return Err(OcfError::new(
                Rc::ErrArgs,
                format!(
                    "{} sets host name {name}, lease {}, grace {}, but the resource says {}, {}, {}; {fix}",
                    path.display(),
                    lease.map_or("unset".into(), |l| l.to_string()),
                    grace.map_or("unset".into(), |g| g.to_string()),
                    cfg.hostname.as_deref().unwrap_or("unset"),
                    cfg.lease,
                    cfg.grace
                ),
            ));
        }
        let wrong = nfs_conf_mismatches(&|tag| conf.get("nfsd", tag).map(str::to_string), cfg);
        if !wrong.is_empty() {
            return Err(OcfError::new(
                Rc::ErrArgs,
                format!(
                    "with systemd, rpc.nfsd reads threads and versions from nfs.conf, which \
                     disagrees with the resource; set in [nfsd]: {}",
                    wrong.join(", ")
                ),
            ));
        }
    }
    Ok(conf)
}

/// The ordering check: nfsstate's directory is mounted and Primary here.
pub fn check_state_ready(ctx: &Ctx, dir: &Path) -> Result<(), Problem> {
    let nfsstate_marker = nfs::marker(ctx.sys, "nfsstate", &dir.to_string_lossy());
    let unreplicated_ok = nfs::read_marker(ctx.sys, &nfsstate_marker)
        .and_then(|m| m.get("backing").cloned())
        .is_some_and(|b| b.starts_with("unreplicated:"));
    storage::check_state_dir(ctx.sys, ctx.deadline, dir, None, unreplicated_ok).map(|_| ())
}

/// The command name of a live process from `/proc/<pid>/stat`
/// (`pid (comm) S …`); `None` for a zombie, which keeps its name until its
/// parent (init, for our detached daemons) reaps it but serves nothing.
fn live_comm(sys: &dyn System, pid: u32) -> Option<String> {
    let stat = sys
        .read_to_string(&sys.paths().proc.join(pid.to_string()).join("stat"))
        .ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let state = stat.get(close + 1..)?.split_whitespace().next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    Some(stat.get(open + 1..close)?.to_string())
}

/// Live processes by pid and command name.
fn processes(sys: &dyn System) -> Vec<(u32, String)> {
    let proc = sys.paths().proc.clone();
    sys.list_dir(&proc)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| n.parse::<u32>().ok())
        .filter_map(|pid| live_comm(sys, pid).map(|c| (pid, c)))
        .collect()
}

/// Process `pid` lives and is called `name`.
fn comm_is(sys: &dyn System, pid: u32, name: &str) -> bool {
    live_comm(sys, pid).is_some_and(|c| c == name)
}

/// The `name:pid` list a start recorded in the marker.
fn recorded_pids(m: &std::collections::BTreeMap<String, String>) -> Vec<(String, u32)> {
    m.get("pids")
        .map(|p| {
            p.split(',')
                .filter_map(|e| e.split_once(':'))
                .filter_map(|(n, p)| Some((n.to_string(), p.parse().ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn alive(sys: &dyn System, pid: u32, name: &str) -> bool {
    sys.read_to_string(&sys.paths().proc.join(pid.to_string()).join("cmdline"))
        .is_ok_and(|c| c.contains(name))
}

/// The helper daemons of direct mode: (name, argv).
fn daemons(cfg: &Config, sys: &dyn System) -> Vec<(&'static str, Vec<String>)> {
    let dir = cfg.state_directory.display();
    let mut d = vec![("rpc.mountd", vec!["rpc.mountd".into(), "-F".into()])];
    if cfg.has("3") {
        d.push((
            "rpc.statd",
            vec![
                "rpc.statd".into(),
                "-F".into(),
                "--no-notify".into(),
                "-P".into(),
                format!("{dir}/statd"),
            ],
        ));
    }
    if sys.has_program("nfsdcld") {
        d.push((
            "nfsdcld",
            vec![
                "nfsdcld".into(),
                "-F".into(),
                "-s".into(),
                format!("{dir}/nfsdcld"),
            ],
        ));
    }
    d
}

fn write_nfsd(ctx: &Ctx, name: &str, value: &str) -> OcfResult {
    let path = ctx.sys.paths().nfsd(name);
    ctx.sys
        .write(&path, format!("{value}\n").as_bytes())
        .map_err(|e| OcfError::generic(format!("cannot write {value} to {}: {e}", path.display())))
}

/// nfsdcld talks to the kernel through rpc_pipefs; without systemd nobody
/// else mounts it. Mounted once and left mounted (it holds no data and other
/// NFS services use it too), so stop never has to unmount it.
fn ensure_pipefs(ctx: &Ctx, conf: &NfsConf) -> OcfResult {
    let dir = conf
        .get("general", "pipefs-directory")
        .unwrap_or("/var/lib/nfs/rpc_pipefs")
        .to_string();
    let table = storage::mount_table(ctx.sys).map_err(|p| OcfError::generic(p.message()))?;
    if crate::sys::mounts::at(&table, Path::new(&dir)).is_some_and(|m| m.fstype == "rpc_pipefs") {
        return Ok(());
    }
    let filesystems = ctx
        .sys
        .read_to_string(&ctx.sys.paths().proc.join("filesystems"))
        .unwrap_or_default();
    if !filesystems.split_whitespace().any(|f| f == "rpc_pipefs") {
        tracing::warn!(
            "this kernel has no rpc_pipefs (sunrpc not loaded?): nfsdcld cannot reach nfsd, \
             which then tracks clients with nfsdcltrack (also on the state directory)"
        );
        return Ok(());
    }
    util::run_ok(
        ctx,
        &Cmd::new("mkdir").args(["-p", &dir]),
        ctx.deadline,
        "coreutils",
    )?;
    util::run_ok(
        ctx,
        &Cmd::new("mount").args(["-t", "rpc_pipefs", "sunrpc", &dir]),
        ctx.deadline,
        "mount",
    )?;
    tracing::info!("mounted rpc_pipefs on {dir} for nfsdcld");
    Ok(())
}

fn start_direct(
    ctx: &Ctx,
    cfg: &Config,
    conf: &NfsConf,
    hostname: &str,
) -> OcfResult<Vec<(String, u32)>> {
    let p = ctx.sys.paths();
    if nfs::threads(ctx.sys).is_none() {
        let _ = util::run(ctx, &Cmd::new("modprobe").arg("nfsd"), ctx.deadline, "kmod");
        if nfs::threads(ctx.sys).is_none() {
            util::run_ok(
                ctx,
                &Cmd::new("mount").args(["-t", "nfsd", "nfsd", &p.proc_nfsd.to_string_lossy()]),
                ctx.deadline,
                "mount",
            )?;
        }
    }
    // Before any thread runs: the kernel answers EBUSY afterwards.
    write_nfsd(ctx, "nfsv4leasetime", &cfg.lease.to_string())?;
    write_nfsd(ctx, "nfsv4gracetime", &cfg.grace.to_string())?;
    if ctx.sys.exists(&p.nfsd("nfsv4recoverydir")) {
        let dir = format!("{}/v4recovery", cfg.state_directory.display());
        write_nfsd(ctx, "nfsv4recoverydir", &dir)?;
    }
    let daemons = daemons(cfg, ctx.sys);
    if daemons.iter().any(|(n, _)| *n == "nfsdcld") {
        ensure_pipefs(ctx, conf)?;
    }
    let mut started = Vec::new();
    let running = processes(ctx.sys);
    for (name, argv) in daemons {
        // Left over from a failed start, or started by hand: adopt it, so
        // monitor watches it and stop ends it like the ones started here.
        if let Some((pid, _)) = running.iter().find(|(_, c)| c == name) {
            tracing::warn!("{name} already runs (pid {pid}); adopting it");
            started.push((name.to_string(), *pid));
            continue;
        }
        let pid = ctx
            .sys
            .spawn_detached(&argv)
            .map_err(|e| OcfError::generic(format!("cannot start {name}: {e}")))?;
        started.push((name.to_string(), pid));
    }
    // Recorded before anything else can fail: a stop after a failed start
    // must still end them (nfsdcld holds its database on the state
    // directory, which nfsstate unmounts next).
    save_marker(ctx, false, hostname, &started)?;
    // Give them a moment to fail on bad configuration before nfsd relies on them.
    ctx.sys.sleep(Duration::from_millis(100));
    for (name, pid) in &started {
        if !alive(ctx.sys, *pid, name) {
            return Err(OcfError::generic(format!(
                "{name} (pid {pid}) exited right after it was started; see the system log"
            )));
        }
    }
    let mut argv = vec!["rpc.nfsd".to_string()];
    argv.extend(rpc_nfsd_args(cfg));
    util::run_ok(
        ctx,
        &in_uts_namespace(hostname, &argv),
        ctx.deadline,
        "nfs-kernel-server",
    )?;
    Ok(started)
}

/// Record how nfsd was started here (mode, host name, helper pids).
fn save_marker(ctx: &Ctx, systemd: bool, hostname: &str, pids: &[(String, u32)]) -> OcfResult {
    let pid_text: Vec<String> = pids.iter().map(|(n, p)| format!("{n}:{p}")).collect();
    let pairs = [
        (
            "mode",
            if systemd { "systemd" } else { "direct" }.to_string(),
        ),
        ("hostname", hostname.to_string()),
        ("pids", pid_text.join(",")),
    ];
    nfs::write_marker(ctx.sys, &marker(ctx), &pairs)
        .map_err(|e| OcfError::generic(format!("cannot write the resource marker: {e}")))
}

fn systemctl(ctx: &Ctx, args: &[&str]) -> OcfResult {
    util::run_ok(
        ctx,
        &Cmd::new("systemctl").args(args.iter().copied()),
        ctx.deadline,
        "systemd",
    )
    .map(|_| ())
}

/// Units stopped after nfs-server: nfsdcld and statd keep files open on the
/// state directory, which nfsstate must unmount next.
fn helper_units(v3: bool) -> Vec<&'static str> {
    let mut u = vec!["nfs-mountd.service", "nfsdcld.service"];
    if v3 {
        u.push("rpc-statd.service");
    }
    u
}

fn wait_threads_gone(ctx: &Ctx) -> OcfResult {
    let until = ctx.sys.now() + Duration::from_secs(10);
    loop {
        match nfs::threads(ctx.sys) {
            None | Some(0) => return Ok(()),
            Some(n) if ctx.sys.now() >= until || ctx.deadline.passed() => {
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
        if ctx.action == crate::ocf::Action::ValidateAll && ctx.check_level >= 10 {
            preflight(ctx, &cfg)?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        if nfs::running(ctx.sys) {
            if ctx.sys.exists(&marker(ctx)) {
                return Ok(());
            }
            return Err(OcfError::generic(
                "nfsd is already running on this node but was not started by the cluster (at \
                 boot?): it runs under this node's own host name, without the cluster's state \
                 directory, and offers no grace period to the clients of a failover; stop it \
                 (`systemctl stop nfs-server`, and `systemctl disable nfs-server`) and let \
                 nfsserver start it",
            ));
        }
        check_state_ready(ctx, &cfg.state_directory).map_err(|p| {
            OcfError::ordering(format!(
                "{}; nfsstate must be started before nfsserver",
                p.message()
            ))
        })?;
        let conf = preflight(ctx, &cfg)?;
        // v4.0/v3-only servers have no server scope to fix.
        let hostname = cfg.hostname.clone().unwrap_or_else(|| {
            nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let systemd = systemd_running(ctx.sys);
        let pids = if systemd {
            let allow = ctx.sys.paths().nfs_server_allow();
            ctx.sys
                .write(&allow, b"nfsha nfsserver\n")
                .map_err(|e| OcfError::generic(format!("cannot write {}: {e}", allow.display())))?;
            systemctl(ctx, &["start", "nfs-server.service"])?;
            // Remember systemd's daemons so monitor need not scan /proc.
            processes(ctx.sys)
                .into_iter()
                .filter(|(_, c)| matches!(c.as_str(), "rpc.mountd" | "nfsdcld" | "rpc.statd"))
                .map(|(p, c)| (c, p))
                .collect()
        } else {
            start_direct(ctx, &cfg, &conf, &hostname)?
        };
        save_marker(ctx, systemd, &hostname, &pids)?;
        match nfs::threads(ctx.sys) {
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

    fn stop(&self, ctx: &Ctx) -> OcfResult {
        let v3 = ctx
            .params
            .str("nfs_versions")
            .is_some_and(|v| versions::parse(v).is_ok_and(|v| v.contains(&"3")));
        crate::ordering::before_nfsserver_stop(ctx);
        let m = nfs::read_marker(ctx.sys, &marker(ctx)).unwrap_or_default();
        let systemd = match m.get("mode").map(String::as_str) {
            Some("direct") => false,
            Some(_) => true,
            None => systemd_running(ctx.sys),
        };
        if systemd {
            let _ = ctx.sys.remove_file(&ctx.sys.paths().nfs_server_allow());
            systemctl(ctx, &["stop", "nfs-server.service"])?;
            // The helpers one by one: a unit this distribution does not have
            // (or that is already gone) must not fail the stop.
            for unit in helper_units(v3) {
                let cmd = Cmd::new("systemctl").args(["stop", unit]);
                match util::run(ctx, &cmd, ctx.deadline, "systemd") {
                    Ok(out) if out.success() => {}
                    Ok(out) => tracing::warn!("`{}`: {}", cmd.display(), out.failure_text()),
                    Err(e) => tracing::warn!("`{}`: {}", cmd.display(), e.reason),
                }
            }
        } else {
            if nfs::running(ctx.sys) {
                util::run_ok(
                    ctx,
                    &Cmd::new("rpc.nfsd").arg("0"),
                    ctx.deadline,
                    "nfs-kernel-server",
                )?;
            }
            let pids = recorded_pids(&m);
            for (name, pid) in &pids {
                if alive(ctx.sys, *pid, name) {
                    let _ = ctx.sys.kill(*pid, libc::SIGTERM);
                }
            }
            let until = ctx.sys.now() + Duration::from_secs(5);
            while pids.iter().any(|(n, p)| alive(ctx.sys, *p, n))
                && ctx.sys.now() < until
                && !ctx.deadline.passed()
            {
                ctx.sys.sleep(Duration::from_millis(50));
            }
            for (name, pid) in &pids {
                if alive(ctx.sys, *pid, name) {
                    tracing::warn!("{name} (pid {pid}) ignored SIGTERM; killing it");
                    let _ = ctx.sys.kill(*pid, libc::SIGKILL);
                }
            }
        }
        wait_threads_gone(ctx)?;
        let _ = ctx.sys.remove_file(&marker(ctx));
        tracing::info!("nfsd stopped");
        Ok(())
    }

    fn monitor(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        let threads = nfs::threads(ctx.sys).unwrap_or(0);
        if threads == 0 {
            return Err(OcfError::not_running("nfsd has no threads"));
        }
        let m = nfs::read_marker(ctx.sys, &marker(ctx));
        let Some(m) = m else {
            tracing::warn!("nfsd runs here but was not started by nfsserver");
            return Ok(());
        };
        let recorded = recorded_pids(&m);
        let cld_expected = recorded.iter().any(|(n, _)| n == "nfsdcld")
            || (m.get("mode").map(String::as_str) == Some("systemd")
                && ctx.sys.has_program("nfsdcld"));
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
        let mut table: Option<Vec<(u32, String)>> = None;
        let mut missing = Vec::new();
        for (name, why) in expected {
            let by_pid = recorded
                .iter()
                .any(|(n, pid)| n == name && comm_is(ctx.sys, *pid, name));
            if !by_pid
                && !table
                    .get_or_insert_with(|| processes(ctx.sys))
                    .iter()
                    .any(|(_, c)| c == name)
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
        let lease = nfs::read_number(ctx.sys, "nfsv4leasetime");
        let grace = nfs::read_number(ctx.sys, "nfsv4gracetime");
        for (name, want, got) in [("lease", cfg.lease, lease), ("grace", cfg.grace, grace)] {
            if let Some(got) = got.filter(|g| *g != want) {
                tracing::warn!(
                    "nfsd runs with {name} time {got} s, but {name}_time={want}; it takes effect at the next start"
                );
            }
        }
        let versions = ctx
            .sys
            .read_to_string(&ctx.sys.paths().nfsd("versions"))
            .map(|v| nfs::enabled_versions(&v))
            .unwrap_or_default();
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
            m.get("hostname").map(String::as_str).unwrap_or("?"),
            lease.map_or("?".into(), |l| l.to_string()),
            grace.map_or("?".into(), |g| g.to_string()),
        );
        Ok(())
    }
}

/// `nfsha internal-sethostname-exec NAME -- PROGRAM ARGS…`: set the host
/// name and exec the program. Refuses unless this process is in a UTS
/// namespace of its own (under `unshare --uts`), so it can never rename the
/// node itself.
pub fn sethostname_exec(name: &str, argv: &[OsString]) -> i32 {
    use std::os::unix::process::CommandExt;
    if let Err(e) = check_hostname(name) {
        eprintln!("nfsha internal-sethostname-exec: {name:?}: {e}");
        return 2;
    }
    let ours = std::fs::read_link("/proc/self/ns/uts");
    // The init process's namespace is the node's; where /proc/1 is hidden
    // (hardened or nested setups), the caller's: `unshare` execs us in place,
    // so our parent is whoever asked for the new namespace.
    let node = std::fs::read_link("/proc/1/ns/uts").or_else(|_| {
        std::fs::read_link(format!(
            "/proc/{}/ns/uts",
            std::os::unix::process::parent_id()
        ))
    });
    match (&ours, &node) {
        (Ok(a), Ok(b)) if a != b => {}
        _ => {
            eprintln!(
                "nfsha internal-sethostname-exec: refusing to set the host name: not in a UTS \
                 namespace of its own (run it under `unshare --uts`)"
            );
            return 1;
        }
    }
    if let Err(e) = nix::unistd::sethostname(name) {
        eprintln!("nfsha internal-sethostname-exec: sethostname({name}): {e}");
        return 1;
    }
    let Some((prog, rest)) = argv.split_first() else {
        eprintln!("nfsha internal-sethostname-exec: no program to run");
        return 2;
    };
    let err = std::process::Command::new(prog).args(rest).exec();
    eprintln!(
        "nfsha internal-sethostname-exec: {}: {err}",
        prog.to_string_lossy()
    );
    127
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::{fail, ok, Fake};
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
        f.file("/proc/40001/cmdline", "rpc.mountd\0-F\0");
        f.file("/proc/40002/cmdline", "nfsdcld\0-F\0");
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
        crate::agents::util::run_agent(&NfsServer, f, action, params, meta)
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = BASE.to_vec();
        for (k, val) in extra {
            v.retain(|(n, _)| n != k);
            v.push((k, val));
        }
        v
    }

    #[test]
    fn lease_and_grace_rules() {
        assert!(check_lease_grace(90, 90).unwrap().is_empty());
        assert_eq!(
            check_lease_grace(45, 45).unwrap().len(),
            1,
            "warning below 60"
        );
        assert!(check_lease_grace(20, 90)
            .unwrap_err()
            .contains("below 30 s"));
        assert!(check_lease_grace(5, 90).unwrap_err().contains("10 to 3600"));
        assert!(check_lease_grace(90, 4000)
            .unwrap_err()
            .contains("grace_time=\"4000\""));
        assert!(check_lease_grace(90, 60)
            .unwrap_err()
            .contains("shorter than lease_time=90"));
        let f = node();
        let (rc, err) = go(&f, "validate-all", &with(&[("lease_time", "20")]));
        assert_eq!(rc, 6);
        assert!(
            err.contains("lease_time=\"20\" is invalid: below 30 s"),
            "{err}"
        );
        let (rc, err) = go(&f, "validate-all", &with(&[("lease_time", "120")]));
        assert_eq!(rc, 0, "grace defaults to lease: {err}");
        assert_eq!(
            go(
                &f,
                "validate-all",
                &with(&[("lease_time", "120"), ("grace_time", "100")])
            )
            .0,
            6
        );
        assert_eq!(
            go(
                &f,
                "validate-all",
                &with(&[("lease_time", "60"), ("grace_time", "90")])
            )
            .0,
            0
        );
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
        f.file("/proc/500/stat", "500 (rpc.mountd) S 1 500 500 0");
        f.file("/proc/501/stat", "501 (nfsdcld) S 1 501 501 0");
        assert_eq!(go(&f, "monitor", BASE).0, 0);
        // A zombie is not a running daemon.
        f.file("/proc/501/stat", "501 (nfsdcld) Z 1 501 501 0");
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

        assert_eq!(go(&f, "stop", BASE).0, 0);
        assert!(f.file_content("/run/nfsha/nfs-server.allow").is_none());
        let stops: Vec<String> = f
            .commands()
            .into_iter()
            .filter(|c| c.starts_with("systemctl stop"))
            .collect();
        assert_eq!(
            stops,
            [
                "systemctl stop nfs-server.service",
                "systemctl stop nfs-mountd.service",
                "systemctl stop nfsdcld.service"
            ]
        );
        assert!(!f.commands().iter().any(|c| c.starts_with("umount")));
    }

    #[test]
    fn systemd_stop_survives_a_missing_helper_unit() {
        let f = systemd_node();
        f.file("/proc/fs/nfsd/threads", "8\n");
        f.respond(|c| {
            (c.display() == "systemctl stop nfsdcld.service")
                .then(|| {
                    fail(
                        5,
                        "Failed to stop nfsdcld.service: Unit nfsdcld.service not loaded.",
                    )
                })
                .flatten()
        });
        assert_eq!(go(&f, "stop", BASE).0, 0);
        // But nfs-server itself failing to stop is an error.
        let f = systemd_node();
        f.file("/proc/fs/nfsd/threads", "8\n");
        f.respond(|c| {
            (c.display() == "systemctl stop nfs-server.service")
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
        f.file("/proc/40002/cmdline", "rpc.statd\0");
        f.file("/proc/40003/cmdline", "nfsdcld\0");
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
        let f = node();
        assert_eq!(go(&f, "start", BASE).0, 0);
        f.file("/proc/500/stat", "500 (rpc.mountd) S 1 500 500 0");
        f.file("/proc/501/stat", "501 (nfsdcld) S 1 501 501 0");
        f.file("/proc/fs/nfsd/nfsv4leasetime", "60\n");
        f.file("/proc/fs/nfsd/versions", "+3 +4 +4.0 +4.1 +4.2\n");
        assert_eq!(go(&f, "monitor", BASE).0, 0);
    }
}
