"""Scenario 9's reading of the heartbeat's renewal history (pure, no VMs)."""
import unittest

import util  # noqa: F401  (puts lab/ on the path)
from nfslab.scenarios import hb_grace


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


if __name__ == "__main__":
    unittest.main()
