"""sorter_client.py: a scanner and a sorter controller as kernel UDP
clients in the test namespace (sorter_loop.sh): scan batches from
198.18.0.1 (the scanner list), chute states and sort results from
198.18.0.1 too, which is on the sorter list, and the same from 198.19.0.5,
which is on neither. Prints ok / not ok lines.

usage: sorter_client.py PHASE   (loop | figures | two)"""
import socket, struct, sys, time

DST = ("198.18.0.2", 7100)
seq = 0

def hdr(kind, count):
    global seq
    seq += 1
    return struct.pack(">HBBHHII", 0x5053, 1, kind, count, 0, 11, seq)

def sock(src="198.18.0.1", port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, port))
    s.settimeout(1.0)
    return s

def ask(s, payload):
    for _ in range(3):
        s.sendto(payload, DST)
        try:
            data, src = s.recvfrom(2048)
            if struct.unpack(">I", data[12:16])[0] == seq:
                return data, src
        except socket.timeout:
            pass
    return None, None

def scan(s, wb, region):
    rec = wb.encode().ljust(24, b"\0") + struct.pack(
        ">QQIHHHHBBHII", region, 0, 1000, 0, 0, 0, 3, 1, 0, 0, 0, 0)
    r, _ = ask(s, hdr(1, 1) + rec)
    if r is None:
        return None
    return struct.unpack(">HBB", r[16 + 28:16 + 32])  # chute, tier, reason

def state(s, chute, st, hold):
    r, src = ask(s, hdr(3, 1) + struct.pack(">HBBHH", chute, st, 0, hold, 0))
    return r, src

def result(s, wb, chute, status):
    e = wb.encode().ljust(24, b"\0") + struct.pack(">IHBBQII", 0, chute,
                                                   status, 0, 0, 0, 0)
    return ask(s, hdr(5, 1) + e)

def t(c, name):
    print(("ok - " if c else "not ok - ") + name)
    sys.stdout.flush()

ROUTED, DUP, UNAVAIL, RECIRC = 0, 3, 9, 12

def ack_ok(r, count):
    return (r is not None and len(r) == 16 and r[3] == 4 and
            struct.unpack(">H", r[4:6])[0] == count and
            struct.unpack(">I", r[8:12])[0] == 77 and
            struct.unpack(">I", r[12:16])[0] == seq)

def loop():
    s = sock()
    c = scan(s, "JT0000000001", 310000000000)
    t(c == (20, 1, ROUTED), "a scan goes to chute 20 (%s)" % (c,))
    r, src = state(s, 20, 1, 3)              # FULL for 3 s
    t(ack_ok(r, 1), "chute state acknowledged: count 1, site, seq")
    t(src == DST, "the acknowledgement comes from our address and port")
    c = scan(s, "JT0000000002", 310000000000)
    t(c is not None and c[2] == UNAVAIL and c[0] == 999,
      "after the acknowledgement the FULL chute is avoided (%s)" % (c,))
    c = scan(s, "JT0000000001", 310000000000)
    t(c is not None and c[2] == UNAVAIL,
      "its remembered decision is decided afresh (%s)" % (c,))
    time.sleep(5.2)
    c = scan(s, "JT0000000001", 310000000000)
    t(c == (20, 1, DUP), "after hold_s lapses the chute is used again, "
      "the first decision stands (%s)" % (c,))
    # recirculation: the plan says recirculate 2
    c = scan(s, "JT0000000003", 330000000000)
    r, _ = result(s, "JT0000000003", c[0], 2)   # CHUTE_FULL
    t(ack_ok(r, 1), "sort result acknowledged")
    c2 = scan(s, "JT0000000003", 330000000000)
    t(c2 is not None and c2[2] == ROUTED,
      "after CHUTE_FULL the next scan is decided afresh (%s)" % (c2,))
    result(s, "JT0000000003", c2[0], 2)
    c3 = scan(s, "JT0000000003", 330000000000)
    t(c3 is not None and c3[2] == RECIRC and c3[0] == 999,
      "RECIRC_LIMIT after 2 rounds (%s)" % (c3,))
    # missort
    c = scan(s, "JT0000000004", 330000000000)
    result(s, "JT0000000004", 55, 1)
    # kinds 3 and 5 from an address on neither list: nothing
    o = sock("198.19.0.5")
    r, _ = state(o, 10, 1, 3600)
    t(r is None, "chute state from outside the sorter list: no answer")
    r, _ = result(o, "JT0000000004", 10, 2)
    t(r is None, "sort result from outside the sorter list: no answer")
    c = scan(s, "JT0000000004", 330000000000)
    t(c is not None and c[2] == DUP,
      "and they changed nothing (%s)" % (c,))

def figures():
    # for `chute list` and `device list` (sorter_loop.sh checks them):
    # one parcel SORTED into its chute 20, chute 11 FULL for 600 s
    s = sock()
    c = scan(s, "JT0000000301", 310000000000)
    r, _ = result(s, "JT0000000301", 20, 1)
    t(c == (20, 1, ROUTED) and ack_ok(r, 1), "a parcel SORTED into chute 20")
    r, _ = state(s, 11, 1, 600)
    t(ack_ok(r, 1), "chute 11 reported FULL for 600 s")

def two():
    # one socket per source port: the kernel's fanout spreads the flows
    # over the two queues; a result sent on every flow reaches both cores
    socks = [sock(port=41000 + i) for i in range(8)]
    first = scan(socks[0], "JT0000000101", 330000000000)
    dups = [scan(x, "JT0000000101", 330000000000) for x in socks[1:]]
    t(first is not None and first[2] == ROUTED and
      all(d is not None and d[2] == DUP for d in dups),
      "one fresh decision, duplicates from every flow")
    # the result from one flow, the scan from each other flow in turn
    ok = True
    for i in range(1, 8):
        result(socks[0], "JT0000000101", 0, 4)   # DISCHARGE_FAILED
        c = scan(socks[i], "JT0000000101", 330000000000)
        ok = ok and c is not None and c[2] in (ROUTED, RECIRC)
        if c is not None and c[2] == RECIRC:
            break
    t(ok, "a result on one flow makes the next scan on another flow "
      "decided afresh")

{"loop": loop, "figures": figures, "two": two}[sys.argv[1]]()
