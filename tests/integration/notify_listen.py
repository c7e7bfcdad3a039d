#!/usr/bin/env python3
"""notify_listen.py SOCKET OUT [SECONDS]: play systemd's side of
sd_notify: bind a datagram socket at SOCKET and append every message
received to OUT as "MONOTONIC_SECONDS<TAB>FIELD" lines (one per field of
the message). Stops after SECONDS (default 60) or on SIGTERM."""
import os
import signal
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(path):
    os.unlink(path)
s.bind(path)
end = time.monotonic() + limit
with open(out, "a", buffering=1) as f:
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            msg = s.recv(4096).decode("utf-8", "replace")
        except socket.timeout:
            break
        now = time.monotonic()
        for field in msg.split("\n"):
            if field:
                f.write("%.3f\t%s\n" % (now, field))
