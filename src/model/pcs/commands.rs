//! A file of pcs commands (a script, or a session pasted from a guide) →
//! one [`Model`] per CIB it builds.
//!
//! `pcs -f FILE …` works on a CIB file, not on the cluster: `pcs cluster
//! cib FILE` copies the cluster's CIB into it, `pcs cluster cib-push FILE`
//! makes it the cluster's. Each is followed here, so a guide that builds its
//! DRBD resources in `drbd_cfg` and its file systems in `fs_cfg` and pushes
//! both gives one model, while `pcs -f a …` and `pcs -f b …` never pushed
//! are two CIBs, linted apart. A file copied from the cluster and never
//! pushed is reported instead of the cluster when nothing changed the
//! cluster after the copy (it holds all of it).
//!
//! A command pcs would refuse, or that nfsha does not read, is an
//! [`super::super::Unparsed`] statement (rule NFS003); the rest of the file
//! is read on.

use std::sync::Arc;

use super::super::shell::{self, Command};
use super::super::words::UNCLOSED;
use super::super::*;
use super::default_ops::Generation;
use super::{constraint, pair, resource, set_pair};

/// One pcs command, ready for its subcommand's handler.
pub(super) struct PcsCmd {
    /// Positional words after `pcs`, global options taken out.
    pub args: Vec<String>,
    /// `--name` or `--name=value` options, in order.
    pub flags: Vec<(String, Option<String>)>,
    pub loc: Loc,
    /// Rule codes of an inline `# nfsha: ignore[…]` comment above it.
    pub ignores: Vec<String>,
    pub generation: Generation,
}

impl PcsCmd {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
    pub fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| n == name)
    }
    pub fn args(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }
}

/// What a handler did: `Ok(true)` the CIB changed, `Ok(false)` the
/// command changes nothing nfsha models (a display, authentication), `Err`
/// why it was not applied (pcs refuses it, or nfsha does not read it).
pub(super) type Outcome = Result<bool, String>;

/// Options that take the next word as their value.
const VALUED: &[&str] = &[
    "-f",
    "--group",
    "--before",
    "--after",
    "--name",
    "-u",
    "-p",
    "--corosync_conf",
    "--request-timeout",
    "--token",
    "--join",
    "--consensus",
    "--miss_count_const",
    "--fail_recv_const",
    "--addr0",
    "--addr1",
    "--transport",
    "--ipv6",
    "--nodesk",
];

/// A CIB: the cluster's or a file's.
#[derive(Default)]
struct Cib {
    m: Model,
    /// Changes so far.
    version: u64,
    /// For a file: the cluster's version when it was copied (`cluster cib`).
    copied_at: Option<u64>,
    /// For a file: its version when last pushed.
    pushed_at: Option<u64>,
}

impl Cib {
    fn new() -> Cib {
        Cib {
            m: Model {
                has_cluster: true,
                ..Model::default()
            },
            ..Cib::default()
        }
    }
}

struct Pcs {
    file: Arc<str>,
    generation: Generation,
    live: Cib,
    files: Vec<(String, Cib)>,
}

/// Parse a file of pcs commands. Never an error: a command that cannot be
/// read is recorded in its model (an input with nothing in it is refused by
/// [`super::super::input`]). The cluster's CIB comes first.
pub fn parse_commands(text: &str, file: &Arc<str>) -> Result<Vec<Model>, ParseError> {
    let script = shell::script(text);
    let mut p = Pcs {
        file: file.clone(),
        generation: Generation::Current,
        live: Cib::new(),
        files: Vec::new(),
    };
    for c in &script.commands {
        p.command(c);
    }
    let enabled = script.enabled_units(file);
    Ok(p.finish(enabled))
}

impl Pcs {
    fn cib(&mut self, name: Option<&str>) -> &mut Cib {
        let Some(name) = name else {
            return &mut self.live;
        };
        let pos = match self.files.iter().position(|(n, _)| n == name) {
            Some(p) => p,
            None => {
                let mut c = Cib::new();
                c.m.cib_file = Some(name.to_string());
                self.files.push((name.to_string(), c));
                self.files.len() - 1
            }
        };
        &mut self.files[pos].1
    }

    fn command(&mut self, c: &Command) {
        let Some(pos) = c.words.iter().position(|w| w.0 == "pcs") else {
            return; // a shell command around the cluster configuration
        };
        if pos > 0 {
            return; // `ssh node pcs …`, `echo pcs …`: not a pcs command here
        }
        let loc = Loc::new(&self.file, c.line);
        let words: Vec<&str> = c.words.iter().map(|w| w.0.as_str()).collect();
        let mut args = Vec::new();
        let mut flags = Vec::new();
        let mut i = 1;
        let mut redirect: Option<String> = None;
        let mut missing: Option<String> = None;
        while i < words.len() {
            let w = words[i];
            if let Some(target) = w.strip_prefix('>') {
                redirect = Some(if target.is_empty() {
                    words.get(i + 1).map(|s| s.to_string()).unwrap_or_default()
                } else {
                    target.to_string()
                });
                break;
            }
            if w.starts_with('-')
                && w.len() > 1
                && w.parse::<f64>().is_err()
                && !w.starts_with("-INF")
                && !w.starts_with("-inf")
            {
                if let Some((k, v)) = w.split_once('=') {
                    flags.push((k.to_string(), Some(v.to_string())));
                } else if VALUED.contains(&w) && i + 1 < words.len() {
                    flags.push((w.to_string(), Some(words[i + 1].to_string())));
                    i += 1;
                } else if VALUED.contains(&w) {
                    let why = format!("`{w}` needs a value; pcs refuses the command");
                    missing = Some(why);
                } else {
                    flags.push((w.to_string(), None));
                }
            } else {
                args.push(w.to_string());
            }
            i += 1;
        }
        let cmd = PcsCmd {
            args,
            flags,
            loc: loc.clone(),
            ignores: c
                .comments
                .iter()
                .flat_map(|x| cib::parse_ignore_comment(x))
                .collect(),
            generation: self.generation,
        };
        let target = cmd.flag("-f").map(str::to_string);
        if let Some(why) = c.unterminated.then(|| UNCLOSED.to_string()).or(missing) {
            let cib = self.cib(target.as_deref());
            cib.m.unparsed(loc, &words, why);
            cib.version += 1;
            return;
        }
        let a = cmd.args();
        // The CIB file commands.
        match a.as_slice() {
            ["cluster", "cib", file] => return self.copy(file),
            ["cluster", "cib"] => {
                if let Some(f) = redirect {
                    self.copy(&f);
                }
                return;
            }
            ["cluster", "cib-push", file, ..] => return self.push(file, &words, loc),
            _ => {}
        }
        let cib = self.cib(target.as_deref());
        let before = cib.m.unparsed.len();
        let outcome = dispatch(&mut cib.m, &cmd);
        let changed = match outcome {
            Ok(true) => true,
            Ok(false) => false,
            Err(why) => {
                cib.m.unparsed(loc, &words, why);
                false
            }
        };
        if changed || cib.m.unparsed.len() > before {
            cib.version += 1;
        }
    }

    /// `pcs cluster cib FILE`: the file is now a copy of the cluster's CIB.
    fn copy(&mut self, name: &str) {
        let mut m = self.live.m.clone();
        m.cib_file = Some(name.to_string());
        let at = self.live.version;
        let c = self.cib(Some(name));
        c.m = m;
        c.copied_at = Some(at);
        c.version += 1;
        c.pushed_at = None;
    }

    /// `pcs cluster cib-push FILE [--config] [diff-against=…]`.
    fn push(&mut self, name: &str, words: &[&str], loc: Loc) {
        let Some(pos) = self.files.iter().position(|(n, _)| n == name) else {
            self.live.m.unparsed(
                loc,
                words,
                format!(
                    "pushes `{name}`, a CIB file this input does not build; lint that file too"
                ),
            );
            return;
        };
        let (_, f) = &mut self.files[pos];
        f.pushed_at = Some(f.version);
        let mut m = f.m.clone();
        m.cib_file = None;
        // Findings already recorded against the cluster stay with it.
        let mut unparsed = std::mem::take(&mut self.live.m.unparsed);
        for u in &m.unparsed {
            if !unparsed.contains(u) {
                unparsed.push(u.clone());
            }
        }
        m.unparsed = unparsed;
        self.live.m = m;
        self.live.version += 1;
    }

    fn finish(mut self, enabled: Vec<EnabledUnit>) -> Vec<Model> {
        let live_version = self.live.version;
        // A copy taken when the cluster had its final content, never pushed,
        // holds all of the cluster: report it instead.
        let live_in_copy = self.files.iter().any(|(_, f)| {
            f.copied_at == Some(live_version) && f.pushed_at.map_or(true, |p| p < f.version)
        });
        let mut out = Vec::new();
        if !live_in_copy && (live_version > 0 || self.files.is_empty()) {
            out.push(std::mem::take(&mut self.live.m));
        }
        for (_, f) in self.files {
            let unpushed = f.pushed_at.map_or(true, |p| p < f.version);
            if unpushed && (f.copied_at.is_none() || f.version > 1 || live_in_copy) {
                out.push(f.m);
            }
        }
        if out.is_empty() {
            out.push(self.live.m);
        }
        for m in &mut out {
            m.enabled_units = enabled.clone();
            m.finish();
        }
        out
    }
}

/// Apply one command to a CIB. `Ok(true)`: the CIB changed; `Ok(false)`:
/// the command changes nothing nfsha models (status, authentication, …).
fn dispatch(m: &mut Model, c: &PcsCmd) -> Outcome {
    let a = c.args();
    let Some((&group, rest)) = a.split_first() else {
        return Ok(false);
    };
    match group {
        "resource" | "stonith" => resource::command(m, c, group == "stonith", rest),
        "constraint" => constraint::command(m, c, rest),
        "property" | "prop" => property(m, c, rest),
        "tag" => tag(m, rest),
        "status" | "config" | "cluster" | "host" | "pcsd" | "quorum" | "node" | "alert" | "acl"
        | "booth" | "dr" | "client" | "qdevice" | "health" | "help" | "--version" => Ok(false),
        other => Err(format!("`pcs {other}` is not a pcs command")),
    }
}

/// `pcs property set k=v …`, `pcs property unset k`, and the displays.
fn property(m: &mut Model, c: &PcsCmd, rest: &[&str]) -> Outcome {
    match rest {
        ["set", kv @ ..] => {
            let pairs: Vec<NvPair> = kv.iter().filter_map(|w| pair(w, &c.loc)).collect();
            if pairs.is_empty() {
                return Err("expected `pcs property set <name>=<value> …`".into());
            }
            for p in pairs {
                set_pair(&mut m.properties, p);
            }
            Ok(true)
        }
        ["unset", names @ ..] => {
            m.properties.retain(|p| !names.contains(&p.name.as_str()));
            Ok(true)
        }
        []
        | ["list"
        | "show"
        | "config"
        | "defaults"
        | "describe"
        | "get_cluster_properties_definition", ..] => Ok(false),
        [other, ..] => Err(format!("`pcs property {other}` is not a property command")),
    }
}

/// `pcs tag create <tag> <id>…`, `pcs tag update <tag> [add …] [remove …]`,
/// `pcs tag delete|remove <tag>…`.
fn tag(m: &mut Model, rest: &[&str]) -> Outcome {
    match rest {
        ["create", t, ids @ ..] if !ids.is_empty() => {
            m.tags
                .insert(t.to_string(), ids.iter().map(|s| s.to_string()).collect());
            Ok(true)
        }
        ["update", t, more @ ..] => {
            let Some(members) = m.tags.get_mut(*t) else {
                return Err(format!("no tag `{t}`"));
            };
            let mut adding = true;
            for w in more {
                match *w {
                    "add" => adding = true,
                    "remove" => adding = false,
                    x if x.starts_with("--") => {}
                    x if adding => members.push(x.to_string()),
                    x => members.retain(|y| y != x),
                }
            }
            Ok(true)
        }
        ["delete" | "remove", ts @ ..] => {
            for t in ts {
                m.tags.remove(*t);
            }
            Ok(true)
        }
        [] | ["config" | "list", ..] => Ok(false),
        _ => Err("expected `pcs tag create|update|delete …`".into()),
    }
}

#[cfg(test)]
mod tests;
