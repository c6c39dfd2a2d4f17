"""Probes inside the guests, all fork-free loops (forks are expensive under emulation),
and the parsers of what they record:
  servers: lab-nfsmon (nfsd threads, v4_end_grace and POSIX locks in /proc/locks every
           0.25 s), lab-busywatch (who keeps a file system busy after nfsd stopped),
           lab-ktrace with nfsd's tracepoints where the kernel has them
  client:  lab-ktrace with sunrpc's socket/transport tracepoints, lab-cshb (CloudStack's
           stock heartbeat timing against the mount)"""
import json
import re

NFSD_EVENTS = ["nfsd:nfsd_grace_start", "nfsd:nfsd_grace_complete", "nfsd:nfsd_clid_reclaim_complete",
               "nfsd:nfsd_clid_confirmed", "nfsd:nfsd_clid_expire_unconf", "nfsd:nfsd_clid_purged"]
SUNRPC_EVENTS = ["sunrpc:rpc_socket_connect", "sunrpc:rpc_socket_state_change",
                 "sunrpc:rpc_socket_reset_connection", "sunrpc:rpc_socket_close",
                 "sunrpc:rpc_socket_shutdown", "sunrpc:rpc_socket_error", "sunrpc:rpc_connect_status",
                 "sunrpc:rpc_timeout_status", "sunrpc:xprt_transmit", "sunrpc:xprt_retransmit",
                 "sunrpc:xprt_disconnect_auto", "sunrpc:xprt_disconnect_done", "sunrpc:xprt_disconnect_force",
                 "sunrpc:xprt_connect", "sunrpc:xs_connect"]

SERVER_PROBES = r"""
install -m 755 /mnt/lab/guest/lab-nfsmon /mnt/lab/guest/lab-busywatch /mnt/lab/guest/lab-ktrace /usr/local/bin/
setsid /usr/local/bin/lab-nfsmon /run/nfsmon.log > /dev/null 2>&1 < /dev/null &
setsid /usr/local/bin/lab-busywatch > /dev/null 2>&1 < /dev/null &
setsid /usr/local/bin/lab-ktrace /run/ktrace.log %s > /run/ktrace.err 2>&1 < /dev/null &
""" % " ".join(NFSD_EVENTS)

CLIENT_TRACE = r"""
install -m 755 /mnt/lab/guest/lab-ktrace /mnt/lab/guest/lab-cshb /usr/local/bin/
setsid /usr/local/bin/lab-ktrace /run/ktrace.log %s > /run/ktrace.err 2>&1 < /dev/null &
""" % " ".join(SUNRPC_EVENTS)

CSHB_HOSTS, CSHB_STEP = 6, 10
CLIENT_CSHB = r"""
setsid /usr/local/bin/lab-cshb /mnt/nfs %%s /run/cshb.log %d %d > /run/cshb.err 2>&1 < /dev/null &
""" % (CSHB_HOSTS, CSHB_STEP)


class GuestLog:
    """A log file in a guest, read incrementally through the command channel."""

    def __init__(self, lab, node, path):
        self.lab, self.node, self.path = lab, node, path
        self.offset = 0
        self.lines = []

    def refresh(self):
        rc, out = self.lab.run(self.node, "tail -c +%d %s 2>/dev/null" % (self.offset + 1, self.path),
                               timeout=60, label="read log")
        end = out.rfind("\n")
        if rc == 0 and end >= 0:
            chunk = out[:end + 1]
            self.offset += len(chunk.encode())
            self.lines += chunk.splitlines()
        return self.lines


def parse_trace(lines, offset=0.0):
    """lab-ktrace lines -> [{"t" (plus offset), "event", "text", "xid"?}]; header lines skipped."""
    res = []
    for line in lines:
        if line.startswith("#"):
            continue
        p = line.split(" ", 2)
        if len(p) < 2:
            continue
        try:
            t = float(p[0])
        except ValueError:
            continue
        e = {"t": t + offset, "event": p[1], "text": p[2] if len(p) > 2 else ""}
        m = re.search(r"xid=0x([0-9a-f]{8})", e["text"])
        if m:
            e["xid"] = m.group(1)
        res.append(e)
    return res


def trace_header(lines):
    for line in lines:
        if line.startswith("# enabled"):
            f = line.split()
            return {"enabled": f[2].split(",") if f[2] != "-" else [],
                    "missing": f[4].split(",") if len(f) > 4 and f[4] != "-" else []}
    return None


def parse_json_lines(lines, offset=0.0):
    res = []
    for line in lines:
        try:
            x = json.loads(line)
        except ValueError:
            continue
        if "t" in x:
            x["t"] += offset
        res.append(x)
    return res


def parse_nfsmon(text):
    """lab-nfsmon's log -> ([(t, threads, grace)], [(t, '+'/'-', lock key)])."""
    ticks, locks = [], []
    for line in text.splitlines():
        f = line.split()
        try:
            t = float(f[0])
        except (ValueError, IndexError):
            continue
        if len(f) == 3:
            ticks.append((t, f[1], f[2]))
        elif len(f) == 4 and f[1] == "L":
            locks.append((t, f[2], f[3]))
    return ticks, locks


def grace_window(ticks, since):
    """(nfsd start, grace end) on the server's clock: the first tick after since with
    threads running and grace N, then the first Y after it."""
    start = end = None
    for t, thr, gr in ticks:
        if t < since:
            continue
        if start is None:
            if thr not in ("-", "0") and gr == "N":
                start = t
            continue
        if gr == "Y":
            end = t
            break
    return start, end


def grace_seconds(ticks, since):
    start, end = grace_window(ticks, since)
    if start is None or end is None:
        return None
    return round(end - start, 1)


def nfsmon(lab, node):
    out = lab.must(node, "cat /run/nfsmon.log", timeout=60, label="nfsmon")
    return parse_nfsmon(out)


def lock_keys(lab, node, export, files):
    """{name: 'maj:min:ino'} as /proc/locks shows them, for files under the export on node."""
    script = ""
    for name in files:
        script += ("l=%s/%s; ino=$(stat -c %%i \"$l\"); d=$(stat -c %%D \"$l\"); "
                   "printf 'KEY %s %%02x:%%02x:%%s\\n' $(( 0x$d >> 8 )) $(( 0x$d & 0xff )) $ino\n"
                   % (export, name, name))
    out = lab.must(node, script, timeout=60, label="lock keys")
    return {line.split()[1]: line.split()[2] for line in out.splitlines() if line.startswith("KEY ")}


def grace_from_trace(lines, since):
    """(start, end) of the first grace period after since, from the server kernel's own
    tracepoints nfsd:nfsd_grace_start and nfsd:nfsd_grace_complete (lab-ktrace), or
    (None, None) when the kernel lacks them."""
    start = end = None
    for e in parse_trace(lines):
        if e["t"] < since:
            continue
        if e["event"] == "nfsd_grace_start" and start is None:
            start = e["t"]
        elif e["event"] == "nfsd_grace_complete" and start is not None:
            end = e["t"]
            break
    return start, end


def grace_figures(lab, node, since):
    """Grace seconds after since on node: from the kernel's tracepoints when it has them
    (microseconds), else from lab-nfsmon's 0.25 s ticks. Returns (seconds, source)."""
    rc, out = lab.run(node, "cat /run/ktrace.log", timeout=60, label="server trace")
    start, end = grace_from_trace(out.splitlines(), since)
    if start is not None and end is not None:
        return round(end - start, 2), "nfsd tracepoints"
    ticks, _ = nfsmon(lab, node)
    return grace_seconds(ticks, since), "nfsd monitor (0.25 s)"
