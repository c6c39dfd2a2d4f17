#!/bin/bash
# Inside the test root, as PID 1 of its own PID and network namespaces: a
# one-node corosync + Pacemaker cluster on 127.0.0.1 runs the vip agent the
# package installed (the root has no other nfsha). Everything started here
# ends with this script: the kernel kills the namespace's processes when its
# PID 1 exits.
. /tmp/pkgtest/lib.sh

cat > /etc/corosync/corosync.conf <<'EOF'
totem {
  version: 2
  cluster_name: nfshapkg
  transport: knet
  crypto_cipher: none
  crypto_hash: none
}
nodelist {
  node {
    ring0_addr: 127.0.0.1
    name: node1
    nodeid: 1
  }
}
quorum {
  provider: corosync_votequorum
}
logging {
  to_stderr: yes
  to_syslog: no
}
EOF
mkdir -p /var/log/pacemaker
chown hacluster:haclient /var/log/pacemaker

corosync -f >/var/log/corosync.out 2>&1 &
corosync_pid=$!
quorate() { corosync-quorumtool -s | grep -q 'Quorate: *Yes'; }
wait_for 60 "corosync is quorate" quorate
pacemakerd >/var/log/pacemakerd.out 2>&1 &
pacemakerd_pid=$!

finish() {
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "--- pacemaker.log (tail) ---"
        tail -n 40 /var/log/pacemaker/pacemaker.log 2>/dev/null || true
    fi
    kill -TERM "$pacemakerd_pid" 2>/dev/null || true
    for _ in $(seq 120); do kill -0 "$pacemakerd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -TERM "$corosync_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    exit "$rc"
}
trap finish EXIT

online() { crm_mon -1 2>/dev/null | grep -q 'Online: \[ node1 \]' && crm_mon -1 | grep -q 'Current DC: node1'; }
wait_for 120 "the node is online and DC" online
# A one-node test cluster has no fencing device.
check "stonith-enabled=false" crm_attribute -t crm_config -n stonith-enabled -v false

ip link add nfsha-pk0 type veth peer name nfsha-pk1
ip addr add 192.0.2.1/24 dev nfsha-pk0
ip link set nfsha-pk0 up
ip link set nfsha-pk1 up

owner() { dpkg -S /usr/lib/ocf/resource.d/nfsha/vip | grep -q '^nfsha:'; }
check "the vip Pacemaker will run is the package's" owner
check "pcs resource create test-vip ocf:nfsha:vip" \
    pcs resource create test-vip ocf:nfsha:vip ip=192.0.2.200 nic=nfsha-pk0 cidr_netmask=24 \
    require_exports=false op monitor interval=2s timeout=10s

role() { crm_mon -1 --output-as=xml --include=resources | grep "<resource id=\"test-vip\"" | grep -q "role=\"$1\""; }
address() { ip -j addr show dev nfsha-pk0 | grep -q '"local":"192.0.2.200"'; }
no_address() { ! address; }
failed_once() {
    crm_failcount --query -r test-vip -N node1 | grep -Eq 'value=[1-9]'
}
wait_for 60 "Pacemaker started test-vip" role Started
check "the address is on nfsha-pk0" address

ip addr del 192.0.2.200/24 dev nfsha-pk0
wait_for 60 "the installed agent's monitor found the address gone" failed_once
wait_for 60 "Pacemaker recovered it (address back)" address
wait_for 30 "test-vip is Started again" role Started

check "pcs resource disable test-vip" pcs resource disable test-vip
wait_for 60 "Pacemaker stopped test-vip" role Stopped
check "the address is gone" no_address
