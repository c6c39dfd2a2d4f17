use super::*;

const GEN_A: &str = r#"Cluster Name: mycluster
Corosync Nodes:
 pcmk-1 pcmk-2
Pacemaker Nodes:
 pcmk-1 pcmk-2

Resources:
 Resource: ClusterIP (class=ocf provider=heartbeat type=IPaddr2)
  Attributes: cidr_netmask=24 ip=192.168.122.120
  Operations: monitor interval=30s (ClusterIP-monitor-interval-30s)
              start interval=0s timeout=20s (ClusterIP-start-interval-0s)
 Clone: WebData-clone
  Meta Attrs: clone-max=2 clone-node-max=1 notify=true promotable=true promoted-max=1
  Resource: WebData (class=ocf provider=linbit type=drbd)
   Attributes: drbd_resource=wwwdata
 Group: g
  Resource: a (class=ocf provider=heartbeat type=Dummy)

Stonith Devices:
Fencing Levels:

Location Constraints:
Ordering Constraints:
  promote WebData-clone then start WebFS (kind:Mandatory) (id:order-WebData-clone-WebFS-mandatory)
Colocation Constraints:
  WebFS with WebData-clone (score:INFINITY) (with-rsc-role:Promoted) (id:colocation-WebFS-WebData-clone-INFINITY)

Cluster Properties:
 stonith-enabled: true
"#;

#[test]
fn reads_generation_a() {
    let m = parse_config(GEN_A, &Arc::from("cfg")).unwrap();
    let ip = m.by_id["ClusterIP"];
    assert_eq!(m.param(ip, "ip").unwrap().value, "192.168.122.120");
    assert_eq!(m.resources[ip].ops.len(), 2);
    assert_eq!(
        m.resources[ip].ops[1].timeout,
        Some(Duration::from_secs(20))
    );
    let d = m.by_id["WebData"];
    assert_eq!(m.clone_of(d), Some(m.by_id["WebData-clone"]));
    assert_eq!(
        m.get("WebData-clone").unwrap().kind,
        Kind::Clone { promotable: true }
    );
    assert_eq!(m.group_of(m.by_id["a"]), Some(m.by_id["g"]));
    assert_eq!(m.orders[0].actions(), vec![Action::Promote, Action::Start]);
    assert_eq!(m.colocations[0].pairs()[0].primary_role, Role::Promoted);
    assert_eq!(m.property("stonith-enabled").unwrap().value, "true");
}

/// Old pcs prints the legacy names; rules read `promoted-max` only, as
/// the CIB, crm and pcs-command parsers give it.
#[test]
fn config_meta_uses_one_spelling_for_promoted_max() {
    let text = GEN_A.replace("promoted-max=1", "master-max=1 master-node-max=1");
    let m = parse_config(&text, &Arc::from("cfg")).unwrap();
    let names: Vec<&str> = m.resources[m.by_id["WebData-clone"]]
        .meta
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert!(names.contains(&"promoted-max"), "{names:?}");
    assert!(names.contains(&"promoted-node-max"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("master-")), "{names:?}");
}

const GEN_C: &str = r#"Resources:
  Resource: R7 (class=ocf provider=pacemaker type=Dummy)
    Attributes: R7-instance_attributes
      envfile=/dev/null
    Operations:
      monitor: R7-monitor-interval-10s
        interval=10s timeout=20s

Order Constraints:
  start resource 'G2' then start resource 'B2' (id: order-G2-B2)
    kind=Optional
Colocation Constraints:
  Promoted resource 'G1-clone' with Stopped resource 'R6-clone' (id: c1)
    score=-100
"#;

#[test]
fn reads_generations_b_and_c() {
    let m = parse_config(GEN_C, &Arc::from("cfg")).unwrap();
    let r = m.by_id["R7"];
    assert_eq!(m.param(r, "envfile").unwrap().value, "/dev/null");
    assert_eq!(m.resources[r].ops[0].name, "monitor");
    assert_eq!(m.resources[r].ops[0].timeout, Some(Duration::from_secs(20)));
    assert_eq!(m.orders[0].kind, OrderKind::Optional);
    assert_eq!(m.colocations[0].score, -100);
    assert_eq!(m.colocations[0].pairs()[0].dependent_role, Role::Promoted);
}

/// Sets, locations, stonith devices and tags in generation A, as pcs 0.10
/// prints them (`pcs_test/tier1/legacy/test_constraints.py`).
#[test]
fn generation_a_sets_locations_stonith_and_tags() {
    let text = r#"Resources:
 Resource: D5 (class=ocf provider=heartbeat type=Dummy)
  Attributes: nfsd_args=-G 20 -L 15
Stonith Devices:
 Resource: fence1 (class=stonith type=fence_ipmilan)
  Attributes: ip=10.0.0.1
  Operations: monitor interval=60s (fence1-monitor-interval-60s)
Location Constraints:
  Resource: D5
    Enabled on: node1 (score:INFINITY) (id:location-D5-node1-INFINITY)
    Disabled on: node2 (score:-INFINITY) (id:location-D5-node2--INFINITY)
    Constraint: location-D5
      Rule: score=INFINITY  (id:location-D5-rule)
        Expression: #uname eq node1  (id:location-D5-rule-expr)
Ordering Constraints:
  Resource Sets:
    set D5 D6 D7 require-all=true sequential=false (id:order_set_D5D6D7_set) set D8 D9 action=start require-all=false role=Stopped sequential=true (id:order_set_D5D6D7_set-1) (id:order_set_D5D6D7)
Colocation Constraints:
  Resource Sets:
    set D5 D6 (id:colocation_set_D5D6_set) setoptions score=-INFINITY (id:colocation_set_D5D6)
Tags:
 tag1
   D5
   D6
"#;
    let m = parse_config(text, &Arc::from("cfg")).unwrap();
    assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
    assert_eq!(
        m.param(m.by_id["D5"], "nfsd_args").unwrap().value,
        "-G 20 -L 15"
    );
    assert_eq!(m.get("fence1").unwrap().part(), Part::Fence);
    assert_eq!(m.locations.len(), 3);
    assert_eq!(m.locations[1].score, Some(-INFINITY));
    assert!(m.locations[2].rule);
    assert_eq!(m.orders[0].id, "order_set_D5D6D7");
    assert_eq!(m.orders[0].sets.len(), 2);
    assert!(!m.orders[0].sets[0].sequential);
    assert_eq!(m.colocations[0].score, -INFINITY);
    assert_eq!(m.tags["tag1"], ["D5", "D6"]);
}

/// Generation C set constraints and locations
/// (`pcs_test/tier1/constraint/test_config.py`).
#[test]
fn generation_c_sets_and_locations() {
    let text = r#"Location Constraints:
  resource 'R7' avoids node 'non-existing-node' with score 10000 (id: location-R7-non-existing-node--10000)
  resource 'R7' prefers node 'localhost' with score INFINITY (id: location-R7-localhost-INFINITY)
    resource-discovery=always
  resource pattern 'R*' prefers node 'localhost' with score INFINITY (id: location-R-localhost-INFINITY)
  resource 'R6-clone' (id: loc_constr_with_not_expired_rule)
    Rules:
      Rule: boolean-op=and role=Unpromoted score=500 (id: loc_constr_with_not_expired_rule-rule)
        Expression: #uname eq node1 (id: loc_constr_with_not_expired_rule-rule-expr)
Colocation Set Constraints:
  Set Constraint: colocation_set_R7G2B2
    score=-1
    Resource Set: colocation_set_R7G2B2_set
      Resources: 'R7', 'G2'
      role=Started
    Resource Set: colocation_set_R7G2B2_set-1
      Resources: 'B2', 'R6-clone'
      sequential=0
Order Constraints:
  stop resource 'R7' then stop resource 'G2' (id: order-R7-G2-mandatory)
    symmetrical=0 require-all=0 score=-123
Order Set Constraints:
  Set Constraint: order_set_R6-cloneB2Se
    kind=Optional
    Resource Set: order_set_R6-cloneB2Se_set
      Resources: 'R6-clone', 'B2'
      require-all=0 action=stop
    Resource Set: order_set_R6-cloneB2Se_set-1
      Resources: 'G1-clone'
      sequential=0 action=promote
Ticket Constraints:
  Promoted resource 'G1-clone' depends on ticket 'custom-ticket1' (id: ticket-custom-ticket1-G1-clone-Promoted)
"#;
    let m = parse_config(text, &Arc::from("cfg")).unwrap();
    assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
    assert_eq!(m.locations.len(), 3);
    assert_eq!(m.locations[0].score, Some(-10000));
    assert!(m.locations[2].rule);
    assert_eq!(m.colocations[0].score, -1);
    assert_eq!(m.colocations[0].sets[1].resources, ["B2", "R6-clone"]);
    assert!(!m.colocations[0].sets[1].sequential);
    assert_eq!(m.orders[0].kind, OrderKind::Mandatory);
    assert_eq!(m.orders[0].symmetrical, Some(false));
    let set = &m.orders[1];
    assert_eq!((set.kind, set.sets.len()), (OrderKind::Optional, 2));
    assert_eq!(set.sets[1].action, Some(Action::Promote));
}

#[test]
fn lines_not_understood_are_reported_not_dropped() {
    let text = "Resources:
  Resource: a (class=ocf provider=heartbeat type=Dummy)
    Bogus line here
Ordering Constraints:
  a before b
";
    let m = parse_config(text, &Arc::from("cfg")).unwrap();
    let lines: Vec<u32> = m.unparsed.iter().map(|u| u.loc.line).collect();
    assert_eq!(lines, [3, 5], "{:?}", m.unparsed);
}
