"""(a') Map each case on a *virtual* SpiNN-5 board with the installed sPyNNaker
1!7.4.1 (SpikeSourceArray -STDP FromListConnector-> IF_curr_exp, nothing else) and
compare what the wheel generated with the fixed-point model's inputs:
ring-buffer shift of the excitatory type, the synapseDynamicsParams region words
(backprop flag, both LUTs, w_min/w_max/A+/A- S1615 per synapse type) and the
initial 16-bit weights (read back with Projection.get("weight") * weight_scale).

usage (sPyNNaker venv of bench/export/setup.sh):
    spy_virtual.py CASES.json NAME RUNDIR       one case, in this process; prints
                                               "RESULT {json}"
    spy_virtual.py --all [--work DIR] [--cases FILE ...]
        every case of each FILE (default DIR/cases.json from build.py), one child
        process per case in DIR/vb/<name> (log DIR/vb/<name>.log); the RESULT lines
        go to DIR/vb_results.txt, which build.py reads.  DIR defaults to
        paths.DEFAULT_WORK.  Add `--cases rand_cases.json` (this folder) for the 6
        random networks of the spec's validation.
The sPyNNaker cfg is written into each run directory (virtual_board = True); the
user's ~/.spynnaker.cfg is not read or touched (XDG_CONFIG_HOME = run directory)."""
import argparse, json, os, sys, struct, sqlite3, subprocess
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import paths


def load_cases(case_file):
    data = json.load(open(case_file))
    return data["cases"] if isinstance(data, dict) else data


def run_one(case_file, name, work):
    case_file, work = os.path.abspath(case_file), os.path.abspath(work)
    os.makedirs(work, exist_ok=True)
    open(os.path.join(work, ".spynnaker.cfg"), "a").close()
    open(os.path.join(work, "spynnaker.cfg"), "w").write(
        "[Machine]\nvirtual_board = True\nversion = 5\n\n[Mode]\nmode = Debug\n\n"
        "[Reports]\nwrite_network_graph = False\n")
    os.environ["XDG_CONFIG_HOME"] = work
    os.chdir(work)
    import model as m
    case = [c for c in load_cases(case_file) if c["name"] == name][0]
    import pyNN.spiNNaker as sim
    from spinn_front_end_common.data import FecDataView
    dt = case["dt_ms"]
    r = case["rule"]
    sim.setup(timestep=dt)
    n_pre = len(case["pre_spikes"])
    n_post = len(case.get("post_spikes", case.get("post_target")))
    pre = sim.Population(n_pre, sim.SpikeSourceArray(
        spike_times=[[round(t * dt, 6) for t in st] for st in case["pre_spikes"]]), label="pre")
    post = sim.Population(n_post, sim.IF_curr_exp(), label="post")
    W = sim.AdditiveWeightDependence if r["weight_dependence"] == "additive" \
        else sim.MultiplicativeWeightDependence
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=r["tau_plus"], tau_minus=r["tau_minus"],
                                            A_plus=r["A_plus"], A_minus=r["A_minus"]),
        weight_dependence=W(w_min=r["w_min"], w_max=r["w_max"]), weight=0.5, delay=dt)
    conns = [(s[0], s[1], float(s[2]), round(s[3] * dt, 6)) for s in case["synapses"]]
    proj = sim.Projection(pre, post, sim.FromListConnector(conns, column_names=["weight", "delay"]),
                          stdp, receptor_type="excitatory")
    sim.run(10 * dt)
    got = proj.get(["weight", "delay"], format="list", with_address=True)
    run_dir = FecDataView.get_run_dir_path()
    sim.end()
    db = sqlite3.connect(os.path.join(run_dir, "ds.sqlite3"))
    regs = {}
    for (x, y, p, lab, content) in db.execute(
            "select x, y, p, region_label, content from region where region_label in "
            "('synapseDynamicsParams', 'SynapseParams')"):
        regs.setdefault((x, y, p), {})[lab] = content
    assert len(regs) == 1, regs.keys()
    core = list(regs.values())[0]
    sp = struct.unpack("<%dI" % (len(core["SynapseParams"]) // 4), core["SynapseParams"])
    shifts = list(sp[7:7 + sp[1]])
    dp = core["synapseDynamicsParams"]
    words = list(struct.unpack("<%dI" % (len(dp) // 4), dp))
    res = m.run_case(case)
    p = m.rule_params(r, dt)
    exp_words = [1] + m.lut_words(p["lut_plus"]) + m.lut_words(p["lut_minus"])
    for _ in range(2):   # IF_curr_exp: excitatory + inhibitory synapse types
        exp_words += [x & 0xFFFFFFFF for x in (p["min_weight"], p["max_weight"],
                                               p["a2_plus"], p["a2_minus"])]
    ws = 2.0 ** (15 - shifts[0])
    wmap = {(int(a), int(b)): float(w) for a, b, w, d in got}
    ints = [int(round(wmap[(s[0], s[1])] * ws)) for s in case["synapses"]]
    ok = {
        "shift": shifts[0] == res["ring_buffer_shift"],
        "weight_scale": ws == res["weight_scale"],
        "param_words": words[:len(exp_words)] == exp_words,
        "initial_int": ints == res["initial_int"],
        "readback_nA": all(wmap[(s[0], s[1])] == i / ws for s, i in zip(case["synapses"], ints)),
    }
    print("RESULT", json.dumps({"name": name, "ring_buffer_shifts": shifts, "weight_scale": ws,
                                "n_param_words": len(words), "ok": ok}))
    return ok


def run_all(case_files, work):
    lines = []
    for f in case_files:
        f = os.path.abspath(f)
        for c in load_cases(f):
            d = os.path.join(work, "vb", c["name"])
            os.makedirs(os.path.dirname(d), exist_ok=True)
            p = subprocess.run([sys.executable, os.path.abspath(__file__), f, c["name"], d],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            with open(d + ".log", "w") as log:
                log.write(p.stdout)
            res = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
            if p.returncode or not res:
                print(f"{c['name']}: FAILED (rc {p.returncode}), see {d}.log", flush=True)
                continue
            lines += res
            print(res[-1], flush=True)
    out = os.path.join(work, "vb_results.txt")
    with open(out, "w") as fh:
        fh.write("".join(ln + "\n" for ln in lines))
    n_ok = sum(all(json.loads(ln[7:])["ok"].values()) for ln in lines)
    print(f"{n_ok}/{len(lines)} networks match the model; wrote {out}")
    return 0 if lines and n_ok == len(lines) else 1


if __name__ == "__main__":
    if "--all" in sys.argv:
        ap = argparse.ArgumentParser(description="Check the host side on a virtual board.")
        ap.add_argument("--all", action="store_true")
        ap.add_argument("--work", help="work directory (default %s)" % paths.DEFAULT_WORK)
        ap.add_argument("--cases", action="append",
                        help="case file (repeatable; default WORK/cases.json)")
        a = ap.parse_args()
        w = paths.work_dir(a.work)
        sys.exit(run_all(a.cases or [os.path.join(w, "cases.json")], w))
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ok = run_one(*sys.argv[1:4])
    sys.exit(0 if all(ok.values()) else 1)
