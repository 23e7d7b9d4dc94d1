//! Neuron models → fixed-point kernels, parameters and initial state, and
//! weights → mantissas with per-port exponents (quantisation).
//!
//! Every model is a kernel in nerve's ISA. Physical models (lif, if,
//! adaptive_lif, izhikevich) are discretised with exact propagators where they
//! exist, then quantised: voltages to Q(kv) mV, synaptic currents to Q(kg) nA
//! per receptor, multiplicative factors to Q(sh) with a per-factor shift. The
//! choice of kv, kg and each projection's exponent is documented in
//! docs/quantisation.md; the error it introduces is reported per projection.

use nerve_isa::arch::Arch;
use nerve_isa::asm::assemble;
use nerve_isa::image::VarSymbol;
use nerve_isa::kernel::Kernel;
use serde::Serialize;

use crate::error::{CompileError, Result};
use crate::net::expand::{Synapses, Weights};
use crate::net::model::*;
use crate::rng::{mix64, stream, Rng};

/// A parameter's fixed-point values over a whole population.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamVals {
    Uniform(i32),
    PerNeuron(Vec<i32>),
}

impl ParamVals {
    fn from_vec(v: Vec<i32>) -> ParamVals {
        if v.windows(2).all(|w| w[0] == w[1]) {
            ParamVals::Uniform(v.first().copied().unwrap_or(0))
        } else {
            ParamVals::PerNeuron(v)
        }
    }
}

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
    /// Mantissas per synapse are computed by [`ProjQuant::mantissa`].
    #[serde(skip)]
    pub(crate) rule: QuantRule,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum QuantRule {
    /// round(w / (unit · 2^exp)), clipped to the mantissa range.
    Scale { lo: i64, hi: i64 },
    /// Lava's effective weights: clip, then drop low bits.
    Lava { nbits: u8, excitatory_only: bool },
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
            QuantRule::Lava { nbits, excitatory_only } => {
                let w = w as i64;
                let (c, drop) = if excitatory_only { (w.clamp(0, 255), 8 - nbits as i64) } else { (w.clamp(-256, 255), 8 - nbits as i64 + 1) };
                (((c >> drop) << drop) as i32, c != w)
            }
        }
    }
    /// The physical weight a mantissa stands for.
    pub fn value(&self, m: i32) -> f64 {
        m as f64 * self.unit * 2f64.powi(self.exp as i32)
    }
}

/// What runs on a population's cores.
#[derive(Clone, Debug)]
pub enum Body {
    Kernel { kernel: Kernel, params: Vec<ParamVals>, state: Vec<Vec<i32>> },
    SpikeArray(Vec<Vec<u32>>),
    External,
}

/// A lowered population.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub body: Body,
    pub ports: Vec<Port>,
    pub vars: Vec<VarSymbol>,
    /// Quantisation of each projection into this population, by projection index.
    pub quant: Vec<(ProjIx, ProjQuant)>,
}

fn bad(pop: &Population, msg: impl Into<String>) -> CompileError {
    CompileError::Network(format!("population `{}` ({}): {}", pop.name, pop.model.name(), msg.into()))
}

/// Fixed-point factors: the largest shift in 1..=62 with |f|·2^sh ≤ 2^30.
fn fixed(f: &[f64]) -> Option<(Vec<i32>, u8)> {
    let m = f.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    if !m.is_finite() {
        return None;
    }
    let mut sh: i32 = if m == 0.0 { 30 } else { 30 - m.log2().ceil() as i32 };
    sh = sh.clamp(1, 62);
    if m * 2f64.powi(sh) > 2f64.powi(30) + 0.5 {
        return None;
    }
    Some((f.iter().map(|x| (x * 2f64.powi(sh)).round() as i32).collect(), sh as u8))
}

/// A decay `out ← f·x` (f per neuron) as kernel lines, loading its factor
/// into r5 as parameter `param`, with `tmp` as scratch (may equal `out`);
/// and the parameter's values.
///
/// When every f is in [0.5, 1] the parameter is the factor's complement
/// c = −round((1 − f)·2^32), which fits 32 bits, and
/// `out = x + mulshr(x, c, 32)` = round-half-up(x·(1 + c/2^32)): the same
/// rounding as a plain `mulshr`, 32 fractional bits instead of 30, and the
/// multiply–shift takes the product's high word as it is (no 64-bit shift:
/// one vector instruction fewer per decay in the JIT). Otherwise `mulshr`
/// with `fixed`'s shift.
fn decay(pop: &Population, what: &str, f: &[f64], x: u8, tmp: u8, out: u8, param: &str) -> Result<(String, ParamVals)> {
    if f.iter().all(|&f| (0.5..=1.0).contains(&f)) {
        let c: Vec<i32> = f.iter().map(|&f| (-((1.0 - f) * 4_294_967_296.0).round()).max(i32::MIN as f64) as i32).collect();
        let text = format!("    ldp    r5, {param}\n    mulshr r{tmp}, r{x}, r5, 32\n    add    r{out}, r{x}, r{tmp}\n");
        return Ok((text, ParamVals::from_vec(c)));
    }
    let (q, sh) = fixed(f).ok_or_else(|| bad(pop, format!("{what} is out of the fixed-point range")))?;
    Ok((format!("    ldp    r5, {param}\n    mulshr r{out}, r{x}, r5, {sh}\n"), ParamVals::from_vec(q)))
}

fn round_i32(pop: &Population, what: &str, x: f64) -> Result<i32> {
    let r = x.round();
    if !(r.is_finite() && r >= i32::MIN as f64 && r <= i32::MAX as f64) {
        return Err(bad(pop, format!("{what} = {x} does not fit 32-bit fixed point; use smaller values")));
    }
    Ok(r as i32)
}

/// Initial values of variable `name` (physical), or the default.
fn initial(pop: &Population, name: &str, default: &Values) -> Vec<f64> {
    let n = pop.size as usize;
    match pop.initial.iter().find(|(k, _)| k == name) {
        Some((_, Init::Values(v))) => v.iter(n).collect(),
        Some((_, Init::Uniform { lo, hi, seed })) => {
            let mut r = Rng::new(*seed, stream::INITIAL);
            (0..n).map(|_| lo + (hi - lo) * r.f64()).collect()
        }
        None => default.iter(n).collect(),
    }
}

/// Incoming projections of a population with their synapses.
pub struct Incoming<'a> {
    pub proj: ProjIx,
    pub p: &'a Projection,
    pub syn: &'a Synapses,
}

/// Chooses ports and exponents for scaled (physical) weights. `lsb[r]` is the
/// receptor's current LSB; returns ports and per-projection quantisation.
fn assign_scaled(arch: &Arch, pop: &Population, incoming: &[Incoming], lsb: impl Fn(Receptor) -> f64) -> Result<(Vec<Port>, Vec<(ProjIx, ProjQuant)>)> {
    let wb = arch.core.weight_bits as u32;
    let (mlo, mhi) = (-(1i64 << (wb - 1)), (1i64 << (wb - 1)) - 1);
    let (emin, emax) = (arch.core.weight_exp_min as i32, arch.core.weight_exp_max as i32);
    let mut quant = Vec::new();
    let mut want: Vec<(Receptor, i8)> = Vec::new();
    for inc in incoming {
        let unit = lsb(inc.p.receptor);
        let wmax = inc.syn.max_abs_weight() / unit;
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
            q.1.exp = ports.iter().find(|p| p.receptor == *r).expect("receptor has a port").exp;
        }
    }
    for (q, (r, _)) in quant.iter_mut().zip(&want) {
        q.1.port = ports.iter().position(|p| p.receptor == *r && p.exp == q.1.exp).expect("port exists") as u8;
    }
    for ((_, q), inc) in quant.iter_mut().zip(incoming) {
        measure(q, inc.syn);
    }
    Ok((ports, quant))
}

/// Fills in clipping and error statistics.
fn measure(q: &mut ProjQuant, syn: &Synapses) {
    let mut eval = |w: f64, count: u64| {
        let (m, clipped) = q.mantissa(w);
        if clipped {
            q.clipped += count;
        }
        if w != 0.0 {
            if m == 0 {
                q.underflow += count;
            }
            let e = (q.value(m) - w).abs() / w.abs();
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

/// The LSB exponent for a receptor's current: as fine as the weight format
/// allows, with 2^12 max-weight inputs of headroom in 32 bits.
fn current_scale(arch: &Arch, incoming: &[Incoming], r: Receptor, conv: f64) -> i32 {
    let wmax = incoming.iter().filter(|i| i.p.receptor == r).fold(0.0f64, |m, i| m.max(i.syn.max_abs_weight() * conv));
    if wmax == 0.0 {
        return 16;
    }
    let wb = arch.core.weight_bits as i32;
    let by_format = (wb - 1) as f64 + arch.core.weight_exp_max as f64 - wmax.log2();
    let by_range = 19.0 - wmax.log2();
    (by_format.min(by_range).floor() as i32).clamp(-8, 40)
}

/// Lowers one population.
pub fn lower(arch: &Arch, net: &Network, pop: &Population, incoming: &[Incoming], dt: f64) -> Result<Lowered> {
    let n = pop.size as usize;
    match &pop.model {
        Model::Lif(p) | Model::If(p) => lower_lif(arch, pop, p, None, incoming, dt),
        Model::AdaptiveLif(a) => lower_lif(arch, pop, &a.lif, Some(a), incoming, dt),
        Model::Izhikevich(p) => lower_izhikevich(arch, pop, p, incoming, dt),
        Model::LoihiLif(p) => lower_loihi(arch, pop, p, incoming),
        Model::SpikeSourceArray(times) => {
            let steps = times.iter().map(|ts| ts.iter().map(|t| (t / dt + 0.5).floor() as u32).collect()).collect();
            Ok(Lowered { body: Body::SpikeArray(steps), ports: vec![], vars: vec![], quant: vec![] })
        }
        Model::SpikeSourcePoisson { rate, seed } => {
            let thr: Vec<i32> = rate
                .iter(n)
                .map(|hz| {
                    let p = hz * dt / 1000.0;
                    (p * 4_294_967_296.0).round().min(u32::MAX as f64) as u32 as i32
                })
                .collect();
            let state: Vec<i32> = (0..n as u64)
                .map(|i| {
                    let s = mix64(seed ^ mix64(i + 1) ^ stream::POISSON) as u32;
                    if s == 0 {
                        0x9e37_79b9u32 as i32
                    } else {
                        s as i32
                    }
                })
                .collect();
            let kernel = assemble(POISSON_KERNEL).map_err(|e| CompileError::Internal(e.to_string()))?;
            let _ = net;
            Ok(Lowered {
                body: Body::Kernel { kernel, params: vec![ParamVals::from_vec(thr)], state: vec![state] },
                ports: vec![],
                vars: vec![],
                quant: vec![],
            })
        }
        Model::Input => Ok(Lowered { body: Body::External, ports: vec![], vars: vec![], quant: vec![] }),
        Model::Nir(p) => lower_nir(arch, pop, p, incoming),
    }
}

/// NIR neurons, forward Euler at dt as NIR's reference simulator does:
/// x = Σ weights of this step's spikes + bias;
/// I/IF: v += dt·r·x; LI/LIF: v += dt/τ·(v_leak − v + r·x);
/// CubaLI/CubaLIF: i += dt/τs·(w_in·x − i), then v += dt/τm·(v_leak − v + r·i);
/// Threshold: spike when x > θ. Spike when v > v_threshold; reset to v_reset,
/// or subtract v_threshold − v_reset.
fn lower_nir(arch: &Arch, pop: &Population, p: &NirNeuron, incoming: &[Incoming]) -> Result<Lowered> {
    let n = pop.size as usize;
    let dt = p.dt_s;
    // x (input) scale: the weights' and the bias's.
    let (_, bmax) = p.bias.min_max(n);
    let (bmin, _) = p.bias.min_max(n);
    let babs = bmax.abs().max(bmin.abs());
    let mut kx = current_scale(arch, incoming, Receptor::Excitatory, 1.0);
    if babs > 0.0 {
        kx = kx.min((26.0 - babs.log2()).floor() as i32);
    }
    let kx = kx.clamp(-8, 24);
    let lsb_x = 2f64.powi(-kx);
    let (ports, quant) = assign_scaled(arch, pop, incoming, |_| lsb_x)?;
    // v scale: 1024× headroom over the largest voltage parameter (at least 1).
    let vmax = [&p.v_threshold, &p.v_reset, &p.v_leak]
        .iter()
        .map(|v| {
            let (lo, hi) = v.min_max(n);
            lo.abs().max(hi.abs())
        })
        .fold(1.0f64, f64::max);
    let kv = ((31.0 - (1024.0 * vmax).log2()).floor() as i32).clamp(0, 24);
    let sv = 2f64.powi(kv);
    let conv = 2f64.powi(kv - kx); // x LSB → v LSB
    let fx = |name: &str, f: &[f64]| fixed(f).ok_or_else(|| bad(pop, format!("{name} is out of the fixed-point range")));
    let q = |name: &str, v: &Values, scale: f64| -> Result<Vec<i32>> { (0..n).map(|i| round_i32(pop, name, v.get(i) * scale)).collect() };
    let k = p.kind;
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
    let (e_params, inputs) = port_decls(&ports);
    let cuba = matches!(k, NirKind::CubaLI | NirKind::CubaLIF);
    let leak = matches!(k, NirKind::LI | NirKind::LIF | NirKind::CubaLI | NirKind::CubaLIF);
    let mut t = format!(".kernel nir_{}\n", k.name().trim_start_matches("nir ").to_lowercase());
    let mut state = vec![];
    if cuba {
        state.push("i");
    }
    if k != NirKind::Threshold {
        state.push("v");
    }
    if !state.is_empty() {
        t.push_str(&format!(".state {}\n", state.join(", ")));
    }
    let mut params = vec!["bias", "b"];
    if leak {
        params.extend(["a_m", "vleak"]);
    }
    if cuba {
        params.extend(["a_s", "b_s"]);
    }
    params.extend(["vth", "vreset"]);
    let mut pl = params.join(", ");
    if !e_params.is_empty() {
        pl.push_str(&format!(", {e_params}"));
    }
    t.push_str(&format!(".param {pl}\n"));
    if !inputs.is_empty() {
        t.push_str(&format!(".input {}\n", inputs.replace("exc", "x")));
    }
    t.push_str("    ; x: this step's weighted spikes plus the constant input\n");
    sum_ports(&mut t, &ports, None, 0);
    t.push_str("    ldp    r1, bias\n    add    r0, r0, r1\n");
    let (a_q, sh_a) = fx("dt/tau", &a_m)?;
    let (b_q, sh_b) = fx("the input coefficient", &b)?;
    let (as_q, sh_as) = fx("dt/tau_syn", &a_s)?;
    let (bs_q, sh_bs) = fx("dt·w_in/tau_syn", &bs)?;
    if k == NirKind::Threshold {
        t.push_str("    ldp    r2, vth\n    cmplt  r3, r2, r0\n    spike  r3\n");
    } else {
        if cuba {
            t.push_str(&format!(
                "    ; i += dt/τs·(w_in·x − i)
    lds    r4, i
    ldp    r5, a_s
    mulshr r6, r4, r5, {sh_as}
    sub    r4, r4, r6
    ldp    r5, b_s
    mulshr r6, r0, r5, {sh_bs}
    add    r4, r4, r6
    sts    i, r4
    mov    r0, r4
"
            ));
        }
        t.push_str("    lds    r7, v\n");
        if leak {
            t.push_str(&format!(
                "    ; v += dt/τ·(v_leak − v)
    ldp    r5, vleak
    sub    r6, r5, r7
    ldp    r5, a_m
    mulshr r6, r6, r5, {sh_a}
    add    r7, r7, r6
"
            ));
        }
        t.push_str(&format!(
            "    ; … + coefficient·x
    ldp    r5, b
    mulshr r6, r0, r5, {sh_b}
    add    r7, r7, r6
"
        ));
        if k.spikes() {
            t.push_str(
                "    ldp    r8, vth
    cmplt  r9, r8, r7
    spike  r9
    ldp    r10, vreset
",
            );
            match p.reset {
                ResetMode::ToReset => t.push_str(
                    "    sel    r7, r9, r10, r7
",
                ),
                ResetMode::Subtract => t.push_str(
                    "    sub    r11, r8, r10
    sub    r12, r7, r11
    sel    r7, r9, r12, r7
",
                ),
            }
        }
        t.push_str(
            "    sts    v, r7
",
        );
    }
    let kernel = assemble(&t).map_err(|e| CompileError::Internal(format!("{e}\n{t}")))?;
    let mut pv: Vec<ParamVals> = vec![ParamVals::from_vec(q("bias", &p.bias, 1.0 / lsb_x)?), ParamVals::from_vec(b_q)];
    if leak {
        pv.push(ParamVals::from_vec(a_q));
        pv.push(ParamVals::from_vec(q("v_leak", &p.v_leak, sv)?));
    }
    if cuba {
        pv.push(ParamVals::from_vec(as_q));
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
    Ok(Lowered { body: Body::Kernel { kernel, params: pv, state: st }, ports, vars, quant })
}

/// Poisson source: spike when a fresh 32-bit draw is below p·2^32 (unsigned).
const POISSON_KERNEL: &str = "\
.kernel poisson
.state rng
.param p32
    rand   r0, rng
    ldp    r1, p32
    cmpltu r2, r0, r1
    spike  r2
";

/// The port-summing prologue: `rX ← Σ shv(in_p, e_p)` for the ports of receptor
/// `r`; the result lands in `dst`. Uses r12–r13 as scratch.
fn sum_ports(out: &mut String, ports: &[Port], r: Option<Receptor>, dst: u8) {
    let mut first = true;
    for (i, p) in ports.iter().enumerate() {
        if r.is_some_and(|r| p.receptor != r) {
            continue;
        }
        let tgt = if first { dst } else { 12 };
        out.push_str(&format!("    ldin   r{tgt}, in[{i}]\n    ldp    r13, e{i}\n    shv    r{tgt}, r{tgt}, r13\n"));
        if !first {
            out.push_str(&format!("    add    r{dst}, r{dst}, r12\n"));
        }
        first = false;
    }
    if first {
        out.push_str(&format!("    movi   r{dst}, 0\n"));
    }
}

fn port_decls(ports: &[Port]) -> (String, String) {
    let params: Vec<String> = (0..ports.len()).map(|i| format!("e{i}")).collect();
    let inputs: Vec<String> =
        ports.iter().enumerate().map(|(i, p)| format!("{}{}", if p.receptor == Receptor::Excitatory { "exc" } else { "inh" }, i)).collect();
    (params.join(", "), inputs.join(", "))
}

fn lower_lif(arch: &Arch, pop: &Population, p: &LifParams, adaptive: Option<&AdaptiveParams>, incoming: &[Incoming], dt: f64) -> Result<Lowered> {
    let n = pop.size as usize;
    // Voltage scale: as fine as keeps 16× the largest voltage in 31 bits, at most 2^-20 mV.
    let vmax = [&p.v_rest, &p.v_reset, &p.v_thresh]
        .iter()
        .map(|v| {
            let (lo, hi) = v.min_max(n);
            lo.abs().max(hi.abs())
        })
        .fold(1.0f64, f64::max);
    let kv = ((31.0 - (16.0 * vmax).log2()).floor() as i32).min(20);
    let sv = 2f64.powi(kv);
    // Exact propagators, per neuron.
    let mut a_v = Vec::with_capacity(n);
    let mut c0 = Vec::with_capacity(n);
    // b: mV of membrane change over one step per nA of synaptic current at the step's start.
    let (mut b_e, mut b_i, mut d_e, mut d_i) = (vec![], vec![], vec![], vec![]);
    let mut vth = vec![];
    let mut vreset = vec![];
    let mut tref = vec![];
    for i in 0..n {
        let (tm, cm) = (p.tau_m.get(i), p.cm.get(i));
        let (te, ti) = (p.tau_syn_e.get(i), p.tau_syn_i.get(i));
        let a = if tm.is_infinite() { 1.0 } else { (-dt / tm).exp() };
        let c = if tm.is_infinite() { p.i_offset.get(i) * dt / cm } else { (p.v_rest.get(i) + p.i_offset.get(i) * tm / cm) * (1.0 - a) };
        let b = |ts: f64| -> f64 {
            if tm.is_infinite() {
                ts / cm * (1.0 - (-dt / ts).exp())
            } else if (ts - tm).abs() < 1e-12 * tm {
                dt / cm * (-dt / tm).exp()
            } else {
                (1.0 / cm) * tm * ts / (ts - tm) * ((-dt / ts).exp() - (-dt / tm).exp())
            }
        };
        a_v.push(a);
        c0.push(round_i32(pop, "the leak constant", c * sv)?);
        b_e.push(b(te));
        b_i.push(b(ti));
        d_e.push((-dt / te).exp());
        d_i.push((-dt / ti).exp());
        vth.push(round_i32(pop, "v_thresh", p.v_thresh.get(i) * sv)?);
        vreset.push(round_i32(pop, "v_reset", p.v_reset.get(i) * sv)?);
        let r = (p.tau_refrac.get(i) / dt + 0.5).floor();
        tref.push((r as i64 - 1).clamp(0, i32::MAX as i64) as i32);
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
    // the coarser of the two, which holds either receptor's inputs.
    let merged = scaled.is_some_and(|(be, bi)| be == bi) && d_e == d_i;
    let (kg_e, kg_i) = match scaled {
        Some((be, bi)) => (current_scale(arch, incoming, Receptor::Excitatory, be).min(kv), current_scale(arch, incoming, Receptor::Inhibitory, bi).min(kv)),
        None => (current_scale(arch, incoming, Receptor::Excitatory, 1.0), current_scale(arch, incoming, Receptor::Inhibitory, 1.0)),
    };
    let (kg_e, kg_i) = if merged { (kg_e.min(kg_i), kg_e.min(kg_i)) } else { (kg_e, kg_i) };
    // nA per least significant bit of each current.
    let (lsb_e, lsb_i) = match scaled {
        Some((be, bi)) => (2f64.powi(-kg_e) / be, 2f64.powi(-kg_i) / bi),
        None => (2f64.powi(-kg_e), 2f64.powi(-kg_i)),
    };
    let (ports, quant) = assign_scaled(arch, pop, incoming, |r| if r == Receptor::Excitatory { lsb_e } else { lsb_i })?;
    let fx = |name: &str, f: &[f64]| fixed(f).ok_or_else(|| bad(pop, format!("{name} is out of the fixed-point range")));
    let (decay_v, a_q) = decay(pop, "the membrane decay", &a_v, 4, 6, 6, "a_v")?;
    // The kernel lines that add both currents into v (r6), and their parameters.
    let (currents_into_v, b_params) = match scaled {
        Some(_) => {
            let add = |r: u8, k: i32| match kv - k {
                0 => format!("    add    r6, r6, r{r}\n"),
                s => format!("    shl    r7, r{r}, {s}\n    add    r6, r6, r7\n"),
            };
            if merged {
                (add(2, kg_e), vec![])
            } else {
                (format!("{}{}", add(2, kg_e), add(3, kg_i)), vec![])
            }
        }
        None => {
            let in_v = |b: &[f64], lsb: f64| -> Vec<f64> { b.iter().map(|b| b * sv * lsb).collect() };
            let (be_q, sh_be) = fx("the excitatory current factor", &in_v(&b_e, lsb_e))?;
            let (bi_q, sh_bi) = fx("the inhibitory current factor", &in_v(&b_i, lsb_i))?;
            (
                format!("    ldp    r5, b_e\n    mulshr r7, r2, r5, {sh_be}\n    add    r6, r6, r7\n    ldp    r5, b_i\n    mulshr r7, r3, r5, {sh_bi}\n    add    r6, r6, r7\n"),
                vec![("b_e".to_string(), ParamVals::from_vec(be_q)), ("b_i".to_string(), ParamVals::from_vec(bi_q))],
            )
        }
    };
    let (decay_e, de_q) = decay(pop, if merged { "the synaptic decay" } else { "the excitatory decay" }, &d_e, 2, 7, 2, if merged { "d_syn" } else { "d_e" })?;
    let (decay_i, di_q) = decay(pop, "the inhibitory decay", &d_i, 3, 7, 3, "d_i")?;

    let (e_params, inputs) = port_decls(&ports);
    let mut k = String::new();
    let kname = if adaptive.is_some() { "adaptive_lif" } else { "lif" };
    k.push_str(&format!(".kernel {kname}\n"));
    // State slots: v, the current(s), refr, then theta.
    let currents = if merged { "isyn" } else { "isyn_exc, isyn_inh" };
    k.push_str(&format!(".state v, {currents}, refr{}\n", if adaptive.is_some() { ", theta" } else { "" }));
    // Parameters in slot order: (name, values).
    let adaptive_decay = match adaptive {
        Some(a) => {
            let da: Vec<f64> = (0..n).map(|i| (-dt / a.tau_a.get(i)).exp()).collect();
            let aj: Vec<i32> = (0..n).map(|i| round_i32(pop, "a_jump", a.a_jump.get(i) * sv)).collect::<Result<_>>()?;
            Some((decay(pop, "the threshold decay", &da, 14, 7, 14, "d_a")?, aj))
        }
        None => None,
    };
    let mut pdecl: Vec<(String, ParamVals)> = vec![("a_v".into(), a_q)];
    pdecl.push(("c0".into(), ParamVals::from_vec(c0)));
    pdecl.extend(b_params);
    if merged {
        pdecl.push(("d_syn".into(), de_q));
    } else {
        pdecl.push(("d_e".into(), de_q));
        pdecl.push(("d_i".into(), di_q));
    }
    pdecl.push(("vth".into(), ParamVals::from_vec(vth)));
    pdecl.push(("vreset".into(), ParamVals::from_vec(vreset)));
    pdecl.push(("tref".into(), ParamVals::from_vec(tref)));
    if let Some(((_, da_q), aj)) = &adaptive_decay {
        pdecl.push(("d_a".into(), da_q.clone()));
        pdecl.push(("a_jump".into(), ParamVals::from_vec(aj.clone())));
    }
    let names: Vec<&str> = pdecl.iter().map(|(n, _)| n.as_str()).collect();
    k.push_str(&format!(".param {}", names.join(", ")));
    if !e_params.is_empty() {
        k.push_str(&format!(", {e_params}"));
    }
    k.push('\n');
    if !inputs.is_empty() {
        k.push_str(&format!(".input {inputs}\n"));
    }
    if merged {
        k.push_str("    ; synaptic input of this step (both receptors) into the current\n");
        sum_ports(&mut k, &ports, None, 0);
        k.push_str("    lds    r2, isyn\n    add    r2, r2, r0\n");
    } else {
        k.push_str("    ; synaptic input of this step into each receptor's current\n");
        sum_ports(&mut k, &ports, Some(Receptor::Excitatory), 0);
        k.push_str("    lds    r2, isyn_exc\n    add    r2, r2, r0\n");
        sum_ports(&mut k, &ports, Some(Receptor::Inhibitory), 0);
        k.push_str("    lds    r3, isyn_inh\n    add    r3, r3, r0\n");
    }
    k.push_str(&format!(
        "    ; membrane: exact integration over one step
    lds    r4, v
{decay_v}    ldp    r5, c0
    add    r6, r6, r5
{currents_into_v}    ; refractory: v is held while the counter is above zero
    lds    r8, refr
    movi   r9, 0
    cmplt  r10, r9, r8
    sel    r6, r10, r4, r6
    addi   r11, r8, -1
    sel    r8, r10, r11, r8
    ; threshold, only outside the refractory period
    ldp    r5, vth
"
    ));
    if adaptive.is_some() {
        k.push_str("    lds    r14, theta\n    add    r5, r5, r14\n");
    }
    k.push_str(&format!(
        "    cmplt  r11, r5, r6
    cmpeq  r12, r10, r9
    and    r11, r11, r12
    spike  r11
    ldp    r5, vreset
    sel    r6, r11, r5, r6
    ldp    r5, tref
    sel    r8, r11, r5, r8
    sts    v, r6
    sts    refr, r8
    ; synaptic currents decay
"
    ));
    if merged {
        k.push_str(&format!("{decay_e}    sts    isyn, r2\n"));
    } else {
        k.push_str(&format!("{decay_e}    sts    isyn_exc, r2\n{decay_i}    sts    isyn_inh, r3\n"));
    }
    let mut theta0 = vec![];
    if let Some(((decay_a, _), _)) = &adaptive_decay {
        k.push_str(&format!(
            "    ; adaptive threshold: jumps at a spike, decays every step
    ldp    r5, a_jump
    add    r7, r14, r5
    sel    r14, r11, r7, r14
{decay_a}    sts    theta, r14
"
        ));
        theta0 = initial(pop, "theta", &Values::Scalar(0.0)).iter().map(|x| round_i32(pop, "theta", x * sv)).collect::<Result<_>>()?;
    }
    let kernel = assemble(&k).map_err(|e| CompileError::Internal(format!("{e}\n{k}")))?;
    let mut params: Vec<ParamVals> = pdecl.into_iter().map(|(_, v)| v).collect();
    params.extend(ports.iter().map(|p| ParamVals::Uniform(p.exp as i32)));
    let v0: Vec<i32> = initial(pop, "v", &p.v_rest).iter().map(|x| round_i32(pop, "initial v", x * sv)).collect::<Result<_>>()?;
    let (mut state, mut vars) = if merged {
        // The one current starts as the sum of both (the same scale).
        let ie = initial(pop, "isyn_exc", &Values::Scalar(0.0));
        let ii = initial(pop, "isyn_inh", &Values::Scalar(0.0));
        let g0: Vec<i32> = ie.iter().zip(&ii).map(|(e, i)| round_i32(pop, "initial isyn_exc + isyn_inh", (e + i) / lsb_e)).collect::<Result<_>>()?;
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
            initial(pop, "isyn_exc", &Values::Scalar(0.0)).iter().map(|x| round_i32(pop, "initial isyn_exc", x / lsb_e)).collect::<Result<_>>()?;
        let gi0: Vec<i32> =
            initial(pop, "isyn_inh", &Values::Scalar(0.0)).iter().map(|x| round_i32(pop, "initial isyn_inh", x / lsb_i)).collect::<Result<_>>()?;
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
    Ok(Lowered { body: Body::Kernel { kernel, params, state }, ports, vars, quant })
}

fn lower_izhikevich(arch: &Arch, pop: &Population, p: &IzkParams, incoming: &[Incoming], dt: f64) -> Result<Lowered> {
    let n = pop.size as usize;
    // v in Q(kv) mV; weights are voltage jumps of 1000·w mV (PyNN nA → NEST's pA-as-mV convention).
    let kv = 16;
    let sv = 2f64.powi(kv);
    let kg = current_scale(arch, incoming, Receptor::Excitatory, 1000.0).min(current_scale(arch, incoming, Receptor::Inhibitory, 1000.0)).min(kv);
    let lsb = 2f64.powi(-kg) / 1000.0;
    let (ports, quant) = assign_scaled(arch, pop, incoming, |_| lsb)?;
    let fx = |name: &str, f: &[f64]| fixed(f).ok_or_else(|| bad(pop, format!("{name} is out of the fixed-point range")));
    let (k04, sh04) = fx("0.04·dt", &vec![0.04 * dt; n])?;
    let (k5, sh5) = fx("1 + 5·dt", &vec![1.0 + 5.0 * dt; n])?;
    let (kdt, shdt) = fx("dt", &vec![dt; n])?;
    let a: Vec<f64> = (0..n).map(|i| p.a.get(i) * dt).collect();
    let ab: Vec<f64> = (0..n).map(|i| p.a.get(i) * p.b.get(i) * dt).collect();
    let (aq, sha) = fx("a·dt", &a)?;
    let (abq, shab) = fx("a·b·dt", &ab)?;
    let c140: Vec<i32> = (0..n).map(|i| round_i32(pop, "140 + I", (140.0 + 1000.0 * p.i_offset.get(i)) * dt * sv)).collect::<Result<_>>()?;
    let cq: Vec<i32> = (0..n).map(|i| round_i32(pop, "c", p.c.get(i) * sv)).collect::<Result<_>>()?;
    let dq: Vec<i32> = (0..n).map(|i| round_i32(pop, "d", p.d.get(i) * sv)).collect::<Result<_>>()?;
    let jump_shift = kv - kg;
    let (e_params, inputs) = port_decls(&ports);
    let mut k = String::from(".kernel izhikevich\n.state v, u\n.param k04, k5, kdt, a, ab, c140, c, d, vpeak");
    if !e_params.is_empty() {
        k.push_str(&format!(", {e_params}"));
    }
    k.push('\n');
    if !inputs.is_empty() {
        k.push_str(&format!(".input {inputs}\n"));
    }
    k.push_str("    ; synaptic input: voltage jumps\n");
    sum_ports(&mut k, &ports, None, 0);
    k.push_str(&format!(
        "    shl    r0, r0, {jump_shift}
    lds    r1, v
    add    r1, r1, r0
    lds    r2, u
    ; v' = v + dt(0.04 v^2 + 5 v + 140 + I - u)   (forward Euler)
    mulsh  r3, r1, r1, {kv}
    ldp    r4, k04
    mulshr r3, r3, r4, {sh04}
    ldp    r4, k5
    mulshr r5, r1, r4, {sh5}
    add    r3, r3, r5
    ldp    r4, c140
    add    r3, r3, r4
    ldp    r4, kdt
    mulshr r5, r2, r4, {shdt}
    sub    r3, r3, r5
    ; u' = u + dt·a·(b v - u)
    ldp    r4, ab
    mulshr r5, r1, r4, {shab}
    ldp    r4, a
    mulshr r6, r2, r4, {sha}
    sub    r5, r5, r6
    add    r2, r2, r5
    ; spike at v ≥ 30 mV: v ← c, u ← u + d
    ldp    r4, vpeak
    cmple  r7, r4, r3
    spike  r7
    ldp    r4, c
    sel    r3, r7, r4, r3
    ldp    r4, d
    add    r5, r2, r4
    sel    r2, r7, r5, r2
    sts    v, r3
    sts    u, r2
"
    ));
    let kernel = assemble(&k).map_err(|e| CompileError::Internal(format!("{e}\n{k}")))?;
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
    let v0: Vec<i32> = initial(pop, "v", &Values::Scalar(-70.0)).iter().map(|x| round_i32(pop, "initial v", x * sv)).collect::<Result<_>>()?;
    let u0: Vec<i32> = initial(pop, "u", &Values::Scalar(-14.0)).iter().map(|x| round_i32(pop, "initial u", x * sv)).collect::<Result<_>>()?;
    let vars = vec![
        VarSymbol { name: "v".into(), slot: 0, scale: 1.0 / sv, offset: 0.0, unit: "mV".into() },
        VarSymbol { name: "u".into(), slot: 1, scale: 1.0 / sv, offset: 0.0, unit: "mV/ms".into() },
    ];
    Ok(Lowered { body: Body::Kernel { kernel, params, state: vec![v0, u0] }, ports, vars, quant })
}

fn lower_loihi(arch: &Arch, pop: &Population, p: &LoihiParams, incoming: &[Incoming]) -> Result<Lowered> {
    let n = pop.size as usize;
    let (emin, emax) = (arch.core.weight_exp_min, arch.core.weight_exp_max);
    // Ports: one per distinct weight_exp ≥ 0 (shifting a sum by a non-negative
    // exponent equals summing shifted parts), one per projection with a
    // negative exponent (lava floors each projection's sum separately).
    let mut ports: Vec<Port> = Vec::new();
    let mut quant = Vec::new();
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
            rule: QuantRule::Lava { nbits: inc.p.loihi.num_weight_bits, excitatory_only: inc.p.loihi.excitatory_only },
        };
        measure(&mut q, inc.syn);
        // Lava's truncation is the model, not an error: report only clipping.
        q.worst_rel_error = 0.0;
        q.underflow = 0;
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
    let wb = arch.core.weight_bits;
    if wb < 9 {
        if let Some((_, q)) = quant.iter().find(|(_, q)| matches!(q.rule, QuantRule::Lava { excitatory_only: false, .. })) {
            return Err(CompileError::Projection {
                projection: q.projection.clone(),
                reason: format!("lava's mixed-sign weights need 9-bit mantissas (−256..255); `{}` has {wb}", arch.name),
            });
        }
    }
    let ints = |v: &Values| -> Vec<i64> { v.iter(n).map(|x| x as i64).collect() };
    let du = ints(&p.du);
    let dv = ints(&p.dv);
    let vth: Vec<i32> = ints(&p.vth).iter().map(|&x| (x << 6) as i32).collect();
    let bias: Vec<i32> = ints(&p.bias_mant).iter().zip(ints(&p.bias_exp)).map(|(&m, e)| (m << e) as i32).collect();
    let ufac: Vec<i32> = du.iter().map(|&d| (4095 - d) as i32).collect();
    let (e_params, inputs) = port_decls(&ports);
    let nengo = p.refractory.is_some();
    let mut k = format!(
        ".kernel {}\n.state u, v{}\n.param ufac, vfac, bias, vth{}{}{}\n",
        if nengo { "loihi_lif_nengo" } else { "loihi_lif" },
        if nengo { ", refc" } else { "" },
        if nengo { ", ref, vmin, vmax" } else { "" },
        if e_params.is_empty() { "" } else { ", " },
        e_params
    );
    if !inputs.is_empty() {
        k.push_str(&format!(".input {}\n", inputs.replace("exc", "a")));
    }
    k.push_str("    ; a_in: each port's summed weights shifted by its weight_exp\n");
    sum_ports(&mut k, &ports, None, 0);
    if !nengo {
        k.push_str(
            "    ; u = decay(u, du + 1) + (a_in << 6), then lava's one-step 24-bit wrap
    lds    r3, u
    ldp    r4, ufac
    mulshz r3, r3, r4, 12
    shl    r0, r0, 6
    add    r3, r3, r0
    movi   r5, 8388608
    cmplt  r6, r5, r3
    movi   r7, 16777216
    sub    r8, r3, r7
    sel    r3, r6, r8, r3
    movi   r5, -8388608
    cmple  r6, r3, r5
    add    r8, r3, r7
    sel    r3, r6, r8, r3
    sts    u, r3
    ; v = decay(v, dv) + u + bias, clipped to ±(2^23 − 1)
    lds    r9, v
    ldp    r4, vfac
    mulshz r9, r9, r4, 12
    add    r9, r9, r3
    ldp    r4, bias
    add    r9, r9, r4
    movi   r5, 8388607
    min    r9, r9, r5
    movi   r5, -8388607
    max    r9, r9, r5
    ; spike when v > vth << 6; v = 0 (u is not reset)
    ldp    r4, vth
    cmplt  r6, r4, r9
    spike  r6
    movi   r5, 0
    sel    r9, r6, r5, r9
    sts    v, r9
",
        );
    } else {
        k.push_str(
            "    ; nengo-loihi: q0 = a_in << 6 wrapped to 21 bits + sign
    shl    r0, r0, 6
    wrap   r0, r0, 22
    ; current = decay(current, du, offset 1) + q0, wrapped to 23 bits + sign
    lds    r3, u
    ldp    r4, ufac
    mulshz r3, r3, r4, 12
    add    r3, r3, r0
    wrap   r3, r3, 24
    sts    u, r3
    ; u2 = current + bias, wrapped
    ldp    r4, bias
    add    r5, r3, r4
    wrap   r5, r5, 24
    ; v = clip(decay(v, dv) + u2, vmin, vmax); held at 0 while refractory
    lds    r9, v
    ldp    r4, vfac
    mulshz r9, r9, r4, 12
    add    r9, r9, r5
    ldp    r4, vmin
    max    r9, r9, r4
    ldp    r4, vmax
    min    r9, r9, r4
    lds    r10, refc
    movi   r11, 0
    cmplt  r12, r11, r10
    sel    r9, r12, r11, r9
    ; spike when v > vth; v = 0 and the counter restarts; it counts down to 0
    ldp    r4, vth
    cmplt  r6, r4, r9
    spike  r6
    sel    r9, r6, r11, r9
    sts    v, r9
    ldp    r4, ref
    sel    r10, r6, r4, r10
    addi   r10, r10, -1
    max    r10, r10, r11
    sts    refc, r10
",
        );
    }
    let kernel = assemble(&k).map_err(|e| CompileError::Internal(format!("{e}\n{k}")))?;
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
    let u0: Vec<i32> = initial(pop, "u", &Values::Scalar(0.0)).iter().map(|&x| x as i32).collect();
    let v0: Vec<i32> = initial(pop, "v", &Values::Scalar(0.0)).iter().map(|&x| x as i32).collect();
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
    Ok(Lowered { body: Body::Kernel { kernel, params, state }, ports, vars, quant })
}
