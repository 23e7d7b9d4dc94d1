#!/usr/bin/env python3
"""Shows and checks a run of the C. elegans connectome: per cell class the
spikes and the cells that fired (most active first), then checks that

- every class fires (>= 10 cells each),
- the driven touch receptors ALML ALMR AVM PLML PLMR each fire (>= 20 spikes),
- activity reaches the motor neurons (>= 30 of the 126 fire),
- with --control C.csv (the same network without gap junctions, control.json):
  the gap junctions matter: the number of cells that fire differs by >= 20.

    python3 check.py spikes.csv [--control control_spikes.csv]
"""
import collections, csv, sys

CLASSES = ["Sensory", "Interneuron", "Motorneuron", "Other"]
DRIVEN = ["ALML", "ALMR", "AVM", "PLML", "PLMR"]
MIN_CELLS, MIN_DRIVEN, MIN_MOTOR, MIN_GAP_EFFECT = 10, 20, 30, 20


def load(path):
    per = {c: collections.Counter() for c in CLASSES}
    for r in csv.DictReader(open(path, newline="")):
        if r["population"] in per:
            per[r["population"]][r["label"]] += 1
    return per


args = sys.argv[1:]
control = None
if "--control" in args:
    i = args.index("--control")
    control = args[i + 1]
    del args[i:i + 2]
path = args[0] if args else "spikes.csv"
per = load(path)
ok = True
print("class          spikes  cells fired  most active (spikes)")
for c in CLASSES:
    top = ", ".join(f"{n} {k}" for n, k in per[c].most_common(6))
    print(f"{c:<13} {sum(per[c].values()):7d}  {len(per[c]):11d}  {top}")
    ok &= len(per[c]) >= MIN_CELLS
driven = {d: per["Sensory"][d] for d in DRIVEN}
print("driven touch receptors: " + ", ".join(f"{d} {k}" for d, k in driven.items()))
ok &= all(k >= MIN_DRIVEN for k in driven.values())
ok &= len(per["Motorneuron"]) >= MIN_MOTOR
active = sum(len(per[c]) for c in CLASSES)
print(f"cells that fired: {active} of 473")
if control:
    cper = load(control)
    cactive = sum(len(cper[c]) for c in CLASSES)
    print("without gap junctions: " + "; ".join(f"{c} {sum(cper[c].values())} spikes, {len(cper[c])} cells" for c in CLASSES))
    print(f"cells that fired: {active} with gap junctions, {cactive} without (difference {cactive - active:+d})")
    ok &= abs(cactive - active) >= MIN_GAP_EFFECT
print("PASS" if ok else f"FAIL (needs >= {MIN_CELLS} cells per class, each driven receptor >= {MIN_DRIVEN} spikes, "
      f">= {MIN_MOTOR} motor neurons, and with --control a difference of >= {MIN_GAP_EFFECT} active cells)")
sys.exit(0 if ok else 1)
