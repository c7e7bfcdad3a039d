#!/usr/bin/env python3
"""scanner.py: an ordinary kernel UDP client playing the scanners of a sorting
centre against a running parcelsortd, with the independent reference model
(reference.py) saying what every reply must be.

    scanner.py PHASE --plan PLAN|none [--disabled C,C] [--v4 A] [--v6 A]
               [--outside A]

PHASE: noplan, main or noroute (which records are sent). Prints TAP-like
lines.
"""
import argparse
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

results = []


def t(cond, name):
    results.append(bool(cond))
    print(("ok - " if cond else "not ok - ") + name, flush=True)


def rec(wb=b"SF1234567890123", region=330782100201, weight=1200, dims=(300, 200, 100),
        device=3, stype=1, service=0, carrier=b"SF", seq=1, reserved=0):
    car = struct.unpack(">H", carrier)[0] if carrier else 0
    return struct.pack(">24sQQIHHHHBBHII", wb.ljust(24, b"\0"), region,
                       1794326400000, weight, dims[0], dims[1], dims[2],
                       device, stype, service, car, seq, reserved)


def request(records, seq, site=3307820, magic=0x5053, kind=1, flags=0,
            count=None):
    n = len(records) if count is None else count
    return struct.pack(">HBBHHII", magic, 1, kind, n, flags, site,
                       seq) + b"".join(records)


class Client:
    def __init__(self, family, server, port, bind=None):
        self.s = socket.socket(family, socket.SOCK_DGRAM)
        if bind:
            self.s.bind((bind, 0))
        self.s.settimeout(2.0)
        self.server = (server, port)

    def ask(self, payload, timeout=2.0):
        self.s.settimeout(timeout)
        self.s.sendto(payload, self.server)
        try:
            data, addr = self.s.recvfrom(4096)
            return data, addr
        except socket.timeout:
            return None, None


def reasons_of(reply):
    return [ref.REASONS[reply[16 + 48 * i + 31]]
            for i in range((len(reply) - 16) // 48)]


def exchange(cli, dec, records, seq, name):
    """Send one request; check the reply equals the model's."""
    req = request(records, seq)
    want = dec.decide_request(req)
    got, addr = cli.ask(req)
    t(got is not None, name + ": a reply came")
    if got is None:
        return []
    t(addr[0] == cli.server[0] and addr[1] == cli.server[1],
      name + ": from the dataplane's address and port")
    t(got == want, name + ": the reply is exactly the reference's (%s)" %
      ",".join(reasons_of(want)))
    if got != want:
        print("# want %s\n# got  %s" % (want.hex(), got.hex()))
    return reasons_of(got)


def silent(cli, payload, name):
    got, _ = cli.ask(payload, timeout=0.6)
    t(got is None, name + ": no reply")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("phase")
    ap.add_argument("--plan", required=True)
    ap.add_argument("--disabled", default="")
    ap.add_argument("--v4", default="198.18.0.2")
    ap.add_argument("--v6", default="2001:db8::2")
    ap.add_argument("--outside", default="198.19.0.5")
    ap.add_argument("--port", type=int, default=7100)
    a = ap.parse_args()
    plan = None if a.plan == "none" else ref.Plan(a.plan)
    disabled = [int(c) for c in a.disabled.split(",") if c]
    dec = ref.Decider(plan, disabled)
    v4 = Client(socket.AF_INET, a.v4, a.port)
    v6 = Client(socket.AF_INET6, a.v6, a.port)
    seen = set()

    if a.phase == "noplan":
        seen |= set(exchange(v4, dec, [rec(seq=1), rec(stype=4, seq=2),
                                       rec(stype=9, seq=3)], 1, "no plan v4"))
        seen |= set(exchange(v6, dec, [rec(stype=7, wb=b"", seq=4)], 2,
                             "no plan v6"))
    elif a.phase == "main":
        recs = [
            rec(seq=1, region=330782100201),                  # ROUTED village
            rec(seq=2, wb=b"YT0000000000001", region=310101001001),
            rec(seq=3, wb=b"ZT7500000000002", service=1),     # OVERRIDE cold
            rec(seq=4, wb=b"JT0000000000003", weight=31000),  # OVERRIDE heavy
            rec(seq=5, wb=b"SF0000000000004", region=110101001001),  # DEFAULT
            rec(seq=6, wb=b"SF0000000000005", region=0),      # DEFAULT
            rec(seq=7, stype=3),                              # TRACK_ONLY
            rec(seq=8, stype=7, wb=b""),                      # NOREAD
            rec(seq=9, wb=b""),                               # NOREAD (empty)
            rec(seq=10, wb=b"EA123456784CN"),                 # BAD_BARCODE
            rec(seq=11, wb=b"sf123456789"),                   # BAD_BARCODE
            rec(seq=12, service=0x80),                        # MALFORMED
            rec(seq=13, reserved=7),                          # MALFORMED
            rec(seq=14, wb=b"EA123456785CN", region=330782101005),
            rec(seq=15, wb=b"YD4300000000006", region=330782102001),
        ]
        seen |= set(exchange(v4, dec, recs, 100, "v4 batch"))
        # the same waybills again from another socket and over IPv6
        other = Client(socket.AF_INET, a.v4, a.port)
        seen |= set(exchange(other, dec, [rec(seq=21), rec(seq=22,
                             wb=b"ZT7500000000002", service=1)], 101,
                             "another scanner socket"))
        seen |= set(exchange(v6, dec, [rec(seq=23, wb=b"YT0000000000001",
                                           region=310101001001)], 102,
                             "re-scan over IPv6"))
        # every chute of a route disabled (state set before start)
        seen |= set(exchange(v6, dec, [rec(seq=24, wb=b"JD0000000000007",
                                           region=330782100202)], 103,
                             "disabled chute over IPv6"))
        # broken datagrams get nothing, and valid ones after them still do
        silent(v4, request([rec()], 200, magic=0x5054), "bad magic")
        silent(v4, request([rec()], 201, kind=2), "kind 2")
        silent(v4, request([rec()], 202, flags=1), "flags set")
        silent(v4, request([rec()], 203, count=0), "count 0")
        silent(v4, request([rec()] * 23, 204), "23 records")
        silent(v4, request([rec()], 205)[:-1], "one byte short")
        silent(v6, b"\x50\x53", "two bytes")
        seen |= set(exchange(v4, dec, [rec(seq=31, wb=b"SF9999999999999")],
                             206, "valid after broken"))
        # full batch: 22 records
        big = [rec(seq=40 + i, wb=b"JT%013d" % (777000 + i),
                   region=330782100000 + 200 + i) for i in range(22)]
        seen |= set(exchange(v6, dec, big, 207, "22 records over IPv6"))
        # a sender outside the allow-list
        out = Client(socket.AF_INET, a.v4, a.port, bind=a.outside)
        silent(out, request([rec(seq=50)], 300), "sender outside the allow-list")
        # another UDP port
        wrong = Client(socket.AF_INET, a.v4, a.port + 1)
        silent(wrong, request([rec(seq=51)], 301), "another UDP port")
    elif a.phase == "noroute":
        seen |= set(exchange(v4, dec, [rec(seq=1, region=110101001001),
                                       rec(seq=2)], 1, "no route"))
    print("# reasons seen: " + ",".join(sorted(seen)))
    with open(os.environ.get("PS_SEEN", "/dev/null"), "a") as f:
        f.write("\n".join(seen) + "\n")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
