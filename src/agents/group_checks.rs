//! Every run-time check that the NFS group is ordered right on this node.
//!
//! Each agent asks, before it changes anything, whether the members it
//! depends on are in the state the group order promises (`nfsstate` →
//! `nfsserver` → `exportfs` → `vip`). A failed check at start is an error
//! (exit 1) whose reason begins with "ordering:"; at stop it is only a
//! warning, because a failed stop gets the node fenced.

use std::path::Path;

use crate::agents::storage;
use crate::nfs::markers::{Backing, ExportMarker, StateMarker};
use crate::nfs::{etab, nfsd};
use crate::ocf::{Ctx, OcfError, OcfResult};
use crate::sys::mounts;

/// Before `nfsserver` starts nfsd: nfsstate's directory is mounted,
/// writable and on a DRBD device that is Primary here (or on storage
/// nfsstate accepted with `allow_unreplicated`): nfsd started without its
/// client record would refuse every reclaim.
pub fn before_nfsserver_start(ctx: &Ctx, state_dir: &Path) -> OcfResult {
    let unreplicated_ok = StateMarker::load(ctx.sys, state_dir)
        .is_some_and(|m| matches!(m.backing, Backing::Unreplicated { .. }));
    storage::check_state_dir(
        ctx.sys,
        ctx.deadline,
        state_dir,
        None,
        unreplicated_ok,
        None,
    )
    .map(|_| ())
    .map_err(|p| {
        OcfError::ordering(format!(
            "{}; nfsstate must be started before nfsserver",
            p.message()
        ))
    })
}

/// Before `exportfs` adds an export: nfsd runs, and `dir` is a mount point
/// or inside one other than `/` (exporting the empty directory under a
/// missing mount would hand clients the wrong filesystem).
pub fn before_exportfs_start(ctx: &Ctx, dir: &Path) -> OcfResult {
    if !nfsd::running(ctx.sys) {
        return Err(OcfError::ordering(
            "nfsd is not running; nfsserver must start before exportfs",
        ));
    }
    let table = storage::mount_table(ctx.sys).map_err(|p| OcfError::generic(p.message()))?;
    match mounts::containing(&table, dir) {
        Some(m) if m.mount_point != Path::new("/") => Ok(()),
        _ => Err(OcfError::ordering(format!(
            "{} is not on a mounted filesystem (only on /); the filesystem resource that \
             mounts it must start before exportfs",
            dir.display()
        ))),
    }
}

/// What is wrong with the exports the address would front, if anything:
/// nfsd must run, every export an nfsha exportfs resource started here
/// (its marker) must be in etab for that same client, and at least one
/// export must exist.
fn exports_problem(ctx: &Ctx) -> Option<String> {
    if !nfsd::running(ctx.sys) {
        return Some("nfsd is not running on this node".into());
    }
    let etab = etab::exports(ctx.sys);
    for m in ExportMarker::all(ctx.sys) {
        if !etab
            .iter()
            .any(|e| e.directory == m.directory && e.client == m.client)
        {
            return Some(format!(
                "the export of {} to {} is not active",
                m.directory.display(),
                m.client
            ));
        }
    }
    if etab.is_empty() {
        return Some("nothing is exported on this node".into());
    }
    None
}

/// Before `vip` adds its address: the exports it fronts are active, or
/// clients reconnecting to the address get "access denied" or stale handles.
pub fn before_vip_start(ctx: &Ctx) -> OcfResult {
    match exports_problem(ctx) {
        Some(p) => Err(OcfError::ordering(format!(
            "{p}; nfsserver and the exportfs resources must start before the vip"
        ))),
        None => Ok(()),
    }
}

/// Before `vip` removes its address: warn if the exports are already gone
/// (the group stopped out of order), never fail.
pub fn before_vip_stop(ctx: &Ctx) {
    if let Some(p) = exports_problem(ctx) {
        tracing::warn!("ordering: {p} while the vip is still up; the vip should stop first");
    }
}

/// Before `nfsserver` stops nfsd: warn if exports are still listed (the
/// exportfs resources should have stopped first), never fail.
pub fn before_nfsserver_stop(ctx: &Ctx) {
    let left = etab::exports(ctx.sys);
    if !left.is_empty() && nfsd::running(ctx.sys) {
        tracing::warn!(
            "ordering: {} export(s) are still active while nfsd stops (first: {}); exportfs \
             resources should stop before nfsserver",
            left.len(),
            left[0].directory.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocf::{Action, Params};
    use crate::sys::fake::Fake;
    use crate::sys::Deadline;
    use std::time::Duration;

    fn ctx(sys: &Fake) -> Ctx<'_> {
        Ctx {
            sys,
            params: Params::default(),
            action: Action::Start,
            deadline: Deadline::after(sys, Duration::from_secs(10)),
            check_level: 0,
            probe: false,
            instance: "t".into(),
            meta: Default::default(),
            env: Default::default(),
        }
    }

    fn marker(dir: &str, client: &str) -> ExportMarker {
        ExportMarker {
            directory: dir.into(),
            client: client.into(),
        }
    }

    #[test]
    fn the_vip_waits_for_its_own_exports_by_directory_and_client() {
        let f = Fake::new();
        let reason = |f: &Fake| before_vip_start(&ctx(f)).map_err(|e| (e.rc, e.reason));
        let e = reason(&f).unwrap_err();
        assert!(e.1.starts_with("ordering: nfsd is not running"), "{e:?}");
        assert_eq!(e.0, crate::ocf::Rc::ErrGeneric);
        f.file("/proc/fs/nfsd/threads", "8\n");
        let e = reason(&f).unwrap_err();
        assert!(e.1.contains("nothing is exported"), "{e:?}");
        marker("/srv/a", "192.0.2.0/24").save(&f).unwrap();
        // The same directory exported to another client is not this export.
        f.file("/var/lib/nfs/etab", "/srv/a\t198.51.100.0/24(rw,fsid=1)\n");
        let e = reason(&f).unwrap_err();
        assert!(
            e.1.contains("the export of /srv/a to 192.0.2.0/24 is not active"),
            "{e:?}"
        );
        // Nor the same client of another directory.
        f.file("/var/lib/nfs/etab", "/srv/b\t192.0.2.0/24(rw,fsid=1)\n");
        assert!(reason(&f).is_err());
        f.file(
            "/var/lib/nfs/etab",
            "/srv/b\t192.0.2.0/24(rw,fsid=1)\n/srv/a\t192.0.2.0/24(rw,fsid=2)\n",
        );
        assert_eq!(reason(&f), Ok(()));
        // Without markers, any export will do (exports not managed by nfsha).
        let g = Fake::new();
        g.file("/proc/fs/nfsd/threads", "8\n");
        g.file("/var/lib/nfs/etab", "/srv/x\t*(ro,fsid=9)\n");
        assert_eq!(reason(&g), Ok(()));
    }

    #[test]
    fn at_stop_the_same_findings_are_warnings() {
        use crate::agents::harness::logged;
        let f = Fake::new();
        let ((), lines) = logged(|| before_vip_stop(&ctx(&f)));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("WARN ordering: nfsd is not running"),
            "{lines:?}"
        );
        f.file("/proc/fs/nfsd/threads", "8\n");
        f.file("/var/lib/nfs/etab", "/srv/a\t*(rw,fsid=1)\n");
        let ((), lines) = logged(|| before_vip_stop(&ctx(&f)));
        assert!(lines.is_empty(), "{lines:?}");
        let ((), lines) = logged(|| before_nfsserver_stop(&ctx(&f)));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains(
                "ordering: 1 export(s) are still active while nfsd stops (first: /srv/a)"
            ),
            "{lines:?}"
        );
        // nfsd already stopped: nothing to say.
        f.file("/proc/fs/nfsd/threads", "0\n");
        let ((), lines) = logged(|| before_nfsserver_stop(&ctx(&f)));
        assert!(lines.is_empty(), "{lines:?}");
    }

    #[test]
    fn exportfs_waits_for_nfsd_and_the_mount() {
        let f = Fake::new();
        f.file(
            "/proc/self/mountinfo",
            "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n41 22 147:1 / /srv/share rw - ext4 /dev/drbd1 rw\n",
        );
        let e = before_exportfs_start(&ctx(&f), Path::new("/srv/share")).unwrap_err();
        assert!(e.reason.starts_with("ordering: nfsd is not running"));
        f.file("/proc/fs/nfsd/threads", "1\n");
        assert!(before_exportfs_start(&ctx(&f), Path::new("/srv/share")).is_ok());
        assert!(before_exportfs_start(&ctx(&f), Path::new("/srv/share/sub")).is_ok());
        let e = before_exportfs_start(&ctx(&f), Path::new("/srv/sharex")).unwrap_err();
        assert!(
            e.reason
                .starts_with("ordering: /srv/sharex is not on a mounted filesystem"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn nfsserver_accepts_unreplicated_state_only_when_nfsstate_did() {
        let f = Fake::new();
        f.file(
            "/proc/self/mountinfo",
            "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n40 22 8:17 / /srv/s rw - ext4 /dev/sdb1 rw\n",
        );
        let dir = Path::new("/srv/s");
        let e = before_nfsserver_start(&ctx(&f), dir).unwrap_err();
        assert!(
            e.reason.starts_with("ordering: ") && e.reason.contains("not a DRBD device"),
            "{}",
            e.reason
        );
        StateMarker {
            directory: dir.into(),
            backing: Backing::Unreplicated {
                source: "/dev/sdb1".into(),
            },
        }
        .save(&f)
        .unwrap();
        assert!(before_nfsserver_start(&ctx(&f), dir).is_ok());
    }
}
