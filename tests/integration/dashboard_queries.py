#!/usr/bin/env python3
"""dashboard_queries.py: every query of a Grafana dashboard JSON run
through a Prometheus server's HTTP API (monitoring.sh): each must return
data (a series with a number). Prints one line per query.
Usage: dashboard_queries.py DASHBOARD.json HOST:PORT [EXTRA_EXPR...]"""
import json
import math
import sys
import urllib.parse
import urllib.request


def exprs(node):
    """Every target's expr, wherever the panel sits (rows nest panels)."""
    if isinstance(node, dict):
        if "expr" in node and isinstance(node["expr"], str):
            yield node["expr"]
        for v in node.values():
            yield from exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from exprs(v)


def query(addr, q):
    url = "http://%s/api/v1/query?%s" % (addr, urllib.parse.urlencode({"query": q}))
    return json.load(urllib.request.urlopen(url, timeout=10))


def main():
    dash, addr = json.load(open(sys.argv[1])), sys.argv[2]
    qs = list(exprs(dash)) + sys.argv[3:]
    bad = 0
    for q in qs:
        r = query(addr, q)
        res = r.get("data", {}).get("result", [])
        vals = []
        for s in res:
            try:
                vals.append(float(s["value"][1]))
            except (KeyError, ValueError):
                pass
        ok = r.get("status") == "success" and any(not math.isnan(v) for v in vals)
        print("%s %d series: %s" % ("data" if ok else "NO DATA", len(res), q))
        bad += not ok
    print("%d queries, %d without data" % (len(qs), bad))
    sys.exit(1 if bad or not qs else 0)


main()
