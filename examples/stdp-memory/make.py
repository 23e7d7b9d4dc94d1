#!/usr/bin/env python3
"""Builds network.json for the stdp-memory example (deterministic for --seed).

A content-addressable memory in the spirit of the hippocampal memories built on
SpiNNaker: `cues` cues (each a group of source neurons firing together) and a
layer of `content` neurons, joined all to all by a pair-STDP projection.
- learn: a cue fires, then a teacher makes its content (a few content neurons)
  fire 5 ms later: pre before post, the cue's synapses onto that content grow;
- recall: the cue alone makes its content fire, and nothing else;
- forget: the content fires 5 ms *before* its cue (post before pre), 
  which pair STDP depresses: the cue recalls nothing any more;
- relearn: the forgotten cue learns new content, and recalls it.
schedule.json lists every recall window with the content expected, for
check.py (and the test in cli/tests/it/examples.rs).
"""
import argparse, json, random, re

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--cues", type=int, default=3)
ap.add_argument("--cue-size", type=int, default=5)
ap.add_argument("--content", type=int, default=16)
ap.add_argument("--content-size", type=int, default=4)
ap.add_argument("--repeats", type=int, default=20, help="presentations per learning or forgetting")
ap.add_argument("--recalls", type=int, default=4, help="recalls of each cue per test")
ap.add_argument("--period", type=int, default=100, help="ms between presentations")
ap.add_argument("--out", default="network.json")
ap.add_argument("--schedule", default="schedule.json")
a = ap.parse_args()
rng = random.Random(a.seed)

def content():
    return sorted(rng.sample(range(a.content), a.content_size))

memory = [content() for _ in range(a.cues)]
cue_spikes = [[] for _ in range(a.cues * a.cue_size)]
teach_spikes = [[] for _ in range(a.content)]
windows = []  # {"start_ms", "cue", "expect", "phase"}
t = a.period

def fire_cue(c, at):
    for i in range(a.cue_size):
        cue_spikes[c * a.cue_size + i].append(at)

def fire_content(cells, at):
    for n in cells:
        teach_spikes[n].append(at)

def learn(c, cells):
    global t
    for _ in range(a.repeats):
        fire_cue(c, t)
        fire_content(cells, t + 5)
        t += a.period

def forget(c, cells):
    global t
    for _ in range(a.repeats):
        fire_content(cells, t)
        fire_cue(c, t + 5)
        t += a.period

def recall(phase, expect):
    global t
    for _ in range(a.recalls):
        for c in range(a.cues):
            fire_cue(c, t)
            windows.append({"start_ms": t, "cue": c, "expect": expect[c], "phase": phase})
            t += a.period

recall("before learning", [[] for _ in range(a.cues)])
for c in range(a.cues):
    learn(c, memory[c])
recall("after learning", memory)
forget(1, memory[1])
recall("after forgetting cue 1", [memory[0], [], *memory[2:]])
new = content()
learn(1, new)
recall("after relearning cue 1", [memory[0], new, *memory[2:]])
duration = t

net = {
    "name": "stdp-memory",
    "dt_ms": 1.0,
    "duration_ms": duration,
    "description": "A content-addressable memory that learns, forgets and recalls by pair STDP (examples/stdp-memory)",
    "populations": [
        {"name": "cues", "size": a.cues * a.cue_size, "model": "spike_source_array", "spike_times": cue_spikes},
        {"name": "teacher", "size": a.content, "model": "spike_source_array", "spike_times": teach_spikes},
        {"name": "content", "size": a.content, "model": "adaptive_lif",
         "params": {"tau_m": 20.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
                    "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0,
                    "a_jump": 10.0, "tau_a": 20.0},
         "record": ["spikes"]},
    ],
    "projections": [
        {"pre": "teacher", "post": "content", "label": "teach", "weight": 7.0,
         "connector": {"type": "one_to_one"}},
        {"pre": "cues", "post": "content", "label": "memory", "weight": 0.1,
         "connector": {"type": "all_to_all"},
         "plasticity": {"type": "stdp",
                        "timing_dependence": {"type": "spike_pair", "tau_plus": 20.0, "tau_minus": 20.0,
                                              "A_plus": 0.1, "A_minus": 0.12},
                        "weight_dependence": {"type": "additive", "w_min": 0.0, "w_max": 1.5}}},
    ],
}
text = json.dumps(net, indent=1)
# lists of numbers on one line each: the file stays readable and small
text = re.sub(r"\[[-\d.,\s]*\]", lambda m: json.dumps(json.loads(m.group(0)), separators=(",", ":")), text)
open(a.out, "w").write(text + "\n")
json.dump({"memory": memory, "relearnt": new, "window_ms": 20, "duration_ms": duration, "windows": windows},
          open(a.schedule, "w"), indent=None)
print(f"{a.out}: {a.cues} cues of {a.cue_size}, {a.content} content neurons, {len(windows)} recalls, {duration} ms")
