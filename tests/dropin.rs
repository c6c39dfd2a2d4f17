//! The drop-in examples in `systemd-dropins/` are what `nfsha dropin`
//! generates, systemd accepts them, and the generator refuses bad values.

mod common;

use std::path::Path;

const EXAMPLE: &str = "etc/systemd/system/nfs-server.service.d/nfsha.conf";
const NOTIFY_EXAMPLE: &str = "etc/systemd/system/rpc-statd-notify.service.d/nfsha.conf";

#[test]
fn committed_example_matches_the_generator() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    common::run_ok(
        common::nfsha(),
        &[
            "dropin",
            "--hostname",
            "nfs-ha",
            "--lease",
            "90",
            "--grace",
            "90",
            "--root",
            root,
        ],
    );
    for example in [EXAMPLE, NOTIFY_EXAMPLE] {
        let generated = std::fs::read_to_string(dir.path().join(example)).unwrap();
        let committed =
            std::fs::read_to_string(common::repo().join("systemd-dropins").join(example)).unwrap();
        assert_eq!(
            committed, generated,
            "systemd-dropins/{example} is stale; regenerate with \
             `nfsha dropin --hostname nfs-ha --lease 90 --grace 90 --root systemd-dropins`"
        );
    }
    // Running it again changes nothing.
    let again = common::run_ok(
        common::nfsha(),
        &["dropin", "--hostname", "nfs-ha", "--root", root],
    );
    assert_eq!(again.lines().count(), 2, "{again}");
    assert!(
        again.lines().all(|l| l.starts_with("unchanged ")),
        "{again}"
    );
}

/// `systemd-analyze verify` of the installed `unit` merged with the
/// committed drop-in `example` (from a unit directory searched first).
fn verify(unit: &str, example: &str) -> tempfile::TempDir {
    common::require("systemd-analyze", "systemd");
    let installed = Path::new("/lib/systemd/system").join(unit);
    assert!(
        installed.exists(),
        "needs {}: apt-get install nfs-kernel-server nfs-common",
        installed.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let dropins = dir.path().join(format!("{unit}.d"));
    std::fs::create_dir_all(&dropins).unwrap();
    std::fs::copy(
        common::repo().join("systemd-dropins").join(example),
        dropins.join("nfsha.conf"),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no", unit])
        .env("SYSTEMD_UNIT_PATH", format!("{}:", dir.path().display()))
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "systemd-analyze verify {unit} failed: {stderr}"
    );
    assert!(
        !stderr.contains("nfsha.conf"),
        "systemd complains about the drop-in of {unit}: {stderr}"
    );
    dir
}

#[test]
fn systemd_analyze_verify_accepts_the_units_with_the_dropins() {
    verify("rpc-statd-notify.service", NOTIFY_EXAMPLE);
    let dir = verify("nfs-server.service", EXAMPLE);
    let dropins = dir.path().join("nfs-server.service.d");
    // The merged unit really carries the replaced ExecStart (systemctl cat
    // needs a running systemd, so read what verify loaded via --root-less dump).
    let text = std::fs::read_to_string(dropins.join("nfsha.conf")).unwrap();
    assert!(text.contains("ExecStart=\nExecStart=/usr/bin/unshare --uts -- "));

    // A broken drop-in is rejected, so the check above can fail.
    std::fs::write(
        dropins.join("nfsha.conf"),
        "[Service]\nExecStart=\nExecStart=unshare-not-absolute --uts\n",
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no", "nfs-server.service"])
        .env("SYSTEMD_UNIT_PATH", format!("{}:", dir.path().display()))
        .output()
        .unwrap();
    assert!(
        !out.status.success() || !out.stderr.is_empty(),
        "systemd-analyze accepted a broken drop-in"
    );
}

#[test]
fn generator_refuses_bad_values() {
    let out = common::run(
        common::nfsha(),
        &["dropin", "--hostname", "nfs-ha", "--lease", "20", "--print"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lease \"20\" is invalid: below 30 s"));
    let out = common::run(common::nfsha(), &["dropin", "--hostname", "a b", "--print"]);
    assert_eq!(out.status.code(), Some(2));
    let out = common::run_ok(
        common::nfsha(),
        &[
            "dropin",
            "--hostname",
            "nfs-ha",
            "--lease",
            "120",
            "--print",
        ],
    );
    assert!(
        out.contains("rpc.nfsd -L 120 -G 120\n"),
        "grace defaults to the lease: {out}"
    );
    assert!(
        out.contains("[Unit]\nConditionPathExists=!/run/nfsha/nfs-server.allow\n"),
        "--print shows the rpc-statd-notify drop-in too: {out}"
    );
}
