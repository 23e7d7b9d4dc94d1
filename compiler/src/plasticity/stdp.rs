//! PyNN's pair STDP compiled into sPyNNaker's fixed point
//! (`nerve_isa::learning::stdp`): decay tables, S16.15 parameters, the
//! weight word's shift, and the per-synapse program that applies a round of
//! potentiation and depression and converts the word into the weight the
//! synapse delivers through the projection's quantisation.

use nerve_isa::instr::r;
use nerve_isa::kernel::builder::KernelBuilder;
use nerve_isa::kernel::Kernel;
use nerve_isa::learning::stdp::{s1615, Lut, StdpReward, StdpRule};

use crate::lower::ProjQuant;
use crate::net::expand::Synapses;
use crate::net::model::*;

/// The largest word (sPyNNaker keeps a bit of headroom: words stay below 2^15).
const WORD_MAX: f64 = 32768.0;

/// Most entries of a decay table: sPyNNaker writes its length in a 16-bit
/// header word and makes it even (`get_exp_lut_array`), so 65,534.
const MAX_TABLE: usize = 65534;

/// sPyNNaker's ring-buffer left shift for a largest weight `w` (nA):
/// the smallest p ≥ 0 with 2^p > w.
pub fn shift_for(w: f64) -> u8 {
    if w <= 0.0 {
        return 0;
    }
    let mut p = w.log2().max(0.0).ceil() as i32;
    if 2f64.powi(p) <= w {
        p += 1;
    }
    p as u8
}

/// How a word becomes the weight a synapse delivers: the quantised mantissa
/// ⌊(word · mult + 2^(sh−1)) / 2^sh⌋ (with the receptor's sign in `mult`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delivery {
    pub mult: i32,
    pub sh: u8,
}

impl Delivery {
    /// Words of `word_unit` nA into mantissas of `mantissa_unit` nA.
    fn new(word_unit: f64, mantissa_unit: f64, sign: i32) -> Result<Delivery, String> {
        let c = word_unit / mantissa_unit;
        if !(c.is_finite() && c > 0.0) {
            return Err(format!("a weight word of {word_unit} nA cannot be delivered at {mantissa_unit} nA per unit"));
        }
        // As many fraction bits as keep the factor below 2^30 (products stay within 64 bits).
        let sh = (29 - c.log2().ceil() as i32).clamp(1, 62) as u8;
        let mult = (c * 2f64.powi(sh as i32)).round();
        if mult < 1.0 || mult >= 2f64.powi(31) {
            return Err(format!("the projection's weight unit ({mantissa_unit} nA) is too far from the learning words' ({word_unit} nA)"));
        }
        Ok(Delivery { mult: sign * mult as i32, sh })
    }

    /// The mantissa a word delivers (what the program computes).
    pub fn apply(&self, word: u16) -> i32 {
        (((word as i64 * self.mult as i64) + (1i64 << (self.sh - 1))) >> self.sh) as i32
    }
}

/// A projection's STDP rule, its program, the synapses' initial words and
/// how words are delivered.
pub struct Planned {
    pub rule: StdpRule,
    pub program: Kernel,
    pub delivery: Delivery,
}

impl Planned {
    /// A synapse's initial word for a weight of `w` nA (rounded half to even, as sPyNNaker's numpy.rint).
    pub fn word(&self, w: f64) -> u16 {
        ((w.abs() / self.rule.word_unit).round_ties_even() as i64 & 0xFFFF) as u16
    }
}

/// A learning word holds a magnitude and the synapse delivers it with the
/// receptor's sign (sPyNNaker's words are unsigned, one receptor per
/// synapse type): a weight of the other sign would be delivered flipped.
/// Refused for every connector, naming the first synapse (or a conv2d
/// kernel's entry, whose synapses all carry it) whose sign disagrees.
fn signs_agree(p: &Projection, sy: &Synapses) -> Result<(), String> {
    let wrong = |w: f64| match p.receptor {
        Receptor::Excitatory => w < 0.0,
        Receptor::Inhibitory => w > 0.0,
    };
    let (want, other) = match p.receptor {
        Receptor::Excitatory => ("≥ 0", "negative ones a projection of their own on the inhibitory receptor"),
        Receptor::Inhibitory => ("≤ 0", "positive ones a projection of their own on the excitatory receptor"),
    };
    let why = |what: String| {
        format!(
            "{what} on the {} receptor: an STDP weight is a magnitude delivered with its receptor's sign, so a learning projection's weights on the {} receptor must be {want} (give the {other})",
            p.receptor.name(),
            p.receptor.name()
        )
    };
    if let Connector::Conv2d(c) = &p.connector {
        let scale = p.weight.unwrap_or(1.0);
        let [kh, kw] = c.kernel.map(|k| k as usize);
        let per_out = c.weights.len() / c.out_shape[0].max(1) as usize;
        let per_in = kh * kw;
        if let Some(k) = c.weights.iter().position(|&w| wrong(w * scale)) {
            let (o, r) = (k / per_out.max(1), k % per_out.max(1));
            let (i, r) = (r / per_in.max(1), r % per_in.max(1));
            let (y, x) = (r / kw.max(1), r % kw.max(1));
            let (w, n) = (c.weights[k], crate::error::num);
            return Err(why(format!("conv2d kernel entry [{o}][{i}][{y}][{x}] is {} (× the projection's weight {}: {} nA)", n(w), n(scale), n(w * scale))));
        }
    }
    for pre in 0..sy.n_pre() {
        for x in sy.row(pre) {
            let w = sy.weight(x);
            if wrong(w) {
                return Err(why(format!("synapse {pre} → {} has weight {} nA", sy.post[x], crate::error::num(w))));
            }
        }
    }
    Ok(())
}

/// The largest weight an STDP projection's synapses may deliver: its
/// synapses' and w_max (|w_min|), and the largest synapse's word, which
/// rounds to the nearest word and may round up past both (3 nA at a word of
/// 2 nA is word 2, 4 nA: quantised for 3 nA, its image was invalid, an
/// internal error). Where the word cannot be planned, the weights alone
/// (`plan` refuses the projection, naming why).
pub fn largest_delivered(st: &StdpPlasticity, sy: &Synapses) -> f64 {
    let w = sy.max_abs_weight();
    let biggest = w.max(st.w_max).max(st.w_min.abs());
    let shift = st.weight_shift.unwrap_or_else(|| shift_for(biggest));
    if shift > 16 {
        return biggest;
    }
    let word_unit = 2f64.powi(shift as i32 - 15);
    biggest.max((w / word_unit).round_ties_even() * word_unit)
}

/// The mapping report's figures for an STDP projection, measured on what
/// its synapses deliver (weight → word → mantissa), not on the weights as
/// given: a weight below half a word is held as word 0 and delivers nothing,
/// which the raw weights' measure (`lower::quant::measure`) does not see.
pub fn measure_delivered(net: &Network, p: &Projection, st: &StdpPlasticity, q: &mut ProjQuant, sy: &Synapses) -> Result<(), String> {
    let pl = plan(net, p, st, q, sy, None)?;
    q.underflow = 0;
    q.underflow_abs = 0.0;
    q.worst_rel_error = 0.0;
    let mut eval = |w: f64, count: u64| {
        if w == 0.0 || w.is_nan() {
            return;
        }
        // After the port's shift, as `lower::quant::measure` measures it: a
        // word whose mantissa the shift rounds to 0 delivers nothing (2 nA
        // beside a 2e6 nA projection on the receptor was reported at 0.002%).
        let got = q.delivered(pl.delivery.apply(pl.word(w)));
        if got == 0.0 {
            q.underflow += count;
            q.underflow_abs += w.abs() * count as f64;
        }
        q.worst_rel_error = q.worst_rel_error.max((got - w).abs() / w.abs());
    };
    match &sy.weights {
        crate::net::expand::Weights::Uniform(w) => {
            if !sy.is_empty() {
                eval(*w, sy.len())
            }
        }
        crate::net::expand::Weights::PerSynapse(v) => v.iter().for_each(|&w| eval(w, 1)),
    }
    Ok(())
}

/// Plans `st` for the projection `p` (synapses `sy`, quantised as `q`); `reward` the reward population's index.
pub fn plan(net: &Network, p: &Projection, st: &StdpPlasticity, q: &ProjQuant, sy: &Synapses, reward: Option<u32>) -> Result<Planned, String> {
    let dt = net.dt_ms;
    signs_agree(p, sy)?;
    let biggest = sy.max_abs_weight().max(st.w_max).max(st.w_min.abs());
    let shift = st.weight_shift.unwrap_or_else(|| shift_for(biggest));
    if shift > 16 {
        return Err(format!("weights up to {biggest} nA need a shift of {shift}: sPyNNaker's S16.15 weights hold 2^16 nA"));
    }
    let word_unit = 2f64.powi(shift as i32 - 15);
    if biggest / word_unit >= WORD_MAX {
        return Err(format!(
            "weights up to {biggest} nA (the synapses' and w_max) do not fit a word at weight_shift {shift} (largest {} nA)",
            (WORD_MAX - 1.0) * word_unit
        ));
    }
    for (name, v) in [("A_plus", st.a_plus), ("A_minus", st.a_minus), ("w_min", st.w_min), ("w_max", st.w_max)] {
        if v.abs() >= 65536.0 {
            return Err(format!("{name} = {v} exceeds S16.15's range"));
        }
    }
    // A w_max below one word caps every learned word at 0: the rule could
    // never give a synapse any weight (a valid weight_shift of 16 does this
    // to w_max 1 nA). Refused rather than run as a silent no-op. (w_max 0
    // asks for it in so many words, and is kept.)
    let wmax_word = s1615(st.w_max) >> shift;
    if st.w_max > 0.0 && wmax_word == 0 {
        let n = crate::error::num;
        let fix = match 31 - s1615(st.w_max).leading_zeros() as i32 {
            most if most >= 0 => format!("a weight_shift of at most {most} holds it"),
            _ => "it is below S16.15's resolution, 2^-15 nA".to_string(),
        };
        return Err(format!(
            "w_max {} nA is less than one weight word at weight_shift {shift} ({} nA): every weight the rule learns would be 0 ({fix})",
            n(st.w_max),
            n(word_unit)
        ));
    }
    let sign = match p.receptor {
        Receptor::Excitatory => 1,
        Receptor::Inhibitory => -1,
    };
    let delivery = Delivery::new(word_unit, q.value(1), sign)?;
    // sPyNNaker's tables hold ln(2048)·τ/dt entries: a long τ would be a table of millions.
    let taus = [("tau_plus", st.tau_plus), ("tau_minus", st.tau_minus)].into_iter().chain(st.reward.as_ref().map(|r| ("reward_tau", r.tau)));
    for (name, tau) in taus {
        // The table's length as `Lut::exp` (and sPyNNaker) makes it, an even count; sized before it is built.
        let n = Lut::entries(dt, tau);
        if n > MAX_TABLE as f64 {
            let num = crate::error::num;
            // The longest τ that fits, cut (not rounded) to 0.01 ms: a bound rounded up was itself refused.
            let most = (MAX_TABLE as f64 * dt / (nerve_isa::learning::stdp::ONE as f64).ln() * 100.0).floor() / 100.0;
            return Err(format!(
                "{name} = {} ms at dt {} ms needs a decay table of {} entries (at most {MAX_TABLE}, sPyNNaker's 16-bit table length: τ ≤ {} ms)",
                num(tau),
                num(dt),
                num(n),
                num(most)
            ));
        }
    }
    let (plus, minus) = (Lut::exp(dt, st.tau_plus), Lut::exp(dt, st.tau_minus));
    let reward = match (&st.reward, reward) {
        (Some(r), Some(pop)) => {
            let w = (r.weight * nerve_isa::learning::stdp::ONE as f64).round();
            if !(1.0..=i16::MAX as f64).contains(&w) {
                return Err(format!("reward_weight {} is outside the third factor's 16 bits (S4.11: 1/4096..=15.9995)", crate::error::num(r.weight)));
            }
            Some(StdpReward { pop: nerve_isa::ids::PopId(pop), weight: w as i32, lut: Lut::exp(dt, r.tau) })
        }
        _ => None,
    };
    let rule = StdpRule {
        plus,
        minus,
        shift,
        a_plus: s1615(st.a_plus),
        a_minus: s1615(st.a_minus),
        w_min: s1615(st.w_min),
        w_max: s1615(st.w_max),
        multiplicative: st.multiplicative,
        program: nerve_isa::ids::KernelId(u32::MAX),
        word_unit,
        negative: sign < 0,
        reward,
        text: format!(
            "SpikePairRule(tau_plus={}, tau_minus={}, A_plus={}, A_minus={}), {}WeightDependence(w_min={}, w_max={})",
            st.tau_plus,
            st.tau_minus,
            st.a_plus,
            st.a_minus,
            if st.multiplicative { "Multiplicative" } else { "Additive" },
            st.w_min,
            st.w_max
        ),
    };
    let program = program(&rule, delivery).map_err(|e| format!("learning program: {e}"))?;
    Ok(Planned { rule, program, delivery })
}

/// Potentiations one round of the program applies.
pub use nerve_isa::learning::stdp::PER_ROUND;

/// One round of a synapse's update (sPyNNaker's `plasticity_update_synapse`
/// as the 7.4.1 ARM code computes it). State: 0 the S16.15 weight, 1 the
/// word, 2 the mantissa it delivers. Inputs: `first` (the round that loads
/// the word: w = word << shift), up to `PER_ROUND` potentiations (flag,
/// decayed pre trace r) in order, a depression (flag, decayed post trace o),
/// and with a third factor the reward level (one = 2^11) that scales r and
/// o. With M(a, x) = ⌊a · (x << 4) / 2^15⌋: additive w ← min(w + M(A+, r),
/// w_max) per potentiation, then max(w − M(A−, o), w_min); multiplicative
/// w ← w + M(⌊(w_max − w)·A+ / 2^15⌋, r), w − M(⌊(w − w_min)·A− / 2^15⌋, o).
/// Then word = (w >> shift) & 0xFFFF.
fn program(rule: &StdpRule, d: Delivery) -> Result<Kernel, nerve_isa::kernel::KernelError> {
    let mut b = KernelBuilder::new(if rule.multiplicative { "stdp_multiplicative" } else { "stdp_additive" });
    let (sw, sword, sdel) = (b.state("w"), b.state("word"), b.state("delivered"));
    let first = b.input("first");
    let pots: Vec<_> = (0..PER_ROUND).map(|i| (b.input(&format!("potentiate{i}")), b.input(&format!("r{i}")))).collect();
    let (da, dox) = (b.input("depress"), b.input("o"));
    let level = rule.reward.as_ref().map(|_| b.input("reward"));
    let (w, t, x, y, a) = (r(0), r(1), r(2), r(3), r(4));
    // w = first ? word << shift : w
    b.lds(w, sw).lds(t, sword).shl(t, t, rule.shift).ldin(x, first).sel(w, x, t, w);
    // M(a, v): v << 4, ⌊a·v / 2^15⌋.
    let decayed = |b: &mut KernelBuilder, port, reg| {
        b.ldin(reg, port);
        if let Some(l) = level {
            b.ldin(r(8), l).mulsh(reg, reg, r(8), 11);
        }
        b.shl(reg, reg, 4);
    };
    for &(pa, pr) in &pots {
        decayed(&mut b, pr, x);
        b.movi(y, rule.w_max);
        if rule.multiplicative {
            b.sub(a, y, w).movi(t, rule.a_plus).mulsh(a, a, t, 15).mulsh(a, a, x, 15).add(t, w, a);
        } else {
            b.movi(a, rule.a_plus).mulsh(a, a, x, 15).add(t, w, a).min(t, t, y);
        }
        b.ldin(x, pa).sel(w, x, t, w);
    }
    // Depression.
    decayed(&mut b, dox, x);
    b.movi(y, rule.w_min);
    if rule.multiplicative {
        b.sub(a, w, y).movi(t, rule.a_minus).mulsh(a, a, t, 15).mulsh(a, a, x, 15).sub(t, w, a);
    } else {
        b.movi(a, rule.a_minus).mulsh(a, a, x, 15).sub(t, w, a).max(t, t, y);
    }
    b.ldin(x, da).sel(w, x, t, w).sts(sw, w);
    // The word, and the mantissa it delivers.
    b.shr(t, w, rule.shift).movi(y, 0xFFFF).and(t, t, y).sts(sword, t);
    b.movi(y, d.mult).mulshr(t, t, y, d.sh).sts(sdel, t);
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_as_spynnaker() {
        assert_eq!(shift_for(0.05), 0);
        assert_eq!(shift_for(1.0), 1);
        assert_eq!(shift_for(1.5), 1);
        assert_eq!(shift_for(2.0), 2);
        assert_eq!(shift_for(20.0), 5);
    }

    #[test]
    fn delivery_rounds_to_the_mantissa() {
        let d = Delivery::new(2f64.powi(-15), 2f64.powi(-14), 1).unwrap();
        assert_eq!((d.apply(2), d.apply(3), d.apply(0)), (1, 2, 0));
        let d = Delivery::new(2f64.powi(-15), 0.1, -1).unwrap();
        assert_eq!(d.apply(32767), -((32767.0 * 2f64.powi(-15) / 0.1f64).round() as i32));
    }
}
