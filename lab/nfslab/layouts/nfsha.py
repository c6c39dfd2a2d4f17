"""nfsha's layout, installed the way the README's quick start says: the package
(`dpkg -i`, or `nfsha install` from a binary until the package exists), /etc/nfs.conf
from the shipped examples/nfs.conf verbatim, the drop-in written by `nfsha dropin`, and
the shipped examples/nfs-cluster.crm (or examples/nfs-cluster.pcs.sh) loaded with only
the addresses substituted (the lab's DRBD resource and devices are the example's).
The lab adds only its fence device, its Pacemaker settings and a location preference."""
import json
import os
import re

from .. import cluster
from ..common import CLIENT_NET, REPO, SERVERS, VIP, LabError, log
from .base import Layout

AGENTS = ["nfsstate", "nfsserver", "exportfs", "vip"]
# the example's addresses -> the lab's; nothing else in the examples is changed
SUBSTITUTIONS = [("192.168.122.200", VIP), ("192.168.122.0/24", CLIENT_NET)]
EXAMPLES_IN_PACKAGE = "/usr/share/doc/nfsha/examples"

INSTALL = r"""
set -e
if [ -f /mnt/lab/bin/nfsha.deb ]; then
  dpkg -i /mnt/lab/bin/nfsha.deb > /tmp/nfsha-install.out 2>&1 || { cat /tmp/nfsha-install.out; exit 1; }
  echo "installed from the package: $(dpkg-query -W -f='${Package} ${Version}' nfsha)"
else
  /mnt/lab/bin/nfsha install > /tmp/nfsha-install.out 2>&1 || { echo "nfsha install failed:"; cat /tmp/nfsha-install.out; exit 1; }
  echo "installed with nfsha install (no package given)"
fi
cat /tmp/nfsha-install.out
bad=""
for a in %(agents)s; do
  f=/usr/lib/ocf/resource.d/nfsha/$a
  if [ ! -x $f ]; then bad="$bad $a(missing)"; continue; fi
  rc=0; OCF_ROOT=/usr/lib/ocf $f meta-data > /tmp/md-$a.xml 2>/tmp/md-$a.err || rc=$?
  if [ $rc -ne 0 ] || ! grep -q "<resource-agent" /tmp/md-$a.xml; then
    bad="$bad $a(meta-data rc $rc: $(head -c 300 /tmp/md-$a.err))"
  fi
done
if [ -n "$bad" ]; then echo "nfsha OCF agents not usable:$bad"; exit 1; fi
echo "nfsha agents ok: %(agents)s"
"""

# the examples as the package ships them, else the repository's copies (share)
SHOW_EXAMPLE = r"""
f=%(pkg)s/%(name)s
if [ -f $f ]; then echo "SOURCE $f"; cat $f
elif [ -f $f.gz ]; then echo "SOURCE $f.gz"; zcat $f.gz
else echo "SOURCE examples/%(name)s (repository)"; cat /mnt/lab/examples/%(name)s; fi
"""


def parse_crm(text):
    """crm shell text -> {id: {"agent", "params": {k: v}}} and the group's member list."""
    stmts = re.sub(r"\\\n\s*", " ", text).splitlines()
    prims, group = {}, []
    for s in stmts:
        f = s.split()
        if len(f) >= 3 and f[0] == "primitive":
            params, on = {}, False
            for w in f[3:]:
                if w == "params":
                    on = True
                elif w in ("op", "meta", "utilization"):
                    on = False
                elif on and "=" in w:
                    k, v = w.split("=", 1)
                    params[k] = v
            prims[f[1]] = {"agent": f[2], "params": params}
        elif len(f) >= 3 and f[0] == "group" and f[1] == cluster.GROUP:
            group = [w for w in f[2:] if "=" not in w and w != "meta"]
    return prims, group


# Emulated guests on a shared 2-core host run the agents' forks 10-20x slower than real
# machines: the example's operation timeouts (20 s for DRBD's monitor) are exceeded there
# (measured: ocf:linbit:drbd monitor "Timed Out after 20s" at load 20). The lab multiplies
# every timeout by this factor, the one change to the example besides the addresses.
TIMEOUT_SCALE = 4


def scale_timeouts(text, factor=TIMEOUT_SCALE):
    """Every `timeout=<n>s` in the example multiplied by factor; returns (text, count)."""
    n = [0]

    def one(m):
        n[0] += 1
        return "timeout=%ds" % (int(m.group(1)) * factor)
    return re.sub(r"\btimeout=(\d+)s\b", one, text), n[0]


def substitute(text):
    """The example with the lab's addresses; fails on any other example address."""
    counts = {}
    for old, new in SUBSTITUTIONS:
        counts[old] = text.count(old)
        text = text.replace(old, new)
    left = re.findall(r"192\.168\.122\.\d+(?:/\d+)?", text)
    if left:
        raise LabError("example", "addresses in the example the lab does not substitute: %s" % sorted(set(left)))
    return text, counts


class Nfsha(Layout):
    name = "nfsha"
    systemd_default = False
    description = "the shipped examples/nfs-cluster.crm (nfsstate, nfsserver, exportfs, vip after a data Filesystem)"

    def __init__(self, args, no_scope=False):
        if no_scope:
            raise LabError("layout", "the nfsha layout has no run without a fixed scope "
                                     "(nfsserver requires server_hostname for NFSv4.1+)")
        super().__init__(args, no_scope)
        self.use_pcs = False
        self.prims = None
        self.export = None
        self.source = {}

    def systemd(self):
        return bool(self.args.systemd)

    def prepare_volumes(self):
        # volume 0 is nfsstate's (it makes its own directories); volume 1 is exported whole
        return "chmod 1777 /mnt/v1\n"

    def _example(self, ctx, name):
        out = ctx.lab.must("srv1", SHOW_EXAMPLE % {"pkg": EXAMPLES_IN_PACKAGE, "name": name},
                           timeout=60, label="example")
        first, _, text = out.partition("\n")
        self.source[name] = first[len("SOURCE "):]
        return text

    def install(self, ctx):
        lab, args = ctx.lab, self.args
        if args.nfsha_deb:
            lab.put_host_file(args.nfsha_deb, "bin", "nfsha.deb")
        elif args.nfsha_bin_found:
            lab.put_host_file(args.nfsha_bin_found, "bin", "nfsha")
        else:
            raise LabError("nfsha install", "no nfsha package or binary: pass --nfsha-deb PATH (the .deb), or "
                           "build the binary (cargo build --release) or pass --nfsha-bin PATH; looked for %s"
                           % args.nfsha_bin)
        for n in ("nfs.conf", "nfs-cluster.crm", "nfs-cluster.pcs.sh"):
            lab.put_host_file(os.path.join(REPO, "examples", n), "examples")
        out = lab.parallel({h: INSTALL % {"agents": " ".join(AGENTS)} for h in SERVERS},
                           timeout=180, label="nfsha install")
        self.install_log = out["srv1"].splitlines()[0] if out.get("srv1") else ""
        log("nfsha: %s" % self.install_log)
        crm, _ = substitute(self._example(ctx, "nfs-cluster.crm"))
        self.prims, members = parse_crm(crm)
        try:
            srv = self.prims["nfs-server"]["params"]
            self.export = self.prims["nfs-export"]["params"]["directory"]
        except KeyError as e:
            raise LabError("example", "examples/nfs-cluster.crm has no %s" % e)
        # /etc/nfs.conf from the example, verbatim, and the drop-in from `nfsha dropin`
        nfsconf = self._example(ctx, "nfs.conf")
        f = lab.put_file("nfs.conf", nfsconf)
        dropin = ["nfsha", "dropin", "--hostname", srv["server_hostname"], "--lease", srv.get("lease_time", "90"),
                  "--grace", srv.get("grace_time", srv.get("lease_time", "90"))]
        self.dropin_cmd = " ".join(dropin)
        lab.parallel({h: "set -e\ncp %s /etc/nfs.conf\n%s\n"
                         "if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi\n"
                         "cat /etc/systemd/system/nfs-server.service.d/nfsha.conf\n" % (f, self.dropin_cmd)
                      for h in SERVERS}, timeout=120, label="quick start config")

    def load(self, ctx):
        lab = ctx.lab
        if self.use_pcs:
            text, counts = substitute(self._example(ctx, "nfs-cluster.pcs.sh"))
            text, counts["timeouts x%d" % TIMEOUT_SCALE] = scale_timeouts(text)
            f = lab.put_file("nfs-cluster.pcs.sh", text)
            log("loading the shipped pcs example (%s) with pcs: about 20 s per pcs call under emulation"
                % self.source["nfs-cluster.pcs.sh"])
            lab.must("srv1", "sh %s" % f, timeout=1200, label="pcs load")
            self.loaded = {"file": self.source["nfs-cluster.pcs.sh"], "tool": "pcs", "substituted": counts}
        else:
            text, counts = substitute(self._example(ctx, "nfs-cluster.crm"))
            text, counts["timeouts x%d" % TIMEOUT_SCALE] = scale_timeouts(text)
            f = lab.put_file("nfs-cluster.crm", text)
            lab.must("srv1", "crm configure load update %s" % f, timeout=600, label="crm load")
            self.loaded = {"file": self.source["nfs-cluster.crm"], "tool": "crm configure load update",
                           "substituted": counts}
        log("nfsha layout loaded from %s with %s (substituted %s)" % (self.loaded["file"], self.loaded["tool"],
                                                                    json.dumps(counts)))

    def after_start(self, ctx, node):
        info = {"config": self.loaded, "nfs_conf": self.source.get("nfs.conf"), "dropin": self.dropin_cmd,
                "install": self.install_log}
        if ctx.lab.systemd:
            out = ctx.lab.must(node, "systemctl show -p ActiveState -p DropInPaths -p ExecStart "
                                     "nfs-server.service", timeout=60, label="init check")
            info.update(dict(line.split("=", 1) for line in out.splitlines() if "=" in line))
            ok = ("nfsha.conf" in info.get("DropInPaths", "")
                  and "internal-sethostname-exec" in info.get("ExecStart", "")
                  and info.get("ActiveState") == "active")
            info["dropin_in_use"] = ok
            if not ok:
                raise LabError("systemd drop-in", "nfs-server.service on %s does not run with nfsha's "
                               "drop-in: %s" % (node, json.dumps(info)))
            log("systemd: nfs-server.service active on %s with drop-in %s" % (node, info["DropInPaths"]))
            info["statd"] = statd_view(ctx, node)
        return info

    def scope(self):
        return self.prims["nfs-server"]["params"]["server_hostname"]

    def grace_time(self):
        p = self.prims["nfs-server"]["params"]
        return float(p.get("grace_time", p.get("lease_time", 90)))


STATD_VIEW = r"""
echo "UNIT $(systemctl show -p ActiveState --value rpc-statd.service 2>/dev/null)"
for p in $(pidof rpc.statd); do echo "PID $p cwd=$(readlink /proc/$p/cwd) fds=$(ls -l /proc/$p/fd 2>/dev/null | grep -c nfs-state)"; done
grep -h state-directory-path /etc/nfs.conf /etc/nfs.conf.d/*.conf 2>/dev/null | sed 's/^/CONF /'
journalctl -b --no-pager -u rpc-statd.service 2>/dev/null | tail -5 | sed 's/^/JOURNAL /'
"""


def statd_view(ctx, node):
    """rpc-statd on node: unit state, each daemon's working directory (the issue: it
    chdir()s into [statd] state-directory-path, on the state file system), its journal."""
    rc, out = ctx.lab.run(node, STATD_VIEW, timeout=60, label="statd")
    return [line for line in out.splitlines() if line.strip()]


LAYOUT = Nfsha
