//! From a transcript to crm statements: `crm configure <statement>`,
//! `crm configure <<EOF … EOF`, `crm configure load update FILE|-`,
//! `crm -f FILE`, crmsh's own prompt (`crm(live)configure# …`), an
//! interactive session (`crm configure` then statements, `commit`, `end`),
//! `crm resource meta|param|unmanage …`, and bare statements as
//! `crm configure show` prints them or an editor session pastes them.

use std::collections::HashMap;

use super::super::shell::{Command, Script};
use super::super::words::{body_lines, expand, Heredoc, Logical, UNCLOSED};
use super::Stmt;

/// What one line of input asks for.
pub(super) enum Op {
    /// A statement of the configure level (`primitive …`, `modgroup …`).
    Configure(Stmt),
    /// A `crm resource …` command.
    Resource(Stmt),
    /// `crm configure load replace` or `erase`: start from an empty CIB.
    Erase,
    /// A line that is not understood: its words and why.
    Unparsed(Stmt, String),
    /// A statement printed by `show` in a transcript: it shows an object
    /// as the commands before made it, so it is applied only if no object
    /// of that id exists yet.
    Shown(Stmt),
}

impl Op {
    /// Move the statement's lines `by` lines down (several files read as
    /// one stream).
    pub(super) fn shift(&mut self, by: u32) {
        let s = match self {
            Op::Configure(s) | Op::Resource(s) | Op::Unparsed(s, _) | Op::Shown(s) => s,
            Op::Erase => return,
        };
        s.line = s.line.saturating_add(by);
        for w in &mut s.words {
            w.1 = w.1.saturating_add(by);
        }
    }
}

/// The first words of configure-level statements.
pub(super) const CONFIGURE: &[&str] = &[
    "primitive",
    "resource",
    "rsc_template",
    "group",
    "clone",
    "ms",
    "master",
    "bundle",
    "order",
    "colocation",
    "collocation",
    "location",
    "rsc_ticket",
    "property",
    "rsc_defaults",
    "op_defaults",
    "tag",
    "node",
    "fencing_topology",
    "fencing-topology",
    "alert",
    "acl_target",
    "user",
    "role",
    "xml",
    "monitor",
    "modgroup",
    "rename",
    "delete",
    "rm",
    "default-timeouts",
    "default_timeouts",
    "set",
    "erase",
    "filter",
    "load",
    "edit",
    "template",
];

/// Level commands and commands that show or check without changing the
/// configuration: understood, nothing to apply.
const NO_EFFECT: &[&str] = &[
    "configure",
    "end",
    "up",
    "cd",
    "back",
    "commit",
    "quit",
    "exit",
    "bye",
    "help",
    "verify",
    "show",
    "ptest",
    "simulate",
    "graph",
    "save",
    "refresh",
    "upgrade",
    "schema",
    "cib",
    "cibstatus",
    "ra",
    "history",
    "assist",
    "rsctest",
    "validate-all",
    "validate_all",
    "get-property",
    "get_property",
    "_test",
    "_regtest",
    "_objects",
    "ls",
    "status",
];

/// Shell commands a transcript runs around the cluster configuration.
pub(super) fn is_shell(word: &str) -> bool {
    const SHELL: &[&str] = &[
        "systemctl",
        "service",
        "chkconfig",
        "zypper",
        "yum",
        "dnf",
        "apt",
        "apt-get",
        "rpm",
        "dpkg",
        "mkdir",
        "mount",
        "umount",
        "drbdadm",
        "drbdsetup",
        "cat",
        "echo",
        "cp",
        "mv",
        "rm",
        "ln",
        "chmod",
        "chown",
        "vi",
        "vim",
        "nano",
        "ssh",
        "scp",
        "rsync",
        "exportfs",
        "showmount",
        "firewall-cmd",
        "ufw",
        "lvcreate",
        "vgcreate",
        "pvcreate",
        "lvchange",
        "vgchange",
        "lvs",
        "vgs",
        "pvs",
        "sed",
        "tee",
        "touch",
        "source",
        ".",
        "cd",
        "ls",
        "grep",
        "cibadmin",
        "crm_mon",
        "crm_verify",
        "crm_resource",
        "crm_attribute",
        "crm_node",
        "crm_simulate",
        "crm_report",
        "stonith_admin",
        "ip",
        "ifconfig",
        "ping",
        "sleep",
        "exit",
        "hostnamectl",
        "passwd",
        "useradd",
        "modprobe",
        "lsblk",
        "blkid",
        "parted",
        "fdisk",
        "sgdisk",
        "wipefs",
        "dd",
        "sbd",
        "corosync-cfgtool",
        "corosync-keygen",
        "corosync-quorumtool",
        "ha-cluster-init",
        "ha-cluster-join",
        "ha-cluster-remove",
        "hb_report",
        "sysctl",
        "reboot",
        "setenforce",
        "semanage",
        "restorecon",
        "iptables",
        "nft",
        "csync2",
        "lsmod",
        "df",
        "du",
        "if",
        "then",
        "fi",
        "for",
        "do",
        "done",
        "while",
        "else",
        "elif",
        "case",
        "esac",
        "set",
        "wait",
        "true",
        "false",
        "printf",
        "read",
        "test",
        "[",
        "[[",
        "function",
        "return",
        "}",
        "{",
        "journalctl",
        "tail",
        "head",
        "less",
        "more",
        "nfsconf",
        "mkfs",
        "tune2fs",
        "xfs_admin",
        "kill",
        "pkill",
        "crmadmin",
        "pcs",
        "nfsha",
    ];
    SHELL.contains(&word) || word.starts_with("mkfs.") || word.contains('/') || word.ends_with("()")
}

/// Whether a statement only continues the one before it: crmsh's wizard
/// scripts write `params`, `meta`, `op` and `name=value` lines indented
/// under a `primitive` without backslashes, and join them
/// (`scripts._join_script_lines`).
fn continues(words: &[(String, u32)]) -> bool {
    words.first().is_some_and(|(first, _)| {
        super::objects::is_section(first) || first.contains('=') && !first.starts_with('$')
    })
}

/// Whether words are crm's: `crm …`, a statement, or a continuation of one.
fn crm_words(words: &[(String, u32)]) -> bool {
    words
        .first()
        .is_some_and(|(w, _)| w == "crm" || CONFIGURE.contains(&w.as_str()))
        || continues(words)
}

/// Turn a transcript into operations, in input order.
pub(super) fn collect(script: Script) -> Vec<Op> {
    let transcript = script.commands.iter().any(|c| {
        c.shell_evidence
            || c.stdin.is_some()
            || c.crm_level.is_some()
            || c.first()
                .is_some_and(|w| w == "crm" || is_shell(w) && !CONFIGURE.contains(&w))
    });
    let mut out = Vec::new();
    let mut level = Level::Configure;
    let mut shown = false;
    let mut editing = false;
    for mut c in script.commands {
        let typed = c.shell_evidence || c.crm_level.is_some() || c.first() == Some("crm");
        let shows = typed && c.words.iter().any(|w| w.0 == "show");
        let at = out.len();
        // Bare statements in a transcript are typed at crm's prompt, unless
        // they follow `crm configure edit` (an editor's text, read whole).
        let bare_typed = transcript && !editing;
        command(
            &mut c,
            transcript,
            bare_typed,
            &script.files,
            &mut level,
            &mut out,
        );
        if typed {
            shown = shows;
            editing = c.words.iter().any(|w| w.0 == "edit");
        } else if shown {
            for op in &mut out[at..] {
                if let Op::Configure(s) = op {
                    s.typed = false;
                    *op = Op::Shown(std::mem::take(s));
                }
            }
        }
    }
    out
}

/// Where bare words go in an interactive session.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    Configure,
    Resource,
    Other,
}

/// The statement made of a command's words from `at` on. The words move
/// into it: a command makes at most one statement.
fn stmt(c: &mut Command, at: usize) -> Stmt {
    let mut words = std::mem::take(&mut c.words);
    words.drain(..at.min(words.len()));
    Stmt {
        line: words.first().map_or(c.line, |w| w.1),
        words,
        comments: std::mem::take(&mut c.comments),
        typed: false,
    }
}

fn word(c: &Command, i: usize) -> &str {
    c.words.get(i).map_or("", |w| w.0.as_str())
}

fn command(
    c: &mut Command,
    transcript: bool,
    bare_typed: bool,
    files: &HashMap<String, Heredoc>,
    level: &mut Level,
    out: &mut Vec<Op>,
) {
    if c.unterminated && (c.crm_level.is_some() || crm_words(&c.words)) {
        out.push(Op::Unparsed(stmt(c, 0), UNCLOSED.into()));
        return;
    }
    if let Some(prompt_level) = &c.crm_level {
        *level = match prompt_level.as_str() {
            "configure" => Level::Configure,
            "" => Level::Top,
            "resource" => Level::Resource,
            _ => Level::Other,
        };
        if !c.words.is_empty() {
            in_level(c, 0, files, level, out, true);
        }
        return;
    }
    let Some(first) = c.first().map(str::to_string) else {
        return;
    };
    let first = first.as_str();
    if first == "crm" {
        crm(c, 1, files, level, out);
    } else if (CONFIGURE.contains(&first) || NO_EFFECT.contains(&first) || continues(&c.words))
        && !(transcript && is_shell(first))
    {
        // Bare statements: `configure show` text, a pasted editor block, or
        // lines typed after `crm configure`.
        in_level(c, 0, files, level, out, bare_typed);
    } else if first == "pcs" {
        out.push(Op::Unparsed(
            stmt(c, 0),
            "a pcs command in crm input; give pcs commands in a file of their own".into(),
        ));
    } else if !(transcript || is_shell(first)) {
        let why = format!("`{first}` is not a crm statement (expected primitive, group, clone, order, colocation, location, property, …)");
        out.push(Op::Unparsed(stmt(c, 0), why));
    }
}

/// Words typed at an interactive level (or bare in a file), from `at`;
/// `typed`: parsed by crmsh word by word (see [`super::completion`]).
fn in_level(
    c: &mut Command,
    at: usize,
    files: &HashMap<String, Heredoc>,
    level: &mut Level,
    out: &mut Vec<Op>,
    typed: bool,
) {
    let first = word(c, at).to_string();
    let more = c.words.len() > at + 1;
    match (*level, first.as_str()) {
        (_, "configure") => {
            *level = Level::Configure;
            if more {
                configure(c, at + 1, files, out, typed);
            }
        }
        (_, "resource") if *level != Level::Configure => {
            *level = Level::Resource;
            if more {
                out.push(Op::Resource(stmt(c, at + 1)));
            }
        }
        (_, "end" | "up" | "cd" | "back") => *level = Level::Top,
        (Level::Configure, _) => configure(c, at, files, out, typed),
        (Level::Resource, _) => out.push(Op::Resource(stmt(c, at))),
        (
            Level::Top,
            "node" | "cluster" | "status" | "ra" | "cib" | "corosync" | "history" | "help"
            | "options" | "site" | "maintenance" | "report" | "quit" | "exit" | "bye",
        ) => {}
        (Level::Top, f) if CONFIGURE.contains(&f) => configure(c, at, files, out, typed),
        (Level::Top, f) => {
            let why = format!("`{f}` is not a crm command");
            out.push(Op::Unparsed(stmt(c, at), why));
        }
        (Level::Other, _) => {}
    }
}

/// `crm [options] [level [command …]]`, the options from `at`.
fn crm(
    c: &mut Command,
    at: usize,
    files: &HashMap<String, Heredoc>,
    level: &mut Level,
    out: &mut Vec<Op>,
) {
    let mut i = at;
    let mut script_file: Option<String> = None;
    while i < c.words.len() {
        let a = word(c, i);
        if !a.starts_with('-') || a == "-" {
            break;
        }
        match a {
            "-f" | "--file" => {
                script_file = c.words.get(i + 1).map(|x| x.0.clone());
                i += 1;
            }
            "-D" | "--display" | "-c" | "--cib" | "-H" | "--history" | "-o" | "--opt" | "-u"
            | "--user" | "-X" => i += 1,
            _ => {
                if let Some(f) = a.strip_prefix("--file=") {
                    script_file = Some(f.to_string());
                }
            }
        }
        i += 1;
    }
    if let Some(f) = script_file {
        let doc = if f == "-" {
            c.stdin.as_ref()
        } else {
            files.get(&f)
        };
        match doc {
            Some(d) => interactive(d, files, Level::Top, out, true),
            None => {
                let why = format!("runs the crm script `{f}`, which is not part of this input");
                out.push(Op::Unparsed(stmt(c, 0), why));
            }
        }
        return;
    }
    if i >= c.words.len() {
        // Interactive crm; what follows is typed at its prompt.
        *level = Level::Top;
        if let Some(d) = &c.stdin {
            interactive(d, files, Level::Top, out, true);
        }
        return;
    }
    let more = c.words.len() > i + 1;
    match word(c, i) {
        "configure" => {
            *level = Level::Configure;
            if more {
                configure(c, i + 1, files, out, true);
            } else if let Some(d) = &c.stdin {
                interactive(d, files, Level::Configure, out, true);
            }
        }
        "resource" | "rsc" => {
            if more {
                out.push(Op::Resource(stmt(c, i + 1)));
            } else {
                *level = Level::Resource;
            }
        }
        "script" if word(c, i + 1) == "run" => out.push(Op::Unparsed(
            stmt(c, 0),
            "runs a crmsh wizard script; the configuration it makes is not part of this input"
                .into(),
        )),
        "node" | "cluster" | "status" | "ra" | "cib" | "corosync" | "history" | "help"
        | "options" | "site" | "maintenance" | "report" | "script" | "sbd" | "template"
        | "assist" | "-v" | "--version" => {}
        other => {
            let why = format!("`crm {other}` is not a crm command nfsha reads");
            out.push(Op::Unparsed(stmt(c, 0), why));
        }
    }
}

/// One configure-level statement (words from `at`), with `load` handled
/// here: what `load` reads is not typed.
fn configure(
    c: &mut Command,
    at: usize,
    files: &HashMap<String, Heredoc>,
    out: &mut Vec<Op>,
    typed: bool,
) {
    let first = word(c, at);
    if first == "load" {
        let args: Vec<&str> = c.words[at + 1..].iter().map(|x| x.0.as_str()).collect();
        let (xml, args) = match args.split_first() {
            Some((&"xml", rest)) => (true, rest),
            _ => (false, &args[..]),
        };
        let (method, src) = match args {
            [m, s] => (m.to_string(), s.to_string()),
            _ => {
                let why = "expected `load [xml] replace|update|push FILE`";
                out.push(Op::Unparsed(stmt(c, at), why.into()));
                return;
            }
        };
        let doc = if src == "-" {
            c.stdin.as_ref()
        } else {
            files.get(&src)
        };
        match (xml, doc) {
            (false, Some(d)) => {
                if method == "replace" {
                    out.push(Op::Erase);
                }
                interactive(d, files, Level::Configure, out, false);
            }
            (true, Some(_)) => out.push(Op::Unparsed(
                stmt(c, at),
                "loads CIB XML into crm; lint the XML file itself".into(),
            )),
            (_, None) => {
                let why =
                    format!("loads `{src}`, which is not part of this input; lint that file too");
                out.push(Op::Unparsed(stmt(c, at), why));
            }
        }
        return;
    }
    if NO_EFFECT.contains(&first) || first == "edit" {
        return;
    }
    if continues(&c.words[at..]) {
        if let Some(Op::Configure(prev)) = out.last_mut() {
            prev.words
                .extend(std::mem::take(&mut c.words).into_iter().skip(at));
            return;
        }
    }
    let mut s = stmt(c, at);
    s.typed = typed;
    out.push(Op::Configure(s));
}

/// A here-document or script read by crm: each line a command at `level`,
/// `typed` unless `load` reads it.
fn interactive(
    d: &Heredoc,
    files: &HashMap<String, Heredoc>,
    level: Level,
    out: &mut Vec<Op>,
    typed: bool,
) {
    let mut level = level;
    for l in body_lines(&d.lines, d.expand) {
        let Logical {
            words,
            comments,
            line,
            unterminated,
            ..
        } = l;
        let words: Vec<(String, u32)> = words
            .into_iter()
            .map(|(w, n)| (expand(&w, |_| None), n))
            .collect();
        let mut sub = Command {
            line,
            words,
            comments,
            ..Command::default()
        };
        if unterminated && crm_words(&sub.words) {
            out.push(Op::Unparsed(stmt(&mut sub, 0), UNCLOSED.into()));
        } else if sub.first() == Some("crm") {
            crm(&mut sub, 1, files, &mut level, out);
        } else {
            in_level(&mut sub, 0, files, &mut level, out, typed);
        }
    }
}
