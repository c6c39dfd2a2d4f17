//! NFS703 heartbeat-config.

use crate::lint::{Ctx, Finding, Rule, Severity};
use crate::model::Loc;

macro_rules! rule_doc {
    () => {
        r#"## What it does
Reads the KVM-host heartbeat settings (`/etc/nfsha/heartbeat.toml`) with the
heartbeat daemon's own parser and reports what it refuses: a duration
without a unit (`fence_after = 120`), an unknown key (a typo is never
ignored), a value out of range, or timings that contradict each other, such
as `fence_after` below `io_timeout + interval`.

## Why is this bad?
`nfsha heartbeat run` refuses to start with such a file, so the host runs
without its storage heartbeat: no fencing when the storage is lost, and no
takeover by its peers. A file that lints clean must start.

## Example
```toml
interval = "10s"
io_timeout = "10s"
fence_after = 120
```

## Use instead
```toml
interval = "10s"
io_timeout = "10s"
fence_after = "120s"
```
There is no crm or pcs side to this: the file is the KVM host's, the same
under either cluster tool. `nfsha heartbeat validate --config FILE` prints
the settings with their defaults.

## References
- docs/heartbeat.md (every key, its default and its checks)
- `nfsha heartbeat timeline` (the fence timeline these values give)
"#
    };
}

#[doc = rule_doc!()]
pub const RULE: Rule = Rule {
    code: "NFS703",
    name: "heartbeat-config",
    severity: Severity::Error,
    why: "the heartbeat daemon refuses the file, so the host runs without its storage heartbeat and fencing",
    doc: rule_doc!(),
    check,
};

/// The key and line a daemon message is about: `key = …: …`, a
/// `` `key` `` it names, or the line whose value it quotes (the daemon's
/// messages carry no line of their own).
fn whereabouts(text: &str, reason: &str) -> Option<(String, u32)> {
    let lines: Vec<&str> = text.lines().collect();
    let set_by = |key: &str| {
        lines.iter().position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
    };
    let mut words: Vec<&str> = reason.split('`').skip(1).step_by(2).collect();
    if let Some((k, _)) = reason.split_once(" = ") {
        words.insert(0, k);
    }
    for w in &words {
        if let Some(n) = set_by(w) {
            return Some((w.to_string(), n as u32 + 1));
        }
    }
    // A quoted value: the line that sets some key to it.
    for w in words {
        for (n, l) in lines.iter().enumerate() {
            if let Some((k, v)) = l.split_once('=') {
                if v.trim() == w || v.trim().trim_matches('"') == w {
                    return Some((k.trim().to_string(), n as u32 + 1));
                }
            }
        }
    }
    None
}

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(file) = ctx.m.host.heartbeat.as_ref() else {
        return;
    };
    let reason = match ctx.heartbeat.as_ref() {
        Some(Err(reason)) => reason.clone(),
        // What parses can still be refused by `heartbeat run` and
        // `heartbeat validate` as a whole (no [[storage]]): their own check.
        Some(Ok(_)) => match crate::heartbeat::config::parse(&file.text, &file.file) {
            Err(errors) => errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
            Ok(_) => return,
        },
        None => return,
    };
    // The daemon names the line as FILE:N, the parser's error as "line N: ":
    // what both say is the rest.
    let reason = reason
        .strip_prefix("line ")
        .and_then(|r| r.split_once(": "))
        .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
        .map_or(reason.as_str(), |(_, rest)| rest)
        .to_string();
    let reason = &reason;
    let found = whereabouts(&file.text, reason);
    let line = found.as_ref().map_or(1, |f| f.1);
    out.push(
        Finding::new(&RULE, format!("the heartbeat daemon refuses this file: {reason}"))
            .objects(found.map(|(k, _)| format!("heartbeat.toml {k}")))
            .at(&Loc::new(&file.file, line))
            .mirrors(reason.clone())
            .help("heartbeat.toml: fix the key as the message says; `nfsha heartbeat validate --config FILE` shows what the daemon reads"),
    );
}
