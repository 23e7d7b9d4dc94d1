//! NIR's neuron primitives (nir 1.0.8): Threshold, I, IF, LI, LIF, CubaLI,
//! CubaLIF, with their parameters as exported (SI units as the file has
//! them), discretised by forward Euler at the graph's dt as NIR's reference
//! simulator does. They come from NIR files (`crate::front::nir`), not the
//! JSON format.

use nerve_isa::arch::Arch;
use nerve_isa::image::VarSymbol;
use nerve_isa::instr::r;
use nerve_isa::kernel::builder::KernelBuilder;

use super::{Cx, Initial, Default::*, Neuron, NeuronModel, ParamSpec, Params, Range::*, VarSpec};
use crate::error::Result;
use crate::lower::fixed::{declare_ports, finish, fixed, sum_ports_clamped, to_fixed, Decay};
use crate::lower::quant::{assign_scaled, max_weight, port_clamps, product_bits, worst_input};
use crate::lower::{bad, Body, Incoming, Lowered, ParamVals};
use crate::net::model::*;

/// NIR's neuron primitives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NirKind {
    Threshold,
    I,
    IF,
    LI,
    LIF,
    CubaLI,
    CubaLIF,
}

impl NirKind {
    pub fn name(self) -> &'static str {
        match self {
            NirKind::Threshold => "nir Threshold",
            NirKind::I => "nir I",
            NirKind::IF => "nir IF",
            NirKind::LI => "nir LI",
            NirKind::LIF => "nir LIF",
            NirKind::CubaLI => "nir CubaLI",
            NirKind::CubaLIF => "nir CubaLIF",
        }
    }
    /// NIR's name for the primitive.
    pub fn primitive(self) -> &'static str {
        self.name().trim_start_matches("nir ")
    }
    pub fn spikes(self) -> bool {
        matches!(self, NirKind::Threshold | NirKind::IF | NirKind::LIF | NirKind::CubaLIF)
    }
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "tau_mem", unit: "s", default: Value(1.0), range: Any, doc: "membrane time constant (tau for LI, LIF)" },
    ParamSpec { name: "tau_syn", unit: "s", default: Value(1.0), range: Any, doc: "synaptic time constant (Cuba)" },
    ParamSpec { name: "r", unit: "", default: Value(1.0), range: Any, doc: "input resistance" },
    ParamSpec { name: "v_leak", unit: "", default: Value(0.0), range: Any, doc: "leak potential" },
    ParamSpec { name: "w_in", unit: "", default: Value(1.0), range: Any, doc: "input weight of the synaptic current (Cuba)" },
    ParamSpec { name: "v_threshold", unit: "", default: Value(0.0), range: Any, doc: "spike threshold" },
    ParamSpec { name: "v_reset", unit: "", default: Value(0.0), range: Any, doc: "potential after a spike" },
    ParamSpec { name: "bias", unit: "", default: Value(0.0), range: Any, doc: "constant input per step (from the graph's Affine biases)" },
    ParamSpec { name: "dt_s", unit: "s", default: Required, range: Positive, doc: "the timestep the graph is discretised at" },
    ParamSpec { name: "reset", unit: "", default: Value(0.0), range: Int(0, 1), doc: "0: v ← v_reset; 1: v ← v − (v_threshold − v_reset)" },
    ParamSpec { name: "fire", unit: "", default: Value(0.0), range: Int(0, 1), doc: "I, LI, CubaLI: 1 spikes when v > v_threshold, without reset (the node followed by a Threshold)" },
];

const NO_STATE: &[VarSpec] = &[];
const V: &[VarSpec] = &[VarSpec { name: "v", unit: "", int_bits: None, initial: Initial::Value(0.0) }];
const I_V: &[VarSpec] = &[VarSpec { name: "i", unit: "", int_bits: None, initial: Initial::Value(0.0) }, VarSpec { name: "v", unit: "", int_bits: None, initial: Initial::Value(0.0) }];

pub struct NirModel(pub NirKind);

pub static THRESHOLD: NirModel = NirModel(NirKind::Threshold);
pub static I: NirModel = NirModel(NirKind::I);
pub static IF: NirModel = NirModel(NirKind::IF);
pub static LI: NirModel = NirModel(NirKind::LI);
pub static LIF: NirModel = NirModel(NirKind::LIF);
pub static CUBA_LI: NirModel = NirModel(NirKind::CubaLI);
pub static CUBA_LIF: NirModel = NirModel(NirKind::CubaLIF);

impl NeuronModel for NirModel {
    fn name(&self) -> &'static str {
        match self.0 {
            NirKind::Threshold => "nir_threshold",
            NirKind::I => "nir_i",
            NirKind::IF => "nir_if",
            NirKind::LI => "nir_li",
            NirKind::LIF => "nir_lif",
            NirKind::CubaLI => "nir_cubali",
            NirKind::CubaLIF => "nir_cubalif",
        }
    }
    fn about(&self) -> &'static str {
        "a NIR neuron primitive, forward Euler at the graph's dt (from NIR files)"
    }
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn state(&self) -> &'static [VarSpec] {
        match self.0 {
            NirKind::Threshold => NO_STATE,
            NirKind::I | NirKind::IF | NirKind::LI | NirKind::LIF => V,
            NirKind::CubaLI | NirKind::CubaLIF => I_V,
        }
    }
    fn in_json(&self) -> bool {
        false
    }
    fn label(&self, _p: &Params) -> &'static str {
        self.0.name()
    }
    fn nir(&self) -> Option<&'static str> {
        Some(self.0.primitive())
    }
    fn lower(&self, cx: &Cx, pop: &Population, p: &Params, incoming: &[Incoming]) -> Result<Lowered> {
        lower_nir(cx.arch, pop, &NirNeuron::from_params(self.0, p), incoming)
    }
}

/// A NIR neuron with its parameters as exported, discretised at `dt_s`.
/// Inputs are signed weights into one port; `bias` is a constant input per step.
#[derive(Clone, Debug, PartialEq)]
pub struct NirNeuron {
    pub kind: NirKind,
    pub tau_mem: Values,
    pub tau_syn: Values,
    pub r: Values,
    pub v_leak: Values,
    pub w_in: Values,
    pub v_threshold: Values,
    pub v_reset: Values,
    pub reset: ResetMode,
    pub dt_s: f64,
    pub bias: Values,
    /// A readout (I, LI, CubaLI) that spikes when v > v_threshold and keeps
    /// v: NIR's stateful node followed by a Threshold.
    pub fire: bool,
}

impl NirNeuron {
    fn from_params(kind: NirKind, p: &Params) -> NirNeuron {
        NirNeuron {
            kind,
            tau_mem: p.get("tau_mem").clone(),
            tau_syn: p.get("tau_syn").clone(),
            r: p.get("r").clone(),
            v_leak: p.get("v_leak").clone(),
            w_in: p.get("w_in").clone(),
            v_threshold: p.get("v_threshold").clone(),
            v_reset: p.get("v_reset").clone(),
            reset: if p.get("reset").get(0) == 1.0 { ResetMode::Subtract } else { ResetMode::ToReset },
            dt_s: p.get("dt_s").get(0),
            bias: p.get("bias").clone(),
            fire: p.get("fire").get(0) == 1.0,
        }
    }
    /// The NIR neuron a population's model is, if it is one.
    pub fn of(n: &Neuron) -> Option<NirNeuron> {
        [&THRESHOLD, &I, &IF, &LI, &LIF, &CUBA_LI, &CUBA_LIF].into_iter().find(|m| m.name() == n.model.name()).map(|m| NirNeuron::from_params(m.0, &n.params))
    }
    /// As a population's model.
    pub fn into_neuron(self) -> Neuron {
        let model: &'static NirModel = match self.kind {
            NirKind::Threshold => &THRESHOLD,
            NirKind::I => &I,
            NirKind::IF => &IF,
            NirKind::LI => &LI,
            NirKind::LIF => &LIF,
            NirKind::CubaLI => &CUBA_LI,
            NirKind::CubaLIF => &CUBA_LIF,
        };
        let mut params = Params::defaults(PARAMS);
        // invariant: every key set below is in PARAMS, which `params` was made from
        let set = |p: &mut Params, k: &str, v: Values| p.set(k, v).expect("a NIR parameter");
        set(&mut params, "tau_mem", self.tau_mem);
        set(&mut params, "tau_syn", self.tau_syn);
        set(&mut params, "r", self.r);
        set(&mut params, "v_leak", self.v_leak);
        set(&mut params, "w_in", self.w_in);
        set(&mut params, "v_threshold", self.v_threshold);
        set(&mut params, "v_reset", self.v_reset);
        set(&mut params, "bias", self.bias);
        set(&mut params, "dt_s", Values::Scalar(self.dt_s));
        set(&mut params, "reset", Values::Scalar(if self.reset == ResetMode::Subtract { 1.0 } else { 0.0 }));
        set(&mut params, "fire", Values::Scalar(if self.fire { 1.0 } else { 0.0 }));
        Neuron { model, params }
    }
}

/// The finest and coarsest LSB a NIR neuron's x and v take: 2^-62..2^62.
const MAX_SCALE: i32 = 62;

/// A scale exponent `k` (LSB 2^-k) of `quantity` (x or v) within ±MAX_SCALE,
/// else the population's error naming what asked for it (`why`).
fn within_scale(pop: &Population, k: f64, what: &str, quantity: &str, why: &str) -> Result<i32> {
    if !k.is_finite() {
        // (an infinite bias read as "need x's LSB at 2^inf")
        return Err(bad(pop, format!("{what} has no fixed-point scale: {why} are not all finite numbers")));
    }
    if k.abs() > MAX_SCALE as f64 {
        return Err(bad(pop, format!("{what} is out of the fixed-point range: {why} need {quantity}'s LSB at 2^{}, past 2^±{MAX_SCALE}", -k)));
    }
    Ok(k as i32)
}

/// NIR neurons, forward Euler at dt as NIR's reference simulator does:
/// x = Σ weights of this step's spikes + bias;
/// I/IF: v += dt·r·x; LI/LIF: v += dt/τ·(v_leak − v + r·x);
/// CubaLI/CubaLIF: i += dt/τs·(w_in·x − i), then v += dt/τm·(v_leak − v + r·i);
/// Threshold: spike when x > θ. Spike when v > v_threshold; reset to v_reset,
/// or subtract v_threshold − v_reset; a readout with `fire` spikes without reset.
fn lower_nir(arch: &Arch, pop: &Population, p: &NirNeuron, incoming: &[Incoming]) -> Result<Lowered> {
    let n = pop.size as usize;
    let dt = p.dt_s;
    // x (input) scale: the weights' and the bias's. Every port adds into x
    // with its weights' sign, so the scale holds both receptors' largest
    // weight: NIR files give only excitatory projections, but a network built
    // through the API may give an inhibitory one, which was not counted.
    //
    // NIR is unitless: weights, biases and voltages all scaled by s give the
    // same spikes for any s, so neither scale is clamped to a range of its
    // own (x's LSB was held within 2^-24..2^8 and v's within 2^-21..1, and a
    // network scaled by 1e-9 never fired, by 1e9 fired 6 times where the
    // reference fires 112). A scale past 2^±62 is an error.
    let (bmin, bmax) = p.bias.min_max(n);
    let babs = bmax.abs().max(bmin.abs());
    let wmax = max_weight(incoming, Receptor::Excitatory).max(max_weight(incoming, Receptor::Inhibitory));
    // As `current_scale_of`: the largest weight fits the weight format, with 2^12 of them in 32 bits.
    let wb = arch.core.weight_bits as f64;
    let by_weights = (wmax > 0.0).then(|| ((wb - 1.0 + arch.core.weight_exp_max as f64).min(19.0) - wmax.log2()).floor());
    let by_bias = (babs > 0.0).then(|| (26.0 - babs.log2()).floor());
    // And every input at once at its largest weight within the 2^29 a
    // step's input is held to (the kernel saturates it there): 5,000 inputs
    // of 1e-3, held at x's LSB 2^-28 by the weights alone, saturated at 2.0.
    let all_at_once = worst_input(n, incoming, &[Receptor::Excitatory, Receptor::Inhibitory], |_| 1.0);
    let by_sum = (all_at_once > 0.0).then(|| (29.0 - all_at_once.log2()).floor());
    // No input at all: x is always 0, at any scale.
    let kx = [by_weights, by_bias, by_sum].into_iter().flatten().reduce(f64::min).unwrap_or(16.0);
    let num = crate::error::num;
    let kx = within_scale(pop, kx, "its input", "x", &format!("the largest weight into it ({}) and its largest bias ({})", num(wmax), num(babs)))?;
    let lsb_x = 2f64.powi(-kx);
    let (ports, quant) = assign_scaled(arch, pop, incoming, |_| lsb_x)?;
    // v scale: 1024× headroom over the largest voltage parameter, and over
    // what one largest-weight input a step drives a cell to (r·w; r·w_in·w
    // for Cuba) up to 1: a readout with small voltage parameters still holds
    // its input (which a floor of 1 did for networks of unit scale).
    let vparams = [&p.v_threshold, &p.v_reset, &p.v_leak]
        .iter()
        .map(|v| {
            let (lo, hi) = v.min_max(n);
            lo.abs().max(hi.abs())
        })
        .fold(0.0f64, f64::max);
    let gain = (0..n)
        .map(|i| (p.r.get(i) * if matches!(p.kind, NirKind::CubaLI | NirKind::CubaLIF) { p.w_in.get(i) } else { 1.0 }).abs())
        .filter(|g| g.is_finite())
        .fold(0.0f64, f64::max);
    let vmax = vparams.max((gain * wmax).min(1.0));
    // No voltage parameter and no input: v stays 0, at any scale.
    let vmax = if vmax > 0.0 { vmax } else { 1.0 };
    // And twice where a constant input (bias) settles a leaky cell,
    // v_leak + r·bias (w_in·bias into a Cuba cell's current): the kernel
    // holds v within half its range (below), and a bias of −5,000 wrapped a
    // LIF's v and it fired 400 times in 2,000 steps. A leaky readout (LI,
    // CubaLI), which never resets, also where all its inputs at once every
    // step would settle it, r·Σ|w| (r·w_in·Σ|w|): 5,000 inputs of 1e-3 into
    // an LI with no voltage parameter settled at 0.5 for the reference's 5.
    let readout = matches!(p.kind, NirKind::LI | NirKind::CubaLI | NirKind::I);
    let all_inputs = if readout { all_at_once } else { 0.0 };
    // A readout's step holds all its inputs at once too: the kernel holds a
    // step's change of v within 2^28 of its LSBs (the input's saturation,
    // below), which cut that LI's 5.0 to 4.0; 8× headroom for it.
    let step_gain = (0..n)
        .map(|i| {
            let w_in = if matches!(p.kind, NirKind::CubaLI) { p.w_in.get(i) } else { 1.0 };
            let per_step = if p.kind == NirKind::I { dt } else { dt / p.tau_mem.get(i) };
            (per_step * p.r.get(i) * w_in).abs()
        })
        .filter(|g| g.is_finite())
        .fold(0.0f64, f64::max);
    let step_max = step_gain * all_inputs;
    let settle = (0..n)
        .filter(|_| matches!(p.kind, NirKind::LI | NirKind::LIF | NirKind::CubaLI | NirKind::CubaLIF))
        .map(|i| {
            let w_in = if matches!(p.kind, NirKind::CubaLI | NirKind::CubaLIF) { p.w_in.get(i) } else { 1.0 };
            (p.v_leak.get(i) + p.r.get(i) * w_in * p.bias.get(i)).abs() + (p.r.get(i) * w_in).abs() * all_inputs
        })
        .filter(|x| x.is_finite())
        .fold(0.0f64, f64::max);
    // A Threshold has no v (its θ is on x's scale).
    let kv = if p.kind == NirKind::Threshold { 0.0 } else { (31.0 - (1024.0 * vmax).max(2.0 * settle).max(8.0 * step_max).log2()).floor() };
    let why = format!(
        "its largest voltage parameter ({}), one largest input's drive ({}) and where its bias and inputs settle it ({})",
        num(vparams),
        num(gain * wmax),
        num(settle)
    );
    let kv = within_scale(pop, kv, "its voltage", "v", &why)?;
    let sv = 2f64.powi(kv);
    // An integrator has no leak and (as a readout) no reset: no scale holds
    // its v for ever, and the kernel clamps v at half its range without a
    // word (a 10-input spike counter stopped at 512 where the reference
    // reached 1,047). Said with how soon one largest input a step gets there.
    let mut warnings = Vec::new();
    if p.kind == NirKind::I {
        let clip = 2f64.powi(30 - kv as i32);
        let per_step = (0..n).map(|i| (dt * p.r.get(i) * wmax).abs()).filter(|g| g.is_finite()).fold(0.0f64, f64::max);
        let soon = if per_step > 0.0 { format!(", which one input of its largest weight every step ({} a step) reaches in {} steps", num(per_step), (clip / per_step).ceil()) } else { String::new() };
        warnings.push(format!(
            "population `{}` ({}): an integrator has no leak, so its v grows without bound; its fixed point holds v within ±{}{soon}, and beyond it v stays at the limit (a longer run or a larger input saturates it silently)",
            pop.name,
            pop.model.name(),
            num(clip)
        ));
    }
    let conv = 2f64.powi(kv - kx); // x LSB → v LSB
    let fx = |name: &str, f: &[f64]| fixed(f).ok_or_else(|| bad(pop, format!("{name} is out of the fixed-point range: {}", crate::lower::fixed::out_of_range(f))));
    let q = |name: &str, v: &Values, scale: f64| -> Result<Vec<i32>> { (0..n).map(|i| to_fixed(pop, name, v.get(i), scale, "")).collect() };
    let k = p.kind;
    let cuba = matches!(k, NirKind::CubaLI | NirKind::CubaLIF);
    let a_m: Vec<f64> = (0..n).map(|i| dt / p.tau_mem.get(i)).collect();
    let a_s: Vec<f64> = (0..n).map(|i| dt / p.tau_syn.get(i)).collect();
    // Coefficient of x (or i) in the v update, in v LSB per x LSB.
    let b: Vec<f64> = (0..n)
        .map(|i| match k {
            NirKind::I | NirKind::IF => dt * p.r.get(i) * conv,
            NirKind::LI | NirKind::LIF | NirKind::CubaLI | NirKind::CubaLIF => a_m[i] * p.r.get(i) * conv,
            NirKind::Threshold => 0.0,
        })
        .collect();
    let bs: Vec<f64> = (0..n).map(|i| a_s[i] * p.w_in.get(i)).collect();
    let (a_q, sh_a) = fx("dt/tau", &a_m)?;
    let (b_q, sh_b) = fx("the input coefficient", &b)?;
    // The current decays to 0 by i·(1 − dt/τs), rounded to nearest but at
    // least one LSB a step (`Decay::emit_to_zero`): as i − round(i·dt/τs)
    // every |i| < 0.5·τs/dt LSB was a fixed point (50 LSBs at dt/τs = 0.01),
    // and v integrated the remainder: one spike into a CubaLIF with
    // τ_mem = 1,000 s fired it every 630 steps for ever (the reference: once).
    let f_s: Vec<f64> = a_s.iter().map(|a| 1.0 - a).collect();
    let decay_s = cuba.then(|| Decay::plan(pop, "1 − dt/tau_syn", &f_s)).transpose()?;
    let (bs_q, sh_bs) = fx("dt·w_in/tau_syn", &bs)?;
    let leak = matches!(k, NirKind::LI | NirKind::LIF | NirKind::CubaLI | NirKind::CubaLIF);
    let fires = if p.fire && !k.spikes() { "_threshold" } else { "" };
    let mut kb = KernelBuilder::new(&format!("nir_{}{fires}", k.primitive().to_lowercase()));
    let s_i = cuba.then(|| kb.state("i"));
    let s_v = (k != NirKind::Threshold).then(|| kb.state("v"));
    let p_bias = kb.param("bias");
    let p_b = kb.param("b");
    let p_leak = leak.then(|| (kb.param("a_m"), kb.param("vleak")));
    let p_cuba = cuba.then(|| (kb.param("d_s"), kb.param("b_s")));
    let p_vth = kb.param("vth");
    let p_vreset = kb.param("vreset");
    let (exps, inputs) = declare_ports(&mut kb, &ports, "x");
    // Saturation where the worst case (every input at its largest weight
    // every step, plus the bias) could leave a range, as LIF's (see
    // docs/quantisation.md): a step's input within 2^29 before the bias, x
    // and a Cuba current within what moves their product by 2^28, v within
    // half its range each step.
    let bias_max = (babs / lsb_x).min(2f64.powi(31));
    let worst_in = worst_input(n, incoming, &[Receptor::Excitatory, Receptor::Inhibitory], |_| lsb_x) * 1.01;
    let port_clamp = port_clamps(&ports, &[Receptor::Excitatory, Receptor::Inhibitory], worst_in);
    let worst_x = worst_in.min(2f64.powi(29)) + bias_max;
    let max_of = |q: &[i32], sh: u8| q.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs())) / 2f64.powi(sh as i32);
    let clamp_for = |worst: f64, fmax: f64| {
        let bits = product_bits(fmax).max(1) as u8;
        (worst > 2f64.powi(bits as i32 - 1) - 1.0).then_some(bits)
    };
    // x feeds v (through b) or the current (through b_s); the current feeds v (through b).
    let (x_clamp, i_clamp) = if cuba {
        let w_in_max = (0..n).map(|i| p.w_in.get(i).abs()).fold(0.0f64, f64::max);
        (clamp_for(worst_x, max_of(&bs_q, sh_bs)), clamp_for(worst_x * w_in_max.max(1.0), max_of(&b_q, sh_b)))
    } else {
        (clamp_for(worst_x, max_of(&b_q, sh_b)), None)
    };
    // x: this step's weighted spikes plus the constant input.
    sum_ports_clamped(&mut kb, &ports, &exps, &inputs, None, r(0), &port_clamp);
    kb.ldp(r(1), p_bias).add(r(0), r(0), r(1));
    if let (Some(bits), true) = (x_clamp, k != NirKind::Threshold) {
        kb.sat(r(0), r(0), bits);
    }
    match s_v {
        None => {
            kb.ldp(r(2), p_vth).cmplt(r(3), r(2), r(0)).spike(r(3));
        }
        Some(s_v) => {
            if let (Some(s_i), Some((p_ds, p_bs)), Some((decay_s, _))) = (s_i, p_cuba, &decay_s) {
                // i ← (1 − dt/τs)·i + dt/τs·w_in·x
                kb.lds(r(4), s_i);
                decay_s.emit_to_zero(&mut kb, p_ds, r(4), r(6), r(7), r(4));
                kb.ldp(r(5), p_bs).mulshr(r(6), r(0), r(5), sh_bs).add(r(4), r(4), r(6));
                if let Some(bits) = i_clamp {
                    kb.sat(r(4), r(4), bits);
                }
                kb.sts(s_i, r(4)).mov(r(0), r(4));
            }
            kb.lds(r(7), s_v);
            if let Some((p_am, p_vleak)) = p_leak {
                // v += dt/τ·(v_leak − v)
                kb.ldp(r(5), p_vleak).sub(r(6), r(5), r(7)).ldp(r(5), p_am).mulshr(r(6), r(6), r(5), sh_a).add(r(7), r(7), r(6));
            }
            // … + coefficient·x: saturating where no leak bounds v (an IF
            // neuron driven down drifts without end, and wrapped round to the
            // top of v's range and fired).
            kb.ldp(r(5), p_b).mulshr(r(6), r(0), r(5), sh_b);
            if leak {
                kb.add(r(7), r(7), r(6));
            } else {
                kb.adds(r(7), r(7), r(6));
            }
            kb.sat(r(7), r(7), 31);
            if k.spikes() || p.fire {
                kb.ldp(r(8), p_vth).cmplt(r(9), r(8), r(7)).spike(r(9));
            }
            if k.spikes() {
                kb.ldp(r(10), p_vreset);
                match p.reset {
                    ResetMode::ToReset => {
                        kb.sel(r(7), r(9), r(10), r(7));
                    }
                    ResetMode::Subtract => {
                        kb.sub(r(11), r(8), r(10)).sub(r(12), r(7), r(11)).sel(r(7), r(9), r(12), r(7));
                    }
                }
            }
            kb.sts(s_v, r(7));
        }
    }
    let kernel = finish(pop, kb)?;
    let mut pv: Vec<ParamVals> = vec![ParamVals::from_vec(q("bias", &p.bias, 1.0 / lsb_x)?), ParamVals::from_vec(b_q)];
    if leak {
        pv.push(ParamVals::from_vec(a_q));
        pv.push(ParamVals::from_vec(q("v_leak", &p.v_leak, sv)?));
    }
    if let Some((_, ds_q)) = decay_s {
        pv.push(ds_q);
        pv.push(ParamVals::from_vec(bs_q));
    }
    let vth_scale = if k == NirKind::Threshold { 1.0 / lsb_x } else { sv };
    pv.push(ParamVals::from_vec(q("v_threshold", &p.v_threshold, vth_scale)?));
    pv.push(ParamVals::from_vec(q("v_reset", &p.v_reset, sv)?));
    pv.extend(ports.iter().map(|p| ParamVals::Uniform(p.exp as i32)));
    let mut st = vec![];
    let mut vars = vec![];
    if cuba {
        st.push(vec![0; n]);
        vars.push(VarSymbol { name: "i".into(), slot: 0, scale: lsb_x, offset: 0.0, unit: "".into() });
    }
    if k != NirKind::Threshold {
        vars.push(VarSymbol { name: "v".into(), slot: st.len() as u8, scale: 1.0 / sv, offset: 0.0, unit: "".into() });
        st.push(vec![0; n]);
    }
    Ok(Lowered { body: Body::Kernel { kernel, params: pv, state: st }, ports, vars, quant, warnings })
}
