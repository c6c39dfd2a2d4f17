//! The connection record: which NFS clients were connected to a virtual IP,
//! kept on the group's replicated state directory so that the node that takes
//! the address over can tickle every one of them (see [`super::tickle`]).
//!
//! This module owns the format (versioned, typed, one reader and one writer)
//! and the atomic save. The file, one per address:
//!
//! ```text
//! # nfsha vip: TCP connections to 192.0.2.50 (tickled after a move; written by nfsha)
//! nfsha-connections 1
//! address 192.0.2.50
//! conn 2049 192.0.2.21 822
//! conn 2049 2001:db8::21 901
//! end 2
//! ```
//!
//! `end N` closes it: a file without it, or with another count, was cut
//! short. A file for another address, another version or another program is
//! foreign; one over [`MAX_BYTES`] is refused unread. The taker ignores a bad
//! file with a warning: tickles only speed reconnection up, so nothing about
//! them may block a start.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The largest file read: far above [`MAX_CONNS`] lines of the longest kind.
pub const MAX_BYTES: u64 = 1 << 20;
/// The most connections one record keeps (a server with more clients than
/// this on one address tickles the first ones, by address, and warns).
pub const MAX_CONNS: usize = 8192;

const MAGIC: &str = "nfsha-connections";

/// One client connection to the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Conn {
    /// The server's port (2049 for nfsd).
    pub server_port: u16,
    /// The client's address and port.
    pub client: SocketAddr,
}

/// The connections of one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub address: IpAddr,
    /// Sorted, without repeats, at most [`MAX_CONNS`].
    pub conns: Vec<Conn>,
}

/// Why a connection file was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadRecord {
    /// Larger than [`MAX_BYTES`].
    Huge { bytes: u64 },
    /// Not an nfsha connection record, or one for another address.
    Foreign(String),
    /// Written by a newer nfsha.
    Version(String),
    /// Cut short: no `end` line, or fewer lines than it counts.
    Truncated,
    /// A line that is not part of the format.
    Malformed { line: usize, text: String },
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadRecord::Huge { bytes } => write!(
                f,
                "it is {bytes} bytes, more than the {MAX_BYTES} a record can be"
            ),
            BadRecord::Foreign(why) => write!(f, "it is not this address's record: {why}"),
            BadRecord::Version(v) => write!(
                f,
                "it has format version {v}; this nfsha reads version {VERSION}"
            ),
            BadRecord::Truncated => write!(f, "it is truncated (no matching `end` line)"),
            BadRecord::Malformed { line, text } => {
                write!(f, "line {line} is not part of the format: {text:?}")
            }
        }
    }
}

impl Record {
    /// A record of `conns` (sorted, repeats dropped, cut to [`MAX_CONNS`]).
    pub fn new(address: IpAddr, mut conns: Vec<Conn>) -> Record {
        conns.sort();
        conns.dedup();
        conns.truncate(MAX_CONNS);
        Record { address, conns }
    }

    /// The file's name for `address` in the tickle directory.
    pub fn file_name(address: IpAddr) -> String {
        format!("nfsha-vip-{}.conns", address.to_string().replace(':', "_"))
    }

    pub fn render(&self) -> String {
        let mut s = format!(
            "# nfsha vip: TCP connections to {} (tickled after a move; written by nfsha)\n\
             {MAGIC} {VERSION}\naddress {}\n",
            self.address, self.address
        );
        for c in &self.conns {
            s.push_str(&format!(
                "conn {} {} {}\n",
                c.server_port,
                c.client.ip(),
                c.client.port()
            ));
        }
        s.push_str(&format!("end {}\n", self.conns.len()));
        s
    }

    /// Read a record; `expected` is the address it must be for.
    pub fn parse(text: &str, expected: IpAddr) -> Result<Record, BadRecord> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let malformed = |line: usize, text: &str| BadRecord::Malformed {
            line,
            text: text.chars().take(80).collect(),
        };
        match lines.next() {
            Some((_, l)) if l.split_whitespace().next() == Some(MAGIC) => {
                let v = l[MAGIC.len()..].trim();
                if v != VERSION.to_string() {
                    return Err(BadRecord::Version(v.chars().take(20).collect()));
                }
            }
            Some((_, l)) => {
                return Err(BadRecord::Foreign(format!(
                    "it starts with {:?}, not {MAGIC:?}",
                    l.chars().take(40).collect::<String>()
                )))
            }
            None => return Err(BadRecord::Truncated),
        }
        let address = match lines.next() {
            Some((n, l)) => {
                let raw = l
                    .strip_prefix("address ")
                    .ok_or_else(|| malformed(n, l))?
                    .trim();
                raw.parse::<IpAddr>().map_err(|_| malformed(n, l))?
            }
            None => return Err(BadRecord::Truncated),
        };
        if address != expected {
            return Err(BadRecord::Foreign(format!(
                "it records {address}, not {expected}"
            )));
        }
        let mut conns = Vec::new();
        for (n, l) in lines {
            let mut f = l.split_whitespace();
            match (f.next(), f.next(), f.next(), f.next(), f.next()) {
                (Some("conn"), Some(sport), Some(ip), Some(port), None) => {
                    let parsed = (
                        sport.parse::<u16>(),
                        ip.parse::<IpAddr>(),
                        port.parse::<u16>(),
                    );
                    let (Ok(server_port), Ok(ip), Ok(port)) = parsed else {
                        return Err(malformed(n, l));
                    };
                    if server_port == 0 || port == 0 || ip.is_ipv4() != address.is_ipv4() {
                        return Err(malformed(n, l));
                    }
                    if conns.len() == MAX_CONNS {
                        return Err(BadRecord::Huge {
                            bytes: text.len() as u64,
                        });
                    }
                    conns.push(Conn {
                        server_port,
                        client: SocketAddr::new(ip, port),
                    });
                }
                (Some("end"), Some(count), None, None, None) => {
                    if count.parse::<usize>().ok() != Some(conns.len()) {
                        return Err(BadRecord::Truncated);
                    }
                    return Ok(Record::new(address, conns));
                }
                _ => return Err(malformed(n, l)),
            }
        }
        Err(BadRecord::Truncated)
    }
}

/// Why a record could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    Io(io::Error),
    Bad(BadRecord),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "{e}"),
            LoadError::Bad(b) => write!(f, "{b}"),
        }
    }
}

/// Load the record at `path` for `expected`; `Ok(None)` when there is none
/// (the address never ran with a tickle directory before).
pub fn load(path: &Path, expected: IpAddr) -> Result<Option<Record>, LoadError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LoadError::Io(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(LoadError::Io)?;
    if bytes.len() as u64 > MAX_BYTES {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        return Err(LoadError::Bad(BadRecord::Huge {
            bytes: size.max(bytes.len() as u64),
        }));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| LoadError::Bad(BadRecord::Foreign("it is not text".into())))?;
    Record::parse(&text, expected)
        .map(Some)
        .map_err(LoadError::Bad)
}

/// Whether a save waits for the storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// fsync the file and the directory: the record survives a crash of this
    /// node right after (monitor).
    Synced,
    /// No fsync: stop, whose group goes on to unmount the filesystem (which
    /// writes it back) — a failover should not wait for a disk flush, on
    /// DRBD a network round trip too. A crash before the unmount may lose
    /// it: the next start then finds the monitor's record, or a bad one it
    /// ignores.
    AtUnmount,
}

/// Replace `path` with `data` so that a reader sees the old file or the new
/// one, whole: a temporary file in the same directory, written (and with
/// [`Durability::Synced`] fsynced), renamed over `path`, then the directory
/// fsynced.
pub fn save_atomic(path: &Path, data: &[u8], durability: Durability) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        if durability == Durability::Synced {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if durability == Durability::Synced {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `nfsha internal-save-connections`: copy a record the vip agent prepared
/// on tmpfs to the replicated directory, atomically. It runs as a child with
/// a deadline, so a hung state directory costs the agent nothing but a warning.
#[derive(clap::Args, Debug)]
pub struct SaveArgs {
    /// The prepared record (on tmpfs, under HA_RSCTMP).
    #[arg(long)]
    pub from: PathBuf,
    /// The record on the replicated directory.
    #[arg(long)]
    pub to: PathBuf,
    /// The address the record must be for.
    #[arg(long)]
    pub ip: IpAddr,
    /// Do not fsync (stop: the unmount that follows writes it back).
    #[arg(long)]
    pub no_sync: bool,
}

pub fn save_main(args: &SaveArgs) -> i32 {
    let result = load(&args.from, args.ip)
        .map_err(|e| format!("{}: {e}", args.from.display()))
        .and_then(|r| r.ok_or_else(|| format!("{}: no such file", args.from.display())))
        .and_then(|r| {
            let durability = if args.no_sync {
                Durability::AtUnmount
            } else {
                Durability::Synced
            };
            save_atomic(&args.to, r.render().as_bytes(), durability)
                .map_err(|e| format!("writing {}: {e}", args.to.display()))
        });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("nfsha internal-save-connections: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip() -> IpAddr {
        "192.0.2.50".parse().unwrap()
    }

    fn conn(port: u16, client: &str) -> Conn {
        Conn {
            server_port: port,
            client: client.parse().unwrap(),
        }
    }

    fn sample() -> Record {
        Record::new(
            vip(),
            vec![
                conn(2049, "192.0.2.22:900"),
                conn(2049, "192.0.2.21:822"),
                conn(2049, "192.0.2.21:822"),
                conn(20048, "192.0.2.21:700"),
            ],
        )
    }

    #[test]
    fn renders_and_reads_back() {
        let r = sample();
        assert_eq!(r.conns.len(), 3, "repeats dropped");
        let text = r.render();
        assert_eq!(
            text,
            "# nfsha vip: TCP connections to 192.0.2.50 (tickled after a move; written by nfsha)\n\
             nfsha-connections 1\naddress 192.0.2.50\n\
             conn 2049 192.0.2.21 822\nconn 2049 192.0.2.22 900\nconn 20048 192.0.2.21 700\nend 3\n"
        );
        assert_eq!(Record::parse(&text, vip()).unwrap(), r);
        let v6: IpAddr = "2001:db8::50".parse().unwrap();
        let r6 = Record::new(v6, vec![conn(2049, "[2001:db8::21]:901")]);
        assert_eq!(Record::parse(&r6.render(), v6).unwrap(), r6);
        let empty = Record::new(vip(), vec![]);
        assert_eq!(Record::parse(&empty.render(), vip()).unwrap(), empty);
        assert_eq!(Record::file_name(v6), "nfsha-vip-2001_db8__50.conns");
    }

    #[test]
    fn truncated_files_are_refused() {
        let text = sample().render();
        // Every cut that does not end in the `end` line is noticed.
        for cut in 0..text.len() - "end 3\n".len() {
            let got = Record::parse(&text[..cut], vip());
            assert!(got.is_err(), "cut at {cut} accepted: {:?}", &text[..cut]);
        }
        // A lost `conn` line with the end intact is noticed by the count.
        let lost = text.replace("conn 2049 192.0.2.22 900\n", "");
        assert_eq!(Record::parse(&lost, vip()), Err(BadRecord::Truncated));
    }

    #[test]
    fn foreign_and_newer_files_are_refused() {
        let other: IpAddr = "192.0.2.51".parse().unwrap();
        let err = Record::parse(&sample().render(), other).unwrap_err();
        assert!(matches!(err, BadRecord::Foreign(_)), "{err}");
        assert!(err
            .to_string()
            .contains("records 192.0.2.50, not 192.0.2.51"));
        // portblock's format (ip:port<TAB>ip:port) is not ours.
        let err = Record::parse("192.0.2.50:2049\t192.0.2.21:822\n", vip()).unwrap_err();
        assert!(matches!(err, BadRecord::Foreign(_)), "{err}");
        let newer = sample().render().replace("connections 1", "connections 2");
        assert_eq!(
            Record::parse(&newer, vip()),
            Err(BadRecord::Version("2".into()))
        );
        // An IPv6 client in an IPv4 address's record, a zero port, junk.
        for bad in [
            "conn 2049 2001:db8::1 5",
            "conn 2049 192.0.2.1 0",
            "conn x 192.0.2.1 5",
            "conn 2049 192.0.2.1",
            "hello",
        ] {
            let text = format!("nfsha-connections 1\naddress 192.0.2.50\n{bad}\nend 1\n");
            let err = Record::parse(&text, vip()).unwrap_err();
            assert!(
                matches!(err, BadRecord::Malformed { line: 3, .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn records_are_capped_and_huge_files_refused_unread() {
        let many: Vec<Conn> = (0..MAX_CONNS as u32 + 10)
            .map(|i| Conn {
                server_port: 2049,
                client: SocketAddr::new(IpAddr::V4((0x0a00_0000 + i).into()), 1000),
            })
            .collect();
        let r = Record::new(vip(), many);
        assert_eq!(r.conns.len(), MAX_CONNS);
        let text = r.render();
        assert!((text.len() as u64) < MAX_BYTES, "a full record fits");
        assert_eq!(Record::parse(&text, vip()).unwrap().conns.len(), MAX_CONNS);
        // One line more than a record can hold is refused.
        let over = text.replace(
            &format!("end {MAX_CONNS}\n"),
            &format!("conn 2049 192.0.2.1 5\nend {}\n", MAX_CONNS + 1),
        );
        assert!(matches!(
            Record::parse(&over, vip()),
            Err(BadRecord::Huge { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(MAX_BYTES * 64).unwrap();
        match load(&path, vip()) {
            Err(LoadError::Bad(BadRecord::Huge { bytes })) => assert_eq!(bytes, MAX_BYTES * 64),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn save_is_atomic_and_load_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(Record::file_name(vip()));
        assert!(
            load(&path, vip()).unwrap().is_none(),
            "absent is not an error"
        );
        save_atomic(&path, sample().render().as_bytes(), Durability::Synced).unwrap();
        assert_eq!(load(&path, vip()).unwrap(), Some(sample()));
        let empty = Record::new(vip(), vec![]).render();
        save_atomic(&path, empty.as_bytes(), Durability::AtUnmount).unwrap();
        assert_eq!(load(&path, vip()).unwrap().unwrap().conns, vec![]);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
        let missing = dir.path().join("no/such/dir/f");
        assert!(save_atomic(&missing, b"x", Durability::Synced).is_err());
    }

    #[test]
    fn the_save_helper_refuses_to_copy_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("pending");
        let to = dir.path().join("record");
        std::fs::write(&from, "junk\n").unwrap();
        let args = SaveArgs {
            from: from.clone(),
            to: to.clone(),
            ip: vip(),
            no_sync: false,
        };
        assert_eq!(save_main(&args), 1);
        assert!(!to.exists());
        std::fs::write(&from, sample().render()).unwrap();
        assert_eq!(save_main(&args), 0);
        assert_eq!(std::fs::read_to_string(&to).unwrap(), sample().render());
    }
}
