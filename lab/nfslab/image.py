"""Host packages and the guest image (kernel, initramfs, root fs), cached by content."""
import hashlib
import os
import shutil
import subprocess
import time

from .common import CACHE, LAB, LabError, log, run_host

HOST_PKGS = ["qemu-system-x86", "debootstrap", "e2fsprogs", "busybox-static", "cpio", "kmod"]


def ensure_host_packages():
    missing = []
    for p in HOST_PKGS:
        r = run_host(["dpkg-query", "-W", "-f=${Status}", p], check=False)
        if "install ok installed" not in r.stdout:
            missing.append(p)
    if missing:
        log("installing host packages: %s" % " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run_host(["apt-get", "update", "-q"], env=env)
        r = run_host(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing, env=env, check=False)
        if r.returncode != 0:
            raise LabError("host packages", "apt-get install %s failed:\n%s" % (" ".join(missing), r.stdout[-3000:]))
    if not shutil.which("qemu-system-x86_64"):
        raise LabError("host packages", "qemu-system-x86_64 not found after installing qemu-system-x86")
    r = run_host(["qemu-system-x86_64", "-accel", "help"], check=False)
    if "tcg" not in r.stdout:
        raise LabError("host packages", "this QEMU has no TCG accelerator:\n" + r.stdout)


def apt_mirror():
    try:
        for line in open("/etc/apt/sources.list.d/debian.sources"):
            if line.startswith("URIs:"):
                return line.split()[1]
    except OSError:
        pass
    try:
        for line in open("/etc/apt/sources.list"):
            f = line.split()
            if len(f) >= 3 and f[0] == "deb" and f[2].startswith("bookworm"):
                return f[1]
    except OSError:
        pass
    return "http://deb.debian.org/debian"


def image_key():
    """Hash of every file in lab/image/: a change there means a new image."""
    h = hashlib.sha256()
    d = os.path.join(LAB, "image")
    for n in sorted(os.listdir(d)):
        if not os.path.isfile(os.path.join(d, n)):
            continue
        with open(os.path.join(d, n), "rb") as f:
            h.update(n.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()[:16]


def ensure_image(retries):
    """The cached image directory for the current lab/image/, built if missing; (dir, build seconds)."""
    key = image_key()
    final = os.path.join(CACHE, "image-" + key)
    if os.path.exists(os.path.join(final, "ok")):
        log("guest image cached: %s" % final)
        return final, 0.0
    os.makedirs(CACHE, exist_ok=True)
    for old in os.listdir(CACHE):  # drop stale images (about 1 GB each)
        if old.startswith("image-") and old != "image-" + key:
            shutil.rmtree(os.path.join(CACHE, old), ignore_errors=True)
    t = time.time()
    for attempt in (1, 2):
        tmp = final + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        log("building guest image %s (attempt %d; about 2-5 minutes)" % (key, attempt))
        r = subprocess.run([os.path.join(LAB, "image", "build.sh"), tmp, apt_mirror()])
        if r.returncode == 0:
            with open(os.path.join(tmp, "ok"), "w") as f:
                f.write(time.strftime("%F %T\n"))
            os.rename(tmp, final)
            took = time.time() - t
            log("guest image built in %.0f s" % took)
            return final, took
        shutil.rmtree(tmp, ignore_errors=True)
        if attempt == 1:
            log("RETRY infrastructure step 'image build' (build.sh rc %d)" % r.returncode)
            retries.append("image build")
    raise LabError("image build", "build.sh failed twice; see the output above")
