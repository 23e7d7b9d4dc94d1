//! An image's multicast routing tables as SpiNNaker's tools hold them: per
//! chip, PACMAN's JSON (`multicast_routing_tables.to_json` / `from_json`) and
//! the router's binary form.
//!
//! A route word is SpiNNaker's: bits 0-5 the links E, NE, N, W, SW, S (nerve's
//! `Dir` numbering), bit 6 + p processor p. nerve's application core c of a
//! chip is processor c + 1 (processor 0 is the monitor, as on SpiNNaker).
//! Chips are numbered (x, y) as PACMAN numbers them on a machine of the same
//! size: x east, y north, wrapping on the torus.
//!
//! The uncompressed tables are what routing gives before compression: one
//! entry per (source core's key block, router on its multicast tree), the
//! entries default routing makes unnecessary (straight through, no core)
//! marked `defaultable`, as PACMAN marks them. The compressed tables are the
//! image's own.

use nerve_isa::arch::{Dir, TopologyKind};
use nerve_isa::ids::{RoutingKey, TileId};
use nerve_isa::image::{CoreMask, Image};

use super::refuse;
use crate::error::Result;

const TARGET: &str = "spinnaker-tables";

/// One routing entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: u32,
    pub mask: u32,
    /// Links (bits 0-5) and processors (bit 6 + p).
    pub route: u64,
    pub defaultable: bool,
}

/// One chip's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChipTable {
    pub x: u32,
    pub y: u32,
    pub entries: Vec<Entry>,
}

/// Application cores a route word holds (bits 7..64).
pub const ROUTE_CORES: u32 = 57;

/// The route word of an entry's links and local cores (the cores past
/// `ROUTE_CORES` are refused before: `check_machine`).
pub fn route_word(links: u8, cores: CoreMask) -> u64 {
    (links as u64 & 0x3f) | (cores.0[0] << 7)
}

/// Links and local cores of a route word (the inverse of `route_word`).
pub fn from_route_word(route: u64) -> (u8, CoreMask) {
    ((route & 0x3f) as u8, CoreMask::from_low(route >> 7))
}

fn check_machine(img: &Image) -> Result<()> {
    let a = &img.arch;
    // The machine first: the checks below speak of chips with one router.
    if a.topology.kind != TopologyKind::HexTorus || a.topology.tiles_per_chip != [1, 1] {
        return Err(refuse(
            TARGET,
            format!("architecture `{}`", a.name),
            "SpiNNaker routing tables need one router per chip on a hexagonal torus (a SpiNNaker-like profile)",
        ));
    }
    if let Some(c) = img.cores.iter().find(|c| !c.gap.is_empty()) {
        // The image keeps no projection names: the population they join, by its core.
        let pop = img.populations.get(c.pop.index()).map_or_else(|| format!("{}", c.core), |p| format!("population `{}` ({})", p.name, c.core));
        return Err(refuse(
            TARGET,
            pop,
            "electrical synapses (gap junctions) join its neurons: their packets take no routing-table entries here, so the tables would not carry them",
        ));
    }
    // A route word holds 6 links, the monitor and ROUTE_CORES application
    // cores in 64 bits: the cores past them fell off its top.
    for r in &img.routers {
        if let Some((e, c)) = r.entries.iter().find_map(|e| e.cores.last().filter(|&c| c >= ROUTE_CORES).map(|c| (e, c))) {
            return Err(refuse(
                TARGET,
                format!("{} (key {:#010x})", r.tile, e.key),
                format!(
                    "it reaches core {c} of its chip, past the {ROUTE_CORES} application cores a 64-bit route word holds (6 links, the monitor, then one bit per core)"
                ),
            ));
        }
    }
    Ok(())
}

/// The image's own (compressed) tables, chips with entries in chip order.
pub fn compressed(img: &Image) -> Result<Vec<ChipTable>> {
    check_machine(img)?;
    let a = &img.arch;
    Ok(img
        .routers
        .iter()
        .filter(|r| !r.entries.is_empty())
        .map(|r| {
            let (x, y) = a.tile_xy(r.tile);
            ChipTable {
                x,
                y,
                entries: r.entries.iter().map(|e| Entry { key: e.key, mask: e.mask, route: route_word(e.links, e.cores), defaultable: false }).collect(),
            }
        })
        .collect())
}

/// The tables before compression (see the module doc).
pub fn uncompressed(img: &Image) -> Result<Vec<ChipTable>> {
    check_machine(img)?;
    let a = &img.arch;
    let mut per_tile: Vec<Vec<Entry>> = vec![Vec::new(); a.num_tiles() as usize];
    // Key blocks of the sending cores, in key order.
    let mut blocks: Vec<(u32, u32)> = img.cores.iter().filter_map(|c| c.key_base.map(|k| (k.0, c.n_neurons))).collect();
    blocks.sort_unstable();
    for c in &img.cores {
        let Some(kb) = c.key_base else { continue };
        let src = a.tile_of(c.core);
        // The smallest aligned block holding the core's keys and no other core's:
        // one entry per router for the whole core; else one per key.
        let bits = (32 - (c.n_neurons.max(1) - 1).leading_zeros()).min(31);
        let size = 1u64 << bits;
        let own_block =
            kb.0 as u64 % size == 0 && blocks.iter().all(|&(k, n)| k == kb.0 || (k as u64 + n as u64) <= kb.0 as u64 || k as u64 >= kb.0 as u64 + size);
        let groups: Vec<(u32, u32)> = if own_block {
            let mask = if bits == 0 { u32::MAX } else { !((size - 1) as u32) };
            // One entry per router for all the keys only if every key routes alike.
            if img.routes_alike(kb.0, kb.0 + c.n_neurons - 1) {
                vec![(kb.0, mask)]
            } else {
                (0..c.n_neurons).map(|i| (kb.0 + i, u32::MAX)).collect()
            }
        } else {
            (0..c.n_neurons).map(|i| (kb.0 + i, u32::MAX)).collect()
        };
        for (key, mask) in groups {
            let tr = img.trace(src, RoutingKey(key)).map_err(|e| refuse(TARGET, format!("{}", c.core), e.to_string()))?;
            // Per router of the tree: links out, cores reached, arrival direction.
            let mut at: Vec<(TileId, u8, CoreMask, Option<Dir>)> = tr.routers.iter().map(|&t| (t, 0u8, CoreMask::EMPTY, None)).collect();
            for &(t, d) in &tr.hops {
                if let Some(x) = at.iter_mut().find(|x| x.0 == t) {
                    x.1 |= 1 << d as u8;
                }
                if let Some(next) = a.neighbour(t, d) {
                    if let Some(x) = at.iter_mut().find(|x| x.0 == next && x.3.is_none() && next != src) {
                        x.3 = Some(d);
                    }
                }
            }
            for core in &tr.cores {
                let t = a.tile_of(*core);
                if let Some(x) = at.iter_mut().find(|x| x.0 == t) {
                    x.2.insert(a.local_core(*core));
                }
            }
            for (t, links, cores, arrival) in at {
                // Only where the profile's routers route by default: PACMAN's
                // compressor drops a defaultable entry, which such a router needs.
                let defaultable = a.router.default_route && cores.is_empty() && arrival.is_some_and(|d| links == 1 << d as u8);
                per_tile[t.index()].push(Entry { key, mask, route: route_word(links, cores), defaultable });
            }
        }
    }
    Ok(per_tile
        .into_iter()
        .enumerate()
        .filter(|(_, e)| !e.is_empty())
        .map(|(t, entries)| {
            let (x, y) = a.tile_xy(TileId(t as u32));
            ChipTable { x, y, entries }
        })
        .collect())
}

/// What the JSON holds that PACMAN 1!7.4.1 takes otherwise: its schema's
/// route is 24 bits (6 links, 18 processors) and its `from_json` keeps only
/// those, silently, so a route reaching cores past 17 (SpiNNaker 2's chips)
/// loses them there.
pub fn notes(tables: &[ChipTable]) -> Vec<String> {
    let wide: Vec<(u32, u32, u32)> = tables.iter().flat_map(|t| t.entries.iter().filter(|e| e.route >> 24 != 0).map(move |e| (t.x, t.y, e.key))).collect();
    match wide.first() {
        None => Vec::new(),
        Some(&(x, y, key)) => vec![format!(
            "{} entries route past 24 bits (cores past 17, e.g. chip ({x}, {y}) key {key:#010x}): PACMAN 1!7.4.1's JSON schema rejects them and its from_json truncates them to 24 bits silently (the binary form keeps 64)",
            wide.len()
        )],
    }
}

/// PACMAN's JSON: `[{"x", "y", "entries": [{"key", "mask", "defaultable", "spinnaker_route"}]}]`.
pub fn to_json(tables: &[ChipTable]) -> String {
    let v: Vec<serde_json::Value> = tables
        .iter()
        .map(|t| {
            serde_json::json!({
                "x": t.x,
                "y": t.y,
                "entries": t.entries.iter().map(|e| serde_json::json!({
                    "key": e.key, "mask": e.mask, "defaultable": e.defaultable, "spinnaker_route": e.route
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    // invariant: a serde_json::Value with string keys and integer/bool leaves always serialises
    serde_json::to_string(&v).expect("a serde_json::Value always serialises")
}

/// The binary form's magic.
pub const BINARY_MAGIC: &[u8; 8] = b"NRVROUT1";

/// The router's binary form: magic, u32 route width in bytes (4: SpiNNaker 1's
/// 24-bit route word; 8 where there are more than 18 processors), u32 chips;
/// per chip u32 x, u32 y, u32 entries; per entry u32 key, u32 mask and the
/// route word; all little-endian.
pub fn to_binary(tables: &[ChipTable]) -> Vec<u8> {
    let wide = tables.iter().flat_map(|t| &t.entries).any(|e| e.route >> 24 != 0);
    let w: u32 = if wide { 8 } else { 4 };
    let mut out = BINARY_MAGIC.to_vec();
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&(tables.len() as u32).to_le_bytes());
    for t in tables {
        for v in [t.x, t.y, t.entries.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for e in &t.entries {
            out.extend_from_slice(&e.key.to_le_bytes());
            out.extend_from_slice(&e.mask.to_le_bytes());
            if wide {
                out.extend_from_slice(&e.route.to_le_bytes());
            } else {
                out.extend_from_slice(&(e.route as u32).to_le_bytes());
            }
        }
    }
    out
}

/// Reads the binary form back (`defaultable` is not stored: false).
pub fn from_binary(b: &[u8]) -> std::result::Result<Vec<ChipTable>, String> {
    let mut at = 0usize;
    let mut take = |n: usize| -> std::result::Result<&[u8], String> {
        let s = b.get(at..at + n).ok_or_else(|| format!("truncated at byte {at}"))?;
        at += n;
        Ok(s)
    };
    if take(8)? != BINARY_MAGIC {
        return Err("not a nerve routing-table file (bad magic)".into());
    }
    let u32_of = |s: &[u8]| u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
    let w = u32_of(take(4)?);
    if w != 4 && w != 8 {
        return Err(format!("route width {w} bytes (4 or 8)"));
    }
    let n = u32_of(take(4)?);
    let mut tables = Vec::new();
    for _ in 0..n {
        let (x, y, k) = (u32_of(take(4)?), u32_of(take(4)?), u32_of(take(4)?));
        let mut entries = Vec::new();
        for _ in 0..k {
            let (key, mask) = (u32_of(take(4)?), u32_of(take(4)?));
            let r = take(w as usize)?;
            // invariant: `take(w)` returns exactly w bytes and this branch has w == 8
            let route = if w == 8 { u64::from_le_bytes(r.try_into().expect("take(8) returns 8 bytes")) } else { u32_of(r) as u64 };
            entries.push(Entry { key, mask, route, defaultable: false });
        }
        tables.push(ChipTable { x, y, entries });
    }
    if at != b.len() {
        return Err(format!("{} bytes after the last table", b.len() - at));
    }
    Ok(tables)
}
