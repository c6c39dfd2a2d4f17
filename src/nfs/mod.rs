//! What the kernel's nfsd and nfs-utils say about the NFS server on this
//! node, one owner per format, every read through the system seam under the
//! roots of [`crate::sys::Paths`]:
//!
//! - [`nfsd`]: the nfsd control files (`/proc/fs/nfsd`);
//! - [`etab`]: what exportfs exports now;
//! - [`conf`]: `nfs.conf` as nfs-utils reads it ([`NfsConf`]);
//! - [`versions`]: NFS versions, in `nfs_versions` and in nfs.conf;
//! - [`nfsd_launch`]: the one rpc.nfsd command line (agent, drop-in, parser);
//! - [`markers`]: what nfsha's agents leave for each other.

pub mod conf;
pub mod etab;
pub mod markers;
pub mod nfsd;
pub mod nfsd_launch;
pub mod versions;

pub use conf::NfsConf;
pub use etab::Export;
