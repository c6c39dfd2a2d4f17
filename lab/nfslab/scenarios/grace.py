"""Scenario 3: grace correctness with three NFSv4 clients on cli1 (A the writer; B and C
each in their own network and UTS namespace, so the server sees three client owners).

Phase 1: C (holding a lock) is cut off, then a planned move: the new server's grace
cannot end early and lasts grace_time. A must reclaim its lock during grace; B's NEW
lock (asked during grace) must be granted only when grace has ended; C's lock must not
come back.
Phase 2: a move back with every known client reachable: grace ends early (every client
sent RECLAIM_COMPLETE) and B's lock is reclaimed before it ends.

Order is decided on one clock with enough resolution: the wire (lab/nfscap's kernel
receive timestamps, microseconds) for what the clients did and what the server answered
(a reclaim LOCK's reply precedes the client's RECLAIM_COMPLETE, and grace cannot end
before every client's RECLAIM_COMPLETE; a new LOCK answered NFS4ERR_GRACE is the
server saying it is in grace), and the server's own monitor (0.25 s) only for what the
wire cannot show, with a tie in one tick not read as an order."""
import time

from .. import client, cluster, probes
from ..common import CLIENT_IP, VIP, LabError, log
from ..rows import result
from . import heartbeat, planned_move

NUMBER = 3
NAME = "grace: reclaim vs new lock"
PHASE2_NAME = "grace: early end, all reclaim"
CLIENTS23 = {"b": "10.77.0.22", "c": "10.77.0.23"}
OP_LOCK, OP_RECLAIM_COMPLETE = 12, 58
NFS4ERR_GRACE = 10013

SETUP = r"""
set -e
modprobe macvlan
install -m 755 /mnt/lab/guest/lab-locker /usr/local/bin/lab-locker
rm -f /run/s3.trigger /run/lb.log /run/lc.log
for x in b c; do
  case $x in b) a=%(b)s;; c) a=%(c)s;; esac
  ip netns add cl$x
  ip link add mv$x link eth0 type macvlan mode bridge
  ip link set mv$x netns cl$x
  ip -n cl$x addr add $a/24 dev mv$x
  ip -n cl$x link set lo up
  ip -n cl$x link set mv$x up
done
setsid ip netns exec clc unshare -u /bin/sh -c 'hostname cli1-c; mkdir -p /mnt/nfsc; mount -t nfs -o vers=4.2 %(vip)s:%(exp)s /mnt/nfsc && exec lab-locker hold /mnt/nfsc/s3-lockc /run/lc.log' > /run/lc.err 2>&1 < /dev/null &
setsid ip netns exec clb unshare -u /bin/sh -c 'hostname cli1-b; mkdir -p /mnt/nfsb; mount -t nfs -o vers=4.2 %(vip)s:%(exp)s /mnt/nfsb && exec lab-locker later /mnt/nfsb/s3-lockb /run/s3.trigger /run/lb.log' > /run/lb.err 2>&1 < /dev/null &
i=0
until grep -q '^locked' /run/lc.log 2>/dev/null && grep -q '^opened' /run/lb.log 2>/dev/null; do
  i=$((i+1)); [ $i -lt 600 ] || { echo "clients B/C not ready"; cat /run/lb.err /run/lc.err /run/lb.log /run/lc.log; exit 1; }
  sleep 0.2
done
cat /run/lb.log /run/lc.log
"""


def setup_clients23(ctx):
    """Clients B and C on cli1 (see the module doc). C takes a lock on s3-lockc and holds
    it; B opens s3-lockb and waits for /run/s3.trigger, then asks for a NEW lock on it."""
    ctx.lab.must("cli1", SETUP % {"b": CLIENTS23["b"], "c": CLIENTS23["c"], "vip": VIP, "exp": ctx.layout.export},
                 timeout=180, label="clients B and C")


def lock_replies(events, client_ip, t0, reclaim):
    """Replies to client_ip's LOCK calls (reclaim or not) after t0: [(t, status)]."""
    return [(e["t"], e.get("status")) for e in events
            if e.get("kind") == "rpc" and e["dir"] == "reply" and e["dst"] == client_ip and e["src"] == VIP
            and e["t"] >= t0 and OP_LOCK in (e.get("ops") or []) and e.get("reclaim") is reclaim]


def reclaim_complete_calls(events, client_ip, t0):
    return [e["t"] for e in events if e.get("kind") == "rpc" and e["dir"] == "call" and e["src"] == client_ip
            and e["t"] >= t0 and OP_RECLAIM_COMPLETE in (e.get("ops") or [])]


def run(ctx):
    if ctx.hb_running:
        heartbeat.stop(ctx)   # the full grace period on purpose blocks file creation: no test of the heartbeat
    src = ctx.current()
    dst = ctx.other(src)
    lab = ctx.lab
    grace_time = ctx.layout.grace_time()
    export = ctx.layout.export
    setup_clients23(ctx)
    w = client.start_writer(ctx)
    # C never reclaims: cut its link (inside cli1) before the failover
    lab.must("cli1", "ip -n clc link set mvc down", timeout=30, label="cut client C")
    t_ep = lab.guest_time(dst)
    t_host = time.time()
    lab.must(src, "crm_resource --move -r %s -N %s" % (cluster.GROUP, dst), timeout=60, label="move")
    took = cluster.wait_group(ctx, dst, 900, "grace move")
    lab.must(dst, "crm_resource --clear -r %s" % cluster.GROUP, timeout=60, label="move")
    # trigger B's new lock once the new server is in grace
    t = time.time()
    while True:
        ticks, _ = probes.nfsmon(lab, dst)
        start, end = probes.grace_window(ticks, t_ep)
        if start is not None:
            break
        if time.time() - t > 60:
            raise LabError("grace", "no nfsd start with grace N seen on %s after the move" % dst)
        time.sleep(1)
    in_grace_at_trigger = end is None
    lab.must("cli1", "touch /run/s3.trigger", timeout=30, label="trigger B")
    # clock offset server - client (each read through the command channel, host-timed)
    h0 = time.time(); gc = lab.guest_time("cli1"); h1 = time.time(); gs = lab.guest_time(dst); h2 = time.time()
    offset = (gs - (h1 + h2) / 2) - (gc - (h0 + h1) / 2)
    log("scenario 3: B asked for a new lock (grace %s on %s)" % ("running" if in_grace_at_trigger else "OVER", dst))
    t = time.time()
    blog = ""
    while time.time() - t < grace_time + 150:
        blog = lab.must("cli1", "cat /run/lb.log", timeout=30, label="B lock")
        if "granted" in blog or "error" in blog:
            break
        time.sleep(3)
    ev = {line.split()[0]: float(line.split()[1]) for line in blog.splitlines() if len(line.split()) >= 2}
    client.wait_writer_progress(ctx, w, 20, 240, "grace move")
    d = client.stop_writer(ctx, w, dst)
    keys = probes.lock_keys(lab, dst, export, ["lock%d" % ctx.writer_no, "s3-lockb", "s3-lockc"])
    ticks, locks = probes.nfsmon(lab, dst)
    start, end = probes.grace_window(ticks, t_ep)

    def first(key):
        for tt, op, k in locks:
            if tt >= (start or t_ep) and op == "+" and k == key:
                return tt
        return None
    t_a, t_b, t_c = first(keys.get("lock%d" % ctx.writer_no)), first(keys.get("s3-lockb")), first(keys.get("s3-lockc"))
    b_req = ev["request"] + offset if "request" in ev else None   # on the server's clock
    rel = (lambda x: None if x is None or start is None else round(x - start, 2))
    grace = rel(end)
    wire = ctx.capture.between(t_host, time.time())
    a_reclaims = [x for x in lock_replies(wire, CLIENT_IP, t_host, True) if x[1] == 0]
    b_new = lock_replies(wire, CLIENTS23["b"], t_host, False)
    b_grace_errors = len([x for x in b_new if x[1] == NFS4ERR_GRACE])
    owners = sorted({e.get("owner") for e in ctx.capture.exchanges() if e.get("kind") == "call"})
    reasons = client.judge(d, dst, cluster.group_on(ctx, cluster.status(ctx)))
    if start is None or end is None:
        reasons.append("grace period on %s not seen to start and end (start %s, end %s)" % (dst, start, end))
    else:
        if grace < grace_time - 10:
            reasons.append("grace ended after %.1f s although client C (cut off) never reclaimed; expected "
                           "the full %d s" % (grace, grace_time))
        if t_a is None or not (start <= t_a < end):
            reasons.append("client A's lock was not reclaimed during grace (seen at %s s, grace end %s s)"
                           % (rel(t_a), grace))
        if not a_reclaims:
            reasons.append("no successful reclaim LOCK from client A on the wire")
        if t_b is None:
            reasons.append("client B's new lock never appeared on %s (B log: %s)" % (dst, blog.strip()[-300:]))
        elif t_b < end:
            reasons.append("client B's NEW lock was granted during grace (at %.2f s, grace end %.2f s)"
                           % (rel(t_b), grace))
        if not in_grace_at_trigger or b_req is None or b_req >= end - 1:
            reasons.append("B's lock request was not made during grace (request at %s s, grace end %s s)"
                           % (rel(b_req), grace))
        if t_c is not None:
            reasons.append("client C's lock appeared on %s although C was cut off" % dst)
    if "granted" not in ev:
        reasons.append("client B's lock call did not succeed: %s" % blog.strip()[-300:])
    if len([o for o in owners if o]) < 3:
        reasons.append("expected 3 distinct NFSv4 client owners in EXCHANGE_ID calls, saw %s" % owners)
    b_wait = round(ev["granted"] - ev["request"], 1) if "granted" in ev and "request" in ev else None
    summary = ("grace %s s (full %d s: C cut off); A's lock reclaimed at +%s s; B's new lock asked at "
               "+%s s, answered NFS4ERR_GRACE %d times on the wire, granted at +%s s (waited %s s); C's lock %s" % (
                   grace, grace_time, rel(t_a), rel(b_req), b_grace_errors, rel(t_b), b_wait,
                   "not reclaimed" if t_c is None else "REAPPEARED"))
    r1 = result(ctx, NUMBER, NAME, not reasons, reasons, client_stall_s=d["client_stall_s"],
                grace_s=grace, move_s=round(took, 1), lost_writes=d["lost_writes"],
                lock_kept=d["lock_kept"], written=d["written"], io_errors=len(d["io_errors"]),
                a_reclaim_s=rel(t_a), b_request_s=rel(b_req), b_granted_s=rel(t_b),
                b_grace_errors=b_grace_errors, clock_offset_s=round(offset, 2),
                b_wait_client_s=b_wait, c_lock_reclaimed=t_c is not None, client_owners=owners,
                summary=summary, detail=d)
    client.kill_writer(ctx, w)
    # phase 2: every known client (A with a new writer, B holding its lock) can reclaim
    key_b = keys.get("s3-lockb")
    t_ep2 = lab.guest_time(src)
    t_host2 = time.time()
    r2 = planned_move.planned_move(ctx, dst, src, scenario=NUMBER, name=PHASE2_NAME)
    r2["repeat"] = r1.get("repeat")
    ticks, locks = probes.nfsmon(lab, src)
    start2, end2 = probes.grace_window(ticks, t_ep2)
    tb2 = next((tt for tt, op, k in locks if tt >= (start2 or t_ep2) and op == "+" and k == key_b), None)
    wire = ctx.capture.between(t_host2, time.time())
    b_lock = [x for x in lock_replies(wire, CLIENTS23["b"], t_host2, True) if x[1] == 0]
    b_rc = reclaim_complete_calls(wire, CLIENTS23["b"], t_host2)
    a_rc = reclaim_complete_calls(wire, CLIENT_IP, t_host2)
    if r2["grace_s"] is None or r2["grace_s"] >= grace_time - 10:
        r2["reasons"].append("grace did not end early (%s s of %d s) although every known client was "
                             "reachable" % (r2["grace_s"], grace_time))
    # B's reclaim before the end of grace, on the wire: its reclaim LOCK was answered before
    # B sent RECLAIM_COMPLETE, without which the server cannot end grace early
    if not b_lock:
        r2["reasons"].append("no successful reclaim LOCK from client B on the wire after the move")
    elif not b_rc:
        r2["reasons"].append("client B sent no RECLAIM_COMPLETE after the move (wire)")
    elif not b_lock[0][0] < b_rc[0]:
        r2["reasons"].append("client B's RECLAIM_COMPLETE (%.3f) came before its reclaim LOCK was answered (%.3f)"
                             % (b_rc[0], b_lock[0][0]))
    # and the server's own view: B's lock in /proc/locks no later than the grace end tick
    if tb2 is None or end2 is None or tb2 > end2:
        r2["reasons"].append("client B's lock was not in %s's lock table by the end of grace (lock at %s, end %s)"
                             % (src, tb2, end2))
    r2["pass"] = not r2["reasons"]
    r2["b_reclaim_wire"] = {"lock_reply_t": b_lock[0][0] if b_lock else None,
                            "b_reclaim_complete_t": b_rc[0] if b_rc else None,
                            "a_reclaim_complete_t": a_rc[0] if a_rc else None}
    gap = (round(b_rc[0] - b_lock[0][0], 3) if b_lock and b_rc else None)
    r2["summary"] = ("grace %s s of %d s (RECLAIM_COMPLETE from A and B); B's lock reclaimed at +%s s on the "
                     "server's clock, its reclaim LOCK answered %s s before B's RECLAIM_COMPLETE on the wire" % (
                         r2["grace_s"], grace_time,
                         None if tb2 is None or start2 is None else round(tb2 - start2, 2), gap))
    log("%s scenario 3 phase 2: %s%s" % ("PASS" if r2["pass"] else "FAIL", r2["summary"],
                                        "" if r2["pass"] else ": " + "; ".join(r2["reasons"])))
    return [r1, r2]
