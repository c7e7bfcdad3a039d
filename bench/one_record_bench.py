#!/usr/bin/env python3
"""one_record_bench.py: one record per datagram against l3fwd-LPM, the runs
alternating in one go (bench/run.sh; never a test).

On the capture of bench.py (r1.pcap: 20,000 one-record datagrams, the
Yiwu plan, replayed from memory by net_pcap with infinite_rx, one worker),
l3fwd in LPM mode (built from dpdk-doc's examples as bench.py builds it)
and parcelsortd run one after the other, run by run, so that the machine's
load falls on both; the ratio of each pair is reported beside the ratio of
the medians. With --base BUILD, a second parcelsortd build (say the main
branch's) joins the rotation: before and after in the same run.
Writes OUT/one_record.md and OUT/one_record.json.
  one_record_bench.py OUT [--base BUILD] [--runs N]
"""
import json
import os
import statistics
import sys

import bench
from bench import BUILD, EAL, ROOT, RUNS, W, build_l3fwd, gen, log, psd_argv, run_dpdk


def busiest_thread_ns(prefix):
    """CPU time (ns) of each thread of the DPDK process started with
    --file-prefix prefix, from the kernel's schedstat: time it ran, not
    time it waited for a CPU."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
        except OSError:
            continue
        if b"--file-prefix" not in cmd or prefix.encode() not in cmd or \
                b"flock" in os.path.basename(cmd[0]):
            continue
        out = {}
        for tid in os.listdir("/proc/%s/task" % pid):
            try:
                out[tid] = int(open("/proc/%s/task/%s/schedstat" % (pid, tid)).read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return out
    return {}


def cpu_window(prefix, box):
    """A run_dpdk 'during' hook: the CPU seconds of the busiest thread (the
    polling lcore) over the measuring window, into box."""
    def during(stop):
        a = busiest_thread_ns(prefix)
        stop.wait()
        b = busiest_thread_ns(prefix)
        box["cpu_s"] = max((b[t] - a.get(t, b[t]) for t in b), default=0) / 1e9
    return during


def main():
    out_dir = sys.argv[1]
    args = sys.argv[2:]
    base = args[args.index("--base") + 1] if "--base" in args else None
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else RUNS
    r1 = gen(os.path.join(W, "r1.pcap"), "--records", "1", "--datagrams",
             "20000", "--seed", "1")
    yiwu = os.path.join(ROOT, "config", "yiwu.plan")
    l3fwd = build_l3fwd()
    with open(os.path.join(W, "rules4.cfg"), "w") as f:
        f.write("R198.18.0.0/24 0\n")
    with open(os.path.join(W, "rules6.cfg"), "w") as f:
        f.write("R2001:db8::/32 0\n")
    pre = "ps1r%d" % os.getpid()
    sides = {"l3fwd LPM": [], "parcelsortd": []}
    if base:
        sides["parcelsortd, base"] = []

    def with_cpu(r, box):
        # packets a second of the polling thread's own CPU time: what the
        # machine's other work does not take away (it only delays)
        r["rx_per_cpu_s"] = r["rx_pps"] * bench.WINDOW / box["cpu_s"] if box.get("cpu_s") else 0.0
        return r

    def l3():
        box = {}
        return with_cpu(run_dpdk("l3fwd", [
            l3fwd, "-l", "1", "-m", "1024", *EAL, "--file-prefix", pre,
            "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % r1, "--",
            "-p", "0x1", "--config=(0,0,1)", "--rule_ipv4",
            os.path.join(W, "rules4.cfg"), "--rule_ipv6",
            os.path.join(W, "rules6.cfg"), "--parse-ptype"], pre,
            during=cpu_window(pre, box)), box)

    def psd(build):
        box = {}
        argv = psd_argv(pre, [r1], yiwu)
        argv[0] = os.path.join(build, "parcelsortd")
        return with_cpu(run_dpdk("psd", argv, pre, 1, parcelsort=True,
                                 during=cpu_window(pre, box)), box)

    log("== one record per datagram against l3fwd-LPM (%d alternating runs)" % runs)
    cpu = {k: [] for k in sides}
    for i in range(runs):
        r = l3()
        sides["l3fwd LPM"].append(r["rx_pps"])
        cpu["l3fwd LPM"].append(r["rx_per_cpu_s"])
        # the two builds take turns at going first
        order = [("parcelsortd", BUILD)] + ([("parcelsortd, base", base)] if base else [])
        for name, build in (order if i % 2 == 0 else order[::-1]):
            r = psd(build)
            sides[name].append(r["rx_pps"])
            cpu[name].append(r["rx_per_cpu_s"])
        log("  run %d: %s" % (i + 1, ", ".join(
            "%s %.3f Mpps (%.3f M per CPU-s)" % (k, v[-1] / 1e6, cpu[k][-1] / 1e6)
            for k, v in sides.items())))
    l3m = statistics.median(sides["l3fwd LPM"])
    l3c = statistics.median(cpu["l3fwd LPM"])
    res = {"runs": sides, "per_cpu_s": cpu, "load_average": os.getloadavg()}
    md = ["# One record per datagram against l3fwd-LPM", "",
          "%d alternating runs of %.0f s windows; load average %.1f %.1f %.1f." % (
              (runs, bench.WINDOW) + os.getloadavg()),
          "Per CPU-second: packets over the polling thread's own CPU time "
          "(schedstat), which the machine's other work delays but does not "
          "change.", "",
          "| | Mpps (median) | against l3fwd (medians) | pairwise | M packets per CPU-s (median) | against l3fwd | pairwise |",
          "|---|---:|---:|---|---:|---:|---|"]
    for name, v in sides.items():
        med, cmed = statistics.median(v), statistics.median(cpu[name])
        pair = [p / l for p, l in zip(v, sides["l3fwd LPM"])]
        cpair = [p / l if l else 0.0 for p, l in zip(cpu[name], cpu["l3fwd LPM"])]
        res[name] = {"median": med, "ratio": med / l3m, "pairwise": pair,
                     "per_cpu_s": cmed, "cpu_ratio": cmed / l3c if l3c else 0.0,
                     "cpu_pairwise": cpair}
        first = name.startswith("l3fwd")
        md.append("| %s | %.3f | %s | %s | %.3f | %s | %s |" % (
            name, med / 1e6, "" if first else "%.2f" % (med / l3m),
            "" if first else ", ".join("%.2f" % x for x in pair), cmed / 1e6,
            "" if first else "%.2f" % res[name]["cpu_ratio"],
            "" if first else ", ".join("%.2f" % x for x in cpair)))
    md += ["", "Target (issue #14): parcelsortd >= 0.5 x l3fwd's packets/s: %s "
           "(%.2f by wall clock, %.2f per CPU-second)." % (
               "met" if res["parcelsortd"]["ratio"] >= 0.5 else "missed",
               res["parcelsortd"]["ratio"], res["parcelsortd"]["cpu_ratio"])]
    log("\n".join(md))
    with open(os.path.join(out_dir, "one_record.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out_dir, "one_record.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
