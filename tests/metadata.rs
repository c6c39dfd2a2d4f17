//! Every agent's meta-data is committed as `ocf/<agent>.xml`, is what the
//! binary prints, and validates against the DTD ocf-tester uses.

mod common;

use std::path::Path;
use std::process::Command;

fn agents() -> Vec<String> {
    let out = Command::new(common::nfsha())
        .arg("agents")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

fn metadata(agent: &str) -> String {
    let out = Command::new(common::nfsha())
        .args(["agent", agent, "meta-data"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{agent} meta-data failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn committed_metadata_matches_the_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ocf");
    let agents = agents();
    assert!(agents.contains(&"vip".to_string()), "{agents:?}");
    for agent in &agents {
        let path = dir.join(format!("{agent}.xml"));
        let printed = metadata(agent);
        if std::env::var_os("UPDATE_METADATA").is_some() {
            std::fs::write(&path, &printed).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{} is missing: run UPDATE_METADATA=1 cargo test --test metadata",
                path.display()
            )
        });
        assert_eq!(
            committed,
            printed,
            "{} differs from `nfsha agent {agent} meta-data`; regenerate with UPDATE_METADATA=1 cargo test --test metadata",
            path.display()
        );
    }
    // No stale files for agents that no longer exist.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let agent = name.trim_end_matches(".xml");
        assert!(agents.iter().any(|a| a == agent), "ocf/{name} has no agent");
    }
}

#[test]
fn metadata_validates_against_ra_api_dtd() {
    common::require("xmllint", "libxml2-utils");
    let dtd = "/usr/share/resource-agents/ra-api-1.dtd";
    assert!(
        Path::new(dtd).exists(),
        "{dtd} is missing: apt-get install resource-agents"
    );
    for agent in agents() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), metadata(&agent)).unwrap();
        let out = Command::new("xmllint")
            .args(["--noout", "--dtdvalid", dtd])
            .arg(tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{agent}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The same check ocf-tester makes: the DOCTYPE must resolve in the DTD's directory.
        let out = Command::new("xmllint")
            .args(["--noout", "--valid", "-"])
            .stdin(std::fs::File::open(tmp.path()).unwrap())
            .current_dir("/usr/share/resource-agents")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{agent} (--valid): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
