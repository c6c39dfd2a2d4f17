#!/usr/bin/env python3
"""Write a CIB with 10,000 resources and 20,000 constraints to stdout.

1,250 HA-NFS stacks, each a DRBD primitive in a promotable clone and a group
of Filesystem (state), Filesystem (share), nfsserver, exportfs and IPaddr2:
8 resource elements per stack (plus one fence device). Per stack 16 constraints: the colocation and
promote order with its DRBD clone, 6 location preferences, 4 optional orders
after later stacks and 4 anti-colocations with them.
"""
import sys

N = 1250
w = sys.stdout.write
w('<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">\n<configuration>\n')
w('<crm_config><cluster_property_set id="cib-bootstrap-options">'
  '<nvpair id="o-stonith" name="stonith-enabled" value="true"/></cluster_property_set></crm_config>\n')
w('<nodes>' + ''.join(f'<node id="{k}" uname="node{k}"/>' for k in range(1, 7)) + '</nodes>\n<resources>\n')


def op(rid, name, interval, timeout):
    return f'<op id="{rid}-{name}-{interval}" name="{name}" interval="{interval}" timeout="{timeout}"/>'


def prim(rid, ty, params, stop, provider="heartbeat"):
    nv = ''.join(f'<nvpair id="{rid}-{k}" name="{k}" value="{v}"/>' for k, v in params.items())
    return (f'<primitive id="{rid}" class="ocf" provider="{provider}" type="{ty}">'
            f'<instance_attributes id="{rid}-ia">{nv}</instance_attributes>'
            f'<operations>{op(rid, "monitor", "20s", "40s")}{op(rid, "stop", "0", stop)}</operations></primitive>\n')


for i in range(N):
    w(f'<clone id="cl-drbd{i}"><meta_attributes id="cl-drbd{i}-ma">'
      f'<nvpair id="cl-drbd{i}-p" name="promotable" value="true"/>'
      f'<nvpair id="cl-drbd{i}-n" name="notify" value="true"/></meta_attributes>')
    w(prim(f"drbd{i}", "drbd", {"drbd_resource": f"r{i}"}, "100s", provider="linbit"))
    w('</clone>\n')
    w(f'<group id="g{i}">')
    w(prim(f"fs-state{i}", "Filesystem", {"device": f"/dev/drbd/by-res/r{i}/0", "directory": f"/srv/nfs{i}/state", "fstype": "ext4"}, "60s"))
    w(prim(f"fs-share{i}", "Filesystem", {"device": f"/dev/drbd/by-res/r{i}/1", "directory": f"/srv/nfs{i}/share", "fstype": "ext4"}, "60s"))
    w(prim(f"nfsd{i}", "nfsserver", {"nfs_shared_infodir": f"/srv/nfs{i}/state/info", "nfs_server_scope": f"nfs{i}"}, "20s"))
    w(prim(f"export{i}", "exportfs", {"directory": f"/srv/nfs{i}/share", "clientspec": "10.0.0.0/8", "fsid": str(i + 1)}, "120s"))
    w(prim(f"vip{i}", "IPaddr2", {"ip": f"10.{i // 250}.{i % 250}.1", "cidr_netmask": "8"}, "20s"))
    w('</group>\n')
w('<primitive id="fence" class="stonith" type="fence_ipmilan">'
  '<operations><op id="fence-monitor" name="monitor" interval="60s"/></operations></primitive>\n')
w('</resources>\n<constraints>\n')
for i in range(N):
    w(f'<rsc_colocation id="col{i}" rsc="g{i}" with-rsc="cl-drbd{i}" with-rsc-role="Promoted" score="INFINITY"/>\n')
    w(f'<rsc_order id="ord{i}" first="cl-drbd{i}" first-action="promote" then="g{i}" then-action="start"/>\n')
    for k in range(6):
        w(f'<rsc_location id="loc{i}-{k}" rsc="g{i}" node="node{k + 1}" score="{(i + k) % 100}"/>\n')
    for k in range(1, 5):
        j = (i + k) % N
        a, b = min(i, j), max(i, j)
        w(f'<rsc_order id="opt{i}-{k}" first="g{a}" then="g{b}" kind="Optional"/>\n')
        w(f'<rsc_colocation id="anti{i}-{k}" rsc="g{i}" with-rsc="g{j}" score="-100"/>\n')
w('</constraints>\n</configuration>\n<status/>\n</cib>\n')
