#!/usr/bin/env python3
"""A 1-million-neuron, ~100-million-synapse network for the compile-scale target:
ten LIF populations of 100,000 in a ring, each with a recurrent projection and one
to the next population, p = 0.0005 (≈ 50 + 50 synapses per neuron)."""
import argparse, json
ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("out", nargs="?", default="net_1m.json", help="where to write the network (default: net_1m.json)")
out = ap.parse_args().out
n, k, p = 100_000, 10, 0.0005
pops = [{"name": f"p{i}", "size": n, "model": "lif",
         "params": {"tau_m": 20.0, "cm": 0.2, "v_rest": -49.0, "v_reset": -60.0, "v_thresh": -50.0,
                    "tau_refrac": 5.0, "tau_syn_E": 5.0, "tau_syn_I": 10.0},
         "initial": {"v": {"uniform": [-60.0, -50.0], "seed": i}}} for i in range(k)]
projs = []
for i in range(k):
    for j, (post, rec) in enumerate([(i, "excitatory"), ((i + 1) % k, "excitatory")]):
        projs.append({"pre": f"p{i}", "post": f"p{post}", "receptor": rec,
                      "connector": {"type": "fixed_probability", "p": p, "seed": 100 * i + j},
                      "weight": 0.0162, "delay": 1.0})
json.dump({"name": "ring_1m", "dt_ms": 0.1, "populations": pops, "projections": projs}, open(out, "w"))
