//! The one cluster model that every input dialect is parsed into and that
//! every lint rule reads.
//!
//! CIB XML ([`cib`]), crm shell text ([`crm`]) and pcs commands or `pcs config`
//! text ([`pcs`]) all produce a [`Model`]; `/etc/nfs.conf`, `/etc/sysconfig/nfs`,
//! `/etc/exports` ([`nfsconf`]) and the KVM-host heartbeat TOML ([`heartbeat`])
//! fill its [`HostConfig`]. Legacy spellings (`<master>`, `Master`/`Slave`,
//! order `score`, `master-max`) are normalised here, once, so rules never see
//! them. Every object keeps a [`Loc`] (file and line) for diagnostics.

pub mod advised;
pub mod cib;
pub mod crm;
pub mod detect;
pub mod edit;
pub mod heartbeat;
pub mod input;
pub mod nfsconf;
pub mod pcs;
pub mod shell;
pub mod words;

use crate::formats::{bools, duration};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use detect::{detect, Dialect};

/// Pacemaker's INFINITY score.
pub const INFINITY: i64 = 1_000_000;

/// Where an object was written: file and 1-based line (0 when the dialect has
/// no lines, e.g. an object synthesised by a parser).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    pub file: Arc<str>,
    pub line: u32,
}

impl Loc {
    pub fn new(file: &Arc<str>, line: u32) -> Loc {
        Loc {
            file: file.clone(),
            line,
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            write!(f, "{}", self.file)
        }
    }
}

/// An input that could not be read: which file, which line, what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    pub fn new(file: &Arc<str>, line: u32, message: String) -> ParseError {
        ParseError {
            file: file.to_string(),
            line,
            message,
        }
    }
}

/// One name/value pair (instance attribute, meta attribute, property, nfs.conf key).
#[derive(Clone, Debug)]
pub struct NvPair {
    pub name: String,
    pub value: String,
    pub loc: Loc,
    /// The value sits in a set with a `<rule>`: it applies only sometimes, so
    /// findings based on it are reported as conditional, not evaluated.
    pub conditional: bool,
}

/// Resource roles, with the legacy names folded in (`Master` ≡ `Promoted`,
/// `Slave` ≡ `Unpromoted`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Started,
    Stopped,
    Promoted,
    Unpromoted,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_lowercase().as_str() {
            "started" => Some(Role::Started),
            "stopped" => Some(Role::Stopped),
            "promoted" | "master" => Some(Role::Promoted),
            "unpromoted" | "slave" => Some(Role::Unpromoted),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Started => "Started",
            Role::Stopped => "Stopped",
            Role::Promoted => "Promoted",
            Role::Unpromoted => "Unpromoted",
        }
    }
}

/// The actions an order constraint can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Start,
    Stop,
    Promote,
    Demote,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s.to_ascii_lowercase().as_str() {
            "start" => Some(Action::Start),
            "stop" => Some(Action::Stop),
            "promote" => Some(Action::Promote),
            "demote" => Some(Action::Demote),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Promote => "promote",
            Action::Demote => "demote",
        }
    }
}

/// `class:provider:type`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Agent {
    pub class: String,
    pub provider: Option<String>,
    pub ty: String,
}

impl Agent {
    /// Parse `ocf:heartbeat:IPaddr2`, `systemd:nfs-server`, or a bare type
    /// (which both crmsh's `show` and pcs mean as `ocf:heartbeat:<type>`).
    pub fn parse(s: &str) -> Agent {
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [c, p, t] => Agent {
                class: c.to_string(),
                provider: Some(p.to_string()),
                ty: t.to_string(),
            },
            [c, t] => Agent {
                class: c.to_string(),
                provider: None,
                ty: t.to_string(),
            },
            _ if s.starts_with("fence_") => Agent {
                class: "stonith".into(),
                provider: None,
                ty: s.to_string(),
            },
            _ => Agent {
                class: "ocf".into(),
                provider: Some("heartbeat".into()),
                ty: s.to_string(),
            },
        }
    }
}

impl fmt::Display for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.provider {
            Some(p) => write!(f, "{}:{}:{}", self.class, p, self.ty),
            None => write!(f, "{}:{}", self.class, self.ty),
        }
    }
}

/// What an agent does in an HA-NFS stack, for both ClusterLabs' and nfsha's agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    NfsServer,
    Exportfs,
    Vip,
    Filesystem,
    /// `ocf:nfsha:nfsstate`: the replicated mount that holds NFS state.
    NfsState,
    Drbd,
    PortBlock,
    NfsNotify,
    Fence,
    Other,
}

impl Agent {
    /// Classify the agent. Called for every primitive by several rules, so
    /// it compares case-insensitively without allocating.
    pub fn part(&self) -> Part {
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let class = self.class.as_str();
        let ty = self.ty.as_str();
        if is(class, "stonith") {
            return Part::Fence;
        }
        if is(class, "systemd") || is(class, "service") || is(class, "lsb") {
            let unit = ty.strip_suffix(".service").unwrap_or(ty);
            let server = ["nfs-server", "nfs-kernel-server", "nfsserver", "nfs"]
                .iter()
                .any(|n| is(unit, n));
            return if server { Part::NfsServer } else { Part::Other };
        }
        if !is(class, "ocf") {
            return Part::Other;
        }
        let nfsha = self.provider.as_deref().is_some_and(|p| is(p, "nfsha"));
        const OCF: &[(&str, Part)] = &[
            ("nfsserver", Part::NfsServer),
            ("exportfs", Part::Exportfs),
            ("IPaddr2", Part::Vip),
            ("IPaddr", Part::Vip),
            ("vip", Part::Vip),
            ("Filesystem", Part::Filesystem),
            ("drbd", Part::Drbd),
            ("portblock", Part::PortBlock),
            ("nfsnotify", Part::NfsNotify),
        ];
        if nfsha && is(ty, "nfsstate") {
            return Part::NfsState;
        }
        OCF.iter()
            .find(|(n, _)| is(ty, n))
            .map_or(Part::Other, |(_, p)| *p)
    }
    pub fn is_nfsha(&self) -> bool {
        self.provider.as_deref() == Some("nfsha")
    }
}

/// One operation (`op monitor interval=10s timeout=20s role=Promoted`).
#[derive(Clone, Debug)]
pub struct Op {
    pub name: String,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub role: Option<Role>,
    pub enabled: bool,
    pub loc: Loc,
}

impl Op {
    /// An operation as written without attributes: no interval, timeout or
    /// role, enabled.
    pub fn named(name: &str, loc: Loc) -> Op {
        Op {
            name: name.to_string(),
            interval: None,
            timeout: None,
            role: None,
            enabled: true,
            loc,
        }
    }

    /// Set one `key=value` attribute of the operation; other keys are ignored.
    pub fn set(&mut self, key: &str, value: &str) {
        match key {
            "interval" => self.interval = duration::pacemaker(value),
            "timeout" => self.timeout = duration::pacemaker(value),
            "role" => self.role = Role::parse(value),
            "enabled" => self.enabled = bools::pacemaker(value).unwrap_or(true),
            _ => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Primitive(Agent),
    Group,
    /// A clone; `promotable` also covers the legacy `<master>`/`ms`.
    Clone {
        promotable: bool,
    },
    Bundle,
}

#[derive(Clone, Debug)]
pub struct Resource {
    pub id: String,
    pub kind: Kind,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub params: Vec<NvPair>,
    pub meta: Vec<NvPair>,
    pub ops: Vec<Op>,
    /// The `template=` this primitive was built from (already merged in).
    pub template: Option<String>,
    pub loc: Loc,
    /// Rule codes suppressed for this object by an inline
    /// `nfsha: ignore[CODE]` comment.
    pub ignores: Vec<String>,
}

impl Resource {
    /// A resource with no parent, members, attributes or operations yet.
    pub fn new(id: &str, kind: Kind, loc: Loc) -> Resource {
        Resource {
            id: id.to_string(),
            kind,
            parent: None,
            children: Vec::new(),
            params: Vec::new(),
            meta: Vec::new(),
            ops: Vec::new(),
            template: None,
            loc,
            ignores: Vec::new(),
        }
    }

    /// Take from a template the instance and meta attributes and the
    /// operations (by name and role) that the resource does not set itself.
    pub fn inherit(&mut self, params: &[NvPair], meta: &[NvPair], ops: &[Op]) {
        for p in params {
            if !self.params.iter().any(|x| x.name == p.name) {
                self.params.push(p.clone());
            }
        }
        for p in meta {
            if !self.meta.iter().any(|x| x.name == p.name) {
                self.meta.push(p.clone());
            }
        }
        for o in ops {
            if !self
                .ops
                .iter()
                .any(|x| x.name == o.name && x.role == o.role)
            {
                self.ops.push(o.clone());
            }
        }
    }

    /// A clone with the meta attribute `promotable=true` is promotable, as a
    /// legacy `<master>`/`ms` is.
    pub fn promotable_from_meta(&mut self) {
        if let Kind::Clone { promotable } = &mut self.kind {
            if self
                .meta
                .iter()
                .any(|p| p.name == "promotable" && bools::pacemaker(&p.value) == Some(true))
            {
                *promotable = true;
            }
        }
    }

    /// Rename the legacy meta attributes `master-max` and `master-node-max`
    /// to `promoted-max` and `promoted-node-max`, so rules see one spelling.
    pub fn rename_legacy_meta(&mut self) {
        for p in &mut self.meta {
            match p.name.as_str() {
                "master-max" => p.name = "promoted-max".into(),
                "master-node-max" => p.name = "promoted-node-max".into(),
                _ => {}
            }
        }
    }

    pub fn agent(&self) -> Option<&Agent> {
        match &self.kind {
            Kind::Primitive(a) => Some(a),
            _ => None,
        }
    }
    pub fn part(&self) -> Part {
        self.agent().map_or(Part::Other, Agent::part)
    }
    pub fn op(&self, name: &str) -> impl Iterator<Item = &Op> {
        let name = name.to_string();
        self.ops.iter().filter(move |o| o.name == name)
    }
}

/// A resource set, or one side of a simple constraint.
#[derive(Clone, Debug)]
pub struct RscSet {
    pub id: Option<String>,
    pub resources: Vec<String>,
    pub sequential: bool,
    pub require_all: bool,
    /// As written; `None` when absent (the defaulting rules differ between
    /// simple orders and sets, see [`Order::actions`]).
    pub action: Option<Action>,
    pub role: Option<Role>,
}

impl RscSet {
    pub fn one(id: &str, action: Option<Action>, role: Option<Role>) -> RscSet {
        RscSet {
            id: None,
            resources: vec![id.to_string()],
            sequential: true,
            require_all: true,
            action,
            role,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderKind {
    Mandatory,
    Optional,
    Serialize,
}

impl OrderKind {
    pub fn parse(s: &str) -> Option<OrderKind> {
        match s.to_ascii_lowercase().as_str() {
            "mandatory" => Some(OrderKind::Mandatory),
            "optional" => Some(OrderKind::Optional),
            "serialize" => Some(OrderKind::Serialize),
            _ => None,
        }
    }
    /// The deprecated order `score`: 0 is Optional, anything else Mandatory.
    pub fn from_score(score: i64) -> OrderKind {
        if score == 0 {
            OrderKind::Optional
        } else {
            OrderKind::Mandatory
        }
    }
}

/// An order constraint. A simple `first then` order is stored as two
/// one-member sets, flagged `simple`.
#[derive(Clone, Debug)]
pub struct Order {
    pub id: String,
    pub kind: OrderKind,
    pub symmetrical: Option<bool>,
    pub sets: Vec<RscSet>,
    pub simple: bool,
    pub loc: Loc,
}

impl Order {
    /// The effective action of each set. In a simple order an absent
    /// `then-action` takes the value of `first-action` (Pacemaker's
    /// `pcmk_sched_ordering.c`: `if (action_then == NULL) action_then =
    /// action_first;`), so `first-action=promote` alone orders the *promote*
    /// of `then`. In set form every set defaults to `start`.
    pub fn actions(&self) -> Vec<Action> {
        if self.simple && self.sets.len() == 2 {
            let first = self.sets[0].action.unwrap_or(Action::Start);
            let then = self.sets[1].action.unwrap_or(first);
            vec![first, then]
        } else {
            self.sets
                .iter()
                .map(|s| s.action.unwrap_or(Action::Start))
                .collect()
        }
    }
    pub fn references(&self) -> impl Iterator<Item = &String> {
        self.sets.iter().flat_map(|s| s.resources.iter())
    }
}

/// A colocation. The simple form `rsc with with-rsc` is stored as two
/// one-member sets `[rsc], [with-rsc]`, which reads the same way as Pacemaker's
/// multi-set rule (earlier sets are placed with later ones).
#[derive(Clone, Debug)]
pub struct Colocation {
    pub id: String,
    pub score: i64,
    pub sets: Vec<RscSet>,
    pub simple: bool,
    pub loc: Loc,
}

/// "`dependent` (in `dependent_role`) is placed with `primary` (in `primary_role`)".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColocPair {
    pub dependent: String,
    pub dependent_role: Role,
    pub primary: String,
    pub primary_role: Role,
    pub score: i64,
}

impl Colocation {
    /// Expand into pairs: inside a sequential set each member is placed with the
    /// one before it; between sets, members of an earlier set are placed with
    /// the members of the next one.
    pub fn pairs(&self) -> Vec<ColocPair> {
        let mut out = Vec::new();
        let role = |s: &RscSet| s.role.unwrap_or(Role::Started);
        for s in &self.sets {
            if s.sequential {
                for w in s.resources.windows(2) {
                    out.push(ColocPair {
                        dependent: w[1].clone(),
                        dependent_role: role(s),
                        primary: w[0].clone(),
                        primary_role: role(s),
                        score: self.score,
                    });
                }
            }
        }
        for w in self.sets.windows(2) {
            for d in &w[0].resources {
                for p in &w[1].resources {
                    out.push(ColocPair {
                        dependent: d.clone(),
                        dependent_role: role(&w[0]),
                        primary: p.clone(),
                        primary_role: role(&w[1]),
                        score: self.score,
                    });
                }
            }
        }
        out
    }
    pub fn references(&self) -> impl Iterator<Item = &String> {
        self.sets.iter().flat_map(|s| s.resources.iter())
    }
}

/// A location constraint: where `rsc` may or should run.
#[derive(Clone, Debug)]
pub struct Location {
    pub id: String,
    pub rsc: String,
    /// The node named, for a `node`/`score` location (`prefers`/`avoids`).
    pub node: Option<String>,
    /// The score, when one is written (`-INFINITY` keeps `rsc` off `node`).
    pub score: Option<i64>,
    /// The location is a `rule` (node attributes, dates): not evaluated.
    pub rule: bool,
    pub loc: Loc,
}

impl Location {
    /// A location constraint with no node, score or rule known yet.
    pub fn new(id: &str, rsc: &str, loc: Loc) -> Location {
        Location {
            id: id.to_string(),
            rsc: rsc.to_string(),
            node: None,
            score: None,
            rule: false,
            loc,
        }
    }
}

/// A statement of the input that was not understood (rule NFS003): nothing
/// it says is in the model, so findings that depend on it may be missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unparsed {
    pub loc: Loc,
    /// The statement as written (shortened when long).
    pub statement: String,
    /// Why it was not understood, and what was expected.
    pub reason: String,
}

impl Unparsed {
    /// Longest statement text kept for a message.
    const MAX: usize = 120;

    pub fn new(loc: Loc, words: &[&str], reason: impl Into<String>) -> Unparsed {
        let mut statement = words.join(" ");
        if statement.chars().count() > Self::MAX {
            statement = statement.chars().take(Self::MAX).collect::<String>() + " …";
        }
        Unparsed {
            loc,
            statement,
            reason: reason.into(),
        }
    }
}

/// A member that a group or clone names but that is not defined (rule
/// NFS001): the group is kept without it, as Pacemaker would run it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingMember {
    pub container: String,
    pub member: String,
    pub loc: Loc,
}

/// A systemd unit that the input enables on the nodes outside the cluster
/// (`systemctl enable [--now] nfs-server` in a transcript or script).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnabledUnit {
    pub unit: String,
    pub loc: Loc,
}

/// One `/etc/exports` line.
#[derive(Clone, Debug)]
pub struct Export {
    pub directory: String,
    pub clients: String,
    pub options: String,
    pub loc: Loc,
}

/// The KVM-host heartbeat settings file (`/etc/nfsha/heartbeat.toml`), as
/// text: the heartbeat's own parser reads it (see [`heartbeat`]).
#[derive(Clone, Debug)]
pub struct HeartbeatFile {
    pub file: Arc<str>,
    pub text: String,
}

/// An NFS client mount on a KVM host (a line of `/proc/mounts`, an fstab or
/// mountinfo), for the client mount rules.
#[derive(Clone, Debug)]
pub struct ClientMount {
    pub source: String,
    pub mount_point: String,
    pub fstype: String,
    /// Mount and superblock options together (`hard`, `timeo=600`, …).
    pub options: Vec<String>,
    pub loc: Loc,
}

/// Settings outside the CIB that the rules need.
#[derive(Clone, Debug, Default)]
pub struct HostConfig {
    /// nfs.conf keys as `section.key` (lower case), last value wins; see
    /// [`HostConfig::nfsconf`] for `$name` values.
    pub nfsconf: Vec<NvPair>,
    /// `/etc/sysconfig/nfs` variables (`NFSV4LEASETIME`, `RPCNFSDARGS`, …).
    pub sysconfig: Vec<NvPair>,
    pub exports: Vec<Export>,
    pub heartbeat: Option<HeartbeatFile>,
    /// NFS client mounts (`nfsha lint --mounts`).
    pub mounts: Vec<ClientMount>,
    /// nfs.conf lines nfs-utils warns about and ignores, and includes it
    /// cannot read (rule NFS002).
    pub nfsconf_ignored: Vec<IgnoredLine>,
}

/// A configuration line the program that reads it ignores, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredLine {
    pub loc: Loc,
    pub message: String,
}

impl HostConfig {
    /// The nfs.conf value of `section.key` as nfs-utils' daemons get it: a
    /// `$name` value is the pair of `[environment] name`.
    pub fn nfsconf(&self, key: &str) -> Option<&NvPair> {
        let mut p = self.nfsconf.iter().rev().find(|p| p.name == key)?;
        // nfs-utils follows `$name` forever; a loop is simply unset here.
        for _ in 0..crate::nfs::conf::MAX_EXPANSIONS {
            let Some(name) = p.value.strip_prefix('$') else {
                return Some(p);
            };
            let key = format!("environment.{}", name.to_ascii_lowercase());
            p = self.nfsconf.iter().rev().find(|p| p.name == key)?;
        }
        None
    }
    pub fn sysconfig(&self, key: &str) -> Option<&NvPair> {
        self.sysconfig.iter().rev().find(|p| p.name == key)
    }
}

/// The cluster configuration, whatever dialect it came from.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// The files the model was built from, for messages.
    pub sources: Vec<(Arc<str>, Option<Dialect>)>,
    /// Whether a cluster configuration (not only host files) was read.
    pub has_cluster: bool,
    pub resources: Vec<Resource>,
    pub by_id: HashMap<String, usize>,
    /// Template id → the primitives built from it.
    pub templates: HashMap<String, Vec<String>>,
    pub tags: HashMap<String, Vec<String>>,
    pub orders: Vec<Order>,
    pub colocations: Vec<Colocation>,
    pub locations: Vec<Location>,
    pub properties: Vec<NvPair>,
    pub rsc_defaults: Vec<NvPair>,
    pub op_defaults: Vec<NvPair>,
    pub host: HostConfig,
    /// Constraint ids with inline `nfsha: ignore[CODE]` comments.
    pub constraint_ignores: HashMap<String, Vec<String>>,
    /// Statements that were not understood (rule NFS003).
    pub unparsed: Vec<Unparsed>,
    /// Group or clone members that are not defined (rule NFS001).
    pub missing_members: Vec<MissingMember>,
    /// systemd units the input enables on the nodes (`systemctl enable`).
    pub enabled_units: Vec<EnabledUnit>,
    /// For pcs commands run with `-f FILE`: the CIB file this model is.
    pub cib_file: Option<String>,
    /// Indices of resources deleted by a later statement, while a parser
    /// works; [`Model::finish`] drops them, so it is empty in a parsed model.
    pub removed: Vec<usize>,
}

impl Model {
    pub fn get(&self, id: &str) -> Option<&Resource> {
        self.by_id.get(id).map(|&i| &self.resources[i])
    }

    /// Add a resource, returning its index; a duplicate id keeps the first
    /// (as the CIB schema would reject the second).
    pub fn add(&mut self, r: Resource) -> usize {
        let idx = self.resources.len();
        self.by_id.entry(r.id.clone()).or_insert(idx);
        if let Some(p) = r.parent {
            self.resources[p].children.push(idx);
        }
        self.resources.push(r);
        idx
    }

    pub fn primitives(&self) -> impl Iterator<Item = (usize, &Resource)> {
        self.resources
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.kind, Kind::Primitive(_)))
    }

    pub fn of_part(&self, part: Part) -> impl Iterator<Item = (usize, &Resource)> {
        self.primitives().filter(move |(_, r)| r.part() == part)
    }

    /// The primitives under resource `idx` (itself if it is one), in document order.
    pub fn leaves(&self, idx: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![idx];
        while let Some(i) = stack.pop() {
            let r = &self.resources[i];
            if matches!(r.kind, Kind::Primitive(_)) {
                out.push(i);
            }
            stack.extend(r.children.iter().rev());
        }
        out
    }

    /// Expand a constraint reference (resource, template or tag) to primitives.
    pub fn expand(&self, id: &str) -> Vec<usize> {
        if let Some(&i) = self.by_id.get(id) {
            return self.leaves(i);
        }
        let mut out = Vec::new();
        if let Some(members) = self.templates.get(id) {
            for m in members {
                out.extend(
                    self.by_id
                        .get(m)
                        .map(|&i| self.leaves(i))
                        .unwrap_or_default(),
                );
            }
        }
        if let Some(members) = self.tags.get(id) {
            for m in members {
                out.extend(self.expand_no_tag(m));
            }
        }
        out
    }

    fn expand_no_tag(&self, id: &str) -> Vec<usize> {
        if let Some(&i) = self.by_id.get(id) {
            return self.leaves(i);
        }
        self.templates
            .get(id)
            .map(|ms| {
                ms.iter()
                    .filter_map(|m| self.by_id.get(m))
                    .flat_map(|&i| self.leaves(i))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `id` names something a constraint may reference.
    pub fn resolves(&self, id: &str) -> bool {
        self.by_id.contains_key(id) || self.templates.contains_key(id) || self.tags.contains_key(id)
    }

    pub fn ancestors(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        let mut cur = self.resources[idx].parent;
        std::iter::from_fn(move || {
            let c = cur?;
            cur = self.resources[c].parent;
            Some(c)
        })
    }

    /// The top-level resource containing `idx`.
    pub fn top(&self, idx: usize) -> usize {
        self.ancestors(idx).last().unwrap_or(idx)
    }

    /// The nearest clone above `idx`, if any.
    pub fn clone_of(&self, idx: usize) -> Option<usize> {
        self.ancestors(idx)
            .find(|&a| matches!(self.resources[a].kind, Kind::Clone { .. }))
    }

    pub fn group_of(&self, idx: usize) -> Option<usize> {
        self.resources[idx]
            .parent
            .filter(|&p| self.resources[p].kind == Kind::Group)
    }

    /// An instance attribute, looking at the resource and then its ancestors
    /// (group and clone instance attributes are inherited by the children).
    pub fn param(&self, idx: usize, name: &str) -> Option<&NvPair> {
        std::iter::once(idx)
            .chain(self.ancestors(idx))
            .find_map(|i| self.resources[i].params.iter().find(|p| p.name == name))
    }

    /// An effective meta attribute: the resource, its ancestors, then `rsc_defaults`.
    pub fn meta(&self, idx: usize, name: &str) -> Option<&NvPair> {
        std::iter::once(idx)
            .chain(self.ancestors(idx))
            .find_map(|i| self.resources[i].meta.iter().find(|p| p.name == name))
            .or_else(|| self.rsc_defaults.iter().find(|p| p.name == name))
    }

    /// A cluster property; `fencing-enabled` is Pacemaker 3's name for `stonith-enabled`.
    pub fn property(&self, name: &str) -> Option<&NvPair> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Record the rule codes an inline `nfsha: ignore[CODE]` comment
    /// suppresses for constraint `id` (none: nothing to record).
    pub fn ignore_for_constraint(&mut self, id: &str, codes: Vec<String>) {
        if !codes.is_empty() {
            self.constraint_ignores.insert(id.to_string(), codes);
        }
    }

    /// Whether the input gave anything to check: resources, constraints,
    /// properties, defaults or tags. An input with none was not understood.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
            && self.orders.is_empty()
            && self.colocations.is_empty()
            && self.locations.is_empty()
            && self.properties.is_empty()
            && self.rsc_defaults.is_empty()
            && self.op_defaults.is_empty()
            && self.tags.is_empty()
            && self.templates.is_empty()
    }

    /// Record a statement that was not understood.
    pub fn unparsed(&mut self, loc: Loc, words: &[&str], reason: impl Into<String>) {
        self.unparsed.push(Unparsed::new(loc, words, reason));
    }

    /// Finish a model after parsing: drop deleted resources, merge templates,
    /// record template users. Parsers call this once.
    pub fn finish(&mut self) {
        self.compact();
        let mut users: HashMap<String, Vec<String>> = HashMap::new();
        for r in &self.resources {
            if let Some(t) = &r.template {
                users.entry(t.clone()).or_default().push(r.id.clone());
            }
        }
        for (t, u) in users {
            self.templates.entry(t).or_default().extend(u);
        }
    }
}

/// Parse a Pacemaker score (`INFINITY`, `+INFINITY`, `-inf`, `100`).
pub fn parse_score(s: &str) -> Option<i64> {
    let t = s.trim().to_ascii_lowercase();
    match t.as_str() {
        "infinity" | "+infinity" | "inf" | "+inf" | "mandatory" => Some(INFINITY),
        "-infinity" | "-inf" => Some(-INFINITY),
        _ => t.parse::<i64>().ok().map(|v| v.clamp(-INFINITY, INFINITY)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn then_action_defaults_to_first_action() {
        let o = Order {
            id: "o".into(),
            kind: OrderKind::Mandatory,
            symmetrical: None,
            sets: vec![
                RscSet::one("drbd", Some(Action::Promote), None),
                RscSet::one("g", None, None),
            ],
            simple: true,
            loc: Loc::new(&Arc::from("x"), 1),
        };
        assert_eq!(o.actions(), vec![Action::Promote, Action::Promote]);
    }

    #[test]
    fn agent_shorthand_means_ocf_heartbeat() {
        assert_eq!(
            Agent::parse("Filesystem").to_string(),
            "ocf:heartbeat:Filesystem"
        );
        assert_eq!(Agent::parse("systemd:nfs-server").part(), Part::NfsServer);
        assert_eq!(Agent::parse("ocf:nfsha:vip").part(), Part::Vip);
        assert_eq!(Agent::parse("fence_ipmilan").class, "stonith");
    }
}
