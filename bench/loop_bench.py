#!/usr/bin/env python3
"""loop_bench.py: the sorter loop's cost in parcelsortd, side by side in one
run (bench/run.sh, after bench.py; never a test):
  (a) scan records per second with one sort result per decided scan flowing
      back (a capture with each 22-record scan datagram followed by a kind 5
      datagram of 22 SORTED results for the same waybills, from the sorter's
      address) against the scans-only capture it was made from;
  (b) scan records per second with 1,000,000 holds (none of them hit)
      against an empty hold list.
One worker, net_pcap with infinite_rx, the bundled Yiwu plan; the runs of
the two sides alternate. Writes OUT/loop_bench.md and OUT/loop_bench.json.
  loop_bench.py OUT
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import time

import bench
from bench import BUILD, ROOT, RUNS, W, gen, log, psd_argv, run_dpdk

SORTER_IP = "198.18.0.3"


def ip_checksum(hdr):
    s = sum(struct.unpack(">10H", hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def result_frame(eth, ip, payload):
    """A kind 5 frame answering one scan datagram: SORTED into the reject
    chute (never a missort) for every record, from the sorter's address."""
    magic, ver, kind, n, flags, site, seq = struct.unpack(">HBBHHII", payload[:16])
    body = b""
    for i in range(n):
        r = payload[16 + 64 * i:16 + 64 * (i + 1)]
        ev = struct.unpack(">I", r[56:60])[0]
        body += r[:24] + struct.pack(">IHBBQII", ev, 999, 1, 0,
                                     1794412800000, 1, 0)
    udp_payload = struct.pack(">HBBHHII", magic, ver, 5, n, 0, site, seq) + body
    udp = struct.pack(">HHHH", 40001, 7100, 8 + len(udp_payload), 0)
    src = bytes(int(x) for x in SORTER_IP.split("."))
    iph = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(udp_payload),
                                0, 0x4000, 64, 17, 0, src, ip[16:20]))
    struct.pack_into(">H", iph, 10, ip_checksum(bytes(iph)))
    return eth + bytes(iph) + udp + udp_payload


def mixed_pcap(scans, path):
    """Every scan frame of `scans`, each followed by its results frame."""
    if os.path.exists(path):
        return path
    data = open(scans, "rb").read()
    out = [data[:24]]
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        out.append(struct.pack("<IIII", sec, usec, incl, orig) + frame)
        if frame[12:14] != b"\x08\x00":
            continue
        res = result_frame(frame[:14], frame[14:34], frame[42:])
        out.append(struct.pack("<IIII", sec, usec, len(res), len(res)) + res)
    open(path, "wb").write(b"".join(out))
    return path


def holds_file(path, n=1000000):
    if not os.path.exists(path):
        with open(path, "w") as f:
            for i in range(n):
                f.write("SF%013d,bench hold\n" % (i * 7919 + 13))
    return path


def preload_holds(prefix, plan, path):
    """Start parcelsortd once with the state directory the measured runs
    use, load the holds into it, stop it: the runs start with them."""
    argv = psd_argv(prefix, [gen(os.path.join(W, "r1.pcap"), "--records", "1",
                                 "--datagrams", "20000", "--seed", "1")], plan)
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    sock = os.path.join(W, prefix + ".sock")
    try:
        for _ in range(120):
            if os.path.exists(sock):
                break
            time.sleep(0.25)
        subprocess.run([os.path.join(BUILD, "control", "parcelsortctl"), "--ctl",
                        sock, "hold", "load", path], check=True)
    finally:
        p.send_signal(2)
        p.wait(30)
        shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)


def side_by_side(name_a, fn_a, name_b, fn_b, runs):
    a, b = [], []
    for i in range(runs):              # alternate: the machine's noise hits both
        a.append(fn_a(i))
        b.append(fn_b(i))
    out = {}
    for name, rs in ((name_a, a), (name_b, b)):
        vals = sorted(r["records_ps"] for r in rs)
        out[name] = {"median": vals[len(vals) // 2], "min": vals[0], "max": vals[-1],
                     "runs": [r["records_ps"] for r in rs],
                     "loop_counters": {k: v for k, v in rs[0]["delta"].items()
                                       if "sort" in k or "intercept" in k or "drop" in k}}
        log("  %-52s %7.3f M scan records/s (min %.3f, max %.3f)" % (
            name, out[name]["median"] / 1e6, vals[0] / 1e6, vals[-1] / 1e6))
        log("    first run's loop counters: %s" % out[name]["loop_counters"])
        d = rs[len(rs) // 2]["delta"]
        out[name]["cycles_per_scan_record"] = {
            k: d[k] / max(d["records"], 1) for k in d
            if k.startswith("cyc_") or k == "busy_cycles"}
        log("    cycles per scan record (a middle run): %s" % ", ".join(
            "%s %.0f" % (k, v) for k, v in out[name]["cycles_per_scan_record"].items()))
    out["ratio_median"] = out[name_b]["median"] / out[name_a]["median"]
    out["ratio_runs"] = [rb["records_ps"] / ra["records_ps"] for ra, rb in zip(a, b)]
    log("  ratio %.3f (pairwise %s)" % (out["ratio_median"],
        ", ".join("%.2f" % r for r in out["ratio_runs"])))
    return out


def main():
    out_dir = sys.argv[1]
    yiwu = os.path.join(ROOT, "config", "yiwu.plan")
    r22 = gen(os.path.join(W, "r22.pcap"), "--records", "22", "--datagrams", "20000", "--seed", "1")
    mixed = mixed_pcap(r22, os.path.join(W, "r22-results.pcap"))
    pre = "psl%d" % os.getpid()
    runs = max(3, RUNS)
    res = {}
    log("== the sorter loop: scans with a sort result per record flowing back")
    sorter = ["--sorter-allow", SORTER_IP + "/32"]
    res["results"] = side_by_side(
        "scans only (22-record datagrams)",
        lambda i: run_dpdk("psl-scans", psd_argv(pre, [r22], yiwu, sorter), pre, 22, parcelsort=True),
        "scans + one SORTED result per record",
        lambda i: run_dpdk("psl-mixed", psd_argv(pre, [mixed], yiwu, sorter), pre, 22, parcelsort=True),
        runs)
    log("== the intercept list: 1,000,000 holds against none")
    hpre = pre + "h"
    preload_holds(hpre, yiwu, holds_file(os.path.join(W, "holds-1m.txt")))
    res["holds"] = side_by_side(
        "empty hold list",
        lambda i: run_dpdk("psl-nohold", psd_argv(pre, [r22], yiwu), pre, 22, parcelsort=True),
        "1,000,000 holds",
        lambda i: run_dpdk("psl-holds", psd_argv(hpre, [r22], yiwu), hpre, 22, parcelsort=True),
        runs)
    h = res["holds"]
    ns = lambda rate: 1e9 / rate
    res["holds"]["ns_per_record_over_empty"] = ns(h["1,000,000 holds"]["median"]) - ns(h["empty hold list"]["median"])
    log("  cost of the holds: %.2f ns per record (medians)" % res["holds"]["ns_per_record_over_empty"])
    json.dump(res, open(os.path.join(out_dir, "loop_bench.json"), "w"), indent=1)
    md = ["# parcelsort: the sorter loop's cost", "",
          "Run on %s; %d alternating runs of each side, 1 worker, net_pcap infinite_rx, "
          "the bundled Yiwu plan, 22-record scan datagrams." % (
              time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), runs), "",
          "| configuration | M scan records/s median | min | max |", "|---|---:|---:|---:|"]
    for sec in ("results", "holds"):
        for k, v in res[sec].items():
            if isinstance(v, dict):
                md.append("| %s | %.3f | %.3f | %.3f |" % (k, v["median"] / 1e6,
                                                         v["min"] / 1e6, v["max"] / 1e6))
    md += ["", "- with results / scans only: %.2f (pairwise %s)" % (
        res["results"]["ratio_median"], ", ".join("%.2f" % r for r in res["results"]["ratio_runs"])),
        "- 1,000,000 holds / none: %.2f; %.2f ns per record over the empty list" % (
            res["holds"]["ratio_median"], res["holds"]["ns_per_record_over_empty"])]
    open(os.path.join(out_dir, "loop_bench.md"), "w").write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
