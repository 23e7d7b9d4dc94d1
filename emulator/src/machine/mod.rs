//! An image loaded for emulation: per-core state, delay ring buffers, packed
//! synaptic rows, and each source core's multicast route resolved once
//! through the image's routing tables (the routes are what the tables do, so
//! caching them changes nothing but speed).

mod arena;

use nerve_isa::arch::{Arch, Footprint};
use nerve_isa::ids::{CoreId, TileId};
use nerve_isa::image::{CoreColumns, CoreKind, Image, LoadImage, ParamArray, PopSymbol, Synapse, ValidImage};
use nerve_isa::kernel::{ClassCounts, Kernel};
use nerve_isa::learning::LearningRule;

use crate::error::{InjectError, InjectReason, Result};
use crate::kernel::{padded, KernelData, Param};
use crate::learning::{Plastic, PreSub, PreSubs};
use crate::mesh::Route;
use arena::Laid;

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

/// See [`Machine::ring_copy_max`]: beyond it the copy would cost more
/// memory than the interference it avoids costs time (a thread's inputs then
/// span far more than its caches).
pub const RING_COPY_MAX: usize = 256 << 20;

/// A core; in whole cache lines (its thread changes some fields as it runs:
/// a schedule's cursor, learning state), so neighbours owned by different
/// threads share none.
#[repr(align(128))]
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
    /// Its learning projections' synapses and engine state.
    pub plastic: Vec<Plastic>,
    /// Electrical synapses: the (neuron, state slot) values this core sends
    /// every step, each to its index among the machine's gap sources.
    pub gap_out: Vec<(u16, u8, u32)>,
    /// And those it receives: (gap source, port × padded(n) + target, weight, shift).
    pub gap_in: Vec<GapIn>,
    /// How many distinct gap sources reach it (packets per step).
    pub gap_in_sources: u32,
}

/// One electrical synapse into a core (see `nerve_isa::image::GapEdge`).
/// A core's list is sorted by (`at`, `shift`): the terms into one input at
/// one shift are consecutive, `last` on the group's last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GapIn {
    pub src: u32,
    pub at: u32,
    pub weight: i32,
    pub shift: u8,
    pub last: bool,
}

/// The junctions' input of one step: for each group of `gap_in` (the terms
/// into one input at one shift), Σ weight × v summed exactly (64 bits:
/// `Image::validate` bounds Σ|weight| by 2^31), scaled by 2^-shift and
/// rounded once, to nearest, ties away from zero, and given to `add` with
/// the input's index. One rounding per neuron and port: a neuron's partner
/// terms and its self term (−Σg times its own v) cancel exactly at equal
/// potentials, and the error is half a unit whatever the neuron's number of
/// junctions (rounding each term left up to half a unit per junction, a
/// steady current that drove quiet cells). The one definition, for every
/// step's delivery and the initial one.
#[inline]
pub fn gap_sums(gap_in: &[GapIn], v: impl Fn(u32) -> i32, mut add: impl FnMut(usize, i32)) {
    let mut acc = 0i64;
    for g in gap_in {
        acc += g.weight as i64 * v(g.src) as i64;
        if g.last {
            let half = (1i64 << g.shift) >> 1;
            let x = if acc >= 0 { (acc + half) >> g.shift } else { -((-acc + half) >> g.shift) };
            // A 32-bit input wraps, as a synapse's does.
            add(g.at as usize, x as i32);
            acc = 0;
        }
    }
}

impl Core {
    pub fn stride(&self) -> usize {
        padded(self.n)
    }
}

/// One packet's arrival at one core that has synapses for it. Arrivals at
/// cores without a row for the key are not stored; they are the route's
/// destinations that have no span. Its synapses follow those of the
/// neuron's spans before it in the arena (`Fanout::syns_of`).
///
/// Eight bytes: a large network has about one span per synapse (the 1M
/// ring: 94 M of them), so the spans are the load's largest array (their
/// arena offset, four bytes more each, is found from the neuron's); a row
/// holds at most `MAX_ROW` synapses (checked at load).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(8))]
pub struct Span {
    /// Destination core (index in `Machine::cores`).
    pub core: u32,
    /// The row's synapses (what a packet's arrival counts).
    pub len: u16,
    /// Those the arena holds: all but the learning ones, which deliver
    /// their own weights.
    pub deliver: u16,
}

impl Span {
    /// The span as one u64 (core in bits 0-31, len 32-47, deliver 48-63):
    /// the load builds spans as words so that the array comes zeroed from
    /// the allocator and its pages are first touched by the threads that
    /// fill it (a `vec!` of a struct is written by one thread first: the
    /// 1M ring's 750 MB took 1.5-2 s of one thread's page faults).
    #[inline]
    pub fn word(core: u32, len: u16, deliver: u16) -> u64 {
        core as u64 | (len as u64) << 32 | (deliver as u64) << 48
    }

    /// The spans of `words` (`Span::word`), in the same allocation (same
    /// size and alignment: the collect reuses it; tested).
    pub fn from_words(words: Vec<u64>) -> Vec<Span> {
        words.into_iter().map(|x| Span { core: x as u32, len: (x >> 32) as u16, deliver: (x >> 48) as u16 }).collect()
    }
}

/// The most synapses one row (one source neuron's to one core) may hold.
pub const MAX_ROW: usize = nerve_isa::MAX_ROW_LENGTH as usize;

/// Where a source core's spikes land: neuron i's arrivals are
/// `spans[at[i][0]..at[i + 1][0]]` of the core's spans, sorted by
/// destination core, and its synapses `arena[at[i][1]..at[i + 1][1]]`.
/// Every core's spans are one stretch of `Machine::spans`, from `base` (one
/// array: no copy per core). A neuron's spans and synapses are found
/// together: delivery requests both from memory at once, not the synapses
/// only once the spans have come.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fanout {
    pub at: Vec<[u32; 2]>,
    pub base: usize,
}

impl Fanout {
    /// This core's spans, out of all of the machine's.
    #[inline]
    pub fn spans<'s>(&self, all: &'s [Span]) -> &'s [Span] {
        &all[self.base..self.base + self.at.last().map_or(0, |n| n[0] as usize)]
    }

    /// The core's neurons (0 for a core whose spikes go nowhere).
    #[inline]
    pub fn neurons(&self) -> usize {
        self.at.len().saturating_sub(1)
    }

    /// Neuron i's arrivals (none for a core whose spikes go nowhere, whose `start` is empty).
    #[inline]
    pub fn of<'s>(&self, all: &'s [Span], i: usize) -> &'s [Span] {
        &self.spans(all)[self.range(i)]
    }

    /// Where neuron i's arrivals sit in the core's spans (empty for a core whose spikes go nowhere).
    #[inline]
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        match self.at.get(i + 1) {
            Some(end) => self.at[i][0] as usize..end[0] as usize,
            None => 0..0,
        }
    }

    /// Where neuron i's synapses sit in the arena (empty for a core whose spikes go nowhere).
    #[inline]
    pub fn syns(&self, i: usize) -> std::ops::Range<usize> {
        match self.at.get(i + 1) {
            Some(end) => self.at[i][1] as usize..end[1] as usize,
            None => 0..0,
        }
    }

    /// Neuron i's arrivals, each with its synapses in the arena (a neuron's
    /// rows lie there in the order of its spans).
    pub fn rows<'s>(&self, all: &'s [Span], i: usize) -> impl Iterator<Item = (&'s Span, std::ops::Range<usize>)> + 's {
        let mut at = self.syns(i).start;
        self.of(all, i).iter().map(move |sp| {
            let y = at..at + sp.deliver as usize;
            at = y.end;
            (sp, y)
        })
    }

    /// The synapses of neuron i's arrivals `own` (indices into `of(all, i)`),
    /// as `rows` places them, without walking the others one by one.
    #[inline]
    pub fn syns_of(&self, all: &[Span], i: usize, own: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let spans = self.of(all, i);
        let sum = |xs: &[Span]| xs.iter().map(|s| s.deliver as usize).sum::<usize>();
        let y = self.syns(i);
        let a = y.start + sum(&spans[..own.start]);
        a..y.end - sum(&spans[own.end..])
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
    /// cores' inputs one after another (`Core::in_off`), each core's in whole
    /// cache lines. One array, so that a spike's synapses at all its
    /// destinations are delivered in one loop.
    pub ring: crate::lines::LineVec<i32>,
    pub ring_slots: usize,
    pub in_total: usize,
    /// The largest part of the ring (bytes, all its slots) a thread works on
    /// in a copy of its own during a run ([`RING_COPY_MAX`] unless changed):
    /// larger parts are used in place, so as not to hold them twice.
    pub ring_copy_max: usize,
    /// Whether runs pin their threads to CPUs ([`crate::engine::pin::Pin`]).
    pub pin: crate::engine::pin::Pin,
    /// A flag the caller may set, from any thread, to stop a run early: it
    /// is read every 1,024 steps (as progress is told), the run then ends
    /// 1,024 steps later on every thread with [`crate::EmuError::Stopped`]
    /// (a Python caller's Ctrl-C). Runs over several ranks do not read it.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    pub pops: Vec<PopSymbol>,
    /// The image's learning rules.
    pub rules: Vec<LearningRule>,
    /// Per source core: its neurons that feed plastic synapses, sorted by neuron.
    pub pre_subs: Vec<PreSubs>,
    /// The same for STDP sets (their spikes go through a worker's `StdpArena`).
    pub stdp_subs: Vec<PreSubs>,
    /// Tiles and chips with cores in use.
    pub footprint: Footprint,
    /// Distinct (core, neuron, slot) values sent every step for electrical synapses.
    pub gap_sources: usize,
    /// The machine's synapses and population connections (`synapses`,
    /// `pop_edges`): noted at load (the summary would otherwise read every
    /// span twice: 0.3 s on the 1M ring); after a run over several ranks,
    /// at rank 0, the whole machine's (each rank may hold only its own
    /// cores' rows).
    pub totals: (u64, Vec<(u32, u32)>),
    /// The steps of the run this machine has begun, if any: a run starts
    /// from the state as loaded (its ring slots, spike schedules and
    /// junctions' first terms count from step 0), so a second run would
    /// not continue the first; it is refused ([`crate::EmuError::RanBefore`]).
    ran: Option<u64>,
}

impl Machine {
    /// The steps of the run this machine began (`None`: it has not run).
    pub fn ran(&self) -> Option<u64> {
        self.ran
    }

    /// Marks the machine as running `steps`, or says it ran before.
    pub(crate) fn begin_run(&mut self, steps: u64) -> crate::error::Result<()> {
        if let Some(before) = self.ran {
            return Err(crate::EmuError::RanBefore { before, steps });
        }
        self.ran = Some(steps);
        Ok(())
    }

    /// The synapses the machine holds: the arena's (those packets reach)
    /// and the learning ones (which deliver themselves).
    pub fn synapses(&self) -> u64 {
        self.totals.0
    }

    /// The synapses into the cores `cores` (indices).
    pub fn synapses_at(&self, cores: std::ops::Range<usize>) -> u64 {
        let mut n: u64 = self.cores[cores.clone()].iter().flat_map(|c| &c.plastic).map(|p| p.syn.len() as u64).sum();
        for f in &self.fanout {
            n += f.spans(&self.spans).iter().filter(|s| cores.contains(&(s.core as usize))).map(|s| s.deliver as u64).sum::<u64>();
        }
        n
    }

    /// The population-to-population connections (pre, post), from where
    /// each core's spikes land, sorted.
    pub fn pop_edges(&self) -> Vec<(u32, u32)> {
        self.totals.1.clone()
    }

    /// The same, for spikes landing on the cores `cores` (indices).
    pub fn pop_edges_at(&self, cores: std::ops::Range<usize>) -> Vec<(u32, u32)> {
        // Distinct per source core first (a span per source neuron and
        // destination core: 10^8 of them on large networks).
        let mut stamp = vec![usize::MAX; self.pops.len()];
        let mut e: Vec<(u32, u32)> = Vec::new();
        for (ci, c) in self.cores.iter().enumerate() {
            if let Some(f) = self.fanout.get(ci) {
                for sp in f.spans(&self.spans) {
                    if cores.contains(&(sp.core as usize)) {
                        if let Some(dst) = self.cores.get(sp.core as usize) {
                            if stamp[dst.pop as usize] != ci {
                                stamp[dst.pop as usize] = ci;
                                e.push((c.pop, dst.pop));
                            }
                        }
                    }
                }
            }
        }
        e.sort_unstable();
        e.dedup();
        e
    }

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
        Machine::load_parts(img.into_image(), Vec::new(), threads, by_source)
    }

    /// Loads an image read for loading (`Image::read_for_load`: validated,
    /// most rows and synapses still in their packed columns, read in place
    /// as the arena is laid out). The machine is the one `load_valid` makes of
    /// the same file (tested).
    pub fn load_image(img: LoadImage) -> Result<Machine> {
        Machine::load_image_grouped(img, None, None)
    }

    /// As `load_image`, on `threads` threads and laid out as `load_grouped` (tests).
    #[doc(hidden)]
    pub fn load_image_grouped(img: LoadImage, threads: Option<usize>, by_source: Option<bool>) -> Result<Machine> {
        let (img, columns) = img.into_parts();
        Machine::load_parts(img, columns, threads, by_source)
    }

    /// A valid image whose core i's rows and synapses are `columns[i]` where
    /// that is given (its own `rows` and `synapses` then empty), else its own.
    fn load_parts(mut img: Image, columns: Vec<Option<CoreColumns>>, threads: Option<usize>, by_source: Option<bool>) -> Result<Machine> {
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
        let all_routes = crate::mesh::resolve(&img, &index)?;
        let footprint = a.footprint(img.cores.iter().map(|c| c.core));
        // Plastic synapses deliver their (learned) weights themselves: the
        // arena carries them with weight 0, so it stays read-only.
        let plastic_syn: Vec<Vec<Vec<Synapse>>> =
            img.cores.iter().map(|c| c.plastic.iter().map(|s| s.synapses.iter().map(|&k| c.synapses[k as usize]).collect()).collect()).collect();
        for c in img.cores.iter_mut() {
            for s in std::mem::take(&mut c.plastic) {
                for &k in &s.synapses {
                    c.synapses[k as usize].weight = 0;
                }
                c.plastic.push(s);
            }
        }
        let arrays: Vec<arena::Arrays> = img
            .cores
            .iter()
            .enumerate()
            .map(|(i, c)| {
                columns.get(i).and_then(Option::as_ref).map_or(arena::Arrays::Decoded { rows: &c.rows, synapses: &c.synapses }, arena::Arrays::Columns)
            })
            .collect();
        let n_syn: Vec<usize> = arrays.iter().map(|a| a.n_syn()).collect();
        let Laid { arena, spans: all_spans, fanout, in_off, in_total, ring_slots, mut pop_edges } =
            arena::lay_out(&img, &arrays, &all_routes, threads, by_source)?;
        drop(arrays);
        drop(columns);
        // The learning runtime and who feeds it.
        let mut plastic: Vec<Vec<Plastic>> = Vec::with_capacity(img.cores.len());
        let mut pre_subs: Vec<Vec<PreSub>> = vec![Vec::new(); img.cores.len()];
        for (ci, c) in img.cores.iter().enumerate() {
            let np = padded(c.n_neurons as usize);
            let sets: Vec<Plastic> = (0..c.plastic.len()).map(|si| Plastic::new(&img, c, si, &plastic_syn[ci][si], in_off[ci], np)).collect();
            for (si, s) in sets.iter().enumerate() {
                let pop = &img.populations[s.pre_pop as usize];
                let stdp = matches!(s.engine, crate::learning::Engine::Stdp(_));
                for (slot, &p) in s.pre_neurons.iter().enumerate() {
                    // invariant: the image is a ValidImage: every population's slices cover it, and a plastic set's pre neurons are below
                    // its pre population's size (validate_learning)
                    let sl = pop.slices.iter().find(|x| p >= x.first && p < x.first + x.count).expect("slices cover the population");
                    let src = index[&sl.core] as usize;
                    pre_subs[src].push(PreSub { neuron: p - sl.first, core: ci as u32, set: si as u32, slot: slot as u32, reward: false, stdp });
                }
                // A third factor's reward population: one reward neuron per post
                // neuron (equal sizes), or one for all.
                let reward_pop = match &img.rules[s.rule] {
                    nerve_isa::learning::LearningRule::Loihi(rule) => rule.reward.as_ref().map(|r| r.pop),
                    nerve_isa::learning::LearningRule::Stdp(rule) => rule.reward.as_ref().map(|r| r.pop),
                };
                if let Some(rpop) = reward_pop {
                    let rpop = &img.populations[rpop.index()];
                    let post_pop = &img.populations[c.pop.index()];
                    let first = post_pop.slices.iter().find(|x| x.core == c.core).map_or(0, |x| x.first);
                    for sl in &rpop.slices {
                        let src = index[&sl.core] as usize;
                        for r in sl.first..sl.first + sl.count {
                            let slot = if rpop.size == 1 {
                                u32::MAX
                            } else if r >= first && r < first + c.n_neurons {
                                r - first
                            } else {
                                continue;
                            };
                            pre_subs[src].push(PreSub { neuron: r - sl.first, core: ci as u32, set: si as u32, slot, reward: true, stdp: false });
                        }
                    }
                }
            }
            plastic.push(sets);
        }
        let (mut subs, mut stdp_subs) = (Vec::with_capacity(pre_subs.len()), Vec::with_capacity(pre_subs.len()));
        for (s, c) in pre_subs.into_iter().zip(&img.cores) {
            let (stdp, other): (Vec<PreSub>, Vec<PreSub>) = s.into_iter().partition(|x| x.stdp);
            subs.push(PreSubs::new(other, c.n_neurons as usize));
            stdp_subs.push(PreSubs::new(stdp, c.n_neurons as usize));
        }
        let pre_subs = subs;
        let rules = img.rules;
        let kernels = img.kernels;
        // Electrical synapses: number every distinct sent value.
        let mut gap_ix: std::collections::BTreeMap<(u32, u16, u8), u32> = std::collections::BTreeMap::new();
        for c in &img.cores {
            for g in &c.gap {
                let next = gap_ix.len() as u32;
                gap_ix.entry((index[&g.src_core], g.src_neuron, g.slot)).or_insert(next);
            }
        }
        let mut gap_out: Vec<Vec<(u16, u8, u32)>> = vec![Vec::new(); img.cores.len()];
        for (&(ci, n, slot), &ix) in &gap_ix {
            gap_out[ci as usize].push((n, slot, ix));
        }
        let gap_sources = gap_ix.len();
        let mut cores = Vec::with_capacity(img.cores.len());
        for ((c, plastic), gap_out) in img.cores.into_iter().zip(plastic).zip(gap_out) {
            let mut gap_in: Vec<GapIn> = c
                .gap
                .iter()
                .map(|g| GapIn {
                    src: gap_ix[&(index[&g.src_core], g.src_neuron, g.slot)],
                    at: (g.port as usize * padded(c.n_neurons as usize) + g.target as usize) as u32,
                    weight: g.weight,
                    shift: g.shift,
                    last: false,
                })
                .collect();
            // Grouped for `gap_sums` (exact sums: the order within a group changes nothing).
            gap_in.sort_by_key(|g| (g.at, g.shift));
            for i in 0..gap_in.len() {
                gap_in[i].last = gap_in.get(i + 1).is_none_or(|n| (n.at, n.shift) != (gap_in[i].at, gap_in[i].shift));
            }
            let gap_in_sources = gap_in.iter().map(|g| g.src).collect::<std::collections::BTreeSet<u32>>().len() as u32;
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
                    let state = state.iter().map(|s| crate::lines::LineVec::from_slice_padded(s, np)).collect();
                    (Run::Kernel { kernel: kernel.index(), data: KernelData { n, state, params } }, k.inputs.len(), k.class_counts())
                }
                CoreKind::SpikeArray { steps } => {
                    let mut ev: Vec<(u32, u32)> = steps.iter().enumerate().flat_map(|(i, s)| s.iter().map(move |&t| (t, i as u32))).collect();
                    ev.sort_unstable();
                    (Run::Schedule { events: ev, next: 0 }, 0, ClassCounts::default())
                }
                CoreKind::External => (Run::Schedule { events: vec![], next: 0 }, 0, ClassCounts::default()),
            };
            debug_assert_eq!((ports * np).next_multiple_of(crate::lines::LINE / 4), in_off.get(cores.len() + 1).unwrap_or(&in_total) - in_off[cores.len()]);
            cores.push(Core {
                id: c.core,
                pop: c.pop.0,
                n,
                tile: a.tile_of(c.core),
                run,
                key_base: c.key_base.map(|k| k.0),
                ports,
                in_off: in_off[cores.len()],
                n_syn: n_syn[cores.len()] as u64 + gap_in.len() as u64,
                instr,
                plastic,
                gap_out,
                gap_in,
                gap_in_sources,
            });
        }
        // The arena holds every span's delivered synapses, the learning
        // ones deliver themselves (as `synapses_at` counts; tested).
        let synapses = arena.len() as u64 + cores.iter().flat_map(|c| &c.plastic).map(|p| p.syn.len() as u64).sum::<u64>();
        pop_edges.sort_unstable();
        pop_edges.dedup();
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
            ring: crate::lines::LineVec::zeroed(ring_slots * in_total),
            ring_slots,
            in_total,
            ring_copy_max: RING_COPY_MAX,
            pin: Default::default(),
            stop: None,
            pops: img.populations,
            rules,
            pre_subs,
            stdp_subs,
            footprint,
            gap_sources,
            totals: (synapses, pop_edges),
            ran: None,
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
            b += f.at.len() as u64 * 8;
        }
        b += (self.spans.len() * std::mem::size_of::<Span>()) as u64;
        for rs in &self.routes {
            b += rs.iter().map(|r| r.dests.len() as u64 * 28 + r.links.len() as u64 * 4).sum::<u64>();
        }
        b
    }
}

impl Machine {
    /// After a run that ended before step `next`: whether spikes were in
    /// flight, sent less than their delay before its end, their inputs
    /// still in the ring. Every slot a step reads is cleared as it is read,
    /// so what is left is for step `next` or later: `Some(true)` if any
    /// input waits for a later step, or for step `next` at an input no
    /// electrical synapse feeds; `None` if the only inputs left are at
    /// junctions' inputs of step `next` (the junctions' terms, summed into
    /// the next step's slot every step, cannot be told from a spike's);
    /// `Some(false)` if none are left. A spike whose weights sum to zero at
    /// every input leaves nothing, and its absence changes nothing.
    pub fn input_in_flight(&self, next: u64) -> Option<bool> {
        if self.in_total == 0 {
            return Some(false);
        }
        let at = (next % self.ring_slots as u64) as usize;
        let mut maybe = false;
        for (i, slot) in self.ring.chunks_exact(self.in_total).enumerate() {
            if i != at {
                if slot.iter().any(|&x| x != 0) {
                    return Some(true);
                }
                continue;
            }
            let mut junction = vec![false; self.in_total];
            for c in &self.cores {
                for g in &c.gap_in {
                    junction[c.in_off + g.at as usize] = true;
                }
            }
            for (k, &x) in slot.iter().enumerate() {
                if x != 0 {
                    if !junction[k] {
                        return Some(true);
                    }
                    maybe = true;
                }
            }
        }
        if maybe {
            None
        } else {
            Some(false)
        }
    }

    /// Where an external spike of `pop`'s `neuron` goes (core index, neuron
    /// on the core), or why it cannot be given.
    pub fn source_of(&self, pop: &str, neuron: u32) -> std::result::Result<(usize, u32), InjectReason> {
        self.source_at(self.input_pop(pop)?, neuron)
    }

    /// The index of population `pop`, or why no spike can be given to it.
    pub fn input_pop(&self, pop: &str) -> std::result::Result<usize, InjectReason> {
        self.pops.iter().position(|p| p.name == pop).ok_or_else(|| {
            let inputs = self.pops.iter().filter(|p| matches!(p.model.as_str(), "input" | "spike_source_array")).map(|p| p.name.clone()).collect();
            InjectReason::NoPopulation { inputs }
        })
    }

    /// [`Machine::source_of`] for population index `pi` (from [`Machine::input_pop`]).
    pub fn source_at(&self, pi: usize, neuron: u32) -> std::result::Result<(usize, u32), InjectReason> {
        // An index past the populations (through `inject_at`, a public call) was an index panic.
        let Some(p) = self.pops.get(pi) else {
            return Err(InjectReason::NoPopulationIndex { index: pi, pops: self.pops.len() });
        };
        if neuron >= p.size {
            return Err(InjectReason::NoNeuron { size: p.size });
        }
        // invariant: validation made every population's slices cover it (and neuron < size was checked just above), on
        // cores of the image, which `cores` holds in the image's order: sorted by id (also validated)
        let slice = p.slices.iter().find(|s| neuron >= s.first && neuron < s.first + s.count).expect("slices cover the population");
        let ci = self.cores.binary_search_by_key(&slice.core, |c| c.id).expect("slice cores are loaded");
        if !matches!(self.cores[ci].run, Run::Schedule { .. }) {
            return Err(InjectReason::NotASource { model: p.model.clone() });
        }
        Ok((ci, neuron - slice.first))
    }

    /// Whether the schedule of `pop`'s `neuron` (its spike array, and spikes
    /// given before) already spikes it at `step`; false for a neuron
    /// [`Machine::source_of`] refuses.
    pub fn scheduled(&self, pop: &str, neuron: u32, step: u32) -> bool {
        self.source_of(pop, neuron).is_ok_and(|(ci, local)| self.scheduled_on(ci, local, step))
    }

    /// The spikes population `pi`'s schedule holds (its spike array and the
    /// spikes given it since, sent or not), per neuron, as sorted steps;
    /// `None` for a population that runs no schedule.
    pub fn schedule_of(&self, pi: usize) -> Option<Vec<Vec<u32>>> {
        let p = self.pops.get(pi)?;
        let mut out = vec![Vec::new(); p.size as usize];
        for sl in &p.slices {
            let ci = self.cores.binary_search_by_key(&sl.core, |c| c.id).ok()?;
            let Run::Schedule { events, .. } = &self.cores[ci].run else { return None };
            for &(step, local) in events {
                if let Some(v) = out.get_mut((sl.first + local) as usize) {
                    v.push(step);
                }
            }
        }
        for v in &mut out {
            v.sort_unstable();
        }
        Some(out)
    }

    /// [`Machine::scheduled`] for population index `pi`.
    pub fn scheduled_at(&self, pi: usize, neuron: u32, step: u32) -> bool {
        self.source_at(pi, neuron).is_ok_and(|(ci, local)| self.scheduled_on(ci, local, step))
    }

    fn scheduled_on(&self, ci: usize, local: u32, step: u32) -> bool {
        // (Schedules are kept sorted: at load and by every inject.)
        matches!(&self.cores[ci].run, Run::Schedule { events, .. } if events.binary_search(&(step, local)).is_ok())
    }

    /// Adds external spikes: (population name, neuron, step) triples. The
    /// population must be an `input` or `spike_source_array` population (its cores
    /// replay schedules), and the neuron not already spike at the step
    /// (two spikes in one step would run as one). An error names the
    /// offending triple by its index.
    pub fn inject(&mut self, spikes: &[(String, u32, u32)]) -> std::result::Result<(), InjectError> {
        let mut at = Vec::with_capacity(spikes.len());
        for (index, (pop, neuron, step)) in spikes.iter().enumerate() {
            let pi = self.input_pop(pop).map_err(|reason| InjectError { index, population: pop.clone(), neuron: *neuron, step: *step, reason })?;
            at.push((pi as u32, *neuron, *step));
        }
        self.inject_at(&at)
    }

    /// [`Machine::inject`] with populations by index: (population index,
    /// neuron, step). Millions of spikes take 12 bytes each here, and their
    /// 8 in the schedules.
    pub fn inject_at(&mut self, spikes: &[(u32, u32, u32)]) -> std::result::Result<(), InjectError> {
        let mut added: Vec<(u32, u32, u32)> = Vec::with_capacity(spikes.len());
        for (index, &(pi, neuron, step)) in spikes.iter().enumerate() {
            let name = self.pops.get(pi as usize).map_or_else(|| format!("#{pi}"), |p| p.name.clone());
            let err = |reason| InjectError { index, population: name.clone(), neuron, step, reason };
            let (ci, local) = self.source_at(pi as usize, neuron).map_err(err)?;
            if self.scheduled_on(ci, local, step) {
                return Err(err(InjectReason::AlreadySpikes));
            }
            added.push((ci as u32, step, local));
        }
        // Two of the same (core, step, neuron): sorted, they are neighbours.
        // Only then is the earliest repeat looked for, to be named.
        let mut sorted = added.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            let mut given: std::collections::HashMap<(u32, u32, u32), usize> = Default::default();
            for (index, key) in added.iter().enumerate() {
                if let Some(&first) = given.get(key) {
                    let (pi, neuron, step) = spikes[index];
                    return Err(InjectError {
                        index,
                        population: self.pops[pi as usize].name.clone(),
                        neuron,
                        step,
                        reason: InjectReason::GivenTwice { first },
                    });
                }
                given.insert(*key, index);
            }
        }
        drop(sorted);
        for (ci, step, local) in added {
            if let Run::Schedule { events, .. } = &mut self.cores[ci as usize].run {
                events.push((step, local));
            }
        }
        for c in &mut self.cores {
            if let Run::Schedule { events, next } = &mut c.run {
                events.sort_unstable();
                *next = 0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Span;

    #[test]
    fn spans_come_from_words_in_place_and_round_trip() {
        let spans = [Span { core: 0, len: 0, deliver: 0 }, Span { core: u32::MAX, len: u16::MAX, deliver: 7 }, Span { core: 3, len: 9, deliver: u16::MAX }];
        let words: Vec<u64> = spans.iter().map(|s| Span::word(s.core, s.len, s.deliver)).collect();
        let at = words.as_ptr() as usize;
        let back = Span::from_words(words);
        assert_eq!(back, spans);
        // The load relies on this to add no memory (the 1M ring's spans: 750 MB).
        assert_eq!(back.as_ptr() as usize, at, "the conversion reuses the words' allocation");
    }
}
