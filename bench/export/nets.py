#!/usr/bin/env python3
"""Writes the exporter validation networks as nerve JSON, with a manifest.json.

    python bench/export/nets.py [--out DIR] [--only a,b] [--check] [--nerve PATH]

Networks (all seeded, byte-identical from run to run):
  examples    the bundled examples/*.json (listed in the manifest, not copied)
  random_500  400 exc + 100 inh IF_curr_exp (PyNN lif), fixed_probability p = 0.1 drawn
              here and written as from_list with per-synapse delays 1-5 ms (dt 0.1 ms),
              driven by 200 spike_source_poisson sources (30 Hz, p = 0.1); asynchronous
              irregular, ~13 Hz on the spinnaker profile (--check measures it)
  cuba        CUBA-4000 by bench/cuba/make_network.py from shared/data/cuba/cuba_4000.json
  lava_s1 lava_s2 lava_s3
              shared/peers/lava_reference.py make_network(seed, n_a, n_b, steps) as
              loihi_lif populations A, B, C (dt 1 ms): A->B and A->C "dense", B->B
              (5 % sparse) "from_list" [pre, post, weight]
  lava_delay  lava_s1 with per-synapse B->B delays of 1-20 steps (from_list delay column)
  lava_delay63 the same with delays drawn from {1, 2, 31, 32, 33, 62, 63} steps (the loihi
              profile's 63 delay slots; lava's DelayDense/DelaySparse 0-62)
  pacman_small pacman_rand_many pacman_rand_big
              shared/peers/pacman2net.py of shared/peers/pacman-graphs/*.json (their
              max_atoms_per_core is the manifest's neurons_per_core)

Needs numpy: if this Python has none, it re-runs itself with the nest venv's python
(bench/export/setup.sh makes it if missing).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

try:
    import numpy as np
except ImportError:
    if os.environ.get("NETS_PY_REEXEC"):
        sys.exit("nets.py: numpy missing even in the nest venv")
    ap0 = argparse.ArgumentParser(add_help=False)
    ap0.add_argument("--venvs", default=str(common.HERE / ".venv"))
    a0, _ = ap0.parse_known_args()
    py = common.venv_python(a0.venvs, "nest")
    os.environ["NETS_PY_REEXEC"] = "1"
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])

LAVA_NETS = {  # name: (seed, n_a, n_b, steps)
    "lava_s1": (1, 100, 500, 150),
    "lava_s2": (2, 200, 800, 200),
    "lava_s3": (3, 100, 500, 100),
}
LAVA_DELAY_BASE = "lava_s1"
PACMAN_GRAPHS = ["small", "rand_many", "rand_big"]

# random_500 (PyNN IF_curr_exp; tuned with --check on the spinnaker profile)
R500 = dict(
    seed=500, n_exc=400, n_inh=100, n_stim=200, p=0.1, stim_rate=30.0, stim_p=0.1,
    w_stim=0.3, w_exc=0.15, w_inh=-1.5, delay_min=1.0, delay_max=5.0, dt=0.1,
    params={"tau_m": 20.0, "cm": 1.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
            "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0, "i_offset": 0.0},
)


def dump(net, path):
    with open(path, "w") as f:
        json.dump(net, f, separators=(",", ":"))
        f.write("\n")


def random_500(out):
    c = R500
    rng = np.random.default_rng(c["seed"])
    sizes = {"exc": c["n_exc"], "inh": c["n_inh"]}
    dt = c["dt"]
    pops = [
        {"name": "stim", "size": c["n_stim"], "model": "spike_source_poisson",
         "params": {"rate": c["stim_rate"]}, "seed": c["seed"] + 1},
    ]
    for k, name in enumerate(("exc", "inh")):
        pops.append({"name": name, "size": sizes[name], "model": "lif", "params": dict(c["params"]),
                     "initial": {"v": {"uniform": [-65.0, -50.0], "seed": c["seed"] + 2 + k}},
                     "record": ["spikes"]})
    projs = []
    for post in ("exc", "inh"):
        projs.append({"pre": "stim", "post": post, "receptor": "excitatory",
                      "connector": {"type": "fixed_probability", "p": c["stim_p"],
                                    "seed": c["seed"] + 10 + len(projs)},
                      "weight": c["w_stim"], "delay": 1.0})
    for pre in ("exc", "inh"):
        for post in ("exc", "inh"):
            mask = rng.random((sizes[pre], sizes[post])) < c["p"]
            if pre == post:
                np.fill_diagonal(mask, False)
            pi, qi = np.nonzero(mask)
            # delays uniform in [1, 5] ms on the 0.1 ms grid
            steps = rng.integers(int(round(c["delay_min"] / dt)), int(round(c["delay_max"] / dt)) + 1,
                                 size=len(pi))
            w = c["w_exc"] if pre == "exc" else c["w_inh"]
            conns = [[int(a), int(b), w, round(float(s) * dt, 1)] for a, b, s in zip(pi, qi, steps)]
            projs.append({"pre": pre, "post": post,
                          "receptor": "excitatory" if pre == "exc" else "inhibitory",
                          "connector": {"type": "from_list", "connections": conns},
                          "label": f"{pre}→{post}"})
    net = {"name": "random_500", "dt_ms": dt,
           "description": "random recurrent LIF network (PyNN IF_curr_exp), 80/20 exc/inh, p=0.1, "
                          "delays 1-5 ms per synapse, Poisson drive (bench/export/nets.py)",
           "populations": pops, "projections": projs}
    path = out / "random_500.json"
    dump(net, path)
    return path


def load_lava_reference(peers):
    sys.path.insert(0, str(peers))
    try:
        import scipy.sparse  # noqa: F401
    except ImportError:
        # lava_reference imports scipy.sparse at the top but make_network uses numpy only
        scipy = types.ModuleType("scipy")
        scipy.sparse = types.ModuleType("scipy.sparse")
        sys.modules.setdefault("scipy", scipy)
        sys.modules.setdefault("scipy.sparse", scipy.sparse)
    import lava_reference
    return lava_reference


def lava_to_nerve(ref_net, name, bb_delays=None, seed=None):
    """nerve JSON of a lava_reference.make_network() dict (see cli/tests/it/lava_bitexact.rs)."""
    pops = []
    for pname, p in ref_net["populations"].items():
        pops.append({
            "name": pname, "size": p["n"], "model": "loihi_lif",
            "params": {"du": p["du"], "dv": p["dv"], "vth": p["vth"],
                       "bias_mant": [int(x) for x in p["bias_mant"]],
                       "bias_exp": [int(x) for x in p["bias_exp"]]},
            "initial": {"u": [int(x) for x in p["u0"]], "v": [int(x) for x in p["v0"]]},
            "record": ["spikes"],
        })
    projs = []
    for c in ref_net["connections"]:
        pr = {"pre": c["pre"], "post": c["post"], "label": c["name"],
              "weight_exp": c["weight_exp"], "num_weight_bits": c["num_weight_bits"],
              "sign_mode": c["sign_mode"]}
        if c["kind"] == "dense":
            pr["connector"] = {"type": "dense", "weights": [[int(w) for w in row] for row in c["weights"]]}
        else:
            trip = list(zip(c["pre_idx"], c["post_idx"], c["weight"]))
            if bb_delays is not None and c["name"] == "B_to_B":
                conns = [[int(a), int(b), int(w), float(d)] for (a, b, w), d in zip(trip, bb_delays)]
            else:
                conns = [[int(a), int(b), int(w)] for a, b, w in trip]
            pr["connector"] = {"type": "from_list", "connections": conns}
        projs.append(pr)
    desc = (f"lava_reference.make_network(seed={ref_net['seed']}, n_a={pops[0]['size']}, "
            f"n_b={pops[1]['size']}, steps={ref_net['steps']})")
    if bb_delays is not None:
        desc += f"; B_to_B with per-synapse delays {min(bb_delays):g}-{max(bb_delays):g} steps (seed {seed})"
    return {"name": name, "dt_ms": 1.0, "duration_ms": float(ref_net["steps"]),
            "description": desc, "populations": pops, "projections": projs}


def kind_of(path):
    models = {p["model"] for p in json.load(open(path))["populations"]}
    return "loihi" if "loihi_lif" in models else "lif"


def main():
    ap = common.parser(__doc__)
    ap.add_argument("--out", default=None, help="output directory (default: WORK/nets)")
    ap.add_argument("--only", default=None, help="comma-separated names (examples, random_500, cuba, "
                    "lava, lava_s1, ..., pacman, pacman_rand_big, ...)")
    ap.add_argument("--peers", default=str(common.PEERS))
    ap.add_argument("--cuba-json", default=str(common.DATA / "cuba" / "cuba_4000.json"))
    ap.add_argument("--check", action="store_true",
                    help="run random_500 with nerve on the spinnaker profile (1000 ms) and print its rates")
    ap.add_argument("--nerve", default=str(common.REPO / "target" / "release" / "nerve"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--venvs", default=str(common.HERE / ".venv"))
    args = ap.parse_args()
    if args.out is None:
        work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="nerve-nets-"))
        out = work / "nets"
    else:
        out = Path(args.out)
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    peers = Path(args.peers)
    only = set(args.only.split(",")) if args.only else None

    def want(name, group):
        return only is None or name in only or group in only

    manifest = {}
    mpath = out / "manifest.json"
    if mpath.exists():
        manifest = json.load(open(mpath))

    for ex in sorted((common.REPO / "examples").glob("*.json")):
        if want("example_" + ex.stem, "examples"):
            manifest["example_" + ex.stem] = {"path": str(ex), "kind": kind_of(ex), "group": "examples",
                                              "source": f"examples/{ex.name}"}

    if want("random_500", "random_500"):
        p = random_500(out)
        manifest["random_500"] = {"path": str(p), "kind": "lif", "group": "random_500",
                                  "source": "nets.py random_500 " + json.dumps(
                                      {k: v for k, v in R500.items() if k != "params"})}

    if want("cuba", "cuba"):
        d = out / "cuba"
        r = subprocess.run([sys.executable, str(common.REPO / "bench" / "cuba" / "make_network.py"),
                            "--from-json", args.cuba_json, "--out", str(d)],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit("make_network.py failed:\n" + r.stdout + r.stderr)
        manifest["cuba"] = {"path": str(d / "cuba.json"), "kind": "lif", "group": "cuba",
                            "source": "bench/cuba/make_network.py --from-json " + args.cuba_json}

    lava_names = [n for n in list(LAVA_NETS) + ["lava_delay", "lava_delay63"] if want(n, "lava")]
    if lava_names:
        lr = load_lava_reference(peers)
        for name in lava_names:
            seed, n_a, n_b, steps = LAVA_NETS[name if name in LAVA_NETS else LAVA_DELAY_BASE]
            ref = lr.make_network(seed=seed, n_a=n_a, n_b=n_b, steps=steps)
            delays = None
            if name in ("lava_delay", "lava_delay63"):
                nbb = len(next(c for c in ref["connections"] if c["name"] == "B_to_B")["weight"])
                rng = np.random.default_rng(1000 + seed)
                if name == "lava_delay":   # 1-20 steps (= ms at dt 1)
                    delays = rng.integers(1, 21, size=nbb).astype(float).tolist()
                else:                      # the edges of the loihi profile's 63 delay slots
                    delays = rng.choice([1, 2, 31, 32, 33, 62, 63], size=nbb).astype(float).tolist()
            net = lava_to_nerve(ref, name, delays, 1000 + seed)
            p = out / f"{name}.json"
            dump(net, p)
            manifest[name] = {"path": str(p), "kind": "loihi", "group": "lava", "steps": steps,
                              "source": net["description"]}
            if delays is None:  # validate_lava.py also runs lava_reference.py's own lava build
                manifest[name]["lava_reference"] = {"seed": seed, "n_a": n_a, "n_b": n_b, "steps": steps}

    for g in PACMAN_GRAPHS:
        name = "pacman_" + g
        src = peers / "pacman-graphs" / f"{g}.json"
        if not want(name, "pacman") or not src.exists():
            continue
        p = out / f"{name}.json"
        r = subprocess.run([sys.executable, str(peers / "pacman2net.py"), str(src), str(p)],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"pacman2net.py {src} failed:\n" + r.stdout + r.stderr)
        n_pops, n_projs, npc = (int(x) for x in r.stdout.split())
        manifest[name] = {"path": str(p), "kind": "lif", "group": "pacman", "neurons_per_core": npc,
                          "source": f"pacman2net.py {src.name} ({n_pops} populations, {n_projs} projections)"}

    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1)
    rows = []
    for name, m in manifest.items():
        if only is not None and not want(name, m["group"]):
            continue
        pops = common.network_pops(m["path"])
        rows.append([name, m["kind"], len(pops), sum(s for _, s, _, _ in pops),
                     os.path.getsize(m["path"]), common.sha256(m["path"])[:12], m["source"][:70]])
    common.table(rows, ["network", "kind", "pops", "neurons", "bytes", "sha256", "source"],
                 ["<", "<", ">", ">", ">", "<", "<"])
    print(f"wrote {mpath}")

    if args.check and "random_500" in manifest:
        check_random_500(args, manifest["random_500"]["path"], out)


def check_random_500(args, path, out):
    """Rates and synchrony of random_500 on the spinnaker profile (nerve run, 1000 ms)."""
    csv_path = out / "random_500_check.csv"
    r = common.run([args.nerve, "run", path, "--arch", "spinnaker", "--steps", "10000",
                    "--record", csv_path], timeout=600)
    if not r.ok:
        sys.exit("nerve run failed:\n" + r.tail())
    rows = common.read_spikes(csv_path)
    sizes = {n: s for n, s, _, _ in common.network_pops(path)}
    bins = np.zeros(1000)
    per_neuron = {}
    for row in rows:
        t = float(row["time"])
        bins[min(int(t), 999)] += 1
        per_neuron.setdefault((row["population"], int(row["neuron"])), []).append(t)
    cvs = [np.std(np.diff(ts)) / np.mean(np.diff(ts)) for ts in per_neuron.values() if len(ts) >= 3]
    out_rows = []
    for pop in ("exc", "inh"):
        n = sum(1 for x in rows if x["population"] == pop)
        out_rows.append([pop, sizes[pop], n, f"{n / sizes[pop]:.2f}"])
    common.table(out_rows, ["population", "size", "spikes", "Hz"])
    # Fano factor of the population count in 1 ms bins (~1 asynchronous, >> 1 synchronous)
    fano = bins[100:].var() / max(bins[100:].mean(), 1e-9)
    print(f"mean ISI CV {np.mean(cvs):.2f} over {len(cvs)} neurons; population Fano factor "
          f"(1 ms bins, after 100 ms) {fano:.2f}")


if __name__ == "__main__":
    main()
