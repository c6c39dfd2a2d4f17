//! A minimal rtnetlink client: dumps of addresses, links and routes.
//!
//! `monitor` of a virtual IP runs every few seconds on every node; asking the
//! kernel directly costs microseconds where spawning `ip` costs milliseconds.
//! Only read-only dumps live here; changes go through `ip` as argv.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::nlsock::{align4, u16_at, u32_at, NlSocket};

/// An address configured on an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfAddr {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub label: Option<String>,
    /// IPv6 duplicate address detection still running.
    pub tentative: bool,
    /// IPv6 duplicate address detection found another owner.
    pub dad_failed: bool,
}

/// A network interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub ifindex: u32,
    pub name: String,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Carrier present (`IFF_LOWER_UP`).
    pub lower_up: bool,
    pub mac: Option<[u8; 6]>,
}

/// A route of the main table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: IpAddr,
    pub prefix_len: u8,
    pub oif: Option<u32>,
    pub gateway: Option<IpAddr>,
    /// `RTN_UNICAST` routes only are usable to find an interface.
    pub unicast: bool,
}

const RTM_GETLINK: u16 = 18;
const RTM_GETADDR: u16 = 22;
const RTM_GETROUTE: u16 = 26;
const RT_TABLE_MAIN: u32 = 254;

/// Iterate `(type, payload)` over the rtattrs in `b`.
fn attrs(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < 4 {
            return None;
        }
        let len = u16_at(b, 0) as usize;
        let kind = u16_at(b, 2) & 0x3fff;
        if len < 4 || len > b.len() {
            return None;
        }
        let payload = &b[4..len];
        b = &b[align4(len).min(b.len())..];
        Some((kind, payload))
    })
}

fn ip_from(family: u8, b: &[u8]) -> Option<IpAddr> {
    match (family as i32, b.len()) {
        (libc::AF_INET, 4) => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        (libc::AF_INET6, 16) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// One rtnetlink dump.
fn dump(kind: u16, body: &[u8], each: impl FnMut(&[u8])) -> io::Result<()> {
    NlSocket::open(libc::NETLINK_ROUTE)?.dump(kind, body, each)
}

/// All addresses of all interfaces in this network namespace.
pub fn addresses() -> io::Result<Vec<IfAddr>> {
    let mut out = Vec::new();
    // struct ifaddrmsg { family, prefixlen, flags, scope: u8; index: u32 }
    let body = [0u8; 8];
    dump(RTM_GETADDR, &body, |m| {
        if m.len() < 8 {
            return;
        }
        let family = m[0];
        let mut a = IfAddr {
            ifindex: u32_at(m, 4),
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            prefix_len: m[1],
            label: None,
            tentative: false,
            dad_failed: false,
        };
        let mut flags = m[2] as u32;
        let (mut address, mut local) = (None, None);
        for (kind, p) in attrs(&m[8..]) {
            match kind {
                1 => address = ip_from(family, p),
                2 => local = ip_from(family, p),
                3 => a.label = Some(cstr(p)),
                8 if p.len() >= 4 => flags = u32_at(p, 0),
                _ => {}
            }
        }
        let Some(addr) = local.or(address) else {
            return;
        };
        a.addr = addr;
        a.tentative = flags & 0x40 != 0;
        a.dad_failed = flags & 0x08 != 0;
        out.push(a);
    })?;
    Ok(out)
}

/// All links in this network namespace.
pub fn links() -> io::Result<Vec<Link>> {
    let mut out = Vec::new();
    // struct ifinfomsg { family: u8, pad: u8, type: u16, index: i32, flags: u32, change: u32 }
    let body = [0u8; 16];
    dump(RTM_GETLINK, &body, |m| {
        if m.len() < 16 {
            return;
        }
        let flags = u32_at(m, 8);
        let mut l = Link {
            ifindex: u32_at(m, 4),
            name: String::new(),
            up: flags & libc::IFF_UP as u32 != 0,
            lower_up: flags & 0x10000 != 0,
            mac: None,
        };
        for (kind, p) in attrs(&m[16..]) {
            match kind {
                1 if p.len() == 6 => {
                    let mut mac = [0u8; 6];
                    mac.copy_from_slice(p);
                    l.mac = Some(mac);
                }
                3 => l.name = cstr(p),
                _ => {}
            }
        }
        out.push(l);
    })?;
    Ok(out)
}

/// The unicast and other routes of the main table for one address family.
pub fn routes(v6: bool) -> io::Result<Vec<Route>> {
    let mut out = Vec::new();
    let family = if v6 { libc::AF_INET6 } else { libc::AF_INET } as u8;
    // struct rtmsg { family, dst_len, src_len, tos, table, protocol, scope, type: u8; flags: u32 }
    let mut body = [0u8; 12];
    body[0] = family;
    dump(RTM_GETROUTE, &body, |m| {
        if m.len() < 12 || m[0] != family {
            return;
        }
        let mut table = m[4] as u32;
        let mut r = Route {
            dst: if v6 {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            },
            prefix_len: m[1],
            oif: None,
            gateway: None,
            unicast: m[7] == 1,
        };
        for (kind, p) in attrs(&m[12..]) {
            match kind {
                1 => {
                    if let Some(ip) = ip_from(family, p) {
                        r.dst = ip;
                    }
                }
                4 if p.len() >= 4 => r.oif = Some(u32_at(p, 0)),
                5 => r.gateway = ip_from(family, p),
                15 if p.len() >= 4 => table = u32_at(p, 0),
                _ => {}
            }
        }
        if table == RT_TABLE_MAIN {
            out.push(r);
        }
    })?;
    Ok(out)
}

/// Whether `ip` lies within `net/prefix_len`.
pub fn contains(net: IpAddr, prefix_len: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let p = prefix_len.min(32) as u32;
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            (u32::from(n) & mask) == (u32::from(a) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let p = prefix_len.min(128) as u32;
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            (u128::from(n) & mask) == (u128::from(a) & mask)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_containment() {
        let net: IpAddr = "10.1.2.0".parse().unwrap();
        assert!(contains(net, 24, "10.1.2.200".parse().unwrap()));
        assert!(!contains(net, 24, "10.1.3.1".parse().unwrap()));
        assert!(contains(net, 0, "192.0.2.1".parse().unwrap()));
        let net6: IpAddr = "fd00:1::".parse().unwrap();
        assert!(contains(net6, 64, "fd00:1::5".parse().unwrap()));
        assert!(!contains(net6, 64, "fd00:2::5".parse().unwrap()));
        assert!(!contains(net, 8, net6));
    }

    #[test]
    fn attribute_walk_stops_on_garbage() {
        // A valid 8-byte attr followed by a bogus length.
        let mut b = vec![8, 0, 3, 0, b'l', b'o', 0, 0];
        b.extend_from_slice(&[200, 0, 1, 0]);
        let got: Vec<_> = attrs(&b).collect();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 3);
    }

    #[test]
    fn loopback_is_listed() {
        // Every network namespace has lo with 127.0.0.1 once it is up; the
        // kernel's answer must at least parse and name the link.
        let links = links().expect("RTM_GETLINK");
        assert!(links.iter().any(|l| l.name == "lo"), "{links:?}");
        addresses().expect("RTM_GETADDR");
        routes(false).expect("RTM_GETROUTE");
    }
}
