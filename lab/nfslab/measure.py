"""The figures of one failover, common to planned moves and crashes: the client's stall,
the wire attribution (address absence, reconnect lag and cause) and what CloudStack's
stock heartbeat did and would do."""
import time

from . import attribution, cloudstack, probes
from .common import CLIENT_IP, VIP, log, mac_of


def client_offset(ctx):
    """host clock - cli1's clock. From RPC calls seen both in the client's sunrpc trace
    (xprt_transmit xid) and on the wire when possible (ms), else through the command
    channel (half a round trip)."""
    lines = ctx.client_trace.refresh()
    trace = probes.parse_trace(lines)
    off = attribution.map_trace_clock(trace, ctx.capture.refresh())
    if off is not None:
        ctx.client_offset, ctx.client_offset_how = off, "xid"
        return off
    if ctx.client_offset is None:
        h0 = time.time()
        g = ctx.lab.guest_time("cli1")
        h1 = time.time()
        ctx.client_offset, ctx.client_offset_how = (h0 + h1) / 2 - g, "command channel"
    return ctx.client_offset


def failover(ctx, t_event, t_end, src, dst, d):
    """New fields for a failover row. t_event/t_end: host time of the move command (or
    the crash) and of the end of the checks; d: the writer's checks (client.stop_writer)."""
    off = client_offset(ctx)
    trace = probes.parse_trace(ctx.client_trace.lines, off)
    events = ctx.capture.between(t_event - 120, t_end)
    att = attribution.attribute(events, t_event, mac_of(src), mac_of(dst), VIP, CLIENT_IP, t_end=t_end,
                                trace=trace)
    fig = {
        "stall_s": d.get("client_stall_s"),
        "address_absent_s": att.get("address_absent_s"),
        "reconnect_lag_s": att.get("reconnect_lag_s"),
        "resume_lag_s": att.get("resume_lag_s"),
        "port_closed_s": att.get("port_closed_s"),
        "reconnect_cause": att.get("reconnect_cause"),
        "client_view": att.get("client_view"),
        "wire_stall_s": attribution.wire_stall(events, CLIENT_IP, VIP, t_event, t_end),
        "attribution": att,
        "clock": {"client_offset_s": round(off, 4), "how": ctx.client_offset_how},
    }
    if ctx.cshb is not None:
        lines = probes.parse_json_lines(ctx.cshb.refresh(), off)
        cs = cloudstack.summarize(lines, t_event - 60, t_end)
        cs["worst_phase"] = cloudstack.worst_phase(d.get("client_stall_s"))
        fig["cloudstack"] = cs
        fig["cloudstack_would_fence"] = cs["would_fence"] or bool(cs["worst_phase"]["fence"])
        fig["cloudstack_timeouts"] = cs["timeouts"]
    log("failover %s -> %s: address absent %s s, reconnect lag %s s (%s), resume %s s, stall %s s%s" % (
        src, dst, fig["address_absent_s"], fig["reconnect_lag_s"], fig["reconnect_cause"], fig["resume_lag_s"],
        fig["stall_s"], "" if "cloudstack" not in fig else
        "; CloudStack: %d tries failed, max try %s s, fence %s" % (
            fig["cloudstack"]["failed_tries"], fig["cloudstack"]["max_try_s"], fig["cloudstack_would_fence"])))
    return fig
