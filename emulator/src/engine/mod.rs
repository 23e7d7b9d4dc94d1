//! The timestep loop.
//!
//! Per step t, barrier-synchronised (`step.rs` names each phase):
//! 1. **compute**: every core reads ring slot t (this step's synaptic
//!    input), runs its kernel over its neurons (or replays its spike
//!    schedule), clears the slot and lists its spikes; **send**: each spike
//!    is charged at its source (packets out, hops, recording);
//! 2. **deliver**: every spike becomes a packet with key `key_base + neuron`,
//!    sent along the route the routing tables give it; at each destination
//!    core the key selects a synaptic row and each synapse adds its weight
//!    into ring slot t + delay of its port (wrapping 32-bit addition);
//!    **settle**: receive times, the step's counts and times.
//!
//! Threads own contiguous ranges of cores. Phase 1 writes a per-thread spike
//! list (double-buffered by step parity); phase 2 has each thread deliver every
//! spike of the step into the cores it owns. Integer addition is associative,
//! so results are identical for any thread count; counters are integers
//! summed per step; times are maxima of per-core values.

mod barrier;
mod step;
pub mod steps;

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, RwLock};

use nerve_isa::ids::LinkId;
use nerve_isa::image::PopSymbol;

pub use crate::kernel::{Interp, KernelRunner};
pub use nerve_isa::counters::Counts;

use crate::cost::timing::Costs;
use crate::error::{EmuError, Result};
use crate::machine::{Core, Machine};
use barrier::Barrier;
use step::{Ctx, Shared, Worker};
pub use steps::{Quantiles, StepSeries, StepTime, SERIES_CAP, STEP_TIMES_CAP};

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

/// Which spikes and state to record.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// Record spikes of these populations (by index).
    pub spikes: Vec<bool>,
    /// (population, state slot) pairs probed every step.
    pub probes: Vec<(u32, u8)>,
    /// Keep per-step timing and counts.
    pub per_step: bool,
    /// Stream spikes and probes to a [`RecordSink`] every this many steps
    /// (`run_streamed`), so a run holds at most one chunk of them.
    pub chunk_steps: Option<u64>,
}

/// Where a streamed recording goes, chunk by chunk, in step order (called
/// on the thread that called `run_streamed`).
pub trait RecordSink {
    /// Steps `first..first + rows` of the run: its spikes, sorted by (step,
    /// population, neuron), and per probe (in `Recording::probes` order) its
    /// raw values, `probes[p][step − first][neuron]`.
    fn chunk(&mut self, first: u64, spikes: &[SpikeEvent], probes: &[Vec<Vec<i32>>]) -> std::io::Result<()>;
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
    /// Packets per directed link, links with traffic only, in link order.
    pub links: Vec<(LinkId, u64)>,
    /// Every step's timing, for runs of at most `STEP_TIMES_CAP` steps
    /// (per-step recording on); longer runs have `approximate` instead.
    pub step_times: Vec<StepTime>,
    /// Beyond `STEP_TIMES_CAP` steps: the step, core and network times'
    /// distributions, their percentiles from 1.1%-wide bins.
    pub approximate: Option<[Quantiles; 3]>,
    /// The per-step series, binned to at most `SERIES_CAP` points.
    pub series: StepSeries,
    /// Σ over steps of step_ns, and of max(step_ns, tick) in real-time mode.
    pub emulated_ns: f64,
    pub wall_ns: f64,
    pub overruns: u64,
    pub wall_seconds: f64,
}

/// The cores of thread k: `bounds[k]..bounds[k + 1]`, contiguous ranges of
/// roughly equal work (neuron updates and synapses received), none empty.
fn thread_bounds(m: &Machine, k: usize) -> Vec<usize> {
    let mut at = Vec::with_capacity(m.cores.len() + 1);
    at.push(0usize);
    for c in &m.cores {
        at.push(at[at.len() - 1] + c.n * 8 + c.n_syn as usize + 64);
    }
    let mut b = nerve_isa::cuts(&at, k);
    b.dedup();
    if b.len() < 2 {
        b.push(m.cores.len());
    }
    b
}

/// Runs `steps` timesteps, keeping what `rec` records in memory.
pub fn run(m: &mut Machine, runner: &dyn KernelRunner, steps: u64, threads: usize, rec: &Recording, progress: &mut dyn FnMut(u64)) -> Result<RunOutput> {
    let rec = Recording { chunk_steps: None, ..rec.clone() };
    run_inner(m, runner, steps, threads, &rec, None, progress)
}

/// Runs `steps` timesteps, giving what `rec` records to `sink` every
/// `rec.chunk_steps` steps (every step if not set): the output's spikes
/// and probe values are then empty.
pub fn run_streamed(
    m: &mut Machine,
    runner: &dyn KernelRunner,
    steps: u64,
    threads: usize,
    rec: &Recording,
    sink: &mut dyn RecordSink,
    progress: &mut dyn FnMut(u64),
) -> Result<RunOutput> {
    let rec = Recording { chunk_steps: Some(rec.chunk_steps.unwrap_or(1).max(1)), ..rec.clone() };
    run_inner(m, runner, steps, threads, &rec, Some(sink), progress)
}

fn run_inner(
    m: &mut Machine,
    runner: &dyn KernelRunner,
    steps: u64,
    threads: usize,
    rec: &Recording,
    sink: Option<&mut dyn RecordSink>,
    progress: &mut dyn FnMut(u64),
) -> Result<RunOutput> {
    if steps > u32::MAX as u64 {
        return Err(EmuError::TooManySteps { steps, max: u32::MAX as u64 });
    }
    let t_start = std::time::Instant::now();
    let costs = Costs::of(m);
    let n_links = LinkId::count(m.arch.num_tiles());
    let bounds = thread_bounds(m, threads.clamp(1, m.cores.len().max(1)));
    let threads = bounds.len() - 1;
    // Global neuron offset of each core within its population.
    let first_of: Vec<u32> = m.cores.iter().map(|c| m.pops[c.pop as usize].slices.iter().find(|s| s.core == c.id).map_or(0, |s| s.first)).collect();
    let probe_sizes: Vec<usize> = rec.probes.iter().map(|&(p, _)| m.pops[p as usize].size as usize).collect();
    let gap_vals: [Vec<std::sync::atomic::AtomicI32>; 2] = std::array::from_fn(|_| (0..m.gap_sources).map(|_| std::sync::atomic::AtomicI32::new(0)).collect());
    let shared = Shared {
        threads,
        steps,
        timing: &m.arch.timing,
        runner,
        kernels: &m.kernels,
        routes: &m.routes,
        fanout: &m.fanout,
        spans: &m.spans,
        arena: &m.arena,
        owner_start: &bounds,
        first_of: &first_of,
        probe_sizes: &probe_sizes,
        rec,
        costs: &costs,
        n_links,
        idle_updates: m.arch.core.idle_updates,
        rules: &m.rules,
        pre_subs: &m.pre_subs,
        stdp_subs: &m.stdp_subs,
        gap_vals: &gap_vals,
        has_gaps: m.gap_sources > 0,
    };
    // Spike buffers per (parity, thread): (core index, neuron).
    let bufs: Vec<RwLock<Vec<(u32, u32)>>> = (0..2 * threads).map(|_| RwLock::new(Vec::new())).collect();
    let barrier = Barrier::new(threads);
    let failed = AtomicBool::new(false);
    let step_acc: Mutex<Option<steps::StepAcc>> = Mutex::new(None);
    let core_max = [std::sync::atomic::AtomicU64::new(0), std::sync::atomic::AtomicU64::new(0)];
    let link_totals: Mutex<Vec<u64>> = Mutex::new(vec![0; n_links]);
    let handoff: Vec<Mutex<step::Chunk>> = (0..threads).map(|_| Mutex::new(step::Chunk::default())).collect();
    let sink_error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let workers = split(&mut m.cores, &mut m.ring, m.ring_slots, m.in_total, &bounds, rec);
    let make_ctx = |t: usize| Ctx {
        t,
        s: &shared,
        bufs: &bufs,
        barrier: &barrier,
        failed: &failed,
        step_acc: &step_acc,
        core_max: &core_max,
        link_totals: &link_totals,
        handoff: &handoff,
        sink_error: &sink_error,
    };
    let workers: Vec<Worker> = std::thread::scope(|sc| {
        let mut ws = workers.into_iter();
        // invariant: thread_bounds returns at least two bounds, so `split` makes at least one worker
        let mut w0 = ws.next().expect("thread_bounds gives at least one worker");
        let handles: Vec<_> = ws
            .enumerate()
            .map(|(i, mut w)| {
                let ctx = make_ctx(i + 1);
                sc.spawn(move || {
                    ctx.work(&mut w, &mut |_| {}, None);
                    w
                })
            })
            .collect();
        make_ctx(0).work(&mut w0, progress, sink);
        let mut all = vec![w0];
        // invariant: a worker has no failure path (`work` returns nothing); a panic there is a bug, which the join passes on
        all.extend(handles.into_iter().map(|h| h.join().expect("emulator worker thread panicked")));
        all
    });
    // The last step's slowest core is known once every thread has finished.
    // invariant: a thread that panicked holding the lock made its join above panic first, so the lock is not poisoned here
    let mut acc = step_acc.into_inner().expect("no thread panics holding step_acc (its join would have panicked first)");
    if let Some(a) = acc.as_mut() {
        if let Some((st, net_ns)) = a.pending.take() {
            a.account(st, f64::from_bits(core_max[(st & 1) as usize].load(std::sync::atomic::Ordering::Acquire)), net_ns);
        }
    }
    // invariant: a thread that panicked holding the lock made its join above panic first, so the lock is not poisoned here
    let links = link_totals.into_inner().expect("no thread panics holding link_totals (its join would have panicked first)");
    // invariant: a thread that panicked holding the lock made its join above panic first, so the lock is not poisoned here
    if let Some(e) = sink_error.into_inner().expect("no thread panics holding sink_error (its join would have panicked first)") {
        return Err(EmuError::Record(e));
    }
    Ok(merge(&m.pops, workers, &first_of, steps, acc, links, rec, t_start))
}

/// Each thread's cores, and its cores' part of every ring slot.
fn split<'a>(cores: &'a mut [Core], ring: &'a mut [i32], slots: usize, in_total: usize, bounds: &[usize], rec: &Recording) -> Vec<Worker<'a>> {
    let threads = bounds.len() - 1;
    let in_bounds: Vec<usize> = bounds.iter().map(|&c| if c < cores.len() { cores[c].in_off } else { in_total }).collect();
    let mut rings: Vec<Vec<&mut [i32]>> = (0..threads).map(|_| Vec::with_capacity(slots)).collect();
    let mut ring_rest = ring;
    for _ in 0..slots {
        let (mut slot, rest) = std::mem::take(&mut ring_rest).split_at_mut(in_total);
        ring_rest = rest;
        for (t, r) in rings.iter_mut().enumerate() {
            let (mine, more) = std::mem::take(&mut slot).split_at_mut(in_bounds[t + 1] - in_bounds[t]);
            r.push(mine);
            slot = more;
        }
    }
    let mut rest = cores;
    let mut chunks = Vec::with_capacity(threads);
    for t in 0..threads {
        let (a, b) = std::mem::take(&mut rest).split_at_mut(bounds[t + 1] - bounds[t]);
        chunks.push(a);
        rest = b;
    }
    let max_n = chunks.iter().flat_map(|c| c.iter().map(|x| x.stride())).max().unwrap_or(0);
    chunks.into_iter().zip(rings).enumerate().map(|(t, (chunk, ring))| Worker::new(bounds[t], chunk, ring, in_bounds[t], max_n, rec)).collect()
}

/// The workers' results, merged in thread order.
#[allow(clippy::too_many_arguments)]
fn merge(
    pops: &[PopSymbol],
    workers: Vec<Worker>,
    first_of: &[u32],
    steps: u64,
    acc: Option<steps::StepAcc>,
    link_totals: Vec<u64>,
    rec: &Recording,
    t_start: std::time::Instant,
) -> RunOutput {
    let mut counts = Counts::default();
    let mut per_core = Vec::new();
    let mut spikes = Vec::new();
    for w in &workers {
        for (i, c) in w.cores.iter().enumerate() {
            counts.add(&w.counts[i]);
            per_core.push(CoreCounts { core: c.id.0, population: c.pop, counts: w.counts[i], busy_ns: w.busy[i], max_step_ns: w.max_step[i] });
        }
        spikes.extend_from_slice(&w.spikes);
    }
    // Probes: each worker filled the ranges of its own cores; copy them over.
    let kept = if rec.chunk_steps.is_some() { 0 } else { steps as usize };
    let mut probes: Vec<ProbeTrace> =
        rec.probes.iter().map(|&(pop, slot)| ProbeTrace { pop, slot, values: vec![vec![0; pops[pop as usize].size as usize]; kept] }).collect();
    for (pi, p) in probes.iter_mut().enumerate() {
        for w in &workers {
            let src = &w.probes[pi].values;
            for (ci, c) in w.cores.iter().enumerate() {
                if c.pop != p.pop {
                    continue;
                }
                let f = first_of[w.first + ci] as usize;
                for (dst, src) in p.values.iter_mut().zip(src) {
                    dst[f..f + c.n].copy_from_slice(&src[f..f + c.n]);
                }
            }
        }
    }
    spikes.sort_unstable();
    counts.barriers = steps;
    let links: Vec<(LinkId, u64)> = link_totals.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| (LinkId(i as u32), n)).collect();
    // Step times (thread 0 combined them as the run went) and the series' counts.
    let mut series = StepSeries { bin: steps::series_bin(steps), ..StepSeries::default() };
    let (mut step_times, mut approximate, mut emulated, mut wall, mut overruns) = (Vec::new(), None, 0.0, 0.0, 0);
    if let Some(a) = acc {
        approximate = a.approximate();
        (emulated, wall, overruns) = (a.emulated_ns, a.wall_ns, a.overruns);
        series.max_step_ns = a.max_step_ns;
        series.wall_ns = a.wall_bins;
        step_times = a.times;
        series.counts = vec![Counts::default(); series.max_step_ns.len()];
        for w in &workers {
            for (b, c) in w.bin_counts.iter().enumerate() {
                series.counts[b].add(c);
            }
        }
        // One barrier per step.
        for (b, c) in series.counts.iter_mut().enumerate() {
            c.barriers = series.bin.min(steps - b as u64 * series.bin);
        }
    }
    RunOutput {
        steps,
        spikes,
        probes,
        counts,
        per_core,
        links,
        step_times,
        approximate,
        series,
        emulated_ns: emulated,
        wall_ns: wall,
        overruns,
        wall_seconds: t_start.elapsed().as_secs_f64(),
    }
}
