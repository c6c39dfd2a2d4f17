"""Scenario 1: planned move of the group to the other server (crm_resource --move, then
--clear) while the client writes and holds a lock. Pass: nothing lost or reordered, no
I/O error, the lock reclaimed on the new server, no fencing, no failed operation.
Figures: the client's stall, the move, grace, and the failover's attribution."""
import time

from .. import client, cluster, measure, probes
from ..layouts.nfsha import statd_view
from ..rows import result
from . import scope

NUMBER = 1
NAME = "planned move"
HEARTBEAT_WATCHES = True


def run(ctx):
    src = ctx.current()
    return [planned_move(ctx, src, ctx.other(src))]


def planned_move(ctx, src, dst, scenario=NUMBER, name=NAME):
    lab = ctx.lab
    w = client.start_writer(ctx)
    t_ep = lab.guest_time(dst)
    fences_before = len(lab.fence_log)
    t = time.time()
    lab.must(src, "crm_resource --move -r %s -N %s" % (cluster.GROUP, dst), timeout=60, label="move")
    took = cluster.wait_group(ctx, dst, 900, "planned move")
    fenced = lab.fence_log[fences_before:]
    failed_ops = cluster.failed_ops(ctx, dst)
    lab.must(dst, "crm_resource --clear -r %s" % cluster.GROUP, timeout=60, label="move")
    client.wait_writer_progress(ctx, w, 20, 240, "planned move")
    d = client.stop_writer(ctx, w, dst)
    t_end = time.time()
    grace, grace_src = probes.grace_figures(lab, dst, t_ep)
    client.kill_writer(ctx, w)
    got = cluster.group_on(ctx, cluster.status(ctx))
    reasons = client.judge(d, dst, got)
    if fenced:
        reasons.append("a node was fenced during the planned move: %s; failed operations: %s"
                       % (["%s %s" % (f["action"], f["target"]) for f in fenced], failed_ops))
    sv = scope.scope_view(ctx, t, src, dst)
    fig = measure.failover(ctx, t, t_end, src, dst, d)
    extra = {}
    if ctx.init_info.get("statd") is not None:   # nfsha under systemd: issue 12's statd check
        gone = [f["target"] for f in fenced]
        extra["statd_after_move"] = {n: ["fenced"] if n in gone else statd_view(ctx, n) for n in (src, dst)}
    r = result(ctx, scenario, name, not reasons, reasons, client_stall_s=d["client_stall_s"],
               grace_s=grace, grace_source=grace_src, move_s=round(took, 1), lost_writes=d["lost_writes"],
               lock_kept=d["lock_kept"], written=d["written"], io_errors=len(d["io_errors"]),
               fenced=fenced, failed_ops=failed_ops, scope_view=sv, scope=scope.scope_text(sv),
               init_info=ctx.init_info, detail=d, **fig, **extra)
    ctx.last_move = r
    return r
