#!/usr/bin/env python3
"""Scores a run of the nir-cnn example: classes (argmax of the output node's spike counts) vs labels.

    python3 check.py [OUT_DIR]

OUT_DIR holds one recorded spike file per sample (NNNNN.csv, from run.sh). Prints the
accuracy and how often nerve's class is the reference simulator's (reference.json, which
holds the first 20 samples: the simulator takes ~15 s a sample); exits 1 unless
accuracy >= 95% over the samples run and agreement >= 95% over those with a reference.
"""
import csv, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "out")
labels = {r["sample"]: int(r["label"]) for r in csv.DictReader(open(os.path.join(here, "data", "labels.csv")))}
ref = json.load(open(os.path.join(here, "reference.json")))["counts"]


def argmax(c):
    """The class with most spikes (the first on a tie); None without any spike."""
    return max(range(len(c)), key=lambda i: (c[i], -i)) if sum(c) else None


n = correct = agree = nref = 0
wrong = []
for s, label in labels.items():
    path = os.path.join(out, s + ".csv")
    if not os.path.exists(path):
        continue
    c = [0] * 10
    for r in csv.DictReader(open(path)):
        if r["population"] == "12":
            c[int(r["neuron"])] += 1
    got = argmax(c)
    n += 1
    correct += got == label
    if s in ref:
        nref += 1
        agree += got == argmax(ref[s])
    if got != label:
        wrong.append(f"{s}: label {label}, nerve {got}, reference {argmax(ref[s]) if s in ref else '?'}")
if n == 0:
    sys.exit(f"no recorded samples in {out}")
acc, agr = correct / n, agree / max(nref, 1)
print(f"accuracy {correct}/{n} ({100 * acc:.1f}%), same class as the reference simulator {agree}/{nref} ({100 * agr:.1f}%)")
for w in wrong:
    print("  wrong:", w)
ok = acc >= 0.95 and nref > 0 and agr >= 0.95
print("PASS" if ok else "FAIL (needs >= 95% accuracy and >= 95% agreement with the reference)")
sys.exit(0 if ok else 1)
