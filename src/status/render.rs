//! The human rendering of a [`Report`]: one screen, the figures an admin
//! looks for during a failover first (nfsd, grace, reclaims), every unknown
//! with its reason, and the problems last so they are what the eye lands on.

use std::fmt::Write;

use super::report::*;

fn known<T>(k: &Known<T>, f: impl FnOnce(&T) -> String) -> String {
    match k {
        Known::Value(v) => f(v),
        Known::Unknown(why) => format!("unknown ({why})"),
    }
}

fn secs(x: f64) -> String {
    if x >= 10.0 || x == x.trunc() {
        format!("{x:.0} s")
    } else {
        format!("{x:.1} s")
    }
}

fn setting(s: &Option<Setting>) -> String {
    match s {
        Some(s) => format!("{} s ({})", s.seconds, s.source),
        None => "in no file on this node".to_string(),
    }
}

/// At most this many clients are listed one per line (JSON lists all).
const CLIENT_LINES: usize = 20;

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "nfsha status on {} ({} ms)", r.node, r.elapsed_ms);
    if r.server.is_none() && r.kvm_host.is_none() {
        let _ = writeln!(
            o,
            "\nNeither an NFS server (no nfsd, no nfsha resources, no drop-in) nor a KVM host \
             (no heartbeat configuration) here."
        );
    }
    if let Some(s) = &r.server {
        server(&mut o, s);
    }
    if let Some(k) = &r.kvm_host {
        let _ = writeln!(o, "\nKVM host: storage heartbeat ({})", k.config);
        match (&k.heartbeat, k.stale_s) {
            (Known::Unknown(why), _) => {
                let _ = writeln!(o, "  unknown ({why})");
            }
            (Known::Value(v), _) => {
                match serde_json::from_value::<crate::heartbeat::status::Status>(v.clone()) {
                    Ok(st) => {
                        for line in st.render().lines() {
                            let _ = writeln!(o, "  {line}");
                        }
                    }
                    Err(e) => {
                        let _ = writeln!(o, "  unreadable status ({e})");
                    }
                }
            }
        }
    }
    if !r.problems.is_empty() {
        let _ = writeln!(o, "\nProblems");
        for p in &r.problems {
            let _ = writeln!(o, "  {}: {}", p.severity, p.message);
        }
    }
    o
}

fn server(o: &mut String, s: &Server) {
    let n = &s.nfsd;
    let _ = writeln!(o, "\nNFS server");
    let mut line = n.state.to_string();
    if let Known::Value(t) = &n.threads {
        if n.state == "running" {
            let _ = write!(line, ", {t} threads");
        }
    }
    if let Known::Value(v) = &n.versions {
        if n.state == "running" && !v.is_empty() {
            let _ = write!(line, ", NFS {}", v.join(" "));
        }
    }
    match &n.started_by {
        Known::Value("cluster") => {
            let _ = write!(
                line,
                ", started by the cluster{}",
                n.start_mode
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            );
        }
        Known::Value("outside-cluster") => line.push_str(", NOT started by the cluster"),
        Known::Unknown(why) => {
            let _ = write!(line, ", started by: unknown ({why})");
        }
        _ => {}
    }
    if let Some(Known::Value(a)) = &n.started_ago_s {
        let _ = write!(line, ", {} ago", secs(*a));
    }
    let _ = write!(line, ", network namespace {}", n.namespace.name);
    let _ = writeln!(o, "  nfsd         {line}");
    if let Known::Value(d) = &n.daemons {
        if !d.is_empty() {
            let list: Vec<String> = d
                .iter()
                .map(|d| {
                    if d.state == "D" {
                        format!("{} {} (stuck in I/O)", d.name, d.pid)
                    } else {
                        format!("{} {}", d.name, d.pid)
                    }
                })
                .collect();
            let _ = writeln!(o, "  daemons      {}", list.join(", "));
        }
    }
    let _ = writeln!(
        o,
        "  resources    {}",
        known(&s.resources, |r| if r.is_empty() {
            "none active here".to_string()
        } else {
            r.iter()
                .map(|r| format!("{}: {}", r.agent, r.what))
                .collect::<Vec<_>>()
                .join("; ")
        })
    );
    if let Some(scope) = &s.scope {
        let _ = writeln!(
            o,
            "  scope        {}",
            known(scope, |sc| format!("{} ({})", sc.name, sc.source))
        );
    }
    let _ = writeln!(
        o,
        "  lease        running {}, configured {}",
        known(&s.lease.running, |v| format!("{v} s")),
        known(&s.lease.configured, setting)
    );
    let g = &s.grace;
    let _ = writeln!(
        o,
        "  grace time   running {}, configured {}",
        known(&g.running, |v| format!("{v} s")),
        known(&g.configured, setting)
    );
    let _ = writeln!(o, "  grace        {}", grace_line(g));
    for m in &g.kernel_messages {
        let _ = writeln!(o, "               kernel: {m}");
    }
    for note in &g.notes {
        let _ = writeln!(o, "               note: {note}");
    }
    clients(o, &s.clients);
    let _ = writeln!(
        o,
        "  exports      {}",
        known(&s.exports, |e| if e.is_empty() {
            "none".to_string()
        } else {
            format!("{}", e.len())
        })
    );
    if let Known::Value(list) = &s.exports {
        for e in list {
            let _ = writeln!(
                o,
                "    {} to {}  fsid={}{}",
                e.directory,
                e.client,
                e.fsid.as_deref().unwrap_or("(none)"),
                if e.cluster {
                    ""
                } else {
                    "  (not an nfsha resource)"
                }
            );
        }
    }
    let _ = writeln!(
        o,
        "  DRBD         {}",
        known(&s.drbd, |d| if d.is_empty() {
            "no devices".to_string()
        } else {
            d.iter()
                .map(|d| {
                    format!(
                        "drbd{}{}: {}, disk {}{}",
                        d.minor,
                        d.resource
                            .as_deref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default(),
                        d.role,
                        d.disk.as_deref().unwrap_or("unknown"),
                        if d.used_for.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", d.used_for.join(", "))
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
    );
    let _ = writeln!(
        o,
        "  tickles      {}",
        known(&s.connections, |c| if c.is_empty() {
            "no connection records".to_string()
        } else {
            c.iter()
                .map(|r| {
                    format!(
                        "{}: {}",
                        r.address,
                        known(&r.connections, |l| format!("{} connection(s)", l.len()))
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
    );
    let _ = writeln!(
        o,
        "  nfs-server   {}",
        known(&s.nfs_server_unit, |u| {
            let boot = if u.masked {
                "masked".to_string()
            } else if u.wanted_by.is_empty() {
                "disabled at boot".to_string()
            } else {
                format!("enabled at boot ({})", u.wanted_by.join(", "))
            };
            let dropin = known(&u.dropin, |d| match d {
                None => "no nfsha drop-in".to_string(),
                Some(d) => match &d.hostname {
                    Some(h) => format!(
                        "drop-in: rpc.nfsd as {h}{}{}",
                        d.lease
                            .map(|l| format!(", lease {l} s"))
                            .unwrap_or_default(),
                        d.grace
                            .map(|g| format!(", grace {g} s"))
                            .unwrap_or_default()
                    ),
                    None => format!("{} has no nfsha ExecStart=", d.path),
                },
            });
            format!("{boot}; {dropin}")
        })
    );
}

fn grace_line(g: &Grace) -> String {
    use super::grace::State;
    let Known::Value(state) = &g.state else {
        return known(&g.state, |_| String::new());
    };
    let ago = g
        .started_ago_s
        .map(|a| format!(", started {} ago", secs(a)))
        .unwrap_or_default();
    match state {
        State::NotRunning => "none (nfsd does not run)".into(),
        State::InGrace => {
            let left = known(&g.remaining_s, |r| format!("{} left", secs(*r)));
            let latest = g
                .latest_end_in_s
                .map(|l| format!("; at most {} more while clients keep reclaiming", secs(l)))
                .unwrap_or_default();
            format!("IN GRACE: {left}{ago}{latest}")
        }
        State::Extended => format!(
            "IN GRACE (extended past the grace time while clients still reclaim){ago}{}",
            g.latest_end_in_s
                .map(|l| format!("; ends within {}", secs(l)))
                .unwrap_or_default()
        ),
        State::Ended => format!("over{ago}"),
        State::EndedEarly => format!(
            "over early: every client allowed to reclaim has{}{ago}",
            g.ended_after_s
                .map(|e| format!(", {} after the start", secs(e)))
                .unwrap_or_default()
        ),
        State::Skipped => format!("none: no client was allowed to reclaim{ago}"),
    }
}

fn clients(o: &mut String, c: &Known<Clients>) {
    let Known::Value(c) = c else {
        let _ = writeln!(o, "  clients      {}", known(c, |_| String::new()));
        return;
    };
    let status: Vec<String> = c
        .by_status
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let reclaim = c.reclaim.as_ref().map_or_else(String::new, |rc| {
        format!(
            "; {}",
            known(rc, |r: &super::nfsdcld::Reclaim| {
                if r.in_grace {
                    format!(
                        "reclaimed {} of {} allowed, {} new (nfsdcld epoch {}, recovering {})",
                        r.reclaimed, r.allowed, r.new, r.current_epoch, r.recovery_epoch
                    )
                } else {
                    format!(
                        "no reclaim under way; {} recorded in nfsdcld epoch {}",
                        r.recorded, r.current_epoch
                    )
                }
            })
        )
    });
    let _ = writeln!(
        o,
        "  clients      {}{}{reclaim}",
        c.total,
        if status.is_empty() {
            String::new()
        } else {
            format!(" ({})", status.join(", "))
        }
    );
    // The ones still to reclaim first: they are what keeps grace running.
    let mut list: Vec<&Client> = c.list.iter().collect();
    list.sort_by_key(|cl| match &cl.reclaim {
        Some(Known::Value(super::nfsdcld::ClientReclaim::Pending)) => 0,
        Some(Known::Value(super::nfsdcld::ClientReclaim::NotRecorded)) => 1,
        _ => 2,
    });
    for cl in list.iter().take(CLIENT_LINES) {
        let _ = writeln!(
            o,
            "    {}  {}  v4.{}  {}  \"{}\"",
            cl.address.as_deref().unwrap_or("?"),
            cl.status.as_deref().unwrap_or("?"),
            cl.minor_version
                .map(|v| v.to_string())
                .unwrap_or_else(|| "?".into()),
            cl.reclaim
                .as_ref()
                .map_or_else(String::new, |rc| known(rc, |r| {
                    serde_json::to_value(r)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                })),
            cl.name
        );
    }
    if list.len() > CLIENT_LINES {
        let _ = writeln!(
            o,
            "    … and {} more (nfsha status --json lists every one)",
            list.len() - CLIENT_LINES
        );
    }
}
