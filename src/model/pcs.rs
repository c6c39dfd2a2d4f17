//! pcs input → [`Model`]: a sequence of `pcs …` commands, or `pcs config`
//! output in any of its three generations (see the module tests).
//!
//! Commands follow pcs 0.9–0.12 usage: `resource create` with `clone`,
//! `promotable`, `master`, `--group`/`group`, `--before`/`--after`; `resource
//! group add`, `clone`, `promotable`, `master`, `update`, `meta`, `op add`;
//! `constraint order`/`colocation` (simple and `set` forms); `property set`;
//! `resource defaults` and `stonith create`. Unlike crm, pcs always writes
//! both order actions, defaulting each to `start`.

use crate::formats::bools;
use std::sync::Arc;

use super::words::logical_lines;
use super::*;

fn pair(w: &str, loc: &Loc) -> Option<NvPair> {
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

fn set_pair(list: &mut Vec<NvPair>, p: NvPair) {
    list.retain(|x| x.name != p.name);
    if !p.value.is_empty() {
        list.push(p);
    }
}

/// Put `child` into `parent`, detaching it from any previous container.
fn adopt(m: &mut Model, parent: usize, child: usize, before: Option<usize>) {
    if parent == child || m.ancestors(parent).any(|a| a == child) {
        return;
    }
    if let Some(old) = m.resources[child].parent {
        m.resources[old].children.retain(|&c| c != child);
    }
    m.resources[child].parent = Some(parent);
    let kids = &mut m.resources[parent].children;
    match before.and_then(|b| kids.iter().position(|&c| c == b)) {
        Some(pos) => kids.insert(pos, child),
        None => kids.push(child),
    }
}

fn wrap_clone(
    m: &mut Model,
    target: usize,
    clone_id: &str,
    promotable: bool,
    meta: Vec<NvPair>,
    loc: Loc,
) {
    let mut c = Resource::new(clone_id, Kind::Clone { promotable }, loc);
    c.meta = meta;
    c.promotable_from_meta();
    c.rename_legacy_meta();
    let old_parent = m.resources[target].parent;
    let ci = m.add(c);
    if let Some(op) = old_parent {
        m.resources[op].children.retain(|&x| x != target);
    }
    m.resources[target].parent = Some(ci);
    m.resources[ci].children.push(target);
}

/// Parse a file of pcs commands.
pub fn parse_commands(text: &str, file: &Arc<str>) -> Result<Model, ParseError> {
    let mut m = Model {
        has_cluster: true,
        ..Model::default()
    };
    // `pcs … config --output-format=cmd` ends commands with `;`.
    let mut commands: Vec<(u32, Vec<String>, Vec<String>)> = Vec::new();
    for l in logical_lines(text, true) {
        let mut cur: Vec<String> = Vec::new();
        let mut line = l.line;
        for (w, wl) in &l.words {
            if cur.is_empty() {
                line = *wl;
            }
            match w.strip_suffix(';') {
                Some(stripped) => {
                    if !stripped.is_empty() {
                        cur.push(stripped.to_string());
                    }
                    commands.push((line, std::mem::take(&mut cur), l.comments.clone()));
                }
                None => cur.push(w.clone()),
            }
        }
        if !cur.is_empty() {
            commands.push((line, cur, l.comments.clone()));
        }
    }
    for (line_no, words, comments) in commands {
        let mut w = words;
        // Prompts and sudo, as pasted from guides.
        while matches!(w.first().map(String::as_str), Some("$" | "#" | "sudo")) {
            w.remove(0);
        }
        if w.first().map(String::as_str) != Some("pcs") {
            continue;
        }
        // Global options: `-f file`, `--force`, `--debug`, …
        let mut args: Vec<String> = Vec::new();
        let mut flags: Vec<String> = Vec::new();
        let mut i = 1;
        while i < w.len() {
            if w[i] == "-f" {
                i += 2;
                continue;
            }
            if w[i].starts_with("--") {
                if let Some((k, v)) = w[i].split_once('=') {
                    flags.push(k.to_string());
                    flags.push(v.to_string());
                } else if matches!(w[i].as_str(), "--group" | "--before" | "--after")
                    && i + 1 < w.len()
                {
                    flags.push(w[i].clone());
                    flags.push(w[i + 1].clone());
                    i += 1;
                } else {
                    flags.push(w[i].clone());
                }
                i += 1;
                continue;
            }
            args.push(w[i].clone());
            i += 1;
        }
        let loc = Loc::new(file, line_no);
        let ignores: Vec<String> = comments
            .iter()
            .flat_map(|c| cib::parse_ignore_comment(c))
            .collect();
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let flag = |name: &str| {
            flags
                .iter()
                .position(|f| f == name)
                .and_then(|p| flags.get(p + 1))
                .cloned()
        };
        match a.as_slice() {
            ["resource" | "stonith", "create", id, agent, rest @ ..] => {
                let agent = if a[0] == "stonith" {
                    Agent {
                        class: "stonith".into(),
                        provider: None,
                        ty: agent.to_string(),
                    }
                } else {
                    Agent::parse(agent)
                };
                let mut r = Resource::new(id, Kind::Primitive(agent), loc.clone());
                r.ignores = ignores;
                let mut section = "params";
                let mut clone: Option<(bool, Option<String>, Vec<NvPair>)> = None;
                let mut group = flag("--group");
                let mut before = flag("--before");
                let mut after = flag("--after");
                let mut j = 0;
                while j < rest.len() {
                    let t = rest[j];
                    match t {
                        "op" => section = "op",
                        "meta" => {
                            section = if clone.is_some() {
                                "clone-meta"
                            } else {
                                "meta"
                            };
                        }
                        "clone" | "promotable" | "master" => {
                            let id = rest
                                .get(j + 1)
                                .filter(|x| !x.contains('=') && **x != "meta")
                                .map(|x| x.to_string());
                            if id.is_some() {
                                j += 1;
                            }
                            clone = Some((t != "clone", id, Vec::new()));
                            section = "clone-meta";
                        }
                        "group" | "before" | "after" if rest.get(j + 1).is_some() => {
                            let v = Some(rest[j + 1].to_string());
                            match t {
                                "group" => group = v,
                                "before" => before = v,
                                _ => after = v,
                            }
                            j += 1;
                        }
                        _ if section == "op" && !t.contains('=') => {
                            r.ops.push(Op::named(t, loc.clone()))
                        }
                        _ => {
                            let Some(p) = pair(t, &loc) else {
                                j += 1;
                                continue;
                            };
                            match section {
                                "params" => set_pair(&mut r.params, p),
                                "meta" => set_pair(&mut r.meta, p),
                                "clone-meta" => {
                                    if let Some(c) = clone.as_mut() {
                                        c.2.push(p)
                                    }
                                }
                                _ => {
                                    if let Some(op) = r.ops.last_mut() {
                                        op.set(&p.name, &p.value);
                                    }
                                }
                            }
                        }
                    }
                    j += 1;
                }
                let idx = m.add(r);
                if let Some(g) = group {
                    let gi = ensure_group(&mut m, &g, &loc);
                    let b = before.and_then(|b| m.by_id.get(&b).copied());
                    let b = b.or_else(|| {
                        let a = after.and_then(|x| m.by_id.get(&x).copied())?;
                        let kids = &m.resources[gi].children;
                        kids.iter()
                            .position(|&c| c == a)
                            .and_then(|p| kids.get(p + 1).copied())
                    });
                    adopt(&mut m, gi, idx, b);
                }
                if let Some((promotable, cid, meta)) = clone {
                    let suffix = if a[0] == "resource" && rest.contains(&"master") {
                        "master"
                    } else {
                        "clone"
                    };
                    let target = m.resources[idx].parent.unwrap_or(idx);
                    let cid = cid.unwrap_or_else(|| format!("{}-{suffix}", m.resources[target].id));
                    wrap_clone(&mut m, target, &cid, promotable, meta, loc.clone());
                }
            }
            ["resource", "group", "add", g, members @ ..] => {
                let gi = ensure_group(&mut m, g, &loc);
                let before = flag("--before").and_then(|b| m.by_id.get(&b).copied());
                for id in members {
                    if let Some(&ri) = m.by_id.get(*id) {
                        adopt(&mut m, gi, ri, before);
                    }
                }
            }
            ["resource", kind @ ("clone" | "promotable" | "master"), rest @ ..] => {
                // pcs 0.9 `master [<ms id>] <rsc>` names the clone first.
                let (target, cid, opts) = if *kind == "master" {
                    match rest {
                        [x, y, o @ ..] if !y.contains('=') && m.by_id.contains_key(*y) => {
                            (*y, Some(x.to_string()), o)
                        }
                        [x, o @ ..] => (*x, None, o),
                        [] => continue,
                    }
                } else {
                    match rest {
                        [x, y, o @ ..] if !y.contains('=') && *y != "meta" => {
                            (*x, Some(y.to_string()), o)
                        }
                        [x, o @ ..] => (*x, None, o),
                        [] => continue,
                    }
                };
                let Some(&ti) = m.by_id.get(target) else {
                    return Err(ParseError::new(file, line_no, format!("pcs resource {kind}: no resource or group named {target:?} was created before this line")));
                };
                let suffix = if *kind == "master" { "master" } else { "clone" };
                let cid = cid.unwrap_or_else(|| format!("{target}-{suffix}"));
                let meta = opts.iter().filter_map(|o| pair(o, &loc)).collect();
                wrap_clone(&mut m, ti, &cid, *kind != "clone", meta, loc.clone());
            }
            ["resource", "update", id, rest @ ..] | ["resource", "meta", id, rest @ ..] => {
                let Some(&ri) = m.by_id.get(*id) else {
                    continue;
                };
                let mut section = if a[1] == "meta" { "meta" } else { "params" };
                for t in rest {
                    match *t {
                        "meta" => section = "meta",
                        "op" => section = "op",
                        _ if section == "op" && !t.contains('=') => {
                            m.resources[ri].ops.retain(|o| o.name != *t);
                            m.resources[ri].ops.push(Op::named(t, loc.clone()));
                        }
                        _ => {
                            let Some(p) = pair(t, &loc) else { continue };
                            match section {
                                "params" => set_pair(&mut m.resources[ri].params, p),
                                "meta" => set_pair(&mut m.resources[ri].meta, p),
                                _ => {
                                    if let Some(op) = m.resources[ri].ops.last_mut() {
                                        op.set(&p.name, &p.value)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            ["resource", "op", "add", id, action, rest @ ..] => {
                let Some(&ri) = m.by_id.get(*id) else {
                    continue;
                };
                let mut op = Op::named(action, loc.clone());
                set_op_words(&mut op, rest.iter().copied());
                m.resources[ri].ops.push(op);
            }
            ["property", "set", rest @ ..] => {
                for t in rest {
                    if let Some(p) = pair(t, &loc) {
                        set_pair(&mut m.properties, p);
                    }
                }
            }
            ["resource", "defaults", rest @ ..] | ["resource", "op", "defaults", rest @ ..] => {
                let target = if a[1] == "op" {
                    &mut m.op_defaults
                } else {
                    &mut m.rsc_defaults
                };
                for t in rest {
                    if let Some(p) = pair(t, &loc) {
                        set_pair(target, p);
                    }
                }
            }
            ["constraint", "order", "set", rest @ ..] => {
                let (sets, opts) = pcs_sets(rest, true);
                let id = constraint_id(
                    &mut m,
                    opt(&opts, "id"),
                    || format!("order_set_{line_no}"),
                    ignores,
                );
                m.orders.push(Order {
                    id,
                    kind: opt(&opts, "kind")
                        .and_then(OrderKind::parse)
                        .unwrap_or(OrderKind::Mandatory),
                    symmetrical: opt(&opts, "symmetrical").and_then(bools::pacemaker),
                    sets,
                    simple: false,
                    loc,
                });
            }
            ["constraint", "order", rest @ ..] => {
                let rest: Vec<&str> = rest.iter().copied().filter(|x| *x != "add").collect();
                let Some(then_pos) = rest.iter().position(|x| *x == "then") else {
                    return Err(ParseError::new(file, line_no, "pcs constraint order: expected `[action] <resource> then [action] <resource>`".into()));
                };
                let (lhs, rhs) = (&rest[..then_pos], &rest[then_pos + 1..]);
                let side = |s: &[&str]| -> Option<(Option<Action>, String, usize)> {
                    match s {
                        [act, r, ..] if Action::parse(act).is_some() => {
                            Some((Action::parse(act), r.to_string(), 2))
                        }
                        [r, ..] => Some((None, r.to_string(), 1)),
                        [] => None,
                    }
                };
                let (Some((fa, first, _)), Some((ta, then, used))) = (side(lhs), side(rhs)) else {
                    return Err(ParseError::new(
                        file,
                        line_no,
                        "pcs constraint order: expected a resource on both sides of `then`".into(),
                    ));
                };
                let opts: Vec<(String, String)> = rhs[used..]
                    .iter()
                    .filter_map(|t| {
                        t.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                    })
                    .collect();
                let id = constraint_id(
                    &mut m,
                    opt(&opts, "id"),
                    || format!("order-{first}-{then}-mandatory"),
                    ignores,
                );
                let kind = opt(&opts, "kind")
                    .and_then(OrderKind::parse)
                    .or_else(|| {
                        opt(&opts, "score")
                            .and_then(parse_score)
                            .map(OrderKind::from_score)
                    })
                    .unwrap_or(OrderKind::Mandatory);
                m.orders.push(Order {
                    id,
                    kind,
                    symmetrical: opt(&opts, "symmetrical").and_then(bools::pacemaker),
                    sets: vec![
                        RscSet::one(&first, Some(fa.unwrap_or(Action::Start)), None),
                        RscSet::one(&then, Some(ta.unwrap_or(Action::Start)), None),
                    ],
                    simple: true,
                    loc,
                });
            }
            ["constraint", "colocation", "set", rest @ ..] => {
                let (sets, opts) = pcs_sets(rest, false);
                let id = constraint_id(
                    &mut m,
                    opt(&opts, "id"),
                    || format!("colocation_set_{line_no}"),
                    ignores,
                );
                m.colocations.push(Colocation {
                    id,
                    score: opt(&opts, "score")
                        .and_then(parse_score)
                        .unwrap_or(INFINITY),
                    sets,
                    simple: false,
                    loc,
                });
            }
            ["constraint", "colocation", "add", rest @ ..] => {
                let Some(with) = rest.iter().position(|x| *x == "with") else {
                    return Err(ParseError::new(file, line_no, "pcs constraint colocation add: expected `[role] <source> with [role] <target>`".into()));
                };
                let side = |s: &[&str]| -> Option<(Option<Role>, String, usize)> {
                    match s {
                        [role, r, ..] if Role::parse(role).is_some() && !r.contains('=') => {
                            Some((Role::parse(role), r.to_string(), 2))
                        }
                        [r, ..] => Some((None, r.to_string(), 1)),
                        [] => None,
                    }
                };
                let (Some((rr, rsc, _)), Some((wr, with_rsc, used))) =
                    (side(&rest[..with]), side(&rest[with + 1..]))
                else {
                    return Err(ParseError::new(file, line_no, "pcs constraint colocation add: expected a resource on both sides of `with`".into()));
                };
                let tail = &rest[with + 1 + used..];
                let mut score = INFINITY;
                let (mut rr, mut wr) = (rr, wr);
                let mut given_id = None;
                for t in tail {
                    match t.split_once('=') {
                        Some(("score", v)) => score = parse_score(v).unwrap_or(score),
                        Some(("rsc-role", v)) => rr = Role::parse(v),
                        Some(("with-rsc-role", v)) => wr = Role::parse(v),
                        Some(("id", v)) => given_id = Some(v),
                        Some(_) => {}
                        None => score = parse_score(t).unwrap_or(score),
                    }
                }
                let id = constraint_id(
                    &mut m,
                    given_id,
                    || format!("colocation-{rsc}-{with_rsc}-INFINITY"),
                    ignores,
                );
                m.colocations.push(Colocation {
                    id,
                    score,
                    sets: vec![
                        RscSet::one(&rsc, None, rr),
                        RscSet::one(&with_rsc, None, wr),
                    ],
                    simple: true,
                    loc,
                });
            }
            ["constraint", "location", rsc, ..] => m.locations.push(Location {
                id: format!("location-{rsc}"),
                rsc: rsc.to_string(),
                loc,
            }),
            _ => {}
        }
    }
    m.finish();
    Ok(m)
}

fn ensure_group(m: &mut Model, id: &str, loc: &Loc) -> usize {
    match m.by_id.get(id) {
        Some(&g) => g,
        None => m.add(Resource::new(id, Kind::Group, loc.clone())),
    }
}

/// The value of `key` in a constraint's trailing options.
fn opt<'a>(opts: &'a [(String, String)], key: &str) -> Option<&'a str> {
    opts.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A constraint's id: the one written (`id=…`), else the one pcs generates.
/// The rule codes of an inline ignore comment are recorded against it.
fn constraint_id(
    m: &mut Model,
    given: Option<&str>,
    generated: impl FnOnce() -> String,
    ignores: Vec<String>,
) -> String {
    let id = given.map_or_else(generated, str::to_string);
    m.ignore_for_constraint(&id, ignores);
    id
}

/// `set a b [opts] set c d [opts] setoptions k=v …`
fn pcs_sets(words: &[&str], is_order: bool) -> (Vec<RscSet>, Vec<(String, String)>) {
    let mut sets: Vec<RscSet> = Vec::new();
    let mut opts = Vec::new();
    let mut in_setoptions = false;
    let mut cur = RscSet {
        id: None,
        resources: Vec::new(),
        sequential: true,
        require_all: true,
        action: None,
        role: None,
    };
    for w in words {
        match *w {
            "set" => {
                if !cur.resources.is_empty() {
                    sets.push(std::mem::replace(&mut cur, RscSet::one("", None, None)));
                    cur.resources.clear();
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

/// Parse `pcs config` output (generations A, B and C; see the reference notes).
pub fn parse_config(text: &str, file: &Arc<str>) -> Result<Model, ParseError> {
    let mut m = Model {
        has_cluster: true,
        ..Model::default()
    };
    #[derive(PartialEq, Clone, Copy)]
    enum Sec {
        None,
        Resources,
        Order,
        OrderC,
        Colocation,
        ColocationC,
        Location,
        Properties,
        RscDefaults,
        OpDefaults,
        Other,
    }
    #[derive(PartialEq, Clone, Copy)]
    enum Sub {
        None,
        Params,
        Meta,
        Ops,
    }
    let mut sec = Sec::None;
    let mut sub = Sub::None;
    let mut containers: Vec<(usize, usize)> = Vec::new(); // (indent, resource)
    let mut current: Option<usize> = None;
    let mut ops_indent = 0usize;
    let mut pending_c: Option<usize> = None; // index into orders/colocations for gen C option lines
    for (n, raw) in text.lines().enumerate() {
        let line_no = n as u32 + 1;
        let loc = Loc::new(file, line_no);
        if raw.trim().is_empty() {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if indent == 0 {
            sub = Sub::None;
            current = None;
            containers.clear();
            pending_c = None;
            let head = line.split(':').next().unwrap_or("");
            sec = match head {
                "Resources" | "Stonith Devices" => Sec::Resources,
                "Ordering Constraints" => Sec::Order,
                "Order Constraints" => Sec::OrderC,
                "Colocation Constraints" => Sec::Colocation,
                "Location Constraints" => Sec::Location,
                "Cluster Properties" => Sec::Properties,
                "Resources Defaults" | "Resource Defaults" => Sec::RscDefaults,
                "Operations Defaults" | "Operation Defaults" => Sec::OpDefaults,
                _ => Sec::Other,
            };
            if sec == Sec::Colocation && text.contains(" resource '") {
                sec = Sec::ColocationC;
            }
            // Generation B/C files may start `Resource:` at column 0 too.
            if !line.starts_with("Resource:")
                && !line.starts_with("Group:")
                && !line.starts_with("Clone:")
            {
                continue;
            }
            sec = Sec::Resources;
        }
        match sec {
            Sec::Resources => {
                let (head, rest) = line.split_once(':').unwrap_or((line, ""));
                let rest = rest.trim();
                match head {
                    "Resource" | "Group" | "Clone" | "Master" | "Bundle" | "Promotable" => {
                        containers.retain(|(i, _)| *i < indent);
                        let id = rest.split_whitespace().next().unwrap_or("").to_string();
                        let kind = match head {
                            "Resource" => {
                                let attrs = rest
                                    .split_once('(')
                                    .map(|x| x.1.trim_end_matches(')'))
                                    .unwrap_or("");
                                let get = |k: &str| {
                                    attrs
                                        .split_whitespace()
                                        .find_map(|kv| {
                                            kv.strip_prefix(k).and_then(|v| v.strip_prefix('='))
                                        })
                                        .map(str::to_string)
                                };
                                Kind::Primitive(Agent {
                                    class: get("class").unwrap_or_else(|| "ocf".into()),
                                    provider: get("provider"),
                                    ty: get("type").unwrap_or_default(),
                                })
                            }
                            "Group" => Kind::Group,
                            "Bundle" => Kind::Bundle,
                            "Master" => Kind::Clone { promotable: true },
                            _ => Kind::Clone { promotable: false },
                        };
                        if id.is_empty() {
                            return Err(ParseError::new(
                                file,
                                line_no,
                                format!("`{head}:` without an id; expected `{head}: <id>`"),
                            ));
                        }
                        let mut r = Resource::new(&id, kind, loc.clone());
                        r.parent = containers.last().map(|c| c.1);
                        let idx = m.add(r);
                        if head != "Resource" {
                            containers.push((indent, idx));
                        }
                        current = Some(idx);
                        sub = Sub::None;
                    }
                    "Attributes" => {
                        sub = Sub::Params;
                        if let Some(c) = current {
                            for p in shell_words(rest).iter().filter_map(|t| pair(t, &loc)) {
                                m.resources[c].params.push(p);
                            }
                        }
                    }
                    "Meta Attrs" | "Meta Attributes" => {
                        sub = Sub::Meta;
                        if let Some(c) = current {
                            for p in shell_words(rest).iter().filter_map(|t| pair(t, &loc)) {
                                m.resources[c].meta.push(p);
                            }
                            m.resources[c].promotable_from_meta();
                            m.resources[c].rename_legacy_meta();
                        }
                    }
                    "Operations" => {
                        sub = Sub::Ops;
                        ops_indent = indent;
                        if let Some(c) = current {
                            if !rest.is_empty() {
                                push_op_a(&mut m.resources[c], rest, &loc);
                            }
                        }
                    }
                    "Utilization" | "Instance Attributes" => sub = Sub::None,
                    _ => {
                        let Some(c) = current else { continue };
                        match sub {
                            Sub::Params | Sub::Meta => {
                                for p in shell_words(line).iter().filter_map(|t| pair(t, &loc)) {
                                    if sub == Sub::Params {
                                        m.resources[c].params.push(p);
                                    } else {
                                        m.resources[c].meta.push(p);
                                    }
                                }
                                m.resources[c].promotable_from_meta();
                                m.resources[c].rename_legacy_meta();
                            }
                            Sub::Ops if indent > ops_indent => {
                                if let Some(name) = line
                                    .strip_suffix(':')
                                    .or_else(|| line.split_once(": ").map(|x| x.0))
                                    .filter(|x| !x.contains('='))
                                {
                                    // Generation B: `monitor: id` then `interval=… timeout=…`.
                                    m.resources[c].ops.push(Op::named(name, loc.clone()));
                                } else if line
                                    .split_whitespace()
                                    .next()
                                    .is_some_and(|w| !w.contains('='))
                                {
                                    push_op_a(&mut m.resources[c], line, &loc);
                                } else if let Some(op) = m.resources[c].ops.last_mut() {
                                    set_op_words(op, line.split_whitespace());
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            Sec::Order => {
                // `promote A then start B (kind:Mandatory) (Options: …) (id:…)` or `A then B`.
                let (body, meta) = line
                    .split_once(" (")
                    .map(|(b, r)| (b, format!("({r}")))
                    .unwrap_or((line, String::new()));
                let w: Vec<&str> = body.split_whitespace().collect();
                let Some(t) = w.iter().position(|x| *x == "then") else {
                    continue;
                };
                let side = |s: &[&str]| match s {
                    [a, r] => Some((Action::parse(a), r.to_string())),
                    [r] => Some((None, r.to_string())),
                    _ => None,
                };
                let (Some((fa, first)), Some((ta, then))) = (side(&w[..t]), side(&w[t + 1..]))
                else {
                    continue;
                };
                let paren = |k: &str| {
                    meta.split('(').find_map(|p| {
                        p.trim().strip_prefix(k).map(|v| {
                            v.trim_start_matches(':')
                                .trim()
                                .trim_end_matches(')')
                                .trim()
                                .to_string()
                        })
                    })
                };
                m.orders.push(Order {
                    id: paren("id").unwrap_or_else(|| format!("order-line-{line_no}")),
                    kind: paren("kind")
                        .and_then(|k| OrderKind::parse(&k))
                        .unwrap_or(OrderKind::Mandatory),
                    symmetrical: None,
                    // `pcs config` prints the actions stored in the CIB; an
                    // absent then-action keeps Pacemaker's default.
                    sets: vec![RscSet::one(&first, fa, None), RscSet::one(&then, ta, None)],
                    simple: true,
                    loc,
                });
            }
            Sec::OrderC => {
                // `start resource 'G2' then start resource 'B2' (id: …)`, options on the next lines.
                if let Some(rest) = line.strip_prefix("kind=").or_else(|| {
                    line.split_whitespace()
                        .find_map(|x| x.strip_prefix("kind="))
                }) {
                    if let Some(o) = pending_c.and_then(|i| m.orders.get_mut(i)) {
                        o.kind = OrderKind::parse(rest.split_whitespace().next().unwrap_or(""))
                            .unwrap_or(o.kind);
                    }
                    continue;
                }
                let q: Vec<&str> = line.split('\'').collect();
                if q.len() >= 4 && line.contains(" then ") {
                    let fa = Action::parse(q[0].split_whitespace().next().unwrap_or(""));
                    let ta = Action::parse(q[2].split_whitespace().nth(1).unwrap_or(""));
                    let id = line
                        .rsplit_once("(id: ")
                        .map(|x| x.1.trim_end_matches(')').to_string())
                        .unwrap_or_else(|| format!("order-line-{line_no}"));
                    m.orders.push(Order {
                        id,
                        kind: OrderKind::Mandatory,
                        symmetrical: None,
                        sets: vec![
                            RscSet::one(q[1], Some(fa.unwrap_or(Action::Start)), None),
                            RscSet::one(q[3], Some(ta.unwrap_or(Action::Start)), None),
                        ],
                        simple: true,
                        loc,
                    });
                    pending_c = Some(m.orders.len() - 1);
                }
            }
            Sec::Colocation => {
                // `A with B (score:INFINITY) (rsc-role:Started) (with-rsc-role:Promoted) (id:…)`
                let (body, meta) = line
                    .split_once(" (")
                    .map(|(b, r)| (b, format!("({r}")))
                    .unwrap_or((line, String::new()));
                let w: Vec<&str> = body.split_whitespace().collect();
                let [rsc, "with", with] = w.as_slice() else {
                    continue;
                };
                let paren = |k: &str| {
                    meta.split('(').find_map(|p| {
                        p.trim()
                            .strip_prefix(k)
                            .filter(|v| v.starts_with(':'))
                            .map(|v| {
                                v.trim_start_matches(':')
                                    .trim()
                                    .trim_end_matches(')')
                                    .trim()
                                    .to_string()
                            })
                    })
                };
                m.colocations.push(Colocation {
                    id: paren("id").unwrap_or_else(|| format!("colocation-line-{line_no}")),
                    score: paren("score")
                        .and_then(|s| parse_score(&s))
                        .unwrap_or(INFINITY),
                    sets: vec![
                        RscSet::one(rsc, None, paren("rsc-role").and_then(|r| Role::parse(&r))),
                        RscSet::one(
                            with,
                            None,
                            paren("with-rsc-role").and_then(|r| Role::parse(&r)),
                        ),
                    ],
                    simple: true,
                    loc,
                });
            }
            Sec::ColocationC => {
                // `Promoted resource 'G1-clone' with Stopped resource 'R6-clone' (id: …)` then `score=-100`.
                if let Some(s) = line
                    .split_whitespace()
                    .find_map(|x| x.strip_prefix("score="))
                {
                    if let Some(c) = pending_c.and_then(|i| m.colocations.get_mut(i)) {
                        c.score = parse_score(s).unwrap_or(c.score);
                    }
                    continue;
                }
                let q: Vec<&str> = line.split('\'').collect();
                if q.len() >= 4 && q[2].contains(" with ") {
                    let rr = Role::parse(q[0].split_whitespace().next().unwrap_or(""));
                    let wr = Role::parse(q[2].split_whitespace().nth(1).unwrap_or(""));
                    let id = line
                        .rsplit_once("(id: ")
                        .map(|x| x.1.trim_end_matches(')').to_string())
                        .unwrap_or_else(|| format!("colocation-line-{line_no}"));
                    m.colocations.push(Colocation {
                        id,
                        score: INFINITY,
                        sets: vec![RscSet::one(q[1], None, rr), RscSet::one(q[3], None, wr)],
                        simple: true,
                        loc,
                    });
                    pending_c = Some(m.colocations.len() - 1);
                }
            }
            Sec::Location => {
                let rsc = line
                    .strip_prefix("Resource: ")
                    .map(|r| r.trim().to_string())
                    .or_else(|| {
                        line.strip_prefix("resource '")
                            .and_then(|r| r.split('\'').next())
                            .map(str::to_string)
                    });
                if let Some(rsc) = rsc {
                    m.locations.push(Location {
                        id: format!("location-{rsc}"),
                        rsc,
                        loc,
                    });
                }
            }
            Sec::Properties | Sec::RscDefaults | Sec::OpDefaults => {
                // `stonith-enabled: false` (A) or `stonith-enabled=false` (B/C).
                let kv = line
                    .split_once('=')
                    .or_else(|| line.split_once(": "))
                    .filter(|(k, _)| !k.contains(' '));
                if let Some((k, v)) = kv {
                    let p = NvPair {
                        name: k.trim().to_string(),
                        value: v.trim().to_string(),
                        loc,
                        conditional: false,
                    };
                    match sec {
                        Sec::Properties => m.properties.push(p),
                        Sec::RscDefaults => m.rsc_defaults.push(p),
                        _ => m.op_defaults.push(p),
                    }
                }
            }
            Sec::None | Sec::Other => {}
        }
    }
    m.finish();
    Ok(m)
}

/// Split one line into words, honouring the quotes pcs puts around values
/// with spaces (`nfsd_args="-G 20 -L 15"`).
fn shell_words(line: &str) -> Vec<String> {
    logical_lines(line, false)
        .into_iter()
        .flat_map(|l| l.words.into_iter().map(|(w, _)| w))
        .collect()
}

/// Generation A op line: `monitor interval=30s timeout=20s (id)`.
fn push_op_a(r: &mut Resource, line: &str, loc: &Loc) {
    let mut words = line.split_whitespace();
    let Some(name) = words.next() else { return };
    let mut op = Op::named(name, loc.clone());
    set_op_words(&mut op, words);
    r.ops.push(op);
}

/// Apply the `key=value` words to an operation; other words are ignored.
fn set_op_words<'a>(op: &mut Op, words: impl IntoIterator<Item = &'a str>) {
    for t in words {
        if let Some((k, v)) = t.split_once('=') {
            op.set(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RH: &str = r#"# Red Hat's active/passive NFS server, pcs 0.11
pcs resource create nfsshare Filesystem device=/dev/my_vg/my_lv directory=/nfsshare fstype=xfs --group nfsgroup
pcs resource create nfs-daemon nfsserver nfs_shared_infodir=/nfsshare/nfsinfo nfs_no_notify=true --group nfsgroup
pcs resource create nfs_ip IPaddr2 ip=192.168.122.200 cidr_netmask=24 \
    op monitor interval=10s timeout=20s --group nfsgroup
pcs resource create drbd-nfs ocf:linbit:drbd drbd_resource=nfs promotable promoted-max=1 notify=true
pcs constraint order promote drbd-nfs-clone then start nfsgroup
pcs constraint colocation add nfsgroup with Promoted drbd-nfs-clone INFINITY
pcs -f cib.xml property set stonith-enabled=false
"#;

    #[test]
    fn reads_red_hat_commands() {
        let m = parse_commands(RH, &Arc::from("rh.pcs")).unwrap();
        let g = m.by_id["nfsgroup"];
        let ids: Vec<&str> = m.resources[g]
            .children
            .iter()
            .map(|&c| m.resources[c].id.as_str())
            .collect();
        assert_eq!(ids, ["nfsshare", "nfs-daemon", "nfs_ip"]);
        let ip = m.by_id["nfs_ip"];
        assert_eq!(
            m.resources[ip].ops[0].timeout,
            Some(Duration::from_secs(20))
        );
        assert_eq!(m.resources[ip].loc.line, 4);
        assert_eq!(
            m.get("drbd-nfs-clone").unwrap().kind,
            Kind::Clone { promotable: true }
        );
        assert_eq!(m.orders[0].actions(), vec![Action::Promote, Action::Start]);
        assert_eq!(m.colocations[0].pairs()[0].primary_role, Role::Promoted);
        assert_eq!(m.property("stonith-enabled").unwrap().value, "false");
    }

    const GEN_A: &str = r#"Cluster Name: mycluster
Corosync Nodes:
 pcmk-1 pcmk-2
Pacemaker Nodes:
 pcmk-1 pcmk-2

Resources:
 Resource: ClusterIP (class=ocf provider=heartbeat type=IPaddr2)
  Attributes: cidr_netmask=24 ip=192.168.122.120
  Operations: monitor interval=30s (ClusterIP-monitor-interval-30s)
              start interval=0s timeout=20s (ClusterIP-start-interval-0s)
 Clone: WebData-clone
  Meta Attrs: clone-max=2 clone-node-max=1 notify=true promotable=true promoted-max=1
  Resource: WebData (class=ocf provider=linbit type=drbd)
   Attributes: drbd_resource=wwwdata
 Group: g
  Resource: a (class=ocf provider=heartbeat type=Dummy)

Stonith Devices:
Fencing Levels:

Location Constraints:
Ordering Constraints:
  promote WebData-clone then start WebFS (kind:Mandatory) (id:order-WebData-clone-WebFS-mandatory)
Colocation Constraints:
  WebFS with WebData-clone (score:INFINITY) (with-rsc-role:Promoted) (id:colocation-WebFS-WebData-clone-INFINITY)

Cluster Properties:
 stonith-enabled: true
"#;

    #[test]
    fn reads_generation_a() {
        let m = parse_config(GEN_A, &Arc::from("cfg")).unwrap();
        let ip = m.by_id["ClusterIP"];
        assert_eq!(m.param(ip, "ip").unwrap().value, "192.168.122.120");
        assert_eq!(m.resources[ip].ops.len(), 2);
        assert_eq!(
            m.resources[ip].ops[1].timeout,
            Some(Duration::from_secs(20))
        );
        let d = m.by_id["WebData"];
        assert_eq!(m.clone_of(d), Some(m.by_id["WebData-clone"]));
        assert_eq!(
            m.get("WebData-clone").unwrap().kind,
            Kind::Clone { promotable: true }
        );
        assert_eq!(m.group_of(m.by_id["a"]), Some(m.by_id["g"]));
        assert_eq!(m.orders[0].actions(), vec![Action::Promote, Action::Start]);
        assert_eq!(m.colocations[0].pairs()[0].primary_role, Role::Promoted);
        assert_eq!(m.property("stonith-enabled").unwrap().value, "true");
    }

    /// Old pcs prints the legacy names; rules read `promoted-max` only, as
    /// the CIB, crm and pcs-command parsers give it.
    #[test]
    fn config_meta_uses_one_spelling_for_promoted_max() {
        let text = GEN_A.replace("promoted-max=1", "master-max=1 master-node-max=1");
        let m = parse_config(&text, &Arc::from("cfg")).unwrap();
        let names: Vec<&str> = m.resources[m.by_id["WebData-clone"]]
            .meta
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert!(names.contains(&"promoted-max"), "{names:?}");
        assert!(names.contains(&"promoted-node-max"), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("master-")), "{names:?}");
    }

    const GEN_C: &str = r#"Resources:
  Resource: R7 (class=ocf provider=pacemaker type=Dummy)
    Attributes: R7-instance_attributes
      envfile=/dev/null
    Operations:
      monitor: R7-monitor-interval-10s
        interval=10s timeout=20s

Order Constraints:
  start resource 'G2' then start resource 'B2' (id: order-G2-B2)
    kind=Optional
Colocation Constraints:
  Promoted resource 'G1-clone' with Stopped resource 'R6-clone' (id: c1)
    score=-100
"#;

    #[test]
    fn reads_generations_b_and_c() {
        let m = parse_config(GEN_C, &Arc::from("cfg")).unwrap();
        let r = m.by_id["R7"];
        assert_eq!(m.param(r, "envfile").unwrap().value, "/dev/null");
        assert_eq!(m.resources[r].ops[0].name, "monitor");
        assert_eq!(m.resources[r].ops[0].timeout, Some(Duration::from_secs(20)));
        assert_eq!(m.orders[0].kind, OrderKind::Optional);
        assert_eq!(m.colocations[0].score, -100);
        assert_eq!(m.colocations[0].pairs()[0].dependent_role, Role::Promoted);
    }
}
