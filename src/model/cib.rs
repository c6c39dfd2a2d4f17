//! CIB XML → [`Model`].
//!
//! The XML is first read into a small arena of elements (skipping `<status>`,
//! which holds run-time state, not configuration), then the configuration is
//! walked once. `id-ref` on nvsets, nvpairs, operations and resource sets is
//! resolved through an id index; templates are merged into the primitives
//! built from them (the primitive's own values win); `<master>` becomes a
//! promotable clone.

use crate::formats::{bools, duration};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::*;

/// Deeper nesting than any real CIB; beyond it the input is rejected rather
/// than risking the stack while walking.
const MAX_DEPTH: usize = 200;

/// One element. Names, keys and unescaped values borrow from the input
/// text, which keeps a 10,000-resource CIB to a few allocations per element.
#[derive(Debug, Default)]
struct El<'a> {
    name: &'a str,
    attrs: Vec<(&'a str, Cow<'a, str>)>,
    children: Vec<usize>,
    line: u32,
    comments: Vec<String>,
}

impl El<'_> {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_ref())
    }
}

struct Doc<'a> {
    els: Vec<El<'a>>,
    ids: HashMap<&'a str, usize>,
}

/// The part of `text` that `part` (a slice quick-xml handed out) occupies,
/// when it is a plain sub-slice of the input; `None` for decoded copies.
fn within<'a>(text: &'a str, part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    text.get(start..start.checked_add(part.len())?)
        .filter(|s| s.as_ptr() == part.as_ptr())
}

/// A string that borrows from `text` when it can, else an owned copy.
fn text_or_owned<'a>(text: &'a str, part: &[u8]) -> Cow<'a, str> {
    match within(text, part) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(String::from_utf8_lossy(part).into_owned()),
    }
}

fn err(file: &str, line: u32, message: impl Into<String>) -> ParseError {
    ParseError {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

/// Counts lines incrementally, so the whole file is scanned once.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u32,
}

impl Lines<'_> {
    fn at(&mut self, pos: usize) -> u32 {
        let pos = pos.min(self.bytes.len());
        if pos > self.pos {
            self.line += self.bytes[self.pos..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u32;
            self.pos = pos;
        }
        self.line
    }
}

fn read_doc<'a>(text: &'a str, file: &str) -> Result<Doc<'a>, ParseError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut lines = Lines {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut els: Vec<El> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut root: Option<usize> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| {
            let line = lines.at(reader.error_position() as usize);
            err(file, line, format!("malformed XML: {e}"))
        })?;
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Comment(c) => {
                if let Some(&top) = stack.last() {
                    let text = String::from_utf8_lossy(c.as_ref()).into_owned();
                    if text.contains("nfsha:") {
                        els[top].comments.push(text);
                    }
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let Some(e) = start else { continue };
        // The tag begins at the first '<' after the previous event.
        let tag_pos = text.as_bytes()[before.min(text.len())..]
            .iter()
            .position(|&b| b == b'<')
            .map_or(before, |p| before + p);
        let line = lines.at(tag_pos);
        let local = e.local_name();
        let name: &'a str = within(text, local.as_ref()).unwrap_or("?");
        if stack.len() == 1 && name == "status" && !empty {
            // Run-time state: skip the whole subtree without building it.
            reader
                .read_to_end(e.name())
                .map_err(|x| err(file, line, format!("malformed XML in <status>: {x}")))?;
            continue;
        }
        if stack.len() >= MAX_DEPTH {
            return Err(err(
                file,
                line,
                format!("elements nested deeper than {MAX_DEPTH}"),
            ));
        }
        if stack.is_empty() && root.is_some() {
            return Err(err(
                file,
                line,
                "a second top-level element; expected one <cib>",
            ));
        }
        let mut attrs = Vec::new();
        for a in e.attributes().with_checks(false) {
            let a =
                a.map_err(|x| err(file, line, format!("malformed attribute in <{name}>: {x}")))?;
            let key: &'a str = within(text, a.key.local_name().as_ref()).unwrap_or("?");
            let value = match a.unescape_value() {
                Ok(Cow::Borrowed(v)) => text_or_owned(text, v.as_bytes()),
                Ok(Cow::Owned(v)) => Cow::Owned(v),
                Err(_) => text_or_owned(text, &a.value),
            };
            attrs.push((key, value));
        }
        let idx = els.len();
        els.push(El {
            name,
            attrs,
            children: Vec::new(),
            line,
            comments: Vec::new(),
        });
        match stack.last() {
            Some(&p) => els[p].children.push(idx),
            None => root = Some(idx),
        }
        if !empty {
            stack.push(idx);
        }
    }
    if let Some(&open) = stack.last() {
        return Err(err(
            file,
            lines.at(text.len()),
            format!(
                "unexpected end of file: expected </{}> (opened on line {})",
                els[open].name, els[open].line
            ),
        ));
    }
    let Some(root) = root else {
        return Err(err(
            file,
            1,
            "no XML element found; expected a <cib> document",
        ));
    };
    if root != 0 {
        return Err(err(file, 1, "internal: root is not the first element"));
    }
    let mut ids = HashMap::new();
    for (i, el) in els.iter().enumerate() {
        // XML ids contain no entities, so they always borrow from the text.
        if let Some((_, Cow::Borrowed(id))) = el.attrs.iter().find(|(k, _)| *k == "id") {
            ids.entry(*id).or_insert(i);
        }
    }
    Ok(Doc { els, ids })
}

/// Parse a CIB (or a bare `<configuration>`/`<resources>`/`<constraints>`
/// fragment, as vendors publish them).
pub fn parse(text: &str, file: &Arc<str>) -> Result<Model, ParseError> {
    let doc = read_doc(text, file)?;
    let root = &doc.els[0];
    let mut p = Parser {
        doc: &doc,
        file: file.clone(),
        model: Model {
            has_cluster: true,
            ..Model::default()
        },
        templates: HashMap::new(),
    };
    match root.name {
        "cib" => {
            for &c in &root.children {
                if doc.els[c].name == "configuration" {
                    p.configuration(c);
                }
            }
        }
        "configuration" => p.configuration(0),
        "resources" | "constraints" => p.section(0),
        other => {
            return Err(err(
                file,
                root.line,
                format!("root element is <{other}>; expected <cib> (a CIB from cibadmin -Q or pcs cluster cib)"),
            ))
        }
    }
    p.model.finish();
    Ok(p.model)
}

struct Template {
    agent: Agent,
    params: Vec<NvPair>,
    meta: Vec<NvPair>,
    ops: Vec<Op>,
}

struct Parser<'d> {
    doc: &'d Doc<'d>,
    file: Arc<str>,
    model: Model,
    templates: HashMap<String, Template>,
}

impl<'d> Parser<'d> {
    fn el(&self, i: usize) -> &'d El<'d> {
        &self.doc.els[i]
    }
    fn loc(&self, i: usize) -> Loc {
        Loc::new(&self.file, self.el(i).line)
    }
    /// Follow an `id-ref` to the element it names.
    fn deref(&self, i: usize) -> usize {
        let el = self.el(i);
        match el.attr("id-ref").and_then(|r| self.doc.ids.get(r)) {
            Some(&t) if t != i => t,
            _ => i,
        }
    }
    fn children(&self, i: usize, name: &'static str) -> impl Iterator<Item = usize> + 'd {
        let els = &self.doc.els;
        els[i]
            .children
            .iter()
            .copied()
            .filter(move |&c| els[c].name == name)
    }

    fn configuration(&mut self, i: usize) {
        // Templates first: primitives may come before the template they use.
        for &c in &self.el(i).children.clone() {
            if self.el(c).name == "resources" {
                for &r in &self.el(c).children {
                    if self.el(r).name == "template" {
                        self.template(r);
                    }
                }
            }
        }
        for &c in &self.el(i).children {
            self.section(c);
        }
    }

    fn section(&mut self, i: usize) {
        match self.el(i).name {
            "crm_config" => {
                for s in self.children(i, "cluster_property_set") {
                    let pairs = self.nvset(s);
                    self.model.properties.extend(pairs);
                }
            }
            "rsc_defaults" => {
                for s in self.children(i, "meta_attributes") {
                    let pairs = self.nvset(s);
                    self.model.rsc_defaults.extend(pairs);
                }
            }
            "op_defaults" => {
                for s in self.children(i, "meta_attributes") {
                    let pairs = self.nvset(s);
                    self.model.op_defaults.extend(pairs);
                }
            }
            "resources" => {
                for &c in &self.el(i).children {
                    self.resource(c, None);
                }
            }
            "constraints" => {
                for &c in &self.el(i).children {
                    self.constraint(c);
                }
            }
            "tags" => {
                for t in self.children(i, "tag") {
                    let Some(id) = self.el(t).attr("id") else {
                        continue;
                    };
                    let refs = self
                        .children(t, "obj_ref")
                        .filter_map(|o| self.el(o).attr("id").map(str::to_string))
                        .collect();
                    self.model.tags.insert(id.to_string(), refs);
                }
            }
            _ => {}
        }
    }

    /// The nvpairs of one set (following `id-ref`s); `conditional` when the set has a rule.
    fn nvset(&self, i: usize) -> Vec<NvPair> {
        let set = self.deref(i);
        let conditional = self.children(set, "rule").next().is_some();
        let mut out = Vec::new();
        for p in self.children(set, "nvpair") {
            let target = self.el(self.deref(p));
            let el = self.el(p);
            let Some(name) = el.attr("name").or(target.attr("name")) else {
                continue;
            };
            let value = target.attr("value").unwrap_or("").to_string();
            if value == "#default" {
                continue;
            }
            if out.iter().any(|x: &NvPair| x.name == name) {
                continue; // the first of duplicate nvpairs wins
            }
            out.push(NvPair {
                name: name.to_string(),
                value,
                loc: self.loc(p),
                conditional,
            });
        }
        out
    }

    fn nvsets(&self, i: usize, kind: &'static str) -> Vec<NvPair> {
        let mut out: Vec<NvPair> = Vec::new();
        for s in self.children(i, kind) {
            for p in self.nvset(s) {
                if !out.iter().any(|x| x.name == p.name) {
                    out.push(p);
                }
            }
        }
        out
    }

    fn ops(&self, i: usize) -> Vec<Op> {
        let mut out = Vec::new();
        for ops in self.children(i, "operations") {
            let ops = self.deref(ops);
            for o in self.children(ops, "op") {
                let el = self.el(o);
                let mut op = Op {
                    name: el.attr("name").unwrap_or("").to_string(),
                    interval: el.attr("interval").and_then(duration::pacemaker),
                    timeout: el.attr("timeout").and_then(duration::pacemaker),
                    role: el.attr("role").and_then(Role::parse),
                    enabled: el
                        .attr("enabled")
                        .and_then(bools::pacemaker)
                        .unwrap_or(true),
                    loc: self.loc(o),
                };
                // Op options may also be given as nested meta attributes.
                for p in self.nvsets(o, "meta_attributes") {
                    match p.name.as_str() {
                        "timeout" => op.timeout = op.timeout.or(duration::pacemaker(&p.value)),
                        "interval" => op.interval = op.interval.or(duration::pacemaker(&p.value)),
                        _ => {}
                    }
                }
                out.push(op);
            }
        }
        out
    }

    fn agent(el: &El) -> Agent {
        Agent {
            class: el.attr("class").unwrap_or("").to_string(),
            provider: el.attr("provider").map(str::to_string),
            ty: el.attr("type").unwrap_or("").to_string(),
        }
    }

    fn template(&mut self, i: usize) {
        let el = self.el(i);
        let Some(id) = el.attr("id") else { return };
        let t = Template {
            agent: Self::agent(el),
            params: self.nvsets(i, "instance_attributes"),
            meta: self.nvsets(i, "meta_attributes"),
            ops: self.ops(i),
        };
        self.templates.insert(id.to_string(), t);
        self.model.templates.entry(id.to_string()).or_default();
    }

    fn ignores(&self, i: usize) -> Vec<String> {
        self.el(i)
            .comments
            .iter()
            .flat_map(|c| parse_ignore_comment(c))
            .collect()
    }

    fn resource(&mut self, i: usize, parent: Option<usize>) {
        let el = self.el(i);
        let kind = match el.name {
            "primitive" => Kind::Primitive(Self::agent(el)),
            "group" => Kind::Group,
            "clone" => Kind::Clone { promotable: false },
            "master" => Kind::Clone { promotable: true },
            "bundle" => Kind::Bundle,
            _ => return,
        };
        let Some(id) = el.attr("id") else { return };
        let mut r = Resource {
            id: id.to_string(),
            kind,
            parent,
            children: Vec::new(),
            params: self.nvsets(i, "instance_attributes"),
            meta: self.nvsets(i, "meta_attributes"),
            ops: self.ops(i),
            template: el.attr("template").map(str::to_string),
            loc: self.loc(i),
            ignores: self.ignores(i),
        };
        if let Some(t) = r.template.as_ref().and_then(|t| self.templates.get(t)) {
            r.kind = Kind::Primitive(t.agent.clone());
            r.inherit(&t.params, &t.meta, &t.ops);
        }
        r.promotable_from_meta();
        r.rename_legacy_meta();
        let idx = self.model.add(r);
        for &c in &self.el(i).children {
            self.resource(c, Some(idx));
        }
    }

    fn sets(&self, i: usize) -> Vec<RscSet> {
        let mut out = Vec::new();
        for s in self.children(i, "resource_set") {
            let s = self.deref(s);
            let el = self.el(s);
            out.push(RscSet {
                id: el.attr("id").map(str::to_string),
                resources: self
                    .children(s, "resource_ref")
                    .filter_map(|r| self.el(r).attr("id").map(str::to_string))
                    .collect(),
                sequential: el
                    .attr("sequential")
                    .and_then(bools::pacemaker)
                    .unwrap_or(true),
                require_all: el
                    .attr("require-all")
                    .and_then(bools::pacemaker)
                    .unwrap_or(true),
                action: el.attr("action").and_then(Action::parse),
                role: el.attr("role").and_then(Role::parse),
            });
        }
        out
    }

    fn constraint(&mut self, i: usize) {
        let el = self.el(i);
        let id = el.attr("id").unwrap_or("").to_string();
        let ignores = self.ignores(i);
        self.model.ignore_for_constraint(&id, ignores);
        match el.name {
            "rsc_order" => {
                let kind = el
                    .attr("kind")
                    .and_then(OrderKind::parse)
                    .or_else(|| {
                        el.attr("score")
                            .and_then(parse_score)
                            .map(OrderKind::from_score)
                    })
                    .unwrap_or(OrderKind::Mandatory);
                let (sets, simple) = match (el.attr("first"), el.attr("then")) {
                    (Some(f), Some(t)) => (
                        vec![
                            RscSet::one(f, el.attr("first-action").and_then(Action::parse), None),
                            RscSet::one(t, el.attr("then-action").and_then(Action::parse), None),
                        ],
                        true,
                    ),
                    _ => (self.sets(i), false),
                };
                self.model.orders.push(Order {
                    id,
                    kind,
                    symmetrical: el.attr("symmetrical").and_then(bools::pacemaker),
                    sets,
                    simple,
                    loc: self.loc(i),
                });
            }
            "rsc_colocation" => {
                let score = el.attr("score").and_then(parse_score).unwrap_or(INFINITY);
                let (sets, simple) = match (el.attr("rsc"), el.attr("with-rsc")) {
                    (Some(r), Some(w)) => (
                        vec![
                            RscSet::one(r, None, el.attr("rsc-role").and_then(Role::parse)),
                            RscSet::one(w, None, el.attr("with-rsc-role").and_then(Role::parse)),
                        ],
                        true,
                    ),
                    _ => (self.sets(i), false),
                };
                self.model.colocations.push(Colocation {
                    id,
                    score,
                    sets,
                    simple,
                    loc: self.loc(i),
                });
            }
            "rsc_location" => {
                if let Some(r) = el.attr("rsc") {
                    let mut l = Location::new(&id, r, self.loc(i));
                    l.node = el.attr("node").map(str::to_string);
                    l.score = el.attr("score").and_then(parse_score);
                    l.rule = self.children(i, "rule").next().is_some();
                    self.model.locations.push(l);
                }
            }
            _ => {}
        }
    }
}

/// `nfsha: ignore[NFS201,NFS502] reason` → the codes.
pub fn parse_ignore_comment(text: &str) -> Vec<String> {
    let Some(rest) = text.split("nfsha:").nth(1) else {
        return Vec::new();
    };
    let rest = rest.trim_start();
    let Some(rest) = rest.strip_prefix("ignore[") else {
        return Vec::new();
    };
    let Some(end) = rest.find(']') else {
        return Vec::new();
    };
    rest[..end]
        .split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Model, ParseError> {
        parse(s, &Arc::from("t.xml"))
    }

    #[test]
    fn reads_resources_constraints_and_skips_status() {
        let m = parse_str(
            r#"<cib validate-with="pacemaker-3.0">
<configuration>
 <crm_config><cluster_property_set id="o"><nvpair id="n" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
 <resources>
  <master id="ms"><primitive id="d" class="ocf" provider="linbit" type="drbd">
   <meta_attributes id="m"><nvpair id="mm" name="master-max" value="1"/></meta_attributes></primitive></master>
  <group id="g">
   <primitive id="fs" class="ocf" provider="heartbeat" type="Filesystem">
    <instance_attributes id="fs-i"><nvpair id="fs-d" name="directory" value="/srv"/></instance_attributes>
    <operations><op id="fs-mon" name="monitor" interval="20s" timeout="40s"/></operations>
   </primitive>
   <primitive id="ip" template="t"/>
  </group>
  <template id="t" class="ocf" provider="heartbeat" type="IPaddr2"/>
 </resources>
 <constraints>
  <rsc_order id="o1" first="ms" first-action="promote" then="g" score="INFINITY"/>
  <rsc_colocation id="c1" rsc="g" with-rsc="ms" with-rsc-role="Master" score="INFINITY"/>
 </constraints>
</configuration>
<status><node_state id="1"><lrm/></node_state></status>
</cib>"#,
        )
        .unwrap();
        assert_eq!(m.get("ms").unwrap().kind, Kind::Clone { promotable: true });
        assert_eq!(m.get("d").unwrap().meta[0].name, "promoted-max");
        let fs = m.by_id["fs"];
        assert_eq!(m.param(fs, "directory").unwrap().value, "/srv");
        assert_eq!(
            m.resources[fs].ops[0].timeout,
            Some(Duration::from_secs(40))
        );
        assert_eq!(m.resources[fs].loc.line, 8);
        assert_eq!(m.get("ip").unwrap().part(), Part::Vip);
        assert_eq!(
            m.orders[0].actions(),
            vec![Action::Promote, Action::Promote]
        );
        assert_eq!(m.colocations[0].pairs()[0].primary_role, Role::Promoted);
        assert_eq!(m.property("stonith-enabled").unwrap().value, "false");
        assert_eq!(m.expand("t"), vec![m.by_id["ip"]]);
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        let e = parse_str("<cib>\n<configuration>\n").unwrap_err();
        assert!(e.message.contains("expected </configuration>"), "{e}");
        let e = parse_str("<html/>").unwrap_err();
        assert!(e.message.contains("expected <cib>"), "{e}");
        let e = parse_str("<cib>\n\n<a></b></cib>").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }

    #[test]
    fn inline_ignore_comments() {
        assert_eq!(
            parse_ignore_comment(" nfsha: ignore[nfs201, NFS502] why "),
            vec!["NFS201", "NFS502"]
        );
        assert!(parse_ignore_comment("nothing").is_empty());
    }
}
