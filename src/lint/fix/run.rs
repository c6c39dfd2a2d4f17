//! `nfsha lint --fix`: fix what can be fixed mechanically, one finding at a
//! time, re-linting after each, and write the steps as a script in the
//! input's dialect (crm for crm and CIB input, pcs for pcs input); for CIB
//! input also the corrected CIB.
//!
//! A step is kept only when it makes its finding go away without adding an
//! error that was not there before; otherwise the finding is listed as
//! needing a decision. Nothing here runs a cluster tool: the script says to
//! run it on a copy of the CIB (`CIB_file`), and refuses to run without one.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::apply::apply;
use super::script::{crm, pcs_script};
use super::Fix;
use crate::lint::{lint_model, Config, Finding, Inputs, LintArgs, Severity};
use crate::model::{Dialect, Model};

/// One applied fix: the finding it fixes and the changes.
#[derive(Clone, Debug)]
pub struct Step {
    pub finding: Finding,
    pub fixes: Vec<Fix>,
}

/// What `--fix` does to one configuration.
#[derive(Debug)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Findings left after the steps: they need a decision.
    pub left: Vec<Finding>,
    /// The model with every step applied.
    pub fixed: Model,
}

/// How often the loop may re-lint: every step fixes one finding, and no fix
/// is applied twice, so this only bounds a pathological configuration.
const MAX_STEPS: usize = 200;

fn errors(f: &[Finding]) -> BTreeSet<(&'static str, Vec<String>)> {
    f.iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| (x.code, x.objects.clone()))
        .collect()
}

/// The key a finding keeps while its wording changes with the model.
fn key(f: &Finding) -> (&'static str, Vec<String>) {
    (f.code, f.objects.clone())
}

/// Plan the fixes of `m`.
pub fn plan(m: &Model, config: &Config) -> Plan {
    let mut model = m.clone();
    let mut steps = Vec::new();
    let mut tried: Vec<Vec<Fix>> = Vec::new();
    let mut findings = lint_model(&model, config);
    while steps.len() < MAX_STEPS {
        let next = findings
            .iter()
            .find(|f| !f.fixes.is_empty() && !tried.contains(&f.fixes))
            .cloned();
        let Some(f) = next else { break };
        tried.push(f.fixes.clone());
        let mut candidate = model.clone();
        if f.fixes.iter().any(|x| apply(&mut candidate, x).is_err()) {
            continue;
        }
        let after = lint_model(&candidate, config);
        let gone = !after.iter().any(|x| key(x) == key(&f));
        let before_errors = errors(&findings);
        let no_new_error = errors(&after).is_subset(&before_errors);
        if gone && no_new_error {
            steps.push(Step {
                fixes: f.fixes.clone(),
                finding: f,
            });
            model = candidate;
            findings = after;
        }
    }
    Plan {
        steps,
        left: findings,
        fixed: model,
    }
}

/// Which tool the script uses for input of `dialect`.
pub fn script_dialect(dialect: Option<Dialect>) -> Dialect {
    match dialect {
        Some(Dialect::PcsCommands | Dialect::PcsConfig) => Dialect::PcsCommands,
        _ => Dialect::Crm,
    }
}

/// "2 fixes, 1 finding left that needs a decision".
fn counts(plan: &Plan) -> String {
    let (n, l) = (plan.steps.len(), plan.left.len());
    format!(
        "{n} fix{}, {l} finding{} left that need{} a decision",
        if n == 1 { "" } else { "es" },
        if l == 1 { "" } else { "s" },
        if l == 1 { "s" } else { "" },
    )
}

fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "# {line}");
    }
}

/// The shell script of a plan, for input `file` read as `dialect`.
pub fn script(plan: &Plan, file: &str, dialect: Option<Dialect>) -> String {
    let pcs = script_dialect(dialect) == Dialect::PcsCommands;
    let mut s = String::from("#!/bin/sh\n");
    let _ = writeln!(s, "# nfsha lint --fix for {file}: {}.", counts(plan));
    let (get, push) = if pcs {
        ("pcs cluster cib cib.xml", "pcs cluster cib-push cib.xml")
    } else {
        (
            "cibadmin -Q > cib.xml",
            "cibadmin --replace --xml-file cib.xml",
        )
    };
    let _ = write!(
        s,
        "# It changes only the CIB file named by CIB_file, never a live cluster:\n\
         #   {get}\n\
         #   CIB_file=cib.xml sh this-script && crm_verify -x cib.xml && nfsha lint cib.xml\n\
         #   {push}\n\
         set -eu\n\
         : \"${{CIB_file:?set CIB_file to a copy of the CIB ({get}); this script never changes a live cluster}}\"\n\
         [ -f \"$CIB_file\" ] || {{ echo \"CIB_file=$CIB_file: no such file\" >&2; exit 2; }}\n\
         export CIB_file\n"
    );
    for st in &plan.steps {
        s.push('\n');
        comment(
            &mut s,
            &format!(
                "{}[{}] {}",
                st.finding.code, st.finding.name, st.finding.message
            ),
        );
        for f in &st.fixes {
            let lines = if pcs { pcs_script(f) } else { crm(f) };
            for l in lines {
                let _ = writeln!(s, "{l}");
            }
        }
    }
    if !plan.left.is_empty() {
        s.push_str("\n# Needs a decision (not changed by this script):\n");
        for f in &plan.left {
            let at = f
                .location
                .as_ref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            comment(
                &mut s,
                &format!(
                    "{} {}[{}] {}{at}",
                    f.severity.as_str(),
                    f.code,
                    f.name,
                    f.message
                ),
            );
            for h in f.help_lines() {
                comment(&mut s, &format!("    {h}"));
            }
        }
    }
    s
}

/// `nfsha lint --fix`: the script on stdout, a summary on stderr, and with
/// `--fix-output` the corrected CIB. Exit 1 when findings at or above
/// `--fail-on` are left after the fixes, 2 for a usage error.
pub fn main(args: &LintArgs, inputs: Inputs, config: &Config) -> i32 {
    let [m] = inputs.clusters.as_slice() else {
        eprintln!(
            "nfsha lint --fix: give exactly one cluster configuration (found {}); host files may come with it",
            inputs.clusters.len()
        );
        return 2;
    };
    let mut m = m.clone();
    m.host = inputs.host.clone();
    let (file, dialect) = m
        .sources
        .first()
        .map(|(f, d)| (f.to_string(), *d))
        .unwrap_or_else(|| ("cibadmin -Q".into(), Some(Dialect::Cib)));
    let plan = plan(&m, config);
    if let Some(out) = &args.fix_output {
        if dialect != Some(Dialect::Cib) {
            eprintln!(
                "nfsha lint --fix-output: {file} is {}, not CIB XML; apply the script to a CIB instead",
                dialect.map_or("unknown", |d| d.name())
            );
            return 2;
        }
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("nfsha lint --fix-output: cannot read {file}: {e}");
                return 2;
            }
        };
        let fixed = super::cib::Cib::parse(&text).and_then(|mut c| {
            for f in plan.steps.iter().flat_map(|s| &s.fixes) {
                c.apply(f)?;
            }
            Ok(c.write())
        });
        match fixed {
            Ok(x) => {
                if let Err(e) = std::fs::write(out, x) {
                    eprintln!(
                        "nfsha lint --fix-output: cannot write {}: {e}",
                        out.display()
                    );
                    return 2;
                }
            }
            Err(e) => {
                eprintln!("nfsha lint --fix-output: {file}: {e}");
                return 2;
            }
        }
    }
    let text = script(&plan, &file, dialect);
    if let Err(e) = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("nfsha lint --fix: writing the script: {e}");
            return 2;
        }
    }
    eprintln!("nfsha lint --fix: {file}: {}", counts(&plan));
    i32::from(plan.left.iter().any(|f| f.severity >= args.fail_on))
}
