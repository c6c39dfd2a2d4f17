//! `nfsha status` against real files in temporary roots (the seam's `Paths`
//! roots), the real agents' markers, a real nfsdcld-schema SQLite database
//! written by the `sqlite3` program, a real heartbeat daemon, and a real FUSE
//! filesystem that hangs on demand (to show it never blocks).
//!
//! What this host cannot have is labelled: there is no kernel nfsd, so the
//! nfsd control files, `/proc/<pid>/stat` of nfsd's kernel threads and the
//! kernel log are files in the temporary root, written in the formats Linux
//! 6.1 uses (`fs/nfsd/nfsctl.c`, `nfs4state.c`, `fs/proc/array.c`,
//! `/dev/kmsg`). The VM lab checks the same figures against a real kernel.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A server node's files in a temporary directory.
struct Root {
    tmp: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
}

fn monotonic_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime into a timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

fn boottime_ticks() -> u64 {
    nfsha::heartbeat::clock::boottime().as_millis() as u64 / 10
}

/// The formats Linux writes, for an nfsd kernel thread (PF_KTHREAD set).
fn kthread_stat(pid: u32, comm: &str, flags: u64, start_ticks: u64) -> String {
    format!(
        "{pid} ({comm}) S 2 0 0 0 -1 {flags} 0 0 0 0 0 0 0 0 20 0 1 0 {start_ticks} 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    )
}

impl Root {
    fn new() -> Root {
        let tmp = tempfile::Builder::new()
            .prefix("nfsha-status-")
            .tempdir_in("/tmp")
            .unwrap();
        let r = Root {
            tmp,
            extra_env: Vec::new(),
        };
        for d in [
            "nfsd/clients",
            "proc",
            "rsctmp",
            "systemd",
            "varlib",
            "state/nfsdcld",
            "conf.d",
        ] {
            std::fs::create_dir_all(r.path(d)).unwrap();
        }
        r.write("nfsd/threads", "0\n");
        r.write("nfsd/versions", "-2 -3 +4 -4.0 +4.1 +4.2\n");
        r.write("nfsd/nfsv4leasetime", "90\n");
        r.write("nfsd/nfsv4gracetime", "90\n");
        r.write("kmsg", "");
        r.write(
            "nfs.conf",
            &format!(
                "[nfsdcld]\nstoragedir={}\n",
                r.path("state/nfsdcld").display()
            ),
        );
        r
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut e: Vec<(String, String)> = [
            ("NFSHA_PROC_NFSD", "nfsd"),
            ("NFSHA_PROC", "proc"),
            ("NFSHA_KMSG", "kmsg"),
            ("HA_RSCTMP", "rsctmp"),
            ("NFSHA_NFS_CONF", "nfs.conf"),
            ("NFSHA_NFS_CONF_D", "conf.d"),
            ("NFSHA_SYSTEMD_DIR", "systemd"),
            ("NFSHA_VAR_LIB_NFS", "varlib"),
            ("NFSHA_PROC_DRBD", "no-proc-drbd"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), self.path(v).display().to_string()))
        .collect();
        // No drbdsetup on PATH unless a test puts a stand-in there.
        e.push((
            "PATH".into(),
            format!("{}:/usr/bin:/bin", self.path("bin").display()),
        ));
        e.extend(self.extra_env.iter().cloned());
        e
    }

    /// nfsd runs with `threads`, started `ago` seconds ago (its kernel
    /// threads' start time), with `v4_end_grace` reading `ended`.
    fn nfsd_running(&self, threads: u32, ago: u64, ended: bool) {
        self.write("nfsd/threads", &format!("{threads}\n"));
        self.write("nfsd/v4_end_grace", if ended { "Y\n" } else { "N\n" });
        let start = boottime_ticks().saturating_sub(ago * 100);
        for i in 0..threads {
            let pid = 900 + i;
            self.write(
                &format!("proc/{pid}/stat"),
                &kthread_stat(pid, "nfsd", 0x0020_8040, start + u64::from(i)),
            );
        }
        self.write(
            "proc/800/stat",
            &kthread_stat(800, "rpc.mountd", 0x0040_0100, 5),
        );
    }

    /// Kernel log records, `(seconds ago, message)`.
    fn kmsg(&self, records: &[(f64, &str)]) {
        let now = monotonic_us();
        let text: String = records
            .iter()
            .enumerate()
            .map(|(i, (ago, msg))| {
                format!(
                    "6,{},{},-;{msg}\n",
                    1000 + i,
                    now - (ago * 1_000_000.0) as u64
                )
            })
            .collect();
        self.write("kmsg", &text);
    }

    fn client(&self, id: u32, address: &str, name: &str, status: &str) {
        self.write(
            &format!("nfsd/clients/{id}/info"),
            &format!(
                "clientid: 0x{id:016x}\naddress: \"{address}\"\nstatus: {status}\nseconds from last renew: 2\n\
                 name: \"{name}\"\nminor version: 2\nImplementation domain: \"kernel.org\"\n\
                 Implementation name: \"Linux 6.1.0-57-amd64\"\nImplementation time: [0, 0]\n\
                 callback state: UP\ncallback address: {address}\n"
            ),
        );
    }

    /// Markers as the agents write them (the agents' own test below starts
    /// them for real).
    fn cluster_markers(&self, hostname: &str) {
        self.write(
            "rsctmp/nfsha-nfsserver-state",
            &format!("mode=systemd\nhostname={hostname}\npids=\n"),
        );
    }

    fn status(&self, args: &[&str]) -> (i32, Value) {
        let (code, out, err) = run_bounded(&self.env(), args);
        let v: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}\nstderr:\n{err}"));
        assert_eq!(v["schema"], "nfsha-status/1");
        (code, v)
    }
}

/// Run `nfsha status --json ARGS`; a status that does not return within
/// two minutes is reported as blocked (the property under test), not waited
/// for forever.
fn run_bounded(env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(common::nfsha())
        .arg("status")
        .arg("--json")
        .args(args)
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("nfsha status did not return: it blocked");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// nfsdcld's database as nfsdcld 2.6 lays it out (utils/nfsdcld/sqlite.c,
/// schema version 4), written by the real sqlite3 program: `current` and
/// `recovery` epochs, and the client owners recorded in each.
fn nfsdcld_db(path: &Path, current: u64, recovery: u64, cur: &[&str], rec: &[&str]) {
    common::require("sqlite3", "sqlite3");
    let _ = std::fs::remove_file(path);
    let blob = |s: &str| format!("CAST('{s}' AS BLOB)");
    let mut sql = String::from(
        "CREATE TABLE parameters (key TEXT PRIMARY KEY, value TEXT);\n\
         INSERT INTO parameters values (\"version\", \"4\");\n\
         INSERT INTO parameters values (\"first_time\", \"0\");\n\
         CREATE TABLE grace (current INTEGER , recovery INTEGER);\n",
    );
    sql.push_str(&format!(
        "INSERT INTO grace values ({current}, {recovery});\n"
    ));
    for (epoch, ids) in [(current, cur), (recovery, rec)] {
        if epoch == 0 {
            continue;
        }
        sql.push_str(&format!(
            "CREATE TABLE \"rec-{epoch:016x}\" (id BLOB PRIMARY KEY, princhash BLOB);\n"
        ));
        for id in ids {
            sql.push_str(&format!(
                "INSERT OR REPLACE INTO \"rec-{epoch:016x}\" (id) VALUES ({});\n",
                blob(id)
            ));
        }
    }
    let mut c = Command::new("sqlite3")
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    c.stdin.take().unwrap().write_all(sql.as_bytes()).unwrap();
    assert!(c.wait().unwrap().success());
}

fn approx(v: &Value, want: f64, tol: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() <= tol)
}

#[test]
fn grace_left_and_reclaims_going_up_during_a_grace_period() {
    let r = Root::new();
    r.cluster_markers("nfs-ha");
    r.nfsd_running(8, 20, false);
    r.kmsg(&[
        (
            900.0,
            "NFSD: starting 90-second grace period (net f0000000)",
        ),
        (20.0, "NFSD: starting 90-second grace period (net f0000000)"),
    ]);
    for (i, n) in ["a", "b", "c"].iter().enumerate() {
        r.client(
            i as u32 + 1,
            &format!("192.0.2.{}:875", 21 + i),
            &format!("Linux NFSv4.2 cli-{n}"),
            "confirmed",
        );
    }
    let db = r.path("state/nfsdcld/main.sqlite");
    let all = [
        "Linux NFSv4.2 cli-a",
        "Linux NFSv4.2 cli-b",
        "Linux NFSv4.2 cli-c",
    ];
    nfsdcld_db(&db, 6, 5, &all[..1], &all);

    let (_, v) = r.status(&[]);
    let s = &v["server"];
    assert_eq!(s["nfsd"]["state"], "running", "{v:#}");
    assert_eq!(s["nfsd"]["started_by"], "cluster");
    assert_eq!(s["nfsd"]["threads"], 8);
    assert!(approx(&s["nfsd"]["started_ago_s"], 20.0, 10.0), "{v:#}");
    assert_eq!(s["scope"]["name"], "nfs-ha");
    let g = &s["grace"];
    assert_eq!(g["state"], "in-grace", "{g:#}");
    assert_eq!(g["running"], 90);
    // Started 20 s ago with 90 s of grace: about 70 s left (the test's own
    // steps take some of it on a loaded machine).
    assert!(approx(&g["remaining_s"], 70.0, 10.0), "{g:#}");
    assert!(approx(&g["latest_end_in_s"], 160.0, 10.0), "{g:#}");
    // In grace the start time and grace time tell it all: the kernel log
    // is not read (it costs more than the rest).
    assert_eq!(g["kernel_messages"], serde_json::json!([]), "{g:#}");
    let c = &s["clients"];
    assert_eq!(c["total"], 3);
    assert_eq!(c["reclaim"]["allowed"], 3, "{c:#}");
    assert_eq!(c["reclaim"]["reclaimed"], 1);
    assert_eq!(c["reclaim"]["recovery_epoch"], 5);
    let by_name = |v: &Value, n: &str| -> Value {
        v["server"]["clients"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()["reclaim"]
            .clone()
    };
    assert_eq!(by_name(&v, "Linux NFSv4.2 cli-a"), "reclaimed");
    assert_eq!(by_name(&v, "Linux NFSv4.2 cli-b"), "pending");

    // b reclaims: nfsdcld records it in the current epoch.
    nfsdcld_db(&db, 6, 5, &all[..2], &all);
    let (_, v) = r.status(&[]);
    assert_eq!(v["server"]["clients"]["reclaim"]["reclaimed"], 2);
    assert_eq!(by_name(&v, "Linux NFSv4.2 cli-b"), "reclaimed");

    // c reclaims, the kernel ends grace early and says so; nfsdcld closes
    // the recovery epoch.
    nfsdcld_db(&db, 6, 0, &all, &[]);
    r.write("nfsd/v4_end_grace", "Y\n");
    r.kmsg(&[
        (20.0, "NFSD: starting 90-second grace period (net f0000000)"),
        (
            15.5,
            "NFSD: all clients done reclaiming, ending NFSv4 grace period (net f0000000)",
        ),
    ]);
    let (code, v) = r.status(&[]);
    let g = &v["server"]["grace"];
    assert_eq!(g["state"], "ended-early", "{g:#}");
    assert_eq!(g["remaining_s"], 0.0);
    assert!(approx(&g["ended_after_s"], 4.5, 0.01), "{g:#}");
    assert_eq!(
        g["kernel_messages"],
        serde_json::json!([
            "NFSD: starting 90-second grace period (net f0000000)",
            "NFSD: all clients done reclaiming, ending NFSv4 grace period (net f0000000)"
        ])
    );
    assert_eq!(v["server"]["clients"]["reclaim"]["in_grace"], false);
    assert_eq!(v["server"]["clients"]["reclaim"]["recorded"], 3);
    assert_eq!(code, 0, "everything known, nothing wrong: {v:#}");
}

/// Where no nfsd thread is visible (nfsd of another namespace), the
/// kernel's own message dates the start.
#[test]
fn the_kernel_log_dates_a_start_no_thread_shows() {
    let r = Root::new();
    r.cluster_markers("nfs-ha");
    r.nfsd_running(8, 0, false);
    for i in 0..8 {
        std::fs::remove_dir_all(r.path(&format!("proc/{}", 900 + i))).unwrap();
    }
    r.kmsg(&[(40.0, "NFSD: starting 90-second grace period (net f0000000)")]);
    let (_, v) = r.status(&[]);
    let g = &v["server"]["grace"];
    assert_eq!(g["state"], "in-grace", "{v:#}");
    assert!(approx(&g["remaining_s"], 50.0, 10.0), "{g:#}");
    assert!(
        v["server"]["nfsd"]["started_ago_s"]["unknown"]
            .as_str()
            .is_some_and(|w| w.contains("no nfsd kernel thread")),
        "{v:#}"
    );
}

#[test]
fn an_nfsd_the_cluster_did_not_start_is_shown_and_how_to_fix_it() {
    let r = Root::new();
    r.nfsd_running(8, 300, true);
    // Debian's install enabled nfs-server; no nfsha drop-in yet.
    std::os::unix::fs::symlink("/lib/systemd/system/nfs-server.service", {
        std::fs::create_dir_all(r.path("systemd/multi-user.target.wants")).unwrap();
        r.path("systemd/multi-user.target.wants/nfs-server.service")
    })
    .unwrap();
    let (code, v) = r.status(&[]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["server"]["nfsd"]["started_by"], "outside-cluster");
    let problems = v["problems"].to_string();
    assert!(
        problems.contains("systemctl disable --now nfs-server"),
        "{problems}"
    );
    assert!(
        problems.contains("enabled at boot (multi-user.target.wants)"),
        "{problems}"
    );
    assert_eq!(
        v["server"]["nfs_server_unit"]["wanted_by"],
        serde_json::json!(["multi-user.target.wants"])
    );
    // Its scope is this node's name, whoever started it.
    let node = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert_eq!(v["server"]["scope"]["name"], node.as_str());

    // Human output says the same.
    let out = Command::new(common::nfsha())
        .arg("status")
        .envs(r.env())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NOT started by the cluster"), "{text}");
    assert!(text.contains("Problems"), "{text}");
}

#[test]
fn configured_and_running_lease_from_the_dropin_and_a_drift_is_a_problem() {
    let r = Root::new();
    r.cluster_markers("nfs-ha");
    r.nfsd_running(8, 500, true);
    let dropin = nfsha::dropin::render("nfs-ha", 120, 120, Path::new("/usr/sbin/nfsha")).unwrap();
    r.write("systemd/nfs-server.service.d/nfsha.conf", &dropin);
    let (code, v) = r.status(&[]);
    let s = &v["server"];
    assert_eq!(s["lease"]["configured"]["seconds"], 120, "{v:#}");
    assert!(s["lease"]["configured"]["source"]
        .as_str()
        .unwrap()
        .contains("drop-in"));
    assert_eq!(s["lease"]["running"], 90);
    assert_eq!(s["nfs_server_unit"]["dropin"]["hostname"], "nfs-ha");
    assert_eq!(code, 1);
    assert!(
        v["problems"].to_string().contains("lease time of 90 s"),
        "{v:#}"
    );
}

#[test]
fn a_node_with_nothing_of_nfs_says_so_and_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |s: &str| tmp.path().join(s).display().to_string();
    let env = vec![
        ("NFSHA_PROC_NFSD".to_string(), p("none")),
        ("HA_RSCTMP".into(), p("rsctmp")),
        ("NFSHA_SYSTEMD_DIR".into(), p("systemd")),
        ("NFSHA_PROC_DRBD".into(), p("drbd")),
        ("NFSHA_NFS_CONF".into(), p("nfs.conf")),
        ("NFSHA_KMSG".into(), p("kmsg")),
    ];
    let (code, out, err) = run_bounded(&env, &["--heartbeat-config", &p("hb.toml")]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    assert_eq!(v["server"], Value::Null, "{v:#}");
    assert_eq!(v["kvm_host"], Value::Null);
    assert_eq!(code, 0);
}

/// The real agents (direct mode, with the labelled stand-ins of
/// tests/common) start the group; status shows what they started.
#[test]
fn what_the_real_agents_started_is_what_status_shows() {
    let mut node = common::Node::new();
    node.mount_export();
    let env: Vec<(String, String)> = node.env();
    let ok = |agent: &str, params: Vec<(&'static str, String)>| {
        let (code, err) = node.agent(agent, "start", &common::p(&params));
        assert_eq!(code, 0, "{agent} start: {err}\n{}", node.log());
    };
    ok("nfsstate", node.state_params());
    ok("nfsserver", node.server_params());
    ok("exportfs", node.export_params());
    let tmp = tempfile::tempdir().unwrap();
    let mut env = env;
    env.push((
        "NFSHA_KMSG".into(),
        tmp.path().join("kmsg").display().to_string(),
    ));
    std::fs::write(tmp.path().join("kmsg"), "").unwrap();
    let (_, out, err) = run_bounded(&env, &[]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    let s = &v["server"];
    assert_eq!(s["nfsd"]["started_by"], "cluster", "{v:#}");
    assert_eq!(s["nfsd"]["start_mode"], "direct");
    assert_eq!(s["scope"]["name"], "nfs-ha-test");
    let agents: Vec<&str> = s["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["agent"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["nfsstate", "nfsserver", "exportfs"], "{v:#}");
    // The lease the resource set (120 s) is what the control file holds; in
    // direct mode no file on the node configures it.
    assert_eq!(s["lease"]["running"], 120);
    assert_eq!(s["lease"]["configured"], Value::Null);
    let fsid = (7000 + node.drbd_minor).to_string();
    let export = s["exports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["client"] == node.client.as_str())
        .unwrap_or_else(|| panic!("no export for {} in {v:#}", node.client))
        .clone();
    assert_eq!(export["fsid"], fsid.as_str());
    assert_eq!(export["cluster"], true);
    assert_eq!(export["directory"], node.export_dir.display().to_string());
    // The stand-in drbdsetup answers like DRBD 9 for the state device.
    let drbd = s["drbd"].as_array().unwrap();
    let state = drbd
        .iter()
        .find(|d| d["minor"] == node.drbd_minor)
        .unwrap_or_else(|| panic!("no drbd{} in {v:#}", node.drbd_minor));
    assert_eq!(state["role"], "Primary");
    assert_eq!(state["via"], "drbdsetup status --json");
    assert!(
        state["used_for"].to_string().contains("state directory"),
        "{v:#}"
    );
    for (agent, params) in [
        ("exportfs", node.export_params()),
        ("nfsserver", node.server_params()),
        ("nfsstate", node.state_params()),
    ] {
        node.agent(agent, "stop", &common::p(&params));
    }
}

/// A real FUSE filesystem that hangs holds nfsdcld's database and etab;
/// another holds the resource state directory. Status answers anyway: what
/// lives there is unknown, with the reason, and the rest is shown.
#[test]
fn hung_storage_never_blocks_status() {
    common::require_root();
    assert!(
        common::fuse_available(),
        "needs /dev/fuse and fusermount3 (fuse3)"
    );
    let mut r = Root::new();
    let fs = common::hangfs::Mounted::new(&r.path("fuse"));
    std::fs::create_dir_all(fs.path.join("nfsdcld")).unwrap();
    std::fs::create_dir_all(fs.path.join("varlib")).unwrap();
    let local_db = r.path("db.sqlite");
    nfsdcld_db(&local_db, 3, 2, &["x"], &["x", "y"]);
    std::fs::copy(&local_db, fs.path.join("nfsdcld/main.sqlite")).unwrap();
    std::fs::write(
        fs.path.join("varlib/etab"),
        "/srv/nfs/share\t192.0.2.0/24(rw,sync,fsid=1)\n",
    )
    .unwrap();
    r.write(
        "nfs.conf",
        &format!(
            "[nfsdcld]\nstoragedir={}\n",
            fs.path.join("nfsdcld").display()
        ),
    );
    r.extra_env.push((
        "NFSHA_VAR_LIB_NFS".into(),
        fs.path.join("varlib").display().to_string(),
    ));
    r.cluster_markers("nfs-ha");
    r.nfsd_running(4, 30, false);
    r.client(1, "192.0.2.9:800", "x", "confirmed");

    let (_, v) = r.status(&["--timeout", "1s"]);
    assert_eq!(v["server"]["clients"]["reclaim"]["reclaimed"], 1, "{v:#}");
    assert_eq!(v["server"]["exports"][0]["fsid"], "1", "{v:#}");

    fs.set(common::hangfs::Mode::Block);
    let (code, v) = r.status(&["--timeout", "1s"]);
    let reclaim = v["server"]["clients"]["reclaim"]["unknown"]
        .as_str()
        .unwrap_or("");
    assert!(
        reclaim.contains("nfsdcld's database") && reclaim.contains("did not finish within"),
        "{v:#}"
    );
    let exports = v["server"]["exports"]["unknown"].as_str().unwrap_or("");
    assert!(
        exports.contains("etab") && exports.contains("abandoned"),
        "{v:#}"
    );
    // Everything the kernel says is still there.
    assert_eq!(v["server"]["nfsd"]["state"], "running");
    assert_eq!(v["server"]["grace"]["state"], "in-grace");
    assert_eq!(v["server"]["clients"]["total"], 1);
    assert_eq!(code, 3);

    // The resource state directory on hung storage is not even looked at.
    let hung_markers = fs.path.join("rsctmp");
    r.extra_env
        .push(("HA_RSCTMP".into(), hung_markers.display().to_string()));
    let (_, v) = r.status(&["--timeout", "1s"]);
    let why = v["server"]["resources"]["unknown"].as_str().unwrap_or("");
    assert!(why.contains("FUSE"), "{v:#}");
    assert!(
        v["server"]["nfsd"]["started_by"]["unknown"].is_string(),
        "{v:#}"
    );
    fs.set(common::hangfs::Mode::Normal);
}

/// On a KVM host the heartbeat daemon's status is folded in, as `nfsha
/// heartbeat status --json` prints it, and a hung storage shows as failing
/// while status itself answers.
#[test]
fn a_kvm_host_shows_its_heartbeat_and_a_hung_storage() {
    common::require_root();
    assert!(
        common::fuse_available(),
        "needs /dev/fuse and fusermount3 (fuse3)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let fs = common::hangfs::Mounted::new(&tmp.path().join("mnt"));
    let run = tmp.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    let cfg = common::hb::write_config(
        tmp.path(),
        "hb.toml",
        &format!(
            "host_id = \"kvm1\"\ninterval = \"200ms\"\nio_timeout = \"1s\"\nfence_after = \"3s\"\n\
             takeover_margin = \"1s\"\nrun_dir = \"{}\"\nfence_record_file = \"{}\"\n\
             [[storage]]\nname = \"pool\"\nmount = \"{}\"\n",
            run.display(),
            run.join("fence.log").display(),
            fs.path.display()
        ),
    );
    let d = common::hb::Daemon::start(&cfg, &run);
    d.wait_for(Duration::from_secs(10), "2 renewals", |s| {
        s.storages[0].totals.ok >= 2
    });
    let p = |s: &str| tmp.path().join(s).display().to_string();
    let env = vec![
        ("NFSHA_PROC_NFSD".to_string(), p("none")),
        ("HA_RSCTMP".into(), p("rsctmp")),
        ("NFSHA_SYSTEMD_DIR".into(), p("systemd")),
        ("NFSHA_PROC_DRBD".into(), p("drbd")),
        ("NFSHA_NFS_CONF".into(), p("nfs.conf")),
        ("NFSHA_KMSG".into(), p("kmsg")),
    ];
    let cfg_arg = cfg.display().to_string();
    let (code, out, err) = run_bounded(&env, &["--heartbeat-config", &cfg_arg]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    assert_eq!(v["server"], Value::Null, "{v:#}");
    let k = &v["kvm_host"];
    assert_eq!(k["healthy"], true, "{v:#}");
    assert_eq!(k["heartbeat"]["host_id"], "kvm1");
    assert_eq!(k["heartbeat"]["storages"][0]["name"], "pool");
    assert_eq!(code, 0);
    // The same object `nfsha heartbeat status --json` prints.
    let hb = Command::new(common::nfsha())
        .args(["heartbeat", "status", "--json", "--config", &cfg_arg])
        .output()
        .unwrap();
    let hb: Value = serde_json::from_slice(&hb.stdout).unwrap();
    assert_eq!(hb["host_id"], k["heartbeat"]["host_id"]);
    assert_eq!(hb["generation"], k["heartbeat"]["generation"]);

    fs.set(common::hangfs::Mode::Block);
    d.wait_for(Duration::from_secs(20), "failing renewals", |s| {
        s.storages[0].state != "ok"
    });
    let (code, out, _) = run_bounded(&env, &["--heartbeat-config", &cfg_arg]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kvm_host"]["healthy"], false, "{v:#}");
    assert_eq!(code, 1);
    fs.set(common::hangfs::Mode::Normal);
}
