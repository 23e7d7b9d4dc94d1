#!/usr/bin/env python3
"""Smoke check for the `spynnaker` venv: map a tiny PyNN script on a
virtual SpiNNaker board and find the JSON reports.

    python spynnaker_check.py [--version 5|248] [--workdir DIR] [--n 100]
                              [--mode Debug|Info|Production] [--extra-cfg ..]

SpiNNaker 2 (version 248) once a chip uses processor ids >= 18 needs
    --mode Production --extra-cfg "write_json_machine = True;\
      write_json_placements = True;write_json_routing_tables = True;\
      keep_json_files = True;[Mapping];validate_json = False"
(Debug-mode reports assume <= 18 cores per chip; see NOTES.md).

Never touches the home directory: sPyNNaker 1!7.4.1 insists on a "user" cfg
named .spynnaker.cfg in appdirs' site_config_dir, user_config_dir
($XDG_CONFIG_HOME) or ~ (otherwise it writes ~/.spynnaker.cfg from a template
and raises), and then layers ./spynnaker.cfg from the current directory on
top (strictly: unknown options raise). So this script makes a scratch dir,
points XDG_CONFIG_HOME at it with an empty .spynnaker.cfg, writes the real
settings to ./spynnaker.cfg there and chdirs into it before sim.setup().
Prints the report directory, its json_files/ and a routing_tables.json sample.
"""
import argparse
import glob
import json
import os
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--version", default="5", help="5 (SpiNN-5) or 248 (SpiNNaker 2)")
ap.add_argument("--workdir", default=None)
ap.add_argument("--mode", default="Debug", help="[Mode] mode: Debug writes json_files/")
ap.add_argument("--extra-cfg", default="",
                help="extra cfg lines appended after [Reports], ';' = newline, e.g. 'write_router_summary_report = False;[Mapping];validate_json = False'")
ap.add_argument("--n", type=int, default=100,
                help="size of pop (64 per core; ~1500 spreads over chips)")
args = ap.parse_args()

work = args.workdir or tempfile.mkdtemp(prefix="spynnaker-check-")
os.makedirs(work, exist_ok=True)
open(os.path.join(work, ".spynnaker.cfg"), "a").close()  # empty user cfg
with open(os.path.join(work, "spynnaker.cfg"), "w") as f:
    f.write(f"""[Machine]
virtual_board = True
version = {args.version}

[Mode]
mode = {args.mode}

[Reports]
write_network_graph = False
{args.extra_cfg.replace(";", chr(10))}
""")
os.environ["XDG_CONFIG_HOME"] = work
os.chdir(work)

import pyNN.spiNNaker as sim  # noqa: E402

home_cfg = os.path.expanduser("~/.spynnaker.cfg")
home_cfg_before = os.path.exists(home_cfg)

sim.setup(timestep=1.0)
sim.set_number_of_neurons_per_core(sim.IF_curr_exp, 64)
src = sim.Population(10, sim.SpikeSourceArray(
    spike_times=[[1.0 + i, 20.0] for i in range(10)]), label="src")
pop = sim.Population(args.n, sim.IF_curr_exp(tau_m=20.0), label="pop")
sim.Projection(src, pop, sim.FromListConnector(
    [(i % 10, i, 2.0, 1.0 + (i % 3)) for i in range(args.n)]),
    sim.StaticSynapse(), receptor_type="excitatory")
sim.Projection(pop, pop, sim.FixedProbabilityConnector(0.05),
               sim.StaticSynapse(weight=0.5, delay=2.0),
               receptor_type="inhibitory")
pop.record("spikes")
sim.run(50.0)
try:
    n = sum(len(st) for st in pop.get_data("spikes").segments[0].spiketrains)
    print("spikes recorded (virtual board gives none):", n)
except Exception as e:  # noqa: BLE001
    print("get_data on a virtual board:", type(e).__name__, str(e)[:200])
from spinn_front_end_common.data import FecDataView  # noqa: E402
run_dir = FecDataView.get_run_dir_path()
report_dir = FecDataView.get_report_dir_path() if hasattr(
    FecDataView, "get_report_dir_path") else None
sim.end()

print("work dir:", work)
print("run dir:", run_dir)
print("report dir:", report_dir)
rt = glob.glob(os.path.join(work, "**", "routing_tables.json"), recursive=True)
pl = glob.glob(os.path.join(work, "**", "placements.json"), recursive=True)
print("routing_tables.json:", rt)
print("placements.json:", pl)
if rt:
    tables = json.load(open(rt[0]))
    print("chips with tables:", len(tables), "entries:",
          sum(len(t["entries"]) for t in tables))
    print("sample:", json.dumps(tables[:1])[:600])
else:
    print("no json_files/ (they are written only when [Mode] mode = Debug)")
assert rt or args.mode != "Debug", "no JSON reports found"
assert os.path.exists(home_cfg) == home_cfg_before, "~/.spynnaker.cfg was written"
print("spynnaker check ok (version %s)" % args.version)
