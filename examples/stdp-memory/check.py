#!/usr/bin/env python3
"""Scores a run of the stdp-memory example: every recall must bring back exactly its expected content."""
import csv, json, sys
from collections import defaultdict
sched = json.load(open(sys.argv[2] if len(sys.argv) > 2 else "schedule.json"))
spikes = [(float(r["time"]), int(r["neuron"])) for r in csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else "spikes.csv")) if r["population"] == "content"]
good = defaultdict(int); total = defaultdict(int)
for w in sched["windows"]:
    got = sorted({n for t, n in spikes if w["start_ms"] <= t < w["start_ms"] + sched["window_ms"]})
    total[w["phase"]] += 1
    good[w["phase"]] += got == w["expect"]
    if got != w["expect"]:
        print(f"  {w['phase']}: cue {w['cue']} at {w['start_ms']} ms recalled {got}, expected {w['expect']}")
for p in total:
    print(f"{p:>24}: {good[p]}/{total[p]} recalls exact")
ok = all(good[p] == total[p] for p in total)
print("PASS" if ok else "FAIL (every recall must bring back exactly its content)")
sys.exit(0 if ok else 1)
