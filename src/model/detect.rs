//! Recognising which dialect a file is written in, from its content (and,
//! for a few well-known paths, its name).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// CIB XML (`cibadmin -Q`, `pcs cluster cib`, a `CIB_file`).
    Cib,
    /// `crm configure show` text.
    Crm,
    /// A sequence of `pcs …` commands.
    PcsCommands,
    /// `pcs config` output (any of the three generations).
    PcsConfig,
    /// `/etc/nfs.conf` (nfs-utils' ini format).
    NfsConf,
    /// `/etc/sysconfig/nfs` (shell variables).
    Sysconfig,
    /// `/etc/exports`.
    Exports,
    /// nfsha's KVM-host heartbeat TOML.
    Heartbeat,
    /// A KVM host's NFS client mounts: `/proc/mounts`, an fstab or
    /// mountinfo (`nfsha lint --mounts`; never detected, always named).
    Mounts,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Cib => "cib",
            Dialect::Crm => "crm",
            Dialect::PcsCommands => "pcs-commands",
            Dialect::PcsConfig => "pcs-config",
            Dialect::NfsConf => "nfs-conf",
            Dialect::Sysconfig => "sysconfig",
            Dialect::Exports => "exports",
            Dialect::Heartbeat => "heartbeat",
            Dialect::Mounts => "mounts",
        }
    }
    pub fn is_cluster(self) -> bool {
        matches!(
            self,
            Dialect::Cib | Dialect::Crm | Dialect::PcsCommands | Dialect::PcsConfig
        )
    }
}

const CRM_WORDS: &[&str] = &[
    "primitive ",
    "group ",
    "clone ",
    "ms ",
    "master ",
    "order ",
    "colocation ",
    "collocation ",
    "location ",
    "property ",
    "rsc_defaults ",
    "op_defaults ",
    "node ",
    "rsc_template ",
    "tag ",
    "bundle ",
];

/// Guess the dialect from a file name and its first lines. `None` when
/// nothing matches: the caller reports it as unreadable input.
pub fn detect(path: &str, text: &str) -> Option<Dialect> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let head: &str = {
        let mut end = text.len().min(64 * 1024);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    };
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        return Some(Dialect::Cib);
    }
    if name == "exports" || name.ends_with(".exports") {
        return Some(Dialect::Exports);
    }
    if name == "nfs" && path.contains("sysconfig") {
        return Some(Dialect::Sysconfig);
    }
    let lines = || {
        head.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
    };
    for l in lines().take(50) {
        let l = l
            .trim_start_matches("sudo ")
            .trim_start_matches("$ ")
            .trim_start_matches("# ");
        if l.starts_with("Cluster Name:")
            || l == "Resources:"
            || l.starts_with("Resource: ")
            || l.starts_with("Group: ")
            || l.starts_with("Clone: ")
            || l.starts_with("Pacemaker Nodes:")
            || l.starts_with("Corosync Nodes:")
        {
            return Some(Dialect::PcsConfig);
        }
        if l.starts_with("pcs ") {
            return Some(Dialect::PcsCommands);
        }
        if CRM_WORDS.iter().any(|w| l.starts_with(w)) {
            return Some(Dialect::Crm);
        }
        if l.starts_with('[') && l.ends_with(']') {
            // nfs.conf sections are plain words; TOML tables of the heartbeat
            // file are told apart by their keys below.
            let section = l.trim_matches(|c| c == '[' || c == ']').trim();
            if matches!(
                section,
                "general"
                    | "nfsd"
                    | "mountd"
                    | "statd"
                    | "lockd"
                    | "exportfs"
                    | "nfsdcld"
                    | "nfsdcltrack"
                    | "gssd"
                    | "sm-notify"
                    | "environment"
                    | "exportd"
                    | "svcgssd"
                    | "nfsrahead"
            ) {
                return Some(Dialect::NfsConf);
            }
        }
        let key = l.split('=').next().unwrap_or("").trim();
        if matches!(
            key,
            "interval" | "io_timeout" | "fence_after" | "dead_after" | "fence_action"
        ) {
            return Some(Dialect::Heartbeat);
        }
        if key.starts_with("NFSV4")
            || key.starts_with("RPCNFSD")
            || key.starts_with("NFSD_")
            || key.starts_with("STATD")
            || key == "USE_KERNEL_NFSD_NUMBER"
            || key == "NFS_SECURITY_GSS"
            || key == "MOUNTD_PORT"
            || key == "LOCKD_TCPPORT"
        {
            return Some(Dialect::Sysconfig);
        }
        if l.starts_with('/') && !l.contains('=') || l.starts_with('/') && l.contains('(') {
            return Some(Dialect::Exports);
        }
    }
    if name == "nfs.conf" || name.ends_with(".conf") && path.contains("nfs.conf.d") {
        return Some(Dialect::NfsConf);
    }
    if name.ends_with(".toml") {
        return Some(Dialect::Heartbeat);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_dialect() {
        assert_eq!(detect("x", "<cib/>"), Some(Dialect::Cib));
        assert_eq!(
            detect("x", "node 1: a\nprimitive p Dummy"),
            Some(Dialect::Crm)
        );
        assert_eq!(
            detect("x", "pcs resource create a Dummy"),
            Some(Dialect::PcsCommands)
        );
        assert_eq!(detect("x", "Cluster Name: c\n"), Some(Dialect::PcsConfig));
        assert_eq!(
            detect("x", "[nfsd]\nlease-time=90\n"),
            Some(Dialect::NfsConf)
        );
        assert_eq!(
            detect("x", "NFSV4LEASETIME=\"90\"\n"),
            Some(Dialect::Sysconfig)
        );
        assert_eq!(
            detect("x", "/srv/nfs 10.0.0.0/24(rw)\n"),
            Some(Dialect::Exports)
        );
        assert_eq!(
            detect("x", "fence_after = \"30s\"\n"),
            Some(Dialect::Heartbeat)
        );
        assert_eq!(detect("x", "\u{0}\u{1}junk"), None);
    }
}
