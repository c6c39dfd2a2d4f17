//! The table of OCF agents in the multi-call binary: each agent lives in its
//! own file (nfsserver in its own folder) and is found here by the name it
//! is installed under.
//!
//! What the agents share: running programs ([`exec`]), the state directory
//! and DRBD ([`storage`]), the group's ordering checks ([`group_checks`]),
//! ending processes that keep a filesystem busy ([`release`]) and the NFSv3
//! reboot notification ([`sm_notify`]). The agents reach the machine only
//! through [`crate::sys::System`] (`tests/seam.rs` checks the sources).

pub mod exec;
pub mod exportfs;
pub mod group_checks;
#[cfg(test)]
pub mod harness;
pub mod nfsserver;
pub mod nfsstate;
pub mod release;
pub mod sm_notify;
pub mod storage;
pub mod storagehb;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The multi-call binary dispatches on these names (`/usr/lib/ocf/resource.d/nfsha/*`).
    #[test]
    fn every_agent_is_found_by_the_name_it_is_installed_under() {
        let names: Vec<&str> = all().iter().map(|a| a.spec().name).collect();
        assert_eq!(
            names,
            ["nfsstate", "nfsserver", "exportfs", "vip", "storagehb"]
        );
        for n in names {
            assert_eq!(find(n).map(|a| a.spec().name), Some(n));
        }
        assert!(find("nfsserve").is_none());
        assert!(find("").is_none());
    }
}
