//! One fixture per input class of issue 10, in each dialect it applies to
//! (`tests/fixtures/parse/`): crm `modgroup` and the other statements that
//! change an object after it is defined, pcs default operations, prompts and
//! one-command-per-line forms, statements not understood, the pcs 0.9–0.12
//! forms, a group member that does not exist, shell variables and `pcs -f`
//! files. For each the snapshot in `tests/snapshots/parse/` holds what a
//! user sees: the start order nfsha derives (per CIB) and `nfsha lint`'s
//! output, or the error for an input with nothing in it. Regenerate with
//! `UPDATE_SNAPSHOTS=1 cargo test --test parse_fixtures`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nfsha::lint::{self, output, Config};
use nfsha::start_order::StartOrder;

const FIXTURES: &str = "tests/fixtures/parse";

fn render(path: &Path) -> String {
    let mut out = String::new();
    let inputs = lint::inputs::read_all([(&path.to_path_buf(), None)]);
    for e in &inputs.errors {
        writeln!(out, "error (exit 2): {e}").unwrap();
    }
    for m in &inputs.clusters {
        let cib = m.cib_file.as_deref().unwrap_or("the cluster");
        writeln!(out, "start order of {cib}:").unwrap();
        let so = StartOrder::compute(m);
        for (n, step) in so.sequence.iter().enumerate() {
            let ids: Vec<&str> = step.iter().map(|&i| m.resources[i].id.as_str()).collect();
            writeln!(out, "  {}. {}", n + 1, ids.join(", ")).unwrap();
        }
    }
    if !inputs.files.is_empty() {
        let findings = lint::lint_inputs(inputs.clusters, inputs.host, &Config::default());
        let mut text = Vec::new();
        output::human(&mut text, &findings, &inputs.files).unwrap();
        out.push_str(&String::from_utf8(text).unwrap());
    }
    out
}

#[test]
fn every_input_class_has_a_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let snaps = Path::new("tests/snapshots/parse");
    std::fs::create_dir_all(snaps).unwrap();
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 12, "only {} fixtures", fixtures.len());
    let mut failures = Vec::new();
    for f in &fixtures {
        let got = render(f);
        let snap = snaps.join(format!("{}.txt", f.file_name().unwrap().to_string_lossy()));
        if update {
            std::fs::write(&snap, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&snap) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!(
                "{}: differs from {}\n--- want\n{want}\n--- got\n{got}",
                f.display(),
                snap.display()
            )),
            Err(_) => failures.push(format!("{}: no snapshot (UPDATE_SNAPSHOTS=1)", f.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What the snapshots show, asserted so a regenerated snapshot cannot hide
/// a regression of the class itself.
#[test]
fn each_class_does_what_it_says() {
    let r = |f: &str| render(&Path::new(FIXTURES).join(f));
    // 1: modgroup and rename: the members start in the group's order.
    for f in ["modgroup.crm", "modgroup.sh"] {
        let s = r(f);
        let order: Vec<&str> = s.lines().filter(|l| l.starts_with("  ")).collect();
        assert!(
            order[0].contains("fs-nfs-state") && order.last().unwrap().contains("vip"),
            "{f}:\n{s}"
        );
        assert!(!s.contains("NFS401") && !s.contains("NFS003"), "{f}:\n{s}");
    }
    // 2: pcs default operations: no stop-timeout or monitor warnings, in
    // the commands and in the `pcs config` pcs printed for them.
    for f in ["default-ops.pcs", "default-ops.pcs-config.txt"] {
        let s = r(f);
        assert!(s.contains("No problems found"), "{f}:\n{s}");
    }
    // 3: prompts: everything read, nothing unparsed.
    for f in ["prompts-pcs.txt", "prompts-crm.txt"] {
        let s = r(f);
        assert!(
            !s.contains("NFS003") && !s.contains("error (exit 2)"),
            "{f}:\n{s}"
        );
    }
    // 4: statements not understood are named; an empty input is exit 2.
    assert_eq!(
        r("unparsed.crm").matches("NFS003").count(),
        3 * 2,
        "{}",
        r("unparsed.crm")
    );
    assert!(r("empty.pcs").starts_with("error (exit 2)"));
    // 9: a missing group member is NFS001 in both dialects.
    for f in ["missing-member.crm", "missing-member.pcs"] {
        assert!(r(f).contains("NFS001"), "{f}");
    }
    // 11: `$NAME-fs` and `${NAME}-fs` are one resource; two CIB files.
    assert!(!r("variables.sh").contains("NFS001"));
    assert_eq!(r("two-cibs.pcs").matches("start order of").count(), 2);
}
