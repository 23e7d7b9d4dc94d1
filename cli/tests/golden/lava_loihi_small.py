#!/usr/bin/env python3
"""loihi_lava: a lava-nc script exported by nerve (Loihi 2, bit-accurate fixed_pt models).

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
STEPS = 40  # the default run; spike sources cover this many steps
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loihi_small_data")

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
procs["src"] = source(10, [(0, 2), (0, 4), (0, 6), (1, 3), (2, 5), (2, 9), (3, 2), (4, 7), (5, 8), (6, 4), (7, 10), (8, 3), (8, 5), (9, 6)])
sinks["src"] = Sink(shape=(10,), buffer=T)
procs["src"].s_out.connect(sinks["src"].a_in)
procs["a"] = LIF(shape=(20,), du=400, dv=200, vth=30, bias_mant=10, bias_exp=2, u=5, v=100, name="a")
sinks["a"] = Sink(shape=(20,), buffer=T)
procs["a"].s_out.connect(sinks["a"].a_in)
procs["b"] = LIF(shape=(12,), du=4095, dv=100, vth=20, bias_mant=0, bias_exp=0, u=0, v=0, name="b")
sinks["b"] = Sink(shape=(12,), buffer=T)
procs["b"].s_out.connect(sinks["b"].a_in)

c = Dense(weights=np.array([[120, 0, 120, 0, 0, 0, 0, 120, 120, 0], [120, 120, 120, 0, 0, 0, 120, 120, 0, 0], [120, 120, 120, 0, 120, 0, 120, 0, 120, 120], [120, 120, 120, 120, 0, 120, 120, 0, 120, 120], [120, 120, 120, 120, 0, 0, 120, 120, 120, 120], [120, 120, 120, 120, 0, 120, 120, 120, 120, 120], [120, 0, 0, 0, 0, 0, 120, 0, 120, 0], [0, 120, 120, 0, 0, 0, 0, 120, 0, 120], [120, 0, 120, 0, 120, 120, 120, 120, 120, 0], [0, 0, 120, 120, 120, 0, 0, 120, 120, 120], [0, 120, 120, 0, 120, 120, 0, 120, 120, 0], [0, 120, 120, 0, 120, 120, 0, 0, 0, 120], [0, 120, 120, 120, 120, 120, 120, 120, 120, 120], [120, 120, 120, 120, 120, 120, 0, 0, 120, 120], [120, 0, 120, 0, 120, 0, 120, 120, 120, 120], [120, 120, 0, 120, 120, 120, 0, 120, 120, 120], [120, 120, 120, 120, 0, 120, 0, 0, 120, 120], [0, 0, 120, 120, 0, 0, 120, 120, 0, 0], [0, 0, 0, 0, 0, 120, 120, 0, 120, 120], [120, 120, 0, 120, 0, 0, 0, 120, 120, 120]], dtype=np.int64).reshape(20, 10), weight_exp=1, num_weight_bits=8, sign_mode=SignMode.EXCITATORY, name="src→a")
procs["src"].s_out.connect(c.s_in)
c.a_out.connect(procs["a"].a_in)
c = Dense(weights=np.array([[-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30], [-30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30, -30]], dtype=np.int64).reshape(12, 20), weight_exp=-1, num_weight_bits=6, sign_mode=SignMode.INHIBITORY, name="a→b")
procs["a"].s_out.connect(c.s_in)
c.a_out.connect(procs["b"].a_in)
c = DelaySparse(weights=sps.csr_matrix((np.array([50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50], dtype=np.int64), (np.array([8, 1, 18, 3, 6, 9, 18, 8, 18, 4, 9, 17, 4, 19, 1, 5, 7, 8, 9, 4, 8, 14, 2, 10, 14, 16, 17, 4, 6, 7, 15, 19, 9, 11, 3, 11, 0, 9, 10, 13, 18, 8, 11, 13, 19], dtype=np.int64), np.array([0, 1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8, 8, 8, 8, 8, 10, 10, 11, 12, 12, 12, 12, 12, 14, 14, 14, 14, 14, 15, 15, 16, 16, 17, 17, 17, 17, 17, 18, 18, 18, 18], dtype=np.int64))), shape=(20, 20)), delays=sps.csr_matrix((np.array([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], dtype=np.int64), (np.array([8, 1, 18, 3, 6, 9, 18, 8, 18, 4, 9, 17, 4, 19, 1, 5, 7, 8, 9, 4, 8, 14, 2, 10, 14, 16, 17, 4, 6, 7, 15, 19, 9, 11, 3, 11, 0, 9, 10, 13, 18, 8, 11, 13, 19], dtype=np.int64), np.array([0, 1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8, 8, 8, 8, 8, 10, 10, 11, 12, 12, 12, 12, 12, 14, 14, 14, 14, 14, 15, 15, 16, 16, 17, 17, 17, 17, 17, 18, 18, 18, 18], dtype=np.int64))), shape=(20, 20)), weight_exp=0, num_weight_bits=8, sign_mode=SignMode.EXCITATORY, name="a→a")
procs["a"].s_out.connect(c.s_in)
c.a_out.connect(procs["a"].a_in)
LEARNING = []

RECORDED = ["a", "b"]
# The spike file's label column (as `nerve run --record` writes it), or None.
LABELS = None
# Connected parts, each run on its own: a population to run it by, its recorded
# populations, its learning projections.
COMPONENTS = [
    ("src", ["a", "b"], []),
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
