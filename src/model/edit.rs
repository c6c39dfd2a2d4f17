//! Changing objects after they are defined, as crm (`modgroup`, `rename`,
//! `delete`) and pcs (`resource group add|remove`, `ungroup`, `unclone`,
//! `delete`, `constraint delete`) do. Deleted resources keep their index
//! until [`Model::finish`] drops them, so indices held by a parser stay valid
//! while it works.

use super::*;

/// What deleting a container does to its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Members {
    /// The members stay, as top-level resources (crmsh, `pcs resource ungroup`).
    Keep,
    /// The members go too (`pcs resource delete <group>`).
    Delete,
}

impl Model {
    /// Whether resource `idx` was deleted by a later statement.
    pub fn is_removed(&self, idx: usize) -> bool {
        self.removed.contains(&idx)
    }

    /// Take `child` out of its container. A group or clone left empty is
    /// deleted, as both crmsh and pcs do (the schema allows no empty one).
    pub fn detach(&mut self, child: usize) {
        let Some(old) = self.resources[child].parent.take() else {
            return;
        };
        self.resources[old].children.retain(|&c| c != child);
        if self.resources[old].children.is_empty() {
            self.delete(old, Members::Keep);
        }
    }

    /// Put `child` into `parent` before position `pos` of its members (at
    /// the end when `None` or past the end), taking it out of its old
    /// container first. Refused (false) when `parent` is `child` or inside it.
    pub fn attach(&mut self, parent: usize, child: usize, pos: Option<usize>) -> bool {
        if parent == child || self.ancestors(parent).any(|a| a == child) {
            return false;
        }
        if self.resources[child].parent == Some(parent) {
            self.resources[parent].children.retain(|&c| c != child);
        } else {
            self.detach(child);
        }
        self.resources[child].parent = Some(parent);
        let kids = &mut self.resources[parent].children;
        let at = pos.unwrap_or(kids.len()).min(kids.len());
        kids.insert(at, child);
        true
    }

    /// Delete resource `idx` and every constraint reference to it (a
    /// constraint left with fewer than two resources goes too).
    pub fn delete(&mut self, idx: usize, members: Members) {
        if self.is_removed(idx) {
            return;
        }
        let children = std::mem::take(&mut self.resources[idx].children);
        for c in children {
            self.resources[c].parent = None;
            if members == Members::Delete {
                self.delete(c, Members::Delete);
            }
        }
        self.removed.push(idx);
        let id = self.resources[idx].id.clone();
        if self.by_id.get(&id) == Some(&idx) {
            self.by_id.remove(&id);
        }
        self.detach(idx);
        self.drop_references(&id);
    }

    /// Remove `id` from every constraint and tag. Orders and colocations
    /// left with fewer than two resources, and locations of `id`, are deleted
    /// (crmsh's "hanging constraint deleted", pcs's "Removing Constraint").
    pub fn drop_references(&mut self, id: &str) {
        fn prune(sets: &mut Vec<RscSet>, id: &str) {
            for s in sets.iter_mut() {
                s.resources.retain(|r| r != id);
            }
            sets.retain(|s| !s.resources.is_empty());
        }
        let total = |sets: &[RscSet]| sets.iter().map(|s| s.resources.len()).sum::<usize>();
        for o in &mut self.orders {
            prune(&mut o.sets, id);
        }
        self.orders.retain(|o| total(&o.sets) >= 2);
        for c in &mut self.colocations {
            prune(&mut c.sets, id);
        }
        self.colocations.retain(|c| total(&c.sets) >= 2);
        self.locations.retain(|l| l.rsc != id);
        for members in self.tags.values_mut() {
            members.retain(|m| m != id);
        }
        self.tags.retain(|_, m| !m.is_empty());
    }

    /// Delete the constraint `id` (order, colocation or location); false
    /// when there is none.
    pub fn delete_constraint(&mut self, id: &str) -> bool {
        let before = self.orders.len() + self.colocations.len() + self.locations.len();
        self.orders.retain(|o| o.id != id);
        self.colocations.retain(|c| c.id != id);
        self.locations.retain(|l| l.id != id);
        before != self.orders.len() + self.colocations.len() + self.locations.len()
    }

    /// Whether `id` names a constraint.
    pub fn has_constraint(&self, id: &str) -> bool {
        self.orders.iter().any(|o| o.id == id)
            || self.colocations.iter().any(|c| c.id == id)
            || self.locations.iter().any(|l| l.id == id)
    }

    /// Rename a resource, template, tag or constraint, and every reference
    /// to it. False when `old` names nothing or `new` is taken.
    pub fn rename(&mut self, old: &str, new: &str) -> bool {
        if self.resolves(new) || self.has_constraint(new) {
            return false;
        }
        let mut found = false;
        if let Some(idx) = self.by_id.remove(old) {
            self.resources[idx].id = new.to_string();
            self.by_id.insert(new.to_string(), idx);
            found = true;
        }
        if let Some(users) = self.templates.remove(old) {
            self.templates.insert(new.to_string(), users);
            for r in &mut self.resources {
                if r.template.as_deref() == Some(old) {
                    r.template = Some(new.to_string());
                }
            }
            found = true;
        }
        if let Some(members) = self.tags.remove(old) {
            self.tags.insert(new.to_string(), members);
            found = true;
        }
        for o in &mut self.orders {
            if o.id == old {
                o.id = new.to_string();
                found = true;
            }
        }
        for c in &mut self.colocations {
            if c.id == old {
                c.id = new.to_string();
                found = true;
            }
        }
        for l in &mut self.locations {
            if l.id == old {
                l.id = new.to_string();
                found = true;
            }
        }
        if !found {
            return false;
        }
        let swap = |s: &mut String| {
            if s == old {
                *s = new.to_string();
            }
        };
        for set in self
            .orders
            .iter_mut()
            .flat_map(|o| o.sets.iter_mut())
            .chain(self.colocations.iter_mut().flat_map(|c| c.sets.iter_mut()))
        {
            set.resources.iter_mut().for_each(swap);
        }
        self.locations.iter_mut().for_each(|l| swap(&mut l.rsc));
        for members in self.tags.values_mut() {
            members.iter_mut().for_each(swap);
        }
        for users in self.templates.values_mut() {
            users.iter_mut().for_each(swap);
        }
        for m in &mut self.missing_members {
            swap(&mut m.container);
        }
        if let Some(codes) = self.constraint_ignores.remove(old) {
            self.constraint_ignores.insert(new.to_string(), codes);
        }
        true
    }

    /// Drop the deleted resources, renumbering the rest.
    pub(super) fn compact(&mut self) {
        if self.removed.is_empty() {
            return;
        }
        let removed: std::collections::HashSet<usize> = self.removed.drain(..).collect();
        let mut map = vec![usize::MAX; self.resources.len()];
        let mut kept = Vec::with_capacity(self.resources.len() - removed.len());
        for (i, r) in std::mem::take(&mut self.resources).into_iter().enumerate() {
            if !removed.contains(&i) {
                map[i] = kept.len();
                kept.push(r);
            }
        }
        for r in &mut kept {
            r.parent = r.parent.map(|p| map[p]).filter(|&p| p != usize::MAX);
            r.children = r
                .children
                .iter()
                .map(|&c| map[c])
                .filter(|&c| c != usize::MAX)
                .collect();
        }
        self.resources = kept;
        self.by_id.clear();
        for (i, r) in self.resources.iter().enumerate() {
            self.by_id.entry(r.id.clone()).or_insert(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        let f: Arc<str> = Arc::from("t");
        let mut m = Model::default();
        let g = m.add(Resource::new("g", Kind::Group, Loc::new(&f, 1)));
        for id in ["a", "b", "c"] {
            let mut r = Resource::new(id, Kind::Primitive(Agent::parse("Dummy")), Loc::new(&f, 2));
            r.parent = Some(g);
            m.add(r);
        }
        m.orders.push(Order {
            id: "o".into(),
            kind: OrderKind::Mandatory,
            symmetrical: None,
            sets: vec![RscSet::one("a", None, None), RscSet::one("x", None, None)],
            simple: true,
            loc: Loc::new(&f, 3),
        });
        m
    }

    fn members(m: &Model, g: &str) -> Vec<String> {
        m.get(g)
            .map(|r| {
                r.children
                    .iter()
                    .map(|&c| m.resources[c].id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn attach_before_and_detach() {
        let mut m = model();
        let (g, c) = (m.by_id["g"], m.by_id["c"]);
        assert!(m.attach(g, c, Some(0)));
        assert_eq!(members(&m, "g"), ["c", "a", "b"]);
        assert!(!m.attach(c, g, None), "a group inside its own member");
        for id in ["a", "b", "c"] {
            let i = m.by_id[id];
            m.detach(i);
        }
        assert!(m.is_removed(g), "an empty group is deleted");
        m.finish();
        assert!(m.get("g").is_none());
        assert_eq!(m.resources.len(), 3);
    }

    #[test]
    fn delete_drops_references_and_compacts() {
        let mut m = model();
        let a = m.by_id["a"];
        m.delete(a, Members::Keep);
        assert!(m.orders.is_empty(), "an order left with one resource goes");
        m.finish();
        assert_eq!(members(&m, "g"), ["b", "c"]);
        assert_eq!(m.by_id["c"], 3 - 1);
        let g = m.by_id["g"];
        m.delete(g, Members::Delete);
        m.finish();
        assert!(m.resources.is_empty());
    }

    #[test]
    fn rename_follows_references() {
        let mut m = model();
        assert!(m.rename("a", "fs"));
        assert_eq!(m.orders[0].sets[0].resources, ["fs"]);
        assert!(m.get("fs").is_some() && m.get("a").is_none());
        assert!(!m.rename("b", "fs"), "the new id is taken");
        assert!(m.rename("o", "o2"));
        assert_eq!(m.orders[0].id, "o2");
    }
}
