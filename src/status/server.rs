//! The NFS server side of `nfsha status`: nfsd, the group's resources, scope,
//! lease and grace, clients and their reclaims, exports, DRBD and the
//! connection records, from what the node holds now.
//!
//! Everything read here is a kernel interface (`/proc`, the nfsd control
//! files, `/dev/kmsg`) or tmpfs (the agents' markers); what lives on disks
//! comes from the probes ([`super::probe`]), read in children with a
//! deadline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use super::clients;
use super::grace;
use super::kmsg;
use super::nfsdcld::Tracking;
use super::probe::{self, Answers, Kind};
use super::procs::{self, Stat};
use super::report::*;
use crate::nfs::markers::{Backing, ExportMarker, ServerMarker, StartMode, StateMarker};
use crate::sys::mounts::Mount;
use crate::sys::System;

/// What the main process observed, and the probes' answers.
pub struct Inputs<'a> {
    pub sys: &'a dyn System,
    pub answers: &'a Answers,
    pub procs: Result<Vec<Stat>, String>,
    pub mounts: Result<Vec<Mount>, String>,
    /// `drbdsetup status --json` (DRBD 9), when it was asked.
    pub drbd9: Option<Result<String, String>>,
    /// The kernel's grace messages; `None` when not read (nothing to learn).
    pub kmsg: Option<Result<Vec<kmsg::Event>, String>>,
    /// `CLOCK_BOOTTIME` and `CLOCK_MONOTONIC` now.
    pub boottime: Duration,
    pub monotonic: Duration,
    pub node: String,
}

/// The nfsha markers of this node (the agents' "started here" records).
#[derive(Debug, Default)]
struct Markers {
    states: Vec<StateMarker>,
    server: Option<ServerMarker>,
    exports: Vec<ExportMarker>,
}

fn load_markers(sys: &dyn System) -> Result<Markers, String> {
    let dir = sys.state_dir();
    match sys.list_dir(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("{}: {e}", dir.display()))
        }
        _ => Ok(Markers {
            states: StateMarker::all(sys),
            server: ServerMarker::load(sys),
            exports: ExportMarker::all(sys),
        }),
    }
}

/// Whether the kernel log can tell more than the nfsd control files and
/// threads do. While in grace (`v4_end_grace` N) the start time and the
/// grace time say it all; once grace is over the log tells whether it ended
/// early, and when, or was skipped, which matters for a recent start (within
/// the longest grace can last, two leases past the grace time); and it dates
/// a start no nfsd thread shows. The log is read only then: reading all of
/// it costs more than the rest of `nfsha status` together.
pub fn kernel_log_helps(sys: &dyn System, procs: Option<&[Stat]>) -> bool {
    let started = procs.and_then(|all| {
        procs::nfsd_started_ago(
            all,
            crate::heartbeat::clock::boottime(),
            procs::ticks_per_second(),
        )
    });
    let Some(ago) = started else { return true };
    let ended = sys
        .read_to_string(&sys.paths().nfsd("v4_end_grace"))
        .map(|s| s.trim() == "Y")
        .unwrap_or(true);
    let longest = read_u64(sys, "nfsv4gracetime").unwrap_or(3600)
        + 2 * read_u64(sys, "nfsv4leasetime").unwrap_or(3600);
    ended && ago.as_secs() <= longest + 60
}

/// nfsstate runs here with its state on a DRBD device (its marker says so).
pub fn state_on_drbd(sys: &dyn System) -> bool {
    load_markers(sys)
        .map(|m| {
            m.states
                .iter()
                .any(|s| matches!(s.backing, Backing::Drbd { .. }))
        })
        .unwrap_or(false)
}

fn read_u64(sys: &dyn System, name: &str) -> Option<u64> {
    sys.read_to_string(&sys.paths().nfsd(name))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

pub fn collect(i: &Inputs, problems: &mut Vec<Problem>) -> Option<Server> {
    let sys = i.sys;
    let paths = sys.paths();
    let threads_file = sys.read_to_string(&paths.nfsd("threads"));
    let threads: Option<u32> = threads_file
        .as_ref()
        .ok()
        .and_then(|t| t.trim().parse().ok());
    let running = threads.is_some_and(|t| t > 0);
    let mounts_ok: &[Mount] = i.mounts.as_deref().unwrap_or(&[]);
    let markers: Result<Markers, String> =
        if i.mounts.is_ok() && !super::reads_directly(mounts_ok, &sys.state_dir()) {
            Err(format!(
                "the resource state directory {} (HA_RSCTMP) is on network, FUSE or DRBD storage; \
             nfsha status does not read it",
                sys.state_dir().display()
            ))
        } else {
            load_markers(sys)
        };
    let m = markers.as_ref().ok();
    let config: Result<probe::Config, String> = i.answers.get(Kind::Config);
    let dropin = config
        .as_ref()
        .ok()
        .and_then(|c| c.dropin.as_ref().ok())
        .and_then(Option::as_ref);
    let drbd_present = sys.exists(&paths.proc_drbd);
    let has_markers =
        m.is_some_and(|m| !m.states.is_empty() || m.server.is_some() || !m.exports.is_empty());
    if threads_file.is_err() && !has_markers && dropin.is_none() && !drbd_present {
        return None;
    }

    let server_marker = m.and_then(|m| m.server.clone());
    let started_by = match (running, &server_marker, &markers) {
        (false, _, _) => Known::Value("none"),
        (true, Some(_), _) => Known::Value("cluster"),
        (true, None, Ok(_)) => Known::Value("outside-cluster"),
        (true, None, Err(e)) => Known::unknown(e.clone()),
    };
    if started_by.value() == Some(&"outside-cluster") {
        problems.push(Problem {
            severity: "error",
            message: "nfsd runs, but no nfsha nfsserver resource started it on this node (Debian starts \
                      nfs-server when nfs-kernel-server is installed). The cluster refuses to start the NFS \
                      group on a node where nfsd already runs: stop and disable it with \
                      `systemctl disable --now nfs-server`, then write the drop-in (`nfsha dropin`)."
                .to_string(),
        });
    }
    let (net_inode, ns_name) = procs::network_namespace(&paths.proc, Path::new("/run/netns"));
    let started_ago = i
        .procs
        .as_ref()
        .ok()
        .and_then(|all| procs::nfsd_started_ago(all, i.boottime, procs::ticks_per_second()));
    let nfsd = Nfsd {
        state: match (&threads_file, running) {
            (Err(_), _) => "not-loaded",
            (Ok(_), true) => "running",
            (Ok(_), false) => "stopped",
        },
        threads: match (&threads_file, threads) {
            (Ok(_), Some(t)) => Known::Value(t),
            (Ok(t), None) => Known::unknown(format!("threads reads {:?}", t.trim())),
            (Err(e), _) => Known::unknown(format!("{}: {e}", paths.nfsd("threads").display())),
        },
        started_by: started_by.clone(),
        start_mode: server_marker
            .as_ref()
            .map(|s| mode_name(s.mode).to_string()),
        versions: match sys.read_to_string(&paths.nfsd("versions")) {
            Ok(v) => Known::Value(crate::nfs::nfsd::enabled_versions(&v)),
            Err(e) => Known::unknown(format!("{}: {e}", paths.nfsd("versions").display())),
        },
        namespace: Namespace {
            name: ns_name,
            net_inode,
        },
        started_ago_s: match (running, started_ago, &i.procs) {
            (false, _, _) => None,
            (true, Some(d), _) => Some(Known::Value(round1(d.as_secs_f64()))),
            (true, None, Ok(_)) => {
                Some(Known::unknown("no nfsd kernel thread is visible in /proc"))
            }
            (true, None, Err(e)) => Some(Known::unknown(e.clone())),
        },
        daemons: match &i.procs {
            Ok(all) => Known::Value(
                procs::daemons(all)
                    .into_iter()
                    .map(|s| Daemon {
                        name: s.comm.clone(),
                        pid: s.pid,
                        state: s.state.to_string(),
                    })
                    .collect(),
            ),
            Err(e) => Known::unknown(e.clone()),
        },
    };

    let resources = markers
        .as_ref()
        .map(resources_of)
        .map_err(Clone::clone)
        .into();
    let scope = scope(running, &server_marker, &config, &i.node, problems);
    let lease = timing(
        sys,
        "lease",
        "nfsv4leasetime",
        running,
        &server_marker,
        &config,
        problems,
    );
    let grace_timing = timing(
        sys,
        "grace",
        "nfsv4gracetime",
        running,
        &server_marker,
        &config,
        problems,
    );
    let grace = grace_of(i, running, started_ago, net_inode, grace_timing);
    let tracking: Result<Option<Tracking>, String> = i
        .answers
        .get::<probe::Nfsdcld>(Kind::Nfsdcld)
        .and_then(|n| n.tracking);
    let clients = clients_of(sys, running, &tracking);
    let exports = exports_of(i, m, problems);
    let drbd = drbd_of(i, m, started_by.value() == Some(&"cluster"), problems);
    let nfs_server_unit = unit_of(&config, problems);
    Some(Server {
        nfsd,
        resources,
        scope,
        lease,
        grace,
        clients,
        exports,
        drbd,
        // This nfsha's vip keeps no connection records yet.
        connections: Known::Value(Vec::new()),
        nfs_server_unit,
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn mode_name(mode: StartMode) -> &'static str {
    match mode {
        StartMode::Direct => "direct",
        StartMode::Systemd => "systemd",
    }
}

fn resources_of(m: &Markers) -> Vec<Resource> {
    let mut r = Vec::new();
    for s in &m.states {
        let on = match &s.backing {
            Backing::Drbd { minor } => format!("on /dev/drbd{minor}"),
            Backing::Unreplicated { source } => {
                format!("on {source} (unreplicated, allowed by allow_unreplicated)")
            }
        };
        r.push(Resource {
            agent: "nfsstate".into(),
            what: format!("state directory {} {on}", s.directory.display()),
        });
    }
    if let Some(s) = &m.server {
        r.push(Resource {
            agent: "nfsserver".into(),
            what: format!("nfsd as {} ({})", s.hostname, mode_name(s.mode)),
        });
    }
    for e in &m.exports {
        r.push(Resource {
            agent: "exportfs".into(),
            what: format!("{} to {}", e.directory.display(), e.client),
        });
    }
    r
}

fn scope(
    running: bool,
    marker: &Option<ServerMarker>,
    config: &Result<probe::Config, String>,
    node: &str,
    problems: &mut Vec<Problem>,
) -> Option<Known<Scope>> {
    if !running {
        return None;
    }
    let conf_scope = config
        .as_ref()
        .ok()
        .and_then(|c| c.nfs_conf.scope.clone())
        .filter(|s| !s.is_empty());
    Some(match (marker, conf_scope) {
        (Some(ServerMarker { hostname, .. }), Some(s)) if s != *hostname => {
            problems.push(Problem {
                severity: "warning",
                message: format!(
                    "nfs.conf [nfsd] scope = {s} differs from the host name nfsserver started nfsd under \
                     ({hostname}); rpc.nfsd of nfs-utils 2.6.3 and later applies the scope over it, so \
                     the other node may present another scope. Keep them equal or remove `scope`."
                ),
            });
            Known::unknown(format!(
                "nfsserver started rpc.nfsd as {hostname}, but nfs.conf sets scope = {s}, which rpc.nfsd \
                 2.6.3+ applies over it"
            ))
        }
        (Some(ServerMarker { hostname, .. }), _) => Known::Value(Scope {
            name: hostname.clone(),
            source:
                "the host name nfsserver started rpc.nfsd under (server_hostname); nfsd keeps the \
                     name of the process that last set its thread count"
                    .into(),
        }),
        (None, Some(s)) => Known::Value(Scope {
            name: s,
            source: "nfs.conf [nfsd] scope (nfsd was started outside the cluster)".into(),
        }),
        (None, None) => Known::Value(Scope {
            name: node.to_string(),
            source:
                "this node's own host name: nfsd was started outside the cluster, by a process \
                     that presumably ran under it"
                    .into(),
        }),
    })
}

/// Lease (`what` = "lease", file `nfsv4leasetime`) or grace.
fn timing(
    sys: &dyn System,
    what: &str,
    file: &str,
    running: bool,
    marker: &Option<ServerMarker>,
    config: &Result<probe::Config, String>,
    problems: &mut Vec<Problem>,
) -> Timing {
    let running_value = match read_u64(sys, file) {
        Some(v) => Known::Value(v),
        None => Known::unknown(format!(
            "{} cannot be read",
            sys.paths().nfsd(file).display()
        )),
    };
    let configured: Known<Option<Setting>> = match config {
        Err(e) => Known::unknown(e.clone()),
        Ok(c) => {
            let from_dropin = c
                .dropin
                .as_ref()
                .ok()
                .and_then(Option::as_ref)
                .and_then(|d| if what == "lease" { d.lease } else { d.grace });
            let conf = if what == "lease" {
                &c.nfs_conf.lease
            } else {
                &c.nfs_conf.grace
            };
            let direct = marker.as_ref().is_some_and(|s| s.mode == StartMode::Direct);
            let conf = conf.as_deref().and_then(|v| v.trim().parse::<u64>().ok());
            Known::Value(match (direct, from_dropin, conf) {
                // Direct mode writes the resource's value itself.
                (true, _, _) => None,
                (false, Some(v), _) => Some(Setting {
                    seconds: u64::from(v),
                    source: format!(
                        "the nfs-server drop-in (rpc.nfsd {})",
                        if what == "lease" { "-L" } else { "-G" }
                    ),
                }),
                (false, None, Some(v)) => Some(Setting {
                    seconds: v,
                    source: format!("nfs.conf [nfsd] {what}-time"),
                }),
                (false, None, None) => None,
            })
        }
    };
    if running {
        if let (Known::Value(Some(c)), Known::Value(r)) = (&configured, &running_value) {
            if c.seconds != *r {
                problems.push(Problem {
                    severity: "warning",
                    message: format!(
                        "nfsd runs with a {what} time of {r} s, but {} says {} s; the kernel takes a new \
                         value only at the next start",
                        c.source, c.seconds
                    ),
                });
            }
        }
    }
    Timing {
        configured,
        running: running_value,
    }
}

fn grace_of(
    i: &Inputs,
    running: bool,
    started_ago: Option<Duration>,
    own_net: Option<u64>,
    t: Timing,
) -> Grace {
    let sys = i.sys;
    let ended = sys
        .read_to_string(&sys.paths().nfsd("v4_end_grace"))
        .ok()
        .and_then(|s| match s.trim() {
            "Y" => Some(true),
            "N" => Some(false),
            _ => None,
        });
    let log = i.kmsg.as_ref().and_then(|r| r.as_ref().ok()).map(|events| {
        let mine: Vec<kmsg::Event> = events
            .iter()
            .filter(|e| own_net.map_or(true, |n| e.net == n))
            .cloned()
            .collect();
        (mine, i.monotonic)
    });
    let observed = grace::Observed {
        running,
        grace: t.running.value().copied(),
        lease: read_u64(sys, "nfsv4leasetime"),
        ended,
        started_ago,
        log,
    };
    let v = grace::judge(&observed);
    let mut notes = v.why.clone();
    if let Some(Err(e)) = &i.kmsg {
        if running {
            notes.push(format!("the kernel log cannot be read ({e})"));
        }
    }
    let unknown_why = || {
        notes
            .first()
            .cloned()
            .unwrap_or_else(|| "not enough is known".to_string())
    };
    Grace {
        configured: t.configured,
        running: t.running,
        state: v
            .state
            .map_or_else(|| Known::unknown(unknown_why()), Known::Value),
        remaining_s: v.remaining.map_or_else(
            || Known::unknown(unknown_why()),
            |r| Known::Value(round1(r)),
        ),
        latest_end_in_s: v.latest_end_in.map(round1),
        started_ago_s: v.started_ago.map(round1),
        ended_after_s: v.ended_after.map(|x| (x * 1000.0).round() / 1000.0),
        kernel_messages: v.messages,
        notes,
    }
}

fn clients_of(
    sys: &dyn System,
    running: bool,
    tracking: &Result<Option<Tracking>, String>,
) -> Known<Clients> {
    // A stopped nfsd has no clients; nothing to read.
    let list = if running {
        match clients::list(sys, &sys.paths().proc_nfsd) {
            Ok(l) => l,
            Err(e) => return Known::unknown(e),
        }
    } else {
        Vec::new()
    };
    let mut by_status = BTreeMap::new();
    for c in &list {
        *by_status
            .entry(c.status.clone().unwrap_or_else(|| "unknown".into()))
            .or_insert(0) += 1;
    }
    let reclaim = running.then(|| {
        match tracking {
        Ok(Some(t)) => Known::Value(t.reclaim()),
        Ok(None) => Known::unknown(
            "nfsdcld keeps no database in its storagedir (nfsdcld not used: the kernel then tracks \
             clients with nfsdcltrack or v4recovery, which this nfsha does not read)",
        ),
        Err(e) => Known::unknown(e.clone()),
    }
    });
    let list = list
        .into_iter()
        .map(|c| Client {
            reclaim: running.then(|| match tracking {
                Ok(Some(t)) => Known::Value(t.client(&c.name)),
                Ok(None) => Known::unknown("no nfsdcld database"),
                Err(_) => Known::unknown("nfsdcld's database could not be read"),
            }),
            name: c.display_name(),
            id: c.id,
            clientid: c.clientid,
            address: c.address,
            status: c.status,
            minor_version: c.minor_version,
            seconds_since_renew: c.seconds_since_renew,
        })
        .collect();
    Known::Value(Clients {
        total: by_status.values().sum(),
        by_status,
        reclaim,
        list,
    })
}

fn exports_of(i: &Inputs, m: Option<&Markers>, problems: &mut Vec<Problem>) -> Known<Vec<Export>> {
    let lines: Vec<probe::EtabLine> = match i
        .answers
        .get::<Result<Vec<probe::EtabLine>, String>>(Kind::Etab)
    {
        Ok(Ok(l)) => l,
        Ok(Err(e)) | Err(e) => return Known::unknown(e),
    };
    let cluster: BTreeSet<(String, &str)> = m
        .map(|m| {
            m.exports
                .iter()
                .map(|e| (e.directory.display().to_string(), e.client.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let exports: Vec<Export> = lines
        .into_iter()
        .map(|l| Export {
            cluster: cluster.contains(&(l.directory.clone(), l.client.as_str())),
            fsid: l
                .options
                .iter()
                .find_map(|o| o.strip_prefix("fsid="))
                .map(str::to_string),
            directory: l.directory,
            client: l.client,
            options: l.options,
        })
        .collect();
    if let Some(m) = m {
        for ExportMarker { directory, client } in &m.exports {
            let dir = directory.display().to_string();
            if !exports
                .iter()
                .any(|e| e.directory == dir && e.client == *client)
            {
                problems.push(Problem {
                    severity: "error",
                    message: format!(
                        "the exportfs resource for {dir} to {client} is started here, but etab no longer lists the export"
                    ),
                });
            }
        }
    }
    let mut by_fsid: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &exports {
        if let Some(f) = &e.fsid {
            by_fsid
                .entry(f.as_str())
                .or_default()
                .insert(e.directory.as_str());
        }
    }
    for (fsid, dirs) in by_fsid.iter().filter(|(_, d)| d.len() > 1) {
        problems.push(Problem {
            severity: "error",
            message: format!(
                "fsid={fsid} is used by different directories ({}): clients get the wrong files",
                dirs.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    Known::Value(exports)
}

/// The DRBD minors this node uses: mounted here, or nfsstate's.
fn drbd_minors(mounts: &[Mount], m: Option<&Markers>) -> BTreeMap<u32, Vec<String>> {
    let mut used: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for mt in mounts {
        if let Some(minor) = crate::agents::storage::drbd_minor(&mt.source) {
            used.entry(minor)
                .or_default()
                .push(format!("mounted on {}", mt.mount_point.display()));
        }
    }
    for s in m.map(|m| m.states.as_slice()).unwrap_or(&[]) {
        if let Backing::Drbd { minor } = s.backing {
            used.entry(minor)
                .or_default()
                .push(format!("state directory {}", s.directory.display()));
        }
    }
    used
}

/// The minors DRBD 8.4's `/proc/drbd` lists (` 0: cs:…`).
fn minors_in_proc_drbd(text: &str) -> Vec<u32> {
    text.lines()
        .filter_map(|l| l.trim_start().split_once(": cs:"))
        .filter_map(|(n, _)| n.parse().ok())
        .collect()
}

/// The minors `drbdsetup status --json` lists.
fn minors_in_status_json(json: &str) -> Vec<u32> {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .flat_map(|r| {
            r.get("devices")
                .and_then(|d| d.as_array())
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|d| d.get("minor").and_then(|m| m.as_u64()).map(|m| m as u32))
        .collect()
}

fn drbd_of(
    i: &Inputs,
    m: Option<&Markers>,
    cluster_nfsd: bool,
    problems: &mut Vec<Problem>,
) -> Known<Vec<Drbd>> {
    let sys = i.sys;
    let used = drbd_minors(i.mounts.as_deref().unwrap_or(&[]), m);
    let proc_text = sys.read_to_string(&sys.paths().proc_drbd).ok();
    let mut out = Vec::new();
    if let Some(text) = proc_text
        .as_deref()
        .filter(|t| !minors_in_proc_drbd(t).is_empty())
    {
        for minor in minors_in_proc_drbd(text) {
            if let Some(s) = crate::agents::storage::from_proc_drbd(text, minor) {
                out.push(drbd_view(s, &used));
            }
        }
    } else {
        let json: &str = match &i.drbd9 {
            Some(Ok(json)) => json,
            // No DRBD here at all: drbdsetup's complaint is no news.
            _ if used.is_empty() && proc_text.is_none() => return Known::Value(Vec::new()),
            Some(Err(e)) => return Known::unknown(e.clone()),
            None if used.is_empty() => return Known::Value(Vec::new()),
            None => {
                return Known::unknown(format!(
                "DRBD devices are in use here, but {} lists none and drbdsetup is not installed",
                sys.paths().proc_drbd.display()
            ))
            }
        };
        for minor in minors_in_status_json(json) {
            if let Ok(Some(s)) = crate::agents::storage::from_status_json(json, minor) {
                out.push(drbd_view(s, &used));
            }
        }
    }
    for d in &out {
        let state_dir = d.used_for.iter().any(|u| u.starts_with("state directory"));
        if state_dir && cluster_nfsd && d.role != "Primary" {
            problems.push(Problem {
                severity: "error",
                message: format!(
                    "nfsd runs from the state directory on /dev/drbd{}, which is {} here, not Primary",
                    d.minor, d.role
                ),
            });
        }
        if d.role == "Primary" && d.disk.as_deref().is_some_and(|s| s != "UpToDate") {
            problems.push(Problem {
                severity: "warning",
                message: format!(
                    "/dev/drbd{} is Primary here with its disk {}",
                    d.minor,
                    d.disk.as_deref().unwrap_or("?")
                ),
            });
        }
    }
    Known::Value(out)
}

fn drbd_view(s: crate::agents::storage::DrbdState, used: &BTreeMap<u32, Vec<String>>) -> Drbd {
    Drbd {
        minor: s.minor,
        used_for: used.get(&s.minor).cloned().unwrap_or_default(),
        resource: s.resource,
        role: s.role,
        disk: s.disk,
        via: s.via.to_string(),
    }
}

fn unit_of(config: &Result<probe::Config, String>, problems: &mut Vec<Problem>) -> Known<Unit> {
    let c = match config {
        Ok(c) => c,
        Err(e) => return Known::unknown(e.clone()),
    };
    let dropin: Known<Option<probe::DropinView>> = c.dropin.clone().into();
    let no_dropin = matches!(dropin, Known::Value(None));
    if !c.nfs_server_wanted_by.is_empty() && no_dropin && !c.nfs_server_masked {
        problems.push(Problem {
            severity: "warning",
            message: format!(
                "nfs-server.service is enabled at boot ({}) and has no nfsha drop-in: the next boot starts \
                 nfsd outside the cluster, and the cluster then refuses to start the NFS group here. Run \
                 `systemctl disable --now nfs-server` and `nfsha dropin --hostname <server_hostname>`.",
                c.nfs_server_wanted_by.join(", ")
            ),
        });
    }
    Known::Value(Unit {
        wanted_by: c.nfs_server_wanted_by.clone(),
        masked: c.nfs_server_masked,
        dropin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drbd_minors_from_both_interfaces() {
        let p = "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: x\n\n 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n    ns:0 nr:0\n 1: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----\n";
        assert_eq!(minors_in_proc_drbd(p), vec![0, 1]);
        assert!(minors_in_proc_drbd("version: 9.2.4 (api:2/proto:86-122)\n").is_empty());
        let j = r#"[{"name":"nfs","role":"Primary","devices":[{"volume":0,"minor":0},{"volume":1,"minor":1}]}]"#;
        assert_eq!(minors_in_status_json(j), vec![0, 1]);
    }
}
