//! The takeover helper, `nfsha announce`: what a node does for its clients
//! right after it added a moved address. vip start runs it detached (in its
//! own session) and returns; it
//!
//! 1. announces the address: gratuitous ARPs or unsolicited neighbour
//!    advertisements ([`super::announce`]), so clients send to this node;
//! 2. tickles every connection the old node recorded ([`super::connections`],
//!    [`super::tickle`]), in rounds at least `tcp_invalid_ratelimit` (500 ms)
//!    apart, an announcement always going out first at the same instant;
//! 3. ends by its bound whatever happens: an interval timer (`SIGALRM`, whose
//!    default action ends the process) is armed before anything else, so not
//!    even a read that hangs on the state directory can keep it alive longer.
//!
//! The order of events is a pure function ([`plan`]) tested on its own.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::announce::Announcer;
use super::connections::{self, Record};
use super::tickle::Sender;

/// `nfsha announce` (hidden; started by the vip agent).
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[arg(long)]
    pub nic: String,
    #[arg(long)]
    pub ip: IpAddr,
    /// Announcements to send (0: none).
    #[arg(long, default_value_t = 5)]
    pub count: u32,
    #[arg(long, default_value_t = 200)]
    pub interval_ms: u64,
    /// The connection record to tickle (absent: no tickles).
    #[arg(long)]
    pub connections: Option<PathBuf>,
    #[arg(long, default_value_t = 3)]
    pub tickle_rounds: u32,
    #[arg(long, default_value_t = 1000)]
    pub tickle_interval_ms: u64,
    /// The helper ends this long after it started, whatever it is doing.
    #[arg(long, default_value_t = 20_000)]
    pub bound_ms: u64,
    /// The log tag, e.g. `vip(nfs_ip)`, so its lines join the resource's.
    #[arg(long, default_value = "vip")]
    pub tag: String,
}

/// One thing the helper does at one time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Announcement number n (from 1).
    Announce(u32),
    /// Tickle round number n (from 1).
    Tickle(u32),
}

/// When each step happens, counted from the start, in order. At the same
/// instant an announcement goes before a tickle round: a client must learn the
/// new owner before it answers a tickle, or its answer goes to the old node.
/// Steps that would fall after `bound` (less a 100 ms margin for the sending
/// itself) are left out.
pub fn plan(
    announcements: u32,
    announce_every: Duration,
    rounds: u32,
    tickle_every: Duration,
    bound: Duration,
) -> Vec<(Duration, Step)> {
    let last = bound.saturating_sub(Duration::from_millis(100));
    let mut steps: Vec<(Duration, Step)> = (0..announcements)
        .map(|i| (announce_every * i, Step::Announce(i + 1)))
        .chain((0..rounds).map(|i| (tickle_every * i, Step::Tickle(i + 1))))
        .filter(|(at, _)| *at <= last)
        .collect();
    // Stable sort by time; announcements were listed first.
    steps.sort_by_key(|(at, _)| *at);
    steps
}

/// Arm `ITIMER_REAL`: the kernel sends SIGALRM after `d`, ending the process.
fn arm_bound(d: Duration) {
    let d = d.max(Duration::from_millis(1));
    let it = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: d.as_secs() as libc::time_t,
            tv_usec: d.subsec_micros() as libc::suseconds_t,
        },
    };
    // SAFETY: setitimer with a valid itimerval; SIGALRM keeps its default
    // disposition (terminate), which is the point.
    unsafe {
        libc::signal(libc::SIGALRM, libc::SIG_DFL);
        libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut());
    }
}

/// The recorded connections of `ip`, or none with a warning when the record
/// is missing or bad: tickles only speed clients up, so a bad file never
/// stops the announcements.
fn load_connections(args: &Args) -> Vec<(SocketAddr, SocketAddr)> {
    let Some(path) = &args.connections else {
        return Vec::new();
    };
    match connections::load(path, args.ip) {
        Ok(Some(Record { conns, .. })) => conns
            .iter()
            .map(|c| (SocketAddr::new(args.ip, c.server_port), c.client))
            .collect(),
        Ok(None) => {
            tracing::info!(
                "no connection record at {}: nothing to tickle",
                path.display()
            );
            Vec::new()
        }
        Err(e) => {
            tracing::warn!(
                "ignoring the connection record {}: {e}; clients of {} reconnect after their own back-off",
                path.display(),
                args.ip
            );
            Vec::new()
        }
    }
}

/// Open the announcer, waiting (within the bound) while an IPv6 address is
/// still tentative and cannot be bound.
fn announcer(args: &Args) -> Result<Option<Announcer>, String> {
    if args.count == 0 {
        return Ok(None);
    }
    let links = super::netlink::links().map_err(|e| format!("reading links: {e}"))?;
    let link = links
        .iter()
        .find(|l| l.name == args.nic)
        .ok_or_else(|| format!("no interface {}", args.nic))?;
    let mac = link
        .mac
        .ok_or_else(|| format!("{} has no Ethernet address to announce", args.nic))?;
    loop {
        match Announcer::new(link.ifindex, mac, args.ip) {
            Ok(a) => return Ok(Some(a)),
            Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => return Err(format!("opening a socket on {}: {e}", args.nic)),
        }
    }
}

/// Run the helper; returns the exit code.
pub fn main(args: &Args) -> i32 {
    arm_bound(Duration::from_millis(args.bound_ms));
    let env = std::env::vars().collect();
    crate::log::init(crate::log::LogOptions::from_env(args.tag.clone(), &env));
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            tracing::warn!("announcing {}: {e}", args.ip);
            1
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let conns = load_connections(args);
    let sender = if conns.is_empty() || args.tickle_rounds == 0 {
        None
    } else {
        // A record holds clients of its address's family only.
        let v4 = args.ip.is_ipv4();
        Some(
            Sender::new(v4, !v4)
                .map_err(|e| format!("opening a raw socket for tickle ACKs: {e}"))?,
        )
    };
    let announcer = announcer(args)?;
    let rounds = if sender.is_some() {
        args.tickle_rounds
    } else {
        0
    };
    let steps = plan(
        if announcer.is_some() { args.count } else { 0 },
        Duration::from_millis(args.interval_ms),
        rounds,
        Duration::from_millis(args.tickle_interval_ms),
        Duration::from_millis(args.bound_ms),
    );
    let planned_rounds = steps
        .iter()
        .filter(|(_, s)| matches!(s, Step::Tickle(_)))
        .count() as u32;
    if planned_rounds < rounds {
        tracing::warn!(
            "only {planned_rounds} of {rounds} tickle rounds fit in the start's time left ({} ms)",
            args.bound_ms
        );
    }
    if planned_rounds > 0 {
        tracing::info!(
            "tickling {} connection(s) to {} in {planned_rounds} round(s), {} ms apart",
            conns.len(),
            args.ip,
            args.tickle_interval_ms
        );
    }
    let start = Instant::now();
    let mut failed = 0usize;
    for (at, step) in steps {
        if let Some(wait) = (start + at).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        match step {
            Step::Announce(n) => {
                if let Some(a) = &announcer {
                    a.send()
                        .map_err(|e| format!("sending announcement {n} of {}: {e}", args.count))?;
                }
            }
            Step::Tickle(_) => {
                if let Some(s) = &sender {
                    for (server, client) in &conns {
                        if let Err(e) = s.send(*server, *client) {
                            failed += 1;
                            tracing::debug!("tickle {server} → {client}: {e}");
                        }
                    }
                }
            }
        }
    }
    if failed > 0 {
        tracing::warn!("{failed} tickle ACK(s) could not be sent");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn announcements_lead_and_rounds_keep_their_distance() {
        let p = plan(5, ms(200), 3, ms(1000), ms(20_000));
        assert_eq!(
            p,
            vec![
                (ms(0), Step::Announce(1)),
                (ms(0), Step::Tickle(1)),
                (ms(200), Step::Announce(2)),
                (ms(400), Step::Announce(3)),
                (ms(600), Step::Announce(4)),
                (ms(800), Step::Announce(5)),
                (ms(1000), Step::Tickle(2)),
                (ms(2000), Step::Tickle(3)),
            ]
        );
    }

    #[test]
    fn nothing_is_planned_past_the_bound() {
        let p = plan(5, ms(200), 3, ms(1000), ms(1500));
        assert_eq!(
            p.iter()
                .filter(|(_, s)| matches!(s, Step::Tickle(_)))
                .count(),
            2
        );
        assert!(p.iter().all(|(at, _)| *at <= ms(1400)));
        // A bound shorter than the margin still gets the first instant.
        assert_eq!(
            plan(3, ms(200), 3, ms(500), ms(50)),
            vec![(ms(0), Step::Announce(1)), (ms(0), Step::Tickle(1))]
        );
        assert!(plan(0, ms(200), 0, ms(500), ms(5000)).is_empty());
    }

    #[test]
    fn tickles_alone_are_planned_too() {
        let p = plan(0, ms(200), 4, ms(500), ms(5000));
        let at: Vec<Duration> = p.iter().map(|(at, _)| *at).collect();
        assert_eq!(at, vec![ms(0), ms(500), ms(1000), ms(1500)]);
    }
}
