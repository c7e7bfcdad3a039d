#!/usr/bin/env python3
"""ctl_abuse.py SOCKET CTL_BINARY: clients that misbehave on the control
socket (silent half a request, garbage, an oversized length, one that never
reads its answer, more silent connections than the daemon has client
slots, a plan name of megabytes) while a well-behaved parcelsortctl keeps
being served."""
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

# regression (#12.4): 64 silent connections filled every client slot and
# parcelsortctl got exit 3
flood = [conn() for _ in range(80)]
time.sleep(0.5)
t(status_ok(), "eighty silent connections (more than the 64 slots) lock "
  "nobody out")
for s in flood:
    s.close()

# regression (#12.1): a plan name of 2 MB labelled each of up to 1,000
# errors; the daemon grew by gigabytes. Now a usage error, a short answer.
name = b"n" * (2 << 20)
plan = b"plan x\nsite 1 33\nreject 9\nhub 1 trunk T\n" + \
    b"route 3307x 1 1\n" * 2000
body = name + b"\0" + plan + b"\0"
h = conn()
h.settimeout(10)
h.sendall(struct.pack(">IHHII", 0x50534331, 1, 2, 0, len(body)) + body)
hdr = b""
while len(hdr) < 16:
    chunk = h.recv(16 - len(hdr))
    if not chunk:
        break
    hdr += chunk
ok = len(hdr) == 16
if ok:
    magic, ver, code, _, ln = struct.unpack(">IHHII", hdr)
    ans = b""
    while len(ans) < ln and ln < 65536:
        chunk = h.recv(ln - len(ans))
        if not chunk:
            break
        ans += chunk
    ok = code == 2 and ln < 1024 and len(ans) == ln and b"NAME" in ans
t(ok, "a plan name of 2 MB is a usage error with a short, whole answer")
h.close()
t(status_ok(), "still serving after the huge name")
