//! Where the scripts' files live on a pool, and CloudStack's decimal time.
//!
//! - `<mount>/KVMHA/hb-<host>`: CloudStack's own file, a decimal Unix time
//!   and a newline, read by hosts still on the stock scripts and by the
//!   stock `kvmvmactivity.sh`. nfsha writes it byte for byte as they do.
//! - `<mount>/KVMHA/nfsha-hb-<host>`: nfsha's record of the agent's writes
//!   (a name `kvmsmpheartbeat.sh`'s clean-up of `hb-<host>.*` leaves alone).
//! - `<mount>/.nfsha/leases`: the heartbeat daemons' lease area (one slot
//!   per host, `host_id` set to its agent IP), read by `peer_check`.

use std::path::{Path, PathBuf};

pub fn hb_dir(mount: &Path) -> PathBuf {
    mount.join("KVMHA")
}

/// CloudStack's decimal-time file.
pub fn legacy_file(mount: &Path, host: &str) -> PathBuf {
    hb_dir(mount).join(format!("hb-{host}"))
}

/// nfsha's record of the agent's writes.
pub fn dropin_file(mount: &Path, host: &str) -> PathBuf {
    hb_dir(mount).join(format!("nfsha-hb-{host}"))
}

/// What the stock script writes: `$(date +%s)` and a newline.
pub fn legacy_text(unix_secs: i64) -> String {
    format!("{unix_secs}\n")
}

/// Strict parse of CloudStack's decimal Unix time: digits only, at most 12
/// (as the newer `kvmsmpheartbeat.sh` parses it), surrounding blanks allowed.
pub fn parse_legacy(data: &[u8]) -> Result<i64, String> {
    let text = std::str::from_utf8(data)
        .map_err(|_| "not text".to_string())?
        .trim();
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "not a decimal Unix time: {:?}",
            text.chars().take(40).collect::<String>()
        ));
    }
    text.parse().map_err(|_| "not a number".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_the_decimal_format() {
        let m = Path::new("/mnt/6b3a");
        assert_eq!(
            legacy_file(m, "10.0.0.5"),
            Path::new("/mnt/6b3a/KVMHA/hb-10.0.0.5")
        );
        assert_eq!(
            dropin_file(m, "10.0.0.5"),
            Path::new("/mnt/6b3a/KVMHA/nfsha-hb-10.0.0.5")
        );
        assert_eq!(legacy_text(1_795_305_661), "1795305661\n");
        assert_eq!(parse_legacy(b"1795305661\n").unwrap(), 1_795_305_661);
        assert_eq!(parse_legacy(b" 12 ").unwrap(), 12);
        assert_eq!(
            parse_legacy(b"999999999999").unwrap(),
            999_999_999_999,
            "12 digits"
        );
        for bad in [&b""[..], b"-5", b"12ab", b"1234567890123", b"\xff"] {
            assert!(parse_legacy(bad).is_err(), "{bad:?}");
        }
    }
}
