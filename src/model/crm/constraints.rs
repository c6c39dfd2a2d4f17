//! crm constraints: `order`, `colocation`/`collocation`, `location`.

use crate::formats::bools;

use super::*;

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
fn score_word(s: &Stmt) -> (Option<String>, usize) {
    match s.w(2) {
        Some(w) if w.ends_with(':') => (Some(w.trim_end_matches(':').to_string()), 3),
        _ => (None, 2),
    }
}

impl Crm {
    pub(super) fn order(&mut self, s: &Stmt) {
        let Some(id) = s.w(1).map(str::to_string) else {
            self.unparsed(s, "`order` needs an id, a kind or score, and the resources");
            return;
        };
        let (score, start) = score_word(s);
        let kind = match score.as_deref() {
            None => OrderKind::Mandatory,
            Some(k) => {
                match OrderKind::parse(k).or_else(|| parse_score(k).map(OrderKind::from_score)) {
                    Some(kind) => kind,
                    None => {
                        let why = format!("order {id}: expected a kind (Mandatory, Optional, Serialize) or a score before the resources, found {k:?}");
                        self.unparsed(s, why);
                        return;
                    }
                }
            }
        };
        let r = refs(&s.words[start..], true);
        let symmetrical = r
            .options
            .iter()
            .find(|(k, _)| k == "symmetrical")
            .and_then(|(_, v)| bools::pacemaker(v));
        // `order o Mandatory: a:promote b` sets only first-action; the then
        // side's action stays absent so the Pacemaker default applies.
        let (sets, simple) = r.into_sets();
        if sets.iter().map(|x| x.resources.len()).sum::<usize>() < 2 {
            self.unparsed(s, format!("order {id}: expected at least two resources"));
            return;
        }
        self.m.ignore_for_constraint(&id, s.ignores());
        self.m.orders.push(Order {
            id,
            kind,
            symmetrical,
            sets,
            simple,
            loc: self.loc(s.line),
        });
    }

    pub(super) fn colocation(&mut self, s: &Stmt) {
        let Some(id) = s.w(1).map(str::to_string) else {
            self.unparsed(s, "`colocation` needs an id, a score and the resources");
            return;
        };
        let (score, start) = score_word(s);
        let score = match score.as_deref() {
            None => INFINITY,
            Some(x) => match parse_score(x) {
                Some(v) => v,
                None => {
                    let why = format!("colocation {id}: expected a score (inf, -inf, a number) before the resources, found {x:?}");
                    self.unparsed(s, why);
                    return;
                }
            },
        };
        let (sets, simple) = refs(&s.words[start..], false).into_sets();
        if sets.iter().map(|x| x.resources.len()).sum::<usize>() < 2 {
            self.unparsed(
                s,
                format!("colocation {id}: expected at least two resources after the score"),
            );
            return;
        }
        self.m.ignore_for_constraint(&id, s.ignores());
        self.m.colocations.push(Colocation {
            id,
            score,
            sets,
            simple,
            loc: self.loc(s.line),
        });
    }

    /// `location <id> <rsc> [role=…] [resource-discovery=…] {<score>: <node> | rule …}`.
    pub(super) fn location(&mut self, s: &Stmt) {
        let (Some(id), Some(rsc)) = (s.w(1), s.w(2)) else {
            self.unparsed(
                s,
                "`location` needs an id, a resource and a score with a node or a rule",
            );
            return;
        };
        let (id, rsc) = (id.to_string(), rsc.to_string());
        self.m.ignore_for_constraint(&id, s.ignores());
        if rsc.starts_with(['/', '~', '(', '[', '{']) {
            return; // a pattern or a set: no single resource to check
        }
        let mut l = Location::new(&id, &rsc, self.loc(s.line));
        let rest: Vec<&str> = s.strs()[3..]
            .iter()
            .copied()
            .filter(|w| !w.contains('='))
            .collect();
        match rest.as_slice() {
            ["rule", ..] => l.rule = true,
            [score, node, ..] if score.ends_with(':') => {
                l.score = parse_score(score.trim_end_matches(':'));
                l.node = Some(node.to_string());
                l.rule = rest.contains(&"rule");
            }
            _ => l.rule = rest.contains(&"rule"),
        }
        self.m.locations.push(l);
    }
}
