//! The `nfsha` command line and the OCF runtime as a process: dispatch,
//! completions, man pages, logging destinations and deadlines.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

fn nfsha() -> Command {
    Command::new(common::nfsha())
}

/// `nfsha agent vip validate-all` for the instance `nfs_ip` with parameter `ip`.
fn validate_vip(ip: &str) -> Command {
    let mut c = nfsha();
    c.args(["agent", "vip", "validate-all"])
        .env("OCF_RESOURCE_INSTANCE", "nfs_ip")
        .env("OCF_RESKEY_ip", ip);
    c
}

#[test]
fn unknown_agent_and_bad_usage() {
    let out = nfsha().args(["agent", "nosuch", "start"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no agent named \"nosuch\"; available: nfsstate, nfsserver, exportfs, vip"));
    let out = nfsha().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = nfsha().args(["agent", "vip", "promote"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "unimplemented OCF action");
}

#[test]
fn completions_and_man_pages() {
    let out = nfsha().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("_nfsha()") && text.contains("install"),
        "bash completion"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = nfsha()
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let page = std::fs::read_to_string(dir.path().join("nfsha.8")).unwrap();
    assert!(page.contains(".TH NFSHA 8"), "{page}");
    let sub = std::fs::read_to_string(dir.path().join("nfsha-install.8")).unwrap();
    assert!(sub.contains("destdir"), "{sub}");
    assert!(
        !dir.path().join("nfsha-announce.8").exists(),
        "hidden helpers get no page"
    );
}

#[test]
fn logs_go_to_ha_logfile_with_the_instance_tag() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("agent.log");
    let out = validate_vip("not-an-ip")
        .env("HA_LOGFILE", &log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(&format!(
            "vip(nfs_ip)[{}]: ERROR: validate-all failed: parameter ip=\"not-an-ip\" is invalid",
            out_pid(&text)
        )),
        "{text}"
    );
    // Debug lines appear only with HA_debug=1.
    assert!(!text.contains("DEBUG"), "{text}");
    let out = validate_vip("192.0.2.5")
        .env("HA_LOGFILE", &log)
        .env("HA_debug", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("DEBUG: validate-all succeeded"), "{text}");
}

#[test]
fn logs_go_to_syslog_with_facility_and_tag() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("log.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let out = validate_vip("192.0.2.5")
        .env("OCF_RESKEY_colour", "blue")
        .env("NFSHA_SYSLOG_SOCKET", &sock_path)
        .env("HA_LOGFACILITY", "local5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let mut buf = [0u8; 2048];
    let n = sock.recv(&mut buf).expect("a syslog datagram");
    let line = String::from_utf8_lossy(&buf[..n]);
    // local5 (21) * 8 + err (3) = 171
    assert!(line.starts_with("<171>vip(nfs_ip)["), "{line}");
    assert!(
        line.contains("ERROR: validate-all failed: unknown parameter(s) colour"),
        "{line}"
    );
}

/// The pid in the first log line (`tag[pid]:`).
fn out_pid(text: &str) -> String {
    text.split('[')
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or("")
        .to_string()
}

/// A stand-in `ip` that never returns, on PATH ahead of the real one: it
/// plays a command stuck on the kernel. The action must end by itself, with
/// an error, within Pacemaker's timeout.
#[test]
fn actions_end_before_pacemakers_timeout() {
    common::require_root();
    let dir = tempfile::tempdir().unwrap();
    let fake_ip = dir.path().join("ip");
    std::fs::write(
        &fake_ip,
        "#!/bin/sh\n# test stand-in: hangs like a command stuck in the kernel\nexec sleep 600\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake_ip, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let started = Instant::now();
    let out = nfsha()
        .args(["agent", "vip", "start"])
        .env("PATH", path)
        .env("OCF_RESKEY_ip", "127.0.0.77")
        .env("OCF_RESKEY_nic", "lo")
        .env("OCF_RESKEY_cidr_netmask", "8")
        .env("OCF_RESKEY_arp_count", "0")
        .env("OCF_RESKEY_require_exports", "false")
        .env("OCF_RESKEY_CRM_meta_timeout", "3000")
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ocf-exit-reason:`ip -4 addr add 127.0.0.77/8 dev lo` did not finish within"),
        "{err}"
    );
    // Pacemaker would kill the action at 3 s; it must have answered before.
    assert!(took < Duration::from_secs(3), "took {took:?}");
}
