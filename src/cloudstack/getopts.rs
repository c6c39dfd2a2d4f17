//! The scripts' command lines, read as bash's `getopts OPTSTRING` reads
//! them: clustered flags (`-rc`), values attached (`-t60`) or separate
//! (`-t 60`), `--` ends the options. Unlike bash, an operand or an unknown
//! flag is an error (the stock scripts print their help and exit 1 for an
//! unknown flag; the agent never passes either).

/// One option as parsed: the flag and its value, if it takes one.
pub type Opt = (char, Option<String>);

/// Parse `args` against a getopts option string such as `"i:p:m:h:t:rc"`.
pub fn getopts(optstring: &str, args: &[String]) -> Result<Vec<Opt>, String> {
    let takes_value = |c: char| -> Option<bool> {
        let at = optstring.find(c)?;
        Some(optstring[at + c.len_utf8()..].starts_with(':'))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            break;
        }
        let Some(opts) = a.strip_prefix('-').filter(|o| !o.is_empty()) else {
            return Err(format!("unexpected argument {a:?}"));
        };
        for (at, c) in opts.char_indices() {
            match takes_value(c).filter(|_| c != ':') {
                None => return Err(format!("unknown option -{c}")),
                Some(false) => out.push((c, None)),
                Some(true) => {
                    let rest = &opts[at + c.len_utf8()..];
                    let value = if !rest.is_empty() {
                        rest.to_string()
                    } else {
                        let v = args
                            .get(i)
                            .cloned()
                            .ok_or_else(|| format!("-{c} needs a value"))?;
                        i += 1;
                        v
                    };
                    out.push((c, Some(value)));
                    break;
                }
            }
        }
    }
    if let Some(extra) = args.get(i) {
        return Err(format!("unexpected argument {extra:?}"));
    }
    Ok(out)
}

/// The last value given for `flag` (getopts scripts keep the last).
pub fn value(opts: &[Opt], flag: char) -> Option<&str> {
    opts.iter()
        .rev()
        .find(|(c, _)| *c == flag)
        .and_then(|(_, v)| v.as_deref())
}

/// Whether `flag` (one without a value) was given.
pub fn has(opts: &[Opt], flag: char) -> bool {
    opts.iter().any(|(c, _)| *c == flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn as_bash_getopts_reads_the_agents_calls() {
        let o = getopts(
            "i:p:m:h:t:rc",
            &v(&[
                "-i",
                "10.0.0.5",
                "-p",
                "/export",
                "-m",
                "/mnt/a",
                "-h",
                "10.0.0.21",
                "-r",
                "-t",
                "60",
            ]),
        )
        .unwrap();
        assert_eq!(value(&o, 'i'), Some("10.0.0.5"));
        assert_eq!(value(&o, 't'), Some("60"));
        assert!(has(&o, 'r') && !has(&o, 'c'));
        let o = getopts("i:p:m:h:t:rc", &v(&["-rc", "-t30", "-iip", "-i", "last"])).unwrap();
        assert!(has(&o, 'r') && has(&o, 'c'));
        assert_eq!((value(&o, 't'), value(&o, 'i')), (Some("30"), Some("last")));
        let o = getopts("c", &v(&["-c"])).unwrap();
        assert_eq!(o, vec![('c', None)]);
        assert!(getopts("c", &v(&["-x"]))
            .unwrap_err()
            .contains("unknown option -x"));
        assert!(getopts("i:", &v(&["-i"]))
            .unwrap_err()
            .contains("-i needs a value"));
        assert!(getopts("c", &v(&["-c", "extra"]))
            .unwrap_err()
            .contains("\"extra\""));
        assert!(getopts("c", &v(&["-:"])).is_err());
        assert_eq!(getopts("c", &v(&["--"])).unwrap(), vec![]);
    }
}
