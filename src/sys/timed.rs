//! Where an action's time goes: a [`System`] that passes every call on and
//! times, on the wrapped system's own clock, the two that wait: the programs
//! it runs and the sleeps. The OCF runner wraps start and stop in it and
//! logs the profile when the action ends, so the lab's `pacemaker.log`
//! shows per program what a failover's operations spent (issue 12, "shorten
//! the move").

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Cmd, Deadline, Output, Paths, RunError, System};
use crate::net::netlink::{IfAddr, Link, Route};

/// `inner`, timed.
pub struct Timed<'a> {
    inner: &'a dyn System,
    began: Instant,
    steps: Mutex<Steps>,
}

#[derive(Default)]
struct Steps {
    /// (program and its first argument, time), in the order run.
    programs: Vec<(String, Duration)>,
    slept: Duration,
    sleeps: u32,
}

impl<'a> Timed<'a> {
    pub fn new(inner: &'a dyn System) -> Timed<'a> {
        Timed {
            inner,
            began: inner.now(),
            steps: Mutex::default(),
        }
    }

    /// One line: the whole time, then each program, the sleeps, and what
    /// is left (reading files and `/proc`, the agent's own work).
    /// `start 2.31 s: systemctl start 1.90 s, drbdsetup status 0.21 s;
    /// 3 waits 0.15 s; other 0.05 s`.
    pub fn profile(&self) -> String {
        let total = self.inner.now().saturating_duration_since(self.began);
        let s = self.steps.lock().unwrap();
        let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
        let mut line = secs(total);
        let ran: Duration = s.programs.iter().map(|(_, d)| *d).sum();
        if !s.programs.is_empty() {
            let each: Vec<String> = s
                .programs
                .iter()
                .map(|(p, d)| format!("{p} {}", secs(*d)))
                .collect();
            line += &format!(": {}", each.join(", "));
        }
        if s.sleeps > 0 {
            line += &format!(
                "; {} wait{} {}",
                s.sleeps,
                if s.sleeps == 1 { "" } else { "s" },
                secs(s.slept)
            );
        }
        let other = total.saturating_sub(ran + s.slept);
        line + &format!("; other {}", secs(other))
    }
}

/// The program's file name and its first argument (`systemctl stop`,
/// `drbdsetup status`): enough to tell the steps apart, short enough to log.
fn label(cmd: &Cmd) -> String {
    let name = Path::new(&cmd.program)
        .file_name()
        .map_or(cmd.program.clone(), |n| n.to_string_lossy().into_owned());
    match cmd.args.first() {
        Some(a) if !a.starts_with('/') && a.len() <= 24 => format!("{name} {a}"),
        _ => name,
    }
}

impl System for Timed<'_> {
    fn run(&self, cmd: &Cmd, deadline: Deadline) -> Result<Output, RunError> {
        let t = self.inner.now();
        let out = self.inner.run(cmd, deadline);
        let took = self.inner.now().saturating_duration_since(t);
        self.steps.lock().unwrap().programs.push((label(cmd), took));
        out
    }
    fn spawn_detached(&self, argv: &[String]) -> io::Result<u32> {
        self.inner.spawn_detached(argv)
    }
    fn has_program(&self, program: &str) -> bool {
        self.inner.has_program(program)
    }
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.inner.read_to_string(path)
    }
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.inner.write(path, data)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_file(path)
    }
    fn exists(&self, path: &Path) -> bool {
        self.inner.exists(path)
    }
    fn addresses(&self) -> io::Result<Vec<IfAddr>> {
        self.inner.addresses()
    }
    fn links(&self) -> io::Result<Vec<Link>> {
        self.inner.links()
    }
    fn routes(&self, v6: bool) -> io::Result<Vec<Route>> {
        self.inner.routes(v6)
    }
    fn now(&self) -> Instant {
        self.inner.now()
    }
    fn sleep(&self, d: Duration) {
        let t = self.inner.now();
        self.inner.sleep(d);
        let took = self.inner.now().saturating_duration_since(t);
        let mut s = self.steps.lock().unwrap();
        s.slept += took;
        s.sleeps += 1;
    }
    fn kill(&self, pid: u32, signal: i32) -> io::Result<()> {
        self.inner.kill(pid, signal)
    }
    fn state_dir(&self) -> PathBuf {
        self.inner.state_dir()
    }
    fn paths(&self) -> &Paths {
        self.inner.paths()
    }
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.inner.list_dir(path)
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.inner.canonicalize(path)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.inner.read_link(path)
    }
    fn tcp_sockets(
        &self,
        local: std::net::IpAddr,
        states: u32,
        mapped: super::Mapped,
    ) -> io::Result<Vec<super::TcpSocket>> {
        self.inner.tcp_sockets(local, states, mapped)
    }
    fn destroy_tcp_socket(&self, socket: &super::TcpSocket) -> io::Result<()> {
        self.inner.destroy_tcp_socket(socket)
    }
    fn nft_drop_address(&self, ip: std::net::IpAddr) -> io::Result<Box<dyn super::NftHole + '_>> {
        self.inner.nft_drop_address(ip)
    }
    fn nft_delete_table(&self, name: &str) -> io::Result<bool> {
        self.inner.nft_delete_table(name)
    }
    fn nft_available(&self) -> bool {
        self.inner.nft_available()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::Fake;
    use std::sync::Arc;

    #[test]
    fn programs_and_waits_are_timed_on_the_wrapped_clock() {
        let f = Arc::new(Fake::new());
        let g = f.clone();
        f.respond(move |c| {
            if c.program == "systemctl" {
                g.sleep(Duration::from_millis(1900));
            }
            None
        });
        let t = Timed::new(&*f);
        let far = Deadline::after(&t, Duration::from_secs(60));
        t.run(
            &Cmd::new("systemctl").args(["start", "nfs-server.service"]),
            far,
        )
        .unwrap();
        t.run(
            &Cmd::new("/usr/sbin/exportfs").args(["-o", "rw", "c:/srv"]),
            far,
        )
        .unwrap();
        t.run(&Cmd::new("umount").arg("/srv/nfs-state"), far)
            .unwrap();
        t.sleep(Duration::from_millis(100));
        t.sleep(Duration::from_millis(50));
        assert_eq!(
            t.profile(),
            "2.05 s: systemctl start 1.90 s, exportfs -o 0.00 s, umount 0.00 s; 2 waits 0.15 s; other 0.00 s"
        );
    }
}
