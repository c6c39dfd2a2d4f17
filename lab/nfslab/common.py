"""Constants shared by the whole lab, logging, the error type and host commands."""
import os
import subprocess
import time

LAB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(LAB)
CACHE = os.path.join(LAB, ".cache")
T0 = time.time()

VIP = "10.77.0.100"
CLIENT_NET = "10.77.0.0/24"
NODES = {  # name: (ip, mac suffix, memory MiB, is server)
    "srv1": ("10.77.0.11", "11", 768, True),
    "srv2": ("10.77.0.12", "12", 768, True),
    "cli1": ("10.77.0.21", "21", 512, False),
}
SERVERS = ["srv1", "srv2"]
CLIENT = "cli1"
CLIENT_IP = NODES[CLIENT][0]
# DRBD resource "nfs" with two volumes, as in the shipped examples:
# volume 0 /dev/drbd0 on /dev/vdb (state), volume 1 /dev/drbd1 on /dev/vdc (data)
DRBD_RESOURCE = "nfs"
DRBD_DISKS_MIB = (64, 256)


def mac_of(node):
    return "52:54:00:77:00:%s" % NODES[node][1]


def node_of_mac(mac):
    for n in NODES:
        if mac_of(n) == mac:
            return n
    return None


def log(msg):
    print("[lab %6.1fs] %s" % (time.time() - T0, msg), flush=True)


class LabError(Exception):
    """A failure; `step` says where. Infrastructure steps may be retried, assertions never."""

    def __init__(self, step, msg):
        super().__init__("%s: %s" % (step, msg))
        self.step = step


def run_host(argv, check=True, **kw):
    """Run a host command from an argv list (never through a shell)."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and p.returncode != 0:
        raise LabError("host", "%s failed (rc %d): %s" % (" ".join(argv), p.returncode, p.stdout[-2000:]))
    return p


def end_process(p, grace=10):
    """End a child process by its pid: SIGTERM, then SIGKILL after `grace` seconds."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(grace)
