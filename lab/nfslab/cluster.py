"""corosync, DRBD and Pacemaker: the cluster every layout runs on, and the status
queries the scenarios use."""
import json
import re
import time
import xml.etree.ElementTree as ET

from . import probes
from .common import DRBD_RESOURCE, NODES, SERVERS, VIP, LabError, log

GROUP = "g-nfs"

COROSYNC_CONF = """totem {
    version: 2
    cluster_name: nfslab
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    token: 5000
}
nodelist {
    node {
        ring0_addr: %(srv1)s
        name: srv1
        nodeid: 1
    }
    node {
        ring0_addr: %(srv2)s
        name: srv2
        nodeid: 2
    }
}
quorum {
    provider: corosync_votequorum
    two_node: 1
}
logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: no
    to_stderr: no
    timestamp: on
}
""" % {"srv1": NODES["srv1"][0], "srv2": NODES["srv2"][0]}

# DRBD 8.4, one resource with two volumes as in the shipped examples: volume 0
# (/dev/drbd0, small) and volume 1 (/dev/drbd1, data)
DRBD_RES = """resource %(res)s {
    protocol C;
    net {
        after-sb-0pri discard-zero-changes;
        after-sb-1pri discard-secondary;
        after-sb-2pri disconnect;
    }
    volume 0 {
        device /dev/drbd0;
        disk /dev/vdb;
        meta-disk internal;
    }
    volume 1 {
        device /dev/drbd1;
        disk /dev/vdc;
        meta-disk internal;
    }
    on srv1 { address %(srv1)s:7789; }
    on srv2 { address %(srv2)s:7789; }
}
""" % {"res": DRBD_RESOURCE, "srv1": NODES["srv1"][0], "srv2": NODES["srv2"][0]}

START_STACK = r"""
if [ -d /run/systemd/system ]; then systemctl start corosync && systemctl start pacemaker
else
  corosync
  setsid /usr/sbin/pacemakerd > /var/log/pacemaker/pacemakerd.out 2>&1 < /dev/null &
fi
"""

# a fenced/reset server reboots with its cluster stack down (nothing starts at boot);
# its configuration survives the reset (the root overlay lives as long as QEMU)
REJOIN = r"""
modprobe drbd; modprobe nfsd
if [ -d /run/systemd/system ]; then systemctl start rpcbind; else mkdir -p /run/rpcbind; pgrep -x rpcbind >/dev/null || rpcbind -w; fi
""" + probes.SERVER_PROBES + START_STACK

# the lab's own additions to every layout: the test fence device, and Pacemaker
# settings for emulation (see lab/README.md)
LAB_PROPERTIES = [
    ("crm_config", "stonith-enabled", "true"),
    ("crm_config", "stonith-timeout", "90s"),
    ("crm_config", "cluster-recheck-interval", "60s"),
    # under emulation the guests' load looks "extreme" to Pacemaker's throttling, which
    # then runs one action at a time per node; allow parallel actions
    ("crm_config", "load-threshold", "1000%"),
    ("crm_config", "node-action-limit", "20"),
    ("rsc_defaults", "resource-stickiness", "200"),
]
FENCE_XML = ('<primitive id="fence-lab" class="stonith" type="fence_qemulab">'
             '<instance_attributes id="fence-lab-ia">'
             '<nvpair id="fence-lab-hosts" name="pcmk_host_list" value="srv1 srv2"/>'
             '<nvpair id="fence-lab-check" name="pcmk_host_check" value="static-list"/>'
             '</instance_attributes><operations>'
             '<op id="fence-lab-monitor" name="monitor" interval="60s" timeout="20s"/>'
             '</operations></primitive>')
LOCATION_XML = '<rsc_location id="loc-nfs-srv1" rsc="%s" node="srv1" score="50"/>' % GROUP


def setup_servers(ctx):
    """corosync.conf and the DRBD resource on both servers, the initial DRBD sync skipped,
    both volumes formatted (the layout prepares its directories), DRBD down again."""
    lab, lay = ctx.lab, ctx.layout
    cc = lab.put_file("corosync.conf", COROSYNC_CONF)
    dr = lab.put_file("drbd.res", DRBD_RES)
    common = r"""
set -e
mkdir -p /etc/corosync /var/log/corosync /var/log/pacemaker /etc/drbd.d /mnt/lab/files/logs
cp %s /etc/corosync/corosync.conf
corosync -t >/dev/null 2>&1 || { corosync -t; exit 1; }
cp %s /etc/drbd.d/%s.res
modprobe drbd; modprobe nfsd
# rpcbind is a base service on a Debian NFS server (enabled by default with systemd)
if [ -d /run/systemd/system ]; then systemctl start rpcbind; else mkdir -p /run/rpcbind; rpcbind -w; fi
drbdadm -- --force create-md %s >/dev/null 2>&1 </dev/null || drbdadm -- --force create-md %s </dev/null
drbdadm up %s
%s
""" % (cc, dr, DRBD_RESOURCE, DRBD_RESOURCE, DRBD_RESOURCE, DRBD_RESOURCE, probes.SERVER_PROBES)
    lab.parallel({h: common for h in SERVERS}, timeout=120, label="server setup")
    # both disks are zero-filled sparse files: skip the initial sync
    lab.must("srv1", r"""
set -e
n() { grep -c "$1" /proc/drbd || true; }
i=0; until [ "$(n cs:Connected)" -ge 2 ]; do i=$((i+1)); [ $i -lt 600 ] || { cat /proc/drbd; exit 1; }; sleep 0.1; done
drbdadm -- --clear-bitmap new-current-uuid %(res)s/0
drbdadm -- --clear-bitmap new-current-uuid %(res)s/1
i=0; until [ "$(n ds:UpToDate/UpToDate)" -ge 2 ]; do i=$((i+1)); [ $i -lt 300 ] || { cat /proc/drbd; exit 1; }; sleep 0.1; done
drbdadm primary %(res)s
mkfs.ext4 -q -F /dev/drbd0
mkfs.ext4 -q -F /dev/drbd1
mkdir -p /mnt/v0 /mnt/v1
mount /dev/drbd0 /mnt/v0
mount /dev/drbd1 /mnt/v1
%(prep)s
umount /mnt/v0 /mnt/v1
drbdadm secondary %(res)s
cat /proc/drbd
""" % {"res": DRBD_RESOURCE, "prep": lay.prepare_volumes()}, timeout=180, label="drbd setup")
    lab.parallel({h: "drbdadm down %s" % DRBD_RESOURCE for h in SERVERS}, timeout=60, label="drbd setup")


def start_stack(ctx):
    """corosync + Pacemaker on both servers; waits until both are online with a DC."""
    lab = ctx.lab
    lab.parallel({h: START_STACK for h in SERVERS}, timeout=90, label="cluster start")
    t = time.time()
    while True:
        rc, out = lab.run("srv1", "crm_mon -1 2>&1 | head -20", timeout=30, label="cluster start")
        if re.search(r"Online: \[ srv1 srv2 \]", out) and "Current DC: srv" in out:
            break
        if time.time() - t > 240:
            raise LabError("cluster start", "both nodes not online after 240 s:\n" + out)
        time.sleep(2)
    log("cluster online (both nodes) after %.0f s" % (time.time() - t))


def load_lab_base(ctx):
    """Properties and the test fence device: the lab's part of every configuration."""
    script = "set -e\n"
    for typ, name, value in LAB_PROPERTIES:
        script += "crm_attribute --type %s --name %s --update %s\n" % (typ, name, value)
    fx = ctx.lab.put_file("fence.xml", FENCE_XML)
    script += "cibadmin --create --scope resources --xml-file %s\n" % fx
    ctx.lab.must("srv1", script, timeout=90, label="cib base")


def add_location(ctx):
    lx = ctx.lab.put_file("location.xml", LOCATION_XML)
    ctx.lab.must("srv1", "cibadmin --create --scope constraints --xml-file %s" % lx, timeout=60, label="cib location")


def group_members(ctx):
    """The ids of the group's members, in order, from the live CIB."""
    out = ctx.lab.must("srv1", "cibadmin -Q --scope resources", timeout=60, label="group members")
    root = ET.fromstring(out[out.index("<resources"):])
    for g in root.iter("group"):
        if g.get("id") == GROUP:
            return [p.get("id") for p in g.findall("primitive")]
    raise LabError("cib", "no group %s in the CIB after loading the %s layout" % (GROUP, ctx.layout.name))


def status(ctx):
    """{resource id: [nodes where active]} from crm_mon XML on any live server."""
    for h in SERVERS:
        try:
            rc, out = ctx.lab.run(h, "crm_mon -1 --output-as=xml 2>/dev/null", timeout=30, label="status")
        except LabError:
            continue
        if rc != 0 or "<pacemaker-result" not in out:
            continue
        try:
            root = ET.fromstring(out[out.index("<pacemaker-result"):])
        except (ValueError, ET.ParseError):
            continue
        st = {}
        for r in root.iter("resource"):
            nodes = [n.get("name") for n in r.iter("node")]
            key = r.get("id")
            if key.startswith("drbd"):
                key = "drbd:" + (r.get("role") or "")
            if r.get("active") == "true" and r.get("failed") != "true":
                st.setdefault(key, []).extend(nodes)
        nodes_el = root.find("nodes")
        st["_online"] = [n.get("name") for n in (nodes_el if nodes_el is not None else [])
                         if n.get("online") == "true"]
        st["_failed"] = [r.get("id") for r in root.iter("resource") if r.get("failed") == "true"]
        st["_failures"] = [f.attrib for f in root.iter("failure")]
        return st
    return None


def group_on(ctx, st):
    if not st:
        return None
    nodes = {tuple(st.get(i, [])) for i in ctx.group_ids}
    if len(nodes) == 1:
        n = nodes.pop()
        if len(n) == 1:
            return n[0]
    return None


def group_stopped(ctx, st):
    return st is not None and not any(st.get(i) for i in ctx.group_ids)


def wait_group(ctx, node, timeout, label):
    """Wait until every group member runs on node (None: on either server; returns the
    node then). Polls the cheap signal first (the service address on the node's eth0), then
    confirms with crm_mon: crm_mon costs seconds of guest CPU under emulation and would
    slow the cluster down."""
    t = time.time()
    st = None
    while time.time() - t < timeout:
        for n in [node] if node else SERVERS:
            rc, out = ctx.lab.run(n, "ip -o addr show dev eth0 | grep -c ' %s/' || true" % VIP,
                                  timeout=60, label="vip check")
            if out.strip() not in ("", "0"):
                st = status(ctx)
                if group_on(ctx, st) == n:
                    return (time.time() - t) if node else (time.time() - t, n)
        time.sleep(2)
    st = status(ctx)
    raise LabError(label, "group %s not started on %s within %d s; last status: %s"
                   % (GROUP, node, timeout, json.dumps(st)))


def rejoin(ctx, timeout=480, need_group=True):
    """Bring servers that were fenced or reset back into the cluster, and wait until
    both are online with both DRBD volumes connected and UpToDate on both sides."""
    st = status(ctx)
    online = (st or {}).get("_online", [])
    missing = [h for h in SERVERS if h not in online]
    t = time.time()
    for h in missing:
        log("rejoin: starting the cluster stack on %s again" % h)
        ctx.lab.must(h, REJOIN, timeout=300, label="rejoin")
    while time.time() - t < timeout:
        st = status(ctx)
        if st and sorted(st.get("_online", [])) == SERVERS:
            ok = True
            for h in SERVERS:
                rc, out = ctx.lab.run(h, "cat /proc/drbd", timeout=60, label="rejoin")
                ok = ok and out.count("ds:UpToDate/UpToDate") >= 2
            if ok and (group_on(ctx, st) or not need_group):
                if missing:
                    log("rejoin: %s back, DRBD UpToDate on both (%.0f s)" % (missing, time.time() - t))
                return missing
        time.sleep(5)
    raise LabError("rejoin", "servers not both online with DRBD UpToDate/UpToDate within %d s: %s"
                   % (timeout, json.dumps(st)))


def failed_ops(ctx, node):
    """Failed operations with exit reasons, from the CIB updates in node's pacemaker.log
    (a fenced node's failure records vanish from the CIB, the log keeps them)."""
    rc, out = ctx.lab.run(node, "grep -ao '<lrm_rsc_op id=\"[^\"]*_last_failure_0\"[^>]*' "
                                "/var/log/pacemaker/pacemaker.log | sort -u | tail -20",
                          timeout=60, label="failed ops")
    res = []
    for line in out.splitlines():
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', line))
        item = "%s on %s rc %s: %s" % (a.get("operation_key"), a.get("on_node"), a.get("rc-code"),
                                      a.get("exit-reason") or "-")
        if item not in res:
            res.append(item)
    return res


def op_times(ctx, node):
    """Last start/stop exec-time (s) per resource on node, from the CIB status section."""
    out = ctx.lab.must(node, "cibadmin -Q --scope status", timeout=30, label="op times")
    root = ET.fromstring(out[out.index("<status"):])
    times = {}
    for ns in root.iter("node_state"):
        if ns.get("uname") != node:
            continue
        for rsc in ns.iter("lrm_resource"):
            for op in rsc.iter("lrm_rsc_op"):
                if op.get("operation") in ("start", "stop") and op.get("exec-time") is not None:
                    times["%s_%s" % (rsc.get("id"), op.get("operation"))] = int(op.get("exec-time")) / 1000.0
    return times
