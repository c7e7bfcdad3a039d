#!/usr/bin/env python3
"""http_probe.py: checks of parcelsortd's HTTP listener (metrics_board.sh):
the board's JSON API, its assets and headers, methods and paths refused,
and slow clients that must not stall the listener.
Usage: http_probe.py CHECK HOST:PORT [ARGS]; exit 0 when the check holds."""
import http.client
import json
import socket
import sys
import time


def get(addr, path, method="GET"):
    host, port = addr.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def api(addr):
    """The four resources' shapes."""
    st, h, b = get(addr, "/api/v1/summary")
    if st != 200 or not h["content-type"].startswith("application/json"):
        fail("summary: %s %s" % (st, h))
    s = json.loads(b)
    for k in ("status", "stats", "commits", "nic"):
        if k not in s:
            fail("summary without %s" % k)
    if s["status"]["plan"]["version"] < 1 or "records" not in s["stats"]:
        fail("summary: %r" % s)
    if set(s["commits"]) != {"committed", "scheduled", "refused"}:
        fail("commits: %r" % s["commits"])
    if not s["nic"] or "rx_missed" not in s["nic"][0]:
        fail("nic: %r" % s["nic"])
    ch = json.loads(get(addr, "/api/v1/chutes")[2])
    if not isinstance(ch, list) or not ch or not all(
            {"chute", "enabled", "sorter", "per_hour", "decided", "sorted"} <= set(c)
            for c in ch):
        fail("chutes: %r" % ch[:3])
    sc = json.loads(get(addr, "/api/v1/scanners")[2])
    if sc["sort"] != "noread" or not sc["devices"]:
        fail("scanners: %r" % sc)
    rates = [d["noread_percent"] for d in sc["devices"]]
    if rates != sorted(rates, reverse=True):
        fail("scanners not ranked by NOREAD rate: %r" % rates)
    r = json.loads(get(addr, "/api/v1/rate")[2])
    if r["interval_s"] != 1 or not (1 <= len(r["records_per_s"]) <= 600):
        fail("rate: %r" % r)


def assets(addr):
    """The page, its style and script: same origin, CSP, no external URL."""
    for path, kind in (("/", "text/html"), ("/board.css", "text/css"),
                       ("/board.js", "text/javascript")):
        st, h, b = get(addr, path)
        if st != 200 or not h["content-type"].startswith(kind):
            fail("%s: %s %s" % (path, st, h.get("content-type")))
        if "default-src 'self'" not in h.get("content-security-policy", ""):
            fail("%s: no CSP" % path)
        t = b.decode()
        for bad in ("http://", "https://", "//cdn", "@import"):
            # the SVG namespace is a name, not a request
            if bad in t.replace("http://www.w3.org/2000/svg", ""):
                fail("%s refers outside: %s" % (path, bad))


def refused(addr):
    """404 for unknown paths, 405 (Allow: GET) for other methods."""
    for path in ("/nope", "/api/v1/", "/api/v1/chutes/1", "/../etc/passwd",
                 "/index.htm"):
        st = get(addr, path)[0]
        if st != 404:
            fail("%s: %d, not 404" % (path, st))
    for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        for path in ("/", "/metrics", "/api/v1/summary", "/api/v1/chutes"):
            st, h, _ = get(addr, path, m)
            if st != 405 or h.get("allow") != "GET":
                fail("%s %s: %d %r" % (m, path, st, h))


def slow(addr, seconds):
    """Silent clients, a client trickling its request and one that never
    reads a big answer, while others fetch: every fetch answered quickly."""
    host, port = addr.rsplit(":", 1)
    held = []
    for _ in range(5):     # connect and send nothing
        s = socket.create_connection((host, int(port)))
        held.append(s)
    trickle = socket.create_connection((host, int(port)))
    held.append(trickle)
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect((host, int(port)))
    reader.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")   # and never read it
    held.append(reader)
    worst = 0.0
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        trickle.send(b"G")
        t = time.time()
        for path in ("/api/v1/summary", "/metrics", "/"):
            st = get(addr, path)[0]
            if st != 200:
                fail("%s: %d while slow clients hang on" % (path, st))
        worst = max(worst, time.time() - t)
        n += 1
        time.sleep(0.2)
    for s in held:
        s.close()
    print("%d rounds, slowest %.3f s" % (n, worst))
    if worst > 2.0:
        fail("a fetch took %.1f s" % worst)


def main():
    check, addr = sys.argv[1], sys.argv[2]
    if check == "api":
        api(addr)
    elif check == "assets":
        assets(addr)
    elif check == "refused":
        refused(addr)
    elif check == "slow":
        slow(addr, float(sys.argv[3]))
    else:
        fail("unknown check " + check)


main()
