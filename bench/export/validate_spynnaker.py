#!/usr/bin/env python3
"""nerve's PyNN export (--backend spinnaker) mapped by sPyNNaker on a virtual SpiNN-5 or
SpiNNaker 2 board, and sPyNNaker's routing tables next to nerve's.

    python bench/export/validate_spynnaker.py [--version 5|248] [--nerve PATH] [--work DIR]
                                              [--only a,b] [--duration MS]

--version is sPyNNaker's [Machine] version: 5 (default) = one 48-chip SpiNN-5 board, nerve's
`spinnaker` profile, mode Debug; 248 = one 48-chip SpiNNaker 2 board (153 cores, 16,384 router
entries per chip), nerve's `spinnaker2` profile, mode Production with only the three JSON
reports (Debug's reports and the JSON schema check assume <= 18 cores per chip; NOTES.md
"SpiNNaker 2"). For every network (default: the bundled examples, cuba, random_500 and
pacman_small from nets.py; the bigger PACMAN graphs do not fit one board and their exported
scripts are huge):
  1. nerve export pynn NET --arch ARCH --backend spinnaker --duration MS -o net.py
  2. python net.py (spynnaker venv; virtual board) in WORK/NET/spy, which holds
     ./spynnaker.cfg; XDG_CONFIG_HOME points at an empty .spynnaker.cfg there, so ~ is never
     touched (checks/spynnaker_check.py). The script prints `reports: DIR`.
  3. DIR/json_files/routing_tables.json (sPyNNaker's uncompressed tables): chips, entries
     total and largest table; application cores from placements.json. On version 5 the tables
     are also compressed with PACMAN's pair compressor (compare_tables on every chip); not on
     248, whose routes name processors >= 18, which PACMAN's RoutingEntry cannot decode.
  4. nerve compile NET --arch ARCH --report; nerve export spinnaker-tables IMAGE (compressed)
     and --uncompressed: chips, entries total and largest table; cores from the report.
sPyNNaker's own compressed_routing_tables_generated/ reports are not used: it compresses only
tables that overflow, so on these networks they equal the uncompressed ones. Its WARNING
messages (except the expected "Data from a virtual run will be empty") are listed as notes.
A network FAILs if any step errors, sPyNNaker logs an ERROR, the report has no
routing_tables.json, machine.json's router size is not the expected one, PACMAN's
compare_tables rejects its own compression (version 5), or nerve's compressed tables exceed
the router (1,023 entries per chip on version 5, 16,384 on 248). The table sizes and core
counts are compared, not judged (neuron/source cores that differ from nerve's are a note).
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SPY_CFG_DEBUG = """[Machine]
virtual_board = True
version = {version}

[Mode]
mode = Debug

[Reports]
write_network_graph = False
"""

# SpiNNaker 2: Debug's text reports (router summary, compressor) raise on processor ids >= 18
# and PACMAN's JSON schema caps spinnaker_route at 24 bits, so only the JSON files, unchecked
SPY_CFG_JSON_ONLY = """[Machine]
virtual_board = True
version = {version}

[Mode]
mode = Production

[Reports]
write_network_graph = False
write_json_machine = True
write_json_placements = True
write_json_routing_tables = True
keep_json_files = True

[Mapping]
validate_json = False
"""

# sPyNNaker [Machine] version -> nerve profile, cfg, board, router entries per chip (as
# machine.json gives them), and whether PACMAN can decode the routes (processors 0-17 only)
MACHINES = {
    "5": {"arch": "spinnaker", "cfg": SPY_CFG_DEBUG, "board": "virtual SpiNN-5",
          "router_entries": 1023, "pacman": True},
    "248": {"arch": "spinnaker2", "cfg": SPY_CFG_JSON_ONLY, "board": "virtual SpiNNaker 2 (48 chips)",
            "router_entries": 16384, "pacman": False},
}


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
    ap.add_argument("--version", default="5", choices=sorted(MACHINES),
                    help="sPyNNaker [Machine] version: 5 = SpiNN-5, 248 = SpiNNaker 2 (default %(default)s)")
    ap.add_argument("--arch", default=None,
                    help="nerve profile (default: spinnaker for version 5, spinnaker2 for 248)")
    args = ap.parse_args()
    mach = MACHINES[args.version]
    arch = args.arch or mach["arch"]
    limit = mach["router_entries"]
    work = common.setup_work(args, "nerve-spynnaker-")
    print(f"sPyNNaker machine version {args.version} ({mach['board']}), nerve --arch {arch}")
    spy_py = common.venv_python(args.venvs, "spynnaker")
    pac_py = common.venv_python(args.venvs, "pacman") if mach["pacman"] else None
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
        script = d / f"{name}_{arch}.py"
        problems = []
        # 1-2: export and map
        r_exp = common.run([args.nerve, "export", "pynn", net, "--arch", arch, "--backend", "spinnaker",
                            "--duration", args.duration, "-o", script] + npc,
                           timeout=args.timeout, log=d / "export.log")
        r_spy = None
        spy_stats = spy_comp = spy_cores = None
        if not r_exp.ok:
            problems.append(f"nerve export pynn failed (exit {r_exp.rc}; {d / 'export.log'}):\n{r_exp.tail()}")
        else:
            (spy / ".spynnaker.cfg").touch()
            (spy / "spynnaker.cfg").write_text(mach["cfg"].format(version=args.version))
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
                jdir = os.path.join(m_rep.group(1).strip(), "json_files")
                rt = os.path.join(jdir, "routing_tables.json")
                spy_cores = app_cores(os.path.join(jdir, "placements.json"))
                entries = router_entries(os.path.join(jdir, "machine.json"))
                if entries is not None and entries != limit:
                    problems.append(f"sPyNNaker's machine.json has {entries} router entries per chip, "
                                    f"expected {limit} for version {args.version}")
                if not os.path.exists(rt):
                    problems.append(f"no {rt}")
                elif not mach["pacman"]:
                    # routes are exact ints wider than 24 bits here: count entries only
                    spy_stats = table_stats(rt)
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
        r_cmp = common.run([args.nerve, "compile", net, "--arch", arch, "-o", img,
                            "--report", d / "compile_report.json"] + npc,
                           timeout=args.timeout, log=d / "compile.log")
        nerve_u = nerve_c = nerve_cores = None
        r_tc = r_tu = None
        if not r_cmp.ok:
            problems.append(f"nerve compile failed:\n{r_cmp.tail()}")
        else:
            nerve_cores = json.load(open(d / "compile_report.json")).get("cores_used")
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
                if nerve_c["largest"] > limit:
                    problems.append(f"nerve's compressed table on chip {nerve_c['largest_chip']} has "
                                    f"{nerve_c['largest']} entries > {limit}")

        def cell(s, k):
            return "-" if s is None else s[k]
        ok = not problems
        n_fail += not ok
        if spy_cores is not None and nerve_cores is not None and spy_cores[0] != nerve_cores:
            notes.append(f"{name}: sPyNNaker placed {spy_cores[0]} neuron/source cores, nerve {nerve_cores}")
        spy_cells = [cell(spy_stats, "chips"), "-" if spy_cores is None else spy_cores[0],
                     "-" if spy_cores is None else spy_cores[1],
                     cell(spy_stats, "entries"), cell(spy_stats, "largest")]
        if mach["pacman"]:
            spy_cells += [cell(spy_comp, "entries"), cell(spy_comp, "largest")]
        rows.append([name, "PASS" if ok else "FAIL"] + spy_cells +
                    [cell(nerve_u, "chips"), "-" if nerve_cores is None else nerve_cores,
                     cell(nerve_u, "entries"), cell(nerve_u, "largest"),
                     cell(nerve_c, "chips"), cell(nerve_c, "entries"), cell(nerve_c, "largest")])
        timing.append([name, common.fmt_s(r_exp.secs), common.fmt_s(r_spy.secs if r_spy else None),
                       common.fmt_s(r_cmp.secs),
                       common.fmt_s((r_tc.secs + r_tu.secs) if r_tc and r_tu else None)])
        for p in problems:
            errors.append(f"{name}: {p}")

    print()
    if mach["pacman"]:
        print(f"Routing tables: sPyNNaker ({mach['board']}, its uncompressed routing_tables.json; compressed = "
              f"PACMAN pair compressor) vs nerve --arch {arch} (export spinnaker-tables --uncompressed / compressed)")
    else:
        print(f"Routing tables: sPyNNaker ({mach['board']}, its uncompressed routing_tables.json, entries "
              f"counted) vs nerve --arch {arch} (export spinnaker-tables --uncompressed / compressed); "
              f"router limit {limit} entries per chip")
    spy_heads = ["spy chips", "spy cores", "spy syn cores", "spy uncomp", "spy largest"]
    if mach["pacman"]:
        spy_heads += ["spy comp", "spy comp largest"]
    common.table(rows, ["network", "result"] + spy_heads +
                 ["nerve chips", "nerve cores", "nerve uncomp", "nerve largest", "nerve comp chips",
                  "nerve comp", "nerve comp largest"])
    print("chips = chips with a non-empty table; spy cores / syn cores = neuron and source cores / "
          "separate synapse cores in placements.json (sPyNNaker splits populations at timesteps < 1 ms); "
          "nerve cores = cores_used of nerve compile --report")
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



def app_cores(path):
    """(neuron and source cores, synapse cores) in sPyNNaker's placements.json, SYSTEM: vertices
    left out, or None. At timesteps below 1 ms sPyNNaker splits a population that needs synapse
    cores into `P_Neurons:first` and `P_Synapses:first(i)` cores (PopulationVertex.use_combined_core)."""
    if not os.path.exists(path):
        return None
    labels = [p["vertex_label"] for p in json.load(open(path)) if not p["vertex_label"].startswith("SYSTEM:")]
    syn = sum(1 for x in labels if re.search(r"_Synapses:\d+\(\d+\)$", x))
    return len(labels) - syn, syn


def router_entries(path):
    """Router entries per chip in sPyNNaker's machine.json, or None."""
    if not os.path.exists(path):
        return None
    return json.load(open(path))["standardResources"]["routerEntries"]

if __name__ == "__main__":
    common.main_guard(main)
