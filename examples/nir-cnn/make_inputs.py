#!/usr/bin/env python3
"""Turns the N-MNIST recordings in data/ into nerve spike files (standard library only).

Each data/NNNNN.bs2 is one N-MNIST recording in the dataset's own binary format:
5 bytes per event, x (8 bits), y (8 bits), polarity (1 bit), timestamp (23 bits, µs).
The NIR paper fed the Sinabs CNN 1 ms event frames (tonic's ToFrame, time_window
1000 µs, counted from the first event), one frame per model step; the model's Input
node has shape (2, 34, 34), so neuron = polarity·34·34 + y·34 + x (C order).
A nerve input is a spike, not a count: events of one pixel and polarity within the
same 1 ms bin give one spike (0.1% of the events of these samples).
Sinabs' dt is one step per unit (nerve detects dt 1 s), so step k is at k·1000 ms.

    python3 make_inputs.py [--out inputs] [--first N]

writes OUT/NNNNN.csv (`population,neuron,time`) for the samples of data/labels.csv.
"""
import argparse
import csv
import os

HERE = os.path.dirname(os.path.abspath(__file__))
STEP_MS = 1000.0  # dt 1 s: one step per unit, as Sinabs' IF layers count


def events(path):
    b = open(path, "rb").read()
    assert len(b) % 5 == 0, path
    for i in range(0, len(b), 5):
        x, y, p = b[i], b[i + 1], b[i + 2] >> 7
        t = ((b[i + 2] & 0x7F) << 16) | (b[i + 3] << 8) | b[i + 4]
        yield x, y, p, t


def spikes(path):
    """Sorted (step, neuron) pairs, one per 1 ms bin, pixel and polarity."""
    ev = list(events(path))
    t0 = ev[0][3]
    return sorted({((t - t0) // 1000, p * 34 * 34 + y * 34 + x) for x, y, p, t in ev})


def samples():
    return [(r["sample"], int(r["label"])) for r in csv.DictReader(open(os.path.join(HERE, "data", "labels.csv")))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "inputs"))
    ap.add_argument("--first", type=int, default=None, help="only the first N samples")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name, _ in samples()[: a.first]:
        with open(os.path.join(a.out, name + ".csv"), "w") as f:
            f.write("population,neuron,time\n")
            for step, n in spikes(os.path.join(HERE, "data", name + ".bs2")):
                f.write(f"input,{n},{step * STEP_MS:g}\n")


if __name__ == "__main__":
    main()
