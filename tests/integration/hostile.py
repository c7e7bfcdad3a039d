#!/usr/bin/env python3
"""hostile.py: hostile traffic interleaved with valid scan batches.

    hostile.py make GEN.pcap IN.pcap PLAN   write the mix, print the counts
    hostile.py check IN.pcap OUT.pcap PLAN LOG

`make` takes parcelsort-gen's frames as the valid traffic and mixes in:
random frames, every truncation of an IPv4 and an IPv6 request, wrong UDP
lengths, counts 0 and 23, IP fragments, bad IP and UDP checksums, senders
outside the allow-list, and floods of NOREAD and malformed records (valid
requests that must still be answered). It records which frames are valid in
IN.pcap.valid. `check` verifies that every valid request got exactly the
reference's reply, in order, that nothing else was answered, and that the
daemon's counters (its summary in LOG) account for every frame by cause.
"""
import json
import random
import re
import struct
import sys

import reference as ref

rnd = random.Random(2026)


def ip_csum_fix(fr, off):
    ihl = (fr[off] & 15) * 4
    struct.pack_into(">H", fr, off + 10, 0)
    struct.pack_into(">H", fr, off + 10, ref.csum(bytes(fr[off:off + ihl])))


def make(gen, out, plan):
    valid = ref.read_pcap(gen)
    v4 = [f for f in valid if f[12:14] == b"\x08\x00"]
    v6 = [f for f in valid if f[12:14] == b"\x86\xdd"]
    hostile = {}

    def add(kind, frame):
        hostile.setdefault(kind, []).append(bytes(frame))
    mac = bytes([2, 0, 0, 0, 0, 2])
    for _ in range(200):                       # random frames, some for us
        n = rnd.randint(0, 1514)
        f = bytearray(rnd.getrandbits(8) for _ in range(n))
        if n >= 6 and rnd.random() < 0.5:
            f[0:6] = mac
        add("random", f)
    for base in (v4[0], v6[0]):                # every truncation
        for n in range(len(base)):
            add("truncated", base[:n])
    for f in v4[1:21]:                         # wrong UDP lengths
        b = bytearray(f)
        struct.pack_into(">H", b, 38, struct.unpack(">H", b[38:40])[0] + rnd.choice([-1, 1, -8]))
        add("udp_length", b)
    for f in v4[21:31] + v6[1:11]:             # count 0 and count 23
        s = ref.udp_payload(f)
        p = bytearray(s[4])
        struct.pack_into(">H", p, 4, 0)
        add("count", ref.rebuild_udp(f, bytes(p[:16])))
        p = bytearray(s[4][:16]) + s[4][16:80] * 23
        struct.pack_into(">H", p, 4, 23)
        add("count", ref.rebuild_udp(f, bytes(p)))
    for f in v4[31:51]:                        # IPv4 fragments
        b = bytearray(f)
        struct.pack_into(">H", b, 20, rnd.choice([0x2000, 0x0010, 0x2005]))
        ip_csum_fix(b, 14)
        add("fragment", b)
    for f in v6[11:21]:                        # IPv6 fragment header
        b = bytearray(f)
        b[20] = 44
        add("fragment", b)
    for f in v4[51:71]:                        # bad IPv4 header checksum
        b = bytearray(f)
        b[24] ^= 0x5A
        add("ip_checksum", b)
    for f in v4[71:91] + v6[21:31]:            # bad UDP checksum
        b = bytearray(f)
        b[-1] ^= 0x01
        add("udp_checksum", b)
    for f in v4[91:111]:                       # spoofed, outside allow-list
        b = bytearray(f)
        b[26:30] = bytes([198, 19, 0, rnd.randint(1, 254)])
        ip_csum_fix(b, 14)
        b = bytearray(ref.rebuild_udp(bytes(b), ref.udp_payload(bytes(b))[4]))
        add("not_allowed", b)
    extra_valid = []
    for i, f in enumerate(v4[111:171]):        # floods answered as such
        s = ref.udp_payload(f)
        p = bytearray(s[4])
        count = struct.unpack(">H", p[4:6])[0]
        for r in range(count):
            o = 16 + 64 * r
            if i % 2:
                p[o:o + 24] = bytes(24)         # NOREAD
                p[o + 52] = 7
            else:
                p[o + 63] = 1                   # malformed: reserved
        extra_valid.append(ref.rebuild_udp(f, bytes(p)))
    # interleave: valid frames in order with hostile ones in between
    pool = [(k, f) for k, fs in hostile.items() for f in fs]
    rnd.shuffle(pool)
    mixed, flags = [], []
    valid_seq = valid[171:] + extra_valid
    rnd.shuffle(valid_seq)
    vi = hi = 0
    while vi < len(valid_seq) or hi < len(pool):
        if hi >= len(pool) or (vi < len(valid_seq) and rnd.random() < 0.5):
            mixed.append(valid_seq[vi])
            flags.append(True)
            vi += 1
        else:
            mixed.append(pool[hi][1])
            flags.append(False)
            hi += 1
    ref.write_pcap(out, mixed)
    counts = {k: len(v) for k, v in hostile.items()}
    counts["valid"] = len(valid_seq)
    counts["total"] = len(mixed)
    with open(out + ".valid", "w") as fh:
        json.dump({"flags": flags, "counts": counts}, fh)
    print("# %s" % counts)


def check(inp, outp, plan, log):
    meta = json.load(open(inp + ".valid"))
    flags, counts = meta["flags"], meta["counts"]
    dec = ref.Decider(ref.Plan(plan))
    want, reqs = [], []
    for fr, ok in zip(ref.read_pcap(inp), flags):
        if ok:
            reqs.append(ref.udp_payload(fr)[4])
            want.append(dec.decide_request(reqs[-1]))
    got = [ref.udp_payload(f)[4] for f in ref.read_pcap(outp)]
    text = open(log).read()

    def counter(name):
        m = re.search(r"\b%s (\d+)" % name, text)
        return int(m.group(1)) if m else 0
    rx = int(re.search(r"frames  rx (\d+)", text).group(1))
    answered = int(re.search(r"answered (\d+)", text).group(1))
    results = [
        (len(got) == len(want), "one reply per valid request, none for the "
         "%d hostile frames (%d replies, %d valid)" % (
             counts["total"] - counts["valid"], len(got), len(want))),
        (got == want, "every valid request got the reference's reply"),
        (rx == counts["total"], "every frame received (%d of %d)" % (
            rx, counts["total"])),
        ("answered + dropped = rx: yes" in text,
         "answered + dropped adds up to the frames received"),
        (answered == counts["valid"], "answered = valid requests"),
        (counter("fragment") == counts["fragment"], "fragments counted (%d)"
         % counter("fragment")),
        (counter("ip_checksum") == counts["ip_checksum"],
         "bad IP checksums counted"),
        (counter("not_allowed") == counts["not_allowed"],
         "senders outside the allow-list counted"),
        (counter("hdr_count") == counts["count"], "counts 0 and 23 counted"),
        (counter("udp_checksum") >= counts["udp_checksum"],
         "bad UDP checksums counted"),
        (counter("udp_length") >= counts["udp_length"],
         "wrong UDP lengths counted"),
        (all(len(g) < len(r) for g, r in zip(got, reqs)),
         "every reply is smaller than its request (no amplification)"),
    ]
    ok = True
    for cond, name in results:
        ok &= bool(cond)
        print(("ok - " if cond else "not ok - ") + name)
    return ok


if __name__ == "__main__":
    if sys.argv[1:2] == ["make"]:
        make(*sys.argv[2:5])
    elif sys.argv[1:2] == ["check"]:
        sys.exit(0 if check(*sys.argv[2:6]) else 1)
    else:
        sys.exit(__doc__)
