//! Stop's silence: the old node must say nothing to a client while the
//! address moves — no FIN, no RST, no ICMP error — or the client enters its
//! reconnect back-off before the new node can tickle it.
//!
//! Stop drops the address's traffic in both directions ([`open`]), aborts its
//! sockets locally (their RSTs die in the rules), removes the address, and
//! lifts the rules ([`close`]). With nftables the table belongs to the agent
//! process (Linux ≥ 5.12): if the stop is killed, the kernel removes it. For
//! older kernels and for iptables a marker in the resource state directory is
//! written before the first rule and removed after the last one is gone, so
//! rules an interrupted stop left behind are found by the next monitor
//! ([`clean_stale`], one failed file read when there are none) or start
//! ([`clean_before_start`], which also removes rules it has no marker for,
//! e.g. a ruleset saved while a stop ran and loaded at boot).

use std::net::IpAddr;
use std::time::Duration;

use super::{run_file, Config, Firewall};
use crate::net::filter::{self, Argv, Backend};
use crate::net::nftables::{table_name, NftHole};
use crate::net::sock_diag::{Mapped, TcpSocket, CONNECTED_STATES};
use crate::ocf::{Ctx, OcfError, OcfResult};
use crate::sys::{Cmd, Output, RunError};

/// No iptables command gets longer than this (it waits up to 5 s for the
/// xtables lock).
const RULE_TIMEOUT: Duration = Duration::from_secs(8);

fn marker(ctx: &Ctx, ip: IpAddr) -> std::path::PathBuf {
    run_file(ctx, ip, "blackhole")
}

fn run(ctx: &Ctx, a: &Argv) -> Result<Output, RunError> {
    let cmd = Cmd::new(a.program).args(a.args.iter().cloned());
    ctx.sys.run(&cmd, ctx.step(RULE_TIMEOUT))
}

fn iptables(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "iptables"
    } else {
        "ip6tables"
    }
}

fn describe(b: Backend, ip: IpAddr) -> String {
    match b {
        Backend::Nft => format!("nftables table inet {}", table_name(ip)),
        Backend::Iptables => format!("{} chain {}", iptables(ip), filter::iptables_chain(ip)),
    }
}

/// The backend this node uses for `cfg.firewall`; `None` when turned off or
/// when `auto` finds neither nf_tables nor iptables.
fn backend(ctx: &Ctx, cfg: &Config) -> Option<Backend> {
    match cfg.firewall {
        Firewall::Off => None,
        Firewall::Use(b) => Some(b),
        Firewall::Auto if ctx.sys.nft_available() => Some(Backend::Nft),
        Firewall::Auto => ctx
            .sys
            .has_program(iptables(cfg.ip))
            .then_some(Backend::Iptables),
    }
}

/// validate-all at depth 10: a firewall the admin named must work here
/// (exit 5, so Pacemaker uses another node); `auto` with neither is only a
/// warning.
pub fn check_installed(ctx: &Ctx, cfg: &Config) -> OcfResult {
    match cfg.firewall {
        Firewall::Use(Backend::Nft) if !ctx.sys.nft_available() => Err(OcfError::installed(
            "firewall=nft but this kernel has no nf_tables (CONFIG_NF_TABLES_INET)",
        )),
        Firewall::Use(Backend::Iptables) if !ctx.sys.has_program(iptables(cfg.ip)) => {
            Err(OcfError::installed(format!(
                "firewall=iptables but {} is not installed on this node",
                iptables(cfg.ip)
            )))
        }
        Firewall::Auto if backend(ctx, cfg).is_none() => {
            tracing::warn!(
                "neither nf_tables nor iptables is usable: stop cannot keep clients of {} from \
                 hearing the old node",
                cfg.ip
            );
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Remove the rules of `ip` written with `b`, if any; whether none is left.
fn lift(ctx: &Ctx, ip: IpAddr, b: Backend) -> bool {
    if b == Backend::Nft {
        return match ctx.sys.nft_delete_table(&table_name(ip)) {
            Ok(_) => true,
            // No nf_tables in this kernel: no table either.
            Err(e) if e.raw_os_error() == Some(libc::EPROTONOSUPPORT) => true,
            Err(e) => {
                tracing::warn!("deleting {}: {e}", describe(b, ip));
                false
            }
        };
    }
    let removal = filter::remove(ip);
    for step in &removal.steps {
        match run(ctx, step) {
            // Without the tool there can be no rules of it.
            Err(RunError::NotFound(_)) => return true,
            Err(e) => tracing::warn!("{e}"),
            // A step that fails has nothing to remove.
            Ok(_) => {}
        }
    }
    match run(ctx, &removal.probe) {
        Ok(out) => !out.success(),
        Err(RunError::NotFound(_)) => true,
        Err(e) => {
            tracing::warn!("{e}");
            false
        }
    }
}

/// Monitor, and stop of an address that is not here: remove the rules an
/// interrupted stop left, if its marker says there may be some.
pub fn clean_stale(ctx: &Ctx, cfg: &Config) {
    let Ok(text) = ctx.sys.read_to_string(&marker(ctx, cfg.ip)) else {
        return;
    };
    match Backend::parse(&text) {
        Some(b) if lift(ctx, cfg.ip, b) => {
            tracing::warn!(
                "an interrupted stop left its marker for {}; removed its rules if any were left ({})",
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
/// black hole. Rules a marker names must go (else start fails); the
/// configured backend's are removed too, marker or not (a ruleset saved while
/// a stop ran and loaded at boot has no marker). For nftables that is one
/// netlink request, no process.
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
            "an interrupted stop left its marker for {}; removed its rules if any were left ({})",
            cfg.ip,
            describe(b, cfg.ip)
        );
    }
    let _ = ctx.sys.remove_file(&marker(ctx, cfg.ip));
    if let Some(b) = backend(ctx, cfg).filter(|b| Some(*b) != marked) {
        lift(ctx, cfg.ip, b);
    }
    Ok(())
}

/// Rules in place while the address goes away.
pub enum Silence<'a> {
    Nft(Box<dyn NftHole + 'a>),
    Iptables,
}

impl Silence<'_> {
    fn backend(&self) -> Backend {
        match self {
            Silence::Nft(_) => Backend::Nft,
            Silence::Iptables => Backend::Iptables,
        }
    }
}

/// Drop everything to and from the address. `None` when no rule is in place
/// (stop then goes on without: a failed stop gets the node fenced, a noisy
/// one only slows clients down).
pub fn open<'a>(ctx: &Ctx<'a>, cfg: &Config) -> Option<Silence<'a>> {
    let Some(b) = backend(ctx, cfg) else {
        if cfg.firewall == Firewall::Auto {
            tracing::warn!(
                "neither nf_tables nor iptables is usable: clients of {} may hear this node reset \
                 their connections while the address moves",
                cfg.ip
            );
        }
        return None;
    };
    clean_stale(ctx, cfg);
    // The marker goes first: a stop killed from here on leaves rules that the
    // next start or monitor finds (an owned nftables table goes by itself).
    if let Err(e) = ctx.sys.write(&marker(ctx, cfg.ip), b.name().as_bytes()) {
        tracing::warn!("cannot write {}: {e}", marker(ctx, cfg.ip).display());
    }
    let failure = match b {
        Backend::Nft => match ctx.sys.nft_drop_address(cfg.ip) {
            Ok(hole) => return Some(opened(cfg, Silence::Nft(hole))),
            Err(e) => e.to_string(),
        },
        Backend::Iptables => {
            let failed = filter::install(cfg.ip).into_iter().find_map(|step| {
                let why = match run(ctx, &step) {
                    Ok(out) if out.success() => return None,
                    Ok(out) => out.failure_text(),
                    Err(e) => e.to_string(),
                };
                Some(format!("`{} {}`: {why}", step.program, step.args.join(" ")))
            });
            match failed {
                None => return Some(opened(cfg, Silence::Iptables)),
                Some(why) => why,
            }
        }
    };
    tracing::warn!(
        "cannot drop {}'s traffic while it moves ({}): {failure}; clients may hear this node \
         reset their connections",
        cfg.ip,
        describe(b, cfg.ip)
    );
    if lift(ctx, cfg.ip, b) {
        let _ = ctx.sys.remove_file(&marker(ctx, cfg.ip));
    }
    None
}

fn opened<'a>(cfg: &Config, s: Silence<'a>) -> Silence<'a> {
    tracing::info!(
        "dropping all traffic to and from {} ({})",
        cfg.ip,
        describe(s.backend(), cfg.ip)
    );
    s
}

/// Lift the rules once the address is gone.
pub fn close(ctx: &Ctx, cfg: &Config, s: Silence) {
    let b = s.backend();
    let lifted = match s {
        Silence::Nft(hole) => match hole.lift() {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("deleting {}: {e}", describe(b, cfg.ip));
                false
            }
        },
        Silence::Iptables => lift(ctx, cfg.ip, b),
    };
    if lifted {
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
