"""Attribution on a capture recorded in the lab (fixtures/smoke-nfsha-move.*: the smoke
suite's planned move with nfsha's layout on 2026-12-01, load ~20): the figures the lab
reported, and the client's own sunrpc trace agreeing with the wire once its clock is
mapped (the RST from the new node, then ECONNRESET and a new connection in the client)."""
import gzip
import json
import os
import unittest

from util import FIXTURES
from nfslab import attribution, probes

VIP, CLI = "10.77.0.100", "10.77.0.21"


def load():
    with gzip.open(os.path.join(FIXTURES, "smoke-nfsha-move.jsonl.gz"), "rt") as f:
        lines = f.read().splitlines()
    meta = json.loads(lines[0])["meta"]
    with gzip.open(os.path.join(FIXTURES, "smoke-nfsha-move.ktrace.gz"), "rt") as f:
        trace = f.read().splitlines()
    return meta, [json.loads(x) for x in lines[1:]], trace


class RecordedMove(unittest.TestCase):
    def setUp(self):
        self.meta, self.events, self.trace = load()

    def test_figures_as_reported(self):
        m = self.meta
        a = attribution.attribute(self.events, m["t_event"], m["old_mac"], m["new_mac"], VIP, CLI)
        for k, v in m["recorded"].items():
            self.assertEqual(a[k], v, k)
        self.assertEqual(a["old_node_said"], [])
        self.assertEqual(a["tickles_seen"], 0)

    def test_client_trace_agrees_with_the_wire(self):
        m = self.meta
        raw = probes.parse_trace(self.trace)
        off = attribution.map_trace_clock(raw, self.events)
        self.assertIsNotNone(off)
        self.assertLess(abs(off), 1.0, "cli1's clock is within a second of the host's")
        trace = probes.parse_trace(self.trace, off)
        a = attribution.attribute(self.events, m["t_event"], m["old_mac"], m["new_mac"], VIP, CLI, trace=trace)
        rst_t = a["address_back_t"] + a["rst_after_back_s"]
        resets = [e for e in trace if e["event"] == "rpc_socket_error" and "error=-104" in e["text"]
                  and abs(e["t"] - rst_t) < 0.5]
        self.assertTrue(resets, "the client saw ECONNRESET when the RST arrived")
        connects = [e for e in trace if e["event"] == "xprt_connect" and resets[0]["t"] <= e["t"] <= a["syn_t"] + 0.5]
        self.assertTrue(connects, "and connected again right after")
        self.assertEqual(a["client_view"], "ECONNRESET")


if __name__ == "__main__":
    unittest.main()
