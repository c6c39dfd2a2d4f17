//! `kvmspheartbeat.sh`: the fence script of LINSTOR and StorPool pools
//! (`LinstorStoragePool`, `StorPoolStoragePool`). These pools write no
//! heartbeat file: the agent's Java checks the storage node itself
//! (`drbdsetup status --json` / `events2 --now` for LINSTOR, `storpool -j
//! service list` for StorPool) and, when that fails, calls this script with
//! `-c` and nothing else, with `heartbeat.update.timeout` (60 s).
//!
//! The stock script then reboots through sysrq; that is CloudStack issue
//! #13089 (hosts reset during ordinary DRBD resyncs). nfsha runs the
//! configured fence action instead (heartbeat.toml `fence_action`, else the
//! agent's `kvm.heartbeat.fence.action`, else reboot), bounded, never sysrq
//! unless the operator's own custom script does it. Without `-c` it does
//! nothing and exits 0, as the stock script.

use super::fence::{self, Caller};
use super::getopts::{getopts, has};
use super::pool_script::{local_dirs, log_problems};
use super::settings::Settings;

pub const USAGE: &str = "usage: kvmspheartbeat.sh -c   (fence this host: the agent's LINSTOR/StorPool health check failed)
nfsha's drop-in for CloudStack's script; see docs/heartbeat.md.";

pub fn main(args: &[String]) -> super::Outcome {
    let opts = match getopts("c", args) {
        Ok(o) => o,
        Err(e) => return (1, Some(format!("kvmspheartbeat.sh: {e}\n{USAGE}"))),
    };
    if !has(&opts, 'c') {
        return (0, None);
    }
    let s = Settings::load();
    log_problems(&s);
    let local = local_dirs(&s);
    fence::fence(
        &s,
        local.as_ref().ok(),
        &Caller::NodeCheck {
            script: "kvmspheartbeat.sh",
        },
    )
}
