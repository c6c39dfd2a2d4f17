//! The KVM-host storage heartbeat: a daemon that renews this host's record on
//! each storage without ever blocking on a hung mount, clock-independent peer
//! liveness, and staged, configurable self-fencing. User documentation:
//! `docs/heartbeat.md`.
//!
//! - [`config`]: the TOML file; [`timeline`]: when this host is fenced.
//! - [`record`]: the on-storage record; [`worker`]: bounded I/O in children.
//! - [`daemon`]: the renewal loop; [`fence`], [`watchdog`]: acting on failure.
//! - [`status`]: what the daemon publishes; [`check`]: judging peers.
//! - [`mounts`]: NFS client mount-option lint.

pub mod check;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod fence;
pub mod mounts;
pub mod record;
pub mod status;
pub mod timeline;
pub mod watchdog;
pub mod worker;

use std::path::PathBuf;

use clap::Subcommand;

use crate::formats::duration;
use config::Config;

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
    /// Check a configuration file and print it with defaults filled in.
    Validate {
        #[arg(long, default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Internal: the bounded I/O helper the daemon runs per attempt.
    #[command(hide = true)]
    Io(worker::IoArgs),
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
        HbCommand::Run { config, log_stderr } => match load(&config, "run") {
            Ok(c) => daemon::main(c, log_stderr),
            Err(rc) => rc,
        },
        HbCommand::Timeline { config } => match load(&config, "timeline") {
            Ok(c) => {
                print!("{}", timeline::Timeline::of(&c).render(&c));
                0
            }
            Err(rc) => rc,
        },
        HbCommand::Validate { config } => match load(&config, "validate") {
            Ok(c) => {
                println!("{}: valid", config.display());
                println!(
                    "host_id = {:?}\ninterval = {:?}\nio_timeout = {:?}\nfence_action = {:?}\nfence_after = {:?}\ndead_after = {:?}\nrun_dir = {:?}",
                    c.host_id,
                    duration::fmt(c.interval),
                    duration::fmt(c.io_timeout),
                    c.fence_action.name(),
                    duration::fmt(c.fence_after),
                    duration::fmt(c.dead_after),
                    c.run_dir.display().to_string()
                );
                for s in &c.storages {
                    println!(
                        "[[storage]] name = {:?} mount = {:?} fence = {}",
                        s.name,
                        s.mount.display().to_string(),
                        s.fence
                    );
                }
                0
            }
            Err(rc) => rc,
        },
        HbCommand::Status {
            config,
            status_file,
            json,
        } => {
            let path = match status_file {
                Some(p) => p,
                None => match load(&config, "status") {
                    Ok(c) => c.status_file(),
                    Err(rc) => return rc,
                },
            };
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
