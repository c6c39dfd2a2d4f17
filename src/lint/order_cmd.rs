//! `nfsha order`: print the start order [`StartOrder`] derives from a
//! configuration, the edges it came from, any loop, and the colocations
//! (placement, shown apart from order).

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::model::{self, Dialect, Model};
use crate::start_order::StartOrder;

/// `nfsha order` arguments.
#[derive(clap::Args, Debug)]
pub struct OrderArgs {
    /// A cluster configuration: CIB XML, `crm configure show` text, pcs
    /// commands or `pcs config` output.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OrderFormat::Text)]
    pub format: OrderFormat,
    /// The input's dialect, when detection guesses wrong.
    #[arg(long, value_enum)]
    pub dialect: Option<Dialect>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderFormat {
    Text,
    Json,
}

#[derive(Serialize)]
struct OrderJson<'a> {
    sequence: Vec<Vec<&'a str>>,
    edges: Vec<[&'a str; 2]>,
}

/// Run `nfsha order`; returns the exit code.
pub fn run(args: &OrderArgs) -> i32 {
    let input = match model::input::read_file(&args.file, args.dialect) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("nfsha order: {e}");
            return 2;
        }
    };
    let mut clusters = input.clusters.into_iter();
    let Some(m) = clusters.next() else {
        eprintln!(
            "nfsha order: {}: is {}, not a cluster configuration; expected CIB XML, crm or pcs text",
            args.file.display(),
            input.dialect.name()
        );
        return 2;
    };
    if let Some(other) = clusters.next() {
        // `pcs -f a …` and `pcs -f b …` never pushed: two CIBs.
        eprintln!(
            "nfsha order: {}: builds more than one CIB (also `{}`); showing the first",
            args.file.display(),
            other.cib_file.as_deref().unwrap_or("the cluster's")
        );
    }
    let so = StartOrder::compute(&m);
    let mut out = std::io::stdout().lock();
    let id = |i: usize| m.resources[i].id.as_str();
    let res = match args.format {
        OrderFormat::Json => {
            let j = OrderJson {
                sequence: so
                    .sequence
                    .iter()
                    .map(|s| s.iter().map(|&i| id(i)).collect())
                    .collect(),
                edges: so.edges.iter().map(|(a, b, _)| [id(*a), id(*b)]).collect(),
            };
            serde_json::to_writer_pretty(&mut out, &j)
                .map_err(std::io::Error::from)
                .and_then(|_| writeln!(out))
        }
        OrderFormat::Text => write_text(&mut out, &m, &so, &args.file.display().to_string()),
    };
    match res {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("nfsha order: writing output: {e}");
            1
        }
    }
}

fn write_text(out: &mut impl Write, m: &Model, so: &StartOrder, file: &str) -> std::io::Result<()> {
    let id = |i: usize| m.resources[i].id.as_str();
    let prims = m.primitives().count();
    writeln!(
        out,
        "Start order of {file} ({prims} primitives, {} edges):",
        so.edges.len()
    )?;
    for (n, step) in so.sequence.iter().enumerate() {
        let names: Vec<&str> = step.iter().map(|&i| id(i)).collect();
        let loop_note = if !so.cycle.is_empty() && n + 1 == so.sequence.len() {
            "   <- ordering loop: Pacemaker cannot start these"
        } else {
            ""
        };
        writeln!(out, "  {:>3}. {}{loop_note}", n + 1, names.join(", "))?;
    }
    if !so.edges.is_empty() {
        writeln!(out, "\nDerived from:")?;
        for (a, b, src) in &so.edges {
            writeln!(out, "  {} -> {}   ({src})", id(*a), id(*b))?;
        }
    }
    if !so.loops.is_empty() {
        writeln!(out, "\nLoops (Pacemaker cannot schedule these actions):")?;
        for l in &so.loops {
            writeln!(out, "  {}", loop_text(m, l))?;
        }
    }
    if !m.colocations.is_empty() {
        writeln!(out, "\nColocations (placement, not order):")?;
        for c in &m.colocations {
            for p in c.pairs() {
                let score = if p.score >= model::INFINITY {
                    "INFINITY".to_string()
                } else if p.score <= -model::INFINITY {
                    "-INFINITY".to_string()
                } else {
                    p.score.to_string()
                };
                writeln!(
                    out,
                    "  {}:{} with {}:{}   (colocation {}, score {score})",
                    p.dependent,
                    p.dependent_role.as_str(),
                    p.primary,
                    p.primary_role.as_str(),
                    c.id
                )?;
            }
        }
    }
    Ok(())
}

/// `a:start -> b:promote -> a:start   (order o1, order o2)`.
pub fn loop_text(m: &Model, l: &crate::start_order::Loop) -> String {
    let mut steps: Vec<String> = l
        .actions
        .iter()
        .map(|(i, a)| format!("{}:{}", m.resources[*i].id, a.as_str()))
        .collect();
    if let Some(first) = steps.first().cloned() {
        steps.push(first);
    }
    let mut why: Vec<String> = l.sources.iter().map(|s| s.to_string()).collect();
    why.dedup();
    format!("{}   ({})", steps.join(" -> "), why.join(", "))
}
