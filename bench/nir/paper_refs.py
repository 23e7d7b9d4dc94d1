#!/usr/bin/env python3
"""Reference outputs for the NIR paper files, each at its exporter's convention.

Runs ../shared/peers/nir_reference_sim.py (NIR's ODEs, forward Euler) with the
dt and reset each exporter trains with, and writes compiler/tests/data/nir/
<file>.paper.json for cli/tests/it/nir_reference.rs, trimmed to what the test
reads: the input spike trains, the delayed edges, and per population node its
per-neuron spike counts (one row) or, for readouts, its values per step.

    bench/nir/.venv/bin/python bench/nir/paper_refs.py   (venv: pip install nir==1.0.8 h5py numpy)
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "compiler/tests/data/nir")
SIM = os.path.join(ROOT, "../shared/peers/nir_reference_sim.py")

# file, dt, reset, steps: the convention of the exporter that wrote it.
FILES = [
    ("braille_noDelay_bias_zero", 1e-4, "subtract", 50),  # snnTorch: r = tau/dt, dt 1e-4
    ("braille_noDelay_noBias_subtract", 1e-4, "subtract", 50),
    ("cnn_sinabs", 1.0, "subtract", 25),  # Sinabs: IF with r = 1, one step per unit
    ("lif_norse", 1e-3, "to_v_reset", 50),  # Norse: 1 ms, reset to v_reset
]
SPIKING = ("IF", "LIF", "CubaLIF", "Threshold")
READOUT = ("I", "LI", "CubaLI")


def main():
    import nir

    for name, dt, reset, steps in FILES:
        path = os.path.join(DATA, name + ".nir")
        out = subprocess.run(
            [sys.executable, SIM, path, "--dt", str(dt), "--reset", reset, "--steps", str(steps), "--record-all"],
            check=True, capture_output=True, text=True).stdout
        ref = json.loads(out)
        g = nir.read(path)
        types = {}

        def walk(graph, prefix):
            for k, n in graph.nodes.items():
                if isinstance(n, nir.NIRGraph):
                    walk(n, prefix + k + ".")
                else:
                    types[prefix + k] = type(n).__name__
        walk(g, "")
        nodes = {}
        for k, rows in ref["all_nodes"].items():
            if types.get(k) in SPIKING:
                nodes[k] = [[sum(col) for col in zip(*rows)]]
            elif types.get(k) in READOUT:
                nodes[k] = rows
        trimmed = {k: ref[k] for k in ("file", "dt", "steps", "seed", "rate", "reset", "delayed_edges", "inputs")}
        trimmed["all_nodes"] = nodes
        trimmed["note"] = "written by bench/nir/paper_refs.py; spiking nodes: one row of per-neuron spike counts"
        dst = os.path.join(DATA, name + ".paper.json")
        with open(dst, "w") as f:
            json.dump(trimmed, f, separators=(",", ":"))
        print(dst, {k: sum(v[0]) for k, v in nodes.items() if types[k] in SPIKING}, os.path.getsize(dst), "bytes")


if __name__ == "__main__":
    main()
