#!/bin/sh
# Fencing for the two-node NFS cluster of nfs-cluster.pcs.sh (pcs 0.11
# syntax): one IPMI device per node (fence_ipmilan, Debian package
# fence-agents). Run it on one node before the layout.
#
# Replace before running: the node names node1 and node2 (pcs status nodes),
# and each node's BMC address, user and password. Check a device by hand
# before trusting it: fence_ipmilan -a 192.0.2.101 -l admin -p ... -P -o status
#
# Without fencing, a failed stop or a split brain lets both nodes write the
# DRBD data, and Pacemaker refuses to start anything (crm_verify: "no STONITH
# resources have been defined"). VMs fence with fence_virsh or fence_xvm,
# nodes with a shared disk with sbd; whatever the device, give each node one
# that can power off the other, and keep a node from running its own.
set -e
pcs stonith create fence-node1 fence_ipmilan pcmk_host_list=node1 ip=192.0.2.101 username=admin password=CHANGE-ME lanplus=1 op monitor interval=60s timeout=20s
pcs stonith create fence-node2 fence_ipmilan pcmk_host_list=node2 ip=192.0.2.102 username=admin password=CHANGE-ME lanplus=1 op monitor interval=60s timeout=20s
pcs constraint location fence-node1 avoids node1
pcs constraint location fence-node2 avoids node2
