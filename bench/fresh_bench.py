#!/usr/bin/env python3
"""fresh_bench.py: fresh waybills in steady state against replayed
duplicates, side by side in one run (bench/run.sh, after bench.py; never a
test).

  fresh:    a capture of 170,000 22-record datagrams without re-scans
            (--rescan 0: about 3.6 M distinct sortable waybills, more than
            3 x the default window of 1,048,576), replayed without end by
            net_pcap with infinite_rx. Measured once the window is full
            and evicting (the daemon's counters say so), and each waybill
            comes back only after more than 3 M others: nearly every
            sortable record is looked up, missed, decided by the plan and
            inserted.
  replayed: the 20,000-datagram capture of bench.py, whose waybills all
            stay in the window: after the first pass every sortable record
            is a duplicate.
Both on the national plan (Zipf destinations, the generator's default),
one worker, the default window (1,048,576 waybills, 600 s); the runs of
the two sides alternate so that the machine's noise falls on both. Beside
each rate: the window's hit rate (hits / (hits + inserts)), inserts and
evictions per record, and the daemon's own cycles per record by phase.
Optionally (--kernel) the kernel UDP server on the same two captures and
(--latency) the burst latency at 10/50/90% load on the fresh capture.
Writes OUT/fresh_bench.md and OUT/fresh_bench.json.
  fresh_bench.py OUT [--kernel] [--latency]
"""
import json
import os
import subprocess
import sys
import time

import bench
from bench import BUILD, ROOT, RUNS, W, gen, log, psd_argv, run_dpdk

PHASES = ("cyc_rx", "cyc_parse", "cyc_dedup", "cyc_decide", "cyc_reply",
          "cyc_tx")


def summarise(r):
    """Rate, hit rate and cycles per record of one run."""
    d = r["delta"]
    recs = max(d["records"], 1)
    looked = d["dedup_hits"] + d["dedup_inserts"]
    out = {"records_ps": r["records_ps"],
           "hit_rate": d["dedup_hits"] / looked if looked else 0.0,
           "inserts_per_record": d["dedup_inserts"] / recs,
           "evictions_per_record": d["dedup_evictions"] / recs,
           "busy_per_record": d["busy_cycles"] / recs,
           "dedup_busy": d["dedup_busy"]}
    for k in PHASES:
        out[k[4:]] = d[k] / recs
    return out


def window_full(prefix, timeout=60.0):
    """Return once the duplicate window is full and evicting: over half a
    second, at least 90% of the inserts evicted a live entry (on a loaded
    machine filling 1 M entries can take far longer than the warm-up)."""
    t_end = time.time() + timeout
    a = bench.tele(prefix, "/parcelsort/stats")
    while time.time() < t_end:
        time.sleep(0.5)
        b = bench.tele(prefix, "/parcelsort/stats")
        if b is None:      # no answer in time (a loaded machine): wait on
            continue
        if a is not None:
            ins = b["dedup_inserts"] - a["dedup_inserts"]
            if ins > 0 and b["dedup_evictions"] - a["dedup_evictions"] >= 0.9 * ins:
                return
        a = b
    raise RuntimeError("the window did not fill within %.0f s" % timeout)


def kernel_run(pcap, plan, warmup=3.0, window=2.0):
    """The kernel UDP server (bench/kernel_server.c, its own default 1 M
    window) on one core, driven over loopback from the other."""
    ks = subprocess.Popen(["taskset", "-c", "1", os.path.join(
        BUILD, "bench", "kernel_server"), "-p", plan, "-d",
        str(warmup + window), "-w", str(warmup)], stdout=subprocess.PIPE,
        text=True)
    ks.stdout.readline()
    subprocess.run(["taskset", "-c", "0", os.path.join(BUILD, "bench", "kernel_load"),
                    pcap, "7100", str(warmup + window - 0.2)],
                   stdout=subprocess.DEVNULL, check=True)
    out = json.loads(ks.stdout.readline())
    ks.wait()
    return out["records_per_s"]


def main():
    out_dir = sys.argv[1]
    want_kernel = "--kernel" in sys.argv[2:]
    want_latency = "--latency" in sys.argv[2:]
    national = os.path.join(W, "national.plan")
    if not os.path.exists(national):
        subprocess.run(["python3", os.path.join(ROOT, "scripts", "make-national-plan.py"),
                        national], check=True)
    r22 = gen(os.path.join(W, "r22.pcap"), "--records", "22", "--datagrams", "20000", "--seed", "1")
    fresh = gen(os.path.join(W, "fresh170k.pcap"), "--records", "22", "--datagrams",
                "170000", "--seed", "9", "--rescan", "0")
    pre = "psf%d" % os.getpid()
    runs = max(3, RUNS)
    sides = {"replayed duplicates": [], "fresh waybills": []}
    log("== fresh waybills in steady state against replayed duplicates "
        "(22 records, national plan, %d alternating runs)" % runs)
    for i in range(runs):
        sides["replayed duplicates"].append(summarise(run_dpdk(
            "psf-replayed", psd_argv(pre, [r22], national), pre, 22,
            parcelsort=True, warmup=2.0)))
        sides["fresh waybills"].append(summarise(run_dpdk(
            "psf-fresh", psd_argv(pre, [fresh], national), pre, 22,
            parcelsort=True, warmup=1.0, settle=window_full)))
        for name, rs in sides.items():
            r = rs[-1]
            log("  run %d %-20s %6.3f M records/s  hit rate %.3f  inserts %.2f  "
                "evictions %.2f per record  busy %.0f cycles/record" % (
                    i + 1, name, r["records_ps"] / 1e6, r["hit_rate"],
                    r["inserts_per_record"], r["evictions_per_record"],
                    r["busy_per_record"]))
    res = {"runs": sides}
    for name, rs in sides.items():
        vals = sorted(r["records_ps"] for r in rs)
        mid = sorted(rs, key=lambda r: r["records_ps"])[len(rs) // 2]
        best = max(rs, key=lambda r: r["records_ps"])
        res[name] = {"median": vals[len(vals) // 2], "min": vals[0],
                     "max": vals[-1], "middle_run": mid, "best_run": best}
    pair = [f["records_ps"] / r["records_ps"] for r, f in
            zip(sides["replayed duplicates"], sides["fresh waybills"])]
    res["fresh_vs_replayed"] = {"median": res["fresh waybills"]["median"] /
                                res["replayed duplicates"]["median"],
                                "pairwise": pair}
    res["fresh_vs_replayed"]["best"] = res["fresh waybills"]["max"] / \
        res["replayed duplicates"]["max"]
    log("  fresh / replayed: %.2f (pairwise %s)" % (
        res["fresh_vs_replayed"]["median"], ", ".join("%.2f" % x for x in pair)))
    if want_kernel:
        log("== the kernel UDP server on the same captures (3 s warm-up, 2 s)")
        res["kernel"] = {"replayed duplicates": kernel_run(r22, national),
                         "fresh waybills": kernel_run(fresh, national)}
        log("  %s" % res["kernel"])
    if want_latency:
        log("== burst latency at 10/50/90% load, fresh capture, national plan")
        res["latency_fresh"] = bench.latency_section(fresh, national)
        log("  %s" % res["latency_fresh"])
    json.dump(res, open(os.path.join(out_dir, "fresh_bench.json"), "w"), indent=1)
    md = ["# parcelsort: fresh waybills against replayed duplicates", "",
          "Run on %s; %d alternating runs of each side, 1 worker, net_pcap "
          "infinite_rx, national plan, 22-record datagrams, window 1,048,576 "
          "waybills / 600 s." % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), runs),
          "", "| traffic | M records/s median | min | max | hit rate | inserts/rec "
          "| evictions/rec |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name in sides:
        v = res[name]
        m = v["middle_run"]
        md.append("| %s | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f |" % (
            name, v["median"] / 1e6, v["min"] / 1e6, v["max"] / 1e6, m["hit_rate"],
            m["inserts_per_record"], m["evictions_per_record"]))
    md += ["", "fresh / replayed: %.2f of the medians, %.2f of the best runs "
           "(pairwise %s)" % (res["fresh_vs_replayed"]["median"],
                             res["fresh_vs_replayed"]["best"],
                             ", ".join("%.2f" % x for x in pair)), "",
           "Cycles per record by phase (the middle run and the best run of "
           "each side; preemption on a shared machine inflates them):", "",
           "| phase | replayed, middle | fresh, middle | replayed, best | fresh, best |",
           "|---|---:|---:|---:|---:|"]
    for k in [p[4:] for p in PHASES] + ["busy_per_record"]:
        md.append("| %s | %.1f | %.1f | %.1f | %.1f |" % (
            k, res["replayed duplicates"]["middle_run"][k],
            res["fresh waybills"]["middle_run"][k],
            res["replayed duplicates"]["best_run"][k],
            res["fresh waybills"]["best_run"][k]))
    if want_kernel:
        md += ["", "Kernel UDP server: %s records/s" % res["kernel"]]
    if want_latency:
        md += ["", "Burst latency, fresh capture: %s" % res["latency_fresh"]]
    open(os.path.join(out_dir, "fresh_bench.md"), "w").write("\n".join(md) + "\n")
    log("\n".join(md))


if __name__ == "__main__":
    main()
