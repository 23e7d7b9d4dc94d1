#!/usr/bin/env python3
"""loihi_stdp: a lava-nc script exported by nerve (Loihi 2, bit-accurate fixed_pt models).

Runs the network and writes its spikes in nerve's CSV format (population,neuron,time
in ms; lava's step t is nerve's step t - 1), to compare with `nerve run --record`.

    python {script} [--steps N] [--out FILE]
"""
import argparse
import csv
import os

import numpy as np
import scipy.sparse as sps
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
from lava.proc.dense.process import DelayDense, Dense, LearningDense
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.io.source import RingBuffer as Source
from lava.proc.lif.process import LIF
from lava.proc.sparse.process import DelaySparse, Sparse
from lava.utils.weightutils import SignMode

DT = 1.0  # ms
STEPS = 60  # the default run; spike sources cover this many steps
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loihi_stdp_data")

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--steps", type=int, default=STEPS, help="timesteps to run (default %(default)s)")
ap.add_argument("--out", default="spikes.csv", help="spike file to write (default %(default)s)")
ap.add_argument("--weights", default="weights.csv", help="learned weights to write, if the network learns (default %(default)s)")
args = ap.parse_args()
if args.steps > STEPS and True:
    ap.error(f"the exported spike sources cover {STEPS} steps; export again with more --steps")
T = args.steps


def data(name):
    return np.load(os.path.join(DATA, name))


def fmt(t):
    # As nerve writes times: six decimals where DT is a whole number of us,
    # else 12 significant digits (0.0666666666667 ms at DT 1/30 ms).
    us = DT * 1e6
    if abs(us - round(us)) <= 1e-9 * max(us, 1.0):
        s = f"{t:.6f}".rstrip("0").rstrip(".")
        return s or "0"
    from decimal import Decimal
    s = format(Decimal(repr(float(f"{t:.11e}"))), "f")
    return (s.rstrip("0").rstrip(".") if "." in s else s) or "0"


def source(n, spikes):
    """A source replaying spikes given as (neuron, lava step) pairs."""
    s = np.zeros((n, max(T, STEPS)), dtype=np.int32)
    for i, k in spikes:
        if k <= s.shape[1]:
            s[i, k - 1] = 1
    return Source(data=s[:, :T])

procs = {}
sinks = {}
learning = {}  # label -> LearningDense
procs["pre"] = source(4, [(0, 6), (0, 7), (0, 8), (0, 9), (0, 15), (0, 18), (0, 20), (0, 31), (0, 47), (0, 48), (0, 49), (0, 52), (0, 59), (0, 60), (1, 3), (1, 10), (1, 13), (1, 25), (1, 29), (1, 34), (1, 39), (1, 40), (1, 41), (1, 46), (1, 48), (1, 49), (1, 51), (1, 52), (2, 1), (2, 10), (2, 11), (2, 14), (2, 22), (2, 24), (2, 26), (2, 33), (2, 35), (2, 42), (2, 43), (2, 47), (2, 56), (2, 60), (3, 14), (3, 18), (3, 22), (3, 24), (3, 26), (3, 39), (3, 44), (3, 45), (3, 46), (3, 47), (3, 50), (3, 52), (3, 53), (3, 58)])
sinks["pre"] = Sink(shape=(4,), buffer=T)
procs["pre"].s_out.connect(sinks["pre"].a_in)
procs["post"] = LIF(shape=(3,), du=3000, dv=300, vth=150, bias_mant=np.array([0, 0, 8]), bias_exp=0, u=0, v=0, name="post")
sinks["post"] = Sink(shape=(3,), buffer=T)
procs["post"].s_out.connect(sinks["post"].a_in)

c = LearningDense(weights=np.array([[84, 114, 48, 92], [40, 61, 22, 60], [83, 92, 44, 104]], dtype=np.int64).reshape(3, 4), learning_rule=Loihi2FLearningRule(dw="(1) * 2 ^ -2 * (-2) * x0 * y1 +(1) * 2 ^ -2 * (2) * y0 * x1", dd=None, dt=None, x1_impulse=16.0, x1_tau=10.0, x2_impulse=0.0, x2_tau=0.0, y1_impulse=16.0, y1_tau=10.0, y2_impulse=0.0, y2_tau=0.0, y3_impulse=0.0, y3_tau=0.0, t_epoch=1, rng_seed=3), weight_exp=0, num_weight_bits=8, sign_mode=SignMode.EXCITATORY, name="stdp")
procs["pre"].s_out.connect(c.s_in)
c.a_out.connect(procs["post"].a_in)
procs["post"].s_out.connect(c.s_in_bap)
learning["stdp"] = c
# Learning projections: (label, index among the network's projections).
LEARNING = [("stdp", 0)]

RECORDED = ["post"]
# The spike file's label column (as `nerve run --record` writes it), or None.
LABELS = None
# Connected parts, each run on its own: a population to run it by, its recorded
# populations, its learning projections.
COMPONENTS = [
    ("pre", ["post"], ["stdp"]),
]
got = {}
learned = {}
for name, recorded, learns in COMPONENTS:
    procs[name].run(condition=RunSteps(num_steps=T), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    for r in recorded:
        got[r] = sinks[r].data.get()
    for label in learns:
        learned[label] = np.asarray(learning[label].weights.get()).astype(np.int64)
    procs[name].stop()

# Spikes in nerve's order: step, population (network order), neuron.
rows = []
for k, name in enumerate(RECORDED):
    s = got[name]  # (neurons, T); column t - 1 is lava step t
    for i, col in zip(*np.nonzero(s)):
        rows.append((int(col), k, int(i), name))
rows.sort()
with open(args.out, "w", encoding="utf-8") as f:
    f.write("population,neuron,time\n" if LABELS is None else "population,neuron,time,label\n")
    for step, _, i, name in rows:
        label = "" if LABELS is None else "," + (LABELS[name][i] if name in LABELS else "")
        f.write(f"{name},{i},{fmt(step * DT)}{label}\n")
print(f"wrote {len(rows)} spikes to {args.out}")

# Learned weights as `nerve run --save-weights` writes them
# (projection,pre,post,weight,delay; the matrix is post x pre, delays one step).
if LEARNING:
    n = 0
    # csv quotes a label as nerve does (one with a comma, quote or line break).
    with open(args.weights, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["projection", "pre", "post", "weight", "delay"])
        for label, _ in LEARNING:
            w = learned[label]
            for pre in range(w.shape[1]):
                for post in range(w.shape[0]):
                    out.writerow([label, pre, post, int(w[post, pre]), fmt(DT)])
                    n += 1
    print(f"wrote {n} learned weights to {args.weights}")
