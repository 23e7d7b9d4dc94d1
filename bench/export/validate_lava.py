#!/usr/bin/env python3
"""nerve's lava export run by lava-nc 0.10 (fixed_pt) against nerve's loihi-profile emulation,
byte for byte.

    python bench/export/validate_lava.py [--nerve PATH] [--work DIR] [--only a,b] [--steps N]

For every lava_* network of nets.py (lava_reference.make_network seeds 1-3 and the B->B
per-synapse-delay variant), and every bundled example that `nerve export lava` accepts:
  1. nerve run NET --arch loihi --steps N --record nerve.csv
  2. nerve export lava NET --arch loihi --steps N -o net_lava.py
  3. python net_lava.py --steps N --out lava.csv   (lava venv, Python 3.10; own process
     group, killed after --timeout: lava can hang, NOTES.md section 5)
  4. the two CSVs must be identical bytes; otherwise the first differing line is shown.
  5. for lava_s1..3 also (unless --no-reference): shared/peers/lava_reference.py's own lava
     build of the same make_network(seed, n_a, n_b, steps), run in the lava venv; its spikes
     must equal nerve's (this checks nets.py's conversion and the exporter independently).
N is the network's steps from the manifest (else --steps). Exit status 1 on any difference
or error. An example the exporter refuses (e.g. a lif network) is listed as skipped.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def first_difference(a, b):
    la = open(a).read().splitlines()
    lb = open(b).read().splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return i + 1, x, y
    if len(la) != len(lb):
        i = min(len(la), len(lb))
        return i + 1, la[i] if i < len(la) else "<end of file>", lb[i] if i < len(lb) else "<end of file>"
    return None


def reference_check(args, py, d, lr, nerve_csv):
    """Runs shared/peers/lava_reference.py (its own lava network, no traces) and compares its
    spikes with nerve's. Returns (table cell, problem or None)."""
    import json
    ref_json = d / "lava_reference.json"
    r = common.run([py, os.path.join(args.peers, "lava_reference.py"), "--seed", lr["seed"], "--n-a", lr["n_a"],
                    "--n-b", lr["n_b"], "--steps", lr["steps"], "--no-trace", "--out", ref_json],
                   cwd=d, timeout=args.timeout, log=d / "lava_reference.log")
    if not r.ok or not ref_json.exists():
        return "ERROR", (f"lava_reference.py failed (exit {r.rc}{', timeout' if r.timed_out else ''}):\n"
                         f"{r.tail()}")
    g = json.load(open(ref_json))
    ref = {(pop, i, t - 1) for pop, res in g["results"].items()
           for i, ts in enumerate(res["spikes"]) for t in ts}       # lava step t = nerve step t - 1
    got = {(x["population"], int(x["neuron"]), int(round(float(x["time"])))) for x in common.read_spikes(nerve_csv)}
    if ref == got:
        return f"same {len(ref)} spikes", None
    only_ref, only_nerve = sorted(ref - got), sorted(got - ref, key=lambda s: (s[2], s[0], s[1]))
    first = min(only_ref + only_nerve, key=lambda s: (s[2], s[0], s[1]))
    return "DIFFERENT", (f"lava_reference.py's own lava run differs from nerve: {len(only_ref)} spikes only in "
                         f"lava_reference, {len(only_nerve)} only in nerve; earliest {first} (population, neuron, "
                         f"step) in {'lava_reference' if first in ref else 'nerve'}")


def main():
    ap = common.common_args(common.parser(__doc__), "nerve-lava-")
    ap.add_argument("--only", default=None, help="comma-separated network names from nets.py's manifest")
    ap.add_argument("--steps", type=int, default=200, help="steps for networks without their own (default %(default)s)")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip the independent lava_reference.py run of the lava_s* networks")
    ap.add_argument("--peers", default=str(common.PEERS))
    ap.set_defaults(timeout=600.0)
    args = ap.parse_args()
    work = common.setup_work(args, "nerve-lava-")
    py = common.venv_python(args.venvs, "lava")
    _, manifest = common.ensure_nets(args, ["examples", "lava"])
    names = common.select(manifest, args.only, lambda n, m: m["group"] in ("lava", "examples"))

    rows, timing, errors, notes = [], [], [], []
    n_fail = 0
    for name in names:
        m = manifest[name]
        net = m["path"]
        steps = m.get("steps", args.steps)
        d = work / name
        d.mkdir(parents=True, exist_ok=True)
        script, nerve_csv, lava_csv = d / f"{name}_lava.py", d / "nerve.csv", d / "lava.csv"
        r_exp = common.run([args.nerve, "export", "lava", net, "--arch", "loihi", "--steps", steps, "-o", script],
                           timeout=args.timeout, log=d / "export.log")
        if not r_exp.ok and m["group"] == "examples":
            reason = (r_exp.err.strip() or r_exp.out.strip()).splitlines()
            notes.append(f"{name}: not exportable to lava, skipped: {reason[-1] if reason else r_exp.rc}")
            rows.append([name, steps, "-", "-", "-", "-", "SKIP", "not exportable (see note)"])
            continue
        r_run = common.run([args.nerve, "run", net, "--arch", "loihi", "--steps", steps, "--record", nerve_csv],
                           timeout=args.timeout, log=d / "nerve_run.log")
        r_lava = None
        if r_exp.ok:
            r_lava = common.run([py, script, "--steps", steps, "--out", lava_csv], cwd=d,
                                timeout=args.timeout, log=d / "lava_run.log")
        timing.append([name, steps, common.fmt_s(r_run.secs), common.fmt_s(r_exp.secs),
                       common.fmt_s(r_lava.secs if r_lava else None)])
        bad = None
        if not r_run.ok:
            bad = ("nerve run", r_run)
        elif not r_exp.ok:
            bad = ("nerve export lava", r_exp)
        elif not r_lava.ok or not lava_csv.exists():
            bad = ("lava run" + (f" (TIMEOUT after {args.timeout:.0f} s, process group killed)"
                                 if r_lava.timed_out else ""), r_lava)
        if bad:
            n_fail += 1
            errors.append(f"{name}: {bad[0]} failed (exit {bad[1].rc}; logs in {d}):\n{bad[1].tail()}")
            rows.append([name, steps, "-", "-", "-", "-", "ERROR", bad[0] + " failed"])
            continue
        c_nerve, c_lava = common.counts_by_pop(nerve_csv), common.counts_by_pop(lava_csv)
        n_a, n_b = sum(c_nerve.values()), sum(c_lava.values())
        same = nerve_csv.read_bytes() == lava_csv.read_bytes()
        detail = "identical bytes (sha256 %s)" % common.sha256(nerve_csv)[:12]
        if not same:
            n_fail += 1
            diff = first_difference(nerve_csv, lava_csv)
            detail = (f"first difference at line {diff[0]}: nerve '{diff[1]}' vs lava '{diff[2]}'"
                      if diff else "bytes differ (line endings?)")
        ref_cell = "-"
        lr = m.get("lava_reference")
        if lr and not args.no_reference:
            ref_cell, ref_problem = reference_check(args, py, d, lr, nerve_csv)
            if ref_problem:
                n_fail += 1
                errors.append(f"{name}: {ref_problem}")
        per_pop = " ".join(f"{p}:{c_nerve.get(p, 0)}/{c_lava.get(p, 0)}" for p in sorted(set(c_nerve) | set(c_lava)))
        rows.append([name, steps, n_a, n_b, per_pop, ref_cell, "PASS" if same else "FAIL", detail])

    print()
    print("nerve run --arch loihi vs nerve export lava run in lava-nc 0.10.0 (Loihi2SimCfg fixed_pt)")
    common.table(rows, ["network", "steps", "nerve spikes", "lava spikes", "per population nerve/lava",
                        "lava_reference.py", "result", "detail"], ["<", ">", ">", ">", "<", "<", "<", "<"])
    print("lava_reference.py = the peer's own lava build of the same make_network() run in the lava venv, "
          "its spikes compared with nerve's as (population, neuron, step) sets")
    print()
    print("Timings (s, wall)")
    common.table(timing, ["network", "steps", "nerve run", "nerve export", "lava script"])
    for n in notes:
        print("NOTE " + n)
    for e in errors:
        print("\nERROR " + e)
    print(f"\n{'FAIL' if n_fail else 'PASS'}: {n_fail} failure(s); work dir {work}")
    return 1 if n_fail else 0


if __name__ == "__main__":
    common.main_guard(main)
