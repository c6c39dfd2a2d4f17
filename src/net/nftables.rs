//! One read of nf_tables over netlink: whether a table exists. vip start must
//! make sure no rule of an interrupted stop survives; asking the kernel costs
//! microseconds where running `nft` costs tens of milliseconds (a table delete
//! waits for an RCU grace period), so `nft` only runs when there is something
//! to delete.

use std::io;

use super::nlsock::NlSocket;

const NETLINK_NETFILTER: libc::c_int = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFT_MSG_GETTABLE: u16 = 1;
const NFTA_TABLE_NAME: u16 = 1;
const NFPROTO_INET: u8 = 1;

/// The request body: `struct nfgenmsg` (family inet, version 0, res_id 0)
/// and the table's name as a NUL-terminated attribute.
fn request(table: &str) -> Vec<u8> {
    let mut b = vec![NFPROTO_INET, 0, 0, 0];
    let len = 4 + table.len() + 1;
    b.extend_from_slice(&(len as u16).to_ne_bytes());
    b.extend_from_slice(&NFTA_TABLE_NAME.to_ne_bytes());
    b.extend_from_slice(table.as_bytes());
    b.push(0);
    while b.len() % 4 != 0 {
        b.push(0);
    }
    b
}

/// Whether the `inet` table `table` exists in this network namespace. A
/// kernel without nf_tables has no tables.
pub fn inet_table_exists(table: &str) -> io::Result<bool> {
    let mut nl = match NlSocket::open(NETLINK_NETFILTER) {
        Ok(nl) => nl,
        Err(e) if e.raw_os_error() == Some(libc::EPROTONOSUPPORT) => return Ok(false),
        Err(e) => return Err(e),
    };
    match nl.request(
        (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE,
        &request(table),
    ) {
        Ok(()) => Ok(true),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOENT) | Some(libc::EAFNOSUPPORT) | Some(libc::EOPNOTSUPP)
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let b = request("nfsha-vip-1.2.3.4");
        assert_eq!(&b[..4], &[1, 0, 0, 0]);
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]) as usize, 4 + 17 + 1);
        assert_eq!(&b[8..25], b"nfsha-vip-1.2.3.4");
        assert_eq!(b[25], 0);
        assert_eq!(b.len() % 4, 0);
    }

    /// The real kernel, in a network namespace of this test's own (unshare
    /// on a thread), so no other test's tables are seen or touched.
    #[test]
    fn sees_a_table_nft_created() {
        let name = format!("nfsha-test-{}", std::process::id());
        std::thread::spawn(move || {
            // SAFETY: unshare(CLONE_NEWNET) affects only this thread.
            assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0);
            assert!(!inet_table_exists(&name).unwrap());
            let tid = unsafe { libc::gettid() };
            let ns = format!("/proc/{}/task/{tid}/ns/net", std::process::id());
            let st = std::process::Command::new("nsenter")
                .arg(format!("--net={ns}"))
                .args(["nft", "add", "table", "inet", &name])
                .status()
                .expect("nsenter nft (util-linux, nftables)");
            assert!(st.success());
            assert!(inet_table_exists(&name).unwrap());
            assert!(!inet_table_exists("nfsha-no-such-table").unwrap());
        })
        .join()
        .unwrap();
    }
}
