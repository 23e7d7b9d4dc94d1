#!/usr/bin/env python3
"""nerve's mapper next to PACMAN (SpiNNaker's own mapping tool chain) on the same
graphs, in one run: ../shared/peers/pacman-graphs/{small,rand_many,rand_big}.json.
nerve regenerates the `random` graphs with CPython's generator (bench/rust/src/pyrandom.rs),
so both map the identical graph onto a SpiNNaker machine of the same size.

    bench/peers-setup.sh                  # once: bench/.venv/pacman
    python3 bench/pacman/run.py [--graphs small,rand_many,rand_big]

Prints per graph: time per stage, cores, chips, total and largest routing table
after compression, traffic (tree hops, neuron-weighted hops, busiest link) and
the ratios nerve / PACMAN. PACMAN runs its default pair compressor to completion.

Then, for every graph, the user's path at each of --densities: the graph written
as a JSON network by ../shared/peers/pacman2net.py (every edge a fixed_probability
projection with that p) and `nerve compile NET --arch spinnaker --neurons-per-core
<the graph's max atoms per core> --report`: its routing entries (compressed and
largest table), mapping and whole-compile seconds, next to PACMAN's compressed
entries above, so the benchmark and the user's path cannot drift apart.
"""
import argparse
import json
import os
import subprocess
import time
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cargo_features  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
SHARED = os.path.abspath(os.path.join(ROOT, "../shared"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--graphs", default="small,rand_many,rand_big")
    ap.add_argument("--venv", default=os.path.join(ROOT, "bench/.venv/pacman"))
    ap.add_argument("--repeat", type=int, default=3, help="nerve runs per graph; the fastest is reported")
    ap.add_argument("--densities", default="0.1,0.02", help="connection probabilities for the JSON -> nerve compile path ('' to skip)")
    a = ap.parse_args()
    py = os.path.join(a.venv, "bin/python")
    if not os.path.exists(py):
        sys.exit(f"no PACMAN venv at {a.venv}: run bench/peers-setup.sh first")
    subprocess.run(["cargo", "build", "--release", "-p", "nerve-bench", "-p", "nerve-cli"] + cargo_features.features(), cwd=ROOT, check=True, capture_output=True)
    nerve = os.path.join(ROOT, "target/release/map_graph")
    for g in a.graphs.split(","):
        path = os.path.join(SHARED, "peers/pacman-graphs", g + ".json")
        runs = [json.loads(subprocess.run([nerve, path], check=True, capture_output=True, text=True).stdout) for _ in range(a.repeat)]
        n = min(runs, key=lambda r: r["seconds"]["total"])
        p = json.loads(subprocess.run([py, os.path.join(SHARED, "peers/pacman_peer_traffic.py"), path, "--compressor", "pair"],
                                      check=True, capture_output=True, text=True).stdout)
        ps, t = p["seconds"], p["traffic"]["rtbp"]
        pac_map = ps["partition"] + ps["place"] + ps["route"] + ps["keys"] + ps["table_gen_merged"] + ps["compress_pair"]
        rows = [
            ("partition s", ps["partition"], n["seconds"]["partition"]),
            ("place s", ps["place"], n["seconds"]["place"]),
            ("route + keys + tables + compress s", ps["route"] + ps["keys"] + ps["table_gen_merged"] + ps["compress_pair"], n["seconds"]["route_and_compress"]),
            ("  PACMAN route + pair compression s", ps["route"] + ps["compress_pair"], None),
            ("whole mapping s", pac_map, n["seconds"]["total"]),
            ("cores", p["cores_used"], n["cores_used"]),
            ("chips", p["chips_used"], n["chips_used"]),
            ("entries uncompressed (PACMAN merged; nerve after default elision, per slice)", p["entries_uncompressed_merged"]["total"], n["entries"]["after_default_elision"]),
            ("entries after compression, total", p["compressed"]["pair"]["total"], n["entries"]["compressed"]),
            ("largest table after compression", p["compressed"]["pair"]["max"], n["entries"]["max_compressed"]),
            ("link hops, one packet per source core", t["link_hops_per_spike_from_every_core"], n["traffic"]["tree_hops"]),
            ("neuron-weighted link hops", t["neuron_weighted_link_hops"], n["traffic"]["neuron_weighted_hops"]),
            ("busiest directed link, trees", t["max_link_load_trees"], n["traffic"]["max_link_trees"]),
            ("busiest directed link, neurons", t["max_link_load_neurons"], n["traffic"]["max_link_neurons"]),
            ("mean / max tree depth to a delivery", f"{t['tree_depth_hops']['mean']:.2f} / {t['tree_depth_hops']['max']}",
             f"{n['traffic']['mean_tree_depth']:.2f} / {n['traffic']['max_tree_depth']}"),
        ]
        print(f"\n== {g}: {n['populations']} populations, {n['neurons']} neurons, {n['app_edges']} edges; machine {n['machine']['width']}x{n['machine']['height']} chips (PACMAN: {p['machine']['width']}x{p['machine']['height']})")
        print(f"{'':<66}{'PACMAN':>12}{'nerve':>12}{'nerve/PACMAN':>14}")
        for name, pv, nv in rows:
            ratio = f"{nv / pv:.3f}" if isinstance(pv, (int, float)) and isinstance(nv, (int, float)) and pv else ""
            fmt = lambda v: "" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
            print(f"{name:<66}{fmt(pv):>12}{fmt(nv):>12}{ratio:>14}")
        speed = (ps["route"] + ps["compress_pair"]) / n["seconds"]["total"]
        print(f"nerve's whole mapping is {speed:.1f}x faster than PACMAN's route + pair compression; "
              f"every source key of nerve's tables was traced ({n['verified_keys']} keys) and reaches exactly its destinations")
        for d in [x for x in a.densities.split(",") if x]:
            user_path(path, float(d), p["compressed"]["pair"]["total"], a.repeat)


def user_path(graph, p, pacman_entries, repeat):
    """The graph as a JSON network at connection probability p, through `nerve compile`."""
    import tempfile
    work = tempfile.mkdtemp(prefix="nerve-pacman-")
    net, img, rep = (os.path.join(work, x) for x in ("net.json", "net.img", "report.json"))
    out = subprocess.run([sys.executable, os.path.join(SHARED, "peers/pacman2net.py"), graph, net, str(p)], check=True, capture_output=True, text=True).stdout.split()
    atoms = out[2] if len(out) >= 3 else "256"
    best, walls = None, []
    for _ in range(repeat):
        # The process's wall time too: what the user waits for, around the
        # stages the report times (the network's referenced files looked
        # for, the report written, the process's exit).
        t0 = time.perf_counter()
        subprocess.run([os.path.join(ROOT, "target/release/nerve"), "compile", net, "--arch", "spinnaker", "--neurons-per-core", atoms, "-o", img, "-q", "--report", rep], check=True)
        walls.append(time.perf_counter() - t0)
        r = json.load(open(rep))
        if best is None or r["seconds"]["total"] < best["seconds"]["total"]:
            best = r
    for f in (net, img, rep):
        os.remove(f)
    os.rmdir(work)
    sec, rt = best["seconds"], best["routing"]
    mapping = sec["partition"] + sec["place"] + sec["route"]
    print(f"  JSON network, p = {p}: {best['synapses']:,} synapses, `nerve compile --neurons-per-core {atoms}`: "
          f"{rt['entries_compressed']:,} entries after compression ({rt['entries_compressed'] / pacman_entries:.3f} of PACMAN's on the graph), "
          f"largest table {rt['max_table_compressed']}; read {sec['read']:.2f} s, mapping {mapping:.2f} s, "
          f"codegen {sec['codegen']:.2f} s, stages {sec['total']:.2f} s + write {sec.get('write', 0):.2f} s (fastest of {repeat}); "
          f"whole process {min(walls):.2f} s (fastest; --report written too)")


if __name__ == "__main__":
    main()
