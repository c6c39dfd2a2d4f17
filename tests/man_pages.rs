//! The man pages `nfsha man` writes (the packages ship exactly these): one
//! per command at every depth and one per agent, each with the sections an
//! admin looks for, refering only to pages that exist, and rendered by man(1)
//! without a warning.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

fn write_pages(dir: &Path) -> BTreeSet<String> {
    let out = std::process::Command::new(common::nfsha())
        .args(["man", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// The commands `nfsha --help` and `nfsha heartbeat --help` list, as page
/// names (the help text is the user's view of the tree; clap's own `help`
/// command is not a page).
fn commands_in_help(args: &[&str]) -> Vec<String> {
    let text = common::run_ok(common::nfsha(), &[args, &["--help"]].concat());
    let section = text.split("Commands:\n").nth(1).unwrap();
    section
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(|c| {
            let mut name = vec!["nfsha"];
            name.extend(args);
            name.push(c);
            format!("{}.8", name.join("-"))
        })
        .collect()
}

/// `name(section)` references in a page, with roff's escapes removed.
fn references(roff: &str) -> BTreeSet<String> {
    let plain = roff
        .replace("\\-", "-")
        .replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\fI", "");
    let mut refs = BTreeSet::new();
    let bytes = plain.as_bytes();
    for (i, _) in plain.match_indices('(') {
        let close = i + 2;
        if close < bytes.len() && bytes[i + 1].is_ascii_digit() && bytes[close] == b')' {
            let start = plain[..i]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
                .map_or(0, |s| s + 1);
            if start < i {
                refs.insert(plain[start..=close].to_string());
            }
        }
    }
    refs
}

#[test]
fn one_page_per_command_and_per_agent() {
    let dir = tempfile::tempdir().unwrap();
    let pages = write_pages(dir.path());
    let mut expected: BTreeSet<String> = ["nfsha.8".to_string()].into();
    expected.extend(commands_in_help(&[]));
    expected.extend(commands_in_help(&["heartbeat"]));
    expected.extend(
        common::agent_names()
            .iter()
            .map(|a| format!("ocf_nfsha_{a}.7")),
    );
    assert_eq!(pages, expected);
    assert!(pages.contains("nfsha-heartbeat-run.8"), "{pages:?}");
    assert!(
        !pages
            .iter()
            .any(|p| p.contains("announce") || p.contains("internal")),
        "hidden helpers get no page: {pages:?}"
    );
}

#[test]
fn every_page_has_the_sections_an_admin_looks_for() {
    let dir = tempfile::tempdir().unwrap();
    for page in write_pages(dir.path()) {
        let text = std::fs::read_to_string(dir.path().join(&page)).unwrap();
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "\"EXIT STATUS\"",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "\"SEE ALSO\"",
        ] {
            assert!(
                text.contains(&format!("\n.SH {section}\n")),
                "{page} has no {section} section (add its entry in src/man/)"
            );
        }
        let examples = text.split("\n.SH EXAMPLES\n").nth(1).unwrap();
        assert!(
            examples.contains(".nf\n"),
            "{page}: EXAMPLES has no example"
        );
    }
    let vip = std::fs::read_to_string(dir.path().join("ocf_nfsha_vip.7"))
        .unwrap()
        .replace("\\-", "-");
    for needle in [
        "require_exports",
        "OCF_RESKEY_",
        "nfs-cluster.crm",
        "pcs resource create nfs-vip",
    ] {
        assert!(vip.contains(needle), "ocf_nfsha_vip.7 lacks {needle:?}");
    }
    let check = std::fs::read_to_string(dir.path().join("nfsha-heartbeat-check.8")).unwrap();
    assert!(check.contains("Not fenced"), "{check}");
}

#[test]
fn pages_refer_only_to_pages_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    let pages = write_pages(dir.path());
    let generated: BTreeSet<String> = pages
        .iter()
        .map(|p| {
            let (name, section) = p.rsplit_once('.').unwrap();
            format!("{name}({section})")
        })
        .collect();
    let external: std::collections::BTreeMap<&str, &str> =
        nfsha::man::EXTERNAL.iter().copied().collect();
    let mut cited = BTreeSet::new();
    for page in &pages {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        for r in references(&text) {
            let ours = r.starts_with("nfsha") || r.starts_with("ocf_nfsha_");
            if ours {
                assert!(
                    generated.contains(&r),
                    "{page} refers to {r}, which is not generated"
                );
            } else {
                assert!(
                    external.contains_key(r.as_str()),
                    "{page} refers to {r}: add it to nfsha::man::EXTERNAL with its package"
                );
                cited.insert(r);
            }
        }
    }
    // Each external page exists where man(1) finds it, from the package named.
    for (r, package) in &external {
        assert!(
            cited.contains(*r),
            "EXTERNAL lists {r} but no page cites it"
        );
        let (name, section) = r.trim_end_matches(')').split_once('(').unwrap();
        let file = format!("/usr/share/man/man{section}/{name}.{section}.gz");
        assert!(
            Path::new(&file).exists(),
            "{r} is cited but {file} is missing: apt-get install {package}"
        );
    }
}

#[test]
fn man_renders_every_page_without_a_warning() {
    common::require("man", "man-db");
    let dir = tempfile::tempdir().unwrap();
    for page in write_pages(dir.path()) {
        let out = std::process::Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z"])
            .arg(dir.path().join(&page))
            .env("MANWIDTH", "80")
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        assert!(out.status.success(), "man {page}: {out:?}");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(warnings.trim().is_empty(), "man {page}:\n{warnings}");
    }
}
