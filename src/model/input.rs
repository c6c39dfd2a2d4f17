//! Reading one input file: detect its dialect and run the matching parser.

use std::path::Path;
use std::sync::Arc;

use super::*;

/// What one file contributed: cluster models (pcs commands may build
/// several CIB files), or host settings.
#[derive(Debug)]
pub struct Input {
    pub dialect: Dialect,
    pub clusters: Vec<Model>,
    pub host: HostConfig,
    /// The text read (kept for crm and pcs commands, which several files
    /// give together: see [`read_stream`]).
    pub text: Option<String>,
}

/// What the tools that apply an input's commands add to what they are
/// told, where that depends on their version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tools {
    /// The crmsh that runs crm commands (`nfsha lint --crmsh`).
    pub crmsh: crm::Crmsh,
}

/// Read and parse a file. Unreadable files and unknown formats are errors
/// naming the file.
pub fn read_file(path: &Path, forced: Option<Dialect>) -> Result<Input, ParseError> {
    read_file_with(path, forced, Tools::default())
}

/// [`read_file`], the commands applied by `tools`.
pub fn read_file_with(
    path: &Path,
    forced: Option<Dialect>,
    tools: Tools,
) -> Result<Input, ParseError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ParseError {
        file: name.clone(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    // Configuration files are text; invalid UTF-8 is replaced rather than
    // rejected so that one stray byte does not hide every finding.
    let text = String::from_utf8_lossy(&bytes);
    read_text_with(&name, &text, forced, Some(path), tools)
}

/// Parse text that came from `name` (a path, or e.g. "cibadmin -Q"); `path`
/// is where it was read from, for the files it names (nfs.conf includes and
/// drop-ins). A cluster configuration in which nothing at all was
/// understood is an error: it is never reported as clean.
pub fn read_text(
    name: &str,
    text: &str,
    forced: Option<Dialect>,
    path: Option<&Path>,
) -> Result<Input, ParseError> {
    read_text_with(name, text, forced, path, Tools::default())
}

/// [`read_text`], the commands applied by `tools`.
pub fn read_text_with(
    name: &str,
    text: &str,
    forced: Option<Dialect>,
    path: Option<&Path>,
    tools: Tools,
) -> Result<Input, ParseError> {
    let file: Arc<str> = Arc::from(name);
    let dialect = forced
        .map(|d| detect::resolve(d, name, text))
        .or_else(|| detect(name, text))
        .ok_or_else(|| ParseError {
            file: name.to_string(),
            line: 1,
            message: "unrecognised format: expected CIB XML, crm or pcs text, nfs.conf, \
                  /etc/sysconfig/nfs, /etc/exports or heartbeat TOML (use --dialect to say which)"
                .to_string(),
        })?;
    let mut host = HostConfig::default();
    let clusters = match dialect {
        Dialect::Cib => vec![cib::parse(text, &file)?],
        Dialect::Crm => vec![crm::parse_files_with(&[(text, file.clone())], tools.crmsh)?],
        Dialect::PcsCommands | Dialect::Pcs => pcs::parse_commands(text, &file)?,
        Dialect::PcsConfig => vec![pcs::parse_config(text, &file)?],
        Dialect::NfsConf => {
            nfsconf::parse_nfs_conf(text, &file, path, &mut host)?;
            Vec::new()
        }
        Dialect::Sysconfig => {
            nfsconf::parse_sysconfig(text, &file, &mut host)?;
            Vec::new()
        }
        Dialect::Exports => {
            nfsconf::parse_exports(text, &file, &mut host)?;
            Vec::new()
        }
        Dialect::Heartbeat => {
            host.heartbeat = Some(heartbeat::parse(text, &file)?);
            Vec::new()
        }
        Dialect::Mounts => {
            nfsconf::parse_mounts(text, &file, &mut host);
            Vec::new()
        }
    };
    if dialect.is_cluster() && clusters.iter().all(Model::is_empty) {
        return Err(nothing_understood(name, dialect, &clusters));
    }
    let clusters = clusters
        .into_iter()
        .filter(|m| !m.is_empty())
        .map(|mut m| {
            m.sources.push((file.clone(), Some(dialect)));
            m
        })
        .collect();
    let text = dialect.is_commands().then(|| text.to_string());
    Ok(Input {
        dialect,
        clusters,
        host,
        text,
    })
}

/// Parse several files of commands of one family (crm, or pcs commands)
/// as one stream, in the order given: the edits each makes to a cluster are
/// applied to what the files before built, and every statement keeps its own
/// file and line. Each file has been read alone by [`read_text`] first (so
/// that one with nothing understood is named).
pub fn read_stream(
    dialect: Dialect,
    files: &[(&str, Arc<str>)],
    tools: Tools,
) -> Result<Vec<Model>, ParseError> {
    let clusters = match dialect {
        Dialect::Crm => vec![crm::parse_files_with(files, tools.crmsh)?],
        _ => pcs::parse_command_files(files)?,
    };
    Ok(clusters
        .into_iter()
        .filter(|m| !m.is_empty())
        .map(|mut m| {
            for (_, file) in files {
                m.sources.push((file.clone(), Some(dialect)));
            }
            m
        })
        .collect())
}

/// The error for a cluster configuration with no object in it, naming the
/// first statement that was not understood, if any.
fn nothing_understood(name: &str, dialect: Dialect, models: &[Model]) -> ParseError {
    let first = models
        .iter()
        .flat_map(|m| m.unparsed.iter())
        .min_by_key(|u| u.loc.line);
    let expected = match dialect {
        Dialect::Cib => "a <cib> with resources, constraints or properties",
        Dialect::Crm => "crm statements (primitive, group, order, property, …)",
        Dialect::PcsCommands | Dialect::Pcs => "pcs commands that configure the cluster (pcs resource create, pcs constraint, pcs property set, …)",
        Dialect::PcsConfig => "`pcs config` output (Resources:, Constraints, Cluster Properties:)",
        _ => "a cluster configuration",
    };
    match first {
        Some(u) => ParseError {
            file: name.to_string(),
            line: u.loc.line,
            message: format!(
                "nothing here was understood as {}: expected {expected}; first not understood: `{}` ({})",
                dialect.name(),
                u.statement,
                u.reason
            ),
        },
        None => ParseError {
            file: name.to_string(),
            line: 1,
            message: format!(
                "no cluster objects found: expected {expected}; nothing to check"
            ),
        },
    }
}
