//! `nfs.conf` read exactly as nfs-utils 2.6 reads it (`support/nfs/conffile.c`),
//! for both the agents at run time ([`NfsConf`]) and `nfsha lint`
//! ([`crate::model::nfsconf`]): one line parser, one precedence, so what nfsha
//! checks is what `rpc.nfsd`, `nfsdcld` and `rpc.statd` will use.
//!
//! What nfs-utils does, checked against `nfsconf --file F --get` (2.6.2;
//! `tests/nfsconf_oracle.rs` keeps checking it):
//!
//! - A file is read up to its first NUL byte. A `\` right before a newline
//!   joins the next line (both become spaces). A last line without a newline
//!   is ignored.
//! - Leading whitespace is skipped; `#` and `;` start comment lines.
//! - `[name]` starts a section (blanks inside the brackets trimmed, name
//!   case-insensitive, anything after `]` ignored); `[name "arg"]` a
//!   subsection, which plain lookups do not see. `[name` without `]` is an
//!   error and every line up to the next valid header is ignored.
//! - `tag = value`: split at the first `=`; lines with no `=`, no tag, or
//!   before any section are errors and ignored. A value starting with `"` or
//!   `'` runs to the matching quote (the rest of the line is ignored; no
//!   matching quote is an error); any other value is cut at the first `#`,
//!   then at the first `;`, and trimmed. An empty value sets nothing.
//! - Later values win: within a file, across includes (read where the
//!   `include` line is, inheriting its section) and from the drop-in files,
//!   read after the main file in `versionsort(3)` order. A value set in a
//!   subsection replaces the same tag of the plain section and vice versa.
//! - `include = file` is relative to the including file's directory;
//!   `include = -file` may be missing.
//! - A value `$name` is looked up as `name` in `[environment]` (nfs-utils
//!   first tries the daemon's environment variable `name`, which nfsha cannot
//!   see).

use std::cmp::Ordering;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::sys::System;

/// How deep `include`s may nest. nfs-utils has no limit (an include loop
/// crashes it); nfsha stops and reports the line instead.
pub const MAX_INCLUDE_DEPTH: usize = 8;

/// How many `$name` references one lookup follows before giving up
/// (nfs-utils loops forever on `name = $name`).
pub const MAX_EXPANSIONS: usize = 16;

/// A number as nfs-utils' `conf_get_num` reads one (`atoi`): optional
/// blanks and sign, then the leading digits; no digits is 0. So
/// `lease-time = 60s` is 60 and `lease-time = 1m` is 1.
pub fn num(value: &str) -> i64 {
    let t = value.trim_start();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit);
    let n = digits.fold(0i64, |n, d| {
        n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    if neg {
        -n
    } else {
        n
    }
}

/// One `tag = value` that nfs-utils applies, where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Lower case, as nfs-utils stores it.
    pub section: String,
    /// The subsection of `[section "arg"]`.
    pub arg: Option<String>,
    /// As written (compared case-insensitively).
    pub tag: String,
    /// Never empty.
    pub value: String,
    pub file: Arc<str>,
    pub line: u32,
}

/// A line nfs-utils warns about and ignores (or a file it cannot read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: Arc<str>,
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Where included and drop-in files come from.
pub trait Files {
    fn read(&self, path: &Path) -> io::Result<String>;
    /// The names in a directory, unsorted.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
}

/// The system seam (the agents at run time).
impl Files for &dyn System {
    fn read(&self, path: &Path) -> io::Result<String> {
        self.read_to_string(path)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.list_dir(dir)
    }
}

/// The local filesystem, invalid UTF-8 replaced (lint: one stray byte should
/// not hide every finding).
pub struct LocalFiles;

impl Files for LocalFiles {
    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned())
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    }
}

/// Everything read, in the order nfs-utils applies it.
#[derive(Default)]
pub struct Reader<'a> {
    /// `None`: text only, `include` lines are skipped (fuzzing).
    files: Option<&'a dyn Files>,
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
}

/// The section a line belongs to while a file is parsed.
#[derive(Clone, Default)]
struct Section {
    name: Option<String>,
    arg: Option<String>,
}

impl<'a> Reader<'a> {
    pub fn new(files: Option<&'a dyn Files>) -> Reader<'a> {
        Reader {
            files,
            entries: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Read a file and its includes. A missing file is not a problem
    /// (nfs-utils reads the drop-ins anyway); the error is returned for the
    /// caller to judge.
    pub fn file(&mut self, path: &Path) -> io::Result<()> {
        let files = self.files.ok_or_else(|| io::Error::other("no files"))?;
        let text = files.read(path)?;
        self.text(&text, &name_of(path), Some(path));
        Ok(())
    }

    /// Parse `text` that came from `file`; `path` (the file's location)
    /// resolves relative includes, `None` skips them.
    pub fn text(&mut self, text: &str, file: &Arc<str>, path: Option<&Path>) {
        self.parse(text, file, path, Section::default(), 0);
    }

    /// The drop-in files of `dir` (`*.conf`, not hidden) in `versionsort`
    /// order, as nfs-utils reads `nfs.conf.d`. A missing directory is fine.
    pub fn dropins(&mut self, dir: &Path) {
        let Some(files) = self.files else { return };
        let Ok(mut names) = files.list(dir) else {
            return;
        };
        names.retain(|n| !n.starts_with('.') && n.len() > ".conf".len() && n.ends_with(".conf"));
        names.sort_by(|a, b| strverscmp(a.as_bytes(), b.as_bytes()));
        for n in names {
            // Directories and unreadable files are skipped, as nfs-utils does.
            let _ = self.file(&dir.join(n));
        }
    }

    /// The settings once every entry is applied.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::default();
        for e in &self.entries {
            s.set(e.clone());
        }
        s
    }

    fn problem(&mut self, file: &Arc<str>, line: u32, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.clone(),
            line,
            message: message.into(),
        });
    }

    fn parse(
        &mut self,
        text: &str,
        file: &Arc<str>,
        path: Option<&Path>,
        mut section: Section,
        depth: usize,
    ) {
        let (lines, rest) = logical_lines(text);
        for (line_no, line) in lines {
            self.line(&line, file, line_no, path, &mut section, depth);
        }
        if let Some(tail) = rest {
            self.problem(file, tail.line, tail.why);
        }
    }

    fn line(
        &mut self,
        line: &str,
        file: &Arc<str>,
        line_no: u32,
        path: Option<&Path>,
        section: &mut Section,
        depth: usize,
    ) {
        let line = line.trim_start_matches(is_space);
        if line.is_empty() || line.starts_with(['#', ';']) {
            return;
        }
        if let Some(header) = line.strip_prefix('[') {
            *section = Section::default();
            let header = header.trim_start_matches(is_blank);
            let Some(close) = header.find(']') else {
                self.problem(
                    file,
                    line_no,
                    "section header has no closing ']'; nfs-utils ignores the lines up to the next section",
                );
                return;
            };
            let header = header[..close].trim_end_matches(is_blank);
            match header.split_once('"') {
                None => section.name = Some(header.to_ascii_lowercase()),
                Some((name, arg)) => {
                    section.name = Some(name.trim_end_matches(is_blank).to_ascii_lowercase());
                    match arg.split_once('"') {
                        Some((arg, _)) => section.arg = Some(arg.to_string()),
                        None => self.problem(
                            file,
                            line_no,
                            "subsection name has no closing '\"'; nfs-utils reads the lines into the plain section",
                        ),
                    }
                }
            }
            return;
        }
        let Some((tag, value)) = line.split_once('=') else {
            self.problem(
                file,
                line_no,
                format!(
                    "expected `tag = value` or `[section]`, found {line:?}; nfs-utils ignores it"
                ),
            );
            return;
        };
        let Some(name) = section.name.clone() else {
            self.problem(
                file,
                line_no,
                "not in a section (or after a broken section header); nfs-utils ignores it",
            );
            return;
        };
        let tag = tag.trim_end_matches(is_blank);
        let value = value.trim_start_matches(is_blank);
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => match value[1..].split_once(q) {
                Some((inner, _)) => inner,
                None => {
                    self.problem(
                        file,
                        line_no,
                        format!("no closing {q} in the value; nfs-utils ignores the line"),
                    );
                    return;
                }
            },
            _ => unquoted(value),
        };
        if tag.is_empty() {
            self.problem(
                file,
                line_no,
                "no tag before '='; nfs-utils ignores the line",
            );
            return;
        }
        if tag.eq_ignore_ascii_case("include") {
            self.include(value, file, line_no, path, section, depth);
        } else if !value.is_empty() {
            self.entries.push(Entry {
                section: name,
                arg: section.arg.clone(),
                tag: tag.to_string(),
                value: value.to_string(),
                file: file.clone(),
                line: line_no,
            });
        }
    }

    fn include(
        &mut self,
        value: &str,
        file: &Arc<str>,
        line_no: u32,
        path: Option<&Path>,
        section: &Section,
        depth: usize,
    ) {
        let (Some(files), Some(path)) = (self.files, path) else {
            return;
        };
        // No trimming after the `-`: nfs-utils takes the rest as it is.
        let (optional, target) = match value.strip_prefix('-') {
            Some(t) => (true, t),
            None => (false, value),
        };
        let target: PathBuf = if target.starts_with('/') {
            target.into()
        } else {
            path.parent().unwrap_or(Path::new("")).join(target)
        };
        if depth >= MAX_INCLUDE_DEPTH {
            self.problem(
                file,
                line_no,
                format!(
                    "include {}: nested deeper than {MAX_INCLUDE_DEPTH} (an include loop?)",
                    target.display()
                ),
            );
            return;
        }
        match files.read(&target) {
            Ok(text) => {
                let name = name_of(&target);
                self.parse(&text, &name, Some(&target), section.clone(), depth + 1);
            }
            Err(_) if optional => {}
            Err(e) => self.problem(file, line_no, format!("include {}: {e}", target.display())),
        }
    }
}

fn name_of(path: &Path) -> Arc<str> {
    Arc::from(path.display().to_string())
}

/// C's `isspace` in the C locale.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// C's `isblank`.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t')
}

/// An unquoted value: cut at the first `#`, then at the first `;`, then
/// trailing whitespace trimmed, though never the first character (so a lone
/// `\r` of a CRLF line stays, as in nfs-utils).
fn unquoted(value: &str) -> &str {
    let value = value.split('#').next().unwrap_or("");
    let value = value.split(';').next().unwrap_or("");
    let Some(first) = value.chars().next() else {
        return value;
    };
    let n = first.len_utf8();
    &value[..n + value[n..].trim_end_matches(is_space).len()]
}

/// Text at the end of a file that nfs-utils ignores: where, and why.
struct IgnoredTail {
    line: u32,
    why: &'static str,
}

/// nfs-utils' lines: the text up to its first NUL, `\`-newline joined into
/// spaces. Each line comes with the number of its first physical line.
fn logical_lines(text: &str) -> (Vec<(u32, String)>, Option<IgnoredTail>) {
    let (text, nul) = match text.find('\0') {
        Some(i) => (&text[..i], true),
        None => (text, false),
    };
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 1u32;
    let mut physical = 1u32;
    for c in text.chars() {
        if c != '\n' {
            current.push(c);
            continue;
        }
        physical += 1;
        if current.ends_with('\\') {
            current.pop();
            current.push_str("  ");
        } else {
            out.push((start, std::mem::take(&mut current)));
            start = physical;
        }
    }
    let why = if nul {
        Some("NUL byte: nfs-utils reads nothing after it, and not this line")
    } else if !current.is_empty() {
        Some("last line has no newline at its end; nfs-utils ignores it")
    } else {
        None
    };
    let rest = why.map(|why| IgnoredTail { line: start, why });
    (out, rest)
}

/// glibc's `strverscmp`, the order of `versionsort(3)` (`9.conf` before
/// `10.conf`, `01.conf` before `1.conf`).
pub fn strverscmp(a: &[u8], b: &[u8]) -> Ordering {
    // States: normal, in an integral part, in a fractional part, in leading zeros.
    const S_N: usize = 0;
    const S_I: usize = 3;
    const S_F: usize = 6;
    const S_Z: usize = 9;
    const CMP: i8 = 2;
    const LEN: i8 = 3;
    #[rustfmt::skip]
    const NEXT: [usize; 12] = [
        S_N, S_I, S_Z,
        S_N, S_I, S_I,
        S_N, S_F, S_F,
        S_N, S_F, S_Z,
    ];
    #[rustfmt::skip]
    const RESULT: [i8; 36] = [
        CMP, CMP, CMP, CMP, LEN, CMP, CMP, CMP, CMP,
        CMP, -1, -1, 1, LEN, LEN, 1, LEN, LEN,
        CMP, CMP, CMP, CMP, CMP, CMP, CMP, CMP, CMP,
        CMP, 1, 1, -1, CMP, CMP, -1, CMP, CMP,
    ];
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let class = |c: u8| usize::from(c == b'0') + usize::from(c.is_ascii_digit());
    let (mut i, mut c1, mut c2) = (0usize, at(a, 0), at(b, 0));
    let mut state = S_N + class(c1);
    while c1 == c2 {
        if c1 == 0 {
            return Ordering::Equal;
        }
        state = NEXT[state];
        i += 1;
        c1 = at(a, i);
        c2 = at(b, i);
        state += class(c1);
    }
    let diff = i32::from(c1) - i32::from(c2);
    match RESULT[state * 3 + class(c2)] {
        CMP => diff.cmp(&0),
        LEN => {
            let mut j = i;
            loop {
                let d1 = at(a, j).is_ascii_digit();
                j += 1;
                if !d1 {
                    break;
                }
                if !at(b, j - 1).is_ascii_digit() {
                    return Ordering::Greater;
                }
            }
            if at(b, j - 1).is_ascii_digit() {
                Ordering::Less
            } else {
                diff.cmp(&0)
            }
        }
        r => r.cmp(&0),
    }
}

/// The values nfs-utils ends up with: at most one per (section, tag).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    bindings: Vec<Entry>,
}

impl Settings {
    /// Apply one entry as nfs-utils does: it replaces the value of the same
    /// section and tag, whatever the subsection.
    pub fn set(&mut self, e: Entry) {
        if let Some(i) = self
            .bindings
            .iter()
            .position(|b| b.section == e.section && b.tag.eq_ignore_ascii_case(&e.tag))
        {
            self.bindings.remove(i);
        }
        self.bindings.push(e);
    }

    /// Every value, in the order they were set.
    pub fn entries(&self) -> &[Entry] {
        &self.bindings
    }

    /// The entry of `tag` in `section` (plain, or subsection `arg`), without
    /// expanding `$name` (`nfsconf --entry`).
    pub fn entry(&self, section: &str, arg: Option<&str>, tag: &str) -> Option<&Entry> {
        self.bindings.iter().find(|b| {
            b.section.eq_ignore_ascii_case(section)
                && b.tag.eq_ignore_ascii_case(tag)
                && match (arg, &b.arg) {
                    (None, None) => true,
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => false,
                }
        })
    }

    /// The value as nfs-utils' daemons get it (`nfsconf --get`): `$name`
    /// is replaced by `[environment] name`.
    pub fn get(&self, section: &str, tag: &str) -> Option<&Entry> {
        let mut e = self.entry(section, None, tag)?;
        for _ in 0..MAX_EXPANSIONS {
            match e.value.strip_prefix('$') {
                Some(name) => e = self.entry("environment", None, name)?,
                None => return Some(e),
            }
        }
        None
    }
}

/// nfs-utils' configuration as its daemons see it: `nfs.conf`, its includes
/// and `nfs.conf.d/*.conf`, read by [`Reader`] exactly as nfs-utils reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NfsConf {
    settings: Settings,
}

impl NfsConf {
    /// Apply more text (includes are not followed), later values winning.
    pub fn parse_into(&mut self, text: &str) {
        let mut r = Reader::new(None);
        r.text(text, &Arc::from("nfs.conf"), None);
        for e in r.entries {
            self.settings.set(e);
        }
    }

    pub fn parse(text: &str) -> NfsConf {
        let mut c = NfsConf::default();
        c.parse_into(text);
        c
    }

    /// `nfs.conf` (with its includes) and then `nfs.conf.d/*.conf`, through
    /// the system seam. Lines nfs-utils ignores are logged as warnings and
    /// ignored here too.
    pub fn load(sys: &dyn System) -> NfsConf {
        let p = sys.paths();
        let mut r = Reader::new(Some(&sys));
        if let Err(e) = r.file(&p.nfs_conf) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot read {}: {e}", p.nfs_conf.display());
            }
        }
        r.dropins(&p.nfs_conf_d);
        for problem in &r.problems {
            tracing::warn!("{problem}");
        }
        NfsConf {
            settings: r.settings(),
        }
    }

    /// The value of `key` in `section` (both case-insensitive), `$name`
    /// resolved through `[environment]`.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.settings.get(section, key).map(|e| e.value.as_str())
    }

    /// A yes/no value as nfs-utils' `conf_get_bool` reads it: `None` when
    /// unset or neither (nfs-utils then uses its default).
    pub fn get_bool(&self, section: &str, key: &str) -> Option<bool> {
        crate::formats::bools::nfs_conf(self.get(section, key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfs_conf_sections_and_overrides() {
        let mut c = NfsConf::parse(
            "# comment\n[NFSD]\nlease-time = 90\n vers4.0 = n\n[nfsdcld]\nstoragedir=\"/srv/state/nfsdcld\"\n",
        );
        assert_eq!(c.get("nfsd", "lease-time"), Some("90"));
        assert_eq!(c.get_bool("nfsd", "vers4.0"), Some(false));
        assert_eq!(c.get("nfsdcld", "storagedir"), Some("/srv/state/nfsdcld"));
        c.parse_into("[nfsd]\nlease-time=120\n");
        assert_eq!(c.get("nfsd", "lease-time"), Some("120"));
        assert_eq!(c.get("nfsd", "grace-time"), None);
    }

    #[test]
    fn unknown_booleans_fall_back_to_the_default() {
        let c = NfsConf::parse("[nfsd]\nvers3 = maybe\nvers4.1 = Off\nvers4.2 = T\n");
        assert_eq!(c.get_bool("nfsd", "vers3"), None);
        assert_eq!(c.get_bool("nfsd", "vers4.1"), Some(false));
        assert_eq!(c.get_bool("NFSD", "Vers4.2"), Some(true));
    }

    #[test]
    fn nfs_conf_includes_and_dropins_through_the_seam() {
        use crate::sys::fake::Fake;
        let sys = Fake::new();
        sys.file(
            "/etc/nfs.conf",
            "[nfsd]\nthreads = 8\ninclude = nfs-local.conf\nlease-time = 90 ; main\n",
        );
        sys.file("/etc/nfs-local.conf", "threads = 16\nlease-time = 60\n");
        sys.file("/etc/nfs.conf.d/9-a.conf", "[nfsd]\ngrace-time = 9\n");
        sys.file("/etc/nfs.conf.d/10-b.conf", "[nfsd]\ngrace-time = 10\n");
        sys.file(
            "/etc/nfs.conf.d/10-b.conf.rpmsave",
            "[nfsd]\ngrace-time = 1\n",
        );
        let c = NfsConf::load(&sys);
        assert_eq!(c.get("nfsd", "threads"), Some("16"));
        assert_eq!(c.get("nfsd", "lease-time"), Some("90"));
        assert_eq!(c.get("nfsd", "grace-time"), Some("10"));
    }

    fn settings(text: &str) -> (Settings, Vec<Problem>) {
        let mut r = Reader::new(None);
        r.text(text, &Arc::from("nfs.conf"), None);
        (r.settings(), r.problems)
    }

    fn get(text: &str, section: &str, tag: &str) -> Option<String> {
        settings(text).0.get(section, tag).map(|e| e.value.clone())
    }

    #[test]
    fn later_values_win() {
        assert_eq!(
            get("[nfsd]\na = 1\na = 2\n", "nfsd", "a").as_deref(),
            Some("2")
        );
        assert_eq!(
            get("[nfsd]\na = 1\nA = 3\n", "NFSD", "a").as_deref(),
            Some("3")
        );
    }

    #[test]
    fn quoted_values_end_at_the_matching_quote() {
        let t = "[s]\nd = \"x#y\"z\nh = 'x'\np = 'it\"s'\nn = \"  padded  \"\no = \"\"\n";
        assert_eq!(get(t, "s", "d").as_deref(), Some("x#y"));
        assert_eq!(get(t, "s", "h").as_deref(), Some("x"));
        assert_eq!(get(t, "s", "p").as_deref(), Some("it\"s"));
        assert_eq!(get(t, "s", "n").as_deref(), Some("  padded  "));
        assert_eq!(get(t, "s", "o"), None, "an empty quoted value sets nothing");
    }

    #[test]
    fn an_unmatched_quote_drops_the_line() {
        let (s, p) = settings("[s]\nj = 1\nj = \"open\nk = 'open\n");
        assert_eq!(s.get("s", "j").unwrap().value, "1");
        assert!(s.get("s", "k").is_none());
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].line, 3);
    }

    #[test]
    fn unquoted_values_end_at_a_comment() {
        let t = "[s]\nc = x;y\ne = x # y ; z\ni = x \"y\" z\nk = a=b=c\n  l  =   spaced value   \nr\t=\ttab\n";
        assert_eq!(get(t, "s", "c").as_deref(), Some("x"));
        assert_eq!(get(t, "s", "e").as_deref(), Some("x"));
        assert_eq!(get(t, "s", "i").as_deref(), Some("x \"y\" z"));
        assert_eq!(get(t, "s", "k").as_deref(), Some("a=b=c"));
        assert_eq!(get(t, "s", "l").as_deref(), Some("spaced value"));
        assert_eq!(get(t, "s", "r").as_deref(), Some("tab"));
    }

    #[test]
    fn an_empty_value_sets_nothing() {
        assert_eq!(get("[s]\nf =\n", "s", "f"), None);
        assert_eq!(
            get("[s]\ng = 1\ng =\ng = # c\n", "s", "g").as_deref(),
            Some("1")
        );
    }

    #[test]
    fn crlf_lines_keep_a_lone_carriage_return() {
        let t = "[s]\r\na = 1\r\nq = \"q\"\r\ne =\r\n";
        assert_eq!(get(t, "s", "a").as_deref(), Some("1"));
        assert_eq!(get(t, "s", "q").as_deref(), Some("q"));
        assert_eq!(get(t, "s", "e").as_deref(), Some("\r"));
    }

    #[test]
    fn section_headers() {
        let t = "[ NFSD ]\ns = 1\n[t] junk\nt1 = yes\n[]\ne = 2\n";
        assert_eq!(get(t, "nfsd", "s").as_deref(), Some("1"));
        assert_eq!(get(t, "t", "t1").as_deref(), Some("yes"));
        assert_eq!(get(t, "", "e").as_deref(), Some("2"));
    }

    #[test]
    fn a_broken_header_hides_lines_up_to_the_next_section() {
        let (s, p) = settings("[a]\nx = 1\n[u\nu1 = no\nv = 2\n[w]\nw1 = 3\n");
        assert!(s.get("u", "u1").is_none());
        assert!(s.get("a", "v").is_none(), "not the previous section either");
        assert_eq!(s.get("w", "w1").unwrap().value, "3");
        let lines: Vec<u32> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5]);
    }

    #[test]
    fn lines_that_are_not_assignments() {
        let (s, p) = settings("x = before\n[w]\nnokey\n= novalue\nw1 = after\n");
        assert_eq!(s.entries().len(), 1);
        assert_eq!(s.get("w", "w1").unwrap().value, "after");
        let lines: Vec<u32> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 3, 4]);
    }

    #[test]
    fn subsections_are_separate_but_share_the_tag() {
        let t = "[x \"sub\"]\nx1 = s\n[x]\nx2 = plain\n";
        let (s, _) = settings(t);
        assert!(s.get("x", "x1").is_none());
        assert_eq!(s.entry("x", Some("SUB"), "x1").unwrap().value, "s");
        assert_eq!(s.get("x", "x2").unwrap().value, "plain");
        // nfs-utils 2.6.2 replaces by section and tag only.
        let (s, _) = settings("[x]\nt = plain\n[x \"sub\"]\nt = s\n");
        assert!(s.get("x", "t").is_none());
        assert_eq!(s.entry("x", Some("sub"), "t").unwrap().value, "s");
        let (s, p) = settings("[y \"open]\ny1 = z\n");
        assert_eq!(s.get("y", "y1").unwrap().value, "z");
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn backslash_newline_joins_lines() {
        let (s, _) = settings("[s]\nq = x\\\n  continued\n# note \\\nhidden = 1\nr = 2\n");
        let q = s.get("s", "q").unwrap();
        assert_eq!(q.value, "x    continued");
        assert_eq!(q.line, 2);
        assert!(s.get("s", "hidden").is_none(), "joined into the comment");
        assert_eq!(s.get("s", "r").unwrap().line, 6);
    }

    #[test]
    fn the_last_line_needs_a_newline_and_nul_ends_the_file() {
        let (s, p) = settings("[s]\na = 1\nb = 2");
        assert!(s.get("s", "b").is_none());
        assert_eq!((p[0].line, s.entries().len()), (3, 1));
        let (s, p) = settings("[s]\na = 1\nb = x\0y\nc = 3\n");
        assert_eq!(s.entries().len(), 1);
        assert_eq!(p[0].line, 3);
    }

    #[test]
    fn dollar_names_come_from_the_environment_section() {
        let t =
            "[b]\nv = $\nw = $E1\nl = $loop\n[environment]\ne1 = $E2\ne2 = final\nloop = $loop\n";
        assert_eq!(get(t, "b", "w").as_deref(), Some("final"));
        assert_eq!(get(t, "b", "v"), None);
        assert_eq!(get(t, "b", "l"), None);
    }

    #[test]
    fn versionsort_order() {
        let mut names = [
            "10.conf", "9.conf", "a10.conf", "a9.conf", "1.conf", "01.conf", "B.conf", "a.conf",
            "000", "00",
        ];
        names.sort_by(|a, b| strverscmp(a.as_bytes(), b.as_bytes()));
        assert_eq!(
            names,
            [
                "000", "00", "01.conf", "1.conf", "9.conf", "10.conf", "B.conf", "a.conf",
                "a9.conf", "a10.conf"
            ]
        );
        assert_eq!(strverscmp(b"1.010", b"1.09"), Ordering::Less);
        assert_eq!(strverscmp(b"abc", b"abc"), Ordering::Equal);
    }

    /// In-memory files for the include and drop-in tests.
    struct Mem(Vec<(&'static str, &'static str)>);

    impl Files for Mem {
        fn read(&self, path: &Path) -> io::Result<String> {
            self.0
                .iter()
                .find(|(p, _)| Path::new(p) == path)
                .map(|(_, t)| t.to_string())
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }
        fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
            Ok(self
                .0
                .iter()
                .filter_map(|(p, _)| Path::new(p).strip_prefix(dir).ok())
                .map(|p| p.display().to_string())
                .collect())
        }
    }

    #[test]
    fn includes_are_read_in_place_and_inherit_the_section() {
        let files = Mem(vec![
            (
                "/e/nfs.conf",
                "include = /e/early.conf\n[nfsd]\na = main\ninclude = sub/inc.conf\nb = main\ninclude = -missing.conf\ninclude = - sub/inc.conf\ninclude = missing.conf\n",
            ),
            ("/e/early.conf", "[nfsd]\nearly = 1\n"),
            ("/e/sub/inc.conf", "a = inc\nb = inc\ninclude = deeper.conf\n[other]\no = 1\n"),
            ("/e/sub/deeper.conf", "deep = 1\n"),
        ]);
        let mut r = Reader::new(Some(&files));
        r.file(Path::new("/e/nfs.conf")).unwrap();
        let s = r.settings();
        assert!(
            s.get("nfsd", "early").is_none(),
            "include before any section"
        );
        assert_eq!(s.get("nfsd", "a").unwrap().value, "inc");
        assert_eq!(&*s.get("nfsd", "a").unwrap().file, "/e/sub/inc.conf");
        assert_eq!(s.get("nfsd", "b").unwrap().value, "main");
        assert_eq!(s.get("nfsd", "deep").unwrap().value, "1");
        assert_eq!(s.get("other", "o").unwrap().value, "1");
        let lines: Vec<u32> = r.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 8], "{:?}", r.problems);
    }

    #[test]
    fn include_loops_end() {
        let files = Mem(vec![("/e/nfs.conf", "[s]\ninclude = nfs.conf\n")]);
        let mut r = Reader::new(Some(&files));
        r.file(Path::new("/e/nfs.conf")).unwrap();
        assert_eq!(r.problems.len(), 1);
        assert!(r.problems[0].message.contains("nested"));
    }

    #[test]
    fn dropins_in_versionsort_order_override_the_main_file() {
        let files = Mem(vec![
            ("/e/nfs.conf", "[nfsd]\nv = main\nw = main\n"),
            ("/e/nfs.conf.d/10.conf", "[nfsd]\nv = 10\n"),
            ("/e/nfs.conf.d/9.conf", "[nfsd]\nv = 9\n"),
            ("/e/nfs.conf.d/.hidden.conf", "[nfsd]\nw = hidden\n"),
            ("/e/nfs.conf.d/x.cfg", "[nfsd]\nw = cfg\n"),
        ]);
        let mut r = Reader::new(Some(&files));
        r.file(Path::new("/e/nfs.conf")).unwrap();
        r.dropins(Path::new("/e/nfs.conf.d"));
        let s = r.settings();
        assert_eq!(s.get("nfsd", "v").unwrap().value, "10");
        assert_eq!(s.get("nfsd", "w").unwrap().value, "main");
    }
}
