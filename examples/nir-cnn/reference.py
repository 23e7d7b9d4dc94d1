#!/usr/bin/env python3
"""Runs NIR's reference simulator on the same inputs (developer tool, not part of run.sh).

Feeds each sample's spikes (make_inputs.spikes) to ../shared/peers/nir_reference_sim.py
(NIR's ODEs, forward Euler, float64) at Sinabs' convention (dt 1, reset subtract) and
writes reference.json: per sample, the output node's (`12`) spike counts. check.py
compares nerve's classes with these. Needs the `nir` venv:

    bench/nir/.venv/bin/python examples/nir-cnn/reference.py [FIRST=20]   (about 15 s per sample)
"""
import importlib.util
import json
import os
import sys

import numpy as np
import nir

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from make_inputs import samples, spikes  # noqa: E402

spec = importlib.util.spec_from_file_location("refsim", os.path.join(ROOT, "../shared/peers/nir_reference_sim.py"))
refsim = importlib.util.module_from_spec(spec)
spec.loader.exec_module(refsim)

g = nir.read(os.path.join(ROOT, "compiler/tests/data/nir/cnn_sinabs.nir"))
out = {"note": "written by reference.py: nir_reference_sim.py at dt 1, reset subtract; counts of node `12` per sample", "counts": {}}
FIRST = int(sys.argv[1]) if len(sys.argv) > 1 else 20  # the simulator takes ~15 s a sample
for name, label in samples()[:FIRST]:
    sp = spikes(os.path.join(HERE, "data", name + ".bs2"))
    steps = sp[-1][0] + 1
    x = np.zeros((steps, 2 * 34 * 34))
    for s, n in sp:
        x[s, n] = 1.0
    sim = refsim.Sim(g, 1.0, reset="subtract")
    c = np.zeros(10)
    for k in range(steps):
        sim.step(k, {"input": x.reshape(steps, 2, 34, 34)})
        c += sim.out["12"].ravel()
    out["counts"][name] = [int(v) for v in c]
    print(name, label, int(c.argmax()), out["counts"][name], flush=True)
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(out, f, indent=0)
