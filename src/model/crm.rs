//! `crm configure show` text → [`Model`].
//!
//! Follows crmsh's grammar (`crm.8.adoc`, `crmsh/parse.py`): one object per
//! logical line (backslash continuations), bare agent types meaning
//! `ocf:heartbeat:<type>`, `ms`/`master` as promotable clones, `:Master` /
//! `:Promoted` roles, `inf:`/`Mandatory:` kinds and scores. The colocation
//! direction differs between forms: `colocation c inf: A B` is "A with B",
//! but three or more resources form one sequential set in which each is
//! placed with the one before it, the opposite reading.

use crate::formats::bools;
use std::sync::Arc;

use super::words::{logical_lines, Logical};
use super::*;

pub fn parse(text: &str, file: &Arc<str>) -> Result<Model, ParseError> {
    let mut m = Model {
        has_cluster: true,
        ..Model::default()
    };
    let mut pending_children: Vec<(usize, Vec<String>)> = Vec::new();
    let mut templates: HashMap<String, Resource> = HashMap::new();
    let lines = logical_lines(text, false);
    // Templates first, as primitives may use a template defined later.
    for l in &lines {
        if l.words[0].0 == "rsc_template" {
            if let Some(t) = primitive(l, file, &templates)? {
                templates.insert(t.id.clone(), t);
            }
        }
    }
    for id in templates.keys() {
        m.templates.entry(id.clone()).or_default();
    }
    for l in &lines {
        let kw = l.words[0].0.as_str();
        let ignores: Vec<String> = l
            .comments
            .iter()
            .flat_map(|c| cib::parse_ignore_comment(c))
            .collect();
        match kw {
            "primitive" => {
                if let Some(mut r) = primitive(l, file, &templates)? {
                    r.ignores = ignores;
                    m.add(r);
                }
            }
            "group" | "clone" | "ms" | "master" | "bundle" => {
                let id = word(l, 1, file, "a resource id")?;
                let kind = match kw {
                    "group" => Kind::Group,
                    "clone" => Kind::Clone { promotable: false },
                    "bundle" => Kind::Bundle,
                    _ => Kind::Clone { promotable: true },
                };
                let mut children = Vec::new();
                let mut i = 2;
                while i < l.words.len() && !is_section(&l.words[i].0) && !l.words[i].0.contains('=')
                {
                    children.push(l.words[i].0.clone());
                    i += 1;
                }
                let (params, meta, _) = sections(l, i, file);
                let mut r = Resource {
                    params,
                    meta,
                    ignores,
                    ..Resource::new(&id, kind, Loc::new(file, l.line))
                };
                normalise_meta(&mut r);
                let idx = m.add(r);
                if kw != "bundle" {
                    pending_children.push((idx, children));
                }
            }
            "order" => {
                let o = order(l, file)?;
                m.ignore_for_constraint(&o.id, ignores);
                m.orders.push(o);
            }
            "colocation" | "collocation" => {
                let c = colocation(l, file)?;
                m.ignore_for_constraint(&c.id, ignores);
                m.colocations.push(c);
            }
            "location" => {
                let id = word(l, 1, file, "a constraint id")?;
                let rsc = word(l, 2, file, "a resource id")?;
                m.locations.push(Location {
                    id,
                    rsc,
                    loc: Loc::new(file, l.line),
                });
            }
            "property" | "rsc_defaults" | "op_defaults" => {
                let pairs = nvpairs(&l.words[1..], file);
                match kw {
                    "property" => m.properties.extend(pairs),
                    "rsc_defaults" => m.rsc_defaults.extend(pairs),
                    _ => m.op_defaults.extend(pairs),
                }
            }
            "tag" => {
                let id = word(l, 1, file, "a tag id")?;
                let id = id.trim_end_matches(':').to_string();
                let members = l.words[2..].iter().map(|(w, _)| w.clone()).collect();
                m.tags.insert(id, members);
            }
            // Objects that do not affect the rules: nodes, tickets, ACLs,
            // fencing topology, alerts, raw xml, templates (handled above).
            _ => {}
        }
    }
    // Containers may be written before their members (crmsh prints
    // primitives first, but hand-written files vary): attach afterwards.
    for (parent, children) in pending_children {
        for c in children {
            match m.by_id.get(&c) {
                Some(&ci)
                    if m.resources[ci].parent.is_none()
                        && ci != parent
                        && !m.ancestors(parent).any(|a| a == ci) =>
                {
                    m.resources[ci].parent = Some(parent);
                    m.resources[parent].children.push(ci);
                }
                _ => {}
            }
        }
    }
    m.finish();
    Ok(m)
}

fn word(l: &Logical, i: usize, file: &Arc<str>, what: &str) -> Result<String, ParseError> {
    l.words.get(i).map(|(w, _)| w.clone()).ok_or_else(|| {
        ParseError::new(
            file,
            l.line,
            format!(
                "`{}` is incomplete: expected {what} as word {}",
                l.words[0].0,
                i + 1
            ),
        )
    })
}

fn is_section(w: &str) -> bool {
    matches!(
        w,
        "params"
            | "meta"
            | "utilization"
            | "op"
            | "op_params"
            | "op_meta"
            | "operations"
            | "description"
    )
}

fn nvpairs(words: &[(String, u32)], file: &Arc<str>) -> Vec<NvPair> {
    let conditional = words.iter().any(|(w, _)| w == "rule");
    words
        .iter()
        .filter_map(|(w, line)| {
            let (k, v) = w.split_once('=')?;
            if k.starts_with('$') || k.is_empty() {
                return None;
            }
            Some(NvPair {
                name: k.to_string(),
                value: v.to_string(),
                loc: Loc::new(file, *line),
                conditional,
            })
        })
        .collect()
}

/// Read `params … meta … op …` sections from word `start`.
fn sections(l: &Logical, start: usize, file: &Arc<str>) -> (Vec<NvPair>, Vec<NvPair>, Vec<Op>) {
    let mut params = Vec::new();
    let mut meta = Vec::new();
    let mut ops: Vec<Op> = Vec::new();
    let mut section = "params";
    let mut conditional = false;
    let mut i = start;
    while i < l.words.len() {
        let (w, line) = (&l.words[i].0, l.words[i].1);
        match w.as_str() {
            "params" | "meta" | "utilization" | "op_params" | "op_meta" | "operations" => {
                section = match w.as_str() {
                    "params" => "params",
                    "meta" => "meta",
                    "op_meta" => "op_meta",
                    _ => "skip",
                };
                conditional = false;
            }
            "op" => {
                let name = l.words.get(i + 1).map_or("", |x| x.0.as_str());
                ops.push(Op::named(name, Loc::new(file, line)));
                section = "op";
                i += 1;
            }
            "rule" => conditional = true,
            _ => {
                if let Some((k, v)) = w.split_once('=') {
                    if !k.starts_with('$') && !k.is_empty() {
                        let pair = NvPair {
                            name: k.to_string(),
                            value: v.to_string(),
                            loc: Loc::new(file, line),
                            conditional,
                        };
                        match section {
                            "params" if k != "description" => params.push(pair),
                            "meta" => meta.push(pair),
                            "op" | "op_meta" => {
                                if let Some(op) = ops.last_mut() {
                                    op.set(k, v);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        i += 1;
    }
    (params, meta, ops)
}

fn normalise_meta(r: &mut Resource) {
    r.rename_legacy_meta();
    r.promotable_from_meta();
}

fn primitive(
    l: &Logical,
    file: &Arc<str>,
    templates: &HashMap<String, Resource>,
) -> Result<Option<Resource>, ParseError> {
    let id = word(l, 1, file, "a resource id")?;
    let ty = word(l, 2, file, "an agent (class:provider:type) or @template")?;
    let (params, meta, ops) = sections(l, 3, file);
    let mut r = Resource {
        params,
        meta,
        ops,
        ..Resource::new(
            &id,
            Kind::Primitive(Agent::default()),
            Loc::new(file, l.line),
        )
    };
    if let Some(t) = ty.strip_prefix('@') {
        r.template = Some(t.to_string());
        if let Some(tpl) = templates.get(t) {
            r.kind = tpl.kind.clone();
            r.inherit(&tpl.params, &tpl.meta, &tpl.ops);
        }
    } else {
        r.kind = Kind::Primitive(Agent::parse(&ty));
    }
    normalise_meta(&mut r);
    Ok(Some(r))
}

/// Words of a constraint after `id` and the score: resources (with
/// brackets) until the first `key=value` option.
struct Refs {
    sets: Vec<RscSet>,
    bracketed: bool,
    options: Vec<(String, String)>,
}

impl Refs {
    /// Two resources without brackets (`a b`, `a:promote b`) are a simple
    /// constraint: each becomes a one-member set with its own action or role
    /// (none where it has no suffix, so the Pacemaker default applies).
    /// Anything else stays as the sets crmsh would make. Returns the sets
    /// and whether they are a simple pair.
    fn into_sets(self) -> (Vec<RscSet>, bool) {
        let simple =
            !self.bracketed && self.sets.iter().map(|s| s.resources.len()).sum::<usize>() == 2;
        if !simple {
            return (self.sets, false);
        }
        let sets = self
            .sets
            .iter()
            .flat_map(|s| s.resources.iter().map(|x| RscSet::one(x, s.action, s.role)))
            .collect();
        (sets, true)
    }
}

/// Split constraint references into sets the way crmsh does: a bare list is
/// one sequential set, `( … )` a non-sequential set, `[ … ]` non-sequential
/// with require-all=false, and a change of action/role suffix starts a new set.
fn refs(words: &[(String, u32)], is_order: bool) -> Refs {
    let mut sets: Vec<RscSet> = Vec::new();
    let mut options = Vec::new();
    let mut bracketed = false;
    let mut open: Option<char> = None;
    let mut cur: Option<RscSet> = None;
    let mut toks: Vec<String> = Vec::new();
    for (w, _) in words {
        // Brackets may be glued to names: `(a`, `b)`.
        let mut s = w.as_str();
        while let Some(rest) = s.strip_prefix(['(', '[']) {
            toks.push(s[..1].to_string());
            s = rest;
        }
        let mut tail = Vec::new();
        while let Some(rest) = s.strip_suffix([')', ']']) {
            tail.push(s[s.len() - 1..].to_string());
            s = rest;
        }
        if !s.is_empty() {
            toks.push(s.to_string());
        }
        toks.extend(tail.into_iter().rev());
    }
    let flush = |sets: &mut Vec<RscSet>, cur: &mut Option<RscSet>| {
        if let Some(c) = cur.take() {
            if !c.resources.is_empty() {
                sets.push(c);
            }
        }
    };
    for t in toks {
        match t.as_str() {
            "(" | "[" => {
                flush(&mut sets, &mut cur);
                bracketed = true;
                open = t.chars().next();
                cur = Some(RscSet {
                    id: None,
                    resources: Vec::new(),
                    sequential: false,
                    require_all: open != Some('['),
                    action: None,
                    role: None,
                });
            }
            ")" | "]" => {
                flush(&mut sets, &mut cur);
                open = None;
            }
            _ if t.contains('=') => {
                let (k, v) = t.split_once('=').unwrap_or_default();
                if open.is_some() && k == "sequential" {
                    if let Some(c) = cur.as_mut() {
                        c.sequential = bools::pacemaker(v).unwrap_or(false);
                    }
                } else if open.is_some() && k == "require-all" {
                    if let Some(c) = cur.as_mut() {
                        c.require_all = bools::pacemaker(v).unwrap_or(true);
                    }
                } else {
                    options.push((k.to_string(), v.to_string()));
                }
            }
            _ => {
                let (name, suffix) = match t.split_once(':') {
                    Some((n, s)) => (n.to_string(), Some(s.to_string())),
                    None => (t.clone(), None),
                };
                let (action, role) = match &suffix {
                    Some(s) if is_order => (Action::parse(s), None),
                    Some(s) => (None, Role::parse(s)),
                    None => (None, None),
                };
                let same = cur
                    .as_ref()
                    .is_some_and(|c| open.is_some() || (c.action == action && c.role == role));
                if !same {
                    flush(&mut sets, &mut cur);
                    cur = Some(RscSet {
                        id: None,
                        resources: Vec::new(),
                        sequential: true,
                        require_all: true,
                        action,
                        role,
                    });
                }
                let c = cur.as_mut().expect("set just ensured");
                if c.resources.is_empty() {
                    c.action = action;
                    c.role = role;
                }
                c.resources.push(name);
            }
        }
    }
    flush(&mut sets, &mut cur);
    Refs {
        sets,
        bracketed,
        options,
    }
}

/// `inf:`, `Mandatory:`, `100:` — the optional word before the references.
fn score_word(l: &Logical) -> (Option<String>, usize) {
    match l.words.get(2) {
        Some((w, _)) if w.ends_with(':') => (Some(w.trim_end_matches(':').to_string()), 3),
        _ => (None, 2),
    }
}

fn order(l: &Logical, file: &Arc<str>) -> Result<Order, ParseError> {
    let id = word(l, 1, file, "an order id")?;
    let (score, start) = score_word(l);
    let kind = match score.as_deref() {
        None => OrderKind::Mandatory,
        Some(s) => OrderKind::parse(s)
            .or_else(|| parse_score(s).map(OrderKind::from_score))
            .ok_or_else(|| ParseError::new(file, l.line, format!("order {id}: expected a kind (Mandatory, Optional, Serialize) or a score before the resources, found {s:?}")))?,
    };
    let r = refs(&l.words[start..], true);
    let symmetrical = r
        .options
        .iter()
        .find(|(k, _)| k == "symmetrical")
        .and_then(|(_, v)| bools::pacemaker(v));
    // `order o Mandatory: a:promote b` sets only first-action; the then
    // side's action stays absent so the Pacemaker default applies.
    let (sets, simple) = r.into_sets();
    if sets.is_empty() {
        return Err(ParseError::new(
            file,
            l.line,
            format!("order {id}: expected at least two resources"),
        ));
    }
    Ok(Order {
        id,
        kind,
        symmetrical,
        sets,
        simple,
        loc: Loc::new(file, l.line),
    })
}

fn colocation(l: &Logical, file: &Arc<str>) -> Result<Colocation, ParseError> {
    let id = word(l, 1, file, "a colocation id")?;
    let (score, start) = score_word(l);
    let score = score.as_deref().and_then(parse_score).unwrap_or(INFINITY);
    let (sets, simple) = refs(&l.words[start..], false).into_sets();
    if sets.is_empty() {
        return Err(ParseError::new(
            file,
            l.line,
            format!("colocation {id}: expected at least two resources after the score"),
        ));
    }
    Ok(Colocation {
        id,
        score,
        sets,
        simple,
        loc: Loc::new(file, l.line),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUSE: &str = r#"node 1: alice
primitive drbd-nfs ocf:linbit:drbd \
	params drbd_resource=nfs \
	op monitor interval=15 role=Promoted \
	op monitor interval=30 role=Unpromoted
primitive fs-nfs-state Filesystem \
	params device="/dev/drbd0" directory="/var/lib/nfs" fstype=ext4 \
	op monitor timeout=40s interval=20s
primitive nfsserver nfsserver \
	params nfs_server_scope=SUSE
group g-nfs fs-nfs-state nfsserver
clone cl-drbd-nfs drbd-nfs \
	meta promotable=true promoted-max=1 notify=true
colocation col-nfs-on-drbd inf: g-nfs cl-drbd-nfs:Promoted
order o-drbd-before-nfs Mandatory: cl-drbd-nfs:promote g-nfs:start
order o-trap inf: cl-drbd-nfs:promote g-nfs
colocation c3 inf: a b c
property cib-bootstrap-options: \
	stonith-enabled=true
"#;

    #[test]
    fn reads_the_suse_layout() {
        let m = parse(SUSE, &Arc::from("x.crm")).unwrap();
        let fs = m.by_id["fs-nfs-state"];
        assert_eq!(m.param(fs, "directory").unwrap().value, "/var/lib/nfs");
        assert_eq!(m.param(fs, "directory").unwrap().loc.line, 7);
        assert_eq!(
            m.resources[fs].ops[0].timeout,
            Some(Duration::from_secs(40))
        );
        assert_eq!(m.group_of(fs), Some(m.by_id["g-nfs"]));
        assert_eq!(
            m.get("cl-drbd-nfs").unwrap().kind,
            Kind::Clone { promotable: true }
        );
        let p = m.colocations[0].pairs();
        assert_eq!(
            (
                p[0].dependent.as_str(),
                p[0].primary.as_str(),
                p[0].primary_role
            ),
            ("g-nfs", "cl-drbd-nfs", Role::Promoted)
        );
        assert_eq!(m.orders[0].actions(), vec![Action::Promote, Action::Start]);
        assert_eq!(
            m.orders[1].actions(),
            vec![Action::Promote, Action::Promote]
        );
        // Three or more: one sequential set, b with a and c with b.
        let p3 = m.colocations[1].pairs();
        assert_eq!(
            (p3[0].dependent.as_str(), p3[0].primary.as_str()),
            ("b", "a")
        );
        assert_eq!(m.property("stonith-enabled").unwrap().value, "true");
    }

    #[test]
    fn sets_in_brackets() {
        let m = parse("order o Mandatory: a ( b c ) d:start\n", &Arc::from("x")).unwrap();
        let o = &m.orders[0];
        assert_eq!(o.sets.len(), 3);
        assert!(!o.sets[1].sequential);
        assert!(!o.simple);
    }

    #[test]
    fn incomplete_objects_are_errors_with_lines() {
        let e = parse("\n\norder\n", &Arc::from("x")).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("expected an order id"));
    }
}
