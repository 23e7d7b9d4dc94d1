#!/usr/bin/env python3
"""Writes the synthetic tactile input of the nir-braille example (deterministic for --seed).

NOT recorded data: the NIR paper's braille test set (ds_test.pt, 140 samples of the
tactile braille-reading dataset) could not be obtained here, so these are made-up
spike trains with the dataset's shape: 12 taxels, 256 steps per sample, one spike
per taxel and step at most, 7 classes (Space, A, E, I, O, U, Y).

Made-up geometry: braille dot d (1-6) presses taxels 2(d-1) and 2(d-1)+1; the
fingertip slides over the cell, so the left column (dots 1-3) is under it during
steps 40-119 and the right column (dots 4-6) during steps 120-199. A pressed taxel
fires with probability --p-dot per step; every taxel also fires with --p-noise.

    python3 make.py [--seed 1] [--per-class 5]

writes inputs/NN.csv (`population,neuron,time`, time = step x 0.1 ms: snnTorch's
export encodes dt = 1e-4 s, one data bin per model step) and samples.csv
(sample,letter,dots).
"""
import argparse
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
LETTERS = ["Space", "A", "E", "I", "O", "U", "Y"]  # the model's output order
DOTS = {"Space": [], "A": [1], "E": [1, 5], "I": [2, 4], "O": [1, 3, 5], "U": [1, 3, 6], "Y": [1, 3, 4, 5, 6]}
STEPS = 256
STEP_MS = 0.1

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--per-class", type=int, default=5)
ap.add_argument("--p-dot", type=float, default=0.25)
ap.add_argument("--p-noise", type=float, default=0.02)
a = ap.parse_args()
rng = random.Random(a.seed)

os.makedirs(os.path.join(HERE, "inputs"), exist_ok=True)
rows = []
n = 0
for rep in range(a.per_class):
    for letter in LETTERS:
        pressed = {}  # taxel -> window
        for d in DOTS[letter]:
            window = range(40, 120) if d <= 3 else range(120, 200)
            for tx in (2 * (d - 1), 2 * (d - 1) + 1):
                pressed[tx] = window
        name = f"{n:02d}"
        with open(os.path.join(HERE, "inputs", name + ".csv"), "w") as f:
            f.write("population,neuron,time\n")
            for step in range(STEPS):
                for tx in range(12):
                    p = a.p_dot if tx in pressed and step in pressed[tx] else a.p_noise
                    if rng.random() < p:
                        f.write(f"input,{tx},{step * STEP_MS:.1f}\n")
        rows.append(f"{name},{letter},{'-'.join(map(str, DOTS[letter])) or 'none'}")
        n += 1
with open(os.path.join(HERE, "samples.csv"), "w") as f:
    f.write("sample,letter,dots\n" + "\n".join(rows) + "\n")
