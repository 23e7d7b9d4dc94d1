"""Reference data for lava's default sign mode: `Dense` and `Sparse` given no
`sign_mode` take `determine_sign_mode(weights)` (lava/proc/dense/models.py):
excitatory when no weight is negative, inhibitory when none is positive,
mixed otherwise. Writes a golden file in the shape of
../shared/peers/lava_reference.py's (populations A, B, C; "sign_mode": null
on every connection) for cli/tests/it/lava_bitexact.rs.

    bench/export/.venv/lava/bin/python bench/lava/sign_default.py \
        --out emulator/tests/data/lava/golden_sign_default.json
"""
import argparse
import json
import sys

import numpy as np
import scipy.sparse as sps

T = 40


def network():
    rng = np.random.default_rng(46)
    pops = {
        # A fires on its bias alone, at several rates.
        "A": dict(n=6, du=410, dv=200, vth=300, bias_mant=[90, 110, 130, 150, 170, 190], bias_exp=[6] * 6),
        "B": dict(n=5, du=300, dv=150, vth=1500, bias_mant=[0] * 5, bias_exp=[0] * 5),
        "C": dict(n=4, du=500, dv=250, vth=30, bias_mant=[60] * 4, bias_exp=[5] * 4),
    }
    for p in pops.values():
        p["u0"] = [0] * p["n"]
        p["v0"] = [0] * p["n"]
    # Odd weights: `mixed` clears the last bit, `excitatory` keeps it.
    pos = rng.integers(0, 128, size=(5, 6)) * 2 + 1
    pos[0, 0] = 255
    pos[1, 1] = 0
    neg = -(rng.integers(0, 128, size=(4, 6)) * 2 + 1)
    neg[2, 3] = -255
    mixed = rng.integers(-127, 128, size=(4, 5)) * 2 + 1
    zero = np.zeros((4, 5), dtype=int)
    pos_sparse = np.where(rng.random((4, 6)) < 0.5, rng.integers(1, 256, size=(4, 6)), 0)
    conns = [
        dict(name="pos", pre="A", post="B", kind="dense", weights=pos.tolist(), weight_exp=0, num_weight_bits=8),
        dict(name="neg", pre="A", post="C", kind="dense", weights=neg.tolist(), weight_exp=1, num_weight_bits=7),
        dict(name="mixed", pre="B", post="C", kind="dense", weights=mixed.tolist(), weight_exp=0, num_weight_bits=8),
        dict(name="zero", pre="B", post="C", kind="dense", weights=zero.tolist(), weight_exp=0, num_weight_bits=8),
    ]
    r, c = np.nonzero(pos_sparse)
    conns.append(dict(name="pos_sparse", pre="A", post="C", kind="sparse", post_idx=r.tolist(), pre_idx=c.tolist(),
                      weight=pos_sparse[r, c].tolist(), shape=[4, 6], weight_exp=-1, num_weight_bits=5))
    for x in conns:
        x["sign_mode"] = None
    return dict(steps=T, populations=pops, connections=conns)


def run(net):
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.sparse.process import Sparse

    procs, sinks, keep = {}, {}, []
    for name, p in net["populations"].items():
        procs[name] = LIF(shape=(p["n"],), du=p["du"], dv=p["dv"], vth=p["vth"], bias_mant=np.array(p["bias_mant"]),
                          bias_exp=np.array(p["bias_exp"]), u=np.array(p["u0"]), v=np.array(p["v0"]), name=name)
        sinks[name] = RingBuffer(shape=(p["n"],), buffer=T)
        procs[name].s_out.connect(sinks[name].a_in)
    for c in net["connections"]:
        # No sign_mode: lava's default is what this file records.
        kw = dict(weight_exp=c["weight_exp"], num_weight_bits=c["num_weight_bits"], name=c["name"])
        if c["kind"] == "dense":
            proc = Dense(weights=np.array(c["weights"]), **kw)
        else:
            proc = Sparse(weights=sps.csr_matrix((c["weight"], (c["post_idx"], c["pre_idx"])), shape=tuple(c["shape"])), **kw)
        procs[c["pre"]].s_out.connect(proc.s_in)
        proc.a_out.connect(procs[c["post"]].a_in)
        keep.append(proc)
    cfg = Loihi2SimCfg(select_tag="fixed_pt")
    first = procs["A"]
    tu = {n: [] for n in procs}
    tv = {n: [] for n in procs}
    try:
        for _ in range(T):
            first.run(condition=RunSteps(num_steps=1), run_cfg=cfg)
            for n in procs:
                tu[n].append(procs[n].u.get().astype(np.int64).tolist())
                tv[n].append(procs[n].v.get().astype(np.int64).tolist())
        out = {}
        for n in procs:
            data = sinks[n].data.get().astype(np.int64)
            out[n] = dict(spikes=[(np.nonzero(row)[0] + 1).tolist() for row in data], u_final=tu[n][-1], v_final=tv[n][-1],
                          trace_u=tu[n], trace_v=tv[n])
    finally:
        first.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    import lava

    net = network()
    res = run(net)
    doc = dict(generator="bench/lava/sign_default.py, lava-nc %s, Loihi2SimCfg(select_tag='fixed_pt'), no sign_mode given"
               % getattr(lava, "__version__", "0.10.0"), python=sys.version.split()[0], numpy=np.__version__,
               network=net, results=res)
    with open(a.out, "w") as f:
        json.dump(doc, f)
    spikes = {n: sum(len(s) for s in r["spikes"]) for n, r in res.items()}
    print(f"wrote {a.out}: spikes {spikes}")


if __name__ == "__main__":
    main()
