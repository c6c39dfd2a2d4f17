//! NFS client mount options: the lint of `/proc/mounts` or an fstab for
//! options that hang hosts or lose data (and, for callers from before,
//! whether a path is a mount point).
//!
//! The per-RPC bound is the kernel's major timeout for TCP:
//! `min(timeo × (retrans + 1), 600 s)` (timeo in deciseconds; defaults 600
//! and 2), also used as `TCP_USER_TIMEOUT`. A `hard` mount retries that
//! forever; a `soft` NFSv4 mount over a connection that stays up never times
//! out at all (the server keeps ACKing), so only an abandonable helper with
//! its own deadline — `nfsha guard`, the heartbeat worker — bounds a job.

use std::path::Path;

use crate::sys::mounts::unescape;

/// Whether `path` is a mount point on this host now (mountinfo, through
/// the one reader in [`crate::sys::mounts`]; the mount is never touched).
pub fn is_mounted(path: &Path) -> bool {
    super::daemon::is_mounted(path)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One finding about one mount.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MountFinding {
    /// 1-based line in the input.
    pub line: usize,
    pub mount_point: String,
    /// Stable code, e.g. `hard-backup-mount`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
}

/// What a mount is used for, guessed from its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Backup,
    VmDisks,
    Other,
}

fn role(mp: &str, src: &str) -> Role {
    let l = mp.to_ascii_lowercase();
    if l.contains("backup") || l.contains("csbackup") || src.to_ascii_lowercase().contains("backup")
    {
        return Role::Backup;
    }
    let last = l.rsplit('/').next().unwrap_or("");
    let is_uuid = last.len() == 36 && last.chars().filter(|&c| c == '-').count() == 4;
    if (l.starts_with("/mnt/") && is_uuid)
        || l.contains("libvirt/images")
        || l.contains("primary")
        || l.contains("vmdisk")
        || l.contains("vm-disk")
    {
        return Role::VmDisks;
    }
    Role::Other
}

/// The per-RPC major timeout in deciseconds for TCP mounts.
pub fn rpc_bound_ds(timeo: u64, retrans: u64) -> u64 {
    (timeo * (retrans + 1)).min(6000)
}

/// Lint the text of `/proc/mounts` or an fstab.
pub fn lint_mounts(text: &str) -> Vec<MountFinding> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        let (src, mp, fstype, opts) = (f[0], unescape(f[1]), f[2], f[3]);
        if !(fstype == "nfs" || fstype == "nfs4") {
            continue;
        }
        let opts: Vec<&str> = opts.split(',').collect();
        let get = |k: &str| {
            opts.iter()
                .find_map(|o| o.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
        };
        let has = |k: &str| opts.contains(&k);
        let soft = has("soft") || has("softerr");
        let udp = get("proto").is_some_and(|p| p.starts_with("udp"));
        let v4 = fstype == "nfs4"
            || get("vers")
                .or_else(|| get("nfsvers"))
                .is_some_and(|v| v.starts_with('4'));
        let timeo: u64 =
            get("timeo")
                .and_then(|v| v.parse().ok())
                .unwrap_or(if udp { 11 } else { 600 });
        let retrans: u64 = get("retrans")
            .and_then(|v| v.parse().ok())
            .unwrap_or(if udp { 3 } else { 2 });
        let bound = rpc_bound_ds(timeo, retrans) as f64 / 10.0;
        let role = role(&mp, src);
        let push = |out: &mut Vec<MountFinding>, code, severity, message: String| {
            out.push(MountFinding {
                line: n + 1,
                mount_point: mp.clone(),
                code,
                severity,
                message,
            })
        };
        let bound_text = format!(
            "per-RPC timeout timeo×(retrans+1) = {timeo}ds×{} = {bound:.1}s{}",
            retrans + 1,
            if timeo * (retrans + 1) > 6000 {
                " (capped at 600s)"
            } else {
                ""
            }
        );
        match (role, soft) {
            (Role::Backup, false) => push(
                &mut out,
                "hard-backup-mount",
                Severity::Warning,
                format!(
                    "backup mount {mp} is hard: when the NAS stops answering, every job on it blocks forever (D state) and with it the agent that waits for the job; {bound_text}, retried without end. Use soft,timeo=50,retrans=3 (20s per RPC) and run jobs under `nfsha guard --timeout`"
                ),
            ),
            (Role::VmDisks, true) => push(
                &mut out,
                "soft-vm-disk-mount",
                Severity::Error,
                format!(
                    "VM disk mount {mp} is soft: a timed-out write is dropped and reported late or never (nfs(5): silent data corruption); VM disks need hard. {bound_text}"
                ),
            ),
            _ => {}
        }
        if soft && v4 && !udp {
            push(
                &mut out,
                "soft-nfs4-unbounded",
                Severity::Warning,
                format!(
                    "{mp}: soft over NFSv4/TCP does not bound latency when the server keeps the connection up but does not answer (requests are never retransmitted); bound jobs with `nfsha guard` instead"
                ),
            );
        }
        push(
            &mut out,
            "rpc-timeout",
            Severity::Info,
            format!(
                "{mp} ({}, {}): {bound_text}; {}",
                if v4 { "NFSv4" } else { "NFSv3 or auto" },
                if soft { "soft" } else { "hard" },
                if soft {
                    "a call fails after this"
                } else {
                    "a call is retried forever after this"
                }
            ),
        );
    }
    out
}

/// Read `file` (/proc/mounts or an fstab), print the findings (human or
/// JSON) and return the exit code: 0 clean, 1 a warning or worse, 2 unreadable.
pub fn run(file: &std::path::Path, json: bool, who: &str) -> i32 {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{who}: cannot read {}: {e}", file.display());
            return 2;
        }
    };
    let findings = lint_mounts(&text);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&findings).unwrap_or_default()
        );
    } else {
        for f in &findings {
            let sev = match f.severity {
                Severity::Info => "info",
                Severity::Warning => "warning",
                Severity::Error => "error",
            };
            println!(
                "{}:{}: {sev}[{}]: {}",
                file.display(),
                f.line,
                f.code,
                f.message
            );
        }
    }
    i32::from(findings.iter().any(|f| f.severity >= Severity::Warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_backup_and_soft_vm_disks_are_flagged() {
        let text = "\
srv:/backup /tmp/csbackup.Ab12 nfs rw,vers=4.1,hard,proto=tcp,timeo=600,retrans=2 0 0
srv:/primary /mnt/0a1b2c3d-1111-2222-3333-444455556666 nfs soft,timeo=50,retrans=3 0 0
srv:/backup2 /mnt/backup nfs soft,timeo=50,retrans=3,vers=3 0 0
/dev/sda1 / ext4 rw 0 0
";
        let f = lint_mounts(text);
        let codes: Vec<_> = f.iter().map(|f| (f.line, f.code)).collect();
        assert!(codes.contains(&(1, "hard-backup-mount")), "{codes:?}");
        assert!(codes.contains(&(2, "soft-vm-disk-mount")), "{codes:?}");
        assert!(
            !codes.iter().any(|c| c.0 == 3 && c.1 != "rpc-timeout"),
            "{codes:?}"
        );
        let info3 = f
            .iter()
            .find(|f| f.line == 3 && f.code == "rpc-timeout")
            .unwrap();
        assert!(
            info3.message.contains("50ds×4 = 20.0s"),
            "{}",
            info3.message
        );
        let info1 = f
            .iter()
            .find(|f| f.line == 1 && f.code == "rpc-timeout")
            .unwrap();
        assert!(
            info1.message.contains("600ds×3 = 180.0s"),
            "{}",
            info1.message
        );
        assert!(!codes.iter().any(|c| c.0 == 4));
    }

    #[test]
    fn soft_nfs4_is_not_a_latency_bound() {
        let f = lint_mounts("srv:/x /srv/jobs nfs4 soft,timeo=100,retrans=3 0 0\n");
        assert!(f.iter().any(|f| f.code == "soft-nfs4-unbounded"));
        let big = lint_mounts("srv:/x /srv/jobs nfs hard,timeo=1000,retrans=6 0 0\n");
        assert!(
            big[0].message.contains("capped at 600s"),
            "{}",
            big[0].message
        );
    }
}
