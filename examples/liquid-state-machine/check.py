#!/usr/bin/env python3
"""Self-check of the liquid-state-machine example: the readout on the reservoir
must reach >= 75% test accuracy (chance 50%) and beat the readout on the input
alone by >= 15 points (README.md says why).

    python3 check.py spikes.csv [inputs.csv [trials.json]]
"""
import json, sys
import readout as R

MIN_ACC, MIN_GAIN = 0.75, 0.15
spikes = sys.argv[1] if len(sys.argv) > 1 else "spikes.csv"
inputs = sys.argv[2] if len(sys.argv) > 2 else "inputs.csv"
trials = json.load(open(sys.argv[3] if len(sys.argv) > 3 else "trials.json"))
n = trials["neurons"]
res = R.accuracy(R.states(spikes, trials, [("exc", n["exc"]), ("inh", n["inh"])]), trials)
inp = R.accuracy(R.states(inputs, trials, [("input", trials["channels"])]), trials)
ntest = len(trials["trials"]) - trials["train"]
print(f"readout on the reservoir: train {100*res[0]:.1f}%, test {100*res[1]:.1f}% of {ntest} trials")
print(f"readout on the input alone: train {100*inp[0]:.1f}%, test {100*inp[1]:.1f}% (chance 50%)")
ok = res[1] >= MIN_ACC and res[1] - inp[1] >= MIN_GAIN
print("PASS" if ok else f"FAIL (needs reservoir test accuracy >= {100*MIN_ACC:.0f}% and >= {100*MIN_GAIN:.0f} points above the input alone)")
sys.exit(0 if ok else 1)
