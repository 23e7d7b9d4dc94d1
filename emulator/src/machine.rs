//! An image loaded for emulation: per-core state, delay ring buffers, packed
//! synaptic rows, and each source core's multicast route resolved once
//! through the image's routing tables (the routes are what the tables do, so
//! caching them changes nothing but speed).

use nerve_isa::arch::{Arch, HopKind};
use nerve_isa::ids::{CoreId, RoutingKey, TileId};
use nerve_isa::image::{CoreKind, Image, ParamArray, PopSymbol, RouteEntry, ValidImage};
use nerve_isa::kernel::{ClassCounts, Kernel};
use nerve_isa::route::{trace, PathCost};

use crate::error::{EmuError, Result};
use crate::kernel_data::{padded, KernelData, Param};

/// Synapses at which `Machine::load` lays out the arena on several threads.
const PARALLEL_ARENA: u64 = 1 << 20;

/// A synapse packed for delivery in one u64 (the arena is a `Vec<u64>` so
/// that it is allocated zeroed by the OS, not filled): bits 0-7 the delay,
/// 8-31 `offset` = the target core's `in_off` + port × padded(n) + target
/// (where its input sits in a slot of `Machine::ring`), 32-63 the weight
/// mantissa.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedSyn(pub u64);

impl PackedSyn {
    #[inline]
    pub fn new(offset: u32, delay: u8, weight: i32) -> PackedSyn {
        PackedSyn(((weight as u32 as u64) << 32) | ((offset as u64) << 8) | delay as u64)
    }
    #[inline]
    pub fn offset(self) -> usize {
        ((self.0 as u32) >> 8) as usize
    }
    #[inline]
    pub fn delay(self) -> usize {
        (self.0 & 0xff) as usize
    }
    #[inline]
    pub fn weight(self) -> i32 {
        (self.0 >> 32) as i32
    }
}

/// What a core runs.
pub enum Run {
    Kernel {
        kernel: usize,
        data: KernelData,
    },
    /// Spikes at fixed steps: (step, neuron), sorted; `next` is the cursor.
    Schedule {
        events: Vec<(u32, u32)>,
        next: usize,
    },
}

/// Where a source core's packets go.
#[derive(Clone, Debug)]
pub struct Dest {
    /// Index of the destination core in `Machine::cores`.
    pub core: u32,
    /// Path latency from the source, ns.
    pub latency_ns: f64,
}

/// A resolved multicast route.
#[derive(Clone, Debug, Default)]
pub struct Route {
    pub dests: Vec<Dest>,
    /// Directed links used: tile × 6 + direction.
    pub links: Vec<u32>,
    pub routers: u32,
    pub hops: [u32; 3],
    pub chip_crossings: u32,
    /// Largest path latency over the destinations, ns.
    pub latency_ns: f64,
}

pub struct Core {
    pub id: CoreId,
    pub pop: u32,
    pub n: usize,
    pub tile: TileId,
    pub run: Run,
    pub key_base: Option<u32>,
    pub ports: usize,
    /// Where the core's inputs (`ports` × padded(n) i32s) start in each
    /// slot of `Machine::ring`.
    pub in_off: usize,
    /// Synapses this core receives (for work balancing).
    pub n_syn: u64,
    /// Instructions per neuron update, by class.
    pub instr: ClassCounts,
}

/// The route of neuron `i` of a core with routes `rs`.
#[inline]
pub fn route_of(rs: &[Route], i: usize) -> &Route {
    if rs.len() == 1 {
        &rs[0]
    } else {
        &rs[i]
    }
}

impl Core {
    pub fn stride(&self) -> usize {
        padded(self.n)
    }
}

/// One packet's arrival at one core that has synapses for it:
/// `arena[start..start + len]`. Arrivals at cores without a row for the key
/// are not stored; they are the route's destinations that have no span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Destination core (index in `Machine::cores`).
    pub core: u32,
    pub start: u32,
    pub len: u32,
}

/// Where a source core's spikes land: neuron i's arrivals are
/// `spans[start[i]..start[i + 1]]` of the core's spans, sorted by
/// destination core. Every core's spans are one stretch of
/// `Machine::spans`, from `base` (one array: no copy per core).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fanout {
    pub start: Vec<u32>,
    pub base: usize,
}

impl Fanout {
    /// This core's spans, out of all of the machine's.
    #[inline]
    pub fn spans<'s>(&self, all: &'s [Span]) -> &'s [Span] {
        &all[self.base..self.base + self.start.last().map_or(0, |&n| n as usize)]
    }

    /// Neuron i's arrivals (none for a core whose spikes go nowhere, whose `start` is empty).
    #[inline]
    pub fn of<'s>(&self, all: &'s [Span], i: usize) -> &'s [Span] {
        &self.spans(all)[self.range(i)]
    }

    /// Where neuron i's arrivals sit in the core's spans (empty for a core whose spikes go nowhere).
    #[inline]
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        match self.start.get(i + 1) {
            Some(&end) => self.start[i] as usize..end as usize,
            None => 0..0,
        }
    }
}

pub struct Machine {
    pub arch: Arch,
    pub dt_ms: f64,
    pub network: String,
    pub kernels: Vec<Kernel>,
    pub cores: Vec<Core>,
    /// Per core: one route for all its keys (len 1), one per neuron, or none (sends nothing).
    pub routes: Vec<Vec<Route>>,
    /// Per core: where each of its neurons' packets land (in `spans`).
    pub fanout: Vec<Fanout>,
    /// Every core's arrivals, core after core (see `Fanout`).
    pub spans: Vec<Span>,
    /// Every synaptic row, laid out so that one neuron's rows at all its
    /// destinations are contiguous (the rows are the image's; only their
    /// order in memory differs, so a spike walks one stretch of memory).
    /// `PackedSyn`s.
    pub arena: Vec<u64>,
    /// Every core's pending input, `ring_slots` slots (a power of two:
    /// slot = step mod ring_slots) of `in_total` i32s, each slot holding the
    /// cores' inputs one after another (`Core::in_off`). One array, so that
    /// a spike's synapses at all its destinations are delivered in one loop.
    pub ring: Vec<i32>,
    pub ring_slots: usize,
    pub in_total: usize,
    pub pops: Vec<PopSymbol>,
    pub tiles_in_use: u32,
    pub chips_in_use: u32,
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

/// True if every router gives every key of [lo, hi] the same first match.
fn uniform(img: &Image, lo: u32, hi: u32) -> bool {
    img.routers.iter().all(|r| {
        for e in &r.entries {
            match cover(lo, hi, e) {
                Cover::All => return true,
                Cover::None => continue,
                Cover::Some => return false,
            }
        }
        true
    })
}

fn hop_ns(a: &Arch, p: &PathCost) -> f64 {
    let t = &a.timing;
    p.ew as f64 * t.hop_ew_ns + p.ns as f64 * t.hop_ns_ns + p.diag as f64 * t.hop_diag_ns + p.chip_crossings as f64 * t.chip_crossing_ns
}

impl Machine {
    /// Validates an image and loads it. Consumes it: the synapses move into packed rows.
    pub fn load(img: Image) -> Result<Machine> {
        Machine::load_on(img.into_valid()?, None)
    }

    /// As `load`, for an image validated already (e.g. just compiled).
    pub fn load_valid(img: ValidImage) -> Result<Machine> {
        Machine::load_on(img, None)
    }

    /// As `load_valid`, laying out the synapse arena on `threads` threads
    /// (`None`: as many as the host has, for large images). The machine is
    /// the same whatever the count (tested).
    pub fn load_on(img: ValidImage, threads: Option<usize>) -> Result<Machine> {
        Machine::load_grouped(img, threads, None)
    }

    /// As `load_on`, choosing how the arena is laid out (tests): `Some(true)`
    /// by source core, `Some(false)` by walking every row; `None`, by the
    /// runs' lengths. The machine is the same either way (tested).
    #[doc(hidden)]
    pub fn load_grouped(img: ValidImage, threads: Option<usize>, by_source: Option<bool>) -> Result<Machine> {
        let mut img = img.into_image();
        // Shared kernels become ordinary rows here: the emulator walks rows;
        // what the chip stores (and the memory limits check) is the kernel.
        for c in img.cores.iter_mut() {
            if !c.conv.is_empty() {
                let (rows, synapses) = c.expanded();
                c.rows = rows;
                c.synapses = synapses;
                c.conv.clear();
            }
        }
        let a = img.arch.clone();
        let index: std::collections::BTreeMap<CoreId, u32> = img.cores.iter().enumerate().map(|(i, c)| (c.core, i as u32)).collect();
        // Routes first (they need the tables and the destinations' input tables).
        let mut all_routes: Vec<Vec<Route>> = Vec::with_capacity(img.cores.len());
        for c in &img.cores {
            let Some(kb) = c.key_base else {
                all_routes.push(vec![]);
                continue;
            };
            let (lo, hi) = (kb.0, kb.0 + c.n_neurons - 1);
            let src_tile = a.tile_of(c.core);
            let keys: Vec<u32> = if uniform(&img, lo, hi) { vec![lo] } else { (lo..=hi).collect() };
            let mut routes = Vec::with_capacity(keys.len());
            for &k in &keys {
                let tr = trace(&img, src_tile, RoutingKey(k))?;
                let mut dests = Vec::with_capacity(tr.cores.len());
                let mut lat = 0.0f64;
                for (dc, pc) in tr.cores.iter().zip(&tr.paths) {
                    let di =
                        *index.get(dc).ok_or_else(|| EmuError::Invalid(format!("packets of {} are routed to {dc}, which the image does not use", c.core)))?;
                    let l = hop_ns(&a, pc);
                    lat = lat.max(l);
                    dests.push(Dest { core: di, latency_ns: l });
                }
                let mut hops = [0u32; 3];
                let mut crossings = 0;
                let mut links = Vec::with_capacity(tr.hops.len());
                for &(t, d) in &tr.hops {
                    match d.hop_kind() {
                        HopKind::EastWest => hops[0] += 1,
                        HopKind::NorthSouth => hops[1] += 1,
                        HopKind::Diagonal => hops[2] += 1,
                    }
                    if let Some(nb) = a.neighbour(t, d) {
                        if a.chip_of(nb) != a.chip_of(t) {
                            crossings += 1;
                        }
                    }
                    links.push(t.0 * 6 + d as u32);
                }
                routes.push(Route { dests, links, routers: tr.routers.len() as u32, hops, chip_crossings: crossings, latency_ns: lat });
            }
            all_routes.push(routes);
        }
        let mut tiles: Vec<TileId> = img.cores.iter().map(|c| a.tile_of(c.core)).collect();
        tiles.sort();
        tiles.dedup();
        let mut chips: Vec<u32> = tiles.iter().map(|&t| a.chip_of(t).0).collect();
        chips.sort();
        chips.dedup();
        // Fan-out. Work from the rows: each non-empty row of a destination core
        // belongs to one key (its input entry's key plus the row's offset), the
        // key to one source neuron; the row is used if that neuron's route
        // reaches this core. Rows are then copied into the arena grouped by
        // source neuron. Arrivals without a row are counted from the routes.
        let mut key_owner: Vec<(u32, u32, usize)> =
            img.cores.iter().enumerate().filter_map(|(i, c)| c.key_base.map(|k| (k.0, k.0 + c.n_neurons - 1, i))).collect();
        key_owner.sort_unstable();
        // Group by source (core, neuron) into the arena, each group in
        // destination order: a counting sort. `used_rows` walks the rows in
        // destination order once, counting per source neuron and noting each
        // row's source neuron (4 bytes a row); the rows are then moved in
        // that order without walking the routes again.
        let mut first = Vec::with_capacity(img.cores.len() + 1);
        let mut total = 0usize;
        for c in &img.cores {
            first.push(total);
            total += c.n_neurons as usize;
        }
        // Per core, the index of its first row in `row_owner`.
        let mut row_base = Vec::with_capacity(img.cores.len() + 1);
        let mut n_rows = 0usize;
        for c in &img.cores {
            row_base.push(n_rows);
            n_rows += c.rows.len();
        }
        row_base.push(n_rows);
        if total >= u32::MAX as usize {
            return Err(EmuError::Invalid("more than 2^32 − 2 neurons".into()));
        }
        let stored: usize = img.cores.iter().map(|c| c.synapses.len()).sum();
        let threads = match threads {
            Some(k) => k.max(1),
            None if stored as u64 >= PARALLEL_ARENA => nerve_isa::host_threads(),
            None => 1,
        };
        // Each row's source neuron, or NO_OWNER for a row no packet reaches.
        const NO_OWNER: u32 = u32::MAX;
        let mut row_owner = vec![NO_OWNER; n_rows];
        // The walk, on several threads for large images, each over a range of
        // destination cores (and so its own stretch of `row_owner`), counting
        // spans and synapses per source neuron; the counts are then summed.
        let dcut = nerve_isa::cuts(&row_base, threads);
        let mut owner_parts = split_by(&mut row_owner, &row_base, &dcut);
        // It also notes runs: consecutive rows of one destination core owned
        // by neurons of one source core, as (source core, destination core,
        // first row, end row), for laying out the arena by source core.
        let walk = |d0: usize, d1: usize, owners: &mut [u32]| -> (Vec<usize>, Vec<usize>, usize, Vec<Run4>) {
            let (mut spans, mut syns, mut n) = (vec![0usize; total + 1], vec![0usize; total + 1], 0usize);
            let mut runs: Vec<Run4> = Vec::new();
            used_rows(&img, &all_routes, &key_owner, d0..d1, &mut |src, i, di, k, len| {
                let b = first[src as usize] + i as usize;
                spans[b + 1] += 1;
                syns[b + 1] += len as usize;
                n += 1;
                owners[row_base[di as usize] - row_base[d0] + k as usize] = b as u32;
                match runs.last_mut() {
                    Some(r) if r[0] == src && r[1] == di && r[3] == k => r[3] = k + 1,
                    _ => runs.push([src, di, k, k + 1]),
                }
            });
            (spans, syns, n, runs)
        };
        let counted: Vec<(Vec<usize>, Vec<usize>, usize, Vec<Run4>)> = if threads == 1 {
            vec![walk(0, img.cores.len(), owner_parts.pop().expect("one part"))]
        } else {
            std::thread::scope(|sc| {
                let hs: Vec<_> = owner_parts
                    .into_iter()
                    .enumerate()
                    .map(|(k, o)| {
                        let (d0, d1, walk) = (dcut[k], dcut[k + 1], &walk);
                        sc.spawn(move || walk(d0, d1, o))
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().expect("a load thread panicked")).collect()
            })
        };
        let mut counted = counted.into_iter();
        let (mut span_at, mut syn_at, mut n_spans, mut runs) = counted.next().expect("one part");
        for (sp, sy, n, r) in counted {
            for (a, b) in span_at.iter_mut().zip(&sp) {
                *a += b;
            }
            for (a, b) in syn_at.iter_mut().zip(&sy) {
                *a += b;
            }
            n_spans += n;
            runs.extend_from_slice(&r);
        }
        for k in 1..=total {
            span_at[k] += span_at[k - 1];
            syn_at[k] += syn_at[k - 1];
        }
        if syn_at[total] >= u32::MAX as usize {
            return Err(EmuError::Invalid("more than 2^32 − 1 synapses".into()));
        }
        // Inputs: each neuron core's ports × padded neurons, one core after
        // another in every slot of the ring; a synapse's offset addresses them
        // in 24 bits.
        let mut in_off = Vec::with_capacity(img.cores.len());
        let mut in_total = 0usize;
        for c in &img.cores {
            in_off.push(in_total);
            if let CoreKind::Neuron { kernel, .. } = &c.kind {
                in_total += img.kernels[kernel.index()].inputs.len() * padded(c.n_neurons as usize);
            }
        }
        if in_total >= 1 << 24 {
            return Err(EmuError::Invalid(format!(
                "the image's cores have {in_total} inputs (input ports × neurons, padded to 4), more than the emulator's 2^24 − 1"
            )));
        }
        let max_delay = img.cores.iter().flat_map(|c| c.synapses.iter().map(|s| s.delay as usize)).max().unwrap_or(0);
        let ring_slots = (max_delay + 1).next_power_of_two();
        let mut arena = vec![0u64; syn_at[total]];
        let mut all_spans = vec![Span { core: 0, start: 0, len: 0 }; n_spans];
        {
            // Moving the rows writes all over the arena (one row of each
            // source neuron per destination core). Taken by source core,
            // each core's runs in destination order, the writes stay in the
            // core's stretch of the arena (which fits a cache) and each
            // neuron's rows still come in destination order. Several threads
            // share the work, each owning a range of source cores (and so one
            // stretch of the arena and of the spans); each writes exactly what
            // one would. (Where runs are short, e.g. one row each, grouping
            // them would cost more memory than it saves time: then each
            // thread walks every row and takes its own, in destination order.)
            let by_source = by_source.unwrap_or(runs.len() <= n_rows / 4);
            let n_cores = img.cores.len();
            let mut run_at = vec![0usize; n_cores + 1];
            let mut grouped: Vec<[u32; 3]> = Vec::new();
            if by_source {
                for r in &runs {
                    run_at[r[0] as usize + 1] += 1;
                }
                for c in 0..n_cores {
                    run_at[c + 1] += run_at[c];
                }
                let mut next = run_at.clone();
                grouped = vec![[0u32; 3]; runs.len()];
                for r in &runs {
                    grouped[next[r[0] as usize]] = [r[1], r[2], r[3]];
                    next[r[0] as usize] += 1;
                }
            }
            drop(runs);
            // Threads' ranges of source neurons, at source core boundaries.
            let core_syn_at: Vec<usize> = first.iter().map(|&f| syn_at[f]).chain([syn_at[total]]).collect();
            let ccut = nerve_isa::cuts(&core_syn_at, threads);
            let cut: Vec<usize> = ccut.iter().map(|&c| if c < n_cores { first[c] } else { total }).collect();
            let mut arena_parts = split_by(&mut arena, &syn_at, &cut);
            let mut span_parts = split_by(&mut all_spans, &span_at, &cut);
            let (img, row_owner, row_base, syn_at, span_at, first, grouped, run_at, in_off) =
                (&img, &row_owner, &row_base, &syn_at, &span_at, &first, &grouped, &run_at, &in_off);
            let fill = move |c0: usize, c1: usize, arena: &mut [u64], spans: &mut [Span]| {
                let lo = if c0 < n_cores { first[c0] } else { total };
                let hi = if c1 < n_cores { first[c1] } else { total };
                let (syn0, sp0) = (syn_at[lo], span_at[lo]);
                let mut syn_next: Vec<usize> = syn_at[lo..hi].iter().map(|&x| x - syn0).collect();
                let mut sp_next: Vec<usize> = span_at[lo..hi].iter().map(|&x| x - sp0).collect();
                let mut row = |di: usize, k: usize, b: usize| {
                    let dst = &img.cores[di];
                    let np = padded(dst.n_neurons as usize);
                    let (a, len) = (dst.rows[k].start as usize, dst.row_len(k));
                    let at = syn_next[b - lo];
                    for (o, s) in arena[at..at + len].iter_mut().zip(&dst.synapses[a..a + len]) {
                        *o = PackedSyn::new((in_off[di] + s.port as usize * np + s.target as usize) as u32, s.delay, s.weight).0;
                    }
                    spans[sp_next[b - lo]] = Span { core: di as u32, start: (syn0 + at) as u32, len: len as u32 };
                    sp_next[b - lo] += 1;
                    syn_next[b - lo] += len;
                };
                if by_source {
                    for &[di, k0, k1] in &grouped[run_at[c0]..run_at[c1]] {
                        let di = di as usize;
                        for k in k0 as usize..k1 as usize {
                            row(di, k, row_owner[row_base[di] + k] as usize);
                        }
                    }
                } else {
                    // Destination order, as the walk: each neuron's rows in it.
                    for di in 0..n_cores {
                        for (k, &b) in row_owner[row_base[di]..row_base[di + 1]].iter().enumerate() {
                            let b = b as usize;
                            if b >= lo && b < hi {
                                row(di, k, b); // else another thread's, or unused (NO_OWNER)
                            }
                        }
                    }
                }
            };
            if threads == 1 {
                fill(0, n_cores, arena_parts.pop().expect("one part"), span_parts.pop().expect("one part"));
            } else {
                std::thread::scope(|sc| {
                    for (k, (a, sp)) in arena_parts.into_iter().zip(span_parts).enumerate() {
                        let (c0, c1) = (ccut[k], ccut[k + 1]);
                        let fill = &fill;
                        sc.spawn(move || fill(c0, c1, a, sp));
                    }
                });
            }
        }
        let mut fanout: Vec<Fanout> = img.cores.iter().map(|_| Fanout::default()).collect();
        for (ci, c) in img.cores.iter().enumerate() {
            if all_routes[ci].is_empty() {
                continue;
            }
            let (g0, n) = (first[ci], c.n_neurons as usize);
            let base = span_at[g0];
            fanout[ci] = Fanout { start: (0..=n).map(|i| (span_at[g0 + i] - base) as u32).collect(), base };
        }
        let kernels = img.kernels;
        let mut cores = Vec::with_capacity(img.cores.len());
        for c in img.cores.into_iter() {
            let n = c.n_neurons as usize;
            let np = padded(n);
            let (run, ports, instr) = match c.kind {
                CoreKind::Neuron { kernel, params, state } => {
                    let k = &kernels[kernel.index()];
                    let params = params
                        .into_iter()
                        .map(|p| match p {
                            ParamArray::Uniform(v) => Param::Uniform(v),
                            ParamArray::PerNeuron(mut v) => {
                                v.resize(np, 0);
                                Param::PerNeuron(v)
                            }
                        })
                        .collect();
                    let state = state
                        .into_iter()
                        .map(|mut s| {
                            s.resize(np, 0);
                            s
                        })
                        .collect();
                    (Run::Kernel { kernel: kernel.index(), data: KernelData { n, state, params } }, k.inputs.len(), k.class_counts())
                }
                CoreKind::SpikeArray { steps } => {
                    let mut ev: Vec<(u32, u32)> = steps.iter().enumerate().flat_map(|(i, s)| s.iter().map(move |&t| (t, i as u32))).collect();
                    ev.sort_unstable();
                    (Run::Schedule { events: ev, next: 0 }, 0, ClassCounts::default())
                }
                CoreKind::External => (Run::Schedule { events: vec![], next: 0 }, 0, ClassCounts::default()),
            };
            debug_assert_eq!(ports * np, in_off.get(cores.len() + 1).unwrap_or(&in_total) - in_off[cores.len()]);
            cores.push(Core {
                id: c.core,
                pop: c.pop.0,
                n,
                tile: a.tile_of(c.core),
                run,
                key_base: c.key_base.map(|k| k.0),
                ports,
                in_off: in_off[cores.len()],
                n_syn: c.synapses.len() as u64,
                instr,
            });
        }
        Ok(Machine {
            arch: a,
            dt_ms: img.meta.dt_ms,
            network: img.meta.network,
            kernels,
            cores,
            routes: all_routes,
            fanout,
            spans: all_spans,
            arena,
            ring: vec![0; ring_slots * in_total],
            ring_slots,
            in_total,
            pops: img.populations,
            tiles_in_use: tiles.len() as u32,
            chips_in_use: chips.len() as u32,
        })
    }

    /// Bytes the machine's arrays occupy (for the memory report).
    pub fn memory_bytes(&self) -> u64 {
        let mut b = 0u64;
        b += self.ring.len() as u64 * 4;
        for c in &self.cores {
            if let Run::Kernel { data, .. } = &c.run {
                b += data.state.iter().map(|s| s.len() as u64 * 4).sum::<u64>();
                b += data.params.iter().map(|p| if let Param::PerNeuron(v) = p { v.len() as u64 * 4 } else { 4 }).sum::<u64>();
            }
        }
        b += self.arena.len() as u64 * 8;
        for f in &self.fanout {
            b += f.start.len() as u64 * 4;
        }
        b += self.spans.len() as u64 * 12;
        for rs in &self.routes {
            b += rs.iter().map(|r| r.dests.len() as u64 * 24 + r.links.len() as u64 * 4).sum::<u64>();
        }
        b
    }
}

impl Machine {
    /// Adds external spikes: (population name, neuron, step) triples. The
    /// population must be an input or spike-source population (its cores
    /// replay schedules). Errors name the offending triple by its index.
    pub fn inject(&mut self, spikes: &[(String, u32, u32)]) -> std::result::Result<(), (usize, String)> {
        let mut added: Vec<(usize, u32, u32)> = Vec::with_capacity(spikes.len());
        for (k, (pop, neuron, step)) in spikes.iter().enumerate() {
            let Some(pi) = self.pops.iter().position(|p| &p.name == pop) else {
                let known: Vec<&str> =
                    self.pops.iter().filter(|p| matches!(p.model.as_str(), "input" | "spike_source_array")).map(|p| p.name.as_str()).collect();
                return Err((k, format!("no population `{pop}` (input populations: {})", known.join(", "))));
            };
            let p = &self.pops[pi];
            if *neuron >= p.size {
                return Err((k, format!("`{pop}` has {} neurons; neuron {neuron} does not exist", p.size)));
            }
            let slice = p.slices.iter().find(|s| *neuron >= s.first && *neuron < s.first + s.count).expect("slices cover the population");
            let ci = self.cores.binary_search_by_key(&slice.core, |c| c.id).expect("slice cores are loaded");
            if !matches!(self.cores[ci].run, Run::Schedule { .. }) {
                return Err((k, format!("`{pop}` is a {} population; spikes can be fed only to input or spike-source populations", p.model)));
            }
            added.push((ci, *step, neuron - slice.first));
        }
        for (ci, step, local) in added {
            if let Run::Schedule { events, .. } = &mut self.cores[ci].run {
                events.push((step, local));
            }
        }
        for c in &mut self.cores {
            if let Run::Schedule { events, next } = &mut c.run {
                events.sort_unstable();
                let before = events.len();
                events.dedup();
                let _ = before;
                *next = 0;
            }
        }
        Ok(())
    }
}

/// A run of rows: source core, destination core, first row, end row.
type Run4 = [u32; 4];

/// `xs` split into the stretches `at[c[k]]..at[c[k + 1]]`, one per range.
fn split_by<'a, T>(xs: &'a mut [T], at: &[usize], c: &[usize]) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(c.len() - 1);
    let mut rest = xs;
    for w in c.windows(2) {
        let (a, b) = std::mem::take(&mut rest).split_at_mut(at[w[1]] - at[w[0]]);
        parts.push(a);
        rest = b;
    }
    parts
}

/// Every used row of the destination cores `dests`, in core order, as (source core,
/// source neuron, destination core, row index in the core, length): each
/// non-empty row belongs to one key (its input entry's key plus the row's
/// offset), the key to one source neuron, and the row is used if that
/// neuron's route reaches the row's core.
fn used_rows(
    img: &Image,
    all_routes: &[Vec<Route>],
    key_owner: &[(u32, u32, usize)],
    dests: std::ops::Range<usize>,
    visit: &mut dyn FnMut(u32, u32, u32, u32, u32),
) {
    let mut cursor: Vec<Vec<u32>> = all_routes.iter().map(|rs| vec![0; rs.len()]).collect();
    for (di, d) in img.cores.iter().enumerate().skip(dests.start).take(dests.len()) {
        if d.rows.is_empty() {
            continue;
        }
        let mut by_row: Vec<&nerve_isa::image::InputEntry> = d.inputs.iter().collect();
        by_row.sort_by_key(|e| e.row);
        // Rows and entries are both in row order, and consecutive rows
        // mostly share their entry, owner and route: walk the entries
        // with the rows and keep the last owner and route decision.
        let mut ei = 0usize;
        let mut owner_range: Option<(u32, u32, usize)> = None;
        let mut reach: Option<(usize, usize, bool)> = None;
        for (k, r) in d.rows.iter().enumerate() {
            while ei + 1 < by_row.len() && by_row[ei + 1].row <= r.row {
                ei += 1;
            }
            let e = match by_row.get(ei) {
                Some(e) if e.row <= r.row && r.row < e.row + e.count => *e,
                _ => continue,
            };
            let key = e.key.0 + (r.row - e.row);
            if !matches!(owner_range, Some((lo, hi, _)) if key >= lo && key <= hi) {
                owner_range = key_owner.partition_point(|o| o.0 <= key).checked_sub(1).map(|i| key_owner[i]).filter(|&(lo, hi, _)| key >= lo && key <= hi);
            }
            let Some((lo, _, src)) = owner_range else {
                continue; // no core sends this key: the row is never used
            };
            let owner = (src, key - lo);
            let rs = &all_routes[owner.0];
            if rs.is_empty() {
                continue;
            }
            let ri = if rs.len() == 1 { 0 } else { owner.1 as usize };
            let reaches = match reach {
                Some((s, i, yes)) if s == src && i == ri => yes,
                _ => {
                    // Destination cores come in increasing order and every
                    // route's destinations are sorted: a cursor per route
                    // only moves forward (linear overall, no search per row).
                    let ds = &rs[ri].dests;
                    let cur = &mut cursor[src][ri];
                    while (*cur as usize) < ds.len() && (ds[*cur as usize].core as usize) < di {
                        *cur += 1;
                    }
                    let yes = ds.get(*cur as usize).is_some_and(|x| x.core as usize == di);
                    reach = Some((src, ri, yes));
                    yes
                }
            };
            if !reaches {
                continue; // the tables do not bring this key here
            }
            visit(owner.0 as u32, owner.1, di as u32, k as u32, d.row_len(k) as u32);
        }
    }
}
