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
    /// pcs commands or `pcs config` output, told apart by their content.
    Pcs,
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
            Dialect::Pcs => "pcs",
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
            Dialect::Cib | Dialect::Crm | Dialect::PcsCommands | Dialect::PcsConfig | Dialect::Pcs
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

/// The dialect to read a file in when `forced` was asked for: `pcs` is
/// `pcs config` output if the content shows it, else pcs commands.
pub fn resolve(forced: Dialect, path: &str, text: &str) -> Dialect {
    match forced {
        Dialect::Pcs if detect(path, text) == Some(Dialect::PcsConfig) => Dialect::PcsConfig,
        Dialect::Pcs => Dialect::PcsCommands,
        d => d,
    }
}

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
            .filter(|l| !l.is_empty() && !l.starts_with(';'))
    };
    // A transcript shows `pcs config` (or `pcs constraint`) before its output.
    let mut pcs_display = false;
    for raw in lines().take(200) {
        // Prompts of pasted sessions: `[root@z1 ~]# pcs …`, `# pcs …`,
        // `crm(live)configure# …`.
        let (l, crm_prompt) = match super::words::strip_prompt(raw) {
            Some((rest, level)) => (rest.trim(), level.is_some()),
            None if raw.starts_with('#') => continue,
            None => (raw, false),
        };
        if crm_prompt {
            return Some(Dialect::Crm);
        }
        if let Some(d) = line_dialect(l, &mut pcs_display) {
            return Some(d);
        }
    }
    if pcs_display {
        return Some(Dialect::PcsCommands);
    }
    if name == "nfs.conf" || name.ends_with(".conf") && path.contains("nfs.conf.d") {
        return Some(Dialect::NfsConf);
    }
    if name.ends_with(".toml") {
        return Some(Dialect::Heartbeat);
    }
    None
}

/// The dialect one line of content shows, if any. `pcs_display` records
/// that a `pcs config`-like display command was seen, whose output may follow.
fn line_dialect(l: &str, pcs_display: &mut bool) -> Option<Dialect> {
    let l = l.strip_prefix("sudo ").unwrap_or(l).trim_start();
    let l = l.trim_start_matches("$ ");
    if l.starts_with("Cluster Name:")
        || l == "Resources:"
        || l.starts_with("Resource: ")
        || l.starts_with("Group: ")
        || l.starts_with("Clone: ")
        || l.starts_with("Pacemaker Nodes:")
        || l.starts_with("Corosync Nodes:")
        || *pcs_display && (l == "Location Constraints:" || l == "Ordering Constraints:")
    {
        return Some(Dialect::PcsConfig);
    }
    if let Some(cmd) = l.strip_prefix("pcs ") {
        let words: Vec<&str> = cmd
            .split_whitespace()
            .filter(|w| !w.starts_with('-'))
            .collect();
        let display = matches!(
            words.as_slice(),
            ["config", ..]
                | ["status", ..]
                | ["constraint"]
                | ["constraint", "list" | "show" | "config", ..]
                | ["resource", "config" | "show" | "status", ..]
        );
        if !display {
            return Some(Dialect::PcsCommands);
        }
        *pcs_display = true;
        return None;
    }
    if l == "crm" || l.starts_with("crm ") {
        return Some(Dialect::Crm);
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

    #[test]
    fn transcripts_with_prompts() {
        for (text, d) in [
            (
                "[root@z1 ~]# pcs resource create a Dummy\n",
                Dialect::PcsCommands,
            ),
            ("# intro\nnode2# pcs cluster auth\n", Dialect::PcsCommands),
            ("# pcs resource create a Dummy\n", Dialect::PcsCommands),
            ("sudo crm configure primitive a Dummy\n", Dialect::Crm),
            (
                "crm configure <<EOF\nprimitive a Dummy\nEOF\n",
                Dialect::Crm,
            ),
            ("crm(live)configure# primitive a Dummy\n", Dialect::Crm),
            ("sles1:~ # crm configure show\n", Dialect::Crm),
            (
                "[root@z1 ~]# pcs config\nCluster Name: c\n",
                Dialect::PcsConfig,
            ),
            (
                "# pcs constraint\nLocation Constraints:\nOrdering Constraints:\n",
                Dialect::PcsConfig,
            ),
            (
                "#!/bin/sh\nsystemctl enable pcsd\npcs resource create a Dummy\n",
                Dialect::PcsCommands,
            ),
        ] {
            assert_eq!(detect("x", text), Some(d), "{text}");
        }
    }
}
