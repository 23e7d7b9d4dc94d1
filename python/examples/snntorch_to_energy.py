# %% [markdown]
# # A trained snnTorch model → NIR → chip image → energy per inference
#
# The model: the Braille-reading recurrent CuBa-LIF network of the NIR paper
# (Pedersen et al., Nature Communications 2024), trained in snnTorch and
# exported with `snntorch.export_to_nir`; its NIR file is committed at
# `compiler/tests/data/nir/braille_noDelay_noBias_subtract.nir` (12 tactile
# input channels → 40 recurrent CuBa-LIF → 7 letters). snnTorch needs PyTorch,
# which this example does not install; to use your own model instead:
#
# ```python
# from snntorch.export_nir import export_to_nir
# graph = export_to_nir(net, sample_input)          # a nir.NIRGraph
# image = nerve.compile(graph, "loihi", name="my_model")
# ```
#
# Run as a script (`python python/examples/snntorch_to_energy.py`) or cell by
# cell (`# %%`) in an editor that knows the notebook format.

# %%
from pathlib import Path

import numpy as np

import nerve

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "compiler" / "tests" / "data" / "nir" / "braille_noDelay_noBias_subtract.nir"

# %% [markdown]
# ## The model as a `nir.NIRGraph` (or its file)
# `nerve.compile` takes the graph object as snnTorch's export returns it, or
# the file; with the `nir` package missing, the file.

# %%
try:
    import nir

    model = nir.read(str(MODEL))
    print(f"NIR graph: {len(model.nodes)} nodes, {len(model.edges)} edges")
    compile_args = {"name": "braille"}
except ImportError:
    model, compile_args = MODEL, {}
    print(f"NIR file: {MODEL.name}")

# %% [markdown]
# ## Compile for a Loihi-like and a SpiNNaker-like chip
# The import reads dt and reset from snnTorch's conventions (r = τ/dt).

# %%
images = {arch: nerve.compile(model, arch, **compile_args) for arch in ("loihi", "spinnaker")}
print(images["loihi"].nir["summary"])
for arch, img in images.items():
    rep = img.report
    print(f"{arch:10s} {rep['neurons']} neurons, {rep['synapses']} synapses on {rep['cores_used']} cores")

# %% [markdown]
# ## Spike input: one inference = 256 steps (25.6 ms at dt 0.1 ms)
# Ten inferences of random tactile events (each channel fires with
# probability 0.1 per step: a stand-in for the Braille data set, which is not
# shipped), one after another in a single run.

# %%
STEPS_PER_INFERENCE, INFERENCES = 256, 10
rng = np.random.default_rng(0)
events = rng.random((INFERENCES * STEPS_PER_INFERENCE, 12)) < 0.1
steps, channels = np.nonzero(events)
dt_ms = images["loihi"].dt_ms
inputs = {"input": (channels, steps * dt_ms)}
print(f"{len(steps)} input spikes over {INFERENCES} inferences")

# %% [markdown]
# ## Run, and the energy per inference

# %%
for arch, img in images.items():
    r = img.run(INFERENCES * STEPS_PER_INFERENCE, inputs=inputs, inference_steps=STEPS_PER_INFERENCE)
    e = r.report["energy"]
    hidden_n, _ = r.spikes["lif1.lif"]
    out_n, out_t = r.spikes["lif2"]
    print(f"\n== {arch}")
    print(f"energy per inference: {e['per_inference_j'] * 1e6:.3f} µJ "
          f"(dynamic {e['dynamic_j'] / INFERENCES * 1e6:.3f} µJ, static {e['static_j'] / INFERENCES * 1e6:.3f} µJ)")
    print(f"time to solution: {r.report['timing']['time_to_solution_s'] * 1e3:.3f} ms for {INFERENCES} inferences")
    print(f"spikes: hidden {len(hidden_n)}, output {len(out_n)}")
    # Output spikes per letter, per inference: the predicted letter is the busiest output neuron.
    # Times are the CSV's decimals (76.8, not 76.80000000000001): rounded to
    # their step, not truncated (76.8 / 0.1 is 767.999…).
    which = np.rint(out_t / dt_ms).astype(int) // STEPS_PER_INFERENCE
    counts = np.zeros((INFERENCES, 7), dtype=int)
    np.add.at(counts, (which, out_n), 1)
    print("output spike counts per inference (rows) and letter (columns):")
    print(counts)
    print("predicted letters:", counts.argmax(axis=1))

# %% [markdown]
# The SpiNNaker-like profile runs in real time: each step waits for the
# profile's 1 ms tick (the `real_time_tick_ns` in `timing`), so the chip's
# static power over 2.56 s dominates its energy; the Loihi-like profile steps
# as fast as its cores and network allow. `static_power=False` in `run` gives
# the dynamic energy alone; `r.report` holds the breakdowns (by kind of event,
# population, core, chip, link) that `nerve report` prints and draws.
