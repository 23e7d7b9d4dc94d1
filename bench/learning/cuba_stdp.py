#!/usr/bin/env python3
"""What learning costs: CUBA-4000 (1 s biological, 10,000 steps at 0.1 ms)
run by `nerve run` as is and with pair STDP on its two excitatory projections
(sPyNNaker's additive rule, w_max twice the initial weight), on the spinnaker
profile, in interleaved rounds, through the CLI a user runs (compile included).
Target (issue 17): the learning run takes at most 2x the plain one.

    python3 bench/learning/cuba_stdp.py [--nerve target/release/nerve] [--rounds 5]

Writes bench/learning/cuba_stdp_last_run.txt (and prints it).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nerve", default=os.path.join(REPO, "target", "release", "nerve"))
    ap.add_argument("--cuba-json", default=os.path.join(REPO, "..", "shared", "data", "cuba", "cuba_4000.json"),
                    help="the shared CUBA data (bench/cuba/make_network.py --from-json)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10000)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="nerve-cuba-stdp-")
    subprocess.run([sys.executable, os.path.join(REPO, "bench", "cuba", "make_network.py"), "--from-json", a.cuba_json, "--out", work],
                   check=True, stdout=subprocess.DEVNULL)
    plain = os.path.join(work, "cuba.json")
    net = json.load(open(plain))
    for p in net["projections"]:
        if p.get("receptor", "excitatory") == "excitatory":
            w = abs(p["weight"])
            p["plasticity"] = {"type": "stdp",
                               "timing_dependence": {"type": "spike_pair", "tau_plus": 20.0, "tau_minus": 20.0,
                                                     "A_plus": 0.01 * 2 * w, "A_minus": 0.012 * 2 * w},
                               "weight_dependence": {"type": "additive", "w_min": 0.0, "w_max": 2 * w}}
    learning = os.path.join(work, "cuba_stdp.json")
    json.dump(net, open(learning, "w"))

    def once(path, tag):
        rep = os.path.join(work, f"{tag}.json")
        t0 = time.perf_counter()
        subprocess.run([a.nerve, "run", path, "--arch", "spinnaker", "--steps", str(a.steps), "-q", "--report", rep], check=True)
        dt = time.perf_counter() - t0
        r = json.load(open(rep))
        return dt, r

    times = {"plain": [], "stdp": []}
    reports = {}
    for k in range(a.rounds):
        for tag, path in (("plain", plain), ("stdp", learning)) if k % 2 == 0 else (("stdp", learning), ("plain", plain)):
            dt, r = once(path, tag)
            times[tag].append(dt)
            reports[tag] = r
    lines = []
    lines.append(f"# bench/learning/cuba_stdp.py, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    lines.append(f"# host CPU: {cpu()}, {os.cpu_count()} CPUs; nerve {a.nerve}")
    lines.append(f"# CUBA-4000, {a.steps} steps at 0.1 ms, spinnaker profile; {a.rounds} interleaved rounds, wall time of `nerve run NET --arch spinnaker` (compile included)")
    lines.append("")
    lines.append(f"{'run':<6} {'best s':>8} {'median s':>9} {'spikes':>8} {'synaptic events':>16} {'learning updates':>17} {'energy J':>10}")
    for tag in ("plain", "stdp"):
        r = reports[tag]
        c = r["counts"]
        lines.append(f"{tag:<6} {min(times[tag]):>8.3f} {statistics.median(times[tag]):>9.3f} {c['spikes']:>8} {c['synaptic_events']:>16} "
                     f"{c.get('synaptic_updates', 0):>17} {r['energy']['total_j']:>10.4g}")
    ratio_best = min(times["stdp"]) / min(times["plain"])
    ratio_med = statistics.median(times["stdp"]) / statistics.median(times["plain"])
    lines.append("")
    lines.append(f"learning / plain: {ratio_best:.2f}x (best), {ratio_med:.2f}x (median); target <= 2x: {'MET' if ratio_med <= 2 else 'NOT MET'}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    open(os.path.join(HERE, "cuba_stdp_last_run.txt"), "w").write(text)


if __name__ == "__main__":
    main()
