#!/usr/bin/env python3
"""live_traffic.py: a scanner sending scan batches in lock-step (one request,
one reply) to a running parcelsortd until a stop file appears, logging every
request and reply; then `verify` checks the log against the reference model
with one plan per version, as plans are swapped underneath.

    live_traffic.py run LOG STOPFILE [--v4 ADDR]
    live_traffic.py verify LOG VERSIONS     (VERSIONS: lines "VERSION PLANFILE")
"""
import os
import random
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402
from scanner import rec, request  # noqa: E402

REGIONS = [330782100201, 330782100202, 330782101005, 330782102001,
           310101001001, 330100000000, 110101001001, 0]


def run(log, stop, addr="198.18.0.2", port=7100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    rnd = random.Random(7)
    seen, seq, lost = [], 0, 0
    with open(log, "w") as out:
        while not os.path.exists(stop):
            seq += 1
            recs = []
            for k in range(rnd.randint(1, 8)):
                if seen and rnd.random() < 0.15:
                    wb = rnd.choice(seen)
                else:
                    wb = b"JT%013d" % (seq * 10 + k)
                    seen.append(wb)
                recs.append(rec(wb=wb, region=rnd.choice(REGIONS),
                                weight=rnd.choice([500, 31000]),
                                service=rnd.choice([0, 0, 0, 1]),
                                stype=rnd.choice([1, 1, 1, 2, 3]),
                                seq=seq * 10 + k))
            req = request(recs, seq)
            s.sendto(req, (addr, port))
            try:
                rep, _ = s.recvfrom(4096)
            except socket.timeout:
                rep = b""
                lost += 1
            out.write("%s %s\n" % (req.hex(), rep.hex() or "-"))
    print("# %d requests, %d without a reply" % (seq, lost))


def verify(log, versions):
    plans = {}
    for line in open(versions):
        v, path = line.split()
        plans[int(v)] = ref.Plan(path, int(v))
    dec = ref.Decider(None)
    ok, lost, bad, last, n, used = True, 0, 0, 0, 0, set()
    for line in open(log):
        reqh, reph = line.split()
        n += 1
        if reph == "-":
            lost += 1
            continue
        req, rep = bytes.fromhex(reqh), bytes.fromhex(reph)
        count = struct.unpack(">H", req[4:6])[0]
        for i in range(count):
            r = rep[16 + 48 * i:64 + 48 * i]
            reason, version = r[31], struct.unpack(">I", r[36:40])[0]
            if reason != ref.R["DUPLICATE"]:
                if version < last:
                    bad += 1
                    print("# version went back from %d to %d" % (last, version))
                last = max(last, version)
            used.add(version)
            dec.plan = plans.get(version) if reason != ref.R["DUPLICATE"] \
                else dec.plan
            if dec.plan is None:
                bad += 1
                continue
            exp = dec.decide_record(req[16 + 64 * i:80 + 64 * i])
            if exp != r:
                bad += 1
                if bad < 4:
                    print("# record %d of request %d: want %s got %s" % (
                        i, n, exp.hex(), r.hex()))
    for cond, name in [
            (lost == 0, "zero datagrams lost (%d requests)" % n),
            (bad == 0, "every decision agrees with the plan of the version "
             "it reports, versions never go back (%d wrong)" % bad),
            (len(used) >= 3, "replies came from %d plan versions" % len(used))]:
        ok &= cond
        print(("ok - " if cond else "not ok - ") + name)
    return ok


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], *(sys.argv[4:5]))
    elif len(sys.argv) == 4 and sys.argv[1] == "verify":
        sys.exit(0 if verify(sys.argv[2], sys.argv[3]) else 1)
    else:
        sys.exit(__doc__)
