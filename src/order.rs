//! The effective start order, computed once, in one place.
//!
//! From the model this derives the "starts before" relation between
//! primitives that Pacemaker will honour, and layers it into steps of
//! primitives that may start together. Sources of edges:
//!
//! - groups: each member starts after the previous one (unless the group has
//!   the deprecated meta `ordered=false`);
//! - order constraints of kind Mandatory or Optional (Serialize only forbids
//!   concurrency, in either order, so it adds no edge), simple or with
//!   resource sets, groups/clones/templates/tags expanded to their primitives.
//!   An order gives a *start* edge only when its then-action is `start` and its
//!   first-action is `start` or `promote` (a promote follows the start). The
//!   then-action defaults to the first-action (see [`Order::actions`]), which
//!   is why `promote X then G` orders nothing about G's start.
//!
//! - the meta attribute `container=X`: the resource starts after `X`.
//!
//! Colocations are placement, not order; they are kept out of this graph
//! (rules read them from the model directly).

use crate::formats::bools;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::model::{self, Action, Dialect, Kind, Model, OrderKind};

/// A multiply-rotate hasher for the integer keys of the order graph (the
/// rustc "Fx" hash): the graph of a 10,000-resource CIB is hashed millions of
/// times, and SipHash's DoS resistance buys nothing for indices we made.
#[derive(Default, Clone, Copy)]
pub struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type Fast = BuildHasherDefault<IndexHasher>;
type IndexMap<V> = HashMap<usize, V, Fast>;

/// Why an edge exists, for `nfsha order` and for rule messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeSource {
    Group(String),
    Order(String),
    Container(String),
}

impl std::fmt::Display for EdgeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EdgeSource::Group(g) => write!(f, "group {g}"),
            EdgeSource::Order(o) => write!(f, "order {o}"),
            EdgeSource::Container(c) => write!(f, "container {c}"),
        }
    }
}

/// The start order of one model. Indices are into `model.resources`.
#[derive(Debug, Default)]
pub struct StartOrder {
    /// `(first, then, source)`: `first` starts before `then`. No duplicates.
    pub edges: Vec<(usize, usize, EdgeSource)>,
    /// Steps of primitives that may start together, in order.
    pub sequence: Vec<Vec<usize>>,
    /// Primitives caught in an ordering loop (Pacemaker cannot start them).
    pub cycle: Vec<usize>,
    succ: IndexMap<Vec<usize>>,
    step_of: IndexMap<usize>,
}

/// One set member as a list of ordered units: a resource is one unit (all
/// its primitives), while a template or tag stands for its members in turn,
/// so inside a sequential set they are chained like listed members
/// (Pacemaker turns them into a set internally, `pcmk__tag_to_set`).
fn set_members(m: &Model, r: &str) -> Vec<Vec<usize>> {
    if m.by_id.contains_key(r) {
        return vec![m.expand(r)];
    }
    let members = m.tags.get(r).or_else(|| m.templates.get(r));
    members
        .map(|ms| ms.iter().map(|x| m.expand(x)).collect())
        .unwrap_or_default()
}

/// Whether an order with these actions constrains the *start* of `then`.
fn is_start_edge(first: Action, then: Action) -> bool {
    matches!(first, Action::Start | Action::Promote) && then == Action::Start
}

impl StartOrder {
    pub fn compute(m: &Model) -> StartOrder {
        let mut so = StartOrder::default();
        let mut seen: HashSet<(usize, usize), Fast> = HashSet::default();
        let mut add = |so: &mut StartOrder, a: usize, b: usize, src: &EdgeSource| {
            if a != b && seen.insert((a, b)) {
                so.edges.push((a, b, src.clone()));
            }
        };
        for (gi, g) in m.resources.iter().enumerate() {
            if g.kind != Kind::Group {
                continue;
            }
            if m.meta(gi, "ordered")
                .and_then(|p| bools::pacemaker(&p.value))
                == Some(false)
            {
                continue;
            }
            let src = EdgeSource::Group(g.id.clone());
            for w in g.children.windows(2) {
                for a in m.leaves(w[0]) {
                    for b in m.leaves(w[1]) {
                        add(&mut so, a, b, &src);
                    }
                }
            }
        }
        // A resource with meta `container=X` runs inside X (the deprecated
        // whitebox form of guest nodes): Pacemaker starts it after X.
        for (pi, _) in m.primitives() {
            if let Some(c) = m.meta(pi, "container").and_then(|c| m.by_id.get(&c.value)) {
                let src = EdgeSource::Container(m.resources[*c].id.clone());
                for a in m.leaves(*c) {
                    add(&mut so, a, pi, &src);
                }
            }
        }
        for o in &m.orders {
            if o.kind == OrderKind::Serialize {
                continue;
            }
            let src = EdgeSource::Order(o.id.clone());
            let actions = o.actions();
            let expanded: Vec<Vec<Vec<usize>>> = o
                .sets
                .iter()
                .map(|s| s.resources.iter().flat_map(|r| set_members(m, r)).collect())
                .collect();
            for (si, set) in expanded.iter().enumerate() {
                let act = actions[si];
                if o.sets[si].sequential && !o.simple && is_start_edge(act, act) {
                    for w in set.windows(2) {
                        for &a in &w[0] {
                            for &b in &w[1] {
                                add(&mut so, a, b, &src);
                            }
                        }
                    }
                }
                if si + 1 < expanded.len() && is_start_edge(act, actions[si + 1]) {
                    for a in set.iter().flatten() {
                        for b in expanded[si + 1].iter().flatten() {
                            add(&mut so, *a, *b, &src);
                        }
                    }
                }
            }
        }
        for (a, b, _) in &so.edges {
            so.succ.entry(*a).or_default().push(*b);
        }
        so.layer(m);
        so
    }

    /// Kahn's algorithm, by levels: a primitive's step is one more than the
    /// latest step of anything that must start before it.
    fn layer(&mut self, m: &Model) {
        let prims: Vec<usize> = m.primitives().map(|(i, _)| i).collect();
        let mut indeg: IndexMap<usize> = prims.iter().map(|&p| (p, 0)).collect();
        for (_, b, _) in &self.edges {
            *indeg.entry(*b).or_default() += 1;
        }
        let mut level: IndexMap<usize> = IndexMap::default();
        let mut queue: VecDeque<usize> = prims.iter().copied().filter(|p| indeg[p] == 0).collect();
        for &p in &queue {
            level.insert(p, 0);
        }
        while let Some(p) = queue.pop_front() {
            let lp = level[&p];
            for &s in self.succ.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
                let l = level.entry(s).or_insert(0);
                *l = (*l).max(lp + 1);
                let d = indeg.get_mut(&s).expect("edges only join primitives");
                *d -= 1;
                if *d == 0 {
                    queue.push_back(s);
                }
            }
        }
        let mut steps: Vec<Vec<usize>> = Vec::new();
        for &p in &prims {
            if indeg[&p] > 0 {
                self.cycle.push(p);
                continue;
            }
            let l = level[&p];
            if steps.len() <= l {
                steps.resize(l + 1, Vec::new());
            }
            steps[l].push(p);
            self.step_of.insert(p, l);
        }
        if !self.cycle.is_empty() {
            for &p in &self.cycle {
                self.step_of.insert(p, steps.len());
            }
            steps.push(self.cycle.clone());
        }
        self.sequence = steps;
    }

    /// The step a primitive starts in.
    pub fn step(&self, prim: usize) -> Option<usize> {
        self.step_of.get(&prim).copied()
    }

    /// Whether `a` is ordered (transitively) to start before `b`.
    pub fn starts_before(&self, a: usize, b: usize) -> bool {
        if a == b {
            return false;
        }
        // Steps strictly increase along every edge outside a loop, so only
        // primitives in an earlier step than `b` can lead to it: that prunes
        // the search to the slice of the graph between the two.
        let in_loop = |x: usize| self.cycle.contains(&x);
        let limit = match (self.step(a), self.step(b)) {
            (Some(sa), Some(sb)) if !in_loop(a) && !in_loop(b) => {
                if sa >= sb {
                    return false;
                }
                Some(sb)
            }
            _ => None,
        };
        let mut seen: HashSet<usize, Fast> = HashSet::default();
        let mut stack = vec![a];
        while let Some(x) = stack.pop() {
            for &s in self.succ.get(&x).map(Vec::as_slice).unwrap_or(&[]) {
                if s == b {
                    return true;
                }
                let useful = limit.map_or(true, |sb| self.step(s).map_or(true, |ss| ss < sb));
                if useful && seen.insert(s) {
                    stack.push(s);
                }
            }
        }
        false
    }

    /// The chain of edge sources that orders `a` before `b`, for messages.
    pub fn path(&self, a: usize, b: usize) -> Option<Vec<usize>> {
        let mut prev: IndexMap<usize> = IndexMap::default();
        let mut queue = VecDeque::from([a]);
        while let Some(x) = queue.pop_front() {
            for &s in self.succ.get(&x).map(Vec::as_slice).unwrap_or(&[]) {
                if s == a || prev.contains_key(&s) {
                    continue;
                }
                prev.insert(s, x);
                if s == b {
                    let mut path = vec![b];
                    let mut cur = b;
                    while let Some(&p) = prev.get(&cur) {
                        path.push(p);
                        if p == a {
                            break;
                        }
                        cur = p;
                    }
                    path.reverse();
                    return Some(path);
                }
                queue.push_back(s);
            }
        }
        None
    }
}

/// `nfsha order` arguments.
#[derive(clap::Args, Debug)]
pub struct OrderArgs {
    /// A cluster configuration: CIB XML, `crm configure show` text, pcs
    /// commands or `pcs config` output.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OrderFormat::Text)]
    pub format: OrderFormat,
    /// The input's dialect, when detection guesses wrong.
    #[arg(long, value_enum)]
    pub dialect: Option<Dialect>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderFormat {
    Text,
    Json,
}

#[derive(Serialize)]
struct OrderJson<'a> {
    sequence: Vec<Vec<&'a str>>,
    edges: Vec<[&'a str; 2]>,
}

/// Run `nfsha order`; returns the exit code.
pub fn run(args: &OrderArgs) -> i32 {
    let input = match model::input::read_file(&args.file, args.dialect) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("nfsha order: {e}");
            return 2;
        }
    };
    let mut clusters = input.clusters.into_iter();
    let Some(m) = clusters.next() else {
        eprintln!(
            "nfsha order: {}: is {}, not a cluster configuration; expected CIB XML, crm or pcs text",
            args.file.display(),
            input.dialect.name()
        );
        return 2;
    };
    if let Some(other) = clusters.next() {
        // `pcs -f a …` and `pcs -f b …` never pushed: two CIBs.
        eprintln!(
            "nfsha order: {}: builds more than one CIB (also `{}`); showing the first",
            args.file.display(),
            other.cib_file.as_deref().unwrap_or("the cluster's")
        );
    }
    let so = StartOrder::compute(&m);
    let mut out = std::io::stdout().lock();
    let id = |i: usize| m.resources[i].id.as_str();
    let res = match args.format {
        OrderFormat::Json => {
            let j = OrderJson {
                sequence: so
                    .sequence
                    .iter()
                    .map(|s| s.iter().map(|&i| id(i)).collect())
                    .collect(),
                edges: so.edges.iter().map(|(a, b, _)| [id(*a), id(*b)]).collect(),
            };
            serde_json::to_writer_pretty(&mut out, &j)
                .map_err(std::io::Error::from)
                .and_then(|_| writeln!(out))
        }
        OrderFormat::Text => write_text(&mut out, &m, &so, &args.file.display().to_string()),
    };
    match res {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("nfsha order: writing output: {e}");
            1
        }
    }
}

fn write_text(out: &mut impl Write, m: &Model, so: &StartOrder, file: &str) -> std::io::Result<()> {
    let id = |i: usize| m.resources[i].id.as_str();
    let prims = m.primitives().count();
    writeln!(
        out,
        "Start order of {file} ({prims} primitives, {} edges):",
        so.edges.len()
    )?;
    for (n, step) in so.sequence.iter().enumerate() {
        let names: Vec<&str> = step.iter().map(|&i| id(i)).collect();
        let loop_note = if !so.cycle.is_empty() && n + 1 == so.sequence.len() {
            "   <- ordering loop: Pacemaker cannot start these"
        } else {
            ""
        };
        writeln!(out, "  {:>3}. {}{loop_note}", n + 1, names.join(", "))?;
    }
    if !so.edges.is_empty() {
        writeln!(out, "\nDerived from:")?;
        for (a, b, src) in &so.edges {
            writeln!(out, "  {} -> {}   ({src})", id(*a), id(*b))?;
        }
    }
    if !m.colocations.is_empty() {
        writeln!(out, "\nColocations (placement, not order):")?;
        for c in &m.colocations {
            for p in c.pairs() {
                let score = if p.score >= model::INFINITY {
                    "INFINITY".to_string()
                } else if p.score <= -model::INFINITY {
                    "-INFINITY".to_string()
                } else {
                    p.score.to_string()
                };
                writeln!(
                    out,
                    "  {}:{} with {}:{}   (colocation {}, score {score})",
                    p.dependent,
                    p.dependent_role.as_str(),
                    p.primary,
                    p.primary_role.as_str(),
                    c.id
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn cib(body: &str) -> Model {
        let text = format!("<cib><configuration>{body}</configuration></cib>");
        model::cib::parse(&text, &Arc::from("t.xml")).unwrap()
    }

    fn prim(id: &str) -> String {
        format!(r#"<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy"/>"#)
    }

    #[test]
    fn groups_chain_and_promote_then_start_orders_the_group() {
        let m = cib(&format!(
            r#"<resources><clone id="ms"><meta_attributes id="x"><nvpair id="y" name="promotable" value="true"/></meta_attributes>{}</clone>
            <group id="g">{}{}</group></resources>
            <constraints><rsc_order id="o" first="ms" first-action="promote" then="g" then-action="start"/></constraints>"#,
            prim("d"),
            prim("a"),
            prim("b")
        ));
        let so = StartOrder::compute(&m);
        let names: Vec<Vec<&str>> = so
            .sequence
            .iter()
            .map(|s| s.iter().map(|&i| m.resources[i].id.as_str()).collect())
            .collect();
        assert_eq!(names, vec![vec!["d"], vec!["a"], vec!["b"]]);
        assert!(so.starts_before(m.by_id["d"], m.by_id["b"]));
    }

    #[test]
    fn then_action_trap_orders_nothing_about_start() {
        let m = cib(&format!(
            r#"<resources>{}{}</resources>
            <constraints><rsc_order id="o" first="d" first-action="promote" then="a"/></constraints>"#,
            prim("d"),
            prim("a")
        ));
        let so = StartOrder::compute(&m);
        assert!(so.edges.is_empty());
        assert_eq!(so.sequence.len(), 1);
    }

    #[test]
    fn sets_and_loops() {
        let m = cib(&format!(
            r#"<resources>{}{}{}</resources>
            <constraints><rsc_order id="o"><resource_set id="s1"><resource_ref id="a"/><resource_ref id="b"/></resource_set>
            <resource_set id="s2" sequential="false"><resource_ref id="c"/></resource_set></rsc_order>
            <rsc_order id="back" first="c" then="a" kind="Serialize"/></constraints>"#,
            prim("a"),
            prim("b"),
            prim("c")
        ));
        let so = StartOrder::compute(&m);
        assert_eq!(so.sequence.len(), 3);
        assert!(so.cycle.is_empty());
        let m2 = cib(&format!(
            r#"<resources>{}{}</resources><constraints><rsc_order id="o1" first="a" then="b"/><rsc_order id="o2" first="b" then="a"/></constraints>"#,
            prim("a"),
            prim("b")
        ));
        assert_eq!(StartOrder::compute(&m2).cycle.len(), 2);
    }
}
