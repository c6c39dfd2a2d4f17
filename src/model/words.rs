//! Splitting crm and pcs text into words, shell-style: whitespace separates,
//! `'…'` and `"…"` quote (with `\` escapes inside double quotes), a trailing
//! `\` joins the next line. Each word keeps the line it started on.
//!
//! Two modes:
//! * crm text ([`crm_lines`]): a `#` comment only at the start of a line
//!   (crm attaches it to the next object); nothing else is special.
//! * shell transcripts ([`shell_lines`]), as guides and scripts publish pcs
//!   and crm commands: prompts (`[root@z1 ~]#`, `node2#`, `sles1:~ #`,
//!   `# pcs …`, `crm(live)configure#`) are dropped, `#` starts a comment
//!   wherever a word could start, `;`, `&&`, `||` and `|` are words of their
//!   own ([`is_operator`]), `$name`/`${name}` are marked for expansion by
//!   [`expand`], and a `<<WORD` here-document's body is attached to its line.

/// One logical line (a crm object, or one shell command line) as words with lines.
#[derive(Debug, Default, Clone)]
pub struct Logical {
    pub line: u32,
    pub words: Vec<(String, u32)>,
    /// `#` comments directly above it (crm attaches them to the next object).
    pub comments: Vec<String>,
    /// The body of a `<<WORD` here-document started on this line.
    pub heredoc: Option<Heredoc>,
    /// The line started with crmsh's interactive prompt, `crm(live)<level>#`:
    /// the level (`configure`, `resource`, or empty for the top level).
    pub crm_level: Option<String>,
    /// A shell or crm prompt stood before it.
    pub prompted: bool,
    /// A quote opened on it was never closed: the line was cut where the
    /// next command begins (see [`Lexer::run`]) and is not to be trusted.
    pub unterminated: bool,
}

/// A here-document: its lines with their numbers.
#[derive(Debug, Default, Clone)]
pub struct Heredoc {
    pub lines: Vec<(u32, String)>,
    /// `<<'EOF'` (quoted) leaves `$name` alone; `<<EOF` expands it.
    pub expand: bool,
}

/// Why a command whose quote never closed is not read.
pub const UNCLOSED: &str = "a quote opened in it is not closed before the next command; the shell would read on and swallow what follows, so it is not applied";

/// Marks a `$` the shell would expand (not inside single quotes).
const VAR: char = '\u{1}';
/// Marks where a double-quoted string ended, so `"$N"x` reads `$N` then `x`.
const END: char = '\u{2}';

/// Words that separate shell commands.
pub fn is_operator(w: &str) -> bool {
    matches!(w, ";" | "&&" | "||" | "|" | "&")
}

/// crm text: `#` comments at the start of a line only.
pub fn crm_lines(text: &str) -> Vec<Logical> {
    let lines: Vec<(u32, &str)> = numbered(text);
    Lexer::default().run(&lines)
}

/// crm text given as numbered lines (the body of a here-document); `expand`
/// marks `$name` for [`expand`], as the shell does in an unquoted `<<EOF`.
pub fn body_lines(lines: &[(u32, String)], expand: bool) -> Vec<Logical> {
    let l: Vec<(u32, &str)> = lines.iter().map(|(n, s)| (*n, s.as_str())).collect();
    Lexer {
        vars: expand,
        ..Lexer::default()
    }
    .run(&l)
}

/// A shell transcript or script. With a `#!` first line the file is a script,
/// and a line starting with `#` is always a comment; otherwise `# pcs …` is
/// the root prompt of a pasted session. A `#` inside a line starts a comment
/// when a blank follows it (`#uname` in a crm rule stays a word).
pub fn shell_lines(text: &str) -> Vec<Logical> {
    let lines: Vec<(u32, &str)> = numbered(text);
    Lexer {
        prompts: true,
        script: lines.first().is_some_and(|(_, l)| l.starts_with("#!")),
        shell: true,
        vars: true,
    }
    .run(&lines)
}

fn numbered(text: &str) -> Vec<(u32, &str)> {
    text.lines()
        .enumerate()
        .map(|(n, l)| (n as u32 + 1, l))
        .collect()
}

/// The first words of crm statements that end a quote left open (a quoted
/// value spanning lines never continues into one).
const STATEMENTS: &[&str] = &[
    "primitive",
    "group",
    "clone",
    "ms",
    "master",
    "order",
    "colocation",
    "location",
    "property",
    "rsc_defaults",
    "op_defaults",
    "modgroup",
    "commit",
];

/// Commands a prompt may stand before. Only these make a leading `#` a prompt.
const PROMPTED: &[&str] = &["pcs", "crm", "sudo", "systemctl", "cibadmin"];

fn starts_with_command(rest: &str) -> bool {
    let first = rest.split(|c: char| c.is_whitespace()).next().unwrap_or("");
    let assignment = first.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !k.starts_with(|c: char| c.is_ascii_digit())
    });
    PROMPTED.contains(&first) || assignment
}

/// The rest of a line after the prompt of a pasted session, if it has one:
/// `(command, crm level)`; the level is set for crmsh's own prompt.
pub fn strip_prompt(line: &str) -> Option<(&str, Option<&str>)> {
    match prompt(line.trim_start(), false) {
        Prompt::None => None,
        Prompt::Shell(rest) => Some((rest, None)),
        Prompt::Crm(level, rest) => Some((rest, Some(level))),
    }
}

/// What a prompt at the start of a line left.
enum Prompt<'a> {
    None,
    /// A shell prompt: the command after it.
    Shell(&'a str),
    /// crmsh's own prompt `crm(live)configure#`: the level and the statement.
    Crm(&'a str, &'a str),
}

/// Recognise the prompt of a pasted session at the start of `line` (already
/// trimmed at the start). A prompt is only taken as one when a command nfsha
/// reads follows it, so crm's `$id=…` or a comment is never cut.
fn prompt(line: &str, script: bool) -> Prompt<'_> {
    // A Markdown-escaped `\#` or `\$` is a prompt character too.
    let line = match line.strip_prefix('\\') {
        Some(r) if r.starts_with(['#', '$']) => r,
        _ => line,
    };
    if let Some(rest) = line.strip_prefix("crm(") {
        if let Some(close) = rest.find(')') {
            let after = &rest[close + 1..];
            if let Some(hash) = after.find('#') {
                let level = after[..hash].trim();
                if level.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Prompt::Crm(level, after[hash + 1..].trim_start());
                }
            }
        }
    }
    // `[root@z1 ~]# pcs`, `[root@nodea /] pcs`.
    if line.starts_with('[') {
        if let Some(close) = line.find(']') {
            let mut rest = &line[close + 1..];
            rest = rest.strip_prefix(['#', '$']).unwrap_or(rest).trim_start();
            if starts_with_command(rest) {
                return Prompt::Shell(rest);
            }
        }
    }
    // `# pcs`, `$ pcs`, `node2# pcs`, `sles1:~ # crm`, `root@host /]#pcs`.
    let mut limit = line.len().min(80);
    while !line.is_char_boundary(limit) {
        limit -= 1;
    }
    for (i, c) in line[..limit].char_indices() {
        if !matches!(c, '#' | '$' | '%' | '>') {
            continue;
        }
        let before = line[..i].trim();
        let rest = line[i + 1..].trim_start();
        if !starts_with_command(rest) {
            continue;
        }
        // In a script a leading `#` is a comment; so is `# sudo …` anywhere,
        // since root's prompt has no use for sudo (a commented-out command).
        if before.is_empty() && c == '#' && (script || rest.starts_with("sudo ")) {
            return Prompt::None;
        }
        let plausible = before.split_whitespace().count() <= 2
            && !before.contains(['=', '"', '\'', '#', '$', '`']);
        if plausible {
            return Prompt::Shell(rest);
        }
        break;
    }
    Prompt::None
}

#[derive(Default)]
struct Lexer {
    /// Drop the prompts of pasted sessions.
    prompts: bool,
    /// A `#!` script: a leading `#` is never a prompt.
    script: bool,
    /// Operators, comments inside lines, here-documents.
    shell: bool,
    /// Mark `$` for expansion.
    vars: bool,
}

/// The word state while scanning one logical line.
#[derive(Default)]
struct Scan {
    cur: Logical,
    word: String,
    in_word: bool,
    word_line: u32,
    quote: Option<char>,
}

impl Scan {
    fn start_word(&mut self, line: u32) {
        if !self.in_word {
            self.in_word = true;
            self.word_line = line;
        }
    }
    fn end_word(&mut self) {
        if self.in_word {
            self.cur
                .words
                .push((std::mem::take(&mut self.word), self.word_line));
            self.in_word = false;
        }
    }
}

impl Lexer {
    fn run(&self, lines: &[(u32, &str)]) -> Vec<Logical> {
        let mut out = Vec::new();
        let mut comments: Vec<String> = Vec::new();
        let mut s = Scan::default();
        let mut chars: Vec<char> = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let (line_no, raw) = lines[i];
            i += 1;
            let at_start = s.cur.words.is_empty() && !s.in_word && s.quote.is_none();
            let mut body = raw;
            if at_start {
                let trimmed = raw.trim_start();
                if self.prompts {
                    match prompt(trimmed, self.script) {
                        Prompt::Shell(rest) => {
                            s.cur.prompted = true;
                            body = rest;
                        }
                        Prompt::Crm(level, rest) => {
                            s.cur.crm_level = Some(level.to_string());
                            s.cur.prompted = true;
                            body = rest;
                        }
                        Prompt::None => {}
                    }
                }
                let trimmed_body = body.trim_start();
                if std::ptr::eq(body, raw) && trimmed_body.starts_with('#') {
                    comments.push(trimmed_body.to_string());
                    continue;
                }
                if trimmed_body.is_empty() && s.cur.crm_level.is_none() {
                    continue;
                }
            }
            let mut continued = self.scan_line(&mut s, &mut chars, body, line_no);
            if continued && s.quote.is_some() && lines.get(i).map_or(true, |n| self.begins(n.1)) {
                // A quote left open before the next command (or the end):
                // an apostrophe in prose, or a typo. The shell would read
                // on to the next matching quote and swallow the commands in
                // between; the line ends here instead and is marked.
                s.word.pop();
                s.quote = None;
                s.cur.unterminated = true;
                continued = false;
            }
            if continued {
                continue;
            }
            s.end_word();
            if s.cur.words.is_empty() && s.cur.crm_level.is_none() {
                continue;
            }
            s.cur.line = s.cur.words.first().map_or(line_no, |w| w.1);
            s.cur.comments = std::mem::take(&mut comments);
            if self.shell {
                if let Some((delim, strip)) = heredoc_start(&s.cur.words) {
                    let expand = !raw.contains("<<'")
                        && !raw.contains("<<\"")
                        && !raw.contains("<<\\")
                        && !raw.contains("<<-'")
                        && !raw.contains("<<-\"");
                    let mut doc = Heredoc {
                        lines: Vec::new(),
                        expand,
                    };
                    while i < lines.len() {
                        let (n, l) = lines[i];
                        i += 1;
                        if l.trim() == delim {
                            break;
                        }
                        let l = if strip { l.trim_start_matches('\t') } else { l };
                        doc.lines.push((n, l.to_string()));
                    }
                    s.cur.heredoc = Some(doc);
                }
            }
            out.push(std::mem::take(&mut s.cur));
        }
        s.end_word();
        if !s.cur.words.is_empty() {
            s.cur.line = s.cur.words[0].1;
            s.cur.comments = comments;
            out.push(s.cur);
        }
        out
    }

    /// Whether `line` plainly begins a command of its own: a prompt, a
    /// command a prompt may stand before, a crm statement, or a Markdown
    /// code fence. A quoted value never runs on into such a line.
    fn begins(&self, line: &str) -> bool {
        let t = line.trim_start();
        let first = t.split(char::is_whitespace).next().unwrap_or("");
        (self.prompts && !matches!(prompt(t, self.script), Prompt::None))
            || starts_with_command(t)
            || t.starts_with("```")
            || t.starts_with("crm(")
            || STATEMENTS.contains(&first)
    }

    /// Scan one physical line into `s`; true when the logical line goes on.
    fn scan_line(&self, s: &mut Scan, chars: &mut Vec<char>, body: &str, line_no: u32) -> bool {
        // The two marks are control characters no configuration contains;
        // one in the input must not be taken for a mark.
        chars.clear();
        chars.extend(
            body.chars()
                .map(|c| if c == VAR || c == END { '\u{fffd}' } else { c }),
        );
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match s.quote {
                Some(q) => {
                    if c == q {
                        s.quote = None;
                        if q == '"' && self.vars {
                            s.word.push(END);
                        }
                    } else if c == '\\' && q == '"' && i + 1 < chars.len() {
                        i += 1;
                        s.word.push(chars[i]);
                    } else if c == '$' && q == '"' && self.vars {
                        s.word.push(VAR);
                        s.word.push(c);
                    } else {
                        s.word.push(c);
                    }
                }
                None => {
                    if c == '\\' && i + 1 == chars.len() {
                        return true;
                    } else if c == '\\' && i + 1 < chars.len() {
                        i += 1;
                        s.start_word(line_no);
                        s.word.push(chars[i]);
                    } else if c.is_whitespace() {
                        s.end_word();
                    } else if c == '#'
                        && !s.in_word
                        && self.shell
                        && chars.get(i + 1).map_or(true, |n| n.is_whitespace())
                    {
                        break;
                    } else if self.shell && (c == '`' || c == '$' && chars.get(i + 1) == Some(&'('))
                    {
                        // A command substitution is one word, kept as written:
                        // `$(mktemp tmpcibXXXXX)` names a file nfsha cannot know.
                        s.start_word(line_no);
                        let close = if c == '`' { '`' } else { ')' };
                        let mut depth = 0;
                        while i < chars.len() {
                            let x = chars[i];
                            s.word.push(x);
                            if x == '(' {
                                depth += 1;
                            } else if x == close
                                && (close == '`' && s.word.len() > 1 || close == ')' && depth <= 1)
                            {
                                break;
                            } else if x == ')' {
                                depth -= 1;
                            }
                            i += 1;
                        }
                    } else if self.shell && matches!(c, ';' | '&' | '|') {
                        s.end_word();
                        let double = i + 1 < chars.len() && chars[i + 1] == c && c != ';';
                        let op = if double {
                            i += 1;
                            format!("{c}{c}")
                        } else {
                            c.to_string()
                        };
                        s.cur.words.push((op, line_no));
                    } else {
                        s.start_word(line_no);
                        if c == '"' || c == '\'' {
                            s.quote = Some(c);
                        } else {
                            if c == '$' && self.vars {
                                s.word.push(VAR);
                            }
                            s.word.push(c);
                        }
                    }
                }
            }
            i += 1;
        }
        if s.quote.is_some() {
            // A quoted value spanning lines keeps its newline and the word
            // goes on on the next line.
            s.word.push('\n');
            return true;
        }
        false
    }
}

/// `<<EOF`, `<< EOF`, `<<-EOF`: the delimiter and whether tabs are stripped.
fn heredoc_start(words: &[(String, u32)]) -> Option<(String, bool)> {
    for (k, (w, _)) in words.iter().enumerate() {
        let Some(rest) = w.strip_prefix("<<") else {
            continue;
        };
        if rest.starts_with('<') {
            continue; // a here-string
        }
        let (rest, strip) = match rest.strip_prefix('-') {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let delim = if rest.is_empty() {
            words.get(k + 1).map(|x| x.0.as_str()).unwrap_or("")
        } else {
            rest
        };
        let delim = unmark(delim);
        if !delim.is_empty() {
            return Some((delim, strip));
        }
    }
    None
}

/// Whether a word carries expansion marks ([`expand`] or [`unmark`] it).
pub fn is_marked(w: &str) -> bool {
    w.contains([VAR, END])
}

/// A word with the expansion marks removed (`$x` stays as written).
pub fn unmark(w: &str) -> String {
    w.replace([VAR, END], "")
}

/// Expand the shell variables in a word: `$name` and `${name}` (the same
/// variable) become its value when it was assigned earlier in the input;
/// an unknown variable stays as `$name`, so both spellings still name the
/// same thing. `${name:-default}` gives the default when unset.
pub fn expand(w: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    if !w.contains(VAR) {
        return unmark(w);
    }
    let mut out = String::with_capacity(w.len());
    let mut rest = w;
    while let Some(p) = rest.find(VAR) {
        out.push_str(&rest[..p]);
        let Some(after) = rest[p + VAR.len_utf8()..].strip_prefix('$') else {
            rest = &rest[p + VAR.len_utf8()..];
            continue;
        };
        if let Some(inner) = after.strip_prefix('{') {
            if let Some(close) = inner.find('}') {
                let spec = &inner[..close];
                let (name, default) = match spec.split_once(":-") {
                    Some((n, d)) => (n, Some(d)),
                    None => (spec, None),
                };
                match lookup(name).or_else(|| default.map(unmark)) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('$');
                        out.push_str(name);
                    }
                }
                rest = &inner[close + 1..];
                continue;
            }
        }
        let len = after
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(after.len(), |(i, _)| i);
        let name = &after[..len];
        match (len > 0).then(|| lookup(name)).flatten() {
            Some(v) => out.push_str(&v),
            None => {
                out.push('$');
                out.push_str(name);
            }
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    unmark(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(l: &Logical) -> Vec<String> {
        l.words.iter().map(|(w, _)| unmark(w)).collect()
    }

    #[test]
    fn continuations_quotes_and_lines() {
        let l =
            crm_lines("# c\nprimitive a Dummy \\\n\tparams x=\"a b\" y='c'\norder o inf: a b\n");
        assert_eq!(l.len(), 2);
        assert_eq!(
            words(&l[0]),
            ["primitive", "a", "Dummy", "params", "x=a b", "y=c"]
        );
        assert_eq!(l[0].words[4].1, 3);
        assert_eq!(l[0].comments, vec!["# c"]);
        assert_eq!(l[1].line, 4);
        let p = shell_lines("pcs resource create a Dummy # note\n");
        assert_eq!(p[0].words.len(), 5);
    }

    #[test]
    fn prompts_of_pasted_sessions() {
        for (text, first) in [
            ("[root@z1 ~]# pcs status\n", "pcs"),
            ("node2# pcs status\n", "pcs"),
            ("root@host /]#pcs status\n", "pcs"),
            ("   [root@z1 ~]# pcs status\n", "pcs"),
            ("# pcs status\n", "pcs"),
            ("$ sudo pcs status\n", "sudo"),
            ("sles1:~ # crm configure show\n", "crm"),
            ("[root@nodea /] pcs status\n", "pcs"),
            ("\\# pcs status\n", "pcs"),
            ("(node1)# pcs status\n", "pcs"),
            ("(venv) user@host:~$ sudo pcs status\n", "sudo"),
        ] {
            let l = shell_lines(text);
            assert_eq!(l.len(), 1, "{text}");
            assert_eq!(words(&l[0])[0], first, "{text}");
        }
        // A comment stays a comment, in a script `# pcs` too.
        assert!(shell_lines("# create the group\n").is_empty());
        assert!(shell_lines("#!/bin/sh\n# pcs resource delete x\n").is_empty());
        assert!(shell_lines("# sudo pcs property set stonith-enabled=false\n").is_empty());
        let crm = shell_lines("crm(live/node1)configure# primitive a Dummy\n");
        assert_eq!(crm[0].crm_level.as_deref(), Some("configure"));
        assert_eq!(words(&crm[0]), ["primitive", "a", "Dummy"]);
    }

    /// A quote still open where the next command begins is closed at the
    /// end of its line, and the line is marked; one spanning plain lines
    /// goes on, as in the shell.
    #[test]
    fn an_open_quote_stops_before_the_next_command() {
        let l = shell_lines("Let's begin.\n# pcs status\nsudo crm configure show\n");
        assert_eq!(l.len(), 3);
        assert!(l[0].unterminated);
        assert_eq!(words(&l[1]), ["pcs", "status"]);
        assert!(!l[1].unterminated && !l[2].unterminated);
        let c = crm_lines("primitive a Dummy params d=\"x\nprimitive b Dummy\n");
        assert_eq!(c.len(), 2);
        assert!(c[0].unterminated);
        assert_eq!(words(&c[0]), ["primitive", "a", "Dummy", "params", "d=x"]);
        let m = crm_lines("primitive a Dummy params d=\"two\nlines\" x=y\n```\n");
        assert_eq!(m.len(), 2);
        assert!(!m[0].unterminated);
        assert_eq!(words(&m[0])[4..], ["d=two\nlines", "x=y"]);
        let end = shell_lines("pcs resource create a 'Dummy\n");
        assert!(end[0].unterminated);
    }

    #[test]
    fn operators_heredocs_and_variables() {
        let l = shell_lines("pcs cluster cib x && pcs -f x status; echo 'a;b'\n");
        assert_eq!(
            words(&l[0]),
            ["pcs", "cluster", "cib", "x", "&&", "pcs", "-f", "x", "status", ";", "echo", "a;b"]
        );
        let l = shell_lines("crm configure <<EOF\nprimitive a Dummy\n  EOF\npcs status\n");
        assert_eq!(l.len(), 2);
        let doc = l[0].heredoc.as_ref().unwrap();
        assert_eq!(doc.lines, vec![(2, "primitive a Dummy".to_string())]);
        assert!(doc.expand);
        let q = shell_lines("cat > f <<'END'\nx\nEND\n");
        assert!(!q[0].heredoc.as_ref().unwrap().expand);
        let v = shell_lines("pcs resource create ${N}-fs \"$N\"x '$N'\n");
        let look = |n: &str| (n == "N").then(|| "nfs".to_string());
        let e: Vec<String> = v[0].words.iter().map(|(w, _)| expand(w, look)).collect();
        assert_eq!(e[3..], ["nfs-fs", "nfsx", "$N"]);
        let unknown: Vec<String> = v[0]
            .words
            .iter()
            .map(|(w, _)| expand(w, |_| None))
            .collect();
        assert_eq!(unknown[3..5], ["$N-fs", "$Nx"]);
    }
}
