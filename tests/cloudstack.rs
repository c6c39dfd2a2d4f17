//! CloudStack's KVM HA scripts (symlinks to nfsha) driven as the agent
//! drives them: `tests/cloudstack/agent.rs` reproduces the Java side
//! (`Script.execute`, the pool classes' argv, `KVMHAMonitor`,
//! `KVMHAChecker`, `vmActivityCheck`). Storage is real: FUSE that can hang
//! (`tests/common/hangfs.rs`), tmpfs mounted read-write or read-only, and
//! empty directories that are not mounted. Fence actions run only through
//! the recording fencer (`fence_record_file`), or inside a PID namespace
//! where reboot(2) ends the namespace instead of the machine.
//!
//! No assertion measures wall-clock time, except where the bound is the
//! behaviour and is generous: the agent's own deadline (`Script` kills the
//! script at it), which nfsha's answer must beat (marked "agent deadline").

#[macro_use]
mod common;
mod cloudstack {
    pub mod agent;
}

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cloudstack::agent::{execute, Agent, Executed, Numbers, Pool};
use common::hangfs::{Mode, Mounted};
use common::hb::{bin, write_config, Daemon};

/// One KVM host: its agent (scripts, environment), heartbeat.toml,
/// agent.properties, run_dir, fence record and syslog.
struct Host {
    tmp: tempfile::TempDir,
    agent: Agent,
    config: PathBuf,
    props: PathBuf,
    syslog: UnixDatagram,
}

/// The daemon settings every test config carries (they give the core's
/// dead_after; the CloudStack values come from agent.properties).
fn toml(run: &Path, extra: &str) -> String {
    format!(
        "host_id = \"h1\"\ninterval = \"200ms\"\nio_timeout = \"1s\"\nfence_after = \"3s\"\ntakeover_margin = \"1s\"\nrun_dir = \"{}\"\nfence_record_file = \"{}\"\n{extra}\n",
        run.display(),
        run.join("fence.log").display()
    )
}

impl Host {
    fn new(n: Numbers, toml_extra: &str, props_extra: &str) -> Host {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        let config = write_config(tmp.path(), "heartbeat.toml", &toml(&run, toml_extra));
        let props = write_config(tmp.path(), "agent.properties", &n.properties(props_extra));
        let sock = tmp.path().join("log.sock");
        let syslog = UnixDatagram::bind(&sock).unwrap();
        syslog.set_nonblocking(true).unwrap();
        let env = vec![
            (
                "NFSHA_HEARTBEAT_CONFIG".to_string(),
                config.display().to_string(),
            ),
            ("AGENT_PROPS".to_string(), props.display().to_string()),
            (
                "NFSHA_SYSLOG_SOCKET".to_string(),
                sock.display().to_string(),
            ),
        ];
        let agent = Agent::new(tmp.path(), &bin(), n, env);
        Host {
            tmp,
            agent,
            config,
            props,
            syslog,
        }
    }

    fn fence_log(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("run/fence.log")).unwrap_or_default()
    }

    /// Everything logged to syslog since the last call.
    fn log(&self) -> String {
        let mut out = String::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = self.syslog.recv(&mut buf) {
            out.push_str(&String::from_utf8_lossy(&buf[..n]));
            out.push('\n');
        }
        out
    }

    fn dir(&self, name: &str) -> PathBuf {
        let d = self.tmp.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Run every script call inside new PID, mount and network namespaces
    /// (no daemon of this machine is reachable on its control socket), with
    /// a tmpfs on /run and /dev/shm: reboot(2) there ends the namespace (its
    /// init dies of SIGHUP) and never the machine, and the built-in run_dir
    /// (/run/nfsha) and the fallback directories are private to the call.
    fn isolated(mut self) -> Host {
        common::require("unshare", "util-linux");
        self.agent.wrap = [
            "unshare",
            "--net",
            "--mount",
            "--propagation",
            "private",
            "--pid",
            "--fork",
            "--kill-child",
            "--",
            "sh",
            "-c",
            "mount -t tmpfs nfsha-test-run /run && mount -t tmpfs nfsha-test-shm /dev/shm && exec \"$@\"",
            "sh",
        ]
        .map(String::from)
        .to_vec();
        self
    }
}

/// A tmpfs pool (mtimes can be set, and it can be read-only).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn new(path: &Path, ro: bool) -> Tmpfs {
        std::fs::create_dir_all(path).unwrap();
        let opts = if ro { "ro,size=1m" } else { "size=8m" };
        common::run_ok(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                opts,
                "nfsha-pool",
                path.to_str().unwrap(),
            ],
        );
        Tmpfs(path.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = common::run("umount", &["-l", self.0.to_str().unwrap()]);
    }
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn show(r: &Executed) -> String {
    format!(
        "exit {:?}, signal {:?}, result {:?}, output {:?}",
        r.exit, r.signal, r.result, r.output
    )
}

fn record(path: &Path) -> nfsha::heartbeat::record::Record {
    nfsha::heartbeat::record::Record::decode(&std::fs::read(path).unwrap()).unwrap()
}

/// `KVMHAMonitor` writing for `host` on `pool` until `stop` is set.
fn writer(
    agent_env: Vec<(String, String)>,
    scripts: PathBuf,
    n: Numbers,
    pool: Pool,
    host: &'static str,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<()>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let t = std::thread::spawn(move || {
        let agent = Agent {
            scripts,
            env: agent_env,
            n,
            wrap: Vec::new(),
        };
        while !s.load(std::sync::atomic::Ordering::SeqCst) {
            let m = agent.monitor(&pool, host, true);
            assert!(m.fence.is_none(), "the writer's storage is healthy: {m:?}");
            std::thread::sleep(Duration::from_millis(n.frequency_ms));
        }
    });
    (stop, t)
}

#[test]
fn every_script_name_answers_its_argv() {
    need_fuse!();
    let h = Host::new(Numbers::TEST, "", "");
    let fs = Mounted::new(&h.tmp.path().join("nfs"));
    let smp_root = Mounted::new(&h.tmp.path().join("smp"));
    let smp_dir = smp_root.path.join("pool1");
    std::fs::create_dir_all(&smp_dir).unwrap();
    for pool in [Pool::nfs(&fs.path), Pool::smp(&smp_dir)] {
        let w = h.agent.write(&pool, "10.0.0.21");
        assert!(
            w.ok() && w.output.is_empty(),
            "{:?} write: {}",
            pool.kind,
            show(&w)
        );
        let c = h.agent.check(&pool, "10.0.0.21");
        assert!(!c.timed_out, "{:?} check: {}", pool.kind, show(&c));
        assert!(
            c.first_line.starts_with("=====> "),
            "{:?} check: {}",
            pool.kind,
            show(&c)
        );
        assert!(!c.first_line.contains("usage"), "{}", show(&c));
        let f = h.agent.fence(&pool);
        assert!(f.ok(), "{:?} fence: {}", pool.kind, show(&f));
        let a = h.agent.activity(&pool, "10.0.0.21", "", now_s() - 5);
        assert_eq!(
            a.first_line,
            "=====> ALIVE <=====",
            "{:?} activity: {}",
            pool.kind,
            show(&a)
        );
    }
    for pool in [Pool::linstor(), Pool::storpool()] {
        let m = h.agent.monitor(&pool, "10.0.0.21", false);
        let f = m.fence.expect("a failed node check calls -c");
        assert!(f.ok(), "{:?}: {}", pool.kind, show(&f));
        assert!(
            f.output.contains("kvmspheartbeat.sh: fence decision"),
            "{}",
            show(&f)
        );
    }
    let log = h.fence_log();
    assert_eq!(log.lines().count(), 4, "{log}");
    assert!(log.lines().all(|l| l.contains(" reboot ")), "{log}");
    // The stock kvmspheartbeat.sh does nothing without -c; an unknown flag is its usage error.
    let sp = h
        .agent
        .scripts
        .join("kvmspheartbeat.sh")
        .display()
        .to_string();
    let r = execute(
        std::slice::from_ref(&sp),
        Duration::from_secs(10),
        &h.agent.env,
    );
    assert_eq!((r.exit, r.output.as_str()), (Some(0), ""));
    let r = execute(&[sp, "-x".into()], Duration::from_secs(10), &h.agent.env);
    assert_eq!(r.exit, Some(1));
    assert!(
        r.output.contains("usage: kvmspheartbeat.sh -c"),
        "{}",
        show(&r)
    );
}

#[test]
fn writes_are_what_the_stock_readers_read() {
    need_fuse!();
    let h = Host::new(Numbers::TEST, "", "");
    let fs = Mounted::new(&h.tmp.path().join("nfs"));
    let pool = Pool::nfs(&fs.path);
    let w = h.agent.write(&pool, "10.0.0.21");
    assert!(w.ok(), "{}", show(&w));
    let hb = fs.path.join("KVMHA/hb-10.0.0.21");
    let text = std::fs::read_to_string(&hb).unwrap();
    // `echo $(date +%s) > $hbFile`: digits and a newline, nothing else.
    let digits = text.strip_suffix('\n').unwrap();
    assert!(
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        "{text:?}"
    );
    assert!((now_s() - digits.parse::<i64>().unwrap()).abs() <= 5);
    // The stock scripts' read paths, reproduced line for line (the scripts
    // themselves are not vendored): kvmheartbeat.sh's check_hbLog (current
    // main) and kvmvmactivity.sh's first check.
    let stock = [
        r#"now=$(date +%s); hb=$(cat $1); diff=`expr $now - $hb`
           if [ $diff -gt 60 ]; then echo "=====> DEAD <======"; else echo "=====> ALIVE <====="; fi"#,
        r#"now=$(date +%s); hb=$(cat $1); diff=$(expr $now - $hb)
           if [ $diff -lt 61 ]; then echo "=====> ALIVE <====="; else echo "=====> Considering host as DEAD <======"; fi"#,
    ];
    for script in stock {
        let out = common::run("bash", &["-c", script, "stock", hb.to_str().unwrap()]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "=====> ALIVE <=====\n",
            "{script}"
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rec = record(&fs.path.join("KVMHA/nfsha-hb-10.0.0.21"));
    assert_eq!(rec.host, "10.0.0.21");
    // Derived from agent.properties: io 6 s − … = 3 s, interval 1 s; the
    // agent fences (reboot), so its own timeline is advertised.
    assert_eq!((rec.io_timeout_ms, rec.interval_ms), (3000, 1000));
    assert_eq!(rec.state, nfsha::heartbeat::record::WriterState::Ok);
    let w = h.agent.write(&pool, "10.0.0.21");
    assert!(w.ok(), "{}", show(&w));
    assert!(record(&fs.path.join("KVMHA/nfsha-hb-10.0.0.21")).seq > rec.seq);
    // No temporary file is left for kvmsmpheartbeat.sh's `find -name hb-<IP>.*` clean-up.
    let names: Vec<String> = std::fs::read_dir(fs.path.join("KVMHA"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_stopped_writer_is_dead_only_after_the_agents_own_fence_timeline() {
    need_fuse!();
    // A quicker agent: io_timeout 1 s (derived), frequency 500 ms, 2 tries.
    let n = Numbers {
        update_timeout_ms: 2000,
        frequency_ms: 500,
        max_tries: 2,
        retry_sleep_ms: 100,
        checker_timeout_ms: 24_000,
        fence_on_timeout: true,
    };
    let h = Host::new(n, "", "");
    let fs = Mounted::new(&h.tmp.path().join("nfs"));
    let pool = Pool::nfs(&fs.path);
    let (stop, t) = writer(
        h.agent.env.clone(),
        h.agent.scripts.clone(),
        n,
        pool.clone(),
        "10.0.0.40",
    );
    let first = loop {
        let c = h.agent.check(&pool, "10.0.0.40");
        assert!(!c.dead(), "{}", show(&c));
        if c.first_line == "=====> ALIVE <=====" {
            break c;
        }
    };
    assert_eq!(first.exit, Some(0));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    t.join().unwrap();
    let rec = record(&fs.path.join("KVMHA/nfsha-hb-10.0.0.40"));
    // The agent's timeline: 1 + 0.5 + 2 × (1 + 0.1) = 3.7 s to -c, + 8 s
    // reboot bound, + 1 s margin = 12.7 s.
    assert_eq!(rec.dead_after_ms, 12_700);
    let last_write = std::time::Instant::now();
    // The last write may still be seen as a change (dated when seen, the
    // safe side): alive for one alive window, then never again. Only a
    // check that read the records ends that window: one whose read failed
    // (the I/O helper not answering within io_timeout on a loaded machine)
    // saw nothing, and the next read may still see that last change.
    let mut alive_over = false;
    let dead = loop {
        let c = h.agent.check(&pool, "10.0.0.40");
        assert!(!c.timed_out, "agent deadline: {}", show(&c));
        if c.first_line == "=====> ALIVE <=====" {
            assert!(!alive_over, "alive again after it was not: {}", show(&c));
            continue;
        }
        let read_failed = ["cannot read", "last read failed", "no decision within"]
            .iter()
            .any(|w| c.first_line.contains(w));
        alive_over |= !read_failed;
        if c.dead() {
            break c;
        }
        assert!(c.first_line.starts_with("=====> UNKNOWN"), "{}", show(&c));
        assert!(
            last_write.elapsed() < Duration::from_secs(120),
            "never dead: {}",
            show(&c)
        );
    };
    // Never before the writer's own fence timeline (load can only delay it).
    assert!(
        last_write.elapsed() >= Duration::from_millis(12_700),
        "{:?}",
        last_write.elapsed()
    );
    assert!(
        dead.first_line.contains("KVMHA/nfsha-hb-10.0.0.40] was ["),
        "{}",
        show(&dead)
    );
    assert!(
        dead.first_line
            .ends_with("but the max interval is [12] <======"),
        "{}",
        show(&dead)
    );
}

#[test]
fn hung_storage_gets_an_answer_before_the_agent_kills_the_call() {
    need_fuse!();
    let h = Host::new(Numbers::TEST, "", "");
    let fs = Mounted::new(&h.tmp.path().join("nfs"));
    let pool = Pool::nfs(&fs.path);
    assert!(h.agent.write(&pool, "10.0.0.22").ok());
    std::fs::write(fs.path.join("vol-1"), b"disk").unwrap();
    fs.set(Mode::Block);
    // Write: failed (not "timeout": nfsha answered within its 3 s io_timeout, agent deadline 6 s).
    let w = h.agent.write(&pool, "10.0.0.21");
    assert!(!w.timed_out, "agent deadline: {}", show(&w));
    assert_eq!(w.exit, Some(1), "{}", show(&w));
    assert!(
        w.first_line.starts_with("Failed to write the heartbeat"),
        "{}",
        show(&w)
    );
    assert!(
        w.first_line.contains("did not answer within the bound"),
        "{}",
        show(&w)
    );
    let c = h.agent.check(&pool, "10.0.0.22");
    assert!(!c.timed_out && !c.dead(), "agent deadline: {}", show(&c));
    assert!(c.first_line.starts_with("=====> UNKNOWN"), "{}", show(&c));
    let a = h.agent.activity(&pool, "10.0.0.22", "vol-1", now_s() - 60);
    assert!(
        !a.timed_out && !a.dead(),
        "agent deadline (3.6 s): {}",
        show(&a)
    );
    assert!(a.first_line.starts_with("=====> UNKNOWN"), "{}", show(&a));
    // -c touches no storage; it names the cause the writes left.
    let f = h.agent.fence(&pool);
    assert!(f.ok(), "{}", show(&f));
    let log = h.fence_log();
    assert!(
        log.contains(" reboot kvmheartbeat.sh -c: 1 failed write on "),
        "{log}"
    );
    assert!(
        log.contains("the storage did not answer within the bound"),
        "{log}"
    );
    fs.set(Mode::Normal);
}

#[test]
fn an_unmounted_pool_fails_without_mounting_and_the_fence_names_it() {
    let h = Host::new(Numbers::TEST, "", "");
    let mp = h.dir("DEAD-pool");
    let pool = Pool::nfs(&mp);
    let m = h.agent.monitor(&pool, "10.0.0.21", true);
    assert_eq!(m.tries.len(), 5);
    for w in &m.tries {
        assert_eq!(w.exit, Some(1), "{}", show(w));
        assert!(
            w.first_line
                .contains("the pool is not mounted (a local fault"),
            "{}",
            show(w)
        );
    }
    assert!(
        !mp.join("KVMHA").exists(),
        "nothing written into the empty directory"
    );
    let f = m.fence.expect("the agent fences after 5 failed writes");
    assert!(f.ok(), "{}", show(&f));
    let log = h.fence_log();
    assert!(log.contains("5 failed writes on "), "{log}");
    assert!(
        log.contains("the pool is not mounted (a local fault: the storage itself may be healthy)"),
        "{log}"
    );
    // A check cannot read it: unknown, and the path's DEAD is not a verdict.
    let c = h.agent.check(&pool, "10.0.0.22");
    assert_eq!(c.exit, Some(3), "{}", show(&c));
    assert!(
        !c.first_line.contains("DEAD") && c.first_line.contains("dead-pool"),
        "{}",
        show(&c)
    );
    let a = h.agent.activity(&pool, "10.0.0.22", "vol", now_s());
    assert!(
        !a.dead() && a.first_line.starts_with("=====> UNKNOWN"),
        "{}",
        show(&a)
    );
    // SharedMountPoint: a directory on the root filesystem is not a pool.
    let w = h.agent.write(&Pool::smp(&mp), "10.0.0.21");
    assert!(w.first_line.contains("not mounted"), "{}", show(&w));
}

#[test]
fn a_read_only_pool_fails_writes_without_touching_it() {
    common::require_root();
    let h = Host::new(Numbers::TEST, "", "");
    let ro = Tmpfs::new(&h.tmp.path().join("ro"), true);
    let pool = Pool::nfs(&ro.0);
    let w = h.agent.write(&pool, "10.0.0.21");
    assert_eq!(w.exit, Some(1), "{}", show(&w));
    assert!(
        w.first_line.contains("the pool is mounted read-only"),
        "{}",
        show(&w)
    );
    assert!(h.agent.fence(&pool).ok());
    assert!(
        h.fence_log().contains("the pool is mounted read-only"),
        "{}",
        h.fence_log()
    );
    // Reading still works there: a stock peer's old decimal time is dead by -t.
    common::run_ok("mount", &["-o", "remount,rw", ro.0.to_str().unwrap()]);
    std::fs::create_dir_all(ro.0.join("KVMHA")).unwrap();
    std::fs::write(
        ro.0.join("KVMHA/hb-10.0.0.30"),
        format!("{}\n", now_s() - 300),
    )
    .unwrap();
    common::run_ok("mount", &["-o", "remount,ro", ro.0.to_str().unwrap()]);
    let c = h.agent.check(&pool, "10.0.0.30");
    assert!(c.dead(), "{}", show(&c));
    assert!(
        c.first_line.contains("] was [30"),
        "age in seconds, never modulo 256: {}",
        show(&c)
    );
}

#[test]
fn an_invalid_config_keeps_writing_and_still_fences() {
    need_fuse!();
    // heartbeat.toml is broken and agent.properties names no action: writes
    // go on with the built-in defaults, -c reboots (inside a PID namespace).
    let h = Host::new(Numbers::TEST, "fence_action = \"sysrq\"", "").isolated();
    let fs = Mounted::new(&h.tmp.path().join("nfs"));
    let pool = Pool::nfs(&fs.path);
    let w = h.agent.write(&pool, "10.0.0.21");
    assert!(w.ok() && w.output.is_empty(), "{}", show(&w));
    assert!(fs.path.join("KVMHA/hb-10.0.0.21").exists());
    let log = h.log();
    assert!(
        log.contains("CONFIGURATION ERROR, built-in defaults in use"),
        "{log}"
    );
    assert!(log.contains("fence_action = \"sysrq\""), "{log}");
    let f = h.agent.fence(&pool);
    // reboot(2) in a PID namespace kills its init with SIGHUP; unshare passes it on.
    assert_eq!(f.signal, Some(libc::SIGHUP), "{}", show(&f));
    let log = h.log();
    assert!(log.contains("FENCE DECISION"), "{log}");
    assert!(log.contains("fence_action = reboot (from default"), "{log}");
    // With agent.properties saying log-only, that is what -c does.
    std::fs::write(
        &h.props,
        Numbers::TEST.properties("kvm.heartbeat.fence.action=log-only\n"),
    )
    .unwrap();
    let f = h.agent.fence(&pool);
    assert_eq!(f.exit, Some(0), "{}", show(&f));
    assert!(
        f.first_line
            .contains("fence_action = log-only (from agent.properties"),
        "{}",
        show(&f)
    );
    assert!(f.first_line.contains("host NOT fenced"), "{}", show(&f));
    assert!(h
        .log()
        .contains("only once every host runs nfsha's scripts"));
}

#[test]
fn without_heartbeat_toml_the_agents_properties_decide() {
    need_fuse!();
    let h = Host::new(Numbers::TEST, "", "").isolated();
    let missing = h.tmp.path().join("no-such.toml");
    let mut agent_env = h.agent.env.clone();
    agent_env[0].1 = missing.display().to_string();
    let fs = Mounted::new(&h.tmp.path().join("nfs"));
    let pool = Pool::nfs(&fs.path);
    let agent = Agent {
        scripts: h.agent.scripts.clone(),
        env: agent_env,
        n: Numbers::TEST,
        wrap: h.agent.wrap.clone(),
    };
    let w = agent.write(&pool, "10.0.0.21");
    assert!(w.ok(), "{}", show(&w));
    assert!(
        !h.log().contains("CONFIGURATION ERROR"),
        "no file is not an error"
    );
    let rec = record(&fs.path.join("KVMHA/nfsha-hb-10.0.0.21"));
    assert_eq!(rec.io_timeout_ms, 3000, "from heartbeat.update.timeout");
    // hard-reboot: reboot(2), which in the PID namespace ends it with SIGHUP.
    std::fs::write(
        &h.props,
        Numbers::TEST.properties("kvm.heartbeat.fence.action=hard-reboot\n"),
    )
    .unwrap();
    let f = agent.fence(&pool);
    assert_eq!(
        f.signal,
        Some(libc::SIGHUP),
        "reboot(2) in the PID namespace: {}",
        show(&f)
    );
    assert!(h
        .log()
        .contains("from agent.properties kvm.heartbeat.fence.action"));
    // custom: the operator's script, with the caller's name, as PR #13090.
    let marker = h.tmp.path().join("custom-ran");
    let script = write_config(
        h.tmp.path(),
        "fence.sh",
        &format!("#!/bin/sh\necho \"$1\" > '{}'\n", marker.display()),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        &h.props,
        Numbers::TEST.properties(&format!(
            "kvm.heartbeat.fence.action=custom\nkvm.heartbeat.fence.custom.script={}\n",
            script.display()
        )),
    )
    .unwrap();
    let f = agent.fence(&pool);
    assert_eq!(f.exit, Some(0), "{}", show(&f));
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "kvmheartbeat.sh\n"
    );
    // A custom action is not counted on: the records say not-fenced.
    assert!(agent.write(&pool, "10.0.0.21").ok());
    let rec = record(&fs.path.join("KVMHA/nfsha-hb-10.0.0.21"));
    assert_eq!(rec.state, nfsha::heartbeat::record::WriterState::NotFenced);
    // A missing custom script means hard-reboot, as in CloudStack.
    std::fs::remove_file(&script).unwrap();
    let f = agent.fence(&pool);
    assert_eq!(
        f.signal,
        Some(libc::SIGHUP),
        "reboot(2) in the PID namespace: {}",
        show(&f)
    );
}

#[test]
fn twelve_concurrent_checks_keep_every_peer() {
    need_fuse!();
    let h = Host::new(Numbers::TEST, "", "");
    let fs = Mounted::new(&h.tmp.path().join("nfs"));
    let pool = Pool::nfs(&fs.path);
    let peers: Vec<String> = (1..=12).map(|i| format!("10.0.1.{i}")).collect();
    let write_all = || {
        for p in &peers {
            let w = h.agent.write(&pool, p);
            assert!(w.ok(), "{}", show(&w));
        }
    };
    let check_all = || -> Vec<Executed> {
        std::thread::scope(|s| {
            let handles: Vec<_> = peers
                .iter()
                .map(|p| {
                    let (agent, pool) = (&h.agent, &pool);
                    s.spawn(move || agent.check(pool, p))
                })
                .collect();
            handles.into_iter().map(|t| t.join().unwrap()).collect()
        })
    };
    write_all();
    // Twelve first looks at once: one read each, no change seen yet.
    for c in check_all() {
        assert!(c.first_line.starts_with("=====> UNKNOWN"), "{}", show(&c));
    }
    write_all();
    // Twelve second looks at once: alive at the first read only if every
    // first look was kept.
    for (p, c) in peers.iter().zip(check_all()) {
        assert_eq!(c.first_line, "=====> ALIVE <=====", "{p}: {}", show(&c));
    }
}

#[test]
fn kvmspheartbeat_fences_as_configured_never_sysrq() {
    let h = Host::new(
        Numbers::TEST,
        "fence_action = \"log-only\"",
        "kvm.heartbeat.fence.action=hard-reboot\n",
    );
    // heartbeat.toml's action wins over agent.properties'.
    let m = h.agent.monitor(&Pool::linstor(), "10.0.0.21", false);
    let f = m.fence.unwrap();
    assert_eq!(f.exit, Some(0), "{}", show(&f));
    assert!(
        f.first_line
            .contains("fence_action = log-only (from heartbeat.toml"),
        "{}",
        show(&f)
    );
    assert!(f.first_line.contains("storage node failed"), "{}", show(&f));
    assert_eq!(h.fence_log(), "");
    // A healthy node: the agent never calls it.
    assert!(h
        .agent
        .monitor(&Pool::storpool(), "10.0.0.21", true)
        .fence
        .is_none());
    let h = Host::new(Numbers::TEST, "", "");
    let f = h.agent.fence(&Pool::storpool());
    assert!(f.ok(), "{}", show(&f));
    let log = h.fence_log();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains(" reboot kvmspheartbeat.sh -c: the agent's health check of this host's storage node failed"), "{log}");
}

#[test]
fn kvmvmactivity_fresh_heartbeat_then_volumes_then_dead() {
    common::require_root();
    let h = Host::new(Numbers::TEST, "", "");
    let pool_fs = Tmpfs::new(&h.tmp.path().join("pool"), false);
    let pool = Pool::nfs(&pool_fs.0);
    let suspect = now_s() - 100;
    let set_mtime = |name: &str, t: i64| {
        let f = std::fs::File::options()
            .create(true)
            .append(true)
            .open(pool_fs.0.join(name))
            .unwrap();
        f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(t as u64))
            .unwrap();
    };
    // A fresh heartbeat (written through nfsha): ALIVE.
    assert!(h.agent.write(&pool, "10.0.0.50").ok());
    let a = h.agent.activity(&pool, "10.0.0.50", "vol-a", suspect);
    assert_eq!(
        (a.exit, a.first_line.as_str()),
        (Some(0), "=====> ALIVE <====="),
        "{}",
        show(&a)
    );
    // A stale heartbeat: the volumes decide.
    std::fs::write(
        pool_fs.0.join("KVMHA/hb-10.0.0.50"),
        format!("{}\n", now_s() - 300),
    )
    .unwrap();
    std::fs::remove_file(pool_fs.0.join("KVMHA/nfsha-hb-10.0.0.50")).unwrap();
    set_mtime("vol-a", suspect - 50);
    set_mtime("vol-b", suspect + 1);
    let a = h.agent.activity(&pool, "10.0.0.50", "vol-a,vol-b", suspect);
    assert_eq!(a.first_line, "=====> ALIVE <=====", "{}", show(&a));
    set_mtime("vol-b", suspect);
    let a = h.agent.activity(&pool, "10.0.0.50", "vol-a,vol-b", suspect);
    assert!(a.dead(), "{}", show(&a));
    assert!(
        a.first_line
            .contains("no volume written since the suspect time"),
        "{}",
        show(&a)
    );
    let a = h.agent.activity(&pool, "10.0.0.50", "", suspect);
    assert!(
        a.dead() && a.first_line.contains("empty UUIDList"),
        "{}",
        show(&a)
    );
    // Volumes that cannot be examined are no evidence of death.
    let a = h
        .agent
        .activity(&pool, "10.0.0.50", "no-such-vol,../../etc/passwd", suspect);
    assert!(
        !a.dead() && a.first_line.starts_with("=====> UNKNOWN"),
        "{}",
        show(&a)
    );
    // As the stock script: no -d is exit 2.
    let script = h
        .agent
        .scripts
        .join("kvmvmactivity.sh")
        .display()
        .to_string();
    let r = execute(
        &[script, "-i".into(), "x".into()],
        Duration::from_secs(10),
        &h.agent.env,
    );
    assert_eq!(r.exit, Some(2), "{}", show(&r));
}

#[test]
fn the_heartbeat_daemon_answers_at_once() {
    need_fuse!();
    // A check budget of 1 ms leaves no time to read anything: only the
    // daemon's observations can answer ALIVE.
    let h = Host::new(Numbers::TEST, "", "");
    let fs = Mounted::new(&h.tmp.path().join("nfs"));
    let storage = format!(
        "\n[cloudstack]\ncheck_budget = \"1ms\"\n\n[[storage]]\nmount = \"{}\"\n",
        fs.path.display()
    );
    let ours_run = h.tmp.path().join("run");
    std::fs::write(
        &h.config,
        toml(&ours_run, &storage).replace("host_id = \"h1\"", "host_id = \"10.0.0.1\""),
    )
    .unwrap();
    let peer_run = h.tmp.path().join("peer-run");
    let peer_cfg = write_config(
        h.tmp.path(),
        "peer.toml",
        &toml(
            &peer_run,
            &format!("\n[[storage]]\nmount = \"{}\"\n", fs.path.display()),
        )
        .replace("host_id = \"h1\"", "host_id = \"10.0.0.2\""),
    );
    let ours = Daemon::start(&h.config, &ours_run);
    let _peer = Daemon::start(&peer_cfg, &peer_run);
    ours.wait_for(
        Duration::from_secs(60),
        "our daemon sees the peer alive",
        |s| {
            s.storages
                .iter()
                .flat_map(|st| &st.peers)
                .any(|p| p.host == "10.0.0.2" && p.changes > 1)
        },
    );
    let c = h.agent.check(&Pool::nfs(&fs.path), "10.0.0.2");
    assert_eq!(
        (c.exit, c.first_line.as_str()),
        (Some(0), "=====> ALIVE <====="),
        "{}",
        show(&c)
    );
    // Without the daemon's view the same budget decides nothing.
    let c = h.agent.check(&Pool::nfs(&fs.path), "10.0.0.3");
    assert!(c.first_line.starts_with("=====> UNKNOWN"), "{}", show(&c));
}

#[test]
fn a_full_or_unusable_run_dir_is_not_a_storage_failure() {
    need_fuse!();
    // Isolated: the fallback directory (/dev/shm) is private to the call.
    let h = Host::new(Numbers::TEST, "", "").isolated();
    // run_dir is a regular file: nothing can be created under it.
    let not_a_dir = h.tmp.path().join("run-file");
    std::fs::write(&not_a_dir, "x").unwrap();
    std::fs::write(&h.config, toml(&not_a_dir, "")).unwrap();
    let fs = Mounted::new(&h.tmp.path().join("nfs"));
    let pool = Pool::nfs(&fs.path);
    let w = h.agent.write(&pool, "10.0.0.21");
    assert!(w.ok(), "{}", show(&w));
    assert!(fs.path.join("KVMHA/nfsha-hb-10.0.0.21").exists());
    assert!(h.log().contains("LOCAL FAULT (not a storage failure)"));
}

#[test]
fn a_peer_alive_on_another_pool_is_alive_on_this_one() {
    need_fuse!();
    let h = Host::new(Numbers::TEST, "", "");
    let a = Mounted::new(&h.tmp.path().join("a"));
    let b = Mounted::new(&h.tmp.path().join("b"));
    let (pa, pb) = (Pool::nfs(&a.path), Pool::nfs(&b.path));
    for p in [&pa, &pb] {
        assert!(h.agent.write(p, "10.0.0.60").ok());
    }
    // KVMHAChecker, pools one after another: the first look sees no change.
    let (_, runs) = h
        .agent
        .checker(&[pa.clone(), pb.clone()], "10.0.0.60", false);
    assert!(
        runs.iter()
            .all(|r| r.first_line.starts_with("=====> UNKNOWN")),
        "{runs:?}"
    );
    // The peer lost pool a (its writes there stop) but writes on b.
    assert!(h.agent.write(&pb, "10.0.0.60").ok());
    let (alive, runs) = h
        .agent
        .checker(&[pb.clone(), pa.clone()], "10.0.0.60", true);
    assert!(alive, "{runs:?}");
    assert_eq!(
        runs[1].first_line,
        "=====> ALIVE <=====",
        "alive on b is alive: {}",
        show(&runs[1])
    );
}

#[test]
fn validate_prints_the_cloudstack_values_and_the_mixed_cluster_warning() {
    let h = Host::new(
        Numbers::TEST,
        "[[storage]]\nmount = \"/mnt/p\"",
        "kvm.heartbeat.fence.action=log-only\n",
    );
    let validate = |config: &Path| {
        Command::new(bin())
            .args(["heartbeat", "validate", "--config"])
            .arg(config)
            .env("AGENT_PROPS", &h.props)
            .output()
            .unwrap()
    };
    let out = validate(&h.config);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("[cloudstack] (the kvm*.sh scripts)"),
        "{text}"
    );
    assert!(
        text.contains("io_timeout = \"3s\""),
        "derived from heartbeat.update.timeout: {text}"
    );
    assert!(text.contains("check_budget = \"2s\""), "{text}");
    assert!(
        text.contains("fence_action (-c) = \"log-only\"  # from agent.properties"),
        "{text}"
    );
    assert!(
        text.contains("Choose a non-fencing action only once every host"),
        "{text}"
    );
    // A [cloudstack] the scripts would refuse fails validate.
    let bad = write_config(
        h.tmp.path(),
        "bad.toml",
        "[cloudstack]\ncheck_budget = \"soon\"\n",
    );
    let out = validate(&bad);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("error: "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_staged_fence_outlives_the_call_the_agent_kills() {
    // escalate_after (8 s) is beyond the agent's heartbeat.update.timeout
    // (6 s here), at which the harness SIGKILLs -c as Script.execute does:
    // run inside -c, the escalation to reboot(2) would die with it. -c hands
    // it to a detached process (no heartbeat daemon on this run_dir, no
    // systemd in the test machine's namespace) and answers; the escalation
    // lands afterwards, through the recording fencer.
    let h = Host::new(
        Numbers::TEST,
        "fence_action = \"graceful-reboot\"\nescalate_after = \"8s\"",
        "",
    );
    let pool = Pool::nfs(&h.dir("pool"));
    let f = h.agent.fence(&pool);
    assert!(f.ok(), "agent deadline: {}", show(&f));
    assert!(
        f.first_line
            .contains("fence_action = graceful-reboot (from heartbeat.toml")
            && f.first_line.contains("handed to a detached process"),
        "{}",
        show(&f)
    );
    // Wait for the state, not for a time: the second step, whenever the
    // loaded machine gets there (generous bound, only against a hang).
    let t = std::time::Instant::now();
    while h.fence_log().lines().count() < 2 && t.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = h.fence_log();
    let lines: Vec<_> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].contains("graceful-reboot systemctl reboot"),
        "{log}"
    );
    assert!(lines[1].contains(" reboot "), "{log}");
}

#[test]
fn a_fence_handed_to_the_daemon_keeps_the_callers_escalation() {
    // The agent's -c builds its request from the agent's configuration
    // (here heartbeat.toml: graceful-reboot escalated after 2 s). The
    // heartbeat daemon running on the host was started from another file
    // (escalate_after 600 s): it must carry the request out as asked, not
    // with its own escalation.
    let h = Host::new(
        Numbers::TEST,
        "fence_action = \"graceful-reboot\"\nescalate_after = \"2s\"",
        "",
    );
    let run = h.tmp.path().join("run");
    // Not mounted: the daemon renews nothing and never fences by itself.
    let pool = Pool::nfs(&h.dir("pool"));
    let daemon_cfg = write_config(
        h.tmp.path(),
        "daemon.toml",
        &toml(
            &run,
            &format!(
                "fence_action = \"graceful-reboot\"\nescalate_after = \"600s\"\n[[storage]]\nmount = \"{}\"\n",
                h.dir("pool").display()
            ),
        ),
    );
    let d = Daemon::start(&daemon_cfg, &run);
    d.wait_for(Duration::from_secs(60), "the daemon", |s| {
        s.storages[0].totals.errors >= 1
    });
    let f = h.agent.fence(&pool);
    assert!(f.ok(), "agent deadline: {}", show(&f));
    assert!(
        f.first_line.contains("accepted by the heartbeat daemon"),
        "{}",
        show(&f)
    );
    let s = d.wait_for(Duration::from_secs(60), "the decision", |s| {
        s.fence.state == "fencing"
    });
    let decided = s.fence.decided_ms.unwrap();
    // Waiting for the state (bounded only against a hang, far below the
    // daemon's own 600 s): the escalation the request asked for.
    let lines = d.wait_for_lines(&run.join("fence.log"), 2);
    assert!(lines[0].contains("graceful-reboot"), "{lines:?}");
    assert!(
        lines[1].contains("reboot graceful reboot did not finish within escalate_after"),
        "{lines:?}"
    );
    let at: u64 = lines[1].split(' ').next().unwrap().parse().unwrap();
    assert!(
        at >= decided + 2000,
        "escalated before the request's 2 s (decided at {decided}): {lines:?}"
    );
}
