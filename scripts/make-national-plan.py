#!/usr/bin/env python3
"""make-national-plan.py OUT: a national sort plan from the region table in
data/regions: every village of China as its own route (619,336), province
trunk routes, a hub per province, for benchmarks."""
import gzip
import os
import sys

src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                   "regions", "villages.txt.gz")
out = open(sys.argv[1], "w")
out.write("plan national\nsite 3307820 330782\nreject 999\n")
provinces = set()
routes = []
with gzip.open(src, "rt") as fh:
    for line in fh:
        f = line.split()
        provinces.add(f[0][:2])
        for v in f[1:]:
            routes.append(f[0] + v)
for p in sorted(provinces):
    out.write("hub %s trunk Province %s transfer centre\n" % (100 + int(p), p))
    out.write("route %s %d %d\n" % (p, 100 + int(p), 1 + int(p) % 40))
out.write("hub 4 village Village station\n")
for i, code in enumerate(routes):
    out.write("route %s 4 %d\n" % (code, 100 + i % 900))
out.write("rule 10 4 990 service=cold_chain\ndefault 131 1\n")
out.close()
