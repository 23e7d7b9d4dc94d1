#!/usr/bin/env python3
"""Scores a run of the stdp-pattern example: detections of the pattern, false positives on random ones."""
import csv, json, sys
sched = json.load(open(sys.argv[2] if len(sys.argv) > 2 else "schedule.json"))
times = sorted(float(r["time"]) for r in csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else "spikes.csv")) if r["population"] == "detector")
hit = {"pattern": 0, "random": 0}; n = {"pattern": 0, "random": 0}
for t0, kind in sched["windows"]:
    n[kind] += 1
    if any(t0 <= t < t0 + sched["window_ms"] for t in times):
        hit[kind] += 1
det = hit["pattern"] / n["pattern"]; fp = hit["random"] / n["random"]
print(f"detected {hit['pattern']}/{n['pattern']} patterns ({100*det:.0f}%), false positives {hit['random']}/{n['random']} random patterns ({100*fp:.0f}%)")
ok = det >= 0.95 and fp <= 0.05
print("PASS" if ok else "FAIL (needs >= 95% detected, <= 5% false positives)")
sys.exit(0 if ok else 1)
