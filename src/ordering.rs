//! Run-time checks that the NFS group is ordered right on this node.
//!
//! Each agent asks, before it changes anything, whether the members it depends
//! on are in the state the group order promises (`nfsstate` → `nfsserver` →
//! `exportfs` → `vip`). A failed check at start is an error whose reason begins
//! with "ordering:"; at stop it is only a warning, because a failed stop gets
//! the node fenced.

use crate::ocf::{Ctx, OcfResult};

/// Before `vip` adds its address: the exports it fronts must be active, or
/// clients reconnecting to the address get "access denied" or stale handles.
///
/// The export check arrives with the server-group agents (`exportfs`); until
/// then there is nothing in this node's group to check against.
pub fn before_vip_start(_ctx: &Ctx) -> OcfResult {
    Ok(())
}

/// Before `vip` removes its address: warn if the exports are already gone
/// (the group stopped out of order), never fail.
pub fn before_vip_stop(_ctx: &Ctx) {}

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
