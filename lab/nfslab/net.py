"""The lab's network: a namespace nfslab<pid> with a bridge (no address, no uplink) and
one tap per VM. Nothing leaves the namespace."""
import os
import re

from .common import NODES, log, run_host


class Network:
    def __init__(self):
        self.ns = "nfslab%d" % os.getpid()
        self.up = False

    def setup(self):
        ip = ["ip", "-n", self.ns]
        run_host(["ip", "netns", "add", self.ns])
        self.up = True
        run_host(ip + ["link", "set", "lo", "up"])
        run_host(ip + ["link", "add", "br0", "type", "bridge"])
        run_host(ip + ["link", "set", "br0", "up"])
        for n in NODES:
            run_host(ip + ["tuntap", "add", "dev", "tap-" + n, "mode", "tap"])
            run_host(ip + ["link", "set", "tap-" + n, "master", "br0", "up"])

    def exec_argv(self, argv):
        """argv run inside the namespace."""
        return ["ip", "netns", "exec", self.ns] + list(argv)

    def set_link(self, node, up):
        """Cut (or restore) a VM's network: detach its tap from the bridge (host side)."""
        ip = ["ip", "-n", self.ns, "link", "set", "tap-" + node]
        if up:
            run_host(ip + ["master", "br0", "up"])
        else:
            run_host(ip + ["nomaster"])

    def close(self):
        if self.up:
            run_host(["ip", "netns", "del", self.ns], check=False)
            self.up = False


def cleanup_stale_namespaces():
    """Remove nfslabPID namespaces left by lab runs whose process is gone."""
    r = run_host(["ip", "netns", "list"], check=False)
    for line in r.stdout.splitlines():
        m = re.match(r"nfslab(\d+)\b", line)
        if m and not os.path.exists("/proc/" + m.group(1)):
            log("removing stale namespace %s" % m.group(0))
            run_host(["ip", "netns", "del", m.group(0)], check=False)
