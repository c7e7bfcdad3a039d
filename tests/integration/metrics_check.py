#!/usr/bin/env python3
"""metrics_check.py: what metrics_board.sh checks in a live /metrics text:
the NIC families per port and queue, cycles by worker, the burst latency
histogram (cumulative buckets, +Inf equal to _count), build_info and the
plan commits by outcome.
Usage: metrics_check.py FILE WORKERS COMMITTED REFUSED"""
import re
import sys

text = open(sys.argv[1]).read()
workers, committed, refused = (int(x) for x in sys.argv[2:5])
samples = {}
for line in text.splitlines():
    if line and not line.startswith("#"):
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)


def need(cond, msg):
    if not cond:
        print("not ok: " + msg, file=sys.stderr)
        sys.exit(1)


for fam in ("rx_packets", "tx_packets", "rx_missed", "rx_nombuf", "rx_errors",
            "tx_errors"):
    need(any(k.startswith("parcelsort_nic_%s_total{port=\"0\"" % fam)
             for k in samples), "nic " + fam)
need(samples.get('parcelsort_nic_queue_rx_packets_total{port="0",queue="0"}', 0) > 0,
     "queue 0 received packets")
need('parcelsort_nic_queue_tx_packets_total{port="0",queue="0"}' in samples,
     "queue 0 tx")
for w in range(workers):
    need(samples.get('parcelsort_worker_busy_cycles_total{worker="%d"}' % w, 0) > 0,
         "worker %d busy" % w)
    need(samples.get('parcelsort_worker_idle_cycles_total{worker="%d"}' % w, 0) > 0,
         "worker %d idle" % w)
need(re.search(r'^parcelsort_build_info\{version="[^"]+"\} 1$', text, re.M),
     "build_info")
h = "parcelsort_burst_latency_seconds"
need("# TYPE %s histogram" % h in text, "histogram type")
buckets = [(float(m.group(1)), float(m.group(2))) for m in
           re.finditer(r'^%s_bucket\{le="([^"]+)"\} (\S+)$' % h, text, re.M)]
need(buckets and buckets[-1][0] == float("inf"), "+Inf bucket last")
need(all(a[0] < b[0] and a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
     "buckets ordered and cumulative")
count = samples[h + "_count"]
need(count > 0 and buckets[-1][1] == count, "+Inf == _count > 0")
need(0 < samples[h + "_sum"] < count * 5, "_sum plausible")
c = {o: samples.get('parcelsort_plan_commits_total{outcome="%s"}' % o)
     for o in ("committed", "scheduled", "refused")}
need(c["committed"] == committed and c["refused"] == refused,
     "commits %r, want committed %d refused %d" % (c, committed, refused))

