"""Helpers for the lab's host-side unit tests (no VMs): import paths and frame building."""
import importlib.machinery
import importlib.util
import os
import socket
import struct
import sys

LAB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if LAB not in sys.path:
    sys.path.insert(0, LAB)
FIXTURES = os.path.join(LAB, "tests", "fixtures")


def load_nfscap():
    """lab/nfscap is a script without .py: load it as a module."""
    loader = importlib.machinery.SourceFileLoader("nfscap", os.path.join(LAB, "nfscap"))
    spec = importlib.util.spec_from_loader("nfscap", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def tcp_frame(smac, src, sport, dst, dport, flags, seq=1, ack=1, payload=b""):
    fl = 0
    for c, bit in (("S", 0x02), ("A", 0x10), ("F", 0x01), ("R", 0x04), ("P", 0x08)):
        if c in flags:
            fl |= bit
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, fl, 65535, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return b"\xff" * 6 + mac(smac) + b"\x08\x00" + ip + tcp


def arp_frame(smac, sip, tip, op=1):
    arp = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, mac(smac), socket.inet_aton(sip), b"\0" * 6,
                      socket.inet_aton(tip))
    return b"\xff" * 6 + mac(smac) + b"\x08\x06" + arp


def xdr_opaque(b):
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def rpc_record(body):
    return struct.pack(">I", 0x80000000 | len(body)) + body


def compound_call(xid, ops_args):
    """An NFSv4.2 COMPOUND call record; ops_args: [(op, encoded args)]."""
    body = struct.pack(">IIIIII", xid, 0, 2, 100003, 4, 1)
    body += struct.pack(">I", 1) + xdr_opaque(b"\0" * 20)      # AUTH_SYS credential
    body += struct.pack(">I", 0) + xdr_opaque(b"")            # verifier
    body += xdr_opaque(b"") + struct.pack(">II", 2, len(ops_args))
    for op, args in ops_args:
        body += struct.pack(">I", op) + args
    return rpc_record(body)


def compound_reply(xid, status, first_op, first_status=None):
    body = struct.pack(">IIII", xid, 1, 0, 0) + xdr_opaque(b"") + struct.pack(">I", 0)
    body += struct.pack(">I", status) + xdr_opaque(b"") + struct.pack(">III", 1, first_op,
                                                                       status if first_status is None else first_status)
    return rpc_record(body)


SEQUENCE = (53, b"\1" * 16 + struct.pack(">IIII", 7, 0, 0, 0))
PUTFH = (22, xdr_opaque(b"\2" * 28))


def lock_args(reclaim):
    return (12, struct.pack(">II", 2, 1 if reclaim else 0) + b"\0" * 40)


WRITE = (38, b"\0" * 16)
RECLAIM_COMPLETE = (58, struct.pack(">I", 0))
