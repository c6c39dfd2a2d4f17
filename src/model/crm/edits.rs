//! crm statements that change objects already defined: `modgroup`,
//! `rename`, `delete`/`rm`, `set`, `monitor`, `default-timeouts`, and the
//! `crm resource` commands that write the configuration (`meta`, `param`,
//! `manage`, `unmanage`, `start`, `stop`, `maintenance`).

use super::super::advised;
use super::super::edit::Members;
use super::*;

/// Put `value` as the only value of `name` in `list`.
fn set_value(list: &mut Vec<NvPair>, name: &str, value: &str, loc: Loc) {
    list.retain(|p| p.name != name);
    list.push(NvPair {
        name: name.to_string(),
        value: value.to_string(),
        loc,
        conditional: false,
    });
}

impl Crm {
    fn members_of(&mut self, group: usize) -> Option<&mut Vec<(String, u32)>> {
        self.members
            .iter_mut()
            .find(|(c, _)| *c == group)
            .map(|(_, m)| m)
    }

    /// `modgroup <group> add <rsc> [before|after <member>]` and
    /// `modgroup <group> remove <rsc>` (crmsh `do_modgroup`).
    pub(super) fn modgroup(&mut self, s: &Stmt) {
        let w = s.strs();
        let (gid, sub, rid, pos) = match w.as_slice() {
            [_, g, sub @ ("add" | "remove"), r] => (*g, *sub, *r, None),
            [_, g, "add", r, p @ ("before" | "after"), x] => (*g, "add", *r, Some((*p, *x))),
            _ => {
                self.unparsed(s, "expected `modgroup <group> add <rsc> [before|after <member>]` or `modgroup <group> remove <rsc>`");
                return;
            }
        };
        let Some(g) = self
            .m
            .by_id
            .get(gid)
            .copied()
            .filter(|&g| self.m.resources[g].kind == Kind::Group)
        else {
            self.unparsed(s, format!("`{gid}` is not a group"));
            return;
        };
        let line = s.line;
        let members = self.members_of(g).expect("every group has a member list");
        let at = |members: &Vec<(String, u32)>, x: &str| members.iter().position(|(n, _)| n == x);
        let err = match (sub, pos) {
            ("remove", _) => match at(members, rid) {
                Some(i) => {
                    members.remove(i);
                    None
                }
                None => Some(format!("`{rid}` is not a member of `{gid}`")),
            },
            (_, Some((side, x))) => match at(members, x) {
                Some(i) => {
                    let i = if side == "after" { i + 1 } else { i };
                    members.insert(i, (rid.to_string(), line));
                    None
                }
                None => Some(format!("`{x}` is not a member of `{gid}`")),
            },
            _ => {
                members.push((rid.to_string(), line));
                None
            }
        };
        if let Some(why) = err {
            self.unparsed(s, why);
        } else if members_empty(&self.members, g) {
            self.m.delete(g, Members::Keep);
        }
    }

    /// `rename <old> <new>`.
    pub(super) fn rename(&mut self, s: &Stmt) {
        let [_, old, new] = s.strs()[..] else {
            self.unparsed(s, "expected `rename <old id> <new id>`");
            return;
        };
        let (old, new) = (old.to_string(), new.to_string());
        if !self.m.rename(&old, &new) {
            let why = if self.m.resolves(&new) || self.m.has_constraint(&new) {
                format!("`{new}` is already in use")
            } else {
                format!("no object `{old}` to rename")
            };
            self.unparsed(s, why);
            return;
        }
        for (_, names) in &mut self.members {
            for (n, _) in names.iter_mut() {
                if *n == old {
                    *n = new.clone();
                }
            }
        }
        if let Some(mut t) = self.templates.remove(&old) {
            t.id = new.clone();
            self.templates.insert(new, t);
        }
    }

    /// `delete [-f|--force] <id> …` (crmsh `cib_factory.delete`): a
    /// container's members stay, a group left empty goes, and references
    /// in constraints are dropped.
    pub(super) fn delete(&mut self, s: &Stmt) {
        let ids: Vec<String> = s.strs()[1..]
            .iter()
            .filter(|w| !matches!(**w, "-f" | "--force"))
            .map(|w| w.to_string())
            .collect();
        if ids.is_empty() {
            self.unparsed(s, "expected `delete <id> …`");
            return;
        }
        for id in ids {
            if let Some(idx) = self.m.by_id.get(&id).copied() {
                self.delete_resource(idx);
            } else if self.m.templates.contains_key(&id) {
                let users = self.m.templates.remove(&id).unwrap_or_default();
                self.templates.remove(&id);
                for u in users.iter().chain(self.template_users(&id).iter()) {
                    if let Some(&i) = self.m.by_id.get(u) {
                        self.delete_resource(i);
                    }
                }
                self.m.drop_references(&id);
            } else if self.m.tags.remove(&id).is_some() || self.m.delete_constraint(&id) {
                self.m.constraint_ignores.remove(&id);
            } else {
                let why = format!("no object `{id}` to delete");
                self.unparsed(s, why);
            }
        }
    }

    fn template_users(&self, t: &str) -> Vec<String> {
        self.m
            .resources
            .iter()
            .enumerate()
            .filter(|(i, r)| r.template.as_deref() == Some(t) && !self.m.is_removed(*i))
            .map(|(_, r)| r.id.clone())
            .collect()
    }

    fn delete_resource(&mut self, idx: usize) {
        let id = self.m.resources[idx].id.clone();
        self.m.delete(idx, Members::Keep);
        self.members.retain(|(c, _)| *c != idx);
        let mut emptied = Vec::new();
        for (c, names) in &mut self.members {
            let before = names.len();
            names.retain(|(n, _)| *n != id);
            if before > 0 && names.is_empty() {
                emptied.push(*c);
            }
        }
        for c in emptied {
            self.delete_resource(c);
        }
    }

    /// `monitor <rsc>[:<role>] <interval>[:<timeout>]`.
    pub(super) fn monitor(&mut self, s: &Stmt) {
        let [_, target, timing] = s.strs()[..] else {
            self.unparsed(
                s,
                "expected `monitor <rsc>[:<role>] <interval>[:<timeout>]`",
            );
            return;
        };
        let (rsc, role) = target
            .split_once(':')
            .map_or((target, None), |(r, x)| (r, Some(x)));
        let (interval, timeout) = timing
            .split_once(':')
            .map_or((timing, None), |(i, t)| (i, Some(t)));
        let Some(idx) = self.m.by_id.get(rsc).copied() else {
            self.unparsed(s, format!("no resource `{rsc}` to monitor"));
            return;
        };
        let mut op = Op::named("monitor", self.loc(s.line));
        op.set("interval", interval);
        if let Some(t) = timeout {
            op.set("timeout", t);
        }
        if let Some(r) = role {
            op.set("role", r);
        }
        self.m.resources[idx].ops.push(op);
    }

    /// `default-timeouts <id> …`: crmsh sets each start, stop and monitor
    /// (plus promote/demote in a promotable clone) to the agent's advised
    /// timeout and adds the start and stop it lacks (`cib_factory.default_timeouts`).
    pub(super) fn default_timeouts(&mut self, s: &Stmt) {
        self.place_members(false);
        for id in &s.strs()[1..] {
            let Some(idx) = self.m.by_id.get(*id).copied() else {
                self.unparsed(s, format!("no resource `{id}`"));
                continue;
            };
            let Some(actions) = self.m.resources[idx].agent().and_then(advised::actions) else {
                continue; // no meta-data known: crmsh leaves it as it is
            };
            let promotable = self
                .m
                .clone_of(idx)
                .is_some_and(|c| self.m.resources[c].kind == Kind::Clone { promotable: true });
            let mut implied = vec!["start", "stop"];
            if promotable {
                implied.extend(["promote", "demote"]);
            }
            let advised = |name: &str| {
                actions
                    .iter()
                    .find(|a| a.name == name)
                    .and_then(|a| a.timeout())
            };
            let loc = self.loc(s.line);
            let r = &mut self.m.resources[idx];
            for op in &mut r.ops {
                if implied.contains(&op.name.as_str()) || op.name == "monitor" {
                    op.timeout = advised(&op.name).or(op.timeout);
                }
            }
            for name in implied {
                if r.op(name).next().is_none() {
                    if let Some(t) = advised(name) {
                        let mut op = Op::named(name, loc.clone());
                        op.timeout = Some(t);
                        op.interval = Some(std::time::Duration::ZERO);
                        r.ops.push(op);
                    }
                }
            }
        }
    }

    /// `set <id>.<name> <value>`, `set <id>.<op>.<attr> <value>` and
    /// `set <id>.<op>.<interval>.<attr> <value>` (crmsh `do_set`).
    pub(super) fn set(&mut self, s: &Stmt) {
        let [_, path, value] = s.strs()[..] else {
            self.unparsed(s, "expected `set <id>.[<op>.][<interval>.]<name> <value>`");
            return;
        };
        let parts: Vec<&str> = path.split('.').collect();
        let Some(idx) = parts.first().and_then(|id| self.m.by_id.get(*id)).copied() else {
            self.unparsed(s, format!("no object for `{path}`"));
            return;
        };
        let loc = self.loc(s.line);
        let r = &mut self.m.resources[idx];
        let found = match parts[1..] {
            [name] => {
                if r.params.iter().any(|p| p.name == name) {
                    set_value(&mut r.params, name, value, loc);
                    true
                } else if r.meta.iter().any(|p| p.name == name) {
                    set_value(&mut r.meta, name, value, loc);
                    r.rename_legacy_meta();
                    r.promotable_from_meta();
                    true
                } else {
                    false
                }
            }
            [op, attr] | [op, _, attr] => {
                let mut hit = false;
                for o in r.ops.iter_mut().filter(|o| o.name == op) {
                    o.set(attr, value);
                    hit = true;
                }
                hit
            }
            _ => false,
        };
        if !found {
            self.unparsed(s, format!("`{path}` names no attribute or operation"));
        }
    }

    /// `crm resource …` commands that change the configuration.
    pub(super) fn resource_command(&mut self, s: &Stmt) {
        let w = s.strs();
        let loc = self.loc(s.line);
        let meta = |this: &mut Crm, id: &str, name: &str, value: Option<&str>| -> bool {
            let Some(idx) = this.m.by_id.get(id).copied() else {
                return false;
            };
            let r = &mut this.m.resources[idx];
            match value {
                Some(v) => set_value(&mut r.meta, name, v, loc.clone()),
                None => r.meta.retain(|p| p.name != name),
            }
            true
        };
        let ok = match w.as_slice() {
            ["start", ids @ ..] => ids
                .iter()
                .all(|id| meta(self, id, "target-role", Some("Started"))),
            ["stop", ids @ ..] => ids
                .iter()
                .all(|id| meta(self, id, "target-role", Some("Stopped"))),
            ["manage", ids @ ..] => ids
                .iter()
                .all(|id| meta(self, id, "is-managed", Some("true"))),
            ["unmanage", ids @ ..] => ids
                .iter()
                .all(|id| meta(self, id, "is-managed", Some("false"))),
            ["maintenance", id] | ["maintenance", id, "on" | "true"] => {
                meta(self, id, "maintenance", Some("true"))
            }
            ["maintenance", id, "off" | "false"] => meta(self, id, "maintenance", Some("false")),
            ["meta", id, "set", name, value] => meta(self, id, name, Some(value)),
            ["meta", id, "delete", name] => meta(self, id, name, None),
            ["param" | "params", id, "set", name, value] => match self.m.by_id.get(*id).copied() {
                Some(idx) => {
                    set_value(&mut self.m.resources[idx].params, name, value, loc.clone());
                    true
                }
                None => false,
            },
            ["param" | "params", id, "delete", name] => match self.m.by_id.get(*id).copied() {
                Some(idx) => {
                    self.m.resources[idx].params.retain(|p| p.name != *name);
                    true
                }
                None => false,
            },
            ["status" | "show" | "list" | "locate" | "cleanup" | "refresh" | "reprobe" | "move"
            | "migrate" | "unmove" | "unmigrate" | "clear" | "ban" | "restart" | "promote"
            | "demote" | "trace" | "untrace" | "failcount" | "operations" | "constraints"
            | "scores" | "secret" | "utilization" | "param-get" | "meta-get" | "ls" | "help"
            | "end" | "up" | "quit", ..] => true,
            [] => true,
            _ => {
                self.unparsed(
                    s,
                    format!(
                        "`crm resource {}` is not a resource command nfsha reads",
                        w.join(" ")
                    ),
                );
                return;
            }
        };
        if !ok {
            self.unparsed(s, "names a resource that is not defined");
        }
    }
}

fn members_empty(members: &[(usize, Vec<(String, u32)>)], g: usize) -> bool {
    members
        .iter()
        .find(|(c, _)| *c == g)
        .is_some_and(|(_, m)| m.is_empty())
}
