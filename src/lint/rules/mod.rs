//! The lint rules, one per file, each with its code, documentation and check.
//! Codes are stable: NFS0xx input, NFS1xx start order, NFS2xx placement,
//! NFS3xx server settings, NFS4xx state storage, NFS5xx exports, NFS6xx
//! operations, NFS7xx fencing.

use super::Rule;

pub mod nfs001_dangling_reference;
pub mod nfs002_nfsconf_ignored_line;
pub mod nfs003_unparsed_statement;
pub mod nfs101_vip_before_nfs;
pub mod nfs102_exports_before_server;
pub mod nfs103_server_before_storage;
pub mod nfs104_promote_order;
pub mod nfs105_order_loop;
pub mod nfs201_server_cloned;
pub mod nfs202_drbd_colocation;
pub mod nfs203_constraint_on_member;
pub mod nfs301_lease_time;
pub mod nfs302_server_scope;
pub mod nfs303_nsm_state;
pub mod nfs401_state_not_shared;
pub mod nfs501_wait_for_leasetime;
pub mod nfs502_export_fsid;
pub mod nfs503_duplicate_export;
pub mod nfs601_stop_timeout;
pub mod nfs602_monitor_missing;
pub mod nfs701_stonith_disabled;
pub mod nfs702_fence_before_failover;

/// Every rule, in code order.
pub static ALL: &[&Rule] = &[
    &nfs001_dangling_reference::RULE,
    &nfs002_nfsconf_ignored_line::RULE,
    &nfs003_unparsed_statement::RULE,
    &nfs101_vip_before_nfs::RULE,
    &nfs102_exports_before_server::RULE,
    &nfs103_server_before_storage::RULE,
    &nfs104_promote_order::RULE,
    &nfs105_order_loop::RULE,
    &nfs201_server_cloned::RULE,
    &nfs202_drbd_colocation::RULE,
    &nfs203_constraint_on_member::RULE,
    &nfs301_lease_time::RULE,
    &nfs302_server_scope::RULE,
    &nfs303_nsm_state::RULE,
    &nfs401_state_not_shared::RULE,
    &nfs501_wait_for_leasetime::RULE,
    &nfs502_export_fsid::RULE,
    &nfs503_duplicate_export::RULE,
    &nfs601_stop_timeout::RULE,
    &nfs602_monitor_missing::RULE,
    &nfs701_stonith_disabled::RULE,
    &nfs702_fence_before_failover::RULE,
];

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
