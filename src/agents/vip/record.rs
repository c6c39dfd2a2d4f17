//! Keeping the connection record ([`crate::net::connections`]) current: at
//! every monitor and at stop, the established connections of the address to
//! the NFS ports, read from the kernel over sock_diag.
//!
//! Monitor must stay at its floor, so the record is written only when it
//! changed: a copy of what this node last saved lives on tmpfs (the resource
//! state directory), and comparing with it costs one small read. The write to
//! the replicated directory runs in a child with a deadline (`nfsha
//! internal-save-connections`), so a hung state filesystem costs a warning,
//! never a monitor or stop timeout.

use std::path::PathBuf;
use std::time::Duration;

use super::{run_file, takeover, Config};
use crate::net::connections::{Conn, Durability, Record, MAX_CONNS};
use crate::net::sock_diag::{Mapped, TcpSocket, TCP_ESTABLISHED};
use crate::nfs::markers::StateMarker;
use crate::nfs::NfsConf;
use crate::ocf::Ctx;
use crate::sys::{self, Cmd};

/// The longest a save may take before it is abandoned.
const SAVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A record ready to be saved, and where.
pub struct Pending {
    pub target: PathBuf,
    pub record: Record,
}

/// The directory of the nfsstate resource active on this node, from its
/// marker, when there is exactly one.
fn group_state_directory(ctx: &Ctx) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = StateMarker::all(ctx.sys)
        .into_iter()
        .map(|m| m.directory)
        .collect();
    found.sort();
    found.dedup();
    match found.len() {
        1 => found.pop(),
        0 => None,
        _ => {
            tracing::warn!(
                "{} nfsstate resources run on this node; set tickle_dir to record connections",
                found.len()
            );
            None
        }
    }
}

/// Where the record of this address is kept; `None` when recording is off.
pub fn target(ctx: &Ctx, cfg: &Config) -> Option<PathBuf> {
    if cfg.tickle_rounds == 0 {
        return None;
    }
    let dir = cfg
        .tickle_dir
        .clone()
        .or_else(|| group_state_directory(ctx))?;
    Some(dir.join(Record::file_name(cfg.ip)))
}

/// The server ports whose connections are recorded.
fn ports(ctx: &Ctx, cfg: &Config) -> Vec<u16> {
    if let Some(p) = &cfg.tcp_ports {
        return p.clone();
    }
    let conf = NfsConf::load(ctx.sys);
    let port = |section: &str| {
        conf.get(section, "port")
            .and_then(|v| v.trim().parse::<u16>().ok())
            .filter(|p| *p > 0)
    };
    let mut ports = vec![port("nfsd").unwrap_or(2049)];
    for daemon in ["mountd", "statd", "lockd"] {
        if let Some(p) = port(daemon).filter(|p| !ports.contains(p)) {
            ports.push(p);
        }
    }
    ports
}

/// The record of the established connections among `sockets`; `None` when
/// recording is off.
pub fn established(ctx: &Ctx, cfg: &Config, sockets: &[TcpSocket]) -> Option<Pending> {
    let target = target(ctx, cfg)?;
    Some(build(ctx, cfg, target, sockets))
}

fn build(ctx: &Ctx, cfg: &Config, target: PathBuf, sockets: &[TcpSocket]) -> Pending {
    let ports = ports(ctx, cfg);
    let conns: Vec<Conn> = sockets
        .iter()
        .filter(|s| s.established() && s.local.ip() == cfg.ip && ports.contains(&s.local.port()))
        .map(|s| Conn {
            server_port: s.local.port(),
            client: s.remote,
        })
        .collect();
    if conns.len() > MAX_CONNS {
        tracing::warn!(
            "{} has {} connections; only {MAX_CONNS} are recorded for tickles",
            cfg.ip,
            conns.len()
        );
    }
    Pending {
        target,
        record: Record::new(cfg.ip, conns),
    }
}

/// Monitor: record the connections the address has now.
pub fn refresh(ctx: &Ctx, cfg: &Config) {
    let Some(target) = target(ctx, cfg) else {
        return;
    };
    // One walk of the kernel's table: nfsd's sockets are never v4-mapped.
    match ctx
        .sys
        .tcp_sockets(cfg.ip, 1 << TCP_ESTABLISHED, Mapped::Skip)
    {
        Ok(sockets) => save(
            ctx,
            cfg,
            &build(ctx, cfg, target, &sockets),
            Durability::Synced,
        ),
        Err(e) => tracing::warn!("cannot list the TCP connections of {}: {e}", cfg.ip),
    }
}

fn saved_copy(ctx: &Ctx, cfg: &Config) -> PathBuf {
    run_file(ctx, cfg.ip, "conns.saved")
}

/// Start: what the state directory holds now is the previous owner's record,
/// not what this node last saved.
pub fn forget_saved(ctx: &Ctx, cfg: &Config) {
    let _ = ctx.sys.remove_file(&saved_copy(ctx, cfg));
}

/// Save `p` unless it is what this node saved last (or the takeover helper
/// is still reading the previous owner's record).
pub fn save(ctx: &Ctx, cfg: &Config, p: &Pending, durability: Durability) {
    let text = p.record.render();
    let stamp = format!("{}\n{text}", p.target.display());
    if ctx
        .sys
        .read_to_string(&saved_copy(ctx, cfg))
        .ok()
        .as_deref()
        == Some(stamp.as_str())
    {
        return;
    }
    if takeover::running(ctx, cfg.ip) {
        tracing::debug!("the takeover helper still tickles; the record waits for the next monitor");
        return;
    }
    let pending = run_file(ctx, cfg.ip, "conns.pending");
    if let Err(e) = ctx.sys.write(&pending, text.as_bytes()) {
        tracing::warn!("cannot write {}: {e}", pending.display());
        return;
    }
    let mut cmd = Cmd::new(&sys::self_exe().to_string_lossy()).args([
        "internal-save-connections".to_string(),
        "--from".into(),
        pending.display().to_string(),
        "--to".into(),
        p.target.display().to_string(),
        "--ip".into(),
        cfg.ip.to_string(),
    ]);
    if durability == Durability::AtUnmount {
        cmd = cmd.arg("--no-sync");
    }
    let failure = match ctx.sys.run(&cmd, ctx.step(SAVE_TIMEOUT)) {
        Ok(out) if out.success() => None,
        Ok(out) => Some(out.failure_text()),
        Err(e) => Some(e.to_string()),
    };
    let _ = ctx.sys.remove_file(&pending);
    match failure {
        None => {
            let _ = ctx.sys.write(&saved_copy(ctx, cfg), stamp.as_bytes());
            tracing::info!(
                "recorded {} connection(s) of {} in {}",
                p.record.conns.len(),
                cfg.ip,
                p.target.display()
            );
        }
        Some(why) => tracing::warn!(
            "cannot record the connections of {} in {}: {why}; a takeover would not tickle them",
            cfg.ip,
            p.target.display()
        ),
    }
}
