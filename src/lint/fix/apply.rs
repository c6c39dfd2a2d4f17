//! Fixes applied to the model, as the crm and pcs commands would change the
//! CIB: so that a fix can be linted before anyone runs it.

use std::sync::Arc;

use super::{ColocSpec, Fix, OrderSpec, Place};
use crate::model::{Colocation, Loc, Model, NvPair, Op, Order, RscSet};

/// Where objects a fix creates are said to come from.
fn fix_loc() -> Loc {
    Loc::new(&Arc::from("nfsha lint --fix"), 0)
}

fn order(o: &OrderSpec, loc: Loc) -> Order {
    Order {
        id: o.id.clone(),
        kind: o.kind,
        symmetrical: o.symmetrical,
        sets: vec![
            RscSet::one(&o.first, Some(o.first_action), None),
            RscSet::one(&o.then, Some(o.then_action), None),
        ],
        simple: true,
        loc,
    }
}

fn colocation(c: &ColocSpec, loc: Loc) -> Colocation {
    Colocation {
        id: c.id.clone(),
        score: c.score,
        sets: vec![
            RscSet::one(&c.rsc, None, c.rsc_role),
            RscSet::one(&c.with, None, c.with_role),
        ],
        simple: true,
        loc,
    }
}

/// Put child `r` into group `g` at `place` (at the end when the place's
/// resource is not a member).
fn insert_in_group(m: &mut Model, g: usize, r: usize, place: &Place) {
    let children = &mut m.resources[g].children;
    children.retain(|&c| c != r);
    let (anchor, after) = match place {
        Place::After(x) => (x, true),
        Place::Before(x) => (x, false),
    };
    let pos = m
        .by_id
        .get(anchor)
        .and_then(|&a| m.resources[g].children.iter().position(|&c| c == a))
        .map(|p| if after { p + 1 } else { p });
    let children = &mut m.resources[g].children;
    match pos {
        Some(p) => children.insert(p, r),
        None => children.push(r),
    }
    m.resources[r].parent = Some(g);
}

/// Remove resource `k` (which must have no children left) and renumber.
fn remove_resource(m: &mut Model, k: usize) {
    m.resources.remove(k);
    let shift = |i: usize| if i > k { i - 1 } else { i };
    for r in &mut m.resources {
        r.parent = r.parent.filter(|&p| p != k).map(shift);
        r.children.retain(|&c| c != k);
        for c in &mut r.children {
            *c = shift(*c);
        }
    }
    m.by_id.clear();
    for (i, r) in m.resources.iter().enumerate() {
        m.by_id.entry(r.id.clone()).or_insert(i);
    }
}

/// Apply one fix. Returns what could not be done (a name that is gone), which
/// a rule that made the fix from this model never causes.
pub fn apply(m: &mut Model, fix: &Fix) -> Result<(), String> {
    let idx = |m: &Model, id: &str| {
        m.by_id
            .get(id)
            .copied()
            .ok_or_else(|| format!("no resource {id:?}"))
    };
    match fix {
        Fix::MoveInGroup { group, rsc, place } => {
            let (g, r) = (idx(m, group)?, idx(m, rsc)?);
            insert_in_group(m, g, r, place);
        }
        Fix::AddOrder(o) => m.orders.push(order(o, fix_loc())),
        Fix::ReplaceOrder(o) => {
            let old = m
                .orders
                .iter_mut()
                .find(|x| x.id == o.id)
                .ok_or_else(|| format!("no order {:?}", o.id))?;
            *old = order(o, old.loc.clone());
        }
        Fix::AddColocation(c) => m.colocations.push(colocation(c, fix_loc())),
        Fix::ReplaceColocation(c) => {
            let old = m
                .colocations
                .iter_mut()
                .find(|x| x.id == c.id)
                .ok_or_else(|| format!("no colocation {:?}", c.id))?;
            *old = colocation(c, old.loc.clone());
        }
        Fix::DeleteConstraint { id } => {
            let before = m.orders.len() + m.colocations.len() + m.locations.len();
            m.orders.retain(|o| o.id != *id);
            m.colocations.retain(|c| c.id != *id);
            m.locations.retain(|l| l.id != *id);
            if m.orders.len() + m.colocations.len() + m.locations.len() == before {
                return Err(format!("no constraint {id:?}"));
            }
        }
        Fix::SetParam { rsc, name, value } => {
            let r = idx(m, rsc)?;
            let params = &mut m.resources[r].params;
            match params.iter_mut().find(|p| p.name == *name) {
                Some(p) => p.value = value.clone(),
                None => params.push(NvPair {
                    name: name.clone(),
                    value: value.clone(),
                    loc: fix_loc(),
                    conditional: false,
                }),
            }
        }
        Fix::DeleteParam { rsc, name } => {
            let r = idx(m, rsc)?;
            m.resources[r].params.retain(|p| p.name != *name);
        }
        Fix::SetOp {
            rsc,
            name,
            interval,
            timeout,
            role,
            ..
        } => {
            let r = idx(m, rsc)?;
            let ops = &mut m.resources[r].ops;
            // Monitors are told apart by interval too: a new one is added.
            match ops.iter_mut().find(|o| {
                o.name == *name
                    && o.role == *role
                    && (name != "monitor" || o.interval == Some(*interval))
            }) {
                Some(o) => o.timeout = Some(*timeout),
                None => ops.push(Op {
                    interval: Some(*interval),
                    timeout: Some(*timeout),
                    role: *role,
                    ..Op::named(name, fix_loc())
                }),
            }
        }
        Fix::Unclone {
            clone,
            rsc,
            group,
            place,
        } => {
            let (c, r, g) = (idx(m, clone)?, idx(m, rsc)?, idx(m, group)?);
            m.resources[c].children.retain(|&x| x != r);
            insert_in_group(m, g, r, place);
            if m.resources[c].children.is_empty() {
                remove_resource(m, c);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::OpNow;
    use super::*;
    use crate::model::crm;
    use std::time::Duration;

    fn model(text: &str) -> Model {
        crm::parse(text, &Arc::from("t.crm")).unwrap()
    }

    fn members(m: &Model, g: &str) -> Vec<String> {
        m.get(g)
            .unwrap()
            .children
            .iter()
            .map(|&c| m.resources[c].id.clone())
            .collect()
    }

    #[test]
    fn moves_and_unclones_keep_the_model_consistent() {
        let mut m = model(
            "primitive a Dummy\nprimitive b Dummy\nprimitive c Dummy\nprimitive s Dummy\ngroup g a b c\nclone cl s\n",
        );
        apply(
            &mut m,
            &Fix::MoveInGroup {
                group: "g".into(),
                rsc: "a".into(),
                place: Place::After("c".into()),
            },
        )
        .unwrap();
        assert_eq!(members(&m, "g"), ["b", "c", "a"]);
        apply(
            &mut m,
            &Fix::Unclone {
                clone: "cl".into(),
                rsc: "s".into(),
                group: "g".into(),
                place: Place::Before("c".into()),
            },
        )
        .unwrap();
        assert_eq!(members(&m, "g"), ["b", "s", "c", "a"]);
        assert!(m.get("cl").is_none());
        let s = m.by_id["s"];
        assert_eq!(m.resources[s].parent, Some(m.by_id["g"]));
        for (i, r) in m.resources.iter().enumerate() {
            assert_eq!(m.by_id[&r.id], i);
            for &ch in &r.children {
                assert_eq!(m.resources[ch].parent, Some(i));
            }
        }
    }

    #[test]
    fn params_ops_and_constraints() {
        let mut m = model(
            "primitive e exportfs params wait_for_leasetime_on_stop=true op stop timeout=20s interval=0\norder o Mandatory: e e2\n",
        );
        let e = m.by_id["e"];
        apply(
            &mut m,
            &Fix::DeleteParam {
                rsc: "e".into(),
                name: "wait_for_leasetime_on_stop".into(),
            },
        )
        .unwrap();
        assert!(m.param(e, "wait_for_leasetime_on_stop").is_none());
        apply(
            &mut m,
            &Fix::SetOp {
                rsc: "e".into(),
                name: "stop".into(),
                interval: Duration::ZERO,
                timeout: Duration::from_secs(120),
                role: None,
                now: OpNow::Timed,
            },
        )
        .unwrap();
        assert_eq!(
            m.resources[e].op("stop").next().unwrap().timeout,
            Some(Duration::from_secs(120))
        );
        apply(&mut m, &Fix::DeleteConstraint { id: "o".into() }).unwrap();
        assert!(m.orders.is_empty());
        assert!(apply(&mut m, &Fix::DeleteConstraint { id: "o".into() }).is_err());
    }
}
