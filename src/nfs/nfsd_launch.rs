//! The one nfsd command line: rpc.nfsd started in a new UTS namespace under
//! the cluster's host name, with the cluster's lease and grace time.
//!
//!     unshare --uts -- nfsha internal-sethostname-exec NAME -- rpc.nfsd -L LEASE -G GRACE [-N|-V v …] [THREADS]
//!
//! The nfsserver agent runs it (direct mode), `nfsha dropin` writes it into
//! nfs-server.service's `ExecStart=` (systemd mode), and nfsserver reads the
//! drop-in back to check it names the resource's host name, lease and grace:
//! all three through [`NfsdLaunch`], so they cannot drift apart. No shell is
//! involved anywhere: the host name is checked ([`crate::sys::uts`]) and
//! every word is one argv entry.

use std::path::Path;

use crate::nfs::versions;
use crate::sys::{self, Cmd};

/// What the drop-in's `ExecStart=` runs, by absolute path (systemd needs it).
pub const UNSHARE: &str = "/usr/bin/unshare";
pub const RPC_NFSD: &str = "/usr/sbin/rpc.nfsd";

/// The subcommand that sets the host name and execs rpc.nfsd.
pub const SETHOSTNAME_EXEC: &str = "internal-sethostname-exec";

/// Versions and threads given on the command line. In systemd mode rpc.nfsd
/// reads them from nfs.conf instead (nfsserver checks nfs.conf agrees).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub versions: Vec<&'static str>,
    pub threads: u32,
}

/// How rpc.nfsd is started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NfsdLaunch {
    pub hostname: String,
    pub lease: u32,
    pub grace: u32,
    pub offer: Option<Offer>,
}

/// What a drop-in's `ExecStart=` sets, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launched {
    pub hostname: String,
    pub lease: Option<u32>,
    pub grace: Option<u32>,
}

impl NfsdLaunch {
    /// rpc.nfsd's arguments (after the program name).
    pub fn rpc_nfsd_args(&self) -> Vec<String> {
        let mut a = vec![
            "-L".to_string(),
            self.lease.to_string(),
            "-G".to_string(),
            self.grace.to_string(),
        ];
        if let Some(o) = &self.offer {
            for v in versions::VERSIONS {
                a.push(if o.versions.contains(&v) { "-V" } else { "-N" }.to_string());
                a.push(v.to_string());
            }
            a.push(o.threads.to_string());
        }
        a
    }

    /// The whole argv, with the three programs as given.
    pub fn argv(&self, unshare: &str, nfsha: &str, rpc_nfsd: &str) -> Vec<String> {
        let mut a: Vec<String> = [unshare, "--uts", "--", nfsha, SETHOSTNAME_EXEC]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend([self.hostname.clone(), "--".into(), rpc_nfsd.into()]);
        a.extend(self.rpc_nfsd_args());
        a
    }

    /// The command nfsserver runs: `unshare` and `rpc.nfsd` from `PATH`,
    /// this very executable for the host-name step.
    pub fn cmd(&self) -> Cmd {
        let nfsha = sys::self_exe().to_string_lossy().into_owned();
        let argv = self.argv("unshare", &nfsha, "rpc.nfsd");
        Cmd::new(&argv[0]).args(argv[1..].iter().cloned())
    }

    /// The `ExecStart=` value for the drop-in, with `nfsha` installed at
    /// `nfsha`. Refuses a path systemd would split or expand (blanks,
    /// quotes, `%` specifiers, `$` variables, backslashes).
    pub fn exec_start(&self, nfsha: &Path) -> Result<String, String> {
        let nfsha = nfsha.to_string_lossy();
        if !nfsha.starts_with('/')
            || nfsha
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "%$\\\"';".contains(c))
        {
            return Err(format!(
                "{nfsha:?}: expected an absolute path without blanks, quotes, '%', '$', ';' or '\\'"
            ));
        }
        Ok(self.argv(UNSHARE, &nfsha, RPC_NFSD).join(" "))
    }

    /// Read back the host name, lease and grace from a unit or drop-in: the
    /// last `ExecStart=` line that runs rpc.nfsd through
    /// `internal-sethostname-exec`.
    pub fn parse_exec_start(text: &str) -> Option<Launched> {
        let line = text
            .lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix("ExecStart="))
            .rfind(|l| l.contains(SETHOSTNAME_EXEC))?;
        let words: Vec<&str> = line
            .trim_start_matches(['-', '@', ':', '+', '!'])
            .split_whitespace()
            .collect();
        let i = words.iter().position(|w| *w == SETHOSTNAME_EXEC)?;
        let hostname = words.get(i + 1)?.to_string();
        if words.get(i + 2) != Some(&"--") {
            return None;
        }
        let program = words.get(i + 3)?;
        if Path::new(program).file_name()? != "rpc.nfsd" {
            return None;
        }
        let args = &words[i + 4..];
        let value = |flags: &[&str]| {
            args.iter()
                .position(|w| flags.contains(w))
                .and_then(|j| args.get(j + 1))
                .and_then(|v| v.parse().ok())
        };
        Some(Launched {
            hostname,
            lease: value(&["-L", "--lease-time"]),
            grace: value(&["-G", "--grace-time"]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(offer: Option<Offer>) -> NfsdLaunch {
        NfsdLaunch {
            hostname: "nfs-ha".into(),
            lease: 120,
            grace: 150,
            offer,
        }
    }

    #[test]
    fn direct_mode_puts_versions_and_threads_on_the_command_line() {
        let l = launch(Some(Offer {
            versions: vec!["4.1", "4.2"],
            threads: 8,
        }));
        assert_eq!(
            l.argv("unshare", "/usr/sbin/nfsha", "rpc.nfsd").join(" "),
            "unshare --uts -- /usr/sbin/nfsha internal-sethostname-exec nfs-ha -- rpc.nfsd \
             -L 120 -G 150 -N 3 -N 4.0 -V 4.1 -V 4.2 8"
        );
        let c = l.cmd();
        assert_eq!(c.program, "unshare");
        assert_eq!(c.args[c.args.len() - 1], "8");
    }

    #[test]
    fn the_drop_in_line_reads_back_as_written() {
        let l = launch(None);
        let line = l.exec_start(Path::new("/usr/sbin/nfsha")).unwrap();
        assert_eq!(
            line,
            "/usr/bin/unshare --uts -- /usr/sbin/nfsha internal-sethostname-exec nfs-ha -- \
             /usr/sbin/rpc.nfsd -L 120 -G 150"
        );
        let unit = format!("[Service]\nExecStart=\nExecStart={line}\n");
        assert_eq!(
            NfsdLaunch::parse_exec_start(&unit),
            Some(Launched {
                hostname: "nfs-ha".into(),
                lease: Some(120),
                grace: Some(150)
            })
        );
        // The last one wins, as in systemd; prefixes and long options are read.
        let unit = format!(
            "ExecStart={line}\nExecStart=-/usr/bin/unshare --uts -- /x/nfsha internal-sethostname-exec other -- /sbin/rpc.nfsd --lease-time 60\n"
        );
        assert_eq!(
            NfsdLaunch::parse_exec_start(&unit),
            Some(Launched {
                hostname: "other".into(),
                lease: Some(60),
                grace: None
            })
        );
    }

    #[test]
    fn foreign_lines_are_not_read_as_ours() {
        for text in [
            "ExecStart=/usr/sbin/rpc.nfsd\n",
            "ExecStart=/usr/bin/unshare --uts -- /usr/sbin/nfsha internal-sethostname-exec nfs-ha\n",
            "ExecStart=/usr/bin/unshare --uts -- /usr/sbin/nfsha internal-sethostname-exec nfs-ha -- /bin/sh -c x\n",
            "ExecStart=/usr/bin/unshare --uts -- /usr/sbin/nfsha internal-sethostname-exec nfs-ha /usr/sbin/rpc.nfsd\n",
            "# ExecStart=/usr/bin/unshare --uts -- nfsha internal-sethostname-exec a -- rpc.nfsd\n",
        ] {
            assert_eq!(NfsdLaunch::parse_exec_start(text), None, "{text}");
        }
    }

    #[test]
    fn paths_systemd_would_mangle_are_refused() {
        let l = launch(None);
        for bad in [
            "nfsha",
            "/opt/my dir/nfsha",
            "/opt/%n/nfsha",
            "/opt/$X/nfsha",
        ] {
            assert!(l.exec_start(Path::new(bad)).is_err(), "{bad}");
        }
    }
}
