//! On-chip learning as data and arithmetic: the rules an image carries, the
//! plastic synapses of each core, and the trace and rounding arithmetic of
//! Loihi's learning engine as lava-nc's fixed-point model defines it
//! (docs/learning.md). The emulator runs it; nothing of it is defined there.
//!
//! Two engines: Loihi's (here) and SpiNNaker's pair STDP ([`stdp`]).
//!
//! A Loihi rule is a program in the kernel ISA (`program`), run once per
//! synapse at the end of a learning epoch over the synapse's variables
//! (state slots 0, 1, 2: w, d = tag_2, t = tag_1) with the rule's operands
//! as inputs (`operands`, in port order): the dependencies x0, y0, u, the
//! traces at the time each product reads them, and a 7-bit random number
//! for the stochastic rounding. The traces themselves (impulses, decays,
//! their stochastic rounding, numpy's generators) are defined here.

pub mod rng;
pub mod stdp;

use serde::{Deserialize, Serialize};

use crate::ids::{KernelId, PopId};

/// Traces are 7-bit unsigned.
pub const TRACE_MAX: i32 = 127;

/// A trace's impulse (integer part, and fraction in 1/256) and decay time
/// constant (steps; 0: the trace lives only in the step of its spike).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceSpec {
    pub impulse: u16,
    pub impulse_frac: u16,
    pub tau: f64,
}

impl TraceSpec {
    /// lava's decomposition: integer part, fraction rounded half-even to 1/256.
    pub fn new(impulse: f64, tau: f64) -> TraceSpec {
        let i = impulse.floor();
        let f = ((impulse - i) * 256.0).round_ties_even();
        TraceSpec { impulse: i.clamp(0.0, u16::MAX as f64) as u16, impulse_frac: f as u16, tau }
    }
    /// The decay per step, exp(−1/τ) (0 for τ = 0).
    pub fn factor(&self) -> f64 {
        if self.tau == 0.0 {
            0.0
        } else {
            (-1.0 / self.tau).exp()
        }
    }
}

/// A trace plus an impulse, the fraction rounded up when `rnd` (0..127, or 0)
/// is below it (lava compares a 7-bit number with a fraction in 1/256: a
/// fraction of one half or more always rounds up), saturated to 7 bits.
#[inline]
pub fn add_impulse(v: i32, rnd: u32, t: &TraceSpec) -> i32 {
    (v + t.impulse as i32 + ((rnd as u16) < t.impulse_frac) as i32).clamp(0, TRACE_MAX)
}

/// A trace decayed by one step: ⌊f·v⌋, plus one when `r` is below the
/// fraction (float64 arithmetic, as lava computes it); 0 for τ = 0.
#[inline]
pub fn decay(v: i32, t: &TraceSpec, r: f64) -> i32 {
    if t.tau == 0.0 {
        return 0;
    }
    let p = t.factor() * v as f64;
    let fl = p.floor();
    fl as i32 + (r < p - fl) as i32
}

/// One of the five traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Trace {
    X1,
    X2,
    Y1,
    Y2,
    Y3,
}

impl Trace {
    pub const ALL: [Trace; 5] = [Trace::X1, Trace::X2, Trace::Y1, Trace::Y2, Trace::Y3];
    pub fn is_pre(self) -> bool {
        matches!(self, Trace::X1 | Trace::X2)
    }
    pub fn name(self) -> &'static str {
        match self {
            Trace::X1 => "x1",
            Trace::X2 => "x2",
            Trace::Y1 => "y1",
            Trace::Y2 => "y2",
            Trace::Y3 => "y3",
        }
    }
}

/// When a product reads a trace: at the last spike of its pre neuron in the
/// epoch (a product of dependency x0), of its post neuron (y0), or at the
/// end of the epoch (u).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum At {
    Pre,
    Post,
    End,
}

/// An input of a rule's program, per synapse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Operand {
    /// 1 if the pre neuron spiked in the epoch.
    X0,
    /// 1 if the post neuron spiked in the epoch.
    Y0,
    /// 1 in the epochs the rule's decimation selects.
    U,
    /// A trace at a time.
    Trace(Trace, At),
    /// The epoch's random number for the stochastic rounding, 7 bits.
    Round,
}

/// How learned weights are saturated (lava's `sign_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignMode {
    /// −256..255.
    Mixed,
    /// 0..255.
    Excitatory,
    /// −255..0.
    Inhibitory,
}

/// A third factor: every post neuron's y2 is the weighted count of the
/// reward population's spikes of the previous step (y1 its own trace, y3 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reward {
    pub pop: PopId,
    pub weight: i32,
    /// The post neuron's own trace y1: ⌊y1·exp(−1/τ) + impulse·s(t − 1)⌋.
    pub y1_impulse: f64,
    pub y1_tau: f64,
}

/// Loihi's learning engine for one projection (lava's `LoihiLearningRule`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoihiRule {
    /// Steps per learning epoch.
    pub t_epoch: u16,
    pub x: [TraceSpec; 2],
    pub y: [TraceSpec; 3],
    /// x decay and impulse generators are seeded `rng_seed`, `rng_seed + 1`,
    /// y's `rng_seed + 2`, `rng_seed + 3`; the synaptic rounding's 2.
    pub rng_seed: u64,
    /// The program run per synapse (state: w, d, t; inputs: `operands`).
    pub program: KernelId,
    pub operands: Vec<Operand>,
    /// u is 1 every 2^k epochs; `None`: the rule has no u term.
    pub decimation: Option<u8>,
    pub sign_mode: SignMode,
    pub reward: Option<Reward>,
    /// The rule as written (dw, dd, dt), for messages and exports.
    pub text: [String; 3],
}

/// A learning rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LearningRule {
    Loihi(LoihiRule),
    Stdp(stdp::StdpRule),
}

impl LearningRule {
    /// The program the rule runs per synapse.
    pub fn program(&self) -> KernelId {
        match self {
            LearningRule::Loihi(l) => l.program,
            LearningRule::Stdp(s) => s.program,
        }
    }
    pub fn set_program(&mut self, k: KernelId) {
        match self {
            LearningRule::Loihi(l) => l.program = k,
            LearningRule::Stdp(s) => s.program = k,
        }
    }
}

/// A core's plastic synapses of one projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlasticSet {
    /// Index into `Image::rules`.
    pub rule: u32,
    /// The projection's label and its index among the network's projections
    /// (for `--save-weights` and `--save-network`).
    pub projection: String,
    pub projection_index: u32,
    pub pre_pop: PopId,
    /// The core's synapses (indices into `CoreImage::synapses`), sorted.
    pub synapses: Vec<u32>,
    /// Per synapse: its pre neuron (index in `pre_pop`).
    pub pre: Vec<u32>,
    /// Per synapse: tag_1 (t) and tag_2 (d) (Loihi rules).
    pub tag1: Vec<i32>,
    pub tag2: Vec<i32>,
    /// Per synapse: its 16-bit weight word (STDP rules; the synapse's weight
    /// in `CoreImage::synapses` is what the word delivers).
    #[serde(default)]
    pub words: Vec<u16>,
    /// A weight mantissa's value in the projection's units (1 for integer weights).
    pub weight_unit: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impulses_and_decays_as_lava() {
        let t = TraceSpec::new(10.3, 10.0);
        assert_eq!((t.impulse, t.impulse_frac), (10, 77));
        // 77/256 compared with 0..127: rounds up below 77.
        assert_eq!(add_impulse(5, 76, &t), 16);
        assert_eq!(add_impulse(5, 77, &t), 15);
        assert_eq!(add_impulse(120, 0, &t), TRACE_MAX);
        let z = TraceSpec::new(16.0, 0.0);
        assert_eq!(decay(40, &z, 0.5), 0);
        // exp(-1/10)·16 = 14.477…: 15 when r < 0.477…
        assert_eq!(decay(16, &TraceSpec::new(0.0, 10.0), 0.4), 15);
        assert_eq!(decay(16, &TraceSpec::new(0.0, 10.0), 0.5), 14);
    }
}
