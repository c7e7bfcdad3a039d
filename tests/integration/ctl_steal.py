#!/usr/bin/env python3
"""ctl_steal.py LISTEN TARGET [COUNT]: a control-socket proxy for the
fleet_manifest.sh test. It passes every request from LISTEN to the daemon's
socket TARGET unchanged, except that before forwarding each of the first
COUNT (default 1) `manifest load part` requests it begins a load of its own
on another connection ("begin stolen 0"), as an operator's `parcelsortctl
manifest load` starting at that moment would: the daemon keeps one load
under way, so the part then finds its load gone ("no such manifest load
under way ... begin again"). Prints "stolen N" on stdout each time."""
import os
import socket
import struct
import sys
import threading

listen, target = sys.argv[1], sys.argv[2]
left = [int(sys.argv[3]) if len(sys.argv) > 3 else 1]
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


def steal(code):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(target)
    body = b"begin\0stolen\0" + b"0\0"
    s.sendall(struct.pack(HDR, 0x50534331, 1, code, 1, len(body)) + body)
    read_msg(s)
    s.close()


def serve(c):
    d = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    d.connect(target)
    try:
        while True:
            hdr, body = read_msg(c)
            if hdr is None:
                return
            code = struct.unpack(HDR, hdr)[2]
            if body.startswith(b"part\0"):
                with lock:
                    go = left[0] > 0
                    left[0] -= go
                if go:
                    steal(code)
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
