"""Scenario 5: the group stopped (target-role=Stopped) and started again: host-observed
stop and start times and each resource's exec-time from the CIB. Pass: no fencing."""
import json
import time

from .. import cluster
from ..common import SERVERS, LabError, log
from ..rows import result

NUMBER = 5
NAME = "stop/start times"
HEARTBEAT_WATCHES = True


def run(ctx):
    lab = ctx.lab
    node = ctx.current()
    fences_before = len(lab.fence_log)
    t = time.time()
    lab.must(node, "crm_resource -r %s --meta -p target-role -v Stopped" % cluster.GROUP, timeout=60, label="stop")
    while True:
        st = cluster.status(ctx)
        if cluster.group_stopped(ctx, st):
            break
        if time.time() - t > 300:
            raise LabError("group stop", "%s not stopped within 300 s: %s" % (cluster.GROUP, json.dumps(st)))
        time.sleep(2)
    stop_s = time.time() - t
    fenced = lab.fence_log[fences_before:]
    try:
        ops_stop = cluster.op_times(ctx, node)
    except LabError:
        ops_stop = {}  # node was fenced: its operation history is gone
    failed_ops = cluster.failed_ops(ctx, SERVERS[1] if node == SERVERS[0] else SERVERS[0]) if fenced else []
    if fenced:
        cluster.rejoin(ctx, need_group=False)
        if len(fenced) < 2:
            node = [h for h in SERVERS if h not in [f["target"] for f in fenced]][0]
    lab.must(node, "crm_resource -r %s --meta -d target-role" % cluster.GROUP, timeout=60, label="start")
    t_start = time.time()
    while True:
        st = cluster.status(ctx)
        if cluster.group_on(ctx, st):
            break
        if time.time() - t_start > 300:
            raise LabError("group start", "%s not started within 300 s: %s" % (cluster.GROUP, json.dumps(st)))
        time.sleep(2)
    node = cluster.group_on(ctx, st)
    start_s = time.time() - t_start
    ops = cluster.op_times(ctx, node)
    per = {g: {"stop_s": ops_stop.get(g + "_stop"), "start_s": ops.get(g + "_start")} for g in ctx.group_ids}
    log("group stop %.1f s, start %.1f s (host-observed); per resource: %s" % (stop_s, start_s, per))
    reasons = []
    if fenced:
        reasons.append("a node was fenced while stopping the group: %s; failed operations: %s"
                       % (["%s %s" % (f["action"], f["target"]) for f in fenced], failed_ops))
    exp = [g for g in ctx.group_ids if "export" in g]
    return [result(ctx, NUMBER, NAME, not reasons, reasons, group_stop_s=round(stop_s, 1),
                   group_start_s=round(start_s, 1),
                   exportfs_stop_s=per[exp[0]]["stop_s"] if exp else None, per_resource=per,
                   fenced=fenced, failed_ops=failed_ops)]
