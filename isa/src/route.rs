//! What the routing tables of an image do to one packet: the one definition of
//! multicast routing, used by validation, by the compiler's routing checks and
//! by the emulator (which caches the result per key).
//!
//! A packet with key k enters the router of its source tile from a local core.
//! At each router the first entry with `k & mask == key` sends a copy out of
//! every link in the entry and to every local core in it. If no entry matches
//! and the packet arrived over a link, and the architecture has default
//! routing, the packet continues in the direction it was travelling; otherwise
//! it is dropped, which is an error here.

use crate::arch::{Arch, Dir};
use crate::ids::{CoreId, RoutingKey, TileId};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The multicast tree of one packet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Cores the packet is delivered to, sorted.
    pub cores: Vec<CoreId>,
    /// Every link traversal: (the tile the hop leaves, its direction), in
    /// breadth-first order.
    pub hops: Vec<(TileId, Dir)>,
    /// Every router the packet passes, the source's included, in breadth-first order.
    pub routers: Vec<TileId>,
    /// The hop count from the source to each delivered core (same order as `cores`).
    pub depth: Vec<u32>,
    /// The hops by kind along the path to each delivered core (same order as `cores`).
    pub paths: Vec<PathCost>,
    /// Routers that forwarded the packet by default routing.
    pub defaulted: u32,
}

/// Hops by kind along one source-to-core path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathCost {
    pub ew: u32,
    pub ns: u32,
    pub diag: u32,
    /// Hops that cross a chip boundary.
    pub chip_crossings: u32,
}

impl PathCost {
    fn step(mut self, kind: crate::arch::HopKind, crosses: bool) -> PathCost {
        match kind {
            crate::arch::HopKind::EastWest => self.ew += 1,
            crate::arch::HopKind::NorthSouth => self.ns += 1,
            crate::arch::HopKind::Diagonal => self.diag += 1,
        }
        if crosses {
            self.chip_crossings += 1;
        }
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RouteError {
    #[error("packet {key} from {source_tile}: no routing entry on its source {source_tile}, so it goes nowhere")]
    NoSourceEntry { key: RoutingKey, source_tile: TileId },
    #[error("packet {key} from {source_tile}: dropped at {tile} (no entry matches and default routing cannot forward it)")]
    Dropped { key: RoutingKey, source_tile: TileId, tile: TileId },
    #[error("packet {key} from {source_tile}: the route leaves the mesh at {tile} going {dir:?}")]
    OffMesh { key: RoutingKey, source_tile: TileId, tile: TileId, dir: Dir },
    #[error("packet {key} from {source_tile}: routing loop through {tile}")]
    Loop { key: RoutingKey, source_tile: TileId, tile: TileId },
    #[error("packet {key} from {source_tile}: delivered twice to {core}")]
    Duplicate { key: RoutingKey, source_tile: TileId, core: CoreId },
}

/// The path of a message sent straight from `from` to `to` (the
/// per-destination message model): dimension-order routing, the shortest way.
/// On a mesh, x first, then y (XY routing, as Loihi's NoC and SANA-FE). On the
/// hexagonal torus, the shortest of the wrap-around choices, diagonal hops
/// first, then x, then y; ties go to the first choice in the order
/// (no wrap, wrap x, wrap y, wrap both) so paths are deterministic.
/// Calls `hop(tile, dir)` for each link the message leaves a tile by.
pub fn direct_path(a: &crate::arch::Arch, from: TileId, to: TileId, mut hop: impl FnMut(TileId, Dir)) {
    use crate::arch::TopologyKind;
    let (w, h) = a.grid();
    let ((x0, y0), (x1, y1)) = (a.tile_xy(from), a.tile_xy(to));
    let (dx, dy) = (x1 as i64 - x0 as i64, y1 as i64 - y0 as i64);
    let (mut diag, dx, dy) = match a.topology.kind {
        TopologyKind::Mesh => (0i64, dx, dy),
        TopologyKind::HexTorus => {
            let (w, h) = (w as i64, h as i64);
            let wx = |d: i64, n: i64| if d > 0 { d - n } else { d + n };
            let mut best = (i64::MAX, 0, 0, 0);
            for (cx, cy) in [(dx, dy), (wx(dx, w), dy), (dx, wx(dy, h)), (wx(dx, w), wx(dy, h))] {
                let (g, len) = if cx.signum() * cy.signum() > 0 {
                    let g = cx.abs().min(cy.abs()) * cx.signum();
                    (g, cx.abs().max(cy.abs()))
                } else {
                    (0, cx.abs() + cy.abs())
                };
                if len < best.0 {
                    best = (len, g, cx - g, cy - g);
                }
            }
            (best.1, best.2, best.3)
        }
    };
    let mut t = from;
    let mut go = |t: &mut TileId, d: Dir| {
        hop(*t, d);
        // invariant: `from` and `to` are tiles of the machine: on a mesh every hop moves inside their bounding box (no diagonal
        // hops there), and a hexagonal torus wraps, so every tile has a neighbour in every direction
        *t = a.neighbour(*t, d).expect("a dimension-order path stays on the machine");
    };
    while diag != 0 {
        go(&mut t, if diag > 0 { Dir::NE } else { Dir::SW });
        diag -= diag.signum();
    }
    for _ in 0..dx.abs() {
        go(&mut t, if dx > 0 { Dir::E } else { Dir::W });
    }
    for _ in 0..dy.abs() {
        go(&mut t, if dy > 0 { Dir::N } else { Dir::S });
    }
    debug_assert_eq!(t, to);
}

/// Hops by kind and chip crossings of [`direct_path`].
pub fn direct_cost(a: &crate::arch::Arch, from: TileId, to: TileId) -> PathCost {
    let mut c = PathCost::default();
    direct_path(a, from, to, |t, d| {
        let crosses = a.neighbour(t, d).is_some_and(|n| a.chip_of(n) != a.chip_of(t));
        c = c.step(d.hop_kind(), crosses);
    });
    c
}

/// A router node's multicast table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouterTable {
    pub tile: TileId,
    /// In priority order: the first match wins.
    pub entries: Vec<RouteEntry>,
}

/// One routing entry: packets with `k & mask == key` go out of every link in
/// `links` (bit = [`Dir`] discriminant) and to every local core in `cores`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteEntry {
    pub key: u32,
    pub mask: u32,
    pub links: u8,
    pub cores: CoreMask,
}

/// The local cores of one tile an entry delivers to: bit `i` of word `i / 64`
/// is core `i` of the tile. As wide as the most cores a tile may have
/// (`topology.cores_per_tile`, checked against [`CoreMask::BITS`]), so no
/// profile has a core that a route cannot reach. In an image (bincode's
/// variable-length integers) an unused word costs one byte.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CoreMask(pub [u64; 4]);

impl CoreMask {
    /// Cores a mask can name: the most a tile may have.
    pub const BITS: u32 = 256;
    pub const EMPTY: CoreMask = CoreMask([0; 4]);

    /// The mask of the first 64 cores given by `bits` (bit i = core i).
    pub const fn from_low(bits: u64) -> CoreMask {
        CoreMask([bits, 0, 0, 0])
    }

    /// The mask of one core. `local` < [`CoreMask::BITS`].
    pub fn one(local: u32) -> CoreMask {
        let mut m = CoreMask::EMPTY;
        m.insert(local);
        m
    }

    /// Adds core `local` (< [`CoreMask::BITS`]).
    pub fn insert(&mut self, local: u32) {
        self.0[(local / 64) as usize] |= 1 << (local % 64);
    }

    pub fn contains(&self, local: u32) -> bool {
        local < Self::BITS && self.0[(local / 64) as usize] & (1 << (local % 64)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    pub fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// The lowest core in the mask.
    pub fn first(&self) -> Option<u32> {
        self.iter().next()
    }

    /// The highest core in the mask.
    pub fn last(&self) -> Option<u32> {
        self.0.iter().enumerate().rev().find(|(_, &w)| w != 0).map(|(i, w)| i as u32 * 64 + 63 - w.leading_zeros())
    }

    /// The cores in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let b = w.trailing_zeros();
                    w &= w - 1;
                    i as u32 * 64 + b
                })
            })
        })
    }

    /// The first core at or past `n` in the mask (a tile of `n` cores has none).
    pub fn from(&self, n: u32) -> Option<u32> {
        self.iter().find(|&c| c >= n)
    }
}

impl std::ops::BitOr for CoreMask {
    type Output = CoreMask;
    fn bitor(self, o: CoreMask) -> CoreMask {
        CoreMask(std::array::from_fn(|i| self.0[i] | o.0[i]))
    }
}

impl std::ops::BitOrAssign for CoreMask {
    fn bitor_assign(&mut self, o: CoreMask) {
        *self = *self | o;
    }
}

/// The cores listed (`{0, 3, 65}`): a bit pattern of 256 says little.
impl std::fmt::Debug for CoreMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// How keys in [lo, hi] fare against one entry.
enum Cover {
    All,
    None,
    Some,
}

fn cover(lo: u32, hi: u32, e: &RouteEntry) -> Cover {
    let p = 32 - (lo ^ hi).leading_zeros(); // bits below p vary within the range
    let low = if p >= 32 { u32::MAX } else { (1u32 << p) - 1 };
    let high = e.mask & !low;
    if lo & high != e.key & high {
        Cover::None
    } else if e.mask & low == 0 {
        Cover::All
    } else {
        Cover::Some
    }
}

/// True if every table gives every key of [lo, hi] the same first match
/// (so one trace stands for all of them).
pub fn uniform<'a>(mut tables: impl Iterator<Item = &'a [RouteEntry]>, lo: u32, hi: u32) -> bool {
    tables.all(|entries| {
        for e in entries {
            match cover(lo, hi, e) {
                Cover::All => return true,
                Cover::None => continue,
                Cover::Some => return false,
            }
        }
        true
    })
}

/// The first entry of `entries` that matches `key`.
#[inline]
pub fn lookup(entries: &[RouteEntry], key: u32) -> Option<&RouteEntry> {
    entries.iter().find(|e| key & e.mask == e.key)
}

/// A set of the states a trace has visited: a list while short (most
/// routes visit a few tiles), a hash set past that, so a trace is linear in
/// its hops however long (a loop round a large torus). Fx, not std's
/// SipHash: checking rand_big's 5,588 routes of up to hundreds of tiles
/// spent a third of its time hashing.
struct Visited<T> {
    few: Vec<T>,
    many: Option<rustc_hash::FxHashSet<T>>,
}

impl<T> Default for Visited<T> {
    fn default() -> Self {
        Visited { few: Vec::new(), many: None }
    }
}

impl<T: Copy + Eq + std::hash::Hash> Visited<T> {
    /// Most states kept in the list.
    const FEW: usize = 32;

    /// Adds `x`; false if it was there already.
    fn insert(&mut self, x: T) -> bool {
        if let Some(m) = &mut self.many {
            return m.insert(x);
        }
        if self.few.contains(&x) {
            return false;
        }
        self.few.push(x);
        if self.few.len() > Self::FEW {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

/// Follows a packet with `key`, sent from `source_tile`, through the routing
/// tables `table` gives per tile (an image's, or the compiler's before they
/// are in an image): the one definition of multicast routing.
pub fn trace<'a>(a: &Arch, source_tile: TileId, key: RoutingKey, table: impl Fn(TileId) -> &'a [RouteEntry]) -> Result<Trace, RouteError> {
    let mut tr = Trace::default();
    // (tile, direction of travel on arrival or None at the source, depth)
    let mut queue: std::collections::VecDeque<(TileId, Option<Dir>, u32, PathCost)> = std::collections::VecDeque::new();
    queue.push_back((source_tile, None, 0, PathCost::default()));
    // Visited (tile, arrival direction): 7 states per tile. A set, not a
    // list searched per hop: a loop round a large torus visits every tile
    // before it closes, and a quadratic check of that hung the loader.
    let mut seen: Visited<(TileId, Option<Dir>)> = Visited::default();
    let mut delivered: Vec<(CoreId, u32, PathCost)> = Vec::new();
    let mut delivering: Visited<TileId> = Visited::default();
    while let Some((tile, travel, depth, cost)) = queue.pop_front() {
        if !seen.insert((tile, travel)) {
            return Err(RouteError::Loop { key, source_tile, tile });
        }
        tr.routers.push(tile);
        let (links, cores) = match lookup(table(tile), key.0) {
            Some(e) => (e.links, e.cores),
            None => match travel {
                None => return Err(RouteError::NoSourceEntry { key, source_tile }),
                Some(d) if a.router.default_route => {
                    tr.defaulted += 1;
                    (1u8 << d as u8, CoreMask::EMPTY)
                }
                Some(_) => return Err(RouteError::Dropped { key, source_tile, tile }),
            },
        };
        if let Some(first) = cores.first() {
            // A core belongs to one tile, and a tile reached again selects
            // the same entry: a core is delivered twice exactly when its
            // tile delivers twice (a check per tile, not per core delivered:
            // routes reach thousands of cores).
            if !delivering.insert(tile) {
                return Err(RouteError::Duplicate { key, source_tile, core: a.core_at(tile, first) });
            }
        }
        for local in cores.iter() {
            delivered.push((a.core_at(tile, local), depth, cost));
        }
        for &d in &Dir::ALL {
            if links & (1 << d as u8) != 0 {
                let next = a.neighbour(tile, d).ok_or(RouteError::OffMesh { key, source_tile, tile, dir: d })?;
                tr.hops.push((tile, d));
                let crosses = a.chip_of(tile) != a.chip_of(next);
                queue.push_back((next, Some(d), depth + 1, cost.step(d.hop_kind(), crosses)));
            }
        }
    }
    delivered.sort_by_key(|x| x.0);
    tr.cores = delivered.iter().map(|x| x.0).collect();
    tr.depth = delivered.iter().map(|x| x.1).collect();
    tr.paths = delivered.iter().map(|x| x.2).collect();
    Ok(tr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;

    /// A mask holds any of a tile's 256 cores, lists them in order and finds
    /// the first past a tile's size; an image spends a byte per unused word.
    #[test]
    fn core_masks_hold_every_core_of_a_tile() {
        let mut m = CoreMask::EMPTY;
        assert!(m.is_empty() && m.first().is_none() && m.last().is_none());
        for c in [255, 0, 63, 64, 151, 127, 128] {
            m.insert(c);
        }
        assert_eq!(m.iter().collect::<Vec<_>>(), [0, 63, 64, 127, 128, 151, 255]);
        assert_eq!((m.len(), m.first(), m.last()), (7, Some(0), Some(255)));
        assert_eq!((m.from(64), m.from(65), m.from(256)), (Some(64), Some(127), None));
        assert!(m.contains(151) && !m.contains(150) && !m.contains(256));
        assert_eq!(CoreMask::one(70) | CoreMask::from_low(5), {
            let mut x = CoreMask::from_low(1);
            x.insert(2);
            x.insert(70);
            x
        });
        assert_eq!(format!("{:?}", CoreMask::one(70) | CoreMask::one(3)), "{3, 70}");
        let size = |m: CoreMask| bincode::serde::encode_to_vec(m, bincode::config::standard()).unwrap().len();
        assert_eq!(size(CoreMask::from_low(3)), 4);
        assert_eq!(size(CoreMask::EMPTY), 4);
    }

    fn walk(a: &Arch, from: TileId, to: TileId) -> Vec<Dir> {
        let mut v = Vec::new();
        direct_path(a, from, to, |_, d| v.push(d));
        v
    }

    #[test]
    fn mesh_paths_are_xy() {
        let a = Arch::builtin("loihi").unwrap();
        let (from, to) = (a.tile_at(5, 3), a.tile_at(2, 0));
        assert_eq!(walk(&a, from, to), [Dir::W, Dir::W, Dir::W, Dir::S, Dir::S, Dir::S]);
        assert_eq!(direct_cost(&a, from, to), PathCost { ew: 3, ns: 3, diag: 0, chip_crossings: 0 });
        assert!(walk(&a, from, from).is_empty());
        // Tiles 8 wide per chip: x 7 → 8 crosses into the next chip.
        let c = direct_cost(&a, a.tile_at(7, 0), a.tile_at(9, 5));
        assert_eq!(c, PathCost { ew: 2, ns: 5, diag: 0, chip_crossings: 2 });
    }

    /// A packet that reaches a tile along two paths is delivered twice to
    /// that tile's cores: an error naming its first core; one path is fine.
    #[test]
    fn traces_find_cores_delivered_twice() {
        let a = Arch::builtin("loihi").unwrap();
        let (src, east, north, corner) = (a.tile_at(0, 0), a.tile_at(1, 0), a.tile_at(0, 1), a.tile_at(1, 1));
        let to = |links: &[Dir], cores: u64| RouteEntry {
            key: 7,
            mask: !0,
            links: links.iter().fold(0, |m, &d| m | 1 << d as u8),
            cores: CoreMask::from_low(cores),
        };
        let tables = |both: bool| {
            let mut t = std::collections::HashMap::new();
            t.insert(src, vec![to(if both { &[Dir::E, Dir::N] } else { &[Dir::E] }, 0)]);
            t.insert(east, vec![to(&[Dir::N], 0)]);
            t.insert(north, vec![to(&[Dir::E], 0)]);
            t.insert(corner, vec![to(&[], 0b1010)]);
            t
        };
        let one = tables(false);
        let tr = trace(&a, src, RoutingKey(7), |t| one.get(&t).map_or(&[][..], |v| &v[..])).unwrap();
        assert_eq!(tr.cores, [a.core_at(corner, 1), a.core_at(corner, 3)]);
        let two = tables(true);
        let err = trace(&a, src, RoutingKey(7), |t| two.get(&t).map_or(&[][..], |v| &v[..])).unwrap_err();
        assert!(matches!(err, RouteError::Duplicate { core, .. } if core == a.core_at(corner, 1)), "{err}");
    }

    /// A packet default-routed straight on round a large torus (every tile
    /// visited before the loop closes) is refused as a loop, in time linear
    /// in its hops: the check was a list searched per hop, which hung `nerve
    /// run` on a 1000 × 983 machine.
    #[test]
    fn a_loop_round_a_large_torus_is_found() {
        let mut a = Arch::builtin("spinnaker").unwrap();
        a.topology.chips = [400, 397];
        assert!(a.router.default_route);
        let src = a.tile_at(0, 0);
        let first = [RouteEntry { key: 7, mask: !0, links: 1 << Dir::NE as u8, cores: CoreMask::EMPTY }];
        let err = trace(&a, src, RoutingKey(7), |t| if t == src { &first[..] } else { &[][..] }).unwrap_err();
        assert!(matches!(err, RouteError::Loop { key: RoutingKey(7), source_tile, .. } if source_tile == src), "{err}");
    }

    #[test]
    fn hex_torus_paths_take_the_short_way_round() {
        let a = Arch::builtin("spinnaker").unwrap();
        let (w, h) = a.grid();
        assert!(w > 3 && h > 3);
        // Diagonal moves cover equal signed x and y together.
        assert_eq!(walk(&a, a.tile_at(0, 0), a.tile_at(2, 3)), [Dir::NE, Dir::NE, Dir::N]);
        // Opposite signs need both straight moves.
        assert_eq!(walk(&a, a.tile_at(2, 0), a.tile_at(0, 1)), [Dir::W, Dir::W, Dir::N]);
        // Across both wrap-arounds: one SW hop.
        assert_eq!(walk(&a, a.tile_at(0, 0), a.tile_at(w - 1, h - 1)), [Dir::SW]);
        let c = direct_cost(&a, a.tile_at(0, 0), a.tile_at(w - 1, h - 1));
        assert_eq!((c.diag, c.chip_crossings), (1, 1));
    }
}
