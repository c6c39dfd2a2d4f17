#!/usr/bin/env bash
# What the address itself costs in a move: ocf:nfsha:vip start and stop (DROP
# rules, socket abort, record, address, tickle helper) against the address part
# of LINBIT's linstor-gateway NFS layout (portblock block, IPaddr2, portblock
# unblock with tickle_dir; stop in reverse), on the same address, in one run.
# One NFS client stays connected (a listener on 2049 in the server namespace,
# a client namespace that reconnects whenever its connection is reset); after
# each start the bench notes whether (and how fast) it is connected again.
# Debian 12's portblock (resource-agents 4.12) cannot see its own rules under
# iptables 1.8.9 (it greps for "tcp", iptables now prints "6"), so its unblock
# never lifts the block: expect "0/N" on that row.
# usage: benches/vip-move.sh [CYCLES] [NFSHA_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-30}"
bin="$(realpath "${2:-target/x86_64-unknown-linux-gnu/release/nfsha}")"
. benches/vip-netns.sh
vip_netns_setup benchm
ln -s "$bin" "$dir/vip"
# nfsd's port, accepting every client and keeping the connections.
ip netns exec "$ns" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 2049)); s.listen(); keep = []
while True: keep.append(s.accept()[0])' &
pids+=($!)
# A client that reconnects whenever its connection is reset.
ip netns exec "$cns" python3 -c '
import socket, time
while True:
    try:
        c = socket.create_connection(("192.0.2.50", 2049), timeout=1); c.settimeout(None); c.recv(1)
    except OSError:
        time.sleep(0.05)' &
pids+=($!)
echo "kernel $(uname -r), $(nproc) cores, $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg), $n cycles"
ip netns exec "$ns" env HA_RSCTMP="$dir/rsctmp" python3 - "$n" "$dir" <<'PY'
import os, statistics, subprocess, sys, time
n, d = int(sys.argv[1]), sys.argv[2]
ra = "/usr/lib/ocf/resource.d/heartbeat/"
base = {"PATH": os.environ["PATH"], "OCF_ROOT": "/usr/lib/ocf", "HA_RSCTMP": os.environ["HA_RSCTMP"],
        "OCF_RESKEY_CRM_meta_timeout": "20000"}
def env(inst, **kw):
    e = dict(base, OCF_RESOURCE_INSTANCE=inst)
    e.update({"OCF_RESKEY_" + k: v for k, v in kw.items()})
    return e
addr = dict(ip="192.0.2.50", cidr_netmask="24", nic="bench0")
pb = dict(ip="192.0.2.50", portno="2049", protocol="tcp")
nfsha = [(d + "/vip", env("nfsha_ip", require_exports="false", tickle_dir=d + "/tickle-nfsha", **addr))]
linbit = [(ra + "portblock", env("pb_block", action="block", **pb)),
          (ra + "IPaddr2", env("ip2", **addr)),
          (ra + "portblock", env("pb_unblock", action="unblock", tickle_dir=d + "/tickle-portblock", **pb))]
def act(stack, action):
    order = stack if action == "start" else list(reversed(stack))
    t = time.perf_counter()
    for path, e in order:
        rc = subprocess.run([path, action], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        assert rc == 0, (path, action, rc)
    return time.perf_counter() - t
def connected():
    out = subprocess.run(["ss", "-Htn", "state", "established", "src", "192.0.2.50:2049"], capture_output=True, text=True).stdout
    return out.count("\n")
rows = []
for name, stack in [("LINBIT: portblock + IPaddr2 + portblock", linbit), ("nfsha vip", nfsha)]:
    starts, stops, back = [], [], []
    for i in range(n + 2):
        s = act(stack, "start")
        t0 = time.perf_counter()
        while connected() == 0 and time.perf_counter() - t0 < 5:
            time.sleep(0.01)
        up = time.perf_counter() - t0 if connected() else None
        for path, e in stack:   # a monitor records the connection
            subprocess.run([path, "monitor"], env=dict(e, OCF_RESKEY_CRM_meta_interval="10000"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = act(stack, "stop")
        if i >= 2:
            starts.append(s); stops.append(t); back.append(up)
    # Whatever rule the stack left (see above) must not block the next one.
    subprocess.run(["iptables", "-w", "5", "-F"], check=True)
    ok = [b for b in back if b is not None]
    rows.append((name, statistics.median(starts), max(starts), statistics.median(stops), max(stops),
                 f"{len(ok)}/{len(back)}" + (f", median {statistics.median(ok)*1000:.0f} ms" if ok else "")))
print("| address part of the group | start median (ms) | start max | stop median (ms) | stop max | client connected again within 5 s of start |")
print("|---|---|---|---|---|---|")
for name, sm, sx, tm, tx, b in rows:
    print(f"| {name} | {sm*1000:.1f} | {sx*1000:.1f} | {tm*1000:.1f} | {tx*1000:.1f} | {b} |")
PY
