use super::*;

const SUSE: &str = r#"node 1: alice
primitive drbd-nfs ocf:linbit:drbd \
	params drbd_resource=nfs \
	op monitor interval=15 role=Promoted \
	op monitor interval=30 role=Unpromoted
primitive fs-nfs-state Filesystem \
	params device="/dev/drbd0" directory="/var/lib/nfs" fstype=ext4 \
	op monitor timeout=40s interval=20s
primitive nfsserver nfsserver \
	params nfs_server_scope=SUSE
group g-nfs fs-nfs-state nfsserver
clone cl-drbd-nfs drbd-nfs \
	meta promotable=true promoted-max=1 notify=true
colocation col-nfs-on-drbd inf: g-nfs cl-drbd-nfs:Promoted
order o-drbd-before-nfs Mandatory: cl-drbd-nfs:promote g-nfs:start
order o-trap inf: cl-drbd-nfs:promote g-nfs
colocation c3 inf: a b c
property cib-bootstrap-options: \
	stonith-enabled=true
"#;

fn crm(text: &str) -> Model {
    parse(text, &Arc::from("x.crm")).unwrap()
}

fn members(m: &Model, g: &str) -> Vec<String> {
    m.get(g)
        .map(|r| {
            r.children
                .iter()
                .map(|&c| m.resources[c].id.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn unparsed(m: &Model) -> Vec<(u32, String)> {
    m.unparsed
        .iter()
        .map(|u| (u.loc.line, u.reason.clone()))
        .collect()
}

#[test]
fn reads_the_suse_layout() {
    let m = crm(SUSE);
    let fs = m.by_id["fs-nfs-state"];
    assert_eq!(m.param(fs, "directory").unwrap().value, "/var/lib/nfs");
    assert_eq!(m.param(fs, "directory").unwrap().loc.line, 7);
    assert_eq!(
        m.resources[fs].ops[0].timeout,
        Some(Duration::from_secs(40))
    );
    assert_eq!(m.group_of(fs), Some(m.by_id["g-nfs"]));
    assert_eq!(
        m.get("cl-drbd-nfs").unwrap().kind,
        Kind::Clone { promotable: true }
    );
    let p = m.colocations[0].pairs();
    assert_eq!(
        (
            p[0].dependent.as_str(),
            p[0].primary.as_str(),
            p[0].primary_role
        ),
        ("g-nfs", "cl-drbd-nfs", Role::Promoted)
    );
    assert_eq!(m.orders[0].actions(), vec![Action::Promote, Action::Start]);
    assert_eq!(
        m.orders[1].actions(),
        vec![Action::Promote, Action::Promote]
    );
    // Three or more: one sequential set, b with a and c with b.
    let p3 = m.colocations[1].pairs();
    assert_eq!(
        (p3[0].dependent.as_str(), p3[0].primary.as_str()),
        ("b", "a")
    );
    assert_eq!(m.property("stonith-enabled").unwrap().value, "true");
    assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
}

#[test]
fn sets_in_brackets() {
    let m = crm("order o Mandatory: a ( b c ) d:start\n");
    let o = &m.orders[0];
    assert_eq!(o.sets.len(), 3);
    assert!(!o.sets[1].sequential);
    assert!(!o.simple);
}

#[test]
fn incomplete_statements_are_unparsed_with_lines_and_the_rest_is_read() {
    let m = crm("\n\norder\nprimitive a Dummy\nprimitve b Dummy\n");
    assert_eq!(m.unparsed[0].loc.line, 3);
    assert!(
        m.unparsed[0].reason.contains("needs an id"),
        "{:?}",
        m.unparsed
    );
    assert!(m.get("a").is_some());
    assert_eq!(m.unparsed[1].loc.line, 5);
    assert_eq!(m.unparsed[1].statement, "primitve b Dummy");
}

#[test]
fn modgroup_adds_and_removes_members() {
    let m = crm(
        "primitive fs Filesystem\nprimitive nfsserver nfsserver\nprimitive vip IPaddr2\nprimitive x Dummy\n\
         group g fs\nmodgroup g add nfsserver\nmodgroup g add vip\nmodgroup g add x before nfsserver\n\
         modgroup g remove x\n",
    );
    assert_eq!(members(&m, "g"), ["fs", "nfsserver", "vip"]);
    assert!(m.get("x").unwrap().parent.is_none());
    let m = crm("primitive a Dummy\nprimitive b Dummy\ngroup g a\nmodgroup g add b after a\nmodgroup g add c after zz\nmodgroup h add a\n");
    assert_eq!(members(&m, "g"), ["a", "b"]);
    assert_eq!(m.unparsed.len(), 2, "{:?}", unparsed(&m));
    // Removing the last member removes the group.
    let m = crm("primitive a Dummy\ngroup g a\nmodgroup g remove a\n");
    assert!(m.get("g").is_none());
}

#[test]
fn rename_delete_and_members_defined_later() {
    let m = crm(
        "group g fs ip\nprimitive fs Filesystem\nprimitive ip IPaddr2\nprimitive old Dummy\n\
         order o inf: old g\nrename old new\ndelete ip\n",
    );
    assert_eq!(members(&m, "g"), ["fs"]);
    assert_eq!(m.orders[0].sets[0].resources, ["new"]);
    let m = crm("primitive a Dummy\ngroup g a\norder o inf: a b\ndelete a\n");
    assert!(m.get("g").is_none(), "a group left empty is deleted");
    assert!(m.orders.is_empty(), "a hanging order is deleted");
    let m = crm("primitive a Dummy\ndelete nothere\n");
    assert!(unparsed(&m)[0].1.contains("no object `nothere`"));
}

#[test]
fn missing_members_are_kept_for_nfs001() {
    let m = crm("primitive a Dummy\ngroup g a ghost\n");
    assert_eq!(members(&m, "g"), ["a"]);
    assert_eq!(
        m.missing_members,
        vec![MissingMember {
            container: "g".into(),
            member: "ghost".into(),
            loc: Loc::new(&Arc::from("x.crm"), 2)
        }]
    );
}

#[test]
fn later_properties_win_and_set_monitor_default_timeouts() {
    let m = crm(
        "property stonith-enabled=false\nproperty cib-bootstrap-options: stonith-enabled=true\n\
         primitive e exportfs params directory=/srv fsid=1 op monitor interval=10s\n\
         set e.fsid 2\nset e.monitor.timeout 30s\nmonitor e 20s:40s\ndefault-timeouts e\n",
    );
    assert_eq!(m.property("stonith-enabled").unwrap().value, "true");
    let e = m.get("e").unwrap();
    assert_eq!(
        e.params.iter().find(|p| p.name == "fsid").unwrap().value,
        "2"
    );
    let stop = e.op("stop").next().expect("default-timeouts adds stop");
    assert_eq!(stop.timeout, Some(Duration::from_secs(120)));
    assert_eq!(e.op("monitor").count(), 2);
    assert!(e
        .op("monitor")
        .all(|o| o.timeout == Some(Duration::from_secs(20))));
}

#[test]
fn pcs_options_inside_crm_are_reported() {
    let m = crm("primitive vip IPaddr2 params ip=10.0.0.1 op monitor interval=10s --group HA\n");
    assert!(m.get("vip").is_some());
    assert!(
        unparsed(&m)[0].1.contains("`--group HA` is pcs syntax"),
        "{:?}",
        m.unparsed
    );
}

#[test]
fn transcripts_heredocs_prompts_and_one_liners() {
    let m = crm(
        "# zypper install ha-cluster-bootstrap\n\
         sles1:~ # crm configure primitive fs Filesystem params device=/dev/drbd0 directory=/srv fstype=xfs\n\
         $ sudo crm configure primitive nfsserver nfsserver\n\
         crm configure <<EOF\n\
         primitive vip IPaddr2 \\\n  params ip=10.0.0.1\n\
         group g fs nfsserver vip\n\
         commit\n\
         EOF\n\
         systemctl enable nfs-server\n\
         crm(live/sles1)configure# property stonith-enabled=true\n\
         crm resource unmanage g\n",
    );
    assert_eq!(members(&m, "g"), ["fs", "nfsserver", "vip"]);
    assert_eq!(m.get("vip").unwrap().loc.line, 5);
    assert_eq!(m.property("stonith-enabled").unwrap().value, "true");
    assert_eq!(m.get("g").unwrap().meta[0].value, "false");
    assert_eq!(m.enabled_units[0].unit, "nfs-server");
    assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
}

#[test]
fn load_update_of_a_written_file_and_erase() {
    let m = crm("crm configure primitive old Dummy\n\
         cat > /tmp/nfs.crm <<'END'\nprimitive a Dummy\nEND\n\
         crm configure load replace /tmp/nfs.crm\n\
         crm configure load update /root/other.crm\n");
    assert!(m.get("old").is_none(), "load replace starts from scratch");
    assert!(m.get("a").is_some());
    assert!(unparsed(&m)[0].1.contains("not part of this input"));
}

#[test]
fn rule_words_are_not_comments() {
    let m = crm(
        "primitive a Dummy\nlocation l a rule -inf: #uname eq node1\nlocation l2 a 100: node2\n",
    );
    assert!(m.locations[0].rule);
    assert_eq!(m.locations[1].node.as_deref(), Some("node2"));
    assert_eq!(m.locations[1].score, Some(100));
}

/// A transcript that runs `crm configure show` prints what the commands
/// before it made: those objects are not defined twice, and one the show
/// adds is read. A statement with a quote never closed is NFS003 and stops
/// before the next command.
#[test]
fn show_output_in_a_transcript_and_open_quotes() {
    let m = crm("# crm configure primitive ip IPaddr2 params ip=10.0.0.1\n\
         # crm configure show\n\
         node 1: n1\n\
         primitive ip IPaddr2 \\\n\
         \tparams ip=10.0.0.1\n\
         primitive extra Dummy\n\
         # crm configure primitive bad Dummy params x=\"open\n\
         # crm configure primitive good Dummy\n");
    let u = unparsed(&m);
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!(u[0].0, 7);
    assert!(u[0].1.contains("not closed"), "{u:?}");
    assert!(m.get("extra").is_some() && m.get("good").is_some() && m.get("bad").is_none());
}
