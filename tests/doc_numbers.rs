//! The lease and grace figures README.md and docs/*.md state in prose are
//! the program's: every range is nfsha's (`MIN_LEASE` to the kernel's
//! maximum) or the kernel's own, and every "below N s" threshold is one of
//! nfsha's two (refused below `MIN_LEASE`, warned below `WARN_LEASE`). The
//! agent reference tables are generated from the same constants
//! (tests/readme.rs); this catches the prose around them.

use std::path::Path;

use nfsha::agents::nfsserver::config::{KERNEL_TIME_RANGE, MIN_LEASE, WARN_LEASE};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Numbers in `line`: (value, the text right after it).
fn numbers(line: &str) -> Vec<(u32, &str)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
        {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if let Ok(v) = line[start..i].parse() {
                out.push((v, &line[i..]));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// (line, low, high) of a range stated in a doc.
type Range = (usize, u32, u32);
/// (line, N) of a "below N s" in a doc.
type Threshold = (usize, u32);

/// Lease/grace ranges (`A–B`, not in ms) and `below N s` thresholds on the
/// lines of `text` that speak of lease or grace time.
fn figures(text: &str) -> (Vec<Range>, Vec<Threshold>) {
    let (mut ranges, mut below) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate() {
        // The heartbeat's "lease area" (its records) is not the NFSv4 lease.
        let l = line.to_lowercase().replace("lease area", "");
        // A parameter row of a generated agent table: its range is the
        // parameter's own and is checked against the code by tests/readme.rs.
        let table_row = line.starts_with("| `");
        if table_row || !(l.contains("lease") || l.contains("grace")) {
            continue;
        }
        let nums = numbers(line);
        for (k, (a, rest)) in nums.iter().enumerate() {
            if let (Some(r), Some((b, after))) = (rest.strip_prefix('–'), nums.get(k + 1)) {
                if r.starts_with(&b.to_string()) && !after.trim_start().starts_with("ms") {
                    ranges.push((n + 1, *a, *b));
                }
            }
        }
        let mut rest = l.as_str();
        while let Some(i) = rest.find("below ") {
            rest = &rest[i + 6..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let (Ok(v), true) = (
                digits.parse::<u32>(),
                rest[digits.len()..].starts_with(" s"),
            ) {
                below.push((n + 1, v));
            }
        }
    }
    (ranges, below)
}

#[test]
fn lease_and_grace_figures_in_the_docs_are_the_programs() {
    let max = *KERNEL_TIME_RANGE.end();
    let allowed_ranges = [(MIN_LEASE, max), (*KERNEL_TIME_RANGE.start(), max)];
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let (mut bad, mut seen) = (Vec::new(), 0);
    for f in &files {
        let name = f.strip_prefix(root()).unwrap().display().to_string();
        let (ranges, below) = figures(&std::fs::read_to_string(f).unwrap());
        seen += ranges.len() + below.len();
        for (n, a, b) in ranges {
            if !allowed_ranges.contains(&(a, b)) {
                bad.push(format!("{name}:{n}: lease/grace range {a}–{b}"));
            }
        }
        for (n, v) in below {
            if v != MIN_LEASE && v != WARN_LEASE {
                bad.push(format!("{name}:{n}: lease/grace threshold below {v} s"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "figures the program does not use (ranges {allowed_ranges:?}, thresholds {MIN_LEASE} and {WARN_LEASE} s):\n{}",
        bad.join("\n")
    );
    assert!(
        seen >= 4,
        "only {seen} lease/grace figures found: the reader is broken"
    );
}

#[test]
fn the_reader_finds_ranges_and_thresholds_and_ignores_timings() {
    let (r, b) = figures(
        "lease_time must be 1–86400 s, below 45 s a warning\n\
         grace stop | 5–12 ms\n\
         threads 1–4096 (no lease here... the word is there: counted)\n\
         nothing 10–20\n",
    );
    assert_eq!(r, [(1, 1, 86400), (3, 1, 4096)]);
    assert_eq!(b, [(1, 45)]);
}
