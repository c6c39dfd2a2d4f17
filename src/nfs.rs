//! What the kernel's nfsd and nfs-utils say about the NFS server on this
//! node: the nfsd control files, `etab`, `nfs.conf`, and the small markers
//! nfsha's agents leave in the resource state directory. Every read goes
//! through the system seam, under the roots of [`crate::sys::Paths`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::sys::System;

pub mod conf;
pub mod versions;

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

/// nfs-utils' configuration as its daemons see it: `nfs.conf`, its includes
/// and `nfs.conf.d/*.conf`, read by [`conf`] exactly as nfs-utils reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NfsConf {
    settings: conf::Settings,
}

impl NfsConf {
    /// Apply more text (includes are not followed), later values winning.
    pub fn parse_into(&mut self, text: &str) {
        let mut r = conf::Reader::new(None);
        r.text(text, &std::sync::Arc::from("nfs.conf"), None);
        for e in r.entries {
            self.settings.set(e);
        }
    }

    pub fn parse(text: &str) -> NfsConf {
        let mut c = NfsConf::default();
        c.parse_into(text);
        c
    }

    /// `nfs.conf` (with its includes) and then `nfs.conf.d/*.conf`, through
    /// the system seam. Lines nfs-utils ignores are logged as warnings and
    /// ignored here too.
    pub fn load(sys: &dyn System) -> NfsConf {
        let p = sys.paths();
        let mut r = conf::Reader::new(Some(&sys));
        if let Err(e) = r.file(&p.nfs_conf) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot read {}: {e}", p.nfs_conf.display());
            }
        }
        r.dropins(&p.nfs_conf_d);
        for problem in &r.problems {
            tracing::warn!("{problem}");
        }
        NfsConf {
            settings: r.settings(),
        }
    }

    /// The value of `key` in `section` (both case-insensitive), `$name`
    /// resolved through `[environment]`.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.settings.get(section, key).map(|e| e.value.as_str())
    }

    /// A yes/no value as nfs-utils' `conf_get_bool` reads it: `None` when
    /// unset or neither (nfs-utils then uses its default).
    pub fn get_bool(&self, section: &str, key: &str) -> Option<bool> {
        crate::formats::bools::nfs_conf(self.get(section, key)?)
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
    fn unknown_booleans_fall_back_to_the_default() {
        let c = NfsConf::parse("[nfsd]\nvers3 = maybe\nvers4.1 = Off\nvers4.2 = T\n");
        assert_eq!(c.get_bool("nfsd", "vers3"), None);
        assert_eq!(c.get_bool("nfsd", "vers4.1"), Some(false));
        assert_eq!(c.get_bool("NFSD", "Vers4.2"), Some(true));
    }

    #[test]
    fn nfs_conf_includes_and_dropins_through_the_seam() {
        use crate::sys::fake::Fake;
        let sys = Fake::new();
        sys.file(
            "/etc/nfs.conf",
            "[nfsd]\nthreads = 8\ninclude = nfs-local.conf\nlease-time = 90 ; main\n",
        );
        sys.file("/etc/nfs-local.conf", "threads = 16\nlease-time = 60\n");
        sys.file("/etc/nfs.conf.d/9-a.conf", "[nfsd]\ngrace-time = 9\n");
        sys.file("/etc/nfs.conf.d/10-b.conf", "[nfsd]\ngrace-time = 10\n");
        sys.file(
            "/etc/nfs.conf.d/10-b.conf.rpmsave",
            "[nfsd]\ngrace-time = 1\n",
        );
        let c = NfsConf::load(&sys);
        assert_eq!(c.get("nfsd", "threads"), Some("16"));
        assert_eq!(c.get("nfsd", "lease-time"), Some("90"));
        assert_eq!(c.get("nfsd", "grace-time"), Some("10"));
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
