#!/usr/bin/env python3
"""The network of ../shared/peers/sanafe_peer.py, regenerated bit for bit, and
written for nerve (JSON network + from_list CSVs + placement CSV) and, on
request, built for SANA-FE from the same arrays.

    python network.py --n 4000 --mapping spread --out DIR      # needs numpy only
    python network.py --n 16000 --mapping pack --out DIR --arch-json DIR/loihi_sanafe.json

What sanafe_peer.py builds (build(), read from the script; defaults):
  * one neuron group "cuba" of N neurons; neuron i is excitatory iff
    i < n_exc = int(round(N * 0.8)).
  * RNG: rng = numpy.random.default_rng(seed=1); FIRST
        v0 = rng.uniform(0, threshold, size=N)            (threshold = 1000 units)
    THEN, for source blocks of `chunk = max(1, 2_000_000 // max(1, int(N*p)))`
    rows:  mask = rng.random((s1 - s0, N)) < p ; src, dst = np.nonzero(mask)
    (row-major order), src += s0, self-loops dropped.  We draw the same
    doubles in smaller row blocks (Generator.random fills sequentially, so
    the stream is identical; checked by `--selftest`).
  * SANA-FE units: potential unit = 10 uV, shifted so V_reset = 0:
        leak_decay  = exp(-dt/20 ms)            input_decay = exp(-dt/5 ms)
        bias        = (1-leak_decay)*(E_L - V_reset)/10uV   (E_L = -49, V_reset = -60 mV)
        threshold   = (V_th - V_reset)/10uV = 1000          reset = 0 (hard)
        w_exc       = (1-leak_decay)*1.62 mV/10uV
        w_inh       = (1-leak_decay)*(-9 mV)*(10/5)/10uV    (tau_i/tau_e folded in)
        refractory_delay = round(5 ms/dt) = 50
  * mapping: neuron i -> SANA-FE core i // per_core, per_core = ceil(N/128)
    (spread) or 1024 (pack); SANA-FE core k is core k%4 of tile k//4; tile t
    sits at x = t // 4, y = t % 4 of SANA-FE's 8 x 4 mesh (arch.cpp:78-88).

How it is written for nerve (model `lif`, PyNN IF_curr_exp, exact integration):
  SANA-FE's leaky_integrate_fire is Loihi's discrete CUBA recurrence in float:
      u <- u*input_decay + in ;  v <- v*leak_decay + bias + u ;  spike if v > thr
  nerve's `lif` kernel (compiler/src/models/lif.rs, lower_lif) per step:
      I <- I + in ;  v <- a*v + c0 + b*I ;  spike if v > v_thresh ;  I <- d*I
  which is the same recurrence with a = leak_decay (tau_m = 20 ms), d = input_decay
  (tau_syn_E = tau_syn_I = 5 ms: SANA-FE has ONE synaptic current), c0 - the
  v_rest term - equal to SANA-FE's bias when v_rest = E_L = -49 mV and
  v_reset = -60 mV, and weight_nA = w_units * 10uV / b, b = nerve's exact-
  integration factor (mV per nA per step) for the chosen cm.  The inhibitory
  weight keeps SANA-FE's x2 (tau_i/tau_e) scaling, so both see the same jumps.
  Initial v: SANA-FE does not leak on a neuron's first update (models.cpp:535),
  nerve does, so nerve's v(0) = V_reset + v0*10uV / leak_decay gives the same
  v after step 1.  Remaining differences are listed in MODEL.md.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

UNIT_MV = 0.01  # one SANA-FE potential unit = 10 uV (sanafe_peer.py)
TAU_M, TAU_E, TAU_I = 20.0, 5.0, 10.0
EL, VT, VR = -49.0, -50.0, -60.0
WE_MV, WI_MV = 1.62, -9.0
SANAFE_CORES = 128          # loihi.yaml: 32 tiles x 4 cores
SANAFE_CORES_PER_TILE = 4
SANAFE_MESH_H = 4           # loihi.yaml height (tile y); width 8 (tile x)
SANAFE_MESH_W = 8
MAX_PER_CORE = 1024
CM_NF = 0.2                 # any cm works (weights are scaled by 1/b); 0.2 nF as bench/cuba
ROW_BLOCK = 512             # rows of the connectivity matrix drawn at once here


def sanafe_params(N, dt=0.1, refractory_ms=5.0, frac_exc=0.8):
    """The numbers sanafe_peer.py's build() computes (same expressions, same order)."""
    leak_decay = math.exp(-dt / TAU_M)
    input_decay = math.exp(-dt / TAU_E)
    bias = (1.0 - leak_decay) * (EL - VR) / UNIT_MV
    threshold = (VT - VR) / UNIT_MV
    w_e = (1.0 - leak_decay) * WE_MV / UNIT_MV
    w_i = (1.0 - leak_decay) * WI_MV * (TAU_I / TAU_E) / UNIT_MV
    refractory = int(round(refractory_ms / dt))
    return dict(n_exc=int(round(N * frac_exc)), threshold=threshold, reset=0.0, reset_mode="hard",
                leak_decay=leak_decay, input_decay=input_decay, bias=bias,
                refractory_delay=refractory, w_exc=w_e, w_inh=w_i)


def generate(N, p=0.02, seed=1, dt=0.1, refractory_ms=5.0, frac_exc=0.8, row_block=ROW_BLOCK):
    """v0 (SANA-FE units) and the edge list (src, dst, int32, in SANA-FE's order)."""
    prm = sanafe_params(N, dt, refractory_ms, frac_exc)
    rng = np.random.default_rng(seed)
    v0 = rng.uniform(0.0, prm["threshold"], size=N)
    chunk = max(1, 2_000_000 // max(1, int(N * p)))   # the peer's block; only its size matters
    srcs, dsts = [], []
    for s0 in range(0, N, chunk):
        s1 = min(N, s0 + chunk)
        for r0 in range(s0, s1, row_block):           # same stream, smaller blocks
            r1 = min(s1, r0 + row_block)
            mask = rng.random((r1 - r0, N)) < p
            src, dst = np.nonzero(mask)
            src = src + r0
            keep = src != dst
            srcs.append(src[keep].astype(np.int32))
            dsts.append(dst[keep].astype(np.int32))
    src = np.concatenate(srcs) if srcs else np.zeros(0, np.int32)
    dst = np.concatenate(dsts) if dsts else np.zeros(0, np.int32)
    return dict(N=N, p=p, seed=seed, dt=dt, params=prm, v0=v0, src=src, dst=dst)


def per_core(N, mapping):
    if mapping == "pack":
        pc = MAX_PER_CORE
    elif mapping == "spread":
        pc = math.ceil(N / SANAFE_CORES)
    else:
        raise ValueError(mapping)
    if math.ceil(N / pc) > SANAFE_CORES or pc > MAX_PER_CORE:
        raise SystemExit(f"N={N} does not fit {SANAFE_CORES} cores x {MAX_PER_CORE}")
    return pc


def sanafe_tile_xy(sanafe_core):
    t = sanafe_core // SANAFE_CORES_PER_TILE
    return t // SANAFE_MESH_H, t % SANAFE_MESH_H   # arch.cpp calculate_tile_coordinates


def nerve_grid(arch_json_or_toml=None):
    """(grid width in tiles, grid height, cores per tile, tiles_per_chip) of a nerve profile."""
    if arch_json_or_toml is None:
        return SANAFE_MESH_W, SANAFE_MESH_H, SANAFE_CORES_PER_TILE, [SANAFE_MESH_W, SANAFE_MESH_H]
    if arch_json_or_toml.endswith(".json"):
        a = json.load(open(arch_json_or_toml))
    else:
        import tomllib
        a = tomllib.load(open(arch_json_or_toml, "rb"))
    t = a["topology"]
    return (t["tiles_per_chip"][0] * t["chips"][0], t["tiles_per_chip"][1] * t["chips"][1],
            t["cores_per_tile"], list(t["tiles_per_chip"]))


def nerve_core(sanafe_core, grid_w, cores_per_tile):
    """nerve core id at the same mesh position: x (E-W) and y (N-S) kept, so hop
    counts by direction are the same. nerve: tile = y*W + x, core = tile*cpt + local."""
    x, y = sanafe_tile_xy(sanafe_core)
    local = sanafe_core % SANAFE_CORES_PER_TILE
    return (y * grid_w + x) * cores_per_tile + local


def lif_b(dt, cm=CM_NF, tm=TAU_M, ts=TAU_E):
    """nerve's exact-integration factor: mV of membrane change over one step per nA
    of synaptic current at the step's start (compiler/src/models/lif.rs, lower_lif)."""
    return (1.0 / cm) * tm * ts / (ts - tm) * (math.exp(-dt / ts) - math.exp(-dt / tm))


def write_nerve(g, out, mapping, arch=None, name=None):
    """Writes out/net.json, out/exc.csv, out/inh.csv, out/place.csv; returns a dict of facts."""
    os.makedirs(out, exist_ok=True)
    N, dt, prm = g["N"], g["dt"], g["params"]
    n_exc = prm["n_exc"]
    b = lif_b(dt)
    w_e_na = prm["w_exc"] * UNIT_MV / b
    w_i_na = prm["w_inh"] * UNIT_MV / b
    src, dst = g["src"], g["dst"]
    exc = src < n_exc
    for fname, sel in (("exc.csv", exc), ("inh.csv", ~exc)):
        pairs = np.stack([src[sel], dst[sel]], axis=1)
        with open(os.path.join(out, fname), "w") as f:
            f.write("pre,post\n")
            # fast integer CSV: one formatted block per 1M rows
            for k in range(0, len(pairs), 1_000_000):
                blk = pairs[k:k + 1_000_000]
                f.write("\n".join(f"{a},{c}" for a, c in blk.tolist()))
                f.write("\n")
    v_init = (VR + g["v0"] * UNIT_MV / prm["leak_decay"]).tolist()
    lif = {"tau_m": TAU_M, "cm": CM_NF, "v_rest": EL, "v_reset": VR, "v_thresh": VT,
           "tau_refrac": prm["refractory_delay"] * dt, "tau_syn_E": TAU_E, "tau_syn_I": TAU_E,
           "i_offset": 0.0}
    net = {
        "name": name or f"sanafe_cuba_{N}", "dt_ms": dt,
        "description": ("sanafe_peer.py's CUBA-shaped network (seed %d, p %g) as SANA-FE runs it: one "
                        "synaptic current (tau 5 ms, inhibitory weight x2), Loihi-style recurrence; "
                        "bench/sanafe/network.py" % (g["seed"], g["p"])),
        "populations": [{"name": "cuba", "size": N, "model": "lif", "params": lif,
                         "initial": {"v": v_init}}],
        "projections": [
            {"pre": "cuba", "post": "cuba", "receptor": "excitatory",
             "connector": {"type": "from_list", "file": "exc.csv"}, "weight": w_e_na, "delay": dt,
             "label": "exc"},
            {"pre": "cuba", "post": "cuba", "receptor": "inhibitory",
             "connector": {"type": "from_list", "file": "inh.csv"}, "weight": w_i_na, "delay": dt,
             "label": "inh"},
        ],
    }
    with open(os.path.join(out, "net.json"), "w") as f:
        json.dump(net, f)
    pc = per_core(N, mapping)
    n_slices = math.ceil(N / pc)
    gw, gh, cpt, _ = nerve_grid(arch)
    if gw < SANAFE_MESH_W or gh < SANAFE_MESH_H or cpt != SANAFE_CORES_PER_TILE:
        raise SystemExit(f"nerve grid {gw}x{gh} tiles x {cpt} cores cannot hold SANA-FE's 8x4x4 layout")
    with open(os.path.join(out, "place.csv"), "w") as f:
        f.write("population,slice,core\n")
        for k in range(n_slices):
            f.write(f"cuba,{k},{nerve_core(k, gw, cpt)}\n")
    tiles = sorted({k // SANAFE_CORES_PER_TILE for k in range(n_slices)})
    facts = dict(N=N, n_exc=n_exc, edges=int(len(src)), exc_edges=int(exc.sum()), neurons_per_core=pc,
                 cores_used=n_slices, tiles_used=len(tiles), w_exc_nA=w_e_na, w_inh_nA=w_i_na,
                 b_mV_per_nA=b, cm_nF=CM_NF, sanafe=prm)
    with open(os.path.join(out, "facts.json"), "w") as f:
        json.dump(facts, f, indent=1)
    return facts


def build_sanafe(g, mapping, arch, synapse_unit="loihi_sparse_synapse"):
    """The same network as sanafe_peer.py's build(), from our arrays (for traces)."""
    import sanafe
    N, prm = g["N"], g["params"]
    params = dict(threshold=prm["threshold"], reset=0.0, reset_mode="hard",
                  leak_decay=prm["leak_decay"], input_decay=prm["input_decay"],
                  bias=prm["bias"], refractory_delay=prm["refractory_delay"])
    net = sanafe.Network()
    grp = net.create_neuron_group("cuba", N, model_attributes=params, soma_hw_name="loihi_lif",
                                  default_synapse_hw_name=synapse_unit,
                                  default_dendrite_hw_name="loihi_dendrites")
    neurons = grp.neurons
    for i in range(N):
        neurons[i].set_attributes(model_attributes={"potential": float(g["v0"][i])})
    src, dst = g["src"], g["dst"]
    step = 2_000_000
    for k in range(0, len(src), step):
        s, d = src[k:k + step], dst[k:k + step]
        w = np.where(s < prm["n_exc"], prm["w_exc"], prm["w_inh"])
        grp.connect_neurons_sparse(grp, {"weight": w.tolist()}, list(zip(s.tolist(), d.tolist())))
    cores = arch.cores()
    pc = per_core(N, mapping)
    for i in range(N):
        neurons[i].map_to_core(cores[i // pc])
    return net


def selftest():
    """Block-wise drawing gives the peer's exact stream (N small, several chunks)."""
    N, p = 700, 0.05
    rng = np.random.default_rng(3)
    v0 = rng.uniform(0.0, 1000.0, size=N)
    chunk = max(1, 2_000_000 // max(1, int(N * p)))
    chunk = 250  # force several peer chunks
    ref = []
    for s0 in range(0, N, chunk):
        s1 = min(N, s0 + chunk)
        m = rng.random((s1 - s0, N)) < p
        s, d = np.nonzero(m)
        s = s + s0
        k = s != d
        ref.append((s[k], d[k]))
    rng2 = np.random.default_rng(3)
    v0b = rng2.uniform(0.0, 1000.0, size=N)
    got = []
    for s0 in range(0, N, chunk):
        s1 = min(N, s0 + chunk)
        for r0 in range(s0, s1, 37):
            r1 = min(s1, r0 + 37)
            m = rng2.random((r1 - r0, N)) < p
            s, d = np.nonzero(m)
            s = s + r0
            k = s != d
            got.append((s[k], d[k]))
    a = (np.concatenate([x[0] for x in ref]), np.concatenate([x[1] for x in ref]))
    b = (np.concatenate([x[0] for x in got]), np.concatenate([x[1] for x in got]))
    assert np.array_equal(v0, v0b) and np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    print("selftest ok: block-wise draws reproduce the peer's stream")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--p", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dt-ms", type=float, default=0.1)
    ap.add_argument("--mapping", choices=["spread", "pack"], default="spread")
    ap.add_argument("--arch-json", default=None,
                    help="nerve profile (.json/.toml) whose grid the placement targets "
                         "(default: SANA-FE's one-chip 8 x 4 tiles x 4 cores)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        selftest()
        return
    if not a.out:
        sys.exit("--out DIR is required")
    g = generate(a.n, a.p, a.seed, a.dt_ms)
    facts = write_nerve(g, a.out, a.mapping, a.arch_json)
    print(json.dumps(facts, indent=1))


if __name__ == "__main__":
    main()
