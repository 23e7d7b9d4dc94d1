#!/usr/bin/env python3
"""Scores a run of the nir-braille example against NIR's reference simulator.

    python3 check.py [OUT_DIR]

OUT_DIR/<model>/NN.csv: nerve's recorded spikes per sample (from run.sh). For each
model, compares the output node's (`lif2`) spike counts with reference.json's (the
reference simulator on the same input, same dt and reset): the class (argmax) of
each sample and the summed |difference| of the counts. Prints the classes nerve
produces. Exits 1 unless, for every model run, the classes agree on >= 80% of the
samples and the count difference is <= 15% of the reference's spikes.
The input is synthetic (make.py): the classes are not a measure of accuracy.
"""
import csv, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "out")
samples = {r["sample"]: r["letter"] for r in csv.DictReader(open(os.path.join(here, "samples.csv")))}
ref = json.load(open(os.path.join(here, "reference.json")))["counts"]
LETTERS = ["Space", "A", "E", "I", "O", "U", "Y"]


def argmax(c):
    """The class with most spikes (the first on a tie); None without any spike."""
    return max(range(len(c)), key=lambda i: (c[i], -i)) if sum(c) else None


ok, models = True, 0
for model, want in ref.items():
    n = agree = diff = total = 0
    produced = {}
    for s in samples:
        path = os.path.join(out, model, s + ".csv")
        if not os.path.exists(path):
            continue
        c = [0] * 7
        for r in csv.DictReader(open(path)):
            if r["population"] == "lif2":
                c[int(r["neuron"])] += 1
        got = argmax(c)
        n += 1
        agree += got == argmax(want[s])
        diff += sum(abs(a - b) for a, b in zip(c, want[s]))
        total += sum(want[s])
        name = LETTERS[got] if got is not None else "none"
        produced[name] = produced.get(name, 0) + 1
    if n == 0:
        continue
    models += 1
    good = agree / n >= 0.80 and diff <= 0.15 * total
    ok &= good
    print(f"{model}: {n} samples, nerve's classes {dict(sorted(produced.items()))}")
    print(f"  same class as the reference {agree}/{n} ({100 * agree / n:.0f}%), "
          f"Σ|Δ count| {diff} of {total} reference spikes ({100 * diff / max(total, 1):.1f}%)  {'ok' if good else 'OUT OF BOUNDS'}")
if models == 0:
    sys.exit(f"no recorded samples in {out}")
print("PASS" if ok else "FAIL (needs >= 80% same class and Σ|Δ count| <= 15% of the reference's spikes, per model)")
sys.exit(0 if ok else 1)
