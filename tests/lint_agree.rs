//! The lint and the programs it speaks for never disagree. Each rule that
//! mirrors a check of an agent, of `nfsha dropin`, of the heartbeat daemon
//! or of `crm_verify` calls the same function; here each pair is run both
//! ways on the same inputs: the real program (the built binary, or
//! `crm_verify`) and `nfsha lint`, and they must agree case by case.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use nfsha::lint::{lint_model, Config, Finding, Severity};
use nfsha::model::{self, Model};

fn crm_model(text: &str) -> Model {
    model::crm::parse(text, &Arc::from("t.crm")).unwrap()
}

fn lint_crm(text: &str, nfs_conf: Option<&str>) -> Vec<Finding> {
    let mut m = crm_model(text);
    if let Some(conf) = nfs_conf {
        model::nfsconf::parse_nfs_conf(conf, &Arc::from("nfs.conf"), None, &mut m.host).unwrap();
    }
    lint_model(&m, &Config::default())
}

/// `nfsha agent <agent> <action>` with these parameters and extra environment:
/// (exit code, exit reason).
fn agent(
    name: &str,
    action: &str,
    params: &[(&str, &str)],
    env: &[(&str, &Path)],
) -> (i32, String) {
    let mut c = Command::new(common::nfsha());
    c.args(["agent", name, action]);
    for (k, v) in params {
        c.env(format!("OCF_RESKEY_{k}"), v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let reason = err
        .lines()
        .find_map(|l| l.strip_prefix("ocf-exit-reason:"))
        .unwrap_or("")
        .to_string();
    (out.status.code().unwrap_or(-1), reason)
}

/// The crm text of one nfsha primitive `r` with these parameters.
fn primitive(agent: &str, params: &[(&str, &str)]) -> String {
    let ps: Vec<String> = params.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("primitive r ocf:nfsha:{agent} params {}\n", ps.join(" "))
}

/// Whether lint reports an error on `r` that carries `reason`.
fn lint_refuses(findings: &[Finding], reason: &str) -> bool {
    findings.iter().any(|f| {
        f.severity == Severity::Error
            && f.objects.iter().any(|o| o == "r" || o.starts_with("r "))
            && (reason.is_empty() || f.message.contains(reason))
    })
}

/// NFS004 (and the rules that say it better) ↔ each agent's validate-all.
#[test]
fn agents_validate_all_and_lint_agree() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "nfsserver",
            &[("state_directory", "/srv/s"), ("server_hostname", "nfs-ha")],
        ),
        ("nfsserver", &[("server_hostname", "nfs-ha")]),
        (
            "nfsserver",
            &[
                ("state_directory", "/srv/s"),
                ("server_hostname", "nfs-ha"),
                ("lease_time", "90s"),
            ],
        ),
        (
            "nfsserver",
            &[
                ("state_directory", "/srv/s"),
                ("server_hostname", "nfs-ha"),
                ("nfs_versions", "4"),
            ],
        ),
        (
            "nfsserver",
            &[
                ("state_directory", "/srv/s"),
                ("server_hostname", "bad host"),
            ],
        ),
        (
            "nfsserver",
            &[
                ("state_directory", "/srv/s"),
                ("server_hostname", "nfs-ha"),
                ("threads", "0"),
            ],
        ),
        (
            "nfsserver",
            &[
                ("state_directory", "/srv/s"),
                ("server_hostname", "nfs-ha"),
                ("thread", "8"),
            ],
        ),
        (
            "nfsserver",
            &[
                ("state_directory", "/srv/s"),
                ("server_hostname", "nfs-ha"),
                ("allow_clone", "maybe"),
            ],
        ),
        (
            "nfsserver",
            &[("state_directory", "srv/s"), ("server_hostname", "nfs-ha")],
        ),
        (
            "nfsserver",
            &[("state_directory", "/srv/s"), ("nfs_versions", "4.0")],
        ),
        ("nfsstate", &[("directory", "/srv/s")]),
        ("nfsstate", &[("directory", "srv/s")]),
        ("nfsstate", &[("directory", "/srv/s"), ("fstype", "xfs")]),
        (
            "nfsstate",
            &[
                ("directory", "/srv/s"),
                ("device", "/dev/drbd0"),
                ("options", "a,,b"),
            ],
        ),
        (
            "exportfs",
            &[
                ("directory", "/srv/x"),
                ("clientspec", "10.0.0.0/24"),
                ("fsid", "1"),
            ],
        ),
        (
            "exportfs",
            &[("directory", "/srv/x"), ("clientspec", "10.0.0.0/24")],
        ),
        (
            "exportfs",
            &[
                ("directory", "/srv/x"),
                ("clientspec", "10.0.0.0/24"),
                ("fsid", "1"),
                ("wait_for_leasetime_on_stop", "true"),
            ],
        ),
        ("vip", &[("ip", "192.0.2.5")]),
        ("vip", &[("ip", "192.0.2.500")]),
        ("vip", &[("ip", "192.0.2.5"), ("cidr_netmask", "40")]),
        ("vip", &[("ip", "fd00::5"), ("label", "nfs")]),
    ];
    let (mut accepted, mut refused) = (0, 0);
    for (name, params) in cases {
        let (rc, reason) = agent(name, "validate-all", params, &[]);
        let findings = lint_crm(&primitive(name, params), None);
        if rc == 0 {
            accepted += 1;
            let e: Vec<_> = findings.iter().filter(|f| f.code == "NFS004").collect();
            assert!(
                e.is_empty(),
                "{name} {params:?}: the agent accepts, lint says {e:#?}"
            );
        } else {
            refused += 1;
            assert!(
                !reason.is_empty(),
                "{name} {params:?}: rc {rc} without a reason"
            );
            assert!(
                lint_refuses(&findings, &reason),
                "{name} {params:?}: the agent refuses ({reason}), lint does not say so: {findings:#?}"
            );
        }
    }
    assert!(
        accepted >= 4 && refused >= 14,
        "{accepted} accepted, {refused} refused"
    );
}

/// NFS301 ↔ `ocf:nfsha:nfsserver` and `nfsha dropin`: the same lease and
/// grace are refused by all three, or by none.
#[test]
fn lease_and_grace_agree_with_the_agent_and_dropin() {
    let values = [5u32, 10, 15, 29, 30, 45, 60, 90, 120, 3600, 3601];
    let mut pairs = 0;
    for &lease in &values {
        for &grace in &[lease, 20, 90, 4000] {
            let (l, g) = (lease.to_string(), grace.to_string());
            let params = [
                ("state_directory", "/srv/s"),
                ("server_hostname", "nfs-ha"),
                ("lease_time", l.as_str()),
                ("grace_time", g.as_str()),
            ];
            let (rc, reason) = agent("nfsserver", "validate-all", &params, &[]);
            let dropin = Command::new(common::nfsha())
                .args([
                    "dropin",
                    "--hostname",
                    "nfs-ha",
                    "--lease",
                    &l,
                    "--grace",
                    &g,
                    "--print",
                ])
                .output()
                .unwrap();
            assert_eq!(
                rc == 0,
                dropin.status.success(),
                "lease {lease} grace {grace}: agent rc {rc} ({reason}), dropin {}",
                String::from_utf8_lossy(&dropin.stderr)
            );
            // The same values in nfs.conf and in nfsd_args, for ClusterLabs'
            // agent: lint refuses exactly what nfsha's agent refuses.
            let conf = format!("[nfsd]\nlease-time={lease}\ngrace-time={grace}\n");
            let heartbeat = format!(
                "primitive s nfsserver params nfs_server_scope=x nfsd_args=\"-L {lease} -G {grace}\"\n"
            );
            for findings in [
                lint_crm(&primitive("nfsserver", &params), None),
                lint_crm(
                    "primitive s nfsserver params nfs_server_scope=x\n",
                    Some(&conf),
                ),
                lint_crm(&heartbeat, None),
            ] {
                let lint_error = findings
                    .iter()
                    .any(|f| f.code == "NFS301" && f.severity == Severity::Error);
                assert_eq!(
                    lint_error,
                    rc != 0,
                    "lease {lease} grace {grace}: {reason} {findings:#?}"
                );
                if rc != 0 {
                    assert!(
                        findings.iter().any(|f| f.message.contains(&reason)),
                        "{reason}"
                    );
                }
            }
            pairs += 1;
        }
    }
    assert_eq!(pairs, values.len() * 4);
}

/// NFS201 ↔ the agent's clone rule; NFS302 ↔ its host name rule.
#[test]
fn clone_and_host_name_rules_agree_with_the_agent() {
    for allow in ["false", "true"] {
        let params = [
            ("state_directory", "/srv/s"),
            ("server_hostname", "nfs-ha"),
            ("allow_clone", allow),
            ("CRM_meta_clone", "0"),
        ];
        let (rc, reason) = agent("nfsserver", "validate-all", &params, &[]);
        let crm = format!("{}clone cl r\n", primitive("nfsserver", &params[..3]));
        let findings = lint_crm(&crm, None);
        let nfs201 = findings.iter().find(|f| f.code == "NFS201");
        assert_eq!(nfs201.is_some(), rc != 0, "allow_clone={allow}: {reason}");
        if let Some(f) = nfs201 {
            assert_eq!(f.mirrors.as_deref(), Some(reason.as_str()));
            assert!(
                !findings.iter().any(|f| f.code == "NFS004"),
                "said twice: {findings:#?}"
            );
        }
    }
    for versions in ["3", "4.0", "3,4.0", "4.1", "4.2", "4.0,4.1"] {
        let params = [("state_directory", "/srv/s"), ("nfs_versions", versions)];
        let (rc, reason) = agent("nfsserver", "validate-all", &params, &[]);
        let findings = lint_crm(&primitive("nfsserver", &params), None);
        let nfs302 = findings
            .iter()
            .any(|f| f.code == "NFS302" && f.message.contains(&reason));
        assert_eq!(
            nfs302,
            rc != 0,
            "nfs_versions={versions}: {reason} {findings:#?}"
        );
    }
}

/// NFS306 and NFS401 ↔ the start checks of nfsserver and nfsstate on the
/// node's nfs.conf (validate-all at check level 10, in systemd mode with the
/// committed drop-in, as in tests/examples.rs).
#[test]
fn nfs_conf_checks_agree_with_the_agents_start_checks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("systemd")).unwrap();
    let base = std::fs::read_to_string(common::repo().join("examples/nfs.conf")).unwrap();
    let server = [
        ("server_hostname", "nfs-ha"),
        ("state_directory", "/srv/nfs-state"),
        ("lease_time", "90"),
        ("grace_time", "90"),
        ("nfs_versions", "4.1,4.2"),
        ("threads", "8"),
    ];
    let with_v3 = [
        ("server_hostname", "nfs-ha"),
        ("state_directory", "/srv/nfs-state"),
        ("lease_time", "90"),
        ("grace_time", "90"),
        ("nfs_versions", "3,4.1,4.2"),
        ("threads", "8"),
    ];
    type Params<'a> = &'a [(&'a str, &'a str)];
    let cases: Vec<(&str, String, Params)> = vec![
        ("as in the example", base.clone(), &server),
        (
            "16 threads",
            base.replace("threads=8", "threads=16"),
            &server,
        ),
        (
            "NFSv4.0 on",
            base.replace("vers4.0=n", "vers4.0=y"),
            &server,
        ),
        (
            "nfsdcld on the local disk",
            base.replace(
                "storagedir=/srv/nfs-state/nfsdcld",
                "storagedir=/var/lib/nfs/nfsdcld",
            ),
            &server,
        ),
        (
            "nfsdcltrack unset",
            base.replace("storagedir=/srv/nfs-state/nfsdcltrack", ""),
            &server,
        ),
        (
            "NFSv3 in both",
            base.replace("vers3=n", "vers3=y"),
            &with_v3,
        ),
        (
            "NFSv3 without statd's directory",
            base.replace("vers3=n", "vers3=y")
                .replace("state-directory-path=/srv/nfs-state/statd", ""),
            &with_v3,
        ),
    ];
    for (what, conf, params) in cases {
        let path = dir.path().join("nfs.conf");
        std::fs::write(&path, &conf).unwrap();
        let env = [
            ("OCF_CHECK_LEVEL", Path::new("10")),
            ("NFSHA_NFS_CONF", path.as_path()),
            ("NFSHA_NFS_CONF_D", &dir.path().join("none")),
            ("NFSHA_RUN_SYSTEMD", &dir.path().join("systemd")),
        ];
        let dropins = common::repo().join("systemd-dropins/etc/systemd/system");
        let mut env: Vec<(&str, &Path)> = env.to_vec();
        env.push(("NFSHA_SYSTEMD_DIR", &dropins));
        let (rc_server, why_server) = agent("nfsserver", "validate-all", params, &env);
        let (rc_state, why_state) = agent(
            "nfsstate",
            "validate-all",
            &[("directory", "/srv/nfs-state")],
            &env,
        );
        let crm = format!(
            "{}primitive st ocf:nfsha:nfsstate params directory=/srv/nfs-state\ngroup g st r\n",
            primitive("nfsserver", params)
        );
        let findings = lint_crm(&crm, Some(&conf));
        let lint306 = findings.iter().any(|f| f.code == "NFS306");
        let lint401 = findings
            .iter()
            .any(|f| f.code == "NFS401" && f.severity == Severity::Error);
        assert_eq!(
            lint401,
            rc_state != 0,
            "{what}: nfsstate {why_state}; {findings:#?}"
        );
        assert_eq!(
            lint306 || lint401,
            rc_server != 0,
            "{what}: nfsserver {why_server}; {findings:#?}"
        );
    }
}

/// NFS703 ↔ the heartbeat daemon's own validation.
#[test]
fn heartbeat_settings_agree_with_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        "interval = \"10s\"\nio_timeout = \"10s\"\nfence_after = \"120s\"\n",
        "interval = \"10s\"\nio_timeout = \"10s\"\nfence_after = 120\n",
        "interval = \"10s\"\nio_timeout = \"10s\"\nfence_after = \"120\"\n",
        "interval = \"10s\"\nfence_afterr = \"120s\"\n",
        "interval = \"10s\"\nio_timeout = \"10s\"\nfence_after = \"15s\"\n",
        "fence_action = \"reboot\"\nescalate_after = \"30s\"\n",
        "fence_action = \"graceful-reboot\"\nescalate_after = \"30s\"\n",
        "[watchdog]\ntimeout = \"10s\"\n",
        "interval = \"0s\"\n",
        "dead_after = \"10s\"\n",
    ];
    let mut refused = 0;
    for text in cases {
        let path = dir.path().join("heartbeat.toml");
        std::fs::write(&path, text).unwrap();
        let out = Command::new(common::nfsha())
            .args(["heartbeat", "validate", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let inputs = nfsha::lint::read_inputs(std::slice::from_ref(&path), None).unwrap();
        let findings = nfsha::lint::lint_inputs(inputs.clusters, inputs.host, &Config::default());
        let nfs703: Vec<_> = findings.iter().filter(|f| f.code == "NFS703").collect();
        assert_eq!(
            nfs703.is_empty(),
            out.status.success(),
            "{text:?}: daemon {}; lint {nfs703:#?}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(f) = nfs703.first() {
            refused += 1;
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(
                said.contains(f.mirrors.as_deref().unwrap()),
                "{said} vs {f:#?}"
            );
        }
    }
    assert!(refused >= 6, "only {refused} refused");
}

/// NFS701 ↔ crm_verify: fencing on with no device is "config not valid".
#[test]
fn fencing_without_a_device_agrees_with_crm_verify() {
    common::require("crm_verify", "pacemaker-cli-utils");
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string("tests/fixtures/lint/base.xml").unwrap();
    let fence = base.find("<primitive id=\"stonith-sbd\"").unwrap();
    let fence_end = fence + base[fence..].find("</primitive>").unwrap() + "</primitive>".len();
    let without = format!("{}{}", &base[..fence], &base[fence_end..]);
    let off = without.replace(
        "name=\"stonith-enabled\" value=\"true\"",
        "name=\"stonith-enabled\" value=\"false\"",
    );
    let unset = without.replace(
        "name=\"stonith-enabled\" value=\"true\"",
        "name=\"no-quorum-policy\" value=\"stop\"",
    );
    assert_ne!(off, without);
    assert_ne!(unset, without);
    for (what, cib) in [
        ("with a device", &base),
        ("no device", &without),
        ("no device, fencing off", &off),
        ("no device, fencing by default", &unset),
    ] {
        let path = dir.path().join("cib.xml");
        std::fs::write(&path, cib).unwrap();
        let out = Command::new("crm_verify")
            .arg("-V")
            .arg("-x")
            .arg(&path)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        let crm_verify_says = said.contains("no STONITH resources have been defined");
        let m = model::cib::parse(cib, &Arc::from("cib.xml")).unwrap();
        let lint_says = lint_model(&m, &Config::default())
            .iter()
            .any(|f| f.code == "NFS701" && f.message.contains("no fence device"));
        assert_eq!(lint_says, crm_verify_says, "{what}: {said}");
    }
}
