//! Handing a fence over so that it survives its caller. CloudStack's agent
//! SIGKILLs `kvmheartbeat.sh -c` at its 60 s `heartbeat.update.timeout`, and
//! restarting the agent kills its whole cgroup, so a staged fence (a
//! graceful reboot escalated to `reboot(2)`) must not run in the caller:
//!
//! 1. the running heartbeat daemon takes it (a request on its control
//!    socket), else
//! 2. a detached `nfsha heartbeat fence` process runs it: under systemd a
//!    transient unit of its own (`systemd-run`: its own cgroup, not stopped
//!    by the shutdown it may start), otherwise its own session.
//!
//! Either way it is handed over before the caller returns, and the commands
//! it runs get default signal handling (no inherited ignored SIGTERM).
//!
//! The control socket is an abstract Unix socket named after the run
//! directory (no file that a full or read-only run directory could break);
//! only root (or the daemon's own user) may ask.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::config::Config;
use super::fence::FenceAction;
use crate::sys::child::{self, Spec};

/// A fence asked of this host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FenceRequest {
    pub action: FenceAction,
    /// The storage it is about (pool-scoped actions stop the VMs on it).
    pub mount: Option<PathBuf>,
    /// Why (logged with the decision).
    pub cause: String,
    /// The escalation of a staged action when the caller's settings name
    /// one (CloudStack's `-c`: heartbeat.toml's, or `[cloudstack]
    /// escalate_after` for an action taken from agent.properties); `None`:
    /// the configuration's. Whoever carries the fence out (the daemon or a
    /// detached executor) keeps it, even when its own configuration says
    /// otherwise ([`super::plan::PlanSpec::for_request`]).
    #[serde(default)]
    pub escalate_after_ms: Option<u64>,
}

/// The transient unit a detached fence runs in (one at a time).
pub const UNIT: &str = "nfsha-fence";

fn socket_name(run_dir: &Path) -> String {
    format!("nfsha-heartbeat:{}", run_dir.display())
}

/// The daemon's end: listen for requests (non-blocking).
pub fn listen(run_dir: &Path) -> std::io::Result<UnixListener> {
    let addr = SocketAddr::from_abstract_name(socket_name(run_dir))?;
    let l = UnixListener::bind_addr(&addr)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// The uid of the peer of a Unix stream.
fn peer_uid(s: &UnixStream) -> Option<u32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt(SO_PEERCRED) into a struct we own.
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(cred.uid)
}

/// The daemon's end: take the requests waiting on `l` (each connection gets
/// one line back; one second at most per connection).
pub fn accept(l: &UnixListener, pid: u32) -> Vec<Result<FenceRequest, String>> {
    let mut out = Vec::new();
    // SAFETY: geteuid has no failure mode.
    let me = unsafe { libc::geteuid() };
    while let Ok((s, _)) = l.accept() {
        let _ = s.set_nonblocking(false);
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
        let uid = peer_uid(&s);
        let reply = |text: &str| {
            let _ = (&s).write_all(format!("{text}\n").as_bytes());
        };
        if uid != Some(0) && uid != Some(me) {
            reply("refused: only root may ask for a fence");
            out.push(Err(format!("fence request from uid {uid:?} refused")));
            continue;
        }
        let mut line = String::new();
        let _ = BufReader::new(&s).read_line(&mut line);
        match serde_json::from_str::<FenceRequest>(&line) {
            Ok(req) => {
                reply(&format!("accepted by the heartbeat daemon (pid {pid})"));
                out.push(Ok(req));
            }
            Err(e) => {
                reply(&format!("refused: not a fence request: {e}"));
                out.push(Err(format!("malformed fence request: {e}")));
            }
        }
    }
    out
}

/// Ask the daemon using `run_dir` to carry out `req`; its answer.
pub fn ask_daemon(run_dir: &Path, req: &FenceRequest) -> Result<String, String> {
    let addr = SocketAddr::from_abstract_name(socket_name(run_dir)).map_err(|e| e.to_string())?;
    let s = UnixStream::connect_addr(&addr).map_err(|e| format!("no heartbeat daemon: {e}"))?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    let mut text = serde_json::to_string(req).map_err(|e| e.to_string())?;
    text.push('\n');
    (&s).write_all(text.as_bytes())
        .map_err(|e| format!("heartbeat daemon: {e}"))?;
    let mut line = String::new();
    BufReader::new(&s)
        .read_line(&mut line)
        .map_err(|e| format!("heartbeat daemon did not answer: {e}"))?;
    let line = line.trim().to_string();
    if line.starts_with("accepted") {
        Ok(line)
    } else {
        Err(format!("heartbeat daemon: {line}"))
    }
}

/// The argv of the detached executor for `req`.
fn executor_argv(req: &FenceRequest, config_path: &Path) -> Vec<String> {
    let mut v = vec![
        // The file, not /proc/self/exe: the executor must start after the
        // caller is gone (systemd runs it, not us).
        crate::sys::self_exe().to_string_lossy().into_owned(),
        "heartbeat".into(),
        "fence".into(),
        // Carry it out: a detached process never hands it over again.
        "--run".into(),
        "--config".into(),
        config_path.display().to_string(),
        "--action".into(),
        req.action.name().into(),
        "--cause".into(),
        req.cause.clone(),
    ];
    if let Some(m) = &req.mount {
        v.push("--mount".into());
        v.push(m.display().to_string());
    }
    if let Some(ms) = req.escalate_after_ms {
        v.push("--escalate-after-ms".into());
        v.push(ms.to_string());
    }
    v
}

/// Whether systemd runs this machine (so a transient unit can be used).
fn under_systemd() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// Start the executor as a transient unit; `Err` with why not.
fn systemd_run(argv: &[String]) -> Result<String, String> {
    let spec = Spec::new("systemd-run")
        .args([
            &format!("--unit={UNIT}"),
            "--description=nfsha staged fence (handed over by kvmheartbeat.sh -c)",
            "--collect",
            "--no-block",
            "--quiet",
            // Not stopped by the shutdown a graceful reboot starts: it must
            // still be there to escalate if that shutdown hangs.
            "--property=DefaultDependencies=no",
            "--property=TimeoutStopSec=infinity",
            "--property=KillMode=process",
            "--",
        ])
        .args(argv);
    match child::run(&spec, Instant::now() + Duration::from_secs(10)) {
        Ok(o) if o.success() => Ok(format!("handed to the transient unit {UNIT}.service")),
        Ok(o) => Err(o.failure_text()),
        Err(e) => Err(e.to_string()),
    }
}

/// Hand `req` over to whoever carries it out whatever happens to the caller:
/// the running heartbeat daemon (`cfg.run_dir`), else a detached
/// `nfsha heartbeat fence` (reading `config_path` for the commands and
/// times, fail-safe if it is broken). Returns what took it.
///
/// This is what CloudStack's `-c` calls.
pub fn hand_off(req: &FenceRequest, cfg: &Config, config_path: &Path) -> Result<String, String> {
    let daemon = match ask_daemon(&cfg.run_dir, req) {
        Ok(a) => return Ok(a),
        Err(e) => e,
    };
    let argv = executor_argv(req, config_path);
    let unit = if under_systemd() {
        match systemd_run(&argv) {
            Ok(a) => return Ok(a),
            Err(e) => format!("; systemd-run: {e}"),
        }
    } else {
        String::new()
    };
    let (prog, rest) = argv.split_first().expect("argv has a program");
    match child::detach(&Spec::new(prog).args(rest)) {
        Ok(pid) => Ok(format!(
            "handed to a detached process (pid {pid}, its own session) ({daemon}{unit})"
        )),
        Err(e) => Err(format!(
            "cannot hand the fence over ({daemon}{unit}; detached process: {e})"
        )),
    }
}

/// Fence as CloudStack's `-c` asks: the running heartbeat daemon takes any
/// fence (it shows in its status, its watchdog backs it); without one, a
/// one-step action is carried out here (`reboot(2)` at once, the restart
/// hook, the log line) and a staged one (`graceful-reboot`, the pool actions,
/// which escalate later) is handed to a detached process with [`hand_off`].
/// Returns what was done.
pub fn fence(
    req: &FenceRequest,
    cfg: &Config,
    config_path: &Path,
    fencer: &dyn super::fence::Fencer,
) -> Result<String, String> {
    if let Ok(accepted) = ask_daemon(&cfg.run_dir, req) {
        return Ok(accepted);
    }
    match req.action {
        FenceAction::LogOnly => {
            tracing::error!("fence_action = log-only: NOT fencing; this host's VMs keep running and peers must not restart them");
            Ok("host NOT fenced (VMs keep running; peers must not restart them)".into())
        }
        FenceAction::RestartAgent => fencer
            .command(
                "restart-agent",
                &cfg.restart_agent_command,
                cfg.command_timeout,
            )
            .map(|()| "restart hook done; host NOT fenced (VMs keep running)".into()),
        FenceAction::Reboot => fencer.reboot_now(&req.cause).map(|()| "rebooting".into()),
        FenceAction::GracefulReboot
        | FenceAction::DestroyPoolVms
        | FenceAction::ShutdownPoolVms => hand_off(req, cfg, config_path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_reach_the_daemons_socket_and_are_answered() {
        let dir = tempfile::tempdir().unwrap();
        let l = listen(dir.path()).unwrap();
        let req = FenceRequest {
            action: FenceAction::GracefulReboot,
            mount: Some("/mnt/p".into()),
            cause: "the agent could not write the heartbeat".into(),
            escalate_after_ms: Some(60_000),
        };
        let r2 = req.clone();
        let run = dir.path().to_path_buf();
        let t = std::thread::spawn(move || ask_daemon(&run, &r2));
        let mut got = Vec::new();
        for _ in 0..200 {
            got.extend(accept(&l, 42));
            if !got.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(got, vec![Ok(req.clone())]);
        assert_eq!(
            t.join().unwrap().unwrap(),
            "accepted by the heartbeat daemon (pid 42)"
        );
        // No daemon on another run directory.
        let other = dir.path().join("other");
        assert!(ask_daemon(&other, &req)
            .unwrap_err()
            .starts_with("no heartbeat daemon"));
    }

    #[test]
    fn the_executor_argv_names_everything() {
        let req = FenceRequest {
            action: FenceAction::DestroyPoolVms,
            mount: Some("/mnt/p q".into()),
            cause: "x; rm -rf /".into(),
            escalate_after_ms: Some(90_000),
        };
        let v = executor_argv(&req, Path::new("/etc/nfsha/heartbeat.toml"));
        assert_eq!(
            &v[1..],
            [
                "heartbeat",
                "fence",
                "--run",
                "--config",
                "/etc/nfsha/heartbeat.toml",
                "--action",
                "destroy-pool-vms",
                "--cause",
                "x; rm -rf /",
                "--mount",
                "/mnt/p q",
                "--escalate-after-ms",
                "90000"
            ]
        );
    }
}
