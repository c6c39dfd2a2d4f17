//! pcs input → [`Model`]: a sequence of `pcs …` commands ([`commands`]), or
//! `pcs config` output in any of its three generations ([`config`]).
//!
//! Commands follow pcs 0.9–0.12 usage, split by subcommand: [`resource`]
//! (`resource create|delete|group|clone|promotable|master|update|meta|op|
//! defaults|enable|disable|manage|unmanage|bundle`, `stonith create|update|
//! delete`), [`constraint`] (`order`, `colocation`, `location`, their `set`
//! forms, `delete`) and the rest in [`commands`] (`property`, `tag`,
//! `cluster cib`/`cib-push`, `-f FILE`). `pcs resource create` writes the
//! agent's advised operations into the CIB, as pcs does ([`default_ops`]),
//! so the commands and the `pcs config` of one cluster give one verdict.

pub mod commands;
pub mod config;
mod constraint;
pub mod default_ops;
mod resource;

pub use commands::parse_commands;
pub use config::parse_config;

use super::{Loc, NvPair};

/// `key=value` → a name/value pair (pcs options such as `--force` are not).
pub(super) fn pair(w: &str, loc: &Loc) -> Option<NvPair> {
    let (k, v) = w.split_once('=')?;
    if k.is_empty() || k.starts_with('-') {
        return None;
    }
    Some(NvPair {
        name: k.to_string(),
        value: v.to_string(),
        loc: loc.clone(),
        conditional: false,
    })
}

/// Set a pair in a list the way pcs updates an nvset: the new value
/// replaces the old one, and an empty value (`k=`) removes it.
pub(super) fn set_pair(list: &mut Vec<NvPair>, p: NvPair) {
    list.retain(|x| x.name != p.name);
    if !p.value.is_empty() {
        list.push(p);
    }
}
