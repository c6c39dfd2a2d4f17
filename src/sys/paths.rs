//! Where nfsha finds the kernel's and nfs-utils' files. Every root can be
//! moved with an environment variable, read once when the seam is built, so
//! the integration tests (and `ocf-tester` runs) can point the kernel-only
//! parts (`/proc/fs/nfsd`, `/proc/drbd`) at temporary directories while the
//! rest of the machine stays real.

use std::path::PathBuf;

/// The configurable roots, with the variable that moves each one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// `NFSHA_PROC_NFSD`: the nfsd control filesystem (`threads`, `versions`,
    /// `nfsv4leasetime`, `nfsv4gracetime`, `unlock_filesystem`, …).
    pub proc_nfsd: PathBuf,
    /// `NFSHA_NFS_CONF`: nfs-utils' configuration file.
    pub nfs_conf: PathBuf,
    /// `NFSHA_NFS_CONF_D`: its drop-in directory (`*.conf`, read after it).
    pub nfs_conf_d: PathBuf,
    /// `NFSHA_VAR_LIB_NFS`: nfs-utils' state directory (`etab`).
    pub var_lib_nfs: PathBuf,
    /// `NFSHA_PROC_DRBD`: the DRBD status file (DRBD 8.4).
    pub proc_drbd: PathBuf,
    /// `NFSHA_MOUNTINFO`: the mount table of this process's namespace.
    pub mountinfo: PathBuf,
    /// `NFSHA_SYSTEMD_DIR`: where admin unit files and drop-ins live.
    pub systemd_dir: PathBuf,
    /// `NFSHA_RUN_SYSTEMD`: exists when systemd is the running init.
    pub run_systemd: PathBuf,
    /// `NFSHA_RUN_DIR`: nfsha's own runtime directory (cleared at boot).
    pub run_dir: PathBuf,
    /// `NFSHA_PROC`: the process table (for the daemons nfsserver checks).
    pub proc: PathBuf,
    /// `NFSHA_PASSWD`: the user database (for the statd user's name).
    pub passwd: PathBuf,
    /// `NFSHA_KMSG`: the kernel log (nfsd's grace messages, `nfsha status`).
    pub kmsg: PathBuf,
}

impl Default for Paths {
    /// The real locations on a Linux host.
    fn default() -> Self {
        Paths {
            proc_nfsd: "/proc/fs/nfsd".into(),
            nfs_conf: "/etc/nfs.conf".into(),
            nfs_conf_d: "/etc/nfs.conf.d".into(),
            var_lib_nfs: "/var/lib/nfs".into(),
            proc_drbd: "/proc/drbd".into(),
            mountinfo: "/proc/self/mountinfo".into(),
            systemd_dir: "/etc/systemd/system".into(),
            run_systemd: "/run/systemd/system".into(),
            run_dir: "/run/nfsha".into(),
            proc: "/proc".into(),
            passwd: "/etc/passwd".into(),
            kmsg: "/dev/kmsg".into(),
        }
    }
}

impl Paths {
    /// The defaults, each overridden by its variable in `get` when set and
    /// not empty.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Paths {
        let mut p = Paths::default();
        let fields: [(&str, &mut PathBuf); 12] = [
            ("NFSHA_PROC_NFSD", &mut p.proc_nfsd),
            ("NFSHA_NFS_CONF", &mut p.nfs_conf),
            ("NFSHA_NFS_CONF_D", &mut p.nfs_conf_d),
            ("NFSHA_VAR_LIB_NFS", &mut p.var_lib_nfs),
            ("NFSHA_PROC_DRBD", &mut p.proc_drbd),
            ("NFSHA_MOUNTINFO", &mut p.mountinfo),
            ("NFSHA_SYSTEMD_DIR", &mut p.systemd_dir),
            ("NFSHA_RUN_SYSTEMD", &mut p.run_systemd),
            ("NFSHA_RUN_DIR", &mut p.run_dir),
            ("NFSHA_PROC", &mut p.proc),
            ("NFSHA_PASSWD", &mut p.passwd),
            ("NFSHA_KMSG", &mut p.kmsg),
        ];
        for (var, field) in fields {
            if let Some(v) = get(var).filter(|v| !v.is_empty()) {
                *field = PathBuf::from(v);
            }
        }
        p
    }

    /// The process environment's overrides.
    pub fn from_env() -> Paths {
        Paths::from_lookup(|v| std::env::var(v).ok())
    }

    /// A file in the nfsd control filesystem.
    pub fn nfsd(&self, name: &str) -> PathBuf {
        self.proc_nfsd.join(name)
    }

    /// The `etab` exportfs keeps (what is exported now).
    pub fn etab(&self) -> PathBuf {
        self.var_lib_nfs.join("etab")
    }

    /// The generated nfs-server drop-in.
    pub fn nfs_server_dropin(&self) -> PathBuf {
        self.systemd_dir.join("nfs-server.service.d/nfsha.conf")
    }

    /// The drop-in that keeps `rpc-statd-notify.service` from notifying
    /// NFSv3 clients under the node's own name while the cluster runs nfsd.
    pub fn statd_notify_dropin(&self) -> PathBuf {
        self.systemd_dir
            .join("rpc-statd-notify.service.d/nfsha.conf")
    }

    /// The file whose presence lets nfs-server.service start (see `nfsha dropin`).
    pub fn nfs_server_allow(&self) -> PathBuf {
        self.run_dir.join("nfs-server.allow")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_move_the_roots() {
        let p = Paths::from_lookup(|v| match v {
            "NFSHA_PROC_NFSD" => Some("/tmp/x/nfsd".into()),
            "NFSHA_NFS_CONF" => Some(String::new()),
            _ => None,
        });
        assert_eq!(p.nfsd("threads"), PathBuf::from("/tmp/x/nfsd/threads"));
        assert_eq!(
            p.nfs_conf,
            PathBuf::from("/etc/nfs.conf"),
            "empty means default"
        );
        assert_eq!(p.etab(), PathBuf::from("/var/lib/nfs/etab"));
        assert_eq!(
            p.nfs_server_dropin(),
            PathBuf::from("/etc/systemd/system/nfs-server.service.d/nfsha.conf")
        );
    }
}
