"""Scenario 10: nfsha's KVM-host heartbeat with fence_action = reboot really resets the
host (cli1, a real VM) on a hung mount, within its own bound and before a peer's check
says dead (project issue 11). Run it last in a boot: cli1 is reset and comes back
without its NFS mount.

A peer (the server not running the group, with the export mounted through the service
address) runs `nfsha heartbeat check --host cli1` in a loop. cli1's network is cut on
the host side (its tap detached from the bridge), so its mount hangs. The heartbeat
decides at fence_after after the start of its last good renewal and calls reboot(2);
the host sees the guest kernel's "reboot: Restarting system" on cli1's serial console.

Pass: the reset comes no earlier than fence_after and no later than the timeline's
"fenced by" after the start of the last good renewal (CLOCK_BOOTTIME of cli1, put on the
host's clock by a bracketed read; the uncertainty is reported and allowed); the peer's
check said alive before the cut and says dead only after the reset; the daemon's log
(written to the 9p share, so it survives the reset) has the decision; cli1 boots again
(a new CLOCK_BOOTTIME)."""
import json
import os
import re
import time

from ..common import VIP, LabError, log
from ..rows import result
from . import heartbeat, hb_grace

NUMBER = 10
NAME = "heartbeat reboot on a hung mount"
NEEDS_BOTH_SERVERS = True
HB = {"interval": 5, "io_timeout": 10, "fence_after": 45, "action": "reboot"}
RESTART_LINE = "reboot: Restarting system"

# The peer runs with cli1's timings (as every host of a cluster would): a reader judges
# with the larger of its own dead_after and the writer's, and the defaults' dead_after
# (186 s) is far above cli1's 73 s.
PEER_CONF = """host_id = "%(peer)s"
interval = "%(interval)ds"
io_timeout = "%(io_timeout)ds"
fence_after = "%(fence_after)ds"
fence_action = "log-only"
run_dir = "/run/nfsha-peer"
watch_peers = false

[[storage]]
name = "nfs"
mount = "/mnt/nfspeer"
"""

# The peer's check loop: one line per check, "<guest wall time> <exit code> <verdict line>".
PEER_START = r"""
set -e
mkdir -p /mnt/nfspeer /etc/nfsha
mountpoint -q /mnt/nfspeer || mount -t nfs -o vers=4.2 %(vip)s:%(exp)s /mnt/nfspeer
cp %(conf)s /etc/nfsha/peer.toml
nfsha heartbeat validate --config /etc/nfsha/peer.toml > /dev/null
rm -f /run/peercheck.log
: > /run/peercheck.log
cat > /run/peercheck.py <<'EOF'
import subprocess, time
out = open("/run/peercheck.log", "a", buffering=1)
while True:
    t = time.time()
    try:
        p = subprocess.run(["nfsha", "heartbeat", "check", "--host", "cli1", "--config", "/etc/nfsha/peer.toml",
                            "--wait", "3s"], capture_output=True, text=True, timeout=60)
        rc, line = p.returncode, (p.stdout.strip().splitlines() or [""])[0]
    except subprocess.TimeoutExpired:
        rc, line = -1, "timeout"
    out.write("%%.2f %%d %%s\n" %% (t, rc, line))
    time.sleep(max(0.0, 2.0 - (time.time() - t)))
EOF
setsid python3 /run/peercheck.py > /run/peercheck.err 2>&1 < /dev/null &
echo $! > /run/peercheck.pid
"""


def console_text(lab):
    with open(os.path.join(lab.work, "cli1.console"), errors="replace") as f:
        return f.read()


def peer_log(lab, peer):
    # The checker (python under TCG) takes seconds to start: its log exists
    # from PEER_START on, and may still be empty.
    out = lab.must(peer, "cat /run/peercheck.log", timeout=60, label="peer check log")
    rows = []
    for line in out.splitlines():
        f = line.split(None, 2)
        if len(f) >= 2:
            rows.append((float(f[0]), int(f[1]), f[2] if len(f) > 2 else ""))
    return rows


def run(ctx):
    lab = ctx.lab
    if ctx.hb_running:
        heartbeat.stop(ctx)
    fa = HB["fence_after"]
    peer = ctx.other(ctx.current())
    share_files = os.path.join(lab.share, "files")
    log_name, mon_name = "hb10.log", "hbmon10.log"
    log_path, mon_path = "/mnt/lab/files/" + log_name, "/mnt/lab/files/" + mon_name
    validate = hb_grace.start_daemon(ctx, "heartbeat-s10.toml", hb_grace.HB_CONF % HB, log_path, mon_path,
                                     "/run/hb10.pid")
    m = re.search(r"fenced by:\s+T\+(\d+)s", validate)
    d = re.search(r"dead_after:\s+(\d+)s", validate)
    if not m or not d:
        raise LabError("heartbeat reboot", "no 'fenced by' or 'dead_after' in the timeline:\n%s" % validate[-2000:])
    fenced_by, dead_after = int(m.group(1)), int(d.group(1))
    conf = lab.put_file("peer.toml", PEER_CONF % dict(HB, peer=peer))
    lab.must(peer, PEER_START % {"vip": VIP, "exp": ctx.layout.export, "conf": conf}, timeout=180,
             label="peer check start")
    # The peer says dead only after the larger of its own dead_after and cli1's.
    pv = lab.must(peer, "nfsha heartbeat validate --config /etc/nfsha/peer.toml", timeout=120,
                  label="peer validate")
    pd = re.search(r'^dead_after = "(\d+)s"', pv, re.M)
    if not pd:
        raise LabError("heartbeat reboot", "no dead_after in the peer's validate:\n%s" % pv[-2000:])
    dead_after = max(dead_after, int(pd.group(1)))
    log("scenario 10: heartbeat on cli1 (%s, fenced by T+%d s, dead_after %d s); %s checks cli1"
        % (HB, fenced_by, dead_after, peer))
    t = time.time()
    while True:
        rows = peer_log(lab, peer)
        if any(rc == 0 for _, rc, _ in rows):
            break
        if time.time() - t > 180:
            raise LabError("heartbeat reboot", "the peer's check never said alive: %s" % rows[-5:])
        time.sleep(3)
    boot0, boot_err = hb_grace.boot_epoch_on_host(lab, "cli1")
    off_peer, peer_err = hb_grace.guest_offset(lab, peer)
    seen = len(console_text(lab))
    reasons, fig = [], {"fence_after_s": fa, "fenced_by_s": fenced_by, "dead_after_s": dead_after}
    lab.set_client_link(False)
    t_cut = time.time()
    log("scenario 10: cli1's network cut; waiting for its reset")
    t_reset = None
    try:
        while time.time() - t_cut < fenced_by + 120:
            if RESTART_LINE in console_text(lab)[seen:]:
                t_reset = time.time()
                break
            time.sleep(0.2)
        # the peer goes on checking: it must say dead, and only after the reset
        ready = os.path.join(lab.share, "cmd", "cli1", "agent.ready")
        if t_reset is not None and os.path.exists(ready):
            os.unlink(ready)
        while time.time() - (t_reset or t_cut) < dead_after + 60:
            rows = peer_log(lab, peer)
            if any(rc == 1 for tt, rc, _ in rows if tt - off_peer > t_cut):
                break
            time.sleep(5)
    finally:
        lab.set_client_link(True)
    lab.run(peer, "kill $(cat /run/peercheck.pid)", timeout=30, label="peer check stop")
    rows = [(tt - off_peer, rc, line) for tt, rc, line in peer_log(lab, peer)]
    mon = []
    try:
        mon = [json.loads(x) for x in open(os.path.join(share_files, mon_name)) if x.startswith("{")]
        hb_log = open(os.path.join(share_files, log_name), errors="replace").read().splitlines()
    except OSError as e:
        hb_log = ["(no log: %s)" % e]
    last_ok = [x["last_success_ms"] for x in mon if x.get("last_success_ms")]
    t0 = boot0 + max(last_ok) / 1000.0 if last_ok else None       # start of the last good renewal, host clock
    decided = [x["decided_ms"] for x in mon if x.get("decided_ms")]
    first_dead = next((tt for tt, rc, _ in rows if rc == 1 and tt > t_cut), None)
    alive_before = [tt for tt, rc, _ in rows if rc == 0 and tt <= t_cut]
    unc = round(boot_err + peer_err + 0.3, 2)
    fig.update({
        "clock_uncertainty_s": unc,
        "reset_after_cut_s": None if t_reset is None else round(t_reset - t_cut, 1),
        "reset_after_last_renewal_s": None if t_reset is None or t0 is None else round(t_reset - t0, 1),
        "decision_after_last_renewal_s": (round(boot0 + max(decided) / 1000.0 - t0, 1)
                                          if decided and t0 is not None else None),
        "peer_dead_after_cut_s": None if first_dead is None else round(first_dead - t_cut, 1),
        "peer_dead_after_reset_s": (None if first_dead is None or t_reset is None
                                    else round(first_dead - t_reset, 1)),
        "peer_verdicts": [line for _, rc, line in rows if rc != 0][:3] + [line for _, rc, line in rows][-2:],
        "log": [x for x in hb_log if "FENCE" in x or "reboot" in x][-6:],
    })
    if t_reset is None:
        reasons.append("cli1 did not reset within fenced_by + 120 s of the cut (no %r on its console)" % RESTART_LINE)
    elif t0 is None:
        reasons.append("no last good renewal in the status the monitor saw: %s" % mon[-3:])
    else:
        r = fig["reset_after_last_renewal_s"]
        if r < fa - unc:
            reasons.append("reset %.1f s after the last good renewal started, before fence_after %d s" % (r, fa))
        if r > fenced_by + unc:
            reasons.append("reset %.1f s after the last good renewal started, later than the timeline's bound "
                           "T+%d s" % (r, fenced_by))
    if not [x for x in hb_log if "FENCE DECISION" in x]:
        reasons.append("no FENCE DECISION in the daemon's log")
    if not alive_before:
        reasons.append("the peer's check did not say alive before the cut")
    if first_dead is None:
        reasons.append("the peer's check never said dead within dead_after + 60 s")
    elif t_reset is not None and first_dead <= t_reset:
        reasons.append("the peer's check said dead %.1f s BEFORE cli1 reset" % (t_reset - first_dead))
    if t_reset is not None:
        try:
            rc, out = lab.run("cli1", "cat /proc/uptime", timeout=300, label="cli1 after reset")
            up = float(out.split()[0])
            fig["cli1_uptime_after_s"] = up
            if up > time.time() - t_reset + 5:
                reasons.append("cli1's uptime %.0f s after the reset: it did not reboot" % up)
        except (LabError, ValueError, IndexError) as e:
            reasons.append("cli1 did not come back after the reset: %s" % e)
    summary = ("fence_action reboot, fence_after %d s, timeline bound T+%d s, dead_after %d s: cli1 reset %s s after "
               "the cut, %s s after its last good renewal started (decision at %s s); the peer's check said dead "
               "%s s after the cut, %s s after the reset" % (
                   fa, fenced_by, dead_after, fig["reset_after_cut_s"], fig["reset_after_last_renewal_s"],
                   fig["decision_after_last_renewal_s"], fig["peer_dead_after_cut_s"],
                   fig["peer_dead_after_reset_s"]))
    return [result(ctx, NUMBER, NAME, not reasons, reasons, summary=summary, **fig)]
