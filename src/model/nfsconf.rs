//! `/etc/nfs.conf`, `/etc/sysconfig/nfs` and `/etc/exports` → [`HostConfig`].
//!
//! nfs.conf is nfs-utils' ini format: case-insensitive names, `#`/`;`
//! comments, optionally quoted values, `include = [-]file` (the leading `-`
//! means "if it exists"). Keys are stored as `section.key` in lower case and
//! the last value wins, as in nfs-utils.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;

/// How deep `include`s may nest; nfs-utils has no limit, but a loop must end.
const MAX_INCLUDE_DEPTH: usize = 8;

/// Parse nfs.conf text; `base` is the directory relative includes resolve against
/// (`None` to ignore includes, e.g. in fuzzing).
pub fn parse_nfs_conf(
    text: &str,
    file: &Arc<str>,
    base: Option<&Path>,
    out: &mut HostConfig,
) -> Result<(), ParseError> {
    parse_nfs_conf_depth(text, file, base, out, 0)
}

fn parse_nfs_conf_depth(
    text: &str,
    file: &Arc<str>,
    base: Option<&Path>,
    out: &mut HostConfig,
    depth: usize,
) -> Result<(), ParseError> {
    let mut section = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n as u32 + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.split(']').next().filter(|_| rest.contains(']')) else {
                return Err(ParseError {
                    file: file.to_string(),
                    line: line_no,
                    message: format!("section header {line:?} has no closing ']'"),
                });
            };
            section = name.trim().to_ascii_lowercase();
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(ParseError {
                file: file.to_string(),
                line: line_no,
                message: format!("expected `name = value` or `[section]`, found {line:?}"),
            });
        };
        let key = k.trim().to_ascii_lowercase();
        let mut value = v.trim();
        if let Some(i) = value.find(['#', ';']).filter(|_| !value.starts_with('"')) {
            value = value[..i].trim();
        }
        let value = value.trim_matches('"').to_string();
        if key == "include" {
            let (optional, target) = match value.strip_prefix('-') {
                Some(t) => (true, t.trim()),
                None => (false, value.as_str()),
            };
            let Some(base) = base else { continue };
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(ParseError {
                    file: file.to_string(),
                    line: line_no,
                    message: format!("includes nested deeper than {MAX_INCLUDE_DEPTH}"),
                });
            }
            let path: PathBuf = base.join(target);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    let f: Arc<str> = Arc::from(path.display().to_string());
                    parse_nfs_conf_depth(&text, &f, path.parent(), out, depth + 1)?;
                }
                Err(_) if optional => {}
                Err(e) => {
                    return Err(ParseError {
                        file: file.to_string(),
                        line: line_no,
                        message: format!("include {}: {e}", path.display()),
                    })
                }
            }
            continue;
        }
        out.nfsconf.push(NvPair {
            name: format!("{section}.{key}"),
            value,
            loc: Loc::new(file, line_no),
            conditional: false,
        });
    }
    Ok(())
}

/// `/etc/sysconfig/nfs`: `NAME="value"` shell assignments.
pub fn parse_sysconfig(
    text: &str,
    file: &Arc<str>,
    out: &mut HostConfig,
) -> Result<(), ParseError> {
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(ParseError {
                file: file.to_string(),
                line: n as u32 + 1,
                message: format!("expected NAME=\"value\", found {line:?}"),
            });
        };
        out.sysconfig.push(NvPair {
            name: k.trim().to_string(),
            value: v.trim().trim_matches(|c| c == '"' || c == '\'').to_string(),
            loc: Loc::new(file, n as u32 + 1),
            conditional: false,
        });
    }
    Ok(())
}

/// `/etc/exports`: `directory client(options) …`, with `\` continuations.
pub fn parse_exports(text: &str, file: &Arc<str>, out: &mut HostConfig) -> Result<(), ParseError> {
    let mut pending = String::new();
    let mut start = 0u32;
    for (n, raw) in text.lines().enumerate() {
        if pending.is_empty() {
            start = n as u32 + 1;
        }
        let line = raw.split('#').next().unwrap_or("");
        if let Some(cont) = line.strip_suffix('\\') {
            pending.push_str(cont);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let logical = std::mem::take(&mut pending);
        let mut words = logical.split_whitespace();
        let Some(dir) = words.next() else { continue };
        if !dir.starts_with('/') && !dir.starts_with('"') {
            return Err(ParseError {
                file: file.to_string(),
                line: start,
                message: format!(
                    "expected an absolute directory at the start of the line, found {dir:?}"
                ),
            });
        }
        for client in words
            .chain(std::iter::once("").take(usize::from(logical.split_whitespace().count() == 1)))
        {
            let (who, opts) = match client.split_once('(') {
                Some((w, o)) => (w, o.trim_end_matches(')')),
                None => (client, ""),
            };
            out.exports.push(Export {
                directory: dir.trim_matches('"').trim_end_matches('/').to_string(),
                clients: who.to_string(),
                options: opts.to_string(),
                loc: Loc::new(file, start),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfs_conf_sections_and_last_value_wins() {
        let mut h = HostConfig::default();
        let f: Arc<str> = Arc::from("nfs.conf");
        parse_nfs_conf(
            "[nfsd]\n Lease-Time = 60 # c\nlease-time=\"45\"\n[nfsdcld]\nstoragedir=/x\n",
            &f,
            None,
            &mut h,
        )
        .unwrap();
        assert_eq!(h.nfsconf("nfsd.lease-time").unwrap().value, "45");
        assert_eq!(h.nfsconf("nfsd.lease-time").unwrap().loc.line, 3);
        assert_eq!(h.nfsconf("nfsdcld.storagedir").unwrap().value, "/x");
        let e = parse_nfs_conf("[nfsd\n", &f, None, &mut h).unwrap_err();
        assert!(e.message.contains("closing"));
    }

    #[test]
    fn exports_lines_and_options() {
        let mut h = HostConfig::default();
        parse_exports(
            "/srv/a 10.0.0.0/24(rw,fsid=1) \\\n  host(ro)\n/srv/b\n",
            &Arc::from("e"),
            &mut h,
        )
        .unwrap();
        assert_eq!(h.exports.len(), 3);
        assert_eq!(h.exports[1].clients, "host");
        assert_eq!(h.exports[0].options, "rw,fsid=1");
        assert_eq!(h.exports[2].directory, "/srv/b");
    }
}
