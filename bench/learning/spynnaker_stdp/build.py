"""Merge cases_input.json + nest_out.json (+ vb_results.txt), run the fixed-point
model (model.py), write cases.json (+ a comparison table on stdout).

usage:
  python3 build.py [--work DIR] [--out FILE] [--update-test-data]
      reads DIR/cases_input.json (make_cases.py), DIR/nest_out.json (run_nest.py)
      and, if present, DIR/vb_results.txt (spy_virtual.py --all); writes
      DIR/cases.json (or FILE) and DIR/compare_rows.json.  DIR defaults to
      paths.DEFAULT_WORK (a scratch directory).  Only --update-test-data also
      writes the committed file cli/tests/data/spynnaker_stdp/cases.json.
  python3 build.py --check [FILE]
      needs no vendor software: rebuilds FILE (default: the committed cases.json)
      from make_cases.py's inputs, FILE's own `nest` sections and virtual-board
      flags, and the model, then compares the case inputs, every `spynnaker`
      section and the bytes of the whole file.  Exit status 1 on any difference.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paths  # noqa: E402
import model as m  # noqa: E402
from float_ref import nest_float, spy_float  # noqa: E402

INPUT_KEYS = ("name", "description", "dt_ms", "steps", "rule", "synapses", "pre_spikes")
SPY_KEYS = ("weight_scale", "ring_buffer_shift", "params", "initial_int", "events",
            "final_int", "final_nA")
HEAD = {"format": "nerve spynnaker_stdp reference v1",
        "generator": "see README.md in this folder",
        "spynnaker_version": "1!7.4.1", "nest_version": "3.10.0 (PyNN 0.13.0)"}


def spynnaker_section(case):
    r = m.run_case(case)
    return {k: r[k] for k in SPY_KEYS}, r


def build(cases, nest, vb):
    """cases: make_cases() list; nest: {name: run_nest.py result}; vb: {name: bool}.
    Returns (cases.json case list, comparison rows)."""
    out = []
    rows = []
    for c in cases:
        case = {k: c[k] for k in INPUT_KEYS}
        n = nest.get(c["name"])
        case["post_spikes"] = n["post_spikes"] if n else c["post_target"]
        case["spynnaker"], r = spynnaker_section(case)
        if n:
            case["nest"] = {"final_nA": n["final_nA"], "post_spikes": n["post_spikes"],
                            "teacher_offset_steps": n["teacher_offset_steps"]}
            fl = nest_float(case, n["post_spikes"])
            d_model = [a - b for a, b in zip(r["final_nA"], n["final_nA"])]
            d_float = [a - b for a, b in zip(fl, n["final_nA"])]
            w_lsb = 1.0 / r["weight_scale"]
            sf = spy_float(case, n["post_spikes"])
            q = [abs(a - b) / w_lsb for a, b in zip(r["final_nA"], sf)]
            conv = [abs(a - b) / w_lsb for a, b in zip(sf, n["final_nA"])]
            rows.append((c["name"], len(d_model), max(abs(x) for x in d_float),
                         max(abs(x) for x in d_model),
                         sum(abs(x) for x in d_model) / len(d_model), w_lsb,
                         max(q), sum(q) / len(q), max(conv),
                         [round(x / w_lsb, 1) for x in d_model][:8]))
            case["nest"]["diff_model_minus_nest_lsb_max"] = round(
                max(abs(x) for x in d_model) / w_lsb, 2)
        out.append(case)
    for case in out:
        if case["name"] in vb:
            case["spynnaker"]["host_side_checked_on_virtual_board"] = vb[case["name"]]
    return out, rows


def dumps(out):
    """cases.json text: one case per line."""
    s = "{" + ",".join(json.dumps(k) + ":" + json.dumps(v) for k, v in HEAD.items())
    s += ',"cases":[\n'
    s += ",\n".join(json.dumps(c, separators=(",", ":")) for c in out)
    s += "\n]}\n"
    return s


def read_vb(path):
    vb = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("RESULT "):
                j = json.loads(line[7:])
                vb[j["name"]] = all(j["ok"].values())
    return vb


def print_table(rows):
    print(f"{'case':30s} {'n':>3s} {'nestfloat-NEST':>14s} {'model-NEST max':>14s} "
          f"{'mean nA':>9s} {'LSB nA':>9s} {'quant max/mean LSB':>18s} "
          f"{'conv max LSB':>12s}  first diffs (LSB)")
    for row in rows:
        print(f"{row[0]:30s} {row[1]:3d} {row[2]:14.2e} {row[3]:14.3e} {row[4]:9.2e} "
              f"{row[5]:9.2e} {row[6]:8.2f}/{row[7]:<8.2f} {row[8]:12.2f}  {row[9]}")


def check(path):
    """Reproduce `path` (a committed cases.json) without NEST or sPyNNaker."""
    import make_cases
    text = open(path).read()
    data = json.loads(text)
    committed = {c["name"]: c for c in data["cases"]}
    inputs = make_cases.make_cases()
    bad = 0
    # 1. inputs: make_cases.py gives the committed inputs; NEST's post spikes = targets
    names = [c["name"] for c in inputs]
    if names != [c["name"] for c in data["cases"]]:
        print("case list differs:", names, list(committed))
        bad += 1
    for c in inputs:
        k = committed.get(c["name"])
        if k is None:
            continue
        diff = [f for f in INPUT_KEYS if c[f] != k[f]]
        tgt = c["post_target"] == k["post_spikes"]
        if diff:
            bad += 1
        print(f"inputs  {c['name']:30s} make_cases.py == committed: "
              f"{'yes' if not diff else 'NO ' + str(diff)};  post_target == post_spikes: "
              f"{'yes' if tgt else 'no (NEST spikes differ from the targets)'}")
    # 2. every spynnaker section from the model, field by field
    n_ev = 0
    for name, k in committed.items():
        case = {f: k[f] for f in INPUT_KEYS + ("post_spikes",)}
        got, _ = spynnaker_section(case)
        want = {f: k["spynnaker"][f] for f in SPY_KEYS}
        diff = [f for f in SPY_KEYS if got[f] != want[f]]
        ne = sum(len(e) for e in want["events"])
        n_ev += ne
        if diff:
            bad += 1
        print(f"model   {name:30s} synapses {len(want['final_int']):3d} events {ne:5d}  "
              f"spynnaker section identical: {'yes' if not diff else 'NO ' + str(diff)}")
    # 3. the whole file, rebuilt as build.py writes it
    nest = {name: {"post_spikes": k["nest"]["post_spikes"], "final_nA": k["nest"]["final_nA"],
                   "teacher_offset_steps": k["nest"]["teacher_offset_steps"]}
            for name, k in committed.items() if "nest" in k}
    vb = {name: k["spynnaker"]["host_side_checked_on_virtual_board"]
          for name, k in committed.items()
          if "host_side_checked_on_virtual_board" in k["spynnaker"]}
    out, rows = build(inputs, nest, vb)
    same = dumps(out) == text
    if not same:
        bad += 1
    print()
    print_table(rows)
    print()
    print(f"{len(committed)} cases, {n_ev} weight events; rebuilt file byte-identical "
          f"to {paths.show(path)}: {'yes' if same else 'NO'}")
    print("CHECK OK" if not bad else f"CHECK FAILED ({bad} differences)")
    return 0 if not bad else 1


def main():
    ap = argparse.ArgumentParser(
        description="Build cases.json from the case inputs, the NEST runs and the model.")
    ap.add_argument("--work", help="work directory (default %s)" % paths.DEFAULT_WORK)
    ap.add_argument("--out", help="output file (default WORK/cases.json)")
    ap.add_argument("--update-test-data", action="store_true",
                    help="also overwrite the committed " + paths.show(paths.TEST_DATA))
    ap.add_argument("--check", nargs="?", const=paths.TEST_DATA, metavar="FILE",
                    help="reproduce FILE (default: the committed cases.json) with the "
                         "model only, no vendor software; compare")
    args = ap.parse_args()
    if args.check:
        return check(args.check)

    work = paths.work_dir(args.work)
    cases = json.load(open(os.path.join(work, "cases_input.json")))
    nest_path = os.path.join(work, "nest_out.json")
    if not os.path.exists(nest_path):
        ap.error(f"{nest_path} missing: run run_nest.py first (NEST venv)")
    nest = json.load(open(nest_path))
    vb = read_vb(os.path.join(work, "vb_results.txt"))
    out, rows = build(cases, nest, vb)
    text = dumps(out)
    targets = [args.out or os.path.join(work, "cases.json")]
    if args.update_test_data:
        targets.append(paths.TEST_DATA)
    for t in targets:
        with open(t, "w") as f:
            f.write(text)
        print("wrote", t)
    json.dump(rows, open(os.path.join(work, "compare_rows.json"), "w"))
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
