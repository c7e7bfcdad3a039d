#!/usr/bin/env python3
"""whatif_ref.py: the what-if computed independently of parcelsortctl, with
reference.py's model of the protocol: every scan batch of a capture decided
under two plans (each with its own duplicate memory), the pairs tallied
as docs/whatif.md says, and compared with `plan whatif --json`'s report.

    whatif_ref.py CURRENT CANDIDATE CAPTURE REPORT.json [HOLDS [DISABLED
                  [MANIFEST]]]

HOLDS: a hold file ("-": none); DISABLED: chutes disabled by the operator,
comma-separated ("-": none; both plans decide with them out); MANIFEST: a
manifest file (WAYBILL,REGION lines): a record whose region is 0 is
decided with its waybill's region when it has one (the scanner's own
region wins), as the spec's manifest.md says.

Prints "ok - ..." / "not ok - ..." lines; exits 1 when something differs.
"""
import collections
import json
import struct
import sys

import reference as ref

WINDOW_MS = 300000


class HoldingDecider(ref.Decider):
    """reference.Decider with an intercept list: a sortable record of a
    held waybill is INTERCEPTED to the plan's intercept chute, never
    remembered (protocol step 6)."""

    def __init__(self, plan, holds, disabled, manifest):
        super().__init__(plan, disabled)
        self.holds = holds
        self.manifest = manifest

    def decide_record(self, r):
        wb, region, _ts, _w, _l, _wd, _h, _dev, stype, service, _car, \
            seq, reserved = struct.unpack(">24sQQIHHHHBBHII", r)
        p = self.plan
        malformed = ((region != 0 and
                      not 110000000000 <= region <= 999999999999)
                     or not 1 <= stype <= 8 or service & 0x80 or reserved)
        if (wb in self.holds and not malformed and stype in (1, 2)
                and ref.waybill_state(wb) == "valid"):
            return struct.pack(">24sIHBBIIQ", wb, seq, p.intercept, 0,
                               ref.R["INTERCEPTED"], 0, p.version, 0)
        if region == 0 and wb in self.manifest:
            # the decision record keeps the scanner's fields: only the
            # region used changes (the reply carries no region)
            r = r[:24] + struct.pack(">Q", self.manifest[wb]) + r[32:]
        return super().decide_record(r)


def plan_with_intercept(path):
    p = ref.Plan(path)
    p.intercept = p.reject
    for line in open(path, encoding="utf-8"):
        f = line.split("#", 1)[0].split()
        if f and f[0] == "intercept":
            p.intercept = int(f[1])
    return p


def decisions(plan_path, frames, holds, disabled, manifest):
    d = HoldingDecider(plan_with_intercept(plan_path), holds, disabled,
                       manifest)
    out = []
    for fr in frames:
        s = ref.udp_payload(fr)
        if s is None:
            continue
        req = s[4]
        rep = d.decide_request(req)
        if rep is None:
            continue
        for i in range((len(rep) - 16) // 48):
            o = 16 + 48 * i
            chute, _tier, reason, hub = struct.unpack(
                ">HBBI", rep[o + 28:o + 36])
            ts = struct.unpack(">Q", req[16 + 64 * i + 32:16 + 64 * i + 40])[0]
            out.append((hub, chute, reason, ts))
    return out


def main():
    cur, cand, capture, report = sys.argv[1:5]
    holds, disabled, manifest = set(), set(), {}
    if len(sys.argv) > 6 and sys.argv[6] != "-":
        disabled = {int(c) for c in sys.argv[6].split(",")}
    if len(sys.argv) > 7:
        for line in open(sys.argv[7]):
            line = line.split("#", 1)[0].strip()
            if not line or line.lower() == "waybill,region":
                continue
            wb, region = line.split(",")
            manifest[wb.strip().encode().ljust(24, b"\0")] = int(region)
    if len(sys.argv) > 5 and sys.argv[5] != "-":
        for line in open(sys.argv[5]):
            line = line.strip()
            if line and not line.startswith("#"):
                holds.add(line.split(",")[0].encode().ljust(24, b"\0"))
    frames = ref.read_pcap(capture)
    a = decisions(cur, frames, holds, disabled, manifest)
    b = decisions(cand, frames, holds, disabled, manifest)
    got = json.load(open(report))
    ok = True

    def t(cond, name):
        nonlocal ok
        ok &= bool(cond)
        print(("ok - " if cond else "not ok - ") + name)

    t(len(a) == got["capture"]["records"],
      "records: %d (reference %d)" % (got["capture"]["records"], len(a)))
    for side, dec in (("current", a), ("candidate", b)):
        want = collections.Counter(ref.REASONS[r] for _, _, r, _ in dec)
        have = {k: v for k, v in got[side]["by_reason"].items() if v}
        t(dict(want) == have, "%s: records by reason %s" % (side, have))
    groups = collections.Counter()
    become = collections.Counter()
    for (h0, c0, r0, _), (h1, c1, r1, _) in zip(a, b):
        # by reason, whether or not the chute changes (docs/whatif.md)
        for name in ("NO_ROUTE", "CHUTE_UNAVAILABLE"):
            if r1 == ref.R[name] and r0 != ref.R[name]:
                become[name] += 1
        if (h0, c0) == (h1, c1):
            continue
        groups[(h0, c0, h1, c1)] += 1
    changed = sum(groups.values())
    t(changed == got["changed"], "changed: %d (reference %d)" %
      (got["changed"], changed))
    t(len(groups) == got["groups_total"], "groups: %d (reference %d)" %
      (got["groups_total"], len(groups)))
    top = sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    have = [((g["from"]["hub"], g["from"]["chute"], g["to"]["hub"],
              g["to"]["chute"]), g["records"]) for g in got["groups"]]
    t(top == have, "the top groups, in order (%d)" % len(have))
    for name in ("NO_ROUTE", "CHUTE_UNAVAILABLE"):
        t(become[name] == got["become"][name], "become %s: %d (reference "
          "%d)" % (name, got["become"][name], become[name]))
    per, win = [collections.Counter(), collections.Counter()], \
        [collections.Counter(), collections.Counter()]
    for k, dec in enumerate((a, b)):
        for _, c, _, ts in dec:
            if c:
                per[k][c] += 1
                win[k][(c, ts // WINDOW_MS)] += 1
    peak = [collections.Counter(), collections.Counter()]
    for k in (0, 1):
        for (c, _), n in win[k].items():
            peak[k][c] = max(peak[k][c], n)
    want = sorted((c, per[0][c], per[1][c], peak[0][c], peak[1][c])
                  for c in set(per[0]) | set(per[1]) if per[0][c] != per[1][c])
    have = sorted((c["chute"], c["current"], c["candidate"],
                   c["peak_5min_current"], c["peak_5min_candidate"])
                  for c in got["chutes"])
    t(want == have, "chutes that gain or lose records, with their peaks "
      "per 5 minutes (%d)" % len(have))
    print("# reference: %d of %d records change chute; %d become NO_ROUTE"
          % (changed, len(a), become["NO_ROUTE"]))
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
