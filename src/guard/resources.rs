//! Applying the job's limits ([`super::limits`]): its own cgroups
//! ([`super::cgroup`]) and its I/O class. Everything is set up before the
//! job starts and fails the start if any part cannot be applied; the job
//! then starts inside: guard enters the job's cgroups and takes its I/O
//! class for the moment of the fork (a child inherits both), goes back,
//! and sets the class on the job's whole process group as well.

use std::path::Path;

use super::cgroup::{self, JobGroup, Place};
use super::limits::{Bandwidth, IoClass};

const IOPRIO_WHO_PROCESS: i32 = 1;
const IOPRIO_WHO_PGRP: i32 = 2;

fn ioprio_get_self() -> i32 {
    // SAFETY: ioprio_get(2) on the calling process.
    unsafe { libc::syscall(libc::SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0) as i32 }
}

fn ioprio_set(which: i32, who: i32, prio: i32) -> Result<(), String> {
    // SAFETY: ioprio_set(2) with plain integers.
    let rc = unsafe { libc::syscall(libc::SYS_ioprio_set, which, who, prio) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().to_string())
    }
}

/// What the user asked for.
#[derive(Clone, Debug, Default)]
pub struct Wanted {
    pub io_class: Option<IoClass>,
    pub bandwidth: Vec<Bandwidth>,
    pub cpu_weight: Option<u64>,
}

impl Wanted {
    pub fn any(&self) -> bool {
        self.io_class.is_some() || !self.bandwidth.is_empty() || self.cpu_weight.is_some()
    }
}

/// The limits, in place and waiting for the job.
pub struct Resources {
    groups: Vec<JobGroup>,
    io_class: Option<IoClass>,
    own_ioprio: i32,
    /// What was applied, for the log.
    pub summary: Vec<String>,
}

impl Resources {
    /// Set up everything `w` asks for; `Err` says what could not be applied
    /// (and nothing is left behind).
    pub fn setup(w: &Wanted, id: u32) -> Result<Resources, String> {
        let mut r = Resources {
            groups: Vec::new(),
            io_class: w.io_class,
            own_ioprio: ioprio_get_self(),
            summary: Vec::new(),
        };
        if let Some(c) = w.io_class {
            // Prove the class can be set here before anything runs.
            ioprio_set(IOPRIO_WHO_PROCESS, 0, c.ioprio())
                .and_then(|_| ioprio_set(IOPRIO_WHO_PROCESS, 0, r.own_ioprio.max(0)))
                .map_err(|e| format!("--io-class {}: ioprio_set: {e}", c.name()))?;
            r.summary.push(format!("I/O class {}", c.name()));
        }
        if w.bandwidth.is_empty() && w.cpu_weight.is_none() {
            return Ok(r);
        }
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| format!("/proc/self/cgroup: {e}"))?;
        let h = cgroup::detect(&mountinfo, |p: &Path| {
            std::fs::read_to_string(p.join("cgroup.controllers")).ok()
        });
        let mut make = |place: Place,
                        v1: &str,
                        v2: &str,
                        settings: Vec<(&'static str, String)>,
                        what: String|
         -> Result<(), String> {
            let home = cgroup::own_cgroup(&own, &place, v1);
            let g = JobGroup::create(&place, id, v2, &settings, home)?;
            r.summary.push(format!("{what} in {}", place.describe()));
            r.groups.push(g);
            Ok(())
        };
        let result = (|| {
            if !w.bandwidth.is_empty() {
                let place = h.io()?;
                let settings = cgroup::io_settings(&place, &w.bandwidth);
                let what = w
                    .bandwidth
                    .iter()
                    .map(|b| format!("{} ≤ {} B/s", b.given, b.bytes_per_s))
                    .collect::<Vec<_>>()
                    .join(", ");
                make(place, "blkio", "io", settings, what)?;
            }
            if let Some(weight) = w.cpu_weight {
                let place = h.cpu()?;
                let setting = cgroup::cpu_setting(&place, weight);
                make(
                    place,
                    "cpu",
                    "cpu",
                    vec![setting],
                    format!("CPU weight {weight}"),
                )?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            r.teardown();
            return Err(e);
        }
        Ok(r)
    }

    /// Take the job's cgroups and class for the coming fork.
    pub fn enter(&self) -> Result<(), String> {
        for g in &self.groups {
            g.enter()?;
        }
        if let Some(c) = self.io_class {
            ioprio_set(IOPRIO_WHO_PROCESS, 0, c.ioprio())
                .map_err(|e| format!("ioprio_set: {e}"))?;
        }
        Ok(())
    }

    /// Back to guard's own cgroups and class; the class on the job's group.
    pub fn leave(&self, job_pgid: Option<u32>) {
        for g in &self.groups {
            g.leave();
        }
        if let Some(c) = self.io_class {
            let _ = ioprio_set(IOPRIO_WHO_PROCESS, 0, self.own_ioprio.max(0));
            if let Some(pg) = job_pgid {
                if let Err(e) = ioprio_set(IOPRIO_WHO_PGRP, pg as i32, c.ioprio()) {
                    eprintln!("nfsha guard: ioprio_set on process group {pg}: {e}");
                }
            }
        }
    }

    /// Remove the job's cgroups (those still holding a process stay).
    pub fn teardown(&mut self) {
        for g in self.groups.drain(..) {
            g.remove();
        }
    }
}
