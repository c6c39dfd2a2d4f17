//! `ocf:nfsha:nfsstate` — the NFSv4 client-tracking state on replicated
//! storage, the first member of the NFS group.
//!
//! The kernel's nfsd remembers which clients hold state in nfsdcld's
//! database (or nfsdcltrack's, or the legacy `v4recovery` directory); after
//! a failover only clients recorded there may reclaim their opens and locks.
//! So that record must live on storage that moves with the group — DRBD —
//! and nfsd must be pointed at it before its threads start.
//!
//! Design: nfs-utils is pointed at the state directory through `nfs.conf`
//! (`[nfsdcld] storagedir`, `[nfsdcltrack] storagedir`, and for NFSv3
//! `[statd] state-directory-path`), not by bind-mounting it over
//! `/var/lib/nfs`. Nothing is stacked on `/var/lib/nfs`, so no stop ever has
//! to unmount a directory another resource or rpc_pipefs may hold, `etab`
//! and `rmtab` stay node-local (a stale `etab` from the other node never
//! looks like an active export), and a node whose `nfs.conf` disagrees is
//! refused at start instead of silently tracking clients on its local disk.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::agents::storage::{self, Backing, Problem, SUBDIRS};
use crate::agents::{exec, release};
use crate::nfs::markers::{self, StateMarker};
use crate::nfs::NfsConf;
use crate::ocf::params::{absolute_path, no_shell_metachars};
use crate::ocf::{Action, Agent, AgentSpec, Ctx, OcfError, OcfResult, ParamSpec, Timeouts};
use crate::sys::{mounts, Cmd};

pub struct NfsState;

fn check_resource(raw: &str) -> Result<(), String> {
    if raw.is_empty()
        || !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-%+./:=@_".contains(c))
        || raw.contains("..")
    {
        return Err("expected a DRBD resource name (letters, digits and -%+./:=@_)".into());
    }
    Ok(())
}

fn check_fstype(raw: &str) -> Result<(), String> {
    if raw.is_empty()
        || !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err("expected a filesystem type such as ext4 or xfs".into());
    }
    Ok(())
}

/// Mount options: a comma-separated list without shell syntax or `..`.
pub fn check_mount_options(raw: &str) -> Result<(), String> {
    no_shell_metachars(raw)?;
    if raw.contains("..") {
        return Err("'..' is not allowed here".into());
    }
    if raw.split(',').any(str::is_empty) {
        return Err("expected a comma-separated list without empty entries".into());
    }
    Ok(())
}

const DIRECTORY: ParamSpec = ParamSpec::new(
    "directory",
    "State directory on replicated storage (e.g. /srv/nfs-state)",
    "The directory that holds the NFS server's client-tracking state: nfsdcld's \
     database (nfsdcld/), nfsdcltrack's (nfsdcltrack/), the legacy v4recovery/ \
     directory and, for NFSv3, statd's sm/ and sm.bak/ (statd/). It must be on a \
     filesystem on a DRBD device that is Primary on this node, so the record of which \
     clients may reclaim their locks moves with the NFS group. nfs.conf on every node \
     must point there: [nfsdcld] storagedir=<directory>/nfsdcld and [nfsdcltrack] \
     storagedir=<directory>/nfsdcltrack (start refuses otherwise; see examples/nfs.conf). \
     The same value goes into nfsserver's state_directory.",
)
.required()
.unique()
.check(absolute_path);

const DEVICE: ParamSpec = ParamSpec::new(
    "device",
    "Block device to mount on directory (e.g. /dev/drbd0)",
    "When set, start mounts this device on directory and stop unmounts it again. When \
     unset, directory must already be on a mounted filesystem (an ocf:heartbeat:Filesystem \
     resource ordered before nfsstate), and nfsstate never unmounts anything.",
)
.unique()
.check(absolute_path);

const DRBD_RESOURCE: ParamSpec = ParamSpec::new(
    "drbd_resource",
    "DRBD resource name, to cross-check the device",
    "The DRBD resource (as in drbd.conf) the state filesystem lives on. Optional: the \
     device is found from the mount table. When set, DRBD 9 must report the device as \
     part of this resource, and on DRBD 8.4 `drbdadm role <resource>` is asked when \
     /proc/drbd does not list the device.",
)
.check(check_resource);

const FSTYPE: ParamSpec = ParamSpec::new(
    "fstype",
    "Filesystem type of device",
    "Passed to mount -t. Only used with device.",
)
.default("ext4")
.check(check_fstype);

const OPTIONS: ParamSpec = ParamSpec::new(
    "options",
    "Mount options for device (comma-separated)",
    "Passed to mount -o. Only used with device.",
)
.check(check_mount_options);

const ALLOW_UNREPLICATED: ParamSpec = ParamSpec::new(
    "allow_unreplicated",
    "Accept storage that is not DRBD",
    "Start refuses a state directory that is not on a DRBD device, because state on a \
     local disk does not follow the group and every failover then loses all client \
     locks. Set this to true only when the filesystem is shared some other way (a SAN \
     LUN, multipath) and moves with the group. The root filesystem is never accepted.",
)
.boolean()
.default("false");

const FORCE_UNMOUNT: ParamSpec = ParamSpec::new(
    "force_unmount",
    "End processes that keep the state filesystem busy at stop",
    "Only with device. When the unmount at stop finds the filesystem busy, end the \
     processes that use it (working directory, open files, mappings; found from /proc \
     links without touching the filesystem): SIGTERM, then SIGKILL after 5 s, as \
     ocf:heartbeat:Filesystem's force_unmount does. The filesystem holds only the NFS \
     server's state, and the alternative is a failed stop, after which Pacemaker fences \
     the node. With false, a busy filesystem fails the stop after 20 s of retries.",
)
.boolean()
.default("true");

static PARAMS: &[ParamSpec] = &[
    DIRECTORY,
    DEVICE,
    DRBD_RESOURCE,
    FSTYPE,
    OPTIONS,
    ALLOW_UNREPLICATED,
    FORCE_UNMOUNT,
];

static SPEC: AgentSpec = AgentSpec {
    name: "nfsstate",
    shortdesc: "NFSv4 client-tracking state on DRBD (first member of the NFS group)",
    longdesc: "Keeps the NFS server's client-tracking state (nfsdcld/nfsdcltrack databases, \
        v4recovery, statd's NSM state) on a DRBD-backed filesystem that moves with the NFS \
        group, so that clients can reclaim their opens and locks after a failover. Start \
        checks that the filesystem is on a DRBD device in the Primary role on this node \
        (DRBD 9 via drbdsetup status --json, DRBD 8.4 via /proc/drbd or drbdadm role), \
        mounts it when device is set, creates the subdirectories with the owners the \
        daemons expect, and checks that nfs.conf points nfs-utils at them. Monitor checks \
        that it is still mounted, writable and Primary. Stop unmounts only what this \
        resource mounts (device set), never a filesystem another resource owns; a process \
        that keeps it busy is ended first (force_unmount). \
        Group order: nfsstate, nfsserver, exportfs, vip.",
    params: PARAMS,
    refused: &[],
    timeouts: Timeouts {
        start: Duration::from_secs(60),
        stop: Duration::from_secs(60),
        monitor: Duration::from_secs(20),
        monitor_interval: Duration::from_secs(20),
        validate: Duration::from_secs(20),
    },
    monitor_depths: &[10],
};

struct Config {
    directory: PathBuf,
    device: Option<String>,
    resource: Option<String>,
    fstype: String,
    options: Option<String>,
    allow_unreplicated: bool,
    force_unmount: bool,
}

fn config(ctx: &Ctx) -> OcfResult<Config> {
    let p = &ctx.params;
    let device: Option<String> = p.get(&DEVICE);
    if device.is_none() {
        for spec in [FSTYPE, OPTIONS] {
            if p.is_given(spec.name) {
                return Err(OcfError::configured(format!(
                    "parameter {}={:?} is only used with device=, which is not set",
                    spec.name,
                    p.get::<&str>(&spec)
                )));
            }
        }
    }
    Ok(Config {
        directory: p.get(&DIRECTORY),
        device,
        resource: p.get(&DRBD_RESOURCE),
        fstype: p.get(&FSTYPE),
        options: p.get(&OPTIONS),
        allow_unreplicated: p.get(&ALLOW_UNREPLICATED),
        force_unmount: p.get(&FORCE_UNMOUNT),
    })
}

fn problem_to_error(p: Problem) -> OcfError {
    match p {
        Problem::NotMounted(m) => OcfError::ordering(format!(
            "{m}; order the Filesystem resource that mounts it before nfsstate, or set device="
        )),
        Problem::Unreplicated(m) => OcfError::configured(m),
        Problem::NotPrimary(m) | Problem::ReadOnly(m) | Problem::Unreadable(m) => {
            OcfError::generic(m)
        }
    }
}

/// The device path as the mount table records it (symlinks such as
/// `/dev/drbd/by-res/nfs/0` resolved; /dev cannot hang).
fn canonical_device(ctx: &Ctx, device: &str) -> String {
    ctx.sys
        .canonicalize(Path::new(device))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| device.to_string())
}

/// The mount at `directory` when it is the configured device's.
fn our_mount(ctx: &Ctx, cfg: &Config) -> OcfResult<Option<mounts::Mount>> {
    let Some(device) = &cfg.device else {
        return Ok(None);
    };
    let table = storage::mount_table(ctx.sys).map_err(problem_to_error)?;
    let Some(m) = mounts::at(&table, &cfg.directory) else {
        return Ok(None);
    };
    let canonical = canonical_device(ctx, device);
    if m.source == *device || m.source == canonical {
        Ok(Some(m.clone()))
    } else {
        Err(OcfError::generic(format!(
            "{} has {} mounted on it, not device={device:?}",
            cfg.directory.display(),
            m.source
        )))
    }
}

/// The statd user and its group id: Debian's `statd`, Red Hat's `rpcuser`.
fn statd_owner(ctx: &Ctx) -> Option<(String, String)> {
    let passwd = ctx.sys.read_to_string(&ctx.sys.paths().passwd).ok()?;
    ["statd", "rpcuser"].iter().find_map(|user| {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 3 && f[0] == *user).then(|| (f[0].to_string(), f[3].to_string()))
        })
    })
}

/// The subdirectories with their owners: one `install -d` per owner (each
/// program started costs time on a loaded node).
fn make_subdirs(ctx: &Ctx, dir: &Path) -> OcfResult {
    let statd = statd_owner(ctx);
    if statd.is_none() {
        tracing::warn!("no statd or rpcuser user on this node; statd/ stays owned by root");
    }
    // nfsdcld(8): the storage directory should be owned by root.
    let root = ["-m", "0700", "-o", "root", "-g", "root"].map(String::from);
    let statd_opts = statd
        .as_ref()
        .map(|(user, gid)| ["-m", "0755", "-o", user, "-g", gid].map(String::from));
    for by_statd in [false, true] {
        let opts = match (by_statd, &statd_opts) {
            (true, Some(o)) => o,
            _ => &root,
        };
        let dirs = SUBDIRS
            .iter()
            .filter(|(_, owned)| *owned == by_statd)
            .map(|(name, _)| dir.join(name).to_string_lossy().into_owned());
        let cmd = Cmd::new("install")
            .arg("-d")
            .args(opts.iter().cloned())
            .args(dirs);
        exec::run_ok(ctx, &cmd, ctx.deadline, "coreutils")?;
    }
    Ok(())
}

/// Unmount `dir`, retrying for up to 20 s while daemons exit. With `force`,
/// a busy answer first ends the processes that use the filesystem.
fn unmount(ctx: &Ctx, dir: &Path, force: bool) -> OcfResult {
    let until = ctx.step(Duration::from_secs(20));
    let cmd = Cmd::new("umount").arg(dir.to_string_lossy());
    let mut ended = false;
    loop {
        let out = exec::run(ctx, &cmd, ctx.deadline, "mount")?;
        if out.success() {
            tracing::info!("unmounted {}", dir.display());
            return Ok(());
        }
        if force && !ended {
            ended = true;
            release::end_holders(
                ctx,
                dir,
                &|_| true,
                "the state filesystem must be unmounted at stop (force_unmount=true)",
                Duration::from_secs(5),
            );
            continue;
        }
        // A daemon that held the database may take a moment to exit; never
        // run umount past the deadline (it would only time out).
        ctx.sys
            .sleep(Duration::from_millis(200).min(until.remaining(ctx.sys)));
        if until.passed(ctx.sys) {
            return Err(OcfError::generic(format!(
                "cannot unmount {}: {}",
                dir.display(),
                out.failure_text()
            )));
        }
    }
}

impl Agent for NfsState {
    fn spec(&self) -> &'static AgentSpec {
        &SPEC
    }

    fn validate(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        if ctx.action != Action::ValidateAll || ctx.check_level >= 10 {
            storage::check_nfs_conf(ctx.sys, &NfsConf::load(ctx.sys), &cfg.directory)?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        let mut mounted_here = false;
        let mut known = None;
        if let Some(device) = &cfg.device {
            if our_mount(ctx, &cfg)?.is_none() {
                let canonical = canonical_device(ctx, device);
                // Ask DRBD first: mounting a Secondary fails with a useless
                // "wrong medium type".
                if let Some(minor) = storage::drbd_minor(&canonical) {
                    let s =
                        storage::drbd_state(ctx.sys, ctx.deadline, minor, cfg.resource.as_deref())
                            .map_err(OcfError::generic)?;
                    if s.role != "Primary" {
                        return Err(OcfError::generic(format!(
                            "device={device:?} is {} on this node (per {}); DRBD must be promoted \
                             before nfsstate starts (order it after the promote of ocf:linbit:drbd)",
                            s.role, s.via
                        )));
                    }
                    known = Some(s);
                }
                // The mount point is on the node's own filesystem (nothing is
                // mounted there yet), so looking cannot hang.
                if !ctx.sys.exists(&cfg.directory) {
                    exec::run_ok(
                        ctx,
                        &Cmd::new("mkdir").args(["-p", &cfg.directory.to_string_lossy()]),
                        ctx.deadline,
                        "coreutils",
                    )?;
                }
                let mut cmd = Cmd::new("mount").args(["-t", &cfg.fstype]);
                if let Some(o) = &cfg.options {
                    cmd = cmd.args(["-o", o]);
                }
                cmd = cmd.args([device.as_str(), &cfg.directory.to_string_lossy()]);
                exec::run_ok(ctx, &cmd, ctx.deadline, "mount")?;
                mounted_here = true;
                tracing::info!("mounted {device} on {}", cfg.directory.display());
            }
        }
        let checked = storage::check_state_dir(
            ctx.sys,
            ctx.deadline,
            &cfg.directory,
            cfg.resource.as_deref(),
            cfg.allow_unreplicated,
            known.as_ref(),
        );
        let backing = match checked {
            Ok((_, b)) => b,
            Err(p) => {
                if mounted_here {
                    let _ = unmount(ctx, &cfg.directory, false);
                }
                return Err(problem_to_error(p));
            }
        };
        if let Backing::Unreplicated { source } = &backing {
            tracing::warn!(
                "{} is on {source}, not DRBD; accepted because allow_unreplicated=true",
                cfg.directory.display()
            );
        }
        make_subdirs(ctx, &cfg.directory)?;
        let backing = match backing {
            Backing::Drbd(s) => markers::Backing::Drbd { minor: s.minor },
            Backing::Unreplicated { source } => markers::Backing::Unreplicated { source },
        };
        StateMarker {
            directory: cfg.directory.clone(),
            backing,
        }
        .save(ctx.sys)
        .map_err(|e| OcfError::generic(format!("cannot write the resource marker: {e}")))?;
        tracing::info!("client-tracking state is in {}", cfg.directory.display());
        Ok(())
    }

    fn stop(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        let _ = StateMarker::remove(ctx.sys, &cfg.directory);
        match our_mount(ctx, &cfg) {
            Ok(Some(_)) => unmount(ctx, &cfg.directory, cfg.force_unmount),
            Ok(None) => Ok(()),
            // Someone else's filesystem is mounted there: not ours to unmount.
            Err(e) => {
                tracing::warn!("{}; leaving it mounted", e.reason);
                Ok(())
            }
        }
    }

    fn monitor(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        let active = match &cfg.device {
            Some(_) => our_mount(ctx, &cfg)?.is_some(),
            None => StateMarker::exists(ctx.sys, &cfg.directory),
        };
        if !active {
            return Err(OcfError::not_running(format!(
                "{} is not active",
                cfg.directory.display()
            )));
        }
        storage::check_state_dir(
            ctx.sys,
            ctx.deadline,
            &cfg.directory,
            cfg.resource.as_deref(),
            cfg.allow_unreplicated,
            None,
        )
        .map_err(|p| OcfError::generic(p.message().to_string()))?;
        if ctx.check_level >= 10 {
            storage::check_nfs_conf(ctx.sys, &NfsConf::load(ctx.sys), &cfg.directory)?;
            for (name, _) in SUBDIRS {
                let path = cfg.directory.join(name);
                if !exec::test_path(ctx, "-d", &path)? {
                    return Err(OcfError::generic(format!("{} is missing", path.display())));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::{ok, Fake};
    use std::sync::Arc;

    const ROOT: &str = "22 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw\n";
    const CONF: &str = "[nfsdcld]\nstoragedir=/srv/nfs-state/nfsdcld\n[nfsdcltrack]\nstoragedir=/srv/nfs-state/nfsdcltrack\n";

    fn drbd_json(role: &str) -> String {
        format!(
            r#"[{{"name":"nfs","role":"{role}","devices":[{{"volume":0,"minor":0,"disk-state":"UpToDate"}}]}}]"#
        )
    }

    /// A node where `mount` and `umount` change the mount table like the
    /// kernel would, and DRBD minor 0 has `role`.
    fn node(role: &str, mounted: &str) -> Arc<Fake> {
        let f = Arc::new(Fake::new().with_programs(&["drbdsetup"]));
        f.file("/proc/self/mountinfo", &format!("{ROOT}{mounted}"));
        f.file("/etc/nfs.conf", CONF);
        f.file(
            "/etc/passwd",
            "root:x:0:0::/root:/bin/sh\nstatd:x:104:65534::/var/lib/nfs:/usr/sbin/nologin\n",
        );
        let json = drbd_json(role);
        f.respond(move |c| (c.program == "drbdsetup").then(|| ok(&json)).flatten());
        let g = f.clone();
        f.respond(move |c| {
            match c.program.as_str() {
                "mount" => {
                    let dev = &c.args[c.args.len() - 2];
                    let dir = &c.args[c.args.len() - 1];
                    let major = if dev.contains("drbd") { 147 } else { 8 };
                    let line = format!("40 22 {major}:0 / {dir} rw,relatime - ext4 {dev} rw\n");
                    let t = g.file_content("/proc/self/mountinfo").unwrap();
                    g.file("/proc/self/mountinfo", &format!("{t}{line}"));
                }
                "umount" => {
                    let dir = format!(" {} ", c.args[0]);
                    let t = g.file_content("/proc/self/mountinfo").unwrap();
                    let kept: String = t
                        .lines()
                        .filter(|l| !l.contains(&dir))
                        .map(|l| format!("{l}\n"))
                        .collect();
                    g.file("/proc/self/mountinfo", &kept);
                }
                _ => {}
            }
            None
        });
        f
    }

    fn go(f: &Fake, action: &str, params: &[(&str, &str)]) -> (i32, String) {
        crate::agents::harness::run_agent(&NfsState, f, action, params, &[])
    }

    const DEV: &[(&str, &str)] = &[("directory", "/srv/nfs-state"), ("device", "/dev/drbd0")];
    const DRBD_MOUNT: &str = "40 22 147:0 / /srv/nfs-state rw,relatime - ext4 /dev/drbd0 rw\n";

    fn ran(f: &Fake, prefix: &str) -> Vec<String> {
        f.commands()
            .into_iter()
            .filter(|c| c.starts_with(prefix))
            .collect()
    }

    #[test]
    fn start_mounts_a_primary_device_and_creates_owned_subdirs() {
        let f = node("Primary", "");
        assert_eq!(go(&f, "start", DEV), (0, String::new()));
        assert_eq!(
            ran(&f, "mount"),
            vec!["mount -t ext4 /dev/drbd0 /srv/nfs-state"]
        );
        assert_eq!(
            ran(&f, "install"),
            vec![
                "install -d -m 0700 -o root -g root /srv/nfs-state/nfsdcld \
                 /srv/nfs-state/nfsdcltrack /srv/nfs-state/v4recovery",
                "install -d -m 0755 -o statd -g 65534 /srv/nfs-state/statd \
                 /srv/nfs-state/statd/sm /srv/nfs-state/statd/sm.bak"
            ]
        );
        // DRBD was asked once, before the mount; the check after it reuses that.
        assert_eq!(ran(&f, "drbdsetup").len(), 1);
        assert_eq!(ran(&f, "mkdir"), vec!["mkdir -p /srv/nfs-state"]);
        assert_eq!(go(&f, "monitor", DEV).0, 0);
        // Idempotent: a second start mounts nothing more.
        assert_eq!(go(&f, "start", DEV).0, 0);
        assert_eq!(ran(&f, "mount").len(), 1);
    }

    #[test]
    fn by_res_symlinks_resolve_to_the_drbd_device() {
        let f = node("Primary", DRBD_MOUNT);
        f.file("/dev/drbd/by-res/nfs/0", "symlink:/dev/drbd0");
        let p = [
            ("directory", "/srv/nfs-state"),
            ("device", "/dev/drbd/by-res/nfs/0"),
        ];
        assert_eq!(go(&f, "monitor", &p).0, 0);
        assert_eq!(go(&f, "stop", &p).0, 0);
        assert_eq!(ran(&f, "umount"), vec!["umount /srv/nfs-state"]);
    }

    #[test]
    fn start_refuses_a_secondary_before_mounting() {
        let f = node("Secondary", "");
        let (rc, err) = go(&f, "start", DEV);
        assert_eq!(rc, 1);
        assert!(
            err.contains("device=\"/dev/drbd0\" is Secondary on this node"),
            "{err}"
        );
        assert!(ran(&f, "mount").is_empty());
    }

    /// Every exit code nfsstate gives, by situation (docs/server-agents.md,
    /// "Exit codes").
    #[test]
    fn exit_codes_per_ocf_1_1() {
        use crate::sys::fake::{fail, missing};
        // 6: the parameters themselves, and storage that cannot fail over.
        assert_eq!(
            go(&node("Primary", ""), "start", &[("directory", "rel")]).0,
            6
        );
        let p = [("directory", "/srv/nfs-state"), ("options", "ro")];
        assert_eq!(
            go(&node("Primary", ""), "start", &p).0,
            6,
            "options without device"
        );
        let p = [("directory", "/srv/nfs-state"), ("device", "/dev/sdb1")];
        assert_eq!(go(&node("Primary", ""), "start", &p).0, 6, "not DRBD");
        // 2: this node's nfs.conf.
        let f = node("Primary", "");
        f.file("/etc/nfs.conf", "");
        assert_eq!(go(&f, "start", DEV).0, 2);
        let f = node("Primary", DRBD_MOUNT);
        f.file("/etc/nfs.conf", "");
        assert_eq!(go(&f, "monitor", DEV).0, 0, "level 0 reads no nfs.conf");
        let mut deep = DEV.to_vec();
        deep.push(("OCF_CHECK_LEVEL", "10"));
        assert_eq!(go(&f, "monitor", &deep).0, 2);
        // 1: not Primary, ordering (nothing mounted, no device), mount failing.
        assert_eq!(go(&node("Secondary", ""), "start", DEV).0, 1);
        assert_eq!(
            go(
                &node("Primary", ""),
                "start",
                &[("directory", "/srv/nfs-state")]
            )
            .0,
            1
        );
        let f = node("Primary", "");
        f.respond(|c| {
            (c.program == "mount")
                .then(|| fail(32, "mount: wrong fs type"))
                .flatten()
        });
        assert_eq!(go(&f, "start", DEV).0, 1);
        // 5: mount is not installed.
        let f = node("Primary", "");
        f.respond(|c| (c.program == "mount").then(|| missing(c)).flatten());
        assert_eq!(go(&f, "start", DEV).0, 5);
        // 7 and 0.
        let f = node("Primary", "");
        assert_eq!(go(&f, "monitor", DEV).0, 7);
        assert_eq!(go(&f, "start", DEV).0, 0);
        assert_eq!(go(&f, "monitor", DEV).0, 0);
        assert_eq!(go(&f, "stop", DEV).0, 0);
        assert_eq!(go(&f, "stop", DEV).0, 0);
    }

    #[test]
    fn names_of_resources_and_filesystem_types() {
        for ok in ["nfs", "r0", "nfs-state_1", "a.b:c=d@e%f+g"] {
            assert!(check_resource(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "$x", "a..b", "nfs;x"] {
            assert!(check_resource(bad).is_err(), "{bad}");
        }
        let f = node("Primary", "");
        let p = |fstype: &'static str| {
            [
                ("directory", "/srv/nfs-state"),
                ("device", "/dev/drbd0"),
                ("fstype", fstype),
            ]
        };
        for ok in ["ext4", "xfs", "fuse.sshfs", "nfs_4-x"] {
            assert_eq!(go(&f, "validate-all", &p(ok)).0, 0, "{ok}");
        }
        for bad in ["ext4;reboot", "a b", "ext4,ro"] {
            assert_eq!(go(&f, "validate-all", &p(bad)).0, 6, "{bad}");
        }
    }

    #[test]
    fn the_statd_user_from_a_well_formed_passwd_line_only() {
        let f = node("Primary", "");
        f.file("/etc/passwd", "root:x:0:0::/root:/bin/sh\nstatd:x:104\n");
        assert_eq!(go(&f, "start", DEV).0, 0);
        assert!(
            ran(&f, "install")
                .iter()
                .all(|c| c.contains(" -o root -g root ")),
            "a truncated line names no owner: {:?}",
            ran(&f, "install")
        );
    }

    #[test]
    fn this_nodes_nfs_conf_is_checked_by_start_and_from_level_10() {
        let f = node("Primary", DRBD_MOUNT);
        f.file("/etc/nfs.conf", "");
        assert_eq!(go(&f, "validate-all", DEV).0, 0, "level 0: parameters only");
        let mut deep = DEV.to_vec();
        deep.push(("OCF_CHECK_LEVEL", "10"));
        assert_eq!(go(&f, "validate-all", &deep).0, 2);
        assert_eq!(go(&f, "start", DEV).0, 2);
    }

    #[test]
    fn a_deep_monitor_checks_the_subdirectories() {
        let f = node("Primary", DRBD_MOUNT);
        let mut deep = DEV.to_vec();
        deep.push(("OCF_CHECK_LEVEL", "10"));
        assert_eq!(go(&f, "monitor", &deep).0, 0);
        assert_eq!(ran(&f, "test -d").len(), SUBDIRS.len());
        f.respond(|c| {
            (c.display() == "test -d /srv/nfs-state/statd/sm")
                .then(|| crate::sys::fake::fail(1, ""))
                .flatten()
        });
        let (rc, err) = go(&f, "monitor", &deep);
        assert_eq!(rc, 1);
        assert!(err.contains("/srv/nfs-state/statd/sm is missing"), "{err}");
    }

    #[test]
    fn only_primary_is_primary() {
        // A DRBD that cannot tell (Unknown), or any other role, is not Primary.
        for role in ["Unknown", "Secondary", "primary", ""] {
            let f = node(role, "");
            let (rc, err) = go(&f, "start", DEV);
            assert_eq!(rc, 1, "{role}: {err}");
            assert!(ran(&f, "mount").is_empty(), "{role}");
            let f = node(role, DRBD_MOUNT);
            assert_eq!(go(&f, "monitor", DEV).0, 1, "{role}");
        }
    }

    #[test]
    fn a_busy_filesystem_is_released_before_it_is_unmounted() {
        let f = node("Primary", DRBD_MOUNT);
        // umount answers "target is busy" while pid 90 works there.
        let g = f.clone();
        f.respond(move |c| {
            (c.program == "umount" && g.file_content("/proc/90/stat").is_some())
                .then(|| crate::sys::fake::fail(32, "umount: /srv/nfs-state: target is busy."))
                .flatten()
        });
        f.file("/proc/90/stat", "90 (backup) S 1");
        f.file("/proc/90/cwd", "symlink:/srv/nfs-state/statd");
        f.exits_on(90, libc::SIGTERM);
        assert_eq!(go(&f, "stop", DEV).0, 0);
        assert_eq!(f.killed(), vec![(90, libc::SIGTERM)]);
        assert_eq!(ran(&f, "umount").len(), 2);
        assert_eq!(go(&f, "monitor", DEV).0, 7);

        // force_unmount=false: retried until the time is up, then a failure.
        let f = node("Primary", DRBD_MOUNT);
        f.respond(|c| {
            (c.program == "umount")
                .then(|| crate::sys::fake::fail(32, "umount: /srv/nfs-state: target is busy."))
                .flatten()
        });
        f.file("/proc/90/stat", "90 (backup) S 1");
        f.file("/proc/90/cwd", "symlink:/srv/nfs-state");
        let mut p = DEV.to_vec();
        p.push(("force_unmount", "false"));
        let (rc, err) = go(&f, "stop", &p);
        assert_eq!(rc, 1);
        assert!(
            err.contains(
                "cannot unmount /srv/nfs-state: exit 32: umount: /srv/nfs-state: target is busy."
            ),
            "{err}"
        );
        assert!(f.killed().is_empty());
        assert!(f.slept() >= Duration::from_secs(20), "{:?}", f.slept());
    }

    #[test]
    fn unreplicated_storage_is_refused_unless_allowed() {
        let f = node("Primary", "");
        let p = [("directory", "/srv/nfs-state"), ("device", "/dev/sdb1")];
        let (rc, err) = go(&f, "start", &p);
        assert_eq!(rc, 6, "{err}");
        assert!(
            err.contains("/dev/sdb1 (ext4, mounted on /srv/nfs-state), which is not a DRBD device"),
            "{err}"
        );
        // It mounted to look, so it unmounts again.
        assert_eq!(ran(&f, "umount"), vec!["umount /srv/nfs-state"]);
        let f = node("Primary", "");
        let p = [
            ("directory", "/srv/nfs-state"),
            ("device", "/dev/sdb1"),
            ("allow_unreplicated", "true"),
        ];
        assert_eq!(go(&f, "start", &p).0, 0);
    }

    #[test]
    fn without_device_the_filesystem_must_already_be_mounted() {
        let f = node("Primary", "");
        let (rc, err) = go(&f, "start", &[("directory", "/srv/nfs-state")]);
        assert_eq!(rc, 1);
        assert!(
            err.contains("ordering: /srv/nfs-state is not on a mounted filesystem"),
            "{err}"
        );
        let f = node("Primary", DRBD_MOUNT);
        assert_eq!(
            go(&f, "monitor", &[("directory", "/srv/nfs-state")]).0,
            7,
            "not started yet"
        );
        assert_eq!(go(&f, "start", &[("directory", "/srv/nfs-state")]).0, 0);
        assert!(ran(&f, "mount").is_empty());
        assert_eq!(go(&f, "monitor", &[("directory", "/srv/nfs-state")]).0, 0);
        // Stop never unmounts a filesystem it was not asked to mount.
        assert_eq!(go(&f, "stop", &[("directory", "/srv/nfs-state")]).0, 0);
        assert!(ran(&f, "umount").is_empty());
        assert_eq!(go(&f, "monitor", &[("directory", "/srv/nfs-state")]).0, 7);
    }

    #[test]
    fn nfs_conf_must_point_at_the_state_directory() {
        let f = node("Primary", "");
        f.file(
            "/etc/nfs.conf",
            "[nfsdcld]\nstoragedir=/srv/nfs-state/nfsdcld\n",
        );
        let (rc, err) = go(&f, "start", DEV);
        assert_eq!(rc, 2, "wrong for this node only");
        assert!(
            err.contains("set [nfsdcltrack] storagedir=/srv/nfs-state/nfsdcltrack (now unset, i.e. under /var/lib/nfs)"),
            "{err}"
        );
        assert!(ran(&f, "mount").is_empty());
        // A drop-in in nfs.conf.d fixes it.
        f.file(
            "/etc/nfs.conf.d/nfsha.conf",
            "[nfsdcltrack]\nstoragedir=/srv/nfs-state/nfsdcltrack\n",
        );
        assert_eq!(go(&f, "start", DEV).0, 0);
    }

    #[test]
    fn stop_unmounts_only_its_own_device() {
        let f = node("Primary", DRBD_MOUNT);
        assert_eq!(go(&f, "stop", DEV).0, 0);
        assert_eq!(ran(&f, "umount"), vec!["umount /srv/nfs-state"]);
        assert_eq!(go(&f, "monitor", DEV).0, 7);
        assert_eq!(go(&f, "stop", DEV).0, 0, "stop when stopped");
        assert_eq!(ran(&f, "umount").len(), 1);

        let f = node(
            "Primary",
            "40 22 8:17 / /srv/nfs-state rw - ext4 /dev/sdb1 rw\n",
        );
        assert_eq!(go(&f, "stop", DEV).0, 0);
        assert!(ran(&f, "umount").is_empty(), "another device is not ours");
    }

    #[test]
    fn monitor_sees_demotion_and_read_only() {
        let f = node("Secondary", DRBD_MOUNT);
        let (rc, err) = go(&f, "monitor", DEV);
        assert_eq!(rc, 1);
        assert!(err.contains("which is Secondary on this node"), "{err}");
        let f = node(
            "Primary",
            "40 22 147:0 / /srv/nfs-state rw - ext4 /dev/drbd0 ro\n",
        );
        let (rc, err) = go(&f, "monitor", DEV);
        assert_eq!(rc, 1);
        assert!(err.contains("mounted read-only"), "{err}");
    }

    #[test]
    fn parameter_checks() {
        let f = node("Primary", "");
        let (rc, err) = go(
            &f,
            "validate-all",
            &[("directory", "/srv/nfs-state"), ("fstype", "xfs")],
        );
        assert_eq!(rc, 6);
        assert!(
            err.contains("fstype=\"xfs\" is only used with device="),
            "{err}"
        );
        let (rc, err) = go(&f, "validate-all", &[("directory", "/srv/../etc")]);
        assert_eq!(rc, 6);
        assert!(err.contains("directory=\"/srv/../etc\""), "{err}");
        let (rc, _) = go(
            &f,
            "validate-all",
            &[
                ("directory", "/srv/s"),
                ("device", "/dev/drbd0"),
                ("options", "noatime;reboot"),
            ],
        );
        assert_eq!(rc, 6);
        assert_eq!(
            go(
                &f,
                "validate-all",
                &[("directory", "/srv/s"), ("drbd_resource", "nfs$(x)")]
            )
            .0,
            6
        );
        assert!(f.commands().is_empty());
    }
}
