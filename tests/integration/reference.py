#!/usr/bin/env python3
"""reference.py: an independent model of the parcelsort protocol and sort plan
(written from docs/protocol.md and docs/sort-plan.md, sharing no code with the
dataplane), used by the integration tests to check the daemon's replies.

As a library: Plan(path), Decider(plan).decide_request(payload) -> reply bytes
or None. As a program:
    reference.py check PLAN IN.pcap OUT.pcap   compare a capture of replies
    reference.py mutate IN.pcap OUT.pcap       append malformed requests
Prints TAP-like "ok - ..." / "not ok - ..." lines.
"""
import struct
import sys

M64 = (1 << 64) - 1
REASONS = ["ROUTED", "OVERRIDE", "DEFAULT", "DUPLICATE", "TRACK_ONLY",
           "NO_ROUTE", "NOREAD", "BAD_BARCODE", "MALFORMED_RECORD",
           "CHUTE_UNAVAILABLE", "NO_PLAN", "INTERCEPTED", "RECIRC_LIMIT"]
R = {n: i for i, n in enumerate(REASONS)}
TIERS = {"trunk": 1, "county": 2, "township": 3, "village": 4, "special": 5}
FLAGS = {"cold_chain": 1, "bulky": 2, "fragile": 4, "international": 8,
         "time_definite": 16, "cod": 32, "return": 64}


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def chute_hash(wb):
    w0, w1, w2 = struct.unpack("<QQQ", wb)
    h = (w0 * 0x9E3779B97F4A7C15) & M64
    a = (w1 * 0xC2B2AE3D27D4EB4F) & M64
    b = (w2 * 0x165667B19E3779F9) & M64
    h = (h + rotl(a, 31) + rotl(b, 17)) & M64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    return h >> 32


def s10_check(d):
    s = sum(int(c) * w for c, w in zip(d, [8, 6, 4, 2, 3, 5, 9, 7]))
    c = 11 - s % 11
    return 0 if c == 10 else 5 if c == 11 else c


def waybill_state(wb):
    """'empty', 'valid' or 'invalid'."""
    if wb == bytes(24):
        return "empty"
    text = wb.rstrip(b"\0")
    if b"\0" in text:
        return "invalid"
    if not (8 <= len(text) <= 24):
        return "invalid"
    if any(not (48 <= c <= 57 or 65 <= c <= 90 or c == 45) for c in text):
        return "invalid"
    t = text.decode()
    if (len(t) == 13 and t[:2].isalpha() and t[11:].isalpha()
            and t[2:11].isdigit()):
        if s10_check(t[2:10]) != int(t[10]):
            return "invalid"
    return "valid"


class Plan:
    def __init__(self, path, version=1):
        self.version = version
        self.hubs, self.routes, self.rules = {}, {}, []
        self.default = None
        for line in open(path, encoding="utf-8"):
            line = line.split("#", 1)[0]
            f = line.split()
            if not f:
                continue
            d = f[0]
            if d == "plan":
                self.name = f[1]
            elif d == "site":
                self.site = int(f[1])
            elif d == "reject":
                self.reject = int(f[1])
            elif d == "hub":
                self.hubs[int(f[1])] = TIERS[f[2]]
            elif d == "route":
                self.routes[f[1]] = (int(f[2]), [int(c) for c in f[3].split(",")])
            elif d == "rule":
                self.rules.append((int(f[1]), int(f[2]),
                                   [int(c) for c in f[3].split(",")], f[4:]))
            elif d == "default":
                self.default = (int(f[1]), [int(c) for c in f[2].split(",")])
        self.rules.sort()

    @staticmethod
    def cond_holds(c, rec):
        key, _, val = c.partition("=")
        if c.startswith("weight>="):
            return rec["weight"] >= int(c[8:])
        if c.startswith("weight<"):
            return rec["weight"] < int(c[7:])
        if c.startswith("size>="):
            return max(rec["dims"]) >= int(c[6:])
        if key == "service":
            return rec["service"] & FLAGS[val] != 0
        if key == "carrier":
            return rec["carrier"] == (ord(val[0]) << 8 | ord(val[1]))
        if key == "prefix":
            return rec["region"] != 0 and str(rec["region"]).startswith(val)
        if key == "device":
            return rec["device"] == int(val)
        raise ValueError(c)

    def match(self, rec):
        """(reason, hub, chutes, matched_prefix) or None."""
        for prio, hub, chutes, conds in self.rules:
            if all(self.cond_holds(c, rec) for c in conds):
                return ("OVERRIDE", hub, chutes, 0)
        if rec["region"]:
            code = "%012d" % rec["region"]
            for n in (12, 9, 6, 4, 2):
                if code[:n] in self.routes:
                    hub, chutes = self.routes[code[:n]]
                    return ("ROUTED", hub, chutes, int(code[:n].ljust(12, "0")))
        if self.default:
            return ("DEFAULT", self.default[0], self.default[1], 0)
        return None


class Decider:
    def __init__(self, plan, disabled=()):
        self.plan = plan
        self.disabled = set(disabled)
        self.first = {}      # waybill -> decision tuple

    def decide_record(self, r):
        p = self.plan
        wb, region, _ts, weight, l, w, h, device, stype, service, carrier, \
            seq, reserved = struct.unpack(">24sQQIHHHHBBHII", r)
        rec = dict(region=region, weight=weight, dims=(l, w, h),
                   device=device, service=service, carrier=carrier)
        version = p.version if p else 0
        reject = p.reject if p else 0

        def out(chute, tier, reason, hub, ver, prefix):
            return struct.pack(">24sIHBBIIQ", wb, seq, chute, tier, R[reason],
                               hub, ver, prefix)
        if ((region != 0 and not 110000000000 <= region <= 999999999999)
                or not 1 <= stype <= 8 or service & 0x80 or reserved):
            return out(reject, 0, "MALFORMED_RECORD", 0, version, 0)
        if stype not in (1, 2, 7):
            return out(0, 0, "TRACK_ONLY", 0, version, 0)
        if not p:
            return out(0, 0, "NO_PLAN", 0, 0, 0)
        state = waybill_state(wb)
        if stype == 7 or state == "empty":
            return out(reject, 0, "NOREAD", 0, version, 0)
        if state == "invalid":
            return out(reject, 0, "BAD_BARCODE", 0, version, 0)
        first = self.first.get(wb)
        if first and first[0] not in self.disabled:
            chute, tier, hub, ver, prefix = first
            return out(chute, tier, "DUPLICATE", hub, ver, prefix)
        m = p.match(rec)
        if not m:
            return out(reject, 0, "NO_ROUTE", 0, version, 0)
        reason, hub, chutes, prefix = m
        on = [c for c in chutes if c not in self.disabled]
        if not on:
            return out(reject, 0, "CHUTE_UNAVAILABLE", 0, version, 0)
        chute = on[(chute_hash(wb) * len(on)) >> 32]
        tier = p.hubs[hub]
        self.first[wb] = (chute, tier, hub, version, prefix)
        return out(chute, tier, reason, hub, version, prefix)

    def decide_request(self, payload):
        """The reply payload, or None when the request gets no reply."""
        if len(payload) < 16:
            return None
        magic, ver, kind, count, flags, site, seq = struct.unpack(
            ">HBBHHII", payload[:16])
        if (magic != 0x5053 or ver != 1 or kind != 1 or not 1 <= count <= 22
                or flags or len(payload) != 16 + 64 * count):
            return None
        recs = [self.decide_record(payload[16 + 64 * i:80 + 64 * i])
                for i in range(count)]
        rsite = self.plan.site if self.plan else 0
        return struct.pack(">HBBHHII", 0x5053, 1, 2, count, 0, rsite,
                           seq) + b"".join(recs)


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    # microsecond or nanosecond pcap (DPDK's net_pcap writes nanoseconds)
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, frames = 24, []
    while off + 16 <= len(data):
        _s, _u, incl, _o = struct.unpack(e + "IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1794326400 + i // 1000, i % 1000,
                                len(fr), len(fr)))
            f.write(fr)


def udp_payload(frame):
    """(src, sport, dst, dport, payload) of an untagged or tagged UDP frame."""
    off = 14
    et = struct.unpack(">H", frame[12:14])[0]
    if et == 0x8100:
        et = struct.unpack(">H", frame[16:18])[0]
        off = 18
    if et == 0x0800:
        ihl = (frame[off] & 15) * 4
        src, dst = frame[off + 12:off + 16], frame[off + 16:off + 20]
        l4 = off + ihl
    elif et == 0x86DD:
        src, dst = frame[off + 8:off + 24], frame[off + 24:off + 40]
        l4 = off + 40
    else:
        return None
    sport, dport, ulen = struct.unpack(">HHH", frame[l4:l4 + 6])
    return src, sport, dst, dport, frame[l4 + 8:l4 + ulen]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def rebuild_udp(frame, payload):
    """The same frame with another UDP payload, lengths and checksums fixed."""
    off = 14
    if struct.unpack(">H", frame[12:14])[0] == 0x8100:
        off = 18
    v4 = frame[off] >> 4 == 4
    hl = (frame[off] & 15) * 4 if v4 else 40
    ip = bytearray(frame[off:off + hl])
    udp = bytearray(frame[off + hl:off + hl + 8]) + payload
    struct.pack_into(">H", udp, 4, len(udp))
    struct.pack_into(">H", udp, 6, 0)
    if v4:
        struct.pack_into(">H", ip, 2, hl + len(udp))
        struct.pack_into(">H", ip, 10, 0)
        struct.pack_into(">H", ip, 10, csum(bytes(ip)))
        pseudo = ip[12:20] + struct.pack(">BBH", 0, 17, len(udp))
    else:
        struct.pack_into(">H", ip, 4, len(udp))
        pseudo = ip[8:40] + struct.pack(">IxxxB", len(udp), 17)
    c = csum(bytes(pseudo) + bytes(udp)) or 0xFFFF
    struct.pack_into(">H", udp, 6, c)
    return frame[:off] + bytes(ip) + bytes(udp)


def mutate(src, dst):
    """Append requests broken at the datagram level and at the record level."""
    frames = read_pcap(src)
    extra = []
    for fr in frames[:40]:
        s = udp_payload(fr)
        if not s or len(s[4]) < 80:
            continue
        p = bytearray(s[4])
        for k, (off, val) in enumerate([(0, 0x51), (2, 2), (3, 2), (7, 1)]):
            q = bytearray(p)
            q[off] = val
            extra.append(rebuild_udp(fr, bytes(q)))
        extra.append(rebuild_udp(fr, bytes(p[:-1])))          # short
        q = bytearray(p)
        struct.pack_into(">H", q, 4, 0)                        # count 0
        extra.append(rebuild_udp(fr, bytes(q)))
        for rec_off, val in [(52, 9), (53, 0x80), (63, 1), (24, 0)]:
            q = bytearray(p)                                   # bad records
            q[16 + rec_off] = val
            if rec_off == 24:                                  # region > max
                q[16 + 24:16 + 32] = struct.pack(">Q", 10 ** 12)
            extra.append(rebuild_udp(fr, bytes(q)))
    write_pcap(dst, frames + extra)
    print("# %d frames, %d of them broken" % (len(frames) + len(extra), len(extra)))


def check(plan_path, inp, outp):
    dec = Decider(Plan(plan_path))
    want = []
    for fr in read_pcap(inp):
        s = udp_payload(fr)
        if s is None:
            continue
        rep = dec.decide_request(s[4])
        if rep is not None:
            want.append((s, rep))
    got = [udp_payload(fr) for fr in read_pcap(outp)]
    ok = True

    def t(cond, name):
        nonlocal ok
        ok &= bool(cond)
        print(("ok - " if cond else "not ok - ") + name)
    t(len(got) == len(want), "one reply per valid request (%d replies, %d "
      "expected)" % (len(got), len(want)))
    bad = 0
    reasons = [0] * len(REASONS)
    for (req, rep), g in zip(want, got):
        if g is None or g[4] != rep or g[0] != req[2] or g[2] != req[0] \
                or g[1] != req[3] or g[3] != req[1]:
            if bad < 3:
                print("# first mismatch: want %s got %s" % (
                    rep[:40].hex(), g[4][:40].hex() if g else None))
            bad += 1
        for i in range(16, len(rep), 48):
            reasons[rep[i + 31]] += 1
    t(bad == 0, "every reply equals the reference's, byte for byte, "
      "to the sender's address and port (%d differ)" % bad)
    t(all(len(g[4]) < len(r[4]) for (r, _), g in zip(want, got) if g),
      "every reply is smaller than its request")
    print("# by reason: " + ", ".join("%s %d" % (REASONS[i], n)
                                       for i, n in enumerate(reasons) if n))
    return ok


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "check":
        sys.exit(0 if check(*sys.argv[2:]) else 1)
    if len(sys.argv) == 4 and sys.argv[1] == "mutate":
        mutate(*sys.argv[2:])
        sys.exit(0)
    sys.exit(__doc__)
