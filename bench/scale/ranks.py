#!/usr/bin/env python3
"""Scale-out benchmark (issue 21): one image run on 1 process x 1 thread,
1 process x 2 threads and `mpirun -np 2` (1 thread per rank), interleaved,
through the user's path (`nerve run IMAGE --report`). Per configuration:
the emulation loop's seconds (the report's host.wall_seconds, rank 0's for
MPI), the load seconds, each process's wall time and peak RSS
(/usr/bin/time), and for MPI each rank's bytes and messages sent per step.
First, once: spikes (--record) and summaries of 1 process and 2 ranks are
compared (identical spikes; summaries equal but for host times and ranks).
With --ref-nerve OTHER, a fourth configuration, "ref2", runs 2 ranks with that
build, interleaved (e.g. a build that exchanges every step, to measure what
exchanging once per minimum inter-rank delay saves).

  python3 bench/scale/make_1m.py /dev/shm/net_1m.json
  target/release/nerve compile /dev/shm/net_1m.json --arch spinnaker -o /dev/shm/ring_1m.img
  python3 bench/scale/ranks.py /dev/shm/ring_1m.img --steps 300 --repeat 3

needs a release build with the `mpi` feature
(`cargo build --release -p nerve-cli --features mpi`) and Open MPI."""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("image")
ap.add_argument("--steps", type=int, default=300)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--nerve", default=os.path.join(os.path.dirname(__file__), "../../target/release/nerve"))
ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "ranks_last_run.json"))
ap.add_argument("--no-check", action="store_true", help="skip the identity check")
ap.add_argument("--ref-nerve", help="also run 2 ranks with this nerve binary (configuration ref2)")
a = ap.parse_args()
nerve = os.path.abspath(a.nerve)
mpirun = ["mpirun", "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
work = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
TIME = ["/usr/bin/time", "-f", "TIME %e %M"]


def run(cfg, extra=()):
    rep = os.path.join(work, f"{cfg}.json")
    base = ["run", a.image, "--steps", str(a.steps), "--report", rep, "-q", *extra]
    if cfg in ("mpi2", "ref2"):
        exe = os.path.abspath(a.ref_nerve) if cfg == "ref2" else nerve
        cmd = mpirun + ["-np", "2"] + TIME + [exe] + base + ["--threads", "1"]
    else:
        cmd = TIME + [nerve] + base + ["--threads", "2" if cfg == "solo2" else "1"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}\n{p.stderr}")
    procs = [(float(w), int(k) * 1024) for w, k in re.findall(r"TIME ([\d.]+) (\d+)", p.stderr)]
    s = json.load(open(rep))
    return {"loop_s": s["host"]["wall_seconds"], "load_s": s["host"]["load_seconds"],
            "wall_s": max(w for w, _ in procs), "peak_rss": [k for _, k in procs],
            "ranks": s.get("ranks", []), "summary": s}


def strip(s):
    s = dict(s)
    s.pop("host"); s.pop("ranks", None)
    return s


cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip()
flags = subprocess.run(["sh", "-c", "grep -o -w 'avx512f\\|avx2' /proc/cpuinfo | sort -u | tr '\\n' ' '"], capture_output=True, text=True).stdout.strip()
result = {"image": a.image, "steps": a.steps, "host": {"cpu": cpu, "flags": flags, "cpus": os.cpu_count()}, "runs": []}
if not a.no_check:
    one = run("solo1", ["--record", os.path.join(work, "solo1.csv")])
    two = run("mpi2", ["--record", os.path.join(work, "mpi2.csv")])
    same = open(os.path.join(work, "solo1.csv"), "rb").read() == open(os.path.join(work, "mpi2.csv"), "rb").read()
    equal = strip(one["summary"]) == strip(two["summary"])
    spikes = one["summary"]["counts"]["spikes"]
    result["identical"] = {"spikes_file": same, "summary": equal, "spikes": spikes}
    print(f"identity: spikes file {'identical' if same else 'DIFFERENT'}, summary {'equal' if equal else 'DIFFERENT'} ({spikes} spikes)")
    if not (same and equal):
        sys.exit(1)
configs = ["solo1", "mpi2", "solo2"] + (["ref2"] if a.ref_nerve else [])
for r in range(a.repeat):
    for cfg in configs:
        x = run(cfg)
        x.pop("summary")
        x["config"], x["repeat"] = cfg, r
        result["runs"].append(x)
        extra = " ".join(f"rank {q['rank']}: {q['bytes_per_step']:.0f} B/step, {q['messages_per_step']:.2f} msg/step, exchange {q['exchange_seconds']:.2f} s" for q in x["ranks"])
        print(f"{r} {cfg:6s} loop {x['loop_s']:7.3f} s  load {x['load_s']:6.2f} s  wall {x['wall_s']:6.2f} s  peak RSS {', '.join(f'{k / 2**30:.2f}' for k in x['peak_rss'])} GiB  {extra}", flush=True)
med = lambda cfg, f: statistics.median(f(x) for x in result["runs"] if x["config"] == cfg)
loop = {c: med(c, lambda x: x["loop_s"]) for c in configs}
rss = {c: med(c, lambda x: max(x["peak_rss"])) for c in configs}
result["median"] = {"loop_s": loop, "peak_rss": rss,
                    "speedup_mpi2_over_solo1": loop["solo1"] / loop["mpi2"], "speedup_solo2_over_solo1": loop["solo1"] / loop["solo2"],
                    "rss_mpi2_rank_over_solo1": rss["mpi2"] / rss["solo1"]}
if a.ref_nerve:
    result["median"]["speedup_mpi2_over_ref2"] = loop["ref2"] / loop["mpi2"]
print(json.dumps(result["median"], indent=1))
json.dump(result, open(a.out, "w"), indent=1)
