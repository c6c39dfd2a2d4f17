"""Scenario 2: crash of the active server (QMP system_reset) while the client writes.
Pass: Pacemaker fenced it through fence_qemulab, the group recovered on the other server,
nothing lost, the lock reclaimed. Figures: stall, recovery (reset -> group started),
grace, and the failover's attribution."""
import time

from .. import client, cluster, measure, probes
from ..common import log
from ..rows import result

NUMBER = 2
NAME = "node crash"
HEARTBEAT_WATCHES = True


def run(ctx):
    victim = ctx.current()
    survivor = ctx.other(victim)
    lab = ctx.lab
    w = client.start_writer(ctx)
    t_ep = lab.guest_time(survivor)
    fences_before = len(lab.fence_log)
    t = time.time()
    log("crash: QMP system_reset of %s" % victim)
    lab.reset_vm(victim)
    took = cluster.wait_group(ctx, survivor, 900, "node crash recovery")
    log("group recovered on %s %.1f s after the reset" % (survivor, took))
    fenced = [f for f in lab.fence_log[fences_before:] if f["target"] == victim]
    client.wait_writer_progress(ctx, w, 20, 300, "node crash")
    d = client.stop_writer(ctx, w, survivor)
    t_end = time.time()
    grace, grace_src = probes.grace_figures(lab, survivor, t_ep)
    client.kill_writer(ctx, w)
    got = cluster.group_on(ctx, cluster.status(ctx))
    reasons = client.judge(d, survivor, got)
    if not fenced:
        reasons.append("pacemaker did not fence %s through fence_qemulab" % victim)
    fig = measure.failover(ctx, t, t_end, victim, survivor, d)
    return [result(ctx, NUMBER, NAME, not reasons, reasons, client_stall_s=d["client_stall_s"],
                   grace_s=grace, grace_source=grace_src, recovery_s=round(took, 1), lost_writes=d["lost_writes"],
                   lock_kept=d["lock_kept"], written=d["written"], io_errors=len(d["io_errors"]),
                   fenced=fenced, detail=d, **fig)]
