//! `loihi_lif`: Loihi's CUBA LIF in its raw integers, bit-exact with
//! lava-nc's fixed-point model (`PyLifModelBitAcc`), or with nengo-loihi's
//! emulator when `refractory` is given (../shared/spec/loihi-lif.md).
//! Weights are lava's integers with the projection's `weight_exp`,
//! `num_weight_bits` and `sign_mode`.

use nerve_isa::arch::Arch;
use nerve_isa::image::VarSymbol;
use nerve_isa::instr::r;
use nerve_isa::kernel::builder::KernelBuilder;

use super::{Cx, Initial, Default::*, NeuronModel, ParamSpec, Params, Range::*, VarSpec};
use crate::error::{CompileError, Result};
use crate::lower::fixed::{declare_ports, finish, initial_int, sum_ports};
use crate::lower::quant::{mantissa_span, measure, ring_load, Port, ProjQuant, QuantRule};
use crate::lower::{bad, Body, Incoming, Lowered, ParamVals};
use crate::net::model::*;

const PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "du", unit: "1/4096", default: Required, range: Int(0, 4095), doc: "current decay" },
    ParamSpec { name: "dv", unit: "1/4096", default: Required, range: Int(0, 4095), doc: "voltage decay" },
    ParamSpec { name: "vth", unit: "2^6 units", default: Required, range: Int(0, (1 << 17) - 1), doc: "threshold mantissa (scaled by 2^6)" },
    ParamSpec { name: "bias_mant", unit: "", default: Value(0.0), range: Int(-4096, 4095), doc: "bias mantissa" },
    ParamSpec { name: "bias_exp", unit: "", default: Value(0.0), range: Int(0, 7), doc: "bias exponent" },
    ParamSpec {
        name: "refractory",
        unit: "steps",
        default: Optional,
        range: Int(1, 1 << 16),
        doc: "refractory period; given, the model is nengo-loihi's (without it, lava's)",
    },
];

const STATE: &[VarSpec] = &[VarSpec { name: "u", unit: "", int_bits: Some(24), initial: Initial::Value(0.0) }, VarSpec { name: "v", unit: "", int_bits: Some(24), initial: Initial::Value(0.0) }];

pub struct LoihiLif;
pub static LOIHI_LIF: LoihiLif = LoihiLif;

/// The parameters as the lowering reads them.
pub struct LoihiParams {
    pub du: Values,
    pub dv: Values,
    pub vth: Values,
    pub bias_mant: Values,
    pub bias_exp: Values,
    pub refractory: Option<Values>,
}

impl LoihiParams {
    pub fn of(p: &Params) -> LoihiParams {
        LoihiParams {
            du: p.get("du").clone(),
            dv: p.get("dv").clone(),
            vth: p.get("vth").clone(),
            bias_mant: p.get("bias_mant").clone(),
            bias_exp: p.get("bias_exp").clone(),
            refractory: p.opt("refractory").cloned(),
        }
    }
}

impl NeuronModel for LoihiLif {
    fn name(&self) -> &'static str {
        "loihi_lif"
    }
    fn about(&self) -> &'static str {
        "Loihi CUBA LIF in raw integers, bit-exact with lava-nc (nengo-loihi's variant with `refractory`)"
    }
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn state(&self) -> &'static [VarSpec] {
        STATE
    }
    fn integer_weights(&self) -> bool {
        true
    }
    fn lava_lif(&self, p: &Params) -> bool {
        p.opt("refractory").is_none()
    }
    fn label(&self, p: &Params) -> &'static str {
        if p.opt("refractory").is_some() {
            "loihi_lif (nengo-loihi mode)"
        } else {
            "loihi_lif"
        }
    }
    fn lower(&self, cx: &Cx, pop: &Population, p: &Params, incoming: &[Incoming]) -> Result<Lowered> {
        lower_loihi(cx.arch, pop, &LoihiParams::of(p), incoming)
    }
}

/// A learning projection's initial weight beyond its sign mode's range,
/// named by its first synapse: lava keeps such a weight unclipped until the
/// rule's first epoch (bench/learning/lava/SPEC.md §5.7), where the image
/// holds a clipped mantissa from step 0, so the spikes would differ (static
/// projections' clipping is lava's too, and only counted).
fn unclipped_learning_weight(inc: &Incoming, q: &ProjQuant) -> CompileError {
    let (mode, range) = match inc.p.sign_mode() {
        SignMode::Excitatory => ("excitatory", "0..255"),
        SignMode::Mixed => ("mixed", "−256..255"),
        SignMode::Inhibitory => ("inhibitory", "−255..0"),
    };
    let sy = inc.syn;
    let first = (0..sy.n_pre()).find_map(|i| sy.row(i).find(|&x| q.mantissa(sy.weight(x)).1).map(|x| (i, sy.post[x], sy.weight(x))));
    let at = match first {
        Some((i, j, w)) => format!("synapse {i} → {j} has initial weight {}", crate::error::num(w)),
        None => format!("{} synapse(s) have initial weights", q.clipped),
    };
    CompileError::Projection {
        projection: inc.p.label.clone(),
        reason: format!(
            "{at}, outside sign mode `{mode}`'s {range}: a learning projection's initial weights must fit: lava keeps one unclipped until the rule's first epoch, where a synapse here holds it clipped from step 0, so the spikes would differ"
        ),
    }
}

fn lower_loihi(arch: &Arch, pop: &Population, p: &LoihiParams, incoming: &[Incoming]) -> Result<Lowered> {
    let n = pop.size as usize;
    let (emin, emax) = (arch.core.weight_exp_min, arch.core.weight_exp_max);
    // Ports: one per distinct weight_exp ≥ 0 (shifting a sum by a non-negative
    // exponent equals summing shifted parts), one per projection with a
    // negative exponent (lava floors each projection's sum separately).
    let mut ports: Vec<Port> = Vec::new();
    let mut quant = Vec::new();
    // Per projection, its largest mantissa.
    let mut largest: Vec<i32> = Vec::new();
    for inc in incoming {
        let e = inc.p.loihi.weight_exp;
        if e < emin || e > emax {
            return Err(CompileError::Projection {
                projection: inc.p.label.clone(),
                reason: format!("weight_exp {e} is outside `{}`'s range {emin}..={emax}", arch.name),
            });
        }
        let port = if e >= 0 {
            match ports.iter().position(|q| q.exp == e) {
                Some(i) => i,
                None => {
                    ports.push(Port { receptor: Receptor::Excitatory, exp: e });
                    ports.len() - 1
                }
            }
        } else {
            ports.push(Port { receptor: Receptor::Excitatory, exp: e });
            ports.len() - 1
        };
        let mut q = ProjQuant {
            projection: inc.p.label.clone(),
            port: port as u8,
            exp: e,
            unit: 1.0,
            clipped: 0,
            underflow: 0,
            worst_rel_error: 0.0,
            underflow_abs: 0.0,
            rule: QuantRule::Lava { nbits: inc.p.loihi.num_weight_bits, sign_mode: inc.p.sign_mode() },
        };
        measure(&mut q, inc.syn);
        if q.clipped > 0 && matches!(inc.p.plasticity.as_deref(), Some(Plasticity::Loihi(_))) {
            return Err(unclipped_learning_weight(inc, &q));
        }
        // Lava's truncation is the model, not an error: report only clipping.
        q.worst_rel_error = 0.0;
        q.underflow = 0;
        q.underflow_abs = 0.0;
        let top = match &inc.syn.weights {
            crate::net::expand::Weights::Uniform(w) if !inc.syn.is_empty() => q.mantissa(*w).0,
            crate::net::expand::Weights::Uniform(_) => 0,
            crate::net::expand::Weights::PerSynapse(v) => v.iter().map(|&w| q.mantissa(w).0).max().unwrap_or(0),
        };
        largest.push(top);
        quant.push((inc.proj, q));
    }
    if ports.len() > arch.core.max_input_ports as usize {
        return Err(bad(pop, format!(
            "its projections need {} input ports (one per distinct non-negative weight_exp, one per projection with a negative weight_exp); a core of `{}` has {}",
            ports.len(),
            arch.name,
            arch.core.max_input_ports
        )));
    }
    // A port's ring slot sums its step's mantissas in 32 bits, wrapping
    // (`quant::RingLoad`); lava sums a connection's in 64 bits before its
    // shift. Where that sum could pass 32 bits (2^31 / 256: some 8.4
    // million synapses into one compartment) the two would differ:
    // refused, the arithmetic kept lava's.
    for (k, port) in ports.iter().enumerate() {
        let on: Vec<usize> = (0..quant.len()).filter(|&i| quant[i].1.port as usize == k).collect();
        let members: Vec<(&crate::net::expand::Synapses, f64, f64)> = on
            .iter()
            .map(|&i| {
                let (lo, hi) = mantissa_span(&incoming[i], &quant[i].1);
                (incoming[i].syn, lo, hi)
            })
            .collect();
        let load = ring_load(n, &members);
        if !load.fits() {
            let names = on.iter().map(|&i| format!("`{}`", incoming[i].p.label)).collect::<Vec<_>>().join(", ");
            return Err(bad(
                pop,
                format!(
                    "the {} synapses into its neuron {} at weight_exp {} ({names}) can sum to {} in one step, past the 32-bit input's ±2^31 (`{}`'s weight_bits {}), where lava's 64-bit sum would not wrap",
                    load.fan_in,
                    load.neuron,
                    port.exp,
                    crate::error::num(if load.hi > -load.lo { load.hi } else { load.lo }),
                    arch.name,
                    arch.core.weight_bits
                ),
            ));
        }
    }
    let wb = arch.core.weight_bits;
    if wb < 9 {
        if let Some(i) = quant.iter().position(|(_, q)| !matches!(q.rule, QuantRule::Lava { sign_mode: SignMode::Excitatory, .. })) {
            // A mode nobody gave was inferred from the weights: say so, and the way out.
            let p = incoming[i].p;
            let why = match (p.loihi.sign_mode, p.plasticity.is_some()) {
                (Some(_), _) => String::new(),
                (None, true) => " (a learning projection's default, as lava's LearningDense)".into(),
                (None, false) => format!(
                    " (its sign mode, `{}`, is lava's default for its weights, some of which are negative: non-negative weights make it `excitatory`, which 8 bits hold)",
                    if p.sign_mode() == SignMode::Mixed { "mixed" } else { "inhibitory" }
                ),
            };
            return Err(CompileError::Projection {
                projection: quant[i].1.projection.clone(),
                reason: format!("lava's mixed and inhibitory weights need 9-bit mantissas (−256..255); `{}` has {wb}{why}", arch.name),
            });
        }
        // Excitatory mantissas are 0..255: those past the signed range a synapse holds do not fit.
        let hi = (1i32 << (wb - 1)) - 1;
        // Learning can take any weight to 255 whatever it starts at (the
        // emulator delivered 255 on 8-bit synapses).
        if let Some(inc) = incoming.iter().find(|i| matches!(i.p.plasticity.as_deref(), Some(Plasticity::Loihi(_)))) {
            return Err(CompileError::Projection {
                projection: inc.p.label.clone(),
                reason: format!(
                    "it learns, and lava's learning takes excitatory weights anywhere in 0..255, past the {wb}-bit synapses of `{}` (−{}..{hi}); learn on a profile with 9-bit weights or more",
                    arch.name,
                    hi + 1
                ),
            });
        }
        if let Some(((_, q), &m)) = quant.iter().zip(&largest).find(|(_, &m)| m > hi) {
            return Err(CompileError::Projection {
                projection: q.projection.clone(),
                reason: format!(
                    "its largest weight has mantissa {m} (lava's excitatory weights are 0..255), past the {wb}-bit synapses of `{}` (−{}..{hi}); use weights below {}",
                    arch.name,
                    hi + 1,
                    hi + 1
                ),
            });
        }
    }
    let ints = |v: &Values| -> Vec<i64> { v.iter(n).map(|x| x as i64).collect() };
    let du = ints(&p.du);
    let dv = ints(&p.dv);
    let vth: Vec<i32> = ints(&p.vth).iter().map(|&x| (x << 6) as i32).collect();
    let bias: Vec<i32> = ints(&p.bias_mant).iter().zip(ints(&p.bias_exp)).map(|(&m, e)| (m << e) as i32).collect();
    let ufac: Vec<i32> = du.iter().map(|&d| (4095 - d) as i32).collect();
    let nengo = p.refractory.is_some();
    let mut b = KernelBuilder::new(if nengo { "loihi_lif_nengo" } else { "loihi_lif" });
    let (s_u, s_v) = (b.state("u"), b.state("v"));
    let s_refc = nengo.then(|| b.state("refc"));
    let [p_ufac, p_vfac, p_bias, p_vth] = ["ufac", "vfac", "bias", "vth"].map(|n| b.param(n));
    let p_nengo = nengo.then(|| (b.param("ref"), b.param("vmin"), b.param("vmax")));
    let (exps, inputs) = declare_ports(&mut b, &ports, "a");
    // a_in: each port's summed weights shifted by its weight_exp.
    sum_ports(&mut b, &ports, &exps, &inputs, None, r(0));
    match (s_refc, p_nengo) {
        (Some(s_refc), Some((p_ref, p_vmin, p_vmax))) => {
            // nengo-loihi: q0 = a_in << 6 wrapped to 21 bits + sign.
            b.shl(r(0), r(0), 6).wrap(r(0), r(0), 22);
            // current = decay(current, du, offset 1) + q0, wrapped to 23 bits + sign.
            b.lds(r(3), s_u).ldp(r(4), p_ufac).mulshz(r(3), r(3), r(4), 12).add(r(3), r(3), r(0)).wrap(r(3), r(3), 24).sts(s_u, r(3));
            // u2 = current + bias, wrapped.
            b.ldp(r(4), p_bias).add(r(5), r(3), r(4)).wrap(r(5), r(5), 24);
            // v = clip(decay(v, dv) + u2, vmin, vmax); held at 0 while refractory.
            b.lds(r(9), s_v).ldp(r(4), p_vfac).mulshz(r(9), r(9), r(4), 12).add(r(9), r(9), r(5));
            b.ldp(r(4), p_vmin).max(r(9), r(9), r(4)).ldp(r(4), p_vmax).min(r(9), r(9), r(4));
            b.lds(r(10), s_refc).movi(r(11), 0).cmplt(r(12), r(11), r(10)).sel(r(9), r(12), r(11), r(9));
            // Spike when v > vth; v = 0 and the counter restarts; it counts down to 0.
            b.ldp(r(4), p_vth).cmplt(r(6), r(4), r(9)).spike(r(6)).sel(r(9), r(6), r(11), r(9)).sts(s_v, r(9));
            b.ldp(r(4), p_ref).sel(r(10), r(6), r(4), r(10)).addi(r(10), r(10), -1).max(r(10), r(10), r(11)).sts(s_refc, r(10));
        }
        _ => {
            // u = decay(u, du + 1) + (a_in << 6), then lava's one-step 24-bit wrap.
            b.lds(r(3), s_u).ldp(r(4), p_ufac).mulshz(r(3), r(3), r(4), 12).shl(r(0), r(0), 6).add(r(3), r(3), r(0));
            b.movi(r(5), 8388608).cmplt(r(6), r(5), r(3)).movi(r(7), 16777216).sub(r(8), r(3), r(7)).sel(r(3), r(6), r(8), r(3));
            b.movi(r(5), -8388608).cmple(r(6), r(3), r(5)).add(r(8), r(3), r(7)).sel(r(3), r(6), r(8), r(3)).sts(s_u, r(3));
            // v = decay(v, dv) + u + bias, clipped to ±(2^23 − 1).
            b.lds(r(9), s_v).ldp(r(4), p_vfac).mulshz(r(9), r(9), r(4), 12).add(r(9), r(9), r(3)).ldp(r(4), p_bias).add(r(9), r(9), r(4));
            b.movi(r(5), 8388607).min(r(9), r(9), r(5)).movi(r(5), -8388607).max(r(9), r(9), r(5));
            // Spike when v > vth << 6; v = 0 (u is not reset).
            b.ldp(r(4), p_vth).cmplt(r(6), r(4), r(9)).spike(r(6)).movi(r(5), 0).sel(r(9), r(6), r(5), r(9)).sts(s_v, r(9));
        }
    }
    let kernel = finish(pop, b)?;
    let mut params = vec![
        ParamVals::from_vec(ufac),
        ParamVals::from_vec(dv.iter().map(|&d| (4096 - d) as i32).collect()),
        ParamVals::from_vec(bias),
        ParamVals::from_vec(vth),
    ];
    if let Some(r) = &p.refractory {
        params.push(ParamVals::from_vec(ints(r).iter().map(|&x| x as i32).collect()));
        params.push(ParamVals::Uniform(0)); // nengo-loihi default vmin (vmin_exp = 0)
        params.push(ParamVals::Uniform((1 << 23) - 1)); // nengo-loihi default vmax (vmax_exp = 7)
    }
    params.extend(ports.iter().map(|p| ParamVals::Uniform(p.exp as i32)));
    let u0 = initial_int(pop, "u", &Values::Scalar(0.0));
    let v0 = initial_int(pop, "v", &Values::Scalar(0.0));
    let mut state = vec![u0, v0];
    if nengo {
        state.push(vec![0; n]);
    }
    let mut vars = vec![
        VarSymbol { name: "u".into(), slot: 0, scale: 1.0, offset: 0.0, unit: "".into() },
        VarSymbol { name: "v".into(), slot: 1, scale: 1.0, offset: 0.0, unit: "".into() },
    ];
    if nengo {
        vars.push(VarSymbol { name: "refc".into(), slot: 2, scale: 1.0, offset: 0.0, unit: "steps".into() });
    }
    Ok(Lowered { body: Body::Kernel { kernel, params, state }, ports, vars, quant, warnings: vec![] })
}
