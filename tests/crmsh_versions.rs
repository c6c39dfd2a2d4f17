//! What each crmsh version adds to typed commands (`nfsha lint --crmsh`):
//! a crm command file and the CIB that crmsh makes of it give the same
//! model and the same findings.
//!
//! `tests/fixtures/crmsh/nfs.crm.sh` was run by the real crmsh 4.4.1
//! (Debian 12's package), 4.4.2, 4.6.0, 4.6.1 and 5.0.0 (their release
//! trees, run with Debian 12's python3) against empty CIB files; the CIBs
//! are recorded beside it by `scripts/crmsh-fixtures`. Only Debian 12's
//! crmsh can be installed here, so the other versions are checked against
//! their recorded CIBs, and the installed one is also run live.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use nfsha::lint::{self, Config};
use nfsha::model::crm::Crmsh;
use nfsha::model::input::Tools;
use nfsha::model::{Kind, Model};

const DIR: &str = "tests/fixtures/crmsh";

/// Every version recorded, and whether it adds advised operations.
const VERSIONS: &[(&str, bool)] = &[
    ("4.4.1", false),
    ("4.4.2", true),
    ("4.6.0", true),
    ("4.6.1", false),
    ("5.0.0", false),
];

fn commands() -> PathBuf {
    Path::new(DIR).join("nfs.crm.sh")
}

fn read(path: &Path, crmsh: &str) -> (Model, BTreeSet<(String, String)>) {
    let tools = Tools {
        crmsh: Crmsh::parse(crmsh).unwrap(),
    };
    let path = path.to_path_buf();
    let inputs = lint::inputs::read_all_with([(&path, None)], tools);
    if let Some(e) = inputs.errors.first() {
        panic!("{e}");
    }
    assert_eq!(inputs.clusters.len(), 1, "{}", path.display());
    let m = inputs.clusters[0].clone();
    let findings = lint::lint_inputs(inputs.clusters, inputs.host, &Config::default())
        .into_iter()
        .map(|f| (f.code.to_string(), f.objects.join(",")))
        .collect();
    (m, findings)
}

/// Each primitive's operations (name, interval, timeout, role) and each
/// clone's promotable flag and interleave.
fn shape(m: &Model) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in &m.resources {
        match &r.kind {
            Kind::Primitive(_) => {
                for o in &r.ops {
                    out.insert(format!(
                        "{} op {} interval={:?} timeout={:?} role={:?}",
                        r.id, o.name, o.interval, o.timeout, o.role
                    ));
                }
            }
            Kind::Clone { promotable } => {
                let interleave = r.meta.iter().find(|p| p.name == "interleave");
                out.insert(format!(
                    "{} promotable={promotable} interleave={:?}",
                    r.id,
                    interleave.map(|p| &p.value)
                ));
            }
            _ => {}
        }
    }
    out
}

#[test]
fn commands_and_the_cib_each_crmsh_made_agree() {
    for &(v, adds) in VERSIONS {
        let cib = Path::new(DIR).join(format!("nfs.cib-{v}.xml"));
        let (from_commands, found_commands) = read(&commands(), v);
        let (from_cib, found_cib) = read(&cib, v);
        assert_eq!(
            shape(&from_commands),
            shape(&from_cib),
            "crmsh {v}: the model of the commands is not the CIB crmsh made"
        );
        assert_eq!(found_commands, found_cib, "crmsh {v}: findings differ");
        // What a user notices: with the operations crmsh added, the
        // Filesystem's stop (configured without a timeout) has the advised
        // 60 s and the address is monitored.
        let has = |code: &str, obj: &str| found_commands.contains(&(code.into(), obj.into()));
        assert_eq!(
            has("NFS601", "fs-nfs"),
            !adds,
            "crmsh {v}: {found_commands:?}"
        );
        assert_eq!(has("NFS602", "vip"), !adds, "crmsh {v}: {found_commands:?}");
        assert_eq!(
            has("NFS602", "drbd-nfs"),
            !adds,
            "crmsh {v}: {found_commands:?}"
        );
        // A fence agent's advised monitor has no interval: never recurring.
        assert!(has("NFS602", "fence-n1"), "crmsh {v}: {found_commands:?}");
    }
}

/// The default is Debian 12's crmsh, which adds nothing: the commands are
/// read as written.
#[test]
fn the_default_reads_commands_as_written() {
    let dflt = lint::inputs::read_all([(&commands(), None)]);
    let (as_441, _) = read(&commands(), "4.4.1");
    assert_eq!(shape(&dflt.clusters[0]), shape(&as_441));
    assert_eq!(Crmsh::DEFAULT, "4.4.1");
}

/// A file loaded with `crm configure load update` is not completed, even
/// by a crmsh that completes typed commands.
#[test]
fn loaded_files_are_not_completed() {
    let dir = tempfile::tempdir().unwrap();
    let body: String = std::fs::read_to_string(commands())
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("crm configure "))
        .map(|l| format!("{l}\n"))
        .collect();
    let bare = dir.path().join("nfs.crm");
    std::fs::write(&bare, &body).unwrap();
    let loaded = dir.path().join("load.sh");
    std::fs::write(
        &loaded,
        format!("crm configure load update - <<'EOF'\n{body}EOF\n"),
    )
    .unwrap();
    let heredoc = dir.path().join("heredoc.sh");
    std::fs::write(&heredoc, format!("crm configure <<'EOF'\n{body}EOF\n")).unwrap();
    let (typed, _) = read(&commands(), "4.6.0");
    let (as_written, _) = read(&commands(), "4.4.1");
    assert_eq!(shape(&read(&bare, "4.6.0").0), shape(&as_written));
    assert_eq!(shape(&read(&loaded, "4.6.0").0), shape(&as_written));
    assert_eq!(shape(&read(&heredoc, "4.6.0").0), shape(&typed));
}

fn lint_json(args: &[&str]) -> BTreeSet<(String, String)> {
    let out = Command::new(common::nfsha())
        .args(["lint", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["objects"].to_string(),
            )
        })
        .collect()
}

/// The installed crm (Debian 12: 4.4.1) runs the commands on a CIB file;
/// `nfsha lint --crmsh <its version>` gives the commands the findings of
/// that CIB, and the recorded CIB of that version is what it made.
#[test]
fn installed_crm_round_trip() {
    common::require("crm", "crmsh");
    common::require("cibadmin", "pacemaker-cli-utils");
    let version = common::run_ok("dpkg-query", &["-W", "-f", "${Version}", "crmsh"]);
    let crmsh = Crmsh::parse(&version).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cib = dir.path().join("cib.xml");
    std::fs::write(&cib, common::run_ok("cibadmin", &["--empty"])).unwrap();
    for line in std::fs::read_to_string(commands()).unwrap().lines() {
        let Some(args) = line.strip_prefix("crm ") else {
            continue;
        };
        let argv: Vec<&str> = args.split_whitespace().collect();
        let out = Command::new("crm")
            .args(&argv)
            .env("CIB_file", &cib)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "crm {args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = crmsh.to_string();
    let cmd = commands();
    let cmd = cmd.to_str().unwrap();
    let cib_s = cib.to_str().unwrap();
    assert_eq!(
        lint_json(&["--crmsh", &version, cmd]),
        lint_json(&[cib_s]),
        "crmsh {version}"
    );
    let (live, _) = read(&cib, &v);
    let (from_commands, _) = read(&commands(), &v);
    assert_eq!(shape(&live), shape(&from_commands));
    let recorded = Path::new(DIR).join(format!("nfs.cib-{v}.xml"));
    if recorded.exists() {
        assert_eq!(
            shape(&read(&recorded, &v).0),
            shape(&live),
            "{}",
            recorded.display()
        );
    }
    // The option and the config key are read; a bad value names itself.
    let bad = Command::new(common::nfsha())
        .args(["lint", "--crmsh", "four", cmd])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("\"four\""));
    let conf = dir.path().join("lint.toml");
    std::fs::write(&conf, "crmsh = \"4.6.0\"\n").unwrap();
    assert_eq!(
        lint_json(&["--config", conf.to_str().unwrap(), cmd]),
        lint_json(&[Path::new(DIR).join("nfs.cib-4.6.0.xml").to_str().unwrap()])
    );
}
