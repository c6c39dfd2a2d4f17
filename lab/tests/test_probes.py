"""Parsing what the guest probes record: lab-nfsmon's ticks and lock events, lab-ktrace's
trace lines, and the report's medians and maxima."""
import unittest

import util  # noqa: F401
from nfslab import probes, report


class Nfsmon(unittest.TestCase):
    LOG = "\n".join([
        "100.00 - -", "100.25 0 Y",
        "101.00 8 N",                      # nfsd started, in grace
        "101.25 L + fd:01:12", "101.25 8 N",
        "101.50 L + fd:01:13", "101.50 8 Y",   # B's lock and the end of grace in one tick
        "101.75 8 Y"])

    def test_grace_window_and_tie(self):
        ticks, locks = probes.parse_nfsmon(self.LOG)
        self.assertEqual(probes.grace_window(ticks, 100.5), (101.0, 101.5))
        self.assertEqual(probes.grace_seconds(ticks, 100.5), 0.5)
        self.assertIn((101.5, "+", "fd:01:13"), locks)

    def test_no_fresh_start(self):
        ticks, _ = probes.parse_nfsmon(self.LOG)
        self.assertEqual(probes.grace_window(ticks, 101.6), (None, None))


class Trace(unittest.TestCase):
    def test_parse_trace(self):
        lines = ["# enabled sunrpc:xprt_transmit,sunrpc:rpc_socket_connect missing sunrpc:xprt_connect",
                 "1700000000.123456 xprt_transmit task:12@3 xid=0x1a2b3c4d seqno=5 status=0",
                 "1700000001.000000 rpc_socket_connect error=-111 socket:[123] dstaddr=10.77.0.100/2049"]
        ev = probes.parse_trace(lines, offset=2.0)
        self.assertEqual(ev[0]["xid"], "1a2b3c4d")
        self.assertAlmostEqual(ev[0]["t"], 1700000002.123456, places=5)
        self.assertEqual(ev[1]["event"], "rpc_socket_connect")
        self.assertEqual(probes.trace_header(lines)["missing"], ["sunrpc:xprt_connect"])


class Aggregate(unittest.TestCase):
    def test_median_and_max_per_layout(self):
        rows = [{"scenario": 1, "name": "planned move", "agents": "nfsha", "init": "lab-init", "pass": True,
                 "stall_s": s, "reconnect_lag_s": lag, "reconnect_cause": c}
                for s, lag, c in [(30.0, 20.0, "syn-after-backoff"), (10.0, 0.5, "rst-after-retransmit"),
                                  (20.0, 5.0, "syn-after-backoff")]]
        rows.append({"scenario": 1, "name": "planned move", "agents": "linbit", "init": "systemd", "pass": False,
                     "stall_s": 40.0})
        agg = {(a["agents"], a["scenario"]): a for a in report.aggregate(rows)}
        a = agg[("nfsha", 1)]
        self.assertEqual((a["runs"], a["passed"]), (3, 3))
        self.assertEqual(a["stall_s"], {"median": 20.0, "max": 30.0, "n": 3})
        self.assertEqual(a["reconnect_lag_s"]["max"], 20.0)
        self.assertEqual(a["reconnect_causes"], {"syn-after-backoff": 2, "rst-after-retransmit": 1})
        self.assertEqual(agg[("linbit", 1)]["passed"], 0)

    def test_goals(self):
        rows = [{"scenario": 1, "name": "planned move", "agents": "nfsha", "pass": True, "stall_s": 10.0,
                 "address_absent_s": 9.5, "reconnect_lag_s": 0.4},
                {"scenario": 2, "name": "node crash", "agents": "nfsha", "pass": True, "stall_s": 50.0,
                 "address_absent_s": 30.0, "reconnect_lag_s": 3.0}]
        (g,) = report.goals(rows)
        self.assertEqual((g["reconnect_lag_max_s"], g["reconnect_lag_ok"]), (3.0, False))
        self.assertEqual((g["planned_stall_over_absence_max_s"], g["planned_stall_ok"]), (0.5, True))
        self.assertEqual((g["crash_stall_max_s"], g["crash_stall_ok"]), (50.0, False))


if __name__ == "__main__":
    unittest.main()
