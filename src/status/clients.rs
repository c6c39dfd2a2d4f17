//! The NFSv4 clients nfsd knows: `/proc/fs/nfsd/clients/<n>/info`, one
//! directory per client (Linux 5.3 and later). Linux 6.1 writes, one
//! `key: value` per line:
//!
//! ```text
//! clientid: 0x6b7e1c2d64a3f001
//! address: "192.0.2.21:875"
//! status: confirmed
//! seconds from last renew: 3
//! name: "Linux NFSv4.2 client1"
//! minor version: 2
//! Implementation domain: "kernel.org"
//! Implementation name: "Linux 6.1.0-57-amd64 #1 SMP …"
//! Implementation time: [0, 0]
//! callback state: UP
//! callback address: 192.0.2.21:0
//! ```
//!
//! `status` is `confirmed`, `unconfirmed`, `courtesy` (lease expired, state
//! kept until another client conflicts: Linux 5.19+) or `expirable`. Quoted
//! values escape unprintable bytes, `"` and `\` as `\xHH`; the name is the
//! client owner the client sent, the same bytes nfsdcld records.

use std::path::Path;

use crate::sys::System;

/// One client as nfsd reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Client {
    /// The directory name under `clients/`.
    pub id: String,
    pub clientid: Option<String>,
    pub address: Option<String>,
    pub status: Option<String>,
    pub seconds_since_renew: Option<u64>,
    /// The client owner, as sent (bytes).
    pub name: Vec<u8>,
    pub minor_version: Option<u32>,
    pub implementation: Option<String>,
    pub callback: Option<String>,
}

impl Client {
    /// The name for display: text as is, other bytes as `\xHH`.
    pub fn display_name(&self) -> String {
        display_bytes(&self.name)
    }
}

/// Bytes as text, unprintable ones (and `\`) as `\xHH`.
pub fn display_bytes(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        if (0x20..0x7f).contains(&c) && c != b'\\' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// Undo the kernel's quoting of a value: strip the quotes, turn `\xHH` (and
/// the octal `\ooo` older kernels wrote) back into bytes.
pub fn unquote(v: &str) -> Vec<u8> {
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v);
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let hex = b.get(i + 1) == Some(&b'x')
                && b.get(i + 2..i + 4)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if hex {
                let h = std::str::from_utf8(&b[i + 2..i + 4]).unwrap_or("00");
                out.push(u8::from_str_radix(h, 16).unwrap_or(0));
                i += 4;
                continue;
            }
            let oct = b
                .get(i + 1..i + 4)
                .is_some_and(|o| o.iter().all(|c| (b'0'..=b'7').contains(c)));
            if oct {
                let o = std::str::from_utf8(&b[i + 1..i + 4]).unwrap_or("0");
                out.push(u8::from_str_radix(o, 8).unwrap_or(0));
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Parse one `info` file.
pub fn parse_info(id: &str, text: &str) -> Client {
    let mut c = Client {
        id: id.to_string(),
        ..Client::default()
    };
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim() {
            "clientid" => c.clientid = Some(v.to_string()),
            "address" => c.address = Some(String::from_utf8_lossy(&unquote(v)).into_owned()),
            "status" => c.status = Some(v.to_string()),
            "seconds from last renew" => c.seconds_since_renew = v.parse().ok(),
            "name" => c.name = unquote(v),
            "minor version" => c.minor_version = v.parse().ok(),
            "Implementation name" => {
                c.implementation = Some(String::from_utf8_lossy(&unquote(v)).into_owned())
            }
            "callback state" => c.callback = Some(v.to_string()),
            _ => {}
        }
    }
    c
}

/// Every client of the nfsd whose control files are at `proc_nfsd`, by
/// directory number. `Err` when the kernel has no `clients` directory
/// (before Linux 5.3, or nfsd's filesystem not mounted).
pub fn list(sys: &dyn System, proc_nfsd: &Path) -> Result<Vec<Client>, String> {
    let dir = proc_nfsd.join("clients");
    let mut ids: Vec<String> = sys
        .list_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    ids.sort_by_key(|n| (n.parse::<u64>().unwrap_or(u64::MAX), n.clone()));
    Ok(ids
        .into_iter()
        // A client that went away between the listing and the read is gone.
        .filter_map(|id| {
            let text = sys.read_to_string(&dir.join(&id).join("info")).ok()?;
            Some(parse_info(&id, &text))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "clientid: 0x6b7e1c2d64a3f001\naddress: \"192.0.2.21:875\"\n\
        status: confirmed\nseconds from last renew: 3\n\
        name: \"Linux NFSv4.2 cli1\\x22b\\x5c\\x00\"\nminor version: 2\n\
        Implementation domain: \"kernel.org\"\n\
        Implementation name: \"Linux 6.1.0-57-amd64 #1 SMP PREEMPT_DYNAMIC\"\n\
        Implementation time: [0, 0]\ncallback state: UP\ncallback address: 192.0.2.21:0\n";

    #[test]
    fn info_of_linux_6_1() {
        let c = parse_info("7", INFO);
        assert_eq!(c.clientid.as_deref(), Some("0x6b7e1c2d64a3f001"));
        assert_eq!(c.address.as_deref(), Some("192.0.2.21:875"));
        assert_eq!(c.status.as_deref(), Some("confirmed"));
        assert_eq!(c.seconds_since_renew, Some(3));
        assert_eq!(c.name, b"Linux NFSv4.2 cli1\"b\\\0".to_vec());
        assert_eq!(c.display_name(), "Linux NFSv4.2 cli1\"b\\x5c\\x00");
        assert_eq!(c.minor_version, Some(2));
        assert_eq!(c.callback.as_deref(), Some("UP"));
    }

    #[test]
    fn older_kernels_wrote_fewer_fields_and_octal_escapes() {
        let c = parse_info(
            "1",
            "clientid: 0x1\naddress: \"[2001:db8::5]:700\"\nname: \"a\\040b\"\nminor version: 0\n",
        );
        assert_eq!(c.address.as_deref(), Some("[2001:db8::5]:700"));
        assert_eq!(c.name, b"a b");
        assert_eq!(c.status, None);
    }
}
