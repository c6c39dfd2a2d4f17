//! `ocf/<agent>.xml` in the repository is exactly what the binary prints for
//! `meta-data`, for every agent in its table, and it validates against
//! `ra-api-1.dtd` the way `ocf-tester` checks it.
//! Regenerate with: for a in $(nfsha agents | cut -d' ' -f1); do nfsha agent $a meta-data > ocf/$a.xml; done

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn committed_metadata_matches_the_binary() {
    let names = common::agent_names();
    assert!(names.len() >= 4, "agents: {names:?}");
    let mut stale = Vec::new();
    for name in &names {
        let generated = common::run_ok(common::nfsha(), &["agent", name, "meta-data"]);
        let path = common::repo().join("ocf").join(format!("{name}.xml"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (regenerate with `nfsha agent <name> meta-data > ocf/<name>.xml`): {stale:?}"
    );
    // And no orphaned files for agents that are gone.
    for entry in std::fs::read_dir(common::repo().join("ocf")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let agent = name.trim_end_matches(".xml");
        assert!(names.iter().any(|n| n == agent), "ocf/{name} has no agent");
    }
}

#[test]
fn metadata_validates_against_the_ocf_dtd() {
    common::require("xmllint", "libxml2-utils");
    let dtd_dir = std::path::Path::new("/usr/share/resource-agents");
    assert!(
        dtd_dir.join("ra-api-1.dtd").exists(),
        "needs /usr/share/resource-agents/ra-api-1.dtd: apt-get install resource-agents"
    );
    for name in common::agent_names() {
        let xml = common::run_ok(common::nfsha(), &["agent", &name, "meta-data"]);
        // Exactly as ocf-tester: `xmllint --noout --valid -` in the DTD's directory.
        let mut child = Command::new("xmllint")
            .args(["--noout", "--valid", "-"])
            .current_dir(dtd_dir)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(xml.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
