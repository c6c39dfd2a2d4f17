//! The black hole the vip agent puts around its address while it stops: every
//! packet to or from the address is dropped — never rejected — so that no
//! client hears a FIN, a RST or an ICMP error from the old node. A client that
//! hears nothing keeps its connection and is reset at once by the new node's
//! tickle; one that hears a RST or an error starts its reconnect back-off
//! (3, 6, 12, … s) before the address is back.
//!
//! Two back-ends: nftables, spoken to over netlink ([`super::nftables`]), and
//! where the kernel has no nf_tables, iptables: a chain of its own, jumped to
//! first from INPUT and OUTPUT. This module names the back-ends and builds the
//! iptables argv (no shell is ever involved); the agent runs them through the
//! system seam, so the same plan runs on the machine and in unit tests.
//!
//! Not only the NFS ports: UDP (NFSv3 over UDP, mountd, statd) must stay silent
//! too, and anything else the address carries is going away with it anyway.

use std::net::IpAddr;

/// The firewall front-end the rules are written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Nft,
    Iptables,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Nft => "nft",
            Backend::Iptables => "iptables",
        }
    }
    pub fn parse(s: &str) -> Option<Backend> {
        match s.trim() {
            "nft" => Some(Backend::Nft),
            "iptables" => Some(Backend::Iptables),
            _ => None,
        }
    }
}

/// One command: a program and its arguments, exactly as exec gets them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Argv {
    pub program: &'static str,
    pub args: Vec<String>,
}

impl Argv {
    fn new(program: &'static str, args: &[&str]) -> Argv {
        Argv {
            program,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }
}

/// How to take the rules away again, whether or not they are there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removal {
    /// Run in order; a failure of one (nothing to remove) does not stop the rest.
    pub steps: Vec<Argv>,
    /// Succeeds while the rules still exist.
    pub probe: Argv,
}

/// The iptables chain of `ip`: a name of at most 28 characters, so a hash
/// (FNV-1a of the address's text) rather than the address itself.
pub fn iptables_chain(ip: IpAddr) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in ip.to_string().bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("nfsha-vip-{h:08x}")
}

fn comment(ip: IpAddr) -> String {
    format!("nfsha vip {ip}: silence while the address moves (removed by the agent)")
}

fn iptables_program(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "iptables"
    } else {
        "ip6tables"
    }
}

/// The iptables commands that drop everything to and from `ip`: the chain
/// and its two rules first, then the jumps, so the hole is complete when it
/// opens.
pub fn install(ip: IpAddr) -> Vec<Argv> {
    let addr = ip.to_string();
    let p = iptables_program(ip);
    let c = iptables_chain(ip);
    let note = comment(ip);
    let rule = |dir: &str| {
        Argv::new(
            p,
            &[
                "-w",
                "5",
                "-A",
                &c,
                dir,
                &addr,
                "-m",
                "comment",
                "--comment",
                &note,
                "-j",
                "DROP",
            ],
        )
    };
    vec![
        Argv::new(p, &["-w", "5", "-N", &c]),
        rule("-d"),
        rule("-s"),
        Argv::new(p, &["-w", "5", "-I", "INPUT", "1", "-j", &c]),
        Argv::new(p, &["-w", "5", "-I", "OUTPUT", "1", "-j", &c]),
    ]
}

/// The iptables commands that remove the rules of `ip`, whether they exist
/// or not.
pub fn remove(ip: IpAddr) -> Removal {
    let p = iptables_program(ip);
    let c = iptables_chain(ip);
    Removal {
        steps: vec![
            Argv::new(p, &["-w", "5", "-D", "INPUT", "-j", &c]),
            Argv::new(p, &["-w", "5", "-D", "OUTPUT", "-j", &c]),
            Argv::new(p, &["-w", "5", "-F", &c]),
            Argv::new(p, &["-w", "5", "-X", &c]),
        ],
        probe: Argv::new(p, &["-w", "5", "-n", "-L", &c]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(a: &Argv) -> String {
        format!("{} {}", a.program, a.args.join(" "))
    }

    #[test]
    fn ipv6_uses_ip6tables() {
        let ip: IpAddr = "fd00::5".parse().unwrap();
        assert!(install(ip).iter().all(|a| a.program == "ip6tables"));
        let r = remove(ip);
        assert!(r.steps.iter().all(|a| a.program == "ip6tables"));
        assert_eq!(r.probe.program, "ip6tables");
        assert!(install("192.0.2.1".parse().unwrap())
            .iter()
            .all(|a| a.program == "iptables"));
    }

    #[test]
    fn the_chain_is_filled_before_it_is_jumped_to() {
        let ip: IpAddr = "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap();
        let c = iptables_chain(ip);
        assert!(c.len() <= 28, "{c}");
        assert_ne!(c, iptables_chain("2001:db8::1".parse().unwrap()));
        let lines: Vec<String> = install(ip).iter().map(line).collect();
        assert!(lines[0].ends_with(&format!("-N {c}")));
        assert!(
            lines[1].contains("-d 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
                && lines[1].ends_with("-j DROP")
        );
        assert!(lines[2].contains(" -s ") && lines[2].ends_with("-j DROP"));
        assert!(lines[3].ends_with(&format!("-I INPUT 1 -j {c}")));
        assert!(lines[4].ends_with(&format!("-I OUTPUT 1 -j {c}")));
        assert!(
            lines.iter().all(|l| l.contains("-w 5")),
            "never fail on the xtables lock"
        );
        assert!(!lines.iter().any(|l| l.contains("REJECT")));
        let r = remove(ip);
        assert_eq!(r.steps.len(), 4);
        assert!(line(&r.steps[0]).ends_with(&format!("-D INPUT -j {c}")));
        assert!(line(&r.steps[1]).ends_with(&format!("-D OUTPUT -j {c}")));
        assert!(line(&r.steps[3]).ends_with(&format!("-X {c}")));
        assert!(line(&r.probe).ends_with(&format!("-L {c}")));
    }

    #[test]
    fn backend_names_round_trip() {
        for b in [Backend::Nft, Backend::Iptables] {
            assert_eq!(Backend::parse(b.name()), Some(b));
        }
        assert_eq!(Backend::parse("ufw"), None);
    }
}
