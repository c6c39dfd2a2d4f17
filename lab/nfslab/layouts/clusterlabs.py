"""The ClusterLabs layout: SUSE's documented NFS group plus Red Hat's
nfs_shared_infodir, with the agents of Debian 12's resource-agents 4.12:
Filesystem -> nfsserver (nfs_shared_infodir, nfs_server_scope) -> exportfs -> IPaddr2."""
from ..common import CLIENT_NET, VIP
from .base import Layout, load_xml_group, std_ops


class ClusterLabs(Layout):
    name = "clusterlabs"
    export = "/srv/nfs/export"
    systemd_default = True
    description = ("ocf:heartbeat Filesystem /dev/drbd1 on /srv/nfs -> nfsserver (nfs_shared_infodir="
                   "/srv/nfs/nfsinfo, nfs_server_scope=nfs-ha) -> exportfs -> IPaddr2")

    def systemd(self):
        # ocf:heartbeat:nfsserver 4.12 on Debian 12 needs systemd (lab/README.md)
        return not self.args.no_systemd_clusterlabs

    def members(self):
        nfsserver = [("nfs_shared_infodir", "/srv/nfs/nfsinfo"), ("nfs_ip", VIP)]
        if not self.no_scope:
            nfsserver.insert(1, ("nfs_server_scope", "nfs-ha"))
        return [
            ("fs", "ocf", "heartbeat", "Filesystem",
             [("device", "/dev/drbd1"), ("directory", "/srv/nfs"), ("fstype", "ext4")], std_ops()),
            ("nfsserver", "ocf", "heartbeat", "nfsserver", nfsserver, std_ops()),
            ("exportfs", "ocf", "heartbeat", "exportfs",
             [("directory", self.export), ("clientspec", CLIENT_NET),
              ("options", "rw,no_root_squash,sync"), ("fsid", "1")], std_ops()),
            ("vip", "ocf", "heartbeat", "IPaddr2",
             [("ip", VIP), ("cidr_netmask", "24"), ("nic", "eth0")], std_ops()),
        ]

    def prepare_volumes(self):
        return "mkdir -p /mnt/v1/export /mnt/v1/nfsinfo; chmod 1777 /mnt/v1/export\n"

    def install(self, ctx):
        # Debian 12's /etc/init.d/nfs-kernel-server (which nfsserver 4.12 uses when systemd
        # is not running) refuses to start nfsd while /etc/exports is empty; give it a
        # harmless entry. Only matters with --no-systemd-clusterlabs.
        ctx.lab.parallel({h: "[ -d /run/systemd/system ] || { mkdir -p /srv/placeholder\n"
                             "echo '/srv/placeholder 127.0.0.1(ro,fsid=99,no_subtree_check)' >> /etc/exports; }\n"
                          for h in ("srv1", "srv2")}, timeout=60, label="clusterlabs prep")

    def load(self, ctx):
        load_xml_group(ctx, self.members())

    def scope(self):
        return None if self.no_scope else "nfs-ha"


LAYOUT = ClusterLabs
