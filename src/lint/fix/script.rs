//! Fixes as commands: crmsh (`crm configure …`, `crm resource param …`)
//! and pcs (`pcs constraint …`, `pcs resource …`), one shell command per
//! line. Ids and values are quoted for the shell when they need it.
//!
//! crm commands reach the CIB through the `CIB_file` environment variable
//! (crmsh and `crm_resource` honour it); pcs commands in a script carry
//! `-f "$CIB_file"`, so neither ever reaches a live cluster from a script.

use crate::formats::duration;
use crate::model::{OrderKind, Role};

use super::{ColocSpec, Fix, OpNow, OrderSpec, Place};

/// A word as the shell reads it back: bare when it is plain, else in single
/// quotes.
pub fn sh(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn kind(k: OrderKind) -> &'static str {
    match k {
        OrderKind::Mandatory => "Mandatory",
        OrderKind::Optional => "Optional",
        OrderKind::Serialize => "Serialize",
    }
}

fn crm_score(s: i64) -> String {
    super::score_text(s, "inf")
}

fn crm_rsc(id: &str, role: Option<Role>) -> String {
    match role {
        Some(r) => format!("{}:{}", sh(id), r.as_str()),
        None => sh(id),
    }
}

fn crm_order(o: &OrderSpec) -> String {
    let sym = match o.symmetrical {
        Some(s) => format!(" symmetrical={s}"),
        None => String::new(),
    };
    format!(
        "crm configure order {} {}: {}:{} {}:{}{sym}",
        sh(&o.id),
        kind(o.kind),
        sh(&o.first),
        o.first_action.as_str(),
        sh(&o.then),
        o.then_action.as_str()
    )
}

fn crm_colocation(c: &ColocSpec) -> String {
    format!(
        "crm configure colocation {} {}: {} {}",
        sh(&c.id),
        crm_score(c.score),
        crm_rsc(&c.rsc, c.rsc_role),
        crm_rsc(&c.with, c.with_role)
    )
}

fn crm_place(place: &Place) -> String {
    match place {
        Place::After(x) => format!("after {}", sh(x)),
        Place::Before(x) => format!("before {}", sh(x)),
    }
}

fn op_attrs(
    interval: std::time::Duration,
    timeout: std::time::Duration,
    role: Option<Role>,
) -> String {
    let mut s = format!(
        "interval={} timeout={}",
        duration::fmt(interval),
        duration::fmt(timeout)
    );
    if let Some(r) = role {
        s.push_str(&format!(" role={}", r.as_str()));
    }
    s
}

/// The crm commands of one fix.
pub fn crm(fix: &Fix) -> Vec<String> {
    match fix {
        Fix::MoveInGroup { group, rsc, place } => vec![
            format!("crm configure modgroup {} remove {}", sh(group), sh(rsc)),
            format!(
                "crm configure modgroup {} add {} {}",
                sh(group),
                sh(rsc),
                crm_place(place)
            ),
        ],
        Fix::AddOrder(o) => vec![crm_order(o)],
        Fix::ReplaceOrder(o) => vec![format!("crm configure delete {}", sh(&o.id)), crm_order(o)],
        Fix::AddColocation(c) => vec![crm_colocation(c)],
        Fix::ReplaceColocation(c) => vec![
            format!("crm configure delete {}", sh(&c.id)),
            crm_colocation(c),
        ],
        Fix::DeleteConstraint { id } => vec![format!("crm configure delete {}", sh(id))],
        Fix::SetParam { rsc, name, value } => vec![format!(
            "crm resource param {} set {} {}",
            sh(rsc),
            sh(name),
            sh(value)
        )],
        Fix::DeleteParam { rsc, name } => {
            vec![format!(
                "crm resource param {} delete {}",
                sh(rsc),
                sh(name)
            )]
        }
        Fix::SetOp {
            rsc,
            name,
            interval,
            timeout,
            role,
            now: OpNow::Timed,
        } => {
            // `set` finds an operation by name, and by interval when a
            // role tells several apart.
            let path = match role {
                Some(_) => format!("{rsc}.{name}.{}.timeout", duration::fmt(*interval)),
                None => format!("{rsc}.{name}.timeout"),
            };
            vec![format!(
                "crm configure set {} {}",
                sh(&path),
                duration::fmt(*timeout)
            )]
        }
        Fix::SetOp {
            rsc,
            name,
            timeout,
            now: OpNow::Untimed,
            ..
        } => {
            // `set` changes only attributes that are there; `filter` runs
            // the object's text through sed, which writes the timeout in.
            vec![format!(
                "crm configure filter \"sed -e 's/\\(^\\|[[:space:]]\\)op {name}\\([[:space:]]\\|\\$\\)/\\1op {name} timeout={}\\2/'\" {}",
                duration::fmt(*timeout),
                sh(rsc)
            )]
        }
        Fix::SetOp {
            rsc,
            name,
            interval,
            timeout,
            role,
            now: OpNow::Missing,
        } => {
            // crmsh has no command that adds an operation; `filter` runs the
            // object's text through sed, which appends it.
            let op = format!("op {name} {}", op_attrs(*interval, *timeout, *role));
            vec![format!(
                "crm configure filter \"sed -e '\\$s/\\$/ {op}/'\" {}",
                sh(rsc)
            )]
        }
        Fix::Unclone {
            clone,
            rsc,
            group,
            place,
        } => vec![
            format!("crm configure delete {}", sh(clone)),
            format!(
                "crm configure modgroup {} add {} {}",
                sh(group),
                sh(rsc),
                crm_place(place)
            ),
        ],
    }
}

fn pcs_role(role: Option<Role>) -> String {
    role.map_or(String::new(), |r| format!("{} ", r.as_str()))
}

fn pcs_order(o: &OrderSpec) -> String {
    let sym = match o.symmetrical {
        Some(s) => format!(" symmetrical={s}"),
        None => String::new(),
    };
    format!(
        "constraint order {} {} then {} {}{} id={}{sym}",
        o.first_action.as_str(),
        sh(&o.first),
        o.then_action.as_str(),
        sh(&o.then),
        // Mandatory is pcs's default.
        match o.kind {
            OrderKind::Mandatory => String::new(),
            k => format!(" kind={}", kind(k)),
        },
        sh(&o.id)
    )
}

fn pcs_colocation(c: &ColocSpec) -> String {
    format!(
        "constraint colocation add {}{} with {}{} {} id={}",
        pcs_role(c.rsc_role),
        sh(&c.rsc),
        pcs_role(c.with_role),
        sh(&c.with),
        super::score_text(c.score, "INFINITY"),
        sh(&c.id)
    )
}

fn pcs_place(place: &Place) -> String {
    match place {
        Place::After(x) => format!("--after {}", sh(x)),
        Place::Before(x) => format!("--before {}", sh(x)),
    }
}

/// The pcs subcommands of one fix (what follows `pcs` or `pcs -f FILE`).
fn pcs_args(fix: &Fix) -> Vec<String> {
    match fix {
        Fix::MoveInGroup { group, rsc, place }
        | Fix::Unclone {
            group, rsc, place, ..
        } => {
            let mut v = Vec::new();
            if matches!(fix, Fix::Unclone { .. }) {
                v.push(format!("resource unclone {}", sh(rsc)));
            }
            v.push(format!(
                "resource group add {} {} {}",
                sh(group),
                sh(rsc),
                pcs_place(place)
            ));
            v
        }
        Fix::AddOrder(o) => vec![pcs_order(o)],
        Fix::ReplaceOrder(o) => vec![format!("constraint delete {}", sh(&o.id)), pcs_order(o)],
        Fix::AddColocation(c) => vec![pcs_colocation(c)],
        Fix::ReplaceColocation(c) => vec![
            format!("constraint delete {}", sh(&c.id)),
            pcs_colocation(c),
        ],
        Fix::DeleteConstraint { id } => vec![format!("constraint delete {}", sh(id))],
        Fix::SetParam { rsc, name, value } => vec![format!(
            "resource update {} {}",
            sh(rsc),
            sh(&format!("{name}={value}"))
        )],
        Fix::DeleteParam { rsc, name } => {
            vec![format!("resource update {} {}=", sh(rsc), sh(name))]
        }
        Fix::SetOp {
            rsc,
            name,
            interval,
            timeout,
            role,
            now,
        } => {
            let attrs = op_attrs(*interval, *timeout, *role);
            if *now != OpNow::Missing {
                vec![format!("resource update {} op {name} {attrs}", sh(rsc))]
            } else {
                vec![format!("resource op add {} {name} {attrs}", sh(rsc))]
            }
        }
    }
}

/// The pcs commands of one fix, as a user types them on a cluster node.
pub fn pcs_display(fix: &Fix) -> Vec<String> {
    pcs_args(fix)
        .into_iter()
        .map(|a| format!("pcs {a}"))
        .collect()
}

/// The pcs commands of one fix for a script: always on `$CIB_file`.
pub fn pcs_script(fix: &Fix) -> Vec<String> {
    pcs_args(fix)
        .into_iter()
        .map(|a| format!("pcs -f \"$CIB_file\" {a}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use std::time::Duration;

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(sh("g-nfs"), "g-nfs");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("it's"), r"'it'\''s'");
        assert_eq!(sh(""), "''");
    }

    #[test]
    fn both_dialects() {
        let f = Fix::AddOrder(OrderSpec {
            id: "o-d-before-g".into(),
            kind: OrderKind::Mandatory,
            first: "cl-drbd".into(),
            first_action: Action::Promote,
            then: "g".into(),
            then_action: Action::Start,
            symmetrical: None,
        });
        assert_eq!(
            crm(&f),
            vec!["crm configure order o-d-before-g Mandatory: cl-drbd:promote g:start"]
        );
        assert_eq!(
            pcs_script(&f),
            vec![
                r#"pcs -f "$CIB_file" constraint order promote cl-drbd then start g id=o-d-before-g"#
            ]
        );
        let op = Fix::SetOp {
            rsc: "fs".into(),
            name: "stop".into(),
            interval: Duration::ZERO,
            timeout: Duration::from_secs(60),
            role: None,
            now: OpNow::Missing,
        };
        assert_eq!(
            crm(&op),
            vec![r#"crm configure filter "sed -e '\$s/\$/ op stop interval=0s timeout=60s/'" fs"#]
        );
        assert_eq!(
            pcs_display(&op),
            vec!["pcs resource op add fs stop interval=0s timeout=60s"]
        );
    }
}
