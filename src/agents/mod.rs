//! The table of OCF agents in the multi-call binary: each agent lives in its
//! own file and is found here by the name it is installed under.

pub mod storagehb;
pub mod vip;

use crate::ocf::Agent;

/// Every agent, in the order they start in an NFS group.
pub fn all() -> &'static [&'static dyn Agent] {
    &[&vip::Vip, &storagehb::StorageHb]
}

/// The agent installed as `name`.
pub fn find(name: &str) -> Option<&'static dyn Agent> {
    all().iter().copied().find(|a| a.spec().name == name)
}
