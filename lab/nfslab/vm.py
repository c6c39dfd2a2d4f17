"""QEMU VMs (TCG), their QMP sockets, the fence service behind fence_qemulab and the
9p command channel. One Lab object is one lab boot."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from .common import (DRBD_DISKS_MIB, LAB, NODES, SERVERS, T0, LabError, end_process, log, mac_of)
from .net import Network


class Lab:
    def __init__(self, image, systemd=False):
        self.image = image
        self.systemd = systemd
        self.work = tempfile.mkdtemp(prefix="nfslab-")
        self.share = os.path.join(self.work, "share")
        self.net = Network()
        self.procs = {}
        self.seq = 0
        self.lock = threading.Lock()
        self.stop_fence = threading.Event()
        self.fence_log = []
        self.fence_thread = None
        self.helpers = []  # host-side helper processes (packet capture), ended by pid
        self.capture_file = os.path.join(self.work, "nfscap.jsonl")
        self.cut = False
        for d in ("cmd", "fence", "guest", "bin", "files", "examples"):
            os.makedirs(os.path.join(self.share, d))
        for n in os.listdir(os.path.join(LAB, "guest")):
            if os.path.isfile(os.path.join(LAB, "guest", n)):
                shutil.copy(os.path.join(LAB, "guest", n), os.path.join(self.share, "guest", n))

    # -- network, and the host-side capture on the client's tap (lab/nfscap)
    def net_setup(self):
        self.net.setup()
        errf = open(os.path.join(self.work, "nfscap.err"), "w")
        self.helpers.append(subprocess.Popen(
            self.net.exec_argv([sys.executable, os.path.join(LAB, "nfscap"), "tap-cli1", self.capture_file]),
            stdin=subprocess.DEVNULL, stdout=errf, stderr=subprocess.STDOUT))

    def set_client_link(self, up):
        self.cut = not up
        self.net.set_link("cli1", up)

    # -- VMs
    def start_vm(self, name):
        ipaddr, _mac, mem, server = NODES[name]
        img = os.path.join(self.image, "base.img")
        # no_timer_check: a starved emulated CPU otherwise fails the kernel's IO-APIC timer
        # check at load 20 ("Kernel panic - not syncing: IO-APIC + timer doesn't work!")
        append = ("console=ttyS0 root=/dev/vda rw net.ifnames=0 panic=-1 quiet no_timer_check lab.host=%s lab.ip=%s/24"
                  % (name, ipaddr))
        if not (self.systemd and server):
            append += " init=/usr/local/sbin/lab-boot"
        argv = self.net.exec_argv([
            "qemu-system-x86_64", "-name", name,
            "-accel", "tcg,thread=multi,tb-size=256", "-nodefaults", "-vga", "none", "-display", "none",
            "-m", str(mem), "-smp", "1",
            "-serial", "file:" + os.path.join(self.work, name + ".console"),
            "-qmp", "unix:%s,server=on,wait=off" % os.path.join(self.work, name + ".qmp"),
            "-kernel", os.path.join(self.image, "vmlinuz"), "-initrd", os.path.join(self.image, "initrd.img"),
            "-append", append,
            "-drive", "file=%s,format=raw,if=virtio,snapshot=on" % img,
            "-virtfs", "local,path=%s,mount_tag=lab,security_model=none,id=lab" % self.share,
            "-netdev", "tap,id=n0,ifname=tap-%s,script=no,downscript=no" % name,
            "-device", "virtio-net-pci,netdev=n0,mac=%s" % mac_of(name)])
        if server:  # /dev/vdb and /dev/vdc: DRBD volumes 0 and 1
            for i, mib in enumerate(DRBD_DISKS_MIB):
                disk = os.path.join(self.work, "%s-drbd%d.img" % (name, i))
                if not os.path.exists(disk):
                    with open(disk, "wb") as f:
                        f.truncate(mib << 20)
                argv += ["-drive", "file=%s,format=raw,if=virtio,cache=writeback" % disk]
        errf = open(os.path.join(self.work, name + ".qemu.log"), "w")
        self.procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=errf, stderr=subprocess.STDOUT)
        os.makedirs(os.path.join(self.share, "cmd", name), exist_ok=True)

    def boot(self, names, timeout, retries):
        for attempt in (1, 2):
            t = time.time()
            for n in names:
                ready = os.path.join(self.share, "cmd", n, "agent.ready")
                if os.path.exists(ready):
                    os.unlink(ready)
                self.start_vm(n)
            missing = list(names)
            while missing and time.time() - t < timeout:
                for n in list(missing):
                    if self.procs[n].poll() is not None:
                        break
                    if os.path.exists(os.path.join(self.share, "cmd", n, "agent.ready")):
                        missing.remove(n)
                time.sleep(0.5)
                dead = [n for n in names if self.procs[n].poll() is not None]
                if dead or self.console_fatal(names):
                    break
            dead = [n for n in names if self.procs[n].poll() is not None]
            fatal = self.console_fatal(names)
            if fatal:
                missing = [fatal]
            if not missing and not dead:
                took = time.time() - t
                log("booted %s in %.1f s" % (" ".join(names), took))
                return took
            if dead:
                why = "QEMU exited for %s: %s" % (dead, tail(os.path.join(self.work, dead[0] + ".qemu.log")))
            elif fatal:
                why = "guest %s failed to boot (%s); console tail:\n%s" % (
                    fatal, getattr(self, "fatal_line", "?"), tail(os.path.join(self.work, fatal + ".console"), 40))
            else:
                why = "no command agent after %d s on %s; console tail:\n%s" % (
                    timeout, missing, tail(os.path.join(self.work, missing[0] + ".console")))
            for n in names:
                self.kill_vm(n)
            if attempt == 1:
                log("RETRY infrastructure step 'boot' (%s)" % why.splitlines()[0])
                retries.append("boot: " + why.splitlines()[0])
            else:
                raise LabError("boot", why)

    def console_fatal(self, names):
        for n in names:
            try:
                c = open(os.path.join(self.work, n + ".console"), errors="replace").read()
            except OSError:
                continue
            m = re.search(r"[^\n]*(lab initramfs: cannot mount|Kernel panic|lab-boot: cannot mount)[^\n]*", c)
            if m:
                self.fatal_line = m.group(0).strip()[:200]
                return n
        return None

    def kill_vm(self, name):
        p = self.procs.pop(name, None)
        if p is not None:
            end_process(p)

    # -- QMP (QEMU monitor) on the host side
    def qmp(self, name, command, args=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(os.path.join(self.work, name + ".qmp"))
        f = s.makefile("rw")
        f.readline()  # greeting
        resp = {}
        for cmd in ({"execute": "qmp_capabilities"},
                    dict({"execute": command}, **({"arguments": args} if args else {}))):
            f.write(json.dumps(cmd) + "\n")
            f.flush()
            while True:
                resp = json.loads(f.readline())
                if "return" in resp or "error" in resp:
                    break
        s.close()
        if "error" in resp:
            raise LabError("qmp", "%s %s: %s" % (name, command, resp["error"]))
        return resp["return"]

    def reset_vm(self, name):
        self.qmp(name, "system_reset")

    # -- fence requests from fence_qemulab in the guests (see guest/fence_qemulab)
    def fence_loop(self):
        d = os.path.join(self.share, "fence")
        while not self.stop_fence.is_set():
            for f in sorted(os.listdir(d)):
                if not f.endswith(".req"):
                    continue
                path = os.path.join(d, f)
                try:
                    action, target = open(path).read().split()[:2]
                except (OSError, ValueError):
                    continue
                os.unlink(path)
                res = "FAIL unknown target %s" % target
                if target in self.procs and target in SERVERS:
                    try:
                        if action in ("reboot", "on"):
                            self.qmp(target, "system_reset")
                            self.qmp(target, "cont")
                            res = "OK reset" if action == "reboot" else "OK on"
                        elif action == "off":
                            self.qmp(target, "stop")
                            res = "OK stopped"
                        elif action == "status":
                            st = self.qmp(target, "query-status")
                            res = "ON" if st.get("running") else "OFF"
                        else:
                            res = "FAIL unsupported action %s" % action
                    except Exception as e:  # report to the agent, keep serving
                        res = "FAIL %s" % e
                who = f.split("-")[0]
                self.fence_log.append({"t": round(time.time() - T0, 1), "epoch": round(time.time(), 3),
                                       "from": who, "action": action, "target": target, "result": res})
                log("fence request from %s: %s %s -> %s" % (who, action, target, res))
                tmp = os.path.join(d, f[:-4] + ".tmp2")
                with open(tmp, "w") as fh:
                    fh.write(res + "\n")
                os.rename(tmp, os.path.join(d, f[:-4] + ".res"))
            self.stop_fence.wait(0.2)

    def start_fence_service(self):
        self.fence_thread = threading.Thread(target=self.fence_loop, daemon=True)
        self.fence_thread.start()

    # -- command channel: the host writes cmd/<vm>/<n>-<label>.sh, lab-agent runs it
    def run(self, host, script, timeout=120, label="cmd"):
        with self.lock:
            self.seq += 1
            seq = self.seq
        d = os.path.join(self.share, "cmd", host)
        base = os.path.join(d, "%05d-%s" % (seq, re.sub(r"[^a-z0-9_-]", "_", label)))
        with open(base + ".sh.tmp", "w") as f:
            f.write("export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n" + script + "\n")
        os.rename(base + ".sh.tmp", base + ".sh")
        t = time.time()
        while time.time() - t < timeout:
            if os.path.exists(base + ".rc"):
                rc = int(open(base + ".rc").read().strip() or "255")
                out = open(base + ".out", errors="replace").read()
                return rc, out
            if host in self.procs and self.procs[host].poll() is not None:
                raise LabError(label, "QEMU for %s exited" % host)
            time.sleep(0.1)
        raise LabError(label, "%s: no result after %d s" % (host, timeout))

    def must(self, host, script, timeout=120, label="cmd"):
        rc, out = self.run(host, script, timeout, label)
        if rc != 0:
            raise LabError(label, "%s: rc %d\n%s" % (host, rc, out[-3000:]))
        return out

    def parallel(self, jobs, timeout=120, label="cmd"):
        """jobs: {host: script}; run at once, raise on the first failure."""
        res, errs = {}, []

        def one(h, s):
            try:
                res[h] = self.must(h, s, timeout, label)
            except Exception as e:
                errs.append(e)
        ts = [threading.Thread(target=one, args=(h, s)) for h, s in jobs.items()]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errs:
            raise errs[0]
        return res

    def put_file(self, name, text):
        p = os.path.join(self.share, "files", name)
        with open(p, "w") as f:
            f.write(text)
        return "/mnt/lab/files/" + name

    def put_host_file(self, src, subdir, name=None):
        """Copy a host file into the share; returns its path in the guests."""
        name = name or os.path.basename(src)
        shutil.copy(src, os.path.join(self.share, subdir, name))
        return "/mnt/lab/%s/%s" % (subdir, name)

    def guest_time(self, node):
        out = self.must(node, "date +%s.%N | cut -c1-14", timeout=30, label="time")
        return float(out.strip())

    def save_logs(self, dest):
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest, exist_ok=True)
        for n in os.listdir(self.work):
            if n.endswith((".console", ".qemu.log", ".jsonl", "nfscap.err")):
                shutil.copy(os.path.join(self.work, n), dest)
        shutil.copytree(os.path.join(self.share, "cmd"), os.path.join(dest, "cmd"), dirs_exist_ok=True)
        logs = os.path.join(self.share, "files", "logs")
        if os.path.isdir(logs):
            shutil.copytree(logs, os.path.join(dest, "guest-logs"), dirs_exist_ok=True)

    def collect_guest_logs(self):
        for h in list(NODES):
            if h in self.procs and self.procs[h].poll() is None and \
                    os.path.exists(os.path.join(self.share, "cmd", h, "agent.ready")):
                try:
                    self.run(h, r"""
d=/mnt/lab/files/logs/$(hostname); mkdir -p $d
cp -r /var/log/pacemaker /var/log/corosync $d/ 2>/dev/null
cp /run/nfsmon.log /run/w*.log /run/w*.err /run/ktrace*.log /run/cshb*.log $d/ 2>/dev/null
journalctl -b --no-pager > $d/journal.txt 2>/dev/null
dmesg > $d/dmesg.txt; cat /proc/drbd > $d/drbd.txt 2>/dev/null; true
""", timeout=30, label="logs")
                except Exception:
                    pass

    def close(self):
        self.stop_fence.set()
        for p in self.helpers:
            end_process(p)
        self.helpers = []
        for n in list(self.procs):
            try:
                self.kill_vm(n)
            except Exception as e:
                log("cleanup: %s: %s" % (n, e))
        self.net.close()
        shutil.rmtree(self.work, ignore_errors=True)


def tail(path, n=25):
    try:
        return "".join(open(path, errors="replace").readlines()[-n:])
    except OSError:
        return "(no %s)" % path
