//! Reading one input file: detect its dialect and run the matching parser.

use std::path::Path;
use std::sync::Arc;

use super::*;

/// What one file contributed: a cluster model, or host settings.
#[derive(Debug)]
pub struct Input {
    pub dialect: Dialect,
    pub cluster: Option<Model>,
    pub host: HostConfig,
}

/// Read and parse a file. Unreadable files and unknown formats are errors
/// naming the file.
pub fn read_file(path: &Path, forced: Option<Dialect>) -> Result<Input, ParseError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ParseError {
        file: name.clone(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    // Configuration files are text; invalid UTF-8 is replaced rather than
    // rejected so that one stray byte does not hide every finding.
    let text = String::from_utf8_lossy(&bytes);
    read_text(&name, &text, forced, Some(path))
}

/// Parse text that came from `name` (a path, or e.g. "cibadmin -Q"); `path`
/// is where it was read from, for the files it names (nfs.conf includes and
/// drop-ins).
pub fn read_text(
    name: &str,
    text: &str,
    forced: Option<Dialect>,
    path: Option<&Path>,
) -> Result<Input, ParseError> {
    let file: Arc<str> = Arc::from(name);
    let dialect = forced
        .or_else(|| detect(name, text))
        .ok_or_else(|| ParseError {
            file: name.to_string(),
            line: 1,
            message: "unrecognised format: expected CIB XML, crm or pcs text, nfs.conf, \
                  /etc/sysconfig/nfs, /etc/exports or heartbeat TOML (use --dialect to say which)"
                .to_string(),
        })?;
    let mut host = HostConfig::default();
    let cluster = match dialect {
        Dialect::Cib => Some(cib::parse(text, &file)?),
        Dialect::Crm => Some(crm::parse(text, &file)?),
        Dialect::PcsCommands => Some(pcs::parse_commands(text, &file)?),
        Dialect::PcsConfig => Some(pcs::parse_config(text, &file)?),
        Dialect::NfsConf => {
            nfsconf::parse_nfs_conf(text, &file, path, &mut host)?;
            None
        }
        Dialect::Sysconfig => {
            nfsconf::parse_sysconfig(text, &file, &mut host)?;
            None
        }
        Dialect::Exports => {
            nfsconf::parse_exports(text, &file, &mut host)?;
            None
        }
        Dialect::Heartbeat => {
            host.heartbeat = Some(heartbeat::parse(text, &file)?);
            None
        }
        Dialect::Mounts => {
            nfsconf::parse_mounts(text, &file, &mut host);
            None
        }
    };
    let cluster = cluster.map(|mut m| {
        m.sources.push((file.clone(), Some(dialect)));
        m
    });
    Ok(Input {
        dialect,
        cluster,
        host,
    })
}
