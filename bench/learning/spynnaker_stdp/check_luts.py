"""(a) Check the model's LUTs / S1615 words / weight rounding against the installed
sPyNNaker 1!7.4.1 wheel functions (no simulator needed).
usage: bench/export/.venv/spynnaker/bin/python check_luts.py"""
import os, sys, random, math
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy
import model as m
from spynnaker.pyNN.models.neuron.plasticity.stdp.common import get_exp_lut_array
from spinn_front_end_common.interface.ds import DataType
random.seed(1)
taus = [1.0, 2.0, 3.3, 5.0, 7.5, 10.0, 12.0, 15.0, 16.8, 17.0, 20.0, 25.0, 30.0, 33.7,
        40.0, 50.0, 60.0, 80.0, 100.0, 150.0, 200.0, 1000.0]
taus += [round(random.uniform(1, 200), random.choice([0, 1, 2, 3])) for _ in range(400)]
n = bad = 0
for dt in (1.0, 0.1, 0.5, 0.25):
    for tau in taus:
        try:
            ref = [int(x) for x in get_exp_lut_array(dt, tau)]
        except OverflowError:
            print("wheel refuses (size > 65535):", dt, tau, m.exp_lut(dt, tau)[0]); continue
        mine = m.lut_words(m.exp_lut(dt, tau))
        n += 1
        if ref != mine:
            bad += 1
            print("LUT MISMATCH", dt, tau, len(ref), len(mine))
print(f"LUT tables compared: {n}, mismatches: {bad}")
# S1615
vals = [0.0, 0.01, 0.012, 0.0123, 0.0077, 0.005, 0.05, 0.1, 0.3, 0.5, 0.9, 1.0, 2.5, 4.0,
        1/3, 2/3, 0.00001, 1e-6, 0.0000152587890625, 3.0517578125e-05 * 1.5, 65535.5]
vals += [random.uniform(0, 10) for _ in range(20000)]
vals += [k / 65536 for k in range(0, 200000, 7)]   # exact ties of x*32768 (half LSB)
bad = 0
for v in vals:
    if DataType.S1615.encode_as_int(v) != m.s1615(v):
        bad += 1
        print("S1615 MISMATCH", v)
print(f"S1615 values compared: {len(vals)}, mismatches: {bad}")
# weight rounding (numpy.rint(|w|*scale).astype(uint16)) vs model
bad = 0
ws_list = [2.0 ** k for k in range(-1, 16)]
for _ in range(20000):
    ws = random.choice(ws_list)
    w = random.choice([random.uniform(0, 65535 / ws), (random.randint(0, 65534) + 0.5) / ws])
    ref = int(numpy.rint(numpy.abs(numpy.array([w])) * ws).astype(numpy.uint16)[0])
    if ref != (m.np_rint(abs(w) * ws) & 0xFFFF):
        bad += 1
print(f"weight rint compared: 20000, mismatches: {bad}")
