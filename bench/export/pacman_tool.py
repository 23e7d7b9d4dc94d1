#!/usr/bin/env python3
"""PACMAN side of the routing-table validations; runs in the `pacman` venv.

    pacman_tool.py stats TABLES.json
    pacman_tool.py compress TABLES.json [--out COMPRESSED.json] [--version 5]
    pacman_tool.py check UNCOMPRESSED.json COMPRESSED.json [--limit 1023] [--mutations 20]

Prints human-readable lines and, last, one line `RESULT {json}` for the caller.

stats     chips, entries total and largest table (after PACMAN's from_json).
compress  PACMAN's pair compressor (accept_overflow) on a virtual machine holding the
          tables' chips (version 5: one SpiNN-5 board if they fit, else a torus of
          12 x 12 multiples, every chip present), then compare_tables
          on every chip; stats of the result.
check     loads both files with from_json (after PACMAN's JSON schema check), then
          - every compressed table has <= --limit entries;
          - a chip with uncompressed entries but no compressed table has only
            defaultable entries;
          - every entry marked defaultable (compare_tables trusts the flag) really is:
            no processors, one link, and its key arrives only from the opposite
            neighbour (found from the neighbours' tables on a --torus W H machine);
          - compare_tables(uncompressed_chip, compressed_chip) chip by chip;
          - corruption: flips one processor bit of the route of the first entry of the
            largest compressed table and requires compare_tables to raise; then the same
            for up to --mutations random entries (informational: an entry whose
            corruption goes unnoticed covers no original key first, i.e. is redundant).
"""
import argparse
import json
import logging
import random
import sys
import time

logging.disable(logging.WARNING)

from pacman.exceptions import PacmanRoutingException  # noqa: E402
from pacman.model.routing_tables import (  # noqa: E402
    MulticastRoutingTables, UnCompressedMulticastRoutingTable)
from pacman.model.routing_tables.multicast_routing_tables import from_json, to_json  # noqa: E402
from pacman.operations.router_compressors.routing_compression_checker import compare_tables  # noqa: E402
from pacman.utilities.file_format_schemas import validate  # noqa: E402
from spinn_machine import MulticastRoutingEntry, RoutingEntry  # noqa: E402


def result(obj):
    print("RESULT " + json.dumps(obj), flush=True)


def load(path):
    with open(path) as f:
        raw = json.load(f)
    t0 = time.perf_counter()
    schema_error = None
    try:
        validate(raw, "routing_tables.json")
    except Exception as e:  # jsonschema.ValidationError
        schema_error = f"{type(e).__name__}: {str(e).splitlines()[0]}"
    tables = from_json(raw)
    return raw, tables, schema_error, time.perf_counter() - t0


def stats_of(tables):
    counts = {(t.x, t.y): t.number_of_entries for t in tables.routing_tables}
    nonempty = [n for n in counts.values() if n]
    largest = max(counts.items(), key=lambda kv: kv[1]) if counts else ((None, None), 0)
    return {"chips": len(nonempty), "tables": len(counts), "entries": sum(counts.values()),
            "largest": largest[1], "largest_chip": list(largest[0])}


def cmd_stats(a):
    raw, tables, schema_error, _ = load(a.tables)
    s = stats_of(tables)
    s["schema_error"] = schema_error
    s["defaultable"] = sum(e.defaultable for t in tables.routing_tables
                           for e in t.multicast_routing_entries)
    print(f"{a.tables}: {s['chips']} chips, {s['entries']} entries, largest {s['largest']}")
    result(s)


def cmd_compress(a):
    from spinn_utilities.config_holder import set_config
    from spinn_machine.virtual_machine import virtual_machine, virtual_machine_by_chips
    from pacman.config_setup import unittest_setup
    from pacman.data.pacman_data_writer import PacmanDataWriter
    from pacman.operations.router_compressors import pair_compressor

    raw, tables, schema_error, _ = load(a.tables)
    unittest_setup()
    set_config("Machine", "version", str(a.version))
    set_config("Mapping", "router_table_compress_as_far_as_possible", "True")
    xs = [t.x for t in tables.routing_tables] or [0]
    ys = [t.y for t in tables.routing_tables] or [0]
    if max(xs) < 8 and max(ys) < 8:
        machine = virtual_machine(8, 8)       # one SpiNN-5 board, as sPyNNaker's virtual board
    else:
        # a torus of SpiNN-5 boards (every chip present), e.g. nerve's 24 x 12 = six boards
        machine = virtual_machine(12 * (max(xs) // 12 + 1), 12 * (max(ys) // 12 + 1))
    writer = PacmanDataWriter.mock()
    writer.set_machine(machine)
    missing = [(t.x, t.y) for t in tables.routing_tables if machine.get_chip_at(t.x, t.y) is None]
    if missing:
        print(f"chips missing from the virtual machine: {missing[:10]}")
        result({"error": f"{len(missing)} chips not on a {machine.width}x{machine.height} machine"})
        return 1
    writer.set_precompressed(tables)
    t0 = time.perf_counter()
    compressed = pair_compressor(accept_overflow=True)
    secs = time.perf_counter() - t0
    failures = []
    t1 = time.perf_counter()
    for t in compressed.routing_tables:
        try:
            compare_tables(tables.get_routing_table_for_chip(t.x, t.y), t)
        except PacmanRoutingException as e:
            failures.append(f"({t.x},{t.y}): {e}")
    check_secs = time.perf_counter() - t1
    if a.out:
        with open(a.out, "w") as f:
            json.dump(to_json(compressed), f)
    s_in, s_out = stats_of(tables), stats_of(compressed)
    print(f"pair compressor: {s_in['entries']} -> {s_out['entries']} entries "
          f"(largest {s_in['largest']} -> {s_out['largest']}) in {secs:.2f} s; "
          f"compare_tables {'OK' if not failures else 'FAILED'} on {len(compressed.routing_tables)} chips")
    result({"uncompressed": s_in, "compressed": s_out, "compress_s": secs, "check_s": check_secs,
            "compare_failures": failures[:10], "n_compare_failures": len(failures),
            "schema_error": schema_error})
    return 0


def flipped(table, index, rng=None):
    """A copy of table whose entry `index` has one processor bit of its route flipped."""
    entries = list(table.multicast_routing_entries)
    e = entries[index]
    route = e.spinnaker_route
    procs = sorted(e.processor_ids)
    p = procs[0] if procs else 1  # remove a processor it has, else add processor 1
    if rng is not None and procs:
        p = rng.choice(procs)
    new_route = route ^ (1 << (6 + p))
    entries[index] = MulticastRoutingEntry(
        e.key, e.mask, RoutingEntry(spinnaker_route=new_route, defaultable=False))
    t = UnCompressedMulticastRoutingTable(table.x, table.y)
    for x in entries:
        t.add_multicast_routing_entry(x)
    return t, p, route, new_route


def caught(original, corrupted):
    try:
        compare_tables(original, corrupted)
        return None
    except PacmanRoutingException as e:
        return str(e)


# SpiNNaker link directions (spinn_machine): 0 E, 1 NE, 2 N, 3 W, 4 SW, 5 S
LINK_DXY = [(1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1)]


def audit_defaultable(tables, torus):
    """An entry may be marked defaultable only if it has no processors and one link L, and the
    key arrives only from the opposite neighbour, over that neighbour's link L (straight on).
    Checked from the neighbours' tables (same key and mask) on a W x H torus."""
    w, h = torus
    by = {}
    for t in tables.routing_tables:
        by[(t.x, t.y)] = {(e.key, e.mask): e.spinnaker_route for e in t.multicast_routing_entries}
    checked, bad = 0, []
    for t in tables.routing_tables:
        for e in t.multicast_routing_entries:
            if not e.defaultable:
                continue
            checked += 1
            links, procs = sorted(e.link_ids), sorted(e.processor_ids)
            where = f"chip ({t.x},{t.y}) key {e.key:#010x} mask {e.mask:#010x}"
            if procs or len(links) != 1:
                bad.append(f"{where}: defaultable with processors {procs} links {links}")
                continue
            out = links[0]
            arrivals = []
            for j, (dx, dy) in enumerate(LINK_DXY):
                n = ((t.x + dx) % w, (t.y + dy) % h)
                r = by.get(n, {}).get((e.key, e.mask))
                if r is not None and r & (1 << ((j + 3) % 6)):   # n sends it back towards us
                    arrivals.append(j)                            # it arrives on our link j
            want = (out + 3) % 6
            if arrivals != [want]:
                bad.append(f"{where}: defaultable out on link {out} but arrives on links {arrivals} "
                           f"(straight on needs only {want})")
    return {"checked": checked, "bad": bad}


def cmd_check(a):
    t0 = time.perf_counter()
    _, unc, schema_u, load_u = load(a.uncompressed)
    _, comp, schema_c, load_c = load(a.compressed)
    problems = []
    if schema_u:
        problems.append(f"uncompressed file fails PACMAN's schema: {schema_u}")
    if schema_c:
        problems.append(f"compressed file fails PACMAN's schema: {schema_c}")
    u_by = {(t.x, t.y): t for t in unc.routing_tables}
    c_by = {(t.x, t.y): t for t in comp.routing_tables}
    over = [(xy, t.number_of_entries) for xy, t in c_by.items() if t.number_of_entries > a.limit]
    for xy, n in over[:5]:
        problems.append(f"chip {xy}: compressed table has {n} entries > {a.limit}")
    # chips with uncompressed entries but no compressed table: all must be defaultable
    no_table = [xy for xy, t in u_by.items() if t.number_of_entries and xy not in c_by]
    bad_default = []
    for xy in no_table:
        nd = [e for e in u_by[xy].multicast_routing_entries if not e.defaultable]
        if nd:
            bad_default.append((xy, len(nd)))
    for xy, n in bad_default[:5]:
        problems.append(f"chip {xy}: no compressed table but {n} non-defaultable entries")
    extra = [xy for xy in c_by if xy not in u_by]
    for xy in extra[:5]:
        problems.append(f"chip {xy}: compressed table on a chip without uncompressed entries")
    # duplicate key/mask in a compressed table (compare_tables keys them in a dict, so it
    # would silently look at only one of them)
    dups = 0
    for t in c_by.values():
        seen = set()
        for e in t.multicast_routing_entries:
            dups += (e.key, e.mask) in seen
            seen.add((e.key, e.mask))
    if dups:
        problems.append(f"{dups} compressed entries repeat a key/mask of an earlier entry of their table")
    # defaultable flags: compare_tables trusts them, so check them against the neighbours
    audit = audit_defaultable(unc, a.torus)
    for msg in audit["bad"][:5]:
        problems.append("defaultable flag: " + msg)
    # compare_tables chip by chip
    t1 = time.perf_counter()
    failures = []
    for xy, t in sorted(c_by.items()):
        if xy not in u_by:
            continue
        try:
            compare_tables(u_by[xy], t)
        except PacmanRoutingException as e:
            failures.append(f"chip {xy}: {e}")
    compare_s = time.perf_counter() - t1
    for f in failures[:5]:
        problems.append("compare_tables: " + f)
    # corruption test
    corruption = None
    mutations = {"tried": 0, "caught": 0}
    if c_by:
        xy = max(c_by, key=lambda k: (c_by[k].number_of_entries, k))
        bad, p, old, new = flipped(c_by[xy], 0)
        msg = caught(u_by.get(xy, UnCompressedMulticastRoutingTable(*xy)), bad)
        corruption = {"chip": list(xy), "entry": 0, "processor": p, "route": old, "corrupted": new,
                      "caught": msg is not None, "message": (msg or "")[:300]}
        if msg is None:
            problems.append(f"corrupting chip {xy} entry 0 (route {old:#x} -> {new:#x}, processor {p}) "
                            f"was NOT caught by compare_tables")
        rng = random.Random(a.seed)
        pool = [(k, i) for k, t in c_by.items() if k in u_by for i in range(t.number_of_entries)]
        for k, i in rng.sample(pool, min(a.mutations, len(pool))):
            bad, *_ = flipped(c_by[k], i, rng)
            mutations["tried"] += 1
            mutations["caught"] += caught(u_by[k], bad) is not None
    su, sc = stats_of(unc), stats_of(comp)
    out = {"uncompressed": su, "compressed": sc, "limit": a.limit, "over_limit": len(over),
           "chips_without_compressed_table": len(no_table),
           "of_which_not_all_defaultable": len(bad_default), "compressed_only_chips": len(extra),
           "duplicate_key_masks": dups, "compare_failures": len(failures), "compare_s": compare_s,
           "defaultable_checked": audit["checked"], "defaultable_bad": len(audit["bad"]),
           "load_s": load_u + load_c, "total_s": time.perf_counter() - t0,
           "corruption": corruption, "mutations": mutations, "problems": problems}
    print(f"uncompressed {su['entries']} entries on {su['chips']} chips (largest {su['largest']}); "
          f"compressed {sc['entries']} on {sc['chips']} (largest {sc['largest']}); "
          f"defaultable flags checked {audit['checked']}, wrong {len(audit['bad'])}; "
          f"compare_tables failures {len(failures)} ({compare_s:.1f} s); "
          f"corruption caught: {corruption and corruption['caught']}; "
          f"mutations caught {mutations['caught']}/{mutations['tried']}")
    for p_ in problems:
        print("PROBLEM:", p_)
    result(out)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("stats")
    s.add_argument("tables")
    c = sub.add_parser("compress")
    c.add_argument("tables")
    c.add_argument("--out")
    c.add_argument("--version", default="5")
    k = sub.add_parser("check")
    k.add_argument("uncompressed")
    k.add_argument("compressed")
    k.add_argument("--limit", type=int, default=1023)
    k.add_argument("--mutations", type=int, default=20)
    k.add_argument("--seed", type=int, default=1)
    k.add_argument("--torus", type=int, nargs=2, default=[24, 12], metavar=("W", "H"),
                   help="machine size for the neighbours of the defaultable audit (default: nerve's "
                   "spinnaker profile, 24 x 12)")
    a = ap.parse_args()
    return {"stats": cmd_stats, "compress": cmd_compress, "check": cmd_check}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
