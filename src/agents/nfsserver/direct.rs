//! Direct mode (no systemd): nfsserver starts the helper daemons itself
//! (`rpc.mountd`, `nfsdcld`, `rpc.statd` for NFSv3), records their pids, and
//! starts the threads with the one rpc.nfsd command line; stop ends the
//! threads and the daemons it recorded.

use std::path::Path;
use std::time::Duration;

use super::config::Config;
use crate::agents::{exec, storage};
use crate::nfs::markers::Daemon;
use crate::nfs::{nfsd, NfsConf};
use crate::ocf::{Ctx, OcfError, OcfResult};
use crate::sys::{mounts, procs, Cmd};

/// The helper daemons: (name, argv). statd never sends the reboot
/// notification itself: the vip does once the address is up (`sm-notify -v`).
fn daemons(cfg: &Config, ctx: &Ctx) -> Vec<(&'static str, Vec<String>)> {
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
    if ctx.sys.has_program("nfsdcld") {
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

/// nfsdcld talks to the kernel through rpc_pipefs; without systemd nobody
/// else mounts it. Mounted once and left mounted (it holds no data and other
/// NFS services use it too), so stop never has to unmount it.
fn ensure_pipefs(ctx: &Ctx, conf: &NfsConf) -> OcfResult {
    let dir = conf
        .get("general", "pipefs-directory")
        .unwrap_or("/var/lib/nfs/rpc_pipefs")
        .to_string();
    let table = storage::mount_table(ctx.sys).map_err(|p| OcfError::generic(p.message()))?;
    if mounts::at(&table, Path::new(&dir)).is_some_and(|m| m.fstype == "rpc_pipefs") {
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
    exec::run_ok(
        ctx,
        &Cmd::new("mkdir").args(["-p", &dir]),
        ctx.deadline,
        "coreutils",
    )?;
    exec::run_ok(
        ctx,
        &Cmd::new("mount").args(["-t", "rpc_pipefs", "sunrpc", &dir]),
        ctx.deadline,
        "mount",
    )?;
    tracing::info!("mounted rpc_pipefs on {dir} for nfsdcld");
    Ok(())
}

/// Start the helper daemons (adopting ones already running), call `record`
/// with them before anything else can fail, then start the threads.
pub fn start(
    ctx: &Ctx,
    cfg: &Config,
    conf: &NfsConf,
    hostname: &str,
    record: &dyn Fn(&[Daemon]) -> OcfResult,
) -> OcfResult<Vec<Daemon>> {
    let daemons = daemons(cfg, ctx);
    if daemons.iter().any(|(n, _)| *n == "nfsdcld") {
        ensure_pipefs(ctx, conf)?;
    }
    let mut started = Vec::new();
    let running = procs::list(ctx.sys);
    for (name, argv) in daemons {
        // Left over from a failed start, or started by hand: adopt it, so
        // monitor watches it and stop ends it like the ones started here.
        if let Some(p) = running.iter().find(|p| p.comm == name) {
            tracing::warn!("{name} already runs (pid {}); adopting it", p.pid);
            started.push(Daemon {
                name: name.to_string(),
                pid: p.pid,
            });
            continue;
        }
        let pid = ctx
            .sys
            .spawn_detached(&argv)
            .map_err(|e| OcfError::generic(format!("cannot start {name}: {e}")))?;
        started.push(Daemon {
            name: name.to_string(),
            pid,
        });
    }
    // Recorded before anything else can fail: a stop after a failed start
    // must still end them (nfsdcld holds its database on the state
    // directory, which nfsstate unmounts next).
    record(&started)?;
    // Give them a moment to fail on bad configuration before nfsd relies on them.
    ctx.sys.sleep(Duration::from_millis(100));
    for d in &started {
        if !procs::is(ctx.sys, d.pid, &d.name) {
            return Err(OcfError::generic(format!(
                "{} (pid {}) exited right after it was started; see the system log",
                d.name, d.pid
            )));
        }
    }
    exec::run_ok(
        ctx,
        &cfg.launch(hostname, true).cmd(),
        ctx.deadline,
        "nfs-kernel-server",
    )?;
    Ok(started)
}

/// Stop the threads (`rpc.nfsd 0`), then the daemons `recorded` at start:
/// SIGTERM, up to 5 s, SIGKILL.
pub fn stop(ctx: &Ctx, recorded: &[Daemon]) -> OcfResult {
    if nfsd::running(ctx.sys) {
        exec::run_ok(
            ctx,
            &Cmd::new("rpc.nfsd").arg("0"),
            ctx.deadline,
            "nfs-kernel-server",
        )?;
    }
    let alive = |d: &Daemon| procs::is(ctx.sys, d.pid, &d.name);
    for d in recorded.iter().filter(|d| alive(d)) {
        let _ = ctx.sys.kill(d.pid, libc::SIGTERM);
    }
    let until = ctx.step(Duration::from_secs(5));
    while recorded.iter().any(alive) && !until.passed(ctx.sys) {
        ctx.sys.sleep(Duration::from_millis(50));
    }
    for d in recorded.iter().filter(|d| alive(d)) {
        tracing::warn!("{} (pid {}) ignored SIGTERM; killing it", d.name, d.pid);
        let _ = ctx.sys.kill(d.pid, libc::SIGKILL);
    }
    Ok(())
}
