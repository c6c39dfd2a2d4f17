"""What every layout has: a name, the export clients mount, the directories it needs on
the two DRBD volumes, how its agents get onto the servers and how its configuration
gets into the CIB. Plus the CIB XML builders the hand-written layouts use."""
from .. import cluster
from ..common import DRBD_RESOURCE, LabError


class Layout:
    name = None
    export = None            # the directory clients mount (VIP:export)
    systemd_default = False  # boot the servers with systemd unless told otherwise
    description = ""

    def __init__(self, args, no_scope=False):
        self.args = args
        self.no_scope = no_scope

    def systemd(self):
        return self.systemd_default

    def prepare_volumes(self):
        """Shell run once on srv1 with volume 0 on /mnt/v0 and volume 1 on /mnt/v1."""
        return ""

    def install(self, ctx):
        """Before the cluster starts: agents and configuration files on both servers."""

    def load(self, ctx):
        """Load the layout's resources and constraints into the running cluster (srv1)."""
        raise NotImplementedError

    def after_start(self, ctx, node):
        """Checks once the group runs the first time; returns facts for the results."""
        return {}

    def scope(self):
        """The fixed server scope the layout configures (None without one)."""
        return None

    def grace_time(self):
        return 90.0

    def describe(self):
        return self.description


# ---------------------------------------------------------------- CIB XML

def nv(parent_id, pairs):
    return "".join('<nvpair id="%s-%s" name="%s" value="%s"/>' % (parent_id, k, k, v) for k, v in pairs)


def primitive(rid, cls, provider, typ, params, ops):
    prov = ' provider="%s"' % provider if provider else ""
    opx = "".join('<op id="%s-%s-%s" name="%s" %s/>' % (rid, o[0], o[1] or "0", o[0],
                  " ".join('%s="%s"' % kv for kv in [("interval", o[1] or "0")] + list(o[2].items())))
                  for o in ops)
    return ('<primitive id="%s" class="%s"%s type="%s"><instance_attributes id="%s-ia">%s</instance_attributes>'
            '<operations>%s</operations></primitive>' % (rid, cls, prov, typ, rid, nv(rid, params), opx))


def std_ops(mon="30s", start="180s", stop="180s", mon_timeout="90s"):
    """The lab's operation timings for hand-written layouts: 30 s monitors with 90 s
    timeouts (emulated guests are slow; see lab/README.md)."""
    return [("start", None, {"timeout": start}), ("stop", None, {"timeout": stop}),
            ("monitor", mon, {"timeout": mon_timeout})]


def drbd_clone_xml():
    drbd = primitive("drbd-nfs", "ocf", "linbit", "drbd", [("drbd_resource", DRBD_RESOURCE)],
                     [("start", None, {"timeout": "240s"}), ("stop", None, {"timeout": "100s"}),
                      ("promote", None, {"timeout": "90s"}), ("demote", None, {"timeout": "90s"}),
                      ("notify", None, {"timeout": "90s"}),
                      ("monitor", "20s", {"timeout": "90s", "role": "Promoted"}),
                      ("monitor", "30s", {"timeout": "90s", "role": "Unpromoted"})])
    return ('<clone id="drbd-nfs-clone"><meta_attributes id="drbd-nfs-clone-meta">%s</meta_attributes>%s</clone>'
            % (nv("drbd-nfs-clone-meta", [("promotable", "true"), ("promoted-max", "1"),
                                          ("promoted-node-max", "1"), ("clone-max", "2"),
                                          ("clone-node-max", "1"), ("notify", "true"),
                                          ("interleave", "true")]), drbd))


def load_xml_group(ctx, members):
    """Load a DRBD clone plus the group g-nfs of `members` (primitive tuples), colocated
    with the Promoted instance and ordered after the promotion."""
    group = '<group id="%s">%s</group>' % (cluster.GROUP, "".join(primitive(*m) for m in members))
    colo = ('<rsc_colocation id="col-nfs-on-drbd" rsc="%s" with-rsc="drbd-nfs-clone" '
            'with-rsc-role="Promoted" score="INFINITY"/>' % cluster.GROUP)
    order = ('<rsc_order id="o-drbd-before-nfs" first="drbd-nfs-clone" first-action="promote" '
             'then="%s" then-action="start" kind="Mandatory"/>' % cluster.GROUP)
    script = "set -e\n"
    for i, (scope, xml) in enumerate([("resources", drbd_clone_xml()), ("resources", group),
                                      ("constraints", colo), ("constraints", order)]):
        f = ctx.lab.put_file("cib-%d.xml" % i, xml)
        script += "cibadmin --create --scope %s --xml-file %s\n" % (scope, f)
    ctx.lab.must("srv1", script, timeout=90, label="cib load")


def param_of(members, rid, name):
    for m in members:
        if m[0] == rid:
            for k, v in m[4]:
                if k == name:
                    return v
    raise LabError("layout", "no parameter %s on %s" % (name, rid))
