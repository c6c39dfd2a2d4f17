"""Scenario 4: the server owner and scope the client sees in EXCHANGE_ID replies.
With a fixed scope (nfsha's server_hostname, nfs_server_scope): identical before (old
node) and after (new node) the boot's last planned move, and the lock was kept.
Control (a layout loaded without its fixed scope, a separate boot): a planned move makes
the client see another server, and it loses its state: the lab must see that loss."""
import re
import time

from .. import client, cluster, measure, probes
from ..common import CLIENT_IP, LabError, node_of_mac
from ..rows import result

NUMBER = 4
NAME = "hostname/scope (fixed)"
CONTROL_NAME = "scope control (no fixed scope)"


def scope_view(ctx, t_host, src, dst, client_ip=CLIENT_IP):
    """Server owner/scope the client got from EXCHANGE_ID: the last reply from src
    before t_host and the first from dst after it (host-side capture, lab/nfscap)."""
    rep = [e for e in ctx.capture.exchanges()
           if e.get("kind") == "reply" and e.get("dst_ip") == client_ip and e.get("status") == 0]
    before = [e for e in rep if e["t"] < t_host and node_of_mac(e["src_mac"]) == src]
    after = [e for e in rep if e["t"] >= t_host and node_of_mac(e["src_mac"]) == dst]

    def one(e, node):
        if e is None:
            return None
        return {"node": node, "major_id": e.get("major_id"), "minor_id": e.get("minor_id"),
                "scope": e.get("scope"), "impl": e.get("impl"), "t": e["t"]}
    return {"before": one(before[-1] if before else None, src), "after": one(after[0] if after else None, dst),
            "replies_seen": len(rep)}


def scope_text(sv):
    def one(x):
        return "?" if not x else "%s:%s/%s" % (x["node"], x["major_id"], x["scope"])
    return "%s -> %s" % (one(sv["before"]), one(sv["after"]))


def run(ctx):
    if ctx.layout.no_scope:
        src = ctx.current()
        return [control(ctx, src, ctx.other(src))]
    return [fixed(ctx)]


def fixed(ctx):
    mv = ctx.last_move
    if mv is None:
        raise LabError("scope check", "no planned move ran before scenario 4 in this lab boot")
    want = ctx.layout.scope()
    sv = mv["scope_view"]
    b, a = sv["before"], sv["after"]
    reasons = []
    if not b or not a:
        reasons.append("no EXCHANGE_ID reply captured from the %s node (%d replies seen): %s"
                       % ("old" if not b else "new", sv["replies_seen"], scope_text(sv)))
    else:
        if (b["major_id"], b["minor_id"], b["scope"]) != (a["major_id"], a["minor_id"], a["scope"]):
            reasons.append("server owner/scope differ between the nodes: %s" % scope_text(sv))
        if a["scope"] != want:
            reasons.append("server scope %r is not the fixed %r" % (a["scope"], want))
    if not mv["lock_kept"]:
        reasons.append("the lock was not kept across the move")
    if not mv["pass"]:
        reasons.append("the planned move itself failed: %s" % "; ".join(mv["reasons"])[:500])
    return result(ctx, NUMBER, NAME, not reasons, reasons, scope_view=sv,
                  scope=scope_text(sv), lock_kept=mv["lock_kept"], grace_s=mv["grace_s"],
                  summary="EXCHANGE_ID replies of the last planned move: %s" % scope_text(sv))


def control(ctx, src, dst):
    lab = ctx.lab
    w = client.start_writer(ctx)
    t_ep = lab.guest_time(dst)
    t_host = time.time()
    lab.must(src, "crm_resource --move -r %s -N %s" % (cluster.GROUP, dst), timeout=60, label="move")
    took = cluster.wait_group(ctx, dst, 900, "planned move")
    lab.must(dst, "crm_resource --clear -r %s" % cluster.GROUP, timeout=60, label="move")
    try:
        client.wait_writer_progress(ctx, w, 20, 180, "scope control")
        resumed = True
    except LabError:
        resumed = False
    d = client.stop_writer(ctx, w, dst)
    t_end = time.time()
    ticks, _ = probes.nfsmon(lab, dst)
    grace = probes.grace_seconds(ticks, t_ep)
    client.kill_writer(ctx, w)
    mismatch = [line for line in d["client_dmesg"] if re.search(r"scope mismatch", line, re.I)]
    lost = (not d["lock_kept"]) or bool(d["io_errors"]) or bool(mismatch) or not resumed
    reasons = [] if lost else ["the client kept its state although the server scope changed "
                               "(expected a loss; is the scope really different on the two nodes?)"]
    sv = scope_view(ctx, t_host, src, dst)
    if sv["before"] and sv["after"] and sv["before"]["scope"] == sv["after"]["scope"]:
        reasons.append("the captured server scope did not change (%s): not a control" % scope_text(sv))
        lost = False
    fig = measure.failover(ctx, t_host, t_end, src, dst, d)
    return result(ctx, NUMBER, CONTROL_NAME, lost, reasons, scope_view=sv, scope=scope_text(sv),
                  client_stall_s=d["client_stall_s"], move_s=round(took, 1), grace_s=grace,
                  lost_writes=d["lost_writes"], lock_kept=d["lock_kept"], written=d["written"],
                  io_errors=len(d["io_errors"]), scope_mismatch_logged=bool(mismatch),
                  writes_resumed=resumed, detail=d, **fig)
