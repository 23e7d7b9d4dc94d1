//! SpiNNaker's pair STDP as sPyNNaker 1!7.4.1 computes it (PyNN's
//! `SpikePairRule` with an additive or multiplicative weight dependence):
//! event-driven, a synapse learns when its pre neuron's spike is processed,
//! from the post spikes since the pre neuron's previous spike (Jin et al.
//! 2010's deferred update). Traces are 16-bit with one = 2^11, decays come
//! from lookup tables, weights are 16-bit words with a shift into S16.15 nA.
//! Derivation and validation (the wheel's Python, the C sources, the 7.4.1
//! ARM code run in an emulator): bench/learning/spynnaker_stdp/SPEC.md.
//!
//! The trace and history arithmetic is here; the weight update is a program
//! in the kernel ISA (`StdpRule::program`), run in rounds over the synapses
//! a step's pre spikes reach (state slots: 0 the S16.15 weight, 1 the word,
//! 2 the weight delivered; inputs: first round, `PER_ROUND` potentiations
//! each with its decayed pre trace, depression and its decayed post trace,
//! and the reward level where a third factor scales them).

use serde::{Deserialize, Serialize};

use crate::ids::{KernelId, PopId};

/// Potentiations one round of a rule's program applies.
pub const PER_ROUND: usize = 4;

/// A trace's one (sPyNNaker's `STDP_FIXED_POINT_ONE`).
pub const ONE: i32 = 1 << 11;

/// Post events a neuron keeps: slot 0 is a placeholder (time 0, trace 0),
/// so 15 real ones; an older one is dropped (as sPyNNaker does, silently).
pub const HISTORY: usize = 16;

/// An exponential decay table (sPyNNaker's `get_exp_lut_array`): entry i is
/// ⌊exp(−(i·2^shift)·dt/τ)·2^11⌋, and 0 beyond the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lut {
    pub shift: u8,
    pub values: Vec<u16>,
}

impl Lut {
    /// The table for a time constant `tau` at timestep `dt` (same units).
    pub fn exp(dt: f64, tau: f64) -> Lut {
        let l = dt / tau;
        let n = Lut::entries(dt, tau) as usize;
        let values = (0..n).map(|i| ((-(i as f64) * l).exp() * ONE as f64).floor() as u16).collect();
        Lut { shift: 0, values }
    }

    /// How many entries `exp(dt, tau)` has, as sPyNNaker sizes the table:
    /// ln(2048)/(dt/τ) rounded up to an even count. Also for a τ whose table
    /// is too long to build (the compiler's bound is checked with this, so
    /// that it and the table agree to the last ulp).
    pub fn entries(dt: f64, tau: f64) -> f64 {
        let size = (ONE as f64).ln() / (dt / tau);
        let (q, r) = (size.div_euclid(2.0), size.rem_euclid(2.0));
        (q + if r > 0.0 { 1.0 } else { 0.0 }) * 2.0
    }

    /// The decay over `time` steps (a wrapping difference: a "negative" one is huge, so 0).
    #[inline]
    pub fn decay(&self, time: u32) -> i32 {
        self.values.get((time >> self.shift) as usize).map_or(0, |&v| v as i32)
    }
}

/// The value of a 16-bit register holding `x`.
#[inline]
pub fn wrap16(x: i32) -> i32 {
    x as i16 as i32
}

/// sPyNNaker's `STDP_FIXED_MUL_16X16`: the signed low halves multiplied, >> 11.
#[inline]
pub fn mul16(a: i32, b: i32) -> i32 {
    (wrap16(a) * wrap16(b)) >> 11
}

/// A number as S16.15 (what sPyNNaker writes for A±, w_min, w_max): ×2^15,
/// ties to even, of the number as Python prints it: sPyNNaker's
/// `DataType.S1615.encode_as_int` rounds `Decimal(str(x)) * 2^15`, so where
/// x·2^15 is a hair from a half the shortest decimal that prints x decides
/// (512.0000152587891 is 2^9 + 2^-16 in binary, an exact tie that rounds
/// down to even, but its decimal lies past the half: sPyNNaker's word is
/// one more). Elsewhere the two agree.
pub fn s1615(x: f64) -> i32 {
    let scaled = x * 32768.0; // exact: a power of two
    let near_half = (scaled - scaled.floor() - 0.5).abs() < 1e-6;
    match near_half.then(|| decimal_s1615(x)).flatten() {
        Some(v) => v,
        None => scaled.round_ties_even() as i32,
    }
}

/// `round(Decimal(str(x)) * 32768)`, half to even, in integers; `None` if
/// x's shortest decimal has too many places for 128 bits (never near a half).
fn decimal_s1615(x: f64) -> Option<i32> {
    // Rust's `{:e}` and Python's `str` both give the shortest decimal that reads back as x.
    let text = format!("{:e}", x.abs());
    let (mantissa, exp) = text.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let places = digits.len() as i32 - 1 - exp; // x = digits · 10^-places
    let n: u128 = digits.parse::<u128>().ok()? * 32768;
    let q = if places <= 0 {
        n.checked_mul(10u128.checked_pow((-places) as u32)?)?
    } else {
        let d = 10u128.checked_pow(places as u32)?;
        let (q, r) = (n / d, n % d);
        match (2 * r).cmp(&d) {
            std::cmp::Ordering::Greater => q + 1,
            std::cmp::Ordering::Equal => q + (q & 1),
            std::cmp::Ordering::Less => q,
        }
    };
    let q = i64::try_from(q).ok()?.min(i32::MAX as i64) as i32;
    Some(if x < 0.0 { -q } else { q })
}

/// A pre neuron's trace after a spike at `time`, its previous at `last_time` with `last_trace`.
#[inline]
pub fn pre_trace(time: u32, last_time: u32, last_trace: i32, lut: &Lut) -> i32 {
    wrap16(mul16(last_trace, lut.decay(time.wrapping_sub(last_time))) + ONE)
}

/// A post neuron's recent spikes and the trace after each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostHistory {
    pub times: [u32; HISTORY],
    pub traces: [i16; HISTORY],
    /// Real entries (slots 1..=count).
    pub count: u8,
}

impl Default for PostHistory {
    fn default() -> Self {
        PostHistory { times: [0; HISTORY], traces: [0; HISTORY], count: 0 }
    }
}

/// What a synapse's pre spike learns from its post neuron's history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Each potentiation's decayed pre trace, oldest first.
    pub potentiate: Vec<i32>,
    /// The depression's decayed post trace, if the post neuron has a spike before.
    pub depress: Option<i32>,
}

impl PostHistory {
    /// A spike at `time`: its trace from the newest entry's, decayed by `lut` (τ−).
    pub fn add(&mut self, time: u32, lut: &Lut) {
        let k = self.count as usize;
        let trace = wrap16(wrap16(mul16(self.traces[k] as i32, lut.decay(time.wrapping_sub(self.times[k])))) + ONE);
        if k < HISTORY - 1 {
            self.count += 1;
            self.times[k + 1] = time;
            self.traces[k + 1] = trace as i16;
        } else {
            self.times.copy_within(2.., 1);
            self.traces.copy_within(2.., 1);
            self.times[HISTORY - 1] = time;
            self.traces[HISTORY - 1] = trace as i16;
        }
    }

    /// The learning of a synapse with delay `d` whose pre neuron spikes at
    /// `t` (its previous spike at `last_time` with trace `last_trace`):
    /// the post spikes in (last_time − d, t − d] potentiate, each with the pre
    /// trace decayed to its arrival, and the latest post spike at or before
    /// t − d depresses with its trace decayed to the pre spike's arrival.
    #[allow(clippy::too_many_arguments)]
    pub fn window(&self, t: u32, last_time: u32, last_trace: i32, d: u32, plus: &Lut, minus: &Lut, out: &mut Window) {
        out.potentiate.clear();
        let begin = last_time.saturating_sub(d);
        let end = t.saturating_sub(d);
        let count = self.count as usize + 1;
        // Back from the newest: the first entry at or before `begin` (or the placeholder) is `prev`;
        // `end_event` is one past the last entry at or before `end`.
        let mut end_event = count;
        let mut i = count;
        let next;
        loop {
            if i < count && self.times[i] > end {
                end_event = i;
            }
            let n = i;
            i -= 1;
            if !(self.times[i] > begin && i != 0) {
                next = n;
                break;
            }
        }
        let (mut prev_time, mut prev_trace, mut valid) = (self.times[i], self.traces[i] as i32, i != 0);
        for k in next..end_event {
            let since_pre = (self.times[k].wrapping_add(d)).wrapping_sub(last_time);
            if since_pre > 0 {
                out.potentiate.push(mul16(last_trace, plus.decay(since_pre)));
            }
            (prev_time, prev_trace, valid) = (self.times[k], self.traces[k] as i32, true);
        }
        out.depress = valid.then(|| mul16(prev_trace, minus.decay(t.wrapping_sub(prev_time.wrapping_add(d)))));
    }
}

/// A reward-modulated rule's third factor: each post neuron's level (one =
/// 2^11) rises by `weight` at each spike of its reward neuron and decays by
/// `lut` (the level at a step: the last value decayed since its time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StdpReward {
    pub pop: PopId,
    pub weight: i32,
    pub lut: Lut,
}

/// A reward level: `level` at `time`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Level {
    pub time: u32,
    pub level: i32,
}

impl Level {
    /// The level at `t` (≥ the stored time).
    #[inline]
    pub fn at(&self, t: u32, lut: &Lut) -> i32 {
        mul16(self.level, lut.decay(t.wrapping_sub(self.time)))
    }
    /// A reward spike at `t` adds `w`, saturating at the 16-bit trace's largest value.
    pub fn add(&mut self, t: u32, w: i32, lut: &Lut) {
        self.level = (self.at(t, lut) + w).min(i16::MAX as i32);
        self.time = t;
    }
}

/// Pair STDP for one projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StdpRule {
    /// exp(−Δt/τ+) and exp(−Δt/τ−) over timesteps.
    pub plus: Lut,
    pub minus: Lut,
    /// A word's S16.15 weight is word << shift (sPyNNaker's ring-buffer left shift).
    pub shift: u8,
    /// The words' S16.15 parameters (A± already as the dependence uses them).
    pub a_plus: i32,
    pub a_minus: i32,
    pub w_min: i32,
    pub w_max: i32,
    pub multiplicative: bool,
    /// The program run per synapse and round (see the module's doc).
    pub program: KernelId,
    /// A word's weight in the projection's units (nA): 2^(shift − 15).
    pub word_unit: f64,
    /// Words are magnitudes (as sPyNNaker's); an inhibitory projection's weights are negative.
    pub negative: bool,
    pub reward: Option<StdpReward>,
    /// The rule as the network gave it, for messages.
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_as_spynnaker() {
        // τ 20 ms at 1 ms: 154 entries [2048, 1948, 1853, ...] (the wheel's get_exp_lut_array).
        let l = Lut::exp(1.0, 20.0);
        assert_eq!(l.values.len(), 154);
        assert_eq!(&l.values[..3], &[2048, 1948, 1853]);
        assert_eq!(Lut::exp(0.1, 20.0).values.len(), 1526);
        assert_eq!(l.decay(154), 0);
        assert_eq!(l.decay(u32::MAX), 0);
        assert_eq!(s1615(0.01), 328);
        assert_eq!(s1615(1.0), 32768);
    }

    /// sPyNNaker's encode_as_int, `int(round(Decimal(str(x)) * 32768))` in
    /// Python 3.11: where x·2^15 is an exact binary tie or a hair from one,
    /// the decimal decides (the first four were one off, found by review).
    #[test]
    fn s1615_rounds_as_spynnaker() {
        for (x, word) in [
            (512.0000152587891, 16777217),
            (-512.0000152587891, -16777217),
            (11358.219345092773, 372186131),
            (35246.95594787598, 1154972253),
            (1.52587890625e-05, 0),
            (4.57763671875e-05, 2),
            (65535.99998474121, 2147483647),
        ] {
            assert_eq!(s1615(x), word, "{x}");
        }
    }

    /// One post spike 5 steps after a pre spike (delay 1): potentiation with
    /// the pre trace decayed over 5 + 1 − 0 = 6 steps; the next pre spike 10
    /// steps later depresses with the post trace decayed over 10 − 5 − 1 = 4.
    #[test]
    fn a_pair_by_hand() {
        let (plus, minus) = (Lut::exp(1.0, 20.0), Lut::exp(1.0, 20.0));
        let mut h = PostHistory::default();
        let pre0 = pre_trace(10, 0, 0, &plus);
        assert_eq!(pre0, ONE);
        h.add(15, &minus);
        assert_eq!(h.traces[1] as i32, ONE);
        let mut w = Window::default();
        h.window(25, 10, pre0, 1, &plus, &minus, &mut w);
        assert_eq!(w.potentiate, vec![mul16(ONE, plus.decay(6))]);
        assert_eq!(w.depress, Some(mul16(ONE, minus.decay(9))));
        // A post spike at t − d exactly (lag 0) depresses with the full trace.
        h.window(16, 10, pre0, 1, &plus, &minus, &mut w);
        assert_eq!(w.potentiate, vec![mul16(ONE, plus.decay(6))]);
        assert_eq!(w.depress, Some(ONE));
        // Before any post spike: nothing.
        PostHistory::default().window(25, 10, pre0, 1, &plus, &minus, &mut w);
        assert_eq!(w, Window::default());
    }

    #[test]
    fn the_history_keeps_fifteen() {
        let lut = Lut::exp(1.0, 20.0);
        let mut h = PostHistory::default();
        for t in 1..=20 {
            h.add(t * 3, &lut);
        }
        assert_eq!(h.count, 15);
        assert_eq!(h.times[1], 18);
        assert_eq!(h.times[15], 60);
        assert_eq!(h.times[0], 0);
    }
}
