"""CloudStack's stock KVM heartbeat (KVMHAMonitor + kvmheartbeat.sh) against a failover:
what the simulated hosts on the client VM did (lab/guest/lab-cshb), and what the stock
timing would do at the worst point of its cycle for an outage of a given length."""

FREQ_S, TRIES, TIMEOUT_S, RETRY_SLEEP_S = 60.0, 5, 60.0, 10.0


def worst_phase(outage_s):
    """For an outage during which every write hangs (a hard NFS mount) for outage_s
    seconds: would some try exceed the 60 s timeout, and would 5 tries in a row fail
    (the agent then reboots the host)? A try fails only by timing out; the next starts
    10 s later, so 5 failures need the writes to hang for 4 * (60 + 10) + 60 = 340 s."""
    if outage_s is None:
        return {"timeout": None, "fence": None}
    need = (TRIES - 1) * (TIMEOUT_S + RETRY_SLEEP_S) + TIMEOUT_S
    return {"timeout": outage_s > TIMEOUT_S, "fence": outage_s > need, "fence_needs_s": need}


def summarize(lines, t0, t1):
    """The simulated hosts' tries that started in [t0, t1] (host clock), and fence events.
    lines: parsed JSON lines of lab-cshb's log, times already on the host clock."""
    tries = [x for x in lines if "try" in x and t0 <= x["t"] <= t1]
    fences = [x for x in lines if x.get("fence") and t0 <= x["t"] <= t1]
    failed = [x for x in tries if not x["ok"]]
    return {
        "hosts": len({x["host"] for x in lines if "host" in x}),
        "tries": len(tries),
        "failed_tries": len(failed),
        "timeouts": len([x for x in failed if x.get("err") == "timeout"]),
        "errors": sorted({x.get("err") for x in failed if x.get("err") and x.get("err") != "timeout"}),
        "max_try_s": round(max([x["dur"] for x in tries] + [0.0]), 1),
        "max_consecutive_failures": _max_consecutive(lines, t0, t1),
        "would_fence": bool(fences),
    }


def _max_consecutive(lines, t0, t1):
    best = 0
    per = {}
    for x in sorted((x for x in lines if "try" in x), key=lambda x: x["t"]):
        run = per.get(x["host"], 0)
        run = 0 if x["ok"] else run + 1
        per[x["host"]] = run
        if t0 <= x["t"] <= t1:
            best = max(best, run)
    return best
