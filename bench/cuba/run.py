#!/usr/bin/env python3
"""CUBA side by side: nerve (compile + emulate, timing model on) next to Brian2
cpp_standalone, NEST and the hand-written C++ loop of ../shared/peers/cuba_peers.py,
on the identical network, in one run. Prints wall time (simulation only), spikes,
rate, synaptic events/s, neuron-steps/s and ratios to Brian2 cpp_standalone.

    bench/peers-setup.sh                      # once: bench/.venv/perf
    python3 bench/cuba/run.py                 # N = 4000 and 16000, 10 s biological
    python3 bench/cuba/run.py --N 4000 --T 1 --sims brian_standalone
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cargo_features  # noqa: E402
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
SHARED = os.path.abspath(os.path.join(ROOT, "../shared"))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def keep(rows, row):
    """Adds a result, or replaces the same simulator's at the same N if faster."""
    prev = next((i for i, x in enumerate(rows) if x["N"] == row["N"] and x["sim"] == row["sim"]), None)
    if prev is None:
        rows.append(row)
    elif row["wall"] < rows[prev]["wall"]:
        rows[prev] = row


def host_tool(work, name, *flags):
    """bench/host/NAME.c built into `work` (once) and the two CPUs nerve's
    first two threads are pinned to, or None without a C compiler or a
    second CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    exe = os.path.join(work, name)
    if len(cpus) < 2:
        return None
    if not os.path.exists(exe):
        try:
            sh(["cc", "-O2", *flags, "-pthread", os.path.join(ROOT, f"bench/host/{name}.c"), "-o", exe])
        except (OSError, subprocess.CalledProcessError):
            return None
    return exe, str(cpus[0]), str(cpus[1])


def core_to_core(work):
    """The cache-line round trip between the two CPUs nerve's first two
    threads are pinned to (bench/host/core_to_core.c), or None without a C
    compiler or a second CPU: one of the two threads' per-step costs, and on
    a VM it changes with where the host puts the vCPUs."""
    cmd = host_tool(work, "core_to_core")
    return float(sh(list(cmd)).stdout) if cmd else None


def shared_core(work):
    """Whether the two CPUs nerve's first two threads are pinned to are two
    cores or one core's two hyperthreads (bench/host/shared_core.c, ~0.2 s):
    (ratio of side-by-side to alone time, its verdict), or None without a C
    compiler or a second CPU. On a VM the host may move the vCPUs at any
    moment: this says where they were just before the round."""
    cmd = host_tool(work, "shared_core", "-fno-tree-vectorize")
    if not cmd:
        return None
    out = sh(list(cmd)).stdout.strip()
    ratio = float(out.split("ratio ")[1].split(":")[0])
    return ratio, out.split(": ", 1)[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", default="4000,16000")
    ap.add_argument("--T", type=float, default=10.0, help="biological seconds")
    ap.add_argument("--threads", default="1,2", help="nerve thread counts")
    ap.add_argument("--arch", default="spinnaker")
    ap.add_argument("--engines", default="jit",
                    help="nerve engines, comma-separated (jit: the host's best backend; jit-cranelift, jit-avx512, jit-avx2, interp)")
    ap.add_argument("--sims", default="brian_standalone,nest,cpp_ref")
    ap.add_argument("--venv", default=os.path.join(ROOT, "bench/.venv/perf"))
    ap.add_argument("--repeat", type=int, default=3,
                    help="interleaved rounds; every simulator and setting runs once per round, the best round is reported")
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    py = os.path.join(a.venv, "bin/python")
    if not os.path.exists(py):
        sys.exit(f"no peer venv at {a.venv}: run bench/peers-setup.sh first")
    sh(["cargo", "build", "--release", "-p", "nerve-cli"] + cargo_features.features(), cwd=ROOT)
    nerve = os.path.join(ROOT, "target/release/nerve")
    work = a.work or tempfile.mkdtemp(prefix="nerve-cuba-")
    rows = []
    rounds = []
    round_walls = []
    for N in [int(x) for x in a.N.split(",")]:
        d = os.path.join(work, f"n{N}")
        if N == 4000:
            sh([py, os.path.join(HERE, "make_network.py"), "--from-json", os.path.join(SHARED, "data/cuba/cuba_4000.json"), "--out", d])
        else:
            sh([py, os.path.join(HERE, "make_network.py"), "--N", str(N), "--out", d, "--peers", os.path.join(SHARED, "peers")])
        img = os.path.join(d, "cuba.img")
        t0 = time.perf_counter()
        sh([nerve, "compile", os.path.join(d, "cuba.json"), "--arch", a.arch, "-o", img, "--report", os.path.join(d, "map.json"), "-q"])
        compile_s = time.perf_counter() - t0
        steps = int(round(a.T * 10000))
        jl = os.path.join(d, "peers.jsonl")
        if os.path.exists(jl):
            os.remove(jl)
        # Interleaved rounds: each round runs nerve (every thread count) and then
        # every peer once, so that a slow or fast phase of a shared machine falls
        # on all of them alike; each simulator's best round is reported.
        for rnd in range(a.repeat):
            trip = core_to_core(work)
            share = shared_core(work)
            walls = {}
            for eng in a.engines.split(","):
                for th in [int(x) for x in a.threads.split(",")]:
                    rep = os.path.join(d, f"run{th}.json")
                    sh([nerve, "run", img, "--steps", str(steps), "--threads", str(th), "--engine", eng, "--report", rep, "-q"])
                    r = json.load(open(rep))
                    c = r["counts"]
                    walls[(r["engine"], th)] = r["host"]["wall_seconds"]
                    # The report names the backend `jit` chose.
                    keep(rows, dict(sim=f"nerve {a.arch} {r['engine']} {th}t", N=N, T_s=a.T, wall=r["host"]["wall_seconds"],
                                    spikes=c["spikes"], syn=c["synaptic_events"], setup=compile_s,
                                    mem=r["host"]["emulator_bytes"]))
            for sim in [x for x in a.sims.split(",") if x]:
                # One thread each (cuba_peers' default), one run per round.
                subprocess.run([py, os.path.join(SHARED, "peers/cuba_peers.py"), "--N", str(N), "--T", str(a.T),
                                "--sims", sim, "--jsonl", jl, "--repeat", "1"], check=True, capture_output=True, text=True)
            # Each round's thread ratios next to the round trip measured just before.
            per = " ".join(f"{e} {th}t/1t {walls[(e, 1)] / w:.2f}" for (e, th), w in walls.items() if th != 1 and (e, 1) in walls)
            trip_s = f"{trip:.0f} ns" if trip is not None else "not measured"
            share_s = f"side by side {share[0]:.2f}x alone ({share[1]})" if share else "cores not checked"
            rounds.append(f"N={N} round {rnd + 1}: core-to-core round trip {trip_s}; {share_s}; {per or 'one thread count'}")
            round_walls.append((N, share, walls))
            print(f"  N={N} round {rnd + 1}/{a.repeat} done", file=sys.stderr, flush=True)
        if os.path.exists(jl):
            for line in open(jl):
                r = json.loads(line)
                if "wall_sim_s" not in r:
                    continue
                keep(rows, dict(sim=r["sim"], N=N, T_s=a.T, wall=r["wall_sim_s"], spikes=r["n_spikes"],
                                syn=r["syn_events"], setup=r.get("wall_setup_s", float("nan")), mem=None))
    print(f"CUBA, dt 0.1 ms, {a.T} s biological; wall = simulation only, best of {a.repeat} interleaved rounds for every simulator (nerve: the timesteps, timing model on, image load and JIT compile excluded as the peers' build is; peers one thread); "
          f"load average {os.getloadavg()[0]:.2f}")
    hdr = f"{'simulator':<32}{'N':>7}{'wall s':>9}{'spikes':>10}{'rate Hz':>9}{'syn ev/s':>11}{'nrn-steps/s':>13}{'vs brian_sa':>12}"
    print(hdr)
    print("-" * len(hdr))
    for N in sorted({r["N"] for r in rows}):
        ref = next((r["wall"] for r in rows if r["N"] == N and r["sim"] == "brian_standalone"), None)
        for r in [x for x in rows if x["N"] == N]:
            steps = r["T_s"] * 10000
            ratio = f"{r['wall'] / ref:.2f}x" if ref else "-"
            print(f"{r['sim']:<32}{N:>7}{r['wall']:>9.3f}{r['spikes']:>10}{r['spikes'] / N / r['T_s']:>9.2f}"
                  f"{r['syn'] / r['wall']:>11.3g}{N * steps / r['wall']:>13.3g}{ratio:>12}")
    print("per round (a second thread waits for the first's spikes every step: the round trip is that wait's floor; "
          "on one core's two hyperthreads two threads share one core's units):")
    for line in rounds:
        print("  " + line)
    # The thread ratios over the rounds whose CPUs were found to be two cores
    # just before (each simulator's best of those rounds), next to all rounds'.
    for N in sorted({n for n, _, _ in round_walls}):
        two = [w for n, sc, w in round_walls if n == N and sc and sc[1] == "two cores"]
        keys = sorted({k for w in two for k in w if k[1] != 1 and (k[0], 1) in w})
        if two and keys:
            best = lambda k: min(w[k] for w in two if k in w)  # noqa: E731
            per = " ".join(f"{e} {th}t/1t {best((e, 1)) / best((e, th)):.2f}" for e, th in keys)
            print(f"  N={N}, best of the {len(two)} of {a.repeat} rounds on two cores: {per}")
            # Round by round, how steady the speed-up is (the best of each
            # count can come from different rounds).
            for e, th in keys:
                rs = sorted(w[(e, 1)] / w[(e, th)] for w in two if (e, 1) in w and (e, th) in w)
                if rs:
                    at = sum(x >= 1.6 for x in rs)
                    print(f"  N={N}, {e} {th}t/1t round by round on two cores: median {statistics.median(rs):.2f}, lowest {rs[0]:.2f}, "
                          f"at least 1.6 in {at} of {len(rs)} (unrounded)")
    json.dump(rows, open(os.path.join(work, "results.json"), "w"), indent=1)
    print(f"(results: {work}/results.json)")


if __name__ == "__main__":
    main()
