#!/usr/bin/env python3
"""Builds network.json for the stdp-pattern example (deterministic for --seed).

One spatial spike pattern (a fixed set of `active` of `inputs` source neurons firing
together, each with a little jitter) is presented `train` times while a teacher
spike makes the detector fire just after it: pair STDP potentiates the pattern's
synapses (pre before post) and depresses those of the background spikes that follow
a detector spike. The detector is an adaptive_lif neuron: its threshold rises on
each spike and relaxes (homeostasis), so it cannot run away as weights grow.
Then the teacher stops and the test presents the pattern and random patterns of
the same size, interleaved; schedule.json says which window held which, for
check.py (and the test in cli/tests/it/examples.rs).
"""
import argparse, json, random, re

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--inputs", type=int, default=100)
ap.add_argument("--active", type=int, default=20)
ap.add_argument("--train", type=int, default=100)
ap.add_argument("--test", type=int, default=100, help="pattern and random presentations each")
ap.add_argument("--period", type=int, default=100, help="ms between presentations")
ap.add_argument("--noise-hz", type=float, default=2.0)
ap.add_argument("--out", default="network.json")
ap.add_argument("--schedule", default="schedule.json")
a = ap.parse_args()
rng = random.Random(a.seed)

pattern = sorted(rng.sample(range(a.inputs), a.active))
spikes = [set() for _ in range(a.inputs)]
teacher = []
windows = []  # [start_ms, kind]

def present(t0, cells):
    for c in cells:
        spikes[c].add(t0 + rng.randint(0, 2))

t = a.period
for _ in range(a.train):
    present(t, pattern)
    teacher.append(t + 5)
    t += a.period
test_start = t
kinds = ["pattern"] * a.test + ["random"] * a.test
rng.shuffle(kinds)
for k in kinds:
    present(t, pattern if k == "pattern" else rng.sample(range(a.inputs), a.active))
    windows.append([t - test_start, k])
    t += a.period
duration = t
# background: each input fires as a Poisson process outside presentation windows
for c in range(a.inputs):
    s = 0.0
    while True:
        s += rng.expovariate(a.noise_hz / 1000.0)
        ms = int(s)
        if ms >= duration:
            break
        if ms % a.period > 15:
            spikes[c].add(ms)

w_max = 0.4
net = {
    "name": "stdp-pattern",
    "dt_ms": 1.0,
    "duration_ms": duration,
    "description": "Supervised pair STDP with an adaptive threshold learns one spatial spike pattern, then detects it (examples/stdp-pattern)",
    "populations": [
        {"name": "inputs", "size": a.inputs, "model": "spike_source_array",
         "spike_times": [sorted(s) for s in spikes]},
        {"name": "teacher", "size": 1, "model": "spike_source_array", "spike_times": [teacher]},
        {"name": "detector", "size": 1, "model": "adaptive_lif",
         "params": {"tau_m": 20.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
                    "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0,
                    "a_jump": 10.0, "tau_a": 20.0},
         "record": ["spikes"]},
    ],
    "projections": [
        {"pre": "teacher", "post": "detector", "label": "teach", "weight": 7.0,
         "connector": {"type": "all_to_all"}},
        {"pre": "inputs", "post": "detector", "label": "learn", "weight": 0.1,
         "connector": {"type": "all_to_all"},
         "plasticity": {"type": "stdp",
                        "timing_dependence": {"type": "spike_pair", "tau_plus": 20.0, "tau_minus": 20.0,
                                              "A_plus": 0.03, "A_minus": 0.036},
                        "weight_dependence": {"type": "additive", "w_min": 0.0, "w_max": w_max}}},
    ],
}
text = json.dumps(net, indent=1)
# lists of numbers on one line each: the file stays readable and small
text = re.sub(r"\[[-\d.,\s]*\]", lambda m: json.dumps(json.loads(m.group(0)), separators=(",", ":")), text)
open(a.out, "w").write(text + "\n")
json.dump({"pattern": pattern, "train_ms": test_start, "test_ms": duration - test_start,
           "window_ms": 15, "windows": windows},
          open(a.schedule, "w"), indent=None)
print(f"{a.out}: {a.inputs} inputs, pattern of {a.active}, {a.train} training and {2*a.test} test presentations, {duration} ms")
