//! The table of OCF agents in the multi-call binary: each agent lives in its
//! own file and is found here by the name it is installed under.

pub mod exportfs;
pub mod nfsserver;
pub mod nfsstate;
pub mod storagehb;
mod util;
pub mod vip;

use crate::ocf::Agent;

/// Every agent: the NFS server group in start order, then the KVM-host agent.
pub fn all() -> &'static [&'static dyn Agent] {
    &[
        &nfsstate::NfsState,
        &nfsserver::NfsServer,
        &exportfs::ExportFs,
        &vip::Vip,
        &storagehb::StorageHb,
    ]
}

/// The agent installed as `name`.
pub fn find(name: &str) -> Option<&'static dyn Agent> {
    all().iter().copied().find(|a| a.spec().name == name)
}
