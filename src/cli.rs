//! The `nfsha` command line. Each subcommand's arguments and code live with
//! the feature; this file only lists them and dispatches.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

use crate::{agents, guard, heartbeat, install, ocf, sys};

/// Highly available NFS made safe: OCF agents for the NFS server group,
/// a linter for cluster configurations, and a storage heartbeat for KVM hosts.
#[derive(Parser, Debug)]
#[command(name = "nfsha", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run an OCF agent action, as Pacemaker would (parameters from OCF_RESKEY_*).
    Agent {
        /// The agent, e.g. vip.
        name: String,
        /// start, stop, monitor, validate-all, meta-data or usage.
        action: String,
    },
    /// List the OCF agents this binary provides.
    Agents,
    /// Install the binary and lay out the OCF provider directory of symlinks.
    Install(install::InstallArgs),
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Write man pages (nfsha.8 and one per subcommand) into a directory.
    Man {
        /// Where to write them.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// The KVM-host storage heartbeat: daemon, status, peer check, fence timeline.
    Heartbeat(heartbeat::Args),
    /// Run a command with a hard deadline: kill its process group, run a cleanup.
    Guard(guard::Args),
    /// Send address announcements (used by the vip agent; runs detached).
    #[command(hide = true)]
    Announce {
        #[arg(long)]
        nic: String,
        #[arg(long)]
        ip: std::net::IpAddr,
        #[arg(long, default_value_t = 5)]
        count: u32,
        #[arg(long, default_value_t = 200)]
        interval_ms: u64,
    },
}

/// Run the command line; returns the process exit code.
pub fn main(argv: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Agent { name, action } => match agents::find(&name) {
            Some(agent) => {
                let env = std::env::vars().collect();
                ocf::run_process(agent, Some(&action), env, &sys::Real::new())
            }
            None => {
                eprintln!(
                    "nfsha: no agent named {name:?}; available: {}",
                    agent_names().join(", ")
                );
                2
            }
        },
        Command::Agents => {
            let mut out = std::io::stdout();
            for a in agents::all() {
                let _ = writeln!(out, "{:<12} {}", a.spec().name, a.spec().shortdesc);
            }
            0
        }
        Command::Install(args) => install::run(&args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "nfsha", &mut std::io::stdout());
            0
        }
        Command::Man { out } => match write_man_pages(&out) {
            Ok(files) => {
                for f in files {
                    println!("wrote {}", f.display());
                }
                0
            }
            Err(e) => {
                eprintln!("nfsha man: writing into {}: {e}", out.display());
                1
            }
        },
        Command::Heartbeat(args) => heartbeat::main(args),
        Command::Guard(args) => guard::main(args),
        Command::Announce {
            nic,
            ip,
            count,
            interval_ms,
        } => match agents::vip::announce(&nic, ip, count, Duration::from_millis(interval_ms)) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("nfsha announce: {e}");
                1
            }
        },
    }
}

fn agent_names() -> Vec<&'static str> {
    agents::all().iter().map(|a| a.spec().name).collect()
}

fn write_man_pages(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let cmd = Cli::command();
    let mut written = Vec::new();
    let mut render = |cmd: clap::Command, name: String| -> std::io::Result<()> {
        let path = dir.join(format!("{name}.8"));
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd).section("8").render(&mut buf)?;
        std::fs::write(&path, buf)?;
        written.push(path);
        Ok(())
    };
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("nfsha-{}", sub.get_name());
        render(sub.clone().name(name.clone()), name)?;
    }
    render(cmd, "nfsha".to_string())?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
