#!/usr/bin/env python3
"""cycles_check.py: the worker's busy plus idle cycles grow by the TSC's
frequency each second, per worker (every cycle of the loop counted, naps as idle):
two scrapes of /metrics SECONDS apart, timed by this clock.
Usage: cycles_check.py URL SECONDS"""
import sys
import time
import urllib.request


def scrape(url):
    """When, the workers' cycles summed, parcelsort_tsc_hz, the workers."""
    t_before = time.monotonic()
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    t = (t_before + time.monotonic()) / 2
    per, hz = {}, 0
    for line in text.splitlines():
        if line.startswith("parcelsort_worker_busy_cycles_total{") or \
           line.startswith("parcelsort_worker_idle_cycles_total{"):
            name, value = line.rsplit(" ", 1)
            w = name[name.index("{"):]
            per[w] = per.get(w, 0) + int(value)
        elif line.startswith("parcelsort_tsc_hz "):
            hz = int(line.rsplit(" ", 1)[1])
    # a worker without a queue to poll counts nothing: not one of them
    workers = sum(1 for v in per.values() if v > 0)
    return t, sum(per.values()), hz, workers


url, seconds = sys.argv[1], float(sys.argv[2])
t1, c1, hz, workers = scrape(url)
time.sleep(seconds)
t2, c2, _, _ = scrape(url)
if hz <= 0 or workers == 0:
    sys.exit("not ok: no parcelsort_tsc_hz or no worker cycles")
ratio = (c2 - c1) / ((t2 - t1) * hz * workers)
print("cycles counted / elapsed: %.3f" % ratio)
if not 0.95 <= ratio <= 1.05:
    sys.exit("not ok: busy + idle grew %.3f x the elapsed cycles" % ratio)
