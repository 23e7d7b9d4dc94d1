#!/usr/bin/env python3
"""Writes compiler/tests/data/nir/skip_lif.nir: a skip connection (input → a → b
and input → b, b needing both within one step as NIR's reference passes them), a
loop through two populations that a Delay makes runnable on the chip (b → Delay
→ a), and a self-loop on b; then its reference outputs (skip_lif.all.json) with
../shared/peers/nir_reference_sim.py.

    /tmp/nir-venv/bin/python bench/nir/make_skip_sample.py
"""
import json
import os
import subprocess
import sys

import numpy as np
import nir

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "compiler/tests/data/nir")
SIM = os.path.join(ROOT, "../shared/peers/nir_reference_sim.py")

rng = np.random.default_rng(11)
n_in, na, nb = 10, 8, 6
f32 = np.float32


def lif(n, vth):
    return nir.LIF(tau=np.full(n, 0.004, dtype=f32), r=np.full(n, 4.0, dtype=f32), v_leak=np.zeros(n, dtype=f32),
                   v_threshold=np.full(n, vth, dtype=f32), v_reset=np.zeros(n, dtype=f32))


nodes = {
    "input": nir.Input(input_type=np.array([n_in])),
    "fc_a": nir.Linear(weight=rng.normal(0.1, 0.4, size=(na, n_in)).astype(f32)),
    "a": lif(na, 0.9),
    "fc_ab": nir.Linear(weight=rng.normal(0.15, 0.4, size=(nb, na)).astype(f32)),
    "fc_skip": nir.Linear(weight=rng.normal(0.15, 0.4, size=(nb, n_in)).astype(f32)),
    "b": lif(nb, 1.2),
    "fc_rec": nir.Linear(weight=rng.normal(0.0, 0.3, size=(nb, nb)).astype(f32)),
    "fc_back": nir.Linear(weight=rng.normal(0.05, 0.3, size=(na, nb)).astype(f32)),
    "d_back": nir.Delay(delay=np.full(na, 0.002, dtype=f32)),
    "out_a": nir.Output(output_type=np.array([na])),
    "out_b": nir.Output(output_type=np.array([nb])),
}
edges = [
    ("input", "fc_a"), ("fc_a", "a"), ("a", "fc_ab"), ("fc_ab", "b"), ("input", "fc_skip"), ("fc_skip", "b"),
    ("b", "fc_rec"), ("fc_rec", "b"), ("b", "fc_back"), ("fc_back", "d_back"), ("d_back", "a"),
    ("a", "out_a"), ("b", "out_b"),
]
g = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"sample_dt": 1e-3})
path = os.path.join(DATA, "skip_lif.nir")
nir.write(path, g)
out = subprocess.run([sys.executable, SIM, path, "--record-all", "--steps", "60", "--rate", "0.25"], check=True, capture_output=True,
                     text=True).stdout
with open(os.path.join(DATA, "skip_lif.all.json"), "w") as f:
    f.write(out)
d = json.loads(out)
print(d["delayed_edges"], {k: sum(map(sum, v)) for k, v in d["all_nodes"].items() if k in ("a", "b")})
