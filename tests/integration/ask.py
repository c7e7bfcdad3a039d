#!/usr/bin/env python3
"""ask.py: send one INDUCT scan (WAYBILL REGION) to parcelsortd at
198.18.0.2:7100 and print the decision's reason and chute (and, with a
third argument --version, the plan version that decided)."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402
from scanner import rec, request  # noqa: E402

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(request([rec(wb=sys.argv[1].encode(), region=int(sys.argv[2]))], 1),
         ("198.18.0.2", 7100))
try:
    r = s.recv(4096)
    out = [ref.REASONS[r[16 + 31]], struct.unpack(">H", r[16 + 28:16 + 30])[0]]
    if sys.argv[3:] == ["--version"]:
        out.append(struct.unpack(">I", r[16 + 36:16 + 40])[0])
    print(*out)
except socket.timeout:
    print("no reply")
