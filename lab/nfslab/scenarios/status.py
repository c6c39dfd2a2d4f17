"""Scenario 7: `nfsha status` during a grace period (project issue 14), nfsha layout.

A second client identity D (its own network and UTS namespace on cli1, holding an fcntl
lock) is cut off before a planned move, so the new server's grace period cannot end early
while D is away. `nfsha status --json` is polled on the new server about once a second:

- in grace, its `grace.remaining_s` must agree with the kernel's own clock (the
  nfsd_grace_start tracepoint, lab-ktrace) within 1.5 s plus the poll's own duration;
- `clients.reclaim.reclaimed` must go up when D is let back in (D `pending` -> `reclaimed`),
  reaching `allowed`;
- the kernel then ends grace early ("NFSD: all clients done reclaiming"): status must say
  `ended-early`, with `ended_after_s` equal to the kernel log's own interval (dmesg, within
  0.01 s) and to the tracepoints' (within 0.5 s).

Figures: status's own `elapsed_ms` over the polls (median, max; issue 14's goal < 50 ms,
reported, not a pass criterion: the guests run under emulation), the reclaim counts seen,
and the grace left at each poll against the kernel's."""
import json
import statistics
import time

from .. import client, cluster, probes
from ..common import VIP, log
from ..rows import result

NUMBER = 7
NAME = "nfsha status during grace"
D_IP = "10.77.0.24"
D_HOST = "cli1-s7"

SETUP_D = r"""
set -e
modprobe macvlan
install -m 755 /mnt/lab/guest/lab-locker /usr/local/bin/lab-locker
rm -f /run/s7.log
ip netns add cls7
ip link add mv7 link eth0 type macvlan mode bridge
ip link set mv7 netns cls7
ip -n cls7 addr add %(ip)s/24 dev mv7
ip -n cls7 link set lo up
ip -n cls7 link set mv7 up
setsid ip netns exec cls7 unshare -u /bin/sh -c 'hostname %(host)s; mkdir -p /mnt/nfs7; mount -t nfs -o vers=4.2 %(vip)s:%(exp)s /mnt/nfs7 && exec lab-locker hold /mnt/nfs7/s7-lock /run/s7.log' > /run/s7.err 2>&1 < /dev/null &
i=0
until grep -q '^locked' /run/s7.log 2>/dev/null; do
  i=$((i+1)); [ $i -lt 600 ] || { echo "client D not ready"; cat /run/s7.err /run/s7.log; exit 1; }
  sleep 0.2
done
"""

CLEANUP_D = r"""
pkill -f 'lab-locker hold /mnt/nfs7' || true
ip netns exec cls7 umount -f -l /mnt/nfs7 2>/dev/null || true
ip netns del cls7 2>/dev/null || true
"""

# One poll: the guest's clock around the call, the exit status, then the JSON.
POLL = r"""
t0=$(date +%s.%N); out=$(nfsha status --json 2>/dev/null); rc=$?; t1=$(date +%s.%N)
echo "POLL $t0 $t1 $rc"
printf '%s\n' "$out"
"""


def parse_poll(out):
    """(t0, t1, rc, report) from one POLL's output; report is None when not JSON."""
    head, _, body = out.partition("\n")
    p = head.split()
    if len(p) != 4 or p[0] != "POLL":
        return None
    try:
        rep = json.loads(body)
    except ValueError:
        rep = None
    return float(p[1]), float(p[2]), int(p[3]), rep


def client_state(rep, host):
    """The reclaim state status gives the client whose owner names host."""
    for c in (((rep or {}).get("server") or {}).get("clients") or {}).get("list") or []:
        if host in (c.get("name") or ""):
            return c.get("reclaim")
    return None


def kernel_log_interval(dmesg):
    """Seconds from the last "starting N-second grace period" to the "all clients done
    reclaiming" after it, from `dmesg` lines ("[  123.456789] NFSD: ...")."""
    start = end = None
    for line in dmesg.splitlines():
        if "]" not in line or not line.startswith("["):
            continue
        try:
            t = float(line[1:line.index("]")])
        except ValueError:
            continue
        msg = line[line.index("]") + 1:].strip()
        if msg.startswith("NFSD: starting ") and "grace period" in msg:
            start, end = t, None
        elif msg.startswith("NFSD: all clients done reclaiming") and start is not None:
            end = t
    return None if start is None or end is None else round(end - start, 6)


def judge(polls, trace_start, trace_end, log_interval, grace_time, restored_at):
    """Reasons for a failure (empty: pass) and the figures, from the polls
    [(t0, t1, rc, report)] (guest epoch), the kernel tracepoints' grace start and end
    (guest epoch), the kernel log's start-to-early-end interval, the configured grace and
    when client D was let back in."""
    reasons = []
    fig = {"polls": len(polls)}
    reports = [(t0, t1, rep) for t0, t1, _, rep in polls if rep and rep.get("server")]
    if len(reports) < len(polls):
        reasons.append("%d of %d polls gave no server report" % (len(polls) - len(reports), len(polls)))
    elapsed = [rep["elapsed_ms"] for _, _, rep in reports]
    if elapsed:
        fig["status_elapsed_ms_median"] = statistics.median(elapsed)
        fig["status_elapsed_ms_max"] = max(elapsed)
    if trace_start is None:
        reasons.append("no nfsd_grace_start tracepoint after the move: cannot check the grace left")
        return reasons, fig
    in_grace = [(t0, t1, rep) for t0, t1, rep in reports
                if rep["server"]["grace"].get("state") in ("in-grace", "extended")]
    if len(in_grace) < 3:
        reasons.append("only %d polls saw the grace period (need 3)" % len(in_grace))
    worst = 0.0
    lefts = []
    for t0, t1, rep in in_grace:
        left = rep["server"]["grace"].get("remaining_s")
        if not isinstance(left, (int, float)):
            reasons.append("grace left unknown while in grace: %s" % left)
            continue
        # status read its clock somewhere between t0 and t1
        lo, hi = grace_time - (t1 - trace_start), grace_time - (t0 - trace_start)
        off = 0.0 if lo - 1.5 <= left <= hi + 1.5 else min(abs(left - lo), abs(left - hi))
        worst = max(worst, off)
        lefts.append((round(t0 - trace_start, 2), left))
        if off:
            reasons.append("grace left %.1f s at +%.1f s, the kernel's clock says %.1f-%.1f s"
                           % (left, t0 - trace_start, max(lo, 0), max(hi, 0)))
    fig["grace_left_seen"] = lefts
    fig["grace_left_worst_off_s"] = round(worst, 2)
    counts = [(t0, rep["server"]["clients"].get("reclaim") or {}) for t0, _, rep in reports]
    counts = [(t0, r) for t0, r in counts if isinstance(r, dict) and "reclaimed" in r]
    fig["reclaimed_seen"] = [(round(t0 - trace_start, 2), r["reclaimed"], r["allowed"]) for t0, r in counts
                             if r.get("in_grace")]
    before = [r["reclaimed"] for t0, r in counts if t0 < restored_at and r.get("in_grace")]
    after = [r for t0, r in counts if t0 > restored_at and r.get("in_grace")]
    if not before:
        reasons.append("no reclaim count seen in grace before client D came back")
    elif not any(r["reclaimed"] > max(before) for r in after) and \
            not any(rep["server"]["grace"].get("state") == "ended-early" for t0, _, rep in reports
                    if t0 > restored_at):
        reasons.append("the reclaim count never went up after client D came back (before: %s)" % before)
    d_states = [(t0, client_state(rep, D_HOST)) for t0, _, rep in reports]
    if not any(s == "pending" for t0, s in d_states if t0 < restored_at):
        reasons.append("client D was never shown pending while cut off: %s" % d_states[:5])
    if not any(s in ("reclaimed", "new") for t0, s in d_states if t0 > restored_at) and \
            not any(rep["server"]["grace"].get("state") == "ended-early" for t0, _, rep in reports):
        reasons.append("client D was never shown reclaimed after it came back")
    ended = [rep["server"]["grace"] for _, _, rep in reports
             if rep["server"]["grace"].get("state") == "ended-early"]
    if not ended:
        reasons.append("status never showed the early end of grace")
    else:
        after_s = ended[-1].get("ended_after_s")
        fig["ended_after_s"] = after_s
        fig["kernel_log_interval_s"] = log_interval
        if log_interval is None:
            reasons.append("dmesg has no 'all clients done reclaiming' after the grace start")
        elif after_s is None or abs(after_s - log_interval) > 0.01:
            reasons.append("ended_after_s %s differs from the kernel log's %s s" % (after_s, log_interval))
        if trace_end is not None:
            fig["trace_interval_s"] = round(trace_end - trace_start, 3)
            if after_s is not None and abs(after_s - (trace_end - trace_start)) > 0.5:
                reasons.append("ended_after_s %s differs from the tracepoints' %.3f s"
                               % (after_s, trace_end - trace_start))
    return reasons, fig


def run(ctx):
    lab = ctx.lab
    if ctx.layout.name != "nfsha":
        return [result(ctx, NUMBER, NAME, False, ["scenario 7 is for the nfsha layout only"])]
    src = ctx.current()
    dst = ctx.other(src)
    grace_time = ctx.layout.grace_time()
    lab.must("cli1", SETUP_D % {"ip": D_IP, "host": D_HOST, "vip": VIP, "exp": ctx.layout.export},
             timeout=180, label="client D")
    w = client.start_writer(ctx)
    lab.must("cli1", "ip -n cls7 link set mv7 down", timeout=30, label="cut client D")
    t_ep = lab.guest_time(dst)
    lab.must(src, "crm_resource --move -r %s -N %s" % (cluster.GROUP, dst), timeout=60, label="move")
    took = cluster.wait_group(ctx, dst, 900, "status move")
    lab.must(dst, "crm_resource --clear -r %s" % cluster.GROUP, timeout=60, label="move")
    polls, restored_at = [], None
    t = time.time()
    # Poll while D is away (up to a third of grace), let D back, poll until grace is over.
    while time.time() - t < grace_time * 3 + 120:
        rc, out = lab.run(dst, POLL, timeout=60, label="nfsha status")
        p = parse_poll(out)
        if p:
            polls.append(p)
        rep = p[3] if p else None
        state = (((rep or {}).get("server") or {}).get("grace") or {}).get("state")
        in_grace = [q for q in polls if q[3] and (q[3].get("server") or {}).get("grace", {}).get("state")
                    in ("in-grace", "extended")]
        if restored_at is None and (len(in_grace) >= 4 or (in_grace and in_grace[-1][3]["server"]["grace"]
                                                            .get("remaining_s", 99) < grace_time * 0.6)):
            lab.must("cli1", "ip -n cls7 link set mv7 up", timeout=30, label="restore client D")
            restored_at = lab.guest_time(dst)
        if restored_at is not None and state in ("ended-early", "ended"):
            break
        time.sleep(1)
    client.wait_writer_progress(ctx, w, 20, 240, "status move")
    d = client.stop_writer(ctx, w, dst)
    client.kill_writer(ctx, w)
    rc, trace = lab.run(dst, "cat /run/ktrace.log", timeout=60, label="server trace")
    start, end = probes.grace_from_trace(trace.splitlines(), t_ep)
    rc, dmesg = lab.run(dst, "dmesg", timeout=60, label="dmesg")
    interval = kernel_log_interval(dmesg)
    lab.run("cli1", CLEANUP_D, timeout=60, label="client D cleanup")
    reasons, fig = judge(polls, start, end, interval, grace_time, restored_at or float("inf"))
    reasons += client.judge(d, dst, cluster.group_on(ctx, cluster.status(ctx)))
    fig["move_s"] = round(took, 1)
    log("scenario 7: status elapsed %s ms median, %s ms max; reclaimed seen %s"
        % (fig.get("status_elapsed_ms_median"), fig.get("status_elapsed_ms_max"), fig.get("reclaimed_seen")))
    return [result(ctx, NUMBER, NAME, not reasons, reasons, client_stall_s=d["client_stall_s"],
                   lost_writes=d["lost_writes"], lock_kept=d["lock_kept"], **fig)]
