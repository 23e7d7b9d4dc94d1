#!/usr/bin/env python3
"""Runs NIR's reference simulator on the example's inputs (developer tool, not part of run.sh).

Feeds each inputs/NN.csv to ../shared/peers/nir_reference_sim.py (NIR's ODEs, forward
Euler, float64) at snnTorch's dt (1e-4 s), with each model's reset (the file names
say it: bias_zero resets to zero (v_reset = 0), noBias_subtract by subtraction), and
writes reference.json: per model and sample, the spike counts of `lif2` (the 7
output neurons) over the 256 steps. check.py compares nerve's counts with these.

    bench/nir/.venv/bin/python examples/nir-braille/reference.py
"""
import csv
import importlib.util
import json
import os

import numpy as np
import nir

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
spec = importlib.util.spec_from_file_location("refsim", os.path.join(ROOT, "../shared/peers/nir_reference_sim.py"))
refsim = importlib.util.module_from_spec(spec)
spec.loader.exec_module(refsim)

MODELS = {"braille_noDelay_bias_zero": "to_v_reset", "braille_noDelay_noBias_subtract": "subtract"}
DT, STEPS = 1e-4, 256
samples = [r["sample"] for r in csv.DictReader(open(os.path.join(HERE, "samples.csv")))]
out = {"note": "written by reference.py: nir_reference_sim.py at dt 1e-4 s; counts of `lif2` per sample over 256 steps", "dt": DT, "steps": STEPS, "reset": MODELS, "counts": {}}
for model, reset in MODELS.items():
    g = nir.read(os.path.join(ROOT, "compiler/tests/data/nir", model + ".nir"))
    out["counts"][model] = {}
    for s in samples:
        x = np.zeros((STEPS, 12))
        for r in csv.DictReader(open(os.path.join(HERE, "inputs", s + ".csv"))):
            x[int(round(float(r["time"]) / (DT * 1000))), int(r["neuron"])] = 1.0
        sim = refsim.Sim(g, DT, reset=reset)
        c = np.zeros(7)
        for k in range(STEPS):
            sim.step(k, {"input": x})
            c += sim.out["lif2"].ravel()
        out["counts"][model][s] = [int(v) for v in c]
with open(os.path.join(HERE, "reference.json"), "w") as f:
    json.dump(out, f, indent=1)
print({m: sum(sum(v) for v in c.values()) for m, c in out["counts"].items()})
