//! Reading what `nfsha lint` checks: the files named on the command line
//! (each parsed by the model's reader for its dialect), or the live CIB
//! through `cibadmin -Q` when none is named.

use std::path::PathBuf;
use std::time::Duration;

use crate::model::input::{self, Tools};
use crate::model::{self, Dialect, HostConfig, Model};

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
///
/// A CIB or `pcs config` file is a whole cluster each. crm files, and pcs
/// command files, are edits to a cluster: all the files of one family build
/// one cluster together, in command-line order (a fence file and a layout
/// file, or a guide split into steps). Such commands given with a CIB or
/// `pcs config` are refused: which CIB they were applied to is not said.
pub fn read_all<'a>(files: impl IntoIterator<Item = (&'a PathBuf, Option<Dialect>)>) -> Inputs {
    read_all_with(files, Tools::default())
}

/// [`read_all`], the commands applied by `tools` (`--crmsh`).
pub fn read_all_with<'a>(
    files: impl IntoIterator<Item = (&'a PathBuf, Option<Dialect>)>,
    tools: Tools,
) -> Inputs {
    let mut inputs = Inputs {
        clusters: Vec::new(),
        host: HostConfig::default(),
        files: Vec::new(),
        errors: Vec::new(),
    };
    let mut streams: Vec<Stream> = Vec::new();
    let mut wholes: Vec<String> = Vec::new();
    for (f, forced) in files {
        match input::read_file_with(f, forced, tools) {
            Ok(i) => {
                let name = f.display().to_string();
                inputs.files.push((name.clone(), i.dialect));
                merge_host(&mut inputs.host, i.host);
                match (i.dialect.is_commands(), i.text) {
                    (true, Some(text)) => {
                        let family = family(i.dialect);
                        match streams.iter_mut().find(|s| s.0 == family) {
                            Some(s) => {
                                s.1.push((name, text));
                                s.2.extend(i.clusters);
                            }
                            None => streams.push((family, vec![(name, text)], i.clusters)),
                        }
                    }
                    _ => {
                        if i.dialect.is_cluster() {
                            wholes.push(name);
                        }
                        inputs.clusters.extend(i.clusters);
                    }
                }
            }
            Err(e) => inputs.errors.push(e),
        }
    }
    for (dialect, texts, alone) in streams {
        if let Some(cib) = wholes.first() {
            let apply = match dialect {
                Dialect::Crm => "CIB_file=NEW.xml crm configure load update FILE",
                _ => "pcs -f NEW.xml … for each command",
            };
            inputs.errors.push(model::ParseError {
                file: texts[0].0.clone(),
                line: 1,
                message: format!(
                    "{} commands given together with the whole configuration `{cib}`: \
                     commands are edits, and which CIB they were applied to is not known. \
                     Apply them to a copy of it ({apply}) and lint the result, or lint them alone",
                    dialect.name()
                ),
            });
            continue;
        }
        if texts.len() == 1 {
            inputs.clusters.extend(alone);
            continue;
        }
        let parts: Vec<(&str, std::sync::Arc<str>)> = texts
            .iter()
            .map(|(name, text)| (text.as_str(), std::sync::Arc::from(name.as_str())))
            .collect();
        match input::read_stream(dialect, &parts, tools) {
            Ok(ms) => inputs.clusters.extend(ms),
            Err(e) => inputs.errors.push(e),
        }
    }
    inputs
}

/// Per family (crm, pcs commands): each file's name and text, and the models
/// the files give alone (used when there is one file).
type Stream = (Dialect, Vec<(String, String)>, Vec<Model>);

/// The family of a command dialect: crm, or pcs commands.
fn family(d: Dialect) -> Dialect {
    match d {
        Dialect::Pcs => Dialect::PcsCommands,
        d => d,
    }
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
