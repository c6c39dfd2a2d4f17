//! `/etc/nfs.conf`, `/etc/sysconfig/nfs`, `/etc/exports` and a KVM host's
//! mount table → [`HostConfig`].
//!
//! nfs.conf is read by [`crate::nfs::conf`], the reader the agents use too,
//! so lint sees the values nfs-utils' daemons will use: includes, the
//! `nfs.conf.d` drop-ins, quoting, comments and precedence alike. Keys are
//! stored as `section.key` in lower case, one per key (the value nfs-utils
//! ends up with); a line nfs-utils warns about and ignores is recorded for
//! rule NFS002 with its file and line.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::nfs::conf::{Files, LocalFiles, Reader};

/// Parse nfs.conf text that came from `file`. With its location `path`,
/// includes are followed (relative to its directory) and the drop-ins of
/// `<path>.d/*.conf` read after it, as nfs-utils does for `nfsconf --file`;
/// `None` reads the text alone (fuzzing). Lines nfs-utils would ignore are
/// recorded in `out.nfsconf_ignored`, not errors: nfs-utils reads on.
pub fn parse_nfs_conf(
    text: &str,
    file: &Arc<str>,
    path: Option<&Path>,
    out: &mut HostConfig,
) -> Result<(), ParseError> {
    let files = LocalFiles;
    let mut r = Reader::new(path.map(|_| &files as &dyn Files));
    r.text(text, file, path);
    if let Some(path) = path {
        let mut dropins = path.as_os_str().to_owned();
        dropins.push(".d");
        r.dropins(Path::new(&dropins));
    }
    // Subsection values are not what the daemons look up.
    for e in r.settings().entries().iter().filter(|e| e.arg.is_none()) {
        out.nfsconf.push(NvPair {
            name: format!("{}.{}", e.section, e.tag.to_ascii_lowercase()),
            value: e.value.clone(),
            loc: Loc::new(&e.file, e.line),
            conditional: false,
        });
    }
    // nfs-utils reads on past a line it ignores; so does lint (rule NFS002).
    out.nfsconf_ignored
        .extend(r.problems.iter().map(|p| IgnoredLine {
            loc: Loc::new(&p.file, p.line),
            message: p.message.clone(),
        }));
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

/// A KVM host's mounts (`/proc/mounts`, an fstab or mountinfo), read by the
/// one mount table reader, [`crate::sys::mounts::parse_table`].
pub fn parse_mounts(text: &str, file: &Arc<str>, out: &mut HostConfig) {
    out.mounts.extend(
        crate::sys::mounts::parse_table(text)
            .into_iter()
            .map(|e| ClientMount {
                source: e.source,
                mount_point: e.mount_point,
                fstype: e.fstype,
                options: e.options,
                loc: Loc::new(file, e.line),
            }),
    );
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
        parse_nfs_conf("[nfsd\n", &f, None, &mut h).unwrap();
        assert!(h.nfsconf_ignored[0].message.contains("closing"));
    }

    #[test]
    fn nfs_conf_lines_nfs_utils_ignores_are_recorded() {
        let f: Arc<str> = Arc::from("nfs.conf");
        for (text, line, what) in [
            ("lease-time = 90\n[nfsd]\n", 1, "not in a section"),
            ("[nfsd]\nlease-time\n", 2, "tag = value"),
            ("[nfsd]\nscope = \"a\n", 2, "closing"),
            ("[nfsd]\n\nlease-time = 90", 3, "newline"),
        ] {
            let mut h = HostConfig::default();
            parse_nfs_conf(text, &f, None, &mut h).unwrap();
            let e = &h.nfsconf_ignored[0];
            assert_eq!(e.loc.line, line, "{text:?}: {e:?}");
            assert!(e.message.contains(what), "{text:?}: {e:?}");
        }
    }

    #[test]
    fn nfs_conf_values_as_nfs_utils_reads_them() {
        let mut h = HostConfig::default();
        let f: Arc<str> = Arc::from("nfs.conf");
        parse_nfs_conf(
            "[nfsd]\nscope = \"a#b\"c\nthreads = 8;x\nthreads =\n[environment]\ndir = /srv/x\n[nfsdcld]\nstoragedir = $dir\n[x \"sub\"]\ny = 1\n",
            &f,
            None,
            &mut h,
        )
        .unwrap();
        assert_eq!(h.nfsconf("nfsd.scope").unwrap().value, "a#b");
        assert_eq!(h.nfsconf("nfsd.threads").unwrap().value, "8");
        let dir = h.nfsconf("nfsdcld.storagedir").unwrap();
        assert_eq!((dir.value.as_str(), dir.loc.line), ("/srv/x", 6));
        assert!(h.nfsconf("x.y").is_none());
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
