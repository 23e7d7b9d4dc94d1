//! Multicast trees over the tile graph.
//!
//! Destinations are added nearest first; each is joined to the tree by a
//! shortest path (hexagonal torus: a diagonal and a straight segment; mesh:
//! an x and a y segment) from the tree tile, and in the segment order, that
//! minimise hops + ENTRY_HOPS/ENTRY_SCALE × the routing entries the join adds: a
//! branch at a router that was straight-through (and so served by default
//! routing) costs one, a turn costs one. Joining at a tree tile shares
//! branches, so a tree uses far fewer hops than one path per destination; the
//! entry term trades a few hops for smaller tables (rand_big: −6.6% entries
//! for +2.3% hops at 1 hop per entry; `ENTRY_HOPS`). A population's slices on
//! different tiles share one tree (`reroot`).

use nerve_isa::arch::{Arch, Dir, TopologyKind};
use nerve_isa::ids::TileId;
use nerve_isa::image::CoreMask;

/// A node of a multicast tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeNode {
    pub tile: TileId,
    /// Direction the packet travels when it arrives here (`None` at the source).
    pub arrival: Option<Dir>,
    /// Links out of this tile (bit = Dir discriminant).
    pub links: u8,
    /// Local cores the packet is delivered to.
    pub cores: CoreMask,
}

/// A tree: node 0 is the source tile.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    pub nodes: Vec<TreeNode>,
}

impl Tree {
    pub fn hops(&self) -> usize {
        self.nodes.len() - 1
    }
}

/// Signed offsets (dx, dy) from a to b along a shortest route.
fn offset(arch: &Arch, a: (u32, u32), b: (u32, u32)) -> (i64, i64) {
    let (w, h) = arch.grid();
    let (dx, dy) = (b.0 as i64 - a.0 as i64, b.1 as i64 - a.1 as i64);
    match arch.topology.kind {
        TopologyKind::Mesh => (dx, dy),
        TopologyKind::HexTorus => {
            let mut best = (i64::MAX, 0, 0);
            let xs = [dx, dx - w as i64, dx + w as i64];
            let ys = [dy, dy - h as i64, dy + h as i64];
            for &ox in &xs {
                for &oy in &ys {
                    let d = if ox * oy > 0 { ox.abs().max(oy.abs()) } else { ox.abs() + oy.abs() };
                    if d < best.0 {
                        best = (d, ox, oy);
                    }
                }
            }
            (best.1, best.2)
        }
    }
}

fn dist(arch: &Arch, a: (u32, u32), b: (u32, u32)) -> i64 {
    let (ox, oy) = offset(arch, a, b);
    if arch.topology.kind == TopologyKind::HexTorus && ox * oy > 0 {
        ox.abs().max(oy.abs())
    } else {
        ox.abs() + oy.abs()
    }
}

/// The moves of a shortest route from a to b.
fn path(arch: &Arch, a: (u32, u32), b: (u32, u32)) -> Vec<Dir> {
    let (mut ox, mut oy) = offset(arch, a, b);
    let mut out = Vec::new();
    if arch.topology.kind == TopologyKind::HexTorus {
        while ox > 0 && oy > 0 {
            out.push(Dir::NE);
            ox -= 1;
            oy -= 1;
        }
        while ox < 0 && oy < 0 {
            out.push(Dir::SW);
            ox += 1;
            oy += 1;
        }
    }
    for _ in 0..ox.abs() {
        out.push(if ox > 0 { Dir::E } else { Dir::W });
    }
    for _ in 0..oy.abs() {
        out.push(if oy > 0 { Dir::N } else { Dir::S });
    }
    out
}

/// A shortest route from a to b as at most two straight segments (direction,
/// length), in `path`'s order.
fn segments(arch: &Arch, a: (u32, u32), b: (u32, u32)) -> ([(Dir, i64); 2], usize) {
    let (ox, oy) = offset(arch, a, b);
    let mut segs = [(Dir::E, 0i64); 2];
    let mut n = 0;
    let mut push = |d: Dir, k: i64| {
        if k > 0 {
            segs[n] = (d, k);
            n += 1;
        }
    };
    if arch.topology.kind == TopologyKind::HexTorus && ox * oy > 0 {
        let m = ox.abs().min(oy.abs());
        push(if ox > 0 { Dir::NE } else { Dir::SW }, m);
        push(if ox > 0 { Dir::E } else { Dir::W }, ox.abs() - m);
        push(if oy > 0 { Dir::N } else { Dir::S }, oy.abs() - m);
    } else {
        push(if ox > 0 { Dir::E } else { Dir::W }, ox.abs());
        push(if oy > 0 { Dir::N } else { Dir::S }, oy.abs());
    }
    (segs, n)
}

/// The moves of a shortest route from a to b, its two segments in `path`'s
/// order or, if `flip`, the other way round (mesh: y then x; hexagonal torus:
/// the straight part before the diagonal). Both are shortest; which one the
/// tree takes decides where it turns, and so which routers need an entry.
fn path_oriented(arch: &Arch, a: (u32, u32), b: (u32, u32), flip: bool) -> Vec<Dir> {
    let (mut segs, n) = segments(arch, a, b);
    if flip {
        segs[..n].reverse();
    }
    segs[..n].iter().flat_map(|&(d, k)| std::iter::repeat_n(d, k as usize)).collect()
}

/// The moves of a shortest route from any tile of `from` to `to` that passes
/// no tile marked in `avoid` (breadth-first; `None` if there is none).
fn path_avoiding(arch: &Arch, from: &[TileId], to: TileId, avoid: &[bool]) -> Option<(usize, Vec<Dir>)> {
    let n = arch.num_tiles() as usize;
    let mut prev: Vec<Option<(TileId, Dir)>> = vec![None; n];
    let mut seen = vec![false; n];
    let mut q = std::collections::VecDeque::new();
    for &f in from {
        seen[f.index()] = true;
        q.push_back(f);
    }
    while let Some(t) = q.pop_front() {
        if t == to {
            let mut moves = Vec::new();
            let mut cur = t;
            while let Some((p, d)) = prev[cur.index()] {
                moves.push(d);
                cur = p;
            }
            moves.reverse();
            // invariant: the search is seeded with `from` only, and every other tile it reaches has `prev` set, so the walk back ends in `from`
            let start = from.iter().position(|&f| f == cur).expect("a path starts in the tree");
            return Some((start, moves));
        }
        for &d in arch.dirs() {
            if let Some(nb) = arch.neighbour(t, d) {
                if !seen[nb.index()] && (!avoid[nb.index()] || nb == to) {
                    seen[nb.index()] = true;
                    prev[nb.index()] = Some((t, d));
                    q.push_back(nb);
                }
            }
        }
    }
    None
}

/// A tree holding only the source, and the destination tiles (each once)
/// nearest first, ties by tile id: the order both builders join them in.
fn start(arch: &Arch, src: TileId, dests: &[(TileId, u32)]) -> (Tree, Vec<(i64, TileId)>) {
    let tree = Tree { nodes: vec![TreeNode { tile: src, arrival: None, links: 0, cores: CoreMask::EMPTY }] };
    let mut tiles: Vec<TileId> = dests.iter().map(|d| d.0).collect();
    tiles.sort();
    tiles.dedup();
    let sxy = arch.tile_xy(src);
    let mut order: Vec<(i64, TileId)> = tiles.iter().map(|&t| (dist(arch, sxy, arch.tile_xy(t)), t)).collect();
    order.sort();
    (tree, order)
}

/// Builds the tree from `src` to the destination cores, given as
/// (tile, local core) pairs. Tiles marked in `avoid` (full routers) are not
/// passed through where a detour exists, though they may still be destinations.
pub fn build_avoiding(arch: &Arch, src: TileId, dests: &[(TileId, u32)], avoid: &[bool]) -> Tree {
    if !avoid.iter().any(|&a| a) {
        return build(arch, src, dests);
    }
    let (mut tree, order) = start(arch, src, dests);
    for (_, d) in order {
        if tree.nodes.iter().any(|n| n.tile == d) {
            continue;
        }
        let from: Vec<TileId> = tree.nodes.iter().map(|n| n.tile).collect();
        let (start, moves) = match path_avoiding(arch, &from, d, avoid) {
            Some(p) => p,
            None => {
                // No detour: the direct route, through the full router.
                let mut best = (i64::MAX, 0usize);
                for (i, n) in tree.nodes.iter().enumerate() {
                    let dd = dist(arch, arch.tile_xy(n.tile), arch.tile_xy(d));
                    if dd < best.0 {
                        best = (dd, i);
                    }
                }
                (best.1, path(arch, arch.tile_xy(tree.nodes[best.1].tile), arch.tile_xy(d)))
            }
        };
        let mut at = start;
        for dir in moves {
            // invariant: path_avoiding moves only through neighbour() tiles, and `path` is a dimension-order path between two tiles of the machine
            let next = arch.neighbour(tree.nodes[at].tile, dir).expect("paths stay on the machine");
            if let Some(j) = tree.nodes.iter().position(|n| n.tile == next) {
                at = j;
                continue;
            }
            tree.nodes[at].links |= 1 << dir as u8;
            tree.nodes.push(TreeNode { tile: next, arrival: Some(dir), links: 0, cores: CoreMask::EMPTY });
            at = tree.nodes.len() - 1;
        }
    }
    for &(t, local) in dests {
        // invariant: the loop above skipped destinations already in the tree and added a path ending at each other one
        let i = tree.nodes.iter().position(|n| n.tile == t).expect("every destination tile is in the tree");
        tree.nodes[i].cores.insert(local);
    }
    tree
}

/// Hops one routing entry is worth when joining a destination to a tree, in
/// units of 1/ENTRY_SCALE hop: 1.25. rand_big (JSON, p = 0.1, shared routes and
/// trees): 1 hop gave 56,230 entries for 188,322 hops, 1.25 and 1.5 gave
/// 55,815 for 190,406 (−0.74% entries, +1.1% hops), 2 gave 55,712 for 194,846.
const ENTRY_SCALE: i64 = 4;
const ENTRY_HOPS: i64 = 5;

/// Builds the tree from `src` to the destination cores, given as
/// (tile, local core) pairs.
pub fn build(arch: &Arch, src: TileId, dests: &[(TileId, u32)]) -> Tree {
    let (mut tree, order) = start(arch, src, dests);
    // Index of each tile in the tree (dense by tile id would cost a full-grid
    // array per tree; trees are small, so a sorted side list does).
    let mut index: Vec<(TileId, usize)> = vec![(src, 0)];
    let find = |index: &Vec<(TileId, usize)>, t: TileId| index.binary_search_by_key(&t, |x| x.0).ok().map(|i| index[i].1);
    for (_, d) in order {
        if find(&index, d).is_some() {
            continue;
        }
        let dxy = arch.tile_xy(d);
        // Where to join, and which way round: fewest hops plus ENTRY_HOPS per
        // routing entry the join adds (a branch at a straight-through router
        // that default routing served, and a turn on the way). First in tree
        // order, then straight-first order, on ties.
        let mut best = (i64::MAX, 0usize, false);
        for (i, n) in tree.nodes.iter().enumerate() {
            let nxy = arch.tile_xy(n.tile);
            let dd = dist(arch, nxy, dxy);
            if dd * ENTRY_SCALE >= best.0 {
                continue;
            }
            let elided = i > 0 && n.cores.is_empty() && n.arrival.is_some_and(|a| n.links == 1 << a as u8);
            let (segs, ns) = segments(arch, nxy, dxy);
            for flip in [false, true] {
                if flip && ns < 2 {
                    break;
                }
                let first = if flip { segs[ns - 1].0 } else { segs[0].0 };
                if n.links & (1 << first as u8) != 0 {
                    continue; // follows the tree out of this node: a later node is the join
                }
                let cost = dd * ENTRY_SCALE + ENTRY_HOPS * (elided as i64 + ns as i64 - 1);
                if cost < best.0 {
                    best = (cost, i, flip);
                }
            }
        }
        let (_, at0, flip) = best;
        let mut at = at0;
        let axy = arch.tile_xy(tree.nodes[at].tile);
        let moves = path_oriented(arch, axy, dxy, flip);
        for dir in moves {
            // invariant: path_oriented gives a shortest path between two tiles of the machine (inside their bounding box on a mesh)
            let next = arch.neighbour(tree.nodes[at].tile, dir).expect("shortest paths stay on the machine");
            if let Some(j) = find(&index, next) {
                // Only possible on equal-distance ties: continue from there.
                at = j;
                continue;
            }
            tree.nodes[at].links |= 1 << dir as u8;
            tree.nodes.push(TreeNode { tile: next, arrival: Some(dir), links: 0, cores: CoreMask::EMPTY });
            let j = tree.nodes.len() - 1;
            let pos = index.partition_point(|x| x.0 < next);
            index.insert(pos, (next, j));
            at = j;
        }
    }
    for &(t, local) in dests {
        // invariant: the loop above added a path ending at each destination (or found it in the tree already)
        let i = find(&index, t).expect("every destination tile is in the tree");
        tree.nodes[i].cores.insert(local);
    }
    tree
}

/// `tree`'s edges taken from `src` instead of its source: the same tiles,
/// links and deliveries (a source outside the tree joins it by a shortest
/// path to its nearest tile, up to the first tree tile met), so that slices
/// of one population on different tiles take one tree and, at every router
/// off the path between their sources, the same route, which merges under
/// the population's key run. Branches that reach no destination from `src`
/// (the old source's own) are cut.
pub fn reroot(arch: &Arch, tree: &Tree, src: TileId) -> Tree {
    let mut tiles: Vec<TileId> = tree.nodes.iter().map(|n| n.tile).collect();
    let mut cores: Vec<CoreMask> = tree.nodes.iter().map(|n| n.cores).collect();
    let mut index: Vec<(TileId, usize)> = tiles.iter().enumerate().map(|(i, &t)| (t, i)).collect();
    index.sort_unstable();
    let find = |index: &Vec<(TileId, usize)>, t: TileId| index.binary_search_by_key(&t, |x| x.0).ok().map(|i| index[i].1);
    // Undirected edges: (node, direction from the node to it) per node.
    let mut adj: Vec<Vec<(usize, Dir)>> = vec![Vec::new(); tiles.len()];
    for (i, n) in tree.nodes.iter().enumerate().skip(1) {
        // invariant: a tree's non-root nodes arrive from a neighbour that is in the tree (`build` and `build_avoiding` append them one hop from a node already there)
        let a = n.arrival.expect("non-root nodes arrive");
        // invariant: as above, the hop back from a non-root node leads to its parent, a tile of the machine and of the tree
        let p = arch.neighbour(n.tile, a.opposite()).and_then(|t| find(&index, t)).expect("a node's parent is in the tree");
        adj[p].push((i, a));
        adj[i].push((p, a.opposite()));
    }
    let root = match find(&index, src) {
        Some(i) => i,
        None => {
            let sxy = arch.tile_xy(src);
            let mut near = (i64::MAX, 0usize);
            for (i, &t) in tiles.iter().enumerate() {
                let d = dist(arch, sxy, arch.tile_xy(t));
                if d < near.0 {
                    near = (d, i);
                }
            }
            let root = tiles.len();
            tiles.push(src);
            cores.push(CoreMask::EMPTY);
            adj.push(Vec::new());
            let mut at = root;
            for dir in path(arch, sxy, arch.tile_xy(tiles[near.1])) {
                // invariant: `path` is a shortest path between two tiles of the machine, so every step has a neighbour
                let next = arch.neighbour(tiles[at], dir).expect("shortest paths stay on the machine");
                let j = match find(&index, next) {
                    Some(j) => j,
                    None => {
                        tiles.push(next);
                        cores.push(CoreMask::EMPTY);
                        adj.push(Vec::new());
                        let j = tiles.len() - 1;
                        let pos = index.partition_point(|x| x.0 < next);
                        index.insert(pos, (next, j));
                        j
                    }
                };
                adj[at].push((j, dir));
                adj[j].push((at, dir.opposite()));
                if j < tree.nodes.len() {
                    break; // joined the tree
                }
                at = j;
            }
            root
        }
    };
    // Breadth first from the new root: parents precede their children.
    let mut out = Tree { nodes: Vec::with_capacity(tiles.len()) };
    let mut seen = vec![false; tiles.len()];
    // Each node's parent among `order` (the breadth-first order).
    let mut order: Vec<(usize, Option<Dir>, usize)> = Vec::with_capacity(tiles.len());
    let mut queue = std::collections::VecDeque::from([(root, None, usize::MAX)]);
    seen[root] = true;
    while let Some((i, arrival, parent)) = queue.pop_front() {
        let at = order.len();
        order.push((i, arrival, parent));
        for &(j, d) in &adj[i] {
            if !seen[j] {
                seen[j] = true;
                queue.push_back((j, Some(d), at));
            }
        }
    }
    // Branches that deliver nothing are cut: the old source's tile, and
    // the tiles that led only to it, would pass packets on to be dropped.
    let mut useful: Vec<bool> = order.iter().map(|&(i, ..)| !cores[i].is_empty()).collect();
    useful[0] = true;
    for k in (1..order.len()).rev() {
        if useful[k] {
            useful[order[k].2] = true;
        }
    }
    let mut links = vec![0u8; order.len()];
    for (k, &(_, arrival, parent)) in order.iter().enumerate().skip(1) {
        if let (true, Some(d)) = (useful[k], arrival) {
            links[parent] |= 1 << d as u8;
        }
    }
    for (k, &(i, arrival, _)) in order.iter().enumerate() {
        if useful[k] {
            out.nodes.push(TreeNode { tile: tiles[i], arrival, links: links[k], cores: cores[i] });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every node's parent (one hop back against its arrival) comes before it,
    /// the tiles are distinct, and the deliveries are (tile, cores) pairs.
    fn deliveries(arch: &Arch, t: &Tree) -> Vec<(TileId, CoreMask)> {
        for (i, n) in t.nodes.iter().enumerate() {
            match n.arrival {
                None => assert_eq!(i, 0, "only the root has no arrival"),
                Some(a) => {
                    let p = arch.neighbour(n.tile, a.opposite()).unwrap();
                    let pi = t.nodes[..i].iter().position(|m| m.tile == p).expect("parent first");
                    assert!(t.nodes[pi].links & (1 << a as u8) != 0, "the parent links to the child");
                }
            }
        }
        let links: u32 = t.nodes.iter().map(|n| n.links.count_ones()).sum();
        assert_eq!(links as usize, t.nodes.len() - 1, "a tree: one link per non-root node");
        let mut tiles: Vec<TileId> = t.nodes.iter().map(|n| n.tile).collect();
        tiles.sort();
        tiles.dedup();
        assert_eq!(tiles.len(), t.nodes.len());
        let mut d: Vec<(TileId, CoreMask)> = t.nodes.iter().filter(|n| !n.cores.is_empty()).map(|n| (n.tile, n.cores)).collect();
        d.sort();
        d
    }

    #[test]
    fn a_rerooted_tree_delivers_where_the_tree_did_from_any_source() {
        for name in ["spinnaker", "loihi"] {
            let arch = Arch::builtin(name).unwrap();
            let n = arch.num_tiles();
            let dests: Vec<(TileId, u32)> = [3u32, 17, 40, 41, 77, 90].iter().filter(|&&t| t < n).map(|&t| (TileId(t), t % 5)).collect();
            let tree = build(&arch, TileId(0), &dests);
            let want = deliveries(&arch, &tree);
            for src in (0..n).step_by(7).map(TileId) {
                let r = reroot(&arch, &tree, src);
                assert_eq!(r.nodes[0].tile, src, "{name}");
                assert_eq!(deliveries(&arch, &r), want, "{name} from {src}");
                // No branch ends without a delivery: the old root's own is cut
                // where it delivers nothing.
                for (i, x) in r.nodes.iter().enumerate().skip(1) {
                    assert!(x.links != 0 || !x.cores.is_empty(), "{name} from {src}: node {i} at {:?} is a dead end", x.tile);
                }
                let inside = tree.nodes.iter().any(|x| x.tile == src);
                let extra = r.nodes.iter().filter(|x| !tree.nodes.iter().any(|y| y.tile == x.tile)).count();
                if inside {
                    assert!(r.nodes.len() <= tree.nodes.len() && extra == 0, "{name}: a source in the tree adds no tile");
                } else {
                    let d = tree.nodes.iter().map(|x| dist(&arch, arch.tile_xy(src), arch.tile_xy(x.tile))).min().unwrap();
                    assert!(extra > 0 && extra <= d as usize, "{name} from {src}: {extra} tiles joined at distance {d}");
                }
            }
        }
    }
}
