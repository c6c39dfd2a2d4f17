//! `ocf:nfsha:vip` — the virtual IP clients mount from; the last member of the
//! NFS group to start and the first to stop.
//!
//! Start adds the address with `ip` (argv) and announces it from a detached
//! helper so start does not wait for the whole announcement; monitor reads the
//! kernel's address and link tables over netlink (no process is spawned).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::agents::group_checks as ordering;
use crate::net::netlink::{contains, IfAddr, Link};
use crate::ocf::params::interface_name;
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
];

static SPEC: AgentSpec = AgentSpec {
    name: "vip",
    shortdesc: "Virtual IP address for an NFS server group (added last, removed first)",
    longdesc: "Manages the virtual IP address that NFS clients mount from. It belongs at \
        the end of the NFS group: nfsstate, nfsserver, exportfs, then vip. Adding the \
        address last means a client's reconnect always finds a server that already exports \
        its filesystems and is in its grace period; removing it first on stop means clients \
        stop sending requests before the exports go away. Monitor reads the kernel's \
        address and link tables directly and costs well under a millisecond.",
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
    arp_count: i64,
    arp_interval_ms: i64,
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
    Ok(Config {
        ip,
        prefix,
        nic,
        label,
        arp_count: p.int("arp_count").unwrap_or(5),
        arp_interval_ms: p.int("arp_interval_ms").unwrap_or(200),
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

fn announcer_pidfile(ctx: &Ctx, ip: IpAddr) -> PathBuf {
    ctx.sys.state_dir().join(format!(
        "nfsha-vip-{}.announce.pid",
        ip.to_string().replace(':', "_")
    ))
}

/// End a still-running announcer for this address: announcing an address
/// after it moved would pull clients back to the old node.
fn stop_announcer(ctx: &Ctx, ip: IpAddr) {
    let pidfile = announcer_pidfile(ctx, ip);
    let Ok(text) = ctx.sys.read_to_string(&pidfile) else {
        return;
    };
    if let Ok(pid) = text.trim().parse::<u32>() {
        let cmdline = ctx
            .sys
            .read_to_string(&PathBuf::from(format!("/proc/{pid}/cmdline")))
            .unwrap_or_default();
        if cmdline.contains("announce") && cmdline.contains(&ip.to_string()) {
            let _ = ctx.sys.kill(pid, libc::SIGTERM);
        }
    }
    let _ = ctx.sys.remove_file(&pidfile);
}

fn start_announcer(ctx: &Ctx, cfg: &Config, link: &Link) {
    if cfg.arp_count == 0 {
        return;
    }
    let argv = vec![
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
    ];
    match ctx.sys.spawn_detached(&argv) {
        Ok(pid) => {
            let _ = ctx.sys.write(
                &announcer_pidfile(ctx, cfg.ip),
                format!("{pid}\n").as_bytes(),
            );
            tracing::info!(
                "announcing {} on {} ({} times, every {} ms)",
                cfg.ip,
                link.name,
                cfg.arp_count,
                cfg.arp_interval_ms
            );
        }
        // The address works without announcements; clients just learn it later.
        Err(e) => tracing::warn!("could not start announcing {}: {e}", cfg.ip),
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

impl Agent for Vip {
    fn spec(&self) -> &'static AgentSpec {
        &SPEC
    }

    fn validate(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        if ctx.action != crate::ocf::Action::ValidateAll || ctx.check_level >= 10 {
            resolve(ctx, &cfg)?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
        let (link, prefix) = resolve(ctx, &cfg)?;
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
        start_announcer(ctx, &cfg, &link);
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
        stop_announcer(ctx, cfg.ip);
        let links = ctx.sys.links().map_err(|e| sys_err("interfaces", e))?;
        let addrs = ctx.sys.addresses().map_err(|e| sys_err("addresses", e))?;
        let Some(a) = find(&addrs, cfg.ip) else {
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

    fn monitor(&self, ctx: &Ctx) -> OcfResult {
        let cfg = config(ctx)?;
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
            Some(_) => Ok(()),
        }
    }
}

/// The detached announcer: `nfsha announce` runs this.
pub fn announce(nic: &str, ip: IpAddr, count: u32, interval: Duration) -> Result<(), String> {
    use crate::net::announce::Announcer;
    let links = crate::net::netlink::links().map_err(|e| format!("reading links: {e}"))?;
    let link = links
        .iter()
        .find(|l| l.name == nic)
        .ok_or_else(|| format!("no interface {nic}"))?;
    let mac = link
        .mac
        .ok_or_else(|| format!("{nic} has no Ethernet address to announce"))?;
    // An IPv6 address cannot be bound while tentative; give DAD a moment.
    let mut announcer = None;
    for _ in 0..50 {
        match Announcer::new(link.ifindex, mac, ip) {
            Ok(a) => {
                announcer = Some(a);
                break;
            }
            Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => return Err(format!("opening a socket on {nic}: {e}")),
        }
    }
    let announcer = announcer.ok_or_else(|| format!("{ip} never became usable on {nic}"))?;
    for i in 0..count {
        if i > 0 {
            std::thread::sleep(interval);
        }
        announcer
            .send()
            .map_err(|e| format!("sending announcement {} of {count}: {e}", i + 1))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::netlink::Route;
    use crate::ocf;
    use crate::sys::fake::{fail, Fake};
    use crate::sys::System;
    use std::collections::BTreeMap;

    /// A node of a started NFS group (nfsd running, one export active), so
    /// the ordering check before adding the address passes.
    fn fake_net() -> Fake {
        let f = Fake::new();
        f.file("/proc/fs/nfsd/threads", "8\n");
        f.file(
            "/var/lib/nfs/etab",
            "/srv/nfs/share\t192.0.2.0/24(rw,sync,fsid=1)\n",
        );
        f.set_links(vec![
            Link {
                ifindex: 1,
                name: "lo".into(),
                up: true,
                lower_up: true,
                mac: None,
            },
            Link {
                ifindex: 2,
                name: "eth0".into(),
                up: true,
                lower_up: true,
                mac: Some([2, 0, 0, 0, 0, 2]),
            },
        ]);
        f.set_routes(vec![
            Route {
                dst: "192.0.2.0".parse().unwrap(),
                prefix_len: 24,
                oif: Some(2),
                gateway: None,
                unicast: true,
            },
            Route {
                dst: "0.0.0.0".parse().unwrap(),
                prefix_len: 0,
                oif: Some(2),
                gateway: Some("192.0.2.1".parse().unwrap()),
                unicast: true,
            },
        ]);
        f
    }

    fn addr(ip: &str, prefix: u8, ifindex: u32) -> IfAddr {
        IfAddr {
            ifindex,
            addr: ip.parse().unwrap(),
            prefix_len: prefix,
            label: None,
            tentative: false,
            dad_failed: false,
        }
    }

    fn go(sys: &Fake, action: &str, params: &[(&str, &str)]) -> (i32, String) {
        let mut env: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| (format!("OCF_RESKEY_{k}"), v.to_string()))
            .collect();
        env.insert("OCF_RESKEY_CRM_meta_interval".into(), "10000".into());
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let rc = ocf::run(&Vip, Some(action), env, sys, &mut o, &mut e);
        (rc, String::from_utf8(e).unwrap())
    }

    #[test]
    fn start_finds_nic_and_prefix_from_the_connected_route() {
        let f = fake_net();
        let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
        // The fake does not apply `ip addr add`, so the verification fails,
        // but the command it ran is what matters here.
        assert_eq!(rc, 1, "{err}");
        assert_eq!(f.commands(), vec!["ip -4 addr add 192.0.2.50/24 dev eth0"]);
    }

    #[test]
    fn start_refuses_before_the_exports_are_active() {
        let f = fake_net();
        f.file("/proc/fs/nfsd/threads", "0\n");
        let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
        assert_eq!(rc, 1);
        assert!(
            err.contains("ordering: nfsd is not running on this node"),
            "{err}"
        );
        let f = fake_net();
        f.file("/var/lib/nfs/etab", "");
        let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
        assert_eq!(rc, 1);
        assert!(err.contains("ordering: nothing is exported"), "{err}");
        // An export an nfsha exportfs resource started here has gone.
        let f = fake_net();
        f.file(
            "/run/resource-agents/nfsha-exportfs-192.0.2.0_24@_srv_nfs_other",
            "directory=/srv/nfs/other\nclient=192.0.2.0/24\n",
        );
        let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
        assert_eq!(rc, 1);
        assert!(
            err.contains("ordering: the export of /srv/nfs/other to 192.0.2.0/24 is not active"),
            "{err}"
        );
        assert!(f.commands().is_empty(), "no address added");
        // At stop the same finding is only a warning.
        f.set_addresses(vec![addr("192.0.2.50", 24, 2)]);
        let (_, err) = go(&f, "stop", &[("ip", "192.0.2.50")]);
        assert!(!err.contains("ordering"), "{err}");
        assert_eq!(f.commands(), vec!["ip -4 addr del 192.0.2.50/24 dev eth0"]);
    }

    #[test]
    fn start_is_idempotent_and_announces_nothing_twice() {
        let f = fake_net();
        f.set_addresses(vec![addr("192.0.2.50", 24, 2)]);
        let (rc, _) = go(&f, "start", &[("ip", "192.0.2.50")]);
        assert_eq!(rc, 0);
        assert!(f.commands().is_empty());
        assert!(f.spawned().is_empty());
    }

    #[test]
    fn start_refuses_a_conflicting_prefix_or_interface() {
        let f = fake_net();
        f.set_addresses(vec![addr("192.0.2.50", 25, 2)]);
        let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50"), ("cidr_netmask", "24")]);
        assert_eq!(rc, 1);
        assert!(err.contains("already on eth0 with prefix /25"), "{err}");
        f.set_addresses(vec![addr("192.0.2.50", 24, 1)]);
        let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
        assert_eq!(rc, 1);
        assert!(err.contains("another interface"), "{err}");
    }

    #[test]
    fn no_route_and_no_nic_here_are_node_local_errors() {
        // OCF_ERR_ARGS (2), not 6: the other node may have the interface or
        // the route, and Pacemaker tries it there only after a 2.
        let f = fake_net();
        let (rc, err) = go(&f, "start", &[("ip", "198.51.100.7")]);
        assert_eq!(rc, 2);
        assert!(
            err.contains("no directly connected route on this node covers 198.51.100.7; set nic="),
            "{err}"
        );
        let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50"), ("nic", "eth9")]);
        assert_eq!(rc, 2);
        assert!(err.contains("nic=\"eth9\": no such interface"), "{err}");
    }

    #[test]
    fn validate_all_level_0_checks_only_the_parameters() {
        let f = fake_net();
        assert_eq!(
            go(&f, "validate-all", &[("ip", "192.0.2.50"), ("nic", "eth9")]).0,
            0
        );
        let mut env = vec![("ip", "192.0.2.50"), ("nic", "eth9")];
        env.push(("cidr_netmask", "40"));
        let (rc, err) = go(&f, "validate-all", &env);
        assert_eq!(rc, 6);
        assert!(err.contains("cidr_netmask=\"40\" is invalid: an IPv4 prefix is at most 32"));
        let (rc, err) = go(&f, "validate-all", &[("ip", "fd00::5"), ("label", "nfs")]);
        assert_eq!(rc, 6);
        assert!(err.contains("IPv6 addresses have no labels"));
        let (rc, err) = go(&f, "validate-all", &[("ip", "10.0.0.5;touch /tmp/x")]);
        assert_eq!(rc, 6);
        assert!(err.contains("ip=\"10.0.0.5;touch /tmp/x\""), "{err}");
        assert!(f.commands().is_empty());
    }

    #[test]
    fn label_and_ipv6_commands() {
        let f = fake_net();
        go(&f, "start", &[("ip", "192.0.2.50"), ("label", "nfs")]);
        assert_eq!(
            f.commands(),
            vec!["ip -4 addr add 192.0.2.50/24 dev eth0 label eth0:nfs"]
        );
        let f = fake_net();
        go(
            &f,
            "start",
            &[("ip", "fd00::5"), ("nic", "eth0"), ("cidr_netmask", "64")],
        );
        assert_eq!(f.commands(), vec!["ip -6 addr add fd00::5/64 dev eth0"]);
    }

    #[test]
    fn failing_ip_command_is_reported() {
        let f = fake_net();
        f.respond(|c| {
            (c.program == "ip")
                .then(|| fail(2, "RTNETLINK answers: Permission denied"))
                .flatten()
        });
        let (rc, err) = go(&f, "start", &[("ip", "192.0.2.50")]);
        assert_eq!(rc, 1);
        assert!(
            err.contains("RTNETLINK answers: Permission denied"),
            "{err}"
        );
    }

    #[test]
    fn monitor_states() {
        let f = fake_net();
        assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 7);
        f.set_addresses(vec![addr("192.0.2.50", 24, 2)]);
        assert_eq!(go(&f, "monitor", &[("ip", "192.0.2.50")]).0, 0);
        let (rc, err) = go(&f, "monitor", &[("ip", "192.0.2.50"), ("nic", "lo")]);
        assert_eq!(rc, 1);
        assert!(err.contains("not on the configured lo"));
        let mut links = f.links().unwrap();
        links[1].lower_up = false;
        f.set_links(links);
        let (rc, err) = go(&f, "monitor", &[("ip", "192.0.2.50")]);
        assert_eq!(rc, 1);
        assert!(err.contains("no carrier"), "{err}");
    }

    #[test]
    fn stop_when_stopped_succeeds_and_stop_removes() {
        let f = fake_net();
        assert_eq!(go(&f, "stop", &[("ip", "192.0.2.50")]).0, 0);
        assert!(f.commands().is_empty());
        f.set_addresses(vec![addr("192.0.2.50", 24, 2)]);
        // The fake keeps the address, so stop must report it could not remove it.
        let (rc, err) = go(&f, "stop", &[("ip", "192.0.2.50")]);
        assert_eq!(rc, 1);
        assert!(err.contains("could not remove 192.0.2.50 from eth0"));
        assert_eq!(f.commands(), vec!["ip -4 addr del 192.0.2.50/24 dev eth0"]);
    }
}
