"""Attribution of a failover from capture events: the three ways a Linux client comes
back (a RST after a tickle, a RST after its own retransmission, a SYN when its reconnect
timer fires), the address's absence, the reconnect lag, and the trace clock mapping.
The event sequences follow what lab/nfscap records on cli1's tap; test_recorded.py runs
the same code on captures recorded in the lab."""
import unittest

import util  # noqa: F401  (import path)
from nfslab import attribution

VIP, CLI = "10.77.0.100", "10.77.0.21"
OLD, NEW = "52:54:00:77:00:11", "52:54:00:77:00:12"


def tcp(t, smac, src, sport, dst, dport, fl, seq=1, ack=1, ln=0, rtx=False):
    return {"t": t, "kind": "tcp", "smac": smac, "src": src, "sport": sport, "dst": dst, "dport": dport,
            "fl": fl, "seq": seq, "ack": ack, "len": ln, "rtx": rtx}


def reply(t, smac, ops, status=0, dst=CLI):
    return {"t": t, "kind": "rpc", "dir": "reply", "xid": "%08x" % int(t * 1000), "smac": smac, "src": VIP,
            "dst": dst, "ops": ops, "accept": 0, "status": status}


def garp(t, smac):
    return {"t": t, "kind": "arp", "op": 1, "smac": smac, "sip": VIP, "tip": VIP}


def before_failover():
    """The client writing on connection 700 through the old node until t=100.3."""
    ev = []
    for i in range(4):
        t = 99.0 + i * 0.1
        ev.append(tcp(t, "c", CLI, 700, VIP, 2049, "AP", seq=1000 + i * 100, ln=100))
        ev.append(tcp(t + 0.01, OLD, VIP, 2049, CLI, 700, "AP", ln=80))
        ev.append(reply(t + 0.01, OLD, [53, 22, 38]))
    return ev


def reconnect(t_syn, port=701):
    """A new connection from the client to the new node, and the RPCs that follow."""
    return [tcp(t_syn, "c", CLI, port, VIP, 2049, "S"),
            tcp(t_syn + 0.002, NEW, VIP, 2049, CLI, port, "SA"),
            tcp(t_syn + 0.01, "c", CLI, port, VIP, 2049, "AP", ln=200),
            tcp(t_syn + 0.02, NEW, VIP, 2049, CLI, port, "AP", ln=100),
            reply(t_syn + 0.02, NEW, [42]),                      # EXCHANGE_ID
            reply(t_syn + 0.6, NEW, [53, 22, 38])]               # the first WRITE after reclaim


class Attribution(unittest.TestCase):
    def test_tickle_then_rst(self):
        ev = before_failover() + [garp(110.0, NEW),
                                  tcp(110.5, NEW, VIP, 2049, CLI, 700, "A", seq=0, ack=0),     # tickle
                                  tcp(110.51, "c", CLI, 700, VIP, 2049, "A", seq=1400),         # challenge ACK
                                  tcp(110.52, NEW, VIP, 2049, CLI, 700, "R", seq=1, ack=0)] + reconnect(110.6)
        a = attribution.attribute(ev, 100.0, OLD, NEW, VIP, CLI)
        self.assertEqual(a["reconnect_cause"], "rst-after-tickle")
        self.assertAlmostEqual(a["address_absent_s"], 110.0 - 99.31, places=3)
        self.assertAlmostEqual(a["reconnect_lag_s"], 0.62, places=3)
        self.assertAlmostEqual(a["resume_lag_s"], 1.2, places=3)
        self.assertEqual(a["tickles_seen"], 1)
        self.assertEqual(a["port_closed_s"], 0.5)
        self.assertEqual(a["old_node_said"], [])

    def test_retransmit_then_rst(self):
        ev = before_failover() + [garp(110.0, NEW),
                                  tcp(113.2, "c", CLI, 700, VIP, 2049, "AP", seq=1300, ln=100, rtx=True),
                                  tcp(113.21, NEW, VIP, 2049, CLI, 700, "R", seq=0, ack=0)] + reconnect(113.3)
        a = attribution.attribute(ev, 100.0, OLD, NEW, VIP, CLI)
        self.assertEqual(a["reconnect_cause"], "rst-after-retransmit")
        self.assertAlmostEqual(a["reconnect_lag_s"], 3.32, places=3)

    def test_syn_after_backoff(self):
        # the old connection was closed (FIN seen before the address left), the client's
        # SYNs during the absence go unanswered, the next one after the return succeeds
        ev = before_failover() + [tcp(99.5, OLD, VIP, 2049, CLI, 700, "FA"),
                                  tcp(102.0, "c", CLI, 702, VIP, 2049, "S"),
                                  tcp(105.0, "c", CLI, 703, VIP, 2049, "S"),
                                  garp(110.0, NEW)] + reconnect(123.0, port=704)
        a = attribution.attribute(ev, 100.0, OLD, NEW, VIP, CLI)
        self.assertEqual(a["reconnect_cause"], "syn-after-backoff")
        self.assertAlmostEqual(a["reconnect_lag_s"], 13.02, places=3)
        self.assertEqual(a["connect_attempts_after_gone_s"], [2.5, 5.5, 23.5])
        self.assertEqual(a["old_node_said"], ["FIN"])

    def test_no_return(self):
        a = attribution.attribute(before_failover(), 100.0, OLD, NEW, VIP, CLI)
        self.assertIsNone(a["reconnect_lag_s"])
        self.assertIn("never came back", a["note"])

    def test_error_replies_are_not_success(self):
        ev = before_failover() + [garp(110.0, NEW)] + reconnect(111.0)
        ev = [dict(e, status=10013) if e.get("kind") == "rpc" and e["t"] > 111 and e["ops"] == [42] else e
              for e in ev]
        a = attribution.attribute(ev, 100.0, OLD, NEW, VIP, CLI)
        self.assertAlmostEqual(a["reconnect_lag_s"], 1.6, places=3)

    def test_wire_stall(self):
        ev = before_failover() + [garp(110.0, NEW)] + reconnect(111.0)
        self.assertAlmostEqual(attribution.wire_stall(ev, CLI, VIP, 100.0), 111.6 - 99.31, places=3)

    def test_trace_clock(self):
        trace = [{"t": 50.0, "event": "xprt_transmit", "xid": "0000abcd"},
                 {"t": 51.0, "event": "xprt_transmit", "xid": "0000abce"}]
        wire = [{"t": 60.004, "kind": "rpc", "dir": "call", "xid": "0000abcd"},
                {"t": 61.001, "kind": "rpc", "dir": "call", "xid": "0000abce"}]
        self.assertAlmostEqual(attribution.map_trace_clock(trace, wire), 10.001, places=6)
        self.assertIsNone(attribution.map_trace_clock(trace, []))

    def test_trace_clock_with_retransmissions(self):
        # calls sent before an outage and sent again (same xid) 80 s later on a new
        # connection: each transmission pairs with its own sighting on the wire
        trace, wire = [], []
        for i in range(10):
            xid = "%08x" % i
            trace.append({"t": 100.0 + i, "event": "xprt_transmit", "xid": xid})
            wire.append({"t": 110.002 + i, "kind": "rpc", "dir": "call", "xid": xid})
        for i in range(3):
            trace.append({"t": 190.0 + i, "event": "xprt_transmit", "xid": "%08x" % i})
            wire.append({"t": 200.001 + i, "kind": "rpc", "dir": "call", "xid": "%08x" % i})
        self.assertAlmostEqual(attribution.map_trace_clock(trace, wire), 10.001, places=6)


if __name__ == "__main__":
    unittest.main()
