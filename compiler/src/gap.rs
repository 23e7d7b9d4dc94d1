//! Electrical synapses (gap junctions) → the image's per-core `GapEdge`s.
//!
//! A gap junction of conductance g from neuron j to neuron i gives i the
//! current g·(v_j − v_i) each step. On the chip that is two graded inputs
//! into i's excitatory current port: j's membrane potential times g (sent
//! by j's core every step), and i's own times −g (summed over all of i's
//! junctions into one self edge). Potentials are raw state values, so each
//! edge's weight turns one raw unit of the source's `v` into the port's
//! units: g · scale_v / (unit · 2^exp), kept as a mantissa and a shift. The
//! potentials' offsets cancel between the two terms, which requires the
//! joined populations to share the offset of `v` (every model today stores
//! `v` with offset 0; a model that does not is refused, not mis-coupled).
//!
//! The port's exponent is chosen with the other inputs of the population
//! (`lower`), as if the junctions were synapses of weight g · GAP_SPAN_MV
//! (times the step factor, [`step_factor`]). Every term into one neuron's
//! port shares one shift, and the self term is the negated sum of the
//! partners' weights as rounded: the emulator sums a neuron's terms exactly
//! and rounds once (`nerve_emulator::machine::gap_sums`), so equal
//! potentials give exactly 0 and the error is half a unit a step whatever
//! the number of junctions (rounding each term, or the self term apart,
//! left up to half a unit per junction: a steady current into cells at rest,
//! amplified τ/dt times in the synaptic current).

use nerve_isa::ids::CoreId;
use nerve_isa::image::GapEdge;

use crate::error::{CompileError, Result};
use crate::lower::{Lowered, ProjQuant};
use crate::map::partition::Split;
use crate::net::expand::{Synapses, Weights};
use crate::net::model::*;

/// The potential difference (mV) a junction's input port is scaled for.
pub const GAP_SPAN_MV: f64 = 100.0;

/// The per-step input that gives a steady current of 1 nA at neuron `n` of
/// `pop`: its model's [`NeuronModel::current_step`](crate::models::NeuronModel::current_step).
pub(crate) fn step_factor(net: &Network, pop: PopIx, n: usize) -> f64 {
    match &net.pop(pop).model {
        Model::Neuron(x) => x.model.current_step(&x.params, n, net.dt_ms),
        _ => 1.0,
    }
}

/// `s` with every weight times [`GAP_SPAN_MV`] and the step factor (its
/// largest over the target's neurons): the largest input the junctions can
/// give a step, for choosing their port's exponent.
pub(crate) fn as_currents(s: &Synapses, factor: f64) -> Synapses {
    let k = GAP_SPAN_MV * factor;
    let weights = match &s.weights {
        Weights::Uniform(w) => Weights::Uniform(w * k),
        Weights::PerSynapse(v) => Weights::PerSynapse(v.iter().map(|w| w * k).collect()),
    };
    Synapses { indptr: s.indptr.clone(), post: s.post.clone(), weights, delays: s.delays.clone() }
}

fn err(p: &Projection, reason: String) -> CompileError {
    CompileError::Projection { projection: p.label.clone(), reason }
}

/// The `v` state of a population: (slot, scale, offset).
fn v_of(net: &Network, lowered: &[Lowered], pop: PopIx, p: &Projection) -> Result<(u8, f64, f64)> {
    lowered[pop.index()]
        .vars
        .iter()
        .find(|v| v.name == "v" && v.unit == "mV")
        .map(|v| (v.slot, v.scale, v.offset))
        .ok_or_else(|| err(p, format!("population `{}` has no membrane potential `v` in mV for electrical synapses", net.pop(pop).name)))
}

/// A junction's target: population index, neuron, input port.
type Dst = (usize, u32, u8);

/// One junction term before quantisation.
struct Term {
    /// Source population, neuron and state slot of its `v`.
    src: (PopIx, u32, u8),
    /// Target population, neuron and input port.
    dst: (PopIx, u32, u8),
    /// Weight in port units per raw unit of the source's `v`.
    x: f64,
    /// The electrical projection it comes from (named in errors).
    proj: usize,
}

/// Every electrical synapse of `net` as the edges of its target cores:
/// (target core, edge), sorted. `syn[k]` and `quant[k]` are electrical
/// projection k's synapses and its port's quantisation; `cores[pop][k]`
/// the core of slice k of each population.
pub(crate) fn edges(
    net: &Network,
    syn: &[Synapses],
    quant: &[ProjQuant],
    lowered: &[Lowered],
    splits: &[Split],
    cores: &[Vec<CoreId>],
) -> Result<Vec<(CoreId, GapEdge)>> {
    let place = |pop: PopIx, n: u32| -> (CoreId, u16) {
        let sp = splits[pop.index()];
        (cores[pop.index()][(n / sp.size) as usize], (n % sp.size) as u16)
    };
    let mut raw: Vec<Term> = Vec::new();
    // Self parts per (target pop, neuron, port): each junction's g in port units per raw unit of the target's v, and the first projection.
    let mut selfs: std::collections::BTreeMap<Dst, (u8, Vec<f64>, usize)> = std::collections::BTreeMap::new();
    for (k, e) in net.electrical.iter().enumerate() {
        let (q, s) = (&quant[k], &syn[k]);
        let (slot_pre, scale_pre, off_pre) = v_of(net, lowered, e.pre, &e.p)?;
        let (slot_post, scale_post, off_post) = v_of(net, lowered, e.post, &e.p)?;
        if (off_pre - off_post).abs() > 1e-9 * off_pre.abs().max(off_post.abs()).max(1.0) {
            return Err(err(
                &e.p,
                format!(
                    "`{}` and `{}` hold `v` with different offsets ({off_pre} and {off_post} mV): electrical synapses join populations whose `v` is stored alike (the same model and voltage parameters)",
                    net.pop(e.pre).name,
                    net.pop(e.post).name
                ),
            ));
        }
        let lsb = q.unit * 2f64.powi(q.exp as i32);
        for i in 0..s.n_pre() {
            for at in s.row(i) {
                let g = s.weight(at);
                if g == 0.0 {
                    continue;
                }
                let j = s.post[at];
                let f = step_factor(net, e.post, j as usize);
                raw.push(Term { src: (e.pre, i as u32, slot_pre), dst: (e.post, j, q.port), x: g * f * scale_pre / lsb, proj: k });
                selfs.entry((e.post.index(), j, q.port)).or_insert((slot_post, Vec::new(), k)).1.push(g * f * scale_post / lsb);
            }
        }
    }
    // One shift for every term into a (neuron, port), the coarsest its
    // terms' magnitudes together need (Σ|w| ≤ 2^31: the emulator sums them
    // exactly in 64 bits and rounds once), and the self term the negated sum
    // of its parts each rounded as its partner's is: at equal potentials the
    // sum is exactly 0.
    let mut by_dst: std::collections::BTreeMap<Dst, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, t) in raw.iter().enumerate() {
        by_dst.entry((t.dst.0.index(), t.dst.1, t.dst.2)).or_default().push(i);
    }
    let mut out = Vec::with_capacity(raw.len() + selfs.len());
    for ((pop, n, port), (slot, parts, k)) in selfs {
        let terms = &by_dst[&(pop, n, port)];
        let total: f64 = terms.iter().map(|&i| raw[i].x.abs()).sum::<f64>() + parts.iter().sum::<f64>();
        if total == 0.0 {
            continue;
        }
        let shift = (30 - total.log2().ceil() as i32).clamp(0, 62);
        let scale = 2f64.powi(shift);
        let wide = |x: f64, k: usize| -> Result<i32> {
            let w = (x * scale).round();
            if w.abs() > i32::MAX as f64 {
                return Err(CompileError::Projection {
                    projection: net.electrical[k].p.label.clone(),
                    reason: format!(
                        "a junction's weight ({x:.3e} port units per unit of v) does not fit 32 bits: the conductance is too large for the port's scale"
                    ),
                });
            }
            Ok(w as i32)
        };
        let (core, target) = place(PopIx::new(pop), n);
        let mut w_self = 0i64;
        for &i in terms {
            let t = &raw[i];
            let w = wide(t.x, t.proj)?;
            if w != 0 {
                let (src_core, src_neuron) = place(t.src.0, t.src.1);
                out.push((core, GapEdge { src_core, weight: w, src_neuron, target, slot: t.src.2, port, shift: shift as u8 }));
            }
        }
        for x in parts {
            w_self -= wide(x, k)? as i64;
        }
        if w_self != 0 {
            let w = i32::try_from(w_self).map_err(|_| {
                err(&net.electrical[k].p, "the junctions into one neuron sum past 32 bits: the conductances are too large for the port's scale".into())
            })?;
            out.push((core, GapEdge { src_core: core, weight: w, src_neuron: target, target, slot, port, shift: shift as u8 }));
        }
    }
    out.sort_by_key(|(c, g)| (*c, g.target, g.src_core, g.src_neuron, g.port));
    Ok(out)
}
