//! Which resources Pacemaker must place on one node, and which it must keep
//! apart, from groups and colocations.
//!
//! Two resources are *together* when they are in one (collocated) group or
//! joined by mandatory (INFINITY) colocations. A clone is not a hub: two
//! resources each colocated with a clone that runs on several nodes may run
//! on different ones, so colocation with such a clone records only that the
//! resource runs *near* an instance of it. Two cases of a clone do place
//! together: one with a single instance (`clone-max=1`), and the Promoted
//! role of a promotable clone with one promoted instance (`promoted-max=1`,
//! the default), which is why everything colocated with DRBD's Promoted role
//! runs on one node. A negative colocation keeps resources *apart*: at
//! -INFINITY always, at a finite negative score only while another node is
//! available.

use std::collections::HashMap;

use crate::formats::bools;
use crate::model::{Kind, Model, Role, INFINITY};

/// How two resources are kept apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apart {
    /// `-INFINITY`: never on one node.
    Always,
    /// A finite negative score: apart while there is a choice.
    Preferred,
}

/// Placement components of one model.
#[derive(Debug, Default)]
pub struct Placement {
    /// Component of each resource index (and of each clone's promoted
    /// instance, at `resources.len() + clone`).
    comp: Vec<usize>,
    /// Primitives per component, in document order.
    members: HashMap<usize, Vec<usize>>,
    /// Clones an instance of which runs with each component: colocated with
    /// the clone (any role), or with its single Promoted instance.
    near_clones: HashMap<usize, Vec<usize>>,
    /// Components kept apart, both orders, with how.
    apart: HashMap<(usize, usize), Apart>,
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra] = rb;
    }
}

/// A meta attribute of a clone as a count, with Pacemaker's default.
fn count(m: &Model, c: usize, name: &str, default: i64) -> i64 {
    m.meta(c, name)
        .and_then(|p| p.value.trim().parse().ok())
        .unwrap_or(default)
}

/// What a colocation side stands for, as far as placement goes.
enum Side {
    /// This node of the union-find (a resource, or a clone's promoted instance).
    Node(usize),
    /// Some instance of this clone: not one node.
    Instances(usize),
}

impl Placement {
    pub fn compute(m: &Model) -> Placement {
        let n = m.resources.len();
        let mut parent: Vec<usize> = (0..2 * n).collect();
        for (i, r) in m.resources.iter().enumerate() {
            match r.kind {
                Kind::Group => {
                    let collocated = m
                        .meta(i, "collocated")
                        .and_then(|p| bools::pacemaker(&p.value))
                        != Some(false);
                    if collocated {
                        for &c in &r.children {
                            union(&mut parent, i, c);
                        }
                    }
                }
                // One instance is one resource; several are not one place.
                Kind::Clone { .. } if count(m, i, "clone-max", 2) == 1 => {
                    for &c in &r.children {
                        union(&mut parent, i, c);
                    }
                }
                Kind::Bundle => {
                    for &c in &r.children {
                        union(&mut parent, i, c);
                    }
                }
                _ => {}
            }
        }
        let single = |c: usize| count(m, c, "clone-max", 2) == 1;
        let side = |idx: usize, role: Role| -> Side {
            let Some(c) = std::iter::once(idx)
                .chain(m.ancestors(idx))
                .find(|&a| matches!(m.resources[a].kind, Kind::Clone { .. }))
            else {
                return Side::Node(idx);
            };
            if single(c) {
                return Side::Node(idx);
            }
            let promotable = matches!(m.resources[c].kind, Kind::Clone { promotable: true });
            if promotable && role == Role::Promoted && count(m, c, "promoted-max", 1) == 1 {
                return Side::Node(n + c);
            }
            Side::Instances(c)
        };
        let mut near: Vec<(usize, usize)> = Vec::new();
        let mut promoted: Vec<usize> = Vec::new();
        let mut apart_pairs: Vec<(usize, usize, Apart)> = Vec::new();
        for c in &m.colocations {
            for p in c.pairs() {
                let (Some(&d), Some(&q)) = (m.by_id.get(&p.dependent), m.by_id.get(&p.primary))
                else {
                    continue;
                };
                if p.score < 0 {
                    let how = if p.score <= -INFINITY {
                        Apart::Always
                    } else {
                        Apart::Preferred
                    };
                    apart_pairs.push((d, q, how));
                    continue;
                }
                if p.score < INFINITY {
                    continue;
                }
                let (ds, qs) = (side(d, p.dependent_role), side(q, p.primary_role));
                for s in [&ds, &qs] {
                    if let Side::Node(x) = s {
                        if *x >= n {
                            promoted.push(*x - n);
                        }
                    }
                }
                match (ds, qs) {
                    (Side::Node(a), Side::Node(b)) => union(&mut parent, a, b),
                    (Side::Node(a), Side::Instances(c)) => near.push((a, c)),
                    // Every instance of the dependent clone must run where the
                    // primary runs: what is active of it is there.
                    (Side::Instances(c), Side::Node(b)) => {
                        for &child in &m.resources[c].children {
                            union(&mut parent, child, b);
                        }
                    }
                    (Side::Instances(_), Side::Instances(_)) => {}
                }
            }
        }
        let comp: Vec<usize> = (0..2 * n).map(|i| find(&mut parent, i)).collect();
        let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, _) in m.primitives() {
            members.entry(comp[i]).or_default().push(i);
        }
        let mut near_clones: HashMap<usize, Vec<usize>> = HashMap::new();
        for (a, c) in near {
            near_clones.entry(comp[a]).or_default().push(c);
        }
        for c in promoted {
            near_clones.entry(comp[n + c]).or_default().push(c);
        }
        for v in near_clones.values_mut() {
            v.sort_unstable();
            v.dedup();
        }
        let mut apart = HashMap::new();
        for (a, b, how) in apart_pairs {
            let (ca, cb) = (comp[a], comp[b]);
            for key in [(ca, cb), (cb, ca)] {
                let e = apart.entry(key).or_insert(how);
                if how == Apart::Always {
                    *e = Apart::Always;
                }
            }
        }
        Placement {
            comp,
            members,
            near_clones,
            apart,
        }
    }

    /// The primitives placed together with `i` (including `i` if it is one).
    pub fn placed_with(&self, i: usize) -> &[usize] {
        self.members.get(&self.comp[i]).map_or(&[], Vec::as_slice)
    }

    /// Whether two resources are placed on one node.
    pub fn together(&self, a: usize, b: usize) -> bool {
        self.comp[a] == self.comp[b]
    }

    /// The component of `i`, for grouping (two resources are together when
    /// their components are equal).
    pub fn component(&self, i: usize) -> usize {
        self.comp[i]
    }

    /// The clones an instance of which runs where `i` runs.
    pub fn near_clones(&self, i: usize) -> &[usize] {
        self.near_clones
            .get(&self.comp[i])
            .map_or(&[], Vec::as_slice)
    }

    /// Whether (and how) `a` and `b` are kept apart.
    pub fn apart(&self, a: usize, b: usize) -> Option<Apart> {
        self.apart.get(&(self.comp[a], self.comp[b])).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::crm;
    use std::sync::Arc;

    fn model(text: &str) -> Model {
        crm::parse(text, &Arc::from("t.crm")).unwrap()
    }

    const PRIMS: &str =
        "primitive a Dummy\nprimitive b Dummy\nprimitive c Dummy\nprimitive d Dummy\n";

    #[test]
    fn groups_and_infinity_colocations_place_together() {
        let m = model(&format!(
            "{PRIMS}group g a b\ncolocation c1 inf: c g\ncolocation c2 100: d g\n"
        ));
        let p = Placement::compute(&m);
        let i = |x: &str| m.by_id[x];
        assert!(p.together(i("a"), i("b")));
        assert!(p.together(i("c"), i("a")));
        assert!(!p.together(i("d"), i("a")), "a finite score is advisory");
        assert_eq!(p.placed_with(i("a")).len(), 3);
    }

    #[test]
    fn a_clone_is_not_a_hub() {
        let m = model(&format!(
            "{PRIMS}clone cl d\ncolocation c1 inf: a cl\ncolocation c2 inf: b cl\n"
        ));
        let p = Placement::compute(&m);
        let i = |x: &str| m.by_id[x];
        assert!(!p.together(i("a"), i("b")));
        assert!(!p.together(i("a"), i("d")));
        assert_eq!(p.near_clones(i("a")), &[i("cl")]);
        // One instance is one place.
        let m = model(&format!(
            "{PRIMS}clone cl d meta clone-max=1\ncolocation c1 inf: a cl\ncolocation c2 inf: b cl\n"
        ));
        let p = Placement::compute(&m);
        assert!(p.together(m.by_id["a"], m.by_id["b"]));
        assert!(p.together(m.by_id["a"], m.by_id["d"]));
    }

    #[test]
    fn the_single_promoted_instance_places_together() {
        let text = |max: &str| {
            format!(
                "{PRIMS}clone ms d meta promotable=true {max}\ncolocation c1 inf: a ms:Promoted\ncolocation c2 inf: b ms:Promoted\ncolocation c3 inf: c ms\n"
            )
        };
        let m = model(&text(""));
        let p = Placement::compute(&m);
        let i = |x: &str| m.by_id[x];
        assert!(p.together(i("a"), i("b")));
        assert!(!p.together(i("a"), i("c")), "any role is any instance");
        assert_eq!(p.near_clones(i("a")), &[i("ms")]);
        let m = model(&text("promoted-max=2"));
        let p = Placement::compute(&m);
        assert!(!p.together(m.by_id["a"], m.by_id["b"]));
    }

    #[test]
    fn negative_scores_keep_apart() {
        let m = model(&format!(
            "{PRIMS}group g1 a b\ngroup g2 c\ncolocation x -inf: g2 g1\ncolocation y -100: d g1\n"
        ));
        let p = Placement::compute(&m);
        let i = |x: &str| m.by_id[x];
        assert_eq!(p.apart(i("c"), i("a")), Some(Apart::Always));
        assert_eq!(p.apart(i("b"), i("c")), Some(Apart::Always));
        assert_eq!(p.apart(i("a"), i("d")), Some(Apart::Preferred));
        assert_eq!(p.apart(i("c"), i("d")), None);
    }
}
