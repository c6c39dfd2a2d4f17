//! Announcing a moved address: gratuitous ARP (IPv4) and unsolicited neighbour
//! advertisement (IPv6), so switches and clients learn the new MAC at once
//! instead of waiting for their caches to expire.

use std::io;
use std::mem::size_of;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// The Ethernet frame of a gratuitous ARP request for `ip` from `mac`.
pub fn garp_frame(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 60] {
    let mut f = [0u8; 60];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    let arp = &mut f[14..42];
    arp[0..2].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    arp[2..4].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    arp[4] = 6;
    arp[5] = 4;
    arp[6..8].copy_from_slice(&1u16.to_be_bytes()); // request, as `arping -U` sends
    arp[8..14].copy_from_slice(&mac);
    arp[14..18].copy_from_slice(&ip.octets());
    arp[18..24].copy_from_slice(&[0xff; 6]);
    arp[24..28].copy_from_slice(&ip.octets());
    f
}

/// The ICMPv6 body of an unsolicited neighbour advertisement (override flag
/// set, target link-layer address option); the kernel fills in the checksum.
pub fn na_message(mac: [u8; 6], ip: Ipv6Addr) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[0] = 136; // neighbour advertisement
    m[4] = 0x20; // O (override): replace cached entries
    m[8..24].copy_from_slice(&ip.octets());
    m[24] = 2; // target link-layer address
    m[25] = 1; // length in units of 8 bytes
    m[26..32].copy_from_slice(&mac);
    m
}

/// A socket ready to send announcements of one address on one interface.
pub struct Announcer {
    fd: OwnedFd,
    ifindex: u32,
    packet: Vec<u8>,
    v6: bool,
}

impl Announcer {
    pub fn new(ifindex: u32, mac: [u8; 6], ip: IpAddr) -> io::Result<Announcer> {
        match ip {
            IpAddr::V4(v4) => {
                // SAFETY: plain socket(2).
                let fd = check(unsafe {
                    libc::socket(
                        libc::AF_PACKET,
                        libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                        (0x0806u16).to_be() as i32,
                    )
                })?;
                Ok(Announcer {
                    // SAFETY: fd was just created.
                    fd: unsafe { OwnedFd::from_raw_fd(fd) },
                    ifindex,
                    packet: garp_frame(mac, v4).to_vec(),
                    v6: false,
                })
            }
            IpAddr::V6(v6) => {
                // SAFETY: plain socket(2).
                let fd = check(unsafe {
                    libc::socket(
                        libc::AF_INET6,
                        libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                        libc::IPPROTO_ICMPV6,
                    )
                })?;
                // SAFETY: fd was just created.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                let hops: libc::c_int = 255; // RFC 4861: NDP messages carry hop limit 255
                let idx = ifindex as libc::c_int;
                // SAFETY: setsockopt/bind with correctly sized arguments.
                unsafe {
                    check(libc::setsockopt(
                        fd.as_raw_fd(),
                        libc::IPPROTO_IPV6,
                        libc::IPV6_MULTICAST_HOPS,
                        &hops as *const _ as *const libc::c_void,
                        size_of::<libc::c_int>() as u32,
                    ))?;
                    check(libc::setsockopt(
                        fd.as_raw_fd(),
                        libc::IPPROTO_IPV6,
                        libc::IPV6_MULTICAST_IF,
                        &idx as *const _ as *const libc::c_void,
                        size_of::<libc::c_int>() as u32,
                    ))?;
                    let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                    sa.sin6_family = libc::AF_INET6 as u16;
                    sa.sin6_addr.s6_addr = v6.octets();
                    sa.sin6_scope_id = ifindex;
                    check(libc::bind(
                        fd.as_raw_fd(),
                        &sa as *const _ as *const libc::sockaddr,
                        size_of::<libc::sockaddr_in6>() as u32,
                    ))?;
                }
                Ok(Announcer {
                    fd,
                    ifindex,
                    packet: na_message(mac, v6).to_vec(),
                    v6: true,
                })
            }
        }
    }

    /// Send one announcement.
    pub fn send(&self) -> io::Result<()> {
        if self.v6 {
            // SAFETY: zeroed sockaddr_in6 filled with the all-nodes group.
            let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as u16;
            sa.sin6_addr.s6_addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1).octets();
            sa.sin6_scope_id = self.ifindex;
            self.send_to(&sa)
        } else {
            // SAFETY: zeroed sockaddr_ll filled with the broadcast address.
            let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            sa.sll_family = libc::AF_PACKET as u16;
            sa.sll_protocol = 0x0806u16.to_be();
            sa.sll_ifindex = self.ifindex as i32;
            sa.sll_halen = 6;
            sa.sll_addr[..6].copy_from_slice(&[0xff; 6]);
            self.send_to(&sa)
        }
    }

    /// `sendto` the packet to `sa`, a complete `sockaddr_*` for this socket.
    fn send_to<T>(&self, sa: &T) -> io::Result<()> {
        // SAFETY: packet and sa are valid for their lengths.
        let rc = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                self.packet.as_ptr() as *const libc::c_void,
                self.packet.len(),
                0,
                sa as *const T as *const libc::sockaddr,
                size_of::<T>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garp_layout() {
        let mac = [2, 0, 0, 0, 0, 1];
        let f = garp_frame(mac, Ipv4Addr::new(10, 0, 0, 5));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &mac);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1]);
        assert_eq!(&f[28..32], &[10, 0, 0, 5]); // sender IP
        assert_eq!(&f[38..42], &[10, 0, 0, 5]); // target IP
    }

    #[test]
    fn na_layout() {
        let mac = [2, 0, 0, 0, 0, 1];
        let m = na_message(mac, "fd00::5".parse().unwrap());
        assert_eq!(m[0], 136);
        assert_eq!(m[4], 0x20);
        assert_eq!(m[8], 0xfd);
        assert_eq!(m[23], 5);
        assert_eq!(&m[24..26], &[2, 1]);
        assert_eq!(&m[26..32], &mac);
    }
}
