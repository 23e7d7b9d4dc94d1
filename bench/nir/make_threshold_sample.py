#!/usr/bin/env python3
"""Writes compiler/tests/data/nir/stateful_threshold.nir: stateful NIR nodes
followed by Threshold (I → Threshold, LI → Threshold, CubaLI → Threshold, and an
LI that is both thresholded and read out), the compositions that are one spiking
neuron without reset; then its reference outputs (stateful_threshold.all.json)
with ../shared/peers/nir_reference_sim.py.

    bench/nir/.venv/bin/python bench/nir/make_threshold_sample.py
"""
import os
import subprocess
import sys

import numpy as np
import nir

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "compiler/tests/data/nir")
SIM = os.path.join(ROOT, "../shared/peers/nir_reference_sim.py")

rng = np.random.default_rng(7)
n_in, n = 12, 6
f32 = np.float32


def w(scale):
    return (rng.normal(0.05, 0.6, size=(n, n_in)) * scale).astype(f32)


nodes = {
    "input": nir.Input(input_type=np.array([n_in])),
    "fc_i": nir.Linear(weight=w(1.0)),
    "integ": nir.I(r=np.full(n, 40.0, dtype=f32)),
    "th_i": nir.Threshold(threshold=np.full(n, 0.3, dtype=f32)),
    "fc_li": nir.Linear(weight=w(1.0)),
    "leaky": nir.LI(tau=np.full(n, 0.01, dtype=f32), r=np.full(n, 12.0, dtype=f32), v_leak=np.zeros(n, dtype=f32)),
    "th_li": nir.Threshold(threshold=np.linspace(0.2, 0.7, n).astype(f32)),
    "fc_cuba": nir.Affine(weight=w(1.0), bias=np.full(n, 0.1, dtype=f32)),
    "cuba": nir.CubaLI(tau_syn=np.full(n, 0.005, dtype=f32), tau_mem=np.full(n, 0.02, dtype=f32), r=np.full(n, 15.0, dtype=f32),
                       v_leak=np.zeros(n, dtype=f32), w_in=np.full(n, 3.0, dtype=f32)),
    "th_cuba": nir.Threshold(threshold=np.full(n, 0.4, dtype=f32)),
    "out_i": nir.Output(output_type=np.array([n])),
    "out_li": nir.Output(output_type=np.array([n])),
    "out_li_v": nir.Output(output_type=np.array([n])),
    "out_cuba": nir.Output(output_type=np.array([n])),
}
edges = [
    ("input", "fc_i"), ("fc_i", "integ"), ("integ", "th_i"), ("th_i", "out_i"),
    ("input", "fc_li"), ("fc_li", "leaky"), ("leaky", "th_li"), ("th_li", "out_li"), ("leaky", "out_li_v"),
    ("input", "fc_cuba"), ("fc_cuba", "cuba"), ("cuba", "th_cuba"), ("th_cuba", "out_cuba"),
]
g = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"sample_dt": 1e-3})
path = os.path.join(DATA, "stateful_threshold.nir")
nir.write(path, g)
out = subprocess.run([sys.executable, SIM, path, "--record-all", "--steps", "60"], check=True, capture_output=True, text=True).stdout
with open(os.path.join(DATA, "stateful_threshold.all.json"), "w") as f:
    f.write(out)
import json
d = json.loads(out)
print({k: sum(map(sum, v)) for k, v in d["all_nodes"].items() if k.startswith("th_")})
