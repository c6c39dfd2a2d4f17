"""Scenario 7's judgement of `nfsha status` polls against the kernel's clock, on
made-up polls (no VMs): what passes, and each way it fails."""
import unittest

import util  # noqa: F401
from nfslab.scenarios import status


def report(state, left, reclaimed, allowed, d_state, ended_after=None, elapsed=12):
    return {"schema": "nfsha-status/1", "elapsed_ms": elapsed, "server": {
        "grace": {"state": state, "remaining_s": left, "ended_after_s": ended_after},
        "clients": {"reclaim": {"in_grace": state in ("in-grace", "extended"), "reclaimed": reclaimed,
                                "allowed": allowed},
                    "list": [{"name": "Linux NFSv4.2 cli1", "reclaim": "reclaimed"},
                             {"name": "Linux NFSv4.2 cli1-s7", "reclaim": d_state}]}}}


START, GRACE = 1000.0, 90.0


def poll(t, rep, took=0.3):
    return (START + t, START + t + took, 0, rep)


GOOD = [
    poll(10, report("in-grace", 80.0, 1, 2, "pending")),
    poll(12, report("in-grace", 78.1, 1, 2, "pending")),
    poll(14, report("in-grace", 76.0, 1, 2, "pending")),
    poll(16, report("in-grace", 74.0, 1, 2, "pending")),
    poll(19, report("in-grace", 71.0, 2, 2, "reclaimed")),
    poll(21, report("ended-early", 0.0, 2, 2, "reclaimed", ended_after=20.123456)),
]


class Judge(unittest.TestCase):
    def test_agreeing_polls_pass_with_their_figures(self):
        reasons, fig = status.judge(GOOD, START, START + 20.2, 20.123456, GRACE, START + 17)
        self.assertEqual(reasons, [])
        self.assertEqual(fig["polls"], 6)
        self.assertEqual(fig["status_elapsed_ms_max"], 12)
        self.assertEqual(fig["reclaimed_seen"][0], (10.0, 1, 2))

    def test_a_grace_left_off_the_kernel_clock_fails(self):
        bad = list(GOOD)
        bad[1] = poll(12, report("in-grace", 70.0, 1, 2, "pending"))
        reasons, _ = status.judge(bad, START, START + 20.2, 20.123456, GRACE, START + 17)
        self.assertTrue(any("grace left 70.0 s" in r for r in reasons), reasons)

    def test_a_count_that_never_goes_up_fails(self):
        flat = [poll(t, report("in-grace", GRACE - t, 1, 2, "pending")) for t in (10, 12, 14, 16, 19, 22)]
        reasons, _ = status.judge(flat, START, None, None, GRACE, START + 17)
        self.assertTrue(any("never went up" in r for r in reasons), reasons)
        self.assertTrue(any("early end" in r for r in reasons), reasons)

    def test_the_early_end_must_match_the_kernel_log(self):
        reasons, _ = status.judge(GOOD, START, START + 20.2, 20.2, GRACE, START + 17)
        self.assertTrue(any("kernel log" in r for r in reasons), reasons)

    def test_dmesg_interval_and_poll_parsing(self):
        dmesg = ("[  100.000000] NFSD: starting 90-second grace period (net f0000000)\n"
                 "[  500.000000] NFSD: starting 90-second grace period (net f0000000)\n"
                 "[  520.123456] NFSD: all clients done reclaiming, ending NFSv4 grace period (net f0000000)\n")
        self.assertEqual(status.kernel_log_interval(dmesg), 20.123456)
        self.assertIsNone(status.kernel_log_interval(dmesg.splitlines()[0]))
        p = status.parse_poll('POLL 1000.5 1000.9 3\n{"schema": "nfsha-status/1"}\n')
        self.assertEqual(p[:3], (1000.5, 1000.9, 3))
        self.assertEqual(p[3]["schema"], "nfsha-status/1")


if __name__ == "__main__":
    unittest.main()
