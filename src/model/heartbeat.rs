//! The KVM-host heartbeat settings (`/etc/nfsha/heartbeat.toml`), read
//! leniently: only the keys the failover-budget rule needs, wherever they
//! sit (top level or in any table), durations as strings like `"10s"` or as
//! bare numbers of seconds. The heartbeat itself owns the full format.

use crate::formats::duration;
use std::sync::Arc;

use super::*;

pub fn parse(text: &str, file: &Arc<str>) -> Result<Heartbeat, ParseError> {
    let value: toml::Table = text.parse().map_err(|e: toml::de::Error| ParseError {
        file: file.to_string(),
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u32 + 1)
            .unwrap_or(1),
        message: format!("expected TOML: {}", e.message()),
    })?;
    let mut hb = Heartbeat {
        loc: Some(Loc::new(file, 1)),
        ..Heartbeat::default()
    };
    visit(&value, text, file, &mut hb, 0);
    Ok(hb)
}

fn line_of(text: &str, key: &str) -> u32 {
    text.lines()
        .position(|l| l.trim_start().starts_with(key) && l.contains('='))
        .map_or(1, |p| p as u32 + 1)
}

fn visit(t: &toml::Table, text: &str, file: &Arc<str>, hb: &mut Heartbeat, depth: usize) {
    for (k, v) in t {
        if let toml::Value::Table(inner) = v {
            if depth < 4 {
                visit(inner, text, file, hb, depth + 1);
            }
            continue;
        }
        let dur = match v {
            toml::Value::String(s) => duration::pacemaker(s),
            toml::Value::Integer(i) if *i >= 0 => Some(Duration::from_secs(*i as u64)),
            toml::Value::Float(f) if f.is_finite() && *f >= 0.0 && *f < 1e12 => {
                Some(Duration::from_secs_f64(*f))
            }
            _ => None,
        };
        let slot = match k.as_str() {
            "interval" => &mut hb.interval,
            "io_timeout" => &mut hb.io_timeout,
            "fence_after" => &mut hb.fence_after,
            "dead_after" => &mut hb.dead_after,
            "fence_action" => {
                hb.fence_action = v.as_str().map(str::to_string);
                continue;
            }
            _ => continue,
        };
        if slot.is_none() {
            *slot = dur;
            if k == "fence_after" {
                hb.loc = Some(Loc::new(file, line_of(text, k)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_leniently() {
        let hb = parse(
            "interval = \"10s\"\n[host]\nfence_after = \"2min\"\ndead_after = 30\n",
            &Arc::from("h.toml"),
        )
        .unwrap();
        assert_eq!(hb.interval, Some(Duration::from_secs(10)));
        assert_eq!(hb.fence_after, Some(Duration::from_secs(120)));
        assert_eq!(hb.dead_after, Some(Duration::from_secs(30)));
        assert_eq!(hb.loc.unwrap().line, 3);
        assert!(parse("fence_after = ", &Arc::from("h")).is_err());
    }
}
