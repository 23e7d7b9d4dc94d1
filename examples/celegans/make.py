#!/usr/bin/env python3
"""Builds the C. elegans example from the Cook et al. (2019) hermaphrodite
connectome in data/ (standard library only; the output depends on nothing but
the data and the options, so it is the same on every run):

- edges.csv: data/cook2019_herm_edges.csv (pre,post,kind,count) with the
  columns the projections select on: pre_class, post_class (Sensory,
  Interneuron, Motorneuron, Other), pre_inhibitory (1 for the GABAergic
  cells) and weight: chemical synapses --chem-scale nA per contact (negative
  from GABAergic cells: PyNN's sign for inhibitory projections), gap
  junctions --gap-scale uS per contact.
- network.json: one LIF population per cell class with the cells' names as
  `labels`; per (kind, pre class, post class[, GABAergic]) that has edges one
  `from_list` projection reading edges.csv (chemical: excitatory or
  inhibitory; gap junctions: electrical); a Poisson source per driven cell
  (--drive, default the gentle-touch receptors ALML ALMR AVM PLML PLMR) at
  --rate Hz, --drive-weight nA, one_to_one by label.

    python3 make.py                  # edges.csv, network.json
    python3 make.py --no-gap -o control.json   # the same without the gap junctions
"""
import argparse, csv, json, os

CLASSES = ["Sensory", "Interneuron", "Motorneuron", "Other"]

ap = argparse.ArgumentParser()
ap.add_argument("--chem-scale", type=float, default=0.24, help="nA per chemical contact")
ap.add_argument("--gap-scale", type=float, default=0.002, help="uS per gap-junction contact")
ap.add_argument("--drive", default="ALML,ALMR,AVM,PLML,PLMR", help="driven cells (comma-separated names)")
ap.add_argument("--rate", type=float, default=1000.0, help="Hz per driven cell")
ap.add_argument("--drive-weight", type=float, default=1.0, help="nA per drive spike")
ap.add_argument("--seed", type=int, default=19, help="seed of the Poisson drive")
ap.add_argument("--no-gap", action="store_true", help="leave the gap junctions out (the control)")
ap.add_argument("-o", "--out", default="network.json")
a = ap.parse_args()
here = os.path.dirname(os.path.abspath(__file__))

cells = list(csv.DictReader(open(os.path.join(here, "data/cook2019_herm_cells.csv"), newline="")))
cls = {c["name"]: c["cell_class"] for c in cells}
inh = {c["name"]: c["inhibitory"] for c in cells}
edges = list(csv.DictReader(open(os.path.join(here, "data/cook2019_herm_edges.csv"), newline="")))


def weight(e):
    n = int(e["count"])
    if e["kind"] == "electrical":
        return a.gap_scale * n
    return (-1.0 if inh[e["pre"]] == "1" else 1.0) * a.chem_scale * n


with open(os.path.join(here, "edges.csv"), "w", newline="") as f:
    f.write("pre,post,kind,pre_class,post_class,pre_inhibitory,count,weight\n")
    for e in edges:
        f.write(f"{e['pre']},{e['post']},{e['kind']},{cls[e['pre']]},{cls[e['post']]},{inh[e['pre']]},{e['count']},{weight(e):.6g}\n")

# LIF point neurons (PyNN IF_curr_exp), the same for every cell.
lif = {"tau_m": 20.0, "cm": 0.25, "v_rest": -65.0, "v_reset": -70.0, "v_thresh": -50.0,
       "tau_refrac": 2.0, "tau_syn_E": 1.0, "tau_syn_I": 5.0, "i_offset": 0.0}
drive = a.drive.split(",")
for d in drive:
    if d not in cls:
        raise SystemExit(f"--drive: no cell named {d}")
pops = [{"name": "touch", "size": len(drive), "model": "spike_source_poisson", "params": {"rate": a.rate},
         "seed": a.seed, "labels": [f"stim_{d}" for d in drive]}]
for c in CLASSES:
    names = [x["name"] for x in cells if x["cell_class"] == c]
    pops.append({"name": c, "size": len(names), "model": "lif", "params": lif, "labels": names, "record": ["spikes"]})

projections = []
by_class = {}
for d in drive:
    by_class.setdefault(cls[d], []).append(d)
for c, ds in by_class.items():
    projections.append({"pre": "touch", "post": c, "label": f"touch->{c}", "weight": a.drive_weight,
                        "connector": {"type": "from_list", "connections": [[f"stim_{d}", d] for d in ds]}})

present = {(e["kind"], cls[e["pre"]], cls[e["post"]], inh[e["pre"]]) for e in edges}
for pre in CLASSES:
    for post in CLASSES:
        for gaba in ("0", "1"):
            if ("chemical", pre, post, gaba) in present:
                projections.append({
                    "pre": pre, "post": post, "label": f"{pre}->{post} chemical{' GABA' if gaba == '1' else ''}",
                    "receptor": "inhibitory" if gaba == "1" else "excitatory",
                    "connector": {"type": "from_list", "file": "edges.csv",
                                  "select": {"kind": "chemical", "pre_class": pre, "post_class": post, "pre_inhibitory": gaba},
                                  "ignore_columns": ["count"]}})
        if not a.no_gap and any(("electrical", pre, post, g) in present for g in "01"):
            projections.append({
                "pre": pre, "post": post, "label": f"{pre}->{post} gap", "receptor": "electrical",
                "connector": {"type": "from_list", "file": "edges.csv",
                              "select": {"kind": "electrical", "pre_class": pre, "post_class": post},
                              "ignore_columns": ["count", "pre_inhibitory"]}})

net = {
    "name": "celegans" + ("_nogap" if a.no_gap else ""),
    "dt_ms": 0.1,
    "duration_ms": 1000.0,
    "description": "C. elegans hermaphrodite connectome (Cook et al. 2019): one LIF population per cell class, "
                   f"chemical synapses {a.chem_scale} nA/contact (GABAergic inhibitory), "
                   + ("gap junctions left out (control)" if a.no_gap else f"gap junctions {a.gap_scale} uS/contact (electrical)")
                   + f"; Poisson drive {a.rate} Hz x {a.drive_weight} nA into {' '.join(drive)} (examples/celegans)",
    "populations": pops,
    "projections": projections,
}
with open(os.path.join(here, a.out), "w") as f:
    json.dump(net, f, indent=1)
    f.write("\n")
print(f"wrote {a.out}: {sum(p['size'] for p in pops[1:])} cells in {len(CLASSES)} classes, {len(projections)} projections; edges.csv: {len(edges)} edges")
