"""LINBIT linstor-gateway's NFS layout (pkg/nfs/resource_config.go, ToPromoter, kernel
implementation), in the same order, as a Pacemaker group:
  portblock action=block (ip, portno 2049, tcp)
  -> fs_cluster_private: Filesystem of volume 0 on /srv/ha/internal/<name> (run_fsck=no)
  -> fs_1: Filesystem of volume 1 on /srv/gateway-exports/<name> (run_fsck=no)
  -> service_ip: IPaddr2
  -> nfsserver: nfs_ip, nfs_shared_infodir=/srv/ha/internal/<name>/nfs, nfs_server_scope=<service IP>
  -> export_1_0: exportfs (fsid a UUID, options rw,all_squash,anonuid=0,anongid=0)
  -> portunblock: portblock action=unblock with tickle_dir=/srv/ha/internal/<name> (on DRBD)
linstor-gateway runs these with drbd-reactor's promoter; Debian 12 has no drbd-reactor
(and DRBD 8.4 has no quorum for it), so the lab runs the same agents in the same order
under Pacemaker, with the monitors every other layout gets (the unblock instance's monitor
is what records the connections to tickle: portblock's save_tcp_connections).

Debian 12's portblock (resource-agents 4.12) with its iptables 1.8.9 never unblocks (see
lab/guest/lab-patch-portblock); the lab applies LINBIT's upstream fix, as a LINBIT
installation (resource-agents >= 4.14) has it."""
import uuid

from ..common import CLIENT_NET, VIP
from .base import Layout, load_xml_group, std_ops

NAME = "nfs"                     # the linstor-gateway resource name
PRIVATE = "/srv/ha/internal/" + NAME
EXPORT = "/srv/gateway-exports/" + NAME
FSID = str(uuid.uuid5(uuid.NAMESPACE_DNS, "nfs.gateway.linstor.linbit.com.lab"))


class Linbit(Layout):
    name = "linbit"
    export = EXPORT
    systemd_default = True
    description = ("portblock block -> Filesystem (cluster private, volume 0) -> Filesystem (volume 1) -> "
                   "IPaddr2 -> nfsserver (nfs_server_scope=<service IP>) -> exportfs -> portblock unblock "
                   "(tickle_dir on DRBD)")

    def systemd(self):
        return not self.args.no_systemd_clusterlabs

    def members(self):
        nfsserver = [("nfs_ip", VIP), ("nfs_shared_infodir", PRIVATE + "/nfs")]
        if not self.no_scope:
            nfsserver.append(("nfs_server_scope", VIP))
        return [
            ("portblock", "ocf", "heartbeat", "portblock",
             [("ip", VIP), ("portno", "2049"), ("action", "block"), ("protocol", "tcp")], std_ops()),
            ("fs_cluster_private", "ocf", "heartbeat", "Filesystem",
             [("device", "/dev/drbd0"), ("directory", PRIVATE), ("fstype", "ext4"), ("run_fsck", "no")],
             std_ops()),
            ("fs_1", "ocf", "heartbeat", "Filesystem",
             [("device", "/dev/drbd1"), ("directory", EXPORT), ("fstype", "ext4"), ("run_fsck", "no")],
             std_ops()),
            ("service_ip", "ocf", "heartbeat", "IPaddr2", [("ip", VIP), ("cidr_netmask", "24")], std_ops()),
            ("nfsserver", "ocf", "heartbeat", "nfsserver", nfsserver, std_ops()),
            ("export_1_0", "ocf", "heartbeat", "exportfs",
             [("directory", EXPORT), ("fsid", FSID), ("clientspec", CLIENT_NET),
              ("options", "rw,all_squash,anonuid=0,anongid=0")], std_ops()),
            ("portunblock", "ocf", "heartbeat", "portblock",
             [("ip", VIP), ("portno", "2049"), ("action", "unblock"), ("protocol", "tcp"),
              ("tickle_dir", PRIVATE)], std_ops()),
        ]

    def prepare_volumes(self):
        return "mkdir -p /mnt/v0/nfs; chmod 1777 /mnt/v1\n"

    def install(self, ctx):
        out = ctx.lab.parallel({h: "set -e\nmkdir -p %s %s\ntest -x /usr/libexec/heartbeat/tickle_tcp\n"
                                   "command -v iptables >/dev/null\n"
                                   "python3 /mnt/lab/guest/lab-patch-portblock\n" % (PRIVATE, EXPORT)
                                for h in ("srv1", "srv2")}, timeout=120, label="linbit prep")
        self.portblock = out["srv1"].strip().splitlines()[-1]

    def after_start(self, ctx, node):
        # Debian 12's portblock (resource-agents 4.12) never finds its own DROP rule in
        # iptables 1.8.9's output and so never unblocks (the lab's first LINBIT run: the
        # client's SYNs to port 2049 went unanswered after the group had started);
        # LINBIT's fix (resource-agents commit 420e591b, 4.14) is applied in the guests.
        return {"portblock": "Debian 12 portblock + upstream fix 420e591b (PR #1924): %s" % self.portblock}

    def load(self, ctx):
        load_xml_group(ctx, self.members())

    def scope(self):
        return None if self.no_scope else VIP


LAYOUT = Linbit
