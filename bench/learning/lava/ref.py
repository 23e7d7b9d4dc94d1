#!/usr/bin/env python3
"""Reference generator: lava-nc 0.10.0 fixed-point learning (LearningDense
with PyLearningDenseModelBitApproximate, LIF with PyLifModelBitAcc, selected
by Loihi2SimCfg(select_tag="fixed_pt")).

Network:  RingBuffer(spike raster) -> LearningDense(W, weight_exp,
num_weight_bits, sign_mode, learning rule) -> LIF(du, dv, vth, bias);
LIF.s_out -> LearningDense.s_in_bap (2-factor rules).
For Loihi3FLearningRule cases the post population is `Ref3FLIF`, a copy of
lava's own fixed-point test neuron (tests/lava/proc/dense/test_stdp_sim.py,
RSTDPLIFBitAcc): it computes y1 = floor(y1*exp(-1/tau) + impulse*s(t-1)),
y2 = a_third_factor_in (reward: RingBuffer -> Dense(diag(weight)) -> port),
y3 = 0, and sends s_out_bap, s_out_y1..3 to the LearningDense.
(lava 0.10.0's library LearningLIF model, PyLearningLIFModelFixed, sends
nothing on those ports; see the spec.)

The run is stepped with run(RunSteps(1)) and after every step the Vars are
read with .get(): weights, tag_1, tag_2, x1, x2, y1, y2, y3, tx, ty of the
LearningDense and u, v of the LIF; spikes come from a sink RingBuffer.

Every case is also run through model.py (an independent pure-Python
implementation of SPEC.md) and compared value by value.

Usage (the Python 3.10 venv of bench/export/setup.sh: lava-nc 0.10.0, numpy<2),
from the repository root:
    L=bench/export/.venv/lava/bin/python
    $L bench/learning/lava/ref.py --all
    $L bench/learning/lava/ref.py --case b_stdploihi --out /tmp/lava_ref
    $L bench/learning/lava/ref.py --config my.json
    $L bench/learning/lava/ref.py --all --update-test-data
Output: OUT/<case>.json, OUT defaulting to a scratch directory
(<tmp>/nerve-learning/lava).  Each output is compared with the committed
cli/tests/data/lava_learning/<case>.json if there is one.  Only
--update-test-data writes the committed files.

Keep this directory free of scripts with side effects at import: lava's
ProcessModel discovery imports every .py file in the directory of the module
that defines a Process (here Ref3FLIF, i.e. this directory; see SPEC.md, last
section).  model.py and pcg64_pure.py only define things; the probes live in
probes/, which lava does not scan.
"""
import argparse
import copy
import json
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TEST_DATA = os.path.join(REPO, "cli", "tests", "data", "lava_learning")
DEFAULT_OUT = os.path.join(tempfile.gettempdir(), "nerve-learning", "lava")

from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402
from lava.magma.core.learning.learning_rule import (  # noqa: E402
    Loihi2FLearningRule, Loihi3FLearningRule)
from lava.magma.core.model.py.neuron import LearningNeuronModelFixed  # noqa
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa
from lava.magma.core.model.py.ports import PyOutPort  # noqa: E402
from lava.magma.core.model.py.type import LavaPyType  # noqa: E402
from lava.magma.core.resources import CPU  # noqa: E402
from lava.magma.core.decorator import implements, requires, tag  # noqa: E402
from lava.proc.dense.process import LearningDense, Dense  # noqa: E402
from lava.proc.lif.process import LIF, LearningLIF  # noqa: E402
from lava.proc.lif.models import AbstractPyLifModelFixed  # noqa: E402
from lava.proc.io.source import RingBuffer as SpikeIn  # noqa: E402
from lava.proc.io.sink import RingBuffer as SpikeOut  # noqa: E402
from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi  # noqa
from lava.utils.weightutils import SignMode  # noqa: E402

SIGN = {"mixed": SignMode.MIXED, "excitatory": SignMode.EXCITATORY,
        "inhibitory": SignMode.INHIBITORY}


# --------------------------------------------------------------------------
# Third-factor post neuron (copy of lava's RSTDPLIFBitAcc test model, with
# the post-trace tau/impulse taken from process parameters).
# --------------------------------------------------------------------------
class Ref3FLIF(LearningLIF):
    def __init__(self, *, post_y1_tau, post_y1_impulse, **kwargs):
        super().__init__(post_y1_tau=post_y1_tau,
                         post_y1_impulse=post_y1_impulse, **kwargs)


@implements(proc=Ref3FLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class Ref3FLIFModel(LearningNeuronModelFixed, AbstractPyLifModelFixed):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.effective_vth = 0
        self.s_out_buff = np.zeros(proc_params["shape"])
        self.y1_tau = proc_params["post_y1_tau"]
        self.y1_impulse = proc_params["post_y1_impulse"]

    def scale_threshold(self):
        self.effective_vth = np.left_shift(self.vth, self.vth_shift)
        self.isthrscaled = True

    def spiking_activation(self):
        return self.v > self.effective_vth

    def run_spk(self) -> None:
        # y1 uses the spike vector of the PREVIOUS step (s_out_buff is
        # overwritten by super().run_spk()).
        self.y1 = np.floor(self.y1 * np.exp(-1 / self.y1_tau)
                           + self.y1_impulse * self.s_out_buff)
        super().run_spk()
        self.y2 = self.a_third_factor_in.recv()
        self.s_out_bap.send(self.s_out_buff)
        self.s_out_y1.send(self.y1)
        self.s_out_y2.send(self.y2)
        self.s_out_y3.send(self.y3)


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------
def _raster(n, T, times):
    r = np.zeros((n, T), dtype=int)
    for i, ts in enumerate(times):
        for t in ts:
            r[i, t - 1] = 1
    return r


def _stdploihi_rule_dict(**kw):
    """Build lava's STDPLoihi and export it as a plain rule dict (so the
    exact strings lava generates are what we test)."""
    lr = STDPLoihi(**kw)
    d = {"type": "loihi", "dw": lr.dw_str, "dd": lr.dd_str, "dt": lr.dt_str,
         "t_epoch": lr.t_epoch, "rng_seed": lr.rng_seed}
    for n in ("x1", "x2", "y1", "y2", "y3"):
        d[f"{n}_impulse"] = float(getattr(lr, f"{n}_impulse"))
        d[f"{n}_tau"] = float(getattr(lr, f"{n}_tau"))
    return d


def builtin_cases():
    rng = np.random.default_rng(1234)
    cases = {}

    # (a) pairwise STDP, integer impulse 16, tau = 0 (trace lives one step),
    #     scale 2^-2 -> dw = +-4 exactly: no stochastic rounding anywhere.
    T = 40
    cases["a_pairwise_int"] = dict(
        T=T, n_pre=3, n_post=2,
        pre_spikes=[[2, 5, 9, 14, 20, 27, 33], [3, 4, 10, 16, 22, 30],
                    [1, 7, 8, 15, 23, 31, 38]],
        weights=[[40, 60, 20], [80, -10, 100]],
        weight_exp=0, num_weight_bits=8, sign_mode="mixed",
        rule=dict(type="loihi", dw="2^-2*x1*y0 - 2^-3*y1*x0",
                  x1_impulse=16, x1_tau=0, y1_impulse=16, y1_tau=0,
                  t_epoch=1, rng_seed=3),
        lif=dict(du=4095, dv=0, vth=30, bias_mant=[0, 0], bias_exp=[0, 0]))

    # (a2) same, t_epoch = 4, one-step memory -> only coincident spikes count
    c = copy.deepcopy(cases["a_pairwise_int"])
    c["rule"]["t_epoch"] = 4
    c["rule"]["dw"] = "2^-2*x1*y0 - 2^-3*y1*x0 + 2^-3*u0*x1"
    cases["a2_pairwise_int_epoch4"] = c

    # (b) lava's STDPLoihi, tau 10 -> stochastic decay rounding, t_epoch 1
    T = 60
    pre = [sorted(set(rng.choice(np.arange(1, T + 1), 14, replace=False)
                      .tolist())) for _ in range(4)]
    cases["b_stdploihi"] = dict(
        T=T, n_pre=4, n_post=3, pre_spikes=pre,
        weights=rng.integers(10, 120, (3, 4)).tolist(),
        weight_exp=0, num_weight_bits=8, sign_mode="excitatory",
        rule=_stdploihi_rule_dict(learning_rate=0.25, A_plus=2, A_minus=-2,
                                  tau_plus=10, tau_minus=10, t_epoch=1,
                                  rng_seed=3),
        lif=dict(du=3000, dv=300, vth=150, bias_mant=[0, 0, 8],
                 bias_exp=[0, 0, 0]))

    # (b2) STDP with fractional impulses, fractional scale (stochastic dw
    #      rounding), t_epoch 3 (multi-spikes within an epoch), weight_exp,
    #      num_weight_bits 6, mixed sign
    T = 60
    pre = [sorted(set(rng.choice(np.arange(1, T + 1), 22, replace=False)
                      .tolist())) for _ in range(3)]
    cases["b2_stdp_frac_epoch3"] = dict(
        T=T, n_pre=3, n_post=2, pre_spikes=pre,
        weights=[[37, -90, 101], [-3, 66, 7]],
        weight_exp=1, num_weight_bits=6, sign_mode="mixed",
        rule=dict(type="loihi",
                  dw="3*2^-5*x1*y0 - 5*2^-6*y1*x0",
                  x1_impulse=10.3, x1_tau=7, y1_impulse=12.75, y1_tau=12,
                  t_epoch=3, rng_seed=11),
        lif=dict(du=2000, dv=500, vth=25, bias_mant=[20, 0],
                 bias_exp=[1, 0]))

    # (c) x2/y2/y3, dd, dt, sgn, bracket constants, u1 decimation
    T = 60
    pre = [sorted(set(rng.choice(np.arange(1, T + 1), 20, replace=False)
                      .tolist())) for _ in range(3)]
    cases["c_x2y2y3_tags"] = dict(
        T=T, n_pre=3, n_post=3, pre_spikes=pre,
        weights=[[50, -20, 90], [-60, 110, 5], [10, 30, -100]],
        weight_exp=0, num_weight_bits=8, sign_mode="mixed",
        rule=dict(type="loihi",
                  dw="2^-6*x1*y0*y2 - 2^-3*y1*x0 + 2^-7*x2*y3*y0"
                     " - u1*sgn(w)*2^-1",
                  dd="2*x0*y2 - u1*d*2^-1 + y0*sgn(w+16)*x1*2^-2",
                  dt="x0*(y1+3)*2^-3 - 3*y0*x2*2^-4 - u1*(t-8)*2^-2"
                     " + x0*w*2^-3",
                  x1_impulse=16, x1_tau=8,
                  x2_impulse=20.5, x2_tau=5,
                  y1_impulse=14, y1_tau=10,
                  y2_impulse=8.25, y2_tau=20,
                  y3_impulse=12, y3_tau=40,
                  t_epoch=2, rng_seed=7),
        lif=dict(du=3500, dv=400, vth=60, bias_mant=[4, 0, 2],
                 bias_exp=[0, 0, 1]))

    # (e) inhibitory sign mode, weight_exp -1, num_weight_bits 5, t_epoch 2,
    #     post driven by bias; dw pushes weights towards 0 and below
    T = 60
    pre = [sorted(set(rng.choice(np.arange(1, T + 1), 18, replace=False)
                      .tolist())) for _ in range(3)]
    cases["e_inhibitory"] = dict(
        T=T, n_pre=3, n_post=2, pre_spikes=pre,
        weights=[[-40, -200, -8], [-120, -77, -250]],
        weight_exp=-1, num_weight_bits=5, sign_mode="inhibitory",
        rule=dict(type="loihi",
                  dw="5*2^-4*x1*y0 - 3*2^-3*y1*x0 + u0*x1*2^-4",
                  x1_impulse=24.6, x1_tau=6, y1_impulse=30, y1_tau=9,
                  t_epoch=2, rng_seed=21),
        lif=dict(du=3800, dv=600, vth=40, bias_mant=[2500, 2000],
                 bias_exp=[0, 0]))

    # (d) Loihi3FLearningRule: R-STDP strings as RewardModulatedSTDP
    #     (learning_rate 1, A_plus 4, A_minus -2, eligibility tau 0.5)
    T = 80
    pre = [sorted(set(rng.choice(np.arange(1, T + 1), 30, replace=False)
                      .tolist())) for _ in range(2)]
    cases["d_loihi3f_reward"] = dict(
        T=T, n_pre=2, n_post=2, pre_spikes=pre,
        weights=[[30, 60], [90, 10]],
        weight_exp=0, num_weight_bits=8, sign_mode="mixed",
        rule=dict(type="loihi3f",
                  dw="u0 * t * y2",
                  dt="(1) * (-2) * x0 * y1 + (1) * (4) * y0 * x1 - "
                     "u0 * t * (1) * 2 ^ -1",
                  x1_impulse=16, x1_tau=10, t_epoch=1, rng_seed=0),
        lif=dict(du=3000, dv=200, vth=60, bias_mant=[20, 12],
                 bias_exp=[0, 0]),
        reward=dict(weight=3, spikes=[list(range(25, 35)),
                                      list(range(50, 56))],
                    y1_tau=10, y1_impulse=16))

    # (f) homeostasis as a rule term: pair STDP plus synaptic scaling, a
    #     depression proportional to the weight at each post spike
    #     (-2^-4*y0*w), which pulls every weight of a busy neuron down
    T = 80
    pre = [sorted(set(rng.choice(np.arange(1, T + 1), 24, replace=False)
                      .tolist())) for _ in range(4)]
    cases["f_synaptic_scaling"] = dict(
        T=T, n_pre=4, n_post=2, pre_spikes=pre,
        weights=[[60, 110, 35, 90], [120, 20, 75, 100]],
        weight_exp=0, num_weight_bits=8, sign_mode="excitatory",
        rule=dict(type="loihi",
                  dw="2^-2*x1*y0 - 2^-3*y1*x0 - 2^-4*y0*w",
                  x1_impulse=16, x1_tau=10, y1_impulse=16, y1_tau=10,
                  t_epoch=1, rng_seed=5),
        lif=dict(du=3000, dv=400, vth=90, bias_mant=[6, 0],
                 bias_exp=[0, 0]))
    # (g) bracket constants near the int32 limit: lava's weights are int32,
    #     so (w + c) wraps before it is clipped (a positive w plus a huge
    #     constant gives the factor's smallest value); tags are int64 and
    #     their sums clip without wrapping
    T = 12
    cases["g_int32_brackets"] = dict(
        T=T, n_pre=5, n_post=1, pre_spikes=[[1, 3, 7], [1, 3, 7], [2, 5, 11], [1, 3, 7], [4, 9]],
        weights=[[100, -100, 0, 255, -256]],
        weight_exp=0, num_weight_bits=8, sign_mode="mixed",
        rule=dict(type="loihi",
                  dw="u0*2^-7*(w+2147483600) + u0*sgn(w-2147483600)*2^1",
                  dd="u0*(d+2147483647)*2^-4 - x0*sgn(w+2147483000)",
                  dt="u0*sgn(t-2147483647)*2^2 + u0*(w-2147483000)*2^-6",
                  t_epoch=1, rng_seed=3),
        lif=dict(du=0, dv=0, vth=100000, bias_mant=[0], bias_exp=[0]))
    return cases


# --------------------------------------------------------------------------
# lava run
# --------------------------------------------------------------------------
def make_rule(r):
    if r.get("type", "loihi") == "loihi3f":
        return Loihi3FLearningRule(
            dw=r.get("dw"), dd=r.get("dd"), dt=r.get("dt"),
            x1_impulse=r.get("x1_impulse", 0), x1_tau=r.get("x1_tau", 0),
            x2_impulse=r.get("x2_impulse", 0), x2_tau=r.get("x2_tau", 0),
            t_epoch=r.get("t_epoch", 1), rng_seed=r["rng_seed"])
    return Loihi2FLearningRule(
        dw=r.get("dw"), dd=r.get("dd"), dt=r.get("dt"),
        x1_impulse=r.get("x1_impulse", 0), x1_tau=r.get("x1_tau", 0),
        x2_impulse=r.get("x2_impulse", 0), x2_tau=r.get("x2_tau", 0),
        y1_impulse=r.get("y1_impulse", 0), y1_tau=r.get("y1_tau", 0),
        y2_impulse=r.get("y2_impulse", 0), y2_tau=r.get("y2_tau", 0),
        y3_impulse=r.get("y3_impulse", 0), y3_tau=r.get("y3_tau", 0),
        t_epoch=r.get("t_epoch", 1), rng_seed=r["rng_seed"])


def run_lava(case, per_step=True):
    T, n_pre, n_post = case["T"], case["n_pre"], case["n_post"]
    rule = make_rule(case["rule"])
    three_f = isinstance(rule, Loihi3FLearningRule)
    lifp = case["lif"]

    src = SpikeIn(data=_raster(n_pre, T, case["pre_spikes"]))
    dense = LearningDense(weights=np.array(case["weights"], dtype=float),
                          weight_exp=case.get("weight_exp", 0),
                          num_weight_bits=case.get("num_weight_bits", 8),
                          sign_mode=SIGN[case.get("sign_mode", "mixed")],
                          learning_rule=rule)
    common = dict(shape=(n_post,), du=lifp["du"], dv=lifp["dv"],
                  vth=lifp["vth"], bias_mant=np.array(lifp["bias_mant"]),
                  bias_exp=np.array(lifp["bias_exp"]))
    exc = {}
    if three_f:
        rw = case["reward"]
        post = Ref3FLIF(post_y1_tau=rw["y1_tau"],
                        post_y1_impulse=rw["y1_impulse"],
                        learning_rule=rule, **common)
        rsrc = SpikeIn(data=_raster(n_post, T, rw["spikes"]))
        rconn = Dense(weights=np.eye(n_post) * rw["weight"])
        rsrc.s_out.connect(rconn.s_in)
        rconn.a_out.connect(post.a_third_factor_in)
        post.s_out_bap.connect(dense.s_in_bap)
        post.s_out_y1.connect(dense.s_in_y1)
        post.s_out_y2.connect(dense.s_in_y2)
        post.s_out_y3.connect(dense.s_in_y3)
        exc = {Ref3FLIF: Ref3FLIFModel}
    else:
        post = LIF(**common)
        post.s_out.connect(dense.s_in_bap)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(post.a_in)
    sink = SpikeOut(shape=(n_post,), buffer=T)
    post.s_out.connect(sink.a_in)

    cfg = Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map=exc)
    recs = []
    try:
        if per_step:
            for t in range(1, T + 1):
                post.run(condition=RunSteps(num_steps=1), run_cfg=cfg)
                g = lambda var: np.asarray(var.get()).astype(np.int64)
                recs.append(dict(
                    t=t,
                    u=g(post.u).tolist(), v=g(post.v).tolist(),
                    weights=g(dense.weights).tolist(),
                    tag_1=g(dense.tag_1).tolist(),
                    tag_2=g(dense.tag_2).tolist(),
                    x1=g(dense.x1).tolist(), x2=g(dense.x2).tolist(),
                    y1=g(dense.y1).tolist(), y2=g(dense.y2).tolist(),
                    y3=g(dense.y3).tolist(),
                    tx=g(dense.tx).tolist(), ty=g(dense.ty).tolist()))
        else:
            post.run(condition=RunSteps(num_steps=T), run_cfg=cfg)
        spikes = np.asarray(sink.data.get()).astype(int)
        final_w = np.asarray(dense.weights.get()).astype(int).tolist()
    finally:
        post.stop()
    pre_r = _raster(n_pre, T, case["pre_spikes"])
    for r in recs:
        t = r["t"]
        r["pre_spikes"] = np.nonzero(pre_r[:, t - 1])[0].tolist()
        r["post_spikes"] = np.nonzero(spikes[:, t - 1])[0].tolist()
    return recs, final_w, spikes


def rng_table(seed, n=8):
    g = [np.random.default_rng(s) for s in (seed, seed + 1, seed + 2,
                                           seed + 3, 2)]
    return {
        "note": "index k = value after k advances; the Dense advances the "
                "trace generators twice per step, so the epoch learning at "
                "step t uses index 2t; post multi-spike impulses at step t "
                "use y impulse index 2t-1; conn-var index = number of "
                "learning epochs so far (1 at the first)",
        f"x_decay_random(seed={seed})": [float(g[0].random(1)[0])
                                         for _ in range(n)],
        f"x_impulse_int7(seed={seed + 1})": [
            int(g[1].integers(0, 128, size=1, dtype=int)[0])
            for _ in range(n)],
        f"y_decay_random(seed={seed + 2})": [float(g[2].random(1)[0])
                                             for _ in range(n)],
        f"y_impulse_int7(seed={seed + 3})": [
            int(g[3].integers(0, 128, size=1, dtype=int)[0])
            for _ in range(n)],
        "connvar_random(seed=2, fixed)": [float(g[4].random(1)[0])
                                          for _ in range(n)],
    }


def compare(lava_recs, model_recs):
    keys = ["post_spikes", "u", "v", "weights", "tag_1", "tag_2", "x1",
            "x2", "y1", "y2", "y3", "tx", "ty"]
    mism = []
    for a, b in zip(lava_recs, model_recs):
        for k in keys:
            if a[k] != b[k]:
                mism.append(dict(t=a["t"], key=k, lava=a[k], model=b[k]))
    return mism


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--config", help="JSON file with one case (same keys "
                                     "as the built-in cases)")
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="output directory (default %(default)s)")
    ap.add_argument("--update-test-data", action="store_true",
                    help="write to cli/tests/data/lava_learning/ (the committed "
                         "files) instead of --out")
    ap.add_argument("--no-model", action="store_true")
    args = ap.parse_args()
    if args.update_test_data:
        args.out = TEST_DATA

    cases = builtin_cases()
    todo = {}
    if args.config:
        with open(args.config) as f:
            c = json.load(f)
        todo[c.get("name", os.path.splitext(os.path.basename(
            args.config))[0])] = c
    if args.all:
        todo.update(cases)
    for n in args.case:
        todo[n] = cases[n]
    if not todo:
        ap.error("nothing to do (--all, --case, --config)")
    os.makedirs(args.out, exist_ok=True)

    from model import simulate
    summary = {}
    for name, case in todo.items():
        t0 = time.time()
        recs, final_w, _ = run_lava(case)
        out = dict(name=name, lava_version="0.10.0",
                   model="PyLearningDenseModelBitApproximate + "
                         "PyLifModelBitAcc (Loihi2SimCfg fixed_pt)",
                   case=case, steps=recs, final_weights=final_w,
                   rng_draws=rng_table(case["rule"]["rng_seed"]))
        if not args.no_model:
            mrecs = simulate(case)
            mism = compare(recs, mrecs)
            out["independent_model_match"] = not mism
            out["mismatches"] = mism[:20]
            summary[name] = "MATCH" if not mism else \
                f"{len(mism)} mismatches, first t={mism[0]['t']} " \
                f"{mism[0]['key']}"
        else:
            summary[name] = "written"
        path = os.path.join(args.out, f"{name}.json")
        with open(path, "w") as f:
            json.dump(out, f, indent=1)
        committed = os.path.join(TEST_DATA, f"{name}.json")
        vs = ""
        if os.path.abspath(path) != os.path.abspath(committed) and \
                os.path.exists(committed):
            with open(path, "rb") as f1, open(committed, "rb") as f2:
                b1, b2 = f1.read(), f2.read()
            same = b1 == b2 or json.loads(b1) == json.loads(b2)
            vs = ("; identical to the committed file" + (
                  "" if b1 == b2 else " (as data)")) if same else \
                "; DIFFERS from the committed file"
            if not same:
                summary[name] = "differs from committed"
        print(f"{name}: {summary[name]}  ({time.time() - t0:.1f}s) -> "
              f"{path}{vs}", flush=True)
    return 0 if all(v in ("MATCH", "written") for v in summary.values()) \
        else 1


if __name__ == "__main__":
    sys.exit(main())
