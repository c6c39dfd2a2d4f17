//! Reading what `nfsha lint` checks: the files named on the command line
//! (each parsed by the model's reader for its dialect), or the live CIB
//! through `cibadmin -Q` when none is named.

use std::path::PathBuf;
use std::time::Duration;

use crate::model::{self, input, Dialect, HostConfig, Model};

/// How long `cibadmin -Q` may take before we give up on the live CIB.
const CIBADMIN_DEADLINE: Duration = Duration::from_secs(20);

/// Everything read: cluster models and host settings, with their dialects,
/// and the files that could not be read.
pub struct Inputs {
    pub clusters: Vec<Model>,
    pub host: HostConfig,
    pub files: Vec<(String, Dialect)>,
    /// Files that could not be read (each with file, line and why).
    pub errors: Vec<model::ParseError>,
}

/// Read and parse all inputs; the first error (naming file and line) stops it.
pub fn read_inputs(
    files: &[PathBuf],
    forced: Option<Dialect>,
) -> Result<Inputs, model::ParseError> {
    let mut inputs = read_all(files.iter().map(|f| (f, forced)));
    match inputs.errors.is_empty() {
        true => Ok(inputs),
        false => Err(inputs.errors.remove(0)),
    }
}

/// Read and parse files, each with its forced dialect (`--mounts FILE` is
/// read as [`Dialect::Mounts`]); the ones that cannot be read are listed in
/// [`Inputs::errors`] and the others are still linted.
pub fn read_all<'a>(files: impl IntoIterator<Item = (&'a PathBuf, Option<Dialect>)>) -> Inputs {
    let mut inputs = Inputs {
        clusters: Vec::new(),
        host: HostConfig::default(),
        files: Vec::new(),
        errors: Vec::new(),
    };
    for (f, forced) in files {
        match input::read_file(f, forced) {
            Ok(i) => {
                inputs.files.push((f.display().to_string(), i.dialect));
                merge_host(&mut inputs.host, i.host);
                inputs.clusters.extend(i.clusters);
            }
            Err(e) => inputs.errors.push(e),
        }
    }
    inputs
}

fn merge_host(into: &mut HostConfig, from: HostConfig) {
    into.nfsconf.extend(from.nfsconf);
    into.sysconfig.extend(from.sysconfig);
    into.nfsconf_ignored.extend(from.nfsconf_ignored);
    into.exports.extend(from.exports);
    into.mounts.extend(from.mounts);
    if from.heartbeat.is_some() {
        into.heartbeat = from.heartbeat;
    }
}

/// Read the live CIB with `cibadmin -Q` (argv, no shell, bounded by a deadline).
pub fn live_cib() -> Result<String, String> {
    let mut child = std::process::Command::new("cibadmin")
        .arg("-Q")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "no file given and `cibadmin -Q` could not run ({e}); give a CIB, crm or pcs file"
            )
        })?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let out = reader.join().unwrap_or_default();
                if !status.success() {
                    return Err(format!("`cibadmin -Q` failed ({status}); is this a cluster node with Pacemaker running?"));
                }
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            Ok(None) if start.elapsed() > CIBADMIN_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`cibadmin -Q` did not answer within {}s",
                    CIBADMIN_DEADLINE.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for `cibadmin -Q`: {e}")),
        }
    }
}
