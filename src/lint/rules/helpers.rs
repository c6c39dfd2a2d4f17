//! What several rules share.

/// `` `a`, `b`, `c` ``.
pub(crate) fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The line of a TOML file that sets `key` (1 when none does: the file).
pub(crate) fn key_line(text: &str, key: &str) -> u32 {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |p| p as u32 + 1)
}
