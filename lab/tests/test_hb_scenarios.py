"""Scenarios 9 and 10 of the heartbeat (no VMs): scenario 9's reading of the renewal
history, scenario 10's judging against a lab double."""
import json
import os
import shutil
import tempfile
import threading
import time
import unittest

import util  # noqa: F401  (puts lab/ on the path)
from nfslab.scenarios import hb_grace, hb_reboot


def h(at, result):
    return {"at_ms": at, "result": result, "write_ms": 0, "read_ms": 0}


class Outage(unittest.TestCase):
    def test_first_and_last_failure_and_the_first_good_renewal_after_them(self):
        hist = [h(1000, "ok"), h(6000, "timeout"), h(16000, "timeout"), h(21000, "ok"), h(26000, "ok")]
        self.assertEqual(hb_grace.outage(hist, 5000), (6000, 16000, 21000))

    def test_failures_before_the_move_do_not_count(self):
        hist = [h(1000, "error"), h(6000, "ok"), h(11000, "ok")]
        self.assertEqual(hb_grace.outage(hist, 5000), (None, None, None))

    def test_a_late_answer_is_not_a_good_renewal_and_order_is_by_start(self):
        # a stuck attempt that answers late is pushed after later attempts
        hist = [h(6000, "blocked"), h(11000, "timeout"), h(1000, "ok"), h(21000, "ok"), h(5500, "late-ok")]
        self.assertEqual(hb_grace.outage(hist, 5000), (5500, 11000, 21000))

    def test_no_good_renewal_after_the_outage(self):
        hist = [h(6000, "timeout"), h(11000, "timeout")]
        self.assertEqual(hb_grace.outage(hist, 5000), (6000, 11000, None))


# Scenario 10's judging against a lab double: the guest scripts are only formatted (a
# formatting error there is caught here), the reset and the peer's verdicts are played.

T_CUT = [None]
T_RESET = [None]
BOOT0 = time.time() - 1000.0

class Lab:
    def __init__(self):
        self.share = tempfile.mkdtemp(); self.work = tempfile.mkdtemp()
        for d in ("files", "cmd/cli1"): os.makedirs(os.path.join(self.share, d), exist_ok=True)
        open(os.path.join(self.work, "cli1.console"), "w").write("boot...\n")
        open(os.path.join(self.share, "cmd/cli1/agent.ready"), "w").write("")
    def put_file(self, name, text):
        open(os.path.join(self.share, "files", name), "w").write(text); return "/mnt/lab/files/" + name
    def run(self, host, script, timeout=120, label="cmd"):
        return 0, self.must(host, script, timeout, label)
    def must(self, host, script, timeout=120, label="cmd"):
        now = time.time()
        if label == "heartbeat start":
            mon = os.path.join(self.share, "files", "hbmon10.log")
            with open(mon, "a") as f:
                f.write(json.dumps({"t": now, "uptime": now - BOOT0, "fence": "healthy", "decided_ms": None,
                                    "storage": "ok", "last_success_ms": int((now - BOOT0) * 1000), "failing_ms": 0}) + "\n")
            return "valid\nfence timeline ...\nfenced by:     T+53s\ndead_after:    73s (minimum 73s)\n"
        if label == "peer validate":
            return 'fence_after = "1s"   # set\ndead_after = "66s"   # derived\n'
        if label == "uptime":
            return "%.2f 100.0\n" % (now - BOOT0)
        if label == "time":
            return "%.3f\n" % now
        if label == "peer check log":
            # The first read comes before the checker (python under TCG) has
            # written anything: the log exists (PEER_START creates it), empty.
            if not getattr(self, "peer_log_read", False):
                assert ": > /run/peercheck.log" in hb_reboot.PEER_START
                self.peer_log_read = True
                return ""
            rows = []
            t = now - 30
            while t < now:
                if T_CUT[0] is None or t < T_CUT[0]: rc, line = 0, "alive"
                elif T_RESET[0] and t > T_RESET[0] + 3: rc, line = 1, "dead"
                else: rc, line = 0, "alive"
                rows.append("%.2f %d %s" % (t, rc, line)); t += 2
            return "\n".join(rows) + "\n"
        if label == "cli1 after reset":
            return "%.2f 1.0\n" % (now - T_RESET[0] + 2)
        return ""
    def guest_time(self, node):
        return time.time()
    def set_client_link(self, up):
        if not up: 
            T_CUT[0] = time.time()
            def later(self=self):
                last = T_CUT[0] - 1
                time.sleep(2)
                with open(os.path.join(self.share, "files", "hbmon10.log"), "a") as f:
                    f.write(json.dumps({"t": time.time(), "storage": "timeout", "fence": "healthy", "decided_ms": None,
                                        "last_success_ms": int((last - BOOT0) * 1000), "failing_ms": 1000}) + "\n")
                    f.write(json.dumps({"t": time.time(), "storage": "timeout", "fence": "fencing",
                                        "decided_ms": int((last + 1.9 - BOOT0) * 1000),
                                        "last_success_ms": int((last - BOOT0) * 1000), "failing_ms": 2000}) + "\n")
                open(os.path.join(self.share, "files", "hb10.log"), "a").write("ERROR: FENCE DECISION: x: fence_action = reboot\n")
                time.sleep(0.5)
                T_RESET[0] = time.time()
                open(os.path.join(self.work, "cli1.console"), "a").write("[  99.0] reboot: Restarting system\n")
            threading.Thread(target=later, daemon=True).start()

class Layout: export = "/srv/export"; name = "nfsha"
class Ctx:
    hb_running = False; init = "lab-init"; layout = Layout()
    def __init__(self): self.lab = Lab()
    def current(self): return "srv1"
    def other(self, n): return "srv2"



class Reboot(unittest.TestCase):
    def play(self, dead_before_reset=False):
        T_CUT[0] = T_RESET[0] = None
        ctx = Ctx()
        if dead_before_reset:
            orig = ctx.lab.must

            def must(host, script, timeout=120, label="cmd"):
                out = orig(host, script, timeout, label)
                if label == "peer check log" and T_CUT[0] is not None:
                    out += "%.2f 1 dead\n" % (T_CUT[0] + 0.5)
                return out
            ctx.lab.must = must
        fa = hb_reboot.HB["fence_after"]
        hb_reboot.HB["fence_after"] = 1
        try:
            return hb_reboot.run(ctx)[0]
        finally:
            hb_reboot.HB["fence_after"] = fa
            time.sleep(1)   # the played reset thread has ended
            shutil.rmtree(ctx.lab.share, ignore_errors=True)
            shutil.rmtree(ctx.lab.work, ignore_errors=True)

    def test_a_reset_within_the_bound_before_the_peer_says_dead_passes(self):
        r = self.play()
        self.assertTrue(r["pass"], r["reasons"])
        self.assertLess(r["reset_after_last_renewal_s"], 53)
        self.assertGreater(r["peer_dead_after_reset_s"], 0)

    def test_a_peer_that_says_dead_before_the_reset_fails(self):
        r = self.play(dead_before_reset=True)
        self.assertFalse(r["pass"])
        self.assertTrue(any("BEFORE cli1 reset" in x for x in r["reasons"]), r["reasons"])


if __name__ == "__main__":
    unittest.main()
