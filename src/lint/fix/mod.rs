//! Fixes: the changes to a configuration that make a finding go away, as
//! data. A rule attaches the [`Fix`]es it can name mechanically; they are
//! rendered as crm and pcs commands (the finding's `help`), applied to the
//! model to check that they fix without breaking ([`apply`]), written as a
//! script by `nfsha lint --fix` ([`script`]), and applied to a CIB
//! ([`cib`]) for `--fix-output`. What needs an admin's judgement (a fence
//! device, an fsid, a state directory) stays a finding without fixes, listed
//! as "needs a decision".

pub mod apply;
pub mod cib;
pub mod run;
pub mod script;

use std::time::Duration;

use crate::model::{Action, Colocation, Order, OrderKind, Role};

/// Where a resource goes in its group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    After(String),
    Before(String),
}

/// A simple (two-resource) order constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSpec {
    pub id: String,
    pub kind: OrderKind,
    pub first: String,
    pub first_action: Action,
    pub then: String,
    pub then_action: Action,
    /// `None`: not written (Pacemaker's default, true).
    pub symmetrical: Option<bool>,
}

/// A simple (two-resource) colocation constraint: `rsc` placed with `with`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColocSpec {
    pub id: String,
    pub score: i64,
    pub rsc: String,
    pub rsc_role: Option<Role>,
    pub with: String,
    pub with_role: Option<Role>,
}

/// What a primitive has of an operation before [`Fix::SetOp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpNow {
    Missing,
    /// There, without a timeout of its own.
    Untimed,
    Timed,
}

/// One change to the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fix {
    /// Move `rsc`, a member of `group`, to `place` in it.
    MoveInGroup {
        group: String,
        rsc: String,
        place: Place,
    },
    AddOrder(OrderSpec),
    /// Delete the order with this id and create it anew (another action).
    ReplaceOrder(OrderSpec),
    AddColocation(ColocSpec),
    /// Delete the colocation with this id and create it anew.
    ReplaceColocation(ColocSpec),
    /// Delete an order, colocation or location constraint.
    DeleteConstraint {
        id: String,
    },
    /// Set an instance attribute of a primitive.
    SetParam {
        rsc: String,
        name: String,
        value: String,
    },
    /// Remove an instance attribute of a primitive.
    DeleteParam {
        rsc: String,
        name: String,
    },
    /// Give a primitive an operation, or change its timeout; `now` says
    /// what the primitive has of it (by name and role) today.
    SetOp {
        rsc: String,
        name: String,
        interval: Duration,
        timeout: Duration,
        role: Option<Role>,
        now: OpNow,
    },
    /// Take primitive `rsc` out of `clone` (which goes away) and put it into
    /// `group` at `place`. Constraints naming the clone are deleted by
    /// [`Fix::DeleteConstraint`]s before this one.
    Unclone {
        clone: String,
        rsc: String,
        group: String,
        place: Place,
    },
}

impl OrderSpec {
    /// A simple order as a spec, its actions written out.
    pub fn of(o: &Order) -> Option<OrderSpec> {
        if !o.simple || o.sets.len() != 2 {
            return None;
        }
        let a = o.actions();
        Some(OrderSpec {
            id: o.id.clone(),
            kind: o.kind,
            first: o.sets[0].resources.first()?.clone(),
            first_action: a[0],
            then: o.sets[1].resources.first()?.clone(),
            then_action: a[1],
            symmetrical: o.symmetrical,
        })
    }
}

impl ColocSpec {
    /// A simple colocation as a spec.
    pub fn of(c: &Colocation) -> Option<ColocSpec> {
        if !c.simple || c.sets.len() != 2 {
            return None;
        }
        Some(ColocSpec {
            id: c.id.clone(),
            score: c.score,
            rsc: c.sets[0].resources.first()?.clone(),
            rsc_role: c.sets[0].role,
            with: c.sets[1].resources.first()?.clone(),
            with_role: c.sets[1].role,
        })
    }
}

impl Fix {
    /// The crm and pcs help lines of a list of fixes.
    pub fn help(fixes: &[Fix]) -> Vec<String> {
        if fixes.is_empty() {
            return Vec::new();
        }
        let crm: Vec<String> = fixes.iter().flat_map(script::crm).collect();
        let pcs: Vec<String> = fixes.iter().flat_map(script::pcs_display).collect();
        vec![
            format!("crm: {}", crm.join("; ")),
            format!("pcs: {}", pcs.join("; ")),
        ]
    }
}

/// An id not used by any resource or constraint of the model: `base`, or
/// `base-2`, `base-3`, …
/// A score as the CIB, pcs (`INFINITY`) or crm (`inf`) writes it.
pub fn score_text(s: i64, infinity: &str) -> String {
    if s >= crate::model::INFINITY {
        infinity.to_string()
    } else if s <= -crate::model::INFINITY {
        format!("-{infinity}")
    } else {
        s.to_string()
    }
}

pub fn fresh_id(m: &crate::model::Model, base: &str) -> String {
    let used = |id: &str| {
        m.by_id.contains_key(id)
            || m.orders.iter().any(|o| o.id == id)
            || m.colocations.iter().any(|c| c.id == id)
            || m.locations.iter().any(|l| l.id == id)
            || m.templates.contains_key(id)
            || m.tags.contains_key(id)
    };
    if !used(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !used(id))
        .expect("some suffix is free")
}
