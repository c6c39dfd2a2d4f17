//! Fixes applied to CIB XML, for `nfsha lint --fix-output NEW.xml`.
//!
//! The document is read into a small tree that keeps everything it does not
//! touch — comments, the `<status>` section, attribute order, whitespace —
//! and written back. Each [`Fix`] edits the tree the way crmsh or pcs would
//! edit the CIB: members move inside `<group>`, constraints are added to
//! `<constraints>`, nvpairs and ops get ids that are new in the document.

use std::collections::HashSet;
use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{ColocSpec, Fix, OrderSpec, Place};
use crate::formats::duration;
use crate::model::{OrderKind, Role};

#[derive(Clone, Debug)]
enum Node {
    Element(Element),
    /// Text, comments, declarations: written back exactly as read.
    Raw(String),
}

#[derive(Clone, Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Element {
    fn new(name: &str, attrs: &[(&str, &str)]) -> Element {
        Element {
            name: name.to_string(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            children: Vec::new(),
        }
    }
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.0 == k).map(|a| a.1.as_str())
    }
    fn set(&mut self, k: &str, v: &str) {
        match self.attrs.iter_mut().find(|a| a.0 == k) {
            Some(a) => a.1 = v.to_string(),
            None => self.attrs.push((k.to_string(), v.to_string())),
        }
    }
    fn unset(&mut self, k: &str) {
        self.attrs.retain(|a| a.0 != k);
    }
    fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Raw(_) => None,
        })
    }
    fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Raw(_) => None,
        })
    }
    fn position(&self, pred: impl Fn(&Element) -> bool) -> Option<usize> {
        self.children
            .iter()
            .position(|n| matches!(n, Node::Element(e) if pred(e)))
    }
    /// The whitespace before this element's first child element, to indent
    /// a new one alike.
    fn indent(&self) -> String {
        let mut last = None;
        for n in &self.children {
            match n {
                Node::Raw(t) if t.trim().is_empty() => last = Some(t.clone()),
                Node::Element(_) => return last.unwrap_or_default(),
                _ => last = None,
            }
        }
        String::new()
    }
    /// Append a child element, indented like its siblings.
    fn push(&mut self, e: Element) {
        let indent = self.indent();
        if indent.is_empty() {
            self.children.push(Node::Element(e));
            return;
        }
        // Keep the closing tag's own indentation last.
        let tail = match self.children.last() {
            Some(Node::Raw(t)) if t.trim().is_empty() => self.children.pop(),
            _ => None,
        };
        self.children.push(Node::Raw(indent));
        self.children.push(Node::Element(e));
        self.children
            .push(tail.unwrap_or_else(|| Node::Raw(String::new())));
    }
    /// Take the child element at `i`, with the whitespace before it.
    fn take(&mut self, i: usize) -> (Option<Node>, Node) {
        let e = self.children.remove(i);
        let ws = match i.checked_sub(1).map(|j| &self.children[j]) {
            Some(Node::Raw(t)) if t.trim().is_empty() => Some(self.children.remove(i - 1)),
            _ => None,
        };
        (ws, e)
    }
    fn insert(&mut self, at: usize, ws: Option<Node>, e: Node) {
        self.children.insert(at, e);
        if let Some(ws) = ws {
            self.children.insert(at, ws);
        }
    }
}

/// A CIB to fix.
pub struct Cib {
    prolog: Vec<Node>,
    root: Element,
    epilog: Vec<Node>,
    ids: HashSet<String>,
}

fn start(e: &BytesStart) -> Result<Element, String> {
    let mut el = Element::new(&String::from_utf8_lossy(e.name().as_ref()), &[]);
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|e| e.to_string())?;
        let v = a.unescape_value().map_err(|e| e.to_string())?;
        el.attrs.push((
            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            v.into_owned(),
        ));
    }
    Ok(el)
}

fn collect_ids(e: &Element, ids: &mut HashSet<String>) {
    if let Some(id) = e.attr("id") {
        ids.insert(id.to_string());
    }
    for c in e.elements() {
        collect_ids(c, ids);
    }
}

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

fn write_el(out: &mut String, e: &Element) {
    let _ = write!(out, "<{}", e.name);
    for (k, v) in &e.attrs {
        let _ = write!(out, " {k}=\"{}\"", escape(v));
    }
    if e.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for c in &e.children {
        write_node(out, c);
    }
    let _ = write!(out, "</{}>", e.name);
}

fn write_node(out: &mut String, n: &Node) {
    match n {
        Node::Element(e) => write_el(out, e),
        Node::Raw(t) => out.push_str(t),
    }
}

fn find_mut<'a>(e: &'a mut Element, pred: &dyn Fn(&Element) -> bool) -> Option<&'a mut Element> {
    if pred(e) {
        return Some(e);
    }
    e.elements_mut().find_map(|c| find_mut(c, pred))
}

fn role_attr(r: Role) -> &'static str {
    r.as_str()
}

fn kind(k: OrderKind) -> &'static str {
    match k {
        OrderKind::Mandatory => "Mandatory",
        OrderKind::Optional => "Optional",
        OrderKind::Serialize => "Serialize",
    }
}

impl Cib {
    pub fn parse(text: &str) -> Result<Cib, String> {
        let mut reader = Reader::from_str(text);
        reader.config_mut().trim_text(false);
        let mut prolog = Vec::new();
        let mut epilog = Vec::new();
        let mut stack: Vec<Element> = Vec::new();
        let mut root = None;
        loop {
            let pos = reader.buffer_position();
            let ev = reader.read_event().map_err(|e| e.to_string())?;
            let raw = || text[pos as usize..reader.buffer_position() as usize].to_string();
            let node = match ev {
                Event::Eof => break,
                Event::Start(e) => {
                    stack.push(start(&e)?);
                    continue;
                }
                Event::End(_) => {
                    let done = stack.pop().ok_or("an end tag without its start")?;
                    Node::Element(done)
                }
                Event::Empty(e) => Node::Element(start(&e)?),
                _ => Node::Raw(raw()),
            };
            match (stack.last_mut(), node) {
                (Some(parent), n) => parent.children.push(n),
                (None, Node::Element(e)) if root.is_none() => root = Some(e),
                (None, n) if root.is_none() => prolog.push(n),
                (None, n) => epilog.push(n),
            }
        }
        let root = root.ok_or("no root element")?;
        if !stack.is_empty() {
            return Err("the document ends inside an element".into());
        }
        let mut ids = HashSet::new();
        collect_ids(&root, &mut ids);
        Ok(Cib {
            prolog,
            root,
            epilog,
            ids,
        })
    }

    pub fn write(&self) -> String {
        let mut out = String::new();
        for n in &self.prolog {
            write_node(&mut out, n);
        }
        write_el(&mut out, &self.root);
        for n in &self.epilog {
            write_node(&mut out, n);
        }
        out
    }

    fn new_id(&mut self, base: &str) -> String {
        let id = if self.ids.contains(base) {
            (2..)
                .map(|n| format!("{base}-{n}"))
                .find(|i| !self.ids.contains(i))
                .expect("some suffix is free")
        } else {
            base.to_string()
        };
        self.ids.insert(id.clone());
        id
    }

    fn by_id(&mut self, id: &str) -> Result<&mut Element, String> {
        find_mut(&mut self.root, &|e: &Element| {
            e.attr("id") == Some(id) && e.name != "nvpair"
        })
        .ok_or_else(|| format!("no element with id {id:?}"))
    }

    fn constraints(&mut self) -> Result<&mut Element, String> {
        let conf = find_mut(&mut self.root, &|e: &Element| e.name == "configuration")
            .ok_or("no <configuration>")?;
        if conf.position(|e| e.name == "constraints").is_none() {
            conf.push(Element::new("constraints", &[]));
        }
        Ok(conf
            .elements_mut()
            .find(|e| e.name == "constraints")
            .expect("just made"))
    }

    fn order_attrs(e: &mut Element, o: &OrderSpec) {
        for k in [
            "score",
            "first",
            "then",
            "first-action",
            "then-action",
            "kind",
            "symmetrical",
        ] {
            e.unset(k);
        }
        e.set("kind", kind(o.kind));
        e.set("first", &o.first);
        e.set("first-action", o.first_action.as_str());
        e.set("then", &o.then);
        e.set("then-action", o.then_action.as_str());
        if let Some(s) = o.symmetrical {
            e.set("symmetrical", if s { "true" } else { "false" });
        }
    }

    fn colocation_attrs(e: &mut Element, c: &ColocSpec) {
        for k in ["score", "rsc", "with-rsc", "rsc-role", "with-rsc-role"] {
            e.unset(k);
        }
        e.set("score", &super::score_text(c.score, "INFINITY"));
        e.set("rsc", &c.rsc);
        if let Some(r) = c.rsc_role {
            e.set("rsc-role", role_attr(r));
        }
        e.set("with-rsc", &c.with);
        if let Some(r) = c.with_role {
            e.set("with-rsc-role", role_attr(r));
        }
    }

    /// Move the element `rsc` (a child of `from`) into `group` at `place`.
    fn move_into(
        &mut self,
        from: &str,
        rsc: &str,
        group: &str,
        place: &Place,
    ) -> Result<(), String> {
        let parent = self.by_id(from)?;
        let i = parent
            .position(|e| e.attr("id") == Some(rsc))
            .ok_or_else(|| format!("{rsc:?} is not in {from:?}"))?;
        let (ws, node) = parent.take(i);
        let g = self.by_id(group)?;
        let (anchor, after) = match place {
            Place::After(x) => (x, true),
            Place::Before(x) => (x, false),
        };
        let at = g.position(|e| e.attr("id") == Some(anchor.as_str()));
        let ws = ws.or_else(|| Some(Node::Raw(g.indent())));
        match at {
            Some(a) if after => g.insert(a + 1, ws, node),
            Some(a) => {
                // Before the anchor and before the whitespace that leads to it.
                let a = match a.checked_sub(1).map(|j| &g.children[j]) {
                    Some(Node::Raw(t)) if t.trim().is_empty() => a - 1,
                    _ => a,
                };
                g.insert(a, ws, node)
            }
            None => {
                let Node::Element(e) = node else {
                    unreachable!("took an element")
                };
                g.push(e)
            }
        }
        Ok(())
    }

    pub fn apply(&mut self, fix: &Fix) -> Result<(), String> {
        match fix {
            Fix::MoveInGroup { group, rsc, place } => self.move_into(group, rsc, group, place)?,
            Fix::AddOrder(o) => {
                self.ids.insert(o.id.clone());
                let mut e = Element::new("rsc_order", &[("id", &o.id)]);
                Self::order_attrs(&mut e, o);
                self.constraints()?.push(e);
            }
            Fix::ReplaceOrder(o) => Self::order_attrs(self.by_id(&o.id)?, o),
            Fix::AddColocation(c) => {
                self.ids.insert(c.id.clone());
                let mut e = Element::new("rsc_colocation", &[("id", &c.id)]);
                Self::colocation_attrs(&mut e, c);
                self.constraints()?.push(e);
            }
            Fix::ReplaceColocation(c) => Self::colocation_attrs(self.by_id(&c.id)?, c),
            Fix::DeleteConstraint { id } => {
                let cons = self.constraints()?;
                let i = cons
                    .position(|e| e.attr("id") == Some(id.as_str()))
                    .ok_or_else(|| format!("no constraint {id:?}"))?;
                cons.take(i);
            }
            Fix::SetParam { rsc, name, value } => {
                let set_base = format!("{rsc}-instance_attributes");
                let needs_set = {
                    let p = self.by_id(rsc)?;
                    !p.elements()
                        .any(|e| e.name == "instance_attributes" && e.attr("id-ref").is_none())
                };
                let set_id = needs_set.then(|| self.new_id(&set_base));
                let pair_id_base = format!("{rsc}-instance_attributes-{name}");
                let exists = self.by_id(rsc)?.elements().any(|s| {
                    s.name == "instance_attributes"
                        && s.elements().any(|p| p.attr("name") == Some(name.as_str()))
                });
                let pair_id = (!exists).then(|| self.new_id(&pair_id_base));
                let p = self.by_id(rsc)?;
                if let Some(id) = set_id {
                    let indent = p.indent();
                    let set = Element::new("instance_attributes", &[("id", &id)]);
                    p.insert(0, Some(Node::Raw(indent)), Node::Element(set));
                }
                let set = p
                    .elements_mut()
                    .find(|e| e.name == "instance_attributes" && e.attr("id-ref").is_none())
                    .expect("made above");
                let at = set.position(|e| e.attr("name") == Some(name.as_str()));
                match at {
                    Some(i) => {
                        if let Node::Element(nv) = &mut set.children[i] {
                            nv.set("value", value);
                        }
                    }
                    None => set.push(Element::new(
                        "nvpair",
                        &[
                            ("id", &pair_id.unwrap_or(pair_id_base)),
                            ("name", name),
                            ("value", value),
                        ],
                    )),
                }
            }
            Fix::DeleteParam { rsc, name } => {
                let p = self.by_id(rsc)?;
                for set in p.elements_mut().filter(|e| e.name == "instance_attributes") {
                    while let Some(i) = set.position(|e| e.attr("name") == Some(name.as_str())) {
                        set.take(i);
                    }
                }
            }
            Fix::SetOp {
                rsc,
                name,
                interval,
                timeout,
                role,
                ..
            } => {
                // Monitors are told apart by interval too: a new one is added.
                let same_role = |e: &Element| {
                    e.attr("role").and_then(Role::parse) == *role
                        && (name != "monitor"
                            || e.attr("interval").and_then(duration::pacemaker) == Some(*interval))
                };
                let exists = self.by_id(rsc)?.elements().any(|o| {
                    o.name == "operations"
                        && o.elements()
                            .any(|op| op.attr("name") == Some(name.as_str()) && same_role(op))
                });
                let op_id = (!exists).then(|| {
                    self.new_id(&format!(
                        "{rsc}-{name}-interval-{}",
                        duration::fmt(*interval)
                    ))
                });
                let p = self.by_id(rsc)?;
                if p.position(|e| e.name == "operations").is_none() {
                    p.push(Element::new("operations", &[]));
                }
                let ops = p
                    .elements_mut()
                    .find(|e| e.name == "operations")
                    .expect("made above");
                let at = ops.position(|op| op.attr("name") == Some(name.as_str()) && same_role(op));
                match at {
                    Some(i) => {
                        if let Node::Element(op) = &mut ops.children[i] {
                            op.set("timeout", &duration::fmt(*timeout));
                        }
                    }
                    None => {
                        let (i, t) = (duration::fmt(*interval), duration::fmt(*timeout));
                        let id = op_id.expect("made above");
                        let mut attrs = vec![
                            ("id", id.as_str()),
                            ("name", name.as_str()),
                            ("interval", i.as_str()),
                            ("timeout", t.as_str()),
                        ];
                        if let Some(r) = role {
                            attrs.push(("role", role_attr(*r)));
                        }
                        ops.push(Element::new("op", &attrs));
                    }
                }
            }
            Fix::Unclone {
                clone,
                rsc,
                group,
                place,
            } => {
                self.move_into(clone, rsc, group, place)?;
                let resources = find_mut(&mut self.root, &|e: &Element| {
                    e.elements().any(|c| c.attr("id") == Some(clone.as_str()))
                })
                .ok_or_else(|| format!("no clone {clone:?}"))?;
                let i = resources
                    .position(|e| e.attr("id") == Some(clone.as_str()))
                    .expect("found above");
                resources.take(i);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::OpNow;
    use super::*;
    use crate::model::Action;

    const CIB: &str = r#"<?xml version="1.0"?>
<cib epoch="1" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.9">
  <configuration>
    <resources>
      <!-- the NFS group -->
      <group id="g">
        <primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
        <primitive id="b" class="ocf" provider="heartbeat" type="Dummy">
          <instance_attributes id="b-ia">
            <nvpair id="b-ia-x" name="x" value="1 &amp; 2"/>
          </instance_attributes>
        </primitive>
      </group>
      <clone id="cl">
        <primitive id="s" class="systemd" type="nfs-server"/>
      </clone>
    </resources>
    <constraints>
      <rsc_order id="o" first="cl" then="g"/>
    </constraints>
  </configuration>
  <status/>
</cib>
"#;

    #[test]
    fn untouched_text_round_trips() {
        assert_eq!(Cib::parse(CIB).unwrap().write(), CIB);
    }

    #[test]
    fn edits_as_the_tools_would() {
        let mut c = Cib::parse(CIB).unwrap();
        c.apply(&Fix::DeleteConstraint { id: "o".into() }).unwrap();
        c.apply(&Fix::Unclone {
            clone: "cl".into(),
            rsc: "s".into(),
            group: "g".into(),
            place: Place::Before("b".into()),
        })
        .unwrap();
        c.apply(&Fix::MoveInGroup {
            group: "g".into(),
            rsc: "a".into(),
            place: Place::After("b".into()),
        })
        .unwrap();
        c.apply(&Fix::SetParam {
            rsc: "s".into(),
            name: "y".into(),
            value: "<2>".into(),
        })
        .unwrap();
        c.apply(&Fix::SetOp {
            rsc: "b".into(),
            name: "stop".into(),
            interval: std::time::Duration::ZERO,
            timeout: std::time::Duration::from_secs(60),
            role: None,
            now: OpNow::Missing,
        })
        .unwrap();
        c.apply(&Fix::AddOrder(OrderSpec {
            id: "o2".into(),
            kind: OrderKind::Mandatory,
            first: "a".into(),
            first_action: Action::Promote,
            then: "b".into(),
            then_action: Action::Start,
            symmetrical: None,
        }))
        .unwrap();
        let out = c.write();
        let m = crate::model::cib::parse(&out, &std::sync::Arc::from("t.xml")).unwrap();
        let g = m.get("g").unwrap();
        let ids: Vec<&str> = g
            .children
            .iter()
            .map(|&i| m.resources[i].id.as_str())
            .collect();
        assert_eq!(ids, ["s", "b", "a"], "{out}");
        assert!(m.get("cl").is_none());
        assert_eq!(m.param(m.by_id["s"], "y").unwrap().value, "<2>");
        assert_eq!(m.param(m.by_id["b"], "x").unwrap().value, "1 & 2");
        assert!(m.resources[m.by_id["b"]].op("stop").next().is_some());
        assert_eq!(m.orders.len(), 1);
        assert_eq!(m.orders[0].id, "o2");
        assert!(out.contains("<!-- the NFS group -->") && out.contains("<status/>"));
    }
}
