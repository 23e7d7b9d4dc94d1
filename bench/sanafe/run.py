#!/usr/bin/env python3
"""nerve side by side with SANA-FE on the identical network and placement.

For every N x T x mapping: SANA-FE runs ../shared/peers/sanafe_peer.py (its
bundled Loihi architecture, "detailed" timing model, one thread) twice: timed
without its per-timestep trace, and again with it only for the per-step latency
statistics (the trace slows SANA-FE several-fold); nerve runs the
same network (bench/sanafe/network.py: same neurons, weights, initial state and
core placement) with `nerve compile ... --placement place.csv` and `nerve run`,
and again as one command, `nerve run net.json --arch ... --placement place.csv`,
which compiles in memory and runs the same image (its counts must equal the
two-command run's); the end-to-end comparison uses the one command, the
two-command time is printed beside it.
All are measured with /usr/bin/time (wall seconds, peak RSS), in --repeat
interleaved rounds (SANA-FE once, then nerve once, per round; default 3): the
fastest wall time of each counts, and the largest peak memory. Prints per-step
energy, per-step latency, spikes, wall time and peak memory for both and the
ratios, and checks the issue's targets.

    python3 bench/sanafe/run.py                         # N 4000,16000 x T 1000,10000, spread
    python3 bench/sanafe/run.py --N 4000 --T 1000 --mapping spread,pack

The venv (default bench/.venv/sanafe) is created on first use:
    python3 -m venv bench/.venv/sanafe && bench/.venv/sanafe/bin/pip install sanafe numpy

The nerve profile used is derived from --arch (default: isa/profiles/loihi.toml)
and written to WORK/arch_<name>.json:
  * topology: SANA-FE's Loihi chip, ONE chip of 8 x 4 tiles x 4 cores (loihi.yaml
    width 8, height 4), so that hops east-west / north-south between the same
    cores are the same (--keep-topology uses the profile's own grid instead);
  * per-core memory limits lifted (input axons, output axons, synapse words,
    router entries): SANA-FE checks none of them, and with p = 0.02 the
    N = 16,000 network needs ~15k input axons per core (Loihi: 4,096);
  * costs, message model (per destination), send/receive overlap and sync
    table: the profile's own, unchanged (the `loihi` profile follows SANA-FE's
    calibrated model; docs/energy-model.md);
  * --static off (default) runs `nerve run --static-power off`: SANA-FE has no
    static power; the table compares dynamic energy either way.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
SHARED = os.path.abspath(os.path.join(ROOT, "../shared"))
PEER = os.path.join(SHARED, "peers/sanafe_peer.py")
TIME = "/usr/bin/time"

# SANA-FE's bundled loihi.yaml, per event (MODEL.md section 1)
SFE_PJ = dict(access=51.2, update=21.6, spike=69.3, syn_sparse=33.6, syn_dense=35.5, msg_out=111.0, msg_in=0.0,
              hop_ew=3.0, hop_ns=4.2)
SFE_NS = dict(access=6.0, update=3.7, spike=30.0, syn_sparse=4.7, syn_dense=3.8, msg_out=5.1, msg_in=16.0,
              hop_ew=4.1, hop_ns=6.5)
SFE_SYNC_NS = [[1, 600.0], [2, 1000.0], [3, 1000.0], [4, 1400.0], [28, 1400.0], [29, 1800.0]]  # step table, exact at integers


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def timed(cmd, cwd=None, stdout=None):
    """Runs cmd under /usr/bin/time; returns (wall s, peak RSS bytes, stdout text)."""
    fd, tf = tempfile.mkstemp(prefix="time-", suffix=".txt")
    os.close(fd)
    full = [TIME, "-f", "%e %M", "-o", tf] + cmd
    r = subprocess.run(full, cwd=cwd, text=True, capture_output=True)
    try:
        e, m = open(tf).read().split()[-2:]
    except Exception:
        e, m = "nan", "0"
    os.unlink(tf)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-4000:]}")
    return float(e), int(m) * 1024, r.stdout


def ensure_venv(venv):
    py = os.path.join(venv, "bin/python")
    if not os.path.exists(py):
        log(f"creating {venv} (pip install sanafe numpy)")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin/pip"), "install", "-q", "sanafe", "numpy"], check=True)
    return py


def load_profile(arch):
    import tomllib
    path = arch if os.path.exists(arch) else os.path.join(ROOT, "isa/profiles", f"{arch}.toml")
    if path.endswith(".json"):
        return json.load(open(path)), path
    with open(path, "rb") as f:
        return tomllib.load(f), path


def fig(v, src, status="secondary"):
    return {"value": float(v), "source": src, "status": status}


def derive_profile(base, keep_topology):
    a = json.loads(json.dumps(base))
    a["name"] = f"{base['name']}-vs-sanafe"
    a["description"] = (base["description"] + " [bench/sanafe/run.py: " +
                        ("own topology" if keep_topology else "one chip of 8x4 tiles as SANA-FE's loihi.yaml") +
                        ", per-core memory limits lifted]")
    if not keep_topology:
        a["topology"].update(kind="mesh", tiles_per_chip=[8, 4], chips=[1, 1], cores_per_tile=4, chips_per_board=1)
    c = a["core"]
    for k in ("max_input_keys", "max_output_axons", "max_input_table_entries"):
        c.pop(k, None)  # None: no limit
    c["synapse_words"] = 1 << 28
    a["router"]["table_entries"] = 1 << 20
    return a


def sfe_on_nerve_counts(c):
    """SANA-FE's energy model (MODEL.md section 1) evaluated by hand on nerve's counts, J:
    an independent check of nerve's energy arithmetic."""
    pj = ((c["updates_active"] + c["updates_idle"]) * SFE_PJ["access"] + c["updates_active"] * SFE_PJ["update"]
          + c["neuron_spikes"] * SFE_PJ["spike"] + c["synaptic_events"] * SFE_PJ["syn_sparse"]
          + c["packets_out"] * SFE_PJ["msg_out"] + c["hops_ew"] * SFE_PJ["hop_ew"] + c["hops_ns"] * SFE_PJ["hop_ns"])
    return pj * 1e-12


def sync_s(s):
    """SANA-FE's sync latency for its run: the table entry for the tiles in use."""
    if not s:
        return None
    tiles = math.ceil(s["cores_used"] / 4)
    return max(ns for t, ns in SFE_SYNC_NS if t <= tiles) * 1e-9


def group_kinds(by_kind):
    g = {"synapse": 0.0, "soma": 0.0, "network": 0.0, "static": 0.0, "other": 0.0}
    for k in by_kind:
        n = k["kind"].lower()
        if "static" in n:
            g["static"] += k["joules"]
        elif "synaptic op" in n or "synapse" in n:
            g["synapse"] += k["joules"]
        elif "neuron" in n or "instruction" in n or n.startswith("spike"):
            g["soma"] += k["joules"]
        elif "packet" in n or "hop" in n or "chip" in n or "message" in n:
            g["network"] += k["joules"]
        else:
            g["other"] += k["joules"]
    return g


def run_sanafe(py, N, T, mapping, work, reuse, repeat=1, between=None):
    """Two SANA-FE runs of the same simulation: the timed one without SANA-FE's
    per-timestep performance trace (writing it makes SANA-FE several times
    slower: 4k x 10k simulated in 6.6 s without, 42 s with), which gives every
    wall time, memory and result; and a traced one, used only for the per-step
    latency statistics (p50, p99, max) that need the trace."""
    out = os.path.join(work, f"sanafe_n{N}_t{T}_{mapping}.json")
    if reuse and os.path.exists(out):
        return json.load(open(out))
    base = [py, PEER, "--n", str(N), "--t", str(T), "--mapping", mapping, "--threads", "1"]
    r = None
    walls = []
    for k in range(repeat):
        log(f"SANA-FE N={N} T={T} {mapping} (timed, no trace) round {k + 1}/{repeat} ...")
        wall, rss, stdout = timed(base)
        x = json.loads(stdout)
        walls.append((wall, x.get("wall_sim_s")))
        if r is None or wall < r["process_wall_s"]:
            r = x
            r["process_wall_s"] = wall
        r["peak_rss_bytes"] = max(r.get("peak_rss_bytes", 0), rss)
        if between is not None:
            between(k)  # nerve's round k, so that slow and fast phases of the machine fall on both
    sims = [w[1] for w in walls if w[1] is not None]
    if sims:
        r["wall_sim_s"] = min(sims)
    r["rounds_wall_s"] = walls
    log(f"SANA-FE N={N} T={T} {mapping} (with --perf-trace, for per-step statistics) ...")
    twall, _, tstdout = timed(base + ["--perf-trace"])
    t = json.loads(tstdout)
    for k in ("energy_per_timestep_J", "latency_per_timestep_s", "spikes_total"):
        if t.get(k) != r.get(k):
            log(f"note: SANA-FE's traced run differs in {k}: {t.get(k)} vs {r.get(k)}")
    r["latency_per_timestep_stats_s"] = t.get("latency_per_timestep_stats_s", {})
    r["traced_wall_sim_s"] = t.get("wall_sim_s")
    r["traced_process_wall_s"] = twall
    with open(out, "w") as f:
        json.dump(r, f, indent=1)
    return r


def run_nerve(nerve, py, N, T, mapping, work, arch_json, threads, reuse, compiled, static):
    """network.py once per (N, mapping) and arch; compile once; run for T steps
    from the image, and as one command from the network."""
    d = os.path.join(work, f"net_n{N}_{mapping}")
    key = (N, mapping)
    if key not in compiled:
        if not (reuse and os.path.exists(os.path.join(d, "facts.json"))):
            log(f"network.py N={N} {mapping} ...")
            subprocess.run([py, os.path.join(HERE, "network.py"), "--n", str(N), "--mapping", mapping, "--out", d,
                            "--arch-json", arch_json], check=True, capture_output=True, text=True)
        facts = json.load(open(os.path.join(d, "facts.json")))
        log(f"nerve compile N={N} {mapping} ...")
        cw, cm, _ = timed([nerve, "compile", os.path.join(d, "net.json"), "--arch", arch_json, "--placement",
                           os.path.join(d, "place.csv"), "--neurons-per-core", str(facts["neurons_per_core"]),
                           "-o", os.path.join(d, "net.img"), "--report", os.path.join(d, "map.json"), "-q"])
        compiled[key] = (facts, cw, cm)
    facts, cw, cm = compiled[key]
    img = os.path.join(d, "net.img")
    rep = os.path.join(d, f"run_t{T}.json")
    log(f"nerve run N={N} T={T} {mapping} ...")
    rw, rm, _ = timed([nerve, "run", img, "--steps", str(T), "--threads", str(threads), "--report", rep, "-q",
                       "--static-power", static])
    r = json.load(open(rep))
    # The same, as one command: `nerve run NET.json` compiles in memory and runs that image.
    rep1 = os.path.join(d, f"run1_t{T}.json")
    log(f"nerve run net.json (compile in memory) N={N} T={T} {mapping} ...")
    ew, em, _ = timed([nerve, "run", os.path.join(d, "net.json"), "--arch", arch_json, "--placement",
                       os.path.join(d, "place.csv"), "--neurons-per-core", str(facts["neurons_per_core"]),
                       "--steps", str(T), "--threads", str(threads), "--report", rep1, "-q", "--static-power", static])
    r1 = json.load(open(rep1))
    if r1["counts"] != r["counts"]:
        raise RuntimeError("nerve run net.json and nerve compile + nerve run disagree")
    return dict(facts=facts, compile_wall_s=cw, compile_rss=cm, run_wall_s=rw, run_rss=rm, run=r,
                e2e_wall_s=ew, e2e_rss=em, map=json.load(open(os.path.join(d, "map.json"))))


def best_of(rounds):
    """nerve's rounds: the fastest of each wall time, the largest peak memory."""
    if not rounds:
        return None
    n = dict(min(rounds, key=lambda r: r["run"]["host"]["wall_seconds"]))
    n["run_wall_s"] = min(r["run_wall_s"] for r in rounds)
    n["e2e_wall_s"] = min(r["e2e_wall_s"] for r in rounds)
    for k in ("compile_rss", "run_rss", "e2e_rss"):
        n[k] = max(r[k] for r in rounds)
    n["rounds"] = [dict(sim_s=r["run"]["host"]["wall_seconds"], run_s=r["run_wall_s"], e2e_s=r["e2e_wall_s"])
                   for r in rounds]
    return n


def fmt(x, unit=""):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if unit == "B":
        return f"{x / 1e6:,.1f} MB"
    if isinstance(x, int):
        return f"{x:,}"
    ax = abs(x)
    for s, f in (("", 1.0), ("m", 1e-3), ("u", 1e-6), ("n", 1e-9), ("p", 1e-12)):
        if ax >= f or s == "p":
            return f"{x / f:.4g} {s}{unit}".strip()
    return f"{x:.4g}"


def ratio(a, b):
    try:
        return a / b if b else float("nan")
    except TypeError:
        return float("nan")


def compare(N, T, mapping, s, n):
    """Rows (quantity, SANA-FE, nerve, nerve/SANA-FE) and the target checks."""
    rows = []
    if n is not None:
        r = n["run"]
        c = r["counts"]
        steps = r["steps"]
        e_dyn = r["energy"]["dynamic_j"] / steps
        e_tot = r["energy"]["total_j"] / steps
        t = r["timing"]
        lat = t["step_ns"]
        grp = group_kinds(r["energy"]["by_kind"])
    st = s.get("latency_per_timestep_stats_s", {}) if s else {}

    def add(name, sv, nv, unit=""):
        rows.append((name, sv, nv, ratio(nv, sv) if (sv is not None and nv is not None) else float("nan"), unit))

    add("energy per step", s and s["energy_per_timestep_J"], n and e_tot, "J")
    add("  nerve dynamic only", s and s["energy_per_timestep_J"], n and e_dyn, "J")
    add("  synapse part", s and s["energy_J"]["synapse"] / s["T"], n and grp["synapse"] / steps, "J")
    add("  soma / neuron part", s and s["energy_J"]["soma"] / s["T"], n and grp["soma"] / steps, "J")
    add("  network part", s and s["energy_J"]["network"] / s["T"], n and grp["network"] / steps, "J")
    add("  SANA-FE costs x nerve counts (by hand)", s and s["energy_per_timestep_J"],
        n and sfe_on_nerve_counts(c) / steps, "J")
    add("  energy per synaptic event", s and s["energy_J"]["synapse"] / max(s["synaptic_events"], 1),
        n and grp["synapse"] / max(c["synaptic_events"], 1), "J")
    add("  energy per neuron update", s and s["energy_J"]["soma"] / max(s["neurons_updated"], 1) if s else None,
        n and grp["soma"] / max(c["updates_active"] + c["updates_idle"], 1), "J")
    add("  energy per message", s and s["energy_J"]["network"] / max(s["packets_sent"], 1),
        n and grp["network"] / max(c["packets_out"], 1), "J")
    add("latency per step, mean", s and s["latency_per_timestep_s"], n and lat["mean"] * 1e-9, "s")
    add("latency per step, p50", st.get("p50"), n and lat["p50"] * 1e-9, "s")
    add("latency per step, p99", st.get("p99"), n and lat["p99"] * 1e-9, "s")
    add("latency per step, max", st.get("max"), n and lat["max"] * 1e-9, "s")
    if n is not None:
        add("  nerve: core part mean", None, t["core_ns"]["mean"] * 1e-9, "s")
        add("  nerve: network part mean", None, t["net_ns"]["mean"] * 1e-9, "s")
        add("  sync (barrier)", sync_s(s), t["barrier_ns"] * 1e-9, "s")
    add("spikes", s and s["spikes_total"], n and c["spikes"])
    add("synaptic events", s and s["synaptic_events"], n and c["synaptic_events"])
    add("messages", s and s["packets_sent"], n and c["packets_out"])
    add("hops east-west + north-south", None, n and c["hops_ew"] + c["hops_ns"])
    add("neuron updates, active ('updated')", s and s["neurons_updated"], n and c["updates_active"])
    add("wall, simulation only", s and s["wall_sim_s"], n and r["host"]["wall_seconds"], "s")
    add("  SANA-FE with its per-step trace (not compared)", s and s.get("traced_wall_sim_s"), None, "s")
    add("wall, end to end (nerve run net.json)", s and s["process_wall_s"], n and n["e2e_wall_s"], "s")
    add("  nerve compile + nerve run, via the image file", None, n and n["compile_wall_s"] + n["run_wall_s"], "s")
    add("peak memory (max RSS)", s and s["peak_rss_bytes"], n and max(n["compile_rss"], n["run_rss"], n["e2e_rss"]), "B")
    checks = []
    if s is not None and n is not None:
        de = e_tot / s["energy_per_timestep_J"] - 1.0
        dl = lat["mean"] * 1e-9 / s["latency_per_timestep_s"] - 1.0
        checks.append(("energy per step within 5%", abs(de) <= 0.05, f"{100 * de:+.2f}%"))
        checks.append(("latency per step within 10%", abs(dl) <= 0.10, f"{100 * dl:+.2f}%"))
        if N == 16000 and T == 10000:
            sp = s["process_wall_s"] / n["e2e_wall_s"]
            mm = s["peak_rss_bytes"] / max(n["compile_rss"], n["run_rss"], n["e2e_rss"])
            ss = s["wall_sim_s"] / r["host"]["wall_seconds"]
            checks.append(("nerve >= 50x faster (end to end: SANA-FE build+load+sim vs nerve run net.json)",
                           sp >= 50, f"{sp:.1f}x"))
            checks.append(("nerve >= 50x faster (simulation only)", ss >= 50, f"{ss:.1f}x"))
            checks.append(("nerve >= 10x smaller peak memory", mm >= 10, f"{mm:.1f}x"))
    return rows, checks


def print_table(N, T, mapping, rows, checks, arch_name, static):
    print(f"\n=== N={N:,}  T={T:,}  mapping={mapping}  nerve arch={arch_name} (static power: {static}) ===")
    w = max(len(r[0]) for r in rows) + 2
    print(f"{'quantity':<{w}}{'SANA-FE':>16}{'nerve':>16}{'nerve/SANA-FE':>15}")
    for name, sv, nv, rt, unit in rows:
        print(f"{name:<{w}}{fmt(sv, unit):>16}{fmt(nv, unit):>16}{('-' if math.isnan(rt) else f'{rt:.4f}'):>15}")
    for what, ok, val in checks:
        print(f"  [{'PASS' if ok else 'FAIL'}] {what}: {val}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--N", default="4000,16000")
    ap.add_argument("--T", default="1000,10000")
    ap.add_argument("--mapping", default="spread", help="comma list of spread, pack")
    ap.add_argument("--arch", default="loihi", help="nerve profile name (isa/profiles/NAME.toml) or a file")
    ap.add_argument("--static", choices=["on", "off"], default="off")
    ap.add_argument("--keep-topology", action="store_true")
    ap.add_argument("--venv", default=os.path.join(ROOT, "bench/.venv/sanafe"))
    ap.add_argument("--nerve", default=os.path.join(ROOT, "target/release/nerve"))
    ap.add_argument("--nerve-threads", type=int, default=1)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "nerve-vs-sanafe"))
    ap.add_argument("--reuse", action="store_true", help="reuse SANA-FE results and network files in WORK")
    ap.add_argument("--skip-sanafe", action="store_true")
    ap.add_argument("--skip-nerve", action="store_true")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed rounds per point, SANA-FE and nerve interleaved; the fastest of each counts")
    a = ap.parse_args()
    if not os.path.exists(TIME):
        sys.exit(f"{TIME} is needed (apt-get install time)")
    os.makedirs(a.work, exist_ok=True)
    py = ensure_venv(a.venv)
    base, base_path = load_profile(a.arch)
    prof = derive_profile(base, a.keep_topology)
    arch_json = os.path.join(a.work, f"arch_{prof['name']}.json")
    with open(arch_json, "w") as f:
        json.dump(prof, f, indent=1)
    log(f"nerve profile: {arch_json} (from {base_path})")
    results = []
    compiled = {}
    for N in [int(x) for x in a.N.split(",")]:
        for mapping in a.mapping.split(","):
            for T in [int(x) for x in a.T.split(",")]:
                s = n = None
                rounds = []

                def nerve_round(_k):
                    if a.skip_nerve:
                        return
                    try:
                        rounds.append(run_nerve(a.nerve, py, N, T, mapping, a.work, arch_json, a.nerve_threads,
                                                a.reuse, compiled, a.static))
                    except Exception as e:
                        log(f"nerve failed: {e}")

                if not a.skip_sanafe:
                    try:
                        s = run_sanafe(py, N, T, mapping, a.work, a.reuse, a.repeat, nerve_round)
                    except Exception as e:  # keep going: the other side is still worth printing
                        log(f"SANA-FE failed: {e}")
                while not a.skip_nerve and len(rounds) < a.repeat:
                    before = len(rounds)
                    nerve_round(before)
                    if len(rounds) == before:
                        break
                n = best_of(rounds)
                rows, checks = compare(N, T, mapping, s, n)
                print_table(N, T, mapping, rows, checks, prof["name"], a.static)
                sys.stdout.flush()
                results.append(dict(N=N, T=T, mapping=mapping, sanafe=s,
                                    nerve=None if n is None else {k: v for k, v in n.items() if k != "map"},
                                    rows=[dict(quantity=r[0], sanafe=r[1], nerve=r[2], ratio=r[3], unit=r[4])
                                          for r in rows],
                                    checks=[dict(check=c[0], ok=c[1], value=c[2]) for c in checks]))
                with open(os.path.join(a.work, "results.json"), "w") as f:
                    json.dump(dict(arch=prof["name"], static=a.static, results=results), f, indent=1,
                              default=str)
    log(f"results: {os.path.join(a.work, 'results.json')}")


if __name__ == "__main__":
    main()
