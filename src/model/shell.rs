//! Shell transcripts and scripts, as guides publish pcs and crm commands:
//! the lexer's logical lines ([`super::words::shell_lines`]) become simple
//! commands. Lists and pipelines (`a && b; c | d`) are split, `sudo` and
//! `VAR=x` prefixes dropped, variables assigned earlier (`NFS_IP=…`,
//! `export N=…`) expanded, here-documents handed to the command that reads
//! them (`crm configure <<EOF`, `cat <<EOF | crm configure load update -`)
//! or kept under their file name (`cat > nfs.crm <<EOF` for a later
//! `crm configure load update nfs.crm`), and `systemctl enable` recorded.

use std::collections::HashMap;

use super::words::{expand, is_marked, is_operator, shell_lines, Heredoc, Logical};
use super::EnabledUnit;

/// One simple command, its words expanded.
#[derive(Debug, Default, Clone)]
pub struct Command {
    pub line: u32,
    pub words: Vec<(String, u32)>,
    /// `#` comment lines directly above it.
    pub comments: Vec<String>,
    /// What it reads on standard input (a here-document, or one piped in).
    pub stdin: Option<Heredoc>,
    /// Typed at crmsh's own prompt (`crm(live)configure# …`): the level.
    pub crm_level: Option<String>,
    /// A prompt stood before it, or it came from a script line: the input
    /// is a transcript, not bare configuration text.
    pub shell_evidence: bool,
    /// A quote in it was never closed ([`super::words::Logical::unterminated`]).
    pub unterminated: bool,
}

impl Command {
    pub fn first(&self) -> Option<&str> {
        self.words.first().map(|w| w.0.as_str())
    }
    pub fn strs(&self) -> Vec<&str> {
        self.words.iter().map(|w| w.0.as_str()).collect()
    }
}

/// A whole transcript.
#[derive(Debug, Default)]
pub struct Script {
    pub commands: Vec<Command>,
    /// Files written by here-documents (`cat > f <<EOF`), by name.
    pub files: HashMap<String, Heredoc>,
    /// Units left enabled (`systemctl enable [--now] …`), in order.
    pub enabled: Vec<(String, u32)>,
}

impl Script {
    /// The units a model should record as enabled on the nodes.
    pub fn enabled_units(&self, file: &std::sync::Arc<str>) -> Vec<EnabledUnit> {
        self.enabled
            .iter()
            .map(|(u, l)| EnabledUnit {
                unit: u.clone(),
                loc: super::Loc::new(file, *l),
            })
            .collect()
    }
}

/// Read a transcript into commands.
pub fn script(text: &str) -> Script {
    let mut s = Script::default();
    let mut vars: HashMap<String, String> = HashMap::new();
    for l in shell_lines(text) {
        split(l, &mut vars, &mut s);
    }
    s
}

/// Split one logical line at its operators and record each simple command.
fn split(l: Logical, vars: &mut HashMap<String, String>, s: &mut Script) {
    let mut segments: Vec<(Vec<(String, u32)>, bool)> = Vec::new(); // (words, piped into next)
    let mut cur = Vec::new();
    for (w, line) in l.words {
        if is_operator(&w) {
            segments.push((std::mem::take(&mut cur), w == "|"));
        } else {
            cur.push((w, line));
        }
    }
    segments.push((cur, false));
    let mut heredoc = l.heredoc;
    let mut piped: Option<Heredoc> = None;
    let evidence = l.prompted;
    let mut first = true;
    let last = segments.len() - 1;
    for (k, (raw, pipe)) in segments.into_iter().enumerate() {
        let lookup = |n: &str| vars.get(n).cloned();
        let mut words: Vec<(String, u32)> = raw
            .into_iter()
            .map(|(w, line)| {
                let w = if is_marked(&w) { expand(&w, lookup) } else { w };
                (w, line)
            })
            .collect();
        // Where the here-document goes: `<<EOF` and its word leave the command.
        let mut doc = None;
        if let Some(k) = words.iter().position(|w| w.0.starts_with("<<")) {
            let n = if words[k].0.trim_start_matches(['<', '-']).is_empty() {
                2
            } else {
                1
            };
            words.drain(k..(k + n).min(words.len()));
            doc = heredoc.take().map(|mut d| {
                if d.expand {
                    for (_, line) in &mut d.lines {
                        *line = expand_known(line, vars);
                    }
                }
                d
            });
        }
        let stdin = doc.clone().or_else(|| piped.take());
        let sudo = words.first().is_some_and(|w| w.0 == "sudo");
        strip_prefixes(&mut words, vars);
        if words.is_empty() {
            continue;
        }
        let strs: Vec<&str> = words.iter().map(|w| w.0.as_str()).collect();
        // `cat > f <<EOF`, `cat <<EOF > f`, `tee f <<EOF`: a file for later.
        if let (Some(d), Some(name)) = (&doc, written_file(&strs)) {
            s.files.insert(name, d.clone());
        }
        if strs[0] == "systemctl" {
            systemctl(&strs, words[0].1, &mut s.enabled);
        }
        if pipe {
            piped = stdin.clone().filter(|_| matches!(strs[0], "cat" | "echo"));
        }
        s.commands.push(Command {
            line: words[0].1,
            comments: if first {
                l.comments.clone()
            } else {
                Vec::new()
            },
            stdin: if pipe { None } else { stdin },
            crm_level: if first { l.crm_level.clone() } else { None },
            shell_evidence: evidence || sudo,
            unterminated: l.unterminated && k == last,
            words,
        });
        first = false;
    }
}

/// Drop what stands before the command itself: `sudo [opts]`, `time`,
/// `env`, and `VAR=value` prefixes. A command that is only assignments sets
/// the variables (`NFS_IP=10.0.0.1`, `export VG=vg0`).
fn strip_prefixes(words: &mut Vec<(String, u32)>, vars: &mut HashMap<String, String>) {
    loop {
        let Some(w) = words.first().map(|w| w.0.clone()) else {
            return;
        };
        match w.as_str() {
            "sudo" => {
                words.remove(0);
                while let Some(o) = words.first().map(|w| w.0.clone()) {
                    if !o.starts_with('-') {
                        break;
                    }
                    words.remove(0);
                    // Options that take a value.
                    if matches!(o.as_str(), "-u" | "-g" | "-h" | "-p" | "-C" | "-D" | "-U")
                        && !words.is_empty()
                    {
                        words.remove(0);
                    }
                    if o == "--" {
                        break;
                    }
                }
            }
            // Words of compound commands that a command follows
            // (`for n in …; do pcs …; done`, `if ! pcs …; then …`).
            "time" | "env" | "command" | "exec" | "nohup" | "do" | "then" | "else" | "elif"
            | "if" | "while" | "until" | "!" | "{" | "(" => {
                words.remove(0);
            }
            "export" | "readonly" | "declare" | "local" | "typeset" => {
                words.remove(0);
                for (a, _) in words.drain(..) {
                    if let Some((k, v)) = assignment(&a) {
                        vars.insert(k, v);
                    }
                }
                return;
            }
            _ => match assignment(&w) {
                Some((k, v)) => {
                    words.remove(0);
                    if words.is_empty() {
                        vars.insert(k, v);
                        return;
                    }
                }
                None => return,
            },
        }
    }
}

/// Substitute the variables assigned so far in a here-document line
/// (`$NAME`, `${NAME}`); others stay as written for the reader's lexer.
fn expand_known(line: &str, vars: &HashMap<String, String>) -> String {
    if !line.contains('$') || vars.is_empty() {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(p) = rest.find('$') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(c) => (&inner[..c], c + 2),
                None => ("", 0),
            },
            None => {
                let n = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..n], n)
            }
        };
        match vars.get(name).filter(|_| len > 0) {
            Some(v) => out.push_str(v),
            None => {
                out.push('$');
                out.push_str(&after[..len]);
            }
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// `NAME=value` with a shell variable name.
fn assignment(w: &str) -> Option<(String, String)> {
    let (k, v) = w.split_once('=')?;
    let ok = !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !k.starts_with(|c: char| c.is_ascii_digit());
    ok.then(|| (k.to_string(), v.to_string()))
}

/// The file a `cat` or `tee` command writes to.
fn written_file(w: &[&str]) -> Option<String> {
    match *w.first()? {
        "cat" => {
            let k = w.iter().position(|x| x.starts_with('>'))?;
            let inline = w[k].trim_start_matches('>');
            if inline.is_empty() {
                w.get(k + 1).map(|s| s.to_string())
            } else {
                Some(inline.to_string())
            }
        }
        "tee" => w[1..]
            .iter()
            .find(|x| !x.starts_with('-'))
            .map(|s| s.to_string()),
        _ => None,
    }
}

/// `systemctl [--now] enable|disable|mask units…`.
fn systemctl(w: &[&str], line: u32, enabled: &mut Vec<(String, u32)>) {
    let args: Vec<&str> = w[1..]
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    let Some((verb, units)) = args.split_first() else {
        return;
    };
    for u in units {
        let unit = u.strip_suffix(".service").unwrap_or(u).to_string();
        match *verb {
            "enable" | "reenable" if !enabled.iter().any(|(x, _)| *x == unit) => {
                enabled.push((unit, line));
            }
            "disable" | "mask" => enabled.retain(|(x, _)| *x != unit),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmds(text: &str) -> Vec<Vec<String>> {
        script(text)
            .commands
            .iter()
            .map(|c| c.words.iter().map(|w| w.0.clone()).collect())
            .collect()
    }

    #[test]
    fn lists_sudo_and_variables() {
        let c = cmds(
            "NFS_IP=10.0.0.9\nexport VG=vg0\nsudo -u root pcs resource create vip IPaddr2 ip=$NFS_IP && pcs status\n\
             FOO=1 pcs resource create lv LVM-activate vgname=${VG} ip=${NFS_IP}\n",
        );
        assert_eq!(
            c[0],
            ["pcs", "resource", "create", "vip", "IPaddr2", "ip=10.0.0.9"]
        );
        assert_eq!(c[1], ["pcs", "status"]);
        assert_eq!(c[2][5..], ["vgname=vg0", "ip=10.0.0.9"]);
    }

    #[test]
    fn commands_inside_loops_and_conditions() {
        let c = cmds(
            "for n in 1 2; do pcs resource create e$n Dummy; done\n\
             if ! pcs resource config fs; then\n  pcs resource create fs Dummy\nfi\n",
        );
        let firsts: Vec<&str> = c.iter().map(|w| w[0].as_str()).collect();
        assert_eq!(firsts, ["for", "pcs", "done", "pcs", "pcs", "fi"]);
        assert_eq!(c[3][..3], ["pcs", "resource", "config"]);
    }

    #[test]
    fn heredocs_go_to_their_reader() {
        let s = script(
            "cat > /tmp/nfs.crm <<EOF\nprimitive a Dummy\nEOF\ncrm configure load update /tmp/nfs.crm\n\
             cat <<'X' | crm configure load update -\nprimitive b Dummy\nX\n",
        );
        assert_eq!(s.files["/tmp/nfs.crm"].lines[0].1, "primitive a Dummy");
        let load = &s.commands[3];
        assert_eq!(load.first(), Some("crm"));
        assert_eq!(load.stdin.as_ref().unwrap().lines[0].1, "primitive b Dummy");
    }

    #[test]
    fn systemctl_enable_is_recorded() {
        let s = script(
            "systemctl enable --now nfs-server.service rpcbind\nsystemctl disable rpcbind\n",
        );
        assert_eq!(s.enabled, vec![("nfs-server".to_string(), 1)]);
    }
}
