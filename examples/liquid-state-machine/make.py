#!/usr/bin/env python3
"""Builds the liquid-state-machine example (deterministic for --seed; standard
library only): network.json (the reservoir and its input population),
inputs.csv (the input spikes of every trial, for `nerve run --input`) and
trials.json (each trial's start and class, for readout.py and the test).

The task is a temporal XOR. Each trial holds two bursts, 20 ms each, 30 ms
apart, each on one of two groups of input channels (A or B); the class is 1
when the two bursts come from different groups (A then B, B then A), 0 when from
the same (A A, B B). Over background spikes on every channel. A linear readout of
the input's own spike counts (per channel and time bin) cannot solve it: XOR is
not linearly separable. The reservoir's neurons mix the bursts nonlinearly.
"""
import argparse, json, random, re

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--trials", type=int, default=400)
ap.add_argument("--train", type=int, default=300, help="the first TRAIN trials train the readout, the rest test it")
ap.add_argument("--channels", type=int, default=20, help="per input group")
ap.add_argument("--neurons", type=int, default=400)
ap.add_argument("--trial-ms", type=int, default=150)
ap.add_argument("--burst-hz", type=float, default=100.0)
ap.add_argument("--noise-hz", type=float, default=5.0)
ap.add_argument("--out", default=".")
a = ap.parse_args()
rng = random.Random(a.seed)

BURST_MS, GAP_MS = 20, 30           # burst 1 in [0, 20) ms, burst 2 in [30, 50) ms of a trial
n_in = 2 * a.channels
rows = []                           # (time ms, channel)
trials = []
# balanced classes: each of the 4 orders equally often, shuffled
orders = [(x, y) for x in (0, 1) for y in (0, 1)] * (a.trials // 4)
rng.shuffle(orders)
for k, (g1, g2) in enumerate(orders):
    t0 = k * a.trial_ms
    trials.append({"start_ms": t0, "first": "AB"[g1], "second": "AB"[g2], "label": int(g1 != g2)})
    for c in range(n_in):
        spikes = set()
        for g, b0 in ((g1, 0), (g2, GAP_MS)):
            if c // a.channels == g:
                for ms in range(BURST_MS):
                    if rng.random() < a.burst_hz / 1000.0:
                        spikes.add(t0 + b0 + ms)
        for ms in range(a.trial_ms):
            if rng.random() < a.noise_hz / 1000.0:
                spikes.add(t0 + ms)
        rows += [(t, c) for t in spikes]
rows.sort()
with open(f"{a.out}/inputs.csv", "w") as f:
    f.write("population,neuron,time\n")
    f.writelines(f"input,{c},{t}\n" for t, c in rows)

ne = a.neurons * 4 // 5
lif = {"tau_m": 20.0, "cm": 0.25, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
       "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": 10.0, "i_offset": 0.0}
def fp(p, seed):
    return {"type": "fixed_probability", "p": p, "seed": seed, "allow_self_connections": False}
net = {
    "name": "liquid-state-machine",
    "dt_ms": 1.0,
    "duration_ms": a.trials * a.trial_ms,
    "description": "A random recurrent LIF reservoir (80/20 exc/inh) driven by a temporal XOR of two input bursts (examples/liquid-state-machine)",
    "populations": [
        {"name": "input", "size": n_in, "model": "input"},
        {"name": "exc", "size": ne, "model": "lif", "params": lif,
         "initial": {"v": {"uniform": [-65.0, -55.0], "seed": a.seed + 1}}, "record": ["spikes"]},
        {"name": "inh", "size": a.neurons - ne, "model": "lif", "params": lif,
         "initial": {"v": {"uniform": [-65.0, -55.0], "seed": a.seed + 2}}, "record": ["spikes"]},
    ],
    "projections": [
        {"pre": "input", "post": "exc", "weight": 0.25, "connector": fp(0.2, a.seed + 10)},
        {"pre": "input", "post": "inh", "weight": 0.25, "connector": fp(0.2, a.seed + 11)},
        {"pre": "exc", "post": "exc", "weight": 0.05, "connector": fp(0.1, a.seed + 12)},
        {"pre": "exc", "post": "inh", "weight": 0.05, "connector": fp(0.1, a.seed + 13)},
        {"pre": "inh", "post": "exc", "receptor": "inhibitory", "weight": -0.2, "connector": fp(0.1, a.seed + 14)},
        {"pre": "inh", "post": "inh", "receptor": "inhibitory", "weight": -0.2, "connector": fp(0.1, a.seed + 15)},
    ],
}
text = json.dumps(net, indent=1)
text = re.sub(r"\{[^{}\[\]]*\}", lambda m: json.dumps(json.loads(m.group(0)), separators=(",", ":")), text)
open(f"{a.out}/network.json", "w").write(text + "\n")
json.dump({"trial_ms": a.trial_ms, "train": a.train, "channels": n_in, "neurons": {"exc": ne, "inh": a.neurons - ne},
           "trials": trials}, open(f"{a.out}/trials.json", "w"))
print(f"{a.out}/network.json: {a.neurons} LIF ({ne} exc), {n_in} input channels; {a.trials} trials "
      f"({a.train} train, {a.trials - a.train} test), {len(rows)} input spikes, {a.trials * a.trial_ms} ms")
