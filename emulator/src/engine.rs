//! The timestep loop.
//!
//! Per step t, barrier-synchronised:
//! 1. every core reads ring slot t (this step's synaptic input), runs its
//!    kernel over its neurons (or replays its spike schedule), clears the slot
//!    and lists its spikes;
//! 2. every spike becomes a packet with key `key_base + neuron`, sent along
//!    the route the routing tables give it; at each destination core the key
//!    selects a synaptic row and each synapse adds its weight into ring slot
//!    t + delay of its port (wrapping 32-bit addition).
//!
//! Threads own contiguous ranges of cores. Phase 1 writes a per-thread spike
//! list (double-buffered by step parity); phase 2 has each thread deliver every
//! spike of the step into the cores it owns. Integer addition is associative,
//! so results are identical for any thread count; counters are integers
//! summed per step; times are maxima of per-core values.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use nerve_isa::arch::{Arch, MessageModel};
use nerve_isa::kernel::Kernel;

use crate::error::{EmuError, Result};
use crate::kernel_data::{groups, KernelData};
use crate::machine::{route_of, Core, Fanout, Machine, PackedSyn, Route, Run};

/// How kernels are executed.
pub trait KernelRunner: Sync {
    /// Runs core `core`'s kernel over its neurons, then clears `input` (this
    /// step's ring slot) for its reuse `slots` steps later.
    fn run(&self, core: usize, k: &Kernel, d: &mut KernelData, input: &mut [i32], stride: usize, flags: &mut [u8]);
}

/// The reference interpreter as a runner.
pub struct Interp;

impl KernelRunner for Interp {
    fn run(&self, _core: usize, k: &Kernel, d: &mut KernelData, input: &mut [i32], stride: usize, flags: &mut [u8]) {
        crate::interp::run(k, d, input, stride, flags);
        input.fill(0);
    }
}

/// Event counts, summed over the run. Every one is an integer, so totals are exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Neuron updates where the neuron received input or spiked.
    pub updates_active: u64,
    pub updates_idle: u64,
    pub instr_alu: u64,
    pub instr_mul: u64,
    pub instr_mem: u64,
    pub instr_spike: u64,
    /// Spikes emitted by neurons (and spike sources).
    pub spikes: u64,
    /// Of those, spikes of neurons (kernel cores), which cost `neuron_spike_*`.
    pub neuron_spikes: u64,
    /// Packets sent into the network. Multicast: one per spike of a core that
    /// has routes. Per-destination: one per (spike, core holding a synapse of it).
    pub packets_out: u64,
    /// Packets arriving at cores.
    pub packets_in: u64,
    /// Arrivals whose key selected no row (multicast to a core with no synapse
    /// for that neuron; always 0 with per-destination messages).
    pub packets_no_row: u64,
    /// Synapses applied.
    pub synaptic_events: u64,
    /// Routers passed, the source's included.
    pub router_passes: u64,
    pub hops_ew: u64,
    pub hops_ns: u64,
    pub hops_diag: u64,
    pub chip_crossings: u64,
    pub barriers: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.updates_active += o.updates_active;
        self.updates_idle += o.updates_idle;
        self.instr_alu += o.instr_alu;
        self.instr_mul += o.instr_mul;
        self.instr_mem += o.instr_mem;
        self.instr_spike += o.instr_spike;
        self.spikes += o.spikes;
        self.neuron_spikes += o.neuron_spikes;
        self.packets_out += o.packets_out;
        self.packets_in += o.packets_in;
        self.packets_no_row += o.packets_no_row;
        self.synaptic_events += o.synaptic_events;
        self.router_passes += o.router_passes;
        self.hops_ew += o.hops_ew;
        self.hops_ns += o.hops_ns;
        self.hops_diag += o.hops_diag;
        self.chip_crossings += o.chip_crossings;
        self.barriers += o.barriers;
    }
    /// Field-wise difference (self ≥ other field by field).
    pub fn minus(&self, o: &Counts) -> Counts {
        Counts {
            updates_active: self.updates_active - o.updates_active,
            updates_idle: self.updates_idle - o.updates_idle,
            instr_alu: self.instr_alu - o.instr_alu,
            instr_mul: self.instr_mul - o.instr_mul,
            instr_mem: self.instr_mem - o.instr_mem,
            instr_spike: self.instr_spike - o.instr_spike,
            spikes: self.spikes - o.spikes,
            neuron_spikes: self.neuron_spikes - o.neuron_spikes,
            packets_out: self.packets_out - o.packets_out,
            packets_in: self.packets_in - o.packets_in,
            packets_no_row: self.packets_no_row - o.packets_no_row,
            synaptic_events: self.synaptic_events - o.synaptic_events,
            router_passes: self.router_passes - o.router_passes,
            hops_ew: self.hops_ew - o.hops_ew,
            hops_ns: self.hops_ns - o.hops_ns,
            hops_diag: self.hops_diag - o.hops_diag,
            chip_crossings: self.chip_crossings - o.chip_crossings,
            barriers: self.barriers - o.barriers,
        }
    }

    pub fn instructions(&self) -> u64 {
        self.instr_alu + self.instr_mul + self.instr_mem + self.instr_spike
    }
}

/// Per-core totals.
#[derive(Clone, Debug, Default)]
pub struct CoreCounts {
    pub core: u32,
    pub population: u32,
    pub counts: Counts,
    /// Σ over steps of this core's busy time, ns.
    pub busy_ns: f64,
    /// Longest step of this core, ns.
    pub max_step_ns: f64,
}

/// One step's timing.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepTime {
    /// Slowest core, ns.
    pub core_ns: f64,
    /// Network: longest path latency + busiest link's serialisation, ns.
    pub net_ns: f64,
    pub barrier_ns: f64,
    /// core + network + barrier.
    pub step_ns: f64,
    /// What happened in this step (summed over cores).
    pub counts: Counts,
}

/// Which spikes and state to record.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// Record spikes of these populations (by index).
    pub spikes: Vec<bool>,
    /// (population, state slot) pairs probed every step.
    pub probes: Vec<(u32, u8)>,
    /// Keep per-step timing and counts.
    pub per_step: bool,
}

/// A spike: step, population, neuron index within the population.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SpikeEvent {
    pub step: u32,
    pub pop: u32,
    pub neuron: u32,
}

/// Probe values: `values[step][neuron]` raw, for one (population, slot).
#[derive(Clone, Debug)]
pub struct ProbeTrace {
    pub pop: u32,
    pub slot: u8,
    pub values: Vec<Vec<i32>>,
}

/// Everything a run produces.
pub struct RunOutput {
    pub steps: u64,
    pub spikes: Vec<SpikeEvent>,
    pub probes: Vec<ProbeTrace>,
    pub counts: Counts,
    pub per_core: Vec<CoreCounts>,
    /// Packets per directed link (tile × 6 + direction), links with traffic only.
    pub links: Vec<(u32, u64)>,
    pub step_times: Vec<StepTime>,
    /// Σ over steps of step_ns, and of max(step_ns, tick) in real-time mode.
    pub emulated_ns: f64,
    pub wall_ns: f64,
    pub overruns: u64,
    pub wall_seconds: f64,
}

/// Counts the active bits and calls `spike(neuron)` for every spike bit, in neuron order.
#[inline]
fn scan_flags(flags: &[u8], mut spike: impl FnMut(u32)) -> u64 {
    const SPIKES: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    let mut active = 0u64;
    let mut chunks = flags.chunks_exact(8);
    let mut base = 0u32;
    for c in chunks.by_ref() {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        if w != 0 {
            active += (w & !SPIKES).count_ones() as u64;
            let mut s = w & SPIKES;
            while s != 0 {
                let b = s.trailing_zeros();
                spike(base + (b / 8) * 4 + b % 8);
                s &= s - 1;
            }
        }
        base += 32;
    }
    for (j, &f) in chunks.remainder().iter().enumerate() {
        active += (f >> 4).count_ones() as u64;
        for l in 0..4 {
            if f & (1 << l) != 0 {
                spike(base + j as u32 * 4 + l);
            }
        }
    }
    active
}

/// A spin-then-yield barrier for a fixed number of threads.
struct Barrier {
    n: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
}

impl Barrier {
    fn new(n: usize) -> Barrier {
        Barrier { n, count: AtomicUsize::new(0), generation: AtomicUsize::new(0) }
    }
    fn wait(&self) {
        if self.n == 1 {
            return;
        }
        let g = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
        } else {
            let mut spins = 0u32;
            while self.generation.load(Ordering::Acquire) == g {
                if spins < 2000 {
                    std::hint::spin_loop();
                    spins += 1;
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// Per-core cost constants, ns, and the message model.
struct Costs {
    instr: Vec<f64>,
    active: f64,
    idle: f64,
    spike: f64,
    syn: f64,
    pk_in: f64,
    pk_out: f64,
    link_packet: f64,
    overlap: bool,
    /// Per-destination messages: per source core, the direct path to each
    /// destination core of its fan-out. `None`: multicast.
    direct: Option<Vec<DirectPaths>>,
}

/// A source core's direct paths, and for each of its fan-out spans the path
/// it takes (an index, so that a message costs no search).
struct DirectPaths {
    paths: Vec<Direct>,
    /// Aligned with the core's spans (`Fanout::spans`): index into `paths` (spans without synapses: unused).
    of_span: Vec<u32>,
    /// Per neuron: its messages' totals, so that a spike costs one lookup.
    per_neuron: Vec<NeuronMessages>,
}

/// What one spike of a neuron sends under the per-destination model.
#[derive(Clone, Copy, Default)]
struct NeuronMessages {
    messages: u32,
    hops: [u32; 3],
    chip_crossings: u32,
    /// The slowest message's network latency.
    latency_ns: f64,
}

/// A per-destination message's path from its source core to `core`.
struct Direct {
    hops: [u32; 3],
    chip_crossings: u32,
    latency_ns: f64,
    /// Directed links: tile × 6 + direction.
    links: Vec<u32>,
}

/// The direct paths from each core to the cores its fan-out reaches.
fn direct_paths(m: &Machine) -> Vec<DirectPaths> {
    let a = &m.arch;
    let tm = &a.timing;
    // Per destination core: its index in the current source's `dests`
    // (valid where `seen` holds that source), so spans find their path
    // without a search (millions of spans on large networks).
    let mut dest_ix = vec![0u32; m.cores.len()];
    let mut seen = vec![usize::MAX; m.cores.len()];
    m.fanout
        .iter()
        .enumerate()
        .map(|(src, f)| {
            let mut dests: Vec<u32> = Vec::new();
            let spans = f.spans(&m.spans);
            for s in spans.iter().filter(|s| s.len > 0) {
                if seen[s.core as usize] != src {
                    seen[s.core as usize] = src;
                    dests.push(s.core);
                }
            }
            dests.sort_unstable();
            for (k, &d) in dests.iter().enumerate() {
                dest_ix[d as usize] = k as u32;
            }
            let from = a.tile_of(m.cores[src].id);
            // Spans without synapses send no message and have no path (never read).
            let of_span: Vec<u32> = spans.iter().map(|s| if s.len > 0 { dest_ix[s.core as usize] } else { u32::MAX }).collect();
            let paths = dests
                .into_iter()
                .map(|d| {
                    let to = a.tile_of(m.cores[d as usize].id);
                    let mut links = Vec::new();
                    nerve_isa::route::direct_path(a, from, to, |t, dir| links.push(t.0 * 6 + dir as u32));
                    let c = nerve_isa::route::direct_cost(a, from, to);
                    let latency_ns = c.ew as f64 * tm.hop_ew_ns
                        + c.ns as f64 * tm.hop_ns_ns
                        + c.diag as f64 * tm.hop_diag_ns
                        + c.chip_crossings as f64 * tm.chip_crossing_ns;
                    Direct { hops: [c.ew, c.ns, c.diag], chip_crossings: c.chip_crossings, latency_ns, links }
                })
                .collect::<Vec<Direct>>();
            let n = f.start.len().saturating_sub(1);
            let per_neuron = (0..n)
                .map(|i| {
                    let mut t = NeuronMessages::default();
                    for si in f.range(i) {
                        if spans[si].len == 0 {
                            continue;
                        }
                        let d = &paths[of_span[si] as usize];
                        t.messages += 1;
                        for k in 0..3 {
                            t.hops[k] += d.hops[k];
                        }
                        t.chip_crossings += d.chip_crossings;
                        t.latency_ns = t.latency_ns.max(d.latency_ns);
                    }
                    t
                })
                .collect();
            DirectPaths { paths, of_span, per_neuron }
        })
        .collect()
}

/// Per-thread state.
struct Worker<'a> {
    first: usize,
    cores: &'a mut [Core],
    counts: Vec<Counts>,
    busy: Vec<f64>,
    max_step: Vec<f64>,
    /// This step's time per core: computing and sending, and receiving.
    send_ns: Vec<f64>,
    recv_ns: Vec<f64>,
    /// This step's arrivals per core: packets received and synaptic events
    /// (their time and counts are added once per step, not per packet).
    rx_packets: Vec<u64>,
    rx_events: Vec<u64>,
    /// Per core: its inputs' i32s per ring slot (ports × padded neurons).
    slot_len: Vec<usize>,
    /// This thread's cores' part of each ring slot (`Machine::ring`), and
    /// where that part starts in a slot.
    ring: Vec<&'a mut [i32]>,
    in_base: usize,
    flags: Vec<u8>,
    spikes: Vec<SpikeEvent>,
    probes: Vec<ProbeTrace>,
}

/// Splits cores into `k` contiguous ranges of roughly equal work.
fn split_ranges(m: &Machine, k: usize) -> Vec<usize> {
    let w: Vec<u64> = m.cores.iter().map(|c| c.n as u64 * 8 + c.n_syn + 64).collect();
    let total: u64 = w.iter().sum();
    let mut bounds = vec![0usize];
    let mut acc = 0u64;
    for (i, x) in w.iter().enumerate() {
        acc += x;
        if bounds.len() < k && acc * k as u64 >= total * bounds.len() as u64 && i + 1 < w.len() {
            bounds.push(i + 1);
        }
    }
    bounds.push(m.cores.len());
    bounds
}

/// Runs `steps` timesteps. `inject` lists extra (step, core index, neuron)
/// spikes for schedule cores (external input), sorted.
pub fn run(m: &mut Machine, runner: &dyn KernelRunner, steps: u64, threads: usize, rec: &Recording, progress: &mut dyn FnMut(u64)) -> Result<RunOutput> {
    if steps > u32::MAX as u64 {
        return Err(EmuError::Options(format!("--steps {steps} exceeds {}", u32::MAX)));
    }
    let t_start = std::time::Instant::now();
    let a: &Arch = &m.arch;
    let tm = &a.timing;
    let costs = Costs {
        instr: m
            .cores
            .iter()
            .map(|c| {
                c.instr.alu as f64 * tm.instr_alu_ns
                    + c.instr.mul as f64 * tm.instr_mul_ns
                    + c.instr.mem as f64 * tm.instr_mem_ns
                    + c.instr.spike as f64 * tm.instr_spike_ns
            })
            .collect(),
        active: tm.neuron_active_ns,
        idle: tm.neuron_idle_ns,
        spike: tm.neuron_spike_ns,
        syn: tm.synaptic_event_ns,
        pk_in: tm.packet_in_ns,
        pk_out: tm.packet_out_ns,
        link_packet: tm.link_packet_ns,
        overlap: tm.overlap_send_receive,
        direct: match a.router.messages {
            MessageModel::Multicast => None,
            MessageModel::PerDestination => Some(direct_paths(m)),
        },
    };
    let barrier_ns = a.barrier_ns(m.tiles_in_use);
    let tick = tm.timestep_ns;
    let n_links = a.num_tiles() as usize * 6;
    let threads = threads.clamp(1, m.cores.len().max(1));
    let bounds = split_ranges(m, threads);
    let threads = bounds.len() - 1;
    let owner_start: Vec<usize> = bounds.clone();
    // Global neuron offset of each core within its population.
    let first_of: Vec<u32> = m.cores.iter().map(|c| m.pops[c.pop as usize].slices.iter().find(|s| s.core == c.id).map_or(0, |s| s.first)).collect();
    let probe_sizes: Vec<usize> = rec.probes.iter().map(|&(p, _)| m.pops[p as usize].size as usize).collect();
    let routes = &m.routes;
    let fanout = &m.fanout;
    let arena = &m.arena;
    let kernels = &m.kernels;
    // Spike buffers per (parity, thread): (core index, neuron).
    let bufs: Vec<RwLock<Vec<(u32, u32)>>> = (0..2 * threads).map(|_| RwLock::new(Vec::new())).collect();
    let barrier = Barrier::new(threads);
    // Per step, per thread: slowest core ns and integer counts.
    let per_step_core: Vec<Mutex<Vec<f64>>> = (0..threads).map(|_| Mutex::new(Vec::new())).collect();
    let per_step_counts: Vec<Mutex<Vec<Counts>>> = (0..threads).map(|_| Mutex::new(Vec::new())).collect();
    let net_times: Mutex<Vec<f64>> = Mutex::new(Vec::with_capacity(if rec.per_step { steps as usize } else { 0 }));
    let link_totals: Mutex<Vec<u64>> = Mutex::new(vec![0; n_links]);
    let failed = AtomicBool::new(false);

    // Where each thread's cores' inputs start in a ring slot.
    let in_total = m.in_total;
    let in_bounds: Vec<usize> = bounds.iter().map(|&c| if c < m.cores.len() { m.cores[c].in_off } else { in_total }).collect();
    let mut ring_rest: &mut [i32] = &mut m.ring;
    let mut chunks: Vec<&mut [Core]> = Vec::with_capacity(threads);
    let mut rest: &mut [Core] = &mut m.cores;
    for t in 0..threads {
        let (a, b) = rest.split_at_mut(bounds[t + 1] - bounds[t]);
        chunks.push(a);
        rest = b;
    }
    // Each thread's cores' part of every ring slot.
    let mut rings: Vec<Vec<&mut [i32]>> = (0..threads).map(|_| Vec::with_capacity(m.ring_slots)).collect();
    for _ in 0..m.ring_slots {
        let (mut slot, rest) = std::mem::take(&mut ring_rest).split_at_mut(in_total);
        ring_rest = rest;
        for (t, r) in rings.iter_mut().enumerate() {
            let (mine, more) = std::mem::take(&mut slot).split_at_mut(in_bounds[t + 1] - in_bounds[t]);
            r.push(mine);
            slot = more;
        }
    }
    let mut results: Vec<Option<Worker>> = (0..threads).map(|_| None).collect();
    let max_n = chunks.iter().flat_map(|c| c.iter().map(|x| x.stride())).max().unwrap_or(0);

    // One context per thread; they differ only in the thread index.
    let make_ctx = |t: usize| Ctx {
        t,
        threads,
        steps,
        runner,
        kernels,
        routes,
        fanout,
        spans: &m.spans,
        arena,
        owner_start: &owner_start,
        first_of: &first_of,
        probe_sizes: &probe_sizes,
        bufs: &bufs,
        barrier: &barrier,
        rec,
        costs: &costs,
        per_step_core: &per_step_core,
        per_step_counts: &per_step_counts,
        net_times: &net_times,
        link_totals: &link_totals,
        failed: &failed,
        n_links,
        tick,
        barrier_ns,
        idle_updates: a.core.idle_updates,
    };
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        let mut own: Option<Worker> = None;
        for (t, (chunk, ring)) in chunks.into_iter().zip(rings).enumerate() {
            let nc = chunk.len();
            let slot_len: Vec<usize> = chunk.iter().map(|c| c.ports * crate::kernel_data::padded(c.n)).collect();
            let mut w = Worker {
                first: bounds[t],
                cores: chunk,
                counts: vec![Counts::default(); nc],
                busy: vec![0.0; nc],
                max_step: vec![0.0; nc],
                send_ns: vec![0.0; nc],
                recv_ns: vec![0.0; nc],
                rx_packets: vec![0; nc],
                rx_events: vec![0; nc],
                slot_len,
                ring,
                in_base: in_bounds[t],
                flags: vec![0; max_n / 4 + 8],
                spikes: Vec::new(),
                probes: Vec::new(),
            };
            for &(pop, slot) in &rec.probes {
                w.probes.push(ProbeTrace { pop, slot, values: Vec::new() });
            }
            if t == 0 {
                own = Some(w);
                continue;
            }
            let ctx = make_ctx(t);
            handles.push(s.spawn(move || {
                let mut w = w;
                ctx.work(&mut w, &mut |_| {});
                w
            }));
        }
        let ctx = make_ctx(0);
        let mut w0 = own.expect("thread 0 worker");
        ctx.work(&mut w0, progress);
        results[0] = Some(w0);
        for (i, h) in handles.into_iter().enumerate() {
            results[i + 1] = Some(h.join().expect("emulator worker thread panicked"));
        }
    });

    // Merge, in thread order.
    let workers: Vec<Worker> = results.into_iter().map(|w| w.expect("every worker returns")).collect();
    let mut counts = Counts::default();
    let mut per_core = Vec::new();
    let mut spikes = Vec::new();
    let mut probes: Vec<ProbeTrace> = rec.probes.iter().map(|&(pop, slot)| ProbeTrace { pop, slot, values: vec![Vec::new(); steps as usize] }).collect();
    for w in &workers {
        for (i, c) in w.cores.iter().enumerate() {
            counts.add(&w.counts[i]);
            per_core.push(CoreCounts { core: c.id.0, population: c.pop, counts: w.counts[i], busy_ns: w.busy[i], max_step_ns: w.max_step[i] });
        }
        spikes.extend_from_slice(&w.spikes);
    }
    // Probes: each worker filled the ranges of its own cores; copy them over.
    for (pi, p) in probes.iter_mut().enumerate() {
        let size = m.pops[p.pop as usize].size as usize;
        for st in 0..steps as usize {
            p.values[st] = vec![0; size];
        }
        for w in &workers {
            let src = &w.probes[pi].values;
            for (ci, c) in w.cores.iter().enumerate() {
                if c.pop != p.pop {
                    continue;
                }
                let f = first_of[w.first + ci] as usize;
                for st in 0..steps as usize {
                    p.values[st][f..f + c.n].copy_from_slice(&src[st][f..f + c.n]);
                }
            }
        }
    }
    spikes.sort_unstable();
    counts.barriers = steps;
    let links: Vec<(u32, u64)> = link_totals.into_inner().expect("lock").iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| (i as u32, n)).collect();
    // Step times.
    let core_max: Vec<Vec<f64>> = per_step_core.into_iter().map(|x| x.into_inner().expect("lock")).collect();
    let step_counts: Vec<Vec<Counts>> = per_step_counts.into_iter().map(|x| x.into_inner().expect("lock")).collect();
    let net = net_times.into_inner().expect("lock");
    let mut step_times = Vec::new();
    let mut emulated = 0.0;
    let mut wall = 0.0;
    let mut overruns = 0;
    if rec.per_step {
        step_times.reserve(steps as usize);
        for st in 0..steps as usize {
            let core_ns = core_max.iter().map(|v| v[st]).fold(0.0, f64::max);
            let mut sc = Counts::default();
            for v in &step_counts {
                sc.add(&v[st]);
            }
            sc.barriers = 1;
            let step_ns = core_ns + net[st] + barrier_ns;
            emulated += step_ns;
            match tick {
                Some(tk) => {
                    wall += step_ns.max(tk);
                    if step_ns > tk {
                        overruns += 1;
                    }
                }
                None => wall += step_ns,
            }
            step_times.push(StepTime { core_ns, net_ns: net[st], barrier_ns, step_ns, counts: sc });
        }
    }
    Ok(RunOutput {
        steps,
        spikes,
        probes,
        counts,
        per_core,
        links,
        step_times,
        emulated_ns: emulated,
        wall_ns: wall,
        overruns,
        wall_seconds: t_start.elapsed().as_secs_f64(),
    })
}

struct Ctx<'a> {
    t: usize,
    threads: usize,
    steps: u64,
    runner: &'a dyn KernelRunner,
    kernels: &'a [Kernel],
    routes: &'a [Vec<Route>],
    fanout: &'a [Fanout],
    spans: &'a [crate::machine::Span],
    arena: &'a [u64],
    owner_start: &'a [usize],
    first_of: &'a [u32],
    probe_sizes: &'a [usize],
    bufs: &'a [RwLock<Vec<(u32, u32)>>],
    barrier: &'a Barrier,
    rec: &'a Recording,
    costs: &'a Costs,
    per_step_core: &'a [Mutex<Vec<f64>>],
    per_step_counts: &'a [Mutex<Vec<Counts>>],
    net_times: &'a Mutex<Vec<f64>>,
    link_totals: &'a Mutex<Vec<u64>>,
    failed: &'a AtomicBool,
    n_links: usize,
    tick: Option<f64>,
    barrier_ns: f64,
    idle_updates: bool,
}

impl Ctx<'_> {
    /// Delivers a spike's rows at this thread's cores, `spans` (consecutive
    /// in the arena: a neuron's rows are laid out in destination order):
    /// each synapse adds its weight into its input in the ring slot of its
    /// delay, in one loop over all the rows.
    #[inline]
    fn deliver(&self, w: &mut Worker, spans: &[crate::machine::Span], step: u64) {
        let (Some(a), Some(b)) = (spans.first(), spans.last()) else { return };
        let mask = w.ring.len() - 1;
        let base = w.in_base;
        for &syn in &self.arena[a.start as usize..(b.start + b.len) as usize] {
            let syn = PackedSyn(syn);
            let slot = &mut w.ring[(step as usize + syn.delay()) & mask];
            let idx = syn.offset() - base;
            slot[idx] = slot[idx].wrapping_add(syn.weight());
        }
    }

    /// The part of a list ordered by core that falls in this thread's cores
    /// (no search at either end of the machine: one thread owns every core).
    #[inline]
    fn own<T>(&self, xs: &[T], core: impl Fn(&T) -> u32) -> std::ops::Range<usize> {
        let (lo, hi) = (self.owner_start[self.t], self.owner_start[self.t + 1]);
        let a = if lo == 0 { 0 } else { xs.partition_point(|d| (core(d) as usize) < lo) };
        let b = if hi == self.owner_start[self.threads] { xs.len() } else { xs.partition_point(|d| (core(d) as usize) < hi) };
        a..b
    }

    fn work(&self, w: &mut Worker, progress: &mut dyn FnMut(u64)) {
        let lo = self.owner_start[self.t];
        let mut link_step = vec![0u32; if self.t == 0 { self.n_links } else { 0 }];
        let mut touched: Vec<u32> = Vec::new();
        let mut my_core_max = Vec::with_capacity(if self.rec.per_step { self.steps as usize } else { 0 });
        let mut my_counts: Vec<Counts> = Vec::with_capacity(if self.rec.per_step { self.steps as usize } else { 0 });
        let mut prev_total = Counts::default();
        let mut net_local: Vec<f64> = Vec::with_capacity(if self.t == 0 && self.rec.per_step { self.steps as usize } else { 0 });
        let mut link_totals = vec![0u64; if self.t == 0 { self.n_links } else { 0 }];
        // Per-destination model without link contention: spikes per source neuron (thread 0).
        let mut spikes_of: Vec<Vec<u32>> = match &self.costs.direct {
            Some(d) if self.t == 0 && self.costs.link_packet == 0.0 => d.iter().map(|x| vec![0; x.per_neuron.len()]).collect(),
            _ => Vec::new(),
        };
        let _ = self.tick;
        let _ = self.barrier_ns;
        for step in 0..self.steps {
            let par = (step & 1) as usize;
            let st = step as u32;
            // Phase 1: kernels.
            {
                let mut out = self.bufs[par * self.threads + self.t].write().expect("spike buffer lock");
                out.clear();
                for (ci, core) in w.cores.iter_mut().enumerate() {
                    let gi = w.first + ci;
                    let cnt = &mut w.counts[ci];
                    let n = core.n;
                    let mut t_ns = 0.0;
                    match &mut core.run {
                        Run::Kernel { kernel, data } => {
                            let stride = crate::kernel_data::padded(n);
                            let k = &self.kernels[*kernel];
                            let ng = groups(n);
                            let flags = &mut w.flags[..ng];
                            if core.ports > 0 {
                                let sl = (step as usize) & (w.ring.len() - 1);
                                let at = core.in_off - w.in_base;
                                let slot = &mut w.ring[sl][at..at + w.slot_len[ci]];
                                self.runner.run(gi, k, data, slot, stride, flags);
                            } else {
                                self.runner.run(gi, k, data, &mut [], stride, flags);
                            }
                            // Lanes past the last neuron are padding.
                            if n % 4 != 0 {
                                let keep = (1u8 << (n % 4)) - 1;
                                flags[ng - 1] &= keep | (keep << 4);
                            }
                            let active = scan_flags(flags, |i| out.push((gi as u32, i)));
                            // Without idle updates every update is a whole one (the JIT
                            // compiled for such a profile leaves the activity bits 0).
                            let active = if self.idle_updates { active } else { n as u64 };
                            let nn = n as u64;
                            cnt.updates_active += active;
                            cnt.updates_idle += nn - active;
                            cnt.instr_alu += nn * core.instr.alu as u64;
                            cnt.instr_mul += nn * core.instr.mul as u64;
                            cnt.instr_mem += nn * core.instr.mem as u64;
                            cnt.instr_spike += nn * core.instr.spike as u64;
                            t_ns += nn as f64 * self.costs.instr[gi] + active as f64 * self.costs.active + (nn - active) as f64 * self.costs.idle;
                            // Spike generation is charged below, per spike.
                            for (pi, pr) in w.probes.iter_mut().enumerate() {
                                if pr.pop == core.pop {
                                    let size = self.probe_sizes[pi];
                                    while pr.values.len() <= step as usize {
                                        pr.values.push(vec![0; size]);
                                    }
                                    let f = self.first_of[gi] as usize;
                                    pr.values[step as usize][f..f + n].copy_from_slice(&data.state[pr.slot as usize][..n]);
                                }
                            }
                        }
                        Run::Schedule { events, next } => {
                            while *next < events.len() && events[*next].0 < st {
                                *next += 1;
                            }
                            while *next < events.len() && events[*next].0 == st {
                                out.push((gi as u32, events[*next].1));
                                *next += 1;
                            }
                        }
                    }
                    w.send_ns[ci] = t_ns;
                    w.recv_ns[ci] = 0.0;
                }
                // Spike bookkeeping at the source: packets out, recording.
                for &(gi, i) in out.iter() {
                    let ci = gi as usize - w.first;
                    let core = &w.cores[ci];
                    let cnt = &mut w.counts[ci];
                    cnt.spikes += 1;
                    if matches!(core.run, Run::Kernel { .. }) {
                        cnt.neuron_spikes += 1;
                        w.send_ns[ci] += self.costs.spike;
                    }
                    // The packets' paths through the network, charged to their source.
                    match &self.costs.direct {
                        None => {
                            let rs = &self.routes[gi as usize];
                            if !rs.is_empty() {
                                let r = route_of(rs, i as usize);
                                cnt.packets_out += 1;
                                cnt.router_passes += r.routers as u64;
                                cnt.hops_ew += r.hops[0] as u64;
                                cnt.hops_ns += r.hops[1] as u64;
                                cnt.hops_diag += r.hops[2] as u64;
                                cnt.chip_crossings += r.chip_crossings as u64;
                                w.send_ns[ci] += self.costs.pk_out;
                            }
                        }
                        Some(direct) => {
                            if let Some(t) = direct[gi as usize].per_neuron.get(i as usize) {
                                let h = t.hops[0] as u64 + t.hops[1] as u64 + t.hops[2] as u64;
                                cnt.packets_out += t.messages as u64;
                                cnt.router_passes += h + t.messages as u64;
                                cnt.hops_ew += t.hops[0] as u64;
                                cnt.hops_ns += t.hops[1] as u64;
                                cnt.hops_diag += t.hops[2] as u64;
                                cnt.chip_crossings += t.chip_crossings as u64;
                                w.send_ns[ci] += t.messages as f64 * self.costs.pk_out;
                            }
                        }
                    }
                    if self.rec.spikes.get(core.pop as usize).copied().unwrap_or(false) {
                        w.spikes.push(SpikeEvent { step: st, pop: core.pop, neuron: self.first_of[gi as usize] + i });
                    }
                }
            }
            self.barrier.wait();
            // Phase 2: delivery into my cores; thread 0 also accounts the network.
            let mut net_ns = 0.0f64;
            for tb in 0..self.threads {
                let buf = self.bufs[par * self.threads + tb].read().expect("spike buffer lock");
                for &(src, i) in buf.iter() {
                    let f = &self.fanout[src as usize];
                    let all = f.spans(self.spans);
                    let range = f.range(i as usize);
                    let spans = &all[range.clone()];
                    if let Some(direct) = &self.costs.direct {
                        // Per-destination messages: each core with a row receives one.
                        let ds = &direct[src as usize];
                        if self.t == 0 && (i as usize) < ds.per_neuron.len() {
                            net_ns = net_ns.max(ds.per_neuron[i as usize].latency_ns);
                            if self.costs.link_packet != 0.0 {
                                // Per-step link loads matter for latency: walk every path.
                                for si in range {
                                    if all[si].len == 0 {
                                        continue;
                                    }
                                    for &l in &ds.paths[ds.of_span[si] as usize].links {
                                        if link_step[l as usize] == 0 {
                                            touched.push(l);
                                        }
                                        link_step[l as usize] += 1;
                                    }
                                }
                            } else {
                                // Only the run's totals matter: count spikes, expand at the end.
                                spikes_of[src as usize][i as usize] += 1;
                            }
                        }
                        let mine = &spans[self.own(spans, |d| d.core)];
                        for sp in mine {
                            if sp.len == 0 {
                                continue;
                            }
                            let ci = sp.core as usize - lo;
                            w.rx_packets[ci] += 1;
                            w.rx_events[ci] += sp.len as u64;
                        }
                        self.deliver(w, mine, step);
                        continue;
                    }
                    let rs = &self.routes[src as usize];
                    if rs.is_empty() {
                        continue;
                    }
                    let r = route_of(rs, i as usize);
                    if self.t == 0 {
                        net_ns = net_ns.max(r.latency_ns);
                        for &l in &r.links {
                            if link_step[l as usize] == 0 {
                                touched.push(l);
                            }
                            link_step[l as usize] += 1;
                        }
                    }
                    // Every destination of the route receives the packet (and spends
                    // the per-packet time); those with a row apply its synapses.
                    for d in &r.dests[self.own(&r.dests, |d| d.core)] {
                        let ci = d.core as usize - lo;
                        w.rx_packets[ci] += 1;
                        w.counts[ci].packets_no_row += 1;
                    }
                    let mine = &spans[self.own(spans, |d| d.core)];
                    for sp in mine {
                        let ci = sp.core as usize - lo;
                        if sp.len > 0 {
                            w.counts[ci].packets_no_row -= 1;
                        }
                        w.rx_events[ci] += sp.len as u64;
                    }
                    self.deliver(w, mine, step);
                }
            }
            // Per-step bookkeeping.
            let mut core_max = 0.0f64;
            for ci in 0..w.cores.len() {
                // Receiving: packets and synaptic events, counted and charged.
                let (np, ne) = (w.rx_packets[ci], w.rx_events[ci]);
                if np != 0 || ne != 0 {
                    let c = &mut w.counts[ci];
                    c.packets_in += np;
                    c.synaptic_events += ne;
                    w.recv_ns[ci] = np as f64 * self.costs.pk_in + ne as f64 * self.costs.syn;
                    w.rx_packets[ci] = 0;
                    w.rx_events[ci] = 0;
                }
                let (tx, rx) = (w.send_ns[ci], w.recv_ns[ci]);
                let x = if self.costs.overlap { tx.max(rx) } else { tx + rx };
                w.busy[ci] += x;
                if x > w.max_step[ci] {
                    w.max_step[ci] = x;
                }
                core_max = core_max.max(x);
            }
            if self.t == 0 {
                let mut busiest = 0u32;
                for &l in &touched {
                    busiest = busiest.max(link_step[l as usize]);
                    link_totals[l as usize] += link_step[l as usize] as u64;
                    link_step[l as usize] = 0;
                }
                touched.clear();
                if self.rec.per_step {
                    net_local.push(net_ns + busiest as f64 * self.costs.link_packet);
                }
            }
            if self.rec.per_step {
                my_core_max.push(core_max);
                // This step's counts: the thread's totals now minus before.
                let mut tot = Counts::default();
                for c in &w.counts {
                    tot.add(c);
                }
                my_counts.push(tot.minus(&prev_total));
                prev_total = tot;
            }
            if self.t == 0 && (step & 1023) == 1023 {
                progress(step + 1);
            }
            if self.failed.load(Ordering::Relaxed) {
                break;
            }
        }
        if let Some(direct) = &self.costs.direct {
            for (src, counts) in spikes_of.iter().enumerate() {
                let (f, ds) = (&self.fanout[src], &direct[src]);
                let all = f.spans(self.spans);
                for (i, &k) in counts.iter().enumerate() {
                    if k == 0 {
                        continue;
                    }
                    for si in f.range(i) {
                        if all[si].len > 0 {
                            for &l in &ds.paths[ds.of_span[si] as usize].links {
                                link_totals[l as usize] += k as u64;
                            }
                        }
                    }
                }
            }
        }
        if self.t == 0 {
            progress(self.steps);
            *self.net_times.lock().expect("lock") = net_local;
            *self.link_totals.lock().expect("lock") = link_totals;
        }
        *self.per_step_core[self.t].lock().expect("lock") = my_core_max;
        *self.per_step_counts[self.t].lock().expect("lock") = my_counts;
    }
}
