#!/usr/bin/env bash
# monitor of ocf:nfsha:vip against ocf:heartbeat:IPaddr2 and ocf:heartbeat:portblock
# (action=unblock with tickle_dir: the monitor that records connections in LINBIT's
# linstor-gateway layout) on the same address, in one run. A server namespace holds
# the address and a listener on 2049 (nfsd's port); a client namespace keeps one TCP
# connection to it open, so both recording monitors have a connection to record.
# usage: benches/vip-monitor.sh [ITERATIONS] [NFSHA_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-300}"
bin="$(realpath "${2:-target/x86_64-unknown-linux-gnu/release/nfsha}")"
. benches/vip-netns.sh
vip_netns_setup bench
export HA_RSCTMP="$dir/rsctmp"
ln -s "$bin" "$dir/vip"

# The address is up (added by nfsha's start; a lone address, so no export is
# required before it), nfsd's port listens, and one client is connected.
ip netns exec "$ns" env OCF_RESKEY_ip=192.0.2.50 OCF_RESKEY_cidr_netmask=24 \
    OCF_RESKEY_nic=bench0 OCF_RESKEY_arp_count=0 OCF_RESKEY_require_exports=false \
    OCF_RESKEY_tickle_rounds=0 "$dir/vip" start
ip netns exec "$ns" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 2049)); s.listen(); c, _ = s.accept(); time.sleep(3600)' &
pids+=($!)
sleep 0.5
ip netns exec "$cns" python3 -c '
import socket, time
c = socket.create_connection(("192.0.2.50", 2049)); time.sleep(3600)' &
pids+=($!)
sleep 0.5
# portblock unblock is "started" the way Pacemaker would start it.
ip netns exec "$ns" env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=bench \
    OCF_RESKEY_action=unblock OCF_RESKEY_ip=192.0.2.50 OCF_RESKEY_portno=2049 \
    OCF_RESKEY_protocol=tcp OCF_RESKEY_tickle_dir="$dir/tickle-portblock" \
    /usr/lib/ocf/resource.d/heartbeat/portblock start >/dev/null

echo "kernel $(uname -r), $(nproc) cores, $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg)"
params="ip=192.0.2.50,cidr_netmask=24,nic=bench0"
pb="action=unblock,ip=192.0.2.50,portno=2049,protocol=tcp,tickle_dir=$dir/tickle-portblock"
ip netns exec "$ns" python3 benches/ocfbench.py "$n" \
    "IPaddr2=/usr/lib/ocf/resource.d/heartbeat/IPaddr2:monitor:$params" \
    "portblock unblock (tickle_dir)=/usr/lib/ocf/resource.d/heartbeat/portblock:monitor:$pb" \
    "nfsha vip, recording off=$dir/vip:monitor:$params,tickle_rounds=0" \
    "nfsha vip (tickle_dir, tcp_ports)=$dir/vip:monitor:$params,tickle_dir=$dir/tickle-nfsha,tcp_ports=2049" \
    "nfsha vip (tickle_dir)=$dir/vip:monitor:$params,tickle_dir=$dir/tickle-nfsha"
echo
echo "records: nfsha $(grep -c '^conn ' "$dir"/tickle-nfsha/*.conns) connection(s), portblock $(wc -l < "$dir/tickle-portblock/192.0.2.50") line(s)"
