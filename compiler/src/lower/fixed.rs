//! Fixed-point helpers the models share: factors with a shift, decays,
//! rounding to 32 bits, initial values, and the kernel prologue that sums a
//! population's input ports.

use nerve_isa::instr::{r, Reg};
use nerve_isa::kernel::builder::{Input, KernelBuilder, Param};

use super::quant::Port;
use super::{bad, ParamVals};
use crate::error::Result;
use crate::net::model::*;
use crate::rng::{stream, Rng};

/// Fixed-point factors: the largest shift in 1..=62 with |f|·2^sh ≤ 2^30;
/// None if some |f| exceeds 2^29 or is not a number.
pub fn fixed(f: &[f64]) -> Option<(Vec<i32>, u8)> {
    let m = f.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    // A NaN (max skips it) became a factor of 0: `lif`'s excitatory current
    // was dropped for tau_m = 1e308, tau_syn_E = 1e300 (∞ · 0).
    if !m.is_finite() || f.iter().any(|x| x.is_nan()) {
        return None;
    }
    let mut sh: i32 = if m == 0.0 { 30 } else { 30 - m.log2().ceil() as i32 };
    sh = sh.clamp(1, 62);
    if m * 2f64.powi(sh) > 2f64.powi(30) + 0.5 {
        return None;
    }
    Some((f.iter().map(|x| (x * 2f64.powi(sh)).round() as i32).collect(), sh as u8))
}

/// Why [`fixed`] refuses `f`, value and limit named (the message said
/// "out of the fixed-point range" alone, for r = 1e300 as for a NaN).
pub fn out_of_range(f: &[f64]) -> String {
    if let Some(x) = f.iter().find(|x| !x.is_finite()) {
        return format!("{x} is not a finite number");
    }
    let m = f.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    format!("its largest value, {}, is past the {} (2^29) a 32-bit factor holds", crate::error::num(m), crate::error::num(2f64.powi(29)))
}

/// What a kernel knows of a state's sign (from the weights feeding it and
/// its initial values), for [`Decay::emit_to_zero_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed {
    NonNegative,
    NonPositive,
    Either,
}

/// How a decay `out ← f·x` (f per neuron) is computed; `plan` chooses.
///
/// When every f is in [0.5, 1] the parameter is the factor's complement
/// c = −round((1 − f)·2^32), which fits 32 bits, and
/// `out = x + mulshr(x, c, 32)` = round-half-up(x·(1 + c/2^32)): the same
/// rounding as a plain `mulshr`, 32 fractional bits instead of 30, and the
/// multiply–shift takes the product's high word as it is (no 64-bit shift:
/// one vector instruction fewer per decay in the JIT). When every f is in
/// [0, 1], some below 1/2 and some not, the complement with 31 fractional bits
/// (c = −round((1 − f)·2^31) fits down to f = 0): the kernel is one
/// program for the population, and the `Shift` form's truncation towards 0
/// in [`Decay::emit_to_zero`] took 0.5/(1 − f) LSB a step from every
/// neuron's current for the sake of one fast neuron (a 5 ms current beside
/// a 0.1 ms one: its mean −11% instead of −3%). Otherwise (every f below
/// 1/2, or some outside [0, 1]) `mulshr` with `fixed`'s shift.
///
/// A variable that decays to 0 (a synaptic current, an adaptive threshold)
/// uses [`Decay::emit_to_zero`] instead: rounded to nearest, every
/// |x| ≤ 0.5/(1 − f) LSB is a fixed point of x·f (25 LSBs at dt/τ = 0.02,
/// 500 at τ = 100 ms, dt 0.1), so a current never reached 0 and `if`
/// integrated the remainder for ever.
#[derive(Clone, Copy, Debug)]
pub enum Decay {
    /// The complement with this many fractional bits (32 or 31).
    Complement(u8),
    Shift(u8),
}

impl Decay {
    /// The decay's form and its parameter's values.
    pub fn plan(pop: &Population, what: &str, f: &[f64]) -> Result<(Decay, ParamVals)> {
        let sh = if f.iter().all(|&f| (0.5..=1.0).contains(&f)) {
            Some(32)
        } else if f.iter().all(|&f| (0.0..=1.0).contains(&f)) && f.iter().any(|&f| f >= 0.5) {
            Some(31)
        } else {
            None
        };
        if let Some(sh) = sh {
            let c: Vec<i32> = f.iter().map(|&f| (-((1.0 - f) * 2f64.powi(sh as i32)).round()).max(i32::MIN as f64) as i32).collect();
            return Ok((Decay::Complement(sh), ParamVals::from_vec(c)));
        }
        let (q, sh) = fixed(f).ok_or_else(|| bad(pop, format!("{what} is out of the fixed-point range: {}", out_of_range(f))))?;
        Ok((Decay::Shift(sh), ParamVals::from_vec(q)))
    }
    /// `out ← f·x`, loading the factor into r5, with `tmp` as scratch (may
    /// equal `out`). For a variable that decays towards a nonzero level (v,
    /// towards v_rest through c0), where rounding to nearest is unbiased and
    /// its dead band only moves the level by at most 0.5/(1 − f) LSB.
    pub fn emit(self, b: &mut KernelBuilder, param: Param, x: Reg, tmp: Reg, out: Reg) {
        b.ldp(r(5), param);
        match self {
            Decay::Complement(sh) => {
                b.mulshr(tmp, x, r(5), sh).add(out, x, tmp);
            }
            Decay::Shift(sh) => {
                b.mulshr(out, x, r(5), sh);
            }
        }
    }
    /// `out ← f·x` for a variable that must reach 0, loading the factor into
    /// r5, with `d` and `t` as scratch (neither may be `x`; `out` may be `x`).
    ///
    /// Rounded to nearest, but never less than one LSB towards 0: where the
    /// rounded decrement is 0 (|x|·(1 − f) < 1/2) x moves to x − sgn(x),
    /// as x + d clamped to [min(x + 1, 0), max(x − 1, 0)] (exact for every
    /// x, i32::MIN and MAX included). Truncating x·f towards 0 (Loihi's
    /// rule) also always contracts in one instruction instead of nine, but
    /// it takes half an LSB a step on average from
    /// every current, a bias of 0.5/(1 − f) LSBs under a steady drive: the
    /// mean of a current fed 105 LSBs every 10 steps (0.001 nA at PyNN's
    /// defaults) fell by 4.8%, one spike's charge at dt 0.01 ms by 15%.
    /// Rounding to nearest is unbiased while |x| is large and only the
    /// tail, once below 0.5/(1 − f) LSB, ends early (0.0% and 3.9% there).
    ///
    /// Where every f < 1/2 or some f is outside [0, 1] (the `Shift` form)
    /// x·f is truncated towards 0: it always contracts, and for f < 1/2 the
    /// bias it adds stays below an LSB (0.5/(1 − f) < 1). A population
    /// mixing f < 1/2 with f ≥ 1/2 rounds all to nearest (31-bit
    /// complement): the fast ones contract anyway, the slow ones keep their
    /// unbiased rounding.
    pub fn emit_to_zero(self, b: &mut KernelBuilder, param: Param, x: Reg, d: Reg, t: Reg, out: Reg) {
        self.emit_to_zero_with(b, param, x, d, t, out, None, Signed::Either);
    }

    /// [`Decay::emit_to_zero`] with `zero`, if given, a register the
    /// caller keeps at 0 (one instruction fewer than loading it), and what
    /// the caller knows of x's sign: a state that never changes sign needs
    /// one side of the clamp only (three instructions fewer).
    #[allow(clippy::too_many_arguments)]
    pub fn emit_to_zero_with(self, b: &mut KernelBuilder, param: Param, x: Reg, d: Reg, t: Reg, out: Reg, zero: Option<Reg>, sign: Signed) {
        b.ldp(r(5), param);
        match self {
            Decay::Complement(sh) => {
                // x + d clamped to [min(x + 1, 0), max(x − 1, 0)]: the same
                // value as "x − sgn(x) where d = 0", in ALU operations only
                // (a vector JIT lowers a 32×32→64 multiply to many).
                b.mulshr(d, x, r(5), sh).add(d, x, d);
                let zero = zero.unwrap_or_else(|| {
                    b.movi(r(5), 0);
                    r(5)
                });
                // Were x of the other sign after all, the one-sided clamp
                // leaves x + d as it is: rounding to nearest, never worse.
                match sign {
                    Signed::NonNegative => b.addi(t, x, -1).max(t, t, zero).min(out, d, t),
                    Signed::NonPositive => b.addi(t, x, 1).min(t, t, zero).max(out, d, t),
                    Signed::Either => b.addi(t, x, -1).max(t, t, zero).min(d, d, t).addi(t, x, 1).min(t, t, zero).max(out, d, t),
                };
            }
            Decay::Shift(sh) => {
                b.mulshz(out, x, r(5), sh);
            }
        }
    }
}

/// `x` to six significant digits, for a message.
pub fn approx(x: f64) -> String {
    crate::error::num(format!("{x:.5e}").parse().unwrap_or(x))
}

/// `value` (in `unit`) as an integer in steps of 1/`per_unit`, or an error
/// naming it in its own unit and the range the fixed point holds (it
/// quoted the fixed-point integer: `c = 65536000000`).
pub fn to_fixed(pop: &Population, what: &str, value: f64, per_unit: f64, unit: &str) -> Result<i32> {
    let r = (value * per_unit).round();
    if !(r.is_finite() && r >= i32::MIN as f64 && r <= i32::MAX as f64) {
        let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
        if !value.is_finite() {
            // ("bias = NaN does not fit … use smaller values")
            return Err(bad(pop, format!("{what} = {} is not a finite number", crate::error::num(value))));
        }
        return Err(bad(
            pop,
            format!(
                "{what} = {}{unit} does not fit its 32-bit fixed point, which holds ±{}{unit} (steps of {}{unit}); use smaller values",
                crate::error::num(value),
                approx(2f64.powi(31) / per_unit),
                approx(1.0 / per_unit)
            ),
        ));
    }
    Ok(r as i32)
}

/// Initial values of variable `name` (physical), or the default.
pub fn initial(pop: &Population, name: &str, default: &Values) -> Vec<f64> {
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

/// Initial values of an integer variable (`loihi_lif`'s u and v): given
/// values as they are (checked whole by the front end), a uniform draw as
/// integers spread evenly over lo..=hi. A float draw cut toward zero gave
/// [-3, 3] as -2..=2 with 0 twice as often, and [0, 1] as all 0.
pub fn initial_int(pop: &Population, name: &str, default: &Values) -> Vec<i32> {
    match pop.initial.iter().find(|(k, _)| k == name) {
        Some((_, Init::Uniform { lo, hi, seed })) => {
            let (lo, hi) = (lo.ceil(), hi.floor());
            let mut r = Rng::new(*seed, stream::INITIAL);
            (0..pop.size as usize).map(|_| (lo + ((hi - lo + 1.0) * r.f64()).floor()).min(hi) as i32).collect()
        }
        _ => initial(pop, name, default).iter().map(|&x| x as i32).collect(),
    }
}

/// Declares a population's input ports: each port's exponent parameter
/// (`e0`, `e1`, …, after the model's own parameters) and its input
/// (`{exc}0` for excitatory ports, `inh1` for inhibitory ones).
pub fn declare_ports(b: &mut KernelBuilder, ports: &[Port], exc: &str) -> (Vec<Param>, Vec<Input>) {
    let exps = (0..ports.len()).map(|i| b.param(&format!("e{i}"))).collect();
    let inputs = ports.iter().enumerate().map(|(i, p)| b.input(&format!("{}{}", if p.receptor == Receptor::Excitatory { exc } else { "inh" }, i))).collect();
    (exps, inputs)
}

/// The port-summing prologue with lava's shift: `dst ← Σ shv(in_p, e_p)`
/// over the ports of receptor `rc` (all ports for `None`), a negative
/// exponent flooring the sum (⌊x/2^−e⌋, as lava applies `weight_exp`).
/// Only `loihi_lif`, whose integers are lava's, uses it; scaled weights go
/// through [`sum_ports_clamped`], which rounds. Uses r12–r13 as scratch.
pub fn sum_ports(b: &mut KernelBuilder, ports: &[Port], exps: &[Param], inputs: &[Input], rc: Option<Receptor>, dst: Reg) {
    sum_ports_with(b, ports, exps, inputs, rc, dst, &[], false);
}

/// The port-summing prologue for scaled (physical) weights: each port's
/// input saturated to `clamp[p]` bits (if any), then shifted by its
/// exponent, a negative one rounding half up (2^(−e−1) added before the
/// shift, one `addi` per such port): floored, every excitatory spike lost
/// and every inhibitory one gained half an LSB on average, and a weight
/// below an LSB delivered 0 in one sign and −1 LSB in the other (−1e-7 nA
/// arrived as −1.9e-6). [`ProjQuant::delivered`](super::quant::ProjQuant::delivered)
/// is the same rounding.
pub fn sum_ports_clamped(b: &mut KernelBuilder, ports: &[Port], exps: &[Param], inputs: &[Input], rc: Option<Receptor>, dst: Reg, clamp: &[Option<u8>]) {
    sum_ports_with(b, ports, exps, inputs, rc, dst, clamp, true);
}

#[allow(clippy::too_many_arguments)]
fn sum_ports_with(b: &mut KernelBuilder, ports: &[Port], exps: &[Param], inputs: &[Input], rc: Option<Receptor>, dst: Reg, clamp: &[Option<u8>], round: bool) {
    let mut first = true;
    for (i, p) in ports.iter().enumerate() {
        if rc.is_some_and(|rc| p.receptor != rc) {
            continue;
        }
        let tgt = if first { dst } else { r(12) };
        b.ldin(tgt, inputs[i]);
        if let Some(&Some(bits)) = clamp.get(i) {
            b.sat(tgt, tgt, bits);
        }
        // At most 2^30 (exponents are ≥ −31): it wraps only a sum already within that of wrapping.
        if round && p.exp < 0 {
            b.addi(tgt, tgt, 1i32 << (-(p.exp as i32) - 1).min(30));
        }
        b.ldp(r(13), exps[i]).shv(tgt, tgt, r(13));
        if !first {
            b.add(dst, dst, r(12));
        }
        first = false;
    }
    if first {
        b.movi(dst, 0);
    }
}

/// A kernel the compiler built, or an internal error (the builder refused it).
pub fn finish(pop: &Population, b: KernelBuilder) -> Result<nerve_isa::kernel::Kernel> {
    b.finish().map_err(|e| crate::error::CompileError::Internal(format!("population `{}`: kernel: {e}", pop.name)))
}

#[cfg(test)]
mod tests {
    /// A NaN factor is refused, not rounded to 0 (`f64::max` skips it: a
    /// current whose factor was ∞ · 0 was dropped without a word).
    #[test]
    fn a_nan_or_infinite_factor_is_refused() {
        assert_eq!(super::fixed(&[0.5, 0.25]), Some((vec![1 << 30, 1 << 29], 31)));
        assert_eq!(super::fixed(&[0.5, f64::NAN]), None);
        assert_eq!(super::fixed(&[f64::NAN]), None);
        assert_eq!(super::fixed(&[f64::INFINITY, 0.5]), None);
    }
}
