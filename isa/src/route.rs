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

use crate::arch::Dir;
use crate::ids::{CoreId, RoutingKey, TileId};
use crate::image::{Image, RouteEntry};
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

/// The first entry of `entries` that matches `key`.
#[inline]
pub fn lookup(entries: &[RouteEntry], key: u32) -> Option<&RouteEntry> {
    entries.iter().find(|e| key & e.mask == e.key)
}

/// Follows a packet through the image's routing tables.
pub fn trace(img: &Image, source_tile: TileId, key: RoutingKey) -> Result<Trace, RouteError> {
    trace_with(img, source_tile, key, |t| img.router(t).map(|r| r.entries.as_slice()).unwrap_or(&[]))
}

/// As [`trace`], with routing tables supplied by `table` (so the compiler can
/// check tables before they are in an image).
pub fn trace_with<'a>(
    img: &Image,
    source_tile: TileId,
    key: RoutingKey,
    table: impl Fn(TileId) -> &'a [RouteEntry],
) -> Result<Trace, RouteError> {
    let a = &img.arch;
    let mut tr = Trace::default();
    // (tile, direction of travel on arrival or None at the source, depth)
    let mut queue: std::collections::VecDeque<(TileId, Option<Dir>, u32, PathCost)> = std::collections::VecDeque::new();
    queue.push_back((source_tile, None, 0, PathCost::default()));
    // Visited (tile, arrival direction): 7 states per tile.
    let mut seen: Vec<(TileId, Option<Dir>)> = Vec::new();
    let mut delivered: Vec<(CoreId, u32, PathCost)> = Vec::new();
    while let Some((tile, travel, depth, cost)) = queue.pop_front() {
        if seen.contains(&(tile, travel)) {
            return Err(RouteError::Loop { key, source_tile, tile });
        }
        seen.push((tile, travel));
        tr.routers.push(tile);
        let (links, cores) = match lookup(table(tile), key.0) {
            Some(e) => (e.links, e.cores),
            None => match travel {
                None => return Err(RouteError::NoSourceEntry { key, source_tile }),
                Some(d) if a.router.default_route => {
                    tr.defaulted += 1;
                    (1u8 << d as u8, 0u64)
                }
                Some(_) => return Err(RouteError::Dropped { key, source_tile, tile }),
            },
        };
        for local in 0..64u32 {
            if cores & (1u64 << local) != 0 {
                let c = a.core_at(tile, local);
                if delivered.iter().any(|(d, _, _)| *d == c) {
                    return Err(RouteError::Duplicate { key, source_tile, core: c });
                }
                delivered.push((c, depth, cost));
            }
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
