#!/bin/bash
# The SUSE layout of c01, applied from a script with a here-document.
VIP=192.168.1.10
crm configure <<EOF
primitive drbd-nfs ocf:linbit:drbd \
  params drbd_resource="nfs" \
  op monitor interval=15 role=Promoted \
  op monitor interval=30 role=Unpromoted
clone cl-drbd-nfs drbd-nfs \
  meta promotable="true" promoted-max="1" promoted-node-max="1" \
  clone-max="2" clone-node-max="1" notify="true" interleave=true
primitive fs-nfs-state Filesystem \
  params device=/dev/drbd0 directory=/var/lib/nfs fstype=ext4 \
  op monitor timeout=40s interval=20s
primitive fs-nfs-share Filesystem \
  params device=/dev/drbd1 directory=/srv/nfs/share fstype=ext4 \
  op monitor timeout=40s interval=20s
group g-nfs fs-nfs-state fs-nfs-share
colocation col-nfs-on-drbd inf: g-nfs cl-drbd-nfs:Promoted
order o-drbd-before-nfs Mandatory: cl-drbd-nfs:promote g-nfs:start
primitive nfsserver nfsserver \
  params nfs_server_scope=SUSE \
  op monitor interval=10s timeout=20s
modgroup g-nfs add nfsserver
primitive exportfs-nfs exportfs \
  params directory="/srv/nfs/share" \
  options="rw,mountpoint" clientspec="192.168.1.0/24" \
  op monitor interval=30s timeout=90s
modgroup g-nfs add exportfs-nfs
primitive vip-nfs IPaddr2 \
  params ip=$VIP \
  op monitor timeout=20s interval=10s
modgroup g-nfs add vip-nfs
commit
EOF
crm status
