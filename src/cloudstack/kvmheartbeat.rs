//! `kvmheartbeat.sh`: the heartbeat script of NFS pools
//! (`LibvirtStoragePool`, type `NetworkFilesystem`).
//!
//! The agent's calls: write `-i IP -p PATH -m MOUNT -h HOSTIP` (each
//! `kvm.heartbeat.update.frequency`, killed at `heartbeat.update.timeout`),
//! check `-i IP -p PATH -m MOUNT -h PEERIP -r -t 60` (killed at
//! `kvm.heartbeat.checker.timeout`), fence `-i IP -p PATH -m MOUNT -c`.
//! `-i` is required in every mode, as the stock script requires it; `-p` is
//! accepted and not used; `-m` must be a mount point.

use super::pool_script::{self, Flavor, MountRule};

pub const FLAVOR: Flavor = Flavor {
    script: "kvmheartbeat.sh",
    require_ip: true,
    mount_rule: MountRule::MountPoint,
    usage: "usage: kvmheartbeat.sh -i server-ip -p export-path -m mount-point -h host-ip   (write this host's heartbeat)
       kvmheartbeat.sh -i IP -p PATH -m MOUNT -h peer-ip -r -t seconds          (is the peer alive?)
       kvmheartbeat.sh -i IP -p PATH -m MOUNT -c                                 (fence this host)
nfsha's drop-in for CloudStack's script; see docs/heartbeat.md.",
};

pub fn main(args: &[String]) -> super::Outcome {
    pool_script::main(&FLAVOR, args)
}
