//! `pcs constraint …`: `order [action] A then [action] B [options]`,
//! `order set …`, `colocation add [role] A with [role] B [score] [options]`
//! and pcs 0.9's `colocation add A B [score]` (no `with`), `colocation set`,
//! `location A prefers|avoids node[=score]…`, `location add`, `location A
//! rule …`, and `delete|remove <id>…` (also per kind).
//!
//! Unlike crm, pcs always writes both order actions, defaulting each to
//! `start`. pcs refuses a constraint on a resource inside a clone unless
//! `--force` is given ("you should use the clone id"); such a command is
//! reported and not applied. A constraint naming a resource that does not
//! exist is kept, so rule NFS001 names it.

use crate::formats::bools;

use super::super::*;
use super::commands::{Outcome, PcsCmd};

pub(super) fn command(m: &mut Model, c: &PcsCmd, rest: &[&str]) -> Outcome {
    // pcs 0.11 `--output-format=cmd` writes `resource%<id>` for resources.
    if rest.iter().any(|w| w.starts_with("regexp%")) {
        return Ok(false); // a pattern names no one resource to check
    }
    let stripped: Vec<&str> = rest
        .iter()
        .map(|w| w.strip_prefix("resource%").unwrap_or(w))
        .collect();
    let rest = stripped.as_slice();
    match rest {
        ["order", "set", more @ ..] => order_set(m, c, more),
        ["order", "remove" | "delete", ids @ ..] => remove_by_resource(m, ids, Kind::Order),
        ["order", "config" | "show" | "list"] | ["order"] => Ok(false),
        ["order", more @ ..] => order(m, c, more),
        ["colocation", "set", more @ ..] => colocation_set(m, c, more),
        ["colocation", "add", more @ ..] => colocation(m, c, more),
        ["colocation", "remove" | "delete", ids @ ..] => {
            remove_by_resource(m, ids, Kind::Colocation)
        }
        ["colocation", ..] => Ok(false),
        ["location", "add", id, rsc, node, score, ..] => {
            check_member(m, c, rsc)?;
            let mut l = Location::new(id, rsc, c.loc.clone());
            l.node = Some(node.to_string());
            l.score = parse_score(score);
            m.locations.push(l);
            m.ignore_for_constraint(id, c.ignores.clone());
            Ok(true)
        }
        ["location", "remove" | "delete", ids @ ..] => {
            for id in ids {
                m.delete_constraint(id);
            }
            Ok(true)
        }
        ["location", "config" | "show" | "list", ..] | ["location"] => Ok(false),
        ["location", rsc, kind @ ("prefers" | "avoids"), nodes @ ..] => {
            location_nodes(m, c, rsc, *kind == "avoids", nodes)
        }
        ["location", rsc, "rule", ..] => {
            check_member(m, c, rsc)?;
            let id = c
                .args
                .iter()
                .find_map(|w| w.strip_prefix("id="))
                .map_or_else(|| format!("location-{rsc}"), str::to_string);
            let mut l = Location::new(&id, rsc, c.loc.clone());
            l.rule = true;
            m.locations.push(l);
            Ok(true)
        }
        ["delete" | "remove", ids @ ..] if !ids.is_empty() => {
            for id in ids {
                if !m.delete_constraint(id) {
                    return Err(format!("no constraint `{id}`"));
                }
            }
            Ok(true)
        }
        ["rule", ..]
        | ["ref", ..]
        | ["ticket", ..]
        | ["list" | "show" | "config" | "all", ..]
        | [] => Ok(false),
        [other, ..] => Err(format!(
            "`pcs constraint {other}` is not a constraint command nfsha reads"
        )),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Order,
    Colocation,
}

/// pcs refuses, without `--force`, a constraint on a primitive or group
/// inside a clone (pcs `_prepare_constraint_resource`, and the
/// `RESOURCE_FOR_CONSTRAINT_IS_MULTIINSTANCE` report since 0.10).
fn check_member(m: &Model, c: &PcsCmd, id: &str) -> Result<(), String> {
    if c.has("--force") {
        return Ok(());
    }
    let Some(&i) = m.by_id.get(id) else {
        return Ok(());
    };
    match m.clone_of(i) {
        Some(cl) => Err(format!(
            "`{id}` is in clone `{0}`: pcs refuses this constraint without --force (use `{0}`), so it does not exist",
            m.resources[cl].id
        )),
        None => Ok(()),
    }
}

/// The value of `key=` among the trailing words.
fn opt<'a>(opts: &'a [(String, String)], key: &str) -> Option<&'a str> {
    opts.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn options(words: &[&str]) -> Vec<(String, String)> {
    words
        .iter()
        .filter_map(|t| {
            t.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// A constraint's id: the one written (`id=…`), else the one pcs generates.
/// The rule codes of an inline ignore comment are recorded against it.
fn constraint_id(
    m: &mut Model,
    given: Option<&str>,
    generated: String,
    ignores: &[String],
) -> String {
    let id = given.map_or(generated, str::to_string);
    m.ignore_for_constraint(&id, ignores.to_vec());
    id
}

/// `order [action] <A> then [action] <B> [kind=…] [symmetrical=…] [id=…]`.
fn order(m: &mut Model, c: &PcsCmd, words: &[&str]) -> Outcome {
    let words: Vec<&str> = words.iter().copied().filter(|x| *x != "add").collect();
    let Some(then_pos) = words.iter().position(|x| *x == "then") else {
        return Err(
            "expected `pcs constraint order [action] <resource> then [action] <resource>`".into(),
        );
    };
    let side = |s: &[&str]| -> Option<(Option<Action>, String, usize)> {
        match s {
            [act, r, ..] if Action::parse(act).is_some() => {
                Some((Action::parse(act), r.to_string(), 2))
            }
            [r, ..] => Some((None, r.to_string(), 1)),
            [] => None,
        }
    };
    let (lhs, rhs) = (&words[..then_pos], &words[then_pos + 1..]);
    let (Some((fa, first, _)), Some((ta, then, used))) = (side(lhs), side(rhs)) else {
        return Err("expected a resource on both sides of `then`".into());
    };
    if rhs[used..].contains(&"then") {
        return Err(
            "more than one `then`: pcs needs `constraint order set` for more than two resources"
                .into(),
        );
    }
    check_member(m, c, &first)?;
    check_member(m, c, &then)?;
    let trailing = &rhs[used..];
    let opts = options(trailing);
    let kind = opt(&opts, "kind")
        .and_then(OrderKind::parse)
        .or_else(|| {
            opt(&opts, "score")
                .and_then(parse_score)
                .map(OrderKind::from_score)
        })
        .unwrap_or(OrderKind::Mandatory);
    let symmetrical = opt(&opts, "symmetrical")
        .and_then(bools::pacemaker)
        .or_else(|| {
            // pcs 0.9 also takes bare `symmetrical` / `nonsymmetrical`.
            trailing.iter().find_map(|w| match *w {
                "symmetrical" => Some(true),
                "nonsymmetrical" => Some(false),
                _ => None,
            })
        });
    let suffix = opt(&opts, "kind").unwrap_or("mandatory");
    let id = constraint_id(
        m,
        opt(&opts, "id"),
        format!("order-{first}-{then}-{suffix}"),
        &c.ignores,
    );
    m.orders.push(Order {
        id,
        kind,
        symmetrical,
        sets: vec![
            RscSet::one(&first, Some(fa.unwrap_or(Action::Start)), None),
            RscSet::one(&then, Some(ta.unwrap_or(Action::Start)), None),
        ],
        simple: true,
        loc: c.loc.clone(),
    });
    Ok(true)
}

/// `colocation add [role] <A> with [role] <B> [score] [options] [id=…]`, and
/// pcs 0.9's deprecated `colocation add <A> <B> [score] [options]`.
fn colocation(m: &mut Model, c: &PcsCmd, words: &[&str]) -> Outcome {
    let is_score_or_opt = |w: &str| w.contains('=') || parse_score(w).is_some();
    let (rr, rsc, wr, with, tail) = match words.iter().position(|x| *x == "with") {
        Some(p) => {
            let (l, r) = (&words[..p], &words[p + 1..]);
            let (rr, rsc) = match l {
                [role, rsc] if Role::parse(role).is_some() => (Role::parse(role), *rsc),
                [rsc] => (None, *rsc),
                _ => return Err("expected `[role] <resource> with [role] <resource>`".into()),
            };
            let (wr, with, used) = match r {
                [role, w, ..] if Role::parse(role).is_some() && !is_score_or_opt(w) => {
                    (Role::parse(role), *w, 2)
                }
                [w, ..] => (None, *w, 1),
                [] => return Err("expected a resource after `with`".into()),
            };
            if r[used..].contains(&"with") {
                return Err("more than one `with`: pcs needs `constraint colocation set` for more than two resources".into());
            }
            (rr, rsc, wr, with, &r[used..])
        }
        None => match words {
            [a, b, tail @ ..] if !is_score_or_opt(b) => (None, *a, None, *b, tail),
            _ => return Err("expected `[role] <resource> with [role] <resource> [score]`".into()),
        },
    };
    check_member(m, c, rsc)?;
    check_member(m, c, with)?;
    let (mut rr, mut wr) = (rr, wr);
    let mut score = INFINITY;
    let mut given_id = None;
    for t in tail {
        match t.split_once('=') {
            Some(("score", v)) => {
                score = parse_score(v).ok_or_else(|| format!("`{v}` is not a score"))?
            }
            Some(("rsc-role", v)) => rr = Role::parse(v),
            Some(("with-rsc-role", v)) => wr = Role::parse(v),
            Some(("id", v)) => given_id = Some(v),
            Some(_) => {}
            None => {
                score =
                    parse_score(t).ok_or_else(|| format!("`{t}` is not a score or an option"))?
            }
        }
    }
    let id = constraint_id(
        m,
        given_id,
        format!("colocation-{rsc}-{with}-INFINITY"),
        &c.ignores,
    );
    m.colocations.push(Colocation {
        id,
        score,
        sets: vec![RscSet::one(rsc, None, rr), RscSet::one(with, None, wr)],
        simple: true,
        loc: c.loc.clone(),
    });
    Ok(true)
}

/// `set a b [opts] set c d [opts] setoptions k=v …`
pub(super) fn sets(words: &[&str], is_order: bool) -> (Vec<RscSet>, Vec<(String, String)>) {
    let mut sets: Vec<RscSet> = Vec::new();
    let mut opts = Vec::new();
    let mut in_setoptions = false;
    let fresh = || RscSet {
        id: None,
        resources: Vec::new(),
        sequential: true,
        require_all: true,
        action: None,
        role: None,
    };
    let mut cur = fresh();
    for w in words {
        match *w {
            "set" => {
                if !cur.resources.is_empty() {
                    sets.push(std::mem::replace(&mut cur, fresh()));
                }
            }
            "setoptions" => in_setoptions = true,
            _ => match w.split_once('=') {
                Some((k, v)) if in_setoptions => opts.push((k.to_string(), v.to_string())),
                Some(("sequential", v)) => cur.sequential = bools::pacemaker(v).unwrap_or(true),
                Some(("require-all", v)) => cur.require_all = bools::pacemaker(v).unwrap_or(true),
                Some(("action", v)) if is_order => cur.action = Action::parse(v),
                Some(("role", v)) => cur.role = Role::parse(v),
                Some(("id", v)) => cur.id = Some(v.to_string()),
                Some(_) => {}
                None if !in_setoptions => cur.resources.push(w.to_string()),
                None => {}
            },
        }
    }
    if !cur.resources.is_empty() {
        sets.push(cur);
    }
    (sets, opts)
}

fn order_set(m: &mut Model, c: &PcsCmd, words: &[&str]) -> Outcome {
    let (sets, opts) = sets(words, true);
    if sets.is_empty() {
        return Err(
            "expected `pcs constraint order set <resource>… [options] [set …] [setoptions …]`"
                .into(),
        );
    }
    for r in sets.iter().flat_map(|s| s.resources.iter()) {
        check_member(m, c, r)?;
    }
    let generated = format!("order_set_{}", c.loc.line);
    let id = constraint_id(m, opt(&opts, "id"), generated, &c.ignores);
    m.orders.push(Order {
        id,
        kind: opt(&opts, "kind")
            .and_then(OrderKind::parse)
            .unwrap_or(OrderKind::Mandatory),
        symmetrical: opt(&opts, "symmetrical").and_then(bools::pacemaker),
        sets,
        simple: false,
        loc: c.loc.clone(),
    });
    Ok(true)
}

fn colocation_set(m: &mut Model, c: &PcsCmd, words: &[&str]) -> Outcome {
    let (sets, opts) = sets(words, false);
    if sets.is_empty() {
        return Err(
            "expected `pcs constraint colocation set <resource>… [options] [set …] [setoptions …]`"
                .into(),
        );
    }
    for r in sets.iter().flat_map(|s| s.resources.iter()) {
        check_member(m, c, r)?;
    }
    let generated = format!("colocation_set_{}", c.loc.line);
    let id = constraint_id(m, opt(&opts, "id"), generated, &c.ignores);
    m.colocations.push(Colocation {
        id,
        score: opt(&opts, "score")
            .and_then(parse_score)
            .unwrap_or(INFINITY),
        sets,
        simple: false,
        loc: c.loc.clone(),
    });
    Ok(true)
}

/// `location <rsc> prefers|avoids <node>[=<score>]…`.
fn location_nodes(m: &mut Model, c: &PcsCmd, rsc: &str, avoids: bool, nodes: &[&str]) -> Outcome {
    check_member(m, c, rsc)?;
    if nodes.is_empty() {
        return Err("expected at least one node".into());
    }
    for n in nodes {
        let (node, written) = match n.split_once('=') {
            Some((node, s)) => (node, s),
            None => (*n, "INFINITY"),
        };
        let score = parse_score(written).ok_or_else(|| format!("`{written}` is not a score"))?;
        let score = if avoids { -score } else { score };
        // pcs names it by the score as written, negated for `avoids`.
        let written = match (avoids, written.strip_prefix('-')) {
            (false, _) => written.to_string(),
            (true, Some(pos)) => pos.to_string(),
            (true, None) => format!("-{written}"),
        };
        let id = format!("location-{rsc}-{node}-{written}");
        let mut l = Location::new(&id, rsc, c.loc.clone());
        l.node = Some(node.to_string());
        l.score = Some(score);
        m.locations.push(l);
    }
    Ok(true)
}

/// `order|colocation remove <resource>…`: the constraints of that kind
/// between the named resources.
fn remove_by_resource(m: &mut Model, ids: &[&str], kind: Kind) -> Outcome {
    let names = |refs: Vec<&String>| ids.iter().all(|i| refs.iter().any(|r| r == i));
    match kind {
        Kind::Order => m.orders.retain(|o| !names(o.references().collect())),
        Kind::Colocation => m.colocations.retain(|c| !names(c.references().collect())),
    }
    Ok(true)
}
