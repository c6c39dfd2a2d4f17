//! Every `nfsha` command line in the code blocks of README.md and docs/*.md
//! parses with the real command line: no subcommand, option or value the
//! program would refuse. (What the commands do is tested where the command
//! is; this keeps the docs from naming what does not exist.)

use std::path::Path;

use clap::Parser;
use nfsha::cli::Cli;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Split like sh for the simple lines docs hold: blanks, and '…' or "…"
/// quoting.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The `nfsha` commands in the code blocks of `text`: (line number, argv).
/// A doc's notation is read as a reader would: `[--opt x]` as given,
/// `a|b` as its first choice, `…` as nothing; comments are dropped; `&&`,
/// `;` and ` | ` separate commands; a line of output (`nfsha heartbeat run:
/// …`) is not a command.
fn commands(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut in_block = false;
    // A command continued with a trailing `\` is one command, named by its
    // first line.
    let mut joined: Vec<(usize, String)> = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            joined.extend(open.take());
            continue;
        }
        if !in_block {
            continue;
        }
        let (start, mut acc) = open.take().unwrap_or((n, String::new()));
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                acc.push(' ');
                open = Some((start, acc));
            }
            None => {
                acc.push_str(line);
                joined.push((start, acc));
            }
        }
    }
    joined.extend(open.take());
    for (n, line) in joined {
        let line = line.split(" #").next().unwrap_or("");
        for part in line.split("&&").flat_map(|p| p.split(';')) {
            for cmd in part.split(" | ") {
                let mut w = words(cmd.trim());
                if w.first().is_some_and(|w| w == "sudo") {
                    w.remove(0);
                }
                let Some(first) = w.first() else { continue };
                if first != "nfsha" && !first.ends_with("/nfsha") {
                    continue;
                }
                if w.iter().take(4).any(|w| w.ends_with(':')) {
                    continue;
                }
                let argv: Vec<String> = std::iter::once("nfsha".to_string())
                    .chain(
                        w[1..]
                            .iter()
                            .filter(|w| *w != "…")
                            .map(|w| w.trim_matches(['[', ']']))
                            .map(|w| w.split('|').next().unwrap_or(w).to_string())
                            .filter(|w| !w.is_empty()),
                    )
                    .collect();
                out.push((n + 1, argv));
            }
        }
    }
    out
}

#[test]
fn every_nfsha_command_in_readme_and_docs_parses() {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut checked = 0;
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, argv) in commands(&text) {
            checked += 1;
            if let Err(e) = Cli::try_parse_from(&argv) {
                let first = e.to_string().lines().next().unwrap_or("").to_string();
                bad.push(format!(
                    "{}:{n}: {}: {first}",
                    f.strip_prefix(root()).unwrap().display(),
                    argv.join(" ")
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "commands the program refuses:\n{}",
        bad.join("\n")
    );
    // README and docs hold a good number of them: the extraction works.
    assert!(checked >= 20, "only {checked} nfsha commands found");
}

#[test]
fn the_extraction_reads_docs_notation_and_catches_a_wrong_option() {
    let doc = "text nfsha lint --bogus outside a block\n\
               ```sh\n\
               nfsha order cib.xml [--format json]   # a comment --bogus\n\
               nfsha lint --format json|sarif …\n\
               nfsha heartbeat validate && nfsha heartbeat timeline\n\
               sudo target/release/nfsha install --destdir \"$pkgdir\"\n\
               nfsha heartbeat run: /etc/x: an error message\n\
               nfsha status --jsn\n\
               ```\n";
    let c = commands(doc);
    let argvs: Vec<String> = c.iter().map(|(_, a)| a.join(" ")).collect();
    assert_eq!(
        argvs,
        [
            "nfsha order cib.xml --format json",
            "nfsha lint --format json",
            "nfsha heartbeat validate",
            "nfsha heartbeat timeline",
            "nfsha install --destdir $pkgdir",
            "nfsha status --jsn",
        ]
    );
    let parsed: Vec<bool> = c
        .iter()
        .map(|(_, a)| Cli::try_parse_from(a).is_ok())
        .collect();
    assert_eq!(parsed, [true, true, true, true, true, false]);
}
