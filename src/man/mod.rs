//! Man pages, written by `nfsha man --out DIR` (the packages run it at build
//! time): nfsha(8), one nfsha-<command>(8) per visible subcommand at every
//! depth (nfsha-heartbeat-run(8), …), and one ocf_nfsha_<agent>(7) per agent
//! in the binary's table, named like resource-agents' ocf_heartbeat_IPaddr2(7).
//!
//! Synopsis and options come from the clap tree, the agent pages from the
//! agents' parameter tables, so neither can drift from the program. What
//! neither holds (exit status, files, environment, examples, related pages)
//! is written per page in [`commands`] and [`agents`]. Pages only refer to
//! pages that are generated here or listed in [`EXTERNAL`];
//! `tests/man_pages.rs` keeps it so.

mod agents;
mod commands;

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use roff::{bold, italic, roman, Roff};

/// The pages of other packages that nfsha's pages refer to, with the Debian
/// package that installs each (the test checks they exist).
pub const EXTERNAL: &[(&str, &str)] = &[
    ("cibadmin(8)", "pacemaker-cli-utils"),
    ("crm(8)", "crmsh"),
    ("crm_resource(8)", "pacemaker-cli-utils"),
    ("crm_verify(8)", "pacemaker-cli-utils"),
    ("exportfs(8)", "nfs-kernel-server"),
    ("exports(5)", "nfs-kernel-server"),
    ("ip(8)", "iproute2"),
    ("mount(8)", "mount"),
    ("nfs.conf(5)", "nfs-common"),
    ("nfsd(7)", "nfs-kernel-server"),
    ("nfsdcld(8)", "nfs-kernel-server"),
    ("ocf_heartbeat_Filesystem(7)", "resource-agents"),
    ("ocf_heartbeat_IPaddr2(7)", "resource-agents"),
    ("ocf_heartbeat_exportfs(7)", "resource-agents"),
    ("ocf_heartbeat_nfsserver(7)", "resource-agents"),
    ("ocf-tester(8)", "resource-agents"),
    ("pcs(8)", "pcs"),
    ("rpc.nfsd(8)", "nfs-kernel-server"),
    ("rpc.statd(8)", "nfs-common"),
    ("systemctl(1)", "systemd"),
    ("systemd.unit(5)", "systemd"),
    ("unshare(1)", "util-linux"),
];

/// One generated page.
pub struct Page {
    /// `nfsha-heartbeat-run`, `ocf_nfsha_vip`.
    pub name: String,
    /// 8 for commands, 7 for agents.
    pub section: u8,
    /// The roff source.
    pub text: String,
}

impl Page {
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.name, self.section)
    }
    /// The page as other pages cite it: `nfsha-lint(8)`.
    pub fn reference(&self) -> String {
        format!("{}({})", self.name, self.section)
    }
}

/// What a page says beyond what the clap tree or the parameter table holds.
/// Every list is rendered as its own section; an empty one says so in
/// `none` words rather than leaving the section out.
pub struct Extra {
    /// Paragraphs appended to the description (blank line between them).
    pub description: &'static str,
    /// (status, meaning).
    pub exit_status: &'static [(&'static str, &'static str)],
    /// (path, what it is to this command).
    pub files: &'static [(&'static str, &'static str)],
    /// (variable, effect).
    pub environment: &'static [(&'static str, &'static str)],
    /// (command line, what it does).
    pub examples: &'static [(&'static str, &'static str)],
    /// Related pages besides the parent and the subcommands, e.g. `crm(8)`.
    pub see_also: &'static [&'static str],
}

const SOURCE: &str = concat!("nfsha ", env!("CARGO_PKG_VERSION"));

/// Every page: the command pages (nfsha first), then the agent pages.
pub fn pages() -> Vec<Page> {
    let root = crate::cli::Cli::command();
    let mut out = Vec::new();
    command_pages(&root, &[], &mut out);
    out.extend(agents::pages());
    out
}

/// Write every page into `dir`; returns the files written.
pub fn write(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for page in pages() {
        let path = dir.join(page.file_name());
        std::fs::write(&path, page.text)?;
        written.push(path);
    }
    Ok(written)
}

/// The visible subcommands of `cmd` (clap's own `help` is added only at
/// build time, so it is not among them).
fn visible(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

fn command_pages(cmd: &clap::Command, path: &[&str], out: &mut Vec<Page>) {
    out.push(command_page(cmd, path));
    for sub in visible(cmd) {
        let mut p = path.to_vec();
        p.push(sub.get_name());
        command_pages(sub, &p, out);
    }
}

/// `nfsha`, `nfsha-heartbeat-run` for the path `["heartbeat", "run"]`.
fn page_name(path: &[&str]) -> String {
    std::iter::once("nfsha")
        .chain(path.iter().copied())
        .collect::<Vec<_>>()
        .join("-")
}

/// Command names and paths must not be broken at their hyphens.
const NO_HYPHENATION: &str = ".nh\n";

const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// Render one piece of a page without the apostrophe preamble that roff
/// puts in front of every rendering (the page carries it once).
fn piece(render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut buf = Vec::new();
    render(&mut buf).expect("rendering into memory");
    let text = String::from_utf8(buf).expect("roff output is UTF-8");
    text.strip_prefix(PREAMBLE).unwrap_or(&text).to_string()
}

fn command_page(cmd: &clap::Command, path: &[&str]) -> Page {
    let name = page_name(path);
    let invocation = std::iter::once("nfsha")
        .chain(path.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let man = clap_mangen::Man::new(
        cmd.clone()
            .name(name.clone())
            .display_name(name.clone())
            .bin_name(invocation.clone())
            .disable_help_subcommand(true),
    )
    .title(name.to_uppercase())
    .section("8")
    .source(SOURCE)
    .manual("System Administration");
    let extra = commands::extra(&path.join(" "));

    let mut text = String::from(PREAMBLE);
    text += &piece(|w| man.render_title(w));
    text += NO_HYPHENATION;
    text += &piece(|w| man.render_name_section(w));
    text += &piece(|w| man.render_synopsis_section(w));
    match extra {
        // The one-line about is the NAME line already; the page's own
        // description replaces it.
        Some(e) if !e.description.is_empty() => {
            let mut r = Roff::new();
            r.control("SH", ["DESCRIPTION"]);
            paragraphs(&mut r, e.description);
            text += &piece(|w| r.to_writer(w));
        }
        _ => text += &piece(|w| man.render_description_section(w)),
    }
    if cmd.get_arguments().any(|a| !a.is_hide_set()) || path.is_empty() {
        text += &piece(|w| man.render_options_section(w));
    }

    let mut r = Roff::new();
    let subs: Vec<_> = visible(cmd).collect();
    if !subs.is_empty() {
        r.control("SH", ["COMMANDS"]);
        for sub in &subs {
            r.control("TP", []);
            let mut p = path.to_vec();
            p.push(sub.get_name());
            r.text([bold(format!("{invocation} {}", sub.get_name()))]);
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            let stop = if about.ends_with('.') { "" } else { "." };
            r.text([roman(format!("{about}{stop} See {}(8).", page_name(&p)))]);
        }
    }
    let mut see_also: Vec<String> = Vec::new();
    if !path.is_empty() {
        see_also.push(format!("{}(8)", page_name(&path[..path.len() - 1])));
    }
    for sub in &subs {
        let mut p = path.to_vec();
        p.push(sub.get_name());
        see_also.push(format!("{}(8)", page_name(&p)));
    }
    if let Some(e) = extra {
        sections(&mut r, e);
        see_also.extend(e.see_also.iter().map(|s| s.to_string()));
    }
    see_also_section(&mut r, see_also);
    text += &piece(|w| r.to_writer(w));
    Page {
        name,
        section: 8,
        text,
    }
}

/// Text paragraphs separated by blank lines; a line starting with `- ` is a
/// list item.
fn paragraphs(r: &mut Roff, text: &str) {
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(items) = para.strip_prefix("- ") {
            for item in items.split("\n- ") {
                r.control("IP", ["\\(bu", "2"]);
                r.text([roman(join_lines(item))]);
            }
        } else {
            r.control("PP", []);
            r.text([roman(join_lines(para))]);
        }
    }
}

fn join_lines(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A `.TP` list: the tag in bold, the text below it.
fn tagged(r: &mut Roff, items: &[(&str, &str)]) {
    for (tag, text) in items {
        r.control("TP", []);
        r.text([bold(*tag)]);
        r.text([roman(join_lines(text))]);
    }
}

/// EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES (the order of man-pages(7)).
pub(crate) fn sections(r: &mut Roff, e: &Extra) {
    r.control("SH", ["EXIT STATUS"]);
    tagged(r, e.exit_status);
    r.control("SH", ["ENVIRONMENT"]);
    if e.environment.is_empty() {
        r.text([roman(
            "No environment variable changes what this command does.",
        )]);
    } else {
        tagged(r, e.environment);
    }
    r.control("SH", ["FILES"]);
    if e.files.is_empty() {
        r.text([roman(
            "This command reads and writes only the files named on its command line.",
        )]);
    } else {
        tagged(r, e.files);
    }
    examples(r, e.examples);
}

pub(crate) fn examples(r: &mut Roff, examples: &[(&str, &str)]) {
    r.control("SH", ["EXAMPLES"]);
    for (command, what) in examples {
        r.control("PP", []);
        r.text([roman(join_lines(what))]);
        r.control("PP", []);
        r.control("RS", ["4"]);
        r.control("nf", []);
        for line in command.lines() {
            r.text([bold(line)]);
        }
        r.control("fi", []);
        r.control("RE", []);
    }
}

/// SEE ALSO: nfsha's own pages first, then the others, each once.
pub(crate) fn see_also_section(r: &mut Roff, mut refs: Vec<String>) {
    let own = |s: &String| s.starts_with("nfsha") || s.starts_with("ocf_nfsha_");
    let mut seen = std::collections::HashSet::new();
    refs.retain(|s| seen.insert(s.clone()));
    let (mut ours, theirs): (Vec<_>, Vec<_>) = refs.into_iter().partition(own);
    ours.extend(theirs);
    r.control("SH", ["SEE ALSO"]);
    let mut line = Vec::new();
    for (i, s) in ours.iter().enumerate() {
        let (name, section) = s.split_once('(').unwrap_or((s, ""));
        line.push(bold(name));
        let tail = if i + 1 < ours.len() { ", " } else { "" };
        line.push(roman(format!("({section}{tail}")));
    }
    r.text(line);
    r.control("PP", []);
    r.text([
        roman("The guides (server-agents.md, lint.md, heartbeat.md, packaging.md) are in "),
        italic("/usr/share/doc/nfsha/"),
        roman(" and the example layouts in "),
        italic("/usr/share/doc/nfsha/examples/"),
        roman(
            " when nfsha is installed from its package, and in docs/ and examples/ of the source.",
        ),
    ]);
}
