//! The nfsd control files, set the same way in both start modes, before any
//! nfsd thread runs: the kernel refuses `nfsv4leasetime`, `nfsv4gracetime`
//! and `nfsv4recoverydir` once threads run (EBUSY).
//!
//! - lease and grace time (rpc.nfsd `-L`/`-G` set them again, to the same
//!   values, and `-G` also sets NLM's grace period);
//! - the legacy client tracker's directory (`nfsv4recoverydir`), which only
//!   this file sets: the kernel falls back to it when neither nfsdcld nor
//!   nfsdcltrack answers, and left at `/var/lib/nfs/v4recovery` it would
//!   record the clients on the local disk, where the next node cannot see
//!   them. Kernels built without legacy tracking have no such file.

use super::config::Config;
use crate::agents::exec;
use crate::nfs::nfsd;
use crate::ocf::{Ctx, OcfError, OcfResult};
use crate::sys::Cmd;

/// Load nfsd and mount its control filesystem when it is not readable yet
/// (systemd's `proc-fs-nfsd.mount` notices the mount and counts as active).
fn ensure_control_fs(ctx: &Ctx) -> OcfResult {
    if nfsd::threads(ctx.sys).is_some() {
        return Ok(());
    }
    let _ = exec::run(ctx, &Cmd::new("modprobe").arg("nfsd"), ctx.deadline, "kmod");
    if nfsd::threads(ctx.sys).is_some() {
        return Ok(());
    }
    let dir = ctx.sys.paths().proc_nfsd.to_string_lossy().into_owned();
    exec::run_ok(
        ctx,
        &Cmd::new("mount").args(["-t", "nfsd", "nfsd", &dir]),
        ctx.deadline,
        "mount",
    )?;
    Ok(())
}

fn write(ctx: &Ctx, name: &str, value: &str) -> OcfResult {
    nfsd::write(ctx.sys, name, value).map_err(|e| {
        let busy = if e.raw_os_error() == Some(libc::EBUSY) {
            " (nfsd already has threads: the kernel takes this only before they start)"
        } else {
            ""
        };
        OcfError::generic(format!(
            "cannot write {value} to {}: {e}{busy}",
            ctx.sys.paths().nfsd(name).display()
        ))
    })
}

/// Set lease, grace and the legacy recovery directory for `cfg`.
pub fn prepare(ctx: &Ctx, cfg: &Config) -> OcfResult {
    ensure_control_fs(ctx)?;
    write(ctx, "nfsv4leasetime", &cfg.lease.to_string())?;
    write(ctx, "nfsv4gracetime", &cfg.grace.to_string())?;
    if ctx.sys.exists(&ctx.sys.paths().nfsd("nfsv4recoverydir")) {
        let dir = cfg.state_directory.join("v4recovery");
        write(ctx, "nfsv4recoverydir", &dir.to_string_lossy())?;
    }
    Ok(())
}

/// The recovery directory nfsd uses now, when the kernel has one.
pub fn recovery_dir(ctx: &Ctx) -> Option<String> {
    ctx.sys
        .read_to_string(&ctx.sys.paths().nfsd("nfsv4recoverydir"))
        .ok()
        .map(|s| s.trim().to_string())
}
