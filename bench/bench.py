#!/usr/bin/env python3
"""bench.py: the side-by-side benchmark of bench/run.sh.

On this machine, in one run, with the same cores and the same traffic
(parcelsort-gen pcaps replayed from memory by net_pcap with infinite_rx; the
port's TX has no file, so answers are dropped as on net_null):
  testpmd io forwarding (the I/O ceiling), DPDK's l3fwd in LPM mode (built
  from dpdk-doc's examples), parcelsortd with 1 and 22 records per datagram
  on the bundled and the national plan, and a kernel UDP server with the
  same plan library (recvmmsg/sendmmsg, batch 32) driven over loopback from
  the other core; then cost per record by phase, burst latency, scaling
  (workers, plan size, duplicate window, fresh waybills) and the impact of
  plan pushes every 100 ms and chute toggles every 10 ms.
Rates are read through DPDK telemetry (/ethdev/stats, /parcelsort/...) over
a window after a warm-up; each configuration runs RUNS times (median, min,
max). Writes OUT/bench.md, OUT/bench.json and the gnuplot charts.
"""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("PARCELSORT_BUILD", os.path.join(ROOT, "build"))
OUT = sys.argv[1]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "2"))
QUICK = os.environ.get("BENCH_QUICK") == "1"
EAL = ["--no-huge", "--no-pci", "--no-shconf", "--log-level=1"]
W = os.path.join(OUT, "work")
os.makedirs(W, exist_ok=True)
results = {"configs": [], "phases": [], "latency": {}, "notes": []}


def log(msg):
    print(msg, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ------------------------------------------------------------- telemetry

def tele(prefix, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(2)
    s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix)
    s.recv(4096)
    s.send(cmd.encode())
    data = json.loads(s.recv(1 << 20).decode())
    s.close()
    return data[cmd.split(",")[0]]


def port_stats(prefix):
    return tele(prefix, "/ethdev/stats,0")


def run_dpdk(name, argv, prefix, records_per_dgram=1, parcelsort=False,
             during=None, window=WINDOW, warmup=1.0, settle=None):
    """Start a DPDK app, measure over a window, stop it. Returns a dict.
    settle(prefix), when given, is called after the warm-up and returns once
    the app is in the state to measure (fresh_bench.py: the window full)."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=open(
        os.path.join(W, name + ".log"), "w"), stderr=subprocess.STDOUT)
    try:
        # running: frames received (a worker polls: parcelsortd's
        # telemetry commands are registered before its workers start); a
        # slow start on a loaded machine is waited for, and one that never
        # comes is an error, not a measurement of nothing
        t_end = time.time() + 60
        while True:
            try:
                if port_stats(prefix)["ipackets"] > 0:
                    break
            except (OSError, KeyError, ValueError, TypeError):
                pass
            if p.poll() is not None:
                raise RuntimeError("%s exited early, see %s.log" % (name, name))
            if time.time() > t_end:
                raise RuntimeError("%s: no frame received in 60 s, see %s.log"
                                   % (name, name))
            time.sleep(0.2)
        time.sleep(warmup)
        if settle:
            settle(prefix)
        a, ta = port_stats(prefix), time.time()
        pa = tele(prefix, "/parcelsort/stats") if parcelsort else None
        stop = threading.Event()
        th = None
        if during:
            th = threading.Thread(target=during, args=(stop,))
            th.start()
        time.sleep(window)
        b, tb = port_stats(prefix), time.time()
        pb = tele(prefix, "/parcelsort/stats") if parcelsort else None
        if th:
            stop.set()
            th.join()
        dt = tb - ta
        r = {"rx_pps": (b["ipackets"] - a["ipackets"]) / dt,
             "tx_pps": (b["opackets"] - a["opackets"]) / dt}
        r["records_ps"] = r["rx_pps"] * records_per_dgram
        if parcelsort:
            r["records_ps"] = (pb["records"] - pa["records"]) / dt
            d = {k: pb[k] - pa[k] for k in pb}
            r["delta"] = d
            lat = tele(prefix, "/parcelsort/latency")
            r["latency"] = lat
        return r
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)


def stats3(values):
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "runs": len(values)}


def repeat(name, fn, runs=RUNS):
    out = [fn(i) for i in range(runs)]
    res = {"name": name, "runs": out}
    for k in ("rx_pps", "records_ps", "tx_pps"):
        res[k] = stats3([o[k] for o in out])
    results["configs"].append(res)
    log("  %-44s %8.3f Mpps  %8.3f M records/s  (min %.3f, max %.3f)" % (
        name, res["rx_pps"]["median"] / 1e6, res["records_ps"]["median"] / 1e6,
        res["records_ps"]["min"] / 1e6, res["records_ps"]["max"] / 1e6))
    return res


# ----------------------------------------------------------------- inputs

def gen(path, *args):
    if not os.path.exists(path):
        sh([os.path.join(BUILD, "gen", "parcelsort-gen"), "--pcap", path,
            "--quiet", "--dst-mac", "02:00:00:00:00:02", *args])
    return path


def build_l3fwd():
    src = "/usr/share/dpdk/examples"
    top = os.path.join(OUT, "..", "l3fwd-build")
    dst = os.path.join(top, "l3fwd")
    exe = os.path.join(dst, "build", "l3fwd")
    if os.path.exists(exe):
        return exe
    shutil.rmtree(top, ignore_errors=True)
    shutil.copytree(os.path.join(src, "l3fwd"), dst)
    shutil.copytree(os.path.join(src, "common"), os.path.join(top, "common"))
    main = os.path.join(dst, "main.c")
    text = open(main).read()
    # virtual ports have no RX checksum offload: ask only for what the
    # device can do (the comparison must not fail on a capability check)
    anchor = "local_port_conf.rx_adv_conf.rss_conf.rss_hf &="
    text = text.replace(anchor, "port_conf.rxmode.offloads &= "
                        "dev_info.rx_offload_capa;\n\t\tlocal_port_conf.rxmode."
                        "offloads &= dev_info.rx_offload_capa;\n\t\t" + anchor, 1)
    # net_pcap with infinite_rx keeps the whole capture in mbufs: raise the
    # pool's floor so the 20,000-frame capture fits (no effect on the path)
    text = text.replace("(unsigned)8192)", "(unsigned)65536)", 1)
    open(main, "w").write(text)
    sh(["make", "-C", dst, "-j2", "-s"],
       stdout=subprocess.DEVNULL)
    return exe


# ----------------------------------------------------------------- configs

def psd_argv(prefix, pcaps, plan, extra=(), lcores="0-1", summary=False):
    vdev = "net_pcap0," + ",".join("rx_pcap=" + p for p in pcaps) + \
        ",infinite_rx=1"
    lc = ["--lcores", lcores] if "@" in lcores else ["-l", lcores]
    return [os.path.join(BUILD, "parcelsortd"), *lc, "-m", "3072", *EAL,
            "--file-prefix", prefix, "--vdev", vdev, "--",
            "--ip", "198.18.0.2", "--mac", "02:00:00:00:00:02",
            "--plan", plan, "--state-dir", os.path.join(W, prefix + "-state"),
            "--ctl", os.path.join(W, prefix + ".sock"), "--metrics", "off",
            "--mbufs", "400000", *([] if summary else ["--no-summary"]), *extra]


def kernel(pcap, plan, records, runs=RUNS):
    def one(i):
        ks = subprocess.Popen(["taskset", "-c", "1", os.path.join(
            BUILD, "bench", "kernel_server"), "-p", plan, "-d",
            str(WINDOW + 1.5), "-w", "1"], stdout=subprocess.PIPE, text=True)
        ks.stdout.readline()
        sh(["taskset", "-c", "0", os.path.join(BUILD, "bench", "kernel_load"),
            pcap, "7100", str(WINDOW + 1.3)], stdout=subprocess.DEVNULL)
        out = json.loads(ks.stdout.readline())
        ks.wait()
        return {"rx_pps": out["datagrams_per_s"], "tx_pps": out["datagrams_per_s"],
                "records_ps": out["records_per_s"]}
    return one


class Ctl:
    """A minimal control-protocol client (docs/control.md)."""

    def __init__(self, path):
        self.path = path

    def call(self, cmd, *args):
        body = b"".join(a.encode() + b"\0" for a in args)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        s.sendall(struct.pack(">IHHII", 0x50534331, 1, cmd, 0, len(body)) + body)
        hdr = b""
        while len(hdr) < 16:
            hdr += s.recv(16 - len(hdr))
        n = struct.unpack(">IHHII", hdr)[4]
        data = b""
        while len(data) < n:
            data += s.recv(n - len(data))
        s.close()
        return struct.unpack(">IHHII", hdr)[2], data


def main():
    log("== inputs")
    r1 = gen(os.path.join(W, "r1.pcap"), "--records", "1", "--datagrams", "20000", "--seed", "1")
    r22 = gen(os.path.join(W, "r22.pcap"), "--records", "22", "--datagrams", "20000", "--seed", "1")
    r22b = gen(os.path.join(W, "r22b.pcap"), "--records", "22", "--datagrams", "20000", "--seed", "2")
    yiwu = os.path.join(ROOT, "config", "yiwu.plan")
    national = os.path.join(W, "national.plan")
    if not os.path.exists(national):
        sh(["python3", os.path.join(ROOT, "scripts", "make-national-plan.py"), national])
    l3fwd = build_l3fwd()
    with open(os.path.join(W, "rules4.cfg"), "w") as f:
        f.write("R198.18.0.0/24 0\n")
    with open(os.path.join(W, "rules6.cfg"), "w") as f:
        f.write("R2001:db8::/32 0\n")

    log("== throughput (per worker core; %d runs of %.0f s windows)" % (RUNS, WINDOW))
    pre = "psb%d" % os.getpid()
    testpmd = repeat("testpmd io, 1-record datagrams", lambda i: run_dpdk(
        "testpmd", ["dpdk-testpmd", "-l", "0-1", "-m", "1024", *EAL,
                    "--file-prefix", pre, "--vdev",
                    "net_pcap0,rx_pcap=%s,infinite_rx=1" % r1, "--",
                    "--forward-mode=io", "--port-topology=loop",
                    "--nb-cores=1", "--total-num-mbufs=60000"], pre))
    l3 = repeat("l3fwd LPM, 1-record datagrams", lambda i: run_dpdk(
        "l3fwd", [l3fwd, "-l", "1", "-m", "1024", *EAL, "--file-prefix", pre,
                  "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % r1, "--",
                  "-p", "0x1", "--config=(0,0,1)", "--rule_ipv4",
                  os.path.join(W, "rules4.cfg"), "--rule_ipv6",
                  os.path.join(W, "rules6.cfg"), "--parse-ptype"], pre))
    psd = {}
    for plan_name, plan in [("bundled Yiwu plan", yiwu), ("national plan", national)]:
        if QUICK and plan is national:
            continue
        for recs, pcap in [(1, r1), (22, r22)]:
            name = "parcelsortd, %d-record datagrams, %s" % (recs, plan_name)
            psd[(recs, plan is national)] = repeat(name, lambda i, pcap=pcap, plan=plan: run_dpdk(
                "psd", psd_argv(pre, [pcap], plan), pre, recs, parcelsort=True))
    k1 = repeat("kernel UDP server, 1-record datagrams", kernel(r1, yiwu, 1))
    k22 = repeat("kernel UDP server, 22-record datagrams", kernel(r22, yiwu, 22))

    p1, p22 = psd[(1, False)], psd[(22, False)]
    pn22 = psd.get((22, True), p22)
    ratios = {
        "parcelsortd/testpmd (packets, 1 record)": p1["rx_pps"]["median"] / testpmd["rx_pps"]["median"],
        "parcelsortd/l3fwd (packets, 1 record)": p1["rx_pps"]["median"] / l3["rx_pps"]["median"],
        "parcelsortd/kernel server (datagrams, 1 record)": p1["rx_pps"]["median"] / k1["rx_pps"]["median"],
        "parcelsortd/kernel server (records, 22 records)": p22["records_ps"]["median"] / k22["records_ps"]["median"],
    }
    results["ratios"] = ratios

    log("== cost per record by phase (22-record datagrams, national plan)")
    for r in (pn22["runs"][len(pn22["runs"]) // 2],):
        d = r["delta"]
        recs = max(d["records"], 1)
        hz = float(os.environ.get("TSC_HZ", "0")) or tsc_hz()
        ph = {}
        for k in ("cyc_rx", "cyc_parse", "cyc_dedup", "cyc_decide", "cyc_reply", "cyc_tx"):
            ph[k[4:]] = d[k] / recs
        ph["busy_total"] = d["busy_cycles"] / recs
        ph["loop_other"] = ph["busy_total"] - sum(ph[k[4:]] for k in (
            "cyc_rx", "cyc_parse", "cyc_dedup", "cyc_decide", "cyc_reply", "cyc_tx"))
        results["phases"] = {k: {"cycles": v, "ns": v / hz * 1e9} for k, v in ph.items()}
        for k, v in results["phases"].items():
            log("  %-12s %7.1f cycles  %6.2f ns" % (k, v["cycles"], v["ns"]))
        results["latency"]["full_load_22"] = latency_percentiles(r["latency"])

    log("== scaling")
    two = repeat("parcelsortd, 2 workers (22 records, Yiwu plan)", lambda i: run_dpdk(
        "psd2", psd_argv(pre, [r22, r22b], yiwu, lcores="0@0,1@1,2@0"), pre, 22,
        parcelsort=True), runs=max(3, RUNS // 2))
    results["notes"].append("2 workers run on 2 CPUs shared with the main "
                            "lcore (this machine has 2 cores)")
    big = repeat("parcelsortd, 16M-waybill duplicate window (22, Yiwu)", lambda i: run_dpdk(
        "psd16m", psd_argv(pre, [r22], yiwu, ["--dedup-capacity", "16777216"]),
        pre, 22, parcelsort=True), runs=max(3, RUNS // 2))
    fresh_pcap = gen(os.path.join(W, "fresh.pcap"), "--records", "22",
                     "--datagrams", "150000", "--seed", "9", "--rescan", "0")
    fresh = repeat("parcelsortd, fresh waybills (22, Yiwu, first pass)", lambda i: run_dpdk(
        "psdfresh", psd_argv(pre, [fresh_pcap], yiwu), pre, 22, parcelsort=True,
        window=0.3, warmup=0.05), runs=max(3, RUNS // 2))
    results["notes"].append("fresh waybills: a 150,000-datagram capture "
                            "(3.3M distinct waybills) measured over 0.3 s of its first pass")

    log("== update impact: plan pushes every 100 ms, chute toggles every 10 ms")
    alt = os.path.join(W, "yiwu-b.plan")
    with open(alt, "w") as f:
        f.write(open(yiwu).read().replace("route 33 110 11,12", "route 33 110 13"))
    upd = {}

    def updates(stop):
        ctl = Ctl(os.path.join(W, pre + ".sock"))
        n_push = n_toggle = refused = 0
        t_next_push = time.time()
        flip = False
        while not stop.is_set():
            if time.time() >= t_next_push:
                flip = not flip
                st, _ = ctl.call(2, "p.plan", open(alt if flip else yiwu).read())
                n_push += 1
                refused += st != 0
                t_next_push += 0.1
            ctl.call(14, "disable" if n_toggle % 2 == 0 else "enable", "1")
            n_toggle += 1
            time.sleep(0.01)
        upd.update(pushes=n_push, toggles=n_toggle, refused=refused)
    under = repeat("parcelsortd under plan pushes and chute toggles (22, Yiwu)",
                   lambda i: run_dpdk("psdupd", psd_argv(pre, [r22], yiwu, summary=True),
                                      pre, 22, parcelsort=True, during=updates),
                   runs=max(3, RUNS // 2))
    # the daemon's own final count: every frame received, answered or dropped
    text = open(os.path.join(W, "psdupd.log")).read()
    m = re.search(r"frames  rx (\d+) .*answered (\d+)  dropped (\d+)", text)
    rx, ans, drop = (int(x) for x in m.groups()) if m else (0, 0, 0)
    results["update_impact"] = dict(upd, throughput_ratio=under["records_ps"]["median"] /
                                    p22["records_ps"]["median"],
                                    frames=rx, answered=ans, dropped=drop,
                                    lost=rx - ans - drop)
    log("  %s; throughput %.2f of the steady run" % (upd, results["update_impact"]["throughput_ratio"]))

    log("== latency at 10/50/90% of the highest rate over a veth (22-record datagrams)")
    results["latency"]["fractional_load"] = latency_section(r22, yiwu)
    log("  %s" % results["latency"]["fractional_load"])

    results["scaling"] = {"two_workers_vs_one": two["records_ps"]["median"] / p22["records_ps"]["median"],
                          "dedup_16m_vs_1m": big["records_ps"]["median"] / p22["records_ps"]["median"],
                          "fresh_vs_replayed": fresh["records_ps"]["median"] / p22["records_ps"]["median"]}
    json.dump(results, open(os.path.join(OUT, "bench.json"), "w"), indent=1)
    report()


def hist_delta(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in b}


def latency_section(r22, yiwu):
    """Burst latency inside the daemon at 10/50/90% of the highest rate a
    kernel sender in a network namespace reaches over a veth pair."""
    pid = os.getpid()
    ns, va, vb, pre = "psbl%d" % pid, "pla%d" % pid, "plb%d" % pid, "psbl%d" % pid
    run = lambda *c: subprocess.run(list(c), check=True)
    nsx = ["ip", "netns", "exec", ns]
    daemon = None
    try:
        run("ip", "netns", "add", ns)
        run("ip", "link", "add", va, "type", "veth", "peer", "name", vb)
        run("ip", "link", "set", vb, "netns", ns)
        run("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % va)
        run("ip", "link", "set", va, "up")
        run(*nsx, "ip", "link", "set", "lo", "up")
        run(*nsx, "ip", "addr", "add", "198.18.0.1/24", "dev", vb)
        run(*nsx, "ip", "link", "set", vb, "up")
        run(*nsx, "ethtool", "-K", vb, "tx", "off")
        argv = [os.path.join(BUILD, "parcelsortd"), "-l", "0-1", "-m", "1024", *EAL,
                "--file-prefix", pre, "--vdev", "net_af_packet0,iface=" + va, "--",
                "--ip", "198.18.0.2", "--plan", yiwu, "--state-dir",
                os.path.join(W, pre + "-state"), "--ctl", os.path.join(W, pre + ".sock"),
                "--metrics", "off", "--no-summary"]
        daemon = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        for _ in range(240):
            try:
                # the counters answer null until the workers run (a large
                # plan takes a while to load)
                if tele(pre, "/parcelsort/stats") is not None:
                    break
            except OSError:
                pass
            time.sleep(0.25)
        load = [*nsx, os.path.join(BUILD, "bench", "kernel_load"), r22, "198.18.0.2:7100"]

        def measure(rate):
            a, la, ta = tele(pre, "/parcelsort/stats"), tele(pre, "/parcelsort/latency"), time.time()
            sh([*load, "3", *([str(rate)] if rate else [])], stdout=subprocess.DEVNULL)
            b, lb, tb = tele(pre, "/parcelsort/stats"), tele(pre, "/parcelsort/latency"), time.time()
            return (b["answered"] - a["answered"]) / (tb - ta) * 3 / 3.0, hist_delta(la, lb)
        measure(0)                                   # warm up, ARP
        top, _ = measure(0)
        out = {"max_answered_per_s": top}
        for frac in (0.1, 0.5, 0.9):
            rate, h = measure(frac * top)
            out["%d%%" % (frac * 100)] = dict(latency_percentiles(h), rate=rate)
        return out
    finally:
        if daemon:
            daemon.send_signal(signal.SIGINT)
            try:
                daemon.wait(15)
            except subprocess.TimeoutExpired:
                daemon.kill()
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", va], stderr=subprocess.DEVNULL)
        shutil.rmtree("/var/run/dpdk/" + pre, ignore_errors=True)


def tsc_hz():
    for line in open("/proc/cpuinfo"):
        if line.startswith("cpu MHz"):
            return float(line.split(":")[1]) * 1e6
    return 2.6e9


def latency_percentiles(hist):
    buckets = sorted(((int(k.split("_")[1]), v) for k, v in hist.items() if v))
    total = sum(v for _, v in buckets)
    out = {}
    for q in (0.5, 0.99, 0.999):
        acc = 0
        for upper, v in buckets:
            acc += v
            if total and acc >= q * total:
                out["p%g" % (q * 100)] = upper
                break
    out["bursts"] = total
    return out


def report():
    md = ["# parcelsort benchmark", "",
          "Run on %s, %d runs of %.0f s per configuration (median, min, max)." % (
              time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), RUNS, WINDOW), "",
          "| configuration | Mpps (median) | M records/s (median) | min | max |",
          "|---|---:|---:|---:|---:|"]
    for c in results["configs"]:
        md.append("| %s | %.3f | %.3f | %.3f | %.3f |" % (
            c["name"], c["rx_pps"]["median"] / 1e6, c["records_ps"]["median"] / 1e6,
            c["records_ps"]["min"] / 1e6, c["records_ps"]["max"] / 1e6))
    md += ["", "| ratio | value |", "|---|---:|"]
    for k, v in results["ratios"].items():
        md.append("| %s | %.2f |" % (k, v))
    md += ["", "Cost per record (22-record datagrams, national plan):", "",
           "| phase | cycles | ns |", "|---|---:|---:|"]
    for k, v in results["phases"].items():
        md.append("| %s | %.1f | %.2f |" % (k, v["cycles"], v["ns"]))
    md += ["", "Burst latency at full load (RX to replies handed to TX, log2 "
           "buckets: the value is the bucket's upper bound): %s" %
           results["latency"].get("full_load_22"), "",
           "Burst latency at fractional load (a kernel sender in a network "
           "namespace over a veth, 22-record datagrams; ns, bucket upper "
           "bounds): %s" % results["latency"].get("fractional_load"), "",
           "Scaling: %s" % results.get("scaling"), "",
           "Update impact: %s" % results.get("update_impact"), ""]
    md += ["Notes:"] + ["- " + n for n in results["notes"]]
    open(os.path.join(OUT, "bench.md"), "w").write("\n".join(md) + "\n")
    # charts
    with open(os.path.join(OUT, "throughput.dat"), "w") as f:
        for i, c in enumerate(results["configs"]):
            f.write('%d "%s" %.4f\n' % (i, c["name"].replace('"', "'"),
                                         c["records_ps"]["median"] / 1e6))
    if shutil.which("gnuplot"):
        gp = """set terminal png size 1200,700
set output '{o}/throughput.png'
set title 'Records per second per worker core (median)'
set style fill solid
set boxwidth 0.6
set xtics rotate by -35 font ',8'
set ylabel 'M records/s'
set bmargin 12
plot '{o}/throughput.dat' using 1:3:xtic(2) with boxes notitle
""".format(o=OUT)
        subprocess.run(["gnuplot"], input=gp, text=True)
        if "latency" in results["configs"][2]["runs"][0]:
            h = results["configs"][2]["runs"][0]["latency"]
            with open(os.path.join(OUT, "latency.dat"), "w") as f:
                for k, v in sorted(h.items(), key=lambda kv: int(kv[0].split("_")[1])):
                    if v:
                        f.write("%s %d\n" % (k.split("_")[1], v))
            subprocess.run(["gnuplot"], input="""set terminal png size 900,500
set output '{o}/latency.png'
set title 'Burst latency inside parcelsortd (RX to TX), full load'
set logscale x 2
set xlabel 'ns (bucket upper bound)'
set ylabel 'bursts'
set style fill solid
plot '{o}/latency.dat' using 1:2 with boxes notitle
""".format(o=OUT), text=True)
    log("\n".join(md))


if __name__ == "__main__":
    main()
