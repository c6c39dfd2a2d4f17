//! The `nfsha` command line. Each subcommand's arguments and code live with
//! the feature; this file only lists them and dispatches.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::{agents, cloudstack, dropin, guard, heartbeat, install, lint, ocf, status, sys};

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
    Agents {
        /// Print the full parameter reference as Markdown (used for README.md).
        #[arg(long)]
        markdown: bool,
    },
    /// Install the binary and lay out the OCF provider directory of symlinks.
    Install(install::InstallArgs),
    /// Write the nfs-server systemd drop-in (fixed host name, lease, grace,
    /// no start outside Pacemaker).
    Dropin(dropin::Args),
    /// Find the HA-NFS mistakes in cluster configurations (CIB, crm, pcs) and nfs.conf.
    Lint(lint::LintArgs),
    /// Show the effective start order Pacemaker derives from a configuration.
    Order(lint::order_cmd::OrderArgs),
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages (nfsha.8, one per command, one per agent) into a directory.
    Man {
        /// Where to write them.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// What this node is doing: nfsd, grace, clients and reclaims, exports,
    /// DRBD; the storage heartbeat on a KVM host. Never blocks on hung storage.
    Status(status::Args),
    /// The KVM-host storage heartbeat: daemon, status, peer check, fence timeline.
    Heartbeat(heartbeat::Args),
    /// Run a command with a hard deadline: kill its process group, run a cleanup.
    Guard(guard::Args),
    /// Announce a moved address and tickle its recorded connections (used by
    /// the vip agent; runs detached, bounded).
    #[command(hide = true)]
    Announce(crate::net::takeover::Args),
    /// Save a vip connection record atomically (used by the vip agent, as a
    /// child with a deadline).
    #[command(hide = true)]
    InternalSaveConnections(crate::net::connections::SaveArgs),
    /// Read one disk-backed file for `nfsha status` (run as a child with a deadline).
    #[command(hide = true)]
    InternalStatusProbe(status::probe::Args),
    /// Set the host name and exec a program; only inside `unshare --uts`
    /// (used by nfsserver and the nfs-server drop-in to start rpc.nfsd).
    #[command(hide = true)]
    InternalSethostnameExec {
        name: String,
        #[arg(last = true, required = true)]
        command: Vec<OsString>,
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
        Command::Agents { markdown } => {
            let mut out = std::io::stdout();
            if markdown {
                let _ = out.write_all(agents_markdown().as_bytes());
                return 0;
            }
            for a in agents::all() {
                let _ = writeln!(out, "{:<12} {}", a.spec().name, a.spec().shortdesc);
            }
            0
        }
        Command::Install(args) => install::run(&args),
        Command::Dropin(args) => dropin::run(&args),
        Command::InternalSethostnameExec { name, command } => {
            sys::uts::sethostname_exec(&name, &command)
        }
        Command::Lint(args) => lint::run(&args),
        Command::Order(args) => lint::order_cmd::run(&args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "nfsha", &mut std::io::stdout());
            0
        }
        Command::Man { out } => match crate::man::write(&out) {
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
        Command::Status(args) => status::run(&args),
        Command::InternalStatusProbe(args) => status::probe::main(&args),
        Command::Heartbeat(args) => {
            // validate also checks the CloudStack scripts' settings, which
            // the cloudstack module owns (heartbeat must not depend on it).
            let validate = match &args.command {
                heartbeat::HbCommand::Validate { config } => Some(config.clone()),
                _ => None,
            };
            let rc = heartbeat::main(args);
            match validate {
                // Also after the daemon's part failed (e.g. no [[storage]]):
                // the scripts run without one, and their errors must show.
                Some(path) if rc == 0 || rc == 2 => {
                    let (lines, ok) =
                        cloudstack::validate::lines(&cloudstack::validate::settings_for(&path));
                    for l in lines {
                        println!("{l}");
                    }
                    if ok {
                        rc
                    } else {
                        2
                    }
                }
                _ => rc,
            }
        }
        Command::Guard(args) => guard::main(args),
        Command::Announce(args) => crate::net::takeover::main(&args),
        Command::InternalSaveConnections(args) => crate::net::connections::save_main(&args),
    }
}

/// The agent reference for README.md, generated from the same parameter
/// tables as the meta-data so the two cannot drift apart.
pub fn agents_markdown() -> String {
    use ocf::params::ParamKind;
    let mut md = String::new();
    for a in agents::all() {
        let s = a.spec();
        md.push_str(&format!("### `ocf:nfsha:{}` — {}\n\n", s.name, s.shortdesc));
        md.push_str(&format!(
            "{}\n\n",
            s.longdesc.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
        md.push_str("| parameter | type | default | description |\n|---|---|---|---|\n");
        for p in s.params {
            let kind = match p.kind {
                ParamKind::String => "string".to_string(),
                ParamKind::Integer { min, max } => format!("integer {min}–{max}"),
                ParamKind::Boolean => "boolean".to_string(),
            };
            let name = if p.required {
                format!("`{}` (required)", p.name)
            } else {
                format!("`{}`", p.name)
            };
            let default = p.default.map(|d| format!("`{d}`")).unwrap_or_default();
            let desc = p.longdesc.split_whitespace().collect::<Vec<_>>().join(" ");
            md.push_str(&format!(
                "| {name} | {kind} | {default} | {} |\n",
                desc.replace('|', "\\|")
            ));
        }
        for r in s.refused {
            md.push_str(&format!("| `{}` | refused | | {} |\n", r.name, r.why));
        }
        let t = &s.timeouts;
        md.push_str(&format!(
            "\nAdvertised timeouts: start {} s, stop {} s, monitor {} s every {} s.\n\n",
            t.start.as_secs(),
            t.stop.as_secs(),
            t.monitor.as_secs(),
            t.monitor_interval.as_secs()
        ));
    }
    md
}

fn agent_names() -> Vec<&'static str> {
    agents::all().iter().map(|a| a.spec().name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
