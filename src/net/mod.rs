//! Network helpers for the `vip` agent: netlink reads and announcements.

pub mod announce;
pub mod netlink;
