#!/usr/bin/env python3
"""Builds network.json and the connection lists for the synfire example
(deterministic for --seed; standard library only).

A chain of --groups groups of --size LIF neurons; each neuron of group k+1 gets
synapses from --fan-in distinct neurons of group k (drawn at random), each with
its own delay drawn uniformly in [--delay-min, --delay-max] ms and rounded to
the 0.1 ms step. A pulse (--size spike sources, each firing once at 10 ms plus a
jitter uniform in [0, 1] ms) drives group 0 through the same kind of
connections. --const-delay D writes every delay as D instead (the control).
"""
import argparse, json, os, random, re

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--groups", type=int, default=10)
ap.add_argument("--size", type=int, default=100)
ap.add_argument("--fan-in", type=int, default=50)
ap.add_argument("--weight", type=float, default=1.4, help="nA per synapse")
ap.add_argument("--delay-min", type=float, default=1.0)
ap.add_argument("--delay-max", type=float, default=5.0)
ap.add_argument("--const-delay", type=float)
ap.add_argument("--out", default=".")
a = ap.parse_args()
rng = random.Random(a.seed)
os.makedirs(os.path.join(a.out, "connections"), exist_ok=True)

pulse = [round(10.0 + rng.uniform(0.0, 1.0), 1) for _ in range(a.size)]
names = ["pulse"] + [f"g{k}" for k in range(a.groups)]
projections = []
for k in range(a.groups):
    pre, post = names[k], names[k + 1]
    rows = []
    for j in range(a.size):
        for i in sorted(rng.sample(range(a.size), a.fan_in)):
            d = a.const_delay if a.const_delay is not None else rng.uniform(a.delay_min, a.delay_max)
            rows.append(f"{i},{j},{round(d, 1)}\n")
    path = f"connections/{pre}_{post}.csv"
    with open(os.path.join(a.out, path), "w") as f:
        f.write("pre,post,delay\n")
        f.writelines(rows)
    projections.append({"pre": pre, "post": post, "label": f"{pre}->{post}", "weight": a.weight,
                        "connector": {"type": "from_list", "file": path}})

lif = {"tau_m": 20.0, "cm": 1.0, "v_rest": -70.0, "v_reset": -70.0, "v_thresh": -55.0,
       "tau_refrac": 20.0, "tau_syn_E": 0.5, "tau_syn_I": 0.5, "i_offset": 0.0}
delays = f"constant {a.const_delay} ms" if a.const_delay is not None else f"uniform {a.delay_min}-{a.delay_max} ms per synapse"
net = {
    "name": "synfire",
    "dt_ms": 0.1,
    "duration_ms": 100.0,
    "description": f"Synfire chain: {a.groups} groups of {a.size} LIF, fan-in {a.fan_in} from the previous group, delays {delays} (examples/synfire)",
    "populations": [{"name": "pulse", "size": a.size, "model": "spike_source_array",
                     "spike_times": [[t] for t in pulse]}]
                   + [{"name": f"g{k}", "size": a.size, "model": "lif", "params": lif, "record": ["spikes"]}
                      for k in range(a.groups)],
    "projections": projections,
}
text = json.dumps(net, indent=1)
# lists and parameter objects on one line each: the file stays readable and small
text = re.sub(r"\[[-\d.,\s\[\]]*\]|\{[^{}\[\]]*\}", lambda m: json.dumps(json.loads(m.group(0)), separators=(",", ":")), text)
with open(os.path.join(a.out, "network.json"), "w") as f:
    f.write(text + "\n")
print(f"{a.out}/network.json: {a.groups} groups of {a.size}, fan-in {a.fan_in}, weight {a.weight} nA, delays {delays}")
