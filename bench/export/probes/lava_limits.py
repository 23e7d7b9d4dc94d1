#!/usr/bin/env python3
"""What lava-nc 0.10.0 fixed_pt accepts: DelayDense delays >= 63, weights
out of 8-bit range. Input spike at t=1; prints the LIF spike step or error.
Each case runs in its own subprocess with a timeout, because an exception
inside a lava runtime process can leave the run hanging."""
import os
import signal
import subprocess
import sys

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import Dense, DelayDense
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.io.source import RingBuffer as Source
from lava.proc.lif.process import LIF
from lava.utils.weightutils import SignMode


def run_case(label, make_conn, T=120, vth=10):
    try:
        data = np.zeros((1, T), dtype=np.int32)
        data[0, 0] = 1
        src = Source(data=data)
        conn = make_conn()
        lif = LIF(shape=(1,), du=4095, dv=4095, vth=vth)
        sink = Sink(shape=(1,), buffer=T)
        src.s_out.connect(conn.s_in)
        conn.a_out.connect(lif.a_in)
        lif.s_out.connect(sink.a_in)
        lif.run(condition=RunSteps(num_steps=T),
                run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        spk = (np.nonzero(sink.data.get()[0])[0] + 1).tolist()
        u = None
        lif.stop()
        print(f"{label}: OK, LIF spikes at {spk}")
    except Exception as e:  # noqa: BLE001
        print(f"{label}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
        try:
            lif.stop()
        except Exception:  # noqa: BLE001
            pass


kw = dict(weight_exp=0, num_weight_bits=8, sign_mode=SignMode.MIXED)
CASES = []


def run(label, make_conn, T=120, vth=10):  # noqa: F811  (collect cases)
    CASES.append((label, make_conn, T, vth))


for d in (0, 1, 62, 63, 64, 100):
    run(f"DelayDense delay={d}",
        lambda d=d: DelayDense(weights=np.array([[200]]),
                               delays=np.array([[d]]), **kw))
run("DelayDense delays=int 5",
    lambda: DelayDense(weights=np.array([[200]]), delays=5, **kw))
run("DelayDense delay=1.5 (float array)",
    lambda: DelayDense(weights=np.array([[200]]),
                       delays=np.array([[1.5]]), **kw))
# weight range: mixed 8-bit = -256..254 effective (LSB dropped)
for wv, vth in ((255, 200), (300, 200), (300, 300), (1000, 300), (-300, 10)):
    run(f"Dense w={wv} vth={vth} (threshold {vth << 6})",
        lambda wv=wv: Dense(weights=np.array([[wv]]), **kw), T=5, vth=vth)
run("Dense float w=200.7",
    lambda: Dense(weights=np.array([[200.7]]), **kw), T=5)

if len(sys.argv) > 1:
    run_case(*CASES[int(sys.argv[1])])
else:
    for i, c in enumerate(CASES):
        # own process group, so a hung lava run and its workers can be
        # killed together
        p = subprocess.Popen([sys.executable, __file__, str(i)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=60)
            lines = [ln for ln in out.splitlines() if ln.strip()]
            print(lines[-1] if lines else f"{c[0]}: no output, rc="
                  f"{p.returncode} {err.strip().splitlines()[-1:]}",
                  flush=True)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            print(f"{c[0]}: HANGS (killed after 60 s)", flush=True)
