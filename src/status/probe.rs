//! The reads of files that may sit on storage that hangs. A probe reads one
//! group of files (nfs.conf and the unit files, etab, nfsdcld's database,
//! the heartbeat configuration) and answers in JSON. `nfsha status` runs a
//! probe in-process when every file it reads is on local, non-replicated
//! storage ([`super::safe_to_read`]); otherwise in a child (`nfsha
//! internal-status-probe <what>`) with a deadline: a child stuck on hung
//! storage is killed and abandoned, and what it would have read is shown as
//! unknown with the reason. Children run side by side, so one hung read
//! delays nothing else.
//!
//! The JSON is private to nfsha (parent and child are the same binary).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::nfsdcld;
use crate::nfs::nfsd_launch::NfsdLaunch;
use crate::nfs::NfsConf;
use crate::sys::{self, Cmd, Deadline, Real, System};

/// What a probe reads.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// nfs.conf (with includes and nfs.conf.d), the nfs-server drop-in and
    /// whether nfs-server is enabled at boot.
    Config,
    /// `/var/lib/nfs/etab`: what is exported now.
    Etab,
    /// nfsdcld's database on the state directory.
    Nfsdcld,
    /// The KVM-host heartbeat configuration.
    Heartbeat,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Config => "config",
            Kind::Etab => "etab",
            Kind::Nfsdcld => "nfsdcld",
            Kind::Heartbeat => "heartbeat",
        }
    }
}

/// `nfsha internal-status-probe`.
#[derive(clap::Args, Debug)]
pub struct Args {
    pub what: Kind,
    /// The heartbeat configuration (for `heartbeat`).
    #[arg(long, default_value = crate::heartbeat::config::DEFAULT_PATH)]
    pub heartbeat_config: PathBuf,
}

/// nfs.conf's settings that `nfsha status` shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NfsConfView {
    /// `[nfsd] lease-time`, `grace-time`, `threads`, `scope` as written.
    pub lease: Option<String>,
    pub grace: Option<String>,
    pub threads: Option<String>,
    pub scope: Option<String>,
    /// `[nfsdcld] storagedir` (nfs-utils' default when unset).
    pub nfsdcld_storagedir: String,
}

/// The nfs-server drop-in `nfsha dropin` writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropinView {
    pub path: String,
    /// What its ExecStart= starts rpc.nfsd with; `None` when it has no
    /// nfsha ExecStart= line.
    pub hostname: Option<String>,
    pub lease: Option<u32>,
    pub grace: Option<u32>,
}

/// What `config` finds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub nfs_conf: NfsConfView,
    /// `Ok(None)`: no drop-in.
    pub dropin: Result<Option<DropinView>, String>,
    /// The `.wants` directories that start nfs-server.service at boot
    /// (`multi-user.target.wants`: Debian's default after install).
    pub nfs_server_wanted_by: Vec<String>,
    /// nfs-server.service is masked (a link to /dev/null).
    pub nfs_server_masked: bool,
}

/// One line of etab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtabLine {
    pub directory: String,
    pub client: String,
    pub options: Vec<String>,
}

/// What `nfsdcld` finds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nfsdcld {
    pub path: String,
    /// `Ok(None)`: no database (nfsdcld never ran with this storagedir).
    pub tracking: Result<Option<nfsdcld::Tracking>, String>,
}

/// What `heartbeat` finds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub config: String,
    /// `Ok(None)`: no configuration file (not a KVM host).
    pub status_file: Result<Option<String>, String>,
}

/// The default storage directory of nfsdcld (nfs-utils' `NFS_STATEDIR`).
const NFSDCLD_DEFAULT: &str = "/var/lib/nfs/nfsdcld";

fn nfs_conf_view(sys: &dyn System) -> NfsConfView {
    let conf = NfsConf::load(sys);
    let get = |s: &str, k: &str| conf.get(s, k).map(str::to_string);
    NfsConfView {
        lease: get("nfsd", "lease-time"),
        grace: get("nfsd", "grace-time"),
        threads: get("nfsd", "threads"),
        scope: get("nfsd", "scope"),
        nfsdcld_storagedir: get("nfsdcld", "storagedir")
            .unwrap_or_else(|| NFSDCLD_DEFAULT.to_string()),
    }
}

fn config(sys: &dyn System) -> Config {
    let p = sys.paths();
    let path = p.nfs_server_dropin();
    let dropin = match sys.read_to_string(&path) {
        Ok(text) => Ok(Some(match NfsdLaunch::parse_exec_start(&text) {
            Some(l) => DropinView {
                path: path.display().to_string(),
                hostname: Some(l.hostname),
                lease: l.lease,
                grace: l.grace,
            },
            None => DropinView {
                path: path.display().to_string(),
                hostname: None,
                lease: None,
                grace: None,
            },
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    };
    let unit = "nfs-server.service";
    let mut wanted_by: Vec<String> = sys
        .list_dir(&p.systemd_dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.ends_with(".wants") || d.ends_with(".requires"))
        .filter(|d| sys.exists(&p.systemd_dir.join(d).join(unit)))
        .collect();
    wanted_by.sort();
    let masked = std::fs::read_link(p.systemd_dir.join(unit))
        .map(|t| t == Path::new("/dev/null"))
        .unwrap_or(false);
    Config {
        nfs_conf: nfs_conf_view(sys),
        dropin,
        nfs_server_wanted_by: wanted_by,
        nfs_server_masked: masked,
    }
}

fn etab(sys: &dyn System) -> Result<Vec<EtabLine>, String> {
    let path = sys.paths().etab();
    match sys.read_to_string(&path) {
        Ok(text) => Ok(crate::nfs::etab::parse(&text)
            .into_iter()
            .map(|e| EtabLine {
                directory: e.directory.display().to_string(),
                client: e.client,
                options: e.options,
            })
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn nfsdcld(sys: &dyn System) -> Nfsdcld {
    let dir = PathBuf::from(nfs_conf_view(sys).nfsdcld_storagedir);
    let path = dir.join(nfsdcld::FILE);
    let tracking = if sys.exists(&path) {
        nfsdcld::read_locked(&path)
            .and_then(|data| nfsdcld::from_bytes(&data))
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()))
    } else {
        Ok(None)
    };
    Nfsdcld {
        path: path.display().to_string(),
        tracking,
    }
}

fn heartbeat(config: &Path) -> Heartbeat {
    let status_file = if config.exists() {
        crate::heartbeat::config::Config::load(config)
            .map(|c| Some(c.status_file().display().to_string()))
            .map_err(|e| e.to_string())
    } else {
        Ok(None)
    };
    Heartbeat {
        config: config.display().to_string(),
        status_file,
    }
}

/// The files probe `kind` reads (directories for the ones it lists).
pub fn files(kind: Kind, sys: &dyn System, heartbeat_config: &Path) -> Vec<PathBuf> {
    let p = sys.paths();
    match kind {
        Kind::Config => vec![
            p.nfs_conf.clone(),
            p.nfs_conf_d.clone(),
            p.systemd_dir.clone(),
        ],
        Kind::Etab => vec![p.etab()],
        // Where nfsdcld keeps it is only known once nfs.conf is read: always
        // in a child.
        Kind::Nfsdcld => Vec::new(),
        Kind::Heartbeat => vec![heartbeat_config.to_path_buf()],
    }
}

/// Do probe `kind` here; its JSON answer.
pub fn read(kind: Kind, sys: &dyn System, heartbeat_config: &Path) -> Result<String, String> {
    match kind {
        Kind::Config => serde_json::to_string(&config(sys)),
        Kind::Etab => serde_json::to_string(&etab(sys)),
        Kind::Nfsdcld => serde_json::to_string(&nfsdcld(sys)),
        Kind::Heartbeat => serde_json::to_string(&heartbeat(heartbeat_config)),
    }
    .map_err(|e| e.to_string())
}

/// The child: read, print the JSON, exit 0 (a failed read is part of the
/// answer, not an exit code).
pub fn main(args: &Args) -> i32 {
    let sys = Real::new();
    match read(args.what, &sys, &args.heartbeat_config) {
        Ok(j) => {
            println!("{j}");
            0
        }
        Err(e) => {
            eprintln!("nfsha internal-status-probe: {e}");
            1
        }
    }
}

/// What came back from the probes: each one's JSON, or why there is none.
#[derive(Debug, Default)]
pub struct Answers(BTreeMap<Kind, Result<String, String>>);

impl Answers {
    pub fn insert(&mut self, kind: Kind, answer: Result<String, String>) {
        self.0.insert(kind, answer);
    }

    pub fn extend(&mut self, other: Answers) {
        self.0.extend(other.0);
    }

    /// The answer of `kind`, decoded; `Err` with the reason it is unknown.
    pub fn get<T: for<'de> Deserialize<'de>>(&self, kind: Kind) -> Result<T, String> {
        match self.0.get(&kind) {
            Some(Ok(json)) => serde_json::from_str(json)
                .map_err(|e| format!("the {} probe answered nonsense: {e}", kind.name())),
            Some(Err(why)) => Err(why.clone()),
            None => Err(format!("the {} probe was not run", kind.name())),
        }
    }
}

/// Run the probes side by side, each until `deadline`.
pub fn run(
    sys: &dyn System,
    kinds: &[Kind],
    heartbeat_config: &Path,
    deadline: Deadline,
) -> Answers {
    let exe = sys::self_exe().to_string_lossy().into_owned();
    let results: Vec<(Kind, Result<String, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = kinds
            .iter()
            .map(|&kind| {
                let cmd = Cmd::new(&exe).args([
                    "internal-status-probe".to_string(),
                    kind.name().to_string(),
                    "--heartbeat-config".to_string(),
                    heartbeat_config.display().to_string(),
                ]);
                s.spawn(move || (kind, answer(sys, kind, &cmd, deadline)))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    Answers(results.into_iter().collect())
}

fn answer(sys: &dyn System, kind: Kind, cmd: &Cmd, deadline: Deadline) -> Result<String, String> {
    match sys.run(cmd, deadline) {
        Ok(out) if out.success() => Ok(out.stdout),
        Ok(out) => Err(format!(
            "the {} probe failed: {}",
            kind.name(),
            out.failure_text()
        )),
        Err(sys::RunError::Timeout { after, .. }) => Err(format!(
            "reading {} did not finish within {} (hung storage?); the reader was abandoned",
            what_it_reads(kind),
            crate::formats::duration::fmt(round_ms(after))
        )),
        Err(e) => Err(format!("the {} probe could not run: {e}", kind.name())),
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

/// What a probe reads, for the reason shown when it hangs.
fn what_it_reads(kind: Kind) -> &'static str {
    match kind {
        Kind::Config => "nfs.conf, the nfs-server drop-in and its unit links",
        Kind::Etab => "etab",
        Kind::Nfsdcld => "nfsdcld's database on the state directory",
        Kind::Heartbeat => "the heartbeat configuration",
    }
}
