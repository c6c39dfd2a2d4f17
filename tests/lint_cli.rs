//! The `nfsha lint` and `nfsha order` command lines, run as a user would.

use assert_cmd::Command;

const BASE_CRM: &str = "tests/fixtures/lint/base.crm";
const BAD_CLONE: &str = "tests/fixtures/lint/NFS201/bad.crm";

fn nfsha() -> Command {
    Command::cargo_bin("nfsha").unwrap()
}

fn stdout(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

#[test]
fn exit_codes_follow_fail_on() {
    let (rc, out, _) = stdout(nfsha().args(["lint", BASE_CRM]));
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("No problems found"));
    let (rc, out, _) = stdout(nfsha().args(["lint", BAD_CLONE]));
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("error[NFS201] server-cloned"));
    // Only a warning: fails with --fail-on warning, passes by default.
    let w = "tests/fixtures/lint/NFS602/bad.crm";
    assert_eq!(stdout(nfsha().args(["lint", w])).0, 0);
    assert_eq!(
        stdout(nfsha().args(["lint", "--fail-on", "warning", w])).0,
        1
    );
}

#[test]
fn unreadable_input_is_exit_2_with_file_line_and_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cib.xml");
    std::fs::write(&p, "<cib>\n<configuration>\n<resources>\n").unwrap();
    let (rc, _, err) = stdout(nfsha().arg("lint").arg(&p));
    assert_eq!(rc, 2);
    assert!(
        err.contains("cib.xml:") && err.contains("expected </resources>"),
        "{err}"
    );
    let junk = dir.path().join("junk");
    std::fs::write(&junk, [0u8, 159, 146, 150, 7, 1]).unwrap();
    let (rc, _, err) = stdout(nfsha().arg("lint").arg(&junk));
    assert_eq!(rc, 2);
    assert!(err.contains("unrecognised format"), "{err}");
    let (rc, _, err) = stdout(nfsha().args(["lint", "/nonexistent/cib.xml"]));
    assert_eq!(rc, 2);
    assert!(
        err.contains("/nonexistent/cib.xml") && err.contains("cannot read"),
        "{err}"
    );
}

/// Nothing understood is never "no problems": exit 2, naming the file, also
/// when the dialect is forced, and JSON (with `errors`) is still printed.
#[test]
fn an_input_with_nothing_understood_is_exit_2_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let prose = dir.path().join("notes.txt");
    std::fs::write(
        &prose,
        "Set up the NFS server as in the guide.\nThen test it.\n",
    )
    .unwrap();
    for dialect in ["pcs", "pcs-commands", "crm", "pcs-config"] {
        let (rc, out, err) = stdout(nfsha().args(["lint", "--dialect", dialect]).arg(&prose));
        assert_eq!(rc, 2, "--dialect {dialect}: {out}{err}");
        assert!(!out.contains("No problems found"), "{out}");
        assert!(
            err.contains("notes.txt:") && err.contains("nothing"),
            "{err}"
        );
    }
    let (rc, out, _) = stdout(
        nfsha()
            .args(["lint", "--format", "json", "--dialect", "pcs-commands"])
            .arg(&prose),
    );
    assert_eq!(rc, 2);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON on exit 2");
    let e = &v["errors"][0];
    assert!(e["file"].as_str().unwrap().ends_with("notes.txt"), "{v}");
    assert!(e["message"].as_str().unwrap().contains("nothing"), "{v}");
    // One unreadable file among good ones: the good ones are still linted,
    // and the exit code is 2.
    let (rc, out, _) = stdout(
        nfsha()
            .args(["lint", "--format", "json", BAD_CLONE])
            .arg(dir.path().join("missing.crm")),
    );
    assert_eq!(rc, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "NFS201"),
        "{v}"
    );
    assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{v}");
    let (rc, out, _) = stdout(nfsha().args(["lint", "--format", "sarif"]).arg(&prose));
    assert_eq!(rc, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], false);
}

/// A statement not understood is a finding; the rest of the file is read.
#[test]
fn a_statement_not_understood_is_nfs003_and_the_file_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("setup.sh");
    std::fs::write(
        &p,
        "[root@z1 ~]# pcs resource create fs Filesystem device=/dev/sdb1 directory=/srv fstype=xfs --group g\n\
         [root@z1 ~]# pcs resource create vip ip=10.0.0.1 --group g\n\
         [root@z1 ~]# pcs property set stonith-enabled=true\n",
    )
    .unwrap();
    let (rc, out, _) = stdout(nfsha().args(["lint", "--format", "json"]).arg(&p));
    // Read, not refused (2); 1 only for fencing on with no fence device (NFS701).
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("\"NFS701\""), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "NFS003")
        .collect();
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["location"]["line"], 2);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("`ip=10.0.0.1` is not an agent"),
        "{v}"
    );
}

/// A quote left open (an apostrophe in a guide's prose, or a typo in a
/// command) does not swallow the commands after it, as the shell would:
/// prose is passed over, a pcs command with it is NFS003, and so is one
/// that pcs would refuse for a missing option value. Each is one finding;
/// every other command is read.
#[test]
fn an_open_quote_or_a_refused_command_does_not_abort_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("guide.txt");
    std::fs::write(
        &p,
        "Let's create the group first. Don't skip the fsid:\n\
         [root@z1 ~]# pcs resource create fs Filesystem device=/dev/sdb1 directory=/srv fstype=xfs --group g\n\
         Now the server (it's the important one):\n\
         [root@z1 ~]# pcs resource create nfsd nfsserver nfs_shared_infodir=/srv/state --group g\n\
         [root@z1 ~]# pcs resource create exp exportfs clientspec=* options='rw directory=/srv/e fsid=1 --group g\n\
         [root@z1 ~]# pcs resource create vip IPaddr2 ip=10.0.0.1 --group\n\
         [root@z1 ~]# pcs resource create vip2 IPaddr2 ip=10.0.0.2 --group g\n",
    )
    .unwrap();
    let (rc, out, err) = stdout(nfsha().args(["lint", "--format", "json"]).arg(&p));
    assert_eq!(rc, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let codes: Vec<(&str, i64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["location"]["line"].as_i64().unwrap(),
            )
        })
        .collect();
    let nfs003: Vec<i64> = codes
        .iter()
        .filter(|c| c.0 == "NFS003")
        .map(|c| c.1)
        .collect();
    assert_eq!(nfs003, [5, 6], "{v}");
    // nfsd (line 4) was read, as the server the scope rule names.
    assert!(codes.contains(&("NFS302", 4)), "{v}");
    let (_, order, _) = stdout(nfsha().arg("order").arg(&p));
    assert!(
        order.contains("1. fs") && order.contains("2. nfsd") && order.contains("3. vip2"),
        "{order}"
    );
}

/// `--dialect pcs` reads pcs commands or `pcs config` output, whichever
/// the file holds.
#[test]
fn dialect_pcs_is_commands_or_config() {
    let dir = tempfile::tempdir().unwrap();
    let cmds = dir.path().join("a.txt");
    std::fs::write(&cmds, "pcs resource create vip IPaddr2 ip=10.0.0.1\n").unwrap();
    let config = dir.path().join("b.txt");
    std::fs::write(
        &config,
        "Resources:\n Resource: vip (class=ocf provider=heartbeat type=IPaddr2)\n  Attributes: ip=10.0.0.1\n",
    )
    .unwrap();
    for (f, dialect) in [(&cmds, "pcs-commands"), (&config, "pcs-config")] {
        let (rc, out, err) = stdout(
            nfsha()
                .args(["lint", "--format", "json", "--dialect", "pcs"])
                .arg(f),
        );
        // Read (not 2); 1 for fencing on with no fence device (NFS701).
        assert_eq!(rc, 1, "{out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["inputs"][0]["dialect"], dialect, "{v}");
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["severity"] != "error" || f["code"] == "NFS701"),
            "{v}"
        );
    }
}

#[test]
fn json_and_sarif_carry_code_severity_objects_location() {
    let (rc, out, _) = stdout(nfsha().args(["lint", "--format", "json", BAD_CLONE]));
    assert_eq!(rc, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "NFS201")
        .unwrap();
    assert_eq!(f["severity"], "error");
    assert_eq!(f["objects"][0], "cl-nfsserver");
    assert_eq!(f["location"]["file"], BAD_CLONE);
    assert!(f["location"]["line"].as_u64().unwrap() > 30);
    assert!(f["message"].as_str().unwrap().contains("cloned"));
    let (_, out, _) = stdout(nfsha().args(["lint", "--format", "sarif", BAD_CLONE]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "NFS201")
        .unwrap()
        .clone();
    assert_eq!(r["level"], "error");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        BAD_CLONE
    );
    assert_eq!(
        r["locations"][0]["logicalLocations"][0]["name"],
        "cl-nfsserver"
    );
}

#[test]
fn explain_and_list_rules() {
    let (rc, out, _) = stdout(nfsha().args(["lint", "--explain", "nfs104"]));
    assert_eq!(rc, 0);
    assert!(out.starts_with("NFS104 (promote-order)"));
    assert!(out.contains("## Use instead") && out.contains("pcs constraint order promote"));
    assert_eq!(stdout(nfsha().args(["lint", "--explain", "NFS999"])).0, 2);
    let (_, out, _) = stdout(nfsha().args(["lint", "--list-rules"]));
    assert_eq!(out.lines().count(), nfsha::lint::rules::ALL.len() + 1);
    assert!(out.contains("NFS501  wait-for-leasetime"));
}

#[test]
fn suppressions_per_rule_per_object_and_inline() {
    let bad = "tests/fixtures/lint/NFS501/bad.crm";
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("s.toml");
    let lint = |extra: &[&std::path::Path]| {
        let mut c = nfsha();
        c.args(["lint", bad]);
        for e in extra {
            c.arg("--config").arg(e);
        }
        stdout(&mut c)
    };
    assert_eq!(lint(&[]).0, 1);
    std::fs::write(
        &cfg,
        "[[ignore-object]]\nrule = \"NFS501\"\nobject = \"exportfs-nfs\"\nreason = \"tested\"\n",
    )
    .unwrap();
    let (rc, out, _) = lint(&[&cfg]);
    assert_eq!(rc, 0, "{out}");
    std::fs::write(
        &cfg,
        "[[ignore-object]]\nrule = \"NFS501\"\nobject = \"other\"\n",
    )
    .unwrap();
    assert_eq!(lint(&[&cfg]).0, 1);
    std::fs::write(&cfg, "ignore = [\"NFS501\"]\n").unwrap();
    assert_eq!(lint(&[&cfg]).0, 0);
    std::fs::write(&cfg, "[severity]\nNFS501 = \"warning\"\n").unwrap();
    let (rc, out, _) = lint(&[&cfg]);
    assert_eq!(rc, 0);
    assert!(out.contains("warning[NFS501]"));
    std::fs::write(&cfg, "ignore = [\"NFS999\"]\n").unwrap();
    let (rc, _, err) = lint(&[&cfg]);
    assert_eq!(rc, 2);
    assert!(err.contains("unknown rule code"), "{err}");
    // Inline, crm: a comment above the object.
    let text = std::fs::read_to_string(bad).unwrap().replace(
        "primitive exportfs-nfs",
        "# nfsha: ignore[NFS501] tested\nprimitive exportfs-nfs",
    );
    let p = dir.path().join("inline.crm");
    std::fs::write(&p, text).unwrap();
    assert_eq!(stdout(nfsha().arg("lint").arg(&p)).0, 0);
    // Inline, CIB: an XML comment inside the element.
    let xml = std::fs::read_to_string("tests/fixtures/lint/NFS501/bad.xml").unwrap();
    let tag =
        "<primitive id=\"exportfs-nfs\" class=\"ocf\" provider=\"heartbeat\" type=\"exportfs\">";
    assert!(xml.contains(tag));
    let p = dir.path().join("inline.xml");
    std::fs::write(
        &p,
        xml.replacen(
            tag,
            &format!("{tag}<!-- nfsha: ignore[NFS501] tested -->"),
            1,
        ),
    )
    .unwrap();
    assert_eq!(stdout(nfsha().arg("lint").arg(&p)).0, 0);
    // Inline, pcs: a comment line before the command.
    let pcs = std::fs::read_to_string("tests/fixtures/lint/NFS501/bad.pcs")
        .unwrap()
        .replace(
            "pcs resource create nfs-export1",
            "# nfsha: ignore[NFS501] tested\npcs resource create nfs-export1",
        );
    let p = dir.path().join("inline.pcs");
    std::fs::write(&p, pcs).unwrap();
    assert_eq!(stdout(nfsha().arg("lint").arg(&p)).0, 0);
}

#[test]
fn host_files_join_the_cluster_config() {
    let (rc, out, _) =
        stdout(nfsha().args(["lint", BASE_CRM, "tests/fixtures/lint/NFS702/host-bad.toml"]));
    assert_eq!(rc, 1);
    assert!(out.contains("error[NFS702]"), "{out}");
    assert!(out.contains("base.crm (crm), tests/fixtures/lint/NFS702/host-bad.toml (heartbeat)"));
}

#[test]
fn order_prints_sequence_and_edges() {
    let (rc, out, _) = stdout(nfsha().args(["order", "--format", "json", BASE_CRM]));
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let seq: Vec<Vec<String>> = serde_json::from_value(v["sequence"].clone()).unwrap();
    let pos = |id: &str| seq.iter().position(|s| s.iter().any(|x| x == id)).unwrap();
    assert!(pos("drbd-nfs") < pos("fs-nfs-state"));
    assert!(pos("fs-nfs-share") < pos("nfsserver"));
    assert!(pos("exportfs-nfs") < pos("vip-nfs"));
    let edges: Vec<[String; 2]> = serde_json::from_value(v["edges"].clone()).unwrap();
    assert!(edges.contains(&["drbd-nfs".to_string(), "vip-nfs".to_string()]));
    let (_, text, _) = stdout(nfsha().args(["order", BASE_CRM]));
    assert!(
        text.contains("drbd-nfs -> fs-nfs-state   (order o-drbd-before-nfs)"),
        "{text}"
    );
    assert!(text.contains("g-nfs:Started with cl-drbd-nfs:Promoted"));
    // The then-action trap: nothing orders the group's start.
    let (_, text, _) = stdout(nfsha().args(["order", "tests/fixtures/lint/NFS104/bad.crm"]));
    assert!(!text.contains("(order o-drbd-before-nfs)"), "{text}");
}

/// `--mounts` findings are rules like any other: in the summary, in one JSON
/// document with the cluster's, under `--fail-on` and `--config`.
#[test]
fn client_mounts_are_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mounts = dir.path().join("mounts");
    std::fs::write(
        &mounts,
        "srv:/backup /tmp/csbackup.Ab12 nfs rw,vers=4.1,hard,proto=tcp,timeo=600,retrans=2 0 0\n\
         srv:/primary /mnt/0a1b2c3d-1111-2222-3333-444455556666 nfs soft,timeo=50,retrans=3 0 0\n",
    )
    .unwrap();
    let m = mounts.to_str().unwrap();
    let (rc, out, _) = stdout(nfsha().args(["lint", "--mounts", m]));
    assert_eq!(rc, 1, "the soft VM-disk mount is an error: {out}");
    assert!(out.contains("warning[NFS801] hard-backup-mount"), "{out}");
    assert!(out.contains(&format!("--> {m}:1")), "{out}");
    assert!(out.contains("error[NFS802] soft-vm-disk-mount"), "{out}");
    assert!(out.contains(&format!("--> {m}:2")), "{out}");
    assert!(
        out.contains("Found 1 error, 1 warning, 2 infos in 1 file"),
        "{out}"
    );
    // One JSON document with the cluster configuration's findings.
    let (rc, out, _) = stdout(nfsha().args(["lint", "--format", "json", "--mounts", m, BAD_CLONE]));
    assert_eq!(rc, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"NFS802") && codes.contains(&"NFS201"),
        "{codes:?}"
    );
    assert_eq!(v["inputs"].as_array().unwrap().len(), 2);
    // SARIF and suppressions.
    let (_, out, _) = stdout(nfsha().args(["lint", "--format", "sarif", "--mounts", m]));
    assert!(out.contains("\"ruleId\": \"NFS802\""), "{out}");
    let cfg = dir.path().join("s.toml");
    std::fs::write(
        &cfg,
        "[[ignore-object]]\nrule = \"NFS802\"\nobject = \"/mnt/0a1b2c3d-1111-2222-3333-444455556666\"\n",
    )
    .unwrap();
    let (rc, out, _) = stdout(nfsha().args(["lint", "--mounts", m, "--config"]).arg(&cfg));
    assert_eq!(rc, 0, "{out}");
    assert_eq!(
        stdout(
            nfsha()
                .args(["lint", "--fail-on", "warning", "--mounts", m, "--config"])
                .arg(&cfg)
        )
        .0,
        1
    );
    // mountinfo as the kernel writes it.
    std::fs::write(
        &mounts,
        "36 25 0:32 / /mnt/0a1b2c3d-1111-2222-3333-444455556666 rw,relatime - nfs4 srv:/p rw,vers=4.2,soft,timeo=50\n",
    )
    .unwrap();
    let (rc, out, _) = stdout(nfsha().args(["lint", "--mounts", m]));
    assert_eq!(rc, 1);
    assert!(out.contains("NFS802") && out.contains("NFS803"), "{out}");
    // A clean host exits 0 and reads no live CIB.
    std::fs::write(&mounts, "/dev/sda1 / ext4 rw 0 0\n").unwrap();
    let (rc, out, err) = stdout(nfsha().args(["lint", "--mounts", m]));
    assert_eq!(rc, 0, "{out}{err}");
    assert!(!err.contains("cibadmin"), "{err}");
}

/// An inline suppression on a resource covers findings on its parameters.
#[test]
fn suppression_by_object_covers_its_parameters() {
    let bad = "tests/fixtures/lint/NFS301/bad.crm";
    let (rc, out, _) = stdout(nfsha().args(["lint", bad]));
    assert_eq!(rc, 1);
    assert!(out.contains("= objects: nfsserver nfsd_args -L"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("inline.crm");
    let text = std::fs::read_to_string(bad).unwrap().replace(
        "primitive nfsserver",
        "# nfsha: ignore[NFS301] short lease on purpose\nprimitive nfsserver",
    );
    std::fs::write(&p, text).unwrap();
    let (rc, out, _) = stdout(nfsha().arg("lint").arg(&p));
    assert_eq!(rc, 0, "{out}");
    let cfg = dir.path().join("s.toml");
    std::fs::write(
        &cfg,
        "[[ignore-object]]\nrule = \"NFS301\"\nobject = \"nfsserver\"\n",
    )
    .unwrap();
    assert_eq!(
        stdout(nfsha().args(["lint", bad, "--config"]).arg(&cfg)).0,
        0
    );
}

#[test]
fn fix_writes_a_script_for_a_cib_file_and_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let (rc, out, err) =
        stdout(nfsha().args(["lint", "--fix", "tests/fixtures/lint/NFS101/bad.crm"]));
    assert_eq!(rc, 0, "everything fixable was fixed: {err}");
    assert!(out.starts_with("#!/bin/sh\n"), "{out}");
    assert!(
        out.contains(": \"${CIB_file:?"),
        "refuses to run without a CIB file: {out}"
    );
    assert!(
        out.contains("crm configure modgroup g-nfs add vip-nfs after exportfs-nfs"),
        "{out}"
    );
    assert!(err.contains("1 fix, 0 findings left"), "{err}");
    // pcs input gets a pcs script on the file.
    let (_, out, _) = stdout(nfsha().args(["lint", "--fix", "tests/fixtures/lint/NFS101/bad.pcs"]));
    assert!(
        out.contains("pcs -f \"$CIB_file\" resource group add nfsgroup nfs_ip --after nfs-export1"),
        "{out}"
    );
    // The script refuses to run without CIB_file.
    let script = dir.path().join("fix.sh");
    std::fs::write(&script, &out).unwrap();
    let o = std::process::Command::new("sh")
        .arg(&script)
        .env_remove("CIB_file")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("never changes a live cluster"));
    // What needs a decision is listed, and the exit code says it is left.
    let (rc, out, _) =
        stdout(nfsha().args(["lint", "--fix", "tests/fixtures/lint/NFS701/bad.crm"]));
    assert_eq!(rc, 1);
    assert!(
        out.contains("# Needs a decision") && out.contains("NFS701"),
        "{out}"
    );
    // One cluster configuration at a time (crm files together are one;
    // crm and pcs files are two); --fix-output wants CIB XML.
    assert_eq!(
        stdout(nfsha().args([
            "lint",
            "--fix",
            BASE_CRM,
            "tests/fixtures/lint/NFS201/bad.pcs"
        ]))
        .0,
        2
    );
    let new = dir.path().join("new.xml");
    let (rc, _, err) = stdout(
        nfsha()
            .args(["lint", "--fix", BAD_CLONE, "--fix-output"])
            .arg(&new),
    );
    assert_eq!(rc, 2, "{err}");
    assert!(err.contains("not CIB XML"), "{err}");
    let (rc, _, err) = stdout(
        nfsha()
            .args([
                "lint",
                "--fix",
                "tests/fixtures/lint/NFS201/bad.xml",
                "--fix-output",
            ])
            .arg(&new),
    );
    assert_eq!(rc, 0, "{err}");
    let (rc, out, _) = stdout(nfsha().arg("lint").arg(&new));
    assert_eq!(rc, 0, "{out}");
}

#[test]
fn order_names_loops_through_promotes() {
    let (_, text, _) =
        stdout(nfsha().args(["order", "tests/fixtures/lint/NFS105/bad.promote.crm"]));
    assert!(
        text.contains("Loops (Pacemaker cannot schedule these actions):"),
        "{text}"
    );
    assert!(
        text.contains("drbd-nfs:promote -> fs-nfs-state:start -> drbd-nfs:promote"),
        "{text}"
    );
}

/// nfs.conf `[nfsd] scope` (and rpc.nfsd `-S`) exist from nfs-utils 2.6.3
/// on; Debian 12's 2.6.2 ignores the key. The lint counts such a scope only
/// where the servers' nfs-utils honours it, and says so when it is unknown.
#[test]
fn nfs_conf_scope_counts_only_where_nfs_utils_honours_it() {
    let dir = tempfile::tempdir().unwrap();
    let crm = dir.path().join("cluster.crm");
    let text = std::fs::read_to_string("tests/fixtures/lint/NFS302/bad.crm")
        .unwrap()
        .replace(
            "primitive nfsserver nfsserver",
            "primitive nfsserver systemd:nfs-server",
        );
    std::fs::write(&crm, text).unwrap();
    let conf = dir.path().join("nfs.conf");
    std::fs::write(&conf, "[nfsd]\nscope = nfs-ha\n").unwrap();
    let lint = |extra: &[&str]| {
        let mut c = nfsha();
        c.arg("lint").arg(&crm).arg(&conf).args(extra);
        stdout(&mut c)
    };
    let nfs302 = |out: &str| {
        out.lines()
            .filter(|l| l.contains("[NFS302]"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // Unknown version: a warning that names the version it needs.
    let (_, out, _) = lint(&[]);
    let f = nfs302(&out);
    assert!(
        f.len() == 1 && f[0].starts_with("warning[NFS302]") && f[0].contains("2.6.3"),
        "{out}"
    );
    // Debian 12: the key is ignored, so there is no fixed scope.
    for v in ["2.6.2", "1:2.6.2-4+deb12u1"] {
        let (rc, out, _) = lint(&["--nfs-utils", v]);
        let f = nfs302(&out);
        assert!(
            f.len() == 1
                && f[0].starts_with("error[NFS302]")
                && f[0].contains("nfs-utils 2.6.2 ignores nfs.conf [nfsd] scope"),
            "{out}"
        );
        assert_eq!(rc, 1);
    }
    // 2.6.3 and later honour it.
    let (_, out, _) = lint(&["--nfs-utils", "2.6.3"]);
    assert!(nfs302(&out).is_empty(), "{out}");
    // The lint config says the same as the option; the option wins.
    let cfg = dir.path().join("lint.toml");
    std::fs::write(&cfg, "nfs-utils = \"2.6.2\"\n").unwrap();
    let cfg_s = cfg.to_str().unwrap();
    let (rc, out, _) = lint(&["--config", cfg_s]);
    assert!(nfs302(&out)[0].starts_with("error[NFS302]"), "{out}");
    assert_eq!(rc, 1);
    let (_, out, _) = lint(&["--config", cfg_s, "--nfs-utils", "2.7.1"]);
    assert!(nfs302(&out).is_empty(), "{out}");
    // A version that is not one is a usage error naming it.
    let (rc, _, err) = lint(&["--nfs-utils", "two"]);
    assert_eq!(rc, 2);
    assert!(err.contains("\"two\""), "{err}");
    std::fs::write(&cfg, "nfs-utils = \"2\"\n").unwrap();
    let (rc, _, err) = lint(&["--config", cfg_s]);
    assert_eq!(rc, 2);
    assert!(err.contains("lint.toml") && err.contains("\"2\""), "{err}");

    // nfs.conf on its own: a set scope that 2.6.2 ignores is a warning,
    // an info when the version is unknown, nothing from 2.6.3 on.
    let alone = |extra: &[&str]| {
        let mut c = nfsha();
        c.arg("lint").arg(&conf).args(extra);
        nfs302(&stdout(&mut c).1)
    };
    assert!(alone(&["--nfs-utils", "2.6.2"])[0].starts_with("warning[NFS302]"));
    assert!(alone(&[])[0].starts_with("info[NFS302]"));
    assert!(alone(&["--nfs-utils", "2.6.3"]).is_empty());

    // ocf:nfsha:nfsserver: an nfs.conf scope other than server_hostname
    // takes over from 2.6.3 on; the same name is fine.
    let nfsha_crm = "tests/fixtures/lint/base.nfsha.crm";
    let with = |conf_text: &str, extra: &[&str]| {
        std::fs::write(&conf, conf_text).unwrap();
        let mut c = nfsha();
        c.args(["lint", nfsha_crm]).arg(&conf).args(extra);
        nfs302(&stdout(&mut c).1)
    };
    let f = with("[nfsd]\nscope = other\n", &[]);
    assert!(
        f.len() == 1
            && f[0].starts_with("warning[NFS302]")
            && f[0].contains("scope=other differs from `nfs-server` server_hostname=nfs-ha"),
        "{f:?}"
    );
    assert!(
        with("[nfsd]\nscope = other\n", &["--nfs-utils", "2.6.2"])[0].starts_with("info[NFS302]")
    );
    assert!(with("[nfsd]\nscope = nfs-ha\n", &[]).is_empty());
}

/// crm files, and pcs command files, are edits: several given together
/// build one cluster, in command-line order, as a fence file and a layout
/// file loaded into one CIB do. The shipped examples, in both dialects.
#[test]
fn command_files_together_are_one_cluster() {
    for (fence, layout) in [
        ("examples/fence-ipmi.crm", "examples/nfs-cluster.crm"),
        ("examples/fence-ipmi.pcs.sh", "examples/nfs-cluster.pcs.sh"),
    ] {
        let (rc, out, err) = stdout(nfsha().args(["lint", fence, layout, "examples/nfs.conf"]));
        assert_eq!(rc, 0, "{fence} + {layout}: {out}{err}");
        assert!(out.contains("No problems found in 3 files"), "{out}");
        // The layout alone still has no fence device.
        let (rc, out, _) = stdout(nfsha().args(["lint", layout]));
        assert_eq!(rc, 1, "{out}");
        assert!(out.contains("error[NFS701]"), "{out}");
    }
}

/// A guide split into steps: a primitive defined in step 1 and grouped in
/// step 2 is no missing member (NFS001); a finding names the file and line
/// of its own statement; a member defined nowhere is NFS001 at its line in
/// step 2.
#[test]
fn a_split_guide_is_one_stream_with_file_and_line_per_statement() {
    let dir = tempfile::tempdir().unwrap();
    let step1 = dir.path().join("step1.crm");
    let step2 = dir.path().join("step2.crm");
    std::fs::write(
        &step1,
        "# step 1: the server\n\
         primitive nfs-server ocf:nfsha:nfsserver \\\n\
         \x20   params server_hostname=nfs-ha lease_time=90 grace_time=90 \\\n\
         \x20   op monitor interval=10s timeout=20s \\\n\
         \x20   op start timeout=60s interval=0 op stop timeout=60s interval=0\n\
         primitive nfs-vip ocf:nfsha:vip params ip=192.168.122.200 \\\n\
         \x20   op monitor interval=10s timeout=10s op stop timeout=20s interval=0\n",
    )
    .unwrap();
    std::fs::write(
        &step2,
        "# step 2: the group\n\
         property stonith-enabled=false\n\
         group g-nfs nfs-vip nfs-server\n",
    )
    .unwrap();
    let (rc, out, err) = stdout(
        nfsha()
            .args(["lint", "--format", "json"])
            .arg(&step1)
            .arg(&step2),
    );
    assert_eq!(rc, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let codes: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"NFS001"), "{out}");
    // The group (step 2) puts the address before the server (NFS101),
    // said at the address's definition: step 1, line 6.
    let order = findings
        .iter()
        .find(|f| f["code"] == "NFS101")
        .unwrap_or_else(|| panic!("no NFS101: {out}"));
    let loc = &order["location"];
    assert!(
        loc["file"].as_str().unwrap().ends_with("step1.crm"),
        "{out}"
    );
    assert_eq!(loc["line"], 6, "{out}");

    // A member that no step defines is NFS001, at its line in step 2.
    std::fs::write(&step2, "# step 2\n\ngroup g-nfs nfs-server nfs-vip ghost\n").unwrap();
    let (_, out, _) = stdout(
        nfsha()
            .args(["lint", "--format", "json"])
            .arg(&step1)
            .arg(&step2),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let missing: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "NFS001")
        .collect();
    assert_eq!(missing.len(), 1, "{out}");
    assert!(missing[0]["location"]["file"]
        .as_str()
        .unwrap()
        .ends_with("step2.crm"));
    assert_eq!(missing[0]["location"]["line"], 3, "{out}");
    // Step 2 first: crm resolves members at commit, so the group still
    // finds step 1's primitives; only the ghost is missing.
    let (_, out, _) = stdout(
        nfsha()
            .args(["lint", "--format", "json"])
            .arg(&step2)
            .arg(&step1),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let missing = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "NFS001")
        .count();
    assert_eq!(missing, 1, "{out}");
}

/// Commands given with a whole configuration (CIB, `pcs config`) are
/// refused, exit 2, naming both: which CIB they edit is not known.
#[test]
fn commands_with_a_cib_are_refused() {
    let cib = std::fs::read_dir("tests/fixtures/lint")
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).into_iter().flatten())
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "xml"))
        .expect("a CIB fixture");
    let (rc, out, err) = stdout(
        nfsha()
            .arg("lint")
            .arg(&cib)
            .arg("examples/nfs-cluster.crm"),
    );
    assert_eq!(rc, 2, "{out}{err}");
    assert!(err.contains("examples/nfs-cluster.crm"), "{err}");
    assert!(err.contains(&*cib.display().to_string()), "{err}");
    assert!(err.contains("crm configure load update"), "{err}");
}

/// The fact behind `--nfs-utils`, checked on the installed nfs-utils: its
/// rpc.nfsd knows the word `scope` (the `--scope` option and the nfs.conf
/// key) exactly when its version is 2.6.3 or later, and Debian 12's 2.6.2
/// refuses `-S` before doing anything.
#[test]
fn installed_rpc_nfsd_knows_scope_exactly_from_2_6_3() {
    let rpc_nfsd = std::path::Path::new("/usr/sbin/rpc.nfsd");
    assert!(
        rpc_nfsd.exists(),
        "this test needs rpc.nfsd: apt-get install nfs-kernel-server"
    );
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "nfs-kernel-server"])
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&out.stdout).into_owned();
    let v = nfsha::lint::nfs_utils::NfsUtils::parse(&version).unwrap();
    let binary = std::fs::read(rpc_nfsd).unwrap();
    let knows_scope = binary.windows(5).any(|w| w == b"scope");
    assert_eq!(knows_scope, v.sets_scope(), "nfs-utils {version}");
    if !v.sets_scope() {
        // Safe to run: getopt refuses -S before rpc.nfsd touches nfsd.
        let out = Command::new(rpc_nfsd).args(["-S", "x"]).output().unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("invalid option -- 'S'"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
