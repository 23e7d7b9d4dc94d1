#!/usr/bin/env python3
"""Print PyNN cell-type parameter names, defaults, units, recordables.

    nest venv:       python celltypes.py nest
    spynnaker venv:  python celltypes.py spinnaker   (sPyNNaker's own classes)
"""
import sys
import warnings

warnings.filterwarnings("ignore")
backend = sys.argv[1] if len(sys.argv) > 1 else "nest"
if backend == "nest":
    import pyNN.nest as sim
else:
    import pyNN.spiNNaker as sim

NAMES = ["IF_curr_exp", "IF_cond_exp", "IF_curr_delta", "Izhikevich",
         "SpikeSourceArray", "SpikeSourcePoisson"]
for n in NAMES:
    cls = getattr(sim, n, None)
    if cls is None:
        print(f"## {n}: not in {sim.__name__}")
        continue
    print(f"## {n}  ({cls.__module__}.{cls.__qualname__})")
    try:
        inst = cls()
    except Exception as e:  # noqa: BLE001
        print("  cannot instantiate:", e)
        inst = None
    dp = getattr(cls, "default_parameters", None)
    units = getattr(cls, "units", {}) or {}
    if dp is None and inst is not None:
        dp = {k: inst.parameter_space[k].base_value
              for k in inst.parameter_space.keys()}
    for k, v in (dp or {}).items():
        print(f"  {k:14s} = {v!r:14} {units.get(k, '')}")
    iv = getattr(cls, "default_initial_values", None)
    if iv:
        print("  initial:", iv)
    rec = getattr(cls, "recordable", None)
    if rec:
        print("  recordable:", list(rec))
    if backend == "nest" and hasattr(cls, "nest_name"):
        print("  nest model:", cls.nest_name)
        tr = getattr(cls, "translations", {})
        print("  -> nest:", ", ".join(
            f"{k}->{t['translated_name']}" for k, t in tr.items()))
    rt = getattr(inst, "receptor_types", None) if inst is not None else None
    if rt:
        print("  receptor_types:", list(rt))
