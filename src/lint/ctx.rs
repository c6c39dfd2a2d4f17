//! What every rule reads: the model, the start order (computed once), the
//! placement components, and the effective NFS server settings gathered from
//! wherever they may be set (agent parameters, `nfsd_args`, nfs.conf,
//! /etc/sysconfig/nfs).

use std::collections::HashMap;
use std::time::Duration;

use super::agent_check::{self, Verdict};
use super::fix::{self, Fix, OrderSpec, Place};
use super::placement::Placement;
use crate::formats::{bools, duration};
use crate::heartbeat::config::Config as HeartbeatConfig;
use crate::model::{Action, Kind, Loc, Model, OrderKind, Part};
use crate::nfs::versions;
use crate::start_order::StartOrder;

/// An effective setting and where it came from.
#[derive(Clone, Debug)]
pub struct Setting {
    pub value: Duration,
    /// Human name of the source, e.g. `nfs.conf [nfsd] lease-time`.
    pub key: String,
    pub loc: Option<Loc>,
    /// The default, not written anywhere.
    pub default: bool,
}

/// Everything rules read.
pub struct Ctx<'a> {
    pub m: &'a Model,
    pub order: StartOrder,
    pub placement: Placement,
    /// Primitives per part (agent kind), in document order.
    parts: HashMap<Part, Vec<usize>>,
    /// Filesystems with their mount points, per placement component.
    comp_mounts: HashMap<usize, Vec<(usize, String)>>,
    mounts: Vec<(usize, String)>,
    /// DRBD primitives by their `drbd_resource`.
    drbd_by_name: HashMap<String, usize>,
    /// What nfsha's own agents say about their primitives.
    verdicts: HashMap<usize, Verdict>,
    /// The heartbeat settings as the heartbeat daemon reads them (its own
    /// parser), or its refusal.
    pub heartbeat: Option<Result<HeartbeatConfig, String>>,
    /// The servers' nfs-utils version, when the user gave it.
    pub nfs_utils: Option<crate::lint::nfs_utils::NfsUtils>,
}

impl<'a> Ctx<'a> {
    pub fn new(m: &'a Model) -> Ctx<'a> {
        let placement = Placement::compute(m);
        // Precomputed once so that rules stay linear in the size of the
        // configuration (10,000-resource CIBs lint in milliseconds).
        let mut parts: HashMap<Part, Vec<usize>> = HashMap::new();
        let mut comp_mounts: HashMap<usize, Vec<(usize, String)>> = HashMap::new();
        let mut mounts = Vec::new();
        for (i, r) in m.primitives() {
            let part = r.part();
            parts.entry(part).or_default().push(i);
            if matches!(part, Part::Filesystem | Part::NfsState) {
                if let Some(d) = m.param(i, "directory") {
                    let dir = d.value.trim_end_matches('/').to_string();
                    comp_mounts
                        .entry(placement.component(i))
                        .or_default()
                        .push((i, dir.clone()));
                    mounts.push((i, dir));
                }
            }
        }
        let mut drbd_by_name = HashMap::new();
        for &d in parts.get(&Part::Drbd).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(p) = m.param(d, "drbd_resource") {
                drbd_by_name.entry(p.value.clone()).or_insert(d);
            }
        }
        let verdicts = m
            .primitives()
            .filter_map(|(i, _)| Some((i, agent_check::verdict(m, i)?)))
            .collect();
        let heartbeat = m
            .host
            .heartbeat
            .as_ref()
            .map(|h| HeartbeatConfig::parse(&h.text).map_err(|e| e.to_string()));
        Ctx {
            m,
            verdicts,
            heartbeat,
            order: StartOrder::compute(m),
            placement,
            drbd_by_name,
            parts,
            comp_mounts,
            mounts,
            nfs_utils: None,
        }
    }

    /// What the nfsha agent of primitive `i` says about it (`None` for
    /// other agents).
    pub fn verdict(&self, i: usize) -> Option<&Verdict> {
        self.verdicts.get(&i)
    }

    /// The primitives of one agent kind.
    pub fn part(&self, part: Part) -> &[usize] {
        self.parts.get(&part).map_or(&[], Vec::as_slice)
    }

    /// The primitives placed together with `i` (including `i`).
    pub fn placed_with(&self, i: usize) -> &[usize] {
        self.placement.placed_with(i)
    }

    /// Whether two resources are placed together.
    pub fn together(&self, a: usize, b: usize) -> bool {
        self.placement.together(a, b)
    }

    pub fn id(&self, i: usize) -> &str {
        &self.m.resources[i].id
    }

    pub fn param(&self, i: usize, name: &str) -> Option<&str> {
        self.m.param(i, name).map(|p| p.value.as_str())
    }

    /// The NFS server primitives.
    pub fn servers(&self) -> Vec<usize> {
        self.part(Part::NfsServer).to_vec()
    }

    /// The filesystems (Filesystem and nfsha's nfsstate) with their mount points.
    pub fn mounts(&self) -> &[(usize, String)] {
        &self.mounts
    }

    /// The mount (placed with `near`, if given) whose directory contains `path`.
    pub fn mount_holding(&self, path: &str, near: Option<usize>) -> Option<usize> {
        let path = path.trim_end_matches('/');
        let candidates: &[(usize, String)] = match near {
            Some(n) => self
                .comp_mounts
                .get(&self.placement.component(n))
                .map_or(&[], Vec::as_slice),
            None => &self.mounts,
        };
        candidates
            .iter()
            .filter(|(_, dir)| {
                !dir.is_empty()
                    && (path == dir
                        || path
                            .strip_prefix(dir.as_str())
                            .is_some_and(|rest| rest.starts_with('/')))
            })
            .max_by_key(|(_, dir)| dir.len())
            .map(|(i, _)| *i)
    }

    /// Value of `-X <v>` / `-X<v>` / `--long=<v>` / `--long <v>` in an
    /// `nfsd_args` string.
    fn nfsd_arg(args: &str, short: &str, long: &str) -> Option<String> {
        let w: Vec<&str> = args.split_whitespace().collect();
        for (i, a) in w.iter().enumerate() {
            if *a == short || *a == long {
                return w.get(i + 1).map(|s| s.to_string());
            }
            if let Some(v) = a.strip_prefix(&format!("{long}=")) {
                return Some(v.to_string());
            }
            if let Some(v) = a.strip_prefix(short).filter(|v| !v.is_empty()) {
                return Some(v.to_string());
            }
        }
        None
    }

    /// A time as rpc.nfsd reads `-L`/`-G`: `strtol(…, 0)` over the whole
    /// word (so `0x3c` is 60 and `010` is 8), above zero; rpc.nfsd exits on
    /// anything else.
    fn nfsd_seconds(word: &str) -> Option<u64> {
        let (digits, radix) =
            if let Some(h) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
                (h, 16)
            } else if word.len() > 1 && word.starts_with('0') {
                (&word[1..], 8)
            } else {
                (word, 10)
            };
        u64::from_str_radix(digits, radix).ok().filter(|&n| n > 0)
    }

    /// Where a server setting is written: an `ocf:nfsha:nfsserver` parameter
    /// (read by the agent's own parameter table), `nfsd_args`, nfs.conf
    /// `[nfsd]` (read as nfs-utils' `conf_get_num` reads it: leading digits,
    /// 0 meaning unset) or `/etc/sysconfig/nfs` (a whole number).
    fn setting(
        &self,
        nfsha_param: &str,
        short: &str,
        long: &str,
        conf: &str,
        sysconfig: &str,
    ) -> Option<Setting> {
        let secs = |n: u64, key: String, loc: &Loc| Setting {
            value: Duration::from_secs(n),
            key,
            loc: Some(loc.clone()),
            default: false,
        };
        for s in self.servers() {
            let r = &self.m.resources[s];
            if let Some(v) = self.verdict(s) {
                // Read by the agent's table; when the table refuses the
                // parameters (a lease below its range, say), the written
                // whole number, so the rule still names what is wrong.
                let given = match &v.params {
                    Some(params) if params.is_given(nfsha_param) => params.int(nfsha_param),
                    Some(_) => None,
                    None => self
                        .m
                        .param(s, nfsha_param)
                        .and_then(|p| p.value.trim().parse::<i64>().ok()),
                };
                if let (Some(n), Some(p)) = (given, self.m.param(s, nfsha_param)) {
                    return Some(secs(
                        n.max(0) as u64,
                        format!("{} {nfsha_param}", r.id),
                        &p.loc,
                    ));
                }
            }
            if let Some(p) = self.m.param(s, "nfsd_args") {
                if let Some(v) = Self::nfsd_arg(&p.value, short, long)
                    .as_deref()
                    .and_then(Self::nfsd_seconds)
                {
                    return Some(secs(v, format!("{} nfsd_args {short}", r.id), &p.loc));
                }
            }
        }
        let h = &self.m.host;
        if let Some(p) = h.nfsconf(conf) {
            let n = crate::nfs::conf::num(&p.value);
            if n > 0 {
                let (sec, key) = conf.split_once('.').unwrap_or(("", conf));
                return Some(secs(n as u64, format!("nfs.conf [{sec}] {key}"), &p.loc));
            }
        }
        if let Some(p) = h.sysconfig(sysconfig) {
            if let Ok(n) = p.value.trim().parse::<u64>() {
                return Some(secs(n, format!("sysconfig {sysconfig}"), &p.loc));
            }
        }
        None
    }

    /// The NFSv4 lease time, if configured anywhere.
    pub fn lease_set(&self) -> Option<Setting> {
        self.setting(
            "lease_time",
            "-L",
            "--lease-time",
            "nfsd.lease-time",
            "NFSV4LEASETIME",
        )
    }

    /// The NFSv4 grace time, if configured anywhere.
    pub fn grace_set(&self) -> Option<Setting> {
        self.setting(
            "grace_time",
            "-G",
            "--grace-time",
            "nfsd.grace-time",
            "NFSV4GRACETIME",
        )
    }

    /// An nfs.conf value as nfs-utils' daemons look it up (section and key
    /// in any case), for the agents' own nfs.conf checks.
    pub fn nfs_conf(&self, section: &str, key: &str) -> Option<String> {
        let k = format!(
            "{}.{}",
            section.to_ascii_lowercase(),
            key.to_ascii_lowercase()
        );
        self.m.host.nfsconf(&k).map(|p| p.value.clone())
    }

    /// The effective lease (default 90 s, the kernel's and nfsha's default).
    pub fn lease(&self) -> Setting {
        self.lease_set().unwrap_or(Setting {
            value: Duration::from_secs(90),
            key: "default lease time".into(),
            loc: None,
            default: true,
        })
    }

    /// The effective grace: when unset, Linux and nfsha use the lease time.
    pub fn grace(&self) -> Setting {
        self.grace_set().unwrap_or_else(|| {
            let l = self.lease();
            Setting {
                key: "grace time (defaults to the lease)".into(),
                default: true,
                ..l
            }
        })
    }

    /// The effective timeout of `action` on primitive `i`: its op, then
    /// `op_defaults`, then Pacemaker's built-in 20 s.
    pub fn op_timeout(&self, i: usize, action: &str) -> (Duration, bool) {
        let r = &self.m.resources[i];
        if let Some(t) = r.op(action).find_map(|o| o.timeout) {
            return (t, true);
        }
        if let Some(t) = self
            .m
            .op_defaults
            .iter()
            .find(|p| p.name == "timeout")
            .and_then(|p| duration::pacemaker(&p.value))
        {
            return (t, true);
        }
        (Duration::from_secs(20), false)
    }

    /// Whether the cluster has replicated or shared data (DRBD or filesystems).
    pub fn has_data(&self) -> bool {
        self.m.primitives().any(|(_, r)| {
            matches!(
                r.part(),
                Part::Drbd | Part::Filesystem | Part::NfsState | Part::NfsServer
            )
        })
    }

    /// NFS protocol versions the server offers, when known:
    /// `(v3, v4.0, v4.1+)`.
    pub fn versions(&self) -> (bool, bool, bool) {
        for s in self.servers() {
            let r = &self.m.resources[s];
            if r.agent().is_some_and(|a| a.is_nfsha()) {
                // A value the agent refuses is reported by the parameter
                // checks; read the agent's default here.
                let v = self
                    .param(s, "nfs_versions")
                    .and_then(|v| versions::parse(v).ok())
                    .unwrap_or_else(|| vec!["4.1", "4.2"]);
                let has = |x: &str| v.contains(&x);
                return (has("3"), has("4.0"), has("4.1") || has("4.2"));
            }
            if self.param(s, "nfsv4_only").and_then(bools::pacemaker) == Some(true) {
                let (_, v40, v41) = self.conf_versions();
                return (false, v40, v41);
            }
        }
        self.conf_versions()
    }

    fn conf_versions(&self) -> (bool, bool, bool) {
        let get = |tag: &str| {
            self.m
                .host
                .nfsconf(&format!("nfsd.{tag}"))
                .map(|p| p.value.clone())
        };
        let on = |v: &str| versions::conf_offers(get, v);
        (on("3"), on("4.0"), on("4.1") || on("4.2"))
    }
}

impl Ctx<'_> {
    /// The DRBD primitive a mount sits on, with its (promotable) clone:
    /// matched by `/dev/drbd/by-res/<name>` or `drbd_resource`, else the only
    /// DRBD placed with the mount, else the only DRBD in the cluster.
    /// `Some((None, None))` when the device is DRBD but no DRBD resource is
    /// configured.
    pub fn drbd_for_mount(&self, fs: usize) -> Option<(Option<usize>, Option<usize>)> {
        let device = self.param(fs, "device").unwrap_or("");
        let by_name = self
            .param(fs, "drbd_resource")
            .map(str::to_string)
            .or_else(|| {
                device
                    .strip_prefix("/dev/drbd/by-res/")
                    .map(|r| r.split('/').next().unwrap_or(r).to_string())
            });
        let is_drbd = by_name.is_some() || device.starts_with("/dev/drbd");
        if !is_drbd {
            return None;
        }
        let drbds = self.part(Part::Drbd);
        let pick = by_name
            .as_deref()
            .and_then(|n| self.drbd_by_name.get(n).copied())
            .or_else(|| {
                // The DRBD placed with the mount: in its component, or the
                // clone whose (Promoted) instance it is colocated with.
                let mut near: Vec<usize> = self
                    .placed_with(fs)
                    .iter()
                    .copied()
                    .chain(
                        self.placement
                            .near_clones(fs)
                            .iter()
                            .flat_map(|&c| self.m.leaves(c)),
                    )
                    .filter(|&d| self.m.resources[d].part() == Part::Drbd)
                    .collect();
                near.sort_unstable();
                near.dedup();
                (near.len() == 1).then(|| near[0])
            })
            .or_else(|| (drbds.len() == 1).then(|| drbds[0]));
        Some((pick, pick.and_then(|d| self.m.clone_of(d))))
    }

    /// Whether the clone at `c` is promotable.
    pub fn promotable(&self, c: usize) -> bool {
        matches!(self.m.resources[c].kind, Kind::Clone { promotable: true })
    }
}

/// Building fixes.
impl Ctx<'_> {
    /// An id no object of the model has yet.
    pub fn new_id(&self, base: &str) -> String {
        fix::fresh_id(self.m, base)
    }

    /// What a constraint about `i` should name: its outermost group or clone.
    pub fn unit(&self, i: usize) -> &str {
        self.id(self.m.top(i))
    }

    /// A new mandatory order: `first`'s `fa` before `then`'s `ta`, naming
    /// the outermost group or clone of each.
    pub fn add_order(&self, first: usize, fa: Action, then: usize, ta: Action) -> Fix {
        let (f, t) = (self.unit(first), self.unit(then));
        Fix::AddOrder(OrderSpec {
            id: self.new_id(&format!("o-{f}-before-{t}")),
            kind: OrderKind::Mandatory,
            first: f.to_string(),
            first_action: fa,
            then: t.to_string(),
            then_action: ta,
            symmetrical: None,
        })
    }

    /// Move `rsc` right after `after` when both are members of one group.
    pub fn move_after(&self, rsc: usize, after: usize) -> Option<Fix> {
        let g = self.m.group_of(rsc)?;
        (self.m.group_of(after) == Some(g)).then(|| Fix::MoveInGroup {
            group: self.id(g).to_string(),
            rsc: self.id(rsc).to_string(),
            place: Place::After(self.id(after).to_string()),
        })
    }

    /// `first` starts before `then`: move `then` after `first` in their
    /// group, or order their outermost resources.
    pub fn start_after(&self, first: usize, then: usize) -> Fix {
        self.move_after(then, first)
            .unwrap_or_else(|| self.add_order(first, Action::Start, then, Action::Start))
    }

    /// The resource (itself or a group or clone above it) whose own
    /// instance attributes hold `name` for primitive `i`.
    pub fn param_owner(&self, i: usize, name: &str) -> usize {
        std::iter::once(i)
            .chain(self.m.ancestors(i))
            .find(|&r| self.m.resources[r].params.iter().any(|p| p.name == name))
            .unwrap_or(i)
    }
}
