//! nfsha: highly available NFS made safe.
//!
//! - [`ocf`]: the OCF runtime every agent shares; [`agents`]: the agents.
//! - [`sys`]: the one seam to the machine (commands, files, network, clock).
//! - [`net`]: netlink reads, announcements, connection capture (sock_diag),
//!   tickle ACKs and the packet filter of a moving address.
//! - [`heartbeat`]: the KVM-host storage heartbeat; [`cloudstack`]:
//!   CloudStack's KVM HA scripts as personalities; [`guard`]: deadlines and
//!   I/O limits for NAS jobs.
//! - [`status`]: `nfsha status`, what this node is doing.
//! - [`cli`]: the `nfsha` command line; [`install`]: laying out the OCF provider;
//!   [`man`]: the man pages.

pub mod agents;
pub mod cli;
pub mod cloudstack;
pub mod dropin;
pub mod formats;
pub mod guard;
pub mod heartbeat;
pub mod install;
pub mod lint;
pub mod log;
pub mod man;
pub mod model;
pub mod net;
pub mod nfs;
pub mod ocf;
pub mod start_order;
pub mod status;
pub mod sys;
