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
