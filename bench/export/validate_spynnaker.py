#!/usr/bin/env python3
"""nerve's PyNN export (--backend spinnaker) mapped by sPyNNaker on a virtual SpiNN-5 board,
and sPyNNaker's routing tables next to nerve's.

    python bench/export/validate_spynnaker.py [--nerve PATH] [--work DIR] [--only a,b] [--duration MS]

For every network (default: the bundled examples, cuba, random_500 and pacman_small from
nets.py; the bigger PACMAN graphs do not fit one board and their exported scripts are huge):
  1. nerve export pynn NET --arch spinnaker --backend spinnaker --duration MS -o net.py
  2. python net.py (spynnaker venv; virtual board, version 5, mode Debug) in WORK/NET/spy,
     which holds ./spynnaker.cfg; XDG_CONFIG_HOME points at an empty .spynnaker.cfg there,
     so ~ is never touched (checks/spynnaker_check.py). The script prints `reports: DIR`.
  3. DIR/json_files/routing_tables.json (sPyNNaker's uncompressed tables) is loaded with
     PACMAN and compressed with PACMAN's pair compressor (compare_tables on every chip).
  4. nerve compile NET --arch spinnaker; nerve export spinnaker-tables IMAGE (compressed)
     and --uncompressed: chips, entries total and largest table.
sPyNNaker's own compressed_routing_tables_generated/ reports are not used: it compresses only
tables that overflow, so on these networks they equal the uncompressed ones. Its WARNING
messages (except the expected "Data from a virtual run will be empty") are listed as notes.
A network FAILs if any step errors, sPyNNaker logs an ERROR, the report has no
routing_tables.json, PACMAN's compare_tables rejects its own compression, or nerve's
compressed tables exceed 1,023 entries on a chip. The table sizes are compared, not judged.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SPY_CFG = """[Machine]
virtual_board = True
version = {version}

[Mode]
mode = Debug

[Reports]
write_network_graph = False
"""


def parse_result(r):
    for line in reversed(r.out.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return None


def main():
    ap = common.common_args(common.parser(__doc__), "nerve-spynnaker-")
    ap.add_argument("--only", default=None, help="comma-separated network names from nets.py's manifest")
    ap.add_argument("--duration", type=float, default=1000.0,
                    help="ms the exported script runs (default %(default)s)")
    ap.add_argument("--version", default="5", help="sPyNNaker [Machine] version (default 5: SpiNN-5)")
    ap.add_argument("--arch", default="spinnaker")
    args = ap.parse_args()
    work = common.setup_work(args, "nerve-spynnaker-")
    spy_py = common.venv_python(args.venvs, "spynnaker")
    pac_py = common.venv_python(args.venvs, "pacman")
    tool = common.HERE / "pacman_tool.py"
    nets_dir, manifest = common.ensure_nets(args, ["examples", "cuba", "random_500", "pacman_small"])
    names = common.select(manifest, args.only, lambda n, m: m["kind"] == "lif" and (
        m["group"] in ("examples", "cuba", "random_500") or n == "pacman_small"))

    rows, timing, errors, notes = [], [], [], []
    n_fail = 0
    for name in names:
        m = manifest[name]
        net = m["path"]
        d = work / name
        spy = d / "spy"
        spy.mkdir(parents=True, exist_ok=True)
        npc = ["--neurons-per-core", str(m["neurons_per_core"])] if m.get("neurons_per_core") else []
        script = d / f"{name}_spinnaker.py"
        problems = []
        # 1-2: export and map
        r_exp = common.run([args.nerve, "export", "pynn", net, "--arch", args.arch, "--backend", "spinnaker",
                            "--duration", args.duration, "-o", script] + npc,
                           timeout=args.timeout, log=d / "export.log")
        r_spy = None
        spy_stats = spy_comp = None
        if not r_exp.ok:
            problems.append(f"nerve export pynn failed (exit {r_exp.rc}; {d / 'export.log'}):\n{r_exp.tail()}")
        else:
            (spy / ".spynnaker.cfg").touch()
            (spy / "spynnaker.cfg").write_text(SPY_CFG.format(version=args.version))
            env = dict(os.environ, XDG_CONFIG_HOME=str(spy))
            home_cfg = os.path.expanduser("~/.spynnaker.cfg")
            home_before = os.path.exists(home_cfg)
            r_spy = common.run([spy_py, script, "--duration", args.duration, "--out", d / "spy_spikes.csv"],
                               cwd=spy, env=env, timeout=args.timeout, log=d / "spynnaker.log")
            warns = spynnaker_warnings(r_spy.out + "\n" + r_spy.err)
            if warns:
                notes.append(f"{name}: sPyNNaker warnings: " + "; ".join(warns))
            if os.path.exists(home_cfg) != home_before:
                problems.append("~/.spynnaker.cfg was created")
            m_rep = re.search(r"^reports: (.+)$", r_spy.out, re.M)
            err_lines = [x for x in (r_spy.out + r_spy.err).splitlines() if re.search(r"\bERROR\b", x)]
            if not r_spy.ok:
                problems.append(f"sPyNNaker run failed (exit {r_spy.rc}{', timeout' if r_spy.timed_out else ''};"
                                f" {d / 'spynnaker.log'}):\n{r_spy.tail()}")
            elif err_lines:
                problems.append("sPyNNaker logged errors:\n    " + "\n    ".join(err_lines[:5]))
            if r_spy.ok and not m_rep:
                problems.append("the script printed no `reports: DIR` line")
            if m_rep:
                rt = os.path.join(m_rep.group(1).strip(), "json_files", "routing_tables.json")
                if not os.path.exists(rt):
                    problems.append(f"no {rt}")
                else:
                    r_c = common.run([pac_py, tool, "compress", rt, "--out", d / "spy_compressed.json"],
                                     timeout=args.timeout, log=d / "pacman_compress.log")
                    res = parse_result(r_c)
                    if not r_c.ok or not res or "error" in res:
                        problems.append(f"PACMAN pair compressor on {rt} failed:\n{r_c.tail()}")
                    else:
                        spy_stats, spy_comp = res["uncompressed"], res["compressed"]
                        if res["n_compare_failures"]:
                            problems.append("compare_tables rejected PACMAN's own compression: "
                                            + "; ".join(res["compare_failures"][:3]))
        # 4: nerve's tables for the same network
        img = d / f"{name}.img"
        r_cmp = common.run([args.nerve, "compile", net, "--arch", args.arch, "-o", img] + npc,
                           timeout=args.timeout, log=d / "compile.log")
        nerve_u = nerve_c = None
        r_tc = r_tu = None
        if not r_cmp.ok:
            problems.append(f"nerve compile failed:\n{r_cmp.tail()}")
        else:
            r_tc = common.run([args.nerve, "export", "spinnaker-tables", img, "-o", d / "nerve_tables.json"],
                              timeout=args.timeout, log=d / "tables.log")
            r_tu = common.run([args.nerve, "export", "spinnaker-tables", img, "--uncompressed",
                               "-o", d / "nerve_tables_uncompressed.json"],
                              timeout=args.timeout, log=d / "tables_uncompressed.log")
            for r, which in ((r_tc, "compressed"), (r_tu, "uncompressed")):
                if not r.ok:
                    problems.append(f"nerve export spinnaker-tables ({which}) failed:\n{r.tail()}")
            if r_tc.ok and r_tu.ok:
                nerve_c = table_stats(d / "nerve_tables.json")
                nerve_u = table_stats(d / "nerve_tables_uncompressed.json")
                if nerve_c["largest"] > 1023:
                    problems.append(f"nerve's compressed table on chip {nerve_c['largest_chip']} has "
                                    f"{nerve_c['largest']} entries > 1023")

        def cell(s, k):
            return "-" if s is None else s[k]
        ok = not problems
        n_fail += not ok
        rows.append([name, "PASS" if ok else "FAIL",
                     cell(spy_stats, "chips"), cell(spy_stats, "entries"), cell(spy_stats, "largest"),
                     cell(spy_comp, "entries"), cell(spy_comp, "largest"),
                     cell(nerve_u, "chips"), cell(nerve_u, "entries"), cell(nerve_u, "largest"),
                     cell(nerve_c, "chips"), cell(nerve_c, "entries"), cell(nerve_c, "largest")])
        timing.append([name, common.fmt_s(r_exp.secs), common.fmt_s(r_spy.secs if r_spy else None),
                       common.fmt_s(r_cmp.secs),
                       common.fmt_s((r_tc.secs + r_tu.secs) if r_tc and r_tu else None)])
        for p in problems:
            errors.append(f"{name}: {p}")

    print()
    print("Routing tables: sPyNNaker (virtual SpiNN-5, its uncompressed routing_tables.json; compressed = "
          "PACMAN pair compressor) vs nerve (export spinnaker-tables --uncompressed / compressed)")
    common.table(rows, ["network", "result", "spy chips", "spy uncomp", "spy largest", "spy comp",
                        "spy comp largest", "nerve chips", "nerve uncomp", "nerve largest", "nerve comp chips",
                        "nerve comp", "nerve comp largest"])
    print()
    print("Timings (s, wall)")
    common.table(timing, ["network", "nerve export pynn", "sPyNNaker map", "nerve compile", "nerve tables"])
    for n in notes:
        print("NOTE " + n)
    for e in errors:
        print("\nERROR " + e)
    print(f"\n{'FAIL' if n_fail else 'PASS'}: {n_fail} network(s) failed; work dir {work}")
    return 1 if n_fail else 0


def spynnaker_warnings(text):
    """sPyNNaker's end-of-run list of WARNING messages, without the expected virtual-board one."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip() == "These are:":
            for x in lines[i + 1:]:
                if not x.strip():
                    break
                if "Data from a virtual run will be empty" not in x and x.strip() not in out:
                    out.append(x.strip())
    return out


def table_stats(path):
    """chips (non-empty tables), total entries, largest table of a PACMAN-format JSON file."""
    tables = json.load(open(path))
    counts = {(t["x"], t["y"]): len(t["entries"]) for t in tables}
    counts = {k: v for k, v in counts.items() if v}
    big = max(counts.items(), key=lambda kv: kv[1]) if counts else ((None, None), 0)
    return {"chips": len(counts), "entries": sum(counts.values()), "largest": big[1],
            "largest_chip": list(big[0])}


if __name__ == "__main__":
    common.main_guard(main)
