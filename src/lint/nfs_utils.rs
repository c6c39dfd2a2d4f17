//! The nfs-utils version the servers run (`nfsha lint --nfs-utils`, or
//! `nfs-utils = "…"` in the lint config): some nfs.conf keys and rpc.nfsd
//! options exist only from a given release on, and a rule must not count a
//! setting the installed nfs-utils ignores.

use std::fmt;

use crate::formats::version;

/// An nfs-utils upstream version, e.g. 2.6.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NfsUtils(pub u32, pub u32, pub u32);

/// The first release whose rpc.nfsd reads `[nfsd] scope` and takes
/// `-S/--scope` (commit 580ac005). Debian 12's rpc.nfsd (2.6.2) has
/// neither: it ignores the key and exits with "invalid option -- 'S'".
pub const SCOPE_SINCE: NfsUtils = NfsUtils(2, 6, 3);

impl NfsUtils {
    /// Read `2.6.2`, `2.6`, or a package version such as Debian's
    /// `1:2.6.2-4+deb12u1` or Red Hat's `2.5.4-20.el9` (epoch and release
    /// dropped).
    pub fn parse(raw: &str) -> Result<NfsUtils, String> {
        let v = version::parse(raw).ok_or_else(|| {
            format!(
                "nfs-utils version {raw:?} is invalid: expected e.g. 2.6.2 or 1:2.6.2-4+deb12u1"
            )
        })?;
        let (major, minor, patch) = v.release;
        Ok(NfsUtils(major, minor, patch))
    }

    /// rpc.nfsd reads `[nfsd] scope` and takes `-S`.
    pub fn sets_scope(self) -> bool {
        self >= SCOPE_SINCE
    }
}

impl fmt::Display for NfsUtils {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_and_upstream_versions_read() {
        assert_eq!(NfsUtils::parse("2.6.2").unwrap(), NfsUtils(2, 6, 2));
        assert_eq!(
            NfsUtils::parse("1:2.6.2-4+deb12u1").unwrap(),
            NfsUtils(2, 6, 2)
        );
        assert_eq!(NfsUtils::parse("2.5.4-20.el9").unwrap(), NfsUtils(2, 5, 4));
        assert_eq!(NfsUtils::parse("2.7").unwrap(), NfsUtils(2, 7, 0));
        for bad in ["", "2", "two.six", "2.6.2.1", "2.x"] {
            assert!(NfsUtils::parse(bad).is_err(), "{bad}");
        }
        assert!(!NfsUtils(2, 6, 2).sets_scope());
        assert!(NfsUtils(2, 6, 3).sets_scope());
        assert!(NfsUtils(2, 7, 1).sets_scope());
        assert!(!NfsUtils(1, 9, 9).sets_scope());
    }
}
