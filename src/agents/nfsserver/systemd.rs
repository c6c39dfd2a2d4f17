//! systemd mode: `nfs-server.service`, started with the drop-in `nfsha
//! dropin` writes. Before starting, this node's drop-in must name the
//! resource's host name, lease and grace, and nfs.conf's `[nfsd]` must offer
//! the resource's threads and versions (rpc.nfsd reads them there); a
//! mismatch is exit 2 (wrong on this node only) with the command or lines
//! that fix it.

use super::config::Config;
use crate::agents::exec;
use crate::nfs::markers::Daemon;
use crate::nfs::nfsd_launch::NfsdLaunch;
use crate::nfs::{versions, NfsConf};
use crate::ocf::{Ctx, OcfError, OcfResult, Rc};
use crate::sys::{procs, Cmd, System};

/// nfs-utils' thread count when nfs.conf sets none (`rpc.nfsd` default).
const NFS_UTILS_DEFAULT_THREADS: u32 = 8;

/// The daemons nfs-server.service brings along that monitor watches.
const WATCHED: [&str; 3] = ["rpc.mountd", "nfsdcld", "rpc.statd"];

/// systemd is the running init (it creates `/run/systemd/system`).
pub fn running(sys: &dyn System) -> bool {
    sys.exists(&sys.paths().run_systemd)
}

/// nfs.conf `[nfsd]` lines that differ from `cfg`. `get` reads a `[nfsd]`
/// tag; `nfsha lint` (NFS306) passes its own view of nfs.conf, so both
/// refuse the same file.
pub fn nfs_conf_mismatches(get: &dyn Fn(&str) -> Option<String>, cfg: &Config) -> Vec<String> {
    let mut wrong = Vec::new();
    let threads = get("threads")
        .and_then(|t| t.parse::<u32>().ok())
        .unwrap_or(NFS_UTILS_DEFAULT_THREADS);
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

/// The drop-in and nfs.conf agree with the resource on this node.
pub fn preflight(ctx: &Ctx, cfg: &Config, conf: &NfsConf) -> OcfResult {
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
    let found = NfsdLaunch::parse_exec_start(&text).ok_or_else(|| {
        OcfError::new(
            Rc::ErrArgs,
            format!(
                "{} does not start rpc.nfsd under a fixed host name; {fix}",
                path.display()
            ),
        )
    })?;
    if Some(found.hostname.as_str()) != cfg.hostname.as_deref()
        || found.lease != Some(cfg.lease)
        || found.grace != Some(cfg.grace)
    {
        return Err(OcfError::new(
            Rc::ErrArgs,
            format!(
                "{} sets host name {}, lease {}, grace {}, but the resource says {}, {}, {}; {fix}",
                path.display(),
                found.hostname,
                found.lease.map_or("unset".into(), |l| l.to_string()),
                found.grace.map_or("unset".into(), |g| g.to_string()),
                cfg.hostname.as_deref().unwrap_or("unset"),
                cfg.lease,
                cfg.grace
            ),
        ));
    }
    if cfg.has("3") {
        // Without it, rpc-statd-notify notifies NFSv3 clients before the
        // address is up and under the node's name, using up the list.
        let notify = ctx.sys.paths().statd_notify_dropin();
        let skips = ctx.sys.read_to_string(&notify).is_ok_and(|t| {
            t.lines().any(|l| {
                l.trim()
                    == format!(
                        "ConditionPathExists=!{}",
                        ctx.sys.paths().nfs_server_allow().display()
                    )
            })
        });
        if !skips {
            return Err(OcfError::new(
                Rc::ErrArgs,
                format!(
                    "nfs_versions offers 3, but {} does not keep rpc-statd-notify from \
                     notifying NFSv3 clients under this node's own name; {fix}",
                    notify.display()
                ),
            ));
        }
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
    Ok(())
}

fn systemctl(ctx: &Ctx, args: &[&str]) -> OcfResult {
    exec::run_ok(
        ctx,
        &Cmd::new("systemctl").args(args.iter().copied()),
        ctx.deadline,
        "systemd",
    )
    .map(|_| ())
}

/// Allow nfs-server to start (the drop-in's condition), start it, and
/// return the helper daemons it brought along (so monitor need not scan
/// `/proc`).
pub fn start(ctx: &Ctx) -> OcfResult<Vec<Daemon>> {
    let allow = ctx.sys.paths().nfs_server_allow();
    ctx.sys
        .write(&allow, b"nfsha nfsserver\n")
        .map_err(|e| OcfError::generic(format!("cannot write {}: {e}", allow.display())))?;
    systemctl(ctx, &["start", "nfs-server.service"])?;
    Ok(procs::list(ctx.sys)
        .into_iter()
        .filter(|p| WATCHED.contains(&p.comm.as_str()))
        .map(|p| Daemon {
            name: p.comm,
            pid: p.pid,
        })
        .collect())
}

/// Stop nfs-server and the helpers it pulled in that hold files on the
/// state directory (nfs-mountd, nfsdcld, and statd's units when statd keeps
/// its state there) in one `systemctl stop`: systemctl queues a job for
/// every unit it is given, in dependency order, and waits for them
/// together, where one call per unit would pay a program start and a wait
/// each. A unit this distribution lacks makes that call fail without
/// keeping the others from stopping; only then is nfs-server asked again
/// alone, and its answer decides the stop.
pub fn stop(ctx: &Ctx, statd_on_state: bool) -> OcfResult {
    let _ = ctx.sys.remove_file(&ctx.sys.paths().nfs_server_allow());
    let mut units = vec![
        "nfs-server.service",
        "nfs-mountd.service",
        "nfsdcld.service",
    ];
    if statd_on_state {
        // rpc-statd-notify's sm-notify works in the same directory.
        units.extend(["rpc-statd-notify.service", "rpc-statd.service"]);
    }
    let cmd = Cmd::new("systemctl").arg("stop").args(units);
    let out = exec::run(ctx, &cmd, ctx.deadline, "systemd")?;
    if out.success() {
        return Ok(());
    }
    tracing::warn!("`{}`: {}", cmd.display(), out.failure_text());
    systemctl(ctx, &["stop", "nfs-server.service"])
}
