//! The OCF agent pages, ocf_nfsha_<agent>(7): parameters, actions and
//! timeouts from the agent's own table (the same one the meta-data comes
//! from); the crm and pcs examples are the agent's lines in the shipped
//! layouts (examples/nfs-cluster.crm and .pcs.sh, which the example tests
//! load into crmsh, pcs and crm_verify); the files each agent reads are
//! listed here.

use roff::{bold, italic, roman, Roff};

use super::{examples, join_lines, paragraphs, piece, see_also_section, tagged, Page, PREAMBLE};
use crate::agents;
use crate::ocf::params::ParamKind;
use crate::ocf::AgentSpec;

const LAYOUT_CRM: &str = include_str!("../../examples/nfs-cluster.crm");
const LAYOUT_PCS: &str = include_str!("../../examples/nfs-cluster.pcs.sh");

/// What a page says about one agent beyond its table.
struct AgentExtra {
    name: &'static str,
    /// (path, what the agent does with it).
    files: &'static [(&'static str, &'static str)],
    /// Examples for an agent that is not in the shipped NFS layout.
    examples: &'static [(&'static str, &'static str)],
    see_also: &'static [&'static str],
}

const MARKERS: (&str, &str) = (
    "/run/resource-agents/nfsha-*",
    "What the agents of one group leave for each other (which exports are active, which \
     state directory is in use); under HA_RSCTMP when set. Cleared at boot.",
);

const AGENTS: &[AgentExtra] = &[
    AgentExtra {
        name: "nfsstate",
        files: &[
            ("/proc/drbd", "DRBD 8.4: the device's role (drbdsetup status --json on DRBD 9)."),
            ("/proc/self/mountinfo", "Whether the state directory is mounted, and from which device."),
            ("/etc/nfs.conf, /etc/nfs.conf.d/*.conf", "Must point nfsdcld and nfsdcltrack (storagedir) at the state directory."),
            ("<directory>/nfsdcld, nfsdcltrack, v4recovery, statd", "Created on start: the client-tracking state that fails over."),
            MARKERS,
        ],
        examples: &[],
        see_also: &["ocf_nfsha_nfsserver(7)", "nfsdcld(8)", "nfs.conf(5)", "mount(8)", "ocf_heartbeat_Filesystem(7)"],
    },
    AgentExtra {
        name: "nfsserver",
        files: &[
            ("/proc/fs/nfsd/", "threads, versions, nfsv4leasetime and nfsv4gracetime: set before the threads start, read by monitor."),
            ("/etc/nfs.conf, /etc/nfs.conf.d/*.conf", "Read once per action: versions, threads, state directories, the rpc_pipefs directory."),
            ("/etc/systemd/system/nfs-server.service.d/nfsha.conf", "The drop-in written by nfsha dropin; required when systemd runs."),
            ("/etc/systemd/system/rpc-statd-notify.service.d/nfsha.conf", "Also written by nfsha dropin; required with NFSv3 when systemd runs."),
            ("/run/nfsha/nfs-server.allow", "Created on start, removed on stop: the only time nfs-server.service may start."),
            ("/proc", "The process table: rpc.mountd, nfsdcld, rpc.statd."),
            ("/etc/passwd", "The user rpc.statd runs as (NFSv3)."),
            MARKERS,
        ],
        examples: &[],
        see_also: &[
            "nfsha-dropin(8)",
            "ocf_nfsha_nfsstate(7)",
            "ocf_nfsha_exportfs(7)",
            "rpc.nfsd(8)",
            "nfsd(7)",
            "rpc.statd(8)",
            "unshare(1)",
            "ocf_heartbeat_nfsserver(7)",
        ],
    },
    AgentExtra {
        name: "exportfs",
        files: &[
            ("/var/lib/nfs/etab", "What is exported now: read by monitor and by the fsid check."),
            ("/proc/fs/nfsd/unlock_filesystem", "Written on stop to release the export's locks."),
            ("/proc/self/mountinfo", "Whether the directory is on a mounted filesystem."),
            MARKERS,
        ],
        examples: &[],
        see_also: &["ocf_nfsha_nfsserver(7)", "ocf_nfsha_vip(7)", "exportfs(8)", "exports(5)", "ocf_heartbeat_exportfs(7)"],
    },
    AgentExtra {
        name: "vip",
        files: &[MARKERS],
        examples: &[],
        see_also: &["ocf_nfsha_exportfs(7)", "ip(8)", "ocf_heartbeat_IPaddr2(7)"],
    },
    AgentExtra {
        name: "storagehb",
        files: &[
            ("/etc/nfsha/heartbeat.toml", "Where the daemon's status file is (run_dir)."),
            ("/run/nfsha/heartbeat-status.json", "The daemon's status, the only thing monitor reads."),
        ],
        examples: &[
            (
                "crm configure primitive pool-hb ocf:nfsha:storagehb params mount=/mnt/primary op monitor interval=10s\n\
                 crm configure clone pool-hb-clone pool-hb",
                "Watch the heartbeat on /mnt/primary on every KVM host, with crmsh.",
            ),
            (
                "pcs resource create pool-hb ocf:nfsha:storagehb mount=/mnt/primary op monitor interval=10s clone",
                "The same with pcs.",
            ),
        ],
        see_also: &["nfsha-heartbeat(8)", "nfsha-heartbeat-status(8)"],
    },
];

/// The OCF exit codes the agents return.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "OCF_SUCCESS: done; for monitor, running."),
    ("1", "OCF_ERR_GENERIC: the action failed; the reason is logged and given to Pacemaker as ocf-exit-reason. A start that finds the group misordered fails this way with a reason starting \"ordering:\"."),
    ("2", "OCF_ERR_ARGS: wrong on this node only (its nfs.conf or drop-in, a missing interface or route, an fsid another export on this node uses); Pacemaker may run the resource on another node."),
    ("3", "OCF_ERR_UNIMPLEMENTED: an action the agent does not have."),
    ("5", "OCF_ERR_INSTALLED: a program the agent runs is missing; the reason names the package."),
    ("6", "OCF_ERR_CONFIGURED: parameters that cannot work on any node (the reason names the parameter and value); Pacemaker does not retry elsewhere."),
    ("7", "OCF_NOT_RUNNING: monitor found the resource stopped."),
];

/// The environment every agent reads (the OCF runtime's).
const ENVIRONMENT: &[(&str, &str)] = &[
    ("OCF_RESKEY_<parameter>", "The parameters above, as Pacemaker passes them."),
    ("OCF_RESOURCE_INSTANCE", "The resource's name, shown in every log line."),
    ("OCF_RESKEY_CRM_meta_timeout", "The action's timeout; the agent's own deadline is derived from it."),
    ("OCF_RESKEY_CRM_meta_interval, OCF_RESKEY_CRM_meta_clone", "Whether a monitor is recurring; whether the resource runs as a clone."),
    ("OCF_CHECK_LEVEL", "The monitor depth (0 when unset)."),
    ("HA_LOGFILE, HA_LOGFACILITY, HA_debug", "Also log to this file; the syslog facility (default daemon); with HA_debug=1, debug lines too."),
    ("HA_RSCTMP", "Where the agents keep their markers (default /run/resource-agents)."),
    ("NFSHA_SYSLOG_SOCKET", "The syslog socket instead of /dev/log."),
];

pub fn pages() -> Vec<Page> {
    agents::all().iter().map(|a| page(a.spec())).collect()
}

fn extra(name: &str) -> Option<&'static AgentExtra> {
    AGENTS.iter().find(|a| a.name == name)
}

/// The primitive of `agent` in the shipped crm layout, with its
/// continuation lines, and the pcs line creating it.
fn layout_examples(agent: &str) -> Vec<(String, String)> {
    let kind = format!("ocf:nfsha:{agent}");
    let mut out = Vec::new();
    let mut lines = LAYOUT_CRM.lines();
    while let Some(line) = lines.next() {
        let words: Vec<_> = line.split_whitespace().collect();
        if words.first() == Some(&"primitive") && words.get(2) == Some(&kind.as_str()) {
            let mut block = vec![line.to_string()];
            let mut last = line;
            while last.trim_end().ends_with('\\') {
                let Some(next) = lines.next() else { break };
                block.push(next.to_string());
                last = next;
            }
            out.push((
                block.join("\n"),
                "The resource as the shipped layout defines it, in crm syntax \
                 (/usr/share/doc/nfsha/examples/nfs-cluster.crm)."
                    .to_string(),
            ));
        }
    }
    for line in LAYOUT_PCS.lines() {
        let words: Vec<_> = line.split_whitespace().collect();
        if words.starts_with(&["pcs", "resource", "create"]) && words.get(4) == Some(&kind.as_str())
        {
            out.push((
                line.to_string(),
                "The same with pcs (/usr/share/doc/nfsha/examples/nfs-cluster.pcs.sh).".to_string(),
            ));
        }
    }
    out
}

fn kind(p: &crate::ocf::params::ParamSpec) -> String {
    let mut k = match p.kind {
        ParamKind::String => "string".to_string(),
        ParamKind::Integer { min, max } => format!("integer, {min} to {max}"),
        ParamKind::Boolean => "boolean".to_string(),
    };
    if p.required {
        k.push_str(", required");
    }
    if let Some(d) = p.default {
        k.push_str(&format!(", default {d}"));
    }
    k
}

fn page(spec: &AgentSpec) -> Page {
    let name = format!("ocf_nfsha_{}", spec.name);
    let extra = extra(spec.name);
    let mut r = Roff::new();
    r.control(
        "TH",
        [
            name.to_uppercase().as_str(),
            "7",
            "",
            super::SOURCE,
            "OCF resource agents",
        ],
    );
    r.control("nh", []);
    r.control("SH", ["NAME"]);
    r.text([roman(format!("{name} - {}", spec.shortdesc))]);
    r.control("SH", ["SYNOPSIS"]);
    r.text([
        bold(format!("/usr/lib/ocf/resource.d/nfsha/{}", spec.name)),
        roman(" "),
        italic("start"),
        roman(" | "),
        italic("stop"),
        roman(" | "),
        italic("monitor"),
        roman(" | "),
        italic("validate-all"),
        roman(" | "),
        italic("meta-data"),
        roman(" | "),
        italic("usage"),
    ]);
    r.control("br", []);
    r.text([
        bold(format!("nfsha agent {}", spec.name)),
        roman(" "),
        italic("action"),
    ]);
    r.control("SH", ["DESCRIPTION"]);
    paragraphs(&mut r, spec.longdesc);
    r.control("PP", []);
    r.text([roman(format!(
        "Pacemaker knows this agent as ocf:nfsha:{}; it is a link to /usr/sbin/nfsha, which \
         reads its parameters from OCF_RESKEY_<name> and answers with OCF exit codes.",
        spec.name
    ))]);

    r.control("SH", ["SUPPORTED PARAMETERS"]);
    for p in spec.params {
        r.control("TP", []);
        r.text([bold(p.name), roman(format!(" ({})", kind(p)))]);
        r.text([roman(join_lines(p.longdesc))]);
    }
    for refused in spec.refused {
        r.control("TP", []);
        r.text([bold(refused.name), roman(" (refused)")]);
        r.text([roman(join_lines(refused.why))]);
    }

    r.control("SH", ["SUPPORTED ACTIONS"]);
    let t = &spec.timeouts;
    let mut actions = vec![
        (
            "start".to_string(),
            format!("timeout {} s", t.start.as_secs()),
        ),
        (
            "stop".to_string(),
            format!("timeout {} s", t.stop.as_secs()),
        ),
        (
            "monitor".to_string(),
            format!(
                "timeout {} s, interval {} s",
                t.monitor.as_secs(),
                t.monitor_interval.as_secs()
            ),
        ),
    ];
    for depth in spec.monitor_depths {
        actions.push((
            format!("monitor (OCF_CHECK_LEVEL={depth})"),
            format!(
                "timeout {} s, interval {} s",
                t.monitor.as_secs(),
                (t.monitor_interval * 6).as_secs()
            ),
        ));
    }
    actions.push((
        "validate-all".to_string(),
        format!("timeout {} s", t.validate.as_secs()),
    ));
    actions.push(("meta-data".to_string(), "timeout 5 s".to_string()));
    let actions: Vec<(&str, &str)> = actions
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    tagged(&mut r, &actions);
    r.control("PP", []);
    r.text([roman(
        "These are the advertised defaults; pcs resource create copies them into the CIB.",
    )]);

    r.control("SH", ["EXIT STATUS"]);
    tagged(&mut r, EXIT_STATUS);
    r.control("SH", ["ENVIRONMENT"]);
    tagged(&mut r, ENVIRONMENT);
    let roots = root_variables();
    r.control("TP", []);
    r.text([bold(roots.join(", "))]);
    r.text([roman(
        "Move the roots the agents read (/proc/fs/nfsd, /etc/nfs.conf, /var/lib/nfs, /proc/drbd, \
         the mount table, /etc/systemd/system, /run/nfsha, /proc, /etc/passwd) for tests and \
         ocf-tester runs. Never set on a cluster node.",
    )]);
    r.control("SH", ["FILES"]);
    r.control("TP", []);
    r.text([bold(format!("/usr/lib/ocf/resource.d/nfsha/{}", spec.name))]);
    r.text([roman("The agent: a link to /usr/sbin/nfsha.")]);
    if let Some(e) = extra {
        tagged(&mut r, e.files);
    }
    let mut ex: Vec<(String, String)> = layout_examples(spec.name);
    if let Some(e) = extra {
        ex.extend(
            e.examples
                .iter()
                .map(|(c, w)| (c.to_string(), w.to_string())),
        );
    }
    ex.push((
        format!("pcs resource describe ocf:nfsha:{}", spec.name),
        "Show the parameters as Pacemaker sees them.".to_string(),
    ));
    let ex: Vec<(&str, &str)> = ex.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    examples(&mut r, &ex);

    let mut see_also = vec!["nfsha(8)".to_string(), "nfsha-agent(8)".to_string()];
    if let Some(e) = extra {
        see_also.extend(e.see_also.iter().map(|s| s.to_string()));
    }
    see_also.extend(["pcs(8)".to_string(), "crm(8)".to_string()]);
    see_also_section(&mut r, see_also);

    let mut text = String::from(PREAMBLE);
    text += &piece(|w| r.to_writer(w));
    Page {
        name,
        section: 7,
        text,
    }
}

/// The variables that move the agents' roots, as the one reader of them
/// (`sys::Paths`) looks them up.
fn root_variables() -> Vec<String> {
    let names = std::cell::RefCell::new(Vec::new());
    crate::sys::Paths::from_lookup(|v| {
        names.borrow_mut().push(v.to_string());
        None
    });
    names.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_has_an_entry_and_an_example() {
        for a in agents::all() {
            let name = a.spec().name;
            assert!(
                extra(name).is_some(),
                "no entry for {name} in src/man/agents.rs"
            );
            let layout = layout_examples(name);
            let own = extra(name).map_or(0, |e| e.examples.len());
            assert!(layout.len() + own >= 2, "{name}: no crm and pcs example");
        }
        // The NFS group's agents take theirs from the shipped layouts.
        for name in ["nfsstate", "nfsserver", "exportfs", "vip"] {
            let ex = layout_examples(name);
            assert!(
                ex[0].0.starts_with("primitive ") && ex[0].0.contains("\\\n"),
                "{ex:?}"
            );
            assert!(ex[1].0.starts_with("pcs resource create "), "{ex:?}");
        }
    }
}
