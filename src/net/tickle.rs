//! Tickle ACKs: the packet CTDB (`ctdb_sys_send_tcp`) and resource-agents'
//! `tickle_tcp` send after an address moved, so that clients notice at once
//! that their connection is gone instead of waiting out their back-off.
//!
//! The tickle is a bare ACK from the server's end of a recorded connection
//! with sequence and acknowledgement number 0. The client's kernel finds it
//! out of window and answers with a duplicate ACK carrying its real numbers
//! (at most one per `tcp_invalid_ratelimit`, 500 ms, per socket, so rounds are
//! at least that far apart). That answer reaches the new node, whose kernel
//! has no such socket and sends a RST with exactly the client's numbers; the
//! client's socket fails with ECONNRESET and the RPC layer reconnects at once
//! (a reset on an established connection does not raise its back-off).

use std::io;
use std::mem::size_of;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const TCP_HDR: usize = 20;
const TCP_ACK: u8 = 0x10;
/// The window CTDB and tickle_tcp put in a tickle: easy to spot in a capture.
pub const TICKLE_WINDOW: u16 = 1234;

/// The one's-complement sum of `data` folded into 16 bits, added to `acc`.
fn sum16(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        acc += (*last as u32) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The 20-byte TCP header of a bare ACK with seq/ack 0 and its checksum over
/// the pseudo-header of `src` → `dst`.
fn tcp_ack(src: SocketAddr, dst: SocketAddr) -> [u8; TCP_HDR] {
    let mut t = [0u8; TCP_HDR];
    t[0..2].copy_from_slice(&src.port().to_be_bytes());
    t[2..4].copy_from_slice(&dst.port().to_be_bytes());
    // seq (4..8) and ack (8..12) stay 0.
    t[12] = 5 << 4; // data offset: 5 words, no options
    t[13] = TCP_ACK;
    t[14..16].copy_from_slice(&TICKLE_WINDOW.to_be_bytes());
    let mut acc = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let acc = sum16(sum16(0, &s.octets()), &d.octets());
            acc + libc::IPPROTO_TCP as u32 + TCP_HDR as u32
        }
        (s, d) => {
            let (s, d) = (v6(s), v6(d));
            let acc = sum16(sum16(0, &s.octets()), &d.octets());
            acc + TCP_HDR as u32 + libc::IPPROTO_TCP as u32
        }
    };
    acc = sum16(acc, &t);
    t[16..18].copy_from_slice(&fold(acc).to_be_bytes());
    t
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V6(a) => a,
        IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

/// The whole IP packet of a tickle from `server` to `client` (both of one
/// family), headers and checksums included, as a raw `IPPROTO_RAW` socket
/// sends it.
pub fn packet(server: SocketAddr, client: SocketAddr) -> Vec<u8> {
    let tcp = tcp_ack(server, client);
    match (server.ip(), client.ip()) {
        (IpAddr::V4(s), IpAddr::V4(c)) => {
            let mut p = vec![0u8; 20];
            p[0] = 0x45; // version 4, 5-word header
            p[2..4].copy_from_slice(&(20 + TCP_HDR as u16).to_be_bytes());
            p[6] = 0x40; // don't fragment
            p[8] = 64; // TTL
            p[9] = libc::IPPROTO_TCP as u8;
            p[12..16].copy_from_slice(&s.octets());
            p[16..20].copy_from_slice(&c.octets());
            let sum = fold(sum16(0, &p));
            p[10..12].copy_from_slice(&sum.to_be_bytes());
            p.extend_from_slice(&tcp);
            p
        }
        (s, c) => {
            let mut p = vec![0u8; 40];
            p[0] = 0x60; // version 6
            p[4..6].copy_from_slice(&(TCP_HDR as u16).to_be_bytes());
            p[6] = libc::IPPROTO_TCP as u8;
            p[7] = 64; // hop limit
            p[8..24].copy_from_slice(&v6(s).octets());
            p[24..40].copy_from_slice(&v6(c).octets());
            p.extend_from_slice(&tcp);
            p
        }
    }
}

/// Raw sockets that send ready-made IP packets, one per family, opened once
/// for all rounds.
pub struct Sender {
    v4: Option<OwnedFd>,
    v6: Option<OwnedFd>,
}

fn raw_socket(family: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2). IPPROTO_RAW implies IP_HDRINCL (and, since
    // Linux 4.5, IPV6_HDRINCL): we provide the IP header.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just created.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl Sender {
    /// Open the sockets the families of `clients` need.
    pub fn new(v4: bool, v6: bool) -> io::Result<Sender> {
        Ok(Sender {
            v4: if v4 {
                Some(raw_socket(libc::AF_INET)?)
            } else {
                None
            },
            v6: if v6 {
                Some(raw_socket(libc::AF_INET6)?)
            } else {
                None
            },
        })
    }

    /// Send one tickle for the connection `server` ↔ `client`.
    pub fn send(&self, server: SocketAddr, client: SocketAddr) -> io::Result<()> {
        let p = packet(server, client);
        let not_open = || io::Error::new(io::ErrorKind::InvalidInput, "no socket for this family");
        // The port of the destination must be 0 (or the protocol) on a raw socket.
        let rc = match client.ip() {
            IpAddr::V4(c) => {
                let fd = self.v4.as_ref().ok_or_else(not_open)?;
                // SAFETY: a zeroed sockaddr_in filled in below.
                let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
                sa.sin_family = libc::AF_INET as u16;
                sa.sin_addr.s_addr = u32::from_ne_bytes(c.octets());
                send_to(fd, &p, &sa)
            }
            IpAddr::V6(c) => {
                let fd = self.v6.as_ref().ok_or_else(not_open)?;
                // SAFETY: a zeroed sockaddr_in6 filled in below.
                let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
                sa.sin6_family = libc::AF_INET6 as u16;
                sa.sin6_addr.s6_addr = c.octets();
                send_to(fd, &p, &sa)
            }
        };
        match rc {
            Ok(n) if n == p.len() => Ok(()),
            Ok(n) => Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("sent {n} of {} bytes", p.len()),
            )),
            Err(e) => Err(e),
        }
    }
}

fn send_to<T>(fd: &OwnedFd, p: &[u8], sa: &T) -> io::Result<usize> {
    // SAFETY: p and sa are valid for their lengths; sa is a complete sockaddr.
    let rc = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            p.as_ptr() as *const libc::c_void,
            p.len(),
            0,
            sa as *const T as *const libc::sockaddr,
            size_of::<T>() as u32,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checksum over a segment with its checksum field filled in is 0.
    fn verifies(pseudo: u32, seg: &[u8]) -> bool {
        fold(sum16(pseudo, seg)) == 0
    }

    #[test]
    fn ipv4_tickle_matches_ctdb_layout() {
        let server: SocketAddr = "192.0.2.50:2049".parse().unwrap();
        let client: SocketAddr = "192.0.2.21:822".parse().unwrap();
        let p = packet(server, client);
        assert_eq!(p.len(), 40);
        assert_eq!(p[0], 0x45);
        assert_eq!(&p[2..4], &40u16.to_be_bytes());
        assert_eq!(p[9], 6);
        assert_eq!(&p[12..16], &[192, 0, 2, 50]);
        assert_eq!(&p[16..20], &[192, 0, 2, 21]);
        assert_eq!(fold(sum16(0, &p[..20])), 0, "IPv4 header checksum");
        let tcp = &p[20..];
        assert_eq!(&tcp[0..2], &2049u16.to_be_bytes());
        assert_eq!(&tcp[2..4], &822u16.to_be_bytes());
        assert_eq!(&tcp[4..12], &[0; 8], "seq 0, ack 0");
        assert_eq!(tcp[12], 0x50);
        assert_eq!(tcp[13], TCP_ACK, "a bare ACK: no RST, no SYN, no FIN");
        assert_eq!(&tcp[14..16], &1234u16.to_be_bytes());
        let pseudo = sum16(sum16(0, &p[12..16]), &p[16..20]) + 6 + 20;
        assert!(verifies(pseudo, tcp), "TCP checksum");
        // The value an independent computation (Python, RFC 1071) gives.
        assert_eq!(&tcp[16..18], &[0x1b, 0x84]);
    }

    #[test]
    fn ipv6_tickle_layout_and_checksum() {
        let server: SocketAddr = "[2001:db8::50]:2049".parse().unwrap();
        let client: SocketAddr = "[2001:db8::21]:901".parse().unwrap();
        let p = packet(server, client);
        assert_eq!(p.len(), 60);
        assert_eq!(p[0] >> 4, 6);
        assert_eq!(&p[4..6], &20u16.to_be_bytes());
        assert_eq!(p[6], 6, "next header TCP");
        let tcp = &p[40..];
        assert_eq!(tcp[13], TCP_ACK);
        let pseudo = sum16(sum16(0, &p[8..24]), &p[24..40]) + 20 + 6;
        assert!(verifies(pseudo, tcp), "TCP checksum");
    }

    #[test]
    fn odd_length_sums_pad_with_zero() {
        assert_eq!(sum16(0, &[0x12]), 0x1200);
        assert_eq!(fold(0x1_fffe), 0);
        assert_eq!(fold(0), 0xffff);
    }
}
