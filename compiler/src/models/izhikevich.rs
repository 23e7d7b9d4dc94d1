//! `izhikevich`: PyNN's `Izhikevich` (a, b, c, d, i_offset), forward Euler
//! at dt. Synapses are voltage jumps: a spike adds its weight to v, as
//! NEST's `izhikevich` does (PyNN nA read as NEST's pA-as-mV, × 1000).

use nerve_isa::arch::Arch;
use nerve_isa::image::VarSymbol;
use nerve_isa::instr::r;
use nerve_isa::kernel::builder::KernelBuilder;

use super::{Cx, Initial, Default::*, NeuronModel, ParamSpec, Params, PynnMap, PynnParam, Range::*, VarSpec};
use crate::error::Result;
use crate::lower::fixed::{approx, declare_ports, finish, fixed, initial, sum_ports_clamped, to_fixed};
use crate::lower::quant::{assign_scaled, current_scale_of, shared_scale};
use crate::lower::{bad, Body, Incoming, Lowered, ParamVals};
use crate::net::model::*;

/// PyNN's defaults (regular spiking).
const PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "a", unit: "1/ms", default: Value(0.02), range: Any, doc: "recovery time scale" },
    ParamSpec { name: "b", unit: "1/ms", default: Value(0.2), range: Any, doc: "recovery sensitivity to v" },
    ParamSpec { name: "c", unit: "mV", default: Value(-65.0), range: Any, doc: "v after a spike" },
    ParamSpec { name: "d", unit: "mV/ms", default: Value(2.0), range: Any, doc: "u increase at a spike" },
    ParamSpec { name: "i_offset", unit: "nA", default: Value(0.0), range: Any, doc: "constant input current" },
];

const STATE: &[VarSpec] = &[VarSpec { name: "v", unit: "mV", int_bits: None, initial: Initial::Value(-70.0) }, VarSpec { name: "u", unit: "mV/ms", int_bits: None, initial: Initial::Value(-14.0) }];

const PYNN: PynnMap = PynnMap {
    cell: "Izhikevich",
    params: &[
        ("a", PynnParam::Param("a")),
        ("b", PynnParam::Param("b")),
        ("c", PynnParam::Param("c")),
        ("d", PynnParam::Param("d")),
        ("i_offset", PynnParam::Param("i_offset")),
    ],
    state: &[("v", "v"), ("u", "u")],
    // nerve's weight w is a jump of 1000·w mV; PyNN's (on NEST) a jump of w mV.
    weight_scale: 1000.0,
    note: "NEST backend only: sPyNNaker's Izhikevich has exponential current synapses (tau_syn 5 ms), not voltage jumps, and is refused",
};

pub struct Izhikevich;
pub static IZHIKEVICH: Izhikevich = Izhikevich;

/// The parameters as the lowering reads them.
pub struct IzkParams {
    pub a: Values,
    pub b: Values,
    pub c: Values,
    pub d: Values,
    pub i_offset: Values,
}

impl NeuronModel for Izhikevich {
    fn name(&self) -> &'static str {
        "izhikevich"
    }
    /// A weight w makes v jump by 1000·w mV, where a current of I nA moves
    /// it by 1000·I mV a millisecond: a steady 1 nA is dt (ms) of weight a
    /// step (1 nA a step made a junction 1/dt times too strong: 10× at dt
    /// 0.1 ms).
    fn current_step(&self, _p: &Params, _n: usize, dt_ms: f64) -> f64 {
        dt_ms
    }
    fn about(&self) -> &'static str {
        "PyNN Izhikevich: quadratic integrate-and-fire with a recovery variable; synapses are voltage jumps"
    }
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn state(&self) -> &'static [VarSpec] {
        STATE
    }
    fn pynn(&self) -> Option<&'static PynnMap> {
        Some(&PYNN)
    }
    fn lower(&self, cx: &Cx, pop: &Population, p: &Params, incoming: &[Incoming]) -> Result<Lowered> {
        let m = IzkParams { a: p.get("a").clone(), b: p.get("b").clone(), c: p.get("c").clone(), d: p.get("d").clone(), i_offset: p.get("i_offset").clone() };
        lower_izhikevich(cx.arch, pop, &m, incoming, cx.dt_ms)
    }
}

/// Where a constant drive settles v (mV): the lower root of
/// 0.04v² + 5v + 140 + I − u = 0 with u = b·v (u = u0 when a = 0), the
/// stable one; `None` where there is none (the cell fires on its own).
fn settles(b: f64, a: f64, i_mv: f64, u0: f64) -> Option<f64> {
    let (lin, k) = if a == 0.0 { (5.0, 140.0 + i_mv - u0) } else { (5.0 - b, 140.0 + i_mv) };
    let disc = lin * lin - 0.16 * k;
    (disc >= 0.0).then(|| (-lin - disc.sqrt()) / 0.08)
}

fn lower_izhikevich(arch: &Arch, pop: &Population, p: &IzkParams, incoming: &[Incoming], dt: f64) -> Result<Lowered> {
    let n = pop.size as usize;
    // v in Q(kv) mV, held within ±vlim after a step's input, where v² by
    // `mulsh` fits 32 bits (vlim²·2^kv ≤ 2^30): ±128 mV at Q16, wider at a
    // coarser kv where a constant drive settles v further out (i_offset of
    // −2 nA settles it at −284 mV; held at ±128 mV it stopped at −310 and
    // −10 nA never fired, where forward Euler in f64 does). Weights are
    // voltage jumps of 1000·w mV (PyNN nA → NEST's pA-as-mV convention).
    let u0s = initial(pop, "u", &Values::Scalar(-14.0));
    let v0s = initial(pop, "v", &Values::Scalar(-70.0));
    let most = |it: &mut dyn Iterator<Item = f64>| it.fold(0.0f64, |m, v| m.max(v.abs()));
    let reaches = [
        ("c is at", most(&mut (0..n).map(|i| p.c.get(i)))),
        ("the initial v is at", most(&mut v0s.iter().copied())),
        ("i_offset settles v at", most(&mut (0..n).filter_map(|i| settles(p.b.get(i), p.a.get(i), 1000.0 * p.i_offset.get(i), u0s[i])))),
    ];
    let (culprit, reach) = reaches.iter().fold(("", 0.0f64), |m, &(w, r)| if r > m.1 || r.is_nan() { (w, r) } else { m });
    let lg = if reach.is_finite() { ((1.25 * reach).max(128.0).log2().ceil() as i32).max(7) } else { i32::MAX / 4 };
    let kv = (30 - 2 * lg).min(16);
    if kv < 8 {
        return Err(bad(
            pop,
            format!(
                "{culprit} |v| = {} mV: v's fixed point, with its v² in 32 bits, holds |v| up to {} mV",
                crate::error::num(reach),
                crate::error::num(2f64.powi(11) / 1.25)
            ),
        ));
    }
    let v_bits = (lg + kv + 1) as u8;
    let sv = 2f64.powi(kv);
    let kg = shared_scale(&[current_scale_of(arch, incoming, Receptor::Excitatory, 1000.0), current_scale_of(arch, incoming, Receptor::Inhibitory, 1000.0)]).min(kv);
    let lsb = 2f64.powi(-kg) / 1000.0;
    let (ports, quant) = assign_scaled(arch, pop, incoming, |_| lsb)?;
    let fx = |name: &str, f: &[f64]| fixed(f).ok_or_else(|| bad(pop, format!("{name} is out of the fixed-point range: {}", crate::lower::fixed::out_of_range(f))));
    let (k04, sh04) = fx("0.04·dt", &vec![0.04 * dt; n])?;
    let (k5, sh5) = fx("1 + 5·dt", &vec![1.0 + 5.0 * dt; n])?;
    let (kdt, shdt) = fx("dt", &vec![dt; n])?;
    let a: Vec<f64> = (0..n).map(|i| p.a.get(i) * dt).collect();
    let ab: Vec<f64> = (0..n).map(|i| p.a.get(i) * p.b.get(i) * dt).collect();
    let (aq, sha) = fx("a·dt", &a)?;
    // u's recovery a step, a·dt·(b·v − u), in v's LSBs (Q(kv)): after a
    // spike's jump d it moves u by about a·dt·|d|, which below two LSBs a
    // step rounds coarsely or to 0 (u froze at dt 1e-5 ms; at 1e-4 ms its
    // change was 72% off and spikes came 4.6% early).
    let mut warnings = Vec::new();
    // a = 0 has no recovery to lose (it was warned of, with "a larger dt").
    let recovery = |i: usize| p.a.get(i).abs() * dt * p.d.get(i).abs().max(2.0) * sv;
    let recovers = |i: &usize| p.a.get(*i) != 0.0;
    if let Some(i) = (0..n).filter(recovers).min_by(|&x, &y| recovery(x).total_cmp(&recovery(y))).filter(|&i| recovery(i) < 2.0) {
        // Where v's range, not dt, made u's step coarse, the remedy is v's.
        let at_finest = recovery(i) * 2f64.powi(16 - kv);
        let remedy = if kv < 16 && at_finest >= 2.0 {
            format!(
                "u's step is that coarse because {culprit} |v| = {} mV, which v's range must hold; with |v| within {} mV it is 2^-16, {at_finest:.2} LSBs",
                crate::error::num(reach),
                crate::error::num(102.4)
            )
        } else {
            "a larger dt keeps it".to_string()
        };
        warnings.push(format!(
            "population `{}` ({}){}: u's recovery a step, a·dt·|d| = {} mV/ms at dt {} ms, is {:.2} LSBs of u (2^-{kv}), which rounds it coarsely or to 0: u recovers too fast, too slowly or not at all; {remedy}",
            pop.name,
            pop.model.name(),
            if (0..n).filter(recovers).any(|j| recovery(j) != recovery(i)) { format!(" (neuron {i})") } else { String::new() },
            crate::error::num(p.a.get(i).abs() * dt * p.d.get(i).abs().max(2.0)),
            crate::error::num(dt),
            recovery(i)
        ));
    }
    let (abq, shab) = fx("a·b·dt", &ab)?;
    // The Euler step's sums saturate (`adds`, `subs`): they wrapped, v from
    // i_offset 327.2 nA past +32,768 mV to −32,768 (no spike, then v² of
    // the wrapped value), u from a = 0 cells that d pushed past ±32,768
    // mV/ms. A saturated v is exact for the model (past +30 mV it spikes,
    // and the next step holds v within ±vlim anyway). Its terms each fit
    // 32 bits where the parameters below allow: v² at vlim within 2^30,
    // the products with it within 2^31, u's within the range it is held in.
    let vmax = 2f64.powi(lg);
    let range = 2f64.powi(31 - kv);
    let v_terms = (0.04 * dt * vmax * vmax).max((1.0 + 5.0 * dt).abs() * vmax);
    if v_terms >= range / 2.0 {
        return Err(bad(
            pop,
            format!(
                "dt = {} ms: one forward Euler step moves v by up to {} mV at |v| = {} mV (0.04·dt·v² + (1 + 5·dt)·v), past the ±{} mV its fixed point holds; use a smaller dt",
                crate::error::num(dt),
                approx(v_terms),
                crate::error::num(vmax),
                crate::error::num(range / 2.0)
            ),
        ));
    }
    if let Some(i) = (0..n).find(|&i| ab[i].is_nan() || ab[i].abs() * vmax >= range / 2.0) {
        return Err(bad(
            pop,
            format!(
                "a·b = {} (neuron {i}) moves u by up to {} mV/ms a step at |v| = {} mV (a·b·dt·v), past the ±{} mV/ms its fixed point holds",
                approx(p.a.get(i) * p.b.get(i)),
                approx(ab[i].abs() * vmax),
                crate::error::num(vmax),
                crate::error::num(range / 2.0)
            ),
        ));
    }
    // u is held where dt·u and a·dt·u fit 32 bits: all of its range for
    // dt ≤ 1 ms and |a·dt| ≤ 1/2 (no instruction; a·dt's mantissa rounds,
    // so not up to 1), a power of two less past that.
    let u_div = a.iter().fold(dt, |m, &x| m.max(2.0 * x.abs()));
    let u_bits = if u_div <= 1.0 { 32 } else { (31 - u_div.log2().ceil() as i32).max(1) as u8 };
    let u_lim = 2f64.powi(u_bits as i32 - 1 - kv);
    if let Some(i) = (0..n).find(|&i| u0s[i].is_nan() || u0s[i].abs() >= u_lim) {
        return Err(bad(pop, format!("the initial u = {} mV/ms (neuron {i}) is beyond ±{} mV/ms, where u is held at dt {} ms", crate::error::num(u0s[i]), crate::error::num(u_lim), crate::error::num(dt))));
    }
    // How far u can go, per neuron: towards b·v (within |b|·vlim), and by d
    // at each spike, which firing stops once u balances the drive (140 +
    // 1000·i_offset mV/ms, synaptic input not counted: its worst case is
    // far from a run's) and a > 0's recovery limits to d/(a·dt) (a spike
    // every step); d < 0 without recovery, or a < 0, has no bound.
    let u_reach = |i: usize| -> f64 {
        let (ai, bi, di) = (p.a.get(i), p.b.get(i), p.d.get(i));
        if ai < 0.0 {
            return f64::INFINITY;
        }
        let towards = bi.abs() * vmax;
        let by_d = if ai > 0.0 { towards + di.abs() / (ai * dt) } else { f64::INFINITY };
        let kicked = if di > 0.0 {
            by_d.min(140.0 + (1000.0 * p.i_offset.get(i)).max(0.0) + di)
        } else if di < 0.0 {
            by_d
        } else {
            0.0
        };
        u0s[i].abs().max(towards).max(kicked)
    };
    if let Some(i) = (0..n).find(|&i| u_reach(i).is_nan() || u_reach(i) >= u_lim) {
        let (ai, di) = (p.a.get(i), p.d.get(i));
        let why = if ai < 0.0 {
            format!("a = {} < 0 moves it away from b·v without bound", crate::error::num(ai))
        } else if di < 0.0 && ai == 0.0 {
            format!("d = {} mV/ms lowers it at each spike, and a = 0 never brings it back", crate::error::num(di))
        } else {
            format!("about {} mV/ms, where d = {} mV/ms a spike balances i_offset = {} nA", approx(u_reach(i)), crate::error::num(di), crate::error::num(p.i_offset.get(i)))
        };
        warnings.push(format!(
            "population `{}` ({}){}: u can leave the ±{} mV/ms its fixed point holds at v's scale (2^-{kv} mV): {why}; it is held there, and the cell then fires more often than the model",
            pop.name,
            pop.model.name(),
            if n > 1 { format!(" (neuron {i})") } else { String::new() },
            crate::error::num(u_lim),
        ));
    }
    let c140: Vec<i32> = (0..n)
        .map(|i| {
            let i_off = p.i_offset.get(i);
            let step = (140.0 + 1000.0 * i_off) * dt;
            if (step * sv).is_nan() || (step * sv).abs() >= 2f64.powi(31) {
                return Err(bad(
                    pop,
                    format!(
                        "i_offset = {} nA moves v by {} mV a step (dt·(140 + 1000·i_offset)), past the ±{} mV v's fixed point holds",
                        crate::error::num(i_off),
                        crate::error::num(step),
                        crate::error::num(2f64.powi(31) / sv)
                    ),
                ));
            }
            to_fixed(pop, "dt·(140 + 1000·i_offset)", step, sv, "mV")
        })
        .collect::<Result<_>>()?;
    let cq: Vec<i32> = (0..n).map(|i| to_fixed(pop, "c", p.c.get(i), sv, "mV")).collect::<Result<_>>()?;
    let dq: Vec<i32> = (0..n).map(|i| to_fixed(pop, "d", p.d.get(i), sv, "mV/ms")).collect::<Result<_>>()?;
    let jump_shift = kv - kg;
    // c and the initial v lie within ±2^lg, where the kernel holds v: lg was chosen from them (`reaches`).
    let mut b = KernelBuilder::new("izhikevich");
    let (s_v, s_u) = (b.state("v"), b.state("u"));
    let [p_k04, p_k5, p_kdt, p_a, p_ab, p_c140, p_c, p_d, p_vpeak] = ["k04", "k5", "kdt", "a", "ab", "c140", "c", "d", "vpeak"].map(|n| b.param(n));
    let (exps, inputs) = declare_ports(&mut b, &ports, "exc");
    // Synaptic input: voltage jumps. v after them is held within ±vlim
    // (±128 mV: 24 bits of Q16), where v² by `mulsh` still fits 32 bits:
    // past ~181 mV at Q16 it wrapped (an inhibitory jump of 100 mV·1000 gave v −11,520 mV, then
    // −14,743, where the model's v² term makes the neuron fire at once). The
    // input is clamped before its shift for the same reason; the clamps act
    // only where one step's jumps pass 128 mV, where forward Euler's step
    // has left the model behind anyway.
    sum_ports_clamped(&mut b, &ports, &exps, &inputs, None, r(0), &[]);
    if jump_shift > 0 {
        b.sat(r(0), r(0), (32 - jump_shift) as u8);
    }
    b.shl(r(0), r(0), jump_shift as u8).lds(r(1), s_v).adds(r(1), r(1), r(0)).sat(r(1), r(1), v_bits).lds(r(2), s_u);
    // v' = v + dt(0.04 v^2 + 5 v + 140 + I - u)   (forward Euler)
    b.mulsh(r(3), r(1), r(1), kv as u8).ldp(r(4), p_k04).mulshr(r(3), r(3), r(4), sh04);
    b.ldp(r(4), p_k5).mulshr(r(5), r(1), r(4), sh5).add(r(3), r(3), r(5));
    b.ldp(r(4), p_c140).adds(r(3), r(3), r(4));
    b.ldp(r(4), p_kdt).mulshr(r(5), r(2), r(4), shdt).subs(r(3), r(3), r(5));
    // u' = u + dt·a·(b v - u)
    b.ldp(r(4), p_ab).mulshr(r(5), r(1), r(4), shab).ldp(r(4), p_a).mulshr(r(6), r(2), r(4), sha).subs(r(5), r(5), r(6)).adds(r(2), r(2), r(5));
    // Spike at v ≥ 30 mV: v ← c, u ← u + d.
    b.ldp(r(4), p_vpeak).cmple(r(7), r(4), r(3)).spike(r(7));
    b.ldp(r(4), p_c).sel(r(3), r(7), r(4), r(3)).ldp(r(4), p_d).adds(r(5), r(2), r(4)).sel(r(2), r(7), r(5), r(2));
    if u_bits < 32 {
        b.sat(r(2), r(2), u_bits);
    }
    b.sts(s_v, r(3)).sts(s_u, r(2));
    let kernel = finish(pop, b)?;
    let mut params = vec![
        ParamVals::from_vec(k04),
        ParamVals::from_vec(k5),
        ParamVals::from_vec(kdt),
        ParamVals::from_vec(aq),
        ParamVals::from_vec(abq),
        ParamVals::from_vec(c140),
        ParamVals::from_vec(cq),
        ParamVals::from_vec(dq),
        ParamVals::Uniform((30.0 * sv) as i32),
    ];
    params.extend(ports.iter().map(|p| ParamVals::Uniform(p.exp as i32)));
    let v0: Vec<i32> = v0s.iter().map(|x| to_fixed(pop, "initial v", *x, sv, "mV")).collect::<Result<_>>()?;
    let u0: Vec<i32> = u0s.iter().map(|x| to_fixed(pop, "initial u", *x, sv, "mV/ms")).collect::<Result<_>>()?;
    let vars = vec![
        VarSymbol { name: "v".into(), slot: 0, scale: 1.0 / sv, offset: 0.0, unit: "mV".into() },
        VarSymbol { name: "u".into(), slot: 1, scale: 1.0 / sv, offset: 0.0, unit: "mV/ms".into() },
    ];
    Ok(Lowered { body: Body::Kernel { kernel, params, state: vec![v0, u0] }, ports, vars, quant, warnings })
}
