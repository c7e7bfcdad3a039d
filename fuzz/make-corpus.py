#!/usr/bin/env python3
"""make-corpus.py: write the seed corpora of the fuzzers (fuzz/corpus/).
Run once; the seeds are committed. Frames come from parcelsort-gen's pcap
(given as the first argument; without it the pcap's seeds are left as they
are) plus hand-made ARP, neighbour solicitation, ping and broken frames;
plans are the bundled plans and small broken ones; control requests are one
of every command. A frame's 2-byte length with its top bit set asks the
harness to make its checksums right (see fuzz_frame.c)."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import reference as ref  # noqa: E402


def put(kind, name, data):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def burst(frames, fix=False):
    return b"".join(struct.pack("<H", len(f) | (0x8000 if fix else 0)) + f
                    for f in frames)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


# the fuzzer's addresses (fuzz_frame.c): 2001:db8::2 on 02:00:00:00:00:02
ip6_us = bytes([0x20, 1, 0xd, 0xb8] + [0] * 11 + [2])
ip6_them = bytes([0x20, 1, 0xd, 0xb8] + [0] * 11 + [1])
sn_ip6 = bytes([0xff, 2] + [0] * 9 + [1, 0xff]) + ip6_us[13:]
sn_mac = bytes([0x33, 0x33, 0xff]) + ip6_us[13:]


def icmp6_frame(dst_mac, dst_ip, icmp, vlan=None):
    pseudo = ip6_them + dst_ip + struct.pack(">IxxxB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack(">H", csum(pseudo + icmp)) + icmp[4:]
    ip = struct.pack(">IHBB", 0x60000000, len(icmp), 58, 255) + ip6_them + dst_ip
    tag = b"\x81\x00" + struct.pack(">H", vlan) if vlan else b""
    return dst_mac + mac_them + tag + b"\x86\xdd" + ip + icmp


def solicitation(dst_mac, dst_ip, slla, vlan=None):
    ns = struct.pack(">BBHI", 135, 0, 0, 0) + ip6_us
    if slla:
        ns += bytes([1, 1]) + mac_them
    return icmp6_frame(dst_mac, dst_ip, ns, vlan)


mac_us, mac_them = bytes([2, 0, 0, 0, 0, 2]), bytes([2, 0, 0, 0, 0, 1])
frames = ref.read_pcap(sys.argv[1]) if len(sys.argv) > 1 else []
for i in range(0, min(len(frames), 40), 4):
    put("frame", "gen-%02d" % i, burst(frames[i:i + 4]))
arp = (b"\xff" * 6 + mac_them + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x800, 6, 4, 1)
       + mac_them + bytes([198, 18, 0, 1]) + b"\0" * 6 + bytes([198, 18, 0, 2]))
put("frame", "arp", burst([arp]))
put("frame", "vlan-arp", burst([arp[:12] + b"\x81\x00\x00\x07" + arp[12:]]))
if frames:
    put("frame", "truncated", burst([f[:n] for f in frames[:3] for n in (13, 20, 41)]))
# neighbour discovery: solicitations for our address, bare (78 bytes: the
# answer must not be longer, issue #12.8) and with the sender's link-layer
# address option, unicast and to the solicited-node group, one tagged; the
# same with the fix-checksums bit, from which mutations stay valid
nd = [solicitation(mac_us, ip6_us, False), solicitation(mac_us, ip6_us, True),
      solicitation(sn_mac, sn_ip6, True), solicitation(sn_mac, sn_ip6, False),
      solicitation(sn_mac, sn_ip6, True, vlan=7)]
put("frame", "nd", burst(nd))
put("frame", "nd-fix", burst(nd, fix=True))
put("frame", "nd-unicast-bare", burst([nd[0]], fix=True))
echo6 = icmp6_frame(mac_us, ip6_us, struct.pack(">BBHHH", 128, 0, 0, 1, 1) + b"ping")
put("frame", "ping6", burst([echo6], fix=True))
put("frame", "empty", b"")


# the sorter loop: kinds 3 and 5 from 198.18.0.1 (on the fuzzer's sorter
# allow-list), checksums left to the harness (fix bit)
def udp4_frame(payload, src=bytes([198, 18, 0, 1])):
    udp = struct.pack(">HHHH", 5000, 7100, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0)
    ip += src + bytes([198, 18, 0, 2])
    return mac_us + mac_them + b"\x08\x00" + ip + udp


def hdr(kind, count, seq=1):
    return struct.pack(">HBBHHII", 0x5053, 1, kind, count, 0, 3307820, seq)


def state(chute, st, hold):
    return struct.pack(">HBBHH", chute, st, 0, hold, 0)


def result(wb, chute, status):
    return wb.ljust(24, b"\0") + struct.pack(">IHBBQII", 7, chute, status,
                                              0, 1700000000000, 1, 0)


def scan(wb, region):
    return wb.ljust(24, b"\0") + struct.pack(
        ">QQIHHHHBBHII", region, 0, 1000, 0, 0, 0, 1, 1, 0, 0, 7, 0)


states = [state(10, 1, 60), state(11, 2, 5), state(10, 0, 0),
          state(0, 1, 1), state(999, 3, 3600), state(12, 0, 9)]
put("frame", "chute-states", burst([
    udp4_frame(hdr(3, len(states)) + b"".join(states)),
    udp4_frame(hdr(1, 1) + scan(b"JT0000000001", 330782000000))], fix=True))
results = [result(b"JT0000000001", 10, 1), result(b"JT0000000001", 0, 2),
           result(b"JT0000000001", 55, 1), result(b"JT0000000002", 0, 6),
           result(b"JT0000000666", 0, 3), result(b"bad", 0, 9)]
put("frame", "sort-results", burst([
    udp4_frame(hdr(1, 2) + scan(b"JT0000000001", 330782000000) +
               scan(b"JT0000000666", 330782000000)),
    udp4_frame(hdr(5, len(results)) + b"".join(results)),
    udp4_frame(hdr(1, 1) + scan(b"JT0000000001", 330782000000))], fix=True))
put("frame", "sorter-outsider", burst([
    udp4_frame(hdr(3, 1) + states[0], src=bytes([10, 0, 0, 1])),
    udp4_frame(hdr(5, 1) + results[0], src=bytes([10, 0, 0, 1]))],
    fix=True))

plans = os.path.join(HERE, "..", "config")
put("plan", "example", open(os.path.join(plans, "example.plan"), "rb").read())
put("plan", "yiwu", open(os.path.join(plans, "yiwu.plan"), "rb").read())
put("plan", "broken", b"plan x\nsite 1 33\nreject 9\nhub 1 trunk T\nroute 33 7 1\n"
    b"route 3307x 1 1\nrule 1 1 5,5 weight<10 carrier=S\n")
put("plan", "rules", b"plan r\nsite 9 110101\nreject 1\nhub 5 special S\n"
    b"rule 0 5 2 prefix=110101001001 device=3\nrule 65535 5 3,4 size>=100 "
    b"service=return carrier=JD\ndefault 5 9\n")


def req(cmd, args, flags=0):
    body = b"".join(a + b"\0" for a in args)
    return struct.pack(">IHHII", 0x50534331, 1, cmd, flags, len(body)) + body


example = open(os.path.join(plans, "example.plan"), "rb").read()
seeds = {
    "status": req(1, []), "status-json": req(1, [], 1),
    "load": req(2, [b"x.plan", example]), "diff": req(3, [b"x", example]),
    "show": req(4, []), "history": req(5, [], 1), "rollback": req(6, [b"1"]),
    "begin": req(7, []), "edit": req(8, [b"route 3307 1 5,6"]),
    "delete": req(9, [b"route", b"33"]), "commit": req(10, []),
    "abort": req(11, []),
    "route-get": req(12, [b"330782100201", b"carrier=SF", b"weight=40000"]),
    "chute-list": req(13, []), "chute-set": req(14, [b"disable", b"5"]),
    "stats": req(15, [], 1), "reset": req(16, []),
}
for name, data in seeds.items():
    put("ctl", name, data)
print("corpora written")
