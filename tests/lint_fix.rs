//! Every fix a finding suggests is checked by applying it to the model and
//! linting again: the finding must go, and no error may appear that was not
//! there before. Then `--fix` as a whole: its plan leaves no finding it
//! could have fixed.

mod common;

use std::collections::BTreeSet;

use common::lint::{bad_cases, model};
use nfsha::lint::fix::{apply::apply, run::plan};
use nfsha::lint::{lint_model, Config, Finding, Severity};

fn errors(f: &[Finding]) -> BTreeSet<(&'static str, Vec<String>)> {
    f.iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| (x.code, x.objects.clone()))
        .collect()
}

#[test]
fn every_suggested_fix_fixes_and_adds_no_error() {
    let mut checked = 0;
    let mut codes = BTreeSet::new();
    let mut failures = Vec::new();
    for case in bad_cases() {
        let Some(m) = model(&case) else { continue };
        let before = lint_model(&m, &Config::default());
        for f in before.iter().filter(|f| !f.fixes.is_empty()) {
            let mut fixed = m.clone();
            for x in &f.fixes {
                if let Err(e) = apply(&mut fixed, x) {
                    failures.push(format!("{}: {} {x:?}: {e}", case[0].display(), f.code));
                }
            }
            let after = lint_model(&fixed, &Config::default());
            if after
                .iter()
                .any(|x| x.code == f.code && x.objects == f.objects)
            {
                failures.push(format!(
                    "{}: the fix of {} {:?} does not fix it: {:?}",
                    case[0].display(),
                    f.code,
                    f.objects,
                    f.fixes
                ));
            }
            let new: Vec<_> = errors(&after)
                .difference(&errors(&before))
                .cloned()
                .collect();
            if !new.is_empty() {
                failures.push(format!(
                    "{}: the fix of {} {:?} brings new errors {new:?}",
                    case[0].display(),
                    f.code,
                    f.objects
                ));
            }
            checked += 1;
            codes.insert(f.code);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Group order, orders, colocations, the then-action, the clone, timeouts,
    // monitors, the lease wait, the scope, loops and member constraints.
    for code in [
        "NFS101", "NFS102", "NFS103", "NFS104", "NFS105", "NFS201", "NFS202", "NFS203", "NFS302",
        "NFS501", "NFS601", "NFS602",
    ] {
        assert!(
            codes.contains(code),
            "no fix of {code} was checked: {codes:?}"
        );
    }
    assert!(checked >= 60, "only {checked} fixes checked");
}

#[test]
fn fix_plans_leave_nothing_they_could_fix() {
    let mut steps = 0;
    for case in bad_cases() {
        let Some(m) = model(&case) else { continue };
        let p = plan(&m, &Config::default());
        steps += p.steps.len();
        let again = lint_model(&p.fixed, &Config::default());
        let fixable: Vec<_> = again.iter().filter(|f| !f.fixes.is_empty()).collect();
        assert!(
            fixable.is_empty(),
            "{}: still fixable after the plan: {fixable:#?}",
            case[0].display()
        );
        let before = errors(&lint_model(&m, &Config::default()));
        assert!(
            errors(&again).is_subset(&before),
            "{}: the plan added errors",
            case[0].display()
        );
    }
    assert!(steps >= 40, "only {steps} steps planned");
}
