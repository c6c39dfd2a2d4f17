//! Network namespaces and veth pairs that clean up after themselves.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{require, require_root, run_ok};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A network namespace deleted when dropped.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        require_root();
        require("ip", "iproute2");
        let name = format!(
            "nfsha-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        run_ok("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n <ns> ARGS…`, which must succeed.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run_ok("ip", &full)
    }

    /// A command run inside the namespace (`ip netns exec`), as argv.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Two namespaces joined by a veth pair: `local` (where the agent runs,
/// interface `veth0`) and `peer` (interface `veth1`), both up.
pub struct VethPair {
    pub local: Netns,
    pub peer: Netns,
}

impl VethPair {
    pub fn new(tag: &str) -> VethPair {
        let local = Netns::new(tag);
        let peer = Netns::new(&format!("{tag}p"));
        local.ip(&[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", &peer.name,
        ]);
        local.ip(&["link", "set", "veth0", "up"]);
        peer.ip(&["link", "set", "veth1", "up"]);
        VethPair { local, peer }
    }
}

impl Netns {
    /// Run `f` on a thread that has entered this namespace: sockets it
    /// opens live in the namespace and can be used from any thread after.
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        use std::os::fd::AsRawFd;
        let path = format!("/run/netns/{}", self.name);
        let ns = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: setns on a namespace file we hold open; it changes
                // only this thread's network namespace.
                let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
                f()
            })
            .join()
            .expect("thread in the namespace panicked")
        })
    }

    /// The interface's Ethernet address, as `ip` prints it.
    pub fn mac(&self, dev: &str) -> String {
        let out = self.ip(&["-o", "link", "show", dev]);
        let i = out.find("link/ether ").expect("an Ethernet link") + "link/ether ".len();
        out[i..i + 17].to_string()
    }
}

/// One Ethernet segment: a `client` namespace whose bridge `br0` joins any
/// number of server namespaces (each with `eth0`), as a switch would. The
/// client's side of server `n`'s cable is `port<n>`, where a capture sees
/// exactly what that server sent.
pub struct Lan {
    pub client: Netns,
    pub servers: Vec<Netns>,
}

impl Lan {
    pub fn new(tag: &str) -> Lan {
        let client = Netns::new(tag);
        client.ip(&["link", "add", "br0", "type", "bridge"]);
        client.ip(&["link", "set", "br0", "up"]);
        Lan {
            client,
            servers: Vec::new(),
        }
    }

    /// A new server namespace cabled to the bridge; returns its index.
    pub fn add_server(&mut self, tag: &str) -> usize {
        let n = self.servers.len();
        let server = Netns::new(tag);
        let port = format!("port{n}");
        server.ip(&[
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            &port,
            "netns",
            &self.client.name,
        ]);
        server.ip(&["link", "set", "eth0", "up"]);
        self.client.ip(&["link", "set", &port, "master", "br0"]);
        self.client.ip(&["link", "set", &port, "up"]);
        self.servers.push(server);
        n
    }
}

/// A raw capture of the frames arriving on one interface (not those leaving
/// it), opened in the interface's namespace.
pub struct Capture {
    fd: std::os::fd::OwnedFd,
}

impl Capture {
    pub fn open(ns: &Netns, dev: &str) -> Capture {
        let dev = dev.to_string();
        ns.enter(move || {
            use std::os::fd::FromRawFd;
            let proto = (libc::ETH_P_ALL as u16).to_be() as i32;
            // SAFETY: socket/bind with a zeroed, filled-in sockaddr_ll.
            unsafe {
                let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, proto);
                assert!(
                    fd >= 0,
                    "AF_PACKET socket: {}",
                    std::io::Error::last_os_error()
                );
                let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
                let name = std::ffi::CString::new(dev.clone()).unwrap();
                let ifindex = libc::if_nametoindex(name.as_ptr());
                assert!(ifindex > 0, "no interface {dev}");
                let mut sa: libc::sockaddr_ll = std::mem::zeroed();
                sa.sll_family = libc::AF_PACKET as u16;
                sa.sll_protocol = proto as u16;
                sa.sll_ifindex = ifindex as i32;
                let rc = libc::bind(
                    std::os::fd::AsRawFd::as_raw_fd(&fd),
                    &sa as *const _ as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_ll>() as u32,
                );
                assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
                Capture { fd }
            }
        })
    }

    /// The frames received so far (without waiting for more).
    pub fn frames(&self) -> Vec<Vec<u8>> {
        use std::os::fd::AsRawFd;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            // SAFETY: recvfrom into buffers valid for their lengths.
            let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                    &mut sa as *mut _ as *mut libc::sockaddr,
                    &mut len,
                )
            };
            if n < 0 {
                break;
            }
            if sa.sll_pkttype != libc::PACKET_OUTGOING {
                out.push(buf[..n as usize].to_vec());
            }
        }
        out
    }
}
