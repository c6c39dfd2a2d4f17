//! Printing findings: human (rustc/ruff style), JSON, SARIF 2.1.0.

use std::io::{self, Write};

use serde_json::json;

use super::{rules, Finding, Severity};
use crate::model::{Dialect, ParseError};

pub fn list_rules(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{:<7} {:<22} {:<8} why", "code", "name", "severity")?;
    for r in rules::ALL {
        writeln!(
            out,
            "{:<7} {:<22} {:<8} {}",
            r.code,
            r.name,
            r.severity.as_str(),
            r.why
        )?;
    }
    Ok(())
}

/// A rule's summary: the first sentence of its "What it does".
pub fn summary(doc: &str) -> String {
    let what = doc
        .split("## What it does")
        .nth(1)
        .unwrap_or(doc)
        .split("\n\n")
        .next()
        .unwrap_or("");
    let text = what.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.find(". ").or_else(|| text.find(".\n")) {
        Some(i) => text[..=i].to_string(),
        None => text,
    }
}

/// The rule table of docs/lint.md, made from the registry.
pub fn rules_markdown(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "| code | name | severity | what it does |")?;
    writeln!(out, "|---|---|---|---|")?;
    for r in rules::ALL {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            r.code,
            r.name,
            r.severity.as_str(),
            summary(r.doc).replace('|', "\\|")
        )?;
    }
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub fn human(
    out: &mut impl Write,
    findings: &[Finding],
    files: &[(String, Dialect)],
) -> io::Result<()> {
    for f in findings {
        writeln!(
            out,
            "{}[{}] {}: {}",
            f.severity.as_str(),
            f.code,
            f.name,
            f.message
        )?;
        if let Some(loc) = &f.location {
            writeln!(out, "  --> {loc}")?;
        }
        if !f.objects.is_empty() {
            writeln!(out, "   = objects: {}", f.objects.join(", "))?;
        }
        if f.conditional {
            writeln!(out, "   = note: the value sits in a rule-conditional set; it applies only when the rule matches")?;
        }
        writeln!(out, "   = why: {}", f.why)?;
        for h in f.help_lines() {
            writeln!(out, "   = help: {h}")?;
        }
        writeln!(out, "   = docs: nfsha lint --explain {}", f.code)?;
        writeln!(out)?;
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    // Name the inputs when there are few; a corpus run just counts them.
    let names: Vec<String> = if files.len() <= 5 {
        files
            .iter()
            .map(|(f, d)| format!("{f} ({})", d.name()))
            .collect()
    } else {
        vec![format!("{} and {} more", files[0].0, files.len() - 1)]
    };
    if findings.is_empty() {
        writeln!(
            out,
            "No problems found in {}: {}.",
            plural(files.len(), "file"),
            names.join(", ")
        )
    } else {
        writeln!(
            out,
            "Found {}, {}, {} in {}: {}.",
            plural(count(Severity::Error), "error"),
            plural(count(Severity::Warning), "warning"),
            plural(count(Severity::Info), "info"),
            plural(files.len(), "file"),
            names.join(", ")
        )
    }
}

fn location_json(f: &Finding) -> serde_json::Value {
    match &f.location {
        Some(l) => json!({"file": &*l.file, "line": l.line}),
        None => serde_json::Value::Null,
    }
}

/// An input that could not be read, for JSON and SARIF.
fn error_json(e: &ParseError) -> serde_json::Value {
    json!({"file": e.file, "line": e.line, "message": e.message})
}

pub fn json(
    out: &mut impl Write,
    findings: &[Finding],
    files: &[(String, Dialect)],
    errors: &[ParseError],
) -> io::Result<()> {
    let v = json!({
        "schema_version": 1,
        "tool": "nfsha lint",
        "inputs": files.iter().map(|(f, d)| json!({"file": f, "dialect": d.name()})).collect::<Vec<_>>(),
        "errors": errors.iter().map(error_json).collect::<Vec<_>>(),
        "findings": findings.iter().map(|f| json!({
            "code": f.code,
            "name": f.name,
            "severity": f.severity.as_str(),
            "message": f.message,
            "objects": f.objects,
            "location": location_json(f),
            "help": f.help_lines(),
            "conditional": f.conditional,
        })).collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}

pub fn sarif(out: &mut impl Write, findings: &[Finding], errors: &[ParseError]) -> io::Result<()> {
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules_json: Vec<_> = rules::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.why},
                "fullDescription": {"text": r.doc.split("## Why is this bad?").next().unwrap_or("").replace("## What it does", "").trim()},
                "help": {"text": r.doc.trim(), "markdown": r.doc.trim()},
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let results: Vec<_> = findings
        .iter()
        .map(|f| {
            let mut loc = json!({
                "logicalLocations": f.objects.iter().map(|o| json!({"name": o})).collect::<Vec<_>>(),
            });
            if let Some(l) = &f.location {
                let mut phys = json!({"artifactLocation": {"uri": &*l.file}});
                if l.line > 0 {
                    phys["region"] = json!({"startLine": l.line});
                }
                loc["physicalLocation"] = phys;
            }
            json!({
                "ruleId": f.code,
                "ruleIndex": rules::ALL.iter().position(|r| r.code == f.code),
                "level": level(f.severity),
                "message": {"text": format!("{} Why: {}", f.message, f.why)},
                "locations": [loc],
            })
        })
        .collect();
    let v = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "nfsha lint",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules_json,
            }},
            "results": results,
            "invocations": [{
                "executionSuccessful": errors.is_empty(),
                "toolExecutionNotifications": errors.iter().map(|e| json!({
                    "level": "error",
                    "message": {"text": e.message},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": e.file},
                        "region": {"startLine": e.line.max(1)},
                    }}],
                })).collect::<Vec<_>>(),
            }],
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}
