#!/usr/bin/env python3
"""Re-implements SANA-FE's leaky_integrate_fire soma (models.cpp:449-575) and its
one-step spike delivery in numpy, on network.py's network, to check

  A. that our reading of SANA-FE's dynamics is right: the spike count must
     equal SANA-FE's own (sanafe_peer.py: N=4000, T=1000 -> 2758);
  B. how much of nerve's spike-count difference comes from the one modelling
     difference that nerve's `lif` cannot remove: SANA-FE drops synaptic input
     that arrives during the refractory period, nerve (like Brian2) integrates
     it into the synaptic current (v is held either way).

    /tmp/sanafe-venv/bin/python dynamics_check.py --n 4000 --t 1000
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import network  # noqa: E402


def simulate(g, T, drop_refractory_input=True, quantize=True):
    p = g["params"]
    N = g["N"]
    alpha, beta, bias, thr = p["leak_decay"], p["input_decay"], p["bias"], p["threshold"]
    src, dst = g["src"], g["dst"]
    w = np.where(src < p["n_exc"], p["w_exc"], p["w_inh"])
    indptr = np.searchsorted(src, np.arange(N + 1))
    v = g["v0"].astype(np.float64).copy()
    u = np.zeros(N)
    cnt = np.zeros(N, dtype=np.int64)
    buf = np.zeros(N)
    per_step = []
    sets = []
    for t in range(1, T + 1):
        if t > 1:                      # no leak on a compartment's first update (models.cpp:535-540)
            u *= beta
            v *= alpha
        if quantize:                   # loihi_quantize: truncate to 1/64 (models.cpp:455-463)
            v = np.trunc(v * 64.0) / 64.0
        nr = cnt == 0
        v[nr] += bias
        if drop_refractory_input:
            u[nr] += buf[nr]
        else:
            u += buf
        v[nr] += u[nr]
        fired = nr & (v > thr)         # strict '>' (models.cpp:469)
        v[fired] = 0.0                 # hard reset to 0
        cnt[fired] = p["refractory_delay"]
        cnt = np.maximum(0, cnt - 1)   # decremented in the same update (models.cpp:570)
        buf = np.zeros(N)
        for i in np.flatnonzero(fired):
            a, b = indptr[i], indptr[i + 1]
            np.add.at(buf, dst[a:b], w[a:b])
        per_step.append(int(fired.sum()))
        sets.append(set(np.flatnonzero(fired).tolist()))
    return per_step, sets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--t", type=int, default=1000)
    ap.add_argument("--nerve-spikes", default=None, help="nerve run --record-all --record F.csv of the same network")
    a = ap.parse_args()
    g = network.generate(a.n)
    A, As = simulate(g, a.t, drop_refractory_input=True)
    B, Bs = simulate(g, a.t, drop_refractory_input=False)
    C, _ = simulate(g, a.t, drop_refractory_input=False, quantize=False)
    out = dict(N=a.n, T=a.t, sanafe_semantics_spikes=sum(A), nerve_semantics_spikes=sum(B),
               nerve_semantics_no_quantize_spikes=sum(C),
               first_steps_sanafe=A[:12], first_steps_nerve_semantics=B[:12])
    if a.nerve_spikes:
        # nerve --record CSV: population,neuron,time (ms); nerve's step s (time s*dt) is SANA-FE's timestep s+1
        ns = [set() for _ in range(a.t)]
        with open(a.nerve_spikes) as f:
            next(f)
            for line in f:
                _, n, tm = line.strip().split(",")
                s_ = int(round(float(tm) / g["dt"]))
                if s_ < a.t:
                    ns[s_].add(int(n))
        out["nerve_spikes"] = sum(len(x) for x in ns)

        def first_diff(x, y):
            for k in range(a.t):
                if x[k] != y[k]:
                    return k + 1
            return None
        out["first_differing_timestep_nerve_vs_sanafe_semantics"] = first_diff(ns, As)
        out["first_differing_timestep_nerve_vs_nerve_semantics_float"] = first_diff(ns, Bs)
        out["first_differing_timestep_sanafe_vs_nerve_semantics_float"] = first_diff(As, Bs)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
