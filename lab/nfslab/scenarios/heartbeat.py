"""Scenario 6: nfsha's KVM-host heartbeat on the client VM (the "KVM host"), log-only,
running from the lab's start through the failovers of this boot (stopped for scenario 3,
whose full grace period blocks file creation on purpose). Pass: no fence decision during
those failovers, and after cli1's network is cut on the host side (its tap detached from
the bridge) the decision comes at fence_after after the start of the last good renewal
(within 2 s), and is withdrawn once the network is back."""
import json
import os
import time

from ..common import LabError, log
from ..rows import result

NUMBER = 6
NAME = "KVM-host heartbeat"
NEEDS_BOTH_SERVERS = True
HB_CONF = """host_id = "cli1"
interval = "%(interval)ds"
io_timeout = "%(io_timeout)ds"
fence_action = "log-only"
fence_after = "%(fence_after)ds"
run_dir = "/run/nfsha"
watch_peers = false

[[storage]]
name = "nfs"
mount = "/mnt/nfs"
"""
HB = {"interval": 5, "io_timeout": 10, "fence_after": 150}

START = r"""
set -e
if [ -f /mnt/lab/bin/nfsha.deb ]; then dpkg -i /mnt/lab/bin/nfsha.deb > /tmp/nfsha-install.out 2>&1 || { cat /tmp/nfsha-install.out; exit 1; }
else install -m 755 /mnt/lab/bin/nfsha /usr/sbin/nfsha; fi
install -m 755 /mnt/lab/guest/lab-hbmon /usr/local/bin/lab-hbmon
mkdir -p /etc/nfsha; cp %s /etc/nfsha/heartbeat.toml
nfsha heartbeat validate
nfsha heartbeat timeline
setsid nfsha heartbeat run --log-stderr >> /run/hb.log 2>&1 < /dev/null &
echo $! > /run/hb.pid
pgrep -f lab-hbmon >/dev/null || { setsid lab-hbmon /run/nfsha/heartbeat-status.json /run/hbmon.log > /dev/null 2>&1 < /dev/null & }
i=0; until grep -q '"storage": "ok"' /run/hbmon.log 2>/dev/null; do i=$((i+1)); [ $i -lt 300 ] || { cat /run/hb.log; exit 1; }; sleep 0.2; done
"""


def prepare(ctx):
    start(ctx)


def start(ctx):
    share_bin = os.path.join(ctx.lab.share, "bin")
    if not (os.path.exists(os.path.join(share_bin, "nfsha.deb")) or os.path.exists(os.path.join(share_bin, "nfsha"))):
        raise LabError("heartbeat", "no nfsha package or binary in the lab (the nfsha layout installs it)")
    conf = ctx.lab.put_file("heartbeat.toml", HB_CONF % HB)
    ctx.lab.must("cli1", START % conf, timeout=180, label="heartbeat start")
    ctx.hb_running = True
    log("nfsha heartbeat running on cli1 (%s)" % HB)


def stop(ctx):
    ctx.lab.must("cli1", "kill $(cat /run/hb.pid); i=0; while kill -0 $(cat /run/hb.pid) 2>/dev/null; do "
                         "i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.2; done", timeout=60, label="heartbeat stop")
    ctx.hb_running = False


def status(ctx):
    rc, out = ctx.lab.run("cli1", "cat /run/nfsha/heartbeat-status.json; echo; cat /proc/uptime",
                          timeout=30, label="heartbeat status")
    try:
        st = json.loads(out[:out.rindex("}") + 1])
    except ValueError:
        return None, None
    return st, float(out.split()[-2])


def run(ctx):
    lab = ctx.lab
    fa = HB["fence_after"]
    out = lab.must("cli1", "cat /run/hbmon.log; grep -c 'FENCE DECISION' /run/hb.log || true",
                   timeout=30, label="heartbeat log")
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    per = {}
    for label, t0, t1 in ctx.windows:
        inwin = [x for x in lines if t0 <= x["t"] <= t1]
        per[label] = {"decisions": len([x for x in inwin if x.get("fence") not in (None, "healthy")]),
                      "max_failing_s": round(max([x.get("failing_ms") or 0 for x in inwin] + [0]) / 1000.0, 1)}
    decisions_before = int(out.strip().splitlines()[-1] or 0)
    if not ctx.hb_running:
        start(ctx)
    st, _ = status(ctx)
    if not st or st["fence"]["state"] != "healthy" or st["storages"][0]["state"] != "ok":
        raise LabError("heartbeat", "heartbeat not healthy before the cut: %s" % json.dumps(st)[:1500])
    rc, out = lab.run("cli1", "cat /proc/uptime", timeout=30, label="uptime")
    up_cut = float(out.split()[0])
    lab.set_client_link(False)
    t_cut = time.time()
    log("scenario 6: cli1's network cut (tap detached from the bridge); fence_after %d s" % fa)
    dec = None
    try:
        while time.time() - t_cut < fa + 120:
            st, up = status(ctx)
            if st and st["fence"]["state"] != "healthy" and st["fence"].get("decided_ms"):
                dec = st
                break
            time.sleep(5)
    finally:
        lab.set_client_link(True)
    t_restore = time.time()
    log("scenario 6: network restored after %.0f s" % (t_restore - t_cut))
    reasons = []
    fig = {}
    for label, v in per.items():
        if v["decisions"]:
            reasons.append("fence decision during scenario %s (heartbeat outage %s s)" % (label, v["max_failing_s"]))
    if decisions_before:
        reasons.append("%d FENCE DECISION lines in the heartbeat log before the cut" % decisions_before)
    if dec is None:
        reasons.append("no fence decision within fence_after + 120 s of cutting the network")
    else:
        decided = dec["fence"]["decided_ms"] / 1000.0
        last_ok = (dec["storages"][0].get("last_success_ms") or 0) / 1000.0
        fig["decision_after_cut_s"] = round(decided - up_cut, 1)
        fig["decision_after_last_renewal_s"] = round(decided - last_ok, 1)
        fig["fence_state"] = dec["fence"]["state"]
        fig["fence_reason"] = dec["fence"].get("reason")
        if not (fa <= fig["decision_after_last_renewal_s"] <= fa + 2):
            reasons.append("decision %.1f s after the start of the last good renewal, configured fence_after %d s"
                           % (fig["decision_after_last_renewal_s"], fa))
        if not (fa - HB["interval"] - 1 <= fig["decision_after_cut_s"] <= fa + 2):
            reasons.append("decision %.1f s after the cut, expected fence_after %d s minus at most one "
                           "interval" % (fig["decision_after_cut_s"], fa))
        if dec["fence"]["state"] != "not-fenced":
            reasons.append("fence state %r, expected 'not-fenced' for fence_action log-only" % dec["fence"]["state"])
    rec = None
    while time.time() - t_restore < 300:
        st, _ = status(ctx)
        if st and st["fence"]["state"] == "healthy" and st["storages"][0]["state"] == "ok":
            rec = time.time() - t_restore
            break
        time.sleep(5)
    fig["healthy_again_s"] = None if rec is None else round(rec, 1)
    if rec is None:
        reasons.append("heartbeat not healthy again (decision not withdrawn) within 300 s of restoring "
                       "the network: %s" % json.dumps(st)[:800])
    out = lab.must("cli1", "grep -E 'FENCE DECISION|withdrawn' /run/hb.log | tail -5", timeout=30, label="heartbeat log")
    fig["log"] = out.strip().splitlines()
    summary = ("fence_after %d s, interval %d s, io_timeout %d s, log-only; %s; cut: decision %s s after the cut, "
               "%s s after the last good renewal started; healthy again %s s after restore" % (
                   fa, HB["interval"], HB["io_timeout"],
                   ", ".join("scenario %s: %d decisions, longest outage %s s" % (k, v["decisions"], v["max_failing_s"])
                             for k, v in per.items()),
                   fig.get("decision_after_cut_s"), fig.get("decision_after_last_renewal_s"), fig["healthy_again_s"]))
    return [result(ctx, NUMBER, NAME, not reasons, reasons, watched=per, fence_after_s=fa, summary=summary, **fig)]
