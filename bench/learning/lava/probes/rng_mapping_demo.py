"""Show how the numpy PCG64 draws map onto lava's stochastic rounding, using
the lava output of case b_stdploihi (t_epoch=1, rng_seed=3, x1/y1 tau 10,
impulse 16).  Checks every step of every pre trace x1 and post trace y1
against:  x(t) = floor(p) + (r_dec[2t] < frac(p)),  p = exp(-1/10)*x(t-1),
then +16 if the neuron spiked at t (impulse has no fraction -> no draw
matters), clipped to [0,127].
usage: bench/export/.venv/lava/bin/python probes/rng_mapping_demo.py   (needs numpy;
log: rng_mapping_demo.out)"""
import json, math, os, sys
import numpy as np
LAVA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/learning/lava
DATA = os.path.join(LAVA, "..", "..", "..", "cli", "tests", "data", "lava_learning")
d = json.load(open(os.path.join(DATA, "b_stdploihi.json")))
seed = d['case']['rule']['rng_seed']
T = d['case']['T']
gx = np.random.default_rng(seed); gy = np.random.default_rng(seed + 2)
rx = [gx.random(1)[0] for _ in range(2 * T + 1)]
ry = [gy.random(1)[0] for _ in range(2 * T + 1)]
print("x decay draws (seed %d), index 0..6:" % seed, [round(v, 6) for v in rx[:7]])
print("y decay draws (seed %d), index 0..6:" % (seed + 2), [round(v, 6) for v in ry[:7]])
prev_x = [0] * d['case']['n_pre']; prev_y = [0] * d['case']['n_post']
ok = True; shown = 0
for rec in d['steps']:
    t = rec['t']
    for kind, prev, rr, spk, cur in (("x1", prev_x, rx, rec['pre_spikes'], rec['x1']),
                                     ("y1", prev_y, ry, rec['post_spikes'], rec['y1'])):
        for i, old in enumerate(prev):
            p = math.exp(-1 / 10) * old
            fl, fr = math.floor(p), p % 1
            new = fl + (rr[2 * t] < fr)
            if i in spk:
                new = min(127, new + 16)
            if new != cur[i]:
                ok = False
            if shown < 12 and old > 0 and kind == "x1" and i == 0:
                print(f"t={t:2d} {kind}[{i}] {old:3d} * e^-0.1 = {p:8.4f} frac={fr:.4f} "
                      f"r=draw[{2*t}]={rr[2*t]:.4f} -> {'up' if rr[2*t] < fr else 'down'}"
                      f"{' +16 (spike)' if i in spk else ''} = {new} (lava {cur[i]})")
                shown += 1
        prev[:] = cur
print("all x1/y1 steps explained:", ok)
