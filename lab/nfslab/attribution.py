"""Where a failover's time went, from what the client saw on the wire (lab/nfscap).

Pure functions over capture events (and the client's sunrpc trace, mapped to the
host clock), so they are unit-tested on recorded captures (lab/tests/).

Figures, all seconds on the host's clock (kernel receive timestamps of the frames):
  address_absent_s  the service address's absence on the wire: from the last frame the
                    old node sent from it (TCP or ARP) to the new node's first frame
                    from it (its gratuitous ARP, or a TCP segment)
  reconnect_lag_s   from the address's return to the client's first successful RPC
                    (accepted, COMPOUND status NFS4_OK) answered by the new node
  resume_lag_s      from the address's return to the first successful WRITE or COMMIT
                    (the client's I/O going again, after reclaim and grace)
  port_closed_s     from the address's return to the new node's first TCP segment on
                    port 2049 (non-zero when the port is blocked after the address is up,
                    as portblock does)
  reconnect_cause   what made the client open the connection that carried that RPC:
                    "rst-after-tickle"   a RST from the new node answering the client's
                                         reply to a tickle ACK (seq 0, ack 0)
                    "rst-after-retransmit" a RST answering a data retransmission
                    "rst"                a RST for another reason
                    "fin"                the new node closed the connection
                    "syn-after-backoff"  no RST or FIN from the new node: the client's
                                         reconnect timer fired (old_node_said tells whether
                                         the old node's FIN or RST started the back-off)
                    "same-connection"    no new connection: the old one carried on
"""

NFS_PORT = 2049
WRITE_OPS = (38, 5)          # WRITE, COMMIT


def _from_vip(e, vip):
    if e["kind"] == "arp":
        return e["sip"] == vip and e["op"] in (1, 2)
    if e["kind"] == "tcp":
        return e["src"] == vip and e["sport"] == NFS_PORT
    return False


def _ok_reply(e, client_ip, vip):
    return (e["kind"] == "rpc" and e["dir"] == "reply" and e["dst"] == client_ip and e["src"] == vip
            and e.get("accept") == 0 and e.get("status") == 0)


def _rel(t, base):
    return None if t is None or base is None else round(t - base, 3)


def attribute(events, t_event, old_mac, new_mac, vip, client_ip, t_end=None, trace=None):
    """Attribution of one failover that began at t_event (host time of the move command or
    the crash), the service address moving from old_mac to new_mac. events: capture
    events (any order). trace: the client's sunrpc trace events already on the host
    clock ([{"t", "event", "text"}]), optional."""
    evs = sorted((e for e in events if e.get("t") is not None and e["t"] >= t_event - 120
                  and (t_end is None or e["t"] <= t_end)), key=lambda e: e["t"])
    res = {"address_absent_s": None, "reconnect_lag_s": None, "resume_lag_s": None, "port_closed_s": None,
           "reconnect_cause": None, "t_event": t_event}
    # the last frame from the address sent by the old node at or after the event (or
    # the last one before it, if it had gone quiet already)
    old = [e for e in evs if e.get("smac") == old_mac and _from_vip(e, vip)]
    after = [e for e in old if e["t"] >= t_event]
    gone = after[-1]["t"] if after else (old[-1]["t"] if old else None)
    if gone is None:
        res["note"] = "no frame from the service address by the old node"
        return res
    new = [e for e in evs if e["t"] > gone and e.get("smac") == new_mac and _from_vip(e, vip)]
    if not new:
        res["note"] = "the address never came back on the wire (new node %s)" % new_mac
        return res
    back = new[0]["t"]
    res["address_gone_t"], res["address_back_t"] = gone, back
    res["address_absent_s"] = round(back - gone, 3)
    res["address_back_by"] = "arp" if new[0]["kind"] == "arp" else "tcp"
    port = [e for e in new if e["kind"] == "tcp"]
    if port:
        res["port_closed_s"] = round(port[0]["t"] - back, 3)
    ok = [e for e in evs if e["t"] >= back and e.get("smac") == new_mac and _ok_reply(e, client_ip, vip)]
    if not ok:
        res["note"] = "no successful RPC from the new node"
        return res
    first_ok = ok[0]
    res["reconnect_lag_s"] = round(first_ok["t"] - back, 3)
    res["first_ok_ops"] = first_ok.get("ops")
    wr = [e for e in ok if any(o in WRITE_OPS for o in e.get("ops") or [])]
    if wr:
        res["resume_lag_s"] = round(wr[0]["t"] - back, 3)
    # the connection that carried the first successful reply, and what opened it
    conn = (first_ok["src"], NFS_PORT, first_ok["dst"])
    cport = None
    for e in reversed([e for e in evs if e["kind"] == "tcp" and e["t"] <= first_ok["t"]]):
        if e["src"] == vip and e["dst"] == client_ip and e["sport"] == NFS_PORT:
            cport = e["dport"]
            break
    syn = None
    if cport is not None:
        for e in evs:
            if (e["kind"] == "tcp" and e["src"] == client_ip and e["sport"] == cport and e["dst"] == vip
                    and e["fl"] == "S" and gone - 1 <= e["t"] <= first_ok["t"]):
                syn = e
                break
    # the client's connection attempts (first SYN of each source port) after the address went
    seen, attempts = set(), []
    for e in evs:
        if (e["kind"] == "tcp" and e["src"] == client_ip and e["dst"] == vip and e["fl"] == "S"
                and gone <= e["t"] <= first_ok["t"] and e["sport"] not in seen):
            seen.add(e["sport"])
            attempts.append(_rel(e["t"], gone))
    res["connect_attempts_after_gone_s"] = attempts
    tickles = [e for e in evs if e["kind"] == "tcp" and e["t"] >= back and e["src"] == vip
               and e["dst"] == client_ip and e["fl"] == "A" and e["len"] == 0 and e["seq"] == 0
               and e.get("smac") == new_mac]
    res["tickles_seen"] = len(tickles)
    # what the old node told the client as it left (it should say nothing: a FIN or RST
    # sends the client into its reconnect back-off before the address is back)
    res["old_node_said"] = sorted({"FIN" if "F" in e["fl"] else "RST" for e in old
                                   if e["kind"] == "tcp" and e["t"] >= t_event - 5 and ("F" in e["fl"] or "R" in e["fl"])
                                   and e["dst"] == client_ip})
    if syn is None:
        res["reconnect_cause"] = "same-connection"
        res["connection"] = "%s:%s" % conn[:2]
    else:
        res["syn_t"] = syn["t"]
        res["syn_after_back_s"] = _rel(syn["t"], back)
        # what reached the client on its previous connection(s) before this SYN
        before = [e for e in evs if e["kind"] == "tcp" and back <= e["t"] <= syn["t"]
                  and ((e["src"] == vip and e["dst"] == client_ip) or (e["src"] == client_ip and e["dst"] == vip))
                  and not (e["src"] == client_ip and e["sport"] == cport)]
        rst = [e for e in before if e["src"] == vip and "R" in e["fl"] and e.get("smac") == new_mac]
        fin = [e for e in before if e["src"] == vip and "F" in e["fl"] and e.get("smac") == new_mac]
        if rst:
            r = rst[-1]
            prior = [e for e in before if e["t"] <= r["t"] and e["t"] >= back]
            if any(e in tickles for e in prior):
                cause = "rst-after-tickle"
            elif any(e["src"] == client_ip and e.get("rtx") for e in prior):
                cause = "rst-after-retransmit"
            else:
                cause = "rst"
            res["rst_after_back_s"] = _rel(r["t"], back)
        elif fin:
            cause = "fin"
            res["fin_t"] = fin[-1]["t"]
        else:
            cause = "syn-after-backoff"
        res["reconnect_cause"] = cause
    if trace:
        window = [e for e in trace if gone - 1 <= e["t"] <= first_ok["t"] + 1]
        # the reconnect itself first: what the client did in the 3 s before its new SYN
        near = [e for e in window if res.get("syn_t") and res["syn_t"] - 3 <= e["t"] <= res["syn_t"] + 0.5]
        keep = [e for e in window if e["event"] != "xprt_transmit"][:40]
        keep = sorted({id(e): e for e in keep + [e for e in near if e["event"] != "xprt_transmit"]}.values(),
                      key=lambda e: e["t"])
        res["client_trace"] = [{"t": _rel(e["t"], gone), "event": e["event"], "text": e.get("text", "")[:160]}
                               for e in keep][:60]
        res["client_view"] = client_view(res["client_trace"], _rel(res.get("syn_t"), gone))
    return res


def client_view(trace, syn_rel):
    """What the client's sunrpc trace says made it reconnect, from the events in the 3 s
    before its new SYN (times relative to the address's departure):
      "ECONNRESET"  the old socket was reset (a RST arrived)
      "ETIMEDOUT"   TCP gave up on the old connection (its retransmissions went
                    unanswered for the socket's user timeout): the retransmission back-off
      "EPIPE"/other the old socket's error
      "rpc timeout" the RPC layer's major timeout
      "reconnect"   a connect with no socket error before it (the reconnect timer)"""
    if syn_rel is None:
        return None
    near = [e for e in trace if syn_rel - 3 <= e["t"] <= syn_rel + 0.5]
    for e in reversed(near):
        if e["event"] == "rpc_socket_error":
            code = e["text"].split()[0].replace("error=", "")
            return {"-104": "ECONNRESET", "-110": "ETIMEDOUT", "-32": "EPIPE"}.get(code, "error " + code)
    if any(e["event"] == "rpc_timeout_status" for e in near):
        return "rpc timeout"
    if any(e["event"] in ("xprt_connect", "rpc_socket_connect") for e in near):
        return "reconnect"
    return None


def wire_stall(events, client_ip, vip, t_event, t_end=None):
    """Longest gap between successful WRITE/COMMIT replies to the client around t_event."""
    ts = [e["t"] for e in events if e["t"] >= t_event - 60 and (t_end is None or e["t"] <= t_end)
          and _ok_reply(e, client_ip, vip) and any(o in WRITE_OPS for o in e.get("ops") or [])]
    ts.sort()
    gaps = [b - a for a, b in zip(ts, ts[1:]) if b >= t_event]
    return round(max(gaps), 3) if gaps else None


def map_trace_clock(trace, events):
    """Offset host - guest for the client's trace, from RPC calls seen both in the
    trace (xprt_transmit with its xid) and on the wire. A retransmitted call is sent
    again with the same xid, so each transmission is paired with the wire's nearest
    sighting: the median of those differences is the offset to within the pairing, and
    the smallest difference within 1 s of it the estimate (a frame leaves after its trace
    point). Returns None if nothing matches."""
    wire = {}
    for e in events:
        if e.get("kind") == "rpc" and e.get("dir") == "call":
            wire.setdefault(e["xid"], []).append(e["t"])
    pairs = [(x["t"], wire[x["xid"]]) for x in trace if x.get("xid") in wire]
    if not pairs:
        return None
    first = sorted(ws[0] - t for t, ws in pairs)
    mid = first[len(first) // 2]
    near = [min(ws, key=lambda w: abs(w - t - mid)) - t for t, ws in pairs]
    close = [d for d in near if abs(d - mid) <= 1.0]
    return min(close) if close else mid
