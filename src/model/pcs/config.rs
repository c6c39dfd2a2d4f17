//! `pcs config` (and `pcs constraint [config]`, `pcs resource config`)
//! output → [`Model`], in all three generations (see the reference notes):
//!
//! * A (pcs 0.9 to 0.10.13, 0.11.1–0.11.2): ` Resource: X (class=… type=…)`,
//!   `Attributes: k=v …`, `Meta Attrs:`, `Operations: monitor interval=…
//!   (id)` with aligned continuation lines; `Ordering Constraints:` as
//!   `promote A then start B (kind:Mandatory) (id:…)`, `Colocation
//!   Constraints:` as `A with B (score:…) (with-rsc-role:…) (id:…)`, both
//!   with `Resource Sets:` lines (`set A B … (id:…) setoptions …`), and
//!   `Location Constraints:` per resource (`Enabled on:`, `Disabled on:`,
//!   `Constraint:` with a `Rule:`).
//! * B (resources from 0.10.14 / 0.11.3): one attribute per line under
//!   `Attributes: <set id>`, `monitor: <op id>` then `interval=… timeout=…`.
//! * C (constraints from 0.11.6): `start resource 'A' then start resource
//!   'B' (id: …)` with options on the following lines, `Promoted resource
//!   'A' with Stopped resource 'B'`, `resource 'A' prefers node 'n' with
//!   score S`, and `Order|Colocation Set Constraints:` blocks.
//!
//! `Stonith Devices:` are resources too. A line inside the resource or
//! constraint sections that none of these forms matches is recorded as
//! [`super::super::Unparsed`] (rule NFS003).

use std::sync::Arc;

use crate::formats::bools;

use super::super::words::{crm_lines, unmark};
use super::super::*;
use super::pair;

/// The section a line belongs to.
#[derive(PartialEq, Clone, Copy, Debug)]
enum Sec {
    None,
    Resources,
    OrderA,
    OrderC,
    OrderSetC,
    ColocationA,
    ColocationC,
    ColocationSetC,
    LocationA,
    LocationC,
    Properties,
    RscDefaults,
    OpDefaults,
    Tags,
    /// A section nfsha has no use for (nodes, quorum, alerts, tickets, …).
    Other,
}

/// What the lines under a resource hold.
#[derive(PartialEq, Clone, Copy)]
enum Sub {
    None,
    Params,
    Meta,
    Ops,
    /// Utilization, bundle container/network/storage: not used.
    Skip,
}

/// Parse `pcs config` output. Never an error: a line that cannot be read
/// is recorded as NFS003 (an input with nothing in it is refused by
/// [`super::super::input`]).
pub fn parse_config(text: &str, file: &Arc<str>) -> Result<Model, ParseError> {
    let mut r = Reader {
        file: file.clone(),
        m: Model {
            has_cluster: true,
            ..Model::default()
        },
        sec: Sec::None,
        sub: Sub::None,
        containers: Vec::new(),
        current: None,
        ops_indent: 0,
        pending_order: None,
        pending_colocation: None,
        set_c: None,
        location_rsc: None,
        tag: None,
        stonith: false,
    };
    for (n, raw) in text.lines().enumerate() {
        r.line(n as u32 + 1, raw);
    }
    r.m.finish();
    Ok(r.m)
}

/// A generation C set constraint being read.
struct SetC {
    order: bool,
    id: String,
    sets: Vec<RscSet>,
    score: Option<i64>,
    kind: Option<OrderKind>,
    loc: Loc,
}

struct Reader {
    file: Arc<str>,
    m: Model,
    sec: Sec,
    sub: Sub,
    /// Open groups/clones/bundles with the indent of their heading.
    containers: Vec<(usize, usize)>,
    current: Option<usize>,
    ops_indent: usize,
    /// Generation C: the order or colocation the option lines belong to.
    pending_order: Option<usize>,
    pending_colocation: Option<usize>,
    set_c: Option<SetC>,
    /// Generation A locations: the resource of the lines below.
    location_rsc: Option<String>,
    /// The tag being read and the indent of its id.
    tag: Option<(String, usize)>,
    /// Under `Stonith Devices:`.
    stonith: bool,
}

/// The value of `(key:value)` or `(key: value)` in generation A text.
fn paren(meta: &str, key: &str) -> Option<String> {
    meta.split('(').find_map(|p| {
        let rest = p.trim().strip_prefix(key)?;
        let v = rest.strip_prefix(':')?;
        Some(v.trim().trim_end_matches(')').trim().to_string())
    })
}

/// Split `body (k:v) (k:v)` into the body and the parenthesised tail.
fn split_parens(line: &str) -> (&str, &str) {
    match line.find(" (") {
        Some(p) => (&line[..p], &line[p..]),
        None => (line, ""),
    }
}

/// Quoted names in generation C lines: `start resource 'A' then …`.
fn quoted(line: &str) -> Vec<&str> {
    line.split('\'').skip(1).step_by(2).collect()
}

/// The `(id: …)` at the end of a generation C line.
fn id_c(line: &str) -> Option<String> {
    line.rsplit_once("(id: ")
        .map(|x| x.1.trim_end_matches(')').trim().to_string())
}

/// Split a line into words, honouring the quotes pcs puts around values
/// with spaces (`nfsd_args="-G 20 -L 15"`).
fn shell_words(line: &str) -> Vec<String> {
    crm_lines(line)
        .into_iter()
        .flat_map(|l| l.words.into_iter().map(|(w, _)| unmark(&w)))
        .collect()
}

/// Name/value pairs of one line. pcs 0.9 prints values with spaces
/// unquoted (`nfsd_args=-G 20 -L 15`): words without `=` continue the
/// value before them.
fn pairs_of(line: &str, loc: &Loc) -> Vec<NvPair> {
    let mut out: Vec<NvPair> = Vec::new();
    for w in shell_words(line) {
        match pair(&w, loc) {
            Some(p) => out.push(p),
            None => {
                if let Some(last) = out.last_mut() {
                    last.value.push(' ');
                    last.value.push_str(&w);
                }
            }
        }
    }
    out
}

/// Apply the `key=value` words to an operation; other words are ignored.
fn set_op_words<'a>(op: &mut Op, words: impl IntoIterator<Item = &'a str>) {
    for t in words {
        if let Some((k, v)) = t.split_once('=') {
            op.set(k, v);
        }
    }
}

impl Reader {
    fn loc(&self, line: u32) -> Loc {
        Loc::new(&self.file, line)
    }

    fn not_understood(&mut self, line_no: u32, line: &str, why: &str) {
        let loc = self.loc(line_no);
        self.m.unparsed(loc, &[line.trim()], why);
    }

    fn line(&mut self, n: u32, raw: &str) {
        if raw.trim().is_empty() {
            return;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if indent == 0 && self.header(line) {
            return;
        }
        match self.sec {
            Sec::Resources => self.resource_line(n, indent, line),
            Sec::OrderA => self.order_a(n, line),
            Sec::OrderC => self.order_c(n, line),
            Sec::ColocationA => self.colocation_a(n, line),
            Sec::ColocationC => self.colocation_c(n, line),
            Sec::OrderSetC | Sec::ColocationSetC => self.set_c_line(n, line),
            Sec::LocationA => self.location_a(n, line),
            Sec::LocationC => self.location_c(n, line),
            Sec::Properties | Sec::RscDefaults | Sec::OpDefaults => self.nv_line(n, line),
            Sec::Tags => self.tag_line(indent, line),
            Sec::None | Sec::Other => {}
        }
    }

    /// A line at column 0: a section heading, or (generations B/C printed by
    /// `pcs resource config`) a resource at the top level. False when the
    /// line is neither.
    fn header(&mut self, line: &str) -> bool {
        self.flush_set_c();
        self.sub = Sub::None;
        self.current = None;
        self.containers.clear();
        self.pending_order = None;
        self.pending_colocation = None;
        self.location_rsc = None;
        self.tag = None;
        let head = line.split(':').next().unwrap_or("");
        self.stonith = head == "Stonith Devices";
        self.sec = match head {
            "Resources" | "Stonith Devices" => Sec::Resources,
            "Ordering Constraints" | "Order Constraints" => Sec::OrderA,
            "Order Set Constraints" => Sec::OrderSetC,
            "Colocation Constraints" => Sec::ColocationA,
            "Colocation Set Constraints" => Sec::ColocationSetC,
            "Location Constraints" => Sec::LocationA,
            "Cluster Properties" => Sec::Properties,
            "Resources Defaults" | "Resource Defaults" => Sec::RscDefaults,
            "Operations Defaults" | "Operation Defaults" => Sec::OpDefaults,
            "Tags" => Sec::Tags,
            "Resource" | "Group" | "Clone" | "Master" | "Bundle" => {
                self.sec = Sec::Resources;
                return false;
            }
            _ => Sec::Other,
        };
        true
    }

    // ---- resources -------------------------------------------------------

    fn resource_line(&mut self, n: u32, indent: usize, line: &str) {
        let loc = self.loc(n);
        let (head, rest) = line.split_once(':').unwrap_or((line, ""));
        let rest = rest.trim();
        match head {
            "Resource" | "Group" | "Clone" | "Master" | "Bundle" | "Promotable" => {
                self.containers.retain(|(i, _)| *i < indent);
                let id = rest.split_whitespace().next().unwrap_or("").to_string();
                if id.is_empty() {
                    self.not_understood(
                        n,
                        line,
                        &format!("`{head}:` without an id; expected `{head}: <id>`"),
                    );
                    return;
                }
                let kind = match head {
                    "Resource" => {
                        let attrs = rest
                            .split_once('(')
                            .map_or("", |x| x.1.trim_end_matches(')'));
                        let get = |k: &str| {
                            attrs
                                .split_whitespace()
                                .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                                .map(str::to_string)
                        };
                        let class = get("class").unwrap_or_else(|| {
                            if self.stonith {
                                "stonith".into()
                            } else {
                                "ocf".into()
                            }
                        });
                        Kind::Primitive(Agent {
                            class,
                            provider: get("provider"),
                            ty: get("type").unwrap_or_default(),
                        })
                    }
                    "Group" => Kind::Group,
                    "Bundle" => Kind::Bundle,
                    "Master" | "Promotable" => Kind::Clone { promotable: true },
                    _ => Kind::Clone { promotable: false },
                };
                let mut r = Resource::new(&id, kind, loc);
                r.parent = self.containers.last().map(|c| c.1);
                let idx = self.m.add(r);
                if head != "Resource" {
                    self.containers.push((indent, idx));
                }
                self.current = Some(idx);
                self.sub = Sub::None;
            }
            "Attributes" | "Instance Attributes" => {
                self.sub = Sub::Params;
                self.pairs(rest, &loc, true);
            }
            "Meta Attrs" | "Meta Attributes" => {
                self.sub = Sub::Meta;
                self.pairs(rest, &loc, false);
            }
            "Operations" => {
                self.sub = Sub::Ops;
                self.ops_indent = indent;
                if let Some(c) = self.current {
                    if !rest.is_empty() {
                        push_op_a(&mut self.m.resources[c], rest, &loc);
                    }
                }
            }
            "Utilization" | "Docker" | "Podman" | "Rkt" | "Network" | "Port Mapping"
            | "Storage Mapping" | "Description" => self.sub = Sub::Skip,
            _ => self.resource_detail(n, indent, line, &loc),
        }
    }

    /// A line below `Attributes:`, `Meta Attrs:` or `Operations:`.
    fn resource_detail(&mut self, n: u32, indent: usize, line: &str, loc: &Loc) {
        let Some(c) = self.current else {
            if !line.starts_with("No ") {
                self.not_understood(
                    n,
                    line,
                    "expected `Resource:`, `Group:`, `Clone:` or `Bundle:`",
                );
            }
            return;
        };
        match self.sub {
            Sub::Params => self.pairs(line, loc, true),
            Sub::Meta => self.pairs(line, loc, false),
            Sub::Ops if indent > self.ops_indent => {
                let first = line.split_whitespace().next().unwrap_or("");
                if let Some(name) = line
                    .strip_suffix(':')
                    .or_else(|| line.split_once(": ").map(|x| x.0))
                    .filter(|x| !x.contains('=') && !x.contains(' '))
                {
                    // Generation B: `monitor: id` then `interval=… timeout=…`.
                    self.m.resources[c].ops.push(Op::named(name, loc.clone()));
                } else if !first.contains('=') {
                    push_op_a(&mut self.m.resources[c], line, loc);
                } else if let Some(op) = self.m.resources[c].ops.last_mut() {
                    set_op_words(op, line.split_whitespace());
                }
            }
            Sub::Skip => {}
            _ => self.not_understood(
                n,
                line,
                "expected an attribute, meta attribute or operation of the resource above",
            ),
        }
    }

    fn pairs(&mut self, text: &str, loc: &Loc, params: bool) {
        let Some(c) = self.current else { return };
        // Generation B heads the list with the set's id: no `=` in it.
        let pairs = pairs_of(text, loc);
        let r = &mut self.m.resources[c];
        if params {
            r.params.extend(pairs);
        } else {
            r.meta.extend(pairs);
            r.promotable_from_meta();
            r.rename_legacy_meta();
        }
    }

    // ---- order and colocation, generation A -----------------------------

    /// `promote A then start B (kind:Mandatory) (Options: …) (id:…)`, `A then B`,
    /// or a `Resource Sets:` block.
    fn order_a(&mut self, n: u32, line: &str) {
        if line.contains(" resource '") {
            self.sec = Sec::OrderC;
            return self.order_c(n, line);
        }
        if line == "Resource Sets:" || line.starts_with("set ") {
            return self.sets_a(n, line, true);
        }
        let (body, meta) = split_parens(line);
        let w: Vec<&str> = body.split_whitespace().collect();
        let side = |s: &[&str]| match s {
            [a, r] if Action::parse(a).is_some() => Some((Action::parse(a), r.to_string())),
            [r] => Some((None, r.to_string())),
            _ => None,
        };
        let t = w.iter().position(|x| *x == "then");
        let parsed = t.and_then(|t| Some((side(&w[..t])?, side(&w[t + 1..])?)));
        let Some(((fa, first), (ta, then))) = parsed else {
            self.not_understood(
                n,
                line,
                "expected `[action] <resource> then [action] <resource> (kind:…) (id:…)`",
            );
            return;
        };
        let opts = paren(meta, "Options").unwrap_or_default();
        let opt = |k: &str| {
            opts.split_whitespace()
                .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                .map(str::to_string)
        };
        let kind = paren(meta, "kind")
            .and_then(|k| OrderKind::parse(&k))
            .or_else(|| {
                paren(meta, "score")
                    .and_then(|s| parse_score(&s))
                    .map(OrderKind::from_score)
            })
            .unwrap_or(OrderKind::Mandatory);
        let loc = self.loc(n);
        self.m.orders.push(Order {
            id: paren(meta, "id").unwrap_or_else(|| format!("order-line-{n}")),
            kind,
            symmetrical: opt("symmetrical").and_then(|v| bools::pacemaker(&v)),
            // `pcs config` prints the actions stored in the CIB; an absent
            // then-action keeps Pacemaker's default.
            sets: vec![RscSet::one(&first, fa, None), RscSet::one(&then, ta, None)],
            simple: true,
            loc,
        });
    }

    /// `A with B (score:INFINITY) (rsc-role:Started) (with-rsc-role:Promoted) (id:…)`.
    fn colocation_a(&mut self, n: u32, line: &str) {
        if line.contains(" resource '") {
            self.sec = Sec::ColocationC;
            return self.colocation_c(n, line);
        }
        if line == "Resource Sets:" || line.starts_with("set ") {
            return self.sets_a(n, line, false);
        }
        let (body, meta) = split_parens(line);
        let w: Vec<&str> = body.split_whitespace().collect();
        let [rsc, "with", with] = w.as_slice() else {
            self.not_understood(
                n,
                line,
                "expected `<resource> with <resource> (score:…) (id:…)`",
            );
            return;
        };
        let role = |k: &str| paren(meta, k).and_then(|r| Role::parse(&r));
        let loc = self.loc(n);
        self.m.colocations.push(Colocation {
            id: paren(meta, "id").unwrap_or_else(|| format!("colocation-line-{n}")),
            score: paren(meta, "score")
                .and_then(|s| parse_score(&s))
                .unwrap_or(INFINITY),
            sets: vec![
                RscSet::one(rsc, None, role("rsc-role")),
                RscSet::one(with, None, role("with-rsc-role")),
            ],
            simple: true,
            loc,
        });
    }

    /// `set A B [opts] (id:…) set C [opts] (id:…) [setoptions k=v (id:…)]`.
    fn sets_a(&mut self, n: u32, line: &str, order: bool) {
        if line == "Resource Sets:" {
            return;
        }
        let id = line
            .rsplit("(id:")
            .next()
            .filter(|_| line.contains("(id:"))
            .map(|x| x.trim_end_matches(')').trim().to_string());
        let cleaned: Vec<String> = line
            .split(" (id:")
            .map(|p| p.split_once(')').map_or(p, |x| x.1).to_string())
            .collect();
        let cleaned = cleaned.join(" ");
        let words: Vec<&str> = cleaned.split_whitespace().collect();
        let (sets, opts) = super::constraint::sets(&words, order);
        if sets.is_empty() {
            self.not_understood(n, line, "expected `set <resource>… [options] (id:…)`");
            return;
        }
        let opt = |k: &str| opts.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        let loc = self.loc(n);
        let id = id.unwrap_or_else(|| format!("set-line-{n}"));
        if order {
            self.m.orders.push(Order {
                id,
                kind: opt("kind")
                    .and_then(|k| OrderKind::parse(&k))
                    .unwrap_or(OrderKind::Mandatory),
                symmetrical: opt("symmetrical").and_then(|v| bools::pacemaker(&v)),
                sets,
                simple: false,
                loc,
            });
        } else {
            self.m.colocations.push(Colocation {
                id,
                score: opt("score")
                    .and_then(|s| parse_score(&s))
                    .unwrap_or(INFINITY),
                sets,
                simple: false,
                loc,
            });
        }
    }

    // ---- order and colocation, generation C -----------------------------

    /// `start resource 'G2' then start resource 'B2' (id: …)`, options on
    /// the next lines (`kind=Optional`, `symmetrical=0 score=-123`).
    fn order_c(&mut self, n: u32, line: &str) {
        if !line.contains(" resource '") {
            let Some(i) = self.pending_order else {
                self.not_understood(
                    n,
                    line,
                    "expected `<action> resource '<id>' then <action> resource '<id>'`",
                );
                return;
            };
            let o = &mut self.m.orders[i];
            for kv in line.split_whitespace() {
                match kv.split_once('=') {
                    Some(("kind", v)) => o.kind = OrderKind::parse(v).unwrap_or(o.kind),
                    Some(("score", v)) => {
                        if let Some(s) = parse_score(v) {
                            o.kind = OrderKind::from_score(s);
                        }
                    }
                    Some(("symmetrical", v)) => o.symmetrical = bools::pacemaker(v),
                    _ => {}
                }
            }
            return;
        }
        let q = quoted(line);
        let parts: Vec<&str> = line.split('\'').collect();
        if q.len() < 2 || !line.contains(" then ") {
            self.not_understood(
                n,
                line,
                "expected `<action> resource '<id>' then <action> resource '<id>'`",
            );
            return;
        }
        let fa = Action::parse(parts[0].split_whitespace().next().unwrap_or(""));
        let ta = Action::parse(parts[2].split_whitespace().nth(1).unwrap_or(""));
        let loc = self.loc(n);
        self.m.orders.push(Order {
            id: id_c(line).unwrap_or_else(|| format!("order-line-{n}")),
            kind: OrderKind::Mandatory,
            symmetrical: None,
            sets: vec![
                RscSet::one(q[0], Some(fa.unwrap_or(Action::Start)), None),
                RscSet::one(q[1], Some(ta.unwrap_or(Action::Start)), None),
            ],
            simple: true,
            loc,
        });
        self.pending_order = Some(self.m.orders.len() - 1);
    }

    /// `Promoted resource 'G1-clone' with Stopped resource 'R6-clone' (id: …)`
    /// then `score=-100`.
    fn colocation_c(&mut self, n: u32, line: &str) {
        if !line.contains(" resource '") {
            let Some(i) = self.pending_colocation else {
                self.not_understood(
                    n,
                    line,
                    "expected `[role] resource '<id>' with [role] resource '<id>'`",
                );
                return;
            };
            for kv in line.split_whitespace() {
                if let Some(("score", v)) = kv.split_once('=') {
                    let c = &mut self.m.colocations[i];
                    c.score = parse_score(v).unwrap_or(c.score);
                }
            }
            return;
        }
        let q = quoted(line);
        let parts: Vec<&str> = line.split('\'').collect();
        if q.len() < 2 || !parts[2].contains(" with ") {
            self.not_understood(
                n,
                line,
                "expected `[role] resource '<id>' with [role] resource '<id>'`",
            );
            return;
        }
        let rr = Role::parse(parts[0].split_whitespace().next().unwrap_or(""));
        let wr = Role::parse(parts[2].split_whitespace().nth(1).unwrap_or(""));
        let loc = self.loc(n);
        self.m.colocations.push(Colocation {
            id: id_c(line).unwrap_or_else(|| format!("colocation-line-{n}")),
            score: INFINITY,
            sets: vec![RscSet::one(q[0], None, rr), RscSet::one(q[1], None, wr)],
            simple: true,
            loc,
        });
        self.pending_colocation = Some(self.m.colocations.len() - 1);
    }

    /// A line of an `Order|Colocation Set Constraints:` block.
    fn set_c_line(&mut self, n: u32, line: &str) {
        let order = self.sec == Sec::OrderSetC;
        if let Some(id) = line.strip_prefix("Set Constraint") {
            self.flush_set_c();
            let id = id.trim_start_matches(':').trim();
            self.set_c = Some(SetC {
                order,
                id: if id.is_empty() {
                    format!("set-line-{n}")
                } else {
                    id.to_string()
                },
                sets: Vec::new(),
                score: None,
                kind: None,
                loc: self.loc(n),
            });
            return;
        }
        let Some(sc) = self.set_c.as_mut() else {
            self.not_understood(n, line, "expected `Set Constraint:`");
            return;
        };
        if line.starts_with("Resource Set") {
            let mut s = RscSet::one("", None, None);
            s.resources.clear();
            s.id = line
                .split_once(':')
                .map(|x| x.1.trim().to_string())
                .filter(|x| !x.is_empty());
            sc.sets.push(s);
        } else if let Some(list) = line.strip_prefix("Resources:") {
            if let Some(s) = sc.sets.last_mut() {
                s.resources = quoted(list).into_iter().map(str::to_string).collect();
            }
        } else {
            for kv in line.split_whitespace() {
                let Some((k, v)) = kv.split_once('=') else {
                    continue;
                };
                match (sc.sets.last_mut(), k) {
                    (Some(s), "sequential") => s.sequential = bools::pacemaker(v).unwrap_or(true),
                    (Some(s), "require-all") => s.require_all = bools::pacemaker(v).unwrap_or(true),
                    (Some(s), "action") => s.action = Action::parse(v),
                    (Some(s), "role") => s.role = Role::parse(v),
                    (_, "score") => sc.score = parse_score(v),
                    (_, "kind") => sc.kind = OrderKind::parse(v),
                    _ => {}
                }
            }
        }
    }

    fn flush_set_c(&mut self) {
        let Some(sc) = self.set_c.take() else { return };
        let sets: Vec<RscSet> = sc
            .sets
            .into_iter()
            .filter(|s| !s.resources.is_empty())
            .collect();
        if sc.order {
            self.m.orders.push(Order {
                id: sc.id,
                kind: sc.kind.unwrap_or(OrderKind::Mandatory),
                symmetrical: None,
                sets,
                simple: false,
                loc: sc.loc,
            });
        } else {
            self.m.colocations.push(Colocation {
                id: sc.id,
                score: sc.score.unwrap_or(INFINITY),
                sets,
                simple: false,
                loc: sc.loc,
            });
        }
    }

    // ---- locations -------------------------------------------------------

    /// Generation A: `Resource: X` then `Enabled on: n (score:S) (id:…)`,
    /// `Disabled on: …`, `Node: n (score:S)` (0.10), `Constraint: id` with a rule.
    fn location_a(&mut self, n: u32, line: &str) {
        if line.starts_with("resource '") || line.starts_with("resource pattern '") {
            self.sec = Sec::LocationC;
            return self.location_c(n, line);
        }
        let (head, rest) = line.split_once(':').unwrap_or((line, ""));
        let (body, meta) = split_parens(rest.trim());
        let loc = self.loc(n);
        match head {
            "Resource" => self.location_rsc = Some(body.trim().to_string()),
            "Resource pattern" => self.location_rsc = None,
            "Enabled on" | "Disabled on" | "Node" if !body.trim().is_empty() => {
                let Some(rsc) = self.location_rsc.clone() else {
                    return;
                };
                let node = body.split_whitespace().next().unwrap_or("");
                let mut score = paren(meta, "score").and_then(|s| parse_score(&s));
                if head == "Disabled on" && score.is_none() {
                    score = Some(-INFINITY);
                }
                let id = paren(meta, "id").unwrap_or_else(|| format!("location-{rsc}-{node}"));
                let mut l = Location::new(&id, &rsc, loc);
                l.node = Some(node.to_string());
                l.score = score.or(Some(INFINITY));
                self.m.locations.push(l);
            }
            h if h.starts_with("Constraint") => {
                let Some(rsc) = self.location_rsc.clone() else {
                    return;
                };
                let mut l = Location::new(body.trim(), &rsc, loc);
                l.rule = true;
                self.m.locations.push(l);
            }
            _ => {}
        }
    }

    /// Generation C: `resource 'R' prefers|avoids node 'n' with score S (id: …)`
    /// or `resource 'R' (id: …)` followed by `Rules:`.
    fn location_c(&mut self, n: u32, line: &str) {
        if !line.starts_with("resource '") {
            return; // option, rule and expression lines, patterns
        }
        let q = quoted(line);
        let Some(rsc) = q.first() else { return };
        let loc = self.loc(n);
        let id = id_c(line).unwrap_or_else(|| format!("location-line-{n}"));
        let mut l = Location::new(&id, rsc, loc);
        if let Some(node) = q.get(1) {
            l.node = Some(node.to_string());
            let score = line
                .split(" with score ")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .and_then(parse_score);
            l.score = score.map(|s| {
                if line.contains(" avoids ") {
                    -s.abs()
                } else {
                    s
                }
            });
        } else {
            l.rule = true;
        }
        self.m.locations.push(l);
    }

    // ---- properties, defaults, tags -------------------------------------

    /// `stonith-enabled: false` (A) or `stonith-enabled=false` (B/C).
    fn nv_line(&mut self, n: u32, line: &str) {
        let kv = line
            .split_once('=')
            .or_else(|| line.split_once(": "))
            .filter(|(k, _)| !k.contains(' '));
        let Some((k, v)) = kv else { return };
        let p = NvPair {
            name: k.trim().to_string(),
            value: v.trim().to_string(),
            loc: self.loc(n),
            conditional: false,
        };
        match self.sec {
            Sec::Properties => self.m.properties.push(p),
            Sec::RscDefaults => self.m.rsc_defaults.push(p),
            _ => self.m.op_defaults.push(p),
        }
    }

    /// `Tags:` then each tag id, with its members indented below it.
    fn tag_line(&mut self, indent: usize, line: &str) {
        if line.starts_with("No tags") {
            return;
        }
        match &self.tag {
            Some((t, at)) if indent > *at => {
                self.m
                    .tags
                    .entry(t.clone())
                    .or_default()
                    .push(line.to_string());
            }
            _ => {
                self.tag = Some((line.to_string(), indent));
                self.m.tags.entry(line.to_string()).or_default();
            }
        }
    }
}

/// Generation A op line: `monitor interval=30s timeout=20s (id)`.
fn push_op_a(r: &mut Resource, line: &str, loc: &Loc) {
    let mut words = line.split_whitespace();
    let Some(name) = words.next() else { return };
    let mut op = Op::named(name, loc.clone());
    set_op_words(&mut op, words);
    r.ops.push(op);
}

#[cfg(test)]
mod tests;
