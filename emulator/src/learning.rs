//! The learning engine of a core: its plastic synapses (their weights,
//! which the synapse arena leaves at 0: these deliver themselves), and the
//! state of the rule that changes them, as `nerve_isa::learning` and the
//! image's rules define them; rules' programs run through the same kernel
//! engines as neurons.
//!
//! Loihi: each step, in lava-nc's order, the pre spikes (a second spike of a
//! neuron in an epoch adds its impulse at once), the generators advance, the
//! post spikes, they advance again; at the end of an epoch the trace
//! histories are rebuilt, and the rule's program runs for every synapse whose
//! pre or post neuron spiked (or every synapse, in the epochs its u term
//! selects).
//!
//! STDP (sPyNNaker's): a post spike joins its neuron's history at once; the
//! pre spikes of a step are processed at its end (after the step's post
//! spikes, as sPyNNaker's timer tick records them before the rows it
//! processes): each reached synapse's window of post spikes gives its
//! potentiations and depression, the program applies them in rounds, and
//! the synapse delivers its new weight into the slot of its delay.

use nerve_isa::image::{CoreImage, Image};
use nerve_isa::kernel::Kernel;
use nerve_isa::learning::rng::NumpyRng;
use nerve_isa::learning::stdp::{mul16, pre_trace, Level, PostHistory, StdpRule, Window};
use nerve_isa::learning::{add_impulse, decay, At, LearningRule, LoihiRule, Operand, Trace, TraceSpec};

use crate::kernel::{padded, KernelData, KernelRunner};
use crate::lines::LineVec;

/// A trace generator pair (decay, impulse) as lava's `TraceRandom`: one draw
/// each at construction, then two per step.
#[derive(Clone, Debug)]
struct TraceRandom {
    decay_rng: NumpyRng,
    impulse_rng: NumpyRng,
    decay: f64,
    impulse: u32,
}

impl TraceRandom {
    fn new(seed_decay: u128, seed_impulse: u128) -> TraceRandom {
        let mut r = TraceRandom { decay_rng: NumpyRng::new(seed_decay), impulse_rng: NumpyRng::new(seed_impulse), decay: 0.0, impulse: 0 };
        r.advance();
        r
    }
    fn advance(&mut self) {
        self.decay = self.decay_rng.random();
        self.impulse = self.impulse_rng.integers_pow2(7);
    }
}

/// One learning projection's synapses on one core, and its engine state.
#[derive(Clone, Debug)]
pub struct Plastic {
    /// Index into `Machine::rules`.
    pub rule: usize,
    pub projection: String,
    /// The projection's index among the network's projections.
    pub index: u32,
    pub pre_pop: u32,
    /// A weight mantissa's value in the projection's units.
    pub weight_unit: f64,
    /// The synapses, sorted by pre slot: slot s's are `syn[by_pre[s]..by_pre[s + 1]]`.
    pub syn: Vec<PSyn>,
    by_pre: Vec<u32>,
    /// Per synapse: its pre slot and pre neuron (in the pre population).
    pub pre_slot: Vec<u32>,
    pub pre: Vec<u32>,
    /// Synapses by post neuron.
    by_post: Vec<u32>,
    by_post_syn: Vec<u32>,
    /// The pre neurons (in the pre population), by slot.
    pub pre_neurons: Vec<u32>,
    pub engine: Engine,
}

/// What a pre spike reads and writes of each synapse of its row, together
/// (a row has few synapses on each core: one cache line, not one per field).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PSyn {
    /// The post neuron (local).
    pub post: u32,
    /// Where it adds in a ring slot (as `PackedSyn`'s).
    pub offset: u32,
    /// The weight mantissa it delivers.
    pub w: i32,
    /// STDP: its 16-bit weight word.
    pub word: u16,
    pub delay: u8,
}

/// The state of the rule that changes a set's weights.
#[derive(Clone, Debug)]
pub enum Engine {
    Loihi(Box<LoihiState>),
    Stdp(Box<StdpState>),
}

/// Loihi's learning engine on one set.
#[derive(Clone, Debug)]
pub struct LoihiState {
    /// Per synapse: tag_1 and tag_2.
    pub tag1: Vec<i32>,
    pub tag2: Vec<i32>,
    /// Traces: x1, x2 per pre slot, y1..y3 per post neuron, at the epoch's start.
    pub x: [Vec<i32>; 2],
    pub y: [Vec<i32>; 3],
    /// Within-epoch step of the last spike (0: none this epoch).
    pub tx: Vec<u8>,
    pub ty: Vec<u8>,
    spiked_pre: Vec<u32>,
    spiked_post: Vec<u32>,
    xr: TraceRandom,
    yr: TraceRandom,
    rc: NumpyRng,
    rc_bits: u32,
    /// A third factor's post-side state, if the rule has one.
    third: Option<Third>,
}

/// sPyNNaker's STDP on one set.
#[derive(Clone, Debug)]
pub struct StdpState {
    /// Per pre slot: its last spike's time and trace.
    pub pre_last: Vec<(u32, i32)>,
    /// Per post neuron: its recent spikes, and (small, so it stays in
    /// cache) its newest one's time and trace and how many it has.
    pub history: Vec<PostHistory>,
    newest: Vec<Newest>,
    /// Per post neuron: a third factor's reward level.
    pub level: Vec<Level>,
}

/// A post neuron's newest spike (time, trace and the history's count) and
/// the time of the one before (0: none), kept apart from its history so
/// that most windows need not read it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Newest {
    time: u32,
    trace: i16,
    count: u8,
    prev: u32,
}

/// A third-factor rule's post side (lava's three-factor neuron): each post
/// neuron's own trace y1 = ⌊y1·exp(−1/τ) + impulse·s(t − 1)⌋ (float, from the
/// previous step's spike) and y2, the reward: the weighted count of the
/// reward population's spikes of the previous step.
#[derive(Clone, Debug)]
struct Third {
    own_y1: Vec<f64>,
    prev: Vec<bool>,
    spiked: Vec<bool>,
    now: Vec<i32>,
    next: Vec<i32>,
    factor: f64,
    impulse: f64,
    weight: i32,
}

impl Plastic {
    /// A core's plastic set from the image; `syn`: its synapses as the image
    /// has them (the caller zeroes their weights in the core's rows: these
    /// deliver themselves). `in_off`: the core's inputs' place in a ring
    /// slot; `np`: its padded neurons.
    pub fn new(img: &Image, c: &CoreImage, si: usize, syn: &[nerve_isa::image::Synapse], in_off: usize, np: usize) -> Plastic {
        let s = &c.plastic[si];
        let n_post = c.n_neurons as usize;
        let mut pre_neurons: Vec<u32> = s.pre.clone();
        pre_neurons.sort_unstable();
        pre_neurons.dedup();
        // invariant: pre_neurons is s.pre sorted and deduplicated, and slot_of is called only on elements of s.pre
        let slot_of = |p: &u32| pre_neurons.binary_search(p).expect("a listed pre neuron") as u32;
        // Synapses by pre slot (the compiler writes them so; sorted here whatever the image's order).
        let mut order: Vec<usize> = (0..s.pre.len()).collect();
        order.sort_by_key(|&k| slot_of(&s.pre[k]));
        let pick = |v: &[i32]| -> Vec<i32> { order.iter().map(|&k| v[k]).collect() };
        let pre: Vec<u32> = order.iter().map(|&k| s.pre[k]).collect();
        let pre_slot: Vec<u32> = pre.iter().map(slot_of).collect();
        let syn: Vec<nerve_isa::image::Synapse> = order.iter().map(|&k| syn[k]).collect();

        let csr = |keys: &[u32], n: usize| -> (Vec<u32>, Vec<u32>) {
            let mut start = vec![0u32; n + 1];
            for &k in keys {
                start[k as usize + 1] += 1;
            }
            for i in 0..n {
                start[i + 1] += start[i];
            }
            let mut next = start.clone();
            let mut idx = vec![0u32; keys.len()];
            for (j, &k) in keys.iter().enumerate() {
                idx[next[k as usize] as usize] = j as u32;
                next[k as usize] += 1;
            }
            (start, idx)
        };
        let post: Vec<u32> = syn.iter().map(|x| x.target as u32).collect();
        let (by_pre, _) = csr(&pre_slot, pre_neurons.len());
        let (by_post, by_post_syn) = csr(&post, n_post);
        let engine = match &img.rules[s.rule as usize] {
            LearningRule::Loihi(rule) => {
                let seed = rule.rng_seed;
                let mut rc = NumpyRng::new(2);
                let _ = rc.next64(); // lava's ConnVarRandom draws once when made
                Engine::Loihi(Box::new(LoihiState {
                    tag1: pick(&s.tag1),
                    tag2: pick(&s.tag2),
                    x: [vec![0; pre_neurons.len()], vec![0; pre_neurons.len()]],
                    y: [vec![0; n_post], vec![0; n_post], vec![0; n_post]],
                    tx: vec![0; pre_neurons.len()],
                    ty: vec![0; n_post],
                    spiked_pre: Vec::new(),
                    spiked_post: Vec::new(),
                    // lava adds in Python ints: past 2^64 for a seed near the top, never wrapping.
                    xr: TraceRandom::new(seed as u128, seed as u128 + 1),
                    yr: TraceRandom::new(seed as u128 + 2, seed as u128 + 3),
                    rc,
                    rc_bits: 0,
                    third: rule.reward.as_ref().map(|r| Third {
                        own_y1: vec![0.0; n_post],
                        prev: vec![false; n_post],
                        spiked: vec![false; n_post],
                        now: vec![0; n_post],
                        next: vec![0; n_post],
                        factor: (-1.0 / r.y1_tau).exp(),
                        impulse: r.y1_impulse,
                        weight: r.weight,
                    }),
                }))
            }
            LearningRule::Stdp(_) => Engine::Stdp(Box::new(StdpState {
                pre_last: vec![(0, 0); pre_neurons.len()],
                history: vec![PostHistory::default(); n_post],
                newest: vec![Newest::default(); n_post],
                level: vec![Level::default(); n_post],
            })),
        };
        Plastic {
            rule: s.rule as usize,
            projection: s.projection.clone(),
            index: s.projection_index,
            pre_pop: s.pre_pop.0,
            weight_unit: s.weight_unit,
            syn: syn
                .iter()
                .zip(order.iter())
                .map(|(x, &k)| PSyn {
                    post: x.target as u32,
                    offset: (in_off + x.port as usize * np + x.target as usize) as u32,
                    w: x.weight,
                    word: s.words.get(k).copied().unwrap_or(0),
                    delay: x.delay,
                })
                .collect(),
            by_pre,
            pre_slot,
            pre,
            by_post,
            by_post_syn,
            pre_neurons,
            engine,
        }
    }

    /// The synapse's learned weight in the projection's units: an STDP
    /// word's worth (what sPyNNaker's `get("weight")` reads), else what it delivers.
    pub fn learned_weight(&self, k: usize, rules: &[LearningRule]) -> f64 {
        match (&self.engine, &rules[self.rule]) {
            (Engine::Stdp(_), LearningRule::Stdp(r)) => self.syn[k].word as f64 * r.word_unit * if r.negative { -1.0 } else { 1.0 },
            _ => self.syn[k].w as f64 * self.weight_unit,
        }
    }

    /// A reward spike at `step` for post neuron `j` (`u32::MAX`: every post neuron).
    pub fn reward_spike(&mut self, j: u32, step: u64, rules: &[LearningRule]) {
        match &mut self.engine {
            Engine::Loihi(l) => {
                if let Some(th) = &mut l.third {
                    if j == u32::MAX {
                        th.next.iter_mut().for_each(|x| *x += th.weight);
                    } else {
                        th.next[j as usize] += th.weight;
                    }
                }
            }
            Engine::Stdp(st) => {
                let LearningRule::Stdp(rule) = &rules[self.rule] else { return };
                let Some(rw) = &rule.reward else { return };
                let t = step as u32;
                if j == u32::MAX {
                    st.level.iter_mut().for_each(|l| l.add(t, rw.weight, &rw.lut));
                } else {
                    st.level[j as usize].add(t, rw.weight, &rw.lut);
                }
            }
        }
    }

    /// A pre neuron (by slot) spiked this step: Loihi's synapses add their
    /// current weights into the ring slots of their delays (STDP's learn
    /// first, at the end of the step, from the worker's `StdpArena`).
    #[inline]
    pub fn deliver<R: std::ops::DerefMut<Target = [i32]>>(&mut self, slot: u32, step: u64, ring: &mut [R], in_base: usize) {
        if let Engine::Loihi(l) = &mut self.engine {
            add_weights(&self.syn[self.by_pre[slot as usize] as usize..self.by_pre[slot as usize + 1] as usize], step, ring, in_base);
            l.spiked_pre.push(slot);
        }
    }

    /// A post neuron spiked at `step`.
    #[inline]
    /// STDP: its newest spike, for the worker's arena.
    pub fn post_spike(&mut self, neuron: u32, step: u64, rules: &[LearningRule]) -> Option<Newest> {
        match &mut self.engine {
            Engine::Loihi(l) => {
                l.spiked_post.push(neuron);
                None
            }
            Engine::Stdp(st) => {
                let LearningRule::Stdp(rule) = &rules[self.rule] else { return None };
                let h = &mut st.history[neuron as usize];
                h.add(step as u32, &rule.minus);
                let c = h.count as usize;
                let n = Newest { time: h.times[c], trace: h.traces[c], count: h.count, prev: if c >= 2 { h.times[c - 1] } else { 0 } };
                st.newest[neuron as usize] = n;
                Some(n)
            }
        }
    }

    /// The end of step `step` (0-based) for a Loihi rule: learning. Returns
    /// the synapses updated.
    pub fn end_step(&mut self, step: u64, rules: &[LearningRule], kernels: &[Kernel], runner: &dyn KernelRunner, buf: &mut Scratch) -> u64 {
        match &rules[self.rule] {
            LearningRule::Loihi(rule) => {
                let k = rule.program.index();
                self.loihi_end_step(step, rule, &kernels[k], k, runner, buf)
            }
            // A worker's STDP sets learn together, one batch per rule (`stdp_step`).
            LearningRule::Stdp(_) => 0,
        }
    }

    /// Loihi: the step's spikes into the traces, and, at an epoch's end, learning.
    fn loihi_end_step(&mut self, step: u64, rule: &LoihiRule, program: &Kernel, kernel: usize, runner: &dyn KernelRunner, buf: &mut Scratch) -> u64 {
        let Engine::Loihi(l) = &mut self.engine else { return 0 };
        let t = step + 1; // lava's steps count from 1
        let e = rule.t_epoch as u64;
        // The step within the epoch, 1..=e.
        let wets = if t % e == 0 { e } else { t % e } as u8;
        // (a) pre spikes: a second spike in the epoch adds its impulse now (random 0).
        for &s in &l.spiked_pre {
            let s = s as usize;
            if l.tx[s] > 0 {
                for q in 0..2 {
                    l.x[q][s] = add_impulse(l.x[q][s], 0, &rule.x[q]);
                }
            }
            l.tx[s] = wets;
        }
        l.spiked_pre.clear();
        l.xr.advance();
        l.yr.advance();
        // (b) post spikes, with the y impulse's current random number.
        for &j in &l.spiked_post {
            let j = j as usize;
            if l.ty[j] > 0 {
                for q in 0..3 {
                    l.y[q][j] = add_impulse(l.y[q][j], l.yr.impulse, &rule.y[q]);
                }
            }
            l.ty[j] = wets;
        }
        // A third factor: the post traces are what the neuron sends.
        if let Some(th) = &mut l.third {
            th.spiked.iter_mut().for_each(|x| *x = false);
            for &j in &l.spiked_post {
                th.spiked[j as usize] = true;
            }
            for j in 0..th.own_y1.len() {
                th.own_y1[j] = (th.own_y1[j] * th.factor + th.impulse * th.prev[j] as i32 as f64).floor();
                l.y[0][j] = th.own_y1[j] as i32;
                l.y[1][j] = th.now[j];
                l.y[2][j] = 0;
            }
            std::mem::swap(&mut th.prev, &mut th.spiked);
            std::mem::swap(&mut th.now, &mut th.next);
            th.next.iter_mut().for_each(|x| *x = 0);
        }
        l.spiked_post.clear();
        l.xr.advance();
        l.yr.advance();
        if t % e != 0 {
            return 0;
        }
        self.learn(t, rule, program, kernel, runner, buf)
    }

    /// One epoch's learning (lava's `run_lrn`).
    fn learn(&mut self, t: u64, rule: &LoihiRule, program: &Kernel, kernel: usize, runner: &dyn KernelRunner, buf: &mut Scratch) -> u64 {
        let Engine::Loihi(l) = &mut self.engine else { return 0 };
        let e = rule.t_epoch as usize;
        l.rc_bits = (l.rc.next64() >> 57) as u32;
        // Trace histories over the epoch: h[k] after sub-step k (0: the stored values).
        let hist = |stored: &[Vec<i32>], specs: &[TraceSpec], last: &[u8], r: &TraceRandom| -> Vec<Vec<Vec<i32>>> {
            let mut h = vec![stored.to_vec()];
            for k in 1..=e {
                let prev = &h[k - 1];
                let mut next: Vec<Vec<i32>> = prev.iter().zip(specs).map(|(v, sp)| v.iter().map(|&x| decay(x, sp, r.decay)).collect()).collect();
                for (i, &l) in last.iter().enumerate() {
                    if l as usize == k {
                        for (q, sp) in specs.iter().enumerate() {
                            next[q][i] = add_impulse(next[q][i], r.impulse, sp);
                        }
                    }
                }
                h.push(next);
            }
            h
        };
        let xh = hist(&l.x, &rule.x, &l.tx, &l.xr);
        let yh = hist(&l.y, &rule.y, &l.ty, &l.yr);
        // Which synapses the rule changes: those of neurons that spiked, or all when u counts.
        let u = match rule.decimation {
            Some(k) => ((t / rule.t_epoch as u64) % (1u64 << k) == 0) as i32,
            None => 0,
        };
        let n_syn = self.syn.len();
        buf.active.clear();
        if u != 0 {
            buf.active.extend(0..n_syn as u32);
        } else {
            buf.mark.clear();
            buf.mark.resize(n_syn, false);
            for (s, &txs) in l.tx.iter().enumerate() {
                if txs > 0 {
                    for k in self.by_pre[s] as usize..self.by_pre[s + 1] as usize {
                        buf.mark[k] = true;
                    }
                }
            }
            for (j, &tys) in l.ty.iter().enumerate() {
                if tys > 0 {
                    for &k in &self.by_post_syn[self.by_post[j] as usize..self.by_post[j + 1] as usize] {
                        buf.mark[k as usize] = true;
                    }
                }
            }
            buf.active.extend((0..n_syn as u32).filter(|&k| buf.mark[k as usize]));
        }
        let n = buf.active.len();
        if n > 0 {
            let np = padded(n);
            let ops = &rule.operands;
            buf.input.clear();
            buf.input.resize(ops.len() * np, 0);
            let mut state: Vec<LineVec<i32>> = (0..3).map(|_| LineVec::zeroed(np)).collect();
            for (a, &k) in buf.active.iter().enumerate() {
                let k = k as usize;
                let (i, j) = (self.pre_slot[k] as usize, self.syn[k].post as usize);
                state[0][a] = self.syn[k].w;
                state[1][a] = l.tag2[k];
                state[2][a] = l.tag1[k];
                for (p, op) in ops.iter().enumerate() {
                    buf.input[p * np + a] = match *op {
                        Operand::X0 => (l.tx[i] > 0) as i32,
                        Operand::Y0 => (l.ty[j] > 0) as i32,
                        Operand::U => u,
                        Operand::Round => l.rc_bits as i32,
                        Operand::Trace(q, at) => {
                            let when = match at {
                                At::Pre => l.tx[i] as usize,
                                At::Post => l.ty[j] as usize,
                                At::End => e,
                            };
                            match q {
                                Trace::X1 => xh[when][0][i],
                                Trace::X2 => xh[when][1][i],
                                Trace::Y1 => yh[when][0][j],
                                Trace::Y2 => yh[when][1][j],
                                Trace::Y3 => yh[when][2][j],
                            }
                        }
                    };
                }
            }
            let mut d = KernelData { n, state, params: vec![] };
            buf.flags.clear();
            buf.flags.resize(np / 4 + 8, 0);
            runner.run_program(kernel, program, &mut d, &mut buf.input, np, &mut buf.flags);
            for (a, &k) in buf.active.iter().enumerate() {
                let k = k as usize;
                self.syn[k].w = d.state[0][a];
                l.tag2[k] = d.state[1][a];
                l.tag1[k] = d.state[2][a];
            }
        }
        // The epoch's end values are the next epoch's start (a third factor's y come from the neuron).
        l.x = [xh[e][0].clone(), xh[e][1].clone()];
        if rule.reward.is_none() {
            l.y = [yh[e][0].clone(), yh[e][1].clone(), yh[e][2].clone()];
        }
        l.tx.iter_mut().for_each(|x| *x = 0);
        l.ty.iter_mut().for_each(|x| *x = 0);
        n as u64
    }
}

/// Buffers a worker reuses across steps.
#[derive(Default)]
pub struct Scratch {
    active: Vec<u32>,
    mark: Vec<bool>,
    input: Vec<i32>,
    flags: Vec<u8>,
    /// STDP's batch.
    pub lanes: Lanes,
    /// STDP's synapses during a run.
    pub arena: StdpArena,
}

/// A row's synapses add their weights into the ring slots of their delays.
#[inline]
fn add_weights<R: std::ops::DerefMut<Target = [i32]>>(row: &[PSyn], step: u64, ring: &mut [R], in_base: usize) {
    let mask = ring.len() - 1;
    for x in row {
        let r = &mut ring[(step as usize + x.delay as usize) & mask];
        let at = x.offset as usize - in_base;
        r[at] = r[at].wrapping_add(x.w);
    }
}

/// A worker's STDP synapses for a run, laid out by source neuron: a spike's
/// synapses on all of the worker's cores are one stretch (as the static
/// arena's), each set's part of it a segment carrying that set slot's pre
/// trace. Built from the sets when the run starts and written back into them
/// when it ends, so the sets own the state between runs (and any number of
/// threads can run them next).
#[derive(Default)]
pub struct StdpArena {
    /// Per source core (empty: it feeds none of them): its neuron i's segments
    /// are `segs[first[src][i]..first[src][i + 1]]`.
    first: Vec<Vec<u32>>,
    segs: Vec<Seg>,
    syn: Vec<PSyn>,
    /// Every STDP set's post neurons' newest spikes, one set after another
    /// (a copy of the sets' own, read without going through them), and
    /// where each (core, set) starts in it.
    newest: Vec<Newest>,
    base: Vec<Vec<u32>>,
    /// This step's spikes that reach the arena, as ranges of `segs`.
    pending: Vec<(u32, u32)>,
}

/// One set's synapses of one pre neuron (a set slot's row) in the arena,
/// and the slot's pre trace: its last spike's time and trace.
#[derive(Clone, Copy, Debug)]
struct Seg {
    /// The core (index in the worker) and the set.
    core: u32,
    set: u32,
    slot: u32,
    rule: u32,
    /// Its set's place in `StdpArena::newest`.
    post_base: u32,
    start: u32,
    end: u32,
    last_time: u32,
    last_trace: i32,
}

impl StdpArena {
    /// The arena of `cores` (a worker's, the first being the machine's
    /// `first`), fed as `pre_subs` says.
    pub fn build(cores: &[crate::machine::Core], first: usize, pre_subs: &[PreSubs]) -> StdpArena {
        let mut a = StdpArena::default();
        for c in cores {
            let mut b = Vec::with_capacity(c.plastic.len());
            for p in &c.plastic {
                b.push(a.newest.len() as u32);
                if let Engine::Stdp(st) = &p.engine {
                    a.newest.extend_from_slice(&st.newest);
                }
            }
            a.base.push(b);
        }
        let mine = first..first + cores.len();
        for ps in pre_subs {
            let n = ps.by_neuron.len().saturating_sub(1);
            let any = ps.subs.iter().any(|x| x.stdp && mine.contains(&(x.core as usize)));
            if !any {
                a.first.push(Vec::new());
                continue;
            }
            let mut f = Vec::with_capacity(n + 1);
            f.push(a.segs.len() as u32);
            for i in 0..n as u32 {
                for x in ps.of(i).iter().filter(|x| x.stdp && mine.contains(&(x.core as usize))) {
                    let ci = x.core as usize - first;
                    let p = &cores[ci].plastic[x.set as usize];
                    let Engine::Stdp(st) = &p.engine else { continue };
                    let (lo, hi) = (p.by_pre[x.slot as usize] as usize, p.by_pre[x.slot as usize + 1] as usize);
                    let start = a.syn.len() as u32;
                    a.syn.extend_from_slice(&p.syn[lo..hi]);
                    let (last_time, last_trace) = st.pre_last[x.slot as usize];
                    a.segs.push(Seg {
                        core: ci as u32,
                        set: x.set,
                        slot: x.slot,
                        rule: p.rule as u32,
                        post_base: a.base[ci][x.set as usize],
                        start,
                        end: a.syn.len() as u32,
                        last_time,
                        last_trace,
                    });
                }
                f.push(a.segs.len() as u32);
            }
            a.first.push(f);
        }
        a
    }

    /// Neuron `i` of source core `src` spiked: its synapses here learn at the step's end.
    #[inline]
    pub fn spike(&mut self, src: usize, i: u32) {
        if let Some(f) = self.first.get(src).filter(|f| !f.is_empty()) {
            let (a, b) = (f[i as usize], f[i as usize + 1]);
            if a < b {
                self.pending.push((a, b));
            }
        }
    }

    /// A post neuron of set `set` of the worker's core `core` spiked.
    #[inline]
    pub fn post_spike(&mut self, core: usize, set: usize, neuron: u32, n: Newest) {
        self.newest[(self.base[core][set] + neuron) as usize] = n;
    }

    /// The run's weights, words and pre traces back into the sets.
    pub fn write_back(&self, cores: &mut [crate::machine::Core]) {
        for g in &self.segs {
            let p = &mut cores[g.core as usize].plastic[g.set as usize];
            let lo = p.by_pre[g.slot as usize] as usize;
            p.syn[lo..lo + (g.end - g.start) as usize].copy_from_slice(&self.syn[g.start as usize..g.end as usize]);
            if let Engine::Stdp(st) = &mut p.engine {
                st.pre_last[g.slot as usize] = (g.last_time, g.last_trace);
            }
        }
    }

    /// STDP, at the end of a step, for `rule` (index `ri`): each pending
    /// spike's segments of that rule update their pre traces, and each
    /// synapse they reach that could change becomes a lane of `b` (sPyNNaker
    /// processes every synapse of the row: all are counted, per core, by
    /// `updated`).
    fn gather(&mut self, cores: &mut [crate::machine::Core], step: u64, ri: usize, rule: &StdpRule, b: &mut Lanes, updated: &mut dyn FnMut(usize, u64)) {
        let t = step as u32;
        for &(a, z) in &self.pending {
            for g in &mut self.segs[a as usize..z as usize] {
                if g.rule as usize != ri {
                    continue;
                }
                let Engine::Stdp(st) = &cores[g.core as usize].plastic[g.set as usize].engine else { continue };
                let newest_of = &self.newest[g.post_base as usize..];
                let (last_time, last_trace) = (g.last_time, g.last_trace);
                (g.last_time, g.last_trace) = (t, pre_trace(t, last_time, last_trace, &rule.plus));
                updated(g.core as usize, (g.end - g.start) as u64);
                for k in g.start..g.end {
                    let x = self.syn[k as usize];
                    let j = x.post as usize;
                    let Newest { time: newest, trace, count, prev } = newest_of[j];
                    if count == 0 {
                        continue; // no post spike yet: no event
                    }
                    let d = x.delay as u32;
                    let begin = last_time.saturating_sub(d);
                    // The two common windows, as `window` makes them, without reading the history.
                    if newest <= begin {
                        // No post spike since the previous pre spike's arrival: only the newest's depression.
                        b.window.potentiate.clear();
                        b.window.depress = Some(mul16(trace as i32, rule.minus.decay(t.wrapping_sub(newest.wrapping_add(d)))));
                    } else if newest <= t.saturating_sub(d) && prev <= begin {
                        // One post spike since then: it potentiates (unless it coincides with the
                        // previous pre spike's arrival) and then depresses.
                        b.window.potentiate.clear();
                        let since_pre = newest.wrapping_add(d).wrapping_sub(last_time);
                        if since_pre > 0 {
                            b.window.potentiate.push(mul16(last_trace, rule.plus.decay(since_pre)));
                        }
                        b.window.depress = Some(mul16(trace as i32, rule.minus.decay(t.wrapping_sub(newest.wrapping_add(d)))));
                    } else {
                        st.history[j].window(t, last_time, last_trace, d, &rule.plus, &rule.minus, &mut b.window);
                    }
                    let level = rule.reward.as_ref().map_or(nerve_isa::learning::stdp::ONE, |rw| st.level[j].at(t, &rw.lut));
                    // A synapse with no potentiation and a zero depression does not change
                    // (additive: unless its weight is below w_min, which the depression clamps).
                    if b.window.potentiate.is_empty() {
                        let o = b.window.depress.map(|o| if rule.reward.is_some() { ((o as i64 * level as i64) >> 11) as i32 } else { o });
                        let w = (x.word as i32) << rule.shift;
                        if o.is_none_or(|o| o == 0 && (rule.multiplicative || w >= rule.w_min)) {
                            continue;
                        }
                    }
                    b.rounds = b.rounds.max(b.window.potentiate.len());
                    let pot_at = b.pot.len() as u32;
                    b.pot.extend_from_slice(&b.window.potentiate);
                    b.lanes.push(Lane {
                        k,
                        word: x.word as i32,
                        pot_at,
                        pots: b.window.potentiate.len() as u32,
                        dep: b.window.depress.unwrap_or(0),
                        has_dep: b.window.depress.is_some(),
                        level,
                    });
                }
            }
        }
    }
}

/// A synapse one STDP rule updates this step: its place in the arena,
/// word, potentiations (`Lanes::pot[pot_at..pot_at + pots]`), depression
/// and reward level.
#[derive(Clone, Copy, Debug)]
struct Lane {
    k: u32,
    word: i32,
    pot_at: u32,
    pots: u32,
    dep: i32,
    has_dep: bool,
    level: i32,
}

/// The synapses one STDP rule updates this step, on a worker's cores.
#[derive(Default)]
pub struct Lanes {
    window: Window,
    lanes: Vec<Lane>,
    pot: Vec<i32>,
    rounds: usize,
    input: Vec<i32>,
    flags: Vec<u8>,
    state: Vec<LineVec<i32>>,
    order: Vec<u32>,
}

impl Lanes {
    fn clear(&mut self) {
        self.lanes.clear();
        self.pot.clear();
        self.rounds = 1;
    }

    /// The rule's program over every lane, in rounds (a lane's k-th
    /// potentiation in round k; its depression with its last). Lanes are
    /// ordered by their rounds, most first, so that round k runs the lanes
    /// that have a k-th: state 1 and 2 then hold each lane's new word and
    /// delivered weight at its place in `order`.
    fn run(&mut self, rule: &StdpRule, program: &Kernel, kernel: usize, runner: &dyn KernelRunner) -> KernelData {
        let n = self.lanes.len();
        let np = padded(n);
        const K: usize = nerve_isa::learning::stdp::PER_ROUND;
        let ports = 3 + 2 * K + rule.reward.is_some() as usize;
        let rounds_of = |a: usize| (self.lanes[a].pots as usize).max(1).div_ceil(K);
        self.order.clear();
        let most = self.rounds.max(1).div_ceil(K);
        if most == 1 {
            self.order.extend(0..n as u32);
        } else {
            // Most rounds first (a counting sort: stable, and rounds are few).
            for r in (1..=most).rev() {
                self.order.extend((0..n as u32).filter(|&a| rounds_of(a as usize) == r));
            }
        }
        let mut state = std::mem::take(&mut self.state);
        state.resize(3, LineVec::default());
        for (q, v) in state.iter_mut().enumerate() {
            v.reset_zeroed(np);
            if q == 1 {
                for (i, &a) in self.order.iter().enumerate() {
                    v[i] = self.lanes[a as usize].word;
                }
            }
        }
        let mut d = KernelData { n, state, params: vec![] };
        self.flags.clear();
        self.flags.resize(np / 4 + 8, 0);
        for round in 0..most {
            // The lanes with a round `round`: a prefix of `order`.
            let m = self.order.partition_point(|&a| rounds_of(a as usize) > round);
            let mp = padded(m);
            self.input.clear();
            self.input.resize(ports * mp, 0);
            let inp = &mut self.input;
            for (i, &a) in self.order[..m].iter().enumerate() {
                let a = a as usize;
                let l = &self.lanes[a];
                let pots = &self.pot[l.pot_at as usize..(l.pot_at + l.pots) as usize];
                inp[i] = (round == 0) as i32;
                for (q, &r) in pots.iter().skip(round * K).take(K).enumerate() {
                    inp[(1 + 2 * q) * mp + i] = 1;
                    inp[(2 + 2 * q) * mp + i] = r;
                }
                // The depression follows the last potentiation.
                if l.has_dep && round + 1 == pots.len().max(1).div_ceil(K) {
                    inp[(1 + 2 * K) * mp + i] = 1;
                    inp[(2 + 2 * K) * mp + i] = l.dep;
                }
                if rule.reward.is_some() {
                    inp[(3 + 2 * K) * mp + i] = l.level;
                }
            }
            d.n = m;
            runner.run_program(kernel, program, &mut d, &mut self.input, mp, &mut self.flags);
        }
        d.n = n;
        d
    }
}

/// A worker's STDP at the end of a step: for each rule, every synapse the
/// step's pre spikes reach on the worker's cores learns in one batch (one
/// program run per round, not one per core); then they deliver their
/// weights. `updated(core, n)` is told the synapses each core processed.
#[allow(clippy::too_many_arguments)]
pub fn stdp_step<R: std::ops::DerefMut<Target = [i32]>>(
    cores: &mut [crate::machine::Core],
    arena: &mut StdpArena,
    step: u64,
    rules: &[LearningRule],
    kernels: &[Kernel],
    runner: &dyn KernelRunner,
    b: &mut Lanes,
    ring: &mut [R],
    in_base: usize,
    updated: &mut dyn FnMut(usize, u64),
) {
    if arena.pending.is_empty() {
        return;
    }
    for (ri, r) in rules.iter().enumerate() {
        let LearningRule::Stdp(rule) = r else { continue };
        b.clear();
        arena.gather(cores, step, ri, rule, b, updated);
        if !b.lanes.is_empty() {
            let k = rule.program.index();
            let d = b.run(rule, &kernels[k], k, runner);
            for (i, &a) in b.order.iter().enumerate() {
                let x = &mut arena.syn[b.lanes[a as usize].k as usize];
                x.word = d.state[1][i] as u16;
                x.w = d.state[2][i];
            }
            b.state = d.state;
        }
    }
    for &(a, z) in &arena.pending {
        let (lo, hi) = (arena.segs[a as usize].start as usize, arena.segs[z as usize - 1].end as usize);
        add_weights(&arena.syn[lo..hi], step, ring, in_base);
    }
    arena.pending.clear();
}

/// A pre neuron that feeds plastic synapses: the source core's neuron, and
/// the destination core, set and slot its spikes go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PreSub {
    pub neuron: u32,
    pub core: u32,
    pub set: u32,
    /// The pre slot; for a reward, the post neuron it rewards (`u32::MAX`: all).
    pub slot: u32,
    /// A third factor's reward rather than a pre neuron.
    pub reward: bool,
    /// The set learns by STDP (its spikes go through the worker's `StdpArena`).
    pub stdp: bool,
}

/// A source core's subscribers, by neuron: neuron i's are
/// `subs[by_neuron[i]..by_neuron[i + 1]]` (an index, not a search: every
/// spike of the core looks them up).
#[derive(Clone, Debug, Default)]
pub struct PreSubs {
    by_neuron: Vec<u32>,
    subs: Vec<PreSub>,
}

impl PreSubs {
    /// From a source core's subscribers in any order; `n`: its neurons.
    pub fn new(mut subs: Vec<PreSub>, n: usize) -> PreSubs {
        if subs.is_empty() {
            return PreSubs::default();
        }
        subs.sort_unstable();
        let mut by_neuron = vec![0u32; n + 1];
        for x in &subs {
            by_neuron[x.neuron as usize + 1] += 1;
        }
        for i in 0..n {
            by_neuron[i + 1] += by_neuron[i];
        }
        PreSubs { by_neuron, subs }
    }

    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    /// Every subscriber, by neuron.
    pub fn all(&self) -> &[PreSub] {
        &self.subs
    }

    #[inline]
    pub fn of(&self, neuron: u32) -> &[PreSub] {
        let i = neuron as usize;
        &self.subs[self.by_neuron[i] as usize..self.by_neuron[i + 1] as usize]
    }
}

/// A learning projection's synapses as a run left them.
#[derive(Clone, Debug, PartialEq)]
pub struct Learned {
    pub projection: String,
    /// The projection's index among the network's projections.
    pub index: u32,
    pub pre_pop: u32,
    pub post_pop: u32,
    /// Synapses sorted by (pre, post, delay).
    pub synapses: Vec<LearnedSyn>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearnedSyn {
    /// Indices in the pre and post populations.
    pub pre: u32,
    pub post: u32,
    /// The weight in the projection's units (an integer for integer weights).
    pub weight: f64,
    /// Timesteps.
    pub delay: u8,
}

impl crate::machine::Machine {
    /// Every learning projection's synapses with their current weights, by projection index.
    pub fn learned(&self) -> Vec<Learned> {
        let mut out: Vec<Learned> = Vec::new();
        for c in &self.cores {
            let first = self.pops[c.pop as usize].slices.iter().find(|s| s.core == c.id).map_or(0, |s| s.first);
            for p in &c.plastic {
                let at = match out.iter().position(|l| l.index == p.index) {
                    Some(i) => i,
                    None => {
                        out.push(Learned { projection: p.projection.clone(), index: p.index, pre_pop: p.pre_pop, post_pop: c.pop, synapses: Vec::new() });
                        out.len() - 1
                    }
                };
                let l = &mut out[at];
                for (k, x) in p.syn.iter().enumerate() {
                    l.synapses.push(LearnedSyn { pre: p.pre[k], post: first + x.post, weight: p.learned_weight(k, &self.rules), delay: x.delay });
                }
            }
        }
        for l in &mut out {
            l.synapses.sort_by(|a, b| (a.pre, a.post, a.delay).cmp(&(b.pre, b.post, b.delay)).then(a.weight.total_cmp(&b.weight)));
        }
        out.sort_by_key(|l| l.index);
        out
    }

    /// A population's state variables now, in their physical units, neuron by neuron.
    pub fn state_of(&self, pop: usize) -> Vec<(String, Vec<f64>)> {
        let p = &self.pops[pop];
        let mut vars: Vec<(String, Vec<f64>)> = p.vars.iter().map(|v| (v.name.clone(), vec![0.0; p.size as usize])).collect();
        for s in &p.slices {
            let Some(c) = self.cores.iter().find(|c| c.id == s.core) else { continue };
            if let crate::machine::Run::Kernel { data, .. } = &c.run {
                for (v, (_, vals)) in p.vars.iter().zip(vars.iter_mut()) {
                    for i in 0..s.count as usize {
                        vals[s.first as usize + i] = data.state[v.slot as usize][i] as f64 * v.scale + v.offset;
                    }
                }
            }
        }
        vars
    }
}
