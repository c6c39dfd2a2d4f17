//! A real one-node Pacemaker cluster for tests, run without systemd:
//! corosync on 127.0.0.1 (knet) and pacemakerd, started as children of the
//! test and ended by pid. The node's existing corosync.conf and CIB are moved
//! aside and put back afterwards.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{require, require_root, run, run_ok};

const COROSYNC_CONF: &str = "/etc/corosync/corosync.conf";
const CIB_DIR: &str = "/var/lib/pacemaker/cib";
pub const NODE: &str = "node1";

pub struct Cluster {
    corosync: Child,
    pacemakerd: Child,
    backup: tempfile::TempDir,
    /// Dropped last, after the cluster is stopped.
    _lock: super::MachineLock,
    had_conf: bool,
    had_cib: bool,
}

fn running(name: &str) -> bool {
    run("pgrep", &["-x", name]).status.success()
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!(
        "timed out after {} s waiting for {what}\n--- pacemaker.log tail ---\n{}",
        timeout.as_secs(),
        log_tail()
    );
}

pub fn log_tail() -> String {
    let out = run("tail", &["-n", "40", "/var/log/pacemaker/pacemaker.log"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn move_aside(from: &Path, to: &Path) -> bool {
    if from.exists() {
        run_ok("mv", &[from.to_str().unwrap(), to.to_str().unwrap()]);
        true
    } else {
        false
    }
}

impl Cluster {
    /// Start the cluster and wait until the node is online (about 30 s).
    pub fn start() -> Cluster {
        require_root();
        for (tool, pkg) in [
            ("corosync", "corosync"),
            ("pacemakerd", "pacemaker"),
            ("crm_mon", "pacemaker-cli-utils"),
            ("pcs", "pcs"),
            ("crm", "crmsh"),
        ] {
            require(tool, pkg);
        }
        let lock = super::MachineLock::take("pacemaker");
        assert!(
            !running("corosync") && !running("pacemakerd"),
            "a cluster is already running on this machine; the test starts its own"
        );
        let backup = tempfile::tempdir().unwrap();
        let had_conf = move_aside(
            Path::new(COROSYNC_CONF),
            &backup.path().join("corosync.conf"),
        );
        let had_cib = move_aside(Path::new(CIB_DIR), &backup.path().join("cib"));
        std::fs::create_dir_all(CIB_DIR).unwrap();
        run_ok("chown", &["hacluster:haclient", CIB_DIR]);
        run_ok("chmod", &["750", CIB_DIR]);
        std::fs::write(
            COROSYNC_CONF,
            "# written by nfsha's test harness; the original is restored afterwards\n\
             totem {\n  version: 2\n  cluster_name: nfshatest\n  transport: knet\n  crypto_cipher: none\n  crypto_hash: none\n}\n\
             nodelist {\n  node {\n    ring0_addr: 127.0.0.1\n    name: node1\n    nodeid: 1\n  }\n}\n\
             quorum {\n  provider: corosync_votequorum\n}\n\
             logging {\n  to_stderr: yes\n  to_syslog: no\n}\n",
        )
        .unwrap();
        let _ = std::fs::create_dir_all("/var/log/pacemaker");
        let log = |name: &str| {
            std::fs::File::create(backup.path().join(name))
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null())
        };
        let corosync = Command::new("corosync")
            .arg("-f")
            .stdout(log("corosync.out"))
            .stderr(log("corosync.err"))
            .spawn()
            .expect("start corosync");
        let mut cluster = Cluster {
            corosync,
            // Replaced below; a placeholder child keeps Drop simple.
            pacemakerd: Command::new("true").spawn().unwrap(),
            backup,
            _lock: lock,
            had_conf,
            had_cib,
        };
        wait_for("corosync to be quorate", Duration::from_secs(60), || {
            String::from_utf8_lossy(&run("corosync-quorumtool", &["-s"]).stdout)
                .contains("Quorate:          Yes")
        });
        let _ = cluster.pacemakerd.wait();
        cluster.pacemakerd = Command::new("pacemakerd")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pacemakerd");
        wait_for("the node to come online", Duration::from_secs(120), || {
            let out = String::from_utf8_lossy(&run("crm_mon", &["-1"]).stdout).into_owned();
            out.contains("Online: [ node1 ]") && out.contains("Current DC: node1")
        });
        // A one-node test cluster has no fencing device.
        run_ok(
            "crm_attribute",
            &["-t", "crm_config", "-n", "stonith-enabled", "-v", "false"],
        );
        cluster
    }

    /// The role of `resource` as crm_mon reports it ("Started", "Stopped", …).
    pub fn role(&self, resource: &str) -> Option<String> {
        let xml = String::from_utf8_lossy(
            &run("crm_mon", &["-1", "--output-as=xml", "--include=resources"]).stdout,
        )
        .into_owned();
        let needle = format!("<resource id=\"{resource}\"");
        let start = xml.find(&needle)?;
        let rest = &xml[start..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let role = tag.split("role=\"").nth(1)?.split('"').next()?;
        Some(role.to_string())
    }

    pub fn wait_role(&self, resource: &str, role: &str, timeout: Duration) {
        wait_for(&format!("{resource} to be {role}"), timeout, || {
            self.role(resource).as_deref() == Some(role)
        });
    }

    /// Pacemaker's fail count of `resource` on this node.
    pub fn failcount(&self, resource: &str) -> u64 {
        let out = run("crm_failcount", &["--query", "-r", resource, "-N", NODE]);
        let text = String::from_utf8_lossy(&out.stdout);
        text.split("value=")
            .nth(1)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    pub fn wait_until(&self, what: &str, timeout: Duration, ok: impl FnMut() -> bool) {
        wait_for(what, timeout, ok)
    }

    pub fn backup_dir(&self) -> PathBuf {
        self.backup.path().to_path_buf()
    }
}

/// Pids of the direct children of `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            // Field 4 (after the parenthesised name) is the parent pid.
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(pid) {
                out.push(child);
            }
        }
    }
    out
}

fn stop_child(child: &mut Child, timeout: Duration) {
    let pid = child.id();
    let kids = children(pid);
    // SAFETY: signalling a child we started.
    unsafe {
        libc_kill(pid as i32, 15);
    }
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    if !matches!(child.try_wait(), Ok(Some(_))) {
        let _ = child.kill();
        let _ = child.wait();
    }
    for k in kids {
        // SAFETY: ending a leftover child of the daemon we started, by pid.
        unsafe {
            libc_kill(k as i32, 9);
        }
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

impl Drop for Cluster {
    fn drop(&mut self) {
        stop_child(&mut self.pacemakerd, Duration::from_secs(60));
        stop_child(&mut self.corosync, Duration::from_secs(20));
        let _ = std::fs::remove_file(COROSYNC_CONF);
        let _ = std::fs::remove_dir_all(CIB_DIR);
        if self.had_conf {
            let _ = Command::new("mv")
                .arg(self.backup.path().join("corosync.conf"))
                .arg(COROSYNC_CONF)
                .status();
        }
        if self.had_cib {
            let _ = Command::new("mv")
                .arg(self.backup.path().join("cib"))
                .arg(CIB_DIR)
                .status();
        }
    }
}
