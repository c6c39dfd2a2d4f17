//! Booleans, by grammar. Three programs read yes/no values in the files
//! nfsha touches, and they do not agree: nfs-utils takes `t`/`f`, Pacemaker
//! does not; ocf-shellfuncs treats anything unknown as false. Read a value
//! with the grammar of the program that will act on it.

/// Pacemaker's `crm_str_to_boolean` (CIB values, meta attributes, crm/pcs
/// input, and nfsha's own agent parameters): `true`, `on`, `yes`, `y`, `1`
/// and their opposites, case-insensitive. `None` for anything else.
pub fn pacemaker(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "y" | "1" => Some(true),
        "false" | "off" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// nfs-utils' `conf_get_bool` (nfs.conf): `1`, `t`, `true`, `y`, `yes`, `on`
/// and their opposites, case-insensitive. `None` for anything else, which
/// nfs-utils reads as the option's default.
pub fn nfs_conf(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "y" | "yes" | "on" => Some(true),
        "0" | "f" | "false" | "n" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// resource-agents' `ocf_is_true` (environment switches such as `HA_debug`):
/// true only for `yes`, `true`, `1`, `YES`, `TRUE`, `True`, `ja`, `on`, `ON`;
/// everything else, including an unknown spelling, is false.
pub fn ocf(raw: &str) -> bool {
    matches!(
        raw,
        "yes" | "true" | "1" | "YES" | "TRUE" | "True" | "ja" | "on" | "ON"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammars_differ_where_their_programs_differ() {
        // nfs-utils reads `f` as false; Pacemaker does not know it.
        assert_eq!(nfs_conf("f"), Some(false));
        assert_eq!(pacemaker("f"), None);
        assert_eq!(nfs_conf("T"), Some(true));
        assert_eq!(pacemaker("t"), None);
        // ocf_is_true is case-sensitive and knows `ja`.
        assert!(ocf("ja") && ocf("True") && !ocf("tRUE") && !ocf("y"));
        for (raw, want) in [("Yes", Some(true)), (" off ", Some(false)), ("2", None)] {
            assert_eq!(pacemaker(raw), want, "{raw:?}");
            assert_eq!(nfs_conf(raw), want, "{raw:?}");
        }
    }
}
