//! `ocf:nfsha:vip` — the virtual IP clients mount from; the last member of the
//! NFS group to start and the first to stop.
//!
//! Start adds the address with `ip` (argv), then hands the announcement and
//! the tickles of the connections the previous owner recorded to a detached,
//! bounded helper ([`takeover`]), so start does not wait for them. Monitor
//! reads the kernel's address, link and TCP socket tables over netlink (no
//! process is spawned) and keeps the connection record current ([`record`]).
//! Stop makes the node silent before anything goes away ([`silence`]): the
//! address's traffic is dropped, its sockets aborted locally, the address
//! removed, and only then the rules lifted.

mod record;
mod silence;
mod takeover;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::agents::group_checks as ordering;
use crate::net::connections::Durability;
use crate::net::filter::Backend;
use crate::net::netlink::{contains, IfAddr, Link};
use crate::ocf::params::{absolute_path, interface_name};
use crate::ocf::{Agent, AgentSpec, Ctx, OcfError, OcfResult, ParamSpec, Rc, Timeouts};
use crate::sys::{self, Cmd};

pub struct Vip;

fn check_ip(raw: &str) -> Result<(), String> {
    let ip: IpAddr = raw.parse().map_err(|_| {
        "expected an IPv4 or IPv6 address such as 192.0.2.10 or 2001:db8::10".to_string()
    })?;
    if ip.is_unspecified() || ip.is_multicast() {
        return Err("expected a unicast address".into());
    }
    Ok(())
}

fn check_label(raw: &str) -> Result<(), String> {
    if raw.len() > 14
        || raw.is_empty()
        || !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("expected a short label of letters, digits, '-', '_' or '.'".into());
    }
    Ok(())
}

/// `tcp_ports`: a comma-separated list of TCP ports, 1–65535.
fn parse_ports(raw: &str) -> Result<Vec<u16>, String> {
    let mut ports = Vec::new();
    for tok in raw.split(',').map(str::trim) {
        match tok.parse::<u16>() {
            Ok(p) if p > 0 => {
                if !ports.contains(&p) {
                    ports.push(p)
                }
            }
            _ => {
                return Err(
                    "expected TCP ports (1-65535) separated by commas, e.g. 2049,20048".into(),
                )
            }
        }
    }
    Ok(ports)
}

fn check_ports(raw: &str) -> Result<(), String> {
    parse_ports(raw).map(|_| ())
}

/// `firewall`: which tool writes the stop's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Firewall {
    /// nft when installed, else iptables, else none (with a warning).
    Auto,
    Use(Backend),
    /// No rules: the old node may answer clients while the address moves.
    Off,
}

fn parse_firewall(raw: &str) -> Option<Firewall> {
    match raw.trim() {
        "auto" => Some(Firewall::Auto),
        "none" => Some(Firewall::Off),
        other => Backend::parse(other).map(Firewall::Use),
    }
}

fn check_firewall(raw: &str) -> Result<(), String> {
    parse_firewall(raw)
        .map(|_| ())
        .ok_or_else(|| "expected auto, nft, iptables or none".into())
}

static PARAMS: &[ParamSpec] = &[
    ParamSpec::new(
        "ip",
        "Virtual IPv4 or IPv6 address",
        "The address NFS clients mount from. It moves with the NFS group: nfsha adds it \
         only after the exports are active and removes it before they go away, so a client \
         never reaches a server that would answer 'permission denied' or 'stale handle'.",
    )
    .required()
    .unique()
    .check(check_ip),
    ParamSpec::new(
        "cidr_netmask",
        "Prefix length (e.g. 24)",
        "The prefix length in CIDR form (24, not 255.255.255.0). When unset it is taken \
         from the directly connected route that covers the address.",
    )
    .integer(1, 128),
    ParamSpec::new(
        "nic",
        "Network interface (e.g. eth0)",
        "The interface to add the address to. When unset, the interface of the directly \
         connected route that covers the address is used; start fails with a clear reason \
         when there is none. Give a real interface, not an alias such as eth0:1.",
    )
    .check(interface_name),
    ParamSpec::new(
        "label",
        "IPv4 address label suffix",
        "Adds the label <nic>:<label> to the IPv4 address (shown by ifconfig and \
         'ip addr'). At most 15 characters in all. Not available for IPv6.",
    )
    .check(check_label),
    ParamSpec::new(
        "arp_count",
        "Announcements sent at start",
        "How many gratuitous ARPs (IPv4) or unsolicited neighbour advertisements (IPv6) \
         are sent after the address is added, so that clients and switches learn the new \
         owner at once. 0 sends none. Start does not wait for them.",
    )
    .integer(0, 1000)
    .default("5"),
    ParamSpec::new(
        "arp_interval_ms",
        "Milliseconds between announcements",
        "The pause between two announcements, in milliseconds.",
    )
    .integer(10, 10_000)
    .default("200"),
    ParamSpec::new(
        "require_exports",
        "Refuse to start unless this node exports",
        "With true (the default), start refuses with an 'ordering:' reason unless nfsd \
         runs on this node and every export started here by an nfsha exportfs resource is \
         active (and at least one is): clients must never reach the address before the \
         exports they mount exist. Set false only for an address that does not front this \
         node's NFS exports.",
    )
    .boolean()
    .default("true"),
    ParamSpec::new(
        "tickle_dir",
        "Where the connection record is kept (replicated)",
        "The directory, on storage that moves with the group, where the address's TCP \
         connections are recorded at every monitor and at stop, so that the node taking the \
         address over can tickle them (file nfsha-vip-ADDRESS.conns). When unset, the state \
         directory of the nfsstate resource active on this node is used (if exactly one is); \
         without either nothing is recorded and clients reconnect only after their own \
         back-off. A directory on local disk is useless: the other node never sees it.",
    )
    .check(absolute_path),
    ParamSpec::new(
        "tcp_ports",
        "TCP ports whose connections are tickled",
        "Comma-separated server ports whose established connections are recorded and \
         tickled after a move. When unset they come from nfs.conf: [nfsd] port (2049 when \
         unset), plus the [mountd], [statd] and [lockd] port where one is fixed (NFSv3; a \
         port left to rpcbind changes at every start and cannot be recorded).",
    )
    .check(check_ports),
    ParamSpec::new(
        "tickle_rounds",
        "Tickle ACK rounds after a start",
        "How many times, after the address is up and announced, every recorded connection \
         is sent a tickle ACK (a bare ACK with sequence number 0, as CTDB sends): the client \
         answers with its real sequence numbers, this node's kernel resets the connection, \
         and the client reconnects at once instead of after its back-off (up to 45 s, or \
         the lease/2). Several rounds cover a lost packet. 0 turns recording and tickles off.",
    )
    .integer(0, 10)
    .default("3"),
    ParamSpec::new(
        "tickle_interval_ms",
        "Milliseconds between tickle rounds",
        "The pause between two tickle rounds. Linux answers at most one out-of-window \
         segment per connection every 500 ms (net.ipv4.tcp_invalid_ratelimit), so rounds \
         closer than that are ignored; the default follows CTDB.",
    )
    .integer(500, 10_000)
    .default("1000"),
    ParamSpec::new(
        "firewall",
        "Rules that keep a stopping node silent",
        "auto, nft, iptables or none. Stop drops every packet to and from the address \
         (DROP, never REJECT) before it aborts the address's sockets and removes it, so no \
         client hears a FIN, RST or ICMP error from the old node and enters its reconnect \
         back-off; the rules are lifted once the address is gone. auto uses nftables when \
         the kernel has nf_tables (the rules are written over netlink, no nft process), else \
         iptables. An nftables table belongs to the agent's process, so the kernel removes \
         it if a stop is killed (Linux 5.12 and later); other rules an interrupted stop left \
         behind are removed by the next start or monitor (nftables table or iptables chain \
         nfsha-vip-*). none is not recommended.",
    )
    .check(check_firewall)
    .default("auto"),
];

static SPEC: AgentSpec = AgentSpec {
    name: "vip",
    shortdesc: "Virtual IP address for an NFS server group (added last, removed first)",
    longdesc: "Manages the virtual IP address that NFS clients mount from. It belongs at \
        the end of the NFS group: nfsstate, nfsserver, exportfs, then vip. Adding the \
        address last means a client's reconnect always finds a server that already exports \
        its filesystems and is in its grace period; removing it first on stop means clients \
        stop sending requests before the exports go away. Stop first drops all traffic of \
        the address (so no client hears a reset from this node), aborts its connections \
        locally, removes it and lifts the rules; start announces the address and sends \
        tickle ACKs to the connections the previous node recorded, so clients reconnect at \
        once instead of after their back-off. Monitor reads the kernel's address, link and \
        socket tables directly and costs about a millisecond.",
    params: PARAMS,
    refused: &[],
    timeouts: Timeouts {
        start: Duration::from_secs(20),
        stop: Duration::from_secs(20),
        monitor: Duration::from_secs(10),
        monitor_interval: Duration::from_secs(10),
        validate: Duration::from_secs(10),
    },
    monitor_depths: &[],
};

/// The parameters, checked for consistency with each other.
struct Config {
    ip: IpAddr,
    prefix: Option<u8>,
    nic: Option<String>,
    label: Option<String>,
    arp_count: u32,
    arp_interval_ms: u64,
    tickle_dir: Option<PathBuf>,
    /// `None`: from nfs.conf.
    tcp_ports: Option<Vec<u16>>,
    tickle_rounds: u32,
    tickle_interval_ms: u64,
    firewall: Firewall,
}

fn config(ctx: &Ctx) -> OcfResult<Config> {
    let p = &ctx.params;
    let raw_ip = p.str("ip").unwrap_or_default();
    let ip: IpAddr = raw_ip
        .parse()
        .map_err(|_| OcfError::configured(format!("parameter ip={raw_ip:?} is invalid")))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match p.int("cidr_netmask") {
        Some(n) if n > max => {
            return Err(OcfError::configured(format!(
                "parameter cidr_netmask=\"{n}\" is invalid: an {} prefix is at most {max}",
                if ip.is_ipv4() { "IPv4" } else { "IPv6" }
            )))
        }
        Some(n) => Some(n as u8),
        None => None,
    };
    let nic = p.str("nic").map(str::to_string);
    let label = p.str("label").map(str::to_string);
    if let Some(l) = &label {
        if ip.is_ipv6() {
            return Err(OcfError::configured(format!(
                "parameter label={l:?} is invalid: IPv6 addresses have no labels"
            )));
        }
        if let Some(n) = &nic {
            if n.len() + 1 + l.len() > 15 {
                return Err(OcfError::configured(format!(
                    "parameter label={l:?} is invalid: \"{n}:{l}\" is longer than 15 characters"
                )));
            }
        }
    }
    // The table checked these values and supplies the defaults; the
    // conversions below cannot fail.
    let int = |name: &str| p.int(name).unwrap_or_default().max(0) as u64;
    Ok(Config {
        ip,
        prefix,
        nic,
        label,
        arp_count: int("arp_count") as u32,
        arp_interval_ms: int("arp_interval_ms"),
        tickle_dir: p.str("tickle_dir").map(PathBuf::from),
        tcp_ports: p.str("tcp_ports").and_then(|raw| parse_ports(raw).ok()),
        tickle_rounds: int("tickle_rounds") as u32,
        tickle_interval_ms: int("tickle_interval_ms"),
        firewall: p
            .str("firewall")
            .and_then(parse_firewall)
            .ok_or_else(|| OcfError::configured("parameter firewall is not set"))?,
    })
}

fn sys_err(what: &str, e: std::io::Error) -> OcfError {
    OcfError::generic(format!("cannot read the {what} from the kernel: {e}"))
}

/// The interface and prefix length the address belongs on.
fn resolve(ctx: &Ctx, cfg: &Config) -> OcfResult<(Link, u8)> {
    let links = ctx.sys.links().map_err(|e| sys_err("interfaces", e))?;
    let routes = ctx
        .sys
        .routes(cfg.ip.is_ipv6())
        .map_err(|e| sys_err("routes", e))?;
    // Directly connected routes (no gateway) that cover the address, longest first.
    let mut connected: Vec<_> = routes
        .iter()
        .filter(|r| {
            r.unicast
                && r.gateway.is_none()
                && r.prefix_len > 0
                && r.oif.is_some()
                && contains(r.dst, r.prefix_len, cfg.ip)
        })
        .collect();
    connected.sort_by_key(|r| std::cmp::Reverse(r.prefix_len));
    let link = match &cfg.nic {
        Some(name) => links
            .iter()
            .find(|l| &l.name == name)
            .cloned()
            .ok_or_else(|| {
                OcfError::new(
                    Rc::ErrArgs,
                    format!("parameter nic={name:?}: no such interface on this node"),
                )
            })?,
        None => {
            let route = connected.first().ok_or_else(|| {
                OcfError::new(
                    Rc::ErrArgs,
                    format!(
                        "nic is not set and no directly connected route on this node covers {}; set nic= (and cidr_netmask=)",
                        cfg.ip
                    ),
                )
            })?;
            links
                .iter()
                .find(|l| Some(l.ifindex) == route.oif)
                .cloned()
                .ok_or_else(|| {
                    OcfError::generic(format!(
                        "the route covering {} points at interface index {:?}, which does not exist",
                        cfg.ip, route.oif
                    ))
                })?
        }
    };
    let prefix = match cfg.prefix {
        Some(p) => p,
        None => connected
            .iter()
            .find(|r| r.oif == Some(link.ifindex))
            .map(|r| r.prefix_len)
            .ok_or_else(|| {
                OcfError::new(
                    Rc::ErrArgs,
                    format!(
                        "cidr_netmask is not set and no route on {} on this node covers {}; set cidr_netmask=",
                        link.name, cfg.ip
                    ),
                )
            })?,
    };
    if let Some(l) = &cfg.label {
        // Only with the interface this node chose (nic unset) can this fail here.
        if link.name.len() + 1 + l.len() > 15 {
            return Err(OcfError::new(
                Rc::ErrArgs,
                format!(
                    "parameter label={l:?} is invalid on this node: \"{}:{l}\" is longer than 15 characters",
                    link.name
                ),
            ));
        }
    }
    Ok((link, prefix))
}

fn find(addrs: &[IfAddr], ip: IpAddr) -> Option<&IfAddr> {
    addrs.iter().find(|a| a.addr == ip)
}

fn family_flag(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "-4"
    } else {
        "-6"
    }
}

/// Wait for IPv6 duplicate address detection to finish.
fn wait_for_dad(ctx: &Ctx, cfg: &Config) -> OcfResult {
    let until = ctx.step(Duration::from_secs(10));
    loop {
        let addrs = ctx.sys.addresses().map_err(|e| sys_err("addresses", e))?;
        match find(&addrs, cfg.ip) {
            Some(a) if a.dad_failed => {
                return Err(OcfError::generic(format!(
                    "duplicate address detection failed: another host already uses {}",
                    cfg.ip
                )))
            }
            Some(a) if a.tentative && !until.passed(ctx.sys) => {
                ctx.sys.sleep(Duration::from_millis(50))
            }
            Some(a) if a.tentative => {
                return Err(OcfError::generic(format!(
                    "{} is still tentative (duplicate address detection did not finish)",
                    cfg.ip
                )))
            }
            Some(_) => return Ok(()),
            None => {
                return Err(OcfError::generic(format!(
                    "{} disappeared right after it was added",
                    cfg.ip
                )))
            }
        }
    }
}

/// The state files this resource keeps in the resource state directory
/// (`HA_RSCTMP`, cleared at boot): `nfsha-vip-<ip>.<what>`.
fn run_file(ctx: &Ctx, ip: IpAddr, what: &str) -> PathBuf {
    ctx.sys.state_dir().join(format!(
        "nfsha-vip-{}.{what}",
        ip.to_string().replace(':', "_")
    ))
}

/// Remove `ip` from `link`; an error when it is still there afterwards.
fn remove_address(ctx: &Ctx, cfg: &Config, a: &IfAddr, link: &Link) -> OcfResult {
    let cmd = Cmd::new("ip").args([
        family_flag(cfg.ip),
        "addr",
        "del",
        &format!("{}/{}", cfg.ip, a.prefix_len),
        "dev",
        &link.name,
    ]);
    let result = ctx.sys.run(&cmd, ctx.deadline);
    let addrs = ctx.sys.addresses().map_err(|e| sys_err("addresses", e))?;
    if find(&addrs, cfg.ip).is_some() {
        let why = match result {
            Ok(out) => out.failure_text(),
            Err(e) => e.to_string(),
        };
        return Err(OcfError::generic(format!(
            "could not remove {} from {}: {why}",
            cfg.ip, link.name
        )));
    }
    tracing::info!("removed {} from {}", cfg.ip, link.name);
    Ok(())
}

impl Agent for Vip {
    fn spec(&self) -> &'static AgentSpec {
        &SPEC
    }

    fn validate(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        if ctx.action != crate::ocf::Action::ValidateAll || ctx.check_level >= 10 {
            resolve(ctx, &cfg)?;
            silence::check_installed(ctx, &cfg)?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        let (link, prefix) = resolve(ctx, &cfg)?;
        // Before anything else: rules left by an interrupted stop (or saved
        // into a boot-time ruleset) would make the address a black hole.
        silence::clean_before_start(ctx, &cfg)?;
        let addrs = ctx.sys.addresses().map_err(|e| sys_err("addresses", e))?;
        if let Some(a) = find(&addrs, cfg.ip) {
            if a.ifindex != link.ifindex {
                return Err(OcfError::generic(format!(
                    "{} is already configured on another interface (index {}), not on {}",
                    cfg.ip, a.ifindex, link.name
                )));
            }
            if a.prefix_len != prefix {
                return Err(OcfError::generic(format!(
                    "{} is already on {} with prefix /{}, but /{prefix} is configured; remove it by hand",
                    cfg.ip, link.name, a.prefix_len
                )));
            }
            tracing::info!("{} is already on {}", cfg.ip, link.name);
            return Ok(());
        }
        if ctx.params.bool("require_exports") {
            ordering::before_vip_start(ctx)?;
        }
        if !link.up {
            return Err(OcfError::generic(format!(
                "interface {} is down; bring it up before the cluster adds {} to it",
                link.name, cfg.ip
            )));
        }
        let mut cmd = Cmd::new("ip").args([
            family_flag(cfg.ip),
            "addr",
            "add",
            &format!("{}/{prefix}", cfg.ip),
            "dev",
            &link.name,
        ]);
        if let Some(l) = &cfg.label {
            cmd = cmd.args(["label", &format!("{}:{l}", link.name)]);
        }
        let out = ctx.sys.run(&cmd, ctx.deadline).map_err(|e| match e {
            sys::RunError::NotFound(_) => {
                OcfError::installed("the ip command (iproute2) is not installed")
            }
            e => OcfError::generic(e.to_string()),
        })?;
        if !out.success() {
            return Err(OcfError::generic(format!(
                "`{}` failed: {}",
                cmd.display(),
                out.failure_text()
            )));
        }
        if cfg.ip.is_ipv6() {
            wait_for_dad(ctx, &cfg)?;
        }
        let addrs = ctx.sys.addresses().map_err(|e| sys_err("addresses", e))?;
        if find(&addrs, cfg.ip).is_none() {
            return Err(OcfError::generic(format!(
                "{} is not on {} after adding it",
                cfg.ip, link.name
            )));
        }
        tracing::info!("added {}/{prefix} to {}", cfg.ip, link.name);
        // The record on the state directory is the previous owner's now.
        record::forget_saved(ctx, &cfg);
        takeover::start(ctx, &cfg, &link);
        if ctx.params.bool("require_exports") {
            crate::agents::sm_notify::after_address_up(ctx, cfg.ip)?;
        }
        Ok(())
    }

    fn stop(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        if ctx.params.bool("require_exports") {
            ordering::before_vip_stop(ctx);
        }
        // Announcing an address after it moved would pull clients back here.
        takeover::stop(ctx, cfg.ip);
        let links = ctx.sys.links().map_err(|e| sys_err("interfaces", e))?;
        let addrs = ctx.sys.addresses().map_err(|e| sys_err("addresses", e))?;
        let Some(a) = find(&addrs, cfg.ip) else {
            silence::clean_stale(ctx, &cfg);
            tracing::info!("{} is not configured; nothing to stop", cfg.ip);
            return Ok(());
        };
        let Some(link) = links.iter().find(|l| l.ifindex == a.ifindex) else {
            return Err(OcfError::generic(format!(
                "{} is on interface index {}, which has no name",
                cfg.ip, a.ifindex
            )));
        };
        if let Some(nic) = &cfg.nic {
            if &link.name != nic {
                tracing::warn!(
                    "{} is on {}, not on the configured {nic}; leaving it alone",
                    cfg.ip,
                    link.name
                );
                return Ok(());
            }
        }
        // Silent first, then the connections, then the address; the rules
        // come off only once the address is gone.
        let quiet = silence::open(ctx, &cfg);
        let sockets = silence::connected_sockets(ctx, &cfg);
        let recorded = record::established(ctx, &cfg, &sockets);
        if quiet.is_some() {
            silence::abort_sockets(ctx, &cfg, &sockets);
        }
        let removed = remove_address(ctx, &cfg, a, link);
        if let Some(quiet) = quiet {
            silence::close(ctx, &cfg, quiet);
        }
        if let Some(record) = recorded {
            // No fsync: the group unmounts the filesystem next.
            record::save(ctx, &cfg, &record, Durability::AtUnmount);
        }
        removed
    }

    fn monitor(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        silence::clean_stale(ctx, &cfg);
        let addrs = ctx.sys.addresses().map_err(|e| sys_err("addresses", e))?;
        let Some(a) = find(&addrs, cfg.ip) else {
            return Err(OcfError::not_running(format!(
                "{} is not configured",
                cfg.ip
            )));
        };
        let links = ctx.sys.links().map_err(|e| sys_err("interfaces", e))?;
        let link = links.iter().find(|l| l.ifindex == a.ifindex);
        let name = link.map(|l| l.name.as_str()).unwrap_or("?");
        if let Some(nic) = &cfg.nic {
            if name != nic {
                return Err(OcfError::generic(format!(
                    "{} is on {name}, not on the configured {nic}",
                    cfg.ip
                )));
            }
        }
        match link {
            Some(l) if !l.up => Err(OcfError::generic(format!(
                "{} is on {name}, which is administratively down",
                cfg.ip
            ))),
            Some(l) if !l.lower_up => Err(OcfError::generic(format!(
                "{} is on {name}, which has no carrier",
                cfg.ip
            ))),
            None => Err(OcfError::generic(format!(
                "{} is on interface index {}, which is gone",
                cfg.ip, a.ifindex
            ))),
            Some(_) if a.dad_failed => Err(OcfError::generic(format!(
                "{} failed duplicate address detection: another host uses it",
                cfg.ip
            ))),
            Some(_) => {
                record::refresh(ctx, &cfg);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests;
