"""The client VM: the NFS mount and the writer (sequence-numbered lines, write + fsync
every 100 ms through one open file, holding an fcntl lock), and the checks after a
failover: nothing lost or reordered (on the client and on the server's file system), no
I/O error, the lock kept on the new server."""
import json
import re
import time

from .common import VIP, LabError


def mount(ctx, where="/mnt/nfs"):
    ctx.lab.must("cli1", r"""
modprobe nfsv4 2>/dev/null
mkdir -p %s
i=0
until mount -t nfs -o vers=4.2 %s:%s %s; do
  i=$((i+1)); [ $i -lt 20 ] || exit 1; sleep 2
done
grep ' %s ' /proc/mounts
""" % (where, VIP, ctx.layout.export, where, where), timeout=120, label="client mount")


def start_writer(ctx):
    ctx.writer_no += 1
    w = "/run/w%d" % ctx.writer_no
    n = ctx.writer_no
    ctx.lab.must("cli1", r"""
rm -f %(w)s.stop
: > /mnt/nfs/data%(n)d.log
setsid lab-writer /mnt/nfs/data%(n)d.log /mnt/nfs/lock%(n)d %(w)s.log %(w)s.stop 0.1 > %(w)s.err 2>&1 < /dev/null &
echo $! > %(w)s.pid
i=0; until [ "$(wc -l < %(w)s.log 2>/dev/null || echo 0)" -ge 20 ]; do
  i=$((i+1)); [ $i -lt 300 ] || { cat %(w)s.err; exit 1; }; sleep 0.1
done
""" % {"w": w, "n": n}, timeout=60, label="writer start")
    return w


def writer_progress(ctx, w):
    out = ctx.lab.must("cli1", "tail -n 1 %s.log" % w, timeout=30, label="writer")
    try:
        return int(out.split()[0])
    except (ValueError, IndexError):
        return -1


def wait_writer_progress(ctx, w, lines, timeout, label):
    start = writer_progress(ctx, w)
    t = time.time()
    while time.time() - t < timeout:
        if writer_progress(ctx, w) >= start + lines:
            return
        time.sleep(1)
    raise LabError(label, "client writes did not resume within %d s (stuck at line %d)" % (timeout, start))


CLIENT_CHECK = r"""
touch %(w)s.stop
i=0; until [ -e %(w)s.log.summary ]; do i=$((i+1)); [ $i -lt 1200 ] || { echo NOSUMMARY; cat %(w)s.err; exit 1; }; sleep 0.1; done
cat %(w)s.log.summary; echo
python3 - <<'PY'
import json
lines = open("/mnt/nfs/data%(n)d.log").read().splitlines()
seqs = [int(l.split()[0]) for l in lines if l.strip()]
bad = [i for i, s in enumerate(seqs) if s != i]
print(json.dumps({"client_lines": len(seqs), "client_first_bad": bad[0] if bad else None}))
PY
dmesg | grep -iE 'nfs|lockd|scope' | tail -20 > /tmp/client-dmesg.txt; sed 's/^/DMESG /' /tmp/client-dmesg.txt
"""

SERVER_CHECK = r"""
f=%(exp)s/data%(n)d.log; l=%(exp)s/lock%(n)d
python3 - "$f" <<'PY'
import json, sys
seqs = [int(x.split()[0]) for x in open(sys.argv[1]).read().splitlines() if x.strip()]
bad = [i for i, s in enumerate(seqs) if s != i]
print(json.dumps({"server_lines": len(seqs), "server_first_bad": bad[0] if bad else None}))
PY
ino=$(stat -c %%i "$l"); d=$(stat -c %%D "$l")
key=$(printf '%%02x:%%02x:%%s' $(( 0x$d >> 8 )) $(( 0x$d & 0xff )) $ino)
# count POSIX locks only: nfsd also lists delegations (DELEG) on the same inode
echo "LOCKS $(grep " $key " /proc/locks | grep -c ' POSIX ')"
grep " $key " /proc/locks | sed 's/^/LOCKLINE /'
"""


def writer_log(ctx, w):
    """The writer's per-write log: [(seq, t_start, t_end, errno)] on the client's clock."""
    out = ctx.lab.must("cli1", "cat %s.log" % w, timeout=60, label="writer log")
    res = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[0].isdigit():
            res.append((int(f[0]), float(f[1]), float(f[2]), int(f[3])))
    return res


def stop_writer(ctx, w, node):
    """Stop the writer; check data order/loss on the client and on the server, and the lock."""
    n = ctx.writer_no
    out = ctx.lab.must("cli1", CLIENT_CHECK % {"w": w, "n": n}, timeout=150, label="writer stop")
    jl = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    summary, check = jl[0], jl[1]
    dmesg = [line[6:] for line in out.splitlines() if line.startswith("DMESG ")]
    srv = ctx.lab.must(node, SERVER_CHECK % {"exp": ctx.layout.export, "n": n}, timeout=60, label="server check")
    sj = json.loads([line for line in srv.splitlines() if line.startswith("{")][0])
    locks = int(re.search(r"LOCKS (\d+)", srv).group(1))
    written = summary["written"]
    lost = max(0, written - sj["server_lines"])
    ok_order = check["client_first_bad"] is None and sj["server_first_bad"] is None
    return {
        "written": written, "client_lines": check["client_lines"], "server_lines": sj["server_lines"],
        "lost_writes": lost + max(0, written - check["client_lines"]),
        "order_ok": ok_order and check["client_lines"] == written and sj["server_lines"] == written,
        "io_errors": summary["errors"], "client_stall_s": summary["max_latency"],
        "max_gap_s": summary["max_gap"], "lock_kept": locks >= 1,
        "server_lock_entries": locks,
        "close_err": summary["close_err"], "client_dmesg": dmesg,
    }


def kill_writer(ctx, w):
    ctx.lab.run("cli1", "kill $(cat %s.pid) 2>/dev/null; true" % w, timeout=30, label="writer kill")


def judge(d, expect_node, got_node):
    reasons = []
    if got_node != expect_node:
        reasons.append("group on %s, expected %s" % (got_node, expect_node))
    if d["lost_writes"]:
        reasons.append("%d writes lost" % d["lost_writes"])
    if not d["order_ok"]:
        reasons.append("lines missing/reordered (written %d, client %d, server %d)"
                       % (d["written"], d["client_lines"], d["server_lines"]))
    if d["io_errors"]:
        reasons.append("I/O errors on the client: %s" % d["io_errors"][:5])
    if d["close_err"]:
        reasons.append("close() failed: %s" % d["close_err"])
    if not d["lock_kept"]:
        reasons.append("POSIX lock not kept: the new server holds no lock on the lock file")
    bad = [line for line in d["client_dmesg"]
           if re.search(r"scope mismatch|lost lock|reclaim.*fail|lost", line, re.I)]
    if bad:
        reasons.append("client kernel: %s" % bad[:3])
    return reasons
