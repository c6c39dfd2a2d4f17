//! The stop's nftables rules, spoken to the kernel over netlink: no `nft`
//! process (tens of milliseconds each, more on a busy node), and a table the
//! kernel itself removes when the process that made it ends
//! (`NFT_TABLE_F_OWNER`, Linux ≥ 5.12): a stop killed half-way cannot leave
//! its rules behind. Older kernels refuse the flag; the table is then made
//! without it and the agent's marker finds it (see the vip's `silence`).
//!
//! The table `inet nfsha-vip-<address>` has two base chains at priority `raw`
//! (-300, before every other filter) with one rule each, exactly what
//!
//! ```text
//! table inet nfsha-vip-192.0.2.50 {
//!     chain in  { type filter hook input  priority raw; policy accept; ip daddr 192.0.2.50 drop }
//!     chain out { type filter hook output priority raw; policy accept; ip saddr 192.0.2.50 drop }
//! }
//! ```
//!
//! would make; `nft list ruleset` shows it that way.

use std::io;
use std::net::IpAddr;

use super::nlsock::{NlSocket, NLM_F_ACK, NLM_F_CREATE, NLM_F_REQUEST};

const NETLINK_NETFILTER: libc::c_int = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 16;
const NFNL_MSG_BATCH_END: u16 = 17;
const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_GETTABLE: u16 = 1;
const NFT_MSG_DELTABLE: u16 = 2;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NFPROTO_INET: u8 = 1;
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
const NF_INET_LOCAL_IN: u32 = 1;
const NF_INET_LOCAL_OUT: u32 = 3;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
const NFT_TABLE_F_OWNER: u32 = 2;
/// `NF_IP_PRI_RAW`: before conntrack and every filter chain.
const PRIORITY_RAW: i32 = -300;
const NLA_F_NESTED: u16 = 0x8000;

/// The table of `ip`: `nfsha-vip-192.0.2.50`, `nfsha-vip-fd00__5` (nft
/// names allow letters, digits, `-`, `_` and `.`, not `:`).
pub fn table_name(ip: IpAddr) -> String {
    format!("nfsha-vip-{}", ip.to_string().replace(':', "_"))
}

/// Netlink attributes, appended to a message body.
struct Attrs(Vec<u8>);

impl Attrs {
    fn new() -> Attrs {
        Attrs(Vec::new())
    }
    fn raw(mut self, kind: u16, data: &[u8]) -> Attrs {
        self.0
            .extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        self.0.extend_from_slice(&kind.to_ne_bytes());
        self.0.extend_from_slice(data);
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
        self
    }
    fn str(self, kind: u16, s: &str) -> Attrs {
        let mut d = s.as_bytes().to_vec();
        d.push(0);
        self.raw(kind, &d)
    }
    /// nf_tables takes every 32-bit number in network byte order.
    fn be32(self, kind: u16, n: u32) -> Attrs {
        self.raw(kind, &n.to_be_bytes())
    }
    fn nest(self, kind: u16, inner: Attrs) -> Attrs {
        self.raw(kind | NLA_F_NESTED, &inner.0)
    }
}

/// `struct nfgenmsg` for the inet family, then `attrs`.
fn body(attrs: Attrs) -> Vec<u8> {
    let mut b = vec![NFPROTO_INET, 0, 0, 0];
    b.extend_from_slice(&attrs.0);
    b
}

fn msg_type(m: u16) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | m
}

/// One expression: `NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA }`.
fn expr(name: &str, data: Attrs) -> Attrs {
    Attrs::new().str(1, name).nest(2, data)
}

/// The expressions of `<family> <saddr|daddr> <ip> drop`: match the
/// packet's family (an inet chain sees both), load the address from the
/// network header, compare, drop.
fn drop_expressions(ip: IpAddr, source: bool) -> Attrs {
    let (nfproto, offset, bytes) = match ip {
        IpAddr::V4(a) => (
            NFPROTO_IPV4,
            if source { 12 } else { 16 },
            a.octets().to_vec(),
        ),
        IpAddr::V6(a) => (
            NFPROTO_IPV6,
            if source { 8 } else { 24 },
            a.octets().to_vec(),
        ),
    };
    const REG1: u32 = 1;
    const NFT_META_NFPROTO: u32 = 15;
    const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
    const NFT_CMP_EQ: u32 = 0;
    let cmp = |data: &[u8]| {
        expr(
            "cmp",
            Attrs::new()
                .be32(1, REG1)
                .be32(2, NFT_CMP_EQ)
                .nest(3, Attrs::new().raw(1, data)),
        )
    };
    let list = [
        expr("meta", Attrs::new().be32(1, REG1).be32(2, NFT_META_NFPROTO)),
        cmp(&[nfproto]),
        expr(
            "payload",
            Attrs::new()
                .be32(1, REG1)
                .be32(2, NFT_PAYLOAD_NETWORK_HEADER)
                .be32(3, offset)
                .be32(4, bytes.len() as u32),
        ),
        cmp(&bytes),
        expr(
            "immediate",
            Attrs::new()
                .be32(1, 0)
                .nest(2, Attrs::new().nest(2, Attrs::new().be32(1, NF_DROP))),
        ),
    ];
    list.into_iter().fold(Attrs::new(), |acc, e| acc.nest(1, e))
}

/// The batch that makes the table of `ip` (owned by the sending socket when
/// `owned`), its two chains and their drop rules.
fn install_batch(ip: IpAddr, owned: bool) -> Vec<(u16, u16, Vec<u8>)> {
    let table = table_name(ip);
    let create = NLM_F_REQUEST | NLM_F_CREATE;
    let mut t = Attrs::new().str(1, &table);
    if owned {
        t = t.be32(2, NFT_TABLE_F_OWNER);
    }
    let mut msgs = vec![(msg_type(NFT_MSG_NEWTABLE), create, body(t))];
    for (chain, hook, source) in [
        ("in", NF_INET_LOCAL_IN, false),
        ("out", NF_INET_LOCAL_OUT, true),
    ] {
        let hook_attrs = Attrs::new().be32(1, hook).be32(2, PRIORITY_RAW as u32);
        let c = Attrs::new()
            .str(1, &table)
            .str(3, chain)
            .nest(4, hook_attrs)
            .be32(5, NF_ACCEPT)
            .str(7, "filter");
        msgs.push((msg_type(NFT_MSG_NEWCHAIN), create, body(c)));
        let r = Attrs::new()
            .str(1, &table)
            .str(2, chain)
            .nest(4, drop_expressions(ip, source));
        msgs.push((msg_type(NFT_MSG_NEWRULE), create, body(r)));
    }
    msgs
}

/// Send `msgs` as one nf_tables transaction on `nl`.
fn transaction(nl: &mut NlSocket, mut msgs: Vec<(u16, u16, Vec<u8>)>) -> io::Result<()> {
    // BATCH_BEGIN and END carry the subsystem in res_id (big-endian).
    let edge = vec![0, 0, 0, NFNL_SUBSYS_NFTABLES as u8];
    if let Some(last) = msgs.last_mut() {
        last.1 |= NLM_F_ACK;
    }
    let mut all = vec![(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, edge.clone())];
    all.append(&mut msgs);
    all.push((NFNL_MSG_BATCH_END, NLM_F_REQUEST, edge));
    let refs: Vec<(u16, u16, &[u8])> = all.iter().map(|(k, f, b)| (*k, *f, b.as_slice())).collect();
    nl.batch(&refs)
}

fn open() -> io::Result<NlSocket> {
    NlSocket::open(NETLINK_NETFILTER)
}

/// Rules in place that drop an address's traffic, as the system seam hands
/// them out (the real [`Hole`], or the test double's).
pub trait NftHole {
    /// The kernel removes the table when this process ends.
    fn owned(&self) -> bool;
    /// Remove the table now.
    fn lift(self: Box<Self>) -> io::Result<()>;
}

impl NftHole for Hole {
    fn owned(&self) -> bool {
        self.owned
    }
    fn lift(self: Box<Self>) -> io::Result<()> {
        Hole::lift(*self)
    }
}

/// Rules that drop all traffic of one address, held by this process.
pub struct Hole {
    nl: NlSocket,
    table: String,
    /// The kernel removes the table when `nl` closes.
    pub owned: bool,
}

impl Hole {
    /// Drop everything to and from `ip`. The table is owned by this process
    /// where the kernel allows it.
    pub fn open(ip: IpAddr) -> io::Result<Hole> {
        let mut nl = open()?;
        let owned = match transaction(&mut nl, install_batch(ip, true)) {
            Ok(()) => true,
            // Linux < 5.12 knows no owner flag.
            Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
                transaction(&mut nl, install_batch(ip, false))?;
                false
            }
            Err(e) => return Err(e),
        };
        Ok(Hole {
            nl,
            table: table_name(ip),
            owned,
        })
    }

    /// Remove the table now (closing the socket would, for an owned one).
    pub fn lift(mut self) -> io::Result<()> {
        delete_on(&mut self.nl, &self.table).map(|_| ())
    }
}

fn delete_on(nl: &mut NlSocket, table: &str) -> io::Result<bool> {
    let msg = (
        msg_type(NFT_MSG_DELTABLE),
        NLM_F_REQUEST,
        body(Attrs::new().str(1, table)),
    );
    match transaction(nl, vec![msg]) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Delete the inet table `table` if it exists; whether it did. EPERM while
/// another live process owns it.
pub fn delete_table(table: &str) -> io::Result<bool> {
    delete_on(&mut open()?, table)
}

/// Whether the inet table `table` exists. An error when this kernel has no
/// nf_tables to ask.
pub fn table_exists(table: &str) -> io::Result<bool> {
    let req = body(Attrs::new().str(1, table));
    match open()?.request(msg_type(NFT_MSG_GETTABLE), &req) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn attributes_are_padded_and_numbers_big_endian() {
        let a = Attrs::new().str(1, "ab").be32(2, 0x0102_0304);
        assert_eq!(
            a.0,
            vec![7, 0, 1, 0, b'a', b'b', 0, 0, 8, 0, 2, 0, 1, 2, 3, 4]
        );
        let n = Attrs::new().nest(4, Attrs::new().be32(1, 1));
        assert_eq!(&n.0[..4], &[12, 0, 4, 0x80]);
        assert_eq!(table_name("fd00::5".parse().unwrap()), "nfsha-vip-fd00__5");
    }

    #[test]
    fn rules_load_the_right_address_bytes() {
        // IPv4 daddr sits at offset 16 of the header, saddr at 12; IPv6 at 24 and 8.
        for (ip, source, offset) in [
            ("192.0.2.50", false, 16u32),
            ("192.0.2.50", true, 12),
            ("fd00::5", false, 24),
            ("fd00::5", true, 8),
        ] {
            let e = drop_expressions(ip.parse().unwrap(), source).0;
            let off = offset.to_be_bytes();
            assert!(
                e.windows(8)
                    .any(|w| w[..4] == [8, 0, 3, 0] && w[4..] == off),
                "{ip} {source}"
            );
        }
    }

    /// Run `f` on a thread in a network namespace of its own, so no other
    /// test's tables are seen or touched; `nft` there through nsenter.
    fn in_own_netns(f: impl FnOnce(&dyn Fn(&[&str]) -> String) + Send) {
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: unshare(CLONE_NEWNET) affects only this thread.
                assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0);
                let tid = unsafe { libc::gettid() };
                let ns = format!("/proc/{}/task/{tid}/ns/net", std::process::id());
                let nft = |args: &[&str]| {
                    let out = Command::new("nsenter")
                        .arg(format!("--net={ns}"))
                        .arg("nft")
                        .args(args)
                        .output()
                        .expect("nsenter nft (util-linux, nftables)");
                    assert!(out.status.success(), "nft {args:?}: {out:?}");
                    String::from_utf8_lossy(&out.stdout).into_owned()
                };
                f(&nft);
            })
            .join()
            .unwrap()
        })
    }

    /// The real kernel: nft lists exactly the rules the module documents,
    /// the hole lifts, and an owned table goes with its socket.
    #[test]
    fn the_kernel_takes_the_table_and_nft_reads_it_back() {
        in_own_netns(|nft| {
            for ip in ["192.0.2.50", "fd00::5"] {
                let ip: IpAddr = ip.parse().unwrap();
                let fam = if ip.is_ipv4() { "ip" } else { "ip6" };
                let name = table_name(ip);
                assert!(!table_exists(&name).unwrap());
                let hole = Hole::open(ip).expect("install over netlink");
                assert!(hole.owned, "Linux ≥ 5.12 owns the table");
                assert!(table_exists(&name).unwrap());
                let listed = nft(&["list", "table", "inet", &name]);
                for want in [
                    "type filter hook input priority raw; policy accept;".to_string(),
                    "type filter hook output priority raw; policy accept;".to_string(),
                    format!("{fam} daddr {ip} drop"),
                    format!("{fam} saddr {ip} drop"),
                ] {
                    assert!(listed.contains(&want), "{want:?} not in:\n{listed}");
                }
                // Another process may not take it away while it is held.
                let err = delete_table(&name).unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
                hole.lift().expect("lift");
                assert!(!table_exists(&name).unwrap());
                // Dropped without lifting: the kernel removes it with the socket.
                drop(Hole::open(ip).unwrap());
                assert!(!table_exists(&name).unwrap());
                assert!(!delete_table(&name).unwrap(), "nothing to delete");
                // A table nft made (a saved ruleset, an old kernel) is deleted.
                nft(&["add", "table", "inet", &name]);
                assert!(delete_table(&name).unwrap());
                assert!(!table_exists(&name).unwrap());
            }
        });
    }
}
