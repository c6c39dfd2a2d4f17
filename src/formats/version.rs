//! Version strings of the tools a configuration is applied with
//! (`nfsha lint --nfs-utils`, `--crmsh`): upstream releases (`2.6.2`,
//! `2.6`), Debian's and Red Hat's package versions (`1:2.6.2-4+deb12u1`,
//! `2.5.4-20.el9`: epoch and release dropped) and SUSE's snapshot packages
//! (`4.6.0+20241016.a9feecb0-150600.3.9.1`: the last release tag, then the
//! date of the snapshot's newest commit, which says what was backported).

/// A release and, for a snapshot package, the date of its newest commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// (major, minor, patch); a missing patch is 0.
    pub release: (u32, u32, u32),
    /// `YYYYMMDD` of a `+YYYYMMDD.<hash>` snapshot suffix.
    pub snapshot: Option<u32>,
}

/// Read a version; `None` when it is not one of the forms above.
pub fn parse(raw: &str) -> Option<Version> {
    let t = raw.trim();
    let t = t.split_once(':').map_or(t, |(_, v)| v);
    let (head, suffix) = match t.find(['-', '+', '~']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let mut parts = head.split('.');
    let mut next = |required: bool| match parts.next() {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
        None if !required => Some(0),
        _ => None,
    };
    let release = (next(true)?, next(true)?, next(false)?);
    if parts.next().is_some() {
        return None;
    }
    let snapshot = suffix
        .strip_prefix('+')
        .and_then(|s| s.get(..8).filter(|d| d.bytes().all(|b| b.is_ascii_digit())))
        .and_then(|d| d.parse().ok());
    Some(Version { release, snapshot })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(release: (u32, u32, u32), snapshot: Option<u32>) -> Option<Version> {
        Some(Version { release, snapshot })
    }

    #[test]
    fn releases_and_package_versions_read() {
        assert_eq!(parse("2.6.2"), v((2, 6, 2), None));
        assert_eq!(parse(" 2.7 "), v((2, 7, 0), None));
        assert_eq!(parse("1:2.6.2-4+deb12u1"), v((2, 6, 2), None));
        assert_eq!(parse("2.5.4-20.el9"), v((2, 5, 4), None));
        assert_eq!(parse("4.4.1-1+deb12u1"), v((4, 4, 1), None));
        assert_eq!(parse("5.0.0~rc1"), v((5, 0, 0), None));
        assert_eq!(
            parse("4.6.0+20241016.a9feecb0-150600.3.9.1"),
            v((4, 6, 0), Some(20241016))
        );
        assert_eq!(parse("4.6.0+2024"), v((4, 6, 0), None));
        for bad in ["", "2", "two.six", "2.6.2.1", "2.x", "2..1", "-1.2", "2.+6"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
