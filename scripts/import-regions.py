#!/usr/bin/env python3
"""import-regions.py: build the project's compact region tables (data/regions/)
from the NBS 2023 statistical division code tables (provinces, cities, areas,
streets CSVs and the gzip'd villages CSV described in data/regions/SOURCE.md).

Run once when the source tables change:
    scripts/import-regions.py SRC_DIR data/regions
Writes:
    provinces.csv cities.csv areas.csv streets.csv   copied unchanged
    villages.txt.gz   one line per township: "TTTTTTTTT SSS SSS ..." where each
                      SSS is the last three digits of one of its 12-digit
                      village codes; a township with no village rows stands
                      alone on its line.
"""
import collections, csv, gzip, io, os, shutil, sys

def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    for f in ("provinces.csv", "cities.csv", "areas.csv", "streets.csv"):
        shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))
    towns = collections.OrderedDict()
    with open(os.path.join(src, "streets.csv"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            towns[row["code"]] = []
    with gzip.open(os.path.join(src, "villages.csv.gz"), "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["code"]
            towns.setdefault(code[:9], []).append(code[9:])
    out = io.StringIO()
    for t in sorted(towns):
        out.write(" ".join([t] + towns[t]) + "\n")
    with gzip.GzipFile(os.path.join(dst, "villages.txt.gz"), "wb", 9, mtime=0) as gz:
        gz.write(out.getvalue().encode())
    print(f"{len(towns)} townships, {sum(len(v) for v in towns.values())} villages")

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
