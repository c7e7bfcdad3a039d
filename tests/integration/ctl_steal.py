#!/usr/bin/env python3
"""ctl_steal.py LISTEN TARGET [COUNT]: a control-socket proxy for the
fleet_manifest.sh and fleet_holds.sh tests. It passes every request from
LISTEN to the daemon's socket TARGET unchanged, except that before
forwarding each of the first COUNT (default 1) `part` requests of a load
(`manifest load` or `hold load`) it begins a load of its own on another
connection (the same `begin` the client sent), as an operator's
`parcelsortctl manifest|hold load` starting at that moment would: the
daemon keeps one load under way, so the part then finds its load gone
("no such ... load under way ... begin again"). A daemon that refuses
that begin because the client's load is under way ({"busy":true}: a
manifest load) loses the client's load anyway, as a restart would: the
proxy aborts it (abort TOKEN) before the part. Prints "stolen" on stdout
each time."""
import os
import socket
import struct
import sys
import threading

listen, target = sys.argv[1], sys.argv[2]
left = [int(sys.argv[3]) if len(sys.argv) > 3 else 1]
begin = [None]          # the last begin seen (a client may connect anew
                        # for each request)
lock = threading.Lock()
HDR = ">IHHII"


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_msg(s):
    hdr = read_exact(s, 16)
    if hdr is None:
        return None, None
    ln = struct.unpack(HDR, hdr)[4]
    body = read_exact(s, ln) if ln else b""
    return hdr, body


def ask(hdr, body):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(target)
    s.sendall(hdr + body)
    _, answer = read_msg(s)
    s.close()
    return answer or b""


def steal(hdr, body, part):
    if b'"busy":true' not in ask(hdr, body):
        return
    token = part.split(b"\0")[1]
    magic, version, cmd, flags, _ = struct.unpack(HDR, hdr)
    abort = b"abort\0" + token + b"\0"
    ask(struct.pack(HDR, magic, version, cmd, flags, len(abort)), abort)


def serve(c):
    d = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    d.connect(target)
    try:
        while True:
            hdr, body = read_msg(c)
            if hdr is None:
                return
            with lock:
                if body.startswith(b"begin\0"):
                    begin[0] = (hdr, body)
                go = body.startswith(b"part\0") and begin[0] and left[0] > 0
                if go:
                    left[0] -= 1
            if go:
                steal(*begin[0], body)
                print("stolen", flush=True)
            d.sendall(hdr + body)
            rh, rb = read_msg(d)
            if rh is None:
                return
            c.sendall(rh + rb)
    except OSError:
        pass
    finally:
        c.close()
        d.close()


if os.path.exists(listen):
    os.unlink(listen)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(listen)
srv.listen(16)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
