//! CloudStack's KVM HA scripts, as personalities of the one binary: a
//! symlink with the script's name takes the script's command line, writes
//! and reads the script's files, and prints the lines the agent's Java looks
//! for, with every storage access bounded and the configured fence action in
//! place of a sysrq reset. One table, as uutils' multi-call binary:
//!
//! | Script | Pools (agent's Java) | Calls |
//! |---|---|---|
//! | `kvmheartbeat.sh` | NFS (`LibvirtStoragePool`) | write `-i -p -m -h`, check `-i -p -m -h -r -t`, fence `-i -p -m -c` |
//! | `kvmsmpheartbeat.sh` | SharedMountPoint (`LibvirtStoragePool`) | the same |
//! | `kvmspheartbeat.sh` | LINSTOR and StorPool (`LinstorStoragePool`, `StorPoolStoragePool`) | fence `-c` only |
//! | `kvmvmactivity.sh` | Host HA activity check (`vmActivityCheck`) | `-i -p -m -h -u -t -d` |
//!
//! `Script.execute` in the agent merges stderr into stdout, sends SIGTERM
//! then SIGKILL at its timeout, and reads only the first line: so the line a
//! personality prints is the first and only thing it writes; everything
//! else goes to syslog (tag = the script's name).

pub mod agent_properties;
pub mod fence;
pub mod files;
pub mod getopts;
pub mod kvmheartbeat;
pub mod kvmsmpheartbeat;
pub mod kvmspheartbeat;
pub mod kvmvmactivity;
pub mod lines;
pub mod localdir;
pub mod observations;
pub mod peer_check;
pub mod pool_script;
pub mod pool_state;
pub mod pool_write;
pub mod settings;
pub mod timeline;
pub mod validate;
pub mod verdict;

use std::ffi::OsString;
use std::path::Path;

/// What a personality did: its exit code and the one line it prints (if any).
pub type Outcome = (i32, Option<String>);

/// One script CloudStack calls.
pub struct Personality {
    pub name: &'static str,
    /// What the agent uses it for.
    pub summary: &'static str,
    /// Runs with the arguments after argv[0].
    pub main: fn(&[String]) -> Outcome,
}

/// Every script name CloudStack's KVM agent calls for host HA.
pub const ALL: &[Personality] = &[
    Personality {
        name: "kvmheartbeat.sh",
        summary: "NFS pools: write, check (-r) and fence (-c)",
        main: kvmheartbeat::main,
    },
    Personality {
        name: "kvmsmpheartbeat.sh",
        summary: "SharedMountPoint pools: write, check (-r) and fence (-c)",
        main: kvmsmpheartbeat::main,
    },
    Personality {
        name: "kvmspheartbeat.sh",
        summary: "LINSTOR and StorPool pools: fence (-c)",
        main: kvmspheartbeat::main,
    },
    Personality {
        name: "kvmvmactivity.sh",
        summary: "Host HA: is a suspect host's heartbeat or VM disk activity alive?",
        main: kvmvmactivity::main,
    },
];

pub fn find(name: &str) -> Option<&'static Personality> {
    ALL.iter().find(|p| p.name == name)
}

/// Run `p` as the process: logging to syslog, the line to stdout.
pub fn run(p: &Personality, argv: Vec<OsString>) -> i32 {
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    crate::log::init(crate::log::LogOptions {
        tag: p.name.into(),
        debug: false,
        logfile: None,
        facility: 3,
        syslog: crate::log::default_syslog_socket(),
        stderr: false,
    });
    let (code, line) = (p.main)(&args);
    if let Some(line) = line {
        println!("{line}");
    }
    code
}

/// 64-bit FNV-1a of `text`.
pub fn fnv1a64(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// A file-name key for a mount path (so `/mnt/a b` and `/mnt/a_b` never
/// share a file).
pub fn path_key(mount: &Path) -> String {
    format!("{:016x}", fnv1a64(&mount.to_string_lossy()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_name_has_one_entry() {
        let mut names: Vec<_> = ALL.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for n in [
            "kvmheartbeat.sh",
            "kvmsmpheartbeat.sh",
            "kvmspheartbeat.sh",
            "kvmvmactivity.sh",
        ] {
            assert!(find(n).is_some(), "{n}");
        }
        assert!(find("nfsha").is_none());
        assert_ne!(
            path_key(Path::new("/mnt/a b")),
            path_key(Path::new("/mnt/a_b"))
        );
    }
}
