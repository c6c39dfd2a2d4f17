//! Stop's silence: the old node must say nothing to a client while the
//! address moves — no FIN, no RST, no ICMP error — or the client enters its
//! reconnect back-off before the new node can tickle it.
//!
//! Stop drops the address's traffic in both directions ([`open`]), aborts its
//! sockets locally (their RSTs die in the rules), removes the address, and
//! lifts the rules ([`close`]). A marker in the resource state directory is
//! written before the first rule and removed after the last one is gone, so
//! rules an interrupted stop left behind are found by the next monitor
//! ([`clean_stale`], one failed file read when there are none) or start
//! ([`clean_before_start`], which also removes rules it has no marker for,
//! e.g. a ruleset saved while a stop ran and loaded at boot).

use std::net::IpAddr;
use std::time::Duration;

use super::{run_file, Config, Firewall};
use crate::net::filter::{self, Argv, Backend};
use crate::net::sock_diag::{Mapped, TcpSocket, CONNECTED_STATES};
use crate::ocf::{Ctx, OcfError, OcfResult};
use crate::sys::{Cmd, Output, RunError};

/// No firewall command gets longer than this (iptables waits up to 5 s for
/// the xtables lock).
const RULE_TIMEOUT: Duration = Duration::from_secs(8);

fn marker(ctx: &Ctx, ip: IpAddr) -> std::path::PathBuf {
    run_file(ctx, ip, "blackhole")
}

fn run(ctx: &Ctx, a: &Argv) -> Result<Output, RunError> {
    let cmd = Cmd::new(a.program).args(a.args.iter().cloned());
    ctx.sys.run(&cmd, ctx.deadline.within(RULE_TIMEOUT))
}

fn describe(b: Backend, ip: IpAddr) -> String {
    match b {
        Backend::Nft => format!("nft table inet {}", filter::nft_table(ip)),
        Backend::Iptables => format!(
            "{} chain {}",
            if ip.is_ipv4() {
                "iptables"
            } else {
                "ip6tables"
            },
            filter::iptables_chain(ip)
        ),
    }
}

fn program(b: Backend, ip: IpAddr) -> &'static str {
    match (b, ip.is_ipv4()) {
        (Backend::Nft, _) => "nft",
        (Backend::Iptables, true) => "iptables",
        (Backend::Iptables, false) => "ip6tables",
    }
}

/// The backend this node uses for `cfg.firewall`; `None` when turned off or
/// when `auto` finds neither tool.
fn backend(ctx: &Ctx, cfg: &Config) -> Option<Backend> {
    match cfg.firewall {
        Firewall::Off => None,
        Firewall::Use(b) => Some(b),
        Firewall::Auto => [Backend::Nft, Backend::Iptables]
            .into_iter()
            .find(|b| ctx.sys.has_program(program(*b, cfg.ip))),
    }
}

/// validate-all at depth 10: a firewall the admin named must be installed
/// here (exit 5, so Pacemaker uses another node); `auto` with neither tool
/// is only a warning.
pub fn check_installed(ctx: &Ctx, cfg: &Config) -> OcfResult {
    match (cfg.firewall, backend(ctx, cfg)) {
        (Firewall::Use(b), _) if !ctx.sys.has_program(program(b, cfg.ip)) => {
            Err(OcfError::installed(format!(
                "firewall={} but {} is not installed on this node",
                b.name(),
                program(b, cfg.ip)
            )))
        }
        (Firewall::Auto, None) => {
            tracing::warn!(
                "neither nft nor iptables is installed: stop cannot keep clients of {} from \
                 hearing the old node (install nftables)",
                cfg.ip
            );
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Remove the rules of `ip` written with `b`, if any; whether none is left.
fn lift(ctx: &Ctx, ip: IpAddr, b: Backend) -> bool {
    let removal = filter::remove(ip, b);
    let mut last_ok = false;
    for step in &removal.steps {
        last_ok = match run(ctx, step) {
            Ok(out) => out.success(),
            // Without the tool there can be no rules of it.
            Err(RunError::NotFound(_)) => return true,
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        };
    }
    match &removal.probe {
        None => last_ok,
        Some(probe) => match run(ctx, probe) {
            Ok(out) => !out.success(),
            Err(RunError::NotFound(_)) => true,
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        },
    }
}

/// Monitor, and stop of an address that is not here: remove the rules an
/// interrupted stop left, if its marker says there are some.
pub fn clean_stale(ctx: &Ctx, cfg: &Config) {
    let Ok(text) = ctx.sys.read_to_string(&marker(ctx, cfg.ip)) else {
        return;
    };
    match Backend::parse(&text) {
        Some(b) if lift(ctx, cfg.ip, b) => {
            tracing::warn!(
                "removed the rules an interrupted stop left dropping {}'s traffic ({})",
                cfg.ip,
                describe(b, cfg.ip)
            );
            let _ = ctx.sys.remove_file(&marker(ctx, cfg.ip));
        }
        Some(b) => tracing::warn!(
            "rules an interrupted stop left still drop {}'s traffic ({}) and could not be removed",
            cfg.ip,
            describe(b, cfg.ip)
        ),
        None => {
            let _ = ctx.sys.remove_file(&marker(ctx, cfg.ip));
        }
    }
}

/// Start: no rule of this address may survive, or the address comes up as a
/// black hole. Rules with a marker must go (else start fails); the configured
/// backend's are removed too, marker or not.
pub fn clean_before_start(ctx: &Ctx, cfg: &Config) -> OcfResult {
    let marked = ctx
        .sys
        .read_to_string(&marker(ctx, cfg.ip))
        .ok()
        .and_then(|t| Backend::parse(&t));
    if let Some(b) = marked {
        if !lift(ctx, cfg.ip, b) {
            return Err(OcfError::generic(format!(
                "an interrupted stop left rules that drop {}'s traffic ({}) and they cannot be \
                 removed; the address would be unreachable",
                cfg.ip,
                describe(b, cfg.ip)
            )));
        }
        tracing::warn!(
            "removed the rules an interrupted stop left dropping {}'s traffic ({})",
            cfg.ip,
            describe(b, cfg.ip)
        );
    }
    let _ = ctx.sys.remove_file(&marker(ctx, cfg.ip));
    match backend(ctx, cfg).filter(|b| Some(*b) != marked) {
        // Asking the kernel is cheap; `nft` runs only to delete a table.
        Some(Backend::Nft) => {
            let table = filter::nft_table(cfg.ip);
            if ctx.sys.nft_table_exists(&table).unwrap_or(true) {
                lift(ctx, cfg.ip, Backend::Nft);
            }
        }
        Some(b) => {
            lift(ctx, cfg.ip, b);
        }
        None => {}
    }
    Ok(())
}

/// Drop everything to and from the address. Returns the backend whose rules
/// are in place, `None` when there are none (stop then goes on without: a
/// failed stop gets the node fenced, a noisy one only slows clients down).
pub fn open(ctx: &Ctx, cfg: &Config) -> Option<Backend> {
    let Some(b) = backend(ctx, cfg) else {
        if cfg.firewall == Firewall::Auto {
            tracing::warn!(
                "neither nft nor iptables is installed: clients of {} may hear this node reset \
                 their connections while the address moves",
                cfg.ip
            );
        }
        return None;
    };
    clean_stale(ctx, cfg);
    // The marker goes first: a stop killed from here on leaves rules that the
    // next start or monitor finds.
    if let Err(e) = ctx.sys.write(&marker(ctx, cfg.ip), b.name().as_bytes()) {
        tracing::warn!("cannot write {}: {e}", marker(ctx, cfg.ip).display());
    }
    for step in filter::install(cfg.ip, b) {
        let failure = match run(ctx, &step) {
            Ok(out) if out.success() => continue,
            Ok(out) => out.failure_text(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(
            "cannot drop {}'s traffic while it moves ({}): `{} {}`: {failure}; clients may hear \
             this node reset their connections",
            cfg.ip,
            describe(b, cfg.ip),
            step.program,
            step.args.join(" ")
        );
        close(ctx, cfg, b);
        return None;
    }
    tracing::info!(
        "dropping all traffic to and from {} ({})",
        cfg.ip,
        describe(b, cfg.ip)
    );
    Some(b)
}

/// Lift the rules once the address is gone.
pub fn close(ctx: &Ctx, cfg: &Config, b: Backend) {
    if lift(ctx, cfg.ip, b) {
        let _ = ctx.sys.remove_file(&marker(ctx, cfg.ip));
    } else {
        tracing::warn!(
            "could not remove the rules dropping {}'s traffic ({}); the next start or monitor \
             removes them",
            cfg.ip,
            describe(b, cfg.ip)
        );
    }
}

/// Every TCP socket of the address that belongs to a connection (not the
/// listeners; nfsd's listen on the wildcard address anyway).
pub fn connected_sockets(ctx: &Ctx, cfg: &Config) -> Vec<TcpSocket> {
    match ctx
        .sys
        .tcp_sockets(cfg.ip, CONNECTED_STATES, Mapped::Include)
    {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot list the TCP sockets of {}: {e}", cfg.ip);
            Vec::new()
        }
    }
}

/// Abort the address's sockets in the kernel. Only while the rules are in
/// place: the kernel's RST for each must not leave the node. Sockets left
/// alive cannot reach a client once the address is gone, but would answer a
/// tickle with a challenge ACK instead of a RST if the address came back here
/// soon (what portblock's `reset_local_on_unblock_stop` is for).
pub fn abort_sockets(ctx: &Ctx, cfg: &Config, sockets: &[TcpSocket]) {
    let mut aborted = 0;
    for s in sockets {
        match ctx.sys.destroy_tcp_socket(s) {
            Ok(()) => aborted += 1,
            Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
                tracing::warn!(
                    "this kernel cannot abort sockets (CONFIG_INET_DIAG_DESTROY is off): the \
                     {} connection(s) of {} stay until nfsd stops",
                    sockets.len() - aborted,
                    cfg.ip
                );
                break;
            }
            Err(e) => tracing::warn!(
                "cannot abort the connection {} ↔ {}: {e}",
                s.local,
                s.remote
            ),
        }
    }
    if aborted > 0 {
        tracing::info!("aborted {aborted} connection(s) of {} locally", cfg.ip);
    }
}
