//! The seam is honest: outside their tests, the agents (`src/agents/**`)
//! make no file, process, environment or clock call of their own; all of it
//! goes through `sys::System`, so the test double sees (and can refuse,
//! delay or time out) everything an agent does. A `std::thread::sleep` in an
//! agent, say, would hide from the tests that count the seam's sleeps.
//!
//! This reads the sources with comments, string literals and `#[cfg(test)]`
//! items removed, and looks for the calls that bypass the seam.

mod common;

use std::path::{Path, PathBuf};

/// What bypasses the seam, and what to use instead.
const FORBIDDEN: &[(&str, &str)] = &[
    (
        "std::fs",
        "ctx.sys (read_to_string, write, list_dir, read_link, …)",
    ),
    ("fs::", "ctx.sys"),
    ("std::process", "ctx.sys.run / spawn_detached (exec.rs)"),
    ("Command::new", "Cmd and ctx.sys.run"),
    ("std::env", "Ctx.env / sys::Paths"),
    ("Instant::now", "ctx.sys.now() or the action's Deadline"),
    ("SystemTime", "ctx.sys.now()"),
    ("thread::sleep", "ctx.sys.sleep"),
    ("nix::", "ctx.sys"),
    ("libc::kill", "ctx.sys.kill"),
    ("UdpSocket", "ctx.sys / crate::net"),
    ("TcpStream", "ctx.sys / crate::net"),
    ("TcpListener", "ctx.sys / crate::net"),
];

/// Agents (a file `<name>.rs` or a folder `<name>/`) outside this branch's
/// area that still bypass the seam, with their owner; the test fails when an
/// entry is no longer needed, so the list only shrinks.
const NOT_YET: &[(&str, &str)] = &[(
    "storagehb",
    "creates the status directory with std::fs (kvmcore)",
)];

/// The NOT_YET entry `rel` (a path below src/agents) belongs to.
fn not_yet(rel: &str) -> Option<&'static (&'static str, &'static str)> {
    NOT_YET
        .iter()
        .find(|(name, _)| rel == format!("{name}.rs") || rel.starts_with(&format!("{name}/")))
}

/// Only the line breaks of `text` (what is blanked keeps line numbers).
fn blank(text: &str) -> String {
    text.chars().filter(|c| *c == '\n').collect()
}

/// The source with comments, string and char literals blanked and
/// `#[cfg(test)]` items dropped; line numbers are kept.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &src[i..];
        let skip = if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with("/*") {
            rest.find("*/").map_or(rest.len(), |n| n + 2)
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].chars().take_while(|c| *c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            body + rest[body..]
                .find(&close)
                .map_or(rest.len() - body, |n| n + close.len())
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(b.len()) - i
        } else if b[i] == b'\'' && (rest.starts_with("'\\") || rest.chars().nth(2) == Some('\'')) {
            // A char literal ('x', '\n', '\''); lifetimes ('a) are left alone.
            let mut j = i + 1;
            if b[j] == b'\\' {
                j += 2;
            }
            while j < b.len() && b[j] != b'\'' {
                j += 1;
            }
            (j + 1).min(b.len()) - i
        } else {
            0
        };
        if skip > 0 {
            out.push_str(&blank(&rest[..skip]));
            i += skip;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    drop_test_items(&out)
}

/// Remove every item annotated `#[cfg(test)]` (brace-balanced; literals are
/// already blanked).
fn drop_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let Some(open) = item.find(['{', ';']) else {
            break;
        };
        if item.as_bytes()[open] == b';' {
            out.push_str(&blank(&item[..open + 1]));
            rest = &item[open + 1..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = item.len();
        for (k, c) in item[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push_str(&blank(&item[..end]));
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
    files.sort();
    files
}

/// (line, pattern, advice) of every call that bypasses the seam.
fn violations(src: &str) -> Vec<(usize, &'static str, &'static str)> {
    let code = code_only(src);
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        for (pat, instead) in FORBIDDEN {
            let hit = line.match_indices(pat).any(|(at, _)| {
                // `fs::` must be a path of its own, not `procfs::` or `nfs::`.
                !(*pat == "fs::" && line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
            });
            if hit {
                found.push((n + 1, *pat, *instead));
            }
        }
    }
    found
}

#[test]
fn agents_reach_the_machine_only_through_the_seam() {
    let root = common::repo().join("src/agents");
    let files = sources(&root);
    assert!(files.len() >= 10, "{files:?}");
    let mut problems = Vec::new();
    let mut still_needed = std::collections::BTreeSet::new();
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let found = violations(&std::fs::read_to_string(f).unwrap());
        match not_yet(&rel) {
            Some((name, _)) => {
                if !found.is_empty() {
                    still_needed.insert(*name);
                }
            }
            None => problems.extend(found.iter().map(|(line, pat, instead)| {
                format!("src/agents/{rel}:{line}: `{pat}` outside the seam; use {instead}")
            })),
        }
    }
    for (name, why) in NOT_YET {
        if !still_needed.contains(name) {
            problems.push(format!(
                "src/agents/{name} no longer bypasses the seam ({why}): remove it from NOT_YET"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scan_finds_what_it_should_and_skips_tests_and_text() {
    let src = r#"
//! Docs may say std::fs freely.
use crate::sys::System;
fn ok(ctx: &Ctx) { let s = "std::thread::sleep in a string"; let c = '{'; nfs::etab::exports(ctx.sys); }
fn bad() { std::thread::sleep(d); let t = Instant::now(); }
fn also_bad() { let _ = std::fs::read("/x"); }
/* std::process in a block comment */
#[cfg(test)]
mod tests {
    fn helper() { std::fs::write("/tmp/x", "{"); let _ = std::process::id(); }
}
fn after_tests() { std::process::exit(1); }
"#;
    let found: Vec<(usize, &str)> = violations(src).iter().map(|(l, p, _)| (*l, *p)).collect();
    assert_eq!(
        found,
        vec![
            (5, "Instant::now"),
            (5, "thread::sleep"),
            (6, "std::fs"),
            (6, "fs::"),
            (12, "std::process")
        ],
        "{}",
        code_only(src)
    );
}
