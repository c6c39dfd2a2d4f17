//! Helpers shared by the integration tests: the built binary, required host
//! tools (a missing one fails the test with the package to install, never
//! skips it), and root.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn nfsha() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nfsha"))
}

/// Fail (not skip) when `tool` is missing, naming the Debian package.
pub fn require(tool: &str, package: &str) {
    let found = which::which(tool).is_ok()
        || ["/usr/sbin", "/sbin"]
            .iter()
            .any(|d| Path::new(d).join(tool).exists());
    assert!(
        found,
        "this test needs `{tool}`: apt-get install {package} (see README, Tests)"
    );
}

pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this integration test runs real mounts/exports and must run as root (sudo cargo test)"
    );
}

/// Run and return the output; panics with the command when it cannot start.
pub fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    let p = program.as_ref().to_owned();
    Command::new(&p)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {p:?} {args:?}: {e}"))
}

/// Run and require exit 0.
pub fn run_ok(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> String {
    let p = program.as_ref().to_owned();
    let out = run(&p, args);
    assert!(
        out.status.success(),
        "{p:?} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Names of all agents in the binary's table.
pub fn agent_names() -> Vec<String> {
    run_ok(nfsha(), &["agents"])
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}
