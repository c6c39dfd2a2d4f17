//! NFSv3 lock recovery after a failover: the NSM reboot notification.
//!
//! NFSv3 clients take their locks through the server's lockd (NLM) and
//! record the server in their own statd. After a failover the new node's
//! lockd knows none of those locks, and the clients learn that only from an
//! SM_NOTIFY ("the server rebooted"); then they reclaim their locks during
//! NLM's grace period (rpc.nfsd `-G`, nfsserver's `grace_time`).
//!
//! The notification must come after the service address is up and from
//! it: sm-notify binds its socket to `-v`'s address, and a client's statd
//! acts on an SM_NOTIFY whose `mon_name` or sender address matches a server
//! it monitors (`utils/statd/callback.c`); Linux clients monitor the server
//! by its address (lockd's `nsm_use_hostnames` is off by default). sm-notify
//! sends as the address's host name (a reverse lookup it insists on: "my_name
//! is unusable" otherwise), so the address needs a name on the servers,
//! the same the clients resolve. So rpc.statd runs with notification off, systemd's
//! `rpc-statd-notify.service` is kept from notifying under the node's own
//! name (the drop-in `nfsha dropin` writes), and the group's vip calls
//! [`after_address_up`] once its address is configured:
//!
//!     sm-notify -f -v <address> -P <state_directory>/statd
//!
//! sends SM_NOTIFY from the address, as the address, to every client listed
//! in `statd/sm` on the replicated state directory, and retries unreachable
//! clients in the background for up to 15 minutes (nfsserver's stop ends it;
//! it works in the state directory). Nothing happens unless nfsserver offers
//! NFSv3 on this node (its marker says so).

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use crate::agents::exec;
use crate::nfs::markers::ServerMarker;
use crate::ocf::{Ctx, OcfError, OcfResult};
use crate::sys::Cmd;

/// The notification for clients recorded in `statd_dir`, sent as `address`.
pub fn command(address: IpAddr, statd_dir: &Path) -> Cmd {
    Cmd::new("sm-notify").args([
        "-f".to_string(),
        "-v".to_string(),
        address.to_string(),
        "-P".to_string(),
        statd_dir.to_string_lossy().into_owned(),
    ])
}

/// Tell this node's NFSv3 clients that their server restarted, now that
/// `address` is up. A notification that cannot be sent fails the vip's
/// start: NFSv3 clients would otherwise keep locks the server no longer
/// holds, and another client could take them.
pub fn after_address_up(ctx: &Ctx, address: IpAddr) -> OcfResult {
    let Some(m) = ServerMarker::load(ctx.sys) else {
        return Ok(());
    };
    if !m.offers_v3() {
        return Ok(());
    }
    let Some(state) = &m.state_directory else {
        tracing::warn!(
            "nfsserver offers NFSv3 but did not record its state directory (started by an \
             older nfsha?); no reboot notification sent: restart nfsserver"
        );
        return Ok(());
    };
    let statd = state.join("statd");
    let cmd = command(address, &statd);
    // sm-notify forks into the background before its first packet: this
    // returns at once, and its exit status covers everything up to then
    // (state number, name, state directory).
    let out = exec::run(ctx, &cmd, ctx.step(Duration::from_secs(10)), "nfs-common")?;
    if !out.success() {
        // sm-notify writes its reasons to syslog only (it has no terminal).
        return Err(OcfError::generic(format!(
            "`{}` failed ({}; its reason is in the system log); NFSv3 clients were not told \
             to reclaim their locks. The usual cause: {address} has no host name on this node \
             (sm-notify sends as that name: give it one in /etc/hosts or DNS, the same on the \
             servers and the clients)",
            cmd.display(),
            out.failure_text()
        )));
    }
    tracing::info!(
        "NFSv3: sm-notify tells the clients recorded in {} to reclaim their locks from {address}",
        statd.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nfs::markers::{ServerMarker, StartMode};
    use crate::ocf::{Action, Params};
    use crate::sys::fake::{fail, Fake};
    use crate::sys::Deadline;

    fn ctx(sys: &Fake) -> Ctx<'_> {
        Ctx {
            sys,
            params: Params::default(),
            action: Action::Start,
            deadline: Deadline::after(sys, Duration::from_secs(10)),
            check_level: 0,
            probe: false,
            instance: "vip".into(),
            meta: Default::default(),
            env: Default::default(),
        }
    }

    fn marker(versions: &[&str]) -> ServerMarker {
        ServerMarker {
            mode: StartMode::Direct,
            hostname: "nfs-ha".into(),
            daemons: vec![],
            versions: versions.iter().map(|v| v.to_string()).collect(),
            state_directory: Some("/srv/nfs-state".into()),
        }
    }

    #[test]
    fn only_an_nfsv3_server_notifies_as_the_address() {
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        let f = Fake::new();
        after_address_up(&ctx(&f), ip).unwrap();
        marker(&["4.1", "4.2"]).save(&f).unwrap();
        after_address_up(&ctx(&f), ip).unwrap();
        assert!(f.commands().is_empty(), "{:?}", f.commands());
        marker(&["3", "4.2"]).save(&f).unwrap();
        after_address_up(&ctx(&f), ip).unwrap();
        assert_eq!(
            f.commands(),
            vec!["sm-notify -f -v 192.0.2.10 -P /srv/nfs-state/statd"]
        );
        let v6: IpAddr = "2001:db8::10".parse().unwrap();
        after_address_up(&ctx(&f), v6).unwrap();
        assert_eq!(
            f.commands()[1],
            "sm-notify -f -v 2001:db8::10 -P /srv/nfs-state/statd"
        );
    }

    #[test]
    fn a_failed_notification_fails_the_start() {
        let f = Fake::new();
        marker(&["3"]).save(&f).unwrap();
        f.respond(|c| {
            (c.program == "sm-notify")
                .then(|| fail(1, "sm-notify: Failed to open /srv/nfs-state/statd/state"))
                .flatten()
        });
        let e = after_address_up(&ctx(&f), "192.0.2.10".parse().unwrap()).unwrap_err();
        assert_eq!(e.rc, crate::ocf::Rc::ErrGeneric);
        assert!(
            e.reason.contains("were not told to reclaim"),
            "{}",
            e.reason
        );
    }
}
