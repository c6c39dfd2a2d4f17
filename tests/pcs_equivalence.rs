//! The pcs commands of a cluster and the `pcs config` of the CIB they build
//! give the same verdict.
//!
//! Each `tests/fixtures/pcs-equivalence/*.pcs` is run for real: every `pcs`
//! command goes to the installed pcs (Debian 12: pcs 0.11.5) against a CIB
//! file (`cibadmin --empty`, then `pcs -f`; `-f FILE`, `pcs cluster cib FILE`
//! and `pcs cluster cib-push FILE` are mapped onto files in a temporary
//! directory). Then `pcs -f cib.xml config` prints the CIB, and nfsha lints
//! the commands, the `pcs config` text and the CIB XML: the rule codes and
//! objects must be the same. This is what proves the default operations pcs
//! writes (`src/model/pcs/default_ops.rs`) are modelled right.
//!
//! Needs `pcs`, `cibadmin` (pacemaker-cli-utils), resource-agents and
//! drbd-utils (the DRBD agent's meta-data); CI installs them. Without them
//! the test says so, and fails when `CI=true`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use nfsha::lint::{self, Config};
use nfsha::model::shell;

const CASES: &str = "tests/fixtures/pcs-equivalence";

fn tools_present() -> bool {
    let have = |p: &str| Path::new(p).exists();
    have("/usr/sbin/pcs")
        && have("/usr/sbin/cibadmin")
        && have("/usr/lib/ocf/resource.d/heartbeat/nfsserver")
        && have("/usr/lib/ocf/resource.d/linbit/drbd")
}

/// Run a script's pcs commands against CIB files in `dir`; returns the path
/// of the cluster's CIB.
fn run_for_real(script: &str, dir: &Path) -> PathBuf {
    let live = dir.join("cib.xml");
    let empty = Command::new("cibadmin").arg("--empty").output().unwrap();
    assert!(empty.status.success());
    std::fs::write(&live, &empty.stdout).unwrap();
    let file = |name: &str| dir.join(format!("f-{}", name.replace('/', "_")));
    for c in shell::script(script).commands {
        let w: Vec<String> = c.words.iter().map(|x| x.0.clone()).collect();
        if w.first().map(String::as_str) != Some("pcs") {
            continue;
        }
        let mut args: Vec<String> = Vec::new();
        let mut target = live.clone();
        let mut i = 1;
        while i < w.len() {
            if w[i] == "-f" && i + 1 < w.len() {
                target = file(&w[i + 1]);
                i += 2;
                continue;
            }
            args.push(w[i].clone());
            i += 1;
        }
        match args
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["cluster", "cib", f] => {
                std::fs::copy(&live, file(f)).unwrap();
                continue;
            }
            ["cluster", "cib-push", f, ..] => {
                std::fs::copy(file(f), &live).unwrap();
                continue;
            }
            _ => {}
        }
        let mut out = Command::new("pcs")
            .arg("-f")
            .arg(&target)
            .args(&args)
            .output()
            .unwrap();
        if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("use --force") {
            // Red Hat's nfsserver has `nfsd_args` (nfsserver-redhat.sh);
            // Debian's agent does not, so pcs wants --force for it.
            out = Command::new("pcs")
                .arg("-f")
                .arg(&target)
                .args(&args)
                .arg("--force")
                .output()
                .unwrap();
        }
        assert!(
            out.status.success(),
            "pcs {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    live
}

/// The (code, objects) of every finding in a file; objects sorted, as the
/// order of a loop's members follows the order resources are listed in.
fn verdict(path: &Path) -> BTreeSet<(String, Vec<String>)> {
    let inputs = lint::read_inputs(&[path.to_path_buf()], None).unwrap_or_else(|e| panic!("{e}"));
    lint::lint_inputs(inputs.clusters, inputs.host, &Config::default())
        .into_iter()
        .map(|f| {
            let mut objects = f.objects;
            objects.sort();
            (f.code.to_string(), objects)
        })
        .collect()
}

#[test]
fn pcs_commands_and_pcs_config_give_one_verdict() {
    if !tools_present() {
        assert!(
            std::env::var("CI").is_err(),
            "pcs, pacemaker-cli-utils, resource-agents and drbd-utils are needed (CI installs them)"
        );
        eprintln!(
            "pcs, cibadmin or the agents are not installed: the equivalence test did not run"
        );
        return;
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(CASES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcs"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "only {} cases", cases.len());
    // Two cores: run the cases two at a time.
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(2))
            .map(|chunk| {
                s.spawn(move || {
                    let mut failures = Vec::new();
                    for case in chunk {
                        if let Err(e) = check(case) {
                            failures.push(e);
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn check(case: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let script = std::fs::read_to_string(case).unwrap();
    let cib = run_for_real(&script, dir.path());
    let config = Command::new("pcs")
        .arg("-f")
        .arg(&cib)
        .arg("config")
        .output()
        .unwrap();
    let text = dir.path().join("pcs-config.txt");
    std::fs::write(&text, &config.stdout).unwrap();
    let from_commands = verdict(case);
    let from_config = verdict(&text);
    let from_cib = verdict(&cib);
    eprintln!("{}: {} findings", case.display(), from_commands.len());
    if from_commands != from_config || from_config != from_cib {
        return Err(format!(
            "{}:\n  commands: {from_commands:?}\n  pcs config: {from_config:?}\n  CIB: {from_cib:?}\n--- pcs config ---\n{}",
            case.display(),
            String::from_utf8_lossy(&config.stdout)
        ));
    }
    Ok(())
}
