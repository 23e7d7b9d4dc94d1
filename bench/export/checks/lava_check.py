#!/usr/bin/env python3
"""Smoke check for the `lava` venv: lava-nc 0.10.0, CPU, fixed-point models.

One input spike (RingBuffer source) drives three LIF neurons through Dense,
Sparse and DelayDense (delay 2) under Loihi2SimCfg(select_tag="fixed_pt").
Spikes are read back through a RingBuffer sink (lava.proc.io.sink) and a
Monitor; prints the selected process models and the spike timesteps.
"""
import numpy as np
import scipy.sparse as sps

from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import Dense, DelayDense
from lava.proc.io.sink import RingBuffer as SinkRingBuffer
from lava.proc.io.source import RingBuffer as SourceRingBuffer
from lava.proc.lif.process import LIF
from lava.proc.monitor.process import Monitor
from lava.proc.sparse.process import Sparse
from lava.utils.weightutils import SignMode

T = 12
n_in = 2
# Source RingBuffer: data shape (n_in, T), last axis = time. At lava timestep
# t (1-based) it sends data[:, (t - 1) % T]; binary spikes as 0/1 ints
# (fixed_pt model: int32). Input neuron 0 spikes at t = 3.
data = np.zeros((n_in, T), dtype=np.int32)
data[0, 2] = 1
src = SourceRingBuffer(data=data)

kw = dict(weight_exp=0, num_weight_bits=8, sign_mode=SignMode.MIXED)
w = np.array([[200, 0]])                      # shape (n_post, n_pre)
dense = Dense(weights=w, **kw)
sparse = Sparse(weights=sps.csr_matrix(w), **kw)
delay = DelayDense(weights=w, delays=np.array([[2, 0]]), **kw)  # 0..62 steps

# du = 4095: u is cleared every step; vth = 10 -> threshold 10 << 6 = 640;
# one spike through w = 200 (mixed: 200 << 6 = 12800) fires at once.
lifs = []
for conn, name in ((dense, "dense"), (sparse, "sparse"), (delay, "delaydense")):
    lif = LIF(shape=(1,), du=4095, dv=0, vth=10, bias_mant=0, bias_exp=0,
              name=name)
    src.s_out.connect(conn.s_in)
    conn.a_out.connect(lif.a_in)
    lifs.append(lif)

sinks = []
for lif in lifs:
    sink = SinkRingBuffer(shape=(1,), buffer=T)
    lif.s_out.connect(sink.a_in)
    sinks.append(sink)
mon = Monitor()
mon.probe(target=lifs[0].s_out, num_steps=T)

cfg = Loihi2SimCfg(select_tag="fixed_pt")
lifs[0].run(condition=RunSteps(num_steps=T), run_cfg=cfg)
try:
    out = {}
    for lif, sink in zip(lifs, sinks):
        d = sink.data.get().astype(int)           # shape (1, T)
        out[lif.name] = (np.nonzero(d[0])[0] + 1).tolist()
    mdata = mon.get_data()    # {proc_name: {port_name: array (T, n)}}
    mon_spikes = (np.nonzero(mdata[lifs[0].name]["s_out"][:, 0])[0]
                  + 1).tolist()
    models = {p.name: getattr(p.model_class, "__name__", "?")
              for p in [src, dense, sparse, delay, lifs[0], sinks[0], mon]}
finally:
    lifs[0].stop()

print("selected models:", models)
print("input spike at t=3; LIF spike steps:", out, "monitor(dense):",
      mon_spikes)
assert out == {"dense": [4], "sparse": [4], "delaydense": [6]}, out
assert mon_spikes == [4], mon_spikes
print("lava check ok")
