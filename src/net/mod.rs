//! The network side of the `vip` agent: netlink reads, announcements, the
//! connection record and its capture (sock_diag), tickle ACKs, the packet
//! filter that keeps a stopping node silent, and the detached takeover helper.

pub mod announce;
pub mod connections;
pub mod filter;
pub mod netlink;
pub mod nftables;
pub mod nlsock;
pub mod sock_diag;
pub mod takeover;
pub mod tickle;
