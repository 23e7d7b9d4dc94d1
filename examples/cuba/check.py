#!/usr/bin/env python3
"""Checks a run of the CUBA example: the mean firing rate of exc (3200 neurons)
and of inh (800) over the run must each lie in [5.2, 6.4] Hz (README.md says why).

    python3 check.py spikes.csv [duration_ms]      # default 1000 ms
"""
import csv, sys

LO, HI = 5.2, 6.4
SIZES = {"exc": 3200, "inh": 800}
path = sys.argv[1] if len(sys.argv) > 1 else "spikes.csv"
dur_s = (float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0) / 1000.0
counts = {p: 0 for p in SIZES}
for r in csv.DictReader(open(path)):
    if r["population"] in counts:
        counts[r["population"]] += 1
ok = True
for p, n in SIZES.items():
    rate = counts[p] / n / dur_s
    good = LO <= rate <= HI
    ok &= good
    print(f"{p}: {counts[p]} spikes from {n} neurons in {dur_s:g} s: {rate:.2f} Hz {'ok' if good else 'OUT OF BOUNDS'}")
print("PASS" if ok else f"FAIL (each rate must lie in [{LO}, {HI}] Hz)")
sys.exit(0 if ok else 1)
