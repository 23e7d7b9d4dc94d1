#!/usr/bin/env python3
"""Writes the CUBA benchmark network in nerve's JSON format, with the exact
connectivity, initial voltages and parameters the peers (cuba_peers.py) use.

    python make_network.py --from-json ../../../shared/data/cuba/cuba_4000.json --out DIR
    python make_network.py --N 16000 --out DIR        # needs numpy; regenerates with
                                                      # cuba_peers.gen_network (same seed rule)

Mapping of Brian2's CUBA (voltage-unit currents ge, gi) onto PyNN's IF_curr_exp:
with cm = 0.2 nF and tau_m = 20 ms, a current I (nA) moves v like ge = I·tau_m/cm,
so a jump of w mV in ge is a weight of w·cm/tau_m nA (1.62 mV → 0.0162 nA,
−9 mV → −0.09 nA). Brian2 applies a spike of step t to ge at t, seen by v at t+1:
nerve's one-step delay does exactly that. Refractory 5 ms = 50 steps with Brian2's
rule (integrate again at s + 50).
"""
import argparse
import json
import os
import sys


def write(out, N, NE, v0, indptr, indices, params, dt):
    os.makedirs(out, exist_ok=True)
    cm, taum = 0.2, params["taum_ms"]
    we = params["we_mV"] * cm / taum
    wi = params["wi_mV"] * cm / taum
    files = {}
    for pre in ("exc", "inh"):
        for post in ("exc", "inh"):
            files[(pre, post)] = open(os.path.join(out, f"{pre}_{post}.csv"), "w")
            files[(pre, post)].write("pre,post\n")
    for i in range(N):
        pre, pi = ("exc", i) if i < NE else ("inh", i - NE)
        f_e, f_i = files[(pre, "exc")], files[(pre, "inh")]
        for j in indices[indptr[i]:indptr[i + 1]]:
            j = int(j)
            if j < NE:
                f_e.write(f"{pi},{j}\n")
            else:
                f_i.write(f"{pi},{j - NE}\n")
    for f in files.values():
        f.close()
    lif = {"tau_m": taum, "cm": cm, "v_rest": params["El_mV"], "v_reset": params["Vr_mV"],
           "v_thresh": params["Vt_mV"], "tau_refrac": params["tref_ms"],
           "tau_syn_E": params["taue_ms"], "tau_syn_I": params["taui_ms"], "i_offset": 0.0}
    net = {
        "name": f"cuba_{N}", "dt_ms": dt,
        "description": "CUBA (Brette et al. 2007 benchmark 2), identical to cuba_peers.py's network",
        "populations": [
            {"name": "exc", "size": NE, "model": "lif", "params": lif,
             "initial": {"v": [float(x) for x in v0[:NE]]}, "record": ["spikes"]},
            {"name": "inh", "size": N - NE, "model": "lif", "params": lif,
             "initial": {"v": [float(x) for x in v0[NE:]]}, "record": ["spikes"]},
        ],
        "projections": [
            {"pre": pre, "post": post, "receptor": "excitatory" if pre == "exc" else "inhibitory",
             "connector": {"type": "from_list", "file": f"{pre}_{post}.csv"},
             "weight": we if pre == "exc" else wi, "delay": dt}
            for pre in ("exc", "inh") for post in ("exc", "inh")
        ],
    }
    with open(os.path.join(out, "cuba.json"), "w") as f:
        json.dump(net, f)
    print(f"wrote {out}/cuba.json: N={N}, {int(indptr[-1])} synapses", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from-json")
    ap.add_argument("--N", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--peers", default=os.path.join(os.path.dirname(__file__), "../../../shared/peers"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.from_json:
        d = json.load(open(a.from_json))
        n = d["neuron"]
        params = dict(taum_ms=n["taum_ms"], taue_ms=n["taue_ms"], taui_ms=n["taui_ms"], El_mV=n["El_mV"],
                      Vt_mV=n["Vt_mV"], Vr_mV=n["Vr_mV"], tref_ms=n["tref_ms"],
                      we_mV=d["synapse"]["exc_weight_mV"], wi_mV=d["synapse"]["inh_weight_mV"])
        csr = d["csr_by_source"]
        write(a.out, d["N"], d["NE"], d["v0_mV"], csr["indptr"], csr["indices"], params, d["dt_ms"])
    else:
        sys.path.insert(0, a.peers)
        import cuba_peers as cp
        v0, indptr, indices = cp.gen_network(a.N, a.seed, "fixed_k")
        P = cp.PARAMS
        params = dict(taum_ms=P["taum_ms"], taue_ms=P["taue_ms"], taui_ms=P["taui_ms"], El_mV=P["El_mV"],
                      Vt_mV=P["Vt_mV"], Vr_mV=P["Vr_mV"], tref_ms=P["tref_ms"], we_mV=P["we_mV"], wi_mV=P["wi_mV"])
        write(a.out, a.N, int(round(a.N * 0.8)), v0, indptr, indices, params, P.get("dt_ms", 0.1))


if __name__ == "__main__":
    main()
