//! The heartbeat record: small, self-checking text. The daemon writes it in
//! place into its own 512-byte slot of a storage's lease area
//! ([`super::lease_area`]), padded with NUL bytes; CloudStack's drop-in
//! writes the same text as a file of its own. A torn or half-written record
//! fails its CRC and is treated as unreadable, never as a change.
//!
//! ```text
//! nfsha-heartbeat 1
//! host=kvm1
//! generation=9f86d081884c7d65
//! seq=42
//! mono_ms=123456
//! wall_ms=1795305661000
//! interval_ms=10000
//! io_timeout_ms=10000
//! dead_after_ms=106000
//! fence_action=reboot
//! state=ok
//! failing_ms=0
//! crc32=1a2b3c4d
//! ```
//!
//! Liveness is judged only from a change of (generation, seq) seen on the
//! reader's own clock; `mono_ms` and `wall_ms` are the writer's and are shown,
//! never compared with the reader's.

use super::fence::FenceAction;

pub const MAGIC: &str = "nfsha-heartbeat";
pub const VERSION: u32 = 1;
/// Records are rejected above this size (they are about 260 bytes).
pub const MAX_LEN: usize = 1024;
/// The size of a slot in a lease area, and so the most a record may take there.
pub const SLOT_SIZE: usize = 512;

/// What the writer says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriterState {
    /// Renewing normally.
    Ok,
    /// Recent renewals failed; not yet at fence_after.
    Failing,
    /// Decided to fence itself (reboot under way).
    Fencing,
    /// Renewals failed past fence_after but the fence action does not stop
    /// the VMs (log-only, restart-agent, a pool-scoped action, or a storage
    /// with fence = false).
    NotFenced,
    /// The daemon was stopped cleanly: the host may still run its VMs.
    Stopped,
}

impl WriterState {
    pub fn name(self) -> &'static str {
        match self {
            WriterState::Ok => "ok",
            WriterState::Failing => "failing",
            WriterState::Fencing => "fencing",
            WriterState::NotFenced => "not-fenced",
            WriterState::Stopped => "stopped",
        }
    }
    pub fn parse(s: &str) -> Option<WriterState> {
        Some(match s {
            "ok" => WriterState::Ok,
            "failing" => WriterState::Failing,
            "fencing" => WriterState::Fencing,
            "not-fenced" => WriterState::NotFenced,
            "stopped" => WriterState::Stopped,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub host: String,
    pub generation: u64,
    pub seq: u64,
    /// The writer's CLOCK_BOOTTIME at the write (display only).
    pub mono_ms: u64,
    /// The writer's wall clock at the write (display only).
    pub wall_ms: i64,
    pub interval_ms: u64,
    pub io_timeout_ms: u64,
    /// The takeover time the writer promises: peers wait at least this long.
    pub dead_after_ms: u64,
    /// What the writer does when its storage fails.
    pub fence_action: FenceAction,
    /// Whether failures on this storage fence the writer at all.
    pub state: WriterState,
    /// How long the writer's renewals have been failing (0 when healthy).
    pub failing_ms: u64,
}

impl Record {
    /// Whether a writer that stops renewing will have stopped its VMs.
    pub fn self_fences(&self) -> bool {
        self.fence_action.fences()
            && !matches!(self.state, WriterState::NotFenced | WriterState::Stopped)
    }

    /// The record as one lease-area slot: the text padded with NUL bytes.
    /// `None` if it does not fit (a host id or number far beyond the usual).
    pub fn encode_slot(&self) -> Option<Vec<u8>> {
        let mut b = self.encode().into_bytes();
        if b.len() > SLOT_SIZE {
            return None;
        }
        b.resize(SLOT_SIZE, 0);
        Some(b)
    }

    pub fn encode(&self) -> String {
        let body = format!(
            "{MAGIC} {VERSION}\nhost={}\ngeneration={:016x}\nseq={}\nmono_ms={}\nwall_ms={}\ninterval_ms={}\nio_timeout_ms={}\ndead_after_ms={}\nfence_action={}\nstate={}\nfailing_ms={}\n",
            self.host,
            self.generation,
            self.seq,
            self.mono_ms,
            self.wall_ms,
            self.interval_ms,
            self.io_timeout_ms,
            self.dead_after_ms,
            self.fence_action.name(),
            self.state.name(),
            self.failing_ms
        );
        let crc = crc32(body.as_bytes());
        format!("{body}crc32={crc:08x}\n")
    }

    /// Parse and verify a record; the error says what is wrong.
    /// Trailing NUL bytes (a lease-area slot's padding) are ignored.
    pub fn decode(bytes: &[u8]) -> Result<Record, String> {
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        let bytes = &bytes[..end];
        if bytes.is_empty() {
            return Err("empty file".into());
        }
        if bytes.len() > MAX_LEN {
            return Err(format!("{} bytes, larger than any record", bytes.len()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
        let crc_at = text
            .rfind("crc32=")
            .ok_or_else(|| "no crc32 line (truncated or not a record)".to_string())?;
        let (body, crc_line) = text.split_at(crc_at);
        let want = crc_line
            .strip_prefix("crc32=")
            .and_then(|s| s.strip_suffix('\n'))
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .ok_or_else(|| "malformed crc32 line".to_string())?;
        let got = crc32(body.as_bytes());
        if want != got {
            return Err(format!(
                "checksum mismatch (stored {want:08x}, computed {got:08x})"
            ));
        }
        let mut lines = body.lines();
        let header = lines.next().unwrap_or("");
        let version = header
            .strip_prefix(MAGIC)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .ok_or_else(|| format!("bad magic {header:?}"))?;
        if version != VERSION {
            // A newer writer may mean something else by the same fields.
            return Err(format!(
                "record format version {version}, this nfsha reads version {VERSION} only"
            ));
        }
        let mut field = |key: &str| -> Result<String, String> {
            let line = lines.next().ok_or_else(|| format!("missing {key}"))?;
            line.strip_prefix(key)
                .and_then(|l| l.strip_prefix('='))
                .map(str::to_string)
                .ok_or_else(|| format!("expected {key}=, found {line:?}"))
        };
        fn num<T: std::str::FromStr>(key: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{key}={v:?} is not a number"))
        }
        let host = field("host")?;
        let generation = u64::from_str_radix(&field("generation")?, 16)
            .map_err(|_| "generation is not hexadecimal".to_string())?;
        let seq = num("seq", field("seq")?)?;
        let mono_ms = num("mono_ms", field("mono_ms")?)?;
        let wall_ms = num("wall_ms", field("wall_ms")?)?;
        let interval_ms = num("interval_ms", field("interval_ms")?)?;
        let io_timeout_ms = num("io_timeout_ms", field("io_timeout_ms")?)?;
        let dead_after_ms = num("dead_after_ms", field("dead_after_ms")?)?;
        let fa = field("fence_action")?;
        let fence_action =
            FenceAction::parse(&fa).ok_or_else(|| format!("unknown fence_action {fa:?}"))?;
        let st = field("state")?;
        let state = WriterState::parse(&st).ok_or_else(|| format!("unknown state {st:?}"))?;
        let failing_ms = num("failing_ms", field("failing_ms")?)?;
        if lines.next().is_some() {
            return Err("unexpected extra lines".into());
        }
        Ok(Record {
            host,
            generation,
            seq,
            mono_ms,
            wall_ms,
            interval_ms,
            io_timeout_ms,
            dead_after_ms,
            fence_action,
            state,
            failing_ms,
        })
    }
}

/// CRC-32 (IEEE, as zlib and `cksum -a crc32b`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> Record {
        Record {
            host: "kvm1".into(),
            generation: 0x9f86_d081_884c_7d65,
            seq: 42,
            mono_ms: 123_456,
            wall_ms: 1_795_305_661_000,
            interval_ms: 10_000,
            io_timeout_ms: 10_000,
            dead_after_ms: 106_000,
            fence_action: FenceAction::Reboot,
            state: WriterState::Ok,
            failing_ms: 0,
        }
    }

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn round_trip() {
        let r = sample();
        let text = r.encode();
        assert!(text.starts_with("nfsha-heartbeat 1\nhost=kvm1\n"));
        assert!(text.len() < 512);
        assert_eq!(Record::decode(text.as_bytes()).unwrap(), r);
    }

    #[test]
    fn corruption_is_detected() {
        let text = sample().encode();
        let flipped = text.replace("seq=42", "seq=43");
        assert!(Record::decode(flipped.as_bytes())
            .unwrap_err()
            .contains("checksum mismatch"));
        let torn = &text.as_bytes()[..text.len() / 2];
        assert!(Record::decode(torn).unwrap_err().contains("no crc32"));
        assert!(Record::decode(b"").is_err());
        assert!(Record::decode(b"1795305661\n").is_err());
        assert!(Record::decode(&[0xff; 40]).is_err());
        assert!(Record::decode(&[0; 512]).unwrap_err().contains("empty"));
    }

    #[test]
    fn slots_are_padded_and_read_back() {
        let r = sample();
        let slot = r.encode_slot().unwrap();
        assert_eq!(slot.len(), SLOT_SIZE);
        assert_eq!(Record::decode(&slot).unwrap(), r);
        // A torn slot: the first half new, the rest of an older record.
        let mut older = sample();
        older.seq = 41;
        let mut torn = slot.clone();
        torn[200..].copy_from_slice(&older.encode_slot().unwrap()[200..]);
        let mut newer = sample();
        newer.seq = 1_000_000_042;
        let mut torn2 = newer.encode_slot().unwrap();
        torn2[40..].copy_from_slice(&slot[40..]);
        for t in [&torn, &torn2] {
            if *t != slot {
                assert!(Record::decode(t).is_err(), "torn slot accepted");
            }
        }
        let mut long = sample();
        long.host = "h".repeat(400);
        assert!(long.encode_slot().is_none());
    }

    #[test]
    fn a_future_version_is_refused() {
        let text = sample()
            .encode()
            .replace("nfsha-heartbeat 1\n", "nfsha-heartbeat 2\n");
        let body = &text[..text.rfind("crc32=").unwrap()];
        let resigned = format!("{body}crc32={:08x}\n", crc32(body.as_bytes()));
        let e = Record::decode(resigned.as_bytes()).unwrap_err();
        assert!(e.contains("format version 2"), "{e}");
    }

    #[test]
    fn stopped_and_not_fenced_writers_do_not_fence() {
        let mut r = sample();
        assert!(r.self_fences());
        for st in [WriterState::NotFenced, WriterState::Stopped] {
            r.state = st;
            assert!(!r.self_fences(), "{st:?}");
            assert_eq!(WriterState::parse(st.name()), Some(st));
        }
        r.state = WriterState::Fencing;
        assert!(r.self_fences());
        r.fence_action = FenceAction::LogOnly;
        assert!(!r.self_fences());
    }
}
