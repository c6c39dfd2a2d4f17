//! Whether a path is a mount point (read from `/proc/self/mountinfo` through
//! the one reader in [`crate::sys::mounts`], never by touching the mount).
//! The client mount option checks are lint rules (`nfsha lint --mounts`,
//! NFS801–NFS804).

use std::path::Path;

/// Whether `path` is a mount point on this host now (the mount is never
/// touched).
pub fn is_mounted(path: &Path) -> bool {
    super::daemon::is_mounted(path)
}
