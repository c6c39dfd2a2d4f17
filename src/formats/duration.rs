//! Durations, by grammar, and the one way nfsha prints them.
//!
//! - [`pacemaker`]: what Pacemaker accepts in the CIB and in crm/pcs input
//!   (`crm_get_msec` plus ISO 8601 `PT…` intervals): a bare number is
//!   seconds.
//! - [`strict`]: nfsha's own configuration files and command-line flags:
//!   a unit is required (`10s`, `500ms`, `2m`, `1h`, `1m30s`), because a bare
//!   `120` in a fencing setting is too easy to misread.
//!
//! [`fmt`] prints seconds or milliseconds (`90s`, `500ms`), which both
//! grammars read back as the same value.

use std::time::Duration;

/// Parse a Pacemaker duration: `90`, `90s`, `1min`, `500ms`, `2h`, `PT1M30S`.
/// Bare numbers are seconds (Pacemaker's `crm_get_msec` rule).
pub fn pacemaker(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(iso) = s.strip_prefix("PT").or_else(|| s.strip_prefix("pt")) {
        let mut total = 0u64;
        let mut num = String::new();
        for c in iso.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let n: u64 = num.parse().ok()?;
                num.clear();
                total = total.checked_add(match c.to_ascii_uppercase() {
                    'H' => n.checked_mul(3600)?,
                    'M' => n.checked_mul(60)?,
                    'S' => n,
                    _ => return None,
                })?;
            }
        }
        return num.is_empty().then_some(Duration::from_secs(total));
    }
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let secs = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => n,
        "ms" | "msec" | "msecs" => n / 1000.0,
        "us" | "usec" | "usecs" => n / 1_000_000.0,
        "m" | "min" | "mins" | "minute" | "minutes" => n * 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => n * 3600.0,
        _ => return None,
    };
    if secs > 1e12 {
        return None;
    }
    Some(Duration::from_secs_f64(secs))
}

/// Parse `10s`, `500ms`, `2m`, `1h`, `1m30s`: nfsha's own files and flags.
/// A unit is required.
pub fn strict(raw: &str) -> Result<Duration, String> {
    let s = raw.trim();
    if s.starts_with('-') {
        return Err("durations cannot be negative".into());
    }
    if s.is_empty() {
        return Err("expected a duration such as 10s, 500ms or 2m".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err("expected a duration such as 10s, 500ms or 2m".into());
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| "number too large".to_string())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Some(Duration::from_millis(n)),
            "s" => Some(Duration::from_secs(n)),
            "m" | "min" => n.checked_mul(60).map(Duration::from_secs),
            "h" => n.checked_mul(3600).map(Duration::from_secs),
            "" => return Err("a unit is required (ms, s, m or h), e.g. 10s".into()),
            other => return Err(format!("unknown unit {other:?} (use ms, s, m or h)")),
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| "number too large".to_string())?;
    }
    Ok(total)
}

/// Print a duration as `90s` or `500ms`: read back unchanged by both grammars.
pub fn fmt(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 != 0 {
        format!("{ms}ms")
    } else {
        format!("{}s", ms / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacemaker_durations() {
        assert_eq!(pacemaker("90"), Some(Duration::from_secs(90)));
        assert_eq!(pacemaker("20s"), Some(Duration::from_secs(20)));
        assert_eq!(pacemaker("1min"), Some(Duration::from_secs(60)));
        assert_eq!(pacemaker("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(pacemaker("PT1M30S"), Some(Duration::from_secs(90)));
        assert_eq!(pacemaker("ten"), None);
        assert_eq!(pacemaker("99999999999999999999h"), None);
    }

    #[test]
    fn strict_durations_need_a_unit() {
        assert_eq!(strict("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(strict("500ms"), Ok(Duration::from_millis(500)));
        assert!(strict("120").unwrap_err().contains("unit is required"));
        assert!(strict("-1s").is_err());
        assert!(strict("5d").unwrap_err().contains("unknown unit"));
        assert!(strict("99999999999999999999h").is_err());
        assert!(strict("999999999999999999h").is_err());
    }

    #[test]
    fn printed_durations_read_back_in_both_grammars() {
        for d in [
            Duration::from_millis(500),
            Duration::from_secs(90),
            Duration::from_secs(3600),
        ] {
            assert_eq!(pacemaker(&fmt(d)), Some(d));
            assert_eq!(strict(&fmt(d)), Ok(d));
        }
    }
}
