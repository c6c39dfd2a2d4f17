//! What the client mount rules (NFS8xx) read from one NFS mount: its use,
//! guessed from its path, and its options as the kernel's NFS client
//! applies them.
//!
//! The per-RPC bound is the kernel's major timeout for TCP:
//! `min(timeo × (retrans + 1), 600 s)` (timeo in deciseconds; defaults 600
//! and 2 over TCP, 11 and 3 over UDP). A `hard` mount retries that forever;
//! a `soft` NFSv4 mount over a connection that stays up never times out at
//! all (the server keeps ACKing), so only an abandonable helper with its own
//! deadline — `nfsha guard`, the heartbeat worker — bounds a job.

use crate::model::ClientMount;

/// What a mount is used for, guessed from its path and source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// A backup repository (CloudStack's `/tmp/csbackup.*`, `…/backup…`).
    Backup,
    /// VM disks: a CloudStack primary storage pool (`/mnt/<uuid>`), libvirt images.
    VmDisks,
    Other,
}

/// One NFS mount's options, read.
#[derive(Clone, Debug)]
pub struct NfsMount<'a> {
    pub mount: &'a ClientMount,
    pub usage: Use,
    pub soft: bool,
    pub v4: bool,
    pub udp: bool,
    /// Deciseconds.
    pub timeo: u64,
    pub retrans: u64,
}

/// The per-RPC major timeout in deciseconds.
pub fn rpc_bound_ds(timeo: u64, retrans: u64) -> u64 {
    timeo.saturating_mul(retrans.saturating_add(1)).min(6000)
}

fn usage(mp: &str, src: &str) -> Use {
    let l = mp.to_ascii_lowercase();
    if l.contains("backup") || src.to_ascii_lowercase().contains("backup") {
        return Use::Backup;
    }
    let last = l.rsplit('/').next().unwrap_or("");
    let is_uuid = last.len() == 36 && last.chars().filter(|&c| c == '-').count() == 4;
    if (l.starts_with("/mnt/") && is_uuid)
        || l.contains("libvirt/images")
        || l.contains("primary")
        || l.contains("vmdisk")
        || l.contains("vm-disk")
    {
        return Use::VmDisks;
    }
    Use::Other
}

impl<'a> NfsMount<'a> {
    /// `None` for a mount that is not NFS.
    pub fn read(m: &'a ClientMount) -> Option<NfsMount<'a>> {
        if !(m.fstype == "nfs" || m.fstype == "nfs4") {
            return None;
        }
        let get = |k: &str| {
            m.options
                .iter()
                .rev()
                .find_map(|o| o.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
        };
        let has = |k: &str| m.options.iter().any(|o| o == k);
        let udp = get("proto").is_some_and(|p| p.starts_with("udp"));
        Some(NfsMount {
            mount: m,
            usage: usage(&m.mount_point, &m.source),
            soft: has("soft") || has("softerr"),
            v4: m.fstype == "nfs4"
                || get("vers")
                    .or_else(|| get("nfsvers"))
                    .is_some_and(|v| v.starts_with('4')),
            udp,
            timeo: get("timeo")
                .and_then(|v| v.parse().ok())
                .unwrap_or(if udp { 11 } else { 600 }),
            retrans: get("retrans")
                .and_then(|v| v.parse().ok())
                .unwrap_or(if udp { 3 } else { 2 }),
        })
    }

    /// "per-RPC timeout timeo×(retrans+1) = 600ds×3 = 180.0s".
    pub fn bound_text(&self) -> String {
        let bound = rpc_bound_ds(self.timeo, self.retrans) as f64 / 10.0;
        format!(
            "per-RPC timeout timeo×(retrans+1) = {}ds×{} = {bound:.1}s{}",
            self.timeo,
            self.retrans + 1,
            if self.timeo.saturating_mul(self.retrans + 1) > 6000 {
                " (capped at 600s)"
            } else {
                ""
            }
        )
    }
}

/// The NFS mounts among the client mounts given.
pub fn nfs_mounts(mounts: &[ClientMount]) -> impl Iterator<Item = NfsMount<'_>> {
    mounts.iter().filter_map(NfsMount::read)
}

/// One finding per NFS mount of `usage` whose `soft` option is `soft`: the
/// matcher NFS801 (hard backups) and NFS802 (soft VM disks) share. `message`
/// is given the mount point and the mount.
pub fn mounts_of_use(
    ctx: &crate::lint::Ctx,
    out: &mut Vec<crate::lint::Finding>,
    rule: &'static crate::lint::Rule,
    (usage, soft): (Use, bool),
    message: impl Fn(&str, &NfsMount) -> String,
    help: &str,
) {
    for n in nfs_mounts(&ctx.m.host.mounts) {
        if n.usage != usage || n.soft != soft {
            continue;
        }
        let mp = n.mount.mount_point.as_str();
        out.push(
            crate::lint::Finding::new(rule, message(mp, &n))
                .objects([mp])
                .at(&n.mount.loc)
                .help(help),
        );
    }
}
