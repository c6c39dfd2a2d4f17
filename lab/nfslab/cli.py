"""lab/run's arguments and suites."""
import argparse
import json
import os
import signal
import sys
import time

from . import attribution, report
from .boot import run_layout
from .common import REPO, T0, LabError, log
from .image import ensure_host_packages, ensure_image
from .layouts import ORDER, REGISTRY
from .net import cleanup_stale_namespaces

USAGE = """nfsha real-kernel VM lab: 2 DRBD + Pacemaker NFS servers and an NFSv4 client
under QEMU (TCG), on a bridge inside a private network namespace.

    lab/run [--suite smoke|full|scope] [--agents nfsha|clusterlabs|linbit|both|all]
            [--out results.json] [--markdown FILE] [--nfsha-deb PATH | --nfsha-bin PATH]
            [--systemd] [--keep-logs DIR]

Scenarios: 1 planned move, 2 node crash, 3 grace correctness (three NFS clients),
4 server owner/scope (fixed; control: a layout without its fixed scope), 5 stop/start
times, 6 KVM-host heartbeat (nfsha heartbeat on the client VM), 7 nfsha status during
grace (grace left and reclaims against the kernel's clock; nfsha layout), 9 the heartbeat
through a full grace period, 10 the heartbeat's reboot on a hung mount (resets the client
VM, so last). Every failover is
attributed on the wire (address absence, reconnect lag and cause) and checked against
CloudStack's stock heartbeat timing.

See lab/README.md. Every process this program starts is ended by its pid; the
network namespace, taps and temporary files are removed on exit and on failure.
"""


def parse(argv=None):
    ap = argparse.ArgumentParser(description=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=["smoke", "full", "scope"], default="smoke",
                    help="smoke: scenario 1; full: every scenario with repeats (see lab/README.md); "
                         "scope: scenario 4 only")
    ap.add_argument("--agents", choices=sorted(REGISTRY) + ["both", "all"], default=None,
                    help="the layout(s): both = nfsha and clusterlabs, all = every layout; "
                         "default nfsha for smoke, all for full")
    ap.add_argument("--out", help="write results JSON here")
    ap.add_argument("--markdown", metavar="FILE", help="also write the results as Markdown")
    ap.add_argument("--nfsha-deb", metavar="PATH",
                    help="install nfsha into the guests from this .deb (dpkg -i), as the README's quick start does")
    ap.add_argument("--nfsha-bin", metavar="PATH",
                    default=os.path.join(REPO, "target", "x86_64-unknown-linux-gnu", "release", "nfsha"),
                    help="without --nfsha-deb: the nfsha binary, installed with `nfsha install`")
    ap.add_argument("--repeats", default="5,3", metavar="MOVES,CRASHES",
                    help="full suite: planned moves and crashes per layout (default 5,3)")
    ap.add_argument("--systemd", action="store_true",
                    help="boot the nfsha layout's servers with systemd instead of the fast lab init")
    ap.add_argument("--no-systemd-clusterlabs", action="store_true",
                    help="boot the ClusterLabs and LINBIT layouts' servers with the fast init too (shows the "
                         "init-script stop problem described in lab/README.md)")
    ap.add_argument("--keep-logs", metavar="DIR", help="save consoles and guest logs here (always on failure)")
    # development aids: one lab boot per layout running only these scenarios, in this order
    ap.add_argument("--only", help=argparse.SUPPRESS)
    ap.add_argument("--no-scope", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--pcs", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--render", metavar="JSON",
                    help="no lab: read a results JSON (several are merged), print the table and write "
                         "--markdown/--out from it (aggregates and goals recomputed)", action="append")
    args = ap.parse_args(argv)
    if args.nfsha_deb and not os.path.isfile(args.nfsha_deb):
        ap.error("--nfsha-deb %s: no such file" % args.nfsha_deb)
    args.nfsha_bin_found = args.nfsha_bin if os.path.isfile(args.nfsha_bin) else None
    try:
        moves, crashes = (int(x) for x in args.repeats.split(","))
        if moves < 1 or crashes < 1:
            raise ValueError
    except ValueError:
        ap.error("--repeats %r: expected two positive numbers, MOVES,CRASHES" % args.repeats)
    args.moves, args.crashes = moves, crashes
    return args


def layouts_of(args):
    agents = args.agents or ("nfsha" if args.suite == "smoke" else "all")
    if agents == "all":
        return agents, [n for n in ORDER if n in REGISTRY]
    if agents == "both":
        return agents, ["nfsha", "clusterlabs"]
    return agents, [agents]


def plan(args, layout):
    """[(scenario numbers, options)] = one lab boot each, for one layout."""
    if args.only:
        return [([int(x) for x in args.only.split(",")], {"no_scope": args.no_scope, "pcs": args.pcs})]
    if args.suite == "smoke":
        return [([1], {})]
    if args.suite == "scope":
        return [([1, 4], {})] if layout == "nfsha" else [([4], {"no_scope": True})]
    moves, crashes = [1] * args.moves, [2] * args.crashes
    if layout == "nfsha":
        # 10 resets the client VM: always last
        boots = [(moves + [4, 5] + crashes + [3, 6, 7, 9, 10], {})]
        if not args.systemd:
            # the systemd path (nfs-server.service with nfsha's drop-in, examples/nfs.conf
            # verbatim: issue 12's statd check), configured with the pcs example
            boots.append(([1], {"systemd": True, "pcs": True}))
        return boots
    boots = [(moves + [5] + crashes, {})]
    if layout == "clusterlabs":
        boots.append(([4], {"no_scope": True}))   # scope control: the same move without nfs_server_scope
    return boots


def write(args, meta, results, retries, image_build_s, partial=False):
    """The JSON and Markdown results; also after every lab boot (partial), so that an
    interrupted long run keeps what it measured."""
    meta.update({"image_build_s": round(image_build_s, 1) if image_build_s else image_build_s,
                 "infra_retries": retries, "total_s": round(time.time() - T0, 1),
                 "loadavg_end": open("/proc/loadavg").read().split()[:3], "partial": partial})
    doc = {"meta": meta, "results": results, "aggregates": report.aggregate(results),
           "goals": report.goals(results)}
    for path, text in ((args.out, lambda: json.dumps(doc, indent=2)), (args.markdown, lambda: report.markdown(doc))):
        if path:
            with open(path + ".tmp", "w") as f:
                f.write(text())
            os.replace(path + ".tmp", path)


def render(args):
    docs = [json.load(open(p)) for p in args.render]
    meta = dict(docs[0]["meta"])
    if len(docs) > 1:
        meta["merged_from"] = [d["meta"].get("command") for d in docs]
        meta["total_s"] = sum(d["meta"].get("total_s") or 0 for d in docs)
    results = [r for d in docs for r in d["results"]]
    for r in results:   # rows recorded before client_view existed
        a = r.get("attribution") or {}
        if "client_view" not in r and a.get("client_trace") and a.get("syn_t"):
            r["client_view"] = attribution.client_view(a["client_trace"], a["syn_t"] - a["address_gone_t"])
    doc = {"meta": meta, "results": results, "aggregates": report.aggregate(results),
           "goals": report.goals(results)}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report.markdown(doc))
    report.print_table(results)
    return 0 if results and all(r["pass"] for r in results) else 1


def main(argv=None):
    args = parse(argv)
    if args.render:
        return render(args)
    agents, layouts = layouts_of(args)
    if os.geteuid() != 0:
        print("lab/run must run as root (network namespace, taps, debootstrap)", file=sys.stderr)
        return 2

    def on_signal(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    retries, results = [], []
    meta = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "suite": args.suite, "agents": agents,
            "layouts": layouts, "host": os.uname().nodename, "cpus": os.cpu_count(), "accel": "tcg",
            "command": "lab/run " + " ".join(sys.argv[1:] if argv is None else argv),
            "loadavg_start": open("/proc/loadavg").read().split()[:3],
            "nfsha_from": ("package %s" % args.nfsha_deb) if args.nfsha_deb else
                          ("binary %s (nfsha install)" % args.nfsha_bin_found if args.nfsha_bin_found else None)}
    image_build_s = None
    try:
        cleanup_stale_namespaces()
        ensure_host_packages()
        image, image_build_s = ensure_image(retries)
        if "nfsha" in layouts and not (args.nfsha_deb or args.nfsha_bin_found):
            log("no nfsha package or binary (looked for %s): the nfsha scenarios will fail" % args.nfsha_bin)
        # every layout's main boot first (nfsha, then the others), the extra boots (nfsha on
        # systemd with pcs, the scope control) after them
        boots = [(layout, scen, opts) for layout in layouts for scen, opts in plan(args, layout)]
        boots.sort(key=lambda b: bool(b[2].get("systemd") or b[2].get("no_scope")) and not args.only)
        for layout, scen, opts in boots:
            def progress(rows, done=list(results)):
                write(args, meta, done + rows, retries, image_build_s, partial=True)
            results += run_layout(layout, args, image, retries, scen, no_scope=opts.get("no_scope", False),
                                  systemd=opts.get("systemd"), pcs=opts.get("pcs", False), progress=progress)
            write(args, meta, results, retries, image_build_s, partial=True)
    except KeyboardInterrupt as e:
        log("interrupted (%s); cleaned up" % e)
        results.append({"scenario": 0, "name": "lab", "agents": agents, "pass": False,
                        "reasons": ["interrupted: %s" % e]})
    except LabError as e:
        log("FAIL at step '%s': %s" % (e.step, e))
        results.append({"scenario": 0, "name": "lab setup", "agents": agents, "pass": False, "reasons": [str(e)]})
    write(args, meta, results, retries, image_build_s)
    print()
    report.print_table(results)
    if retries:
        print("infrastructure steps retried: %s" % "; ".join(retries))
    ok = bool(results) and all(r["pass"] for r in results)
    print("lab: %s in %.0f s" % ("PASS" if ok else "FAIL", time.time() - T0))
    return 0 if ok else 1
