"""CloudStack's stock heartbeat timing (KVMHAMonitor: 5 tries of 60 s, 10 s apart)."""
import unittest

import util  # noqa: F401
from nfslab import cloudstack


class StockTiming(unittest.TestCase):
    def test_worst_phase(self):
        self.assertEqual(cloudstack.worst_phase(45.0)["timeout"], False)
        self.assertEqual(cloudstack.worst_phase(60.5)["timeout"], True)
        self.assertEqual(cloudstack.worst_phase(339.0)["fence"], False)
        self.assertEqual(cloudstack.worst_phase(341.0)["fence"], True)
        self.assertEqual(cloudstack.worst_phase(None)["fence"], None)

    def test_summarize(self):
        lines = [{"t": 0, "start": True, "hosts": 2},
                 {"t": 10, "host": 0, "try": 1, "ok": True, "dur": 0.1},
                 {"t": 70, "host": 0, "try": 1, "ok": False, "dur": 60.0, "err": "timeout"},
                 {"t": 140, "host": 0, "try": 2, "ok": True, "dur": 2.0},
                 {"t": 80, "host": 1, "try": 1, "ok": False, "dur": 0.2, "err": "Input/output error"},
                 {"t": 90, "host": 1, "try": 2, "ok": False, "dur": 0.2, "err": "Input/output error"},
                 {"t": 95, "host": 1, "fence": True}]
        s = cloudstack.summarize(lines, 60, 200)
        self.assertEqual((s["tries"], s["failed_tries"], s["timeouts"], s["max_try_s"]), (4, 3, 1, 60.0))
        self.assertEqual(s["max_consecutive_failures"], 2)
        self.assertTrue(s["would_fence"])
        self.assertEqual(s["errors"], ["Input/output error"])
        self.assertFalse(cloudstack.summarize(lines, 0, 50)["would_fence"])


if __name__ == "__main__":
    unittest.main()
