//! What nfsha's agents leave for each other on this node: one type per
//! marker, loaded and saved only here.
//!
//! A marker says "started here, like this". Markers live in the resource
//! state directory (`HA_RSCTMP`, `/run/resource-agents`), which is empty
//! after a boot, so a stale `etab` or a leftover mount after a reboot never
//! looks like a running resource. On disk a marker is `key=value` lines in
//! `nfsha-<agent>-<key>`; unknown keys are ignored and missing optional ones
//! read as absent, so a marker written by an older nfsha still loads.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::sys::System;

/// The file of the marker of `agent` for `key` (`/` in the key becomes `_`).
fn path(sys: &dyn System, agent: &str, key: &str) -> PathBuf {
    let key: String = key
        .chars()
        .map(|c| if c == '/' { '_' } else { c })
        .collect();
    sys.state_dir().join(format!("nfsha-{agent}-{key}"))
}

fn read_pairs(sys: &dyn System, path: &Path) -> Option<BTreeMap<String, String>> {
    let text = sys.read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn write_pairs(sys: &dyn System, path: &Path, pairs: &[(&str, String)]) -> io::Result<()> {
    let text: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    sys.write(path, text.as_bytes())
}

/// The key/value pairs of every marker whose file name starts with
/// `prefix`, in file name order.
fn all_pairs(sys: &dyn System, prefix: &str) -> Vec<BTreeMap<String, String>> {
    let dir = sys.state_dir();
    let mut names: Vec<String> = sys
        .list_dir(&dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|n| read_pairs(sys, &dir.join(n)))
        .collect()
}

/// Remove a marker; one that is already gone is fine.
fn remove(sys: &dyn System, path: &Path) -> io::Result<()> {
    match sys.remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// How the state directory nfsstate checked is backed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backing {
    /// A DRBD device (`/dev/drbd<minor>`) that was Primary here.
    Drbd { minor: u32 },
    /// Other storage the admin vouched for (`allow_unreplicated=true`).
    Unreplicated { source: String },
}

/// nfsstate: the state directory is ready on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateMarker {
    pub directory: PathBuf,
    pub backing: Backing,
}

impl StateMarker {
    fn file(sys: &dyn System, directory: &Path) -> PathBuf {
        path(sys, "nfsstate", &directory.to_string_lossy())
    }

    pub fn load(sys: &dyn System, directory: &Path) -> Option<StateMarker> {
        Self::from_pairs(&read_pairs(sys, &Self::file(sys, directory))?, directory)
    }

    /// Every state marker on this node, in file name order.
    pub fn all(sys: &dyn System) -> Vec<StateMarker> {
        all_pairs(sys, "nfsha-nfsstate-")
            .iter()
            .filter_map(|m| Self::from_pairs(m, Path::new(m.get("directory")?)))
            .collect()
    }

    fn from_pairs(m: &BTreeMap<String, String>, directory: &Path) -> Option<StateMarker> {
        let backing = m.get("backing")?;
        let backing = match backing.strip_prefix("unreplicated:") {
            Some(source) => Backing::Unreplicated {
                source: source.to_string(),
            },
            None => Backing::Drbd {
                minor: backing.strip_prefix("drbd")?.parse().ok()?,
            },
        };
        Some(StateMarker {
            directory: directory.to_path_buf(),
            backing,
        })
    }

    pub fn save(&self, sys: &dyn System) -> io::Result<()> {
        let backing = match &self.backing {
            Backing::Drbd { minor } => format!("drbd{minor}"),
            Backing::Unreplicated { source } => format!("unreplicated:{source}"),
        };
        write_pairs(
            sys,
            &Self::file(sys, &self.directory),
            &[
                ("directory", self.directory.display().to_string()),
                ("backing", backing),
            ],
        )
    }

    pub fn exists(sys: &dyn System, directory: &Path) -> bool {
        sys.exists(&Self::file(sys, directory))
    }

    pub fn remove(sys: &dyn System, directory: &Path) -> io::Result<()> {
        remove(sys, &Self::file(sys, directory))
    }
}

/// How nfsserver started nfsd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartMode {
    /// rpc.nfsd and the helper daemons started by nfsserver itself.
    Direct,
    /// `nfs-server.service` with the nfsha drop-in.
    Systemd,
}

/// A helper daemon nfsserver started or adopted: its name and pid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Daemon {
    pub name: String,
    pub pid: u32,
}

/// nfsserver: nfsd was started here by the cluster, like this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerMarker {
    pub mode: StartMode,
    /// The host name rpc.nfsd ran under (the NFSv4.1+ server owner).
    pub hostname: String,
    pub daemons: Vec<Daemon>,
    /// The versions offered (`nfs_versions`); empty in a marker of an older
    /// nfsha, which did not record them.
    pub versions: Vec<String>,
    /// nfsstate's directory (`state_directory`); `None` in an older marker.
    pub state_directory: Option<PathBuf>,
}

impl ServerMarker {
    fn file(sys: &dyn System) -> PathBuf {
        path(sys, "nfsserver", "state")
    }

    pub fn load(sys: &dyn System) -> Option<ServerMarker> {
        let m = read_pairs(sys, &Self::file(sys))?;
        let mode = match m.get("mode").map(String::as_str) {
            Some("direct") => StartMode::Direct,
            _ => StartMode::Systemd,
        };
        let list = |k: &str| -> Vec<String> {
            m.get(k)
                .map(|v| {
                    v.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let daemons = list("pids")
            .iter()
            .filter_map(|e| e.split_once(':'))
            .filter_map(|(n, p)| {
                Some(Daemon {
                    name: n.to_string(),
                    pid: p.parse().ok()?,
                })
            })
            .collect();
        Some(ServerMarker {
            mode,
            hostname: m.get("hostname").cloned().unwrap_or_default(),
            daemons,
            versions: list("versions"),
            state_directory: m
                .get("state_directory")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
        })
    }

    pub fn save(&self, sys: &dyn System) -> io::Result<()> {
        let pids: Vec<String> = self
            .daemons
            .iter()
            .map(|d| format!("{}:{}", d.name, d.pid))
            .collect();
        let mode = match self.mode {
            StartMode::Direct => "direct",
            StartMode::Systemd => "systemd",
        };
        write_pairs(
            sys,
            &Self::file(sys),
            &[
                ("mode", mode.to_string()),
                ("hostname", self.hostname.clone()),
                ("pids", pids.join(",")),
                ("versions", self.versions.join(",")),
                (
                    "state_directory",
                    self.state_directory
                        .as_ref()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default(),
                ),
            ],
        )
    }

    pub fn exists(sys: &dyn System) -> bool {
        sys.exists(&Self::file(sys))
    }

    pub fn remove(sys: &dyn System) -> io::Result<()> {
        remove(sys, &Self::file(sys))
    }

    /// NFSv3 is offered, so its clients must be told after a failover.
    pub fn offers_v3(&self) -> bool {
        self.versions.iter().any(|v| v == "3")
    }
}

/// exportfs: this directory is exported to this client by the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportMarker {
    pub directory: PathBuf,
    /// The client as etab lists it (IPv6 without brackets).
    pub client: String,
}

const EXPORT_PREFIX: &str = "nfsha-exportfs-";

impl ExportMarker {
    fn file(&self, sys: &dyn System) -> PathBuf {
        path(
            sys,
            "exportfs",
            &format!("{}@{}", self.client, self.directory.display()),
        )
    }

    pub fn save(&self, sys: &dyn System) -> io::Result<()> {
        write_pairs(
            sys,
            &self.file(sys),
            &[
                ("directory", self.directory.display().to_string()),
                ("client", self.client.clone()),
            ],
        )
    }

    pub fn exists(&self, sys: &dyn System) -> bool {
        sys.exists(&self.file(sys))
    }

    pub fn remove(&self, sys: &dyn System) -> io::Result<()> {
        remove(sys, &self.file(sys))
    }

    /// Every export marker on this node, in file name order.
    pub fn all(sys: &dyn System) -> Vec<ExportMarker> {
        all_pairs(sys, EXPORT_PREFIX)
            .into_iter()
            .filter_map(|m| {
                Some(ExportMarker {
                    directory: PathBuf::from(m.get("directory")?),
                    client: m.get("client")?.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::Fake;

    #[test]
    fn state_marker_round_trip_and_the_file_older_versions_wrote() {
        let f = Fake::new();
        let dir = Path::new("/srv/nfs-state");
        assert_eq!(StateMarker::load(&f, dir), None);
        let m = StateMarker {
            directory: dir.into(),
            backing: Backing::Drbd { minor: 3 },
        };
        m.save(&f).unwrap();
        assert_eq!(
            f.file_content("/run/resource-agents/nfsha-nfsstate-_srv_nfs-state")
                .as_deref(),
            Some("directory=/srv/nfs-state\nbacking=drbd3\n")
        );
        assert_eq!(StateMarker::load(&f, dir), Some(m));
        assert!(StateMarker::exists(&f, dir));
        let u = StateMarker {
            directory: dir.into(),
            backing: Backing::Unreplicated {
                source: "/dev/sdb1".into(),
            },
        };
        u.save(&f).unwrap();
        assert_eq!(StateMarker::load(&f, dir), Some(u));
        StateMarker::remove(&f, dir).unwrap();
        StateMarker::remove(&f, dir).unwrap();
        assert!(!StateMarker::exists(&f, dir));
        f.file(
            "/run/resource-agents/nfsha-nfsstate-_srv_nfs-state",
            "backing=garbage\n",
        );
        assert_eq!(StateMarker::load(&f, dir), None);
    }

    #[test]
    fn server_marker_round_trip_and_an_older_marker() {
        let f = Fake::new();
        let m = ServerMarker {
            mode: StartMode::Direct,
            hostname: "nfs-ha".into(),
            daemons: vec![
                Daemon {
                    name: "rpc.mountd".into(),
                    pid: 41,
                },
                Daemon {
                    name: "rpc.statd".into(),
                    pid: 42,
                },
            ],
            versions: vec!["3".into(), "4.2".into()],
            state_directory: Some("/srv/nfs-state".into()),
        };
        m.save(&f).unwrap();
        assert_eq!(ServerMarker::load(&f), Some(m.clone()));
        assert!(m.offers_v3());
        // Written by nfsha before versions and the directory were recorded.
        f.file(
            "/run/resource-agents/nfsha-nfsserver-state",
            "mode=systemd\nhostname=nfs-ha\npids=rpc.mountd:7,bad,nfsdcld:x\n",
        );
        let old = ServerMarker::load(&f).unwrap();
        assert_eq!(old.mode, StartMode::Systemd);
        assert_eq!(
            old.daemons,
            vec![Daemon {
                name: "rpc.mountd".into(),
                pid: 7
            }]
        );
        assert!(old.versions.is_empty() && old.state_directory.is_none());
        assert!(!old.offers_v3());
        ServerMarker::remove(&f).unwrap();
        assert!(!ServerMarker::exists(&f));
    }

    #[test]
    fn export_markers_are_listed_in_order() {
        let f = Fake::new();
        assert!(ExportMarker::all(&f).is_empty());
        let a = ExportMarker {
            directory: "/srv/b".into(),
            client: "192.0.2.0/24".into(),
        };
        let b = ExportMarker {
            directory: "/srv/a".into(),
            client: "2001:db8::/64".into(),
        };
        a.save(&f).unwrap();
        b.save(&f).unwrap();
        f.file("/run/resource-agents/nfsha-nfsstate-x", "backing=drbd0\n");
        f.file("/run/resource-agents/nfsha-exportfs-broken", "client=x\n");
        assert_eq!(ExportMarker::all(&f), vec![a.clone(), b.clone()]);
        assert!(a.exists(&f));
        a.remove(&f).unwrap();
        assert_eq!(ExportMarker::all(&f), vec![b]);
    }

    #[test]
    fn state_markers_are_listed_by_the_directory_they_record() {
        let f = Fake::new();
        assert!(StateMarker::all(&f).is_empty());
        let a = StateMarker {
            directory: "/srv/nfs state".into(),
            backing: Backing::Drbd { minor: 0 },
        };
        let b = StateMarker {
            directory: "/var/lib/nfs-ha".into(),
            backing: Backing::Unreplicated {
                source: "/dev/sdb1".into(),
            },
        };
        a.save(&f).unwrap();
        b.save(&f).unwrap();
        // No directory recorded, or no backing: not a marker to list.
        f.file("/run/resource-agents/nfsha-nfsstate-old", "backing=drbd1\n");
        f.file("/run/resource-agents/nfsha-nfsstate-y", "directory=/y\n");
        f.file("/run/resource-agents/nfsha-exportfs-x", "directory=/x\n");
        assert_eq!(StateMarker::all(&f), vec![a.clone(), b]);
        StateMarker::remove(&f, Path::new("/var/lib/nfs-ha")).unwrap();
        assert_eq!(StateMarker::all(&f), vec![a]);
    }
}
