//! One thread's part of the timestep loop, phase by phase: `compute` (its
//! cores' kernels and schedules), `send` (each spike charged at its source),
//! the barrier, `deliver` (every spike of the step into its cores' ring
//! slots, the network's time on thread 0) and `settle` (receive times, the
//! step's counts and times).

use prefetch_index::prefetch_index;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use nerve_isa::kernel::Kernel;

use super::barrier::{Barrier, Posts, POST_SPIKES};
use super::ranks::{Link, Reader, Spike, Words};
use super::{Counts, KernelRunner, ProbeTrace, Recording, SpikeEvent};
use crate::cost::timing::Costs;
use crate::kernel::{groups, padded};
use crate::lines::LineVec;
use crate::machine::{Core, Fanout, PackedSyn, Run, Span};
use crate::mesh::{route_of, Route};

/// What every thread reads and nobody writes during the run.
pub struct Shared<'a> {
    pub threads: usize,
    pub steps: u64,
    pub timing: &'a nerve_isa::arch::TimingSpec,
    pub runner: &'a dyn KernelRunner,
    pub kernels: &'a [Kernel],
    pub routes: &'a [Vec<Route>],
    pub fanout: &'a [Fanout],
    pub spans: &'a [Span],
    pub arena: &'a [u64],
    /// Thread t owns cores `owner_start[t]..owner_start[t + 1]`.
    pub owner_start: &'a [usize],
    /// Per core, the population index of its first neuron.
    pub first_of: &'a [u32],
    pub probe_sizes: &'a [usize],
    pub rec: &'a Recording,
    pub costs: &'a Costs,
    pub n_links: usize,
    pub idle_updates: bool,
    /// Learning: the rules, and per source core its neurons that feed plastic synapses.
    pub rules: &'a [nerve_isa::learning::LearningRule],
    pub pre_subs: &'a [crate::learning::PreSubs],
    pub stdp_subs: &'a [crate::learning::PreSubs],
    /// Electrical synapses' sent values, per step parity (written in
    /// `compute`, read in `deliver` after the barrier).
    pub gap_vals: &'a [Vec<std::sync::atomic::AtomicI32>; 2],
    pub has_gaps: bool,
    /// Cores in the machine (on every rank; `owner_start` spans this rank's).
    pub n_cores: usize,
    /// This rank's cores (all of them for one process).
    pub rank_cores: (usize, usize),
    /// Whether every arrival (span) is at this rank's cores (a rank holding
    /// only its own rows; one process).
    pub spans_local: bool,
    /// Per core: its population and neurons.
    pub pop_n: &'a [(u32, u32)],
    /// Whether other ranks run the other cores (see `ranks`).
    pub ranked: bool,
    /// Steps between exchanges with the other ranks (1 for one process):
    /// steps `kD..(k + 1)D` are a batch, settled at its end.
    pub every: u64,
    /// Whether every synapse into this rank's cores has a delay of at least
    /// `every` (D > 1): then its own spikes are delivered at the end of the
    /// batch too, each step's with the other ranks', so that a step's ring
    /// slots are written in one pass (not once for its own spikes and again
    /// at the exchange).
    pub defer_local: bool,
    /// Where a step's arrival counts and times are kept: `every` slots, or
    /// two when `defer_settle` (a step's are settled during the next one).
    pub slots: u64,
    /// Whether each step is settled (its cores' times, its arrivals
    /// counted) during the next, between that step's post and its wait: in
    /// one process on several threads, with nothing learning. That wait
    /// lasts about a one-way cache-line transfer (~60 ns on this project's
    /// host) less what precedes it; settling there takes the settle off the
    /// path from one thread's post to the other's next post.
    pub defer_settle: bool,
}

impl Shared<'_> {
    /// Where step `step`'s arrival counts and times are kept in a batch.
    #[inline]
    pub fn slot(&self, step: u64) -> usize {
        (step % self.slots) as usize
    }
    /// How many steps behind its post a thread's settled step is (the
    /// slowest core a post carries is of the step this many before).
    #[inline]
    pub fn settled_lag(&self) -> u64 {
        if self.defer_settle {
            2
        } else {
            1
        }
    }
    /// Whether `step` ends a batch (and the run's last step one).
    #[inline]
    pub fn batch_end(&self, step: u64) -> bool {
        (step + 1) % self.every == 0 || step + 1 == self.steps
    }
    /// Step `step`'s entry in `Ctx::core_max` (two batches' worth).
    #[inline]
    pub fn core_max_at(&self, step: u64) -> usize {
        (((step / self.every) & 1) * self.every + step % self.every) as usize
    }
    /// Thread `t`'s spike list of step `step` in `Ctx::bufs` (two batches'
    /// worth: a thread computes the next batch while others deliver this one).
    #[inline]
    pub fn buf_at(&self, step: u64, t: usize) -> usize {
        (step % (2 * self.every)) as usize * self.threads + t
    }
}

/// Other ranks' spikes of a batch (written by thread 0 at the exchange):
/// per step, `(step, a, mid, b)`, its spikes `spikes[a..b]` in core order,
/// this rank's own sitting at `mid`.
#[derive(Default)]
pub struct Remote {
    pub spikes: Vec<Spike>,
    pub steps: Vec<RemoteStep>,
}

/// A step of `Remote`: (step, a, mid, b).
pub type RemoteStep = (u64, usize, usize, usize);

/// A thread's spikes of a step, (core index, neuron), alone in its lines.
pub type SpikeBuf = crate::lines::OwnLine<RwLock<Vec<(u32, u32)>>>;

/// A thread's view of the run: the shared data and the meeting points.
pub struct Ctx<'a> {
    pub t: usize,
    pub s: &'a Shared<'a>,
    /// Spike lists per (step of the last two batches, thread): (core
    /// index, neuron); see `Shared::buf_at`.
    pub bufs: &'a [SpikeBuf],
    pub barrier: &'a Barrier,
    /// The barrier of every step of one process, carrying its spikes.
    pub posts: &'a Posts,
    pub failed: &'a AtomicBool,
    /// The caller's `Machine::stop` (one process only), read by thread 0
    /// every 1,024 steps.
    pub stop: Option<&'a AtomicBool>,
    /// The step a stopped run ends after (`u64::MAX`: none), the next
    /// 1,024th after thread 0 found `stop` set: every thread reads it at
    /// those steps only (the step loop's path is as without it), and has by
    /// then waited for a later post of thread 0, which set it before.
    pub stop_at: &'a AtomicU64,
    /// Thread 0's accounting of the steps, at the end.
    pub step_acc: &'a Mutex<Option<super::steps::StepAcc>>,
    /// Per step of the last two batches (`Shared::core_max_at`): the
    /// slowest core's time of the step, as each thread's slowest joins it
    /// (thread 0 reads and clears it a batch later). Within one process only
    /// the last step's: the others' come with the threads' posts.
    pub core_max: &'a [crate::lines::OwnLine<std::sync::atomic::AtomicU64>],
    /// Thread 0's link totals, at the end.
    pub link_totals: &'a Mutex<Vec<u64>>,
    /// Streamed recording: per thread, the spikes and probe rows of the
    /// chunk just ended, handed to thread 0 for the sink.
    pub handoff: &'a [Mutex<Chunk>],
    /// The sink's error, if writing a chunk failed (the run then stops).
    pub sink_error: &'a Mutex<Option<std::io::Error>>,
    /// The batch's spikes from other ranks (written by thread 0 between
    /// barriers at the end of a batch).
    pub remote: &'a RwLock<Remote>,
}

/// A thread's part of a chunk of a streamed recording: its spikes, and per
/// probe its rows (`rows[step − first step][neuron]`, its own cores' ranges
/// filled, zero elsewhere).
#[derive(Default)]
pub struct Chunk {
    pub spikes: Vec<SpikeEvent>,
    pub probes: Vec<Vec<Vec<i32>>>,
}

/// Per-thread state: its cores and what it counts and records.
pub struct Worker<'a> {
    /// Index of the first of its cores in the machine.
    pub first: usize,
    pub cores: &'a mut [Core],
    pub counts: Vec<Counts>,
    pub busy: Vec<f64>,
    pub max_step: Vec<f64>,
    /// Per step of the batch (`slot × cores + core`): each core's time
    /// computing and sending, and its arrivals: packets received and
    /// synaptic events (their time and counts are added once per step, when
    /// the batch is settled, not per packet).
    send_ns: Vec<f64>,
    rx_packets: Vec<u64>,
    /// Multicast packets among them, and those that found a row (the rest
    /// count as `packets_no_row` at the end of the step: an arrival is one
    /// increment in a dense array rather than in the core's counters).
    rx_mc: Vec<u64>,
    rx_rows: Vec<u64>,
    /// This step's spikes per source core with one route (machine-wide
    /// index), and the cores with any.
    src_hits: Vec<u32>,
    src_touched: Vec<u32>,
    /// Per such core, the group of sources whose routes reach the same
    /// cores of this thread (found once, not per step): a population's
    /// cores usually share one tree's destinations, so a step adds their
    /// packets up per group and walks each group's destinations once.
    dest_group: Vec<u32>,
    /// Per group: a source of it and its destinations' range in that
    /// source's `Route::cores`; this step's packets, and the groups with any.
    groups: Vec<(u32, u32, u32)>,
    group_hits: Vec<u64>,
    groups_touched: Vec<u32>,
    rx_events: Vec<u64>,
    /// Per core: its inputs' i32s per ring slot (ports × padded neurons).
    slot_len: Vec<usize>,
    /// Per core: its update time when every neuron's update is a whole one
    /// (profiles without idle updates), found once rather than converting
    /// its counts to floating point every step.
    full_update_ns: Vec<f64>,
    /// This thread's cores' part of each ring slot, and where that part
    /// starts in a slot (`RingSlot`).
    ring: Vec<RingSlot<'a>>,
    in_base: usize,
    flags: Vec<u8>,
    /// The step's spikes of every thread (delivery's list, reused).
    step_spikes: Vec<(u32, u32)>,
    /// Among several threads: per source core, per neuron, its arrivals at
    /// this thread's cores, `[a, b)` in `Shared::spans`, and their synapses
    /// `[a, b)` in the arena (empty with one thread, whose arrivals are all
    /// of a neuron's: `Fanout`). Found at the neuron's first spike
    /// (`OWN_UNSET` before: the 1M-neuron ring took 0.2 s to fill them all
    /// at the start), not searched for at every spike, and one line gives
    /// both, so a spike's spans and synapses are requested from memory at
    /// once (CUBA's spikes ~20 ns a step less on each of two threads).
    own_at: Vec<Vec<[u32; 4]>>,
    /// This thread's spikes of the step (one process): no lock between it
    /// and its compute, send and delivery; other threads get them with its
    /// post, or past what that holds from its `Ctx::bufs` list, copied
    /// before posting.
    own: Vec<(u32, u32)>,
    pub spikes: Vec<SpikeEvent>,
    /// Thread 0 of a streamed recording: a chunk's spikes of all threads.
    merged: Vec<SpikeEvent>,
    /// Its slowest core's time in the step last settled.
    settled_max: f64,
    pub probes: Vec<ProbeTrace>,
    /// The step of `probes[_].values[0]` (0 unless the recording is streamed).
    probe_base: u64,
    /// Per point of the per-step series (when recorded): its cores' counts.
    pub bin_counts: Vec<Counts>,
    /// Its counts' totals at the end of the previous step.
    prev_total: Counts,
    /// Buffers of the learning engine.
    scratch: crate::learning::Scratch,
    /// Thread 0's step and network accounting, from `Ctx::prepare` to `Ctx::work`.
    acc: Option<super::steps::StepAcc>,
    net: Option<Net>,
    /// Whether any of its cores has an STDP set.
    has_stdp: bool,
}

impl<'a> Worker<'a> {
    /// Called on a thread of the worker's own (not the caller's: see
    /// `engine::run_inner`): what it allocates (its ring, its cores' state
    /// arrays, its counters) lies apart from other threads' and from the
    /// data they all read.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        first: usize,
        cores: &'a mut [Core],
        home: Vec<&'a mut [i32]>,
        in_base: usize,
        max_n: usize,
        rec: &Recording,
        every: usize,
        ring_copy_max: usize,
    ) -> Worker<'a> {
        let nc = cores.len();
        let copy = home.iter().map(|r| r.len() * 4).sum::<usize>() <= ring_copy_max;
        let ring = home.into_iter().map(|h| if copy { RingSlot::Own(LineVec::from(&h[..]), h) } else { RingSlot::Home(h) }).collect();
        // The state arrays were allocated at load, every core's next to the
        // last: copied here, a thread's lie together and apart from the
        // others' (one of CUBA's cores whose arrays followed another
        // thread's ran 1.5× slower).
        for c in cores.iter_mut() {
            if let Run::Kernel { data, .. } = &mut c.run {
                data.state = data.state.iter().map(|s| LineVec::from(&s[..])).collect();
            }
        }
        let per_batch = nc * every;
        let slot_len: Vec<usize> = cores.iter().map(|c| c.ports * padded(c.n)).collect();
        let has_stdp = cores.iter().any(|c| c.plastic.iter().any(|p| matches!(p.engine, crate::learning::Engine::Stdp(_))));
        Worker {
            first,
            cores,
            counts: vec![Counts::default(); nc],
            busy: vec![0.0; nc],
            max_step: vec![0.0; nc],
            send_ns: vec![0.0; per_batch],
            rx_packets: vec![0; per_batch],
            rx_mc: vec![0; per_batch],
            src_hits: Vec::new(),
            src_touched: Vec::new(),
            dest_group: Vec::new(),
            groups: Vec::new(),
            group_hits: Vec::new(),
            groups_touched: Vec::new(),
            rx_rows: vec![0; per_batch],
            rx_events: vec![0; per_batch],
            slot_len,
            full_update_ns: Vec::new(),
            ring,
            in_base,
            flags: vec![0; max_n / 4 + 8],
            step_spikes: Vec::new(),
            own: Vec::new(),
            own_at: Vec::new(),
            spikes: Vec::new(),
            merged: Vec::new(),
            settled_max: 0.0,
            probes: rec.probes.iter().map(|&(pop, slot)| ProbeTrace { pop, slot, values: Vec::new() }).collect(),
            probe_base: 0,
            bin_counts: Vec::new(),
            prev_total: Counts::default(),
            scratch: Default::default(),
            has_stdp,
            acc: None,
            net: None,
        }
    }
}

/// A thread's part of a ring slot. Its own copy, made on its thread when the
/// run starts and written back into the machine's ring (`home`) when it ends,
/// so that no hardware prefetcher streaming through one thread's inputs runs
/// on into another's (the slots lie end to end in the machine's ring: the
/// first core of each thread ran 20–35% slower); or, for a ring too large to
/// hold twice (`Machine::ring_copy_max`), the machine's memory itself.
pub enum RingSlot<'a> {
    Own(LineVec<i32>, &'a mut [i32]),
    Home(&'a mut [i32]),
}

impl std::ops::Deref for RingSlot<'_> {
    type Target = [i32];
    fn deref(&self) -> &[i32] {
        match self {
            RingSlot::Own(v, _) => v,
            RingSlot::Home(h) => h,
        }
    }
}

impl std::ops::DerefMut for RingSlot<'_> {
    fn deref_mut(&mut self) -> &mut [i32] {
        match self {
            RingSlot::Own(v, _) => v,
            RingSlot::Home(h) => h,
        }
    }
}

/// Thread 0's accounting of the network: per step of the batch its link
/// loads and longest path, and the run's link totals.
struct Net {
    slots: Vec<NetSlot>,
    link_totals: Vec<u64>,
    /// Per-destination model without link contention: spikes per source
    /// neuron, expanded into link totals once at the end.
    spikes_of: Vec<Vec<u32>>,
}

/// A step's network: packets per link, the links with any, the longest path.
#[derive(Default)]
struct NetSlot {
    link_step: Vec<u32>,
    touched: Vec<u32>,
    latency: f64,
}

impl NetSlot {
    #[inline]
    fn load(&mut self, l: usize) {
        self.load_n(l, 1);
    }
    #[inline]
    fn load_n(&mut self, l: usize, n: u32) {
        if self.link_step[l] == 0 {
            self.touched.push(l as u32);
        }
        self.link_step[l] += n;
    }
    /// The step's loads (link, packets) onto `loads`; they join the totals.
    fn end_step_loads(&mut self, loads: &mut Vec<(u32, u32)>, totals: &mut [u64]) {
        loads.extend(self.touched.iter().map(|&l| (l, self.link_step[l as usize])));
        self.end_step(totals);
    }
    /// The busiest link's packets this step; the step's loads join the totals.
    fn end_step(&mut self, totals: &mut [u64]) -> u32 {
        let mut busiest = 0u32;
        for &l in &self.touched {
            let l = l as usize;
            busiest = busiest.max(self.link_step[l]);
            totals[l] += self.link_step[l] as u64;
            self.link_step[l] = 0;
        }
        self.touched.clear();
        self.latency = 0.0;
        busiest
    }
}

impl Ctx<'_> {
    /// Allocates what thread `self.t` keeps for the run (its tables of
    /// destinations; on thread 0 the step and network accounting, when
    /// `accounts`). Called on the thread that built the worker (see
    /// `Worker::new`), before `work`.
    pub fn prepare(&self, w: &mut Worker, accounts: bool) {
        let s = self.s;
        let per_step = s.rec.per_step;
        if per_step {
            w.bin_counts = vec![Counts::default(); s.steps.div_ceil(super::steps::series_bin(s.steps)) as usize];
            crate::lines::map_now(&mut w.bin_counts);
        }
        w.src_hits = vec![0; s.n_cores];
        w.full_update_ns = w.cores.iter().enumerate().map(|(ci, c)| s.costs.update_ns(w.first + ci, c.n as u64, c.n as u64)).collect();
        {
            let mut seen: std::collections::HashMap<&[u32], u32> = std::collections::HashMap::new();
            w.dest_group = s
                .routes
                .iter()
                .enumerate()
                .map(|(src, rs)| match rs.as_slice() {
                    [r] => {
                        let x = self.own(&r.dests, |d| d.core);
                        let n = seen.len() as u32;
                        let g = *seen.entry(&r.cores[x.clone()]).or_insert(n);
                        if g == n {
                            w.groups.push((src as u32, x.start as u32, x.end as u32));
                        }
                        g
                    }
                    _ => u32::MAX,
                })
                .collect();
            w.group_hits = vec![0; w.groups.len()];
        }
        // Steps are accounted at rank 0 (the others send it their figures).
        w.acc = (self.t == 0 && per_step && accounts).then(|| super::steps::StepAcc::new(s.steps, s.costs, s.timing));
        w.net = (self.t == 0).then(|| Net {
            slots: (0..s.slots).map(|_| NetSlot { link_step: vec![0; s.n_links], ..NetSlot::default() }).collect(),
            link_totals: vec![0; s.n_links],
            spikes_of: match &s.costs.direct {
                Some(d) if s.costs.link_packet == 0.0 => d.iter().map(|x| vec![0; x.per_neuron.len()]).collect(),
                _ => Vec::new(),
            },
        });
        if w.has_stdp {
            w.scratch.arena = crate::learning::StdpArena::build(w.cores, w.first, s.stdp_subs);
        }
        if s.threads > 1 && s.spans.len() < u32::MAX as usize {
            w.own_at = s.fanout.iter().map(|f| vec![OWN_UNSET; f.neurons()]).collect();
        }
    }

    /// Runs the steps on thread `self.t` with a worker `prepare`d for it.
    pub fn work(&self, w: &mut Worker, progress: &mut dyn FnMut(u64), mut sink: Option<&mut dyn super::RecordSink>, mut link: Option<&mut Link>) {
        let s = self.s;
        let (mut acc, mut net) = (w.acc.take(), w.net.take());
        let mut ran = 0;
        for step in 0..s.steps {
            ran = step + 1;
            let par = (step & 1) as usize;
            let buf = &self.bufs[s.buf_at(step, self.t)];
            if !s.ranked {
                // Each lock taken and released is an atomic read-modify-write
                // (a store-buffer drain), two per use, in every step's path: the
                // step's spikes go through the shared list only when the post
                // cannot carry them.
                let mut out = std::mem::take(&mut w.own);
                out.clear();
                self.compute(w, step, &mut out);
                if s.threads > 1 && out.len() > POST_SPIKES {
                    // invariant: no thread panics while holding a spike buffer (compute and send return no errors; a panic is a bug and ends the run)
                    let mut shared = buf.write().expect("no thread panics holding a spike buffer");
                    shared.clear();
                    shared.extend_from_slice(&out);
                }
                // Other threads go on while this one charges its spikes.
                self.posts.post(self.t, step, &out, w.settled_max.to_bits());
                self.posts.fetch(self.t, step);
                self.send(w, step, &out);
                w.own = out;
                if s.defer_settle && step > 0 {
                    self.settle_step(w, step - 1, net.as_mut(), acc.as_mut(), None);
                }
                self.posts.wait(self.t, step);
                // Every other thread is past its reads of step - 1's posts.
                self.posts.claim(self.t, step + 1);
            } else {
                {
                    // invariant: no thread panics while holding a spike buffer (compute and send return no errors; a panic is a bug and ends the run)
                    let mut out = buf.write().expect("no thread panics holding a spike buffer");
                    out.clear();
                    self.compute(w, step, &mut out);
                }
                // invariant: no thread panics while holding a spike buffer (compute and send return no errors; a panic is a bug and ends the run)
                self.send(w, step, &buf.read().expect("no thread panics holding a spike buffer"));
                self.barrier.wait();
                // Thread 0 keeps the step's spikes for the other ranks and, at
                // the end of a batch, trades them while the other threads wait.
                let end = s.batch_end(step);
                if let Some(l) = link.as_deref_mut() {
                    self.collect(l, step);
                    if end {
                        self.exchange(l, step, par, acc.as_mut());
                    }
                }
                if end {
                    self.barrier.wait();
                }
            }
            // Every thread has settled the step before: its slowest core is known.
            if let Some(a) = acc.as_mut() {
                // A post carries the step its thread settled last: the one
                // before, or the one before that when settling is deferred.
                if let Some(&(st, net_ns, own_ns)) = a.pending.front().filter(|p| s.ranked || p.0 + s.settled_lag() == step) {
                    a.pending.pop_front();
                    let core_ns = if s.ranked {
                        f64::from_bits(self.core_max[s.core_max_at(st)].swap(0, Ordering::AcqRel))
                    } else {
                        (0..s.threads).filter(|&tb| tb != self.t).map(|tb| f64::from_bits(self.posts.before(tb, step))).fold(own_ns, f64::max)
                    };
                    a.account(st, core_ns, net_ns);
                }
            }
            self.deliver(w, step, par, net.as_mut());
            self.settle(w, step, net.as_mut(), acc.as_mut(), link.as_deref_mut());
            if let Some(every) = s.rec.chunk_steps {
                if (step + 1) % every == 0 || step + 1 == s.steps {
                    self.stream(w, step + 1, &mut sink, link.as_deref_mut());
                }
            }
            if (step & 1023) == 1023 {
                if self.t == 0 {
                    progress(step + 1);
                    if self.stop.is_some_and(|f| f.load(Ordering::Relaxed)) {
                        // fetch_min: once named, the step stays (every thread ends there).
                        self.stop_at.fetch_min(step + 1024, Ordering::Release);
                    }
                }
                if step >= self.stop_at.load(Ordering::Acquire) {
                    break;
                }
            }
            if self.failed.load(Ordering::Acquire) {
                break;
            }
        }
        if s.rec.per_step && ran > 0 && ran < s.steps && ran % super::steps::series_bin(s.steps) != 0 {
            // A run stopped early (a sink's error): the bin it stopped in.
            self.close_bin(w, ran - 1);
        }
        if s.defer_settle && ran > 0 {
            self.settle_step(w, ran - 1, net.as_mut(), acc.as_mut(), None);
        }
        // Pending inputs go back to the machine, where `input_in_flight`
        // reads them (a second run is refused: `Machine::begin_run`).
        for r in &mut w.ring {
            if let RingSlot::Own(own, home) = r {
                home.copy_from_slice(own);
            }
        }
        if w.has_stdp {
            let arena = std::mem::take(&mut w.scratch.arena);
            arena.write_back(w.cores);
        }
        if let Some(mut net) = net {
            self.expand_direct_totals(&mut net);
            progress(s.steps);
            // invariant: no thread panics while holding step_acc or link_totals (each is held for one assignment; a panic elsewhere
            // is a bug and ends the run)
            *self.step_acc.lock().expect("no thread panics holding step_acc") = acc;
            *self.link_totals.lock().expect("no thread panics holding link_totals") = net.link_totals;
        }
    }

    /// Phase 1: every core of this thread runs its kernel (or replays its
    /// schedule) and lists its spikes in `out`; updates and instructions are
    /// counted and charged, probes read.
    /// Ends a chunk of a streamed recording at step `end`: every thread hands
    /// over its spikes and probe rows; thread 0 merges them (spikes sorted,
    /// probe rows summed: each neuron's value comes from one thread, the
    /// others hold 0) and gives them to the sink. A sink error sets `failed`
    /// before the second barrier, so every thread stops at the same step.
    fn stream(&self, w: &mut Worker, end: u64, sink: &mut Option<&mut dyn super::RecordSink>, mut link: Option<&mut Link>) {
        {
            // invariant: no thread panics holding its handoff slot (it is held for one assignment)
            let mut h = self.handoff[self.t].lock().expect("no thread panics holding a handoff slot");
            // The slot's list comes back emptied by thread 0 (its memory
            // kept: no page faults refilling it in the next chunk).
            std::mem::swap(&mut h.spikes, &mut w.spikes);
            h.probes = w.probes.iter_mut().map(|p| std::mem::take(&mut p.values)).collect();
        }
        let first = w.probe_base;
        w.probe_base = end;
        self.barrier.wait();
        if self.t == 0 {
            let mut spikes = std::mem::take(&mut w.merged);
            let rows = (end - first) as usize;
            let mut probes: Vec<Vec<Vec<i32>>> = self.s.probe_sizes.iter().map(|&n| vec![vec![0; n]; rows]).collect();
            let mut runs = Vec::with_capacity(self.handoff.len());
            for slot in self.handoff {
                // invariant: no thread panics holding its handoff slot (it is held for one assignment)
                let mut h = slot.lock().expect("no thread panics holding a handoff slot");
                runs.push(std::mem::take(&mut h.spikes));
                for (dst, src) in probes.iter_mut().zip(&h.probes) {
                    for (d, s) in dst.iter_mut().zip(src) {
                        for (x, y) in d.iter_mut().zip(s) {
                            *x = x.wrapping_add(*y);
                        }
                    }
                }
                h.probes.clear();
            }
            let mut failed = false;
            // Other ranks' parts go to rank 0, which writes.
            let write = match link.as_deref_mut() {
                Some(l) => {
                    spikes.clear();
                    for r in &mut runs {
                        spikes.append(r);
                    }
                    let write = self.gather_chunk(l, rows, &mut spikes, &mut probes);
                    spikes.sort();
                    write
                }
                None => {
                    merge_runs(&mut runs, &mut spikes);
                    true
                }
            };
            // The lists go back to their threads emptied, their memory kept.
            for (slot, mut r) in self.handoff.iter().zip(runs) {
                r.clear();
                // invariant: no thread panics holding its handoff slot (it is held for one assignment)
                slot.lock().expect("no thread panics holding a handoff slot").spikes = r;
            }
            if write {
                if let Some(sink) = sink.as_mut() {
                    if let Err(e) = sink.chunk(first, &spikes, &probes) {
                        // invariant: no thread panics holding sink_error (it is held for one assignment)
                        *self.sink_error.lock().expect("no thread panics holding sink_error") = Some(e);
                        failed = true;
                    }
                }
            }
            w.merged = spikes;
            if let Some(l) = link {
                // Every rank stops at the same step if rank 0 could not write.
                let out: Vec<Vec<u32>> = (0..l.size).map(|r| if l.rank == 0 && r != 0 { vec![failed as u32] } else { Vec::new() }).collect();
                let inb = l.exchange_owned(out);
                failed |= l.rank != 0 && inb[0].first() == Some(&1);
            }
            if failed {
                self.failed.store(true, Ordering::Release);
            }
        }
        self.barrier.wait();
    }

    fn compute(&self, w: &mut Worker, step: u64, out: &mut Vec<(u32, u32)>) {
        let s = self.s;
        let st = step as u32;
        let rx = s.slot(step) * w.cores.len();
        for (ci, core) in w.cores.iter_mut().enumerate() {
            let gi = w.first + ci;
            let cnt = &mut w.counts[ci];
            let n = core.n;
            let mut t_ns = 0.0;
            match &mut core.run {
                Run::Kernel { kernel, data } => {
                    let stride = padded(n);
                    let k = &s.kernels[*kernel];
                    let ng = groups(n);
                    let flags = &mut w.flags[..ng];
                    if core.ports > 0 {
                        let sl = (step as usize) & (w.ring.len() - 1);
                        let at = core.in_off - w.in_base;
                        let slot = &mut w.ring[sl][at..at + w.slot_len[ci]];
                        s.runner.run(gi, k, data, slot, stride, flags);
                    } else {
                        s.runner.run(gi, k, data, &mut [], stride, flags);
                    }
                    // Lanes past the last neuron are padding.
                    if n % 4 != 0 {
                        let keep = (1u8 << (n % 4)) - 1;
                        flags[ng - 1] &= keep | (keep << 4);
                    }
                    let active = scan_flags(flags, |i| out.push((gi as u32, i)));
                    // Without idle updates every update is a whole one (the JIT
                    // compiled for such a profile leaves the activity bits 0).
                    let active = if s.idle_updates { active } else { n as u64 };
                    let nn = n as u64;
                    cnt.updates_active += active;
                    cnt.updates_idle += nn - active;
                    cnt.instr_alu += nn * core.instr.alu as u64;
                    cnt.instr_mul += nn * core.instr.mul as u64;
                    cnt.instr_mem += nn * core.instr.mem as u64;
                    cnt.instr_spike += nn * core.instr.spike as u64;
                    // Spike generation is charged in `send`, per spike.
                    t_ns += if s.idle_updates { s.costs.update_ns(gi, nn, active) } else { w.full_update_ns[ci] };
                    if !core.gap_out.is_empty() {
                        // Electrical synapses: this step's values go out, one packet each.
                        let vals = &s.gap_vals[(step & 1) as usize];
                        for &(nr, slot, ix) in &core.gap_out {
                            vals[ix as usize].store(data.state[slot as usize][nr as usize], Ordering::Relaxed);
                        }
                        cnt.packets_out += core.gap_out.len() as u64;
                        // Sent as spikes' packets are (`send`): counted and charged
                        // energy, their time was left out (docs/emulator.md: send =
                        // … + packets out × packet_out_ns).
                        t_ns += core.gap_out.len() as f64 * s.costs.pk_out;
                    }
                    let row = (step - w.probe_base) as usize;
                    for (pi, pr) in w.probes.iter_mut().enumerate() {
                        if pr.pop == core.pop {
                            let size = s.probe_sizes[pi];
                            while pr.values.len() <= row {
                                pr.values.push(vec![0; size]);
                            }
                            let f = s.first_of[gi] as usize;
                            pr.values[row][f..f + n].copy_from_slice(&data.state[pr.slot as usize][..n]);
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
            w.send_ns[rx + ci] = t_ns;
        }
    }

    /// Each spike of this thread's cores, charged at its source: the spike,
    /// the packets' paths through the network, and its recording.
    fn send(&self, w: &mut Worker, step: u64, out: &[(u32, u32)]) {
        let s = self.s;
        let c = s.costs;
        let rx = s.slot(step) * w.cores.len();
        for &(gi, i) in out {
            let ci = gi as usize - w.first;
            let k = rx + ci;
            for (si, p) in w.cores[ci].plastic.iter_mut().enumerate() {
                if let Some(n) = p.post_spike(i, step, s.rules) {
                    w.scratch.arena.post_spike(ci, si, i, n);
                }
            }
            let core = &w.cores[ci];
            let cnt = &mut w.counts[ci];
            cnt.spikes += 1;
            if matches!(core.run, Run::Kernel { .. }) {
                cnt.neuron_spikes += 1;
                w.send_ns[k] += c.spike;
            }
            match &c.direct {
                None => {
                    let rs = &s.routes[gi as usize];
                    if !rs.is_empty() {
                        let r = route_of(rs, i as usize);
                        cnt.packets_out += 1;
                        cnt.router_passes += r.routers as u64;
                        cnt.hops_ew += r.hops[0] as u64;
                        cnt.hops_ns += r.hops[1] as u64;
                        cnt.hops_diag += r.hops[2] as u64;
                        cnt.chip_crossings += r.chip_crossings as u64;
                        w.send_ns[k] += c.pk_out;
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
                        w.send_ns[k] += t.messages as f64 * c.pk_out;
                    }
                }
            }
            if s.rec.spikes.get(core.pop as usize).copied().unwrap_or(false) {
                w.spikes.push(SpikeEvent { step: step as u32, pop: core.pop, neuron: s.first_of[gi as usize] + i });
            }
        }
    }

    /// Phase 2: every spike of the step, from every thread's list, delivered
    /// into this thread's cores, and at the end of a batch the other ranks'
    /// spikes of each of its steps; thread 0 also accounts the network (link
    /// loads, longest path) of each step.
    fn deliver(&self, w: &mut Worker, step: u64, par: usize, mut net: Option<&mut Net>) {
        let s = self.s;
        if s.has_gaps {
            // Electrical synapses: Σ weight × v per input, scaled by 2^-shift, into the next step's slot.
            let rx = s.slot(step) * w.cores.len();
            let vals = &s.gap_vals[par];
            let mask = w.ring.len() - 1;
            let next = &mut w.ring[(step as usize + 1) & mask];
            for (ci, core) in w.cores.iter().enumerate() {
                if core.gap_in.is_empty() {
                    continue;
                }
                let at = core.in_off - w.in_base;
                crate::machine::gap_sums(
                    &core.gap_in,
                    |src| vals[src as usize].load(Ordering::Relaxed),
                    |k, x| {
                        next[at + k] = next[at + k].wrapping_add(x);
                    },
                );
                w.rx_packets[rx + ci] += core.gap_in_sources as u64;
                w.rx_events[rx + ci] += core.gap_in.len() as u64;
            }
        }
        // invariant: thread 0 holds `remote` only between the batch's two barriers, and panics nowhere while holding it
        let remote = (s.ranked && s.batch_end(step)).then(|| self.remote.read().expect("no thread panics holding the remote spikes"));
        let (all, steps): (&[Spike], &[RemoteStep]) = match &remote {
            Some(r) => (&r.spikes, &r.steps),
            None => (&[], &[]),
        };
        if s.defer_local {
            // The whole batch, step by step (every delay reaches past its end).
            if s.batch_end(step) {
                for t in step - step % s.every..=step {
                    self.deliver_step(w, t, all, steps.iter().find(|x| x.0 == t), net.as_deref_mut());
                }
            }
            return;
        }
        // The batch's earlier steps' spikes from other ranks, each into the
        // ring slots of its own step plus its delays (D > 1: every such delay
        // reaches past this step, and nothing learns, so the order of
        // arrivals is free).
        for &(t, a, _, b) in steps.iter().filter(|x| x.0 != step) {
            self.deliver_spikes(w, &all[a..b], t, true, net.as_deref_mut());
            self.deliver_sources(w, t, net.as_deref_mut());
        }
        self.deliver_step(w, step, all, steps.iter().find(|x| x.0 == step), net);
    }

    /// Step `t`'s spikes in core order: other ranks' of lower cores
    /// (`remote`, from `all`), this rank's, the rest (learning may see the
    /// order; the ring's sums do not).
    fn deliver_step(&self, w: &mut Worker, t: u64, all: &[Spike], remote: Option<&RemoteStep>, mut net: Option<&mut Net>) {
        let s = self.s;
        let (before, after): (&[Spike], &[Spike]) = match remote {
            Some(&(_, a, mid, b)) => (&all[a..mid], &all[mid..b]),
            None => (&[], &[]),
        };
        self.deliver_spikes(w, before, t, true, net.as_deref_mut());
        // Every thread's spikes in one list, in thread order, so that one
        // prefetch batch spans them all (`prefetch_batch`).
        let mut spikes = std::mem::take(&mut w.step_spikes);
        spikes.clear();
        for tb in 0..s.threads {
            if !s.ranked {
                // One process: this step only (`deliver`).
                if tb == self.t {
                    spikes.extend_from_slice(&w.own);
                    continue;
                }
                if self.posts.spikes(tb, t, &mut spikes) {
                    continue;
                }
            }
            // invariant: no thread panics while holding a spike buffer (compute and send return no errors; a panic is a bug and ends the run)
            spikes.extend_from_slice(&self.bufs[s.buf_at(t, tb)].read().expect("no thread panics holding a spike buffer"));
        }
        self.deliver_spikes(w, &spikes, t, false, net.as_deref_mut());
        w.step_spikes = spikes;
        self.deliver_spikes(w, after, t, true, net.as_deref_mut());
        self.deliver_sources(w, t, net);
    }

    /// Spikes of step `step` (`remote`: from other ranks) into this thread's
    /// cores' ring slots; their arrivals counted in the step's slot.
    fn deliver_spikes(&self, w: &mut Worker, spikes: &[Spike], step: u64, remote: bool, net: Option<&mut Net>) {
        let s = self.s;
        let lo = s.owner_start[self.t];
        let sl = s.slot(step);
        let rx = sl * w.cores.len();
        // The network is accounted at the source's rank (multicast: its
        // routes are known everywhere), per-destination messages at each
        // destination's (a rank may know only its own cores' rows).
        let mut net = if remote && !(s.ranked && s.costs.direct.is_some()) { None } else { net };
        for (j, &(src, i)) in spikes.iter().enumerate() {
            if j % PREFETCH_BATCH == 0 {
                self.prefetch_batch(&w.own_at, &spikes[j..spikes.len().min(j + PREFETCH_BATCH)]);
            }
            let subs = &s.pre_subs[src as usize];
            if !subs.is_empty() {
                self.deliver_plastic(w, subs.of(i), step);
            }
            if w.has_stdp {
                w.scratch.arena.spike(src as usize, i);
            }
            let f = &s.fanout[src as usize];
            if let Some(direct) = &s.costs.direct {
                let all = f.spans(s.spans);
                let range = f.range(i as usize);
                let spans = &all[range.clone()];
                let own = self.own_spans(spans);
                // Per-destination messages: each core with a row receives one.
                let ds = &direct[src as usize];
                if let (Some(net), true) = (net.as_deref_mut(), s.ranked) {
                    // This rank's destinations' messages.
                    let (rlo, rhi) = s.rank_cores;
                    let a = range.start + all[range.clone()].partition_point(|d| (d.core as usize) < rlo);
                    let b = range.start + all[range.clone()].partition_point(|d| (d.core as usize) < rhi);
                    let mut any = false;
                    let ns = &mut net.slots[sl];
                    for (si, sp) in all.iter().enumerate().take(b).skip(a) {
                        if sp.len > 0 {
                            let p = &ds.paths[ds.of_span[si] as usize];
                            ns.latency = ns.latency.max(p.latency_ns);
                            any = true;
                            if s.costs.link_packet != 0.0 {
                                for &l in &p.links {
                                    ns.load(l.index());
                                }
                            }
                        }
                    }
                    if any && s.costs.link_packet == 0.0 {
                        net.spikes_of[src as usize][i as usize] += 1;
                    }
                } else if let Some(net) = net.as_deref_mut() {
                    if let Some(pn) = ds.per_neuron.get(i as usize) {
                        let ns = &mut net.slots[sl];
                        ns.latency = ns.latency.max(pn.latency_ns);
                        if s.costs.link_packet != 0.0 {
                            // Per-step link loads matter for latency: walk every path.
                            for si in range {
                                if all[si].len > 0 {
                                    for &l in &ds.paths[ds.of_span[si] as usize].links {
                                        ns.load(l.index());
                                    }
                                }
                            }
                        } else {
                            // Only the run's totals matter: count spikes, expand at the end.
                            net.spikes_of[src as usize][i as usize] += 1;
                        }
                    }
                }
                for sp in &spans[own.clone()] {
                    if sp.len == 0 {
                        continue;
                    }
                    let ci = rx + sp.core as usize - lo;
                    w.rx_packets[ci] += 1;
                    w.rx_events[ci] += sp.len as u64;
                }
                self.apply(w, f.syns_of(s.spans, i as usize, own), step);
                continue;
            }
            let rs = &s.routes[src as usize];
            if rs.is_empty() {
                continue;
            }
            if rs.len() == 1 {
                // One route for all the core's keys: its arrivals and links
                // are counted once per step, times its spikes (`deliver_sources`).
                let h = &mut w.src_hits[src as usize];
                if *h == 0 {
                    w.src_touched.push(src);
                }
                *h += 1;
            } else {
                let r = route_of(rs, i as usize);
                if let Some(net) = net.as_deref_mut() {
                    let ns = &mut net.slots[sl];
                    ns.latency = ns.latency.max(r.latency_ns);
                    for &l in &r.links {
                        ns.load(l.index());
                    }
                }
                // Every destination of the route receives the packet (and spends
                // the per-packet time); those with a row apply its synapses.
                for d in &r.dests[self.own(&r.dests, |d| d.core)] {
                    w.rx_mc[rx + d.core as usize - lo] += 1;
                }
            }
            let (mine, syns) = match w.own_at.get_mut(src as usize).and_then(|at| at.get_mut(i as usize)) {
                Some(e) => {
                    if *e == OWN_UNSET {
                        *e = self.own_at(f, i as usize);
                    }
                    let [a, b, ya, yb] = *e;
                    (&s.spans[a as usize..b as usize], ya as usize..yb as usize)
                }
                None => {
                    let spans = f.of(s.spans, i as usize);
                    let own = self.own_spans(spans);
                    (&spans[own.clone()], f.syns_of(s.spans, i as usize, own))
                }
            };
            for sp in mine {
                let ci = rx + sp.core as usize - lo;
                w.rx_rows[ci] += (sp.len > 0) as u64;
                w.rx_events[ci] += sp.len as u64;
            }
            self.apply(w, syns, step);
        }
    }

    /// Sources with one route whose spikes of step `step` were delivered:
    /// each destination receives their k packets; the links carry them (at
    /// the source's rank).
    fn deliver_sources(&self, w: &mut Worker, step: u64, mut net: Option<&mut Net>) {
        let s = self.s;
        let lo = s.owner_start[self.t];
        let sl = s.slot(step);
        let rx = sl * w.cores.len();
        let (rlo, rhi) = s.rank_cores;
        for &src in &w.src_touched {
            let k = std::mem::take(&mut w.src_hits[src as usize]);
            let r = &s.routes[src as usize][0];
            if let (Some(net), true) = (net.as_deref_mut(), (rlo..rhi).contains(&(src as usize))) {
                let ns = &mut net.slots[sl];
                ns.latency = ns.latency.max(r.latency_ns);
                for &l in &r.links {
                    ns.load_n(l.index(), k);
                }
            }
            let g = w.dest_group[src as usize] as usize;
            if w.group_hits[g] == 0 {
                w.groups_touched.push(g as u32);
            }
            w.group_hits[g] += k as u64;
        }
        w.src_touched.clear();
        for &g in &w.groups_touched {
            let k = std::mem::take(&mut w.group_hits[g as usize]);
            let (src, a, b) = w.groups[g as usize];
            for &c in &s.routes[src as usize][0].cores[a as usize..b as usize] {
                w.rx_mc[rx + c as usize - lo] += k;
            }
        }
        w.groups_touched.clear();
    }

    /// Delivery waits on memory: each spike's spans and synapses start at
    /// a place no hardware prefetcher can guess, found through the neuron's
    /// place in its core's fan-out (`Fanout::at`, which gives both). The
    /// misses of a batch of spikes are requested together, one level at a
    /// time, so that they overlap rather than follow each other: a step with
    /// few spikes (CUBA: two or three) waits about two misses instead of two
    /// per spike, and every thread, which walks every spike, waits that
    /// much less. A thread among several finds both its part of a neuron's
    /// spans and its synapses in its `Worker::own_at` entry (a neuron's first
    /// spike: as one thread would, its spans, and its synapses when few);
    /// under the per-destination cost model it takes a neuron's synapses whole
    /// when they are few (`PREFETCH_WHOLE`), else only those at its cores,
    /// found from the spans (a third level).
    fn prefetch_batch(&self, own_at: &[Vec<[u32; 4]>], spikes: &[(u32, u32)]) {
        let s = self.s;
        if !own_at.is_empty() && s.costs.direct.is_none() {
            // Among several threads: one line gives both, the arrivals at this
            // thread's cores and their synapses (`Worker::own_at`).
            for &(src, i) in spikes {
                prefetch_index(&own_at[src as usize], i as usize);
            }
            let mut cold = false;
            for &(src, i) in spikes {
                match own_at[src as usize].get(i as usize) {
                    Some(&OWN_UNSET) => {
                        cold = true;
                        let at = &s.fanout[src as usize].at;
                        prefetch_index(at, i as usize);
                        prefetch_index(at, i as usize + 1);
                    }
                    Some(&[a, b, ya, yb]) => {
                        prefetch_lines(s.spans, a as usize..b as usize);
                        prefetch_lines(s.arena, ya as usize..yb as usize);
                    }
                    None => {}
                }
            }
            if cold {
                // A neuron's first spike: its entry is found from all its
                // spans (searched without a miss per probe: the 1M ring's
                // first 200 steps took 25–40% longer so).
                for &(src, i) in spikes {
                    if own_at[src as usize].get(i as usize) == Some(&OWN_UNSET) {
                        self.prefetch_neuron(src, i, false);
                    }
                }
            }
            return;
        }
        for &(src, i) in spikes {
            let at = &s.fanout[src as usize].at;
            prefetch_index(at, i as usize);
            prefetch_index(at, i as usize + 1);
        }
        let mut part = false;
        for &(src, i) in spikes {
            part |= !self.prefetch_neuron(src, i, s.threads == 1);
        }
        if !part {
            return;
        }
        for &(src, i) in spikes {
            let f = &s.fanout[src as usize];
            if f.syns(i as usize).len() <= PREFETCH_WHOLE {
                continue;
            }
            let spans = f.of(s.spans, i as usize);
            prefetch_lines(s.arena, f.syns_of(s.spans, i as usize, self.own_spans(spans)));
        }
    }

    /// Requests neuron `i` of core `src`'s spans, and its synapses if `whole`
    /// or they are few (`PREFETCH_WHOLE`); whether they were requested.
    #[inline]
    fn prefetch_neuron(&self, src: u32, i: u32, whole: bool) -> bool {
        let s = self.s;
        let f = &s.fanout[src as usize];
        let r = f.range(i as usize);
        prefetch_lines(s.spans, f.base + r.start..f.base + r.end);
        let y = f.syns(i as usize);
        let all = whole || y.len() <= PREFETCH_WHOLE;
        if all {
            prefetch_lines(s.arena, y);
        }
        all
    }

    /// Thread 0, after the step's first barrier: this rank's spikes of the
    /// step that have a destination at another rank join that rank's
    /// message of the batch, as (count, (core, neuron) pairs).
    fn collect(&self, l: &mut Link, step: u64) {
        let s = self.s;
        let lo = l.bounds[l.rank];
        if step % s.every == 0 {
            for o in l.out.iter_mut() {
                o.clear();
            }
        }
        l.marks.clear();
        for o in l.out.iter_mut() {
            l.marks.push(o.len());
            o.push(0);
        }
        for tb in 0..s.threads {
            // invariant: no thread panics while holding a spike buffer (compute and send return no errors; a panic is a bug and ends the run)
            let buf = self.bufs[s.buf_at(step, tb)].read().expect("no thread panics holding a spike buffer");
            for &(src, i) in buf.iter() {
                for &r in &l.sends_to[src as usize - lo] {
                    l.out[r as usize].extend([src, i]);
                }
            }
        }
        for (o, &m) in l.out.iter_mut().zip(&l.marks) {
            o[m] = ((o.len() - m - 1) / 2) as u32;
        }
    }

    /// Thread 0, between the barriers of a batch's last step: sends each
    /// other rank the batch's spikes it needs (`collect`) and the
    /// gap-junction values it takes in, and rank 0 the batch before's
    /// figures (per step: slowest core, longest path, link loads); receives
    /// theirs. Rank 0 accounts the batch before.
    fn exchange(&self, l: &mut Link, step: u64, par: usize, acc: Option<&mut super::steps::StepAcc>) {
        let s = self.s;
        let first = step - step % s.every;
        let vals = &s.gap_vals[par];
        let per_step = s.rec.per_step;
        // The batch before's slowest core per step, read and cleared once
        // every thread has settled it (at that batch's end).
        let core_ns = |st: u64| f64::from_bits(self.core_max[s.core_max_at(st)].swap(0, Ordering::AcqRel));
        for r in 0..l.size {
            if r == l.rank {
                l.out[r].clear();
                continue;
            }
            let mut w = Words(std::mem::take(&mut l.out[r]));
            w.u32(l.gap_to[r].len() as u32);
            for &ix in &l.gap_to[r] {
                w.u32(ix);
                w.u32(vals[ix as usize].load(Ordering::Relaxed) as u32);
            }
            if r == 0 && per_step {
                l.put_figures(&mut w, core_ns);
            }
            l.out[r] = w.0;
        }
        if !per_step {
            l.pending.clear();
            l.pending_loads.clear();
        }
        l.exchange_step();
        // invariant: only thread 0 writes `remote`, between barriers, and panics nowhere while holding it
        let mut remote = self.remote.write().expect("no thread panics holding the remote spikes");
        let remote = &mut *remote;
        remote.spikes.clear();
        remote.steps.clear();
        let inb = std::mem::take(&mut l.inb);
        let mut readers: Vec<Reader> = inb.iter().map(|w| Reader::new(w)).collect();
        for t in first..=step {
            let a = remote.spikes.len();
            let mut mid = a;
            for (r, rd) in readers.iter_mut().enumerate() {
                if r == l.rank {
                    mid = remote.spikes.len();
                    continue;
                }
                let n = rd.u32() as usize;
                remote.spikes.extend(rd.take(2 * n).chunks_exact(2).map(|x| (x[0], x[1])));
            }
            remote.steps.push((t, a, mid, remote.spikes.len()));
        }
        for (r, rd) in readers.iter_mut().enumerate() {
            if r == l.rank {
                continue;
            }
            let ng = rd.u32() as usize;
            for x in rd.take(2 * ng).chunks_exact(2) {
                if let Some(v) = vals.get(x[0] as usize) {
                    v.store(x[1] as i32, Ordering::Relaxed);
                }
            }
        }
        if let (0, true, Some(a)) = (l.rank, per_step, acc) {
            l.take_figures(&mut readers[1..], core_ns, |st, core_ns, latency, busiest| a.account(st, core_ns, s.costs.net_ns(latency, busiest)));
        }
        drop(readers);
        l.inb = inb;
    }

    /// Thread 0 at the end of a streamed chunk: other ranks send their
    /// cores' spikes and probe rows to rank 0, which merges them into its
    /// own (`probes[p][row][neuron]`). Whether this rank writes (rank 0).
    fn gather_chunk(&self, l: &mut Link, rows: usize, spikes: &mut Vec<super::SpikeEvent>, probes: &mut [Vec<Vec<i32>>]) -> bool {
        let s = self.s;
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); l.size];
        if l.rank != 0 {
            let mut w = Words::default();
            super::put_recording(&mut w, spikes, probes, rows, l.bounds[l.rank]..l.bounds[l.rank + 1], s);
            out[0] = w.0;
        }
        let inb = l.exchange_owned(out);
        if l.rank != 0 {
            return false;
        }
        for (r, words) in inb.iter().enumerate().skip(1) {
            super::take_recording(&mut Reader::new(words), spikes, probes, rows, l.bounds[r]..l.bounds[r + 1], s);
        }
        true
    }

    /// A spike into the plastic synapses it feeds at this thread's cores
    /// (`subs`: the spiking neuron's subscribers).
    fn deliver_plastic(&self, w: &mut Worker, subs: &[crate::learning::PreSub], step: u64) {
        let s = self.s;
        let (lo, hi) = (s.owner_start[self.t], s.owner_start[self.t + 1]);
        for x in subs {
            let c = x.core as usize;
            if c >= lo && c < hi {
                let p = &mut w.cores[c - lo].plastic[x.set as usize];
                if x.reward {
                    p.reward_spike(x.slot, step, s.rules);
                } else {
                    p.deliver(x.slot, step, &mut w.ring, w.in_base);
                }
            }
        }
    }

    /// A spike's synapses at this thread's cores, `syns` of the arena (its
    /// rows there are consecutive: a neuron's rows are laid out in
    /// destination order, `Fanout::syns_of`): each
    /// synapse adds its weight into its input in the ring slot of its delay.
    /// The slot is looked up once per run of synapses of one delay (a
    /// projection's delays are often all equal: CUBA's delivery 4–5% faster)
    /// rather than per synapse; after a short run (delays that vary from
    /// synapse to synapse, where runs cost more than they save) the rest
    /// looks its slot up per synapse.
    #[inline]
    fn apply(&self, w: &mut Worker, syns: std::ops::Range<usize>, step: u64) {
        let mask = w.ring.len() - 1;
        let base = w.in_base;
        let mut syns = &self.s.arena[syns];
        while let Some(&first) = syns.first() {
            let d = PackedSyn(first).delay();
            let slot: &mut [i32] = &mut w.ring[(step as usize + d) & mask];
            let mut k = 0;
            while let Some(&syn) = syns.get(k) {
                let syn = PackedSyn(syn);
                if syn.delay() != d {
                    break;
                }
                let idx = syn.offset() - base;
                slot[idx] = slot[idx].wrapping_add(syn.weight());
                k += 1;
            }
            syns = &syns[k..];
            if k < SHORT_RUN {
                for &syn in syns {
                    let syn = PackedSyn(syn);
                    let slot = &mut w.ring[(step as usize + syn.delay()) & mask];
                    let idx = syn.offset() - base;
                    slot[idx] = slot[idx].wrapping_add(syn.weight());
                }
                return;
            }
        }
    }

    /// End of step: learning; at the end of a batch, each of its steps'
    /// receive times and counts per core, each core's time, the step's
    /// slowest core and counts, and on thread 0 the network's time.
    fn settle(&self, w: &mut Worker, step: u64, mut net: Option<&mut Net>, mut acc: Option<&mut super::steps::StepAcc>, mut link: Option<&mut Link>) {
        let s = self.s;
        let c = s.costs;
        let rx = s.slot(step) * w.cores.len();
        if w.has_stdp {
            let (counts, send_ns) = (&mut w.counts, &mut w.send_ns);
            crate::learning::stdp_step(
                w.cores,
                &mut w.scratch.arena,
                step,
                s.rules,
                s.kernels,
                s.runner,
                &mut w.scratch.lanes,
                &mut w.ring,
                w.in_base,
                &mut |ci, n| {
                    counts[ci].synaptic_updates += n;
                    send_ns[rx + ci] += n as f64 * c.learn;
                },
            );
        }
        for ci in 0..w.cores.len() {
            if !w.cores[ci].plastic.is_empty() {
                let n = self.learn(w, ci, step);
                w.counts[ci].synaptic_updates += n;
                w.send_ns[rx + ci] += n as f64 * c.learn;
            }
        }
        if s.batch_end(step) && !s.defer_settle {
            for t in step - step % s.every..=step {
                self.settle_step(w, t, net.as_deref_mut(), acc.as_deref_mut(), link.as_deref_mut());
            }
        }
        let bin = super::steps::series_bin(s.steps);
        if s.rec.per_step && ((step + 1) % bin == 0 || step + 1 == s.steps) {
            self.close_bin(w, step);
        }
    }

    /// The other counts of the series bin that step `step` ends: the
    /// thread's totals now minus at the bin before's end (whose arrivals
    /// `settle_step` already put in their steps). Once per bin, not per
    /// step: a step's counts change only in its own compute, send and
    /// settle, so the bin's are all in by the end of its last settle (summing
    /// every core's 19 counters took ~0.1 µs of CUBA's 2.7 µs step).
    fn close_bin(&self, w: &mut Worker, step: u64) {
        let mut tot = Counts::default();
        for cnt in &w.counts {
            tot.add(cnt);
        }
        w.bin_counts[(step / super::steps::series_bin(self.s.steps)) as usize].add(&tot.minus(&w.prev_total));
        w.prev_total = tot;
    }

    /// Step `t` of a batch ending: its arrivals per core counted, each core's
    /// time, the step's slowest core (and per-step series counts), and on
    /// thread 0 its network figures.
    fn settle_step(&self, w: &mut Worker, t: u64, net: Option<&mut Net>, acc: Option<&mut super::steps::StepAcc>, link: Option<&mut Link>) {
        let s = self.s;
        let c = s.costs;
        let sl = s.slot(t);
        let rx = sl * w.cores.len();
        let mut core_max = 0.0f64;
        let mut arrived = Counts::default();
        for ci in 0..w.cores.len() {
            let k = rx + ci;
            let (mc, np, ne) = (w.rx_mc[k], w.rx_packets[k] + w.rx_mc[k], w.rx_events[k]);
            let mut recv_ns = 0.0;
            if np != 0 || ne != 0 {
                let no_row = mc - w.rx_rows[k];
                let cnt = &mut w.counts[ci];
                cnt.packets_in += np;
                cnt.synaptic_events += ne;
                cnt.packets_no_row += no_row;
                arrived.packets_in += np;
                arrived.synaptic_events += ne;
                arrived.packets_no_row += no_row;
                w.rx_mc[k] = 0;
                w.rx_rows[k] = 0;
                w.rx_packets[k] = 0;
                w.rx_events[k] = 0;
                recv_ns = c.receive_ns(np, ne);
            }
            let x = c.core_ns(w.send_ns[k], recv_ns);
            w.busy[ci] += x;
            if x > w.max_step[ci] {
                w.max_step[ci] = x;
            }
            core_max = core_max.max(x);
        }
        if let Some(net) = net {
            let ns = &mut net.slots[sl];
            match link {
                // Rank 0 sums every rank's link loads before taking the busiest.
                Some(l) => {
                    let (a, latency) = (l.pending_loads.len(), ns.latency);
                    ns.end_step_loads(&mut l.pending_loads, &mut net.link_totals);
                    l.pending.push((t, latency, a..l.pending_loads.len()));
                }
                None => {
                    let latency = ns.latency;
                    let busiest = ns.end_step(&mut net.link_totals);
                    if let Some(a) = acc {
                        a.pending.push_back((t, c.net_ns(latency, busiest), core_max));
                    }
                }
            }
        }
        if s.rec.per_step {
            // Within one process each thread posts it with its next step
            // (`Posts`); the last step's, and a rank's, are joined here.
            if s.ranked || t + s.settled_lag() >= s.steps {
                super::steps::fetch_max(&self.core_max[s.core_max_at(t)], core_max);
            }
            w.settled_max = core_max;
            w.bin_counts[(t / super::steps::series_bin(s.steps)) as usize].add(&arrived);
            w.prev_total.add(&arrived);
        }
    }

    /// A core's learning at the end of a step; the synapses it updated.
    fn learn(&self, w: &mut Worker, ci: usize, step: u64) -> u64 {
        let s = self.s;
        let mut n = 0;
        for p in &mut w.cores[ci].plastic {
            n += p.end_step(step, s.rules, s.kernels, s.runner, &mut w.scratch);
        }
        n
    }

    /// Per-destination messages counted per source neuron: their links' totals.
    fn expand_direct_totals(&self, net: &mut Net) {
        let s = self.s;
        let Some(direct) = &s.costs.direct else { return };
        for (src, counts) in net.spikes_of.iter().enumerate() {
            let (f, ds) = (&s.fanout[src], &direct[src]);
            let all = f.spans(s.spans);
            for (i, &k) in counts.iter().enumerate() {
                if k == 0 {
                    continue;
                }
                for si in f.range(i) {
                    // Over several ranks, each expands its own cores' messages.
                    let mine = !s.ranked || (s.rank_cores.0..s.rank_cores.1).contains(&(all[si].core as usize));
                    if all[si].len > 0 && mine {
                        for &l in &ds.paths[ds.of_span[si] as usize].links {
                            net.link_totals[l.index()] += k as u64;
                        }
                    }
                }
            }
        }
    }

    /// Neuron i of the core with fan-out `f`: its arrivals at this thread's
    /// cores and their synapses (`Worker::own_at`).
    fn own_at(&self, f: &crate::machine::Fanout, i: usize) -> [u32; 4] {
        let s = self.s;
        let r = f.range(i);
        let spans = &s.spans[f.base + r.start..f.base + r.end];
        let own = self.own_spans(spans);
        let y = f.syns_of(s.spans, i, own.clone());
        [(f.base + r.start + own.start) as u32, (f.base + r.start + own.end) as u32, y.start as u32, y.end as u32]
    }

    /// The part of a spike's arrivals at this thread's cores. A rank that
    /// holds only its own cores' rows has arrivals only there: its first and
    /// last threads need no search at the rank's ends.
    #[inline]
    fn own_spans(&self, spans: &[Span]) -> std::ops::Range<usize> {
        let s = self.s;
        if !s.spans_local {
            return self.own(spans, |d| d.core);
        }
        let (lo, hi) = (s.owner_start[self.t], s.owner_start[self.t + 1]);
        let a = if lo == s.rank_cores.0 { 0 } else { spans.partition_point(|d| (d.core as usize) < lo) };
        let b = if hi == s.rank_cores.1 { spans.len() } else { spans.partition_point(|d| (d.core as usize) < hi) };
        a..b
    }

    /// The part of a list ordered by core that falls in this thread's cores
    /// (no search at either end of the machine: one thread owns every core).
    #[inline]
    fn own<T>(&self, xs: &[T], core: impl Fn(&T) -> u32) -> std::ops::Range<usize> {
        let s = self.s;
        let (lo, hi) = (s.owner_start[self.t], s.owner_start[self.t + 1]);
        let a = if lo == 0 { 0 } else { xs.partition_point(|d| (core(d) as usize) < lo) };
        let b = if hi == s.n_cores { xs.len() } else { xs.partition_point(|d| (core(d) as usize) < hi) };
        a..b
    }
}

/// `Worker::own_at` of a neuron that has not spiked yet (no span index
/// reaches `u32::MAX`: the table is kept only below that).
const OWN_UNSET: [u32; 4] = [u32::MAX; 4];

/// A run of synapses of one delay shorter than this ends `apply`'s runs:
/// its delays vary per synapse.
const SHORT_RUN: usize = 4;

/// Spikes whose memory is requested together in delivery (a batch's
/// fan-out entries, spans and synapses are in flight at once; far more
/// would push earlier ones out of the L1 before they are used).
const PREFETCH_BATCH: usize = 16;
/// A neuron's synapses that a thread among several prefetches whole (16
/// lines), rather than only those at its cores.
const PREFETCH_WHOLE: usize = 128;

/// Requests the lines of `xs[r]` (64-byte steps cross every line).
#[inline]
fn prefetch_lines<T>(xs: &[T], r: std::ops::Range<usize>) {
    if r.is_empty() {
        return;
    }
    let step = (64 / std::mem::size_of::<T>()).max(1);
    for k in r.clone().step_by(step) {
        prefetch_index(xs, k);
    }
    prefetch_index(xs, r.end - 1);
}

/// Counts the active bits and calls `spike(neuron)` for every spike bit, in neuron order.
#[inline]
fn scan_flags(flags: &[u8], mut spike: impl FnMut(u32)) -> u64 {
    const SPIKES: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    let mut active = 0u64;
    let mut chunks = flags.chunks_exact(8);
    let mut base = 0u32;
    for c in chunks.by_ref() {
        // invariant: chunks_exact(8) yields chunks of exactly 8 bytes
        let w = u64::from_le_bytes(c.try_into().expect("chunks_exact(8) gives 8-byte chunks"));
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

/// A chunk's spikes from every thread, each thread's list in order (steps,
/// then its cores), into `out` as their sorted union; the lists come back
/// empty. One list is handed over, not copied, and two (two threads, the
/// common case) are merged in one pass: a sort's scratch memory, fresh every
/// chunk, cost more page faults than the merge itself. More lists, or one
/// out of order (not expected), are sorted (stable: ties keep thread order).
fn merge_runs(runs: &mut [Vec<SpikeEvent>], out: &mut Vec<SpikeEvent>) {
    // One integer per spike, ordered as `SpikeEvent` is: compared without
    // branches (two lists' heads win in no order a predictor could learn).
    fn key(e: &SpikeEvent) -> u128 {
        (e.step as u128) << 64 | (e.pop as u128) << 32 | e.neuron as u128
    }
    out.clear();
    let sorted = runs.iter().all(|r| r.windows(2).all(|p| key(&p[0]) <= key(&p[1])));
    match runs {
        [one] if sorted => std::mem::swap(one, out),
        [a, b] if sorted => {
            out.reserve(a.len() + b.len());
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                let (x, y) = (a[i], b[j]);
                let take_b = key(&y) < key(&x);
                out.push(if take_b { y } else { x });
                i += !take_b as usize;
                j += take_b as usize;
            }
            out.extend_from_slice(&a[i..]);
            out.extend_from_slice(&b[j..]);
            a.clear();
            b.clear();
        }
        _ => {
            for r in runs.iter_mut() {
                out.append(r);
            }
            out.sort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(step: u32, pop: u32, neuron: u32) -> SpikeEvent {
        SpikeEvent { step, pop, neuron }
    }

    /// Pseudo-random sorted lists (a fixed LCG: the test is deterministic).
    fn lists(seed: u64, k: usize) -> Vec<Vec<SpikeEvent>> {
        let mut x = seed;
        let mut next = move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as u32
        };
        (0..k)
            .map(|_| {
                let n = next() as usize % 200;
                let mut v: Vec<SpikeEvent> = (0..n).map(|_| ev(next() % 50, next() % 4, next() % 30)).collect();
                v.sort();
                v
            })
            .collect()
    }

    #[test]
    fn merged_runs_equal_a_stable_sort() {
        for seed in 0..200 {
            for k in 0..5 {
                let mut runs = lists(seed, k);
                let mut want: Vec<SpikeEvent> = runs.concat();
                want.sort();
                let mut out = vec![ev(9, 9, 9)];
                merge_runs(&mut runs, &mut out);
                assert_eq!(out, want, "seed {seed}, {k} lists");
                assert!(runs.iter().all(Vec::is_empty));
            }
        }
    }

    #[test]
    fn a_list_out_of_order_still_gives_the_sorted_union() {
        let mut runs = vec![vec![ev(1, 0, 0), ev(0, 0, 5)], vec![ev(0, 1, 0)]];
        let mut out = Vec::new();
        merge_runs(&mut runs, &mut out);
        assert_eq!(out, vec![ev(0, 0, 5), ev(0, 1, 0), ev(1, 0, 0)]);
    }

    #[test]
    fn one_list_is_handed_over_and_the_buffer_goes_back() {
        let mut runs = vec![vec![ev(0, 0, 1), ev(2, 0, 0)]];
        let mut out = Vec::with_capacity(64);
        merge_runs(&mut runs, &mut out);
        assert_eq!(out, vec![ev(0, 0, 1), ev(2, 0, 0)]);
        assert!(runs[0].is_empty() && runs[0].capacity() >= 64);
    }
}
