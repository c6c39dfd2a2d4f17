//! Helpers shared by the integration tests: the built binary, required host
//! tools (a missing one fails the test with the package to install, never
//! skips it), and root.

#![allow(dead_code)]

/// Skip a test (with a note) where FUSE is not available; under CI a
/// missing tool is a failure, not a skip.
#[allow(unused_macros)]
macro_rules! need_fuse {
    () => {
        if !$crate::common::fuse_available() {
            if std::env::var_os("CI").is_some() {
                panic!("FUSE is required: /dev/fuse and fusermount3 (apt-get install fuse3)");
            }
            eprintln!("skipped: no /dev/fuse or fusermount3");
            return;
        }
    };
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An exclusive lock on a machine-wide resource that test runs in other
/// checkouts may use at the same time (`pacemaker`: only one Pacemaker can
/// run on a machine). Held until dropped; waits (and says so) while another
/// process holds it.
pub struct MachineLock(std::fs::File);

impl MachineLock {
    pub fn take(name: &str) -> MachineLock {
        use std::os::fd::AsRawFd;
        let path = format!("/run/lock/nfsha-{name}.lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            eprintln!(
                "waiting for {path}: another process holds it (if you wrapped this test \
                 in flock(1) on the same file, that is a deadlock: tests take it themselves)"
            );
            let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
            assert_eq!(rc, 0, "flock {path}: {}", std::io::Error::last_os_error());
        }
        MachineLock(f)
    }
}

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

/// A node for the server agents with the real pieces this host has (ext4 on
/// a loop device, mount/umount, unshare, exportfs writing the real
/// /var/lib/nfs/etab) and labelled stand-ins for what it lacks: no DRBD
/// (a `drbdsetup` stand-in answers `status --json` with a role the test
/// sets; the device node is named like a DRBD device but is the loop
/// device), no kernel nfsd (the nfsd control files are a FUSE stand-in that
/// answers like the kernel, EBUSY included, see [`nfsdfs`]; `rpc.nfsd`,
/// `rpc.mountd` and `nfsdcld` stand-ins record how they were started and
/// keep running until signalled).
pub struct Node {
    /// Dropped (unmounted) before `tmp` is removed.
    pub nfsd: nfsdfs::NfsdControl,
    pub tmp: tempfile::TempDir,
    pub loopdev: String,
    /// `<tmp>/dev/drbd<minor>`: a block node with the loop device's numbers.
    pub drbd_dev: String,
    pub drbd_minor: u32,
    pub state_dir: PathBuf,
    pub export_dir: PathBuf,
    pub export_mounted: bool,
    pub client: String,
}

impl Node {
    pub fn new() -> Node {
        require_root();
        for (tool, pkg) in [
            ("losetup", "mount"),
            ("mkfs.ext4", "e2fsprogs"),
            ("mknod", "coreutils"),
            ("unshare", "util-linux"),
            ("exportfs", "nfs-kernel-server"),
        ] {
            require(tool, pkg);
        }
        let tmp = tempfile::Builder::new()
            .prefix("nfsha-it-")
            .tempdir_in("/tmp")
            .unwrap();
        let t = tmp.path();
        let image = t.join("state.img");
        std::fs::File::create(&image)
            .unwrap()
            .set_len(32 << 20)
            .unwrap();
        let loopdev = run_ok("losetup", &["--find", "--show", image.to_str().unwrap()])
            .trim()
            .to_string();
        run_ok("mkfs.ext4", &["-q", "-F", &loopdev]);
        let loop_minor: u32 = loopdev.trim_start_matches("/dev/loop").parse().unwrap();
        let drbd_minor = 100 + loop_minor;
        std::fs::create_dir_all(t.join("dev")).unwrap();
        let drbd_dev = t
            .join(format!("dev/drbd{drbd_minor}"))
            .display()
            .to_string();
        let (maj, min) = {
            use std::os::unix::fs::MetadataExt;
            let rdev = std::fs::metadata(&loopdev).unwrap().rdev();
            (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev))
        };
        run_ok(
            "mknod",
            &[&drbd_dev, "b", &maj.to_string(), &min.to_string()],
        );

        let bin = t.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let nfsd = t.join("nfsd");
        let control = nfsdfs::NfsdControl::mount(&nfsd);
        std::fs::write(t.join("drbd-role"), "Primary\n").unwrap();
        let sub = |s: &str| {
            s.replace("@ROLE@", &t.join("drbd-role").display().to_string())
                .replace("@DRBD84@", &t.join("drbd84").display().to_string())
                .replace("@MINOR@", &drbd_minor.to_string())
                .replace("@LOG@", &t.join("rpc.nfsd.log").display().to_string())
                .replace("@NFSD@", &nfsd.display().to_string())
        };
        let stand_ins = [
            (
                "drbdsetup",
                "#!/bin/sh\n# STAND-IN for drbdsetup: this test host has no DRBD. It answers only\n\
                 # `status --json`, with one resource whose role the test writes to a file.\n\
                 # With a file `drbd84` next to the role file it answers like DRBD 8.4's\n\
                 # drbdsetup, which has no --json (the agent then reads /proc/drbd).\n\
                 [ -e '@DRBD84@' ] && { echo \"drbdsetup: unrecognized option '--json'\" >&2; exit 20; }\n\
                 [ \"$1 $2\" = \"status --json\" ] || { echo \"stand-in drbdsetup: unsupported: $*\" >&2; exit 20; }\n\
                 role=$(cat '@ROLE@')\n\
                 printf '[{\"name\":\"nfstest\",\"role\":\"%s\",\"devices\":[{\"volume\":0,\"minor\":@MINOR@,\"disk-state\":\"UpToDate\"}]}]\\n' \"$role\"\n",
            ),
            (
                "rpc.nfsd",
                "#!/bin/sh\n# STAND-IN for rpc.nfsd: this test host has no kernel nfsd. It records the\n\
                 # host name it runs under and its arguments, then does what rpc.nfsd does\n\
                 # to the control files: lease (-L) and grace (-G) first, then the threads.\n\
                 echo \"$(hostname) $*\" >> '@LOG@'\n\
                 lease=; grace=\n\
                 while [ $# -gt 0 ]; do\n\
                 \x20 case $1 in -L) lease=$2; shift;; -G) grace=$2; shift;; esac\n\
                 \x20 last=$1; shift\n\
                 done\n\
                 [ -z \"$lease\" ] || echo \"$lease\" > '@NFSD@/nfsv4leasetime' || echo \"rpc.nfsd: Unable to set nfsv4leasetime\" >&2\n\
                 [ -z \"$grace\" ] || echo \"$grace\" > '@NFSD@/nfsv4gracetime' || echo \"rpc.nfsd: Unable to set nfsv4gracetime\" >&2\n\
                 echo \"$last\" > '@NFSD@/threads'\n",
            ),
            (
                "rpc.mountd",
                "#!/bin/sh\n# STAND-IN for rpc.mountd: runs until signalled.\nwhile :; do sleep 1; done\n",
            ),
            (
                "nfsdcld",
                "#!/bin/sh\n# STAND-IN for nfsdcld: runs until signalled.\nwhile :; do sleep 1; done\n",
            ),
        ];
        for (name, text) in stand_ins {
            use std::os::unix::fs::PermissionsExt;
            let p = bin.join(name);
            std::fs::write(&p, sub(text)).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let state_dir = t.join("state");
        std::fs::write(
            t.join("nfs.conf"),
            format!(
                "[nfsdcld]\nstoragedir={0}/nfsdcld\n[nfsdcltrack]\nstoragedir={0}/nfsdcltrack\n",
                state_dir.display()
            ),
        )
        .unwrap();
        let export_dir = t.join("export");
        std::fs::create_dir_all(&export_dir).unwrap();
        // A distinct documentation-range client per node: tests share etab.
        let client = format!("198.51.100.{}", 1 + loop_minor % 250);
        Node {
            nfsd: control,
            tmp,
            loopdev,
            drbd_dev,
            drbd_minor,
            state_dir,
            export_dir,
            export_mounted: false,
            client,
        }
    }

    /// The agents' log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("ha.log")).unwrap_or_default()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Mount a tmpfs on the export directory (the exported filesystem).
    pub fn mount_export(&mut self) {
        run_ok(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                "size=1m",
                "nfsha-it",
                self.export_dir.to_str().unwrap(),
            ],
        );
        self.export_mounted = true;
    }

    /// Answer like DRBD 8.4: drbdsetup without --json, the role in a
    /// `/proc/drbd` stand-in (NFSHA_PROC_DRBD).
    pub fn drbd84(&self, role: &str) {
        std::fs::write(self.path("drbd84"), "").unwrap();
        std::fs::write(
            self.path("no-proc-drbd"),
            format!(
                "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: stand-in\n\n{:>2}: cs:Connected ro:{role}/Secondary ds:UpToDate/UpToDate C r-----\n    ns:0 nr:0 dw:0 dr:0\n",
                self.drbd_minor
            ),
        )
        .unwrap();
    }

    pub fn set_role(&self, role: &str) {
        std::fs::write(self.path("drbd-role"), format!("{role}\n")).unwrap();
    }

    pub fn threads(&self) -> String {
        std::fs::read_to_string(self.path("nfsd/threads"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// The environment an agent runs with on this node.
    pub fn env(&self) -> Vec<(String, String)> {
        let t = self.tmp.path();
        let path = format!(
            "{}:{}",
            t.join("bin").display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into())
        );
        vec![
            ("PATH".into(), path),
            ("HA_RSCTMP".into(), t.join("rsctmp").display().to_string()),
            // The agents' log, shown when a test fails.
            ("HA_LOGFILE".into(), t.join("ha.log").display().to_string()),
            (
                "NFSHA_PROC_NFSD".into(),
                t.join("nfsd").display().to_string(),
            ),
            (
                "NFSHA_NFS_CONF".into(),
                t.join("nfs.conf").display().to_string(),
            ),
            (
                "NFSHA_NFS_CONF_D".into(),
                t.join("nfs.conf.d").display().to_string(),
            ),
            (
                "NFSHA_PROC_DRBD".into(),
                t.join("no-proc-drbd").display().to_string(),
            ),
            (
                "NFSHA_RUN_SYSTEMD".into(),
                t.join("no-systemd").display().to_string(),
            ),
            (
                "NFSHA_RUN_DIR".into(),
                t.join("run-nfsha").display().to_string(),
            ),
        ]
    }

    /// Run `action` of `agent` like Pacemaker: returns (exit code, stderr).
    pub fn agent(&self, agent: &str, action: &str, params: &[(&str, &str)]) -> (i32, String) {
        let mut cmd = std::process::Command::new(nfsha());
        cmd.args(["agent", agent, action]).envs(self.env());
        for (k, v) in params {
            cmd.env(format!("OCF_RESKEY_{k}"), v);
        }
        cmd.env("OCF_RESKEY_CRM_meta_interval", "10000");
        cmd.env("OCF_RESOURCE_INSTANCE", format!("it-{agent}"));
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn state_params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("directory", self.state_dir.display().to_string()),
            ("device", self.drbd_dev.clone()),
        ]
    }

    pub fn server_params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("server_hostname", "nfs-ha-test".into()),
            ("state_directory", self.state_dir.display().to_string()),
            ("lease_time", "120".into()),
        ]
    }

    pub fn export_params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("directory", self.export_dir.display().to_string()),
            ("clientspec", self.client.clone()),
            ("options", "rw,sync,no_subtree_check".into()),
            ("fsid", (7000 + self.drbd_minor).to_string()),
        ]
    }

    pub fn is_mounted(&self, dir: &Path) -> bool {
        let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        text.lines()
            .any(|l| l.split(' ').nth(4) == Some(dir.to_str().unwrap()))
    }

    pub fn exported(&self) -> bool {
        let etab = std::fs::read_to_string("/var/lib/nfs/etab").unwrap_or_default();
        let prefix = format!("{}\t{}(", self.export_dir.display(), self.client);
        etab.lines().any(|l| l.starts_with(&prefix))
    }
}

/// Borrow a `(&str, String)` list as `(&str, &str)`.
pub fn p<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

impl Drop for Node {
    fn drop(&mut self) {
        // Best effort, in group stop order; only what this node set up.
        let _ = self.agent("nfsserver", "stop", &p(&self.server_params()));
        let target = format!("{}:{}", self.client, self.export_dir.display());
        let _ = run("exportfs", &["-u", &target]);
        for dir in [&self.export_dir, &self.state_dir] {
            while self.is_mounted(dir) {
                if !run("umount", &[dir.to_str().unwrap()]).status.success() {
                    break;
                }
            }
        }
        let _ = run("losetup", &["-d", &self.loopdev]);
    }
}

pub mod hangfs;
pub mod hb;
pub mod lint;
pub mod net;
pub mod nfsdfs;
pub mod pacemaker;

/// Whether FUSE tests can run here: /dev/fuse and fusermount3.
pub fn fuse_available() -> bool {
    Path::new("/dev/fuse").exists() && which::which("fusermount3").is_ok()
}
