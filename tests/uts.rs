//! The fixed host name: `internal-sethostname-exec` under the real
//! `unshare --uts` sets the name the started program sees, and refuses to
//! rename the node when it is not in a namespace of its own.

mod common;

#[test]
fn the_program_sees_the_fixed_name_and_the_node_keeps_its_own() {
    common::require_root();
    common::require("unshare", "util-linux");
    common::require("hostname", "hostname");
    let before = nix::unistd::gethostname().unwrap();
    let nfsha = common::nfsha();
    let out = common::run_ok(
        "unshare",
        &[
            "--uts",
            "--",
            nfsha.to_str().unwrap(),
            "internal-sethostname-exec",
            "nfs-ha-probe",
            "--",
            "hostname",
        ],
    );
    assert_eq!(out, "nfs-ha-probe\n");
    assert_eq!(nix::unistd::gethostname().unwrap(), before);
}

#[test]
fn refuses_outside_a_new_uts_namespace() {
    let before = nix::unistd::gethostname().unwrap();
    let out = common::run(
        common::nfsha(),
        &["internal-sethostname-exec", "nfs-ha-probe", "--", "true"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in a UTS namespace of its own"));
    assert_eq!(nix::unistd::gethostname().unwrap(), before);
}
