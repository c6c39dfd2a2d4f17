"""Results as a table on stdout, as Markdown, and the per-layout medians and maxima of
the repeated failovers."""
import statistics

FAILOVER_FIGURES = ["stall_s", "address_absent_s", "reconnect_lag_s", "resume_lag_s", "port_closed_s",
                    "grace_s", "move_s", "recovery_s"]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return "%.1f" % v
    return str(v)


def aggregate(results):
    """Median and max of each failover figure per (layout, init, scenario), over the repeats."""
    groups = {}
    for r in results:
        if r.get("scenario") not in (1, 2) or "stall_s" not in r and "client_stall_s" not in r:
            continue
        key = (r["agents"], r.get("init"), r["scenario"], r["name"], r.get("config_tool"))
        groups.setdefault(key, []).append(r)
    out = []
    for (agents, init, scen, name, tool), rows in groups.items():
        a = {"agents": agents, "init": init, "scenario": scen, "name": name, "runs": len(rows),
             "passed": sum(1 for r in rows if r["pass"])}
        if tool:
            a["config_tool"] = tool
        for f in FAILOVER_FIGURES:
            vals = [r[f] for r in rows if isinstance(r.get(f), (int, float)) and not isinstance(r.get(f), bool)]
            if vals:
                a[f] = {"median": round(statistics.median(vals), 3), "max": round(max(vals), 3), "n": len(vals)}
        causes = {}
        for r in rows:
            c = r.get("reconnect_cause") or "unknown"
            if r.get("client_view"):
                c += " (%s)" % r["client_view"]
            causes[c] = causes.get(c, 0) + 1
        a["reconnect_causes"] = causes
        cs = [r for r in rows if "cloudstack" in r]
        if cs:
            a["cloudstack"] = {"would_fence": sum(1 for r in cs if r.get("cloudstack_would_fence")),
                               "failed_tries": sum(r["cloudstack"]["failed_tries"] for r in cs),
                               "timeouts": sum(r["cloudstack"]["timeouts"] for r in cs),
                               "max_try_s": max(r["cloudstack"]["max_try_s"] for r in cs)}
        a["fenced"] = sum(1 for r in rows if r.get("fenced") and scen == 1)
        out.append(a)
    return out


def goals(results):
    """Issue 12's goals per layout, from the repeated failovers: reconnect lag <= 1 s (max),
    planned-move stall <= address absence + 1 s (max over the moves of stall - absence),
    crash stall < 45 s (max)."""
    out = []
    for agents in sorted({r["agents"] for r in results if r.get("scenario") in (1, 2)}):
        rows = [r for r in results if r["agents"] == agents and r.get("scenario") in (1, 2)]
        lags = [r["reconnect_lag_s"] for r in rows if r.get("reconnect_lag_s") is not None]
        over = [r["stall_s"] - r["address_absent_s"] for r in rows if r["scenario"] == 1
                and r.get("stall_s") is not None and r.get("address_absent_s") is not None]
        crash = [r["stall_s"] for r in rows if r["scenario"] == 2 and r.get("stall_s") is not None]
        out.append({"agents": agents,
                    "reconnect_lag_max_s": round(max(lags), 3) if lags else None,
                    "reconnect_lag_ok": bool(lags) and max(lags) <= 1.0,
                    "planned_stall_over_absence_max_s": round(max(over), 3) if over else None,
                    "planned_stall_ok": bool(over) and max(over) <= 1.0,
                    "crash_stall_max_s": round(max(crash), 3) if crash else None,
                    "crash_stall_ok": bool(crash) and max(crash) < 45.0})
    return out


COLS = [("scen", "scenario"), ("name", "name"), ("agents", "agents"), ("init", "init"), ("#", "repeat"),
        ("result", None), ("stall s", "stall_s"), ("absent s", "address_absent_s"),
        ("reconnect lag s", "reconnect_lag_s"), ("cause", "reconnect_cause"), ("client", "client_view"),
        ("resume s", "resume_lag_s"),
        ("grace s", "grace_s"), ("move/recov s", None), ("stop s", "group_stop_s"), ("start s", "group_start_s"),
        ("CS fence", "cloudstack_would_fence"), ("lost", "lost_writes"), ("lock kept", "lock_kept")]


def _cell(r, h, k):
    if h == "result":
        return "PASS" if r["pass"] else "FAIL"
    if h == "move/recov s":
        return fmt(r.get("move_s", r.get("recovery_s")))
    if k == "stall_s":
        return fmt(r.get("stall_s", r.get("client_stall_s")))
    return fmt(r.get(k))


def print_table(results):
    rows = [[_cell(r, h, k) for h, k in COLS] for r in results]
    w = [max([len(h)] + [len(row[i]) for row in rows]) for i, (h, _) in enumerate(COLS)]
    print("  ".join(h.ljust(w[i]) for i, (h, _) in enumerate(COLS)))
    for row in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(row)))
    for a in aggregate(results):
        print("%s %s (%s, %s): %d runs, %d passed; %s; causes %s" % (
            a["scenario"], a["name"], a["agents"], a["init"], a["runs"], a["passed"],
            ", ".join("%s median %s max %s" % (f, a[f]["median"], a[f]["max"]) for f in FAILOVER_FIGURES if f in a),
            a["reconnect_causes"]))
    for r in results:
        if r.get("scope"):
            print("scenario %s (%s, %s): server owner/scope seen by the client: %s"
                  % (r["scenario"], r["agents"], r.get("init"), r["scope"]))
        if r.get("summary"):
            print("scenario %s (%s, %s): %s" % (r["scenario"], r["agents"], r.get("init"), r["summary"]))
    for r in results:
        if not r["pass"]:
            print("FAIL scenario %s (%s): %s" % (r["scenario"], r["agents"], "; ".join(r["reasons"])[:3000]))


def markdown(doc):
    m = doc["meta"]
    out = ["# nfsha VM lab results", "",
           "Run %s on `%s` (%s CPUs, QEMU %s), suite `%s`, layouts `%s`, total %.0f s, image build %s s, "
           "load average at start %s, at end %s%s." % (
               m["date"], m["host"], m["cpus"], m["accel"].upper(), m["suite"], m["agents"], m["total_s"],
               m["image_build_s"] if m["image_build_s"] else "0 (cached)", m.get("loadavg_start"),
               m.get("loadavg_end"),
               "; infrastructure retries: " + "; ".join(m["infra_retries"]) if m["infra_retries"] else ""),
           "", "Produced by `%s`." % m.get("command", "lab/run"), "",
           "| " + " | ".join(h for h, _ in COLS) + " |", "|" + "---|" * len(COLS)]
    for r in doc["results"]:
        out.append("| " + " | ".join(_cell(r, h, k) for h, k in COLS) + " |")
    agg = doc.get("aggregates") or []
    if agg:
        out += ["", "## Repeated failovers: median / max", "",
                "| scenario | layout | init | runs (pass) | stall s | address absent s | reconnect lag s | "
                "resume s | grace s | move/recovery s | reconnect causes | CloudStack would fence |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for a in agg:
            def mm(f):
                return "%s / %s" % (fmt(a[f]["median"]), fmt(a[f]["max"])) if f in a else "-"
            out.append("| %s %s | %s | %s | %d (%d) | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                a["scenario"], a["name"], a["agents"], a["init"], a["runs"], a["passed"], mm("stall_s"),
                mm("address_absent_s"), mm("reconnect_lag_s"), mm("resume_lag_s"), mm("grace_s"),
                mm("move_s") if "move_s" in a else mm("recovery_s"),
                ", ".join("%s %d" % kv for kv in sorted(a["reconnect_causes"].items())),
                "%d of %d" % (a["cloudstack"]["would_fence"], a["runs"]) if "cloudstack" in a else "-"))
    gl = goals(doc["results"])
    if gl:
        out += ["", "## Issue 12's goals", "",
                "| layout | reconnect lag max s (goal <= 1) | planned stall - absence, max s (goal <= 1) | "
                "crash stall max s (goal < 45) |", "|---|---|---|---|"]
        for g in gl:
            def ok(v, good):
                return "-" if v is None else "%s (%s)" % (fmt(v), "met" if good else "not met")
            out.append("| %s | %s | %s | %s |" % (g["agents"], ok(g["reconnect_lag_max_s"], g["reconnect_lag_ok"]),
                                                  ok(g["planned_stall_over_absence_max_s"], g["planned_stall_ok"]),
                                                  ok(g["crash_stall_max_s"], g["crash_stall_ok"])))
    extra = [r for r in doc["results"] if r.get("scope") or r.get("summary")]
    if extra:
        out += ["", "## Scenario figures", ""]
        for r in extra:
            bits = []
            if r.get("scope"):
                bits.append("server owner/scope in EXCHANGE_ID replies (node:major id/scope, old -> new): `%s`"
                            % r["scope"])
            if r.get("summary"):
                bits.append(r["summary"])
            out.append("- scenario %s %s (%s, %s): %s" % (r["scenario"], r["name"], r["agents"], r.get("init", "-"),
                                                       "; ".join(bits)))
    fails = [r for r in doc["results"] if not r["pass"]]
    if fails:
        out += ["", "## Failures", ""]
        for r in fails:
            out.append("- scenario %s (%s): %s" % (r["scenario"], r["agents"],
                                                  "; ".join(r["reasons"]).replace("\n", " ")[:1500]))
    return "\n".join(out) + "\n"
