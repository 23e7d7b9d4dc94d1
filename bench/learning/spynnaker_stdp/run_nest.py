"""Run every case of cases_input.json in PyNN 0.13 + NEST 3.10 (on-grid, dt = case
dt_ms): SpikeSourceArray(pre) -STDP(FromList)-> IF_curr_exp(post), plus a teacher
SpikeSourceArray -static 200 nA-> post that forces the post spikes.  Writes
nest_out.json {name: {post_spikes: [[step..]..], final_nA: [...], offset_steps}}.

usage (NEST venv of bench/export/setup.sh):
    bench/export/.venv/nest/bin/python run_nest.py [--work DIR] [--only a,b]
reads DIR/cases_input.json (make_cases.py), writes DIR/nest_out.json;
DIR defaults to paths.DEFAULT_WORK.  --input / --out override the two files."""
import argparse, json, os, sys, warnings
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paths
warnings.filterwarnings("ignore")
import numpy as np
import pyNN.nest as sim
import nest
nest.set_verbosity("M_ERROR")

ap = argparse.ArgumentParser(description="Run the STDP cases in PyNN 0.13 + NEST 3.10.")
ap.add_argument("--work", help="work directory (default %s)" % paths.DEFAULT_WORK)
ap.add_argument("--input", help="case inputs (default WORK/cases_input.json)")
ap.add_argument("--out", help="result file (default WORK/nest_out.json)")
ap.add_argument("--only", help="comma-separated case names")
args = ap.parse_args()
work = paths.work_dir(args.work)
cases = json.load(open(args.input or os.path.join(work, "cases_input.json")))
only = args.only.split(",") if args.only else None


def run(case, offset):
    dt = case["dt_ms"]
    r = case["rule"]
    sim.setup(timestep=dt, min_delay=dt, max_delay=20.0, spike_precision="on_grid")
    n_pre = len(case["pre_spikes"])
    n_post = len(case["post_target"])
    pre = sim.Population(n_pre, sim.SpikeSourceArray(
        spike_times=[[round(t * dt, 6) for t in st] for st in case["pre_spikes"]]))
    teach = sim.Population(n_post, sim.SpikeSourceArray(
        spike_times=[[round((t - offset) * dt, 6) for t in st] for st in case["post_target"]]))
    post = sim.Population(n_post, sim.IF_curr_exp(tau_refrac=1.0, tau_syn_E=0.2))
    W = sim.AdditiveWeightDependence if r["weight_dependence"] == "additive" \
        else sim.MultiplicativeWeightDependence
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=r["tau_plus"], tau_minus=r["tau_minus"],
                                            A_plus=r["A_plus"], A_minus=r["A_minus"]),
        weight_dependence=W(w_min=r["w_min"], w_max=r["w_max"]),
        weight=0.5, delay=dt)
    conns = [(s[0], s[1], float(s[2]), round(s[3] * dt, 6)) for s in case["synapses"]]
    proj = sim.Projection(pre, post, sim.FromListConnector(conns, column_names=["weight", "delay"]),
                          stdp, receptor_type="excitatory")
    sim.Projection(teach, post, sim.FromListConnector([(j, j) for j in range(n_post)]),
                   sim.StaticSynapse(weight=200.0, delay=dt), receptor_type="excitatory")
    post.record("spikes")
    sim.run(case["steps"] * dt)
    sts = post.get_data("spikes").segments[0].spiketrains
    posts = [[int(round(float(t) / dt)) for t in st.magnitude] for st in sts]
    got = proj.get(["weight", "delay"], format="list", with_address=True)
    wmap = {(int(a), int(b)): float(w) for a, b, w, d in got}
    dmap = {(int(a), int(b)): float(d) for a, b, w, d in got}
    final = [wmap[(s[0], s[1])] for s in case["synapses"]]
    delays_ok = all(abs(dmap[(s[0], s[1])] - s[3] * dt) < 1e-9 for s in case["synapses"])
    sim.end()
    return posts, final, delays_ok


out = {}
for case in cases:
    if only and case["name"] not in only:
        continue
    offset = 2
    posts, final, dok = run(case, offset)
    # measured offset (post - teacher): shift teacher times once if needed
    diffs = [p - t for ps, ts in zip(posts, case["post_target"]) for p, t in zip(ps, ts)]
    if diffs and len(set(diffs)) == 1 and diffs[0] != 0:
        offset += diffs[0]
        posts, final, dok = run(case, offset)
    match = posts == case["post_target"]
    print(case["name"], "offset", offset, "posts==target", match, "delays ok", dok,
          "n_post_spikes", [len(p) for p in posts])
    out[case["name"]] = dict(post_spikes=posts, final_nA=final, teacher_offset_steps=offset,
                             posts_equal_target=match)
out_path = args.out or os.path.join(work, "nest_out.json")
json.dump(out, open(out_path, "w"))
print("wrote", out_path)
