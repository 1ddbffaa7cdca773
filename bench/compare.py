#!/usr/bin/env python3
"""Compares a peer's decisions file with Rekindle's, customer by customer, on every column the
peer wrote. Prints the columns that differ (with a few examples) and exits 1 when any does, or
when a customer is missing on either side.

    python3 bench/compare.py rekindle.csv peer.csv
"""

import csv
import sys
from collections import Counter


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        return r.fieldnames, {row["customer_id"]: row for row in r}


def main():
    ref_cols, ref = rows(sys.argv[1])
    cols, peer = rows(sys.argv[2])
    common = [c for c in ref_cols if c in cols and c != "customer_id"]
    bad, examples = Counter(), {}
    missing = set(ref) ^ set(peer)
    for cid, r in ref.items():
        p = peer.get(cid)
        if p is None:
            continue
        for c in common:
            if r[c] != p[c]:
                bad[c] += 1
                examples.setdefault(c, []).append((cid, r[c], p[c]))
    for c in common:
        if bad[c]:
            print("  %-18s %d differ, e.g. %s" % (c, bad[c], "; ".join("%s: %r vs %r" % e for e in examples[c][:3])))
    if missing:
        print("  %d customers on one side only, e.g. %s" % (len(missing), sorted(missing)[:3]))
    print("  compared %d customers on %s" % (len(ref), ", ".join(common)))
    sys.exit(1 if bad or missing else 0)


if __name__ == "__main__":
    main()
