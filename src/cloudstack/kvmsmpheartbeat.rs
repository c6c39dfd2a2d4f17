//! `kvmsmpheartbeat.sh`: the heartbeat script of SharedMountPoint pools
//! (`LibvirtStoragePool`, type `SharedMountPoint`): a directory on a
//! filesystem every host mounts (a cluster filesystem, or NFS mounted
//! outside libvirt).
//!
//! The agent calls it exactly as `kvmheartbeat.sh`. As the stock script,
//! it accepts `-i` and `-p` without needing them, and `-m` may be a
//! directory inside a mount; unlike it, nfsha requires that directory to lie
//! on a mounted filesystem other than `/` (writing into a directory of the
//! root filesystem would fake a healthy heartbeat), never kills VMs, and
//! reads a missing heartbeat as unknown rather than dead.

use super::pool_script::{self, Flavor, MountRule};

pub const FLAVOR: Flavor = Flavor {
    script: "kvmsmpheartbeat.sh",
    require_ip: false,
    mount_rule: MountRule::OnMountedFs,
    usage: "usage: kvmsmpheartbeat.sh [-i id] [-p path] -m directory -h host-ip           (write this host's heartbeat)
       kvmsmpheartbeat.sh -m DIRECTORY -h peer-ip -r -t seconds                     (is the peer alive?)
       kvmsmpheartbeat.sh -m DIRECTORY -c                                           (fence this host)
nfsha's drop-in for CloudStack's script; see docs/heartbeat.md.",
};

pub fn main(args: &[String]) -> super::Outcome {
    pool_script::main(&FLAVOR, args)
}
