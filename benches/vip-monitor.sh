#!/usr/bin/env bash
# monitor of ocf:nfsha:vip against ocf:heartbeat:IPaddr2 on the same address,
# in one run, inside a network namespace of its own (veth pair, no uplink).
# usage: benches/vip-monitor.sh [ITERATIONS] [NFSHA_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-300}"
bin="$(realpath "${2:-target/x86_64-unknown-linux-gnu/release/nfsha}")"
ns="nfsha-bench-$$"
dir="$(mktemp -d)"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add bench0 type veth peer name bench1
ip -n "$ns" link set bench0 up
ip -n "$ns" link set bench1 up
ip -n "$ns" addr add 192.0.2.1/24 dev bench0
ln -s "$bin" "$dir/vip"
params="ip=192.0.2.50,cidr_netmask=24,nic=bench0"
# The address is up (added by nfsha's start; a lone address, so no export
# is required before it); both agents monitor it.
ip netns exec "$ns" env OCF_RESKEY_ip=192.0.2.50 OCF_RESKEY_cidr_netmask=24 \
    OCF_RESKEY_nic=bench0 OCF_RESKEY_arp_count=0 OCF_RESKEY_require_exports=false "$dir/vip" start
echo "kernel $(uname -r), $(nproc) cores, $(date -u +%Y-%m-%d)"
ip netns exec "$ns" python3 benches/ocfbench.py "$n" \
    "IPaddr2=/usr/lib/ocf/resource.d/heartbeat/IPaddr2:monitor:$params" \
    "nfsha vip=$dir/vip:monitor:$params"
