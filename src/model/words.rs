//! Splitting crm and pcs text into words, shell-style: whitespace separates,
//! `'…'` and `"…"` quote (with `\` escapes inside double quotes), a trailing
//! `\` joins the next line. Each word keeps the line it started on.

/// One logical line (a crm object or a pcs command) as words with lines.
#[derive(Debug, Default)]
pub struct Logical {
    pub line: u32,
    pub words: Vec<(String, u32)>,
    /// `#` comments directly above it (crm attaches them to the next object).
    pub comments: Vec<String>,
}

/// Split text into logical lines. `hash_comments_anywhere`: pcs (shell) ends a
/// line at an unquoted `#` word; crm only treats `#` at the start of a line
/// as a comment (ids may not contain it anyway).
pub fn logical_lines(text: &str, hash_comments_anywhere: bool) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut cur = Logical::default();
    let mut comments: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut word_line = 0u32;
    let mut quote: Option<char> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n as u32 + 1;
        let trimmed = raw.trim_start();
        if cur.words.is_empty() && !in_word && quote.is_none() && trimmed.starts_with('#') {
            comments.push(trimmed.to_string());
            continue;
        }
        let chars: Vec<char> = raw.chars().collect();
        let mut i = 0;
        let mut continued = false;
        while i < chars.len() {
            let c = chars[i];
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    } else if c == '\\' && q == '"' && i + 1 < chars.len() {
                        i += 1;
                        word.push(chars[i]);
                    } else {
                        word.push(c);
                    }
                }
                None => {
                    if c == '\\' && i + 1 == chars.len() {
                        continued = true;
                    } else if c == '\\' && i + 1 < chars.len() {
                        i += 1;
                        word.push(chars[i]);
                        if !in_word {
                            in_word = true;
                            word_line = line_no;
                        }
                    } else if c.is_whitespace() {
                        if in_word {
                            cur.words.push((std::mem::take(&mut word), word_line));
                            in_word = false;
                        }
                    } else if c == '#' && !in_word && hash_comments_anywhere {
                        break;
                    } else {
                        if !in_word {
                            in_word = true;
                            word_line = line_no;
                        }
                        if c == '"' || c == '\'' {
                            quote = Some(c);
                        } else {
                            word.push(c);
                        }
                    }
                }
            }
            i += 1;
        }
        if quote.is_some() {
            // A quoted value spanning lines keeps its newline and the word
            // goes on on the next line.
            word.push('\n');
            continued = true;
        }
        if continued {
            continue;
        }
        if in_word {
            cur.words.push((std::mem::take(&mut word), word_line));
            in_word = false;
        }
        if !cur.words.is_empty() {
            cur.line = cur.words[0].1;
            cur.comments = std::mem::take(&mut comments);
            out.push(std::mem::take(&mut cur));
        }
    }
    if in_word {
        cur.words.push((word, word_line));
    }
    if !cur.words.is_empty() {
        cur.line = cur.words[0].1;
        cur.comments = comments;
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_quotes_and_lines() {
        let l = logical_lines(
            "# c\nprimitive a Dummy \\\n\tparams x=\"a b\" y='c'\norder o inf: a b\n",
            false,
        );
        assert_eq!(l.len(), 2);
        let w: Vec<&str> = l[0].words.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(w, ["primitive", "a", "Dummy", "params", "x=a b", "y=c"]);
        assert_eq!(l[0].words[4].1, 3);
        assert_eq!(l[0].comments, vec!["# c"]);
        assert_eq!(l[1].line, 4);
        let p = logical_lines("pcs resource create a Dummy # note\n", true);
        assert_eq!(p[0].words.len(), 5);
    }
}
