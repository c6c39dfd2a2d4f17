"""lab/nfscap's decoder on frames built here: TCP flags, retransmissions, ARP, and
NFSv4 COMPOUND calls and replies (operations, LOCK's reclaim flag, status)."""
import unittest

from util import (PUTFH, RECLAIM_COMPLETE, SEQUENCE, WRITE, arp_frame, compound_call, compound_reply,
                  load_nfscap, lock_args, tcp_frame)

CLI, VIP = "10.77.0.21", "10.77.0.100"
CMAC, SMAC = "52:54:00:77:00:21", "52:54:00:77:00:12"


class Decoder(unittest.TestCase):
    def setUp(self):
        self.dec = load_nfscap().Decoder()

    def test_arp_announcement(self):
        (e,) = self.dec.frame(arp_frame(SMAC, VIP, VIP), 5.0)
        self.assertEqual((e["kind"], e["op"], e["smac"], e["sip"], e["tip"]), ("arp", 1, SMAC, VIP, VIP))

    def test_flags_and_retransmission(self):
        ev = self.dec.frame(tcp_frame(CMAC, CLI, 800, VIP, 2049, "S", seq=1000), 1.0)
        self.assertEqual(ev[0]["fl"], "S")
        data = compound_call(0x11, [SEQUENCE, PUTFH, WRITE])
        first = self.dec.frame(tcp_frame(CMAC, CLI, 800, VIP, 2049, "AP", seq=1001, payload=data), 1.1)
        self.assertFalse(first[0]["rtx"])
        self.assertEqual(first[1]["ops"], [53, 22, 38])
        again = self.dec.frame(tcp_frame(CMAC, CLI, 800, VIP, 2049, "AP", seq=1001, payload=data), 1.5)
        self.assertTrue(again[0]["rtx"], "the same bytes sent twice are a retransmission")
        self.assertEqual(len(again), 1, "a retransmitted call is not counted as a new call")
        rst = self.dec.frame(tcp_frame(SMAC, VIP, 2049, CLI, 800, "R", seq=0, ack=0), 2.0)
        self.assertEqual(rst[0]["fl"], "R")

    def test_lock_reclaim_call_and_reply(self):
        self.dec.frame(tcp_frame(CMAC, CLI, 801, VIP, 2049, "S", seq=1), 0.5)
        call = compound_call(0x22, [SEQUENCE, PUTFH, lock_args(True)])
        ev = self.dec.frame(tcp_frame(CMAC, CLI, 801, VIP, 2049, "AP", seq=2, payload=call), 1.0)
        self.assertEqual(ev[1]["ops"], [53, 22, 12])
        self.assertIs(ev[1]["reclaim"], True)
        rep = self.dec.frame(tcp_frame(SMAC, VIP, 2049, CLI, 801, "AP", seq=1, payload=compound_reply(0x22, 0, 53)),
                             1.2)
        self.assertEqual((rep[1]["dir"], rep[1]["status"], rep[1]["ops"], rep[1]["reclaim"]),
                         ("reply", 0, [53, 22, 12], True))

    def test_grace_error_and_reclaim_complete(self):
        self.dec.frame(tcp_frame(CMAC, "10.77.0.22", 802, VIP, 2049, "S", seq=1), 0.5)
        call = compound_call(0x33, [SEQUENCE, PUTFH, lock_args(False)])
        self.dec.frame(tcp_frame(CMAC, "10.77.0.22", 802, VIP, 2049, "AP", seq=2, payload=call), 1.0)
        rep = self.dec.frame(tcp_frame(SMAC, VIP, 2049, "10.77.0.22", 802, "AP", seq=1,
                                       payload=compound_reply(0x33, 10013, 53, 0)), 1.1)
        self.assertEqual((rep[1]["status"], rep[1]["reclaim"]), (10013, False))
        rc = compound_call(0x34, [SEQUENCE, RECLAIM_COMPLETE])
        ev = self.dec.frame(tcp_frame(CMAC, "10.77.0.22", 802, VIP, 2049, "AP", seq=2 + len(call), payload=rc), 2.0)
        self.assertEqual(ev[1]["ops"], [53, 58])

    def test_reply_without_call_is_ignored(self):
        ev = self.dec.frame(tcp_frame(SMAC, VIP, 2049, CLI, 803, "AP", payload=compound_reply(0x99, 0, 53)), 1.0)
        self.assertEqual([e["kind"] for e in ev], ["tcp"])


if __name__ == "__main__":
    unittest.main()
