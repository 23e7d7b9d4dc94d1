#!/usr/bin/env python3
"""NIR export round trip through the Python `nir` package (its own venv):

  nerve export nir SAMPLE.nir  →  nir.read (type-checked)  →  nir.write  →
  nerve compile  →  nerve run  ==  nerve run of the original, spike for spike.

    python3 -m venv /tmp/nir-venv && /tmp/nir-venv/bin/pip install nir numpy
    /tmp/nir-venv/bin/python bench/nir/roundtrip.py
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cargo_features  # noqa: E402
import tempfile

import nir

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
DATA = os.path.join(ROOT, "compiler/tests/data/nir")
SAMPLES = ["ff_lif_20_16_4", "recurrent_lif", "delay_lif", "cnn_if_8x8", "skip_lif"]


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def spikes_csv(ref, path):
    with open(path, "w") as f:
        f.write("population,neuron,time\n")
        dt_ms = ref["dt"] * 1000.0
        for name, rows in ref["inputs"].items():
            for t, row in enumerate(rows):
                for i, v in enumerate(row):
                    if v:
                        f.write(f"{name},{i},{t * dt_ms:.6f}\n")


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "nerve-cli"] + cargo_features.features(), cwd=ROOT, check=True)
    nerve = os.path.join(ROOT, "target/release/nerve")
    work = tempfile.mkdtemp(prefix="nerve-nir-")
    ok = True
    for s in SAMPLES:
        ref = json.load(open(os.path.join(DATA, s + ".all.json")))
        dt = str(ref["dt"])
        orig = os.path.join(DATA, s + ".nir")
        exported = os.path.join(work, s + ".exported.nir")
        rewritten = os.path.join(work, s + ".rewritten.nir")
        inputs = os.path.join(work, s + ".inputs.csv")
        spikes_csv(ref, inputs)
        sh(nerve, "export", "nir", orig, "--arch", "spinnaker", "-o", exported)
        g = nir.read(exported)  # type-checked by nir
        kinds = sorted(f"{k}:{type(v).__name__}" for k, v in g.nodes.items())
        nir.write(rewritten, g)
        runs = []
        for f in (orig, rewritten):
            img = f + ".img"
            sh(nerve, "compile", f, "--arch", "spinnaker", "--dt", dt, "-o", img, "-q")
            rec = f + ".spikes.csv"
            sh(nerve, "run", img, "--steps", "60", "--input", inputs, "--record", rec, "--record-all", "-q")
            runs.append(open(rec).read())
        same = runs[0] == runs[1]
        ok &= same
        print(f"{s}: nir.read ok ({', '.join(kinds)}); {runs[0].count(chr(10)) - 1} spikes; "
              f"original and re-written runs {'identical' if same else 'DIFFER'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
