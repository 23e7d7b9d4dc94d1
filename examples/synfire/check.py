#!/usr/bin/env python3
"""Shows and checks the wave of a synfire run: per group the number of neurons
that fired, the mean first-spike time and its spread (standard deviation); then
checks that every group fires (>= 90 of its neurons), that the group means
increase with the group index, and that the mean inter-group latency (the mean
of the 9 differences between consecutive group means) lies in [LO, HI] ms.

    python3 check.py spikes.csv [LO HI]      # default bounds 2.0 4.0 (README.md)
"""
import csv, statistics, sys

path = sys.argv[1] if len(sys.argv) > 1 else "spikes.csv"
lo, hi = (float(sys.argv[2]), float(sys.argv[3])) if len(sys.argv) > 3 else (2.0, 4.0)
first = {}
for r in csv.DictReader(open(path)):
    key = (r["population"], int(r["neuron"]))
    first.setdefault(key, float(r["time"]))  # the file is sorted by time
groups = sorted({p for p, _ in first}, key=lambda g: int(g[1:]))
means, ok = [], True
print("group  fired  mean ms  spread ms")
for k in range(10):
    ts = [t for (p, _), t in first.items() if p == f"g{k}"]
    if not ts:
        print(f"g{k:<5d} {0:5d}        -          -")
        ok = False
        continue
    m, sd = statistics.fmean(ts), statistics.pstdev(ts)
    means.append(m)
    print(f"g{k:<5d} {len(ts):5d}  {m:7.2f}  {sd:9.2f}")
    ok &= len(ts) >= 90
if len(means) == 10:
    gaps = [b - a for a, b in zip(means, means[1:])]
    lat = statistics.fmean(gaps)
    ordered = all(g > 0 for g in gaps)
    print(f"inter-group latency: mean {lat:.2f} ms (min {min(gaps):.2f}, max {max(gaps):.2f}); wave in order: {'yes' if ordered else 'NO'}")
    ok &= ordered and lo <= lat <= hi
else:
    ok = False
print("PASS" if ok else f"FAIL (needs every group >= 90 of 100 fired, in order, mean latency in [{lo}, {hi}] ms)")
sys.exit(0 if ok else 1)
