//! `examples/`: the crm and the pcs layout, each after its fence example,
//! load into a CIB (offline, into a file), describe the same cluster and pass
//! `crm_verify`; every nfsha resource in them passes
//! its agent's validate-all; and `examples/nfs.conf` plus the committed
//! drop-in agree with the resources the way start checks on a node.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use quick_xml::events::Event;

/// A primitive: (class:provider:type, params, monitor ops "interval/role/timeout").
type Primitive = (String, BTreeMap<String, String>, Vec<String>);

/// The parts of a CIB the examples must agree on (ids of generated
/// sub-elements and constraint ids are left out: the tools name them).
#[derive(Debug, Default, PartialEq, Eq)]
struct Model {
    primitives: BTreeMap<String, Primitive>,
    groups: BTreeMap<String, Vec<String>>,
    /// id → (child, meta).
    clones: BTreeMap<String, (String, BTreeMap<String, String>)>,
    constraints: Vec<String>,
    properties: BTreeMap<String, String>,
}

fn norm_interval(v: &str) -> String {
    let v = v.trim_end_matches('s');
    if v == "0" {
        "0".into()
    } else {
        format!("{v}s")
    }
}

fn model(cib: &str) -> Model {
    let mut m = Model::default();
    let mut r = quick_xml::Reader::from_str(cib);
    let mut stack: Vec<(String, String)> = Vec::new(); // (element, id)
    let mut buf = Vec::new();
    loop {
        let ev = r.read_event_into(&mut buf).unwrap();
        let (e, empty) = match &ev {
            Event::Start(e) => (e.clone(), false),
            Event::Empty(e) => (e.clone(), true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        let attrs: BTreeMap<String, String> = e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    a.unescape_value().unwrap().into_owned(),
                )
            })
            .collect();
        let id = attrs.get("id").cloned().unwrap_or_default();
        let parent = |n: usize| stack.iter().rev().nth(n).cloned().unwrap_or_default();
        match name.as_str() {
            "primitive" => {
                let agent = format!(
                    "{}:{}:{}",
                    attrs["class"],
                    attrs.get("provider").cloned().unwrap_or_default(),
                    attrs["type"]
                );
                m.primitives
                    .insert(id.clone(), (agent, BTreeMap::new(), Vec::new()));
                let (pe, pid) = parent(0);
                if pe == "group" {
                    m.groups.entry(pid).or_default().push(id.clone());
                } else if pe == "clone" {
                    m.clones.entry(pid).or_default().0 = id.clone();
                }
            }
            "nvpair" => {
                let (pe, _) = parent(0);
                let (ge, gid) = parent(1);
                let (k, v) = (attrs["name"].clone(), attrs["value"].clone());
                if pe == "instance_attributes" && ge == "primitive" {
                    m.primitives.get_mut(&gid).unwrap().1.insert(k, v);
                } else if pe == "meta_attributes" && ge == "clone" {
                    m.clones.entry(gid).or_default().1.insert(k, v);
                } else if pe == "cluster_property_set"
                    && k != "have-watchdog"
                    && k != "dc-version"
                    && k != "cluster-infrastructure"
                    && k != "cluster-name"
                {
                    m.properties.insert(k, v);
                }
            }
            "op" if attrs["name"] == "monitor" => {
                let (_, pid) = parent(1);
                let op = format!(
                    "{}/{}/{}",
                    norm_interval(&attrs["interval"]),
                    attrs.get("role").map(String::as_str).unwrap_or("-"),
                    attrs.get("timeout").map(String::as_str).unwrap_or("-"),
                );
                m.primitives.get_mut(&pid).unwrap().2.push(op);
            }
            "group" => {
                m.groups.entry(id.clone()).or_default();
            }
            "clone" => {
                m.clones.entry(id.clone()).or_default();
            }
            "rsc_colocation" => m.constraints.push(format!(
                "colocation {} with {} {} role {}",
                attrs["rsc"],
                attrs["with-rsc"],
                attrs["score"],
                attrs
                    .get("with-rsc-role")
                    .map(String::as_str)
                    .unwrap_or("Started")
            )),
            "rsc_location" => m.constraints.push(format!(
                "location {} on {} {}",
                attrs["rsc"],
                attrs.get("node").map(String::as_str).unwrap_or("-"),
                attrs.get("score").map(String::as_str).unwrap_or("-")
            )),
            "rsc_order" => m.constraints.push(format!(
                "order {}:{} then {}:{} {}",
                attrs["first"],
                attrs
                    .get("first-action")
                    .map(String::as_str)
                    .unwrap_or("start"),
                attrs["then"],
                attrs
                    .get("then-action")
                    .map(String::as_str)
                    .unwrap_or("start"),
                attrs.get("kind").map(String::as_str).unwrap_or("Mandatory")
            )),
            _ => {}
        }
        if !empty {
            stack.push((name, id));
        }
    }
    for p in m.primitives.values_mut() {
        p.2.sort();
    }
    m.constraints.sort();
    m
}

fn empty_cib(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let out = common::run_ok("cibadmin", &["--empty"]);
    std::fs::write(&path, out).unwrap();
    path
}

/// The fence devices to load before the layout.
const FENCE: &str = "fence-ipmi";
/// The NFS group and its constraints.
const LAYOUT: &str = "nfs-cluster";

/// Load `examples/<name>.crm` for each name, in order, into one CIB file,
/// as an admin does with `crm configure load update`.
fn load_crm(dir: &Path, names: &[&str]) -> String {
    let cib = empty_cib(dir, &format!("crm-{}.xml", names.join("+")));
    for name in names {
        let file = format!("examples/{name}.crm");
        let before = std::fs::read_to_string(&cib).unwrap();
        let out = Command::new("crm")
            .args(["-F", "configure", "load", "update"])
            .arg(common::repo().join(&file))
            .env("CIB_file", &cib)
            .output()
            .unwrap();
        let after = std::fs::read_to_string(&cib).unwrap();
        assert!(
            out.status.success() && after != before,
            "crm could not load {file}: {}",
            String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::read_to_string(&cib).unwrap()
}

/// Run the `pcs` lines of `examples/<name>.pcs.sh` for each name, in order,
/// against one CIB file (the files use no quoting: split on blanks).
fn load_pcs(dir: &Path, names: &[&str]) -> String {
    let cib = empty_cib(dir, &format!("pcs-{}.xml", names.join("+")));
    for name in names {
        let script =
            std::fs::read_to_string(common::repo().join(format!("examples/{name}.pcs.sh")))
                .unwrap();
        for line in script.lines().filter(|l| l.starts_with("pcs ")) {
            assert!(
                !line.contains(['"', '\'', '\\', '$']),
                "keep pcs lines unquoted: {line}"
            );
            let mut args: Vec<&str> = vec!["-f", cib.to_str().unwrap()];
            args.extend(line.split_whitespace().skip(1));
            // nfsha's agents and ocf:linbit:drbd are not installed on the
            // build host: pcs cannot read their meta-data, which --force
            // turns into a warning. The fence devices are checked against
            // fence-agents' real meta-data (no --force).
            if line.starts_with("pcs resource create") {
                args.push("--force");
            }
            let out = common::run("pcs", &args);
            assert!(
                out.status.success(),
                "{line}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    std::fs::read_to_string(&cib).unwrap()
}

/// `crm_verify -x` on a CIB: success, and its messages.
fn crm_verify(dir: &Path, cib: &str) -> (bool, String) {
    let path = dir.join("verify.xml");
    std::fs::write(&path, cib).unwrap();
    let out = common::run("crm_verify", &["-V", "-x", path.to_str().unwrap()]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success() && !text.contains("error"), text)
}

#[test]
fn the_layout_without_a_fence_device_is_refused_by_crm_verify() {
    common::require("crm", "crmsh");
    common::require("crm_verify", "pacemaker-cli-utils");
    // As the examples' comments and the admin guide say: the fence example
    // is what lets the layout start (with it, crm_verify accepts both
    // layouts: crm_and_pcs_examples_describe_the_same_cluster).
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = crm_verify(dir.path(), &load_crm(dir.path(), &[LAYOUT]));
    assert!(
        !ok && text.contains("STONITH"),
        "crm_verify accepted the layout without fence devices:\n{text}"
    );
}

#[test]
fn crm_and_pcs_examples_describe_the_same_cluster() {
    common::require("crm", "crmsh");
    common::require("pcs", "pcs");
    common::require("cibadmin", "pacemaker-cli-utils");
    common::require("crm_verify", "pacemaker-cli-utils");
    common::require("fence_ipmilan", "fence-agents");
    let dir = tempfile::tempdir().unwrap();
    let crm_cib = load_crm(dir.path(), &[FENCE, LAYOUT]);
    let pcs_cib = load_pcs(dir.path(), &[FENCE, LAYOUT]);
    for (tool, cib) in [("crm", &crm_cib), ("pcs", &pcs_cib)] {
        let (ok, text) = crm_verify(dir.path(), cib);
        assert!(
            ok,
            "crm_verify -x refuses the {tool} fence example plus layout:\n{text}"
        );
    }
    let crm = model(&crm_cib);
    let pcs = model(&pcs_cib);
    assert_eq!(
        crm, pcs,
        "examples/nfs-cluster.crm and examples/nfs-cluster.pcs.sh differ"
    );
    assert_eq!(
        crm.groups["g-nfs"],
        [
            "fs-share",
            "nfs-state",
            "nfs-server",
            "nfs-export",
            "nfs-vip"
        ],
        "group order: filesystems, nfsstate, nfsserver, exportfs, vip"
    );
    assert!(crm
        .constraints
        .contains(&"order drbd-nfs-clone:promote then g-nfs:start Mandatory".to_string()));
    for n in ["node1", "node2"] {
        let (agent, params, _) = &crm.primitives[&format!("fence-{n}")];
        assert_eq!(agent, "stonith::fence_ipmilan");
        assert_eq!(params["pcmk_host_list"], n);
    }

    // Every nfsha resource passes its agent's parameter check.
    for (id, (agent, params, _)) in &crm.primitives {
        let Some(name) = agent.strip_prefix("ocf:nfsha:") else {
            continue;
        };
        let mut cmd = Command::new(common::nfsha());
        cmd.args(["agent", name, "validate-all"]);
        for (k, v) in params {
            cmd.env(format!("OCF_RESKEY_{k}"), v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{id} ({agent}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn nfs_conf_and_dropin_match_the_example_resources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("systemd")).unwrap();
    let params: &[(&str, &[(&str, &str)])] = &[
        (
            "nfsstate",
            &[("directory", "/srv/nfs-state"), ("device", "/dev/drbd0")],
        ),
        (
            "nfsserver",
            &[
                ("server_hostname", "nfs-ha"),
                ("state_directory", "/srv/nfs-state"),
                ("lease_time", "90"),
                ("grace_time", "90"),
                ("nfs_versions", "4.1,4.2"),
                ("threads", "8"),
            ],
        ),
    ];
    let crm = std::fs::read_to_string(common::repo().join("examples/nfs-cluster.crm")).unwrap();
    for (agent, ps) in params {
        for (k, v) in *ps {
            assert!(
                crm.contains(&format!("{k}={v}")),
                "{agent}: {k}={v} not in the example"
            );
        }
        // validate-all at level 10 runs the node checks start runs, here in
        // systemd mode against examples/nfs.conf and the committed drop-in.
        let mut cmd = Command::new(common::nfsha());
        cmd.args(["agent", agent, "validate-all"])
            .env("OCF_CHECK_LEVEL", "10")
            .env("NFSHA_NFS_CONF", common::repo().join("examples/nfs.conf"))
            .env("NFSHA_NFS_CONF_D", dir.path().join("none"))
            .env("NFSHA_RUN_SYSTEMD", dir.path().join("systemd"))
            .env(
                "NFSHA_SYSTEMD_DIR",
                common::repo().join("systemd-dropins/etc/systemd/system"),
            );
        for (k, v) in *ps {
            cmd.env(format!("OCF_RESKEY_{k}"), v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{agent}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The examples lint clean but for the one thing left to the site: a fence
/// device for its hardware (crm_verify rejects a cluster without one).
#[test]
fn nfsha_lint_reports_the_examples_clean_but_for_the_fence_device() {
    for layout in ["examples/nfs-cluster.crm", "examples/nfs-cluster.pcs.sh"] {
        let out = common::run(
            common::nfsha(),
            &[
                "lint",
                "--format",
                "json",
                common::repo().join(layout).to_str().unwrap(),
                common::repo().join("examples/nfs.conf").to_str().unwrap(),
            ],
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{layout}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let findings: Vec<(String, String)> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(
            findings.len() == 1
                && findings[0].0 == "NFS701"
                && findings[0].1.contains("no fence device"),
            "{layout}: {findings:#?}"
        );
    }
}
