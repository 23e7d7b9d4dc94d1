#!/usr/bin/env python3
"""PACMAN 1!7.4.1 routing-table JSON round trip and compression check.

Runs in the `pacman` venv. Shows, in order:
  1. configuring PACMAN with no cfg file and building a virtual machine whose
     chip coordinates match sPyNNaker's (version 5 = SpiNN-5, 8x8 = one
     48-chip board; version 248 = SpiNNaker 2);
  2. building tables, multicast_routing_tables.to_json / from_json;
  3. compare_tables(original, compressed) on single-chip tables: passing,
     dropping a defaultable entry, and two failures;
  4. PACMAN's pair compressor on tables loaded from JSON, checked per chip.

    python pacman_check.py [tables.json]     # optional: check a file that
                                             # nerve or sPyNNaker wrote
"""
import json
import logging
import os
import sys
import tempfile

from spinn_utilities.config_holder import set_config
from spinn_machine import MulticastRoutingEntry, RoutingEntry
from spinn_machine.virtual_machine import virtual_machine
from pacman.config_setup import unittest_setup
from pacman.data.pacman_data_writer import PacmanDataWriter
from pacman.exceptions import PacmanRoutingException
from pacman.model.routing_tables import (
    MulticastRoutingTables, UnCompressedMulticastRoutingTable)
from pacman.model.routing_tables.multicast_routing_tables import (
    from_json, to_json)
from pacman.operations.router_compressors import pair_compressor
from pacman.operations.router_compressors.routing_compression_checker import (
    compare_tables)
from pacman.utilities.file_format_schemas import validate

logging.disable(logging.WARNING)

# 1. config + machine -------------------------------------------------------
unittest_setup()                      # PACMAN's defaults only; no ~/.cfg read
set_config("Machine", "version", "5")  # must precede virtual_machine()
set_config("Mapping", "router_table_compress_as_far_as_possible", "True")
machine = virtual_machine(8, 8)       # version 5: width/height multiples of 8
writer = PacmanDataWriter.mock()      # fresh data view (unittest_setup made one)
writer.set_machine(machine)           # compressors look chips up here
print("machine:", machine.width, "x", machine.height, machine.n_chips,
      "chips; chip(0,0) router entries",
      machine.get_chip_at(0, 0).router.n_available_multicast_entries,
      "user cores", machine.get_chip_at(0, 0).n_placable_processors)
print("link 0 of (0,0) ->", machine.xy_over_link(0, 0, 0),
      "; link 4 of (1,1) ->", machine.xy_over_link(1, 1, 4))

# 2. build tables, to_json / from_json --------------------------------------
t00 = UnCompressedMulticastRoutingTable(0, 0)
t00.add_multicast_routing_entry(MulticastRoutingEntry(
    0x00010000, 0xFFFF0000,
    RoutingEntry(processor_ids=[3], link_ids=[0, 2])))
t00.add_multicast_routing_entry(MulticastRoutingEntry(
    0x00020000, 0xFFFFFF00,
    # came in on link 4 (SW), leaves on link 1 (NE): straight through
    RoutingEntry(processor_ids=[], link_ids=[1], incoming_link=4)))
t10 = UnCompressedMulticastRoutingTable(1, 0)
t10.add_multicast_routing_entry(MulticastRoutingEntry(
    0x00010000, 0xFFFF0000, RoutingEntry(processor_ids=[5, 6], link_ids=[])))
tables = MulticastRoutingTables([t00, t10])
j = to_json(tables)
validate(j, "routing_tables.json")     # PACMAN's schema (24-bit routes)
print("to_json:", json.dumps(j))
path = os.path.join(tempfile.mkdtemp(), "routing_tables.json")
with open(path, "w") as f:
    json.dump(j, f)
loaded = from_json(path)               # a path (.json or .json.gz) or the list
assert to_json(loaded) == j
for t in loaded.routing_tables:
    for e in t.multicast_routing_entries:
        print(f"  chip ({t.x},{t.y}) key=0x{e.key:08X} mask=0x{e.mask:08X} "
              f"route={e.spinnaker_route} links={sorted(e.link_ids)} "
              f"procs={sorted(e.processor_ids)} defaultable={e.defaultable}")

# 3. compare_tables(original, compressed) ------------------------------------
orig = loaded.get_routing_table_for_chip(0, 0)


def table(x, y, entries):
    t = UnCompressedMulticastRoutingTable(x, y)
    for key, mask, procs, links in entries:
        t.add_multicast_routing_entry(MulticastRoutingEntry(
            key, mask, RoutingEntry(processor_ids=procs, link_ids=links)))
    return t


def check(label, compressed):
    try:
        compare_tables(orig, compressed)
        print(f"compare_tables {label}: OK (returns None)")
    except PacmanRoutingException as e:
        print(f"compare_tables {label}: PacmanRoutingException: {e}")


check("identical", orig)
check("defaultable entry dropped",
      table(0, 0, [(0x00010000, 0xFFFF0000, [3], [0, 2])]))
check("wrong processors",
      table(0, 0, [(0x00010000, 0xFFFF0000, [4], [0, 2])]))
check("non-defaultable entry missing",
      table(0, 0, [(0x00020000, 0xFFFFFF00, [], [1])]))
check("merged into a wider mask (0x0001xxxx + 0x0003xxxx)",
      table(0, 0, [(0x00010000, 0xFFFD0000, [3], [0, 2])]))

# 4. pair compressor on tables loaded from JSON, then checked -------------
src = sys.argv[1] if len(sys.argv) > 1 else path
uncompressed = from_json(src)
for t in uncompressed.routing_tables:
    assert machine.get_chip_at(t.x, t.y) is not None, (t.x, t.y)
writer.set_precompressed(uncompressed)
compressed = pair_compressor(accept_overflow=True)
n_in = sum(t.number_of_entries for t in uncompressed.routing_tables)
n_out = sum(t.number_of_entries for t in compressed.routing_tables)
for t in compressed.routing_tables:
    compare_tables(uncompressed.get_routing_table_for_chip(t.x, t.y), t)
print(f"pair compressor on {src}: {n_in} -> {n_out} entries, "
      f"compare_tables OK on {len(compressed.routing_tables)} chips")
print("pacman check ok")
