//! Where the NFSv4 client-tracking state lives, and whether this node may
//! use it: the mount that holds the state directory, the DRBD device under
//! it and that device's role here, and the directory's layout (its
//! subdirectories and the nfs.conf lines that point nfs-utils there).
//! Shared by `nfsstate` (which sets the state up) and `nfsserver` (which must
//! not start nfsd on a state directory this node does not own).
//!
//! DRBD 9 answers through `drbdsetup status --json`; DRBD 8.4 (the mainline
//! module in Debian's kernel) through `/proc/drbd` and `drbdadm role`.

use std::path::Path;
use std::time::Duration;

use crate::nfs::NfsConf;
use crate::ocf::{OcfError, OcfResult, Rc};
use crate::sys::mounts::{self, Mount};
use crate::sys::{Cmd, Deadline, System};

/// The state directory's subdirectories: (name, owned by the statd user).
/// nfsdcld(8): its storage directory "should be owned by root".
pub const SUBDIRS: &[(&str, bool)] = &[
    ("nfsdcld", false),
    ("nfsdcltrack", false),
    ("v4recovery", false),
    ("statd", true),
    ("statd/sm", true),
    ("statd/sm.bak", true),
];

/// The nfs.conf settings a state directory needs on every node, as
/// (section, key, value): nfsdcld and nfsdcltrack keep their client records
/// there.
pub fn wanted_nfs_conf(dir: &Path) -> Vec<(&'static str, &'static str, String)> {
    let d = dir.display();
    vec![
        ("nfsdcld", "storagedir", format!("{d}/nfsdcld")),
        ("nfsdcltrack", "storagedir", format!("{d}/nfsdcltrack")),
    ]
}

/// The nfs.conf lines that do not send nfsdcld and nfsdcltrack to `dir`,
/// each as `[section] key=wanted (now …)`; `get` reads a section's key (the
/// lint passes its own view of nfs.conf, so both refuse the same file).
pub fn nfs_conf_wrong(get: &dyn Fn(&str, &str) -> Option<String>, dir: &Path) -> Vec<String> {
    wanted_nfs_conf(dir)
        .into_iter()
        .filter(|(s, k, v)| get(s, k).as_deref() != Some(v.as_str()))
        .map(|(s, k, v)| {
            format!(
                "[{s}] {k}={v} (now {})",
                get(s, k).unwrap_or_else(|| "unset, i.e. under /var/lib/nfs".into())
            )
        })
        .collect()
}

/// Check that nfs.conf sends nfsdcld and nfsdcltrack to `dir`: an error
/// (`OCF_ERR_ARGS`, wrong for this node only) that lists the lines to set.
pub fn check_nfs_conf(sys: &dyn System, conf: &NfsConf, dir: &Path) -> OcfResult {
    let wrong = nfs_conf_wrong(&|s, k| conf.get(s, k).map(str::to_string), dir);
    if wrong.is_empty() {
        return Ok(());
    }
    Err(OcfError::new(
        Rc::ErrArgs,
        format!(
            "{} on this node does not keep the client-tracking state in {}; set {}",
            sys.paths().nfs_conf.display(),
            dir.display(),
            wrong.join(" and ")
        ),
    ))
}

/// statd keeps its state (and its working directory) below `dir`, per
/// nfs.conf `[statd] state-directory-path`.
pub fn statd_uses(conf: &NfsConf, dir: &Path) -> bool {
    conf.get("statd", "state-directory-path")
        .is_some_and(|p| Path::new(p).starts_with(dir))
}

/// What DRBD says about one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrbdState {
    pub minor: u32,
    /// The resource name when the source says it.
    pub resource: Option<String>,
    /// `Primary`, `Secondary`, `Unknown`.
    pub role: String,
    /// Local disk state (`UpToDate`, `Diskless`, …) when known.
    pub disk: Option<String>,
    /// Which interface answered.
    pub via: &'static str,
}

/// The DRBD minor of a device path named like the kernel names DRBD devices
/// (`/dev/drbd0`; mount(8) records `/dev/drbd/by-res/…` symlinks under
/// their target).
pub fn drbd_minor(source: &str) -> Option<u32> {
    let name = Path::new(source).file_name()?.to_str()?;
    let n = name.strip_prefix("drbd")?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| n.parse().ok())
        .flatten()
}

/// Find minor `minor` in `drbdsetup status --json` output.
pub fn from_status_json(json: &str, minor: u32) -> Result<Option<DrbdState>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("unreadable JSON: {e}"))?;
    let resources = v.as_array().ok_or("expected a JSON array of resources")?;
    for r in resources {
        let devices = r.get("devices").and_then(|d| d.as_array());
        for d in devices.into_iter().flatten() {
            if d.get("minor").and_then(|m| m.as_u64()) == Some(u64::from(minor)) {
                return Ok(Some(DrbdState {
                    minor,
                    resource: r.get("name").and_then(|n| n.as_str()).map(str::to_string),
                    role: r
                        .get("role")
                        .and_then(|x| x.as_str())
                        .unwrap_or("Unknown")
                        .to_string(),
                    disk: d
                        .get("disk-state")
                        .and_then(|x| x.as_str())
                        .map(str::to_string),
                    via: "drbdsetup status --json",
                }));
            }
        }
    }
    Ok(None)
}

/// Find minor `minor` in DRBD 8.4's `/proc/drbd`
/// (` 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----`).
pub fn from_proc_drbd(text: &str, minor: u32) -> Option<DrbdState> {
    let prefix = format!("{minor}:");
    let line = text.lines().find(|l| l.trim_start().starts_with(&prefix))?;
    let field = |key: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(key))
            .and_then(|v| v.split('/').next())
            .map(str::to_string)
    };
    Some(DrbdState {
        minor,
        resource: None,
        role: field("ro:").unwrap_or_else(|| "Unknown".into()),
        disk: field("ds:"),
        via: "/proc/drbd",
    })
}

/// Ask DRBD for the state of minor `minor`. `resource` (the `drbd_resource`
/// parameter) lets DRBD 8.4 fall back to `drbdadm role` and is checked
/// against the resource DRBD 9 reports.
pub fn drbd_state(
    sys: &dyn System,
    deadline: Deadline,
    minor: u32,
    resource: Option<&str>,
) -> Result<DrbdState, String> {
    let step = deadline.within(sys, Duration::from_secs(5));
    let mut tried = Vec::new();
    // DRBD 8.4 lists every minor in /proc/drbd: a file read, no process.
    // DRBD 9's /proc/drbd holds only its version, so it falls through.
    match sys.read_to_string(&sys.paths().proc_drbd) {
        Ok(text) => match from_proc_drbd(&text, minor) {
            Some(s) => return Ok(s),
            None => tried.push(format!(
                "{} lists no minor {minor}",
                sys.paths().proc_drbd.display()
            )),
        },
        Err(e) => tried.push(format!("{}: {e}", sys.paths().proc_drbd.display())),
    }
    if sys.has_program("drbdsetup") {
        match sys.run(&Cmd::new("drbdsetup").args(["status", "--json"]), step) {
            Ok(out) if out.success() => match from_status_json(&out.stdout, minor)? {
                Some(s) => {
                    if let (Some(want), Some(got)) = (resource, s.resource.as_deref()) {
                        if want != got {
                            return Err(format!(
                                "drbd_resource={want:?} does not match: /dev/drbd{minor} belongs to DRBD resource {got:?}"
                            ));
                        }
                    }
                    return Ok(s);
                }
                None => tried.push(format!("drbdsetup status --json lists no minor {minor}")),
            },
            Ok(out) => tried.push(format!("drbdsetup status --json: {}", out.failure_text())),
            Err(e) => tried.push(e.to_string()),
        }
    }
    if let Some(res) = resource {
        if sys.has_program("drbdadm") {
            match sys.run(&Cmd::new("drbdadm").args(["role", res]), step) {
                Ok(out) if out.success() => {
                    let role = out
                        .stdout
                        .trim()
                        .split('/')
                        .next()
                        .unwrap_or("Unknown")
                        .to_string();
                    return Ok(DrbdState {
                        minor,
                        resource: Some(res.to_string()),
                        role,
                        disk: None,
                        via: "drbdadm role",
                    });
                }
                Ok(out) => tried.push(format!("drbdadm role {res}: {}", out.failure_text())),
                Err(e) => tried.push(e.to_string()),
            }
        }
    }
    Err(format!(
        "DRBD does not know /dev/drbd{minor} ({})",
        if tried.is_empty() {
            "no DRBD tools installed and no /proc/drbd".to_string()
        } else {
            tried.join("; ")
        }
    ))
}

/// How the state directory is backed, once checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backing {
    Drbd(DrbdState),
    /// Another kind of storage the admin vouched for (`allow_unreplicated`).
    Unreplicated {
        source: String,
    },
}

/// Why a state directory cannot be used on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Nothing is mounted at or above it except `/`: the filesystem that
    /// should carry it is not mounted (yet).
    NotMounted(String),
    /// A DRBD device, but not Primary here (or DRBD cannot tell).
    NotPrimary(String),
    /// Local, non-replicated storage.
    Unreplicated(String),
    /// Mounted read-only.
    ReadOnly(String),
    /// The mount table could not be read.
    Unreadable(String),
}

impl Problem {
    pub fn message(&self) -> &str {
        match self {
            Problem::NotMounted(m)
            | Problem::NotPrimary(m)
            | Problem::Unreplicated(m)
            | Problem::ReadOnly(m)
            | Problem::Unreadable(m) => m,
        }
    }
}

/// The mount table of this node.
pub fn mount_table(sys: &dyn System) -> Result<Vec<Mount>, Problem> {
    let path = sys.paths().mountinfo.clone();
    sys.read_to_string(&path)
        .map(|t| mounts::parse(&t))
        .map_err(|e| Problem::Unreadable(format!("cannot read {}: {e}", path.display())))
}

/// Check that `dir` sits on a mounted, writable filesystem on a DRBD device
/// that is Primary here (or, with `allow_unreplicated`, on any mounted
/// filesystem other than `/`). `known` is DRBD's answer for a device the
/// caller asked about moments ago (nfsstate, right before mounting): it is
/// used for that device instead of asking again.
pub fn check_state_dir(
    sys: &dyn System,
    deadline: Deadline,
    dir: &Path,
    resource: Option<&str>,
    allow_unreplicated: bool,
    known: Option<&DrbdState>,
) -> Result<(Mount, Backing), Problem> {
    let table = mount_table(sys)?;
    let m = match mounts::containing(&table, dir) {
        Some(m) if m.mount_point != Path::new("/") => m.clone(),
        _ => {
            return Err(Problem::NotMounted(format!(
                "{} is not on a mounted filesystem (only on /)",
                dir.display()
            )))
        }
    };
    if !m.is_rw() {
        return Err(Problem::ReadOnly(format!(
            "{} ({} on {}) is mounted read-only",
            dir.display(),
            m.source,
            m.mount_point.display()
        )));
    }
    match drbd_minor(&m.source) {
        Some(minor) => {
            let state = match known.filter(|k| k.minor == minor) {
                Some(k) => k.clone(),
                None => drbd_state(sys, deadline, minor, resource).map_err(Problem::NotPrimary)?,
            };
            if state.role != "Primary" {
                return Err(Problem::NotPrimary(format!(
                    "{} is on {} (mounted on {}), which is {} on this node (per {})",
                    dir.display(),
                    m.source,
                    m.mount_point.display(),
                    state.role,
                    state.via
                )));
            }
            Ok((m, Backing::Drbd(state)))
        }
        None if allow_unreplicated => {
            let source = m.source.clone();
            Ok((m, Backing::Unreplicated { source }))
        }
        None => Err(Problem::Unreplicated(format!(
            "{} is on {} ({}, mounted on {}), which is not a DRBD device: client state kept there \
             does not move to the other node, so clients could not reclaim their locks after a \
             failover; put it on DRBD, or set allow_unreplicated=true if that storage is shared \
             some other way (SAN, multipath)",
            dir.display(),
            m.source,
            m.fstype,
            m.mount_point.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::{fail, ok, Fake};

    const JSON: &str = r#"[{"name":"nfs","node-id":0,"role":"Primary","suspended":false,
        "devices":[{"volume":0,"minor":0,"disk-state":"UpToDate"},{"volume":1,"minor":3,"disk-state":"UpToDate"}]},
        {"name":"other","role":"Secondary","devices":[{"volume":0,"minor":1,"disk-state":"UpToDate"}]}]"#;
    const PROC84: &str = "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: X\n\n 0: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n    ns:0 nr:0\n 1: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n";

    #[test]
    fn drbd_device_names() {
        assert_eq!(drbd_minor("/dev/drbd0"), Some(0));
        assert_eq!(drbd_minor("/dev/drbd12"), Some(12));
        assert_eq!(drbd_minor("/tmp/t/dev/drbd7"), Some(7));
        assert_eq!(drbd_minor("/dev/sda1"), None);
        assert_eq!(drbd_minor("/dev/drbd"), None);
        assert_eq!(drbd_minor("/dev/drbd0p1"), None);
    }

    #[test]
    fn drbd9_json() {
        let s = from_status_json(JSON, 3).unwrap().unwrap();
        assert_eq!(
            (s.role.as_str(), s.resource.as_deref()),
            ("Primary", Some("nfs"))
        );
        let s = from_status_json(JSON, 1).unwrap().unwrap();
        assert_eq!(s.role, "Secondary");
        assert!(from_status_json(JSON, 9).unwrap().is_none());
        assert!(from_status_json("nope", 0).is_err());
    }

    #[test]
    fn drbd84_proc() {
        let s = from_proc_drbd(PROC84, 1).unwrap();
        assert_eq!(
            (s.role.as_str(), s.disk.as_deref()),
            ("Primary", Some("UpToDate"))
        );
        assert_eq!(from_proc_drbd(PROC84, 0).unwrap().role, "Secondary");
        assert!(from_proc_drbd(PROC84, 2).is_none());
    }

    fn dl() -> Deadline {
        Deadline::after(&Fake::new(), Duration::from_secs(5))
    }

    #[test]
    fn drbd9_first_then_84_then_drbdadm() {
        let f = Fake::new().with_programs(&["drbdsetup", "drbdadm"]);
        f.respond(|c| (c.program == "drbdsetup").then(|| ok(JSON)).flatten());
        assert_eq!(
            drbd_state(&f, dl(), 0, Some("nfs")).unwrap().role,
            "Primary"
        );
        let e = drbd_state(&f, dl(), 0, Some("data")).unwrap_err();
        assert!(e.contains("drbd_resource=\"data\" does not match"), "{e}");

        // DRBD 8.4: drbdsetup has no --json; /proc/drbd answers.
        let f = Fake::new().with_programs(&["drbdsetup", "drbdadm"]);
        f.respond(|c| {
            (c.program == "drbdsetup")
                .then(|| fail(20, "unrecognized option '--json'"))
                .flatten()
        });
        f.file("/proc/drbd", PROC84);
        let s = drbd_state(&f, dl(), 1, None).unwrap();
        assert_eq!((s.role.as_str(), s.via), ("Primary", "/proc/drbd"));

        // Not in /proc/drbd either: drbdadm role for the named resource.
        f.respond(|c| {
            (c.program == "drbdadm")
                .then(|| ok("Primary/Secondary\n"))
                .flatten()
        });
        let s = drbd_state(&f, dl(), 5, Some("nfs")).unwrap();
        assert_eq!((s.role.as_str(), s.via), ("Primary", "drbdadm role"));
        assert!(f.commands().contains(&"drbdadm role nfs".to_string()));
        let e = drbd_state(&f, dl(), 5, None).unwrap_err();
        assert!(e.contains("DRBD does not know /dev/drbd5"), "{e}");
    }

    fn fake_mounts(extra: &str) -> Fake {
        let f = Fake::new().with_programs(&["drbdsetup"]);
        f.file(
            "/proc/self/mountinfo",
            &format!("22 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw\n{extra}"),
        );
        f.respond(|c| (c.program == "drbdsetup").then(|| ok(JSON)).flatten());
        f
    }

    #[test]
    fn state_dir_decisions() {
        let dir = Path::new("/srv/nfs-state");
        let f = fake_mounts("");
        assert!(matches!(
            check_state_dir(&f, dl(), dir, None, false, None),
            Err(Problem::NotMounted(_))
        ));
        // Even allow_unreplicated does not make / acceptable: it never moves.
        assert!(matches!(
            check_state_dir(&f, dl(), dir, None, true, None),
            Err(Problem::NotMounted(_))
        ));

        let f = fake_mounts("40 22 147:0 / /srv/nfs-state rw - ext4 /dev/drbd0 rw\n");
        let (m, b) = check_state_dir(&f, dl(), dir, Some("nfs"), false, None).unwrap();
        assert_eq!(m.source, "/dev/drbd0");
        assert!(matches!(b, Backing::Drbd(ref s) if s.role == "Primary"));

        let f = fake_mounts("40 22 147:1 / /srv/nfs-state rw - ext4 /dev/drbd1 rw\n");
        let e = check_state_dir(&f, dl(), dir, None, false, None).unwrap_err();
        assert!(matches!(e, Problem::NotPrimary(_)));
        assert!(
            e.message().contains("which is Secondary on this node"),
            "{}",
            e.message()
        );

        let f = fake_mounts("40 22 8:17 / /srv/nfs-state rw - ext4 /dev/sdb1 rw\n");
        let e = check_state_dir(&f, dl(), dir, None, false, None).unwrap_err();
        assert!(matches!(e, Problem::Unreplicated(_)));
        assert!(e.message().contains("allow_unreplicated=true"));
        assert!(matches!(
            check_state_dir(&f, dl(), dir, None, true, None).unwrap().1,
            Backing::Unreplicated { .. }
        ));

        // DRBD that cannot tell (Unknown, or any role but Primary) is not Primary.
        for role in ["Unknown", "primary", "Primary/Secondary", ""] {
            let f = Fake::new().with_programs(&["drbdsetup"]);
            f.file(
                "/proc/self/mountinfo",
                "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n40 22 147:0 / /srv/nfs-state rw - ext4 /dev/drbd0 rw\n",
            );
            let json = format!(r#"[{{"name":"nfs","role":"{role}","devices":[{{"minor":0}}]}}]"#);
            f.respond(move |c| (c.program == "drbdsetup").then(|| ok(&json)).flatten());
            let e = check_state_dir(&f, dl(), dir, None, false, None).unwrap_err();
            assert!(matches!(e, Problem::NotPrimary(_)), "{role}: {e:?}");
        }
        let e = from_status_json(r#"[{"name":"nfs","devices":[{"minor":0}]}]"#, 0)
            .unwrap()
            .unwrap();
        assert_eq!(e.role, "Unknown", "no role reported");

        let f = fake_mounts("40 22 147:0 / /srv/nfs-state ro - ext4 /dev/drbd0 ro\n");
        assert!(matches!(
            check_state_dir(&f, dl(), dir, None, false, None),
            Err(Problem::ReadOnly(_))
        ));
    }
}
