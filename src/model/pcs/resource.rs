//! `pcs resource …` and `pcs stonith …`: create (with pcs's default
//! operations), delete, group add/remove, ungroup, clone, promotable,
//! master (0.9), unclone, update, meta, op add/remove, op defaults,
//! defaults, enable/disable, manage/unmanage, bundle create.
//!
//! `resource create` takes every form pcs 0.9–0.12 accepted: `clone`,
//! `promotable`, `master` keywords (with an id and options, with or without
//! `meta`), `--clone`/`--master` (0.9), `--group g [--before|--after r]`
//! and the 0.11.7+ `group g [before|after r]`, `bundle b`, `--disabled`,
//! `--no-default-ops`.

use super::super::edit::Members;
use super::super::*;
use super::commands::{Outcome, PcsCmd};
use super::default_ops::{default_interval, default_ops};
use super::{pair, set_pair};

pub(super) fn command(m: &mut Model, c: &PcsCmd, stonith: bool, rest: &[&str]) -> Outcome {
    let what = if stonith { "stonith" } else { "resource" };
    match rest {
        ["create", id, agent, more @ ..] => create(m, c, stonith, id, agent, more),
        ["create", ..] => Err(format!(
            "expected `pcs {what} create <id> <agent> [options]`"
        )),
        ["delete" | "remove", ids @ ..] if !ids.is_empty() => delete(m, ids),
        ["update", id, more @ ..] => update(m, c, id, more, false),
        ["meta", id, more @ ..] if !stonith => update(m, c, id, more, true),
        ["enable", ids @ ..] => set_meta(m, c, ids, "target-role", None),
        ["disable", ids @ ..] => set_meta(m, c, ids, "target-role", Some("Stopped")),
        ["manage", ids @ ..] => set_meta(m, c, ids, "is-managed", None),
        ["unmanage", ids @ ..] => set_meta(m, c, ids, "is-managed", Some("false")),
        ["group", "add", g, ids @ ..] if !stonith => group_add(m, c, g, ids),
        ["group", "remove" | "delete", g, ids @ ..] | ["ungroup", g, ids @ ..] if !stonith => {
            ungroup(m, g, ids)
        }
        ["clone" | "promotable", target, more @ ..] if !stonith => {
            let promotable = rest[0] == "promotable";
            clone(m, c, target, more, promotable)
        }
        ["master", more @ ..] if !stonith => master(m, c, more),
        ["unclone", id] if !stonith => unclone(m, id),
        ["op", "add", id, action, more @ ..] => op_add(m, c, id, action, more),
        ["op", "remove" | "delete", id, more @ ..] => op_remove(m, id, more),
        ["op", "defaults", more @ ..] => defaults(m, c, more, true),
        ["defaults", more @ ..] if !stonith => defaults(m, c, more, false),
        ["bundle", "create", id, ..] if !stonith => {
            if m.by_id.contains_key(*id) {
                return Err(format!("`{id}` already exists"));
            }
            m.add(Resource::new(id, Kind::Bundle, c.loc.clone()));
            Ok(true)
        }
        []
        | ["status"
        | "config"
        | "show"
        | "list"
        | "describe"
        | "agents"
        | "standards"
        | "providers"
        | "move"
        | "move-with-constraint"
        | "ban"
        | "clear"
        | "relocate"
        | "cleanup"
        | "refresh"
        | "restart"
        | "failcount"
        | "debug-start"
        | "debug-stop"
        | "debug-promote"
        | "debug-demote"
        | "debug-monitor"
        | "utilization"
        | "relations"
        | "bundle"
        | "op"
        | "level"
        | "sbd"
        | "confirm"
        | "fence"
        | "history"
        | "update-scsi-devices"
        | "get_resource_agent_info"
        | "safe-disable"
        | "stop"
        | "start"
        | "promote"
        | "demote"
        | "group"
        | "ungroup"
        | "unclone", ..] => Ok(false),
        [other, ..] => Err(format!(
            "`pcs {what} {other}` is not a {what} command nfsha reads"
        )),
    }
}

/// pcs resolves a short agent name to the one installed agent of that
/// type; for DRBD that is LINBIT's.
fn agent_of(word: &str, stonith: bool) -> Agent {
    if stonith {
        return Agent {
            class: "stonith".into(),
            provider: None,
            ty: word.trim_start_matches("stonith:").to_string(),
        };
    }
    match word {
        "drbd" => Agent::parse("ocf:linbit:drbd"),
        _ => Agent::parse(word),
    }
}

/// Where the words of `resource create` go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Instance,
    Op,
    Meta,
    Clone,
    CloneMeta,
}

/// The clone a `resource create` asks for.
struct CloneSpec {
    promotable: bool,
    suffix: &'static str,
    id: Option<String>,
    meta: Vec<NvPair>,
}

/// What the words after `resource create <id> <agent>` ask for.
struct CreateArgs {
    /// The primitive with its attributes and the operations given.
    r: Resource,
    /// Names of the operations given with `op` (they replace the defaults).
    given: Vec<String>,
    clone: Option<CloneSpec>,
    group: Option<String>,
    before: Option<String>,
    after: Option<String>,
    bundle: Option<String>,
}

impl CreateArgs {
    /// Read the sections (`op`, `meta`, `clone|promotable|master [id]`,
    /// `group|before|after|bundle <id>`) and the `--` options of all pcs
    /// generations. A word pcs would refuse refuses the whole command.
    fn read(c: &PcsCmd, mut r: Resource, more: &[&str]) -> Result<CreateArgs, String> {
        let mut a = CreateArgs {
            r: Resource::new("", Kind::Group, c.loc.clone()),
            given: Vec::new(),
            clone: None,
            group: c.flag("--group").map(str::to_string),
            before: c.flag("--before").map(str::to_string),
            after: c.flag("--after").map(str::to_string),
            bundle: None,
        };
        let mut section = Section::Instance;
        let mut j = 0;
        while j < more.len() {
            let t = more[j];
            let next = more.get(j + 1).copied();
            match t {
                "op" => section = Section::Op,
                "meta" if a.clone.is_some() => section = Section::CloneMeta,
                "meta" => section = Section::Meta,
                "clone" | "promotable" | "master" => {
                    let id = next
                        .filter(|x| !x.contains('=') && !is_keyword(x))
                        .map(str::to_string);
                    if id.is_some() {
                        j += 1;
                    }
                    a.clone = Some(CloneSpec {
                        promotable: t != "clone",
                        suffix: if t == "master" { "master" } else { "clone" },
                        id,
                        meta: Vec::new(),
                    });
                    section = Section::Clone;
                }
                "group" | "before" | "after" | "bundle"
                    if next.is_some() && section != Section::Op =>
                {
                    let v = next.map(str::to_string);
                    match t {
                        "group" => a.group = v,
                        "before" => a.before = v,
                        "after" => a.after = v,
                        _ => a.bundle = v,
                    }
                    j += 1;
                }
                _ if section == Section::Op && !t.contains('=') => {
                    let mut op = Op::named(t, c.loc.clone());
                    op.interval = Some(default_interval(t));
                    r.ops.push(op);
                    a.given.push(t.to_string());
                }
                _ => {
                    let Some(p) = pair(t, &c.loc) else {
                        return Err(format!(
                            "`{t}` is not `name=value`: pcs refuses this command"
                        ));
                    };
                    match section {
                        Section::Instance => set_pair(&mut r.params, p),
                        Section::Meta => set_pair(&mut r.meta, p),
                        Section::Clone | Section::CloneMeta => {
                            if let Some(cl) = a.clone.as_mut() {
                                cl.meta.push(p);
                            }
                        }
                        Section::Op => match r.ops.last_mut() {
                            Some(op) => op.set(&p.name, &p.value),
                            None => {
                                return Err(format!("`op` needs an operation name before `{t}`"))
                            }
                        },
                    }
                }
            }
            j += 1;
        }
        if c.has("--clone") && a.clone.is_none() {
            a.clone = Some(CloneSpec {
                promotable: false,
                suffix: "clone",
                id: None,
                meta: Vec::new(),
            });
        }
        if c.has("--master") && a.clone.is_none() {
            // pcs 0.9: with --master all meta attributes go to the master.
            a.clone = Some(CloneSpec {
                promotable: true,
                suffix: "master",
                id: None,
                meta: std::mem::take(&mut r.meta),
            });
        }
        a.r = r;
        Ok(a)
    }
}

fn create(
    m: &mut Model,
    c: &PcsCmd,
    stonith: bool,
    id: &str,
    agent: &str,
    more: &[&str],
) -> Outcome {
    if agent.contains('=') || agent.starts_with('-') {
        return Err(format!(
            "`{agent}` is not an agent: pcs needs `create <id> <agent> [options]`, so it refuses this command"
        ));
    }
    if m.by_id.contains_key(id) || m.templates.contains_key(id) {
        return Err(format!(
            "`{id}` already exists, so pcs refuses to create it again"
        ));
    }
    let agent = agent_of(agent, stonith);
    let mut r = Resource::new(id, Kind::Primitive(agent.clone()), c.loc.clone());
    r.ignores = c.ignores.clone();
    let CreateArgs {
        mut r,
        given,
        clone,
        group,
        before,
        after,
        bundle,
    } = CreateArgs::read(c, r, more)?;
    if c.has("--disabled") {
        set_pair(
            &mut r.meta,
            pair("target-role=Stopped", &c.loc).expect("a pair"),
        );
    }
    let given: Vec<&str> = given.iter().map(String::as_str).collect();
    let defaults = default_ops(
        &agent,
        stonith,
        c.has("--no-default-ops"),
        &given,
        c.generation,
        &c.loc,
    );
    r.ops.extend(defaults);
    r.rename_legacy_meta();
    // Everything pcs checks before it writes anything.
    if clone.is_some() && (group.is_some() || bundle.is_some()) {
        return Err(
            "pcs creates a resource in a clone, a group or a bundle, not in two of them".into(),
        );
    }
    let group_idx = match &group {
        Some(g) => match m.by_id.get(g).copied() {
            Some(gi) if m.resources[gi].kind != Kind::Group => {
                return Err(format!(
                    "`{g}` is not a group, so pcs refuses to put `{id}` in it"
                ));
            }
            found => found,
        },
        None => None,
    };
    for x in [&before, &after].into_iter().flatten() {
        let in_group = group_idx.is_some_and(|gi| {
            m.resources[gi]
                .children
                .iter()
                .any(|&k| m.resources[k].id == *x)
        });
        if !in_group {
            return Err(format!(
                "`{x}` is not in group `{}`, so pcs refuses this command",
                group.as_deref().unwrap_or("?")
            ));
        }
    }
    let bundle_idx = match &bundle {
        Some(b) => match m.by_id.get(b).copied() {
            Some(bi) if m.resources[bi].kind == Kind::Bundle => Some(bi),
            _ => return Err(format!("`{b}` is not a bundle")),
        },
        None => None,
    };
    let idx = m.add(r);
    if let Some(bi) = bundle_idx {
        m.attach(bi, idx, None);
    }
    if let Some(g) = group {
        let gi = group_idx.unwrap_or_else(|| m.add(Resource::new(&g, Kind::Group, c.loc.clone())));
        let kids = &m.resources[gi].children;
        let pos = match (&before, &after) {
            (Some(b), _) => kids.iter().position(|&k| m.resources[k].id == *b),
            (_, Some(a)) => kids
                .iter()
                .position(|&k| m.resources[k].id == *a)
                .map(|p| p + 1),
            _ => None,
        };
        m.attach(gi, idx, pos);
    }
    if let Some(cl) = clone {
        let cid = cl.id.unwrap_or_else(|| format!("{id}-{}", cl.suffix));
        wrap_clone(m, idx, &cid, cl.promotable, cl.meta, c.loc.clone());
    }
    Ok(true)
}

fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "op" | "meta" | "clone" | "promotable" | "master" | "group" | "bundle" | "before" | "after"
    )
}

/// Wrap `target` in a new clone (promotable or not).
fn wrap_clone(
    m: &mut Model,
    target: usize,
    clone_id: &str,
    promotable: bool,
    meta: Vec<NvPair>,
    loc: Loc,
) {
    let mut cl = Resource::new(clone_id, Kind::Clone { promotable }, loc);
    cl.meta = meta;
    cl.rename_legacy_meta();
    cl.promotable_from_meta();
    let old_parent = m.resources[target].parent;
    let ci = m.add(cl);
    if let Some(p) = old_parent {
        // pcs puts the clone where the resource was.
        let pos = m.resources[p].children.iter().position(|&k| k == target);
        m.attach(p, ci, pos);
    }
    m.attach(ci, target, None);
}

fn find(m: &Model, id: &str) -> Result<usize, String> {
    m.by_id
        .get(id)
        .copied()
        .ok_or_else(|| format!("no resource `{id}` was created before this line"))
}

/// `resource delete <id>…`: a group or clone goes with its members, and a
/// group left empty goes too; constraints naming them are removed.
fn delete(m: &mut Model, ids: &[&str]) -> Outcome {
    for id in ids.iter().filter(|x| !x.starts_with("--")) {
        let i = find(m, id)?;
        m.delete(i, Members::Delete);
    }
    Ok(true)
}

/// `resource group add <g> <id>… [--before|--after <id>]` (also `before`
/// and `after` words, 0.11.7+). pcs creates the group when needed and moves
/// a resource out of its old group. A member that does not exist makes pcs
/// refuse the whole command: it is kept as a missing member (NFS001).
fn group_add(m: &mut Model, c: &PcsCmd, g: &str, words: &[&str]) -> Outcome {
    let mut ids = Vec::new();
    let mut before = c.flag("--before").map(str::to_string);
    let mut after = c.flag("--after").map(str::to_string);
    let mut k = 0;
    while k < words.len() {
        match (words[k], words.get(k + 1)) {
            ("before", Some(x)) => {
                before = Some(x.to_string());
                k += 1;
            }
            ("after", Some(x)) => {
                after = Some(x.to_string());
                k += 1;
            }
            (w, _) => ids.push(w),
        }
        k += 1;
    }
    if ids.is_empty() {
        return Err("expected `pcs resource group add <group> <resource>…`".into());
    }
    let missing: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|x| !m.by_id.contains_key(*x))
        .collect();
    if !missing.is_empty() {
        for x in missing {
            m.missing_members.push(MissingMember {
                container: g.to_string(),
                member: x.to_string(),
                loc: c.loc.clone(),
            });
        }
        return Ok(true);
    }
    if let Some(&gi) = m.by_id.get(g) {
        if m.resources[gi].kind != Kind::Group {
            return Err(format!("`{g}` is not a group"));
        }
    }
    for x in ids.iter() {
        let i = m.by_id[*x];
        if !matches!(m.resources[i].kind, Kind::Primitive(_)) {
            return Err(format!(
                "`{x}` is not a primitive; pcs puts only primitives in a group"
            ));
        }
        if m.clone_of(i).is_some() {
            return Err(format!(
                "`{x}` is in a clone; pcs refuses to put it in a group"
            ));
        }
    }
    let gi = match m.by_id.get(g) {
        Some(&gi) => gi,
        None => m.add(Resource::new(g, Kind::Group, c.loc.clone())),
    };
    let anchor = before.as_deref().or(after.as_deref());
    let mut pos = match anchor {
        Some(x) => {
            let p = m.resources[gi]
                .children
                .iter()
                .position(|&k| m.resources[k].id == x);
            match p {
                Some(p) => Some(if after.is_some() { p + 1 } else { p }),
                None => return Err(format!("`{x}` is not in group `{g}`")),
            }
        }
        None => None,
    };
    for x in ids {
        let i = m.by_id[x];
        m.attach(gi, i, pos);
        pos = pos.map(|p| p + 1);
    }
    Ok(true)
}

/// `resource group remove <g> [<id>…]` / `resource ungroup <g> [<id>…]`:
/// the members leave the group (all of them when none is named).
fn ungroup(m: &mut Model, g: &str, ids: &[&str]) -> Outcome {
    let gi = find(m, g)?;
    if m.resources[gi].kind != Kind::Group {
        return Err(format!("`{g}` is not a group"));
    }
    let members: Vec<usize> = if ids.is_empty() {
        m.resources[gi].children.clone()
    } else {
        let mut v = Vec::new();
        for id in ids {
            let i = find(m, id)?;
            if m.resources[i].parent != Some(gi) {
                return Err(format!("`{id}` is not in group `{g}`"));
            }
            v.push(i);
        }
        v
    };
    // A group inside a clone is replaced by its members there; elsewhere
    // they become top-level resources.
    for i in members {
        m.detach(i);
    }
    Ok(true)
}

/// `resource clone|promotable <id> [<clone id>] [meta] [k=v…]`.
fn clone(m: &mut Model, c: &PcsCmd, target: &str, more: &[&str], promotable: bool) -> Outcome {
    let ti = find(m, target)?;
    if m.clone_of(ti).is_some() || matches!(m.resources[ti].kind, Kind::Clone { .. }) {
        return Err(format!("`{target}` is already a clone"));
    }
    let (cid, opts) = match more {
        [x, o @ ..] if !x.contains('=') && *x != "meta" => (Some(x.to_string()), o),
        o => (None, o),
    };
    let meta: Vec<NvPair> = opts.iter().filter_map(|o| pair(o, &c.loc)).collect();
    let cid = cid.unwrap_or_else(|| format!("{target}-clone"));
    wrap_clone(m, ti, &cid, promotable, meta, c.loc.clone());
    Ok(true)
}

/// pcs 0.9 `resource master [<master id>] <id> [options]`.
fn master(m: &mut Model, c: &PcsCmd, more: &[&str]) -> Outcome {
    let (target, mid, opts) = match more {
        [x, y, o @ ..] if !y.contains('=') && m.by_id.contains_key(*y) => {
            (*y, Some(x.to_string()), o)
        }
        [x, o @ ..] => (*x, None, o),
        [] => {
            return Err("expected `pcs resource master [<master id>] <resource> [options]`".into())
        }
    };
    let ti = find(m, target)?;
    let meta = opts.iter().filter_map(|o| pair(o, &c.loc)).collect();
    let mid = mid.unwrap_or_else(|| format!("{target}-master"));
    wrap_clone(m, ti, &mid, true, meta, c.loc.clone());
    Ok(true)
}

/// `resource unclone <id>`: the clone goes, its member stays.
fn unclone(m: &mut Model, id: &str) -> Outcome {
    let i = find(m, id)?;
    let ci = if matches!(m.resources[i].kind, Kind::Clone { .. }) {
        i
    } else {
        m.clone_of(i)
            .ok_or_else(|| format!("`{id}` is not a clone"))?
    };
    m.delete(ci, Members::Keep);
    Ok(true)
}

/// `resource update <id> [k=v…] [op <name> k=v…] [meta k=v…]` (and
/// `resource meta <id> k=v…`). Options of a clone or group are its meta
/// attributes. `op <name>` replaces the operations of that name.
fn update(m: &mut Model, c: &PcsCmd, id: &str, more: &[&str], meta_only: bool) -> Outcome {
    let ri = find(m, id)?;
    let container = !matches!(m.resources[ri].kind, Kind::Primitive(_));
    let mut section = if meta_only || container {
        "meta"
    } else {
        "params"
    };
    for t in more {
        match *t {
            "meta" => section = "meta",
            "op" => section = "op",
            _ if section == "op" && !t.contains('=') => {
                let r = &mut m.resources[ri];
                r.ops.retain(|o| o.name != *t);
                let mut op = Op::named(t, c.loc.clone());
                op.interval = Some(default_interval(t));
                r.ops.push(op);
            }
            _ => {
                let Some(p) = pair(t, &c.loc) else {
                    return Err(format!("`{t}` is not `name=value`"));
                };
                let r = &mut m.resources[ri];
                match section {
                    "params" => set_pair(&mut r.params, p),
                    "meta" => set_pair(&mut r.meta, p),
                    _ => match r.ops.last_mut() {
                        Some(op) => op.set(&p.name, &p.value),
                        None => return Err("`op` needs an operation name".into()),
                    },
                }
            }
        }
    }
    let r = &mut m.resources[ri];
    r.rename_legacy_meta();
    r.promotable_from_meta();
    Ok(true)
}

/// `resource enable|disable|manage|unmanage <id>…`.
fn set_meta(m: &mut Model, c: &PcsCmd, ids: &[&str], name: &str, value: Option<&str>) -> Outcome {
    for id in ids.iter().filter(|x| !x.starts_with("--")) {
        let i = find(m, id)?;
        let meta = &mut m.resources[i].meta;
        meta.retain(|p| p.name != name);
        if let Some(v) = value {
            meta.push(NvPair {
                name: name.to_string(),
                value: v.to_string(),
                loc: c.loc.clone(),
                conditional: false,
            });
        }
    }
    Ok(true)
}

/// `resource op add <id> <action> [k=v…]`.
fn op_add(m: &mut Model, c: &PcsCmd, id: &str, action: &str, more: &[&str]) -> Outcome {
    let ri = find(m, id)?;
    let mut op = Op::named(action, c.loc.clone());
    op.interval = Some(default_interval(action));
    for t in more {
        match t.split_once('=') {
            Some((k, v)) => op.set(k, v),
            None => return Err(format!("`{t}` is not `name=value`")),
        }
    }
    m.resources[ri].ops.push(op);
    Ok(true)
}

/// `resource op remove <id> <action> [k=v…]`, or `<op id>` as pcs names
/// them (`<rsc>-<action>-interval-<interval>`).
fn op_remove(m: &mut Model, id: &str, more: &[&str]) -> Outcome {
    let (ri, action, interval) = match (m.by_id.get(id), more) {
        (Some(&ri), [action, opts @ ..]) => {
            let interval = opts
                .iter()
                .find_map(|o| o.strip_prefix("interval="))
                .and_then(crate::formats::duration::pacemaker);
            (ri, action.to_string(), interval)
        }
        (None, []) => {
            // An operation id: find the resource whose id prefixes it.
            let found = m.by_id.iter().find_map(|(rid, &ri)| {
                let rest = id.strip_prefix(rid.as_str())?.strip_prefix('-')?;
                let (action, interval) = rest.split_once("-interval-")?;
                Some((
                    ri,
                    action.to_string(),
                    crate::formats::duration::pacemaker(interval),
                ))
            });
            found.ok_or_else(|| format!("no operation `{id}`"))?
        }
        _ => return Err(format!("no resource `{id}`")),
    };
    let ops = &mut m.resources[ri].ops;
    let before = ops.len();
    ops.retain(|o| o.name != action || interval.is_some_and(|i| o.interval != Some(i)));
    if ops.len() == before {
        return Err(format!("`{id}` has no `{action}` operation"));
    }
    Ok(true)
}

/// `resource [op] defaults [update|set create …] k=v…`.
fn defaults(m: &mut Model, c: &PcsCmd, more: &[&str], op: bool) -> Outcome {
    let list = if op {
        &mut m.op_defaults
    } else {
        &mut m.rsc_defaults
    };
    let (words, conditional): (Vec<&str>, bool) = match more {
        ["set", "create", rest @ ..] => {
            // `set create [id=…] [score=…] meta k=v… [rule …]`
            let meta = rest
                .iter()
                .position(|w| *w == "meta")
                .map_or(rest.len(), |p| p + 1);
            let rule = rest.iter().position(|w| *w == "rule");
            let end = rule.unwrap_or(rest.len());
            (rest[meta.min(end)..end].to_vec(), rule.is_some())
        }
        ["set", "update", _, "meta", rest @ ..] => (rest.to_vec(), false),
        ["set", "delete" | "remove", ..] => return Ok(true),
        ["update", rest @ ..] => (rest.to_vec(), false),
        ["config" | "list"] | [] => return Ok(false),
        rest => (rest.to_vec(), false),
    };
    let mut any = false;
    for w in words {
        let Some(mut p) = pair(w, &c.loc) else {
            return Err(format!("`{w}` is not `name=value`"));
        };
        p.conditional = conditional;
        if p.value.is_empty() || !conditional {
            list.retain(|x| x.name != p.name || x.conditional);
        }
        if !p.value.is_empty() {
            list.push(p);
        }
        any = true;
    }
    if !any {
        return Err("sets no default (expected name=value)".into());
    }
    Ok(true)
}
