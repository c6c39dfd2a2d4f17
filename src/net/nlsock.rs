//! The netlink transport shared by the rtnetlink reads ([`super::netlink`])
//! and the socket diagnostics ([`super::sock_diag`]): one socket per request,
//! a receive bound so a broken kernel cannot hang an agent, dumps read to
//! `NLMSG_DONE`, and requests acknowledged with `NLMSG_ERROR`.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
pub const NLM_F_REQUEST: u16 = 1;
pub const NLM_F_ACK: u16 = 4;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_CREATE: u16 = 0x400;

pub fn align4(n: usize) -> usize {
    (n + 3) & !3
}

pub fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A netlink socket of one protocol (`NETLINK_ROUTE`, `NETLINK_SOCK_DIAG`).
pub struct NlSocket {
    fd: OwnedFd,
    seq: u32,
}

impl NlSocket {
    pub fn open(protocol: libc::c_int) -> io::Result<NlSocket> {
        // SAFETY: plain socket(2) call; the fd is owned immediately.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a freshly created, valid descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // The kernel answers at once; a bound keeps a broken kernel from hanging us.
        let tv = libc::timeval {
            tv_sec: 5,
            tv_usec: 0,
        };
        // SAFETY: setsockopt with a correctly sized timeval.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const _ as *const libc::c_void,
                size_of::<libc::timeval>() as u32,
            );
        }
        Ok(NlSocket { fd, seq: 0 })
    }

    /// Send `msgs` (type, flags, payload) in one datagram, numbered from the
    /// next sequence number on; returns the first number used and the one
    /// whose answer ends the exchange (the last asking for an ack or a dump).
    fn send(&mut self, msgs: &[(u16, u16, &[u8])]) -> io::Result<(u32, u32)> {
        let first = self.seq + 1;
        let mut last = first + msgs.len() as u32 - 1;
        let mut req = Vec::new();
        for (kind, flags, body) in msgs {
            self.seq += 1;
            if flags & (NLM_F_ACK | NLM_F_DUMP) != 0 {
                last = self.seq;
            }
            let len = NLMSG_HDRLEN + body.len();
            req.extend_from_slice(&(len as u32).to_ne_bytes());
            req.extend_from_slice(&kind.to_ne_bytes());
            req.extend_from_slice(&flags.to_ne_bytes());
            req.extend_from_slice(&self.seq.to_ne_bytes());
            req.extend_from_slice(&0u32.to_ne_bytes());
            req.extend_from_slice(body);
            req.resize(align4(req.len()), 0);
        }
        // SAFETY: a zeroed sockaddr_nl addresses the kernel.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: req and sa are valid for the given lengths.
        let sent = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                req.as_ptr() as *const libc::c_void,
                req.len(),
                0,
                &sa as *const _ as *const libc::sockaddr,
                size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((first, last))
    }

    /// Read the answers to the messages numbered `first..=self.seq`, calling
    /// `each` with every payload, until `NLMSG_DONE`, an error for any of
    /// them, or the acknowledgement of `last`.
    fn receive(
        &mut self,
        (first, last): (u32, u32),
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: buf is valid for its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut msg = &buf[..n as usize];
            while msg.len() >= NLMSG_HDRLEN {
                let mlen = u32_at(msg, 0) as usize;
                let mtype = u16_at(msg, 4);
                let seq = u32_at(msg, 8);
                if mlen < NLMSG_HDRLEN || mlen > msg.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "truncated netlink message",
                    ));
                }
                if (first..=self.seq).contains(&seq) {
                    match mtype {
                        NLMSG_DONE => return Ok(()),
                        NLMSG_ERROR => {
                            let errno = msg.get(16..20).map(|b| u32_at(b, 0) as i32).unwrap_or(0);
                            if errno != 0 {
                                return Err(io::Error::from_raw_os_error(-errno));
                            }
                            if seq == last {
                                return Ok(());
                            }
                        }
                        _ => each(&msg[NLMSG_HDRLEN..mlen]),
                    }
                }
                msg = &msg[align4(mlen).min(msg.len())..];
            }
        }
    }

    /// Send a dump request with `body` and call `each` with every answer's
    /// payload until the kernel says it is done.
    pub fn dump(&mut self, kind: u16, body: &[u8], each: impl FnMut(&[u8])) -> io::Result<()> {
        let seqs = self.send(&[(kind, NLM_F_REQUEST | NLM_F_DUMP, body)])?;
        self.receive(seqs, each)
    }

    /// Send one request and wait for the kernel's acknowledgement.
    pub fn request(&mut self, kind: u16, body: &[u8]) -> io::Result<()> {
        let seqs = self.send(&[(kind, NLM_F_REQUEST | NLM_F_ACK, body)])?;
        self.receive(seqs, |_| {})
    }

    /// Send `msgs` as one datagram (an nfnetlink batch, with its begin and end
    /// messages among them) and wait until the last is acknowledged or any
    /// fails. Only the last needs `NLM_F_ACK`: errors are always reported.
    pub fn batch(&mut self, msgs: &[(u16, u16, &[u8])]) -> io::Result<()> {
        let seqs = self.send(msgs)?;
        self.receive(seqs, |_| {})
    }
}
