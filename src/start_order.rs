//! The effective start order, computed once, in one place.
//!
//! From the model this derives the graph of *actions* Pacemaker orders —
//! start, promote, demote and stop of every primitive — and from it the
//! "starts before" relation between primitives, layered into steps of
//! primitives that may start together. Sources of edges:
//!
//! - groups: each member starts after the previous one and stops before it
//!   (unless the group has the deprecated meta `ordered=false`); inside a
//!   promotable clone the members are promoted in the same order;
//! - order constraints of kind Mandatory or Optional (Serialize only forbids
//!   concurrency, in either order, so it adds no edge), simple or with
//!   resource sets, groups/clones/templates/tags expanded to their
//!   primitives. Each order joins the named actions; the then-action
//!   defaults to the first-action (see [`Order::actions`]), which is why
//!   `promote X then G` orders G's *promote*, not its start. A symmetrical
//!   order (the default) also orders the inverse actions the other way round
//!   (`A:start then B:start` gives `B:stop then A:stop`; promote inverts to
//!   demote);
//! - a resource is promoted after it starts and stopped after it demotes;
//! - the meta attribute `container=X`: the resource starts after `X`.
//!
//! A loop in this graph — through starts, or through a promote as in
//! `order o1 G:start ms:promote` with `order o2 ms:promote G:start` — is a
//! set of actions Pacemaker cannot schedule. Colocations are placement, not
//! order; they are kept out of this graph (rules read them from the model).

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use crate::formats::bools;
use crate::model::{Action, Kind, Model, OrderKind};

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

/// Why an edge exists, for `nfsha order` and for rule messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeSource {
    Group(String),
    Order(String),
    Container(String),
    /// Pacemaker's own rule: promote after start, stop after demote.
    Implicit,
}

impl std::fmt::Display for EdgeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EdgeSource::Group(g) => write!(f, "group {g}"),
            EdgeSource::Order(o) => write!(f, "order {o}"),
            EdgeSource::Container(c) => write!(f, "container {c}"),
            EdgeSource::Implicit => write!(f, "a resource is promoted after it starts"),
        }
    }
}

const ACTIONS: [Action; 4] = [Action::Start, Action::Promote, Action::Demote, Action::Stop];

fn slot(a: Action) -> usize {
    match a {
        Action::Start => 0,
        Action::Promote => 1,
        Action::Demote => 2,
        Action::Stop => 3,
    }
}

/// The action a symmetrical order orders the other way round.
fn inverse(a: Action) -> Action {
    match a {
        Action::Start => Action::Stop,
        Action::Stop => Action::Start,
        Action::Promote => Action::Demote,
        Action::Demote => Action::Promote,
    }
}

/// Start and promote: the actions of bringing a resource up.
fn forward(a: Action) -> bool {
    matches!(a, Action::Start | Action::Promote)
}

/// One loop of actions: each starts only after the one before it, and the
/// first after the last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loop {
    /// `(primitive, action)` in loop order.
    pub actions: Vec<(usize, Action)>,
    /// What orders each action after the one before it (the last entry
    /// closes the loop).
    pub sources: Vec<EdgeSource>,
}

/// The start order of one model. Indices are into `model.resources`.
#[derive(Debug, Default)]
pub struct StartOrder {
    /// `(first, then, source)`: `first` starts (or is promoted) right before
    /// `then` starts. Direct edges only, no duplicates.
    pub edges: Vec<(usize, usize, EdgeSource)>,
    /// Steps of primitives that may start together, in order.
    pub sequence: Vec<Vec<usize>>,
    /// Primitives that cannot start because a loop comes before them (or
    /// they are in it); they form the last step of `sequence`.
    pub cycle: Vec<usize>,
    /// Every loop of actions, once each.
    pub loops: Vec<Loop>,
    /// Successors of each action node `(resource * 4 + slot)`, with the
    /// index of the edge's source.
    succ: Vec<Vec<(u32, u32)>>,
    sources: Vec<EdgeSource>,
    /// Kahn level of each forward (start/promote) node; `u32::MAX` when the
    /// node is in or after a loop.
    level: Vec<u32>,
    /// The step of each primitive in `sequence`.
    step_of: Vec<Option<u32>>,
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

struct Builder {
    so: StartOrder,
    seen: HashSet<(u32, u32), Fast>,
    start_edges: HashSet<(usize, usize), Fast>,
}

impl Builder {
    fn source(&mut self, s: EdgeSource) -> u32 {
        self.so.sources.push(s);
        (self.so.sources.len() - 1) as u32
    }

    /// `a`'s action `x` comes before `b`'s action `y`.
    fn edge(&mut self, a: usize, x: Action, b: usize, y: Action, src: u32) {
        let (from, to) = ((a * 4 + slot(x)) as u32, (b * 4 + slot(y)) as u32);
        if from == to || !self.seen.insert((from, to)) {
            return;
        }
        self.so.succ[from as usize].push((to, src));
        if a != b && y == Action::Start && forward(x) && self.start_edges.insert((a, b)) {
            let s = self.so.sources[src as usize].clone();
            self.so.edges.push((a, b, s));
        }
    }

    /// An order between two actions, and its inverse when symmetrical.
    fn order(&mut self, a: usize, x: Action, b: usize, y: Action, sym: bool, src: u32) {
        self.edge(a, x, b, y, src);
        if sym {
            self.edge(b, inverse(y), a, inverse(x), src);
        }
    }
}

impl StartOrder {
    pub fn compute(m: &Model) -> StartOrder {
        let n = m.resources.len();
        let mut b = Builder {
            so: StartOrder {
                succ: vec![Vec::new(); n * 4],
                ..StartOrder::default()
            },
            seen: HashSet::default(),
            start_edges: HashSet::default(),
        };
        let implicit = b.source(EdgeSource::Implicit);
        for (i, _) in m.primitives() {
            b.edge(i, Action::Start, i, Action::Promote, implicit);
            b.edge(i, Action::Demote, i, Action::Stop, implicit);
        }
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
            let promotable = m
                .clone_of(gi)
                .is_some_and(|c| matches!(m.resources[c].kind, Kind::Clone { promotable: true }));
            let src = b.source(EdgeSource::Group(g.id.clone()));
            for w in g.children.windows(2) {
                for x in m.leaves(w[0]) {
                    for y in m.leaves(w[1]) {
                        b.order(x, Action::Start, y, Action::Start, true, src);
                        if promotable {
                            b.order(x, Action::Promote, y, Action::Promote, true, src);
                        }
                    }
                }
            }
        }
        // A resource with meta `container=X` runs inside X (the deprecated
        // whitebox form of guest nodes): Pacemaker starts it after X.
        for (pi, _) in m.primitives() {
            if let Some(&c) = m.meta(pi, "container").and_then(|c| m.by_id.get(&c.value)) {
                let src = b.source(EdgeSource::Container(m.resources[c].id.clone()));
                for x in m.leaves(c) {
                    b.order(x, Action::Start, pi, Action::Start, true, src);
                }
            }
        }
        for o in &m.orders {
            if o.kind == OrderKind::Serialize {
                continue;
            }
            let src = b.source(EdgeSource::Order(o.id.clone()));
            let sym = o.symmetrical.unwrap_or(true);
            let actions = o.actions();
            let expanded: Vec<Vec<Vec<usize>>> = o
                .sets
                .iter()
                .map(|s| s.resources.iter().flat_map(|r| set_members(m, r)).collect())
                .collect();
            for (si, set) in expanded.iter().enumerate() {
                let act = actions[si];
                if o.sets[si].sequential && !o.simple {
                    for w in set.windows(2) {
                        for &x in &w[0] {
                            for &y in &w[1] {
                                b.order(x, act, y, act, sym, src);
                            }
                        }
                    }
                }
                if let Some(next) = expanded.get(si + 1) {
                    for &x in set.iter().flatten() {
                        for &y in next.iter().flatten() {
                            b.order(x, act, y, actions[si + 1], sym, src);
                        }
                    }
                }
            }
        }
        let mut so = b.so;
        so.find_loops();
        so.layer(m);
        so
    }

    /// Tarjan's strongly connected components (iteratively, so that a long
    /// chain cannot overflow the stack); each component of more than one
    /// action is a loop, reported once as one cycle through it.
    fn find_loops(&mut self) {
        let n = self.succ.len();
        const NONE: u32 = u32::MAX;
        let mut index = vec![NONE; n];
        let mut low = vec![0u32; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<u32> = Vec::new();
        let mut comp = vec![NONE; n];
        let mut comps: Vec<Vec<u32>> = Vec::new();
        let mut next = 0u32;
        for root in 0..n {
            if index[root] != NONE || self.succ[root].is_empty() {
                continue;
            }
            // (node, position in its successor list)
            let mut work: Vec<(u32, usize)> = vec![(root as u32, 0)];
            index[root] = next;
            low[root] = next;
            next += 1;
            stack.push(root as u32);
            on_stack[root] = true;
            while let Some(&mut (v, ref mut pos)) = work.last_mut() {
                let vu = v as usize;
                if let Some(&(w, _)) = self.succ[vu].get(*pos) {
                    *pos += 1;
                    let wu = w as usize;
                    if index[wu] == NONE {
                        index[wu] = next;
                        low[wu] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[wu] = true;
                        work.push((w, 0));
                    } else if on_stack[wu] {
                        low[vu] = low[vu].min(index[wu]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    let pu = parent as usize;
                    low[pu] = low[pu].min(low[vu]);
                }
                if low[vu] == index[vu] {
                    let mut members = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp[w as usize] = comps.len() as u32;
                        members.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comps.push(members);
                }
            }
        }
        // A symmetrical loop of starts has its mirror among the stops; it is
        // one mistake, so it is reported once, from the start side.
        let inverse_node = |w: u32| (w / 4) * 4 + slot(inverse(ACTIONS[(w % 4) as usize])) as u32;
        let mirrors_forward = |members: &[u32]| {
            members.iter().all(|&w| !forward(ACTIONS[(w % 4) as usize]))
                && members
                    .windows(2)
                    .all(|p| comp[inverse_node(p[0]) as usize] == comp[inverse_node(p[1]) as usize])
                && comps[comp[inverse_node(members[0]) as usize] as usize].len() == members.len()
        };
        for (ci, members) in comps.iter().enumerate() {
            if members.len() < 2 || mirrors_forward(members) {
                continue;
            }
            let start = *members.iter().min().expect("non-empty");
            let cycle = self.cycle_through(start, |w| comp[w as usize] == ci as u32);
            self.loops.push(cycle);
        }
        self.loops
            .sort_by_key(|l| l.actions.first().map(|a| (a.0, slot(a.1))));
    }

    /// The shortest cycle from `start` back to itself through nodes `inside`.
    fn cycle_through(&self, start: u32, inside: impl Fn(u32) -> bool) -> Loop {
        let mut prev: std::collections::HashMap<u32, (u32, u32), Fast> = Default::default();
        let mut queue = VecDeque::from([start]);
        let mut closing = None;
        'search: while let Some(x) = queue.pop_front() {
            for &(w, src) in &self.succ[x as usize] {
                if !inside(w) {
                    continue;
                }
                if w == start {
                    closing = Some((x, src));
                    break 'search;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(w) {
                    e.insert((x, src));
                    queue.push_back(w);
                }
            }
        }
        let (mut cur, last_src) = closing.expect("a strongly connected component has a cycle");
        let mut nodes = vec![cur];
        let mut srcs = vec![last_src];
        while cur != start {
            let (p, s) = prev[&cur];
            srcs.push(s);
            nodes.push(p);
            cur = p;
        }
        nodes.reverse();
        srcs.reverse();
        let node = |x: u32| ((x / 4) as usize, ACTIONS[(x % 4) as usize]);
        Loop {
            actions: nodes.into_iter().map(node).collect(),
            sources: srcs
                .into_iter()
                .map(|s| self.sources[s as usize].clone())
                .collect(),
        }
    }

    /// Kahn's algorithm over the start and promote actions, by levels: an
    /// action's level is one more than the latest level of anything that
    /// must come before it. A primitive's step is its start's level, with
    /// levels that hold no start left out.
    fn layer(&mut self, m: &Model) {
        let n = self.succ.len();
        let fwd = |x: usize| forward(ACTIONS[x % 4]);
        let mut indeg = vec![0u32; n];
        for (x, s) in self.succ.iter().enumerate() {
            if fwd(x) {
                for &(w, _) in s {
                    if fwd(w as usize) {
                        indeg[w as usize] += 1;
                    }
                }
            }
        }
        self.level = vec![u32::MAX; n];
        let mut queue: VecDeque<usize> = VecDeque::new();
        for (i, _) in m.primitives() {
            for x in [i * 4, i * 4 + 1] {
                if indeg[x] == 0 {
                    self.level[x] = 0;
                    queue.push_back(x);
                }
            }
        }
        let mut tentative = vec![0u32; n];
        while let Some(x) = queue.pop_front() {
            let lx = self.level[x];
            for &(w, _) in &self.succ[x] {
                let wu = w as usize;
                if !fwd(wu) {
                    continue;
                }
                tentative[wu] = tentative[wu].max(lx + 1);
                indeg[wu] -= 1;
                if indeg[wu] == 0 {
                    self.level[wu] = tentative[wu];
                    queue.push_back(wu);
                }
            }
        }
        let mut used: Vec<u32> = m
            .primitives()
            .map(|(i, _)| self.level[i * 4])
            .filter(|&l| l != u32::MAX)
            .collect();
        used.sort_unstable();
        used.dedup();
        self.step_of = vec![None; m.resources.len()];
        let mut steps: Vec<Vec<usize>> = vec![Vec::new(); used.len()];
        for (i, _) in m.primitives() {
            let l = self.level[i * 4];
            if l == u32::MAX {
                self.cycle.push(i);
                continue;
            }
            let s = used.binary_search(&l).expect("level recorded");
            steps[s].push(i);
            self.step_of[i] = Some(s as u32);
        }
        if !self.cycle.is_empty() {
            for &p in &self.cycle {
                self.step_of[p] = Some(steps.len() as u32);
            }
            steps.push(self.cycle.clone());
        }
        self.sequence = steps;
    }

    /// The step a primitive starts in.
    pub fn step(&self, prim: usize) -> Option<usize> {
        self.step_of
            .get(prim)
            .copied()
            .flatten()
            .map(|s| s as usize)
    }

    /// Whether `a` is ordered (transitively, also through promotes) to start
    /// before `b` starts.
    pub fn starts_before(&self, a: usize, b: usize) -> bool {
        a != b && self.before(a, Action::Start, b, Action::Start)
    }

    /// Whether action `x` of `a` is ordered (transitively, through starts
    /// and promotes) before action `y` of `b`; both are start or promote.
    pub fn before(&self, a: usize, x: Action, b: usize, y: Action) -> bool {
        let (from, to) = (a * 4 + slot(x), b * 4 + slot(y));
        if from == to || !forward(x) || !forward(y) {
            return false;
        }
        if to >= self.succ.len() || from >= self.succ.len() {
            return false;
        }
        // Levels strictly increase along every edge outside a loop, so only
        // actions on a lower level than `b`'s start can lead to it: that
        // prunes the search to the slice of the graph between the two.
        let (la, lb) = (self.level[from], self.level[to]);
        let limit = (la != u32::MAX && lb != u32::MAX).then_some(lb);
        if limit.is_some_and(|lb| la >= lb) {
            return false;
        }
        let mut seen: HashSet<u32, Fast> = HashSet::default();
        let mut stack = vec![from as u32];
        while let Some(node) = stack.pop() {
            for &(w, _) in &self.succ[node as usize] {
                let wu = w as usize;
                if !forward(ACTIONS[wu % 4]) {
                    continue;
                }
                if wu == to {
                    return true;
                }
                let useful = limit.map_or(true, |lb| self.level[wu] < lb);
                if useful && seen.insert(w) {
                    stack.push(w);
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;
    use std::sync::Arc;

    fn cib(body: &str) -> Model {
        let text = format!("<cib><configuration>{body}</configuration></cib>");
        model::cib::parse(&text, &Arc::from("t.xml")).unwrap()
    }

    fn prim(id: &str) -> String {
        format!(r#"<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy"/>"#)
    }

    fn names(m: &Model, so: &StartOrder) -> Vec<Vec<String>> {
        so.sequence
            .iter()
            .map(|s| s.iter().map(|&i| m.resources[i].id.clone()).collect())
            .collect()
    }

    const PROMOTABLE: &str = r#"<meta_attributes id="x"><nvpair id="y" name="promotable" value="true"/></meta_attributes>"#;

    #[test]
    fn groups_chain_and_promote_then_start_orders_the_group() {
        let m = cib(&format!(
            r#"<resources><clone id="ms">{PROMOTABLE}{}</clone>
            <group id="g">{}{}</group></resources>
            <constraints><rsc_order id="o" first="ms" first-action="promote" then="g" then-action="start"/></constraints>"#,
            prim("d"),
            prim("a"),
            prim("b")
        ));
        let so = StartOrder::compute(&m);
        assert_eq!(names(&m, &so), vec![vec!["d"], vec!["a"], vec!["b"]]);
        assert!(so.starts_before(m.by_id["d"], m.by_id["b"]));
        assert!(!so.starts_before(m.by_id["b"], m.by_id["d"]));
        assert!(so.loops.is_empty());
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
        assert!(!so.starts_before(m.by_id["d"], m.by_id["a"]));
    }

    /// An order of a resource after itself, and an order given twice, add
    /// no edge of their own: neither is a loop, and nothing is held back.
    #[test]
    fn self_and_repeated_orders_are_not_loops() {
        let m = cib(&format!(
            r#"<resources>{}{}</resources>
            <constraints><rsc_order id="self" first="a" then="a"/>
            <rsc_order id="o1" first="a" then="b"/><rsc_order id="o2" first="a" then="b"/></constraints>"#,
            prim("a"),
            prim("b")
        ));
        let so = StartOrder::compute(&m);
        assert!(so.cycle.is_empty() && so.loops.is_empty(), "{:?}", so.loops);
        assert_eq!(names(&m, &so), vec![vec!["a"], vec!["b"]]);
        assert_eq!(so.edges.len(), 1);
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
        assert_eq!(names(&m, &so), vec![vec!["a"], vec!["b"], vec!["c"]]);
        assert!(so.cycle.is_empty() && so.loops.is_empty());
        let m2 = cib(&format!(
            r#"<resources>{}{}{}</resources><constraints><rsc_order id="o1" first="a" then="b"/><rsc_order id="o2" first="b" then="a"/>
            <rsc_order id="o3" first="b" then="c"/></constraints>"#,
            prim("a"),
            prim("b"),
            prim("c")
        ));
        let so = StartOrder::compute(&m2);
        // c cannot start either, but only a and b are in the loop.
        assert_eq!(so.cycle.len(), 3);
        let start_loop: Vec<_> = so
            .loops
            .iter()
            .filter(|l| l.actions.iter().all(|a| a.1 == Action::Start))
            .collect();
        assert_eq!(start_loop.len(), 1);
        assert_eq!(start_loop[0].actions.len(), 2);
        assert_eq!(
            start_loop[0].sources,
            vec![
                EdgeSource::Order("o1".into()),
                EdgeSource::Order("o2".into())
            ]
        );
    }

    #[test]
    fn a_loop_through_a_promote_is_a_loop() {
        let m = cib(&format!(
            r#"<resources><clone id="ms">{PROMOTABLE}{}</clone><group id="g">{}</group></resources>
            <constraints><rsc_order id="o1" first="g" first-action="start" then="ms" then-action="promote"/>
            <rsc_order id="o2" first="ms" first-action="promote" then="g" then-action="start"/></constraints>"#,
            prim("d"),
            prim("a")
        ));
        let so = StartOrder::compute(&m);
        let l = so
            .loops
            .iter()
            .find(|l| l.actions.contains(&(m.by_id["d"], Action::Promote)))
            .expect("loop through the promote");
        assert!(l.actions.contains(&(m.by_id["a"], Action::Start)), "{l:?}");
        assert_eq!(so.cycle, vec![m.by_id["a"]]);
        // The same two orders without the promote are not a loop.
        let ok = cib(&format!(
            r#"<resources><clone id="ms">{PROMOTABLE}{}</clone><group id="g">{}</group></resources>
            <constraints><rsc_order id="o2" first="ms" first-action="promote" then="g" then-action="start"/></constraints>"#,
            prim("d"),
            prim("a")
        ));
        assert!(StartOrder::compute(&ok).loops.is_empty());
    }

    #[test]
    fn symmetrical_orders_invert_and_asymmetric_ones_do_not() {
        // `a then b` stops b before a; an order to stop a before b closes a
        // loop of stops, unless `a then b` is asymmetrical.
        let body = |sym: &str| {
            format!(
                r#"<resources>{}{}</resources><constraints>
                <rsc_order id="o1" first="a" then="b" {sym}/>
                <rsc_order id="o2" first="a" first-action="stop" then="b" then-action="stop" symmetrical="false"/></constraints>"#,
                prim("a"),
                prim("b")
            )
        };
        let m = cib(&body(""));
        let so = StartOrder::compute(&m);
        assert!(so.cycle.is_empty(), "starts are still orderable");
        assert_eq!(so.loops.len(), 1, "{:?}", so.loops);
        assert!(so.loops[0].actions.iter().all(|a| a.1 == Action::Stop));
        let m = cib(&body(r#"symmetrical="false""#));
        assert!(StartOrder::compute(&m).loops.is_empty());
    }

    #[test]
    fn containers_start_first_and_unordered_groups_do_not_chain() {
        let m = cib(&format!(
            r#"<resources>{}<primitive id="r" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="m"><nvpair id="c" name="container" value="vm"/></meta_attributes></primitive>
            <group id="g"><meta_attributes id="gm"><nvpair id="o" name="ordered" value="false"/></meta_attributes>{}{}</group></resources>"#,
            prim("vm"),
            prim("a"),
            prim("b")
        ));
        let so = StartOrder::compute(&m);
        assert!(so.starts_before(m.by_id["vm"], m.by_id["r"]));
        assert!(!so.starts_before(m.by_id["a"], m.by_id["b"]));
        assert_eq!(so.step(m.by_id["r"]), Some(1));
        assert_eq!(so.step(m.by_id["a"]), Some(0));
    }
}
