//! Starting and ending the detached takeover helper (`nfsha announce`,
//! [`crate::net::takeover`]): announcements and tickle rounds after start,
//! bounded by what is left of the start's deadline. Its pid is kept in the
//! resource state directory so stop can end it (announcing an address after
//! it moved would pull clients back to this node) and so monitor leaves the
//! previous owner's record alone while the helper still reads it.

use std::net::IpAddr;

use super::{record, run_file, Config};
use crate::net::netlink::Link;
use crate::ocf::Ctx;
use crate::sys;

fn pidfile(ctx: &Ctx, ip: IpAddr) -> std::path::PathBuf {
    run_file(ctx, ip, "announce.pid")
}

/// The helper's pid, if the one recorded still runs for this address.
fn live_pid(ctx: &Ctx, ip: IpAddr) -> Option<u32> {
    let pid: u32 = ctx
        .sys
        .read_to_string(&pidfile(ctx, ip))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = ctx
        .sys
        .read_to_string(&ctx.sys.paths().proc.join(pid.to_string()).join("cmdline"))
        .ok()?;
    let argv: Vec<&str> = cmdline.split('\0').collect();
    let ours = argv.get(1) == Some(&"announce")
        && argv
            .windows(2)
            .any(|w| w[0] == "--ip" && w[1] == ip.to_string());
    ours.then_some(pid)
}

/// Whether the helper of this address still runs.
pub fn running(ctx: &Ctx, ip: IpAddr) -> bool {
    live_pid(ctx, ip).is_some()
}

/// End the helper of this address if it still runs.
pub fn stop(ctx: &Ctx, ip: IpAddr) {
    if let Some(pid) = live_pid(ctx, ip) {
        let _ = ctx.sys.kill(pid, libc::SIGTERM);
    }
    let _ = ctx.sys.remove_file(&pidfile(ctx, ip));
}

/// Start the helper for the address just added on `link`.
pub fn start(ctx: &Ctx, cfg: &Config, link: &Link) {
    let connections = record::target(ctx, cfg);
    if cfg.arp_count == 0 && connections.is_none() {
        return;
    }
    let bound = ctx.deadline.remaining(ctx.sys);
    let mut argv = vec![
        sys::self_exe().to_string_lossy().into_owned(),
        "announce".to_string(),
        "--nic".to_string(),
        link.name.clone(),
        "--ip".to_string(),
        cfg.ip.to_string(),
        "--count".to_string(),
        cfg.arp_count.to_string(),
        "--interval-ms".to_string(),
        cfg.arp_interval_ms.to_string(),
        "--tickle-rounds".to_string(),
        cfg.tickle_rounds.to_string(),
        "--tickle-interval-ms".to_string(),
        cfg.tickle_interval_ms.to_string(),
        "--bound-ms".to_string(),
        bound.as_millis().to_string(),
        "--tag".to_string(),
        format!("vip({})", ctx.instance),
    ];
    if let Some(path) = &connections {
        argv.push("--connections".to_string());
        argv.push(path.display().to_string());
    }
    match ctx.sys.spawn_detached(&argv) {
        Ok(pid) => {
            let _ = ctx
                .sys
                .write(&pidfile(ctx, cfg.ip), format!("{pid}\n").as_bytes());
            tracing::info!(
                "announcing {} on {} ({} times, every {} ms){}",
                cfg.ip,
                link.name,
                cfg.arp_count,
                cfg.arp_interval_ms,
                match &connections {
                    Some(p) => format!(
                        "; tickling the connections recorded in {} ({} rounds, {} ms apart)",
                        p.display(),
                        cfg.tickle_rounds,
                        cfg.tickle_interval_ms
                    ),
                    None => String::new(),
                }
            );
        }
        // The address works without either; clients just learn of it later.
        Err(e) => tracing::warn!("could not start announcing {}: {e}", cfg.ip),
    }
}
