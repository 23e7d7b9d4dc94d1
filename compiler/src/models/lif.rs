//! The leaky integrate-and-fire family, PyNN's `IF_curr_exp`: `lif`, `if`
//! (no leak) and `adaptive_lif` (a threshold that jumps at each spike and
//! decays back). Exact integration over a step; currents decay
//! exponentially per receptor; v is held at v_reset while refractory.

use nerve_isa::arch::Arch;
use nerve_isa::image::VarSymbol;
use nerve_isa::instr::r;
use nerve_isa::kernel::builder::KernelBuilder;

use super::{Cx, Default::*, Initial, NeuronModel, ParamSpec, Params, PynnMap, PynnParam, Range::*, VarSpec};
use crate::error::Result;
use crate::lower::fixed::{approx, declare_ports, finish, fixed, initial, sum_ports_clamped, to_fixed, Decay, Signed};
use crate::lower::quant::{assign_scaled, current_scale_of, max_weight, port_clamps, product_bits, shared_scale, worst_input, ProjQuant};
use crate::lower::{bad, Body, Incoming, Lowered, ParamVals};
use crate::net::model::*;

/// `IF_curr_exp`'s parameters, with PyNN 0.12's defaults.
const LIF_PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "tau_m", unit: "ms", default: Value(20.0), range: Positive, doc: "membrane time constant" },
    ParamSpec { name: "cm", unit: "nF", default: Value(1.0), range: Positive, doc: "membrane capacitance" },
    ParamSpec { name: "v_rest", unit: "mV", default: Value(-65.0), range: Any, doc: "resting potential" },
    ParamSpec { name: "v_reset", unit: "mV", default: Value(-65.0), range: Any, doc: "potential after a spike" },
    ParamSpec { name: "v_thresh", unit: "mV", default: Value(-50.0), range: Any, doc: "spike when v exceeds it" },
    ParamSpec { name: "tau_refrac", unit: "ms", default: Value(0.1), range: NonNegative, doc: "refractory period (rounded to steps)" },
    ParamSpec { name: "tau_syn_E", unit: "ms", default: Value(5.0), range: Positive, doc: "excitatory current decay" },
    ParamSpec { name: "tau_syn_I", unit: "ms", default: Value(5.0), range: Positive, doc: "inhibitory current decay" },
    ParamSpec { name: "i_offset", unit: "nA", default: Value(0.0), range: Any, doc: "constant input current" },
];

const IF_PARAMS: &[ParamSpec] = &[LIF_PARAMS[1], LIF_PARAMS[2], LIF_PARAMS[3], LIF_PARAMS[4], LIF_PARAMS[5], LIF_PARAMS[6], LIF_PARAMS[7], LIF_PARAMS[8]];

const ADAPTIVE_PARAMS: &[ParamSpec] = &[
    LIF_PARAMS[0],
    LIF_PARAMS[1],
    LIF_PARAMS[2],
    LIF_PARAMS[3],
    LIF_PARAMS[4],
    LIF_PARAMS[5],
    LIF_PARAMS[6],
    LIF_PARAMS[7],
    LIF_PARAMS[8],
    ParamSpec { name: "a_jump", unit: "mV", default: Value(1.0), range: Any, doc: "threshold increase at each spike" },
    ParamSpec { name: "tau_a", unit: "ms", default: Value(100.0), range: Positive, doc: "threshold decay back to v_thresh" },
];

const LIF_STATE: &[VarSpec] = &[
    VarSpec { name: "v", unit: "mV", int_bits: None, initial: Initial::Param("v_rest") },
    VarSpec { name: "isyn_exc", unit: "nA", int_bits: None, initial: Initial::Value(0.0) },
    VarSpec { name: "isyn_inh", unit: "nA", int_bits: None, initial: Initial::Value(0.0) },
];

const ADAPTIVE_STATE: &[VarSpec] =
    &[LIF_STATE[0], LIF_STATE[1], LIF_STATE[2], VarSpec { name: "theta", unit: "mV", int_bits: None, initial: Initial::Value(0.0) }];

const PYNN_STATE: &[(&str, &str)] = &[("v", "v"), ("isyn_exc", "isyn_exc"), ("isyn_inh", "isyn_inh")];

const PYNN_LIF: PynnMap = PynnMap {
    cell: "IF_curr_exp",
    params: &[
        ("tau_m", PynnParam::Param("tau_m")),
        ("cm", PynnParam::Param("cm")),
        ("v_rest", PynnParam::Param("v_rest")),
        ("v_reset", PynnParam::Param("v_reset")),
        ("v_thresh", PynnParam::Param("v_thresh")),
        ("tau_refrac", PynnParam::Refractory("tau_refrac")),
        ("tau_syn_E", PynnParam::Param("tau_syn_E")),
        ("tau_syn_I", PynnParam::Param("tau_syn_I")),
        ("i_offset", PynnParam::Param("i_offset")),
    ],
    state: PYNN_STATE,
    weight_scale: 1.0,
    note: "",
};

const PYNN_IF: PynnMap = PynnMap {
    cell: "IF_curr_exp",
    params: &[
        ("tau_m", PynnParam::NoLeak),
        ("cm", PynnParam::Param("cm")),
        ("v_rest", PynnParam::Param("v_rest")),
        ("v_reset", PynnParam::Param("v_reset")),
        ("v_thresh", PynnParam::Param("v_thresh")),
        ("tau_refrac", PynnParam::Refractory("tau_refrac")),
        ("tau_syn_E", PynnParam::Param("tau_syn_E")),
        ("tau_syn_I", PynnParam::Param("tau_syn_I")),
        ("i_offset", PynnParam::Param("i_offset")),
    ],
    state: PYNN_STATE,
    weight_scale: 1.0,
    note: "no leak: tau_m = 1e9 ms on NEST (v moves by less than 1e-4 mV over 10^6 ms at 100 mV from rest); on sPyNNaker, whose tau_m is S16.15, 2^15 timesteps at most (the export notes the leak over the run)",
};

/// Where a current saturates: each port's step input before its shift, and
/// the current after the input is added (bits of `sat`; `None`: no clamp,
/// the worst case stays in range).
struct Clamps {
    inputs: Vec<Option<u8>>,
    current: Option<u8>,
}

/// Which member of the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Lif,
    If,
    Adaptive,
}

pub struct LifModel(pub Kind);

pub static LIF: LifModel = LifModel(Kind::Lif);
pub static IF: LifModel = LifModel(Kind::If);
pub static ADAPTIVE_LIF: LifModel = LifModel(Kind::Adaptive);

/// The parameters as the lowering reads them (`if`: τm = ∞).
pub struct LifParams {
    pub tau_m: Values,
    pub cm: Values,
    pub v_rest: Values,
    pub v_reset: Values,
    pub v_thresh: Values,
    pub tau_refrac: Values,
    pub tau_syn_e: Values,
    pub tau_syn_i: Values,
    pub i_offset: Values,
}

impl LifParams {
    pub fn of(p: &Params) -> LifParams {
        LifParams {
            tau_m: p.opt("tau_m").cloned().unwrap_or(Values::Scalar(f64::INFINITY)),
            cm: p.get("cm").clone(),
            v_rest: p.get("v_rest").clone(),
            v_reset: p.get("v_reset").clone(),
            v_thresh: p.get("v_thresh").clone(),
            tau_refrac: p.get("tau_refrac").clone(),
            tau_syn_e: p.get("tau_syn_E").clone(),
            tau_syn_i: p.get("tau_syn_I").clone(),
            i_offset: p.get("i_offset").clone(),
        }
    }
}

/// The threshold's jump (mV) at each spike and its decay (ms).
pub struct AdaptiveParams {
    pub a_jump: Values,
    pub tau_a: Values,
}

impl NeuronModel for LifModel {
    fn name(&self) -> &'static str {
        match self.0 {
            Kind::Lif => "lif",
            Kind::If => "if",
            Kind::Adaptive => "adaptive_lif",
        }
    }
    fn about(&self) -> &'static str {
        match self.0 {
            Kind::Lif => "PyNN IF_curr_exp: leaky integrate-and-fire, exponential current synapses",
            Kind::If => "integrate-and-fire without leak (IF_curr_exp with tau_m = ∞)",
            Kind::Adaptive => "lif with a threshold that jumps by a_jump at each spike and decays with tau_a",
        }
    }
    fn params(&self) -> &'static [ParamSpec] {
        match self.0 {
            Kind::Lif => LIF_PARAMS,
            Kind::If => IF_PARAMS,
            Kind::Adaptive => ADAPTIVE_PARAMS,
        }
    }
    fn state(&self) -> &'static [VarSpec] {
        match self.0 {
            Kind::Lif | Kind::If => LIF_STATE,
            Kind::Adaptive => ADAPTIVE_STATE,
        }
    }
    fn pynn(&self) -> Option<&'static PynnMap> {
        match self.0 {
            Kind::Lif => Some(&PYNN_LIF),
            Kind::If => Some(&PYNN_IF),
            Kind::Adaptive => None,
        }
    }
    fn nir(&self) -> Option<&'static str> {
        match self.0 {
            Kind::Lif => Some("CubaLIF"),
            Kind::If | Kind::Adaptive => None,
        }
    }
    fn hint(&self, key: &str) -> Option<&'static str> {
        (self.0 == Kind::If && key == "tau_m").then_some("`if` has no leak: remove `tau_m` (or use `lif`)")
    }
    fn lower(&self, cx: &Cx, pop: &Population, p: &Params, incoming: &[Incoming]) -> Result<Lowered> {
        let lif = LifParams::of(p);
        let adaptive = (self.0 == Kind::Adaptive).then(|| AdaptiveParams { a_jump: p.get("a_jump").clone(), tau_a: p.get("tau_a").clone() });
        lower_lif(cx.arch, pop, &lif, adaptive.as_ref(), incoming, cx.dt_ms)
    }
}

/// The error for a current factor `b` (mV of v a step per nA of the
/// `what` current, per neuron) that does not fit its fixed point, which
/// holds |b| ≤ `most`: the neuron furthest out, the parameters its factor
/// comes from with their values, and what overflowed if it is not finite
/// (a bare "the excitatory current factor is out of the fixed-point range"
/// named none of them).
fn factor_error(pop: &Population, p: &LifParams, what: &str, b: &[f64], (ts_name, ts): (&str, &Values), dt: f64, most: f64) -> crate::error::CompileError {
    use crate::error::num;
    // The first furthest out (max_by keeps the last of equals); NaN sorts
    // above every number, so a factor that is not one is named first.
    let i = (0..b.len()).rev().max_by(|&x, &y| b[x].abs().total_cmp(&b[y].abs())).unwrap_or(0);
    let (tm, cm, t) = (p.tau_m.get(i), p.cm.get(i), ts.get(i));
    let tau_m = if tm.is_infinite() { String::new() } else { format!("tau_m = {} ms, ", num(tm)) };
    let why = if !(1.0 / cm).is_finite() {
        format!(" (1/cm overflows: cm = {} nF is too small)", num(cm))
    } else if tm.is_finite() && !(tm * t).is_finite() {
        format!(" (tau_m × {ts_name} overflows; for no leak, use the model `if`)")
    } else if !b[i].is_finite() {
        " (it overflows)".to_string()
    } else {
        String::new()
    };
    bad(
        pop,
        format!(
            "{tau_m}cm = {} nF and {ts_name} = {} ms (neuron {i}, at dt {} ms) make the {what} current's factor into v {} mV a step per nA{why}: its fixed point holds at most ±{} mV per nA",
            num(cm),
            num(t),
            num(dt),
            approx(b[i]),
            approx(most)
        ),
    )
}

/// The charge a synaptic current of `x0` LSBs delivers, as a share of the
/// exact one, where it decays by `d` a step in whole LSBs: the decay moves
/// it by at least one LSB a step, so below 0.5/(1 − d) LSBs it drains in a
/// line rather than decaying (docs/quantisation.md, "Decays to zero").
fn charge_share(x0: f64, d: f64) -> f64 {
    let exact = x0 / (1.0 - d);
    let dead = 0.5 / (1.0 - d);
    let held = if x0 <= dead { x0 * (x0 + 1.0) / 2.0 } else { (x0 - dead) / (1.0 - d) + dead * (dead + 1.0) / 2.0 };
    (held / exact).min(1.0)
}

/// Warnings where a spike of a receptor's smallest weight moves its
/// current by so few LSBs that the current drains in whole LSBs rather
/// than decaying, losing more than 5% of its charge (a 0.1 nA spike at dt
/// 0.01 ms with tau_syn 100 ms: 71% of its PSP; dt 1e-4 ms: 99.5%). The
/// current's scale follows v's (and the receptor's largest weight), not
/// dt: a smaller dt or a larger tau_syn takes more LSBs to decay.
#[allow(clippy::too_many_arguments)]
fn current_warnings(
    pop: &Population,
    p: &LifParams,
    incoming: &[Incoming],
    quant: &[(ProjIx, ProjQuant)],
    dt: f64,
    merged: bool,
    receptors: [(Receptor, f64, &Vec<f64>); 2],
    set_by: &[Option<(Receptor, String, f64)>; 2],
) -> Vec<String> {
    let mut out = Vec::new();
    for ((r, lsb, d), set_by) in receptors.into_iter().zip(set_by) {
        let smallest = incoming
            .iter()
            .filter(|i| !i.electrical && i.p.receptor == r)
            .filter_map(|i| {
                // A weight its port rounds to 0 is said with the projection's quantisation.
                let step = quant.iter().find(|(e, _)| *e == i.proj).map_or(lsb, |(_, q)| q.unit * 2f64.powi(q.exp as i32));
                let least = 0.5 * step.max(lsb);
                let w = match &i.syn.weights {
                    crate::net::expand::Weights::Uniform(w) => (!i.syn.is_empty()).then_some(w.abs()),
                    crate::net::expand::Weights::PerSynapse(v) => v.iter().map(|w| w.abs()).filter(|&w| w >= least).min_by(f64::total_cmp),
                };
                w.filter(|&w| w >= least).map(|w| (w, i.p.label.as_str()))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let (Some((w, label)), Some(&d)) = (smallest, d.iter().max_by(|a, b| a.total_cmp(b))) else { continue };
        let x0 = w / lsb;
        let share = charge_share(x0, d);
        if d >= 1.0 || d.is_nan() || share > 0.95 {
            continue;
        }
        let (name, tau) = if r == Receptor::Excitatory { ("tau_syn_E", &p.tau_syn_e) } else { ("tau_syn_I", &p.tau_syn_i) };
        let slowest = tau.iter(pop.size as usize).fold(0.0f64, f64::max);
        let which = if tau.iter(pop.size as usize).any(|t| t != slowest) { " (its slowest neuron's)" } else { "" };
        let tau = slowest;
        let current = match set_by {
            Some((other, by, wmax)) => format!(
                "synaptic (isyn) current, whose step the {} weights set (projection {by}'s largest |weight|, {} nA: with tau_syn_E = tau_syn_I the two currents are one, at the coarser step; a tau_syn_I apart from tau_syn_E keeps each at its own),",
                other.name(),
                crate::error::num(*wmax)
            ),
            None => format!("{} current,", if merged { "synaptic (isyn)" } else { r.name() }),
        };
        out.push(format!(
            "population `{}` ({}): a spike of projection {label}'s smallest weight, {} nA, is {x0:.0} LSBs of its {current} which decays by whole LSBs at dt {} ms and {name} {} ms{which}: it delivers about {}% of its exact charge (the current drains in a line below {:.0} LSBs); a larger dt, or larger weights on this receptor, keep it",
            pop.name,
            pop.model.name(),
            crate::error::num(w),
            crate::error::num(dt),
            crate::error::num(tau),
            if share < 0.01 { format!("{:.1}", 100.0 * share) } else { format!("{:.0}", 100.0 * share) },
            0.5 / (1.0 - d)
        ));
    }
    out.extend(junction_warnings(pop, p, incoming, quant, dt, merged, receptors));
    out
}

/// The potential difference (mV) a junction's precision is told at.
const JUNCTION_TOLD_MV: f64 = 10.0;

/// The band of its exact current outside which a junction is told: 75%
/// to 133%. Inside it the input is 3 steps or more a step; beside chemical
/// inputs, which keep the current off its dead band, only the input's
/// rounding is lost (C. elegans's one-contact junctions on spinnaker: 80%
/// to 113%, its classes' rates as the float simulator's).
const JUNCTION_TOLD_BAND: (f64, f64) = (0.75, 1.0 / 0.75);

/// Warnings where a gap junction's input, every step g·Δv times the step
/// factor, is so few steps of its port that whole steps lose it (g 1 nS at
/// dt 0.001 ms, tau_syn_E 1 ms: nothing passed, silently) or hold it (10 nS
/// at dt 0.002: 277% of the current once Δv fell to 3 mV). An input of x
/// steps a step is rounded to r; the current decays by round(i·(1 − d))
/// steps and at least one, so it settles anywhere its decay equals r: from
/// (r − 0.5)/(1 − d) to (r + 0.5)/(1 − d) steps (from 1 for r = 1; 0 for r =
/// 0), as its history leaves it, against the exact x/(1 − d). A neuron's
/// junctions are summed and rounded once: told for the neuron of least
/// total conductance, across 10 mV, where that band leaves
/// [`JUNCTION_TOLD_BAND`].
fn junction_warnings(
    pop: &Population,
    p: &LifParams,
    incoming: &[Incoming],
    quant: &[(ProjIx, ProjQuant)],
    dt: f64,
    merged: bool,
    receptors: [(Receptor, f64, &Vec<f64>); 2],
) -> Vec<String> {
    let mut out = Vec::new();
    for (r, lsb, d) in receptors {
        // Each neuron's junctions are summed and rounded once (`gap`): its
        // input a step across GAP_SPAN_MV is the sum of their `syn` weights
        // (`gap::as_currents`), in LSBs of the port's step, which they share.
        let mut total = vec![0.0f64; pop.size as usize];
        let mut from: Vec<Option<usize>> = vec![None; pop.size as usize];
        let mut step = lsb;
        for (k, i) in incoming.iter().enumerate().filter(|(_, i)| i.electrical && i.p.receptor == r) {
            step = quant.iter().find(|(e, _)| *e == i.proj).map_or(lsb, |(_, q)| q.unit * 2f64.powi(q.exp as i32)).max(lsb);
            for j in 0..i.syn.len() as usize {
                if let (Some(t), Some(f)) = (total.get_mut(i.syn.post[j] as usize), from.get_mut(i.syn.post[j] as usize)) {
                    *t += i.syn.weight(j).abs();
                    f.get_or_insert(k);
                }
            }
        }
        let smallest = (0..total.len()).filter(|&n| total[n] > 0.0).min_by(|&a, &b| total[a].total_cmp(&total[b]));
        let smallest = smallest.map(|n| (total[n] / crate::gap::GAP_SPAN_MV / step, n, incoming[from[n].unwrap_or(0)].p.label.as_str()));
        let (Some((per_mv, n, label)), Some(&d)) = (smallest, d.iter().max_by(|a, b| a.total_cmp(b))) else { continue };
        // The band of its exact current an input of x steps a step settles in.
        let band = |x: f64| match x.round() {
            r if r < 1.0 => (0.0, 0.0),
            r if r < 2.0 => ((1.0 - d) / x, 1.5 / x),
            r => ((r - 0.5) / x, (r + 0.5) / x),
        };
        let outside = |x: f64| {
            let (lo, hi) = band(x);
            lo < JUNCTION_TOLD_BAND.0 || hi > JUNCTION_TOLD_BAND.1
        };
        let x = per_mv * JUNCTION_TOLD_MV;
        if d >= 1.0 || d.is_nan() || x.is_nan() || !outside(x) {
            continue;
        }
        let joined = total.iter().filter(|&&t| t > 0.0).count();
        let told = total.iter().filter(|&&t| t > 0.0 && outside(t / crate::gap::GAP_SPAN_MV / step * JUNCTION_TOLD_MV)).count();
        let (name, tau) = if r == Receptor::Excitatory { ("tau_syn_E", &p.tau_syn_e) } else { ("tau_syn_I", &p.tau_syn_i) };
        let slowest = tau.iter(pop.size as usize).fold(0.0f64, f64::max);
        let pct = |f: f64| if f == 0.0 { "0".to_string() } else if f < 0.01 { format!("{:.1}", 100.0 * f) } else { format!("{:.0}", 100.0 * f) };
        let settles = match band(x) {
            (_, 0.0) => "passes none of its current".to_string(),
            (lo, hi) => format!("settles anywhere from {}% to {}% of its exact current, as the run's history leaves it", pct(lo), pct(hi)),
        };
        out.push(format!(
            "population `{}` ({}): the gap junctions into its neuron {n} (electrical projection {label}{}), the least conductance into one of its neurons, move its {} current by {x:.2} of their port's steps a step across {JUNCTION_TOLD_MV} mV (dt {} ms, {name} {} ms), and the port and the current take whole steps: across {JUNCTION_TOLD_MV} mV the junction {settles}, and across less than {} mV (under 1.5 steps a step) it is held between none and 1.5/(1 − d) steps whatever the difference ({told} of its {joined} neurons with junctions settle outside {:.0}–{:.0}% across {JUNCTION_TOLD_MV} mV); a larger dt or a shorter {name}, or conductances of nearer sizes into one population (its port's step follows the largest), keep it",
            pop.name,
            pop.model.name(),
            if incoming.iter().filter(|i| i.electrical && i.p.receptor == r).count() > 1 { " and others" } else { "" },
            if merged { "synaptic (isyn)" } else { r.name() },
            crate::error::num(dt),
            crate::error::num(slowest),
            crate::error::num(format!("{:.2e}", (1.5 / per_mv).min(1e300)).parse().unwrap_or(0.0)),
            100.0 * JUNCTION_TOLD_BAND.0,
            100.0 * JUNCTION_TOLD_BAND.1
        ));
    }
    out
}

/// A warning where the per-step constant c (the leak toward v_rest and the
/// drive of i_offset) rounds to v's LSB far from its value: it moves v's
/// resting point by half an LSB over 1 − a (9.5 mV at dt 1e-6 ms), or, with
/// no leak, changes the drive's rate (i_offset 0.01 nA at dt 1e-5 ms: none).
fn drive_warning(pop: &Population, a_v: &[f64], c_mv: &[f64], drive_mv: &[f64], kv: i32) -> Option<String> {
    let lsb = 2f64.powi(-kv);
    let mut worst: Option<(usize, String, f64)> = None;
    for (i, ((&a, &c), &drive)) in a_v.iter().zip(c_mv).zip(drive_mv).enumerate() {
        let q = (c / lsb).round() * lsb;
        let (what, off) = if a < 1.0 {
            let shift = (q - c).abs() / (1.0 - a);
            (format!("moves its resting point by up to {shift:.3} mV"), shift / 0.1)
        } else if drive != 0.0 {
            // No leak a step (`if`, or a tau_m so long that e^(−dt/τ) is 1):
            // what rounds is i_offset's drive, against which it is measured
            // (tau_m 1e300 with no i_offset was said to change a drive of 0 by 100%).
            let rel = (q - c).abs() / drive.abs();
            (format!("changes its i_offset's drive by {:.0}%", 100.0 * rel), rel / 0.01)
        } else {
            continue;
        };
        if off > 1.0 && worst.as_ref().is_none_or(|w| off > w.2) {
            worst = Some((i, what, off));
        }
    }
    let (i, what, _) = worst?;
    let at = if a_v.len() > 1 { format!(" (neuron {i})") } else { String::new() };
    Some(format!(
        "population `{}` ({}){at}: its per-step constant (leak and i_offset) rounds to v's LSB, 2^-{kv} mV, which {what}; a larger dt keeps it",
        pop.name,
        pop.model.name()
    ))
}

/// 1 − e^(−x), given `e` = e^(−x): its expm1 form where x is small (1 − e
/// loses every digit as x goes to 0, and is 0 from ~1e-16), else 1 − e as
/// always, so that every other network's factors are computed as before.
fn one_minus_exp(x: f64, e: f64) -> f64 {
    if x < 1e-4 {
        -(-x).exp_m1()
    } else {
        1.0 - e
    }
}

fn lower_lif(arch: &Arch, pop: &Population, p: &LifParams, adaptive: Option<&AdaptiveParams>, incoming: &[Incoming], dt: f64) -> Result<Lowered> {
    let n = pop.size as usize;
    // The largest voltage a parameter names (the voltage scale follows the propagators).
    let vmax = [&p.v_rest, &p.v_reset, &p.v_thresh]
        .iter()
        .map(|v| {
            let (lo, hi) = v.min_max(n);
            lo.abs().max(hi.abs())
        })
        .fold(1.0f64, f64::max);
    // Exact propagators, per neuron.
    let mut a_v = Vec::with_capacity(n);
    let mut c_mv = Vec::with_capacity(n);
    // i_offset's part of c a step where no leak acts (the drive warning's measure).
    let mut drive_mv = Vec::with_capacity(n);
    // b: mV of membrane change over one step per nA of synaptic current at the step's start.
    let (mut b_e, mut b_i, mut d_e, mut d_i) = (vec![], vec![], vec![], vec![]);
    let mut tref = vec![];
    for i in 0..n {
        let (tm, cm) = (p.tau_m.get(i), p.cm.get(i));
        let (te, ti) = (p.tau_syn_e.get(i), p.tau_syn_i.get(i));
        let a = if tm.is_infinite() { 1.0 } else { (-dt / tm).exp() };
        // 1 − a loses every digit as dt/τm goes to 0 (it is 0 from ~1e-16,
        // and the drive with it); its expm1 form keeps them. Only where
        // that matters, so that every other network's factor stays as it
        // was computed.
        let one_minus_a = one_minus_exp(dt / tm, a);
        let c = if tm.is_infinite() { p.i_offset.get(i) * dt / cm } else { (p.v_rest.get(i) + p.i_offset.get(i) * tm / cm) * one_minus_a };
        let b = |ts: f64| -> f64 {
            if tm.is_infinite() {
                ts / cm * one_minus_exp(dt / ts, (-dt / ts).exp())
            } else if (ts - tm).abs() < 1e-12 * tm {
                dt / cm * (-dt / tm).exp()
            } else if dt / ts < 1e-4 && dt / tm < 1e-4 {
                // e^(−dt/τs) − e^(−dt/τm) as the difference of their expm1s:
                // both terms are 1 in f64 past ~1e16 dt, and the current
                // then moved v by nothing.
                (1.0 / cm) * tm * ts / (ts - tm) * ((-dt / ts).exp_m1() - (-dt / tm).exp_m1())
            } else {
                (1.0 / cm) * tm * ts / (ts - tm) * ((-dt / ts).exp() - (-dt / tm).exp())
            }
        };
        a_v.push(a);
        c_mv.push(c);
        drive_mv.push(p.i_offset.get(i) * dt / cm);
        b_e.push(b(te));
        b_i.push(b(ti));
        d_e.push((-dt / te).exp());
        d_i.push((-dt / ti).exp());
        let r = nerve_isa::time::steps_of(p.tau_refrac.get(i), dt);
        // The counter holds R − 1 in 32 bits: a longer period was held at
        // 2^31 steps without a word.
        if r.is_nan() || r > 2f64.powi(31) {
            return Err(bad(
                pop,
                format!(
                    "tau_refrac = {} ms (neuron {i}) is {} steps at dt {} ms; the refractory counter holds at most 2^31 steps ({} ms)",
                    crate::error::num(p.tau_refrac.get(i)),
                    crate::error::num(r),
                    crate::error::num(dt),
                    crate::error::num(2f64.powi(31) * dt)
                ),
            ));
        }
        tref.push((r as i64 - 1).max(0) as i32);
    }
    // Voltage scale: as fine as keeps 16× the largest voltage in 31 bits,
    // and 16 coinciding spikes of the largest weight on top of it (each
    // one's whole excursion: b·w over the current's life, leak ignored), at
    // most 2^-20 mV. Without the second, a weight of 1000 nA wrapped v
    // round to −1360 mV.
    let (we, wi) = (max_weight(incoming, Receptor::Excitatory), max_weight(incoming, Receptor::Inhibitory));
    // A spike's whole effect on v: its current's, summed as it decays.
    let whole = |w: f64, b: f64, d: f64, ts: f64| if w == 0.0 { 0.0 } else { w * b.abs() / one_minus_exp(dt / ts, d).max(f64::MIN_POSITIVE) };
    let spike =
        (0..n).map(|i| whole(we, b_e[i], d_e[i], p.tau_syn_e.get(i)).max(whole(wi, b_i[i], d_i[i], p.tau_syn_i.get(i)))).fold(0.0f64, f64::max);
    // Where a constant drive (i_offset) takes v: its steady state, v_rest +
    // i_offset·τm/cm (−8 V for −100 nA into 80 MΩ, which wrapped). Without a
    // leak (`if`) nothing bounds it: the kernel's adds into v saturate instead.
    let vinf = (0..n).filter(|&i| a_v[i] < 1.0).map(|i| (c_mv[i] / (1.0 - a_v[i])).abs()).fold(0.0f64, f64::max);
    // The kernel holds v within half its range (a clamp each step, so that
    // a drive past the range saturates instead of wrapping: 100 inhibitory
    // inputs at 100 Hz wrapped v below −4 V and it fired 1,360 times), so
    // the drive's steady state is held twice over; and a step's constant
    // term within an eighth of it (with the currents', below, the step's
    // adds cannot wrap).
    let cmax = c_mv.iter().fold(0.0f64, |m, c| m.max(c.abs()));
    let drive = (2.0 * vinf).max(8.0 * cmax);
    let vneed = (16.0 * vmax).max(vmax.max(drive) + 16.0 * spike);
    let kv = ((31.0 - vneed.log2()).floor() as i32).min(20);
    if !vneed.is_finite() || kv < 0 {
        let mv = |x: f64| if x < 1e6 { format!("{x:.1}") } else { format!("{x:.2e}") };
        if !vmax.is_finite() || 16.0 * vmax >= vmax.max(drive) + 16.0 * spike {
            // The voltages themselves (not the drive: v_thresh = 1e9 mV was
            // blamed on an i_offset of 0).
            return Err(bad(
                pop,
                format!(
                    "v_rest, v_reset and v_thresh reach |v| = {} mV: v's fixed point, which holds 16 times that, would need steps coarser than 1 mV (at most 2^31 mV)",
                    crate::error::num(vmax)
                ),
            ));
        }
        // Name what takes v that far: the weights, or a constant drive.
        // The largest input may be a gap junction's (its g·100 mV times the
        // step factor): named as such, not as a spike's weight in nA.
        let gap = incoming.iter().filter(|i| i.max_abs_weight() >= we.max(wi)).find(|i| i.electrical);
        let why = if let (true, Some(g)) = (16.0 * spike >= drive, gap) {
            format!(
                "the gap junctions of electrical projection {} move v by up to {} mV across {} mV of potential difference",
                g.p.label,
                mv(spike),
                crate::gap::GAP_SPAN_MV
            )
        } else if 16.0 * spike >= drive {
            format!("weights of up to {} nA move v by up to {} mV a spike", crate::error::num(we.max(wi)), mv(spike))
        } else {
            format!("i_offset drives v to where |v| = {} mV", mv(vinf))
        };
        return Err(bad(
            pop,
            format!(
                "{why}: v's fixed point, which holds twice that (and 16 coinciding spikes of the largest weight) on top of {} mV, would need steps coarser than 1 mV (at most 2^31 mV)",
                crate::error::num(vmax)
            ),
        ));
    }
    // The kernel holds v within half its range (±2^30 in fixed point), and
    // the step's adds cannot wrap only from there: an initial v past it
    // (2047.5 mV at Q20, ±2048 mV) wrapped round to −2048 mV on its first
    // step. A coarser scale holds it; one within it leaves the scale as it was.
    let v0s = initial(pop, "v", &p.v_rest);
    let v0max = v0s.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let kv = if !v0max.is_finite() || v0max * 2f64.powi(kv) > 2f64.powi(30) {
        let k = if v0max.is_finite() { (30.0 - v0max.log2()).floor() as i32 } else { -1 };
        if k < 0 {
            return Err(bad(
                pop,
                format!(
                    "the initial v reaches |v| = {} mV: the kernel holds v within half its fixed point's range, at most 2^30 mV (at 1 mV steps)",
                    crate::error::num(v0max)
                ),
            ));
        }
        k
    } else {
        kv
    };
    let sv = 2f64.powi(kv);
    let mut c0 = Vec::with_capacity(n);
    let mut vth = vec![];
    let mut vreset = vec![];
    for (i, c) in c_mv.iter().enumerate() {
        c0.push(to_fixed(pop, "the leak constant c0", *c, sv, "mV")?);
        vth.push(to_fixed(pop, "v_thresh", p.v_thresh.get(i), sv, "mV")?);
        vreset.push(to_fixed(pop, "v_reset", p.v_reset.get(i), sv, "mV")?);
    }
    // Currents. When each receptor's b is the same for every neuron (the
    // usual case), a current is stored as its one-step contribution to v,
    // b·I in Q(kh) mV with kh ≤ kv: v then takes it with an exact shift, not
    // a multiplication (Brian2's CUBA keeps its currents in volts the same
    // way), which saves two of the kernel's five multiply–shifts. Otherwise
    // currents are Q(kg) nA, multiplied by per-neuron b each step.
    let scaled = |b: &[f64]| b.first().filter(|&&b0| b0 > 0.0 && b0.is_finite() && b.iter().all(|&x| x == b0)).copied();
    let scaled = scaled(&b_e).zip(scaled(&b_i));
    // Equal synaptic time constants (PyNN's default, 5 ms both): the two
    // currents decay alike and enter v alike, so by linearity they are one
    // current, their sum (one state, one decay instead of two). Its scale is
    // the coarser of the receptors that have inputs, which holds either's.
    let merged = scaled.is_some_and(|(be, bi)| be == bi) && d_e == d_i;
    let (conv_e, conv_i, cap) = match scaled {
        Some((be, bi)) => (be, bi, kv),
        None => (1.0, 1.0, i32::MAX),
    };
    let (ke, ki) = (current_scale_of(arch, incoming, Receptor::Excitatory, conv_e), current_scale_of(arch, incoming, Receptor::Inhibitory, conv_i));
    let (kg_e, kg_i) = if merged {
        let k = shared_scale(&[ke, ki]).min(cap);
        (k, k)
    } else {
        (shared_scale(&[ke]).min(cap), shared_scale(&[ki]).min(cap))
    };
    // nA per least significant bit of each current.
    let (lsb_e, lsb_i) = match scaled {
        Some((be, bi)) => (2f64.powi(-kg_e) / be, 2f64.powi(-kg_i) / bi),
        None => (2f64.powi(-kg_e), 2f64.powi(-kg_i)),
    };
    let (ports, quant) = assign_scaled(arch, pop, incoming, |r| if r == Receptor::Excitatory { lsb_e } else { lsb_i })?;
    // Merged, the coarser receptor sets both's step: where that is the
    // other one, the precision warning says so (it blamed the weights of
    // the receptor it named, which alone kept 8× finer steps).
    let set_by = |own: Option<i32>, other: Receptor| {
        (merged && own.is_some_and(|k| k.min(cap) > kg_e)).then(|| {
            let by = incoming.iter().filter(|i| !i.electrical && i.p.receptor == other).max_by(|a, b| a.max_abs_weight().total_cmp(&b.max_abs_weight()));
            by.map(|i| (other, i.p.label.clone(), i.max_abs_weight()))
        })
    };
    let set_by = [set_by(ke, Receptor::Inhibitory).flatten(), set_by(ki, Receptor::Excitatory).flatten()];
    let mut warnings = current_warnings(pop, p, incoming, &quant, dt, merged, [(Receptor::Excitatory, lsb_e, &d_e), (Receptor::Inhibitory, lsb_i, &d_i)], &set_by);
    warnings.extend(drive_warning(pop, &a_v, &c_mv, &drive_mv, kv));
    let (decay_v, a_q) = Decay::plan(pop, "the membrane decay", &a_v)?;
    // How both currents enter v (r6), and their parameters.
    enum IntoV {
        /// Each current in Q(kg) mV: added with a shift by kv − kg.
        Shifted { e: i32, i: i32 },
        /// Currents in nA, multiplied by per-neuron factors.
        Scaled { sh_be: u8, sh_bi: u8 },
    }
    let (into_v, b_params) = match scaled {
        Some(_) => (IntoV::Shifted { e: kv - kg_e, i: kv - kg_i }, vec![]),
        None => {
            // Each current's factor into v, or an error naming the
            // parameters that put a neuron's out of range, and the range.
            let in_v = |what: &str, b: &[f64], lsb: f64, tau_syn: (&str, &Values)| -> Result<(Vec<i32>, u8)> {
                let f: Vec<f64> = b.iter().map(|b| b * sv * lsb).collect();
                fixed(&f).ok_or_else(|| factor_error(pop, p, what, b, tau_syn, dt, 2f64.powi(29) / (sv * lsb)))
            };
            let (be_q, sh_be) = in_v("excitatory", &b_e, lsb_e, ("tau_syn_E", &p.tau_syn_e))?;
            let (bi_q, sh_bi) = in_v("inhibitory", &b_i, lsb_i, ("tau_syn_I", &p.tau_syn_i))?;
            (IntoV::Scaled { sh_be, sh_bi }, vec![("b_e".to_string(), ParamVals::from_vec(be_q)), ("b_i".to_string(), ParamVals::from_vec(bi_q))])
        }
    };
    // Saturation, where the worst case (every input firing every step) can
    // leave a range: each current within what moves v by an eighth of its
    // range a step, and a step's input within 2^29 before it is added.
    let bmax = |q: &ParamVals, sh: u8| {
        let m = match q {
            ParamVals::Uniform(x) => (*x as f64).abs(),
            ParamVals::PerNeuron(v) => v.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs())),
        };
        m / 2f64.powi(sh as i32)
    };
    // v's LSBs a step per LSB of each current, at most.
    let (bmax_e, bmax_i) = match (&into_v, b_params.as_slice()) {
        (IntoV::Shifted { e, i }, _) => (2f64.powi(*e), 2f64.powi(*i)),
        (IntoV::Scaled { sh_be, sh_bi }, [(_, be), (_, bi)]) => (bmax(be, *sh_be), bmax(bi, *sh_bi)),
        (IntoV::Scaled { .. }, _) => {
            return Err(crate::error::CompileError::Internal(format!("population `{}`: scaled currents without two factors", pop.name)))
        }
    };
    let i0 = |name: &str, lsb: f64| initial(pop, name, &Values::Scalar(0.0)).iter().fold(0.0f64, |m, x| m.max(x.abs())) / lsb;
    let plan = |rs: &[Receptor], lsb: f64, bmax: f64, d: &[f64], i0: f64| -> Result<Clamps> {
        let worst = worst_input(n, incoming, rs, |_| lsb) * 1.01;
        let inputs = port_clamps(&ports, rs, worst);
        let bits = product_bits(bmax);
        if bits < 2 {
            return Err(bad(
                pop,
                format!(
                    "one step of its input current moves v by {} mV, more than an eighth of v's range (±{} mV): the weight exponents of `{}` ({}..{}) leave the current too coarse",
                    approx(bmax / sv),
                    approx(2f64.powi(31 - kv)),
                    arch.name,
                    arch.core.weight_exp_min,
                    arch.core.weight_exp_max
                ),
            ));
        }
        let dmax = d.iter().fold(0.0f64, |m, &x| m.max(x));
        let steady = i0 + worst.min(2f64.powi(29)) / (1.0 - dmax).max(f64::MIN_POSITIVE);
        Ok(Clamps { inputs, current: (steady > 2f64.powi(bits - 1) - 1.0).then_some(bits as u8) })
    };
    let (clamp_e, clamp_i) = if merged {
        (plan(&[Receptor::Excitatory, Receptor::Inhibitory], lsb_e, bmax_e, &d_e, i0("isyn_exc", lsb_e) + i0("isyn_inh", lsb_i))?, None)
    } else {
        (
            plan(&[Receptor::Excitatory], lsb_e, bmax_e, &d_e, i0("isyn_exc", lsb_e))?,
            Some(plan(&[Receptor::Inhibitory], lsb_i, bmax_i, &d_i, i0("isyn_inh", lsb_i))?),
        )
    };
    let (decay_e, de_q) = Decay::plan(pop, if merged { "the synaptic decay" } else { "the excitatory decay" }, &d_e)?;
    let (decay_i, di_q) = Decay::plan(pop, "the inhibitory decay", &d_i)?;
    let adaptive_decay = match adaptive {
        Some(a) => {
            let da: Vec<f64> = (0..n).map(|i| (-dt / a.tau_a.get(i)).exp()).collect();
            // Within half of v's range, as theta is (so a jump cannot wrap it).
            let aj: Vec<i32> = (0..n)
                .map(|i| {
                    let x = a.a_jump.get(i);
                    if (x * sv).abs() > 2f64.powi(30) {
                        return Err(bad(
                            pop,
                            format!(
                                "a_jump = {} mV is beyond ±{} mV, half of v's range, where theta is held",
                                crate::error::num(x),
                                crate::error::num(2f64.powi(30 - kv))
                            ),
                        ));
                    }
                    to_fixed(pop, "a_jump", x, sv, "mV")
                })
                .collect::<Result<_>>()?;
            Some((Decay::plan(pop, "the threshold decay", &da)?, aj))
        }
        None => None,
    };
    let mut b = KernelBuilder::new(if adaptive.is_some() { "adaptive_lif" } else { "lif" });
    // State slots: v, the current(s), refr, then theta.
    let sv_ = b.state("v");
    let (s_e, s_i) = if merged { (b.state("isyn"), None) } else { (b.state("isyn_exc"), Some(b.state("isyn_inh"))) };
    let s_refr = b.state("refr");
    let s_theta = adaptive.is_some().then(|| b.state("theta"));
    // Parameters in slot order, with their values.
    let mut pdecl: Vec<ParamVals> = vec![a_q, ParamVals::from_vec(c0)];
    let p_av = b.param("a_v");
    let p_c0 = b.param("c0");
    let mut p_b = vec![];
    for (name, v) in b_params {
        p_b.push(b.param(&name));
        pdecl.push(v);
    }
    let (p_de, p_di) = if merged {
        pdecl.push(de_q);
        (b.param("d_syn"), None)
    } else {
        pdecl.push(de_q);
        pdecl.push(di_q);
        (b.param("d_e"), Some(b.param("d_i")))
    };
    let p_vth = b.param("vth");
    let p_vreset = b.param("vreset");
    let p_tref = b.param("tref");
    let reset_below = vreset.iter().zip(&vth).all(|(r, t)| r < t);
    pdecl.extend([ParamVals::from_vec(vth), ParamVals::from_vec(vreset), ParamVals::from_vec(tref)]);
    let p_adapt = match &adaptive_decay {
        Some(((_, da_q), aj)) => {
            pdecl.push(da_q.clone());
            pdecl.push(ParamVals::from_vec(aj.clone()));
            Some((b.param("d_a"), b.param("a_jump")))
        }
        None => None,
    };
    let (exps, inputs) = declare_ports(&mut b, &ports, "exc");
    // Synaptic input of this step into the current(s).
    let current = |b: &mut KernelBuilder, rc: Option<Receptor>, c: &Clamps, reg: u8, slot| {
        sum_ports_clamped(b, &ports, &exps, &inputs, rc, r(0), &c.inputs);
        b.lds(r(reg), slot).add(r(reg), r(reg), r(0));
        if let Some(bits) = c.current {
            b.sat(r(reg), r(reg), bits);
        }
    };
    match (s_i, &clamp_i) {
        (Some(s_i), Some(clamp_i)) => {
            current(&mut b, Some(Receptor::Excitatory), &clamp_e, 2, s_e);
            current(&mut b, Some(Receptor::Inhibitory), clamp_i, 3, s_i);
        }
        _ => current(&mut b, None, &clamp_e, 2, s_e),
    }
    // Membrane: exact integration over one step.
    b.lds(r(4), sv_);
    decay_v.emit(&mut b, p_av, r(4), r(6), r(6));
    let into = |b: &mut KernelBuilder, x: u8| {
        b.add(r(6), r(6), r(x));
    };
    b.ldp(r(5), p_c0);
    into(&mut b, 5);
    match into_v {
        IntoV::Shifted { e, i } => {
            let mut add = |reg: u8, s: i32| {
                if s == 0 {
                    into(&mut b, reg);
                } else {
                    b.shl(r(7), r(reg), s as u8);
                    into(&mut b, 7);
                }
            };
            add(2, e);
            if !merged {
                add(3, i);
            }
        }
        IntoV::Scaled { sh_be, sh_bi } => {
            b.ldp(r(5), p_b[0]).mulshr(r(7), r(2), r(5), sh_be);
            into(&mut b, 7);
            b.ldp(r(5), p_b[1]).mulshr(r(7), r(3), r(5), sh_bi);
            into(&mut b, 7);
        }
    }
    // Within half v's range: past it, v saturates (the adds above cannot
    // wrap from there; a perfect integrator driven down wrapped round to
    // +2 V and fired).
    b.sat(r(6), r(6), 31);
    // Refractory: v is held while the counter is above zero.
    b.lds(r(8), s_refr).movi(r(9), 0).cmplt(r(10), r(9), r(8)).sel(r(6), r(10), r(4), r(6)).addi(r(11), r(8), -1).sel(r(8), r(10), r(11), r(8));
    // Threshold, only outside the refractory period.
    b.ldp(r(5), p_vth);
    if let Some(t) = s_theta {
        b.lds(r(14), t).add(r(5), r(5), r(14));
    }
    // Held at v_reset, a refractory neuron whose v_reset is below its fixed
    // threshold cannot cross it: the refractory test is then not needed.
    if s_theta.is_none() && reset_below {
        b.cmplt(r(11), r(5), r(6)).spike(r(11));
    } else {
        b.cmplt(r(11), r(5), r(6)).cmpeq(r(12), r(10), r(9)).and(r(11), r(11), r(12)).spike(r(11));
    }
    b.ldp(r(5), p_vreset).sel(r(6), r(11), r(5), r(6)).ldp(r(5), p_tref).sel(r(8), r(11), r(5), r(8)).sts(sv_, r(6)).sts(s_refr, r(8));
    // Synaptic currents decay; r9 is still the refractory test's 0. A
    // current fed by weights of one sign from initial values of that sign
    // keeps it (the ports' rounding and the decay never cross 0).
    let signed = |rs: &[Receptor], init: Vec<f64>| {
        let fed = || incoming.iter().filter(|i| rs.contains(&i.p.receptor));
        if fed().all(|i| i.one_signed(1.0)) && init.iter().all(|&x| x >= 0.0) {
            Signed::NonNegative
        } else if fed().all(|i| i.one_signed(-1.0)) && init.iter().all(|&x| x <= 0.0) {
            Signed::NonPositive
        } else {
            Signed::Either
        }
    };
    let init = |name: &str| initial(pop, name, &Values::Scalar(0.0));
    let sign_e = if merged {
        signed(&[Receptor::Excitatory, Receptor::Inhibitory], init("isyn_exc").iter().zip(init("isyn_inh")).map(|(e, i)| e + i).collect())
    } else {
        signed(&[Receptor::Excitatory], init("isyn_exc"))
    };
    decay_e.emit_to_zero_with(&mut b, p_de, r(2), r(7), r(12), r(2), Some(r(9)), sign_e);
    b.sts(s_e, r(2));
    if let (Some(s_i), Some(p_di)) = (s_i, p_di) {
        decay_i.emit_to_zero_with(&mut b, p_di, r(3), r(7), r(12), r(3), Some(r(9)), signed(&[Receptor::Inhibitory], init("isyn_inh")));
        b.sts(s_i, r(3));
    }
    let mut theta0 = vec![];
    if let (Some(((decay_a, _), _)), Some((p_da, p_aj)), Some(t)) = (&adaptive_decay, p_adapt, s_theta) {
        // Adaptive threshold: jumps at a spike, decays every step.
        b.ldp(r(5), p_aj).add(r(7), r(14), r(5)).sel(r(14), r(11), r(7), r(14)).sat(r(14), r(14), 31);
        decay_a.emit_to_zero_with(&mut b, p_da, r(14), r(7), r(12), r(14), Some(r(9)), Signed::Either);
        b.sts(t, r(14));
        // Where a jump may take it, for the same reason: past half of v's
        // range v_thresh + theta wraps (an initial 2000 mV at ±2048 mV made
        // the threshold negative: it fired every step).
        theta0 = initial(pop, "theta", &Values::Scalar(0.0))
            .iter()
            .map(|&x| {
                if (x * sv).abs() > 2f64.powi(30) {
                    return Err(bad(
                        pop,
                        format!(
                            "the initial theta = {} mV is beyond ±{} mV, half of v's range, where theta is held",
                            crate::error::num(x),
                            crate::error::num(2f64.powi(30 - kv))
                        ),
                    ));
                }
                to_fixed(pop, "initial theta", x, sv, "mV")
            })
            .collect::<Result<_>>()?;
    }
    let kernel = finish(pop, b)?;
    let mut params: Vec<ParamVals> = pdecl;
    params.extend(ports.iter().map(|p| ParamVals::Uniform(p.exp as i32)));
    let v0: Vec<i32> = v0s.iter().map(|x| to_fixed(pop, "initial v", *x, sv, "mV")).collect::<Result<_>>()?;
    let (mut state, mut vars) = if merged {
        // The one current starts as the sum of both (the same scale).
        let ie = initial(pop, "isyn_exc", &Values::Scalar(0.0));
        let ii = initial(pop, "isyn_inh", &Values::Scalar(0.0));
        let g0: Vec<i32> = ie.iter().zip(&ii).map(|(e, i)| to_fixed(pop, "initial isyn_exc + isyn_inh", e + i, 1.0 / lsb_e, "nA")).collect::<Result<_>>()?;
        (
            vec![v0, g0, vec![0; n]],
            vec![
                VarSymbol { name: "v".into(), slot: 0, scale: 1.0 / sv, offset: 0.0, unit: "mV".into() },
                VarSymbol { name: "isyn".into(), slot: 1, scale: lsb_e, offset: 0.0, unit: "nA".into() },
                VarSymbol { name: "refr".into(), slot: 2, scale: 1.0, offset: 0.0, unit: "steps".into() },
            ],
        )
    } else {
        let ge0: Vec<i32> =
            initial(pop, "isyn_exc", &Values::Scalar(0.0)).iter().map(|x| to_fixed(pop, "initial isyn_exc", *x, 1.0 / lsb_e, "nA")).collect::<Result<_>>()?;
        let gi0: Vec<i32> =
            initial(pop, "isyn_inh", &Values::Scalar(0.0)).iter().map(|x| to_fixed(pop, "initial isyn_inh", *x, 1.0 / lsb_i, "nA")).collect::<Result<_>>()?;
        (
            vec![v0, ge0, gi0, vec![0; n]],
            vec![
                VarSymbol { name: "v".into(), slot: 0, scale: 1.0 / sv, offset: 0.0, unit: "mV".into() },
                VarSymbol { name: "isyn_exc".into(), slot: 1, scale: lsb_e, offset: 0.0, unit: "nA".into() },
                VarSymbol { name: "isyn_inh".into(), slot: 2, scale: lsb_i, offset: 0.0, unit: "nA".into() },
                VarSymbol { name: "refr".into(), slot: 3, scale: 1.0, offset: 0.0, unit: "steps".into() },
            ],
        )
    };
    if adaptive.is_some() {
        let slot = state.len() as u8;
        state.push(theta0);
        vars.push(VarSymbol { name: "theta".into(), slot: slot as _, scale: 1.0 / sv, offset: 0.0, unit: "mV".into() });
    }
    Ok(Lowered { body: Body::Kernel { kernel, params, state }, ports, vars, quant, warnings })
}
