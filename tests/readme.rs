//! README.md stays true: its agent reference is what the binary generates,
//! and CI runs the test command the README names.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn agent_reference_matches_the_binary() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nfsha"))
        .args(["agents", "--markdown"])
        .output()
        .unwrap();
    let generated = String::from_utf8(out.stdout).unwrap();
    let begin = "<!-- agents:begin -->\n";
    let a = readme
        .find(begin)
        .expect("README lacks <!-- agents:begin -->")
        + begin.len();
    let b = readme
        .find("<!-- agents:end -->")
        .expect("README lacks <!-- agents:end -->");
    assert_eq!(
        &readme[a..b],
        generated,
        "README.md's agent reference is stale: replace the block with `nfsha agents --markdown`"
    );
}

#[test]
fn ci_runs_the_readme_test_command() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        readme.contains("scripts/test "),
        "README must name scripts/test"
    );
    assert!(
        ci.contains("scripts/test"),
        ".ci/run must call scripts/test"
    );
}
