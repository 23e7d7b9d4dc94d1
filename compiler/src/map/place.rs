//! Placement: slices onto cores of the multi-chip machine, keeping slices that
//! talk to each other close.
//!
//! 1. Constructive: populations in breadth-first order from the sources, their
//!    slices in order, onto tiles in the order of a generalized Hilbert curve
//!    over chips and, within a chip, over its tiles. `pack` fills every core of
//!    a tile before the next; `spread` deals slices round-robin over all tiles.
//! 2. Refinement (simulated annealing, seeded): swaps of slices between cores
//!    (or moves into free cores) that lower the neuron-weighted distance
//!    Σ n_src × hops(src, dst) over communicating slice pairs. For `pack`
//!    the free cores are on tiles already in use: it never adds a chip. For
//!    `spread` they are on any tile, but a slice only moves to a tile holding
//!    fewer slices than its own, so min(slices, tiles) tiles stay in use and
//!    none holds more than it was dealt.

use nerve_isa::arch::{Arch, TopologyKind};
use nerve_isa::ids::{CoreId, TileId};

use crate::error::{CompileError, Result};
use crate::map::partition::Split;
use crate::net::model::{Model, Network, PopIx};
use crate::rng::{stream, Rng};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Fill the fewest tiles (and chips).
    Pack,
    /// One slice per tile in turn, over every tile of the machine.
    Spread,
    /// Explicit (population, slice) → core assignments; see [`read_placement`].
    Explicit(PlacementFile),
}

/// (population, slice) → core assignments, and the file they came from:
/// the errors that need the network (a slice or core that does not exist,
/// one given twice) come at placement and name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacementFile {
    pub file: String,
    pub slices: Vec<(String, u32, u32)>,
    /// The file line of each of `slices` (empty for a list built in code:
    /// errors then name the entry), so an error names its row.
    pub lines: Vec<u64>,
}

#[derive(Clone, Debug)]
pub struct PlaceOptions {
    pub strategy: Strategy,
    /// Annealing moves per slice (0 = no refinement).
    pub effort: u32,
    pub seed: u64,
}

impl Default for PlaceOptions {
    fn default() -> Self {
        PlaceOptions { strategy: Strategy::Pack, effort: 60, seed: 0 }
    }
}

/// A slice: (population, slice index).
pub type SliceId = (PopIx, u32);

/// Where every slice went: `cores[pop][slice]`.
#[derive(Clone, Debug)]
pub struct Placement {
    pub cores: Vec<Vec<CoreId>>,
    /// Neuron-weighted distance before and after refinement.
    pub cost_initial: f64,
    pub cost_final: f64,
    /// What refinement did, which can be less than `PlaceOptions::effort` asked.
    pub refinement: Refinement,
}

/// What placement refinement did: the moves asked for, those tried (fewer
/// when the cap applied) and those kept. A move is a proposed swap (or a
/// move into a free core); one that lands on the slice's own tile or on a
/// tile not in use is tried but not weighed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Refinement {
    /// Why refinement did not run (`None` when it ran).
    pub skipped: Option<&'static str>,
    /// Slices placed.
    pub slices: u64,
    /// Moves asked for: effort × slices.
    pub requested: u64,
    /// The most moves refinement makes on this slice graph, when that is below `requested`.
    pub cap: Option<u64>,
    /// Mean number of neighbours a slice has (traffic and cohesion), which sets the cap.
    pub mean_degree: f64,
    pub tried: u64,
    /// Moves to another tile in use, whose cost change was computed.
    pub weighed: u64,
    pub accepted: u64,
    /// Refinement ended worse than it began (by its own objective), and
    /// the starting placement was kept.
    pub kept_start: bool,
}

/// The cap on refinement's moves × the slices' mean degree (number of
/// neighbours): a move's work is proportional to the degrees of the two
/// slices it moves, and the cap keeps dense slice graphs placing in seconds.
/// At least one move per slice is made whatever the degree.
pub const REFINE_MOVES_X_DEGREE: f64 = 1.0e7;

/// Communication between slices: (src slice, dst slice, weight = source neurons).
pub struct Traffic {
    pub pairs: Vec<(u32, u32, f64)>,
}

/// Generalized Hilbert curve over a w × h rectangle (after Červený's gilbert2d):
/// every cell once, neighbours on the curve are neighbours on the grid.
pub fn gilbert(w: u32, h: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity((w * h) as usize);
    fn sgn(x: i64) -> i64 {
        x.signum()
    }
    #[allow(clippy::too_many_arguments)]
    fn gen(out: &mut Vec<(u32, u32)>, x: i64, y: i64, ax: i64, ay: i64, bx: i64, by: i64) {
        let w = (ax + ay).abs();
        let h = (bx + by).abs();
        let (dax, day) = (sgn(ax), sgn(ay));
        let (dbx, dby) = (sgn(bx), sgn(by));
        if h == 1 {
            let (mut x, mut y) = (x, y);
            for _ in 0..w {
                out.push((x as u32, y as u32));
                x += dax;
                y += day;
            }
            return;
        }
        if w == 1 {
            let (mut x, mut y) = (x, y);
            for _ in 0..h {
                out.push((x as u32, y as u32));
                x += dbx;
                y += dby;
            }
            return;
        }
        let (mut ax2, mut ay2) = (ax.div_euclid(2), ay.div_euclid(2));
        let (mut bx2, mut by2) = (bx.div_euclid(2), by.div_euclid(2));
        let w2 = (ax2 + ay2).abs();
        let h2 = (bx2 + by2).abs();
        if 2 * w > 3 * h {
            if w2 % 2 != 0 && w > 2 {
                ax2 += dax;
                ay2 += day;
            }
            gen(out, x, y, ax2, ay2, bx, by);
            gen(out, x + ax2, y + ay2, ax - ax2, ay - ay2, bx, by);
        } else {
            if h2 % 2 != 0 && h > 2 {
                bx2 += dbx;
                by2 += dby;
            }
            gen(out, x, y, bx2, by2, ax2, ay2);
            gen(out, x + bx2, y + by2, ax, ay, bx - bx2, by - by2);
            gen(out, x + (ax - dax) + (bx2 - dbx), y + (ay - day) + (by2 - dby), -bx2, -by2, -(ax - ax2), -(ay - ay2));
        }
    }
    if w >= h {
        gen(&mut out, 0, 0, w as i64, 0, 0, h as i64);
    } else {
        gen(&mut out, 0, 0, 0, h as i64, w as i64, 0);
    }
    out
}

/// Tiles in placement order: chips along a Hilbert curve, tiles within each chip likewise.
pub fn tile_order(arch: &Arch) -> Vec<TileId> {
    let t = &arch.topology;
    let (tx, ty) = (t.tiles_per_chip[0] as u32, t.tiles_per_chip[1] as u32);
    let inner = gilbert(tx, ty);
    let mut out = Vec::with_capacity(arch.num_tiles() as usize);
    for (cx, cy) in gilbert(t.chips[0] as u32, t.chips[1] as u32) {
        for &(ix, iy) in &inner {
            out.push(arch.tile_at(cx * tx + ix, cy * ty + iy));
        }
    }
    out
}

/// Hop distances between tiles, as a lookup by coordinate difference.
pub struct Distance {
    w: u32,
    h: u32,
    kind: TopologyKind,
    /// Hex torus: table by (dx mod w, dy mod h).
    table: Vec<u32>,
    /// Mesh: extra cost per chip boundary crossed.
    chip_penalty: u32,
    tiles_per_chip: (u32, u32),
}

impl Distance {
    pub fn new(arch: &Arch) -> Distance {
        let (w, h) = arch.grid();
        let kind = arch.topology.kind;
        let mut table = Vec::new();
        if kind == TopologyKind::HexTorus {
            table = vec![0; (w * h) as usize];
            for dy in 0..h as i64 {
                for dx in 0..w as i64 {
                    let mut best = i64::MAX;
                    for ox in [dx, dx - w as i64] {
                        for oy in [dy, dy - h as i64] {
                            let d = if ox * oy > 0 { ox.abs().max(oy.abs()) } else { ox.abs() + oy.abs() };
                            best = best.min(d);
                        }
                    }
                    table[(dy as u32 * w + dx as u32) as usize] = best as u32;
                }
            }
        }
        let tp = (arch.topology.tiles_per_chip[0] as u32, arch.topology.tiles_per_chip[1] as u32);
        let multi_tile = tp.0 * tp.1 > 1;
        Distance { w, h, kind, table, chip_penalty: if multi_tile { 4 } else { 0 }, tiles_per_chip: tp }
    }
    #[inline]
    pub fn hops(&self, a: (u32, u32), b: (u32, u32)) -> u32 {
        match self.kind {
            TopologyKind::HexTorus => {
                let dx = (b.0 + self.w - a.0) % self.w;
                let dy = (b.1 + self.h - a.1) % self.h;
                self.table[(dy * self.w + dx) as usize]
            }
            TopologyKind::Mesh => {
                let d = a.0.abs_diff(b.0) + a.1.abs_diff(b.1);
                let c =
                    (a.0 / self.tiles_per_chip.0).abs_diff(b.0 / self.tiles_per_chip.0) + (a.1 / self.tiles_per_chip.1).abs_diff(b.1 / self.tiles_per_chip.1);
                d + self.chip_penalty * c
            }
        }
    }
}

/// Places slices.
pub fn place(arch: &Arch, net: &Network, splits: &[Split], traffic: &Traffic, opts: &PlaceOptions, progress: &mut dyn FnMut(&str)) -> Result<Placement> {
    let n_slices: u64 = splits.iter().map(|s| s.count as u64).sum();
    if n_slices > arch.num_cores() as u64 {
        return Err(CompileError::too_few_cores(arch, n_slices, None));
    }
    // Slice numbering: populations in BFS order, slices in order.
    let order = bfs_order(net);
    let mut slice_ids: Vec<SliceId> = Vec::with_capacity(n_slices as usize);
    for &p in &order {
        for k in 0..splits[p.index()].count {
            slice_ids.push((p, k));
        }
    }
    let tiles = tile_order(arch);
    let cpt = arch.cores_per_tile();
    let mut core_of: Vec<CoreId> = vec![CoreId(0); slice_ids.len()];
    match &opts.strategy {
        Strategy::Pack => {
            for (i, c) in core_of.iter_mut().enumerate() {
                let t = tiles[i / cpt as usize];
                *c = arch.core_at(t, i as u32 % cpt);
            }
        }
        Strategy::Spread => {
            let nt = tiles.len();
            for (i, c) in core_of.iter_mut().enumerate() {
                let t = tiles[i % nt];
                *c = arch.core_at(t, (i / nt) as u32);
            }
        }
        Strategy::Explicit(PlacementFile { file, slices: list, lines }) => {
            let at = |i: usize| lines.get(i).map_or_else(|| format!("entry {}", i + 1), |l| format!("line {l}"));
            let err = |i: usize, reason: String| CompileError::Placement { file: file.clone(), reason: format!("{}: {reason}", at(i)) };
            // The entry that first took each core or slice, to name both of two.
            let mut core_by: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
            let mut set: Vec<Option<usize>> = vec![None; slice_ids.len()];
            for (i, (pop, k, core)) in list.iter().enumerate() {
                let p = net.find(pop).ok_or_else(|| err(i, format!("no population `{pop}`")))?;
                let sp = splits[p.index()];
                if *k >= sp.count {
                    return Err(err(i, format!("`{pop}` has {} slices ({} neurons per core); slice {k} does not exist", sp.count, sp.size)));
                }
                if *core >= arch.num_cores() {
                    return Err(err(i, format!("core {core} does not exist (the machine has {})", arch.num_cores())));
                }
                if let Some(&first) = core_by.get(core) {
                    return Err(err(i, format!("core {core} is given twice (first at {})", at(first))));
                }
                core_by.insert(*core, i);
                // invariant: slice_ids lists (p, k) for every k below each population's slice count, and `k < sp.count` was checked above
                let idx = slice_ids.iter().position(|s| *s == (p, *k)).expect("slice_ids holds every slice of every population");
                if let Some(first) = set[idx] {
                    return Err(err(i, format!("`{pop}` slice {k} is placed twice (first at {})", at(first))));
                }
                set[idx] = Some(i);
                core_of[idx] = CoreId(*core);
            }
            if let Some(i) = set.iter().position(|s| s.is_none()) {
                let (p, k) = slice_ids[i];
                let pop = net.pop(p);
                // Relays are the compiler's, not the network file's: say where they come from.
                let why = match &pop.model {
                    Model::Neuron(n) if n.model.name() == crate::models::NeuronModel::name(&crate::models::relay::RELAY) => {
                        " (a delay-extension relay the compiler adds for delays past the profile's delay slots: a placement file places its slices too)"
                    }
                    _ => "",
                };
                return Err(CompileError::Placement { file: file.clone(), reason: format!("`{}` slice {k} has no core{why}", pop.name) });
            }
        }
    }
    // Map traffic pairs (indexed by global slice number in pop-index order) to our numbering.
    let mut index_of = vec![Vec::new(); splits.len()];
    for (i, &(p, k)) in slice_ids.iter().enumerate() {
        if index_of[p.index()].is_empty() {
            index_of[p.index()] = vec![0u32; splits[p.index()].count as usize];
        }
        index_of[p.index()][k as usize] = i as u32;
    }
    let base = slice_base(splits);
    let global_to_local = |g: u32| -> u32 {
        let p = base.partition_point(|&b| b <= g) - 1;
        index_of[p][(g - base[p]) as usize]
    };
    let mut adj: Vec<Vec<(u32, f64)>> = vec![Vec::new(); slice_ids.len()];
    for &(s, t, w) in &traffic.pairs {
        let (a, b) = (global_to_local(s), global_to_local(t));
        if a != b {
            adj[a as usize].push((b, w));
            adj[b as usize].push((a, w));
        }
    }
    // Cohesion: consecutive slices of a population attract each other. Slices
    // of one population on one tile send along identical trees, whose routing
    // entries then compress into one per tile for the whole population.
    let traffic_adj = adj.clone();
    let strength: Vec<f64> = adj.iter().map(|v| v.iter().map(|x| x.1).sum()).collect();
    for (i, w) in slice_ids.windows(2).enumerate() {
        if w[0].0 == w[1].0 {
            let c = 0.5 * strength[i].min(strength[i + 1]) + 1.0;
            adj[i].push((i as u32 + 1, c));
            adj[i + 1].push((i as u32, c));
        }
    }
    let adj_anneal = adj;
    let adj = traffic_adj;
    let dist = Distance::new(arch);
    let xy = |c: CoreId| arch.tile_xy(arch.tile_of(c));
    let cost_of = |core_of: &[CoreId]| -> f64 {
        let mut c = 0.0;
        for (a, nb) in adj.iter().enumerate() {
            for &(b, w) in nb {
                c += w * dist.hops(xy(core_of[a]), xy(core_of[b as usize])) as f64;
            }
        }
        c / 2.0
    };
    let cost_initial = cost_of(&core_of);
    let slices = slice_ids.len() as u64;
    let skipped = |why: &'static str| Refinement { skipped: Some(why), slices, ..Refinement::default() };
    let refinement = if matches!(opts.strategy, Strategy::Explicit(_)) {
        skipped("explicit placement")
    } else if opts.effort == 0 {
        skipped("effort 0")
    } else if slice_ids.len() < 2 {
        skipped("one slice")
    } else {
        progress("placement refinement");
        // Annealing takes uphill moves and keeps where it ends: on a network of one
        // slice per population (synfire) it ended worse than it began in 5 of 8
        // seeds (traffic cost 200 → 400, 21 → 24 routing entries, +14% energy).
        // Where its own objective ends worse, the start is kept.
        let start = core_of.clone();
        let objective = |c: &[CoreId]| -> f64 {
            adj_anneal
                .iter()
                .enumerate()
                .flat_map(|(a, nb)| nb.iter().map(move |&(b, w)| (a, b, w)))
                .map(|(a, b, w)| w * dist.hops(xy(c[a]), xy(c[b as usize])) as f64)
                .sum()
        };
        let before = objective(&core_of);
        let mut r = anneal(arch, &adj_anneal, &mut core_of, &dist, opts);
        if objective(&core_of) > before {
            core_of = start;
            r.kept_start = true;
        }
        r
    };
    let cost_final = cost_of(&core_of);
    let mut cores: Vec<Vec<CoreId>> = splits.iter().map(|s| vec![CoreId(0); s.count as usize]).collect();
    for (i, &(p, k)) in slice_ids.iter().enumerate() {
        cores[p.index()][k as usize] = core_of[i];
    }
    Ok(Placement { cores, cost_initial, cost_final, refinement })
}

/// First global slice number of each population (pop-index order).
pub fn slice_base(splits: &[Split]) -> Vec<u32> {
    let mut base = Vec::with_capacity(splits.len());
    let mut b = 0u32;
    for s in splits {
        base.push(b);
        b += s.count;
    }
    base
}

pub fn bfs_order(net: &Network) -> Vec<PopIx> {
    let n = net.num_pops();
    let mut seen = vec![false; n];
    let mut out = Vec::with_capacity(n);
    let mut roots: Vec<PopIx> =
        net.pops().filter(|(i, _)| net.graph.neighbors_directed(*i, petgraph::Direction::Incoming).all(|j| j == *i)).map(|(i, _)| i).collect();
    roots.extend(net.pops().map(|(i, _)| i));
    for r in roots {
        if seen[r.index()] {
            continue;
        }
        let mut q = std::collections::VecDeque::from([r]);
        seen[r.index()] = true;
        while let Some(p) = q.pop_front() {
            out.push(p);
            let mut next: Vec<PopIx> = net.graph.neighbors_directed(p, petgraph::Direction::Outgoing).collect();
            next.sort();
            next.dedup();
            for m in next {
                if !seen[m.index()] {
                    seen[m.index()] = true;
                    q.push_back(m);
                }
            }
        }
    }
    out
}

fn anneal(arch: &Arch, adj: &[Vec<(u32, f64)>], core_of: &mut [CoreId], dist: &Distance, opts: &PlaceOptions) -> Refinement {
    let n = core_of.len();
    let mean_deg = adj.iter().map(|v| v.len() as u64).sum::<u64>() as f64 / n as f64;
    let budget = (REFINE_MOVES_X_DEGREE / mean_deg.max(1.0)).max(n as f64) as u64;
    let requested = opts.effort as u64 * n as u64;
    let moves = requested.min(budget);
    let mut r = Refinement {
        skipped: None,
        slices: n as u64,
        requested,
        cap: (budget < requested).then_some(budget),
        mean_degree: mean_deg,
        tried: 0,
        weighed: 0,
        accepted: 0,
        kept_start: false,
    };
    let cpt = arch.cores_per_tile();
    // Candidate cores: every core of every tile in use (free ones included).
    let mut tiles: Vec<TileId> = core_of.iter().map(|&c| arch.tile_of(c)).collect();
    tiles.sort();
    tiles.dedup();
    let mut occupant: std::collections::BTreeMap<CoreId, u32> = core_of.iter().enumerate().map(|(i, &c)| (c, i as u32)).collect();
    // `spread` keeps its slices dealt: a move into a free core (left to
    // itself, cohesion gathered the slices onto a few tiles) must not leave
    // the new tile fuller than the old; swaps keep every tile's count.
    let spread = matches!(opts.strategy, Strategy::Spread);
    let mut per_tile: std::collections::BTreeMap<TileId, u32> = std::collections::BTreeMap::new();
    for &c in core_of.iter() {
        *per_tile.entry(arch.tile_of(c)).or_default() += 1;
    }
    let cand: Vec<CoreId> =
        if spread { (0..arch.num_cores()).map(CoreId).collect() } else { tiles.iter().flat_map(|&t| (0..cpt).map(move |l| arch.core_at(t, l))).collect() };
    // Moves within a tile change no distance and are never made: with one
    // tile in use nothing can move.
    if tiles.len() < 2 {
        r.skipped = Some("every slice on one tile");
        return r;
    }
    let xy = |c: CoreId| arch.tile_xy(arch.tile_of(c));
    let mut rng = Rng::new(opts.seed, stream::PLACEMENT);
    // Cost change of moving slice a from core ca to core cb, given that b (if
    // any) moves the other way.
    let local = |core_of: &[CoreId], a: usize, at: (u32, u32), other: Option<usize>| -> f64 {
        let mut c = 0.0;
        for &(b, w) in &adj[a] {
            if Some(b as usize) == other {
                continue;
            }
            c += w * dist.hops(at, xy(core_of[b as usize])) as f64;
        }
        c
    };
    // Temperature: start near the mean edge cost, cool geometrically to ~0.
    let mean_w = adj.iter().flat_map(|v| v.iter().map(|x| x.1)).sum::<f64>() / adj.iter().map(|v| v.len()).sum::<usize>().max(1) as f64;
    let t0 = mean_w * 2.0;
    let (w, h) = arch.grid();
    let span = (w.max(h) as f64 / 2.0).max(1.0);
    r.tried = moves;
    for m in 0..moves {
        let frac = m as f64 / moves as f64;
        let temp = t0 * (1.0 - frac).powi(3);
        let a = rng.below(n as u64) as usize;
        let ca = core_of[a];
        // Propose a core near a random neighbour of a (or anywhere early on).
        let cb = if !adj[a].is_empty() && rng.f64() < 0.8 {
            let (nb, _) = adj[a][rng.below(adj[a].len() as u64) as usize];
            let (tx, ty) = xy(core_of[nb as usize]);
            let r = ((span * (1.0 - frac)).ceil() as i64).max(1);
            let dx = rng.below((2 * r + 1) as u64) as i64 - r;
            let dy = rng.below((2 * r + 1) as u64) as i64 - r;
            let nx = (tx as i64 + dx).rem_euclid(w as i64) as u32;
            let ny = (ty as i64 + dy).rem_euclid(h as i64) as u32;
            let t = arch.tile_at(nx, ny);
            if !spread && tiles.binary_search(&t).is_err() {
                continue;
            }
            arch.core_at(t, rng.below(cpt as u64) as u32)
        } else {
            cand[rng.below(cand.len() as u64) as usize]
        };
        if cb == ca || arch.tile_of(cb) == arch.tile_of(ca) {
            continue;
        }
        let b = occupant.get(&cb).copied().map(|x| x as usize);
        let (ta, tb) = (arch.tile_of(ca), arch.tile_of(cb));
        if spread && b.is_none() && per_tile.get(&tb).copied().unwrap_or(0) + 1 > per_tile.get(&ta).copied().unwrap_or(0) {
            continue;
        }
        r.weighed += 1;
        let (pa, pb) = (xy(ca), xy(cb));
        let mut delta = local(core_of, a, pb, b) - local(core_of, a, pa, b);
        if let Some(b) = b {
            delta += local(core_of, b, pa, Some(a)) - local(core_of, b, pb, Some(a));
        }
        if delta <= 0.0 || (temp > 0.0 && rng.f64() < (-delta / temp).exp()) {
            r.accepted += 1;
            core_of[a] = cb;
            occupant.remove(&ca);
            occupant.insert(cb, a as u32);
            if let Some(b) = b {
                core_of[b] = ca;
                occupant.insert(ca, b as u32);
            } else {
                *per_tile.entry(tb).or_default() += 1;
                if let Some(n) = per_tile.get_mut(&ta) {
                    *n -= 1;
                }
            }
        }
    }
    r
}

/// Reads a placement file: CSV with header `population,slice,core`, one
/// row per slice (the slice's index within its population, the core id).
pub fn read_placement(path: &std::path::Path) -> Result<PlacementFile> {
    let file = path.display().to_string();
    let err = |reason: String| CompileError::Placement { file: file.clone(), reason };
    // A device is refused (`nerve_isa::files`: /dev/zero never ends).
    let bytes =
        nerve_isa::files::read(path).map_err(|source| CompileError::ReadFile { what: "placement file", path: file.clone(), referenced_at: None, source })?;
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes.as_slice());
    let h = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    if h.iter().collect::<Vec<_>>() != ["population", "slice", "core"] {
        return Err(err(format!("{}: the header must be `population,slice,core`", crate::front::csv::header_at(&bytes))));
    }
    let (mut out, mut lines) = (Vec::new(), Vec::new());
    let mut line_of = crate::front::csv::LineOf::new(&bytes);
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| err(format!("line {}: {}", line_of.of(e.position(), i as u64 + 2), crate::front::csv::reason(&e))))?;
        let line = line_of.of(r.position(), i as u64 + 2);
        let num = |k: usize| -> Result<u32> {
            let cell = r.get(k).unwrap_or("");
            cell.parse::<u32>().map_err(|_| err(format!("line {line}: `{cell}` is not a number")))
        };
        out.push((r.get(0).unwrap_or("").to_string(), num(1)?, num(2)?));
        lines.push(line);
    }
    Ok(PlacementFile { file, slices: out, lines })
}
