//! Run-time checks that the NFS group is ordered right on this node.
//!
//! Each agent asks, before it changes anything, whether the members it depends
//! on are in the state the group order promises (`nfsstate` → `nfsserver` →
//! `exportfs` → `vip`). A failed check at start is an error whose reason begins
//! with "ordering:"; at stop it is only a warning, because a failed stop gets
//! the node fenced.

use crate::ocf::{Ctx, OcfResult};

/// The exports nfsha's exportfs resources started on this node, from their
/// markers in the resource state directory: (directory, client).
fn nfsha_exports(ctx: &Ctx) -> Vec<(String, String)> {
    let dir = ctx.sys.state_dir();
    let mut names: Vec<String> = ctx
        .sys
        .list_dir(&dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.starts_with("nfsha-exportfs-"))
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|n| crate::nfs::read_marker(ctx.sys, &dir.join(n)))
        .filter_map(|m| Some((m.get("directory")?.clone(), m.get("client")?.clone())))
        .collect()
}

/// What is wrong with the exports the address would front, if anything.
fn exports_problem(ctx: &Ctx) -> Option<String> {
    if !crate::nfs::running(ctx.sys) {
        return Some("nfsd is not running on this node".into());
    }
    let etab = crate::nfs::exports(ctx.sys);
    for (dir, client) in nfsha_exports(ctx) {
        if !etab
            .iter()
            .any(|e| e.directory.to_string_lossy() == dir && e.client == client)
        {
            return Some(format!("the export of {dir} to {client} is not active"));
        }
    }
    if etab.is_empty() {
        return Some("nothing is exported on this node".into());
    }
    None
}

/// Before `vip` adds its address: nfsd runs and the exports it fronts are
/// active (every export an nfsha exportfs resource started here, and at
/// least one export in all), or clients reconnecting to the address get
/// "access denied" or stale handles.
pub fn before_vip_start(ctx: &Ctx) -> OcfResult {
    match exports_problem(ctx) {
        Some(p) => Err(crate::ocf::OcfError::ordering(format!(
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
    let left = crate::nfs::exports(ctx.sys);
    if !left.is_empty() && crate::nfs::running(ctx.sys) {
        tracing::warn!(
            "ordering: {} export(s) are still active while nfsd stops (first: {}); exportfs \
             resources should stop before nfsserver",
            left.len(),
            left[0].directory.display()
        );
    }
}
