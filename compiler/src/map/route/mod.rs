//! Routing: key allocation, one multicast tree per source slice, per-tile
//! tables with default-route elision, and compression (ORTC with don't-care
//! keys, then exact merging of same-route entries that differ in one bit).
//! Every source is checked afterwards by tracing the final tables.

pub mod ortc;
pub mod share;
pub mod tree;

use nerve_isa::arch::{Arch, Dir};
use nerve_isa::ids::{CoreId, LinkId, RoutingKey, TileId};
use nerve_isa::image::{CoreMask, RouteEntry};
use serde::Serialize;

use crate::error::{CompileError, Result};
use crate::map::partition::Split;
use ortc::{Block, RouteId, NONE};

/// The communication graph between slices, global slice numbers (pop-index order).
#[derive(Clone, Debug, Default)]
pub struct SliceGraph {
    /// (source slice, destination slice), sorted, unique.
    pub edges: Vec<(u32, u32)>,
}

/// Keys: every sending slice owns a block of 2^`neuron_bits` keys.
#[derive(Clone, Debug)]
pub struct Keys {
    pub neuron_bits: u8,
    /// Key base per global slice (None: the slice sends nothing).
    pub base: Vec<Option<RoutingKey>>,
    /// Per population: the aligned run of keys its slices occupy (key, mask), if it sends.
    pub runs: Vec<Option<(u32, u32)>>,
}

impl Keys {
    pub fn mask(&self) -> u32 {
        ortc::mask_of(32 - self.neuron_bits)
    }
}

/// Allocates keys: populations in the given order, each population's sending
/// slices in one aligned power-of-two run so that a population whose slices
/// all route alike compresses to one entry.
pub fn allocate_keys(splits: &[Split], sends: &[bool], pop_order: &[usize]) -> Result<Keys> {
    let max_size = splits.iter().map(|s| s.size).max().unwrap_or(1);
    let neuron_bits = 32 - (max_size.max(1) - 1).leading_zeros() as u8;
    let neuron_bits = if max_size <= 1 { 0 } else { neuron_bits };
    let base_of = crate::map::place::slice_base(splits);
    let mut base = vec![None; sends.len()];
    let mut runs = vec![None; splits.len()];
    let mut next: u64 = 0;
    for &p in pop_order {
        let sp = splits[p];
        let count = sp.count as u64;
        let any = (0..sp.count).any(|k| sends[(base_of[p] + k) as usize]);
        if !any {
            continue;
        }
        let run = count.next_power_of_two();
        next = next.div_ceil(run) * run;
        let run_bits = run.trailing_zeros() + neuron_bits as u32;
        if (next << neuron_bits) + (run << neuron_bits) - 1 <= u32::MAX as u64 {
            runs[p] = Some(((next << neuron_bits) as u32, ortc::mask_of((32 - run_bits) as u8)));
        }
        for k in 0..sp.count {
            let g = (base_of[p] + k) as usize;
            if sends[g] {
                let key = (next + k as u64) << neuron_bits;
                if key + (1u64 << neuron_bits) - 1 > u32::MAX as u64 {
                    return Err(CompileError::Keys(format!("{} slices of up to {max_size} neurons need more than 32 key bits", sends.len())));
                }
                base[g] = Some(RoutingKey(key as u32));
            }
        }
        next += run;
    }
    Ok(Keys { neuron_bits, base, runs })
}

/// Load on one directed link.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LinkLoad {
    pub tile: u32,
    pub dir: &'static str,
    /// Multicast trees crossing the link.
    pub trees: u32,
    /// Σ over those trees of their source's neurons (one packet per neuron).
    pub neurons: u64,
}

/// What routing produced.
#[derive(Clone, Debug)]
pub struct Routes {
    /// Final tables by tile (only tiles with entries), sorted by tile.
    pub tables: Vec<(TileId, Vec<RouteEntry>)>,
    pub stats: RouteStats,
    pub links: Vec<LinkLoad>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RouteStats {
    pub trees: u32,
    /// One entry per tree node, before default-route elision.
    pub entries_uncompressed: u64,
    /// After eliding straight-through nodes that default routing handles.
    pub entries_after_elision: u64,
    pub entries_compressed: u64,
    pub max_table_uncompressed: u32,
    pub max_table_compressed: u32,
    /// Σ over trees of their hops.
    pub tree_hops: u64,
    /// Σ over trees of hops × source neurons.
    pub neuron_weighted_hops: u64,
    pub max_link_trees: u32,
    pub max_link_neurons: u64,
    pub mean_tree_depth: f64,
    pub max_tree_depth: u32,
    /// Population pairs routed to every slice of their target (`share.rs`).
    pub sharing: share::ShareStats,
}

/// What routing needs of the slices, by global slice g.
pub struct Sources<'a> {
    /// The core g runs on.
    pub core: &'a [CoreId],
    /// g's neurons.
    pub len: &'a [u32],
    /// g's destination cores (sorted).
    pub dests: &'a [Vec<CoreId>],
    /// g's population.
    pub pop_of: &'a [u32],
}

/// Routes every sending slice to its destination cores. Consecutive slices
/// of one population with the same destinations take one tree, rooted at
/// each slice's tile (`tree::reroot`).
///
/// Shared trees are rerooted from the first slice's tree of each run of
/// slices (each slice's own join, branches to nothing cut: the fewest hops);
/// where a table would overflow, the routing is tried again with each
/// slice's tree rerooted from the slice before's (`Sharing::Chained`), whose
/// routes merge more and whose tables can be smaller (a largest table of 16
/// where the first trees' needed 19).
///
/// A table over capacity after both triggers re-routing: trees are rebuilt
/// to pass around the full routers (which they may still deliver to), up to
/// four rounds; then the error names the router and the fewest entries its
/// fullest router needed in any routing tried.
pub fn route(arch: &Arch, keys: &Keys, src: &Sources, progress: &mut dyn FnMut(&str)) -> Result<Routes> {
    let mut avoid = vec![false; arch.num_tiles() as usize];
    // (tile, entries) of the fullest router of the routing that needed the
    // fewest, and how many routings were tried.
    let mut least: Option<(TileId, u64)> = None;
    let mut tried = 0;
    let mut note = |full: &[(TileId, u64)], least: &mut Option<(TileId, u64)>| {
        // `full` is sorted, the fullest first (`route_once` lists at least one).
        tried += 1;
        if let Some(&worst) = full.first().filter(|w| least.is_none_or(|l| w.1 < l.1)) {
            *least = Some(worst);
        }
        tried
    };
    let full = match route_once(arch, keys, src, &avoid, Sharing::First, progress)? {
        Ok(r) => return Ok(r),
        Err(full) => full,
    };
    note(&full, &mut least);
    progress("routing again, trees shared slice to slice");
    let mut full = match route_once(arch, keys, src, &avoid, Sharing::Chained, progress)? {
        Ok(r) => return Ok(r),
        Err(full) => full,
    };
    let mut round = 0;
    loop {
        let tried = note(&full, &mut least);
        if round == 4 || full.iter().all(|(t, _)| avoid[t.index()]) {
            // invariant: `note` just saw `full`, which `route_once` returns only with a router in it
            let (t, n) = least.expect("a routing that failed names a full router");
            return Err(CompileError::RoutingTableFull {
                tile: format!("{t} at {:?} (the fewest of {tried} routings tried, {round} of them around full routers)", arch.tile_xy(t)),
                required: n,
                available: arch.router.table_entries as u64,
            });
        }
        for &(t, _) in &full {
            avoid[t.index()] = true;
        }
        round += 1;
        progress(&format!("re-routing around {} full routers", avoid.iter().filter(|a| **a).count()));
        full = match route_once(arch, keys, src, &avoid, Sharing::Chained, progress)? {
            Ok(r) => return Ok(r),
            Err(full) => full,
        };
    }
}

/// How a population's slices with the same destinations share a tree.
#[derive(Clone, Copy, PartialEq)]
enum Sharing {
    /// Each slice's tree rerooted from the run's first.
    First,
    /// Each slice's tree rerooted from the slice before's.
    Chained,
}

/// One routing attempt: the routes, or the routers over capacity (tile, entries).
#[allow(clippy::type_complexity)]
fn route_once(
    arch: &Arch,
    keys: &Keys,
    sources: &Sources,
    avoid: &[bool],
    sharing: Sharing,
    progress: &mut dyn FnMut(&str),
) -> Result<std::result::Result<Routes, Vec<(TileId, u64)>>> {
    let Sources { core: src_core, len: src_len, dests, pop_of } = *sources;
    let prefix_len = 32 - keys.neuron_bits;
    // Route interning.
    let mut route_ids: std::collections::BTreeMap<(u8, CoreMask), RouteId> = std::collections::BTreeMap::new();
    let mut routes: Vec<(u8, CoreMask)> = Vec::new();
    let mut intern = |r: (u8, CoreMask)| -> RouteId {
        *route_ids.entry(r).or_insert_with(|| {
            routes.push(r);
            (routes.len() - 1) as RouteId
        })
    };
    let n_tiles = arch.num_tiles() as usize;
    let mut blocks: Vec<Vec<Block>> = vec![Vec::new(); n_tiles];
    let mut stats = RouteStats::default();
    let dirs = arch.dirs();
    let mut link_trees = vec![0u32; LinkId::count(n_tiles as u32)];
    let mut link_neurons = vec![0u64; LinkId::count(n_tiles as u32)];
    let mut depth_sum = 0u64;
    let mut depth_n = 0u64;
    progress("routing trees");
    let avoiding = avoid.iter().any(|&a| a);
    // The slice before (its index), and the first tree of its run of slices.
    let mut prev: Option<usize> = None;
    let mut base: Option<tree::Tree> = None;
    for (g, d) in dests.iter().enumerate() {
        let Some(kb) = keys.base[g] else { continue };
        if d.is_empty() {
            return Err(CompileError::Internal(format!("slice {g} has a key but no destination")));
        }
        let src = arch.tile_of(src_core[g]);
        // A population's slices with the same destinations share one tree
        // (not while re-routing around full routers: the joins would not avoid them).
        // Each rerooted from the run's first tree, not from the slice
        // before: a tree rerooted in turn kept every earlier source's join
        // and grew with the slices (9,400 hops for 500 slices that one
        // tree each reach in 2,890).
        let shared = match (prev, &base) {
            (Some(pg), Some(b)) if !avoiding && pop_of[pg] == pop_of[g] && dests[pg] == *d => Some(tree::reroot(arch, b, src)),
            _ => None,
        };
        let tr = match shared {
            Some(t) => t,
            None => {
                let dest_tl: Vec<(TileId, u32)> = d.iter().map(|&c| (arch.tile_of(c), arch.local_core(c))).collect();
                let t = tree::build_avoiding(arch, src, &dest_tl, avoid);
                base = Some(t.clone());
                t
            }
        };
        stats.trees += 1;
        stats.tree_hops += tr.hops() as u64;
        stats.neuron_weighted_hops += tr.hops() as u64 * src_len[g] as u64;
        // Depth of each node = depth of parent + 1; nodes are appended after their parent.
        let mut depth = vec![0u32; tr.nodes.len()];
        for (i, n) in tr.nodes.iter().enumerate() {
            for &dir in dirs {
                if n.links & (1 << dir as u8) != 0 {
                    let ti = LinkId::new(n.tile, dir).index();
                    link_trees[ti] += 1;
                    link_neurons[ti] += src_len[g] as u64;
                }
            }
            if i > 0 {
                // invariant: tree nodes after the root are appended with `arrival: Some(dir)` one hop from their parent (so the hop back
                // stays on the machine) and after it, so the parent precedes the child
                let parent_tile = arch.neighbour(n.tile, n.arrival.expect("non-root nodes arrive").opposite()).expect("parent exists");
                let p = tr.nodes[..i].iter().position(|m| m.tile == parent_tile).expect("parent precedes child");
                depth[i] = depth[p] + 1;
            }
            if !n.cores.is_empty() {
                depth_sum += depth[i] as u64;
                depth_n += 1;
                stats.max_tree_depth = stats.max_tree_depth.max(depth[i]);
            }
            stats.entries_uncompressed += 1;
            let rid = intern((n.links, n.cores));
            let defaultable = arch.router.default_route && n.cores.is_empty() && n.arrival.is_some_and(|a| n.links == 1 << a as u8);
            let ok = if defaultable { vec![rid, NONE] } else { vec![rid] };
            if !defaultable {
                stats.entries_after_elision += 1;
            }
            blocks[n.tile.index()].push(Block { key: kb.0, len: prefix_len, ok });
        }
        prev = Some(g);
        if sharing == Sharing::Chained {
            base = Some(tr.clone());
        }
    }
    stats.mean_tree_depth = if depth_n > 0 { depth_sum as f64 / depth_n as f64 } else { 0.0 };
    // Uncompressed table sizes (after elision).
    stats.max_table_uncompressed = blocks.iter().map(|b| b.iter().filter(|x| x.ok.len() == 1).count() as u32).max().unwrap_or(0);
    progress("compressing routing tables");
    let mut tables = Vec::new();
    let mut full = Vec::new();
    for (t, b) in blocks.into_iter().enumerate() {
        if b.is_empty() {
            continue;
        }
        let entries = ortc::merge_covering(&b, ortc::merge_pairs(&ortc::compress(b.clone())));
        if entries.is_empty() {
            continue;
        }
        let n = entries.len() as u64;
        if n > arch.router.table_entries as u64 {
            full.push((TileId(t as u32), n));
        }
        stats.entries_compressed += n;
        stats.max_table_compressed = stats.max_table_compressed.max(n as u32);
        let es = entries
            .into_iter()
            .map(|e| {
                let (links, cores) = routes[e.route as usize];
                RouteEntry { key: e.key, mask: e.mask, links, cores }
            })
            .collect();
        tables.push((TileId(t as u32), es));
    }
    if !full.is_empty() {
        full.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        return Ok(Err(full));
    }
    let mut links = Vec::new();
    for t in 0..n_tiles {
        for &d in dirs {
            let i = LinkId::new(TileId(t as u32), d).index();
            if link_trees[i] > 0 {
                stats.max_link_trees = stats.max_link_trees.max(link_trees[i]);
                stats.max_link_neurons = stats.max_link_neurons.max(link_neurons[i]);
                links.push(LinkLoad { tile: t as u32, dir: Dir::name(d), trees: link_trees[i], neurons: link_neurons[i] });
            }
        }
    }
    Ok(Ok(Routes { tables, stats, links }))
}
