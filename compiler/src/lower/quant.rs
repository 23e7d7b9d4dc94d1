//! Weights → mantissas: each population's input ports (one per receptor
//! and weight exponent) and how each projection's weights become the
//! mantissas its synapses store, with the error that introduces.

use nerve_isa::arch::Arch;
use serde::Serialize;

use super::{bad, Incoming};
use crate::error::Result;
use crate::net::expand::{Synapses, Weights};
use crate::net::model::*;

/// An input port of a population's kernel: synapses of one receptor whose
/// mantissas share one exponent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Port {
    pub receptor: Receptor,
    pub exp: i8,
}

impl Serialize for Receptor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// How one projection's weights become mantissas.
#[derive(Clone, Debug, Serialize)]
pub struct ProjQuant {
    pub projection: String,
    pub port: u8,
    pub exp: i8,
    /// Physical weight of one mantissa unit at exponent 0 (nA, mV, or 1 for raw integers).
    pub unit: f64,
    /// Synapses whose weight did not fit the mantissa and was clipped.
    pub clipped: u64,
    /// Synapses whose nonzero weight quantised to zero.
    pub underflow: u64,
    /// Largest |w_q − w| / |w| over the projection's synapses.
    pub worst_rel_error: f64,
    /// Σ |w| of the `underflow` synapses, as measured where they are (STDP's
    /// words included, which the report's warning had measured otherwise).
    #[serde(skip)]
    pub(crate) underflow_abs: f64,
    /// Mantissas per synapse are computed by [`ProjQuant::mantissa`].
    #[serde(skip)]
    pub(crate) rule: QuantRule,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum QuantRule {
    /// round(w / (unit · 2^exp)), clipped to the mantissa range.
    Scale { lo: i64, hi: i64 },
    /// Lava's effective weights: clip, then drop low bits.
    Lava { nbits: u8, sign_mode: SignMode },
}

impl ProjQuant {
    /// The mantissa for physical weight `w`, and whether it was clipped.
    pub fn mantissa(&self, w: f64) -> (i32, bool) {
        match self.rule {
            QuantRule::Scale { lo, hi } => {
                let x = (w / (self.unit * 2f64.powi(self.exp as i32))).round();
                let xi = x.clamp(lo as f64, hi as f64) as i64;
                (xi as i32, (xi as f64) != x)
            }
            QuantRule::Lava { nbits, sign_mode } => {
                let w = w as i64;
                let drop = 8 - nbits as i64;
                match sign_mode {
                    SignMode::Excitatory => {
                        let c = w.clamp(0, 255);
                        (((c >> drop) << drop) as i32, c != w)
                    }
                    SignMode::Mixed => {
                        let c = w.clamp(-256, 255);
                        (((c >> (drop + 1)) << (drop + 1)) as i32, c != w)
                    }
                    // lava negates, truncates and negates back.
                    SignMode::Inhibitory => {
                        let c = (-w).clamp(0, 255);
                        (-((c >> drop) << drop) as i32, c != -w)
                    }
                }
            }
        }
    }
    /// The physical weight a mantissa stands for.
    pub fn value(&self, m: i32) -> f64 {
        m as f64 * self.unit * 2f64.powi(self.exp as i32)
    }
    /// The physical weight a spike through a synapse of mantissa `m`
    /// delivers, alone on its port: what the kernel's shift makes of it
    /// (a negative exponent rounds half up for scaled weights, floors for
    /// lava's; `value` is the mantissa before that shift).
    pub fn delivered(&self, m: i32) -> f64 {
        let e = self.exp as i32;
        if e >= 0 {
            return self.value(m);
        }
        let k = (-e).min(62) as u32;
        let units = match self.rule {
            QuantRule::Scale { .. } => (m as i64 + (1i64 << (k - 1))) >> k,
            QuantRule::Lava { .. } => (m as i64) >> k,
        };
        units as f64 * self.unit
    }
}

/// Chooses ports and exponents for scaled (physical) weights. `lsb[r]` is the
/// receptor's current LSB; returns ports and per-projection quantisation.
/// Each incoming projection's quantisation, by projection.
pub type Quantised = Vec<(ProjIx, ProjQuant)>;

pub fn assign_scaled(arch: &Arch, pop: &Population, incoming: &[Incoming], lsb: impl Fn(Receptor) -> f64) -> Result<(Vec<Port>, Quantised)> {
    let wb = arch.core.weight_bits as u32;
    let (mlo, mhi) = (-(1i64 << (wb - 1)), (1i64 << (wb - 1)) - 1);
    let (emin, emax) = (arch.core.weight_exp_min as i32, arch.core.weight_exp_max as i32);
    let mut quant = Vec::new();
    let mut want: Vec<(Receptor, i8)> = Vec::new();
    for inc in incoming {
        let unit = lsb(inc.p.receptor);
        let wmax = inc.max_abs_weight() / unit;
        // The finest exponent at which the largest weight still fits.
        let e = if wmax == 0.0 { emin } else { ((wmax / mhi as f64).log2().ceil() as i32).clamp(emin, emax) };
        want.push((inc.p.receptor, e as i8));
        quant.push((
            inc.proj,
            ProjQuant {
                projection: inc.p.label.clone(),
                port: 0,
                exp: e as i8,
                unit,
                clipped: 0,
                underflow: 0,
                worst_rel_error: 0.0,
                underflow_abs: 0.0,
                rule: QuantRule::Scale { lo: mlo, hi: mhi },
            },
        ));
    }
    // Ports: one per (receptor, exponent); too many → merge into the
    // receptor's coarsest exponent (which fits every weight of the receptor).
    let mut ports: Vec<Port> = Vec::new();
    for &(r, e) in &want {
        if !ports.iter().any(|p| p.receptor == r && p.exp == e) {
            ports.push(Port { receptor: r, exp: e });
        }
    }
    ports.sort_by_key(|p| (p.receptor, p.exp));
    if ports.len() > arch.core.max_input_ports as usize {
        let mut merged: Vec<Port> = Vec::new();
        for r in [Receptor::Excitatory, Receptor::Inhibitory] {
            if let Some(e) = ports.iter().filter(|p| p.receptor == r).map(|p| p.exp).max() {
                merged.push(Port { receptor: r, exp: e });
            }
        }
        ports = merged;
        if ports.len() > arch.core.max_input_ports as usize {
            return Err(bad(pop, format!("needs {} input ports, a core of `{}` has {}", ports.len(), arch.name, arch.core.max_input_ports)));
        }
        for (q, (r, _)) in quant.iter_mut().zip(&want) {
            // invariant: `merged` holds one port for each receptor present in `ports`, which has a port for every entry of `want`
            q.1.exp = ports.iter().find(|p| p.receptor == *r).expect("receptor has a port").exp;
        }
    }
    if bound_ring_sums(arch, pop, incoming, &want, &mut quant)? {
        ports = want.iter().zip(&quant).map(|((r, _), (_, q))| Port { receptor: *r, exp: q.exp }).collect();
        ports.sort_by_key(|p| (p.receptor, p.exp));
        ports.dedup();
    }
    for (q, (r, _)) in quant.iter_mut().zip(&want) {
        // invariant: every (receptor, exponent) of `want` has a port unless they were merged or coarsened, and then the
        // exponent was just set from the receptor's port
        q.1.port = ports.iter().position(|p| p.receptor == *r && p.exp == q.1.exp).expect("every projection's (receptor, exponent) has a port") as u8;
    }
    for ((_, q), inc) in quant.iter_mut().zip(incoming) {
        measure(q, inc.syn);
    }
    Ok((ports, quant))
}

/// The sum a port's ring slot holds in one step, before the port's shift,
/// at worst: every synapse that can arrive at one neuron's port delivering
/// its projection's extreme mantissa of either sign. The emulator adds
/// mantissas into the slot with 32-bit wrapping adds (the chip's
/// accumulator), so past i32 the sum wraps and flips sign: 76,112 inputs of
/// 1 nA at 16-bit weights inhibited a cell, 8 of 0.5 nA at 32-bit weights
/// gave −0.43 nA. The port's clamp (`port_clamps`) acts after the slot is
/// read, too late for that.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RingLoad {
    /// The largest positive and most negative sums, over the neurons.
    pub hi: f64,
    pub lo: f64,
    /// Synapses into the neuron with the largest |sum|, and that neuron.
    pub fan_in: u64,
    pub neuron: u32,
}

impl RingLoad {
    pub fn fits(&self) -> bool {
        self.hi <= i32::MAX as f64 && self.lo >= i32::MIN as f64
    }
    /// How many times too large the sum is (≤ 1 when it fits).
    pub fn excess(&self) -> f64 {
        (self.hi / i32::MAX as f64).max(self.lo / i32::MIN as f64)
    }
}

/// [`RingLoad`] of the synapses `members` feed into one port of `n_post`
/// neurons, each with the (lowest, highest) mantissa one of its synapses
/// can deliver (0 within it). Every synapse counted at its extremes bounds
/// what any step can bring (all sources firing at once); a population whose
/// synapses cannot reach the limit even all into one neuron skips the
/// per-neuron pass.
pub(crate) fn ring_load(n_post: usize, members: &[(&Synapses, f64, f64)]) -> RingLoad {
    let total = |f: fn(&(&Synapses, f64, f64)) -> f64| members.iter().map(|m| m.0.len() as f64 * f(m)).sum::<f64>();
    let all = RingLoad { hi: total(|m| m.2), lo: total(|m| m.1), fan_in: 0, neuron: 0 };
    if all.fits() {
        return all;
    }
    let mut acc = vec![(0.0f64, 0.0f64, 0u64); n_post];
    for &(syn, lo, hi) in members {
        for &post in &syn.post {
            if let Some(a) = acc.get_mut(post as usize) {
                a.0 += hi;
                a.1 += lo;
                a.2 += 1;
            }
        }
    }
    let mut load = RingLoad::default();
    let mut worst = -1.0f64;
    for (j, &(hi, lo, n)) in acc.iter().enumerate() {
        load.hi = load.hi.max(hi);
        load.lo = load.lo.min(lo);
        let x = (hi / i32::MAX as f64).max(lo / i32::MIN as f64);
        if x > worst {
            worst = x;
            load.fan_in = n;
            load.neuron = j as u32;
        }
    }
    load
}

/// The (lowest, highest) mantissa a synapse of `inc` can deliver at `q`,
/// 0 within it: its weights', a learning rule's bounds (delivered with the
/// receptor's sign, rounded once more: one unit of slack), a gap junction's
/// g·Δv of either sign (at the span its port is scaled for, `gap`).
pub(crate) fn mantissa_span(inc: &Incoming, q: &ProjQuant) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    let mut see = |w: f64| {
        let m = q.mantissa(w).0 as f64;
        lo = lo.min(m);
        hi = hi.max(m);
    };
    if inc.electrical {
        let a = inc.max_abs_weight();
        see(a);
        see(-a);
        return (lo, hi);
    }
    match &inc.syn.weights {
        Weights::Uniform(w) if !inc.syn.is_empty() => see(*w),
        Weights::Uniform(_) => {}
        Weights::PerSynapse(v) => {
            let (mn, mx) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &w| (a.min(w), b.max(w)));
            if mn <= mx {
                see(mn);
                see(mx);
            }
        }
    }
    match inc.p.plasticity.as_deref() {
        Some(Plasticity::Stdp(_)) => {
            let a = inc.max_abs_weight();
            see(a);
            see(-a);
            lo -= 1.0;
            hi += 1.0;
        }
        // Lava's learning keeps a weight within its sign mode's range.
        Some(Plasticity::Loihi(_)) => {
            see(1e9);
            see(-1e9);
        }
        None => {}
    }
    (lo, hi)
}

/// Coarsens the exponents of the ports whose ring slot could wrap
/// ([`RingLoad`]) until it cannot: each such port's projections move to
/// the exponent that halves their mantissas as often as the sum needs
/// (merging with a port of that exponent). `want[i]`'s receptor is
/// `quant[i]`'s. Refused where that exponent is past the profile's, or
/// would round a projection's weights to 0. Whether any moved.
fn bound_ring_sums(arch: &Arch, pop: &Population, incoming: &[Incoming], want: &[(Receptor, i8)], quant: &mut Quantised) -> Result<bool> {
    let mut moved = false;
    loop {
        let mut keys: Vec<(Receptor, i8)> = want.iter().zip(quant.iter()).map(|((r, _), (_, q))| (*r, q.exp)).collect();
        keys.sort();
        keys.dedup();
        let mut over = None;
        for (r, e) in keys {
            let on: Vec<usize> = (0..quant.len()).filter(|&i| want[i].0 == r && quant[i].1.exp == e).collect();
            let members: Vec<(&Synapses, f64, f64)> = on
                .iter()
                .map(|&i| {
                    let (lo, hi) = mantissa_span(&incoming[i], &quant[i].1);
                    (incoming[i].syn, lo, hi)
                })
                .collect();
            let load = ring_load(pop.size as usize, &members);
            if !load.fits() {
                over = Some((r, e, on, load));
                break;
            }
        }
        let Some((r, e, on, load)) = over else { return Ok(moved) };
        let names = on.iter().map(|&i| format!("`{}`", incoming[i].p.label)).collect::<Vec<_>>().join(", ");
        let why = format!(
            "the {} synapses into its neuron {} on the {} receptor ({names}) can sum to {} mantissa units in one step at weight exponent {e} (`{}`'s weight_bits {}), past the 32-bit input's ±2^31",
            load.fan_in,
            load.neuron,
            r.name(),
            crate::error::num(if load.hi > -load.lo { load.hi } else { load.lo }),
            arch.name,
            arch.core.weight_bits
        );
        let ne = e as i32 + (load.excess().log2().ceil() as i32).max(1);
        if ne > arch.core.weight_exp_max as i32 {
            return Err(bad(pop, format!("{why}: holding it needs weight exponent {ne}, past the profile's weight_exp_max {}", arch.core.weight_exp_max)));
        }
        for &i in &on {
            let was = mantissa_span(&incoming[i], &quant[i].1);
            quant[i].1.exp = ne as i8;
            let now = mantissa_span(&incoming[i], &quant[i].1);
            if was != (0.0, 0.0) && now == (0.0, 0.0) {
                return Err(bad(
                    pop,
                    format!(
                        "{why}: at weight exponent {ne}, which holds it, projection `{}`'s weights (up to {}) round to 0",
                        incoming[i].p.label,
                        crate::error::num(incoming[i].max_abs_weight())
                    ),
                ));
            }
        }
        moved = true;
    }
}

/// Fills in clipping and error statistics, of what one spike delivers
/// (after the port's shift): measured on the mantissa, a weight of 1e-7 nA
/// that arrived as 0 (or −1.9e-6 nA for −1e-7) was reported at 0.010%.
pub fn measure(q: &mut ProjQuant, syn: &Synapses) {
    let mut eval = |w: f64, count: u64| {
        let (m, clipped) = q.mantissa(w);
        if clipped {
            q.clipped += count;
        }
        if w != 0.0 {
            let got = q.delivered(m);
            if got == 0.0 {
                q.underflow += count;
                q.underflow_abs += w.abs() * count as f64;
            }
            let e = (got - w).abs() / w.abs();
            if e > q.worst_rel_error {
                q.worst_rel_error = e;
            }
        }
    };
    match &syn.weights {
        Weights::Uniform(w) => {
            if !syn.is_empty() {
                eval(*w, syn.len())
            }
        }
        Weights::PerSynapse(v) => v.iter().for_each(|&w| eval(w, 1)),
    }
}

/// The largest |weight| of the projections into a receptor (0 with none).
pub fn max_weight(incoming: &[Incoming], r: Receptor) -> f64 {
    incoming.iter().filter(|i| i.p.receptor == r).fold(0.0f64, |m, i| m.max(i.max_abs_weight()))
}

/// The LSB exponent for a receptor's current: as fine as the weight format
/// allows, with 2^12 max-weight inputs of headroom in 32 bits; 16 for a
/// receptor without inputs.
pub fn current_scale(arch: &Arch, incoming: &[Incoming], r: Receptor, conv: f64) -> i32 {
    current_scale_of(arch, incoming, r, conv).unwrap_or(16)
}

/// As [`current_scale`], `None` for a receptor without (nonzero) inputs.
pub fn current_scale_of(arch: &Arch, incoming: &[Incoming], r: Receptor, conv: f64) -> Option<i32> {
    let wmax = max_weight(incoming, r) * conv;
    if wmax == 0.0 {
        return None;
    }
    let wb = arch.core.weight_bits as i32;
    // The largest mantissa is 2^(wb−1) − 1, not 2^(wb−1): a largest weight
    // at (or within 1/2^(wb−1) below) a power of two had needed one more and
    // was clipped at weight_exp_max (1 nA on loihi's 9 bits: 255/256).
    let mhi = ((1i64 << (wb - 1)) - 1) as f64;
    let by_format = mhi.log2() + arch.core.weight_exp_max as f64 - wmax.log2();
    let by_range = 19.0 - wmax.log2();
    Some((by_format.min(by_range).floor() as i32).clamp(-8, 40))
}

/// The LSB exponent of one current that several receptors feed (`scales`,
/// each receptor's [`current_scale_of`]): the coarsest of those that have
/// inputs, which holds each one's largest weight; 16 when none has. A
/// receptor without inputs does not coarsen it (it made PyNN's default,
/// excitatory input only into τsyn_E = τsyn_I, 16× too coarse).
pub fn shared_scale(scales: &[Option<i32>]) -> i32 {
    scales.iter().flatten().copied().min().unwrap_or(16)
}

/// The most one step can bring a neuron into a current fed by receptors
/// `rs`, in units of `lsb` (the current's LSB, by receptor): every synapse
/// delivering at once at its projection's largest weight, the bound of all
/// presynaptic cells firing every step; the largest over the neurons.
pub fn worst_input(n_post: usize, incoming: &[Incoming], rs: &[Receptor], lsb: impl Fn(Receptor) -> f64) -> f64 {
    let mut acc = vec![0.0f64; n_post];
    for inc in incoming.iter().filter(|i| rs.contains(&i.p.receptor)) {
        let w = inc.max_abs_weight() / lsb(inc.p.receptor);
        for &post in &inc.syn.post {
            if let Some(a) = acc.get_mut(post as usize) {
                *a += w;
            }
        }
    }
    acc.into_iter().fold(0.0, f64::max)
}

/// Saturation of a step's input (LIF's and NIR's kernels): for each port of
/// the receptors `rs`, the bits of a `sat` before its shift that keep the
/// ports' sum within 2^29, where the worst case `worst` (`worst_input`)
/// could pass it; `None` elsewhere.
pub fn port_clamps(ports: &[Port], rs: &[Receptor], worst: f64) -> Vec<Option<u8>> {
    let np = ports.iter().filter(|p| rs.contains(&p.receptor)).count().max(1);
    let bits = |exp: i8| (30 - (np as f64).log2().ceil() as i32 - (exp as i32).max(0)).clamp(1, 31) as u8;
    ports.iter().map(|p| (rs.contains(&p.receptor) && worst > 2f64.powi(29)).then(|| bits(p.exp))).collect()
}

/// The bits of a `sat` that keep x·f within 2^28 for factors f up to
/// `fmax` (0..=31; 31 for a factor of 0, whose log2 is −∞).
pub fn product_bits(fmax: f64) -> i32 {
    ((28.0 - fmax.log2()).floor() + 1.0).clamp(0.0, 31.0) as i32
}
