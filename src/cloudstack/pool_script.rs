//! What `kvmheartbeat.sh` and `kvmsmpheartbeat.sh` share: one command line
//! (`getopts 'i:p:m:h:t:rc'`) and three modes, write, check (`-r`) and fence
//! (`-c`). The two differ only in whether `-i` is required and in what
//! counts as a mounted pool ([`Flavor`]).
//!
//! Neither ever mounts anything or kills a VM: the stock `kvmheartbeat.sh`
//! remounts a missing pool and then `kill -9`s every qemu on it, and the
//! stock `kvmsmpheartbeat.sh` kills them whenever the pool *is* mounted.

use std::path::{Path, PathBuf};

use crate::sys::mounts;

use super::fence::{self, Caller};
use super::getopts::{getopts, has, value};
use super::lines::Answer;
use super::localdir::Local;
use super::pool_state::Outcome as WriteOutcome;
use super::settings::Settings;
use super::{peer_check, pool_write, Outcome};

/// What counts as a mounted pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountRule {
    /// NFS pools: the path is itself a mount point (`/mnt/<pool-uuid>`).
    MountPoint,
    /// SharedMountPoint pools: the path lies on a mounted filesystem other
    /// than the root one (it may be a directory inside a cluster filesystem).
    OnMountedFs,
}

pub struct Flavor {
    pub script: &'static str,
    /// `kvmheartbeat.sh` exits 1 without `-i` in every mode; `kvmsmpheartbeat.sh` ignores it.
    pub require_ip: bool,
    pub mount_rule: MountRule,
    pub usage: &'static str,
}

/// The pool's state, from mountinfo alone (never touching the mount).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountState {
    Mounted,
    ReadOnly,
    NotMounted,
}

/// Judge `path` against the mount table text.
pub fn mount_state(rule: MountRule, mountinfo: &str, path: &Path) -> MountState {
    let table = mounts::parse(mountinfo);
    let m = match rule {
        MountRule::MountPoint => mounts::at(&table, path),
        MountRule::OnMountedFs => {
            mounts::containing(&table, path).filter(|m| m.mount_point != Path::new("/"))
        }
    };
    match m {
        None => MountState::NotMounted,
        Some(m) if !m.is_rw() => MountState::ReadOnly,
        Some(_) => MountState::Mounted,
    }
}

fn normalise(p: &str) -> PathBuf {
    let t = p.trim_end_matches('/');
    PathBuf::from(if t.is_empty() { "/" } else { t })
}

fn usage_error(f: &Flavor, e: &str) -> Outcome {
    (1, Some(format!("{}: {e}\n{}", f.script, f.usage)))
}

/// Log what the settings got wrong, loudly: every call, to syslog.
pub fn log_problems(s: &Settings) {
    for p in s.problems() {
        tracing::error!("{p}");
    }
}

/// The local directories, or why there are none (logged).
pub fn local_dirs(s: &Settings) -> Result<Local, String> {
    match Local::pick(&s.cfg.run_dir) {
        Ok(l) => {
            for (from, why) in &l.fallbacks {
                tracing::error!(
                    "LOCAL FAULT (not a storage failure): {} unusable ({why}); using a fallback directory",
                    from.display()
                );
            }
            Ok(l)
        }
        Err(e) => {
            tracing::error!("LOCAL FAULT (not a storage failure): no usable local directory: {e}");
            Err(e)
        }
    }
}

pub fn main(f: &Flavor, args: &[String]) -> Outcome {
    let opts = match getopts("i:p:m:h:t:rc", args) {
        Ok(o) => o,
        Err(e) => return usage_error(f, &e),
    };
    let ip = value(&opts, 'i').unwrap_or("");
    let mount = value(&opts, 'm').unwrap_or("");
    let host = value(&opts, 'h').unwrap_or("");
    if has(&opts, 'c') {
        // A fence is never refused for a missing or odd argument: a safety
        // mechanism must not fail open (the stock script exits 1 without -i).
        let s = Settings::load();
        log_problems(&s);
        let local = local_dirs(&s);
        let mount = normalise(mount);
        return fence::fence(
            &s,
            local.as_ref().ok(),
            &Caller::Pool {
                script: f.script,
                mount: &mount,
            },
        );
    }
    if f.require_ip && ip.is_empty() {
        return usage_error(f, "-i (the storage server address) is required");
    }
    if mount.is_empty() {
        return usage_error(f, "-m (the pool's mount point) is required");
    }
    if !mount.starts_with('/') {
        return usage_error(f, &format!("-m {mount:?}: expected an absolute path"));
    }
    let mount = normalise(mount);
    let s = Settings::load();
    log_problems(&s);
    let local = local_dirs(&s);
    if host.is_empty() {
        return usage_error(f, "-h (the host's IP) is required");
    }
    if let Err(e) = crate::heartbeat::config::check_host_id("-h", host) {
        return usage_error(f, &e.to_string());
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let state = mount_state(f.mount_rule, &mountinfo, &mount);
    if has(&opts, 'r') {
        let max_s = match value(&opts, 't').map(|t| t.trim().parse::<u64>()) {
            None => 60,
            Some(Ok(v)) => v,
            Some(Err(_)) => {
                return usage_error(
                    f,
                    &format!(
                        "-t {:?}: expected whole seconds",
                        value(&opts, 't').unwrap_or("")
                    ),
                )
            }
        };
        let answer = match (state, &local) {
            (MountState::NotMounted, _) => Answer::Unknown(format!(
                "{} is not mounted on this host, so nothing of {host} can be read there (nfsha never mounts it)",
                mount.display()
            )),
            (_, Err(e)) => Answer::Unknown(format!("local fault on this host: {e}")),
            (_, Ok(l)) => peer_check::check(&s, l, &mount, host, max_s),
        };
        return (answer.exit_code(), Some(answer.line()));
    }
    let legacy = super::files::legacy_file(&mount, host)
        .display()
        .to_string();
    match (state, local) {
        (_, Err(e)) => (
            1,
            Some(format!(
                "Failed to write the heartbeat {legacy}: {}: {e}",
                WriteOutcome::Local.describe()
            )),
        ),
        (MountState::NotMounted, Ok(l)) => pool_write::finish(
            &l,
            &mount,
            WriteOutcome::NotMounted,
            "nfsha never mounts it; mount the pool through libvirt",
            &legacy,
        ),
        (MountState::ReadOnly, Ok(l)) => {
            pool_write::finish(&l, &mount, WriteOutcome::ReadOnly, "", &legacy)
        }
        (MountState::Mounted, Ok(l)) => pool_write::write(&s, &l, &mount, host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
40 22 0:50 / /mnt/6b3a rw,relatime shared:20 - nfs4 10.0.0.5:/export rw
41 22 0:51 / /mnt/ro ro,relatime shared:21 - nfs4 10.0.0.5:/ro rw
42 22 0:52 / /shared rw,relatime shared:22 - gfs2 /dev/sdb rw
";

    #[test]
    fn what_counts_as_mounted() {
        let nfs = |p: &str| mount_state(MountRule::MountPoint, INFO, Path::new(p));
        assert_eq!(nfs("/mnt/6b3a"), MountState::Mounted);
        assert_eq!(nfs("/mnt/ro"), MountState::ReadOnly);
        assert_eq!(
            nfs("/mnt/other"),
            MountState::NotMounted,
            "an empty directory on /"
        );
        assert_eq!(nfs("/mnt/6b3a/sub"), MountState::NotMounted);
        let smp = |p: &str| mount_state(MountRule::OnMountedFs, INFO, Path::new(p));
        assert_eq!(smp("/shared/pool1"), MountState::Mounted);
        assert_eq!(smp("/shared"), MountState::Mounted);
        assert_eq!(
            smp("/srv/pool"),
            MountState::NotMounted,
            "on the root filesystem"
        );
        assert_eq!(smp("/mnt/ro/x"), MountState::ReadOnly);
        assert_eq!(normalise("/mnt/a//"), Path::new("/mnt/a"));
        assert_eq!(normalise("/"), Path::new("/"));
    }
}
