//! Host names: the node's own (read through the seam), the rule a host name
//! must follow, and `nfsha internal-sethostname-exec`, which sets one only
//! inside a UTS namespace of its own and execs a program under it.
//!
//! The kernel takes the NFSv4.1+ server owner and scope from the UTS host
//! name of the process that starts the nfsd threads; nfsha starts rpc.nfsd
//! as `unshare --uts -- nfsha internal-sethostname-exec NAME -- rpc.nfsd …`
//! (see [`crate::nfs::nfsd_launch`]).

use std::ffi::OsString;

use super::System;

/// A host name as sethostname(2) and DNS accept: labels of letters, digits
/// and '-', separated by dots, at most 64 bytes.
pub fn check_hostname(raw: &str) -> Result<(), String> {
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if raw.is_empty() || raw.len() > 64 || !raw.split('.').all(ok_label) {
        return Err(
            "expected a host name of letters, digits, '-' and '.' (at most 64 characters)".into(),
        );
    }
    Ok(())
}

/// This node's host name (`/proc/sys/kernel/hostname`, under the seam's
/// `/proc`).
pub fn node_hostname(sys: &dyn System) -> Option<String> {
    sys.read_to_string(&sys.paths().proc.join("sys/kernel/hostname"))
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// `nfsha internal-sethostname-exec NAME -- PROGRAM ARGS…`: set the host
/// name and exec the program. Refuses unless this process is in a UTS
/// namespace of its own (under `unshare --uts`), so it can never rename the
/// node itself.
pub fn sethostname_exec(name: &str, argv: &[OsString]) -> i32 {
    use std::os::unix::process::CommandExt;
    if let Err(e) = check_hostname(name) {
        eprintln!("nfsha internal-sethostname-exec: {name:?}: {e}");
        return 2;
    }
    let ours = std::fs::read_link("/proc/self/ns/uts");
    // The init process's namespace is the node's; where /proc/1 is hidden
    // (hardened or nested setups), the caller's: `unshare` execs us in place,
    // so our parent is whoever asked for the new namespace.
    let node = std::fs::read_link("/proc/1/ns/uts").or_else(|_| {
        std::fs::read_link(format!(
            "/proc/{}/ns/uts",
            std::os::unix::process::parent_id()
        ))
    });
    match (&ours, &node) {
        (Ok(a), Ok(b)) if a != b => {}
        _ => {
            eprintln!(
                "nfsha internal-sethostname-exec: refusing to set the host name: not in a UTS \
                 namespace of its own (run it under `unshare --uts`)"
            );
            return 1;
        }
    }
    if let Err(e) = nix::unistd::sethostname(name) {
        eprintln!("nfsha internal-sethostname-exec: sethostname({name}): {e}");
        return 1;
    }
    let Some((prog, rest)) = argv.split_first() else {
        eprintln!("nfsha internal-sethostname-exec: no program to run");
        return 2;
    };
    let err = std::process::Command::new(prog).args(rest).exec();
    eprintln!(
        "nfsha internal-sethostname-exec: {}: {err}",
        prog.to_string_lossy()
    );
    127
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        for ok in ["nfs-ha", "nfs.example.com", "a", &"a".repeat(63)] {
            assert!(check_hostname(ok).is_ok(), "{ok}");
        }
        let long = format!("{}.{}", "a".repeat(40), "b".repeat(24));
        for bad in [
            "",
            "-a",
            "a-",
            "a..b",
            "nfs ha",
            "nfs;reboot",
            "a_b",
            &"a".repeat(64),
            &long,
        ] {
            assert!(check_hostname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn node_hostname_through_the_seam() {
        let f = crate::sys::fake::Fake::new();
        assert_eq!(node_hostname(&f), None);
        f.file("/proc/sys/kernel/hostname", "node-a\n");
        assert_eq!(node_hostname(&f).as_deref(), Some("node-a"));
    }
}
