//! Pacemaker's tools see every agent: `pcs resource describe` and
//! `crm ra info` show each nfsha agent with its parameters, read through
//! `crm_resource` from the installed provider directory.
//!
//! The provider is laid out by `nfsha install` into a private copy of
//! /usr/lib/ocf/resource.d that is bind-mounted over the real one inside a
//! private mount namespace (`unshare --mount`), so the host is not changed.

mod common;

#[test]
fn pcs_and_crm_describe_every_agent() {
    common::require_root();
    common::require("pcs", "pcs");
    common::require("crm", "crmsh");
    common::require("unshare", "util-linux");
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path();
    let rd = t.join("resource.d");
    common::run_ok(
        "cp",
        &["-a", "/usr/lib/ocf/resource.d", rd.to_str().unwrap()],
    );
    // nfsha install: binary under <prefix>/sbin, links in <ocf-root>/resource.d/nfsha.
    let prefix = t.join("prefix");
    let ocf_root = t.join("ocf");
    common::run_ok(
        common::nfsha(),
        &[
            "install",
            "--prefix",
            prefix.to_str().unwrap(),
            "--ocf-root",
            ocf_root.to_str().unwrap(),
        ],
    );
    // Replace whatever nfsha provider the host may already have.
    let _ = std::fs::remove_dir_all(rd.join("nfsha"));
    common::run_ok(
        "cp",
        &[
            "-a",
            ocf_root.join("resource.d/nfsha").to_str().unwrap(),
            rd.to_str().unwrap(),
        ],
    );

    let names = common::agent_names();
    let mut script = String::from("set -e\nmount --bind \"$1\" /usr/lib/ocf/resource.d\n");
    for n in &names {
        script.push_str(&format!(
            "echo '=== pcs {n}'\npcs resource describe ocf:nfsha:{n}\necho '=== crm {n}'\ncrm ra info ocf:nfsha:{n}\n"
        ));
    }
    let script_path = t.join("describe.sh");
    std::fs::write(&script_path, script).unwrap();
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--", "/bin/sh"])
        .arg(&script_path)
        .arg(&rd)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in &names {
        let xml = common::run_ok(common::nfsha(), &["agent", n, "meta-data"]);
        let params: Vec<&str> = xml
            .lines()
            .filter_map(|l| l.trim().strip_prefix("<parameter name=\""))
            .filter_map(|l| l.split('"').next())
            .collect();
        assert!(!params.is_empty());
        for tool in ["pcs", "crm"] {
            let section = text
                .split(&format!("=== {tool} {n}\n"))
                .nth(1)
                .unwrap_or_default()
                .split("=== ")
                .next()
                .unwrap_or_default();
            for p in &params {
                assert!(
                    section.contains(p),
                    "{tool} does not show {n}'s parameter {p}:\n{section}"
                );
            }
        }
    }
}
