//! The CloudStack KVM agent, as far as it drives the HA scripts, written
//! from its Java (apache/cloudstack): `Script.execute` (stderr merged into
//! stdout, a `OneLineParser` keeping the first line, at the timeout SIGTERM
//! and then SIGKILL to the script's own process, `null` only for exit 0),
//! `LibvirtStoragePool`/`LinstorStoragePool`/`StorPoolStoragePool` (which
//! script per pool type, and its argv), `KVMHAMonitor` (tries, retry sleep,
//! `-c` after the last failure), `KVMHAChecker` (pools one after another)
//! and `vmActivityCheck` (3600 passed where milliseconds are expected).
//! The numbers are the agent.properties ones, scaled down for tests.

#![allow(dead_code)]

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The agent's heartbeat properties (agent.properties), in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Numbers {
    /// `heartbeat.update.timeout`: each write and `-c`.
    pub update_timeout_ms: u64,
    /// `kvm.heartbeat.update.frequency`: sleep between rounds; `-t` = this / 1000.
    pub frequency_ms: u64,
    pub max_tries: u32,
    pub retry_sleep_ms: u64,
    /// `kvm.heartbeat.checker.timeout`: each `-r`.
    pub checker_timeout_ms: u64,
    /// `reboot.host.and.alert.management.on.heartbeat.timeout`.
    pub fence_on_timeout: bool,
}

impl Numbers {
    /// CloudStack's defaults.
    pub const STOCK: Numbers = Numbers {
        update_timeout_ms: 60_000,
        frequency_ms: 60_000,
        max_tries: 5,
        retry_sleep_ms: 10_000,
        checker_timeout_ms: 360_000,
        fence_on_timeout: true,
    };
    /// Scaled for tests: the same shape, seconds instead of minutes. nfsha
    /// derives io_timeout 3 s (update timeout 6 s) and check_budget 2 s.
    pub const TEST: Numbers = Numbers {
        update_timeout_ms: 6_000,
        frequency_ms: 1_000,
        max_tries: 5,
        retry_sleep_ms: 200,
        checker_timeout_ms: 24_000,
        fence_on_timeout: true,
    };

    /// The agent.properties text, plus `extra` lines.
    pub fn properties(&self, extra: &str) -> String {
        format!(
            "heartbeat.update.timeout={}\nkvm.heartbeat.update.frequency={}\nkvm.heartbeat.update.max.tries={}\nkvm.heartbeat.update.retry.sleep={}\nkvm.heartbeat.checker.timeout={}\nreboot.host.and.alert.management.on.heartbeat.timeout={}\n{extra}",
            self.update_timeout_ms,
            self.frequency_ms,
            self.max_tries,
            self.retry_sleep_ms,
            self.checker_timeout_ms,
            self.fence_on_timeout
        )
    }
}

/// `Storage.StoragePoolType` of the pools with host HA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolType {
    NetworkFilesystem,
    SharedMountPoint,
    Linstor,
    StorPool,
}

impl PoolType {
    /// The script `getHearthBeatPath()` finds for it.
    pub fn script(self) -> &'static str {
        match self {
            PoolType::NetworkFilesystem => "kvmheartbeat.sh",
            PoolType::SharedMountPoint => "kvmsmpheartbeat.sh",
            PoolType::Linstor | PoolType::StorPool => "kvmspheartbeat.sh",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Pool {
    pub kind: PoolType,
    pub ip: String,
    pub source_path: String,
    pub mount: PathBuf,
}

impl Pool {
    pub fn nfs(mount: &Path) -> Pool {
        Pool {
            kind: PoolType::NetworkFilesystem,
            ip: "192.0.2.5".into(),
            source_path: "/export/primary".into(),
            mount: mount.to_path_buf(),
        }
    }
    pub fn smp(mount: &Path) -> Pool {
        Pool {
            kind: PoolType::SharedMountPoint,
            ..Pool::nfs(mount)
        }
    }
    pub fn linstor() -> Pool {
        Pool {
            kind: PoolType::Linstor,
            ip: "192.0.2.9".into(),
            source_path: String::new(),
            mount: PathBuf::new(),
        }
    }
    pub fn storpool() -> Pool {
        Pool {
            kind: PoolType::StorPool,
            ..Pool::linstor()
        }
    }
}

/// What `Script.execute(OneLineParser)` gave the Java code.
#[derive(Clone, Debug)]
pub struct Executed {
    /// `null` (None) only when the script exited 0; "timeout" at the
    /// timeout; else the output (`processError` joins the lines).
    pub result: Option<String>,
    /// `parser.getLine()`: the first line of the merged output.
    pub first_line: String,
    pub output: String,
    pub exit: Option<i32>,
    /// The signal that ended it (not at the timeout).
    pub signal: Option<i32>,
    pub timed_out: bool,
}

impl Executed {
    /// `result == null && parsedLine.contains("DEAD")`: KVMHAChecker and
    /// vmActivityCheck count the host as dead only then.
    pub fn dead(&self) -> bool {
        self.result.is_none() && self.first_line.contains("DEAD")
    }
    /// What `createHeartBeatCommand` returns: null means the write worked.
    pub fn ok(&self) -> bool {
        self.result.is_none()
    }
}

/// `Script.execute`: run `argv` with `timeout`, stdout and stderr into one pipe.
pub fn execute(argv: &[String], timeout: Duration, env: &[(String, String)]) -> Executed {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh descriptors from pipe2.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end.try_clone().unwrap()))
        .stderr(Stdio::from(write_end));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    drop(cmd); // our copies of the write end
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut f = std::fs::File::from(read_end);
        let mut out = Vec::new();
        let _ = f.read_to_end(&mut out);
        let _ = tx.send(out);
    });
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if started.elapsed() >= timeout {
            // TimedOutLogger: destroy() (SIGTERM); finally: destroyForcibly() (SIGKILL).
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
                libc::kill(child.id() as i32, libc::SIGKILL);
            }
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // The agent reads what is there; a grandchild holding the pipe must not hang it.
    let output =
        String::from_utf8_lossy(&rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default())
            .into_owned();
    let first_line = output.lines().next().unwrap_or("").to_string();
    match status {
        None => Executed {
            result: Some("timeout".into()),
            first_line,
            output,
            exit: None,
            signal: None,
            timed_out: true,
        },
        Some(st) => Executed {
            result: (st.code() != Some(0)).then(|| output.lines().collect::<String>()),
            first_line,
            output,
            exit: st.code(),
            signal: std::os::unix::process::ExitStatusExt::signal(&st),
            timed_out: false,
        },
    }
}

/// One host's agent: its scripts directory (links to nfsha) and environment.
pub struct Agent {
    pub scripts: PathBuf,
    pub env: Vec<(String, String)>,
    pub n: Numbers,
    /// Prefix to every command (e.g. `unshare …`), for fence tests.
    pub wrap: Vec<String>,
}

pub const SCRIPTS: [&str; 4] = [
    "kvmheartbeat.sh",
    "kvmsmpheartbeat.sh",
    "kvmspheartbeat.sh",
    "kvmvmactivity.sh",
];

impl Agent {
    /// Link every script name to `bin` in `dir/scripts`.
    pub fn new(dir: &Path, bin: &Path, n: Numbers, env: Vec<(String, String)>) -> Agent {
        let scripts = dir.join("scripts");
        std::fs::create_dir_all(&scripts).unwrap();
        for s in SCRIPTS {
            let _ = std::os::unix::fs::symlink(bin, scripts.join(s));
        }
        Agent {
            scripts,
            env,
            n,
            wrap: Vec::new(),
        }
    }

    fn run(&self, script: &str, args: Vec<String>, timeout: Duration) -> Executed {
        let mut argv = self.wrap.clone();
        argv.push(self.scripts.join(script).display().to_string());
        argv.extend(args);
        execute(&argv, timeout, &self.env)
    }

    fn pool_args(pool: &Pool) -> Vec<String> {
        vec![
            "-i".into(),
            pool.ip.clone(),
            "-p".into(),
            pool.source_path.clone(),
            "-m".into(),
            pool.mount.display().to_string(),
        ]
    }

    /// `createHeartBeatCommand(pool, hostIp, true)`: write this host's heartbeat.
    pub fn write(&self, pool: &Pool, host_ip: &str) -> Executed {
        let mut a = Agent::pool_args(pool);
        a.extend(["-h".into(), host_ip.into()]);
        self.run(
            pool.kind.script(),
            a,
            Duration::from_millis(self.n.update_timeout_ms),
        )
    }

    /// `createHeartBeatCommand(pool, null, false)`: fence. LINSTOR and
    /// StorPool call it with `-c` alone (after their own node check failed).
    pub fn fence(&self, pool: &Pool) -> Executed {
        let args = match pool.kind {
            PoolType::Linstor | PoolType::StorPool => vec!["-c".into()],
            _ => {
                let mut a = Agent::pool_args(pool);
                a.push("-c".into());
                a
            }
        };
        self.run(
            pool.kind.script(),
            args,
            Duration::from_millis(self.n.update_timeout_ms),
        )
    }

    /// `LibvirtStoragePool.checkingHeartBeat`: `-h PEER -r -t freq/1000`.
    pub fn check(&self, pool: &Pool, peer_ip: &str) -> Executed {
        let mut a = Agent::pool_args(pool);
        a.extend([
            "-h".into(),
            peer_ip.into(),
            "-r".into(),
            "-t".into(),
            (self.n.frequency_ms / 1000).to_string(),
        ]);
        self.run(
            pool.kind.script(),
            a,
            Duration::from_millis(self.n.checker_timeout_ms),
        )
    }

    /// `LibvirtStoragePool.vmActivityCheck`: 3600 given where ms are expected.
    pub fn activity(&self, pool: &Pool, host_ip: &str, volumes: &str, suspect_s: i64) -> Executed {
        let now_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut a = Agent::pool_args(pool);
        a.extend([
            "-h".into(),
            host_ip.into(),
            "-u".into(),
            volumes.into(),
            "-t".into(),
            now_s.to_string(),
            "-d".into(),
            suspect_s.to_string(),
        ]);
        self.run("kvmvmactivity.sh", a, Duration::from_millis(3600))
    }

    /// One `KVMHAMonitor.runHearbeat` for one pool: up to `max.tries`
    /// writes with `retry.sleep` after each failure, then `-c` when they all
    /// failed and `reboot.host…` is true. LINSTOR/StorPool: `node_up` is the
    /// Java-side node check; `-c` only when it fails.
    pub fn monitor(&self, pool: &Pool, host_ip: &str, node_up: bool) -> Monitored {
        if matches!(pool.kind, PoolType::Linstor | PoolType::StorPool) {
            return Monitored {
                tries: Vec::new(),
                fence: (!node_up).then(|| self.fence(pool)),
            };
        }
        let mut tries = Vec::new();
        for _ in 0..self.n.max_tries {
            let r = self.write(pool, host_ip);
            let ok = r.ok();
            tries.push(r);
            if ok {
                return Monitored { tries, fence: None };
            }
            std::thread::sleep(Duration::from_millis(self.n.retry_sleep_ms));
        }
        Monitored {
            tries,
            fence: self.n.fence_on_timeout.then(|| self.fence(pool)),
        }
    }

    /// `KVMHAChecker.checkingHeartBeat`: pools one after another; true
    /// (heart beating) unless the last pool checked says dead, or, with
    /// `reportFailureIfOneStorageIsDown`, any pool does.
    pub fn checker(
        &self,
        pools: &[Pool],
        peer_ip: &str,
        report_if_one_down: bool,
    ) -> (bool, Vec<Executed>) {
        let mut valid = false;
        let mut runs = Vec::new();
        for p in pools {
            let r = self.check(p, peer_ip);
            valid = !r.dead();
            runs.push(r);
            if report_if_one_down && !valid {
                break;
            }
        }
        (valid, runs)
    }
}

/// What one monitor round did.
#[derive(Debug)]
pub struct Monitored {
    pub tries: Vec<Executed>,
    pub fence: Option<Executed>,
}
