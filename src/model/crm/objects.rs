//! crm resource statements: `primitive`, `rsc_template`, `group`, `clone`,
//! `ms`/`master`, `bundle`, `tag`, and the name/value sets `property`,
//! `rsc_defaults`, `op_defaults`.

use super::*;

/// What the attribute sections of a primitive or container hold.
#[derive(Default)]
pub(super) struct Sections {
    pub params: Vec<NvPair>,
    pub meta: Vec<NvPair>,
    pub ops: Vec<Op>,
    /// Words crmsh's grammar has no place for (`--group HA`, a stray name).
    pub stray: Vec<String>,
}

pub(super) fn is_section(w: &str) -> bool {
    matches!(
        w,
        "params" | "meta" | "utilization" | "op" | "op_params" | "op_meta" | "operations"
    )
}

/// `$id=…`, `$id-ref=…`, `@nvpair-ref`, or a score word (`100:`, `inf:`):
/// syntax crmsh accepts in an attribute list that sets no value.
fn is_set_syntax(w: &str) -> bool {
    w.starts_with('$') || w.starts_with('@') || w.ends_with(':')
}

impl Crm {
    /// Read `params … meta … op …` sections from word `start`.
    pub(super) fn sections(&self, s: &Stmt, start: usize) -> Sections {
        let mut out = Sections::default();
        let mut section = "params";
        let mut conditional = false;
        let mut in_rule = false;
        for (w, line) in s.words.iter().skip(start) {
            let loc = self.loc(*line);
            match w.as_str() {
                kw if is_section(kw) => {
                    section = match kw {
                        "params" => "params",
                        "meta" => "meta",
                        "op_meta" | "op_params" => "op",
                        "op" => "op-name",
                        _ => "skip",
                    };
                    conditional = false;
                    in_rule = false;
                }
                "rule" => {
                    conditional = true;
                    in_rule = true;
                }
                _ if section == "op-name" => {
                    out.ops.push(Op::named(w, loc));
                    section = "op";
                }
                _ => match w.split_once('=') {
                    Some((k, v)) if !k.is_empty() && !k.starts_with(['$', '-']) => {
                        in_rule = false;
                        let pair = NvPair {
                            name: k.to_string(),
                            value: v.to_string(),
                            loc,
                            conditional,
                        };
                        match section {
                            "params" if k != "description" => out.params.push(pair),
                            "meta" => out.meta.push(pair),
                            "op" => {
                                if let Some(op) = out.ops.last_mut() {
                                    op.set(k, v);
                                }
                            }
                            _ => {}
                        }
                    }
                    _ if in_rule || section == "skip" || is_set_syntax(w) => {}
                    _ => out.stray.push(w.clone()),
                },
            }
        }
        out
    }

    /// Report words crmsh would refuse, naming pcs options for what they are.
    pub(super) fn report_stray(&mut self, s: &Stmt, stray: &[String]) {
        if stray.is_empty() {
            return;
        }
        let pcs = stray.iter().any(|w| w.starts_with("--"));
        let why = if pcs {
            format!(
                "`{}` is pcs syntax, not crm: crmsh refuses this statement (put the resource in a group with `group <id> <members>` or `modgroup`)",
                stray.join(" ")
            )
        } else {
            format!(
                "crmsh does not accept `{}` here (expected params, meta, op, utilization or key=value)",
                stray.join(" ")
            )
        };
        self.unparsed(s, why);
    }

    /// `primitive <id> {<class>:[<provider>:]<type>|@<template>} …` (also
    /// `rsc_template`). `None` when the statement is incomplete (recorded).
    pub(super) fn primitive(&mut self, s: &Stmt) -> Option<Resource> {
        let (Some(id), Some(ty)) = (s.w(1), s.w(2)) else {
            self.unparsed(
                s,
                format!(
                    "`{}` needs an id and an agent (class:provider:type) or @template",
                    s.kw()
                ),
            );
            return None;
        };
        let (id, ty) = (id.to_string(), ty.to_string());
        let sec = self.sections(s, 3);
        self.report_stray(s, &sec.stray);
        let mut r = Resource {
            params: sec.params,
            meta: sec.meta,
            ops: sec.ops,
            ..Resource::new(&id, Kind::Primitive(Agent::default()), self.loc(s.line))
        };
        if let Some(t) = ty.strip_prefix('@') {
            r.template = Some(t.to_string());
            match self.templates.get(t) {
                Some(tpl) => {
                    r.kind = tpl.kind.clone();
                    r.inherit(&tpl.params, &tpl.meta, &tpl.ops);
                }
                None => {
                    let why = format!("the template `{t}` is not defined");
                    self.unparsed(s, why);
                }
            }
        } else {
            r.kind = Kind::Primitive(Agent::parse(&ty));
        }
        r.rename_legacy_meta();
        r.promotable_from_meta();
        Some(r)
    }

    /// `group|clone|ms|master|bundle <id> <members…> [meta …] [params …]`.
    pub(super) fn container(&mut self, s: &Stmt) {
        let kw = s.kw();
        let Some(id) = s.w(1).map(str::to_string) else {
            self.unparsed(s, format!("`{kw}` needs an id and its members"));
            return;
        };
        let kind = match kw {
            "group" => Kind::Group,
            "clone" => Kind::Clone { promotable: false },
            "bundle" => Kind::Bundle,
            _ => Kind::Clone { promotable: true },
        };
        let mut members: Vec<(String, u32)> = Vec::new();
        let mut i = 2;
        if kw == "bundle" {
            // `bundle id docker … network … storage … primitive <id>`: only
            // the primitive is a member.
            if let Some(p) = s.words.iter().position(|w| w.0 == "primitive") {
                if let Some(m) = s.words.get(p + 1) {
                    members.push(m.clone());
                }
            }
            i = s.words.len();
        }
        while i < s.words.len() {
            let w = &s.words[i].0;
            if is_section(w) || w.contains('=') {
                break;
            }
            members.push(s.words[i].clone());
            i += 1;
        }
        if members.is_empty() && kw != "bundle" {
            self.unparsed(s, format!("`{kw} {id}` names no members"));
            return;
        }
        if matches!(kw, "clone" | "ms" | "master") && members.len() > 1 {
            let why = format!("a {kw} holds exactly one resource, not {}", members.len());
            self.unparsed(s, why);
        }
        if self.m.by_id.contains_key(&id) {
            let why =
                format!("`{id}` is already defined; crmsh refuses a second object with one id");
            self.unparsed(s, why);
            return;
        }
        let sec = self.sections(s, i);
        self.report_stray(s, &sec.stray);
        let mut r = Resource {
            params: sec.params,
            meta: sec.meta,
            ignores: s.ignores(),
            ..Resource::new(&id, kind, self.loc(s.line))
        };
        r.rename_legacy_meta();
        if s.typed && kw == "clone" {
            let member = members
                .first()
                .and_then(|(name, _)| self.m.get(name))
                .and_then(Resource::agent);
            completion::clone(&mut r, member, self.crmsh, &self.loc(s.line));
        }
        r.promotable_from_meta();
        let idx = self.m.add(r);
        self.members.push((idx, members));
    }

    /// `tag <id>: <rsc> …` or `tag <id> <rsc> …`.
    pub(super) fn tag(&mut self, s: &Stmt) {
        let Some(id) = s.w(1) else {
            self.unparsed(s, "`tag` needs an id and its members");
            return;
        };
        let id = id.trim_end_matches(':').to_string();
        let members: Vec<String> = s.words[2..].iter().map(|(w, _)| w.clone()).collect();
        if members.is_empty() {
            self.unparsed(s, format!("`tag {id}` names no members"));
            return;
        }
        self.m.tags.insert(id, members);
    }

    /// `property|rsc_defaults|op_defaults [$id=…|<set>:] [rule …] k=v …`.
    /// A later value replaces an earlier one of the same name, as crmsh
    /// merges repeated statements into one set.
    pub(super) fn nvset_statement(&mut self, s: &Stmt) {
        let conditional = s.words.iter().any(|(w, _)| w == "rule");
        let mut pairs = Vec::new();
        for (w, line) in &s.words[1..] {
            match w.split_once('=') {
                Some((k, v)) if !k.is_empty() && !k.starts_with('$') => pairs.push(NvPair {
                    name: k.to_string(),
                    value: v.to_string(),
                    loc: self.loc(*line),
                    conditional,
                }),
                _ => {}
            }
        }
        if pairs.is_empty() {
            self.unparsed(
                s,
                format!("`{}` sets nothing (expected name=value)", s.kw()),
            );
            return;
        }
        let list = match s.kw() {
            "property" => &mut self.m.properties,
            "rsc_defaults" => &mut self.m.rsc_defaults,
            _ => &mut self.m.op_defaults,
        };
        for p in pairs {
            if !p.conditional {
                list.retain(|x| x.name != p.name || x.conditional);
            }
            list.push(p);
        }
    }
}
