//! What the kernel's nfsd and nfs-utils say about the NFS server on this
//! node: the nfsd control files, `etab`, `nfs.conf`, and the small markers
//! nfsha's agents leave in the resource state directory. Every read goes
//! through the system seam, under the roots of [`crate::sys::Paths`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::sys::System;

/// `threads` in the nfsd control filesystem: `None` when it cannot be read
/// (nfsd module not loaded or the filesystem not mounted), else the count.
pub fn threads(sys: &dyn System) -> Option<u32> {
    read_number(sys, "threads")
}

/// nfsd serves requests: at least one thread runs.
pub fn running(sys: &dyn System) -> bool {
    threads(sys).is_some_and(|n| n > 0)
}

/// A number from an nfsd control file (`nfsv4leasetime`, `nfsv4gracetime`).
pub fn read_number(sys: &dyn System, name: &str) -> Option<u32> {
    sys.read_to_string(&sys.paths().nfsd(name))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// The enabled versions as nfsd lists them (`+4.1 +4.2` parts only),
/// e.g. `["4.1", "4.2"]` from `-3 +4 -4.0 +4.1 +4.2`.
pub fn enabled_versions(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|v| v.strip_prefix('+'))
        .filter(|v| *v != "4")
        .map(str::to_string)
        .collect()
}

/// One export from `etab`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub directory: PathBuf,
    pub client: String,
    pub options: Vec<String>,
}

impl Export {
    /// The value of `fsid=` among the options.
    pub fn fsid(&self) -> Option<&str> {
        self.options.iter().find_map(|o| o.strip_prefix("fsid="))
    }
}

/// Parse `etab` (`<dir>\t<client>(<options>)` per line).
pub fn parse_etab(text: &str) -> Vec<Export> {
    text.lines()
        .filter_map(|line| {
            let (dir, rest) = line.split_once('\t')?;
            let open = rest.rfind('(')?;
            let client = &rest[..open];
            let opts = rest[open + 1..].strip_suffix(')')?;
            Some(Export {
                directory: PathBuf::from(crate::sys::mounts::unescape(dir)),
                client: client.to_string(),
                options: opts.split(',').map(str::to_string).collect(),
            })
        })
        .collect()
}

/// The exports listed in this node's `etab` (none when it cannot be read).
pub fn exports(sys: &dyn System) -> Vec<Export> {
    sys.read_to_string(&sys.paths().etab())
        .map(|t| parse_etab(&t))
        .unwrap_or_default()
}

/// nfs-utils' configuration: `(section, key)` → value, sections and keys in
/// lower case, later files and lines winning (as nfs-utils reads them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NfsConf(pub BTreeMap<(String, String), String>);

impl NfsConf {
    pub fn parse_into(&mut self, text: &str) {
        let mut section = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(s) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                section = s.trim().to_ascii_lowercase();
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                self.0.insert(
                    (section.clone(), k.trim().to_ascii_lowercase()),
                    v.to_string(),
                );
            }
        }
    }

    pub fn parse(text: &str) -> NfsConf {
        let mut c = NfsConf::default();
        c.parse_into(text);
        c
    }

    /// `nfs.conf` and then `nfs.conf.d/*.conf` in name order.
    pub fn load(sys: &dyn System) -> NfsConf {
        let p = sys.paths();
        let mut c = NfsConf::default();
        if let Ok(t) = sys.read_to_string(&p.nfs_conf) {
            c.parse_into(&t);
        }
        if let Ok(mut names) = sys.list_dir(&p.nfs_conf_d) {
            names.sort();
            for n in names.iter().filter(|n| n.ends_with(".conf")) {
                if let Ok(t) = sys.read_to_string(&p.nfs_conf_d.join(n)) {
                    c.parse_into(&t);
                }
            }
        }
        c
    }

    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.0
            .get(&(section.to_string(), key.to_string()))
            .map(String::as_str)
    }

    /// A yes/no value as nfs-utils reads it (`y`, `yes`, `1`, `true`, `on`).
    pub fn get_bool(&self, section: &str, key: &str) -> Option<bool> {
        self.get(section, key).map(|v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "y" | "yes" | "1" | "true" | "t" | "on"
            )
        })
    }
}

/// Where an nfsha agent keeps the marker that says "started here": in the
/// resource state directory, which is cleared at boot, so a stale `etab` or
/// a leftover mount after a reboot never looks like a running resource.
pub fn marker(sys: &dyn System, agent: &str, key: &str) -> PathBuf {
    let key: String = key
        .chars()
        .map(|c| if c == '/' { '_' } else { c })
        .collect();
    sys.state_dir().join(format!("nfsha-{agent}-{key}"))
}

/// `key=value` lines of a marker (empty when absent).
pub fn read_marker(sys: &dyn System, path: &Path) -> Option<BTreeMap<String, String>> {
    let text = sys.read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

pub fn write_marker(
    sys: &dyn System,
    path: &Path,
    pairs: &[(&str, String)],
) -> std::io::Result<()> {
    let text: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    sys.write(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etab_lines() {
        let t =
            "/srv/nfs/share\t192.0.2.0/24(rw,sync,wdelay,hide,no_subtree_check,fsid=1,sec=sys)\n\
                 /srv/a\\040b\t*(ro,fsid=0)\n\
                 /srv/v6\t[2001:db8::]/64(rw,fsid=7f1a0c2e-0000-4000-8000-000000000001)\n";
        let e = parse_etab(t);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].directory, PathBuf::from("/srv/nfs/share"));
        assert_eq!(e[0].client, "192.0.2.0/24");
        assert_eq!(e[0].fsid(), Some("1"));
        assert_eq!(e[1].directory, PathBuf::from("/srv/a b"));
        assert_eq!(e[2].client, "[2001:db8::]/64");
    }

    #[test]
    fn nfs_conf_sections_and_overrides() {
        let mut c = NfsConf::parse(
            "# comment\n[NFSD]\nlease-time = 90\n vers4.0 = n\n[nfsdcld]\nstoragedir=\"/srv/state/nfsdcld\"\n",
        );
        assert_eq!(c.get("nfsd", "lease-time"), Some("90"));
        assert_eq!(c.get_bool("nfsd", "vers4.0"), Some(false));
        assert_eq!(c.get("nfsdcld", "storagedir"), Some("/srv/state/nfsdcld"));
        c.parse_into("[nfsd]\nlease-time=120\n");
        assert_eq!(c.get("nfsd", "lease-time"), Some("120"));
        assert_eq!(c.get("nfsd", "grace-time"), None);
    }

    #[test]
    fn versions_from_the_kernel() {
        assert_eq!(
            enabled_versions("-2 -3 +4 -4.0 +4.1 +4.2\n"),
            vec!["4.1", "4.2"]
        );
        assert_eq!(enabled_versions("+3 +4 +4.0 -4.1"), vec!["3", "4.0"]);
    }
}
