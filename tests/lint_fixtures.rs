//! Every rule against its fixtures: each `bad.*` file in
//! `tests/fixtures/lint/<CODE>/` must raise that code, each `good.*` (or, when
//! a rule has none, the clean `base.*` setups) must not. `host-bad.*` and
//! `host-good.*` files in the same directory are linted along (e.g. the
//! heartbeat TOML). The human output of every bad fixture is compared with
//! `tests/snapshots/lint/<CODE>-<file>.txt`; regenerate with
//! `UPDATE_SNAPSHOTS=1 cargo test --test lint_fixtures`.

mod common;

use std::path::{Path, PathBuf};

use common::lint::{files, rule_dirs, run, FIXTURES};
use nfsha::lint;

#[test]
fn every_rule_has_fixtures() {
    let dirs: Vec<String> = rule_dirs()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for r in lint::rules::ALL {
        assert!(
            dirs.iter().any(|d| d == r.code),
            "no fixtures for {}",
            r.code
        );
    }
}

#[test]
fn base_setups_are_clean() {
    for base in files(Path::new(FIXTURES), "base.") {
        let (findings, text) = run(std::slice::from_ref(&base));
        assert!(
            findings.is_empty(),
            "{} should be clean:\n{text}",
            base.display()
        );
    }
}

#[test]
fn bad_fixtures_trigger_and_good_ones_do_not() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let snaps = Path::new("tests/snapshots/lint");
    std::fs::create_dir_all(snaps).unwrap();
    let mut failures = Vec::new();
    let mut dialects_checked = 0;
    for dir in rule_dirs() {
        let code = dir.file_name().unwrap().to_string_lossy().into_owned();
        let host_bad = files(&dir, "host-bad.");
        let host_good = files(&dir, "host-good.");
        let bad = files(&dir, "bad.");
        assert!(!bad.is_empty(), "{code}: no bad.* fixture");
        for f in &bad {
            let mut paths = vec![f.clone()];
            paths.extend(host_bad.iter().cloned());
            let (findings, text) = run(&paths);
            dialects_checked += 1;
            if !findings.iter().any(|x| x.code == code) {
                failures.push(format!("{}: expected {code}, got:\n{text}", f.display()));
            }
            let snap = snaps.join(format!(
                "{code}-{}.txt",
                f.file_name().unwrap().to_string_lossy()
            ));
            if update {
                std::fs::write(&snap, &text).unwrap();
            } else {
                match std::fs::read_to_string(&snap) {
                    Ok(want) if want == text => {}
                    Ok(want) => failures.push(format!(
                        "{}: output differs from {}\n--- want\n{want}\n--- got\n{text}",
                        f.display(),
                        snap.display()
                    )),
                    Err(_) => failures.push(format!(
                        "{}: no snapshot {} (run with UPDATE_SNAPSHOTS=1)",
                        f.display(),
                        snap.display()
                    )),
                }
            }
        }
        // The near misses, and the clean setups.
        let mut good = files(&dir, "good.");
        good.extend(files(Path::new(FIXTURES), "base."));
        for f in &good {
            let mut paths = vec![f.clone()];
            paths.extend(host_good.iter().cloned());
            let (findings, text) = run(&paths);
            if findings.iter().any(|x| x.code == code) {
                failures.push(format!("{}: must not raise {code}:\n{text}", f.display()));
            }
        }
    }
    assert!(
        dialects_checked > 60,
        "only {dialects_checked} bad fixtures"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The same configuration gives the same findings and the same start order
/// whether it is read as crm text, as the CIB crmsh made from it, or as the
/// `pcs config` text pcs printed for that CIB.
#[test]
fn dialects_agree() {
    use std::collections::BTreeSet;
    let codes = |p: &Path| -> BTreeSet<&'static str> {
        run(&[p.to_path_buf()]).0.iter().map(|f| f.code).collect()
    };
    let mut compared = 0;
    for dir in rule_dirs() {
        let forms: Vec<PathBuf> = ["bad.crm", "bad.xml", "bad.pcs-config.txt"]
            .iter()
            .map(|f| dir.join(f))
            .filter(|p| p.exists())
            .collect();
        // Host-file rules (nfs.conf, heartbeat TOML) have no cluster forms.
        let Some(first) = forms.first().map(|f| codes(f)) else {
            continue;
        };
        for f in &forms[1..] {
            assert_eq!(codes(f), first, "{} vs {}", f.display(), forms[0].display());
            compared += 1;
        }
    }
    assert!(compared >= 35, "only {compared} comparisons");
    let edges = |p: &str| -> BTreeSet<(String, String)> {
        let inputs = lint::read_inputs(&[PathBuf::from(p)], None).unwrap();
        let m = &inputs.clusters[0];
        let so = nfsha::start_order::StartOrder::compute(m);
        so.edges
            .iter()
            .map(|(a, b, _)| (m.resources[*a].id.clone(), m.resources[*b].id.clone()))
            .collect()
    };
    let crm = edges("tests/fixtures/lint/base.crm");
    // Four group edges, and the promote order to each of the five members.
    assert_eq!(crm.len(), 9, "{crm:?}");
    assert_eq!(edges("tests/fixtures/lint/base.xml"), crm);
    assert_eq!(edges("tests/fixtures/lint/base.pcs-config.txt"), crm);
}
