//! The KVM-host storage heartbeat: a daemon that renews this host's lease on
//! each storage without ever blocking on a hung mount, clock-independent peer
//! liveness, and staged, configurable self-fencing that survives its caller.
//! User documentation: `docs/heartbeat.md`.
//!
//! Modules, each depending only on those above it:
//! - [`clock`]; [`fence`]: actions and the fencer; [`record`]: the record codec;
//! - [`lease_area`]: slots of a storage's lease area; [`peer`]: judging a peer;
//! - [`timeline`]: when this host is fenced; [`plan`]: a staged fence;
//! - [`config`]: the TOML file; [`status`]: what the daemon publishes;
//! - [`machine`]: the daemon's decisions, pure;
//! - [`area_io`], [`helper`], [`worker`]: storage I/O in abandonable children;
//! - [`executor`]: fence steps off the loop; [`handoff`]: fences that survive their caller;
//! - [`daemon`]: the I/O shell; [`check`]: `nfsha heartbeat check`;
//! - [`watchdog`]; [`mounts`]: whether a path is a mount point.

pub mod area_io;
pub mod check;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod executor;
pub mod fence;
pub mod handoff;
pub mod helper;
pub mod lease_area;
pub mod machine;
pub mod mounts;
pub mod peer;
pub mod plan;
pub mod record;
pub mod status;
pub mod timeline;
pub mod validate;
pub mod watchdog;
pub mod worker;

use std::path::PathBuf;

use clap::Subcommand;

use crate::formats::duration;
use config::Config;
use fence::FenceAction;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: HbCommand,
}

#[derive(Subcommand, Debug)]
pub enum HbCommand {
    /// Run the heartbeat daemon (normally from nfsha-heartbeat.service).
    Run {
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Log to stderr instead of syslog.
        #[arg(long)]
        log_stderr: bool,
    },
    /// Show the daemon's renewal state and history (never touches the storage).
    Status {
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Read this status file instead of the configured one.
        #[arg(long)]
        status_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Is a peer alive? Exit 0 alive, 1 dead, 3 unknown, 4 not fenced, 2 usage.
    Check {
        /// The peer's host id.
        #[arg(long)]
        host: String,
        /// One storage (name or mount point); default all.
        #[arg(long)]
        storage: Option<String>,
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Longest time to watch when the daemon has no observation (e.g. 30s).
        #[arg(long, value_parser = duration::strict)]
        wait: Option<std::time::Duration>,
        #[arg(long)]
        json: bool,
    },
    /// Print the fence timeline and the dead_after peers must wait.
    Timeline {
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Check a configuration file (everything `run` would refuse) and print
    /// every effective value.
    Validate {
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Fence this host now: hand the fence to the running daemon, else to a
    /// detached process (a transient systemd unit), so that it completes
    /// even if the caller is killed. What CloudStack's `-c` does.
    Fence {
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// The action (default: fence_action of the configuration).
        #[arg(long, value_parser = parse_action)]
        action: Option<FenceAction>,
        /// The storage concerned (the pool-scoped actions stop its VMs).
        #[arg(long)]
        mount: Option<PathBuf>,
        /// Why (logged with the decision).
        #[arg(long, default_value = "requested on the command line")]
        cause: String,
        /// Carry the fence out in this process instead of handing it over
        /// (what the detached process runs).
        #[arg(long)]
        run: bool,
        /// The escalation of a staged action, in milliseconds (default: the
        /// configuration's escalate_after).
        #[arg(long, hide = true)]
        escalate_after_ms: Option<u64>,
    },
    /// Internal: the bounded I/O helper the daemon runs per attempt.
    #[command(hide = true)]
    Io(worker::IoArgs),
}

fn parse_action(s: &str) -> Result<FenceAction, String> {
    FenceAction::parse(s).ok_or_else(|| format!("expected one of {}", FenceAction::names()))
}

fn load(path: &std::path::Path, what: &str) -> Result<Config, i32> {
    Config::load(path).map_err(|e| {
        eprintln!("nfsha heartbeat {what}: {e}");
        2
    })
}

pub fn main(args: Args) -> i32 {
    match args.command {
        HbCommand::Io(a) => worker::run_child(&a),
        HbCommand::Run { config, log_stderr } => daemon::main(&config, log_stderr),
        HbCommand::Timeline { config } => match load(&config, "timeline") {
            Ok(c) => {
                let t = c.timings();
                print!(
                    "{}",
                    timeline::Timeline::of(&t).render(&c.host_id, &t, c.dead_after)
                );
                0
            }
            Err(rc) => rc,
        },
        HbCommand::Validate { config } => validate::main(&config),
        HbCommand::Fence {
            config,
            action,
            mount,
            cause,
            run,
            escalate_after_ms,
        } => fence_command(&config, action, mount, cause, run, escalate_after_ms),
        HbCommand::Status {
            config,
            status_file,
            json,
        } => {
            // Where the status is, even from a broken file (the daemon then
            // runs fail-safe with the run_dir it could read).
            let path =
                status_file.unwrap_or_else(|| config::load_fail_safe(&config).0.status_file());
            match status::Status::read(&path) {
                Ok(s) => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
                    } else {
                        print!("{}", s.render());
                    }
                    if s.stale_for(clock::boottime_ms()).is_some() {
                        3
                    } else if s.healthy() {
                        0
                    } else {
                        1
                    }
                }
                Err(e) => {
                    eprintln!("nfsha heartbeat status: {e}");
                    3
                }
            }
        }
        HbCommand::Check {
            host,
            storage,
            config,
            wait,
            json,
        } => {
            let c = match load(&config, "check") {
                Ok(c) => c,
                Err(rc) => return rc,
            };
            if let Err(e) = config::check_host_id("--host", &host) {
                eprintln!("nfsha heartbeat check: {e}");
                return 2;
            }
            match check::check(&c, &host, storage.as_deref(), wait) {
                Ok(vs) => {
                    let overall = check::combine(&vs);
                    if json {
                        let v =
                            serde_json::json!({"host": host, "verdict": overall, "storages": vs});
                        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                    } else {
                        print!("{}", check::render(&host, &vs));
                    }
                    overall.exit_code()
                }
                Err(e) => {
                    eprintln!("nfsha heartbeat check: {e}");
                    2
                }
            }
        }
    }
}

/// `nfsha heartbeat fence`: hand a fence over, or (`--run`) carry it out here.
fn fence_command(
    path: &std::path::Path,
    action: Option<FenceAction>,
    mount: Option<PathBuf>,
    cause: String,
    run: bool,
    escalate_after_ms: Option<u64>,
) -> i32 {
    crate::log::init(crate::log::LogOptions {
        tag: "nfsha-fence".into(),
        debug: false,
        logfile: None,
        facility: 3,
        syslog: crate::log::default_syslog_socket(),
        stderr: true,
    });
    // A broken configuration never stops a fence: fail-safe values, loudly.
    let (cfg, errors) = config::load_fail_safe(path);
    if !errors.is_empty() {
        tracing::error!(
            "configuration errors (fencing with fail-safe values): {}",
            config::render_errors(&path.display().to_string(), &errors)
        );
    }
    // The request carries this configuration's escalation: whoever takes
    // it (a daemon started with other settings too) keeps it.
    let req = handoff::FenceRequest {
        action: action.unwrap_or(cfg.fence_action),
        mount,
        cause,
        escalate_after_ms: escalate_after_ms.or(cfg.escalate_after.map(|d| d.as_millis() as u64)),
    };
    let sys: &'static crate::sys::Real = Box::leak(Box::new(crate::sys::Real::new()));
    let fencer: std::sync::Arc<dyn fence::Fencer> = match &cfg.fence_record_file {
        Some(f) => std::sync::Arc::new(fence::RecordingFencer {
            file: f.clone(),
            sys,
        }),
        None => std::sync::Arc::new(fence::RealFencer { sys }),
    };
    if !run {
        return match handoff::fence(&req, &cfg, path, fencer.as_ref()) {
            Ok(who) => {
                println!("fence ({}) {who}", req.action.name());
                0
            }
            Err(e) => {
                eprintln!("nfsha heartbeat fence: {e}");
                1
            }
        };
    }
    // No watchdog backs a detached executor: a staged action gets its bound.
    let spec = cfg.plan_spec().for_request(
        req.action,
        req.escalate_after_ms.map(std::time::Duration::from_millis),
        false,
    );
    let plan = plan::Plan::new(req.action, req.mount, req.cause, clock::boottime(), &spec);
    executor::execute(plan, fencer, cfg.command_timeout)
}
