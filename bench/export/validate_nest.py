#!/usr/bin/env python3
"""nerve's PyNN export (--backend nest) against nerve's own spinnaker-profile emulation.

    python bench/export/validate_nest.py [--nerve PATH] [--work DIR] [--only a,b] [--duration MS]

For every network (default: the bundled examples, cuba, random_500 from nets.py):
  1. nerve run NET --arch spinnaker --steps DURATION/dt --record nerve.csv
  2. nerve export pynn NET --arch spinnaker --backend nest --duration DURATION -o net.py
     (Poisson sources become SpikeSourceArrays with nerve's spikes: same input)
  3. python net.py --duration DURATION --out nest.csv      (nest venv, PyNN 0.13 + NEST 3.10)
  4. per recorded population, the firing rate (Hz) from both CSVs.
PASS when NEST's rate is within --tolerance (10 %) of nerve's. Populations under 1 Hz in
both compare spike counts instead: PASS when |difference| <= max(10 % of the mean count,
2 sqrt(mean count)) (two Poisson standard deviations). Exit status 1 if any population
fails or a step errors.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = common.common_args(common.parser(__doc__), "nerve-nest-")
    ap.add_argument("--only", default=None, help="comma-separated network names from nets.py's manifest")
    ap.add_argument("--duration", type=float, default=1000.0, help="biological ms (default %(default)s)")
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("--arch", default="spinnaker")
    args = ap.parse_args()
    work = common.setup_work(args, "nerve-nest-")
    py = common.venv_python(args.venvs, "nest")
    nets_dir, manifest = common.ensure_nets(args, ["examples", "cuba", "random_500"])
    names = common.select(manifest, args.only,
                          lambda n, m: m["group"] in ("examples", "cuba", "random_500") and m["kind"] == "lif")

    rows, timing, errors = [], [], []
    n_fail = 0
    for name in names:
        m = manifest[name]
        net = m["path"]
        d = work / name
        d.mkdir(exist_ok=True)
        dt = json.load(open(net)).get("dt_ms", 0.1)
        steps = int(round(args.duration / dt))
        nerve_csv, nest_csv, script = d / "nerve.csv", d / "nest.csv", d / f"{name}_nest.py"
        r_run = common.run([args.nerve, "run", net, "--arch", args.arch, "--steps", steps,
                            "--record", nerve_csv], timeout=args.timeout, log=d / "nerve_run.log")
        r_exp = common.run([args.nerve, "export", "pynn", net, "--arch", args.arch, "--backend", "nest",
                            "--duration", args.duration, "-o", script], timeout=args.timeout,
                           log=d / "export.log")
        r_sim = None
        if r_exp.ok:
            r_sim = common.run([py, script, "--duration", args.duration, "--out", nest_csv],
                               cwd=d, timeout=args.timeout, log=d / "nest_run.log")
        timing.append([name, steps, common.fmt_s(r_run.secs), common.fmt_s(r_exp.secs),
                       common.fmt_s(r_sim.secs if r_sim else None)])
        failed_step = None
        if not r_run.ok:
            failed_step = ("nerve run", r_run, d / "nerve_run.log")
        elif not r_exp.ok:
            failed_step = ("nerve export pynn --backend nest", r_exp, d / "export.log")
        elif not r_sim.ok or not nest_csv.exists():
            failed_step = ("NEST run", r_sim, d / "nest_run.log")
        if failed_step:
            what, r, log = failed_step
            n_fail += 1
            errors.append(f"{name}: {what} failed (exit {r.rc}{', timeout' if r.timed_out else ''}; "
                          f"log {log}):\n{r.tail()}")
            rows.append([name, "-", "-", "-", "-", "-", "-", "-", "ERROR", what + " failed"])
            continue
        c_nerve = common.counts_by_pop(nerve_csv)
        c_nest = common.counts_by_pop(nest_csv)
        secs = args.duration / 1000.0
        for pop, size, model, recorded in common.network_pops(net):
            if not recorded:
                continue
            a, b = c_nerve.get(pop, 0), c_nest.get(pop, 0)
            ra, rb = a / size / secs, b / size / secs
            note = ""
            if ra < 1.0 and rb < 1.0:
                mean = (a + b) / 2
                allowed = max(args.tolerance * mean, 2 * math.sqrt(mean))
                ok = abs(a - b) <= allowed
                ratio = f"{b / a:.3f}" if a else ("1.000" if b == 0 else "inf")
                note = f"< 1 Hz in both: counts compared (|diff| {abs(a - b)}, allowed {allowed:.1f})"
            else:
                ratio_v = rb / ra if ra else math.inf
                ok = abs(ratio_v - 1.0) <= args.tolerance
                ratio = f"{ratio_v:.3f}"
            n_fail += not ok
            rows.append([name, pop, size, a, b, f"{ra:.3f}", f"{rb:.3f}", ratio,
                         "PASS" if ok else "FAIL", note])
    print()
    print(f"Firing rates over {args.duration:g} ms, nerve (--arch {args.arch}) vs NEST (PyNN export "
          f"--backend nest), target: within {args.tolerance:.0%}; ratio = NEST Hz / nerve Hz")
    common.table(rows,
                 ["network", "population", "size", "nerve spikes", "NEST spikes", "nerve Hz", "NEST Hz",
                  "ratio", "result", "note"],
                 ["<", "<", ">", ">", ">", ">", ">", ">", "<", "<"])
    print()
    print("Timings (s, wall)")
    common.table(timing, ["network", "steps", "nerve run", "nerve export", "NEST script"])
    for e in errors:
        print("\nERROR " + e)
    print(f"\n{'FAIL' if n_fail else 'PASS'}: {n_fail} failure(s); work dir {work}")
    return 1 if n_fail else 0


if __name__ == "__main__":
    common.main_guard(main)
