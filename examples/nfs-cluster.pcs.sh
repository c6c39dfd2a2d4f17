#!/bin/sh
# Two-node highly available NFS server with nfsha's agents (pcs 0.11 syntax,
# Debian 12 / RHEL 9): one pcs command per line, run on one node.
#
# Storage: one DRBD resource "nfs" with two volumes,
#   /dev/drbd0 (volume 0): small ext4 for the NFSv4 client-tracking state,
#                          mounted by nfsstate on /srv/nfs-state
#   /dev/drbd1 (volume 1): the exported data, mounted on /srv/nfs/share
# Both nodes: /etc/nfs.conf as in examples/nfs.conf, and
#   nfsha dropin --hostname nfs-ha --lease 90 --grace 90 && systemctl daemon-reload
# Clients mount nfs-ha:/srv/nfs/share (nfs-ha resolves to 192.168.122.200).
#
# Start order (stop is the reverse): DRBD promote, fs-share, nfs-state,
# nfs-server, nfs-export, nfs-vip. Fencing is required: run fence-ipmi.pcs.sh
# (edited for your BMCs) or create a device for your hardware first.
set -e
pcs resource create drbd-nfs ocf:linbit:drbd drbd_resource=nfs op monitor interval=29s role=Promoted timeout=20s op monitor interval=31s role=Unpromoted timeout=20s op start timeout=240s op stop timeout=100s op promote timeout=90s op demote timeout=90s op notify timeout=90s promotable promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true interleave=true
pcs resource create fs-share ocf:heartbeat:Filesystem device=/dev/drbd1 directory=/srv/nfs/share fstype=ext4 op monitor interval=20s timeout=40s op start timeout=60s op stop timeout=60s --group g-nfs
pcs resource create nfs-state ocf:nfsha:nfsstate directory=/srv/nfs-state device=/dev/drbd0 drbd_resource=nfs fstype=ext4 op monitor interval=20s timeout=20s op start timeout=60s op stop timeout=60s --group g-nfs
pcs resource create nfs-server ocf:nfsha:nfsserver server_hostname=nfs-ha state_directory=/srv/nfs-state lease_time=90 grace_time=90 nfs_versions=4.1,4.2 threads=8 op monitor interval=10s timeout=20s op start timeout=60s op stop timeout=60s --group g-nfs
pcs resource create nfs-export ocf:nfsha:exportfs directory=/srv/nfs/share clientspec=192.168.122.0/24 options=rw,sync,no_subtree_check fsid=1 op monitor interval=10s timeout=20s op start timeout=40s op stop timeout=40s --group g-nfs
pcs resource create nfs-vip ocf:nfsha:vip ip=192.168.122.200 cidr_netmask=24 op monitor interval=10s timeout=10s op start timeout=20s op stop timeout=20s --group g-nfs
pcs constraint colocation add g-nfs with Promoted drbd-nfs-clone INFINITY
pcs constraint order promote drbd-nfs-clone then start g-nfs
pcs property set stonith-enabled=true
