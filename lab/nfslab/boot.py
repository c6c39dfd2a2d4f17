"""One lab boot: three fresh VMs, one layout loaded, then a list of scenarios in order.
The Context is what scenarios see of the boot."""
import os
import signal
import time
import traceback

from . import capture, client, cluster, probes
from .common import CACHE, CLIENT_IP, LabError, log
from .layouts import get as get_layout
from .scenarios import REGISTRY as SCENARIOS
from .vm import Lab


class Context:
    def __init__(self, lab, layout, args, retries):
        self.lab = lab
        self.layout = layout
        self.args = args
        self.retries = retries
        self.init = "systemd" if lab.systemd else "lab-init"
        self.init_info = {}
        self.writer_no = 0
        self.last_move = None
        self.group_ids = []
        self.capture = capture.Capture(lab.capture_file)
        self.client_trace = probes.GuestLog(lab, "cli1", "/run/ktrace.log")
        self.cshb = None
        self.client_offset = None
        self.client_offset_how = None
        self.hb_running = False
        self.windows = []      # (label, cli1 time start, end) of the failovers the heartbeat watched
        self.results = []

    def other(self, node):
        return "srv2" if node == "srv1" else "srv1"

    def current(self):
        return cluster.group_on(self, cluster.status(self)) or "srv1"


def bring_up(ctx):
    """Servers prepared, cluster started, layout loaded and running on srv1, client mounted."""
    lab, lay = ctx.lab, ctx.layout
    lay.install(ctx)
    t = time.time()
    cluster.setup_servers(ctx)
    cluster.start_stack(ctx)
    cluster.load_lab_base(ctx)
    lay.load(ctx)
    cluster.add_location(ctx)
    ctx.group_ids = cluster.group_members(ctx)
    # on either server: while pcs creates the resources one by one (minutes under
    # emulation) Pacemaker may start them on srv2 before the lab's location preference exists
    took, node = cluster.wait_group(ctx, None, 900, "initial start")
    log("group %s (%s) started on %s (%.0f s after loading the configuration)"
        % (cluster.GROUP, " ".join(ctx.group_ids), node, took))
    ctx.init_info = dict(lay.after_start(ctx, node), init=ctx.init, first_node=node)
    lab.must("cli1", probes.CLIENT_TRACE, timeout=60, label="client trace")
    client.mount(ctx)
    lab.must("cli1", probes.CLIENT_CSHB % CLIENT_IP, timeout=60, label="cloudstack heartbeat")
    ctx.cshb = probes.GuestLog(lab, "cli1", "/run/cshb.log")
    hdr = probes.trace_header(ctx.client_trace.refresh())
    ctx.init_info["client_trace"] = hdr
    log("lab ready for the %s layout: %.0f s after boot; client sunrpc trace: %s" % (lay.name, time.time() - t, hdr))


def run_layout(layout_name, args, image, retries, plan, no_scope=False, systemd=None, pcs=False, progress=None):
    """Boot a fresh lab and run the planned scenarios (a list of scenario numbers, in order)
    for one layout. Returns result rows; progress(rows so far) is called after each scenario."""
    layout = get_layout(layout_name, args, no_scope=no_scope)
    if pcs:
        layout.use_pcs = True
    if systemd is None:
        systemd = layout.systemd()
    lab = Lab(image, systemd=systemd)
    ctx = Context(lab, layout, args, retries)
    failed_step = None
    interrupted = None
    boot_s = None
    completed = 0
    try:
        lab.net_setup()
        lab.start_fence_service()
        boot_s = lab.boot(["srv1", "srv2", "cli1"], 300, retries)
        bring_up(ctx)
        for s in sorted(set(plan)):
            if hasattr(SCENARIOS[s], "prepare"):
                SCENARIOS[s].prepare(ctx)
        for i, s in enumerate(plan):
            mod = SCENARIOS[s]
            if i > 0 and getattr(mod, "NEEDS_BOTH_SERVERS", True):
                cluster.rejoin(ctx)
            t_cli = ctx.lab.guest_time("cli1") if ctx.hb_running else None
            rows = mod.run(ctx)
            for r in rows:
                r.setdefault("repeat", sum(1 for x in ctx.results if x["scenario"] == r["scenario"]
                                           and x["name"] == r["name"]) + 1)
            ctx.results += rows
            completed += 1
            if progress:
                progress(ctx.results)
            if t_cli is not None and getattr(mod, "HEARTBEAT_WATCHES", False):
                ctx.windows.append(("%s #%d" % (s, rows[0]["repeat"]), t_cli, ctx.lab.guest_time("cli1")))
    except LabError as e:
        failed_step = e
        log("FAIL (%s layout) at step '%s': %s" % (layout_name, e.step, e))
    except Exception as e:
        failed_step = LabError("internal", "%s: %s" % (type(e).__name__, e))
        traceback.print_exc()
    except BaseException as e:  # interrupted: clean up without waiting for the guests
        interrupted = e
    finally:
        # further SIGINT/SIGTERM/SIGHUP wait until the VMs and the namespace are gone
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        try:
            if failed_step or args.keep_logs or interrupted:
                if not interrupted:
                    lab.collect_guest_logs()
                dest = args.keep_logs or os.path.join(CACHE, "logs-last-failure")
                dest = os.path.join(dest, layout_name + ("-systemd" if systemd and layout_name == "nfsha" else "")
                                    + ("-pcs" if pcs else "") + ("-noscope" if no_scope else ""))
                lab.save_logs(dest)
                log("logs saved in %s" % dest)
        except Exception as e:
            log("saving logs failed: %s" % e)
        finally:
            lab.close()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    if interrupted:
        raise interrupted
    results = ctx.results
    if failed_step:
        todo = plan[completed:]
        if not todo:
            results.append({"scenario": 0, "name": "lab", "agents": layout_name, "pass": False,
                            "reasons": ["step '%s' failed: %s" % (failed_step.step, str(failed_step)[:1500])]})
        for j, s in enumerate(todo):
            results.append({"scenario": s, "name": SCENARIOS[s].NAME, "agents": layout_name, "pass": False,
                            "reasons": ["step '%s' failed: %s" % (failed_step.step, str(failed_step)[:1500])]
                            if j == 0 else ["not run: an earlier step failed"]})
    for r in results:
        r.setdefault("agents", layout_name)
        r.setdefault("init", "systemd" if systemd else "lab-init")
        if boot_s is not None:
            r.setdefault("boot_s", round(boot_s, 1))
        if pcs:
            r["config_tool"] = "pcs"
    return results

