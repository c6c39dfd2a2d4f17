# Sourced by benches/vip-monitor.sh and benches/vip-move.sh: a server namespace
# ($ns, interface bench0, 192.0.2.1/24) and a client namespace ($cns, bench1,
# 192.0.2.2/24) joined by a veth pair; $dir with rsctmp/ and the two tickle
# directories; background processes listed in $pids are ended (by pid) and
# everything removed on exit.
vip_netns_setup() {
    ns="nfsha-$1-$$"
    cns="nfsha-$1c-$$"
    dir="$(mktemp -d)"
    pids=()
    trap vip_netns_cleanup EXIT
    ip netns add "$ns"
    ip netns add "$cns"
    ip -n "$ns" link set lo up
    ip -n "$cns" link set lo up
    ip -n "$ns" link add bench0 type veth peer name bench1 netns "$cns"
    ip -n "$ns" link set bench0 up
    ip -n "$cns" link set bench1 up
    ip -n "$ns" addr add 192.0.2.1/24 dev bench0
    ip -n "$cns" addr add 192.0.2.2/24 dev bench1
    mkdir -p "$dir/rsctmp" "$dir/tickle-nfsha" "$dir/tickle-portblock"
}

vip_netns_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    ip netns del "$cns" 2>/dev/null || true
    rm -rf "$dir"
}
