//! The lint rules, one per file, each with its code, documentation and check.
//! Codes are stable: NFS0xx input, NFS1xx start order, NFS2xx placement,
//! NFS3xx server settings, NFS4xx state storage, NFS5xx exports, NFS6xx
//! operations, NFS7xx fencing, NFS8xx client mounts.
//!
//! A rule is registered here and nowhere else: its module name in the one
//! list below, in code order. The list makes both the module and its entry
//! in [`ALL`], so a rule cannot exist without being run.

use super::Rule;

pub mod client_mount;
pub mod helpers;

macro_rules! registry {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*
        /// Every rule, in code order.
        pub static ALL: &[&Rule] = &[$(&$module::RULE),*];
    };
}

registry! {
    nfs001_dangling_reference,
    nfs002_nfsconf_ignored_line,
    nfs003_unparsed_statement,
    nfs004_agent_refuses,
    nfs101_vip_before_nfs,
    nfs102_exports_before_server,
    nfs103_server_before_storage,
    nfs104_promote_order,
    nfs105_order_loop,
    nfs201_server_cloned,
    nfs202_drbd_colocation,
    nfs203_constraint_on_member,
    nfs301_lease_time,
    nfs302_server_scope,
    nfs303_nsm_state,
    nfs304_no_server_resource,
    nfs305_nfsconf_versions,
    nfs306_nfsconf_mismatch,
    nfs401_state_not_shared,
    nfs501_wait_for_leasetime,
    nfs502_export_fsid,
    nfs503_duplicate_export,
    nfs601_stop_timeout,
    nfs602_monitor_missing,
    nfs701_stonith_disabled,
    nfs702_fence_before_failover,
    nfs703_heartbeat_config,
    nfs801_hard_backup_mount,
    nfs802_soft_vm_disk_mount,
    nfs803_soft_nfs4_unbounded,
    nfs804_rpc_timeout,
}

/// A rule by code (case-insensitive) or name.
pub fn find(code: &str) -> Option<&'static Rule> {
    ALL.iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code) || r.name == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_documented() {
        for w in ALL.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        for r in ALL {
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Use instead",
                "## References",
            ] {
                assert!(r.doc.contains(section), "{} lacks {section}", r.code);
            }
            let use_instead = r.doc.split("## Use instead").nth(1).unwrap();
            assert!(
                use_instead.contains("crm") && use_instead.contains("pcs"),
                "{} lacks crm and pcs fixes",
                r.code
            );
        }
    }
}
