//! The drop-in examples in `systemd-dropins/` are what `nfsha dropin`
//! generates, systemd accepts them, and the generator refuses bad values.

mod common;

use std::path::Path;

const EXAMPLE: &str = "etc/systemd/system/nfs-server.service.d/nfsha.conf";

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
    let generated = std::fs::read_to_string(dir.path().join(EXAMPLE)).unwrap();
    let committed =
        std::fs::read_to_string(common::repo().join("systemd-dropins").join(EXAMPLE)).unwrap();
    assert_eq!(
        committed, generated,
        "systemd-dropins/{EXAMPLE} is stale; regenerate with \
         `nfsha dropin --hostname nfs-ha --lease 90 --grace 90 --root systemd-dropins`"
    );
    // Running it again changes nothing.
    let again = common::run_ok(
        common::nfsha(),
        &["dropin", "--hostname", "nfs-ha", "--root", root],
    );
    assert!(again.starts_with("unchanged "), "{again}");
}

#[test]
fn systemd_analyze_verify_accepts_the_unit_with_the_dropin() {
    common::require("systemd-analyze", "systemd");
    let unit = Path::new("/lib/systemd/system/nfs-server.service");
    assert!(
        unit.exists(),
        "needs {}: apt-get install nfs-kernel-server",
        unit.display()
    );
    // A unit directory searched before the system ones, holding only the
    // drop-in: systemd-analyze merges it into the installed unit.
    let dir = tempfile::tempdir().unwrap();
    let dropins = dir.path().join("nfs-server.service.d");
    std::fs::create_dir_all(&dropins).unwrap();
    std::fs::copy(
        common::repo().join("systemd-dropins").join(EXAMPLE),
        dropins.join("nfsha.conf"),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no", "nfs-server.service"])
        .env("SYSTEMD_UNIT_PATH", format!("{}:", dir.path().display()))
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "systemd-analyze verify failed: {stderr}"
    );
    assert!(
        !stderr.contains("nfsha.conf"),
        "systemd complains about the drop-in: {stderr}"
    );
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
}
