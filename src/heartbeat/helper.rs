//! The storage helper: one long-lived process per storage
//! (`nfsha heartbeat io --serve AREA`) that keeps the lease area open and,
//! per request, reads the area and rewrites this host's slot in place. The
//! daemon talks to it over a pipe and never waits on it: it polls the pipe
//! with a deadline. A helper stuck in the kernel on a hung mount is not
//! killed — its open is the state the NFS client reclaims after a server
//! failover, which is what lets renewals resume during the grace period — it
//! simply gets no new request until it answers. At most one helper per
//! storage exists, stuck or not (sanlock's bound).
//!
//! The protocol, one line per message and raw bytes after it:
//! - request `R <seq> <read_len> <slot|-> [create]` (`+ 512 bytes` with a slot);
//! - progress `P open|read|write` before each call that may hang;
//! - answer `O <seq> <direct:0|1> <read_us> <write_us|-> <len>` + `len` bytes
//!   (`-`: nothing written, the slot holds another host's record), or
//!   `E <seq> <step> <message>`.

use std::io::{self, BufRead, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout};
use std::time::{Duration, Instant};

use super::area_io::AreaFile;
use super::lease_area::{may_write, MAX_SLOTS};
use super::machine::{Fault, IoStep, RoundReport};
use super::record::SLOT_SIZE;
use crate::sys::child::{self, Sink, Source, Spec};

/// A message from a helper.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    Progress(IoStep),
    Done {
        seq: u64,
        result: Result<RoundReport, Fault>,
    },
}

fn parse_header(line: &str) -> Option<(char, Vec<&str>)> {
    let mut words = line.split(' ');
    let kind = words.next()?.chars().next()?;
    Some((kind, words.collect()))
}

/// The helper side: serve requests on stdin until it closes.
pub fn serve(area: &Path) -> i32 {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut file: Option<AreaFile> = None;
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => return 0,
            Ok(_) => {}
        }
        let Some(('R', w)) = parse_header(line.trim_end()) else {
            return 2;
        };
        let (Some(seq), Some(read_len)) = (
            w.first().and_then(|s| s.parse::<u64>().ok()),
            w.get(1).and_then(|s| s.parse::<usize>().ok()),
        ) else {
            return 2;
        };
        let slot = w.get(2).and_then(|s| s.parse::<usize>().ok());
        let create = w.get(3) == Some(&"create");
        let mut data = vec![0u8; SLOT_SIZE];
        if slot.is_some() && input.read_exact(&mut data).is_err() {
            return 2;
        }
        let read_len = read_len.min(MAX_SLOTS * SLOT_SIZE);
        let answer = round(
            &mut out,
            &mut file,
            area,
            create,
            read_len,
            slot.map(|k| (k, &data[..])),
        );
        let ok = match answer {
            Ok((bytes, direct, read, write)) => {
                let header = format!(
                    "O {seq} {} {} {} {}\n",
                    u8::from(direct),
                    read.as_micros(),
                    write.map_or("-".to_string(), |w| w.as_micros().to_string()),
                    bytes.len()
                );
                out.write_all(header.as_bytes())
                    .and_then(|_| out.write_all(&bytes))
            }
            Err((step, e)) => {
                // A descriptor the server no longer knows is opened again next time.
                if matches!(e.raw_os_error(), Some(libc::ESTALE | libc::EBADF)) {
                    file = None;
                }
                let msg = e.to_string().replace('\n', " ");
                out.write_all(format!("E {seq} {} {msg}\n", step.name()).as_bytes())
            }
        };
        if ok.and_then(|_| out.flush()).is_err() {
            return 1;
        }
    }
}

type RoundOk = (Vec<u8>, bool, Duration, Option<Duration>);

fn round(
    out: &mut impl Write,
    file: &mut Option<AreaFile>,
    area: &Path,
    create: bool,
    read_len: usize,
    write: Option<(usize, &[u8])>,
) -> Result<RoundOk, (IoStep, io::Error)> {
    let mut progress = |s: IoStep| {
        let _ = out
            .write_all(format!("P {}\n", s.name()).as_bytes())
            .and_then(|_| out.flush());
    };
    if file.is_none() {
        progress(IoStep::Open);
        *file = Some(AreaFile::open(area, create).map_err(|e| (IoStep::Open, e))?);
    }
    let f = file.as_mut().expect("opened above");
    progress(IoStep::Read);
    let t = Instant::now();
    let bytes = f.read(read_len).map_err(|e| (IoStep::Read, e))?;
    let read = t.elapsed();
    let mut wrote = None;
    if let Some((k, data)) = write.filter(|(k, data)| may_write(&bytes, *k, data)) {
        progress(IoStep::Write);
        let t = Instant::now();
        f.write_slot(k, data).map_err(|e| (IoStep::Write, e))?;
        wrote = Some(t.elapsed());
    }
    Ok((bytes, f.direct, read, wrote))
}

/// The daemon's side of one storage's helper.
pub struct Helper {
    child: child::Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    buf: Vec<u8>,
    /// A request was sent and not answered yet.
    pub busy: bool,
    /// The helper closed its pipe or exited.
    pub lost: bool,
    /// The area it serves.
    pub area: PathBuf,
}

impl Helper {
    /// Start the helper for the lease area at `area` (this very executable:
    /// /proc/self/exe is still this binary after an upgrade replaced it).
    pub fn spawn(area: &Path) -> io::Result<Helper> {
        Helper::spawn_program(Path::new("/proc/self/exe"), area)
    }

    /// [`Helper::spawn`] with another nfsha binary (tests and benchmarks,
    /// whose own executable is the test harness).
    pub fn spawn_program(nfsha: &Path, area: &Path) -> io::Result<Helper> {
        let mut spec = Spec::new(nfsha)
            .args(["heartbeat", "io", "--serve"])
            .arg(area);
        spec.arg0 = Some("nfsha-heartbeat-io".into());
        spec.stdin = Source::Pipe;
        spec.stdout = Sink::Pipe;
        spec.stderr = Sink::Null;
        spec.cwd = Some("/".into());
        let mut c = child::Child::spawn(&spec)?;
        let (Some(stdin), Some(stdout)) = (c.take_stdin(), c.take_stdout()) else {
            c.kill_group();
            c.abandon();
            return Err(io::Error::other("helper pipes missing"));
        };
        // SAFETY: fcntl on a descriptor we own.
        unsafe {
            let fd = stdout.as_raw_fd();
            let fl = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
        Ok(Helper {
            child: c,
            stdin,
            stdout,
            buf: Vec::new(),
            busy: false,
            lost: false,
            area: area.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Ask for one round. Only when not busy: the pipe is then empty, so
    /// this small write cannot block.
    pub fn send(
        &mut self,
        seq: u64,
        read_len: usize,
        write: Option<(usize, &[u8])>,
        create: bool,
    ) -> io::Result<()> {
        let mut msg = format!(
            "R {seq} {read_len} {}{}\n",
            write.map_or("-".to_string(), |(k, _)| k.to_string()),
            if create { " create" } else { "" }
        )
        .into_bytes();
        if let Some((_, data)) = write {
            msg.extend_from_slice(data);
        }
        self.stdin.write_all(&msg)?;
        self.busy = true;
        Ok(())
    }

    /// The descriptor that becomes readable when the helper says something.
    pub fn pollable(&self) -> RawFd {
        self.stdout.as_raw_fd()
    }

    /// Whatever complete messages have arrived (never blocks).
    pub fn receive(&mut self, wall_ms: i64) -> Vec<Message> {
        let mut chunk = [0u8; 65536];
        loop {
            match self.stdout.read(&mut chunk) {
                Ok(0) => {
                    self.lost = true;
                    break;
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.lost = true;
                    break;
                }
            }
        }
        let mut out = Vec::new();
        while let Some((m, used)) = parse_message(&self.buf, wall_ms) {
            self.buf.drain(..used);
            if matches!(m, Message::Done { .. }) {
                self.busy = false;
            }
            out.push(m);
        }
        out
    }

    /// Stop a helper that is not needed any more: close its pipe and
    /// SIGKILL it, never waiting (it may be stuck in the kernel).
    pub fn dismiss(self) {
        drop(self.stdin);
        self.child.kill_group();
        self.child.abandon();
    }
}

/// One complete message at the start of `buf`, and how many bytes it took.
fn parse_message(buf: &[u8], wall_ms: i64) -> Option<(Message, usize)> {
    let nl = buf.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&buf[..nl]).ok()?;
    let (kind, w) = parse_header(line)?;
    match kind {
        'P' => Some((Message::Progress(IoStep::parse(w.first()?)?), nl + 1)),
        'E' => {
            let seq = w.first()?.parse().ok()?;
            let step = w.get(1).copied().unwrap_or("?");
            let msg = w.get(2..).map(|m| m.join(" ")).unwrap_or_default();
            Some((
                Message::Done {
                    seq,
                    result: Err(Fault::Storage(format!("{step}: {msg}"))),
                },
                nl + 1,
            ))
        }
        'O' => {
            let seq = w.first()?.parse().ok()?;
            let direct = *w.get(1)? == "1";
            let read = Duration::from_micros(w.get(2)?.parse().ok()?);
            let write = w.get(3)?.parse().ok().map(Duration::from_micros);
            let len: usize = w.get(4)?.parse().ok()?;
            if buf.len() < nl + 1 + len {
                return None;
            }
            let area = buf[nl + 1..nl + 1 + len].to_vec();
            Some((
                Message::Done {
                    seq,
                    result: Ok(RoundReport {
                        area,
                        read,
                        write,
                        direct,
                        wall_ms,
                    }),
                },
                nl + 1 + len,
            ))
        }
        _ => None,
    }
}

/// Read a lease area once, within `timeout` (for `check` without a daemon):
/// a helper of its own, killed and abandoned at the deadline.
pub fn read_area_once(area: &Path, timeout: Duration) -> Result<Vec<u8>, String> {
    let mut h = Helper::spawn(area).map_err(|e| format!("cannot start the I/O helper: {e}"))?;
    let until = Instant::now() + timeout;
    let result = (|| {
        h.send(1, MAX_SLOTS * SLOT_SIZE, None, false)
            .map_err(|e| format!("cannot talk to the I/O helper: {e}"))?;
        let mut step = None;
        loop {
            for m in h.receive(0) {
                match m {
                    Message::Progress(s) => step = Some(s),
                    Message::Done { result: Ok(r), .. } => return Ok(r.area),
                    Message::Done { result: Err(f), .. } => {
                        return Err(match f {
                            Fault::Storage(e) => format!("cannot read {}: {e}", area.display()),
                            other => format!("{other:?}"),
                        })
                    }
                }
            }
            if h.lost {
                return Err("the I/O helper exited without an answer".into());
            }
            let now = Instant::now();
            if now >= until {
                return Err(format!(
                    "no answer from {} within {:.1}s{} (abandoned)",
                    area.display(),
                    timeout.as_secs_f64(),
                    step.map(|s| format!(" (stuck in {})", s.name()))
                        .unwrap_or_default()
                ));
            }
            child::wait_readable(&[Some(h.pollable())], until - now);
        }
    })();
    h.dismiss();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_parse_only_when_complete() {
        let mut b =
            b"P open\nP read\nO 7 1 120 - 3\nabcE 8 write No space left on device\n".to_vec();
        let (m, used) = parse_message(&b, 5).unwrap();
        assert_eq!(m, Message::Progress(IoStep::Open));
        b.drain(..used);
        let (_, used) = parse_message(&b, 5).unwrap();
        b.drain(..used);
        let (m, used) = parse_message(&b, 5).unwrap();
        assert_eq!(
            m,
            Message::Done {
                seq: 7,
                result: Ok(RoundReport {
                    area: b"abc".to_vec(),
                    read: Duration::from_micros(120),
                    write: None,
                    direct: true,
                    wall_ms: 5
                })
            }
        );
        b.drain(..used);
        let (m, _) = parse_message(&b, 5).unwrap();
        assert_eq!(
            m,
            Message::Done {
                seq: 8,
                result: Err(Fault::Storage("write: No space left on device".into()))
            }
        );
        assert!(
            parse_message(b"O 7 1 120 - 3\nab", 0).is_none(),
            "data not all there"
        );
        assert!(parse_message(b"P open", 0).is_none(), "line not ended");
    }
}
