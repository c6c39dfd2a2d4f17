//! NFS protocol versions: the `nfs_versions` parameter of `ocf:nfsha:nfsserver`
//! and the `[nfsd] vers*` switches of nfs.conf. The agent, `nfsha dropin` and
//! the lint all read versions here, so a value the agent refuses never lints
//! clean.

use crate::formats::bools;

/// The NFS versions nfsha lets nfsd offer.
pub const VERSIONS: [&str; 4] = ["3", "4.0", "4.1", "4.2"];

/// Parse `nfs_versions` (`4.1,4.2`): known versions, no repeats.
pub fn parse(raw: &str) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for tok in raw.split([',', ' ']).filter(|t| !t.is_empty()) {
        let v = VERSIONS
            .iter()
            .find(|v| **v == tok)
            .ok_or_else(|| match tok {
                "4" => "say which NFSv4 minor versions: 4.0, 4.1, 4.2".to_string(),
                "2" => "NFSv2 is not supported".to_string(),
                t => format!("unknown version {t:?}; expected some of 3, 4.0, 4.1, 4.2"),
            })?;
        if !out.contains(v) {
            out.push(*v);
        }
    }
    if out.is_empty() {
        return Err("expected at least one of 3, 4.0, 4.1, 4.2".into());
    }
    Ok(out)
}

/// nfs.conf `[nfsd] vers<v>` as nfs-utils 2.6 reads it, given the raw value of
/// a tag: unset or unreadable means on (nfs-utils' default for 3 and every 4.x),
/// and `vers4=n` turns every minor version off.
pub fn conf_offers(get: impl Fn(&str) -> Option<String>, v: &str) -> bool {
    let on = |tag: &str| get(tag).and_then(|s| bools::nfs_conf(&s)).unwrap_or(true);
    match v {
        "3" => on("vers3"),
        minor => on("vers4") && on(&format!("vers{minor}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_versions() {
        assert_eq!(parse("4.1,4.2").unwrap(), vec!["4.1", "4.2"]);
        assert_eq!(parse("3, 4.2,4.2").unwrap(), vec!["3", "4.2"]);
        assert!(parse("4").unwrap_err().contains("4.0, 4.1, 4.2"));
        assert!(parse("").is_err());
    }

    #[test]
    fn nfs_conf_switches() {
        let conf = |pairs: &'static [(&'static str, &'static str)]| {
            move |tag: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == tag)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(!conf_offers(conf(&[("vers3", "f")]), "3"));
        assert!(conf_offers(conf(&[("vers3", "maybe")]), "3"));
        assert!(!conf_offers(conf(&[("vers4", "n")]), "4.2"));
        assert!(conf_offers(conf(&[("vers4.0", "n")]), "4.1"));
    }
}
