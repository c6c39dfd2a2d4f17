//! crm shell input → [`Model`]: `crm configure show` text, hand-written crm
//! files, and transcripts that run crm (see [`cli`]).
//!
//! Follows crmsh's grammar (`crm.8.adoc`, `crmsh/parse.py`,
//! `crmsh/ui_configure.py`): one object per logical line (backslash
//! continuations), bare agent types meaning `ocf:heartbeat:<type>`,
//! `ms`/`master` as promotable clones, `:Master` / `:Promoted` roles,
//! `inf:`/`Mandatory:` kinds and scores. Statements that change an object
//! after it is defined are applied in order: `modgroup`, `rename`,
//! `delete`/`rm`, `set`, `monitor`, `default-timeouts`, repeated `property`,
//! `rsc_defaults` and `op_defaults` (later values win), `erase`, and
//! `crm resource meta|param|manage|unmanage|start|stop`.
//!
//! Group and clone members are kept by name until the end, as crmsh
//! resolves them at commit: a member may be defined after its group, and a
//! member that never is becomes a [`MissingMember`] (rule NFS001).
//! A statement that cannot be read is recorded as [`Unparsed`] (rule NFS003)
//! and the rest of the input is read on.
//!
//! What crmsh itself adds to a primitive or clone typed as a command
//! depends on its version: see [`completion`] (`nfsha lint --crmsh`).
//!
//! The colocation direction differs between forms: `colocation c inf: A B` is
//! "A with B", but three or more resources form one sequential set in which
//! each is placed with the one before it, the opposite reading.

mod cli;
mod completion;
mod constraints;
mod edits;
mod objects;

use std::sync::Arc;

use super::shell;
use super::*;

pub use completion::{AdvisedOps, Crmsh};

/// One crm statement: its words (each with the line it is on) and the
/// comments directly above it.
#[derive(Debug, Clone, Default)]
pub(super) struct Stmt {
    pub line: u32,
    pub words: Vec<(String, u32)>,
    pub comments: Vec<String>,
    /// Typed at crm (parsed word by word), not loaded from a file: crmsh
    /// completes what is typed ([`completion`]).
    pub typed: bool,
}

impl Stmt {
    fn kw(&self) -> &str {
        self.words.first().map_or("", |w| w.0.as_str())
    }
    fn w(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(|w| w.0.as_str())
    }
    fn strs(&self) -> Vec<&str> {
        self.words.iter().map(|w| w.0.as_str()).collect()
    }
    fn ignores(&self) -> Vec<String> {
        self.comments
            .iter()
            .flat_map(|c| cib::parse_ignore_comment(c))
            .collect()
    }
}

/// Parse crm input. Statements that cannot be read become NFS003 findings;
/// the result is never an error (an input with nothing in it is refused by
/// [`super::input`]).
pub fn parse(text: &str, file: &Arc<str>) -> Result<Model, ParseError> {
    parse_files(&[(text, file.clone())])
}

/// Parse several crm inputs as one stream, in the order given: each
/// statement edits the configuration the files before it built, as when a
/// fence file and a layout file are loaded into one CIB (`crm configure load
/// update`), or a guide's steps are run one after the other. Every statement
/// keeps its own file and line (a group in file 2 may name a primitive of
/// file 1; a member never defined anywhere is NFS001 at its own line).
pub fn parse_files(files: &[(&str, Arc<str>)]) -> Result<Model, ParseError> {
    parse_files_with(files, Crmsh::default())
}

/// [`parse_files`] as applied by a given crmsh.
pub fn parse_files_with(files: &[(&str, Arc<str>)], crmsh: Crmsh) -> Result<Model, ParseError> {
    let mut all = Vec::new();
    let mut enabled = Vec::new();
    let mut starts = Vec::new();
    let mut offset = 0u32;
    for (text, file) in files {
        let mut script = shell::script(text);
        enabled.extend(script.enabled_units(file));
        let mut ops = cli::collect(std::mem::take(&mut script));
        // One line numbering for the stream: this file's lines follow the
        // last line of the one before; `Crm::loc` maps them back.
        for op in &mut ops {
            op.shift(offset);
        }
        starts.push((offset, file.clone()));
        all.extend(ops);
        let lines = u32::try_from(text.lines().count()).unwrap_or(u32::MAX / 2);
        offset = offset.saturating_add(lines).saturating_add(1);
    }
    let mut c = Crm::new(starts, crmsh);
    c.read_templates(&all);
    for op in all {
        match op {
            cli::Op::Configure(s) => c.statement(&s),
            cli::Op::Resource(s) => c.resource_command(&s),
            cli::Op::Erase => c.erase(),
            cli::Op::Unparsed(s, why) => c.unparsed(&s, why),
            cli::Op::Shown(s) => {
                if !s.w(1).is_some_and(|id| c.defined(id)) {
                    c.statement(&s);
                }
            }
        }
    }
    c.m.enabled_units = enabled;
    Ok(c.finish())
}

/// The model being built, with what crm keeps by name until the end.
struct Crm {
    /// The files of the stream, each with the stream line its lines follow.
    files: Vec<(u32, Arc<str>)>,
    /// The crmsh that applies what is typed.
    crmsh: Crmsh,
    m: Model,
    /// `rsc_template` definitions, merged into the primitives that use them.
    templates: HashMap<String, Resource>,
    /// Each group/clone/ms/bundle with its members as written, in order.
    members: Vec<(usize, Vec<(String, u32)>)>,
}

impl Crm {
    fn new(files: Vec<(u32, Arc<str>)>, crmsh: Crmsh) -> Crm {
        Crm {
            files,
            crmsh,
            m: Model {
                has_cluster: true,
                ..Model::default()
            },
            templates: HashMap::new(),
            members: Vec::new(),
        }
    }

    /// The file and line of a line of the stream.
    fn loc(&self, line: u32) -> Loc {
        match self.files.iter().rev().find(|(start, _)| *start < line) {
            Some((start, file)) => Loc::new(file, line - start),
            // Line 0 (no line known): the first file.
            None => self.files.first().map_or_else(
                || Loc::new(&Arc::from(""), line),
                |(_, f)| Loc::new(f, line),
            ),
        }
    }

    fn unparsed(&mut self, s: &Stmt, why: impl Into<String>) {
        let loc = self.loc(s.line);
        self.m.unparsed(loc, &s.strs(), why);
    }

    /// Templates first: a primitive may use a template defined later.
    fn read_templates(&mut self, ops: &[cli::Op]) {
        for op in ops {
            if let cli::Op::Configure(s) = op {
                if s.kw() == "rsc_template" {
                    if let Some(t) = self.primitive(s) {
                        self.m.templates.entry(t.id.clone()).or_default();
                        self.templates.insert(t.id.clone(), t);
                    }
                }
            }
        }
    }

    /// Apply one configure-level statement.
    fn statement(&mut self, s: &Stmt) {
        match s.kw() {
            "primitive" | "resource" => {
                if let Some(mut r) = self.primitive(s) {
                    if self.m.by_id.contains_key(&r.id) {
                        let why = format!("`{}` is already defined; crmsh refuses a second object with one id", r.id);
                        self.unparsed(s, why);
                        return;
                    }
                    r.ignores = s.ignores();
                    if s.typed {
                        completion::primitive(&mut r, self.crmsh, &self.loc(s.line));
                    }
                    self.m.add(r);
                }
            }
            "rsc_template" => {}
            "group" | "clone" | "ms" | "master" | "bundle" => self.container(s),
            "order" => self.order(s),
            "colocation" | "collocation" => self.colocation(s),
            "location" => self.location(s),
            "property" | "rsc_defaults" | "op_defaults" => self.nvset_statement(s),
            "tag" => self.tag(s),
            "monitor" => self.monitor(s),
            "modgroup" => self.modgroup(s),
            "rename" => self.rename(s),
            "delete" | "rm" => self.delete(s),
            "default-timeouts" | "default_timeouts" => self.default_timeouts(s),
            "set" => self.set(s),
            "erase" => self.erase(),
            "filter" => self.unparsed(s, "`filter` runs a program over the configuration; what it changes cannot be known here"),
            "template" => self.unparsed(s, "crmsh configuration templates are not read; lint the configuration they produce (`crm configure show`)"),
            "xml" => self.unparsed(s, "raw XML in crm input is not read; lint the CIB (`cibadmin -Q`) instead"),
            // Objects that do not affect the rules: nodes, tickets, ACLs,
            // fencing topology, alerts.
            "node" | "rsc_ticket" | "fencing_topology" | "fencing-topology" | "alert"
            | "acl_target" | "user" | "role" => {}
            other => {
                let why = format!("`{other}` is not a crm configure statement");
                self.unparsed(s, why);
            }
        }
    }

    /// Whether an object or constraint of this id exists (`show` output
    /// names properties `name:`, never an id in use).
    fn defined(&self, id: &str) -> bool {
        let m = &self.m;
        m.by_id.contains_key(id)
            || m.orders.iter().any(|o| o.id == id)
            || m.colocations.iter().any(|c| c.id == id)
            || m.locations.iter().any(|l| l.id == id)
    }

    /// Start again from an empty configuration (`erase`, `load replace`).
    fn erase(&mut self) {
        let enabled = std::mem::take(&mut self.m.enabled_units);
        let unparsed = std::mem::take(&mut self.m.unparsed);
        self.m = Model {
            has_cluster: true,
            enabled_units: enabled,
            unparsed,
            ..Model::default()
        };
        self.members.clear();
        for id in self.templates.keys() {
            self.m.templates.entry(id.clone()).or_default();
        }
    }

    /// Resolve the members of every group and clone by name, in the order
    /// written, onto the model's parent links. `last`: record the members
    /// that do not exist.
    fn place_members(&mut self, last: bool) {
        for (c, _) in &self.members {
            if self.m.is_removed(*c) {
                continue;
            }
            for k in std::mem::take(&mut self.m.resources[*c].children) {
                self.m.resources[k].parent = None;
            }
        }
        for (c, names) in &self.members {
            let c = *c;
            if self.m.is_removed(c) {
                continue;
            }
            for (name, line) in names {
                match self.m.by_id.get(name).copied() {
                    Some(k)
                        if self.m.resources[k].parent.is_none()
                            && k != c
                            && !self.m.ancestors(c).any(|a| a == k) =>
                    {
                        self.m.resources[k].parent = Some(c);
                        self.m.resources[c].children.push(k);
                    }
                    Some(_) => {}
                    None if last => {
                        let loc = self.loc(*line);
                        self.m.missing_members.push(MissingMember {
                            container: self.m.resources[c].id.clone(),
                            member: name.clone(),
                            loc,
                        });
                    }
                    None => {}
                }
            }
        }
    }

    fn finish(mut self) -> Model {
        self.place_members(true);
        self.m.finish();
        self.m
    }
}

#[cfg(test)]
mod tests;
