use super::*;
use std::time::Duration;

fn pcs(text: &str) -> Vec<Model> {
    parse_commands(text, &Arc::from("t.pcs")).unwrap()
}

fn one(text: &str) -> Model {
    let mut v = pcs(text);
    assert_eq!(v.len(), 1, "expected one CIB");
    v.remove(0)
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

fn reasons(m: &Model) -> Vec<String> {
    m.unparsed
        .iter()
        .map(|u| format!("{}: {}", u.loc.line, u.reason))
        .collect()
}

const RH: &str = r#"# Red Hat's active/passive NFS server, pcs 0.11
pcs resource create nfsshare Filesystem device=/dev/my_vg/my_lv directory=/nfsshare fstype=xfs --group nfsgroup
pcs resource create nfs-daemon nfsserver nfs_shared_infodir=/nfsshare/nfsinfo nfs_no_notify=true --group nfsgroup
pcs resource create nfs_ip IPaddr2 ip=192.168.122.200 cidr_netmask=24 \
    op monitor interval=10s timeout=20s --group nfsgroup
pcs resource create drbd-nfs ocf:linbit:drbd drbd_resource=nfs promotable promoted-max=1 notify=true
pcs constraint order promote drbd-nfs-clone then start nfsgroup
pcs constraint colocation add nfsgroup with Promoted drbd-nfs-clone INFINITY
pcs property set stonith-enabled=false
"#;

#[test]
fn reads_red_hat_commands() {
    let m = one(RH);
    assert_eq!(
        members(&m, "nfsgroup"),
        ["nfsshare", "nfs-daemon", "nfs_ip"]
    );
    let ip = m.get("nfs_ip").unwrap();
    let mon = ip.op("monitor").next().unwrap();
    assert_eq!(mon.timeout, Some(Duration::from_secs(20)));
    assert_eq!(ip.loc.line, 4);
    assert_eq!(
        m.get("drbd-nfs-clone").unwrap().kind,
        Kind::Clone { promotable: true }
    );
    assert_eq!(m.orders[0].actions(), vec![Action::Promote, Action::Start]);
    assert_eq!(m.colocations[0].pairs()[0].primary_role, Role::Promoted);
    assert_eq!(m.property("stonith-enabled").unwrap().value, "false");
    assert!(m.unparsed.is_empty(), "{:?}", reasons(&m));
}

/// pcs writes the agent's advised operations: the same ops `pcs config`
/// then shows.
#[test]
fn create_writes_the_default_operations() {
    let m = one(RH);
    let fs = m.get("nfsshare").unwrap();
    let t = |r: &Resource, op: &str| r.op(op).next().and_then(|o| o.timeout).map(|d| d.as_secs());
    assert_eq!(
        (t(fs, "start"), t(fs, "stop"), t(fs, "monitor")),
        (Some(60), Some(60), Some(40))
    );
    let ip = m.get("nfs_ip").unwrap();
    assert_eq!(
        ip.op("monitor").count(),
        1,
        "the user's monitor replaces the default one"
    );
    assert_eq!(t(ip, "stop"), Some(20));
    let drbd = m.get("drbd-nfs").unwrap();
    assert_eq!(t(drbd, "stop"), Some(100));
    let m =
        one("pcs resource create e exportfs directory=/srv clientspec=* fsid=1 --no-default-ops\n");
    let e = m.get("e").unwrap();
    assert_eq!(e.ops.len(), 1);
    assert_eq!(e.ops[0].interval, Some(Duration::from_secs(10)));
}

#[test]
fn prompts_sudo_variables_and_both_variable_spellings() {
    let m = one(
        "[root@z1 ~]# NFS_IP=10.0.0.5\n\
         [root@z1 ~]# pcs resource create vip IPaddr2 ip=$NFS_IP --group g\n\
         node2# sudo pcs resource create ${FS}-mnt Filesystem device=/dev/sdb1 directory=/srv fstype=xfs --group g --before vip\n\
         # pcs constraint order start $FS-mnt then start vip\n",
    );
    assert_eq!(m.param(m.by_id["vip"], "ip").unwrap().value, "10.0.0.5");
    assert_eq!(members(&m, "g"), ["$FS-mnt", "vip"]);
    assert_eq!(m.orders[0].sets[0].resources, ["$FS-mnt"]);
    assert!(m.unparsed.is_empty(), "{:?}", reasons(&m));
}

#[test]
fn every_colocation_and_order_form() {
    let m = one(
        "pcs resource create a Dummy\npcs resource create b Dummy\npcs resource create c Dummy\n\
         pcs constraint colocation add a b 100\n\
         pcs constraint colocation add Master a with Slave b score=-50 id=c2\n\
         pcs constraint colocation set a b sequential=false set c setoptions score=200\n\
         pcs constraint order set a b action=promote set c setoptions kind=Optional id=os\n\
         pcs constraint order a then b symmetrical=false\n\
         pcs constraint order stop a then stop c nonsymmetrical\n",
    );
    assert!(m.unparsed.is_empty(), "{:?}", reasons(&m));
    let c = &m.colocations;
    assert_eq!((c[0].sets[0].resources[0].as_str(), c[0].score), ("a", 100));
    assert_eq!((c[1].id.as_str(), c[1].score), ("c2", -50));
    assert_eq!(c[1].pairs()[0].dependent_role, Role::Promoted);
    assert_eq!((c[2].sets.len(), c[2].score), (2, 200));
    let o = &m.orders;
    assert_eq!((o[0].id.as_str(), o[0].kind), ("os", OrderKind::Optional));
    assert_eq!(o[0].sets[0].action, Some(Action::Promote));
    assert_eq!(o[1].symmetrical, Some(false));
    assert_eq!(o[2].symmetrical, Some(false));
    assert_eq!(o[2].actions(), vec![Action::Stop, Action::Stop]);
}

#[test]
fn pcs_09_master_forms_op_add_and_location() {
    let m = one(
        "pcs resource create d ocf:linbit:drbd drbd_resource=r0 meta master-max=1 --master\n\
         pcs resource create s ocf:pacemaker:Stateful\n\
         pcs resource master ms-s s notify=true\n\
         pcs resource create fs Filesystem device=/dev/drbd0 directory=/srv fstype=xfs --no-default-ops\n\
         pcs resource op add fs stop interval=0s timeout=90s\n\
         pcs constraint location fs prefers node1=50 node2\n\
         pcs constraint location fs avoids node3\n\
         pcs constraint location fs rule score=-INFINITY '#uname' eq node4\n",
    );
    assert!(m.unparsed.is_empty(), "{:?}", reasons(&m));
    let d = m.get("d-master").unwrap();
    assert_eq!(d.kind, Kind::Clone { promotable: true });
    assert_eq!(d.meta[0].name, "promoted-max");
    assert_eq!(m.get("ms-s").unwrap().children.len(), 1);
    let stop = m.get("fs").unwrap().op("stop").next().unwrap().timeout;
    assert_eq!(stop, Some(Duration::from_secs(90)));
    let scores: Vec<Option<i64>> = m.locations.iter().map(|l| l.score).collect();
    assert_eq!(scores, [Some(50), Some(INFINITY), Some(-INFINITY), None]);
    assert!(m.locations[3].rule);
    // The ids pcs gives them (`location-<rsc>-<node>-<score>`), so a later
    // `constraint remove <id>` finds them.
    let ids: Vec<&str> = m.locations.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        ids[..3],
        [
            "location-fs-node1-50",
            "location-fs-node2-INFINITY",
            "location-fs-node3--INFINITY"
        ]
    );
}

#[test]
fn an_open_quote_or_a_missing_option_value_is_one_unparsed_command() {
    let m = one("pcs resource create a Dummy 'x\n\
         pcs resource create b Dummy --group\n\
         pcs resource create c Dummy\n\
         pcs constraint location c avoids node3=20\n\
         pcs constraint remove location-c-node3--20\n");
    let r = reasons(&m);
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(
        r[0].starts_with("1: a quote opened in it is not closed"),
        "{r:?}"
    );
    assert!(r[1].starts_with("2: `--group` needs a value"), "{r:?}");
    assert!(m.get("a").is_none() && m.get("b").is_none() && m.get("c").is_some());
    assert!(m.locations.is_empty());
}

#[test]
fn one_bad_command_does_not_stop_the_file() {
    let m = one(
        "pcs resource create nfsip ip=192.168.209.150 cidr_netmask=24 --group nfs\n\
         pcs constraint order nfs_ip before nfsd\n\
         pcs resource frobnicate x\n\
         pcs resource create ok Dummy\n\
         pcs resource create ok Dummy\n",
    );
    assert!(m.get("ok").is_some());
    assert!(
        m.get("nfsip").is_none(),
        "pcs refuses a create without an agent"
    );
    let r = reasons(&m);
    assert_eq!(r.len(), 4, "{r:?}");
    assert!(
        r[0].starts_with("1: `ip=192.168.209.150` is not an agent"),
        "{r:?}"
    );
    assert!(r[3].contains("already exists"), "{r:?}");
}

#[test]
fn groups_change_after_creation() {
    let m = one(
        "pcs resource create a Dummy\npcs resource create b Dummy\npcs resource create c Dummy\n\
         pcs resource group add g a c\npcs resource group add g b --before c\n\
         pcs resource group add h ghost a\n\
         pcs resource create d Dummy group g after a\n\
         pcs resource group remove g c\n",
    );
    assert_eq!(members(&m, "g"), ["a", "d", "b"]);
    assert!(m.get("h").is_none(), "pcs refuses the whole command");
    assert_eq!(m.missing_members.len(), 1);
    assert_eq!(
        (
            m.missing_members[0].container.as_str(),
            m.missing_members[0].member.as_str()
        ),
        ("h", "ghost")
    );
    let m = one("pcs resource create a Dummy --group g\npcs resource create b Dummy --group g\npcs constraint order a then b\npcs resource delete g\n");
    assert!(m.resources.is_empty() && m.orders.is_empty());
}

#[test]
fn constraints_on_a_clones_member_are_refused_without_force() {
    let m = one(
        "pcs resource create d ocf:pacemaker:Stateful promotable\npcs resource create fs Dummy\n\
         pcs constraint order promote d then start fs\n\
         pcs constraint order promote d then start fs --force\n",
    );
    assert_eq!(m.orders.len(), 1);
    assert!(
        reasons(&m)[0].contains("is in clone `d-clone`"),
        "{:?}",
        reasons(&m)
    );
}

#[test]
fn cib_files_are_followed() {
    // Clusters from Scratch: two files, both pushed: one CIB.
    let v = pcs(
        "pcs cluster cib drbd_cfg\npcs -f drbd_cfg resource create d ocf:linbit:drbd drbd_resource=r0\n\
         pcs -f drbd_cfg resource promotable d promoted-max=1\npcs cluster cib-push drbd_cfg --config\n\
         pcs cluster cib fs_cfg\npcs -f fs_cfg resource create fs Filesystem device=/dev/drbd1 directory=/srv fstype=xfs\n\
         pcs -f fs_cfg constraint order promote d-clone then start fs\npcs cluster cib-push fs_cfg --config\n",
    );
    assert_eq!(v.len(), 1);
    assert!(v[0].get("d-clone").is_some() && v[0].get("fs").is_some());
    assert_eq!(v[0].orders.len(), 1);
    // Two files never pushed: two CIBs.
    let v = pcs("pcs -f a resource create x Dummy\npcs -f b resource create y Dummy\n");
    let files: Vec<Option<&str>> = v.iter().map(|m| m.cib_file.as_deref()).collect();
    assert_eq!(files, [Some("a"), Some("b")]);
    // A copy of the cluster that was never pushed stands for it.
    let v = pcs(
        "pcs resource create x Dummy\npcs cluster cib tmp\npcs -f tmp resource create y Dummy\n",
    );
    assert_eq!(v.len(), 1);
    assert!(v[0].get("x").is_some() && v[0].get("y").is_some());
}

#[test]
fn update_meta_enable_and_defaults() {
    let m = one(
        "pcs resource create e exportfs directory=/srv clientspec=* fsid=1\n\
         pcs resource update e fsid=2 op stop timeout=30s\n\
         pcs resource meta e target-role=Stopped\n\
         pcs resource enable e\npcs resource unmanage e\n\
         pcs resource op defaults timeout=240s\npcs resource defaults update resource-stickiness=100\n\
         pcs resource op remove e monitor\n\
         pcs property set stonith-enabled=true\npcs property unset stonith-enabled\n",
    );
    assert!(m.unparsed.is_empty(), "{:?}", reasons(&m));
    let e = m.get("e").unwrap();
    assert_eq!(
        e.params.iter().find(|p| p.name == "fsid").unwrap().value,
        "2"
    );
    assert_eq!(
        e.op("stop").next().unwrap().timeout,
        Some(Duration::from_secs(30))
    );
    assert_eq!(e.op("monitor").count(), 0);
    let meta: Vec<(&str, &str)> = e
        .meta
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(meta, [("is-managed", "false")]);
    assert_eq!(m.op_defaults[0].value, "240s");
    assert_eq!(m.rsc_defaults[0].name, "resource-stickiness");
    assert!(m.property("stonith-enabled").is_none());
}

#[test]
fn stonith_bundle_tags_and_output_format_cmd() {
    let m = one(
        "pcs stonith create f fence_ipmilan ip=10.0.0.1 pcmk_host_list=n1\n\
         pcs resource bundle create b container docker image=x\n\
         pcs resource create r Dummy bundle b\n\
         pcs -- resource create \\\n  q ocf:heartbeat:Dummy \\\n  op monitor interval=10s;\n\
         pcs -- constraint location resource%q prefers n1\n\
         pcs tag create t r q\n",
    );
    assert!(m.unparsed.is_empty(), "{:?}", reasons(&m));
    let f = m.get("f").unwrap();
    assert_eq!(f.part(), Part::Fence);
    assert_eq!(f.ops[0].interval, Some(Duration::from_secs(60)));
    assert_eq!(m.get("r").unwrap().parent, Some(m.by_id["b"]));
    assert_eq!(m.tags["t"], ["r", "q"]);
    assert_eq!(m.locations[0].rsc, "q");
}
