//! Runs spread over processes (ranks, as MPI numbers them).
//!
//! Each rank owns a contiguous range of the machine's cores (whole chips
//! where the layout allows, see [`partition`]) and runs them on its own
//! threads. Every `D` steps, after the compute phase, thread 0 of every
//! rank sends each other rank the spikes of those steps whose source is one
//! of its cores and that have a destination there (a synaptic row, a
//! route's destination, a learning subscriber), and its gap-junction
//! values, and receives theirs; the exchange is the barrier between ranks.
//!
//! `D` is the shortest delay of a synapse from one rank's core to another's
//! (as NEST's min_delay; at most [`MAX_EXCHANGE_EVERY`]): a spike sent at
//! step t changes its target at step t + delay ≥ t + D, so a rank runs D
//! steps on its own spikes and applies the others' afterwards, each into
//! the ring slot of its own step plus its delay. Arrivals are counted per
//! step of the batch and each step's core times settled once the batch's
//! spikes are in. `D` is 1 when gap junctions cross ranks (a value is used
//! the next step) or any core learns (learning sees arrivals in order).
//!
//! Rank 0 also receives each rank's part of the previous batch's timing
//! (slowest core, longest path, link loads, per step), so that it accounts
//! every step as one process would; at the end it gathers the counters,
//! and recordings not streamed, into one output. All counts are integers
//! and ring sums wrap: the results equal the one-process run's.
//!
//! The transport is a trait: `nerve run` plugs in MPI (the CLI's `mpi`
//! feature), tests plug [`Loopback`] (ranks as threads of one process).

use std::sync::{Arc, Condvar, Mutex};

use crate::machine::{Machine, PackedSyn};

/// The longest exchange period, in steps (a rank keeps each step's
/// arrival counts and, per link, loads for a period).
pub const MAX_EXCHANGE_EVERY: u32 = 64;

/// How ranks reach each other.
pub trait Transport {
    /// This process's rank, `0..size()`.
    fn rank(&self) -> usize;
    fn size(&self) -> usize;
    /// A collective all-to-all: every rank calls it at the same point of a
    /// run with `out[r]` the words for rank r (its own entry empty) and
    /// gets in `inb[r]` (cleared first) the words rank r sent it. Both
    /// have `size()` entries, reused from step to step (a step's messages
    /// are too small and frequent to allocate each time).
    fn exchange(&mut self, out: &[Vec<u32>], inb: &mut [Vec<u32>]);
}

/// Ranks as threads of one process, for tests: `Loopback::group(k)` gives
/// the k ranks' transports, one per thread. A rank that panics makes the
/// others panic at their next exchange rather than wait for it forever.
pub struct Loopback {
    rank: usize,
    hub: Arc<Hub>,
}

struct Hub {
    size: usize,
    /// `slots[from][to]`, and the meeting point: (arrived, generation, a rank died).
    slots: Mutex<Vec<Vec<Vec<u32>>>>,
    meet: Mutex<(usize, u64, bool)>,
    cv: Condvar,
}

impl Hub {
    fn wait(&self) {
        // invariant: the meeting point is held for a few assignments, never across a panic
        let mut g = self.meet.lock().expect("the loopback meeting point is never poisoned");
        assert!(!g.2, "another rank of this loopback group failed");
        let gen = g.1;
        g.0 += 1;
        if g.0 == self.size {
            g.0 = 0;
            g.1 += 1;
            self.cv.notify_all();
            return;
        }
        while g.1 == gen && !g.2 {
            // invariant: as above
            g = self.cv.wait(g).expect("the loopback meeting point is never poisoned");
        }
        assert!(!g.2, "another rank of this loopback group failed");
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Ok(mut g) = self.hub.meet.lock() {
                g.2 = true;
            }
            self.hub.cv.notify_all();
        }
    }
}

impl Loopback {
    pub fn group(size: usize) -> Vec<Loopback> {
        let size = size.max(1);
        let hub = Arc::new(Hub { size, slots: Mutex::new(vec![vec![Vec::new(); size]; size]), meet: Mutex::new((0, 0, false)), cv: Condvar::new() });
        (0..size).map(|rank| Loopback { rank, hub: hub.clone() }).collect()
    }
}

impl Transport for Loopback {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.hub.size
    }
    fn exchange(&mut self, out: &[Vec<u32>], inb: &mut [Vec<u32>]) {
        let lock = || {
            // invariant: no rank thread panics holding the slots (each holds them for a copy)
            self.hub.slots.lock().expect("no loopback rank panics holding the slots")
        };
        {
            let mut s = lock();
            for (to, words) in out.iter().enumerate() {
                s[self.rank][to].clear();
                s[self.rank][to].extend_from_slice(words);
            }
        }
        self.hub.wait();
        {
            let s = lock();
            for (from, x) in inb.iter_mut().enumerate() {
                x.clear();
                x.extend_from_slice(&s[from][self.rank]);
            }
        }
        self.hub.wait();
    }
}

/// Which cores each rank owns: rank r has `bounds[r]..bounds[r + 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub bounds: Vec<usize>,
    /// Chips whose cores are on more than one rank (0 unless the machine
    /// has too few chips, or chips that are not whole rows of the mesh, to
    /// cut only between them).
    pub chips_split: usize,
    /// Per rank: its cores' neurons whose spikes must go to another rank
    /// (each counted once per other rank), the partitioner's cost.
    pub cross_neurons: Vec<u64>,
}

/// Work of a core, as the threads' split weighs it.
fn work_of(c: &crate::machine::Core) -> u64 {
    c.n as u64 * 8 + c.n_syn + 64
}

/// Per core, the other cores its spikes reach: route destinations, cores
/// with a row for them, learning subscribers, gap-junction targets (core
/// indices, sorted, without the core itself).
pub fn destinations(m: &Machine) -> Vec<Vec<u32>> {
    let mut d: Vec<Vec<u32>> = vec![Vec::new(); m.cores.len()];
    for (src, x) in d.iter_mut().enumerate() {
        for r in &m.routes[src] {
            x.extend(r.dests.iter().map(|d| d.core));
        }
        x.extend(m.fanout[src].spans(&m.spans).iter().map(|s| s.core));
        for subs in [&m.pre_subs[src], &m.stdp_subs[src]] {
            x.extend(subs.all().iter().map(|s| s.core));
        }
    }
    // Gap junctions: a source value's core, by its index.
    let mut gap_core = vec![0u32; m.gap_sources];
    for (ci, c) in m.cores.iter().enumerate() {
        for g in &c.gap_out {
            gap_core[g.2 as usize] = ci as u32;
        }
    }
    for (ci, c) in m.cores.iter().enumerate() {
        for g in &c.gap_in {
            d[gap_core[g.src as usize] as usize].push(ci as u32);
        }
    }
    for x in d.iter_mut() {
        x.sort_unstable();
        x.dedup();
    }
    for (src, x) in d.iter_mut().enumerate() {
        x.retain(|&c| c as usize != src);
    }
    d
}

/// Cuts the machine's cores into `k` contiguous ranges of roughly equal
/// work, between chips where possible, each cut placed (within 2% of the
/// work of a rank around its balanced position) where the fewest neurons
/// have destinations on both sides.
pub fn partition(m: &Machine, k: usize) -> Plan {
    let work: Vec<u64> = m.cores.iter().map(work_of).collect();
    partition_by(m, k, &work)
}

/// As `partition`, for a machine loaded from an image whose cores were all
/// stripped (`Image::read_part`: cheap to read whole), given each core's
/// stored synapses as read: the plan every rank computes before reading its part.
pub fn partition_stripped(m: &Machine, k: usize, stored: &[u64]) -> Plan {
    let work: Vec<u64> = m.cores.iter().enumerate().map(|(i, c)| work_of(c) + stored.get(i).copied().unwrap_or(0)).collect();
    partition_by(m, k, &work)
}

fn partition_by(m: &Machine, k: usize, work: &[u64]) -> Plan {
    let n = m.cores.len();
    let k = k.clamp(1, n.max(1));
    let mut at = Vec::with_capacity(n + 1);
    at.push(0u64);
    for w in work {
        at.push(at[at.len() - 1] + w);
    }
    let total = at[n];
    let dests = destinations(m);
    // Per core: the lowest and highest core its spikes reach.
    let span: Vec<(usize, usize)> =
        dests.iter().enumerate().map(|(i, d)| (d.first().map_or(i, |&x| (x as usize).min(i)), d.last().map_or(i, |&x| (x as usize).max(i)))).collect();
    // Cuts between chips: no chip on both sides (a chip's cores need not be
    // contiguous in core order when chips hold several tiles of a row).
    let chip = |i: usize| m.arch.chip_of(m.cores[i].tile).0;
    let mut last_of = std::collections::HashMap::new();
    for i in 0..n {
        last_of.insert(chip(i), i);
    }
    let mut clean = vec![false; n + 1];
    let mut reach = 0usize;
    for i in 0..n {
        reach = reach.max(last_of[&chip(i)]);
        clean[i + 1] = reach == i;
    }
    let tile_cut: Vec<bool> = (0..=n).map(|i| i == 0 || i == n || m.cores[i - 1].tile != m.cores[i].tile).collect();
    // Neurons whose spikes cross a cut at c (sources below with a
    // destination at or above, and the reverse), for every c.
    let mut up = vec![0i64; n + 2];
    let mut down = vec![0i64; n + 2];
    for (i, &(lo, hi)) in span.iter().enumerate() {
        let w = m.cores[i].n as i64;
        // Source i crosses cuts c in (i, hi] upwards and (lo, i] downwards.
        up[i + 1] += w;
        up[hi + 1] -= w;
        down[lo + 1] += w;
        down[i + 1] -= w;
    }
    let mut cross = vec![0i64; n + 1];
    let (mut u, mut dn) = (0i64, 0i64);
    for c in 0..=n {
        u += up[c];
        dn += down[c];
        cross[c] = u + dn;
    }
    let mut bounds = vec![0usize];
    for r in 1..k {
        let target = total * r as u64 / k as u64;
        let slack = total / k as u64 / 50;
        let prev = bounds[r - 1];
        // Room for the ranks still to come (each at least one core).
        let max_cut = n - (k - r);
        let pick = |ok: &dyn Fn(usize) -> bool| -> Option<usize> {
            (prev + 1..=max_cut).filter(|&c| ok(c) && at[c].abs_diff(target) <= slack).min_by_key(|&c| (cross[c], at[c].abs_diff(target)))
        };
        let c = pick(&|c| clean[c])
            .or_else(|| pick(&|c| tile_cut[c]))
            .or_else(|| pick(&|_| true))
            .unwrap_or_else(|| (prev + 1..=max_cut).min_by_key(|&c| at[c].abs_diff(target)).unwrap_or(prev + 1));
        bounds.push(c);
    }
    bounds.push(n);
    let chips_split = bounds[1..k].iter().filter(|&&c| !clean[c]).map(|&c| chip(c)).collect::<std::collections::BTreeSet<_>>().len();
    let rank_of = |c: usize| bounds.partition_point(|&b| b <= c) - 1;
    let mut cross_neurons = vec![0u64; k];
    for (i, d) in dests.iter().enumerate() {
        let r = rank_of(i);
        let mut others: Vec<usize> = d.iter().map(|&x| rank_of(x as usize)).filter(|&x| x != r).collect();
        others.dedup();
        others.sort_unstable();
        others.dedup();
        cross_neurons[r] += m.cores[i].n as u64 * others.len() as u64;
    }
    Plan { bounds, chips_split, cross_neurons }
}

/// Traffic between ranks over a run, as rank 0 gathered it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traffic {
    /// The plan's cuts: rank r ran cores `bounds[r]..bounds[r + 1]`.
    pub bounds: Vec<usize>,
    /// Per rank: bytes it sent to other ranks during the steps (spikes,
    /// gap values, timing), messages it sent (one per other rank per step).
    pub bytes_sent: Vec<u64>,
    pub messages_sent: Vec<u64>,
    /// Per rank: seconds its thread 0 spent in the per-step exchange.
    pub exchange_seconds: Vec<f64>,
    /// Seconds rank 0 spent before the first step telling the others what
    /// it needs (`Link::setup`).
    pub setup_seconds: f64,
    /// Steps between exchanges (`D`, see the module's notes).
    pub exchange_every: u64,
}

/// A spike between ranks: (core index, neuron).
pub type Spike = (u32, u32);

/// Thread 0's link to the other ranks during a run.
pub(super) struct Link<'t> {
    pub transport: &'t mut dyn Transport,
    pub rank: usize,
    pub size: usize,
    pub bounds: Vec<usize>,
    /// Per own core (index − lo): the other ranks its spikes go to.
    pub sends_to: Vec<Vec<u32>>,
    /// Per rank: the gap-junction values (indices among the machine's gap
    /// sources) of this rank's cores that rank's cores take in.
    pub gap_to: Vec<Vec<u32>>,
    /// Steps between exchanges.
    pub every: u64,
    /// The shortest delay of a synapse into this rank's cores, from any
    /// core (at most `MAX_EXCHANGE_EVERY`; 1 if one of them learns).
    pub min_delay_in: u64,
    /// Thread 0's network figures of the steps settled since the last
    /// exchange, for rank 0: (step, longest path, its link loads' range in
    /// `pending_loads`), and the loads (link, packets).
    pub pending: Vec<(u64, f64, std::ops::Range<usize>)>,
    pub pending_loads: Vec<(u32, u32)>,
    /// The batch's messages out and in, reused; where each message's
    /// spike count of the step sits.
    pub out: Vec<Vec<u32>>,
    pub inb: Vec<Vec<u32>>,
    pub marks: Vec<usize>,
    /// Rank 0: the links loaded this step (in `loads`).
    touched: Vec<u32>,
    pub bytes_sent: u64,
    pub messages_sent: u64,
    pub exchange_seconds: f64,
    pub setup_seconds: f64,
    /// Rank 0: per link, loads summed over ranks (scratch).
    pub loads: Vec<u32>,
}

impl<'t> Link<'t> {
    pub fn new(m: &Machine, transport: &'t mut dyn Transport, bounds: Vec<usize>) -> Link<'t> {
        let (rank, size) = (transport.rank(), transport.size());
        let (lo, hi) = (bounds[rank], bounds[rank + 1]);
        let rank_of = |c: usize| bounds.partition_point(|&b| b <= c) - 1;
        // Filled by `setup`, from what every rank says it needs.
        let sends_to = vec![Vec::new(); hi - lo];
        let mut own_gap = vec![false; m.gap_sources];
        for c in &m.cores[lo..hi] {
            for g in &c.gap_out {
                own_gap[g.2 as usize] = true;
            }
        }
        let mut gap_to: Vec<Vec<u32>> = vec![Vec::new(); size];
        for (ci, c) in m.cores.iter().enumerate() {
            let r = rank_of(ci);
            if r != rank {
                gap_to[r].extend(c.gap_in.iter().map(|g| g.src).filter(|&x| own_gap[x as usize]));
            }
        }
        for g in gap_to.iter_mut() {
            g.sort_unstable();
            g.dedup();
        }
        let n_links = nerve_isa::ids::LinkId::count(m.arch.num_tiles());
        Link {
            transport,
            rank,
            size,
            bounds,
            sends_to,
            gap_to,
            every: 1,
            min_delay_in: 1,
            pending: Vec::new(),
            pending_loads: Vec::new(),
            out: vec![Vec::new(); size],
            inb: vec![Vec::new(); size],
            marks: Vec::with_capacity(size),
            touched: Vec::new(),
            bytes_sent: 0,
            messages_sent: 0,
            exchange_seconds: 0.0,
            setup_seconds: 0.0,
            loads: if rank == 0 { vec![0; n_links] } else { Vec::new() },
        }
    }

    /// Before the first step, every rank tells every other which of its
    /// cores' spikes it needs (those with a row, a route's destination or a
    /// learning subscriber among its cores; a rank may hold only its own
    /// cores' rows, so only it knows) and, under the per-destination message
    /// model, what each source neuron's messages to its cores cost (a spike
    /// is charged at its source, which may not know all its destinations).
    pub fn setup(&mut self, m: &Machine, costs: &mut crate::cost::timing::Costs) {
        let t0 = std::time::Instant::now();
        let n = m.cores.len();
        let (lo, hi) = (self.bounds[self.rank], self.bounds[self.rank + 1]);
        let own = |c: u32| (c as usize) >= lo && (c as usize) < hi;
        let rank_of = |c: usize| self.bounds.partition_point(|&b| b <= c) - 1;
        let mut need = vec![0u32; n.div_ceil(32)];
        for src in (0..n).filter(|&c| !own(c as u32)) {
            let hit = m.routes[src].iter().any(|r| r.dests.iter().any(|d| own(d.core)))
                || m.fanout[src].spans(&m.spans).iter().any(|s| own(s.core))
                || m.pre_subs[src].all().iter().chain(m.stdp_subs[src].all()).any(|x| own(x.core));
            if hit {
                need[src / 32] |= 1 << (src % 32);
            }
        }
        let mut out: Vec<Words> = (0..self.size).map(|_| Words(need.clone())).collect();
        let (every, min_delay_in) = self.every_here(m);
        self.min_delay_in = min_delay_in as u64;
        for w in out.iter_mut() {
            w.u32(every);
        }
        // Per rank: its source neurons' messages to this rank's cores, 9 words each.
        let mut parts: Vec<Vec<[u32; 9]>> = vec![Vec::new(); self.size];
        if let Some(direct) = costs.direct.as_mut() {
            for (src, ds) in direct.iter_mut().enumerate() {
                let f = &m.fanout[src];
                let spans = f.spans(&m.spans);
                let owner = rank_of(src);
                for i in 0..f.neurons() {
                    let mut t = crate::mesh::NeuronMessages::default();
                    for si in f.range(i) {
                        if spans[si].len == 0 || !own(spans[si].core) {
                            continue;
                        }
                        let d = &ds.paths[ds.of_span[si] as usize];
                        t.messages += 1;
                        for k in 0..3 {
                            t.hops[k] += d.hops[k];
                        }
                        t.chip_crossings += d.chip_crossings;
                        t.latency_ns = t.latency_ns.max(d.latency_ns);
                    }
                    if owner == self.rank {
                        // Its own cores' part; the others' parts are added below.
                        ds.per_neuron[i] = t;
                    } else if t.messages > 0 {
                        let lat = t.latency_ns.to_bits();
                        parts[owner].push([
                            src as u32,
                            i as u32,
                            t.messages,
                            t.hops[0],
                            t.hops[1],
                            t.hops[2],
                            t.chip_crossings,
                            lat as u32,
                            (lat >> 32) as u32,
                        ]);
                    }
                }
            }
        }
        for (w, p) in out.iter_mut().zip(&parts) {
            w.u32(p.len() as u32);
            for x in p {
                w.0.extend_from_slice(x);
            }
        }
        out[self.rank] = Words::default();
        let inb = self.exchange_owned(out.into_iter().map(|w| w.0).collect());
        self.bytes_sent = 0;
        self.messages_sent = 0;
        self.exchange_seconds = 0.0;
        let mut every = every;
        for (r, words) in inb.iter().enumerate() {
            if r == self.rank {
                continue;
            }
            let mut rd = Reader::new(words);
            let bits = rd.take(n.div_ceil(32));
            every = every.min(rd.u32());
            for src in lo..hi {
                if bits.get(src / 32).is_some_and(|w| w & (1 << (src % 32)) != 0) {
                    self.sends_to[src - lo].push(r as u32);
                }
            }
            let k = rd.u32() as usize;
            let entries = rd.take(9 * k);
            if let Some(direct) = costs.direct.as_mut() {
                for e in entries.chunks_exact(9) {
                    let (src, i) = (e[0] as usize, e[1] as usize);
                    let lat = f64::from_bits(e[7] as u64 | ((e[8] as u64) << 32));
                    if let Some(t) = direct.get_mut(src).and_then(|d| d.per_neuron.get_mut(i)) {
                        t.messages += e[2];
                        for k in 0..3 {
                            t.hops[k] += e[3 + k];
                        }
                        t.chip_crossings += e[6];
                        t.latency_ns = t.latency_ns.max(lat);
                    }
                }
            }
        }
        self.every = every.clamp(1, MAX_EXCHANGE_EVERY) as u64;
        self.setup_seconds = t0.elapsed().as_secs_f64();
    }

    /// The exchange period this rank's cores allow: the shortest delay of
    /// the synapses they receive from other ranks' cores, 1 if one of them
    /// learns or sends a gap-junction value to another rank (the ranks
    /// agree on the least of theirs); and the shortest delay of all the
    /// synapses they receive.
    fn every_here(&self, m: &Machine) -> (u32, u32) {
        let (lo, hi) = (self.bounds[self.rank], self.bounds[self.rank + 1]);
        let own = |c: u32| (c as usize) >= lo && (c as usize) < hi;
        let mine = &m.cores[lo..hi];
        // A gap junction between ranks: its source's rank sends its value
        // (`gap_to`) and says 1, which the agreed least carries to all.
        if mine.iter().any(|c| !c.plastic.is_empty()) || self.gap_to.iter().any(|g| !g.is_empty()) {
            return (1, 1);
        }
        let (mut remote, mut all) = (MAX_EXCHANGE_EVERY, MAX_EXCHANGE_EVERY);
        for (src, f) in m.fanout.iter().enumerate() {
            for i in 0..f.neurons() {
                for (sp, syns) in f.rows(&m.spans, i) {
                    if !own(sp.core) {
                        continue;
                    }
                    if sp.deliver < sp.len {
                        return (1, 1);
                    }
                    let d = m.arena[syns].iter().fold(MAX_EXCHANGE_EVERY, |e, &x| e.min(PackedSyn(x).delay() as u32));
                    all = all.min(d);
                    if !own(src as u32) {
                        remote = remote.min(d);
                    }
                }
            }
        }
        (remote.max(1), all.max(1))
    }

    /// The figures of the steps settled since the last exchange, for rank
    /// 0: per step, this rank's slowest core (`core_ns(step)`) and longest
    /// path, and its link loads; they are cleared.
    pub fn put_figures(&mut self, w: &mut Words, core_ns: impl Fn(u64) -> f64) {
        w.u32(self.pending.len() as u32);
        for (step, latency, loads) in self.pending.drain(..) {
            w.f64(core_ns(step));
            w.f64(latency);
            w.u32(loads.len() as u32);
            for &(link, n) in &self.pending_loads[loads] {
                w.u32(link);
                w.u32(n);
            }
        }
        self.pending_loads.clear();
    }

    /// Rank 0: the steps settled since the last exchange, with every
    /// rank's figures of each (`put_figures`, one reader per other rank,
    /// in step order) joined to its own: `account(step, slowest core,
    /// longest path, busiest link)`. Clears its own figures.
    pub fn take_figures(&mut self, readers: &mut [Reader], core_ns: impl Fn(u64) -> f64, mut account: impl FnMut(u64, f64, f64, u32)) {
        for rd in readers.iter_mut() {
            rd.u32();
        }
        let pending = std::mem::take(&mut self.pending);
        for (step, latency, loads) in &pending {
            let mut f = (core_ns(*step), *latency);
            for i in loads.clone() {
                let (link, n) = self.pending_loads[i];
                self.add_loads(&[link, n]);
            }
            for rd in readers.iter_mut() {
                f.0 = f.0.max(rd.f64());
                f.1 = f.1.max(rd.f64());
                let n = rd.u32() as usize;
                self.add_loads(rd.take(2 * n));
            }
            let busiest = self.take_busiest();
            account(*step, f.0, f.1, busiest);
        }
        self.pending = pending;
        self.pending.clear();
        self.pending_loads.clear();
    }

    /// Rank 0: a rank's link loads (flattened (link, packets) pairs) join
    /// the step's.
    fn add_loads(&mut self, pairs: &[u32]) {
        for x in pairs.chunks_exact(2) {
            if let Some(v) = self.loads.get_mut(x[0] as usize) {
                if *v == 0 {
                    self.touched.push(x[0]);
                }
                *v += x[1];
            }
        }
    }

    /// Rank 0: the step's busiest link, every rank's loads summed; clears them.
    fn take_busiest(&mut self) -> u32 {
        let mut busiest = 0;
        for &l in &self.touched {
            busiest = busiest.max(std::mem::take(&mut self.loads[l as usize]));
        }
        self.touched.clear();
        busiest
    }

    /// The step's all-to-all (`out` to `inb`), counting what this rank sends.
    pub fn exchange_step(&mut self) {
        let t = std::time::Instant::now();
        for (r, w) in self.out.iter().enumerate() {
            if r != self.rank {
                self.bytes_sent += w.len() as u64 * 4;
                self.messages_sent += 1;
            }
        }
        self.transport.exchange(&self.out, &mut self.inb);
        self.exchange_seconds += t.elapsed().as_secs_f64();
    }

    /// An all-to-all outside the steps (not counted as the steps' traffic).
    pub fn exchange_owned(&mut self, out: Vec<Vec<u32>>) -> Vec<Vec<u32>> {
        let mut inb = vec![Vec::new(); self.size];
        self.transport.exchange(&out, &mut inb);
        inb
    }
}

/// Words of a message, written and read in order.
#[derive(Default)]
pub(super) struct Words(pub Vec<u32>);

impl Words {
    pub fn u32(&mut self, x: u32) {
        self.0.push(x);
    }
    pub fn u64(&mut self, x: u64) {
        self.0.push(x as u32);
        self.0.push((x >> 32) as u32);
    }
    pub fn f64(&mut self, x: f64) {
        self.u64(x.to_bits());
    }
}

/// Reads a message's words in the order they were written.
pub(super) struct Reader<'a> {
    w: &'a [u32],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(w: &'a [u32]) -> Reader<'a> {
        Reader { w, at: 0 }
    }
    /// The next word (a short message is a bug between ranks of one build:
    /// every rank writes what the others read; it reads as 0 and the
    /// decoding that follows stops at the end).
    pub fn u32(&mut self) -> u32 {
        let x = self.w.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        x
    }
    pub fn u64(&mut self) -> u64 {
        let lo = self.u32() as u64;
        lo | ((self.u32() as u64) << 32)
    }
    pub fn f64(&mut self) -> f64 {
        f64::from_bits(self.u64())
    }
    pub fn take(&mut self, n: usize) -> &'a [u32] {
        let a = self.at.min(self.w.len());
        let b = (self.at + n).min(self.w.len());
        self.at += n;
        &self.w[a..b]
    }
}
