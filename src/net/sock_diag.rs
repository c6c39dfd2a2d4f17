//! The kernel's TCP socket table through netlink `sock_diag` (inet_diag, the
//! interface `ss` uses), and `SOCK_DESTROY` to abort a socket locally.
//!
//! The vip agent reads the connections of its address here at every monitor,
//! so this is a few system calls and no process: `ss` costs milliseconds and
//! its text changes between versions (resource-agents' portblock parses it
//! with awk and broke on iptables/ss output changes more than once).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::nlsock::NlSocket;

const NETLINK_SOCK_DIAG: libc::c_int = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const SOCK_DESTROY: u16 = 21;

/// TCP states (include/net/tcp_states.h).
pub const TCP_ESTABLISHED: u8 = 1;
const TCP_TIME_WAIT: u8 = 6;
const TCP_CLOSE: u8 = 7;
const TCP_LISTEN: u8 = 10;

/// `struct inet_diag_sockid`: ports, addresses, interface, cookie.
const SOCKID_LEN: usize = 48;
/// `struct inet_diag_msg`: family, state, timer, retrans, sockid, 5 × u32.
const MSG_LEN: usize = 4 + SOCKID_LEN + 20;

/// One TCP socket whose local address is of interest, as the kernel lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSocket {
    /// Our end (an IPv4 address also when an IPv6 socket carries it v4-mapped).
    pub local: SocketAddr,
    /// The peer's end.
    pub remote: SocketAddr,
    /// The TCP state number (`TCP_ESTABLISHED` = 1, …).
    pub state: u8,
    /// The kernel's identity of the socket, needed to destroy exactly it.
    pub id: SocketId,
}

/// What `SOCK_DESTROY` needs to find one socket: its family as listed and
/// the raw `inet_diag_sockid` (addresses as the socket holds them, cookie).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketId {
    pub family: u8,
    pub raw: [u8; SOCKID_LEN],
}

impl TcpSocket {
    pub fn established(&self) -> bool {
        self.state == TCP_ESTABLISHED
    }
}

/// The request body: `struct inet_diag_req_v2` for TCP.
fn request(family: u8, states: u32, id: &[u8; SOCKID_LEN]) -> [u8; 8 + SOCKID_LEN] {
    let mut b = [0u8; 8 + SOCKID_LEN];
    b[0] = family;
    b[1] = libc::IPPROTO_TCP as u8;
    b[4..8].copy_from_slice(&states.to_ne_bytes());
    b[8..].copy_from_slice(id);
    b
}

/// An address as carried in a sockid, with v4-mapped IPv6 turned into IPv4.
fn addr_at(family: u8, b: &[u8]) -> IpAddr {
    if family as i32 == libc::AF_INET {
        return IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]));
    }
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    let v6 = Ipv6Addr::from(a);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

/// Decode one `inet_diag_msg`; `None` for a message too short to be one.
pub fn parse_msg(m: &[u8]) -> Option<TcpSocket> {
    if m.len() < MSG_LEN {
        return None;
    }
    let family = m[0];
    let id = &m[4..4 + SOCKID_LEN];
    let sport = u16::from_be_bytes([id[0], id[1]]);
    let dport = u16::from_be_bytes([id[2], id[3]]);
    let mut raw = [0u8; SOCKID_LEN];
    raw.copy_from_slice(id);
    Some(TcpSocket {
        local: SocketAddr::new(addr_at(family, &id[4..20]), sport),
        remote: SocketAddr::new(addr_at(family, &id[20..36]), dport),
        state: m[1],
        id: SocketId { family, raw },
    })
}

/// Every state but LISTEN, TIME_WAIT and CLOSE: the sockets that belong to a
/// live or closing connection.
pub const CONNECTED_STATES: u32 =
    !((1 << TCP_LISTEN) | (1 << TCP_TIME_WAIT) | (1 << TCP_CLOSE)) & 0xfffe;

/// Which kernel tables to read for an IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapped {
    /// IPv4 sockets only: one walk of the kernel's established hash (which
    /// has 2^18 buckets on a 24 GB machine; a walk costs a few hundred µs).
    /// nfsd's sockets are never v4-mapped: sunrpc sets IPV6_V6ONLY.
    Skip,
    /// Also dual-stack IPv6 sockets carrying IPv4 connections v4-mapped: a
    /// second walk.
    Include,
}

/// The TCP sockets in `states` (a bit mask of `1 << state`) whose local
/// address is `local`.
pub fn tcp_sockets(local: IpAddr, states: u32, mapped: Mapped) -> io::Result<Vec<TcpSocket>> {
    let families: &[i32] = match (local, mapped) {
        (IpAddr::V4(_), Mapped::Include) => &[libc::AF_INET, libc::AF_INET6],
        (IpAddr::V4(_), Mapped::Skip) => &[libc::AF_INET],
        (IpAddr::V6(_), _) => &[libc::AF_INET6],
    };
    let mut out = Vec::new();
    let mut nl = NlSocket::open(NETLINK_SOCK_DIAG)?;
    for &family in families {
        let body = request(family as u8, states, &[0; SOCKID_LEN]);
        let result = nl.dump(SOCK_DIAG_BY_FAMILY, &body, |m| {
            if let Some(s) = parse_msg(m) {
                if s.local.ip() == local {
                    out.push(s);
                }
            }
        });
        match result {
            Ok(()) => {}
            // A kernel without IPv6 has no AF_INET6 table to list.
            Err(e) if family == libc::AF_INET6 && local.is_ipv4() && is_unsupported(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn is_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT) | Some(libc::EAFNOSUPPORT) | Some(libc::EOPNOTSUPP)
    )
}

/// Abort `s` in the kernel (`SOCK_DESTROY`, like `ss -K`): the socket is
/// freed and its owner gets `ECONNABORTED`. The kernel sends the peer a RST
/// on the way out, so callers drop the address's traffic first.
///
/// A socket that is already gone counts as destroyed. `EOPNOTSUPP` means the
/// kernel was built without `CONFIG_INET_DIAG_DESTROY`.
pub fn destroy(s: &TcpSocket) -> io::Result<()> {
    let mut nl = NlSocket::open(NETLINK_SOCK_DIAG)?;
    let body = request(s.id.family, u32::MAX, &s.id.raw);
    match nl.request(SOCK_DESTROY, &body) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    fn msg(family: u8, state: u8, src: &[u8], sport: u16, dst: &[u8], dport: u16) -> Vec<u8> {
        let mut m = vec![0u8; MSG_LEN];
        m[0] = family;
        m[1] = state;
        m[4..6].copy_from_slice(&sport.to_be_bytes());
        m[6..8].copy_from_slice(&dport.to_be_bytes());
        m[8..8 + src.len()].copy_from_slice(src);
        m[24..24 + dst.len()].copy_from_slice(dst);
        m
    }

    #[test]
    fn decodes_ipv4_ipv6_and_v4_mapped() {
        let m = msg(2, 1, &[192, 0, 2, 50], 2049, &[192, 0, 2, 2], 812);
        let s = parse_msg(&m).unwrap();
        assert_eq!(s.local, "192.0.2.50:2049".parse().unwrap());
        assert_eq!(s.remote, "192.0.2.2:812".parse().unwrap());
        assert!(s.established());
        let v6: Ipv6Addr = "fd00::50".parse().unwrap();
        let m = msg(10, 4, &v6.octets(), 2049, &Ipv6Addr::LOCALHOST.octets(), 7);
        let s = parse_msg(&m).unwrap();
        assert_eq!(s.local, "[fd00::50]:2049".parse().unwrap());
        assert!(!s.established());
        let mapped = Ipv4Addr::new(192, 0, 2, 50).to_ipv6_mapped();
        let m = msg(10, 1, &mapped.octets(), 2049, &[0; 16], 1);
        assert_eq!(
            parse_msg(&m).unwrap().local,
            "192.0.2.50:2049".parse().unwrap()
        );
        assert_eq!(parse_msg(&m[..MSG_LEN - 1]), None);
    }

    #[test]
    fn connected_states_leave_out_listen_time_wait_and_close() {
        assert_eq!(CONNECTED_STATES & (1 << TCP_LISTEN), 0);
        assert_eq!(CONNECTED_STATES & (1 << TCP_TIME_WAIT), 0);
        assert_eq!(CONNECTED_STATES & (1 << TCP_CLOSE), 0);
        assert_ne!(CONNECTED_STATES & (1 << TCP_ESTABLISHED), 0);
        assert_eq!(CONNECTED_STATES & 1, 0, "state 0 does not exist");
        // SYN_RECV (3) and the closing states are connections too.
        for s in [2, 3, 4, 5, 8, 9, 11, 12] {
            assert_ne!(CONNECTED_STATES & (1 << s), 0, "state {s}");
        }
    }

    /// The real kernel: a loopback connection is listed, and destroying the
    /// server's end aborts it (ECONNABORTED for its owner).
    #[test]
    fn lists_and_destroys_a_real_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (mut server, peer) = listener.accept().unwrap();
        client.write_all(b"x").unwrap();
        let mut b = [0u8; 1];
        server.read_exact(&mut b).unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let all =
            tcp_sockets(local, 1 << TCP_ESTABLISHED, Mapped::Include).expect("sock_diag dump");
        assert_eq!(
            tcp_sockets(local, 1 << TCP_ESTABLISHED, Mapped::Skip).unwrap(),
            all,
            "a std socket on 127.0.0.1 is an IPv4 socket"
        );
        let ours: Vec<_> = all
            .iter()
            .filter(|s| s.local.port() == port && s.remote == peer)
            .collect();
        assert_eq!(ours.len(), 1, "{all:?}");
        // SOCK_DESTROY needs CAP_NET_ADMIN: the suite runs as root.
        destroy(ours[0]).expect("SOCK_DESTROY");
        let err = server.read(&mut b).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ECONNABORTED), "{err}");
        // Gone is gone: a second destroy of the same socket is not an error.
        destroy(ours[0]).expect("destroying a vanished socket");
    }
}
