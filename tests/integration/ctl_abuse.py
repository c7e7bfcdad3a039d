#!/usr/bin/env python3
"""ctl_abuse.py SOCKET CTL_BINARY: clients that misbehave on the control
socket (silent half a request, garbage, an oversized length, one that never
reads its answer) while a well-behaved parcelsortctl keeps being served."""
import socket
import struct
import subprocess
import sys
import time

path, ctl = sys.argv[1], sys.argv[2]


def t(cond, name):
    print(("ok - " if cond else "not ok - ") + name, flush=True)


def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(3)
    return s


def status_ok():
    t0 = time.time()
    r = subprocess.run([ctl, "--ctl", path, "status"], capture_output=True,
                       timeout=10)
    return r.returncode == 0 and time.time() - t0 < 2


silent = conn()
silent.sendall(b"PSC")                       # half a header, then nothing
t(status_ok(), "a silent half-request does not stall other clients")

g = conn()
g.sendall(b"GET / HTTP/1.0\r\n\r\n")
hdr = g.recv(16)
magic, ver, code, _, ln = struct.unpack(">IHHII", hdr)
body = g.recv(ln) if ln else b""
t(magic == 0x50535231 and code == 2 and b"magic" in body,
  "garbage gets an error reply (%r)" % body[:40])

big = conn()
big.sendall(struct.pack(">IHHII", 0x50534331, 1, 1, 0, 1 << 30))
hdr = big.recv(16)
t(len(hdr) == 16 and struct.unpack(">IHHII", hdr)[2] == 2,
  "an oversized request is refused before its body is read")

lazy = []
for _ in range(8):                           # ask for a lot, never read
    s = conn()
    s.sendall(struct.pack(">IHHII", 0x50534331, 1, 4, 0, 0))
    lazy.append(s)
t(status_ok(), "clients that never read their answers do not stall others")

many = [conn() for _ in range(40)]
t(status_ok(), "forty idle connections at once")
for s in many + lazy + [silent, g, big]:
    s.close()
t(status_ok(), "still serving after they all went away")
