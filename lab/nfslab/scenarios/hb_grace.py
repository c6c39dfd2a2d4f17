"""Scenario 9: nfsha's KVM-host heartbeat (on cli1, the "KVM host") kept running through a
server failover with a FULL grace period (project issue 11).

A second NFS client identity on cli1 (client D, its own network and UTS namespace, like
scenario 3's C) takes a lock and is then cut off, so the new server cannot end its grace
period early: grace lasts grace_time (90 s). The heartbeat runs with fence_after below
move + grace (log-only, so a wrong decision is recorded, never acted on), then a planned
move. Its lease area is one file kept open and rewritten in place: once cli1's NFS client
has reclaimed its open after the failover, renewals need no new state and go on although
the server is still in grace.

Pass: 0 fence decisions; the first good renewal after the failover comes before the end
of the grace period (renewals failed only until the client's reclaim, not until grace
ended); fence_after really was below this run's move + grace (else the run proves
nothing and fails saying so). Times are put on the host's clock: cli1's CLOCK_BOOTTIME
(the heartbeat's clock) and the servers' wall clocks through bracketed reads, the wire
(cli1's RECLAIM_COMPLETE) from lab/nfscap's kernel timestamps."""
import json
import time

from .. import cluster, probes
from ..common import CLIENT_IP, VIP, LabError, log
from ..rows import result
from . import heartbeat

NUMBER = 9
NAME = "heartbeat through a full grace"
NEEDS_BOTH_SERVERS = True
CLIENT_D = "10.77.0.24"
OP_RECLAIM_COMPLETE = 58
HB = {"interval": 5, "io_timeout": 10, "fence_after": 140, "action": "log-only"}

HB_CONF = """host_id = "cli1"
interval = "%(interval)ds"
io_timeout = "%(io_timeout)ds"
fence_action = "%(action)s"
fence_after = "%(fence_after)ds"
run_dir = "/run/nfsha"
watch_peers = false

[[storage]]
name = "nfs"
mount = "/mnt/nfs"
"""

# Starts the daemon with its log in LOG (and lab-hbmon's view of the status file in MON),
# waits until a renewal has succeeded. %(conf)s %(log)s %(mon)s %(pid)s
START = r"""
set -e
if [ -f /mnt/lab/bin/nfsha.deb ]; then dpkg -i /mnt/lab/bin/nfsha.deb > /tmp/nfsha-install.out 2>&1 || { cat /tmp/nfsha-install.out; exit 1; }
else install -m 755 /mnt/lab/bin/nfsha /usr/sbin/nfsha; fi
install -m 755 /mnt/lab/guest/lab-hbmon /usr/local/bin/lab-hbmon
mkdir -p /etc/nfsha; cp %(conf)s /etc/nfsha/heartbeat.toml
rm -f /run/nfsha/heartbeat-status.json
nfsha heartbeat validate
nfsha heartbeat timeline
setsid nfsha heartbeat run --log-stderr >> %(log)s 2>&1 < /dev/null &
echo $! > %(pid)s
setsid lab-hbmon /run/nfsha/heartbeat-status.json %(mon)s > /dev/null 2>&1 < /dev/null &
echo $! > %(pid)s.mon
i=0; until grep -q '"storage": "ok"' %(mon)s 2>/dev/null; do i=$((i+1)); [ $i -lt 300 ] || { cat %(log)s; exit 1; }; sleep 0.2; done
"""

STOP = r"""
for p in $(cat %(pid)s.mon) $(cat %(pid)s); do kill $p 2>/dev/null || true; done
i=0; while kill -0 $(cat %(pid)s) 2>/dev/null; do i=$((i+1)); [ $i -lt 150 ] || exit 1; sleep 0.2; done
"""

SETUP_D = r"""
set -e
modprobe macvlan
install -m 755 /mnt/lab/guest/lab-locker /usr/local/bin/lab-locker
rm -f /run/ld.log
ip netns add hbd
ip link add mvhbd link eth0 type macvlan mode bridge
ip link set mvhbd netns hbd
ip -n hbd addr add %(d)s/24 dev mvhbd
ip -n hbd link set lo up
ip -n hbd link set mvhbd up
setsid ip netns exec hbd unshare -u /bin/sh -c 'hostname cli1-d; mkdir -p /mnt/nfsd; mount -t nfs -o vers=4.2 %(vip)s:%(exp)s /mnt/nfsd && exec lab-locker hold /mnt/nfsd/s9-lockd /run/ld.log' > /run/ld.err 2>&1 < /dev/null &
i=0
until grep -q '^locked' /run/ld.log 2>/dev/null; do
  i=$((i+1)); [ $i -lt 600 ] || { echo "client D not ready"; cat /run/ld.err /run/ld.log; exit 1; }
  sleep 0.2
done
"""

CLEANUP_D = r"""
pkill -f 'lab-locker hold /mnt/nfsd/s9-lockd' || true
ip netns del hbd 2>/dev/null || true
true
"""


def start_daemon(ctx, name, conf_text, log_path, mon_path, pid_path):
    conf = ctx.lab.put_file(name, conf_text)
    return ctx.lab.must("cli1", START % {"conf": conf, "log": log_path, "mon": mon_path, "pid": pid_path},
                        timeout=240, label="heartbeat start")


def stop_daemon(ctx, pid_path):
    ctx.lab.must("cli1", STOP % {"pid": pid_path}, timeout=60, label="heartbeat stop")


def guest_offset(lab, node):
    """(guest wall clock - host clock, uncertainty) from one bracketed read."""
    h0 = time.time()
    g = lab.guest_time(node)
    h1 = time.time()
    return g - (h0 + h1) / 2, (h1 - h0) / 2


def boot_epoch_on_host(lab, node):
    """The host time at which node's CLOCK_BOOTTIME was 0 (and the uncertainty)."""
    h0 = time.time()
    out = lab.must(node, "cat /proc/uptime", timeout=30, label="uptime")
    h1 = time.time()
    return (h0 + h1) / 2 - float(out.split()[0]), (h1 - h0) / 2


def status(lab):
    out = lab.must("cli1", "cat /run/nfsha/heartbeat-status.json", timeout=30, label="heartbeat status")
    return json.loads(out[out.index("{"):out.rindex("}") + 1])


def outage(history, since_ms):
    """From the status history (oldest first): the first failed attempt at or after
    since_ms, the last failed one, and the first good one after that; boottime ms."""
    history = sorted(history, key=lambda h: h["at_ms"])
    fails = [h for h in history if h["at_ms"] >= since_ms and h["result"] != "ok"]
    if not fails:
        return None, None, None
    last_fail = fails[-1]["at_ms"]
    ok = next((h["at_ms"] for h in history if h["at_ms"] > last_fail and h["result"] == "ok"), None)
    return fails[0]["at_ms"], last_fail, ok


def run(ctx):
    lab = ctx.lab
    if ctx.hb_running:
        heartbeat.stop(ctx)
    fa = HB["fence_after"]
    src = ctx.current()
    dst = ctx.other(src)
    grace_time = ctx.layout.grace_time()
    log_path, mon_path, pid_path = "/run/hb9.log", "/run/hbmon9.log", "/run/hb9.pid"
    validate = start_daemon(ctx, "heartbeat-s9.toml", HB_CONF % HB, log_path, mon_path, pid_path)
    log("scenario 9: heartbeat on cli1 (%s); client D takes a lock, then is cut off" % HB)
    reasons, fig = [], {}
    try:
        lab.must("cli1", SETUP_D % {"d": CLIENT_D, "vip": VIP, "exp": ctx.layout.export},
                 timeout=180, label="client D")
        time.sleep(2 * HB["interval"])  # a few good renewals before the move
        lab.must("cli1", "ip -n hbd link set mvhbd down", timeout=30, label="cut client D")
        boot0, boot_err = boot_epoch_on_host(lab, "cli1")
        off_dst, off_err = guest_offset(lab, dst)
        t_ep = lab.guest_time(dst)
        t_host = time.time()
        since_ms = int((t_host - boot0) * 1000)
        lab.must(src, "crm_resource --move -r %s -N %s" % (cluster.GROUP, dst), timeout=60, label="move")
        took = cluster.wait_group(ctx, dst, 900, "heartbeat grace move")
        lab.must(dst, "crm_resource --clear -r %s" % cluster.GROUP, timeout=60, label="move")
        t = time.time()
        start = end = None
        while time.time() - t < grace_time + 240:
            ticks, _ = probes.nfsmon(lab, dst)
            start, end = probes.grace_window(ticks, t_ep)
            if end is not None:
                break
            time.sleep(3)
        if start is None or end is None:
            raise LabError("heartbeat grace", "grace period on %s not seen to start and end (start %s, end %s)"
                           % (dst, start, end))
        time.sleep(2 * HB["interval"] + HB["io_timeout"])  # renewals after the end, for the record
        st = status(lab)
        out = lab.must("cli1", "grep -c 'FENCE DECISION' %s || true; cat %s" % (log_path, mon_path),
                       timeout=30, label="heartbeat log")
    finally:
        lab.run("cli1", CLEANUP_D, timeout=60, label="client D cleanup")
    decisions = int(out.splitlines()[0] or 0)
    mon = [json.loads(x) for x in out.splitlines()[1:] if x.startswith("{")]
    fenced = [x for x in mon if x.get("fence") not in (None, "healthy")]
    s = st["storages"][0]
    first_fail, last_fail, first_ok = outage(s.get("history") or [], since_ms)
    host = (lambda ms: None if ms is None else boot0 + ms / 1000.0)
    g_start, g_end = start - off_dst, end - off_dst          # on the host's clock
    wire = ctx.capture.between(t_host, time.time())
    rc = [e["t"] for e in wire if e.get("kind") == "rpc" and e["dir"] == "call" and e["src"] == CLIENT_IP
          and OP_RECLAIM_COMPLETE in (e.get("ops") or [])]
    rel = (lambda x: None if x is None else round(x - g_start, 1))   # seconds after nfsd started
    fig.update({
        "fence_after_s": fa, "move_s": round(took, 1), "grace_s": round(end - start, 1),
        "move_plus_grace_s": round(took + (end - start), 1),
        # how long renewals would have failed had they waited for the end of grace
        "outage_to_grace_end_s": (None if first_fail is None
                                  else round(g_end - host(first_fail) + HB["interval"], 1)),
        "decisions": decisions + len(fenced),
        "first_failed_renewal_s": rel(host(first_fail)), "last_failed_renewal_s": rel(host(last_fail)),
        "first_good_renewal_s": rel(host(first_ok)), "grace_end_s": rel(g_end),
        "cli1_reclaim_complete_s": rel(rc[0]) if rc else None,
        "longest_failing_s": round(max([x.get("failing_ms") or 0 for x in mon] + [0]) / 1000.0, 1),
        "renewals": s.get("totals"), "clock_uncertainty_s": round(boot_err + off_err, 2),
        "validate": validate.strip().splitlines()[-12:],
    })
    if decisions or fenced:
        reasons.append("%d fence decisions (log %d, status %s)" % (decisions + len(fenced), decisions,
                                                                   [x.get("reason") for x in fenced][:3]))
    if fig["outage_to_grace_end_s"] is not None and not fa < fig["outage_to_grace_end_s"]:
        reasons.append("fence_after %d s is not below the %s s renewals would have failed for had they waited "
                       "for the end of grace: the run proves nothing" % (fa, fig["outage_to_grace_end_s"]))
    if fig["grace_s"] < grace_time - 10:
        reasons.append("grace ended after %s s although client D was cut off; expected the full %d s"
                       % (fig["grace_s"], grace_time))
    if first_fail is None:
        reasons.append("no failed renewal seen around the move: the failover did not reach the heartbeat")
    elif first_ok is None:
        reasons.append("no good renewal after the failover (history: %s)"
                       % json.dumps((s.get("history") or [])[-8:]))
    elif not host(first_ok) < g_end:
        reasons.append("renewals came back only %.1f s after nfsd started, at or after the end of grace (%.1f s): "
                       "they waited for the grace period" % (rel(host(first_ok)), rel(g_end)))
    summary = ("fence_after %d s (log-only); move %s s + grace %s s; renewals waiting for the end of grace "
               "would have failed for %s s; %d fence decisions; renewals failed "
               "from +%s to +%s s after nfsd started, good again at +%s s (cli1's RECLAIM_COMPLETE at +%s s, "
               "grace ended at +%s s); longest failing %s s" % (
                   fa, fig["move_s"], fig["grace_s"], fig["outage_to_grace_end_s"], fig["decisions"], fig["first_failed_renewal_s"],
                   fig["last_failed_renewal_s"], fig["first_good_renewal_s"], fig["cli1_reclaim_complete_s"],
                   fig["grace_end_s"], fig["longest_failing_s"]))
    try:
        stop_daemon(ctx, pid_path)
    except LabError as e:
        reasons.append("heartbeat did not stop: %s" % e)
    return [result(ctx, NUMBER, NAME, not reasons, reasons, summary=summary, **fig)]
