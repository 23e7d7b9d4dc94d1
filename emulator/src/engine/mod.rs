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
//! Threads own contiguous ranges of cores. Phase 1 lists each thread's
//! spikes in its own list, which its step's post carries to the others (or,
//! past what a post holds, a shared list double-buffered by step parity; ranks
//! always use the shared lists); phase 2 has each thread deliver every spike
//! of the step into the cores it owns. Integer addition is associative,
//! so results are identical for any thread count; counters are integers
//! summed per step; times are maxima of per-core values.

mod barrier;
pub mod pin;
pub mod ranks;
mod step;
pub mod steps;

use std::sync::{Mutex, RwLock};

use nerve_isa::ids::LinkId;
use nerve_isa::image::PopSymbol;

pub use crate::kernel::{Interp, KernelRunner};
pub use barrier::POST_SPIKES;
pub use nerve_isa::counters::Counts;

use crate::cost::timing::Costs;
use crate::error::{EmuError, Result};
use crate::lines::OwnLine;
use crate::machine::{Core, Machine};
use barrier::{Barrier, Posts};
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
    /// Threads the run used (this rank's): at most one per core of it, and
    /// at most as many as asked for.
    pub threads: usize,
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
    /// A run over several ranks: what they sent each other (rank 0's output).
    pub traffic: Option<ranks::Traffic>,
    /// Per thread, the CPU it was pinned to (see [`pin`]), if the run's
    /// threads were (this rank's).
    pub pinned: Option<Vec<usize>>,
}

/// One rank's part of a run over several (see [`ranks`]): how it reaches
/// the others and which cores each runs (the same plan on every rank).
pub struct Ranked<'t> {
    pub transport: &'t mut dyn ranks::Transport,
    pub plan: &'t ranks::Plan,
}

/// The cores `range` split among k threads: thread t has `bounds[t]..bounds[t + 1]`,
/// contiguous ranges of roughly equal work (neuron updates and synapses
/// received), none empty.
fn thread_bounds(m: &Machine, range: std::ops::Range<usize>, k: usize) -> Vec<usize> {
    let mut at = Vec::with_capacity(range.len() + 1);
    at.push(0usize);
    for c in &m.cores[range.clone()] {
        at.push(at[at.len() - 1] + c.n * 8 + c.n_syn as usize + 64);
    }
    let mut b = nerve_isa::cuts(&at, k);
    b.dedup();
    if b.len() < 2 {
        b.push(range.len());
    }
    b.iter().map(|x| x + range.start).collect()
}

/// How many threads a run of `m` on one process asked for `threads` (at
/// least 1) has: at most one per core, fewer where the cores' work cannot be
/// cut into that many non-empty parts. What a caller warning about threads
/// outnumbering the CPUs must count (`--threads 3` on an image of two cores
/// runs two).
pub fn threads_used(m: &Machine, threads: usize) -> usize {
    let all = 0..m.cores.len();
    thread_bounds(m, all.clone(), threads.clamp(1, all.len().max(1))).len() - 1
}

/// Runs `steps` timesteps, keeping what `rec` records in memory.
pub fn run(m: &mut Machine, runner: &dyn KernelRunner, steps: u64, threads: usize, rec: &Recording, progress: &mut dyn FnMut(u64)) -> Result<RunOutput> {
    let rec = Recording { chunk_steps: None, ..rec.clone() };
    run_inner(m, runner, steps, threads, &rec, None, None, progress)
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
    run_inner(m, runner, steps, threads, &rec, Some(sink), None, progress)
}

/// This rank's part of a run over several ranks (every rank calls it with
/// the same machine, arguments and plan). `rec.chunk_steps` set: recordings
/// are streamed, through rank 0, to rank 0's `sink` (other ranks give
/// none). Rank 0's output is the whole run's, as one process would give it
/// (`traffic` added); the other ranks' hold only their cores' counts.
#[allow(clippy::too_many_arguments)]
pub fn run_ranked(
    m: &mut Machine,
    runner: &dyn KernelRunner,
    steps: u64,
    threads: usize,
    rec: &Recording,
    sink: Option<&mut dyn RecordSink>,
    ranked: Ranked,
    progress: &mut dyn FnMut(u64),
) -> Result<RunOutput> {
    let (size, plan) = (ranked.transport.size(), ranked.plan);
    if plan.bounds.len() != size + 1 || plan.bounds.last() != Some(&m.cores.len()) || plan.bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err(EmuError::Invalid(format!(
            "the rank plan {:?} does not cut this machine's {} cores into {size} non-empty ranges",
            plan.bounds,
            m.cores.len()
        )));
    }
    run_inner(m, runner, steps, threads, rec, sink, Some(ranked), progress)
}

#[allow(clippy::too_many_arguments)]
fn run_inner(
    m: &mut Machine,
    runner: &dyn KernelRunner,
    steps: u64,
    threads: usize,
    rec: &Recording,
    sink: Option<&mut dyn RecordSink>,
    ranked: Option<Ranked>,
    progress: &mut dyn FnMut(u64),
) -> Result<RunOutput> {
    if steps > nerve_isa::MAX_STEPS {
        return Err(EmuError::TooManySteps { steps, max: nerve_isa::MAX_STEPS });
    }
    // A probe of a population or slot the image lacks was an index panic
    // (the CLI and Python look them up by name; a library caller need not).
    for &(p, slot) in &rec.probes {
        let Some(pop) = m.pops.get(p as usize) else {
            return Err(EmuError::Probe(format!("population index {p} is not one of the image's {}", m.pops.len())));
        };
        if !pop.vars.iter().any(|v| v.slot == slot) {
            let have: Vec<String> = pop.vars.iter().map(|v| format!("{} (slot {})", v.name, v.slot)).collect();
            return Err(EmuError::Probe(format!(
                "population `{}` has no state slot {slot} (it has: {})",
                pop.name,
                if have.is_empty() { "none".into() } else { have.join(", ") }
            )));
        }
    }
    m.begin_run(steps)?;
    // Every thread reads its cores' `Core`s every step, in order, and the
    // hardware prefetcher streams on past the last of them: what lies after
    // the array in its page ends up in another thread's cache. Two pages of
    // spare capacity keep that memory the array's own (CUBA on two threads:
    // thread 0's core 1, whose state array had been placed there, took
    // 104–109 ns a step instead of 82–96; ~250 against ~90 with the vCPUs far
    // apart).
    m.cores.reserve_exact((8192 / std::mem::size_of::<Core>()).max(1));
    let mut t_start = std::time::Instant::now();
    let mut costs = Costs::of(m);
    let n_links = LinkId::count(m.arch.num_tiles());
    let mine = match &ranked {
        Some(r) => r.plan.bounds[r.transport.rank()]..r.plan.bounds[r.transport.rank() + 1],
        None => 0..m.cores.len(),
    };
    let bounds = thread_bounds(m, mine.clone(), threads.clamp(1, mine.len().max(1)));
    let threads = bounds.len() - 1;
    let mut link = ranked.map(|r| ranks::Link::new(m, r.transport, r.plan.bounds.clone()));
    if let Some(l) = link.as_mut() {
        l.setup(m, &mut costs);
        // The setup is the ranks' first meeting: it waits for the slowest to
        // have loaded. The run's time starts after it (`Traffic` has it).
        t_start = std::time::Instant::now();
    }
    deliver_initial_gaps(m);
    let pop_n: Vec<(u32, u32)> = m.cores.iter().map(|c| (c.pop, c.n as u32)).collect();
    // Global neuron offset of each core within its population.
    let first_of: Vec<u32> = m.cores.iter().map(|c| m.pops[c.pop as usize].slices.iter().find(|s| s.core == c.id).map_or(0, |s| s.first)).collect();
    let probe_sizes: Vec<usize> = rec.probes.iter().map(|&(p, _)| m.pops[p as usize].size as usize).collect();
    let gap_vals: [Vec<std::sync::atomic::AtomicI32>; 2] = std::array::from_fn(|_| (0..m.gap_sources).map(|_| std::sync::atomic::AtomicI32::new(0)).collect());
    let defer_settle = threads > 1 && link.is_none() && m.cores.iter().all(|c| c.plastic.is_empty());
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
        n_cores: m.cores.len(),
        rank_cores: (mine.start, mine.end),
        spans_local: mine.len() == m.cores.len() || m.spans.iter().all(|sp| mine.contains(&(sp.core as usize))),
        pop_n: &pop_n,
        ranked: link.is_some(),
        every: link.as_ref().map_or(1, |l| l.every),
        defer_local: link.as_ref().is_some_and(|l| l.every > 1 && l.min_delay_in >= l.every),
        slots: if defer_settle { 2 } else { link.as_ref().map_or(1, |l| l.every) },
        defer_settle,
    };
    let remote = RwLock::new(step::Remote::default());
    // Spike buffers per (parity, thread): (core index, neuron).
    let bufs: Vec<step::SpikeBuf> = (0..2 * shared.every as usize * threads).map(|_| OwnLine(RwLock::new(Vec::new()))).collect();
    let barrier = Barrier::new(threads);
    let posts = Posts::new(threads);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let stop_at = std::sync::atomic::AtomicU64::new(u64::MAX);
    let m_stop = m.stop.clone();
    let step_acc: Mutex<Option<steps::StepAcc>> = Mutex::new(None);
    let core_max: Vec<OwnLine<std::sync::atomic::AtomicU64>> = (0..2 * shared.every).map(|_| OwnLine(std::sync::atomic::AtomicU64::new(0))).collect();
    let core_ns = |st: u64| f64::from_bits(core_max[shared.core_max_at(st)].load(std::sync::atomic::Ordering::Acquire));
    let link_totals: Mutex<Vec<u64>> = Mutex::new(vec![0; n_links]);
    let handoff: Vec<Mutex<step::Chunk>> = (0..threads).map(|_| Mutex::new(step::Chunk::default())).collect();
    let sink_error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let (parts, max_n) = split(&mut m.cores, &mut m.ring, m.ring_slots, m.in_total, &bounds);
    let every = shared.slots as usize;
    let ring_copy_max = m.ring_copy_max;
    let cpus = pin::plan(m.pin, threads);
    let cpu_of = |t: usize| cpus.as_ref().map(|c| c[t]);
    let link_ref = link.as_mut();
    let make_ctx = |t: usize| Ctx {
        t,
        s: &shared,
        bufs: &bufs,
        barrier: &barrier,
        posts: &posts,
        failed: &failed,
        stop_at: &stop_at,
        stop: if shared.ranked { None } else { m_stop.as_deref() },
        step_acc: &step_acc,
        core_max: &core_max,
        link_totals: &link_totals,
        handoff: &handoff,
        sink_error: &sink_error,
        remote: &remote,
    };
    let workers: Vec<Worker> = std::thread::scope(|sc| {
        // A panic of this thread (its own work or a join passing another's
        // on) must not leave the workers waiting for it: the scope joins them.
        let _abandon = barrier::Abandon([&barrier.gone, &posts.gone]);
        let mut ps = parts.into_iter();
        // invariant: thread_bounds returns at least two bounds, so `split` makes at least one part
        let p0 = ps.next().expect("thread_bounds gives at least one worker");
        // Each worker is built on a thread of its own: what it allocates then
        // and as it runs comes from that thread's malloc arena, not from
        // memory interleaved with the other workers' (no cache line of
        // per-step data shared between threads; `crate::lines`), nor from
        // the main arena, where the data that every thread reads lies: thread
        // 0's arrays built on the caller's thread shared pages with it, and
        // the first of its cores ran its kernel 1.5× as long as the others
        // in CUBA's two-thread runs (the hardware prefetchers of the other
        // thread's core, reading that data, pull in its neighbours' lines).
        let handles: Vec<_> = ps
            .enumerate()
            .map(|(i, p)| {
                let ctx = make_ctx(i + 1);
                let cpu = cpu_of(i + 1);
                let gone = [&barrier.gone, &posts.gone];
                sc.spawn(move || {
                    let _abandon = barrier::Abandon(gone);
                    let _pin = pin::to(cpu);
                    let mut w = p.worker(max_n, rec, every, ring_copy_max);
                    ctx.prepare(&mut w, false);
                    ctx.work(&mut w, &mut |_| {}, None, None);
                    w
                })
            })
            .collect();
        // Thread 0 runs on the caller's thread (pinned for the run only),
        // which keeps the progress callback, the sink and the link; its
        // worker is built on a helper thread (see above).
        let accounts = link_ref.as_ref().is_none_or(|l| l.rank == 0);
        let ctx0 = make_ctx(0);
        let build0 = sc.spawn(move || {
            let mut w = p0.worker(max_n, rec, every, ring_copy_max);
            ctx0.prepare(&mut w, accounts);
            w
        });
        // invariant: building a worker has no failure path; a panic there is a bug, which the join passes on
        let mut w0 = build0.join().expect("emulator worker builder panicked");
        let pin0 = pin::to(cpu_of(0));
        make_ctx(0).work(&mut w0, progress, sink, link_ref);
        drop(pin0);
        let mut all = vec![w0];
        // invariant: a worker has no failure path (`work` returns nothing); a panic there is a bug, which the join passes on
        all.extend(handles.into_iter().map(|h| h.join().expect("emulator worker thread panicked")));
        all
    });
    // The last step's slowest core is known once every thread has finished.
    // invariant: a thread that panicked holding the lock made its join above panic first, so the lock is not poisoned here
    let mut acc = step_acc.into_inner().expect("no thread panics holding step_acc (its join would have panicked first)");
    if let Some(a) = acc.as_mut() {
        while let Some((st, net_ns, _)) = a.pending.pop_front() {
            a.account(st, core_ns(st), net_ns);
        }
    }
    // invariant: a thread that panicked holding the lock made its join above panic first, so the lock is not poisoned here
    let links = link_totals.into_inner().expect("no thread panics holding link_totals (its join would have panicked first)");
    // invariant: a thread that panicked holding the lock made its join above panic first, so the lock is not poisoned here
    if let Some(e) = sink_error.into_inner().expect("no thread panics holding sink_error (its join would have panicked first)") {
        return Err(EmuError::Record(e));
    }
    let last = stop_at.into_inner();
    if last.saturating_add(1) < steps {
        return Err(EmuError::Stopped { ran: last + 1, steps });
    }
    let Some(mut l) = link else {
        let mut out = merge(&m.pops, workers, &first_of, steps, acc, links, rec, t_start);
        out.pinned = cpus;
        return Ok(out);
    };
    // Runs over several ranks end with one exchange: every rank sends rank 0
    // what it holds (see `put_part`); rank 0 accounts the last batch of
    // steps, then merges.
    if l.rank != 0 {
        let mut out = merge(&m.pops, workers, &first_of, steps, acc, links, rec, t_start);
        out.pinned = cpus;
        let mut outs: Vec<Vec<u32>> = vec![Vec::new(); l.size];
        outs[0] = put_part(&mut l, &mut out, &core_ns, &shared, m);
        l.exchange_owned(outs);
        return Ok(out);
    }
    let inb = l.exchange_owned(vec![Vec::new(); l.size]);
    let mut readers: Vec<ranks::Reader> = inb.iter().map(|w| ranks::Reader::new(w)).collect();
    if rec.per_step {
        let costs = &costs;
        l.take_figures(&mut readers[1..], core_ns, |st, core_ns, latency, busiest| {
            if let Some(a) = acc.as_mut() {
                a.account(st, core_ns, costs.net_ns(latency, busiest));
            }
        });
    }
    let mut out = merge(&m.pops, workers, &first_of, steps, acc, links, rec, t_start);
    out.pinned = cpus;
    let totals = fold_parts(&l, &mut readers, &mut out, &shared, m);
    m.totals = totals;
    out.wall_seconds = t_start.elapsed().as_secs_f64();
    Ok(out)
}

/// Everything a rank other than 0 holds at the end of a run, for rank 0:
/// the last batch's figures (when steps are timed), its cores' counts and
/// times, its per-step series counts, link totals, recordings (unless
/// streamed) and what it sent.
fn put_part(l: &mut ranks::Link, out: &mut RunOutput, core_ns: &dyn Fn(u64) -> f64, s: &Shared, m: &Machine) -> Vec<u32> {
    let mut w = ranks::Words::default();
    if s.rec.per_step {
        l.put_figures(&mut w, core_ns);
    }
    for pc in &out.per_core {
        for v in pc.counts.values() {
            w.u64(v);
        }
        w.f64(pc.busy_ns);
        w.f64(pc.max_step_ns);
    }
    w.u32(out.series.counts.len() as u32);
    for c in &out.series.counts {
        for v in c.values() {
            w.u64(v);
        }
    }
    w.u32(out.links.len() as u32);
    for &(link, n) in &out.links {
        w.u32(link.0);
        w.u64(n);
    }
    if s.rec.chunk_steps.is_none() {
        let probes: Vec<Vec<Vec<i32>>> = out.probes.iter().map(|p| p.values.clone()).collect();
        put_recording(&mut w, &out.spikes, &probes, out.steps as usize, l.bounds[l.rank]..l.bounds[l.rank + 1], s);
    }
    w.u64(l.bytes_sent);
    w.u64(l.messages_sent);
    w.f64(l.exchange_seconds);
    let mine = l.bounds[l.rank]..l.bounds[l.rank + 1];
    w.u64(m.synapses_at(mine.clone()));
    let edges = m.pop_edges_at(mine);
    w.u32(edges.len() as u32);
    for (a, b) in edges {
        w.u32(a);
        w.u32(b);
    }
    w.0
}

/// Rank 0: the other ranks' parts (`put_part`, past the last batch's
/// figures) into its output; the whole machine's synapses and population
/// connections.
fn fold_parts(l: &ranks::Link, readers: &mut [ranks::Reader], out: &mut RunOutput, s: &Shared, m: &Machine) -> (u64, Vec<(u32, u32)>) {
    let mine = l.bounds[0]..l.bounds[1];
    let (mut synapses, mut edges) = (m.synapses_at(mine.clone()), m.pop_edges_at(mine));
    const N: usize = nerve_isa::counters::COUNTERS.len();
    let mut traffic = ranks::Traffic {
        bounds: l.bounds.clone(),
        bytes_sent: vec![l.bytes_sent],
        messages_sent: vec![l.messages_sent],
        exchange_seconds: vec![l.exchange_seconds],
        setup_seconds: l.setup_seconds,
        exchange_every: l.every,
    };
    let mut links: std::collections::BTreeMap<u32, u64> = out.links.iter().map(|&(l, n)| (l.0, n)).collect();
    let mut probes: Vec<Vec<Vec<i32>>> = out.probes.iter_mut().map(|p| std::mem::take(&mut p.values)).collect();
    let counts_of = |rd: &mut ranks::Reader| {
        let mut v = [0u64; N];
        for x in v.iter_mut() {
            *x = rd.u64();
        }
        Counts::from_values(v)
    };
    for (r, rd) in readers.iter_mut().enumerate().skip(1) {
        for ci in l.bounds[r]..l.bounds[r + 1] {
            let counts = counts_of(rd);
            out.counts.add(&counts);
            let (busy_ns, max_step_ns) = (rd.f64(), rd.f64());
            out.per_core.push(CoreCounts { core: m.cores[ci].id.0, population: m.cores[ci].pop, counts, busy_ns, max_step_ns });
        }
        let nb = rd.u32() as usize;
        for b in 0..nb {
            let c = counts_of(rd);
            if let Some(x) = out.series.counts.get_mut(b) {
                // One barrier per step, counted once (not per rank).
                let barriers = x.barriers;
                x.add(&c);
                x.barriers = barriers;
            }
        }
        for _ in 0..rd.u32() {
            let link = rd.u32();
            *links.entry(link).or_default() += rd.u64();
        }
        if s.rec.chunk_steps.is_none() {
            take_recording(rd, &mut out.spikes, &mut probes, out.steps as usize, l.bounds[r]..l.bounds[r + 1], s);
        }
        traffic.bytes_sent.push(rd.u64());
        traffic.messages_sent.push(rd.u64());
        traffic.exchange_seconds.push(rd.f64());
        synapses += rd.u64();
        for _ in 0..rd.u32() {
            edges.push((rd.u32(), rd.u32()));
        }
    }
    edges.sort_unstable();
    edges.dedup();
    out.counts.barriers = out.steps;
    out.per_core.sort_by_key(|c| c.core);
    // Runs in order per rank and thread: merged (see `merge`).
    out.spikes.sort();
    for (p, v) in out.probes.iter_mut().zip(probes) {
        p.values = v;
    }
    out.links = links.into_iter().filter(|&(_, n)| n > 0).map(|(l, n)| (LinkId(l), n)).collect();
    out.traffic = Some(traffic);
    (synapses, edges)
}

/// A rank's recording (spikes, and per probe its rows' values at the cores
/// `cores`) into a message for rank 0.
fn put_recording(w: &mut ranks::Words, spikes: &[SpikeEvent], probes: &[Vec<Vec<i32>>], rows: usize, cores: std::ops::Range<usize>, s: &Shared) {
    w.u32(spikes.len() as u32);
    for e in spikes {
        w.u32(e.step);
        w.u32(e.pop);
        w.u32(e.neuron);
    }
    for (pi, &(pop, _)) in s.rec.probes.iter().enumerate() {
        for row in 0..rows {
            for ci in cores.clone() {
                let (p, n) = s.pop_n[ci];
                if p == pop {
                    let f = s.first_of[ci] as usize;
                    match probes.get(pi).and_then(|x| x.get(row)) {
                        Some(r) => w.0.extend(r[f..f + n as usize].iter().map(|&v| v as u32)),
                        None => w.0.extend(std::iter::repeat_n(0, n as usize)),
                    }
                }
            }
        }
    }
}

/// Rank 0: another rank's recording (see `put_recording`) into its own.
fn take_recording(rd: &mut ranks::Reader, spikes: &mut Vec<SpikeEvent>, probes: &mut [Vec<Vec<i32>>], rows: usize, cores: std::ops::Range<usize>, s: &Shared) {
    let n = rd.u32() as usize;
    spikes.extend(rd.take(3 * n).chunks_exact(3).map(|x| SpikeEvent { step: x[0], pop: x[1], neuron: x[2] }));
    for (pi, &(pop, _)) in s.rec.probes.iter().enumerate() {
        for row in 0..rows {
            for ci in cores.clone() {
                let (p, n) = s.pop_n[ci];
                if p == pop {
                    let f = s.first_of[ci] as usize;
                    let vals = rd.take(n as usize);
                    if let Some(r) = probes.get_mut(pi).and_then(|x| x.get_mut(row)) {
                        for (d, &v) in r[f..f + n as usize].iter_mut().zip(vals) {
                            *d = v as i32;
                        }
                    }
                }
            }
        }
    }
}

/// Electrical synapses before step 0: each junction's term of the initial
/// state, into step 0's ring slot, as `deliver` puts each step's into the
/// next one's. Step t receives the values of the end of step t − 1, and for
/// step 0 that is the initial state (a saved network's continuation starts
/// from the state its run ended with, which the longer run's next step
/// received). Every rank holds every core's state and junctions, so each
/// computes the same terms for its own cores' inputs. Not counted: it is
/// part of loading, as the initial state is.
fn deliver_initial_gaps(m: &mut Machine) {
    if m.gap_sources == 0 {
        return;
    }
    let mut vals = vec![0i32; m.gap_sources];
    for c in &m.cores {
        if let crate::machine::Run::Kernel { data, .. } = &c.run {
            for &(nr, slot, ix) in &c.gap_out {
                vals[ix as usize] = data.state[slot as usize][nr as usize];
            }
        }
    }
    let slot0 = &mut m.ring[..m.in_total];
    for c in &m.cores {
        crate::machine::gap_sums(
            &c.gap_in,
            |src| vals[src as usize],
            |at, x| {
                let k = c.in_off + at;
                slot0[k] = slot0[k].wrapping_add(x);
            },
        );
    }
}

/// One thread's cores and its cores' part of every ring slot.
struct Part<'a> {
    first: usize,
    cores: &'a mut [Core],
    ring: Vec<&'a mut [i32]>,
    in_base: usize,
}

impl<'a> Part<'a> {
    fn worker(self, max_n: usize, rec: &Recording, every: usize, ring_copy_max: usize) -> Worker<'a> {
        Worker::new(self.first, self.cores, self.ring, self.in_base, max_n, rec, every, ring_copy_max)
    }
}

/// Each thread's part, and the widest core's stride.
fn split<'a>(cores: &'a mut [Core], ring: &'a mut [i32], slots: usize, in_total: usize, bounds: &[usize]) -> (Vec<Part<'a>>, usize) {
    let threads = bounds.len() - 1;
    let in_bounds: Vec<usize> = bounds.iter().map(|&c| if c < cores.len() { cores[c].in_off } else { in_total }).collect();
    let mut rings: Vec<Vec<&mut [i32]>> = (0..threads).map(|_| Vec::with_capacity(slots)).collect();
    let mut ring_rest = ring;
    for _ in 0..slots {
        let (slot, rest) = std::mem::take(&mut ring_rest).split_at_mut(in_total);
        ring_rest = rest;
        // This rank's cores' part of the slot.
        let mut slot = &mut slot[in_bounds[0]..in_bounds[threads]];
        for (t, r) in rings.iter_mut().enumerate() {
            let (mine, more) = std::mem::take(&mut slot).split_at_mut(in_bounds[t + 1] - in_bounds[t]);
            r.push(mine);
            slot = more;
        }
    }
    let mut rest = &mut cores[bounds[0]..bounds[threads]];
    let mut chunks = Vec::with_capacity(threads);
    for t in 0..threads {
        let (a, b) = std::mem::take(&mut rest).split_at_mut(bounds[t + 1] - bounds[t]);
        chunks.push(a);
        rest = b;
    }
    let max_n = chunks.iter().flat_map(|c| c.iter().map(|x| x.stride())).max().unwrap_or(0);
    let parts = chunks.into_iter().zip(rings).enumerate().map(|(t, (cores, ring))| Part { first: bounds[t], cores, ring, in_base: in_bounds[t] }).collect();
    (parts, max_n)
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
    // Each thread's spikes are in order (steps, then its cores): a stable
    // sort merges the threads' runs in linear time.
    spikes.sort();
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
    }
    // The series' counts (also at ranks other than 0, which send them to it).
    if rec.per_step {
        series.counts = vec![Counts::default(); steps.div_ceil(series.bin) as usize];
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
        threads: workers.len(),
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
        traffic: None,
        pinned: None,
    }
}
