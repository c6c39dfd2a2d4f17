//! `etab`: exportfs' record of what this node exports now
//! (`<dir>\t<client>(<options>)` per line), read without starting a process.

use std::path::PathBuf;

use crate::sys::System;

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

/// Parse `etab` text.
pub fn parse(text: &str) -> Vec<Export> {
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
        .map(|t| parse(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etab_lines() {
        let t =
            "/srv/nfs/share\t192.0.2.0/24(rw,sync,wdelay,hide,no_subtree_check,fsid=1,sec=sys)\n\
                 /srv/a\\040b\t*(ro,fsid=0)\n\
                 /srv/v6\t[2001:db8::]/64(rw,fsid=7f1a0c2e-0000-4000-8000-000000000001)\n\
                 garbage\n";
        let e = parse(t);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].directory, PathBuf::from("/srv/nfs/share"));
        assert_eq!(e[0].client, "192.0.2.0/24");
        assert_eq!(e[0].fsid(), Some("1"));
        assert_eq!(e[1].directory, PathBuf::from("/srv/a b"));
        assert_eq!(e[2].client, "[2001:db8::]/64");
        assert_eq!(e[2].fsid(), Some("7f1a0c2e-0000-4000-8000-000000000001"));
    }
}
