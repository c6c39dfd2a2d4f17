//! `ocf:nfsha:storagehb` — a KVM host's storage heartbeat as a Pacemaker
//! resource (clone it): monitor fails when the heartbeat daemon's renewals on
//! the resource's mount are failing, so Pacemaker moves resources away before
//! a hard mount wedges the node (as `ocf:heartbeat:storage-mon` does).
//!
//! The agent never touches the mount itself: it reads the status the
//! `nfsha heartbeat run` daemon keeps on tmpfs, so a monitor answers at once
//! even while the mount hangs. A daemon that stopped updating its status is a
//! failure too.

use std::path::PathBuf;
use std::time::Duration;

use crate::heartbeat::clock::boottime_ms;
use crate::heartbeat::config::{check_host_id, status_file_in, Config, DEFAULT_PATH};
use crate::heartbeat::status::Status;
use crate::ocf::params::absolute_path;
use crate::ocf::{Agent, AgentSpec, Ctx, OcfError, OcfResult, ParamSpec, Timeouts};

pub struct StorageHb;

static PARAMS: &[ParamSpec] = &[
    ParamSpec::new(
        "mount",
        "Mount point whose heartbeat is watched",
        "The mount point (a [[storage]] mount in the heartbeat configuration, e.g. the \
         libvirt pool /mnt/primary). Monitor fails while the daemon's renewals on it fail.",
    )
    .required()
    .unique()
    .check(absolute_path),
    ParamSpec::new(
        "config",
        "Heartbeat configuration file",
        "The nfsha heartbeat configuration; its run_dir tells where the daemon's status is.",
    )
    .default(DEFAULT_PATH)
    .check(absolute_path),
    ParamSpec::new(
        "status_file",
        "Status file (overrides config)",
        "Read the daemon's status from this file instead of <run_dir>/heartbeat-status.json.",
    )
    .check(absolute_path),
    ParamSpec::new(
        "host_id",
        "Expected host id",
        "When set, monitor fails unless the daemon renews under this host id (catches a \
         copied configuration that would make two hosts write one record). In a clone, \
         where one value serves every node: @node (the node's own name, up to the first \
         dot) or a list node=id separated by blanks or commas, e.g. \
         \"kvm1=kvm1 kvm2.lan=kvm2\".",
    )
    .check(host_id_spec),
    ParamSpec::new(
        "max_failing",
        "Seconds of failing renewals tolerated",
        "How long renewals may have been failing before monitor fails. 0 fails at the first \
         failed or overdue renewal. Keep it well below the daemon's fence_after so that \
         Pacemaker moves resources before the host fences itself.",
    )
    .integer(0, 86_400)
    .default("0"),
];

static SPEC: AgentSpec = AgentSpec {
    name: "storagehb",
    shortdesc: "Storage heartbeat of a KVM host's NFS mount (fails when renewals fail)",
    longdesc: "Reports the health of the nfsha storage heartbeat on one mount. The heartbeat \
        daemon (nfsha heartbeat run) renews a record on the mount every interval from a helper \
        process with a deadline, so it never blocks on a hung mount; this agent only reads the \
        daemon's status file on tmpfs. Monitor fails while renewals on the mount fail or the \
        daemon stops updating its status. Run it as a clone on every KVM host and colocate \
        resources that need the storage with it.",
    params: PARAMS,
    refused: &[],
    timeouts: Timeouts {
        start: Duration::from_secs(10),
        stop: Duration::from_secs(10),
        monitor: Duration::from_secs(10),
        monitor_interval: Duration::from_secs(10),
        validate: Duration::from_secs(10),
    },
    monitor_depths: &[],
};

fn status_path(ctx: &Ctx) -> OcfResult<PathBuf> {
    if let Some(p) = ctx.params.str("status_file") {
        return Ok(PathBuf::from(p));
    }
    let cfg_path = PathBuf::from(ctx.params.str("config").unwrap_or(DEFAULT_PATH));
    match ctx.sys.read_to_string(&cfg_path) {
        Ok(text) => Config::parse(&text).map(|c| c.status_file()).map_err(|e| {
            OcfError::configured(format!("config={:?}: {e}", cfg_path.display().to_string()))
        }),
        Err(_) => Ok(status_file_in(std::path::Path::new("/run/nfsha"))),
    }
}

/// The `host_id` parameter's syntax: `@node`, a list of `node=id`, or one id.
fn host_id_spec(v: &str) -> Result<(), String> {
    if v == "@node" {
        return Ok(());
    }
    for item in v.split([' ', ',']).filter(|i| !i.is_empty()) {
        let id = item.split_once('=').map_or(item, |(_, id)| id);
        check_host_id("host_id", id).map_err(|e| e.message)?;
    }
    Ok(())
}

/// The host id the daemon on this node must renew as, from `host_id`.
fn expected_host_id(spec: &str, node: Option<&str>) -> Result<String, String> {
    let short = |n: &str| n.split('.').next().unwrap_or(n).to_string();
    if spec == "@node" {
        return node.map(short).ok_or_else(|| {
            "host_id=@node: Pacemaker did not pass the node name (CRM_meta_on_node)".to_string()
        });
    }
    if !spec.contains('=') {
        return Ok(spec.to_string());
    }
    let node = node.ok_or("host_id lists nodes but Pacemaker did not pass the node name")?;
    spec.split([' ', ','])
        .filter_map(|i| i.split_once('='))
        .find(|(n, _)| *n == node || short(n) == short(node))
        .map(|(_, id)| id.to_string())
        .ok_or_else(|| format!("host_id={spec:?} has no entry for node {node:?}"))
}

fn active_file(ctx: &Ctx) -> PathBuf {
    let inst = ctx.instance.replace(['/', ':'], "_");
    ctx.sys
        .state_dir()
        .join(format!("nfsha-storagehb-{inst}.active"))
}

/// The heartbeat's health on our mount, from the daemon's status.
fn health(ctx: &Ctx) -> OcfResult {
    let path = status_path(ctx)?;
    let mount = ctx.params.str("mount").unwrap_or_default();
    let text = ctx.sys.read_to_string(&path).map_err(|e| {
        OcfError::generic(format!(
            "cannot read the heartbeat daemon's status {}: {e} (is nfsha-heartbeat.service running?)",
            path.display()
        ))
    })?;
    let status: Status = serde_json::from_str(&text).map_err(|e| {
        OcfError::generic(format!("{}: not a heartbeat status: {e}", path.display()))
    })?;
    if let Some(age) = status.stale_for(boottime_ms()) {
        return Err(OcfError::generic(format!(
            "the heartbeat daemon has not updated {} for {:.0}s: it is stopped or hung",
            path.display(),
            age.as_secs_f64()
        )));
    }
    if let Some(spec) = ctx.params.str("host_id") {
        let want = expected_host_id(spec, ctx.meta.get("on_node").map(String::as_str))
            .map_err(OcfError::configured)?;
        if status.host_id != want {
            return Err(OcfError::generic(format!(
                "host_id={spec:?}: this node's daemon should renew as {want:?} but renews as {:?}",
                status.host_id
            )));
        }
    }
    if !status.config_errors.is_empty() {
        return Err(OcfError::generic(format!(
            "the heartbeat daemon runs fail-safe on built-in defaults: its configuration is invalid ({})",
            status.config_errors.join("; ")
        )));
    }
    let st = status.storage(mount).ok_or_else(|| {
        OcfError::generic(format!(
            "mount={mount:?} is not a [[storage]] of the heartbeat daemon (it renews: {})",
            status
                .storages
                .iter()
                .map(|s| s.mount.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let max_failing_ms = ctx.params.int("max_failing").unwrap_or(0).max(0) as u64 * 1000;
    let overdue = st.in_flight_ms > status.io_timeout_ms;
    let bad = match st.state.as_str() {
        "ok" => overdue && max_failing_ms == 0,
        "failing" => st.failing_ms >= max_failing_ms || (overdue && max_failing_ms == 0),
        _ => true,
    };
    if let Some(c) = &st.conflict {
        return Err(OcfError::generic(format!("heartbeat on {mount}: {c}")));
    }
    if bad {
        return Err(OcfError::generic(format!(
            "heartbeat on {mount} is {} (failing for {:.1}s{}): {}",
            st.state,
            st.failing_ms as f64 / 1000.0,
            if overdue {
                ", an attempt is overdue"
            } else {
                ""
            },
            st.last_error
                .as_deref()
                .unwrap_or("no successful renewal yet")
        )));
    }
    Ok(())
}

impl Agent for StorageHb {
    fn spec(&self) -> &'static AgentSpec {
        &SPEC
    }

    fn validate(&self, ctx: &Ctx) -> OcfResult {
        status_path(ctx).map(|_| ())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult {
        health(ctx)?;
        let f = active_file(ctx);
        let _ = std::fs::create_dir_all(ctx.sys.state_dir());
        ctx.sys
            .write(&f, b"active\n")
            .map_err(|e| OcfError::generic(format!("cannot write {}: {e}", f.display())))
    }

    fn stop(&self, ctx: &Ctx) -> OcfResult {
        let _ = ctx.sys.remove_file(&active_file(ctx));
        Ok(())
    }

    fn monitor(&self, ctx: &Ctx) -> OcfResult {
        if !ctx.sys.exists(&active_file(ctx)) {
            return Err(OcfError::not_running("not started"));
        }
        health(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::fence::FenceAction;
    use crate::heartbeat::status::{FenceStatus, StorageStatus, Totals};
    use crate::ocf;
    use crate::sys::fake::Fake;
    use std::collections::BTreeMap;

    fn status(state: &str, failing_ms: u64, updated_ms: u64) -> String {
        let s = Status {
            version: 1,
            pid: 1,
            host_id: "kvm1".into(),
            generation: "0".into(),
            updated_ms,
            interval_ms: 10_000,
            io_timeout_ms: 10_000,
            fence_after_ms: 80_000,
            dead_after_ms: 106_000,
            fence: FenceStatus {
                action: FenceAction::Reboot,
                state: "healthy".into(),
                decided_ms: None,
                reason: None,
                dry_run: false,
                steps: vec![],
            },
            watchdog: None,
            storages: vec![StorageStatus {
                name: "primary".into(),
                mount: "/mnt/primary".into(),
                record: "/mnt/primary/.nfsha/hb/kvm1".into(),
                state: state.into(),
                fence: true,
                seq: 9,
                last_success_ms: Some(1),
                failing_ms,
                in_flight_ms: 0,
                stuck_helpers: 0,
                consecutive_failures: u32::from(failing_ms > 0),
                last_error: (failing_ms > 0).then(|| "no answer within io_timeout 10s".into()),
                totals: Totals::default(),
                history: vec![],
                peers: vec![],
                ..Default::default()
            }],
            ..Default::default()
        };
        serde_json::to_string(&s).unwrap()
    }

    fn go(sys: &Fake, action: &str, extra: &[(&str, &str)]) -> (i32, String) {
        let mut env: BTreeMap<String, String> = [
            ("mount", "/mnt/primary"),
            ("status_file", "/run/nfsha/s.json"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (format!("OCF_RESKEY_{k}"), v.to_string()))
        .collect();
        env.insert("OCF_RESKEY_CRM_meta_interval".into(), "10000".into());
        env.insert("OCF_RESOURCE_INSTANCE".into(), "hb:0".into());
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let rc = ocf::run(&StorageHb, Some(action), env, sys, &mut o, &mut e);
        (rc, String::from_utf8(e).unwrap())
    }

    #[test]
    fn monitor_follows_the_daemons_view_of_the_mount() {
        let f = Fake::new();
        assert_eq!(go(&f, "monitor", &[]).0, 7, "not started");
        f.file("/run/nfsha/s.json", &status("ok", 0, boottime_ms()));
        assert_eq!(go(&f, "start", &[]).0, 0);
        assert_eq!(go(&f, "monitor", &[]).0, 0);
        f.file(
            "/run/nfsha/s.json",
            &status("failing", 12_000, boottime_ms()),
        );
        let (rc, err) = go(&f, "monitor", &[]);
        assert_eq!(rc, 1);
        assert!(
            err.contains("heartbeat on /mnt/primary is failing (failing for 12.0s)"),
            "{err}"
        );
        assert_eq!(
            go(&f, "monitor", &[("max_failing", "30")]).0,
            0,
            "tolerated"
        );
        f.file(
            "/run/nfsha/s.json",
            &status("ok", 0, boottime_ms().saturating_sub(120_000)),
        );
        let (rc, err) = go(&f, "monitor", &[]);
        assert_eq!(rc, 1);
        assert!(err.contains("stopped or hung"), "{err}");
        assert_eq!(go(&f, "stop", &[]).0, 0);
        assert_eq!(go(&f, "monitor", &[]).0, 7);
    }

    #[test]
    fn start_fails_without_the_daemon_or_for_an_unknown_mount() {
        let f = Fake::new();
        let (rc, err) = go(&f, "start", &[]);
        assert_eq!(rc, 1);
        assert!(err.contains("is nfsha-heartbeat.service running?"), "{err}");
        f.file("/run/nfsha/s.json", &status("ok", 0, boottime_ms()));
        let (rc, err) = go(&f, "start", &[("mount", "/mnt/other")]);
        assert_eq!(rc, 1);
        assert!(
            err.contains("mount=\"/mnt/other\" is not a [[storage]]"),
            "{err}"
        );
        let (rc, err) = go(&f, "start", &[("host_id", "kvm7")]);
        assert_eq!(rc, 1);
        assert!(err.contains("renews as \"kvm1\""), "{err}");
    }

    #[test]
    fn host_id_in_a_clone_per_node_or_the_nodes_name() {
        assert_eq!(expected_host_id("kvm1", None).unwrap(), "kvm1");
        assert_eq!(expected_host_id("@node", Some("kvm1.lan")).unwrap(), "kvm1");
        assert!(expected_host_id("@node", None).is_err());
        let list = "kvm1.lan=h1, kvm2=h2";
        assert_eq!(expected_host_id(list, Some("kvm1")).unwrap(), "h1");
        assert_eq!(expected_host_id(list, Some("kvm2.lan")).unwrap(), "h2");
        assert!(expected_host_id(list, Some("kvm3"))
            .unwrap_err()
            .contains("no entry for node \"kvm3\""));
        assert!(host_id_spec("@node").is_ok());
        assert!(host_id_spec("a=b c=d").is_ok());
        assert!(host_id_spec("a=b c").is_ok());
        assert!(host_id_spec("a=b c=d e").is_ok());
        assert!(host_id_spec("a=b/c").is_err());
    }
}
