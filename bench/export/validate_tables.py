#!/usr/bin/env python3
"""nerve's SpiNNaker routing tables (`nerve export spinnaker-tables`) checked by PACMAN.

    python bench/export/validate_tables.py [--nerve PATH] [--work DIR] [NET.json|IMAGE.img ...]
                                           [--only a,b] [--no-pair] [--big]

Default networks: the bundled examples, cuba, random_500 and the PACMAN graphs' networks
(shared/peers/pacman2net.py of shared/peers/pacman-graphs/*.json, rand_big included,
compiled with their max_atoms_per_core as --neurons-per-core: 32 for rand_big).
--big adds ring_1m, the 1M-neuron, 100M-synapse network of bench/scale/make_1m.py (made in
WORK/ring_1m; opt-in: ~20 s to compile, ~3.2 GB peak RSS, a 1.56 GB image in WORK; the PACMAN
check ~20 s and the pair baseline ~50 s); `--big --only ring_1m` checks it alone (no nets.py).
bench/export/big_tables.sh runs that and times the steps (big_tables_last_run.txt). For each:
  1. nerve compile NET --arch spinnaker (an .img argument is used as it is)
  2. nerve export spinnaker-tables IMAGE -o c.json  and  --uncompressed -o u.json
  3. in the pacman venv (pacman_tool.py check): both files through PACMAN's JSON schema and
     from_json; every compressed table <= 1,023 entries; every chip with uncompressed
     entries but no compressed table has only defaultable entries; every entry marked
     defaultable is straight-through (one link, no processors, the key arriving only from
     the opposite neighbour: checked from the neighbours' tables, since compare_tables
     trusts the flag); no repeated key/mask in
     a compressed table; compare_tables(uncompressed_chip, compressed_chip) on every chip;
     then the first entry of the largest compressed table gets one processor bit of its
     route flipped and compare_tables must raise (plus 20 random single-entry corruptions,
     reported as "mutations caught").
  4. (unless --no-pair) PACMAN's pair compressor on nerve's uncompressed tables, for size
     comparison only.
Exit status 1 if any network fails a check or a step errors.
"""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


BIG = "ring_1m"
MAKE_1M = common.REPO / "bench" / "scale" / "make_1m.py"


def make_big(d):
    """bench/scale/make_1m.py's network (deterministic: its connectors carry seeds) in d."""
    d.mkdir(parents=True, exist_ok=True)
    net = d / "net_1m.json"
    r = common.run([sys.executable, MAKE_1M, net], timeout=120, log=d / "make_1m.log")
    if not r.ok:
        sys.exit(f"{MAKE_1M} failed:\n{r.tail()}")
    return net


def parse_result(r):
    for line in reversed(r.out.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return None


def main():
    ap = common.common_args(common.parser(__doc__), "nerve-tables-")
    ap.add_argument("inputs", nargs="*", help="network JSON files or nerve images (default: see above)")
    ap.add_argument("--only", default=None, help="comma-separated network names from nets.py's manifest "
                    f"(and {BIG} with --big)")
    ap.add_argument("--neurons-per-core", type=int, default=None,
                    help="for network arguments: nerve compile --neurons-per-core")
    ap.add_argument("--no-pair", action="store_true", help="skip PACMAN's pair compressor baseline")
    ap.add_argument("--arch", default="spinnaker")
    ap.add_argument("--limit", type=int, default=1023)
    ap.add_argument("--big", action="store_true",
                    help=f"also check {BIG} (bench/scale/make_1m.py: 1M neurons, 100M synapses; opt-in, "
                    f"~2 min and ~3.2 GB RAM more); --big --only {BIG} checks it alone")
    ap.add_argument("--torus", type=int, nargs=2, default=[24, 12], metavar=("W", "H"),
                    help="the --arch machine's chips (default: spinnaker's 24 x 12 torus), for the "
                    "defaultable-flag audit")
    args = ap.parse_args()
    work = common.setup_work(args, "nerve-tables-")
    pac_py = common.venv_python(args.venvs, "pacman")
    tool = common.HERE / "pacman_tool.py"

    items = []  # (name, path, neurons_per_core)
    only = args.only.split(",") if args.only else None
    if only and BIG in only and not args.big:
        sys.exit(f"{BIG} is checked only with --big (e.g. --big --only {BIG})")
    if args.big and only:
        only = [n for n in only if n != BIG]
    if args.inputs:
        for p in args.inputs:
            p = Path(p).resolve()
            items.append((p.stem, p, args.neurons_per_core))
    elif not (args.big and args.only and not only):   # `--big --only ring_1m`: no nets.py networks
        _, manifest = common.ensure_nets(args, ["examples", "cuba", "random_500", "pacman"])
        names = common.select(manifest, ",".join(only) if only else None,
                              lambda n, m: m["kind"] == "lif" and m["group"] in (
                                  "examples", "cuba", "random_500", "pacman"))
        for n in names:
            items.append((n, Path(manifest[n]["path"]), manifest[n].get("neurons_per_core")))
    if args.big:
        items.append((BIG, make_big(work / BIG), None))

    rows, info, errors = [], [], []
    n_fail = 0
    for name, path, npc in items:
        d = work / name
        d.mkdir(parents=True, exist_ok=True)
        problems = []
        compile_s = None
        if path.suffix == ".img":
            img = path
        else:
            img = d / f"{name}.img"
            r = common.run([args.nerve, "compile", path, "--arch", args.arch, "-o", img, "-q"]
                           + (["--neurons-per-core", npc] if npc else []),
                           timeout=args.timeout, log=d / "compile.log")
            compile_s = r.secs
            if not r.ok:
                n_fail += 1
                errors.append(f"{name}: nerve compile failed:\n{r.tail()}")
                rows.append([name, npc or "-", "-", "-", "-", "-", "-", "-", "ERROR"] + ["-"] * 9)
                continue
        c_json, u_json = d / "tables.json", d / "tables_uncompressed.json"
        r_c = common.run([args.nerve, "export", "spinnaker-tables", img, "-o", c_json, "--binary", d / "tables.bin"],
                         timeout=args.timeout, log=d / "export.log")
        r_u = common.run([args.nerve, "export", "spinnaker-tables", img, "--uncompressed", "-o", u_json],
                         timeout=args.timeout, log=d / "export_uncompressed.log")
        for r, which in ((r_c, "compressed"), (r_u, "--uncompressed")):
            if not r.ok:
                problems.append(f"nerve export spinnaker-tables ({which}) failed:\n{r.tail()}")
        res = pair = None
        if r_c.ok and r_u.ok:
            r_k = common.run([pac_py, tool, "check", u_json, c_json, "--limit", args.limit,
                              "--torus", *args.torus],
                             timeout=args.timeout * 4, log=d / "pacman_check.log")
            res = parse_result(r_k)
            if not r_k.ok or res is None:
                problems.append(f"pacman_tool.py check failed (exit {r_k.rc}"
                                f"{', timeout' if r_k.timed_out else ''}):\n{r_k.tail()}")
            else:
                problems += res["problems"]
            if not args.no_pair:
                r_p = common.run([pac_py, tool, "compress", u_json], timeout=args.timeout * 4,
                                 log=d / "pacman_pair.log")
                pair = parse_result(r_p)
                if not r_p.ok or pair is None or "error" in pair:
                    pair = None
                    info.append(f"{name}: PACMAN pair compressor baseline unavailable: "
                                f"{r_p.tail(3).strip()}")
        ok = not problems
        n_fail += not ok
        if res:
            u, c = res["uncompressed"], res["compressed"]
            corr = res["corruption"]
            rows.append([name, npc or "-", u["chips"], u["entries"], u["largest"], c["chips"], c["entries"],
                         c["largest"], "PASS" if ok else "FAIL",
                         f"{res['chips_without_compressed_table']}/{res['of_which_not_all_defaultable']}",
                         f"{res['defaultable_checked']}/{res['defaultable_bad']}",
                         res["compare_failures"],
                         ("caught" if corr["caught"] else "MISSED") if corr else "-",
                         f"{res['mutations']['caught']}/{res['mutations']['tried']}",
                         f"{pair['compressed']['entries']}/{pair['compressed']['largest']}" if pair else "-",
                         common.fmt_s(compile_s), f"{r_c.secs:.2f}/{r_u.secs:.2f}",
                         f"{res['total_s']:.1f}"])
        else:
            rows.append([name, npc or "-", "-", "-", "-", "-", "-", "-", "FAIL"] + ["-"] * 9)
        for p in problems:
            errors.append(f"{name}: {p}")

    print()
    print(f"nerve export spinnaker-tables (--arch {args.arch}) checked with PACMAN 1!7.4.1 "
          f"(limit {args.limit} entries per chip)")
    common.table(rows, ["network", "npc", "u chips", "u entries", "u largest", "c chips", "c entries",
                        "c largest", "result", "no-table chips/bad", "defaultable/bad", "compare fails", "corruption",
                        "mutations", "PACMAN pair entries/largest", "compile s", "export s c/u",
                        "PACMAN check s"])
    print("u = --uncompressed, c = compressed; npc = --neurons-per-core; no-table chips/bad = chips with "
          "uncompressed entries but no compressed table / of them with non-defaultable entries; "
          "defaultable/bad = entries marked defaultable / of them not straight-through per the neighbours' tables; "
          "corruption = a flipped processor bit in the first entry of the largest compressed table")
    for i in info:
        print("NOTE " + i)
    for e in errors:
        print("\nERROR " + e)
    print(f"\n{'FAIL' if n_fail else 'PASS'}: {n_fail} network(s) failed; work dir {work}")
    return 1 if n_fail else 0


if __name__ == "__main__":
    common.main_guard(main)
