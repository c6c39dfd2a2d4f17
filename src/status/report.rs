//! What `nfsha status` reports: the types behind `--json` (schema
//! `nfsha-status/1`, documented field by field in docs/status.md) and the
//! human rendering's input.
//!
//! The schema is stable: fields may be added, never renamed, removed or
//! changed in meaning without a new schema name. A value nfsha could not
//! read is `{"unknown": "<reason>"}` in place of the value, never a guess.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::grace::State;
use super::nfsdcld::{ClientReclaim, Reclaim};

/// The schema name, first in every JSON report.
pub const SCHEMA: &str = "nfsha-status/1";

/// A value, or why it is not known.
#[derive(Clone, Debug, PartialEq)]
pub enum Known<T> {
    Value(T),
    Unknown(String),
}

impl<T> Known<T> {
    pub fn unknown(why: impl Into<String>) -> Known<T> {
        Known::Unknown(why.into())
    }
    pub fn value(&self) -> Option<&T> {
        match self {
            Known::Value(v) => Some(v),
            Known::Unknown(_) => None,
        }
    }
    pub fn why(&self) -> Option<&str> {
        match self {
            Known::Value(_) => None,
            Known::Unknown(w) => Some(w),
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Known<U> {
        match self {
            Known::Value(v) => Known::Value(f(v)),
            Known::Unknown(w) => Known::Unknown(w),
        }
    }
}

impl<T> From<Result<T, String>> for Known<T> {
    fn from(r: Result<T, String>) -> Known<T> {
        match r {
            Ok(v) => Known::Value(v),
            Err(w) => Known::Unknown(w),
        }
    }
}

impl<T: Serialize> Serialize for Known<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Known::Value(v) => v.serialize(s),
            Known::Unknown(why) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("unknown", why)?;
                m.end()
            }
        }
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// This node's host name (its own UTS name, not the NFS service's).
    pub node: String,
    /// Wall-clock time of the report, seconds since the Unix epoch.
    pub unix_time: i64,
    /// How long collecting the report took.
    pub elapsed_ms: u64,
    /// The NFS server side; `null` on a node with no sign of one (no nfsd
    /// control files, no nfsha resource markers, no drop-in).
    pub server: Option<Server>,
    /// The KVM-host storage heartbeat; `null` when it is not configured.
    pub kvm_host: Option<KvmHost>,
    /// What needs the admin's attention, worst first.
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// `error` (the service is at risk or wrong now) or `warning`.
    pub severity: &'static str,
    pub message: String,
}

/// The NFS server on this node.
#[derive(Clone, Debug, Serialize)]
pub struct Server {
    pub nfsd: Nfsd,
    /// The nfsha resources active on this node, from the markers the agents
    /// leave in the resource state directory (tmpfs; empty after a boot).
    pub resources: Known<Vec<Resource>>,
    /// The NFSv4.1+ server owner and scope nfsd presents; `null` while nfsd
    /// does not run.
    pub scope: Option<Known<Scope>>,
    pub lease: Timing,
    pub grace: Grace,
    pub clients: Known<Clients>,
    pub exports: Known<Vec<Export>>,
    pub drbd: Known<Vec<Drbd>>,
    /// The connection records the vip agent keeps for tickling.
    pub connections: Known<Vec<ConnectionRecord>>,
    pub nfs_server_unit: Known<Unit>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Nfsd {
    /// `running` (threads > 0), `stopped` (nfsd loaded, no threads) or
    /// `not-loaded` (no nfsd control files).
    pub state: &'static str,
    pub threads: Known<u32>,
    /// `cluster` (an nfsha nfsserver started it: its marker exists),
    /// `outside-cluster` (it runs without one: e.g. the nfs-server Debian
    /// starts at install) or `none` (not running).
    pub started_by: Known<&'static str>,
    /// How the cluster started it: `systemd` or `direct`.
    pub start_mode: Option<String>,
    /// The NFS versions nfsd offers (`/proc/fs/nfsd/versions`).
    pub versions: Known<Vec<String>>,
    /// The network namespace this nfsd serves.
    pub namespace: Namespace,
    /// Seconds since nfsd started (its oldest kernel thread); `null` while
    /// it does not run.
    pub started_ago_s: Option<Known<f64>>,
    /// The NFS daemons that run (rpc.mountd, nfsdcld, rpc.statd, …).
    pub daemons: Known<Vec<Daemon>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Namespace {
    /// `default` for the host's own network namespace, else its name in
    /// `/run/netns` or `net:[<inode>]`.
    pub name: String,
    pub net_inode: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Daemon {
    pub name: String,
    pub pid: u32,
    /// The kernel's process state letter (`S`, `R`, `D` = stuck in I/O).
    pub state: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Resource {
    /// The agent: `nfsstate`, `nfsserver`, `exportfs`.
    pub agent: String,
    /// What it manages here, in the agent's own terms.
    pub what: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Scope {
    pub name: String,
    /// Where the name comes from.
    pub source: String,
}

/// A lease or grace time, configured and in effect.
#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    /// What this node's files set for the next start; `null` when no file
    /// here sets it (the nfsserver resource's own parameter applies in
    /// direct mode, the kernel's value otherwise).
    pub configured: Known<Option<Setting>>,
    /// Seconds, from `/proc/fs/nfsd` (in effect while nfsd runs; the value
    /// the next start uses while it does not).
    pub running: Known<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Setting {
    pub seconds: u64,
    pub source: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Grace {
    /// As in [`Timing`].
    pub configured: Known<Option<Setting>>,
    pub running: Known<u64>,
    pub state: Known<State>,
    /// Seconds of grace left at the grace time (0 once past it or over).
    pub remaining_s: Known<f64>,
    /// Seconds until grace ends at the latest while clients keep reclaiming
    /// (the kernel stops extending it two lease times after the start).
    pub latest_end_in_s: Option<f64>,
    /// Seconds since grace started (the nfsd start).
    pub started_ago_s: Option<f64>,
    /// Seconds after the start at which the kernel ended grace early.
    pub ended_after_s: Option<f64>,
    /// The kernel's log messages about this grace period.
    pub kernel_messages: Vec<String>,
    /// Why a figure above is missing.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Clients {
    pub total: usize,
    /// Clients by nfsd's status (`confirmed`, `courtesy`, …).
    pub by_status: BTreeMap<String, usize>,
    /// Who has reclaimed, from nfsdcld's database; `null` while nfsd does
    /// not run.
    pub reclaim: Option<Known<Reclaim>>,
    pub list: Vec<Client>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Client {
    /// The directory under `/proc/fs/nfsd/clients/`.
    pub id: String,
    pub clientid: Option<String>,
    pub address: Option<String>,
    pub status: Option<String>,
    /// The client owner string (unprintable bytes as `\xHH`).
    pub name: String,
    pub minor_version: Option<u32>,
    pub seconds_since_renew: Option<u64>,
    /// `null` while nfsd does not run.
    pub reclaim: Option<Known<ClientReclaim>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Export {
    pub directory: String,
    pub client: String,
    pub fsid: Option<String>,
    pub options: Vec<String>,
    /// An nfsha exportfs resource exported it (its marker exists).
    pub cluster: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Drbd {
    pub minor: u32,
    pub resource: Option<String>,
    pub role: String,
    pub disk: Option<String>,
    /// What it is used for here (`state directory`, a mount point).
    pub used_for: Vec<String>,
    /// Which interface answered (`/proc/drbd`, `drbdsetup status --json`).
    pub via: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConnectionRecord {
    pub address: String,
    /// The record on the replicated state directory.
    pub file: Option<String>,
    /// Connections recorded: the clients the next owner of the address tickles.
    pub connections: Known<Vec<String>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Unit {
    /// The targets that start nfs-server.service at boot (empty when it
    /// is disabled).
    pub wanted_by: Vec<String>,
    pub masked: bool,
    /// The nfsha drop-in: what it starts rpc.nfsd with.
    pub dropin: Known<Option<super::probe::DropinView>>,
}

/// The KVM-host side.
#[derive(Clone, Debug, Serialize)]
pub struct KvmHost {
    pub config: String,
    /// The heartbeat daemon's status, exactly as `nfsha heartbeat status
    /// --json` prints it.
    pub heartbeat: Known<serde_json::Value>,
    /// Every storage renews and no fence decision stands.
    pub healthy: Known<bool>,
    /// Seconds since the daemon last wrote its status, when that is too long
    /// (the daemon is stopped or hung).
    pub stale_s: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_carry_their_reason_in_place() {
        let k: Known<u32> = Known::unknown("etab: timed out");
        assert_eq!(
            serde_json::to_string(&k).unwrap(),
            r#"{"unknown":"etab: timed out"}"#
        );
        assert_eq!(serde_json::to_string(&Known::Value(7u32)).unwrap(), "7");
    }
}
