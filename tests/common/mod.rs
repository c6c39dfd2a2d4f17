//! Helpers shared by the integration tests: the binary under test, root and
//! tool checks that fail loudly (never skip), and network namespaces that
//! clean up after themselves.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The `nfsha` binary cargo built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nfsha"))
}

/// These tests change the kernel's network and mount state: they need root.
/// Not being root is a failure with a reason, never a silent skip.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc_geteuid() };
    assert_eq!(
        euid, 0,
        "this test needs root (network namespaces, mounts); run the README's test command as root"
    );
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// Fail with an install hint when a tool the test needs is missing.
pub fn require_tool(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed: apt-get install {package} (the README's test command does this)"
    );
}

/// Run a command, panicking with its output if it cannot be started.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} {args:?}: {e}"))
}

/// Run a command that must succeed.
pub fn must(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A network namespace deleted when dropped.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        require_root();
        require_tool("ip", "iproute2");
        let name = format!(
            "nfsha-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        must("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n <ns> ARGS…`, which must succeed.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        must("ip", &full)
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
pub mod pacemaker;
