//! Loihi learning rules in lava-nc's grammar (`Loihi2FLearningRule`,
//! `symbolic_equation.py`, `product_series.py` of lava-nc 0.10), parsed as
//! lava parses them (its quirks included: docs/learning.md), and compiled
//! into a kernel that updates one synapse's w, d and t at the end of an
//! epoch with lava's fixed-point arithmetic.

use nerve_isa::instr::{r, Reg};
use nerve_isa::kernel::builder::{Input, KernelBuilder};
use nerve_isa::kernel::Kernel;
use nerve_isa::learning::{At, Operand, SignMode, Trace};

/// A product's dependency: what must have happened in the epoch for it to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dep {
    X0,
    Y0,
    U,
}

/// A factor's variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    X0,
    Y0,
    Trace(Trace),
    /// The synaptic variables: weight, delay tag (tag_2), tag (tag_1).
    W,
    D,
    T,
}

impl Var {
    /// Bits of the factor (its value is clipped to −2^width..2^width − 1).
    fn width(self) -> u32 {
        match self {
            Var::X0 | Var::Y0 => 1,
            Var::Trace(_) => 7,
            Var::W | Var::D | Var::T => 9,
        }
    }
}

/// A factor: `var`, `(var + c)` or `sgn(var + c)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Factor {
    pub var: Var,
    pub konst: i32,
    pub sgn: bool,
}

/// A product of a rule: `mant·2^exp · dep · Π factors`.
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    pub dep: Dep,
    /// u's decimation: 1 every 2^k epochs (products with dependency u).
    pub k: Option<u8>,
    pub mant: i32,
    /// The exponent, −7..=8.
    pub exp: i32,
    pub factors: Vec<Factor>,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Add,
    Sub,
    Mul,
    X0,
    Y0,
    U(u8),
    Var(Var),
    Bracket(Vec<Tok>),
    Sgn(Vec<Tok>),
    /// m·2^e.
    Lit(i64, i32),
}

fn digits(s: &str) -> usize {
    s.bytes().take_while(|b| b.is_ascii_digit()).count()
}

/// A number as Python's `ast.literal_eval` reads it (no leading zeros but 0 itself).
fn number(s: &str) -> Result<i64, String> {
    if s.len() > 1 && s.starts_with('0') {
        return Err(format!("`{s}` is not a number lava reads (leading zero)"));
    }
    s.parse::<i64>().map_err(|_| format!("`{s}` is out of range"))
}

/// An exponent of 2, refused where a 32-bit one would wrap (2^4294967298 was read as 2^2).
fn exponent(e: i64) -> Result<i32, String> {
    i32::try_from(e).map_err(|_| format!("the exponent {e} is out of range"))
}

/// The length of `s` up to its matching closing bracket (s starts with '(').
fn closing(s: &str) -> Result<usize, String> {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
    }
    Err("a bracket is not closed".into())
}

/// Tokens in lava's order of trial (`symbolic_equation.py`).
/// `at` is where `s` starts in the rule without its spaces, `pos` maps such
/// an offset to a character of the rule as written (for errors).
fn tokenize(mut s: &str, at: usize, pos: &dyn Fn(usize) -> usize) -> Result<Vec<Tok>, String> {
    let mut out: Vec<Tok> = Vec::new();
    let mut off = at;
    while !s.is_empty() {
        let b = s.as_bytes();
        let (tok, len) = match b[0] {
            b'+' => (Tok::Add, 1),
            b'-' => (Tok::Sub, 1),
            b'*' => (Tok::Mul, 1),
            _ if s.starts_with("x0") => (Tok::X0, 2),
            _ if s.starts_with("y0") => (Tok::Y0, 2),
            b'u' if b.len() > 1 && b[1].is_ascii_digit() => (Tok::U(b[1] - b'0'), 2),
            _ if s.starts_with("x1") => (Tok::Var(Var::Trace(Trace::X1)), 2),
            _ if s.starts_with("x2") => (Tok::Var(Var::Trace(Trace::X2)), 2),
            _ if s.starts_with("y1") => (Tok::Var(Var::Trace(Trace::Y1)), 2),
            _ if s.starts_with("y2") => (Tok::Var(Var::Trace(Trace::Y2)), 2),
            _ if s.starts_with("y3") => (Tok::Var(Var::Trace(Trace::Y3)), 2),
            b'w' => (Tok::Var(Var::W), 1),
            b'd' => (Tok::Var(Var::D), 1),
            b't' => (Tok::Var(Var::T), 1),
            b'(' => {
                let end = closing(s)?;
                (Tok::Bracket(tokenize(&s[1..end], off + 1, pos)?), end + 1)
            }
            _ if s.starts_with("sgn(") => {
                let end = closing(&s[3..])? + 3;
                (Tok::Sgn(tokenize(&s[4..end], off + 4, pos)?), end + 1)
            }
            c if c.is_ascii_digit() => {
                let n = digits(s);
                let m = &s[..n];
                // m*2^e, 2^e, or m.
                let rest = &s[n..];
                if let Some(after) = rest.strip_prefix("*2^") {
                    let (sign, e0) = match after.as_bytes().first() {
                        Some(b'+') => (1, 1),
                        Some(b'-') => (-1, 1),
                        _ => (1, 0),
                    };
                    let ne = digits(&after[e0..]);
                    if ne > 0 {
                        let e = exponent(number(&after[e0..e0 + ne])? * sign)?;
                        (Tok::Lit(number(m)?, e), n + 3 + e0 + ne)
                    } else {
                        (Tok::Lit(number(m)?, 0), n)
                    }
                } else if m == "2" && rest.starts_with('^') {
                    let after = &rest[1..];
                    let (sign, e0) = match after.as_bytes().first() {
                        Some(b'+') => (1, 1),
                        Some(b'-') => (-1, 1),
                        _ => (1, 0),
                    };
                    let ne = digits(&after[e0..]);
                    if ne == 0 {
                        return Err(format!("cannot read `{s}`"));
                    }
                    let e = exponent(number(&after[e0..e0 + ne])? * sign)?;
                    (Tok::Lit(1, e), n + 1 + e0 + ne)
                } else {
                    (Tok::Lit(number(m)?, 0), n)
                }
            }
            _ => return Err(format!("cannot read `{s}` (symbols: x0 y0 u0-u9 x1 x2 y1 y2 y3 w d t, sgn(), brackets, m*2^e constants)")),
        };
        // lava's grammar joins factors with `*`: "x1 y0" or "x1*y0*" read as x1*y0 would hide a typo.
        // Only lava's own reading of "u12" (u1 times 2) joins two without one.
        let operator = |t: &Tok| matches!(t, Tok::Add | Tok::Sub | Tok::Mul);
        match out.last() {
            Some(Tok::U(_)) if matches!(tok, Tok::Lit(..)) => {}
            Some(p) if !operator(p) && !operator(&tok) => return Err(format!("expected `*` before character {}", pos(off))),
            Some(p) if operator(p) && tok == Tok::Mul => return Err(format!("expected a factor before the `*` at character {}", pos(off))),
            None if tok == Tok::Mul => return Err(format!("expected a factor before the `*` at character {}", pos(off))),
            _ => {}
        }
        out.push(tok);
        s = &s[len..];
        off += len;
    }
    if out.last().is_some_and(|t| matches!(t, Tok::Add | Tok::Sub | Tok::Mul)) {
        return Err(format!("expected a factor after the operator at character {}", pos(off - 1)));
    }
    Ok(out)
}

/// Parses a rule string into its products, as lava does.
pub fn parse(rule: &str) -> Result<Vec<Product>, String> {
    // lava removes spaces only: a tab or line break ended its parse (an
    // AttributeError), and `export lava` hands the string over as it is.
    if let Some((i, c)) = rule.chars().enumerate().find(|&(_, c)| c.is_whitespace() && c != ' ') {
        return Err(format!(
            "rule `{}`: {c:?} at character {}: only spaces may separate a rule's symbols (lava removes spaces only)",
            rule.escape_debug(),
            i + 1
        ));
    }
    let s: String = rule.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Err("an empty rule".into());
    }
    // Character (1-based) of the rule as written for each byte of `s`.
    let chars: Vec<usize> = rule.chars().enumerate().filter(|(_, c)| !c.is_whitespace()).flat_map(|(i, c)| std::iter::repeat_n(i + 1, c.len_utf8())).collect();
    let pos = |off: usize| chars.get(off).copied().unwrap_or(rule.chars().count());
    let toks = tokenize(&s, 0, &pos).map_err(|e| format!("rule `{rule}`: {e}"))?;
    let mut groups: Vec<Vec<Tok>> = Vec::new();
    let mut cur: Vec<Tok> = Vec::new();
    for t in toks {
        match t {
            Tok::Mul => {}
            Tok::Add | Tok::Sub if !cur.is_empty() => {
                groups.push(std::mem::take(&mut cur));
                cur.push(t);
            }
            t => cur.push(t),
        }
    }
    groups.push(cur);
    groups.iter().map(|g| product(g)).collect()
}

fn is_var(t: &Tok) -> bool {
    matches!(t, Tok::Var(_) | Tok::X0 | Tok::Y0 | Tok::U(_))
}

fn var_of(t: &Tok) -> Option<Var> {
    match t {
        Tok::Var(v) => Some(*v),
        Tok::X0 => Some(Var::X0),
        Tok::Y0 => Some(Var::Y0),
        _ => None,
    }
}

fn product(g: &[Tok]) -> Result<Product, String> {
    let (mut dep, mut k, mut mant, mut exp, mut factors) = (None, None, 1i64, 0i32, Vec::new());
    // Checked: a scale of exactly −2^63 has no negation (it panicked, or in a
    // release build wrapped, before the mantissa's range was checked).
    let neg = |m: i64| m.checked_neg().ok_or_else(|| format!("the product's scale {m} is out of range"));
    for t in g {
        match t {
            Tok::Add | Tok::Mul => {}
            Tok::Sub => mant = neg(mant)?,
            Tok::X0 | Tok::Y0 => {
                let d = if *t == Tok::X0 { Dep::X0 } else { Dep::Y0 };
                if dep.is_none() {
                    dep = Some(d);
                } else {
                    factors.push(Factor { var: if d == Dep::X0 { Var::X0 } else { Var::Y0 }, konst: 0, sgn: false });
                }
            }
            Tok::U(d) => {
                k = Some(*d);
                if dep.is_none() {
                    dep = Some(Dep::U);
                }
            }
            Tok::Lit(m, e) => {
                mant = mant.checked_mul(*m).ok_or_else(|| format!("the product's scale {mant}·{m} is out of range"))?;
                exp = exp.checked_add(*e).ok_or("the product's exponent is out of range")?;
            }
            Tok::Var(v) => factors.push(Factor { var: *v, konst: 0, sgn: false }),
            Tok::Bracket(inner) | Tok::Sgn(inner) => {
                let sgn = matches!(t, Tok::Sgn(_));
                let mut sub = inner.clone();
                if !matches!(sub.first(), Some(Tok::Add | Tok::Sub | Tok::Mul)) {
                    sub.insert(0, Tok::Add);
                }
                let mut var: Option<Var> = None;
                let mut konst = 0.0f64;
                let mut negated = false;
                match sub.len() {
                    0..=2 => {
                        let sign = if sub[0] == Tok::Sub { -1 } else { 1 };
                        match sub.get(1) {
                            Some(Tok::Var(v)) => var = Some(*v),
                            Some(Tok::Lit(m, e)) => {
                                mant = m
                                    .checked_mul(sign)
                                    .and_then(|m| mant.checked_mul(m))
                                    .ok_or_else(|| format!("the product's scale {mant}·{m} is out of range"))?;
                                exp = exp.checked_add(*e).ok_or("the product's exponent is out of range")?;
                            }
                            _ => {}
                        }
                    }
                    4 => {
                        let (vs, vi, cs, ci) = if is_var(&sub[1]) && matches!(sub[3], Tok::Lit(..)) {
                            (0, 1, 2, 3)
                        } else if is_var(&sub[3]) && matches!(sub[1], Tok::Lit(..)) {
                            (2, 3, 0, 1)
                        } else {
                            return Err("a bracket must be [+-]var[+-]constant".into());
                        };
                        negated = sub[vs] == Tok::Sub;
                        var = var_of(&sub[vi]);
                        if let Tok::Lit(m, e) = sub[ci] {
                            konst = m as f64 * 2f64.powi(e);
                        }
                        if sub[cs] == Tok::Sub {
                            konst = -konst;
                        }
                        if negated {
                            mant = neg(mant)?;
                            konst = -konst;
                        }
                    }
                    _ => return Err("a bracket must be [+-]var[+-]constant".into()),
                }
                if konst.fract() != 0.0 || konst.abs() > i32::MAX as f64 {
                    return Err(format!("the constant {} in a bracket is not an integer in ±{}", crate::error::num(konst), i32::MAX));
                }
                if sgn {
                    match var {
                        Some(Var::W | Var::D | Var::T) if !negated => {}
                        Some(Var::W | Var::D | Var::T) => return Err("sgn() takes w, d or t, not negated".into()),
                        // `sgn(sgn(w))`, `sgn(x0)`, `sgn(3)`: as lava says.
                        _ => return Err("sgn() can only be applied to w, d or t (a variable alone, plus a constant at most)".into()),
                    }
                }
                if let Some(v) = var {
                    factors.push(Factor { var: v, konst: konst as i32, sgn });
                }
            }
        }
    }
    while mant.unsigned_abs() > 7 && mant % 2 == 0 && exp < 8 {
        mant /= 2;
        exp += 1;
    }
    let dep = dep.ok_or("a product has no dependency (x0, y0 or u0-u9)")?;
    if k.is_some() && dep != Dep::U {
        return Err("a u term in a product whose dependency is not u".into());
    }
    if !(-8..8).contains(&mant) {
        return Err(format!("the scale's mantissa {mant} is outside -8..7"));
    }
    if !(-7..9).contains(&exp) {
        return Err(format!("the scale's exponent {exp} is outside -7..8"));
    }
    Ok(Product { dep, k, mant: mant as i32, exp, factors })
}

/// The u decimation all of a rule's products share (lava requires one k).
pub fn decimation(rules: &[&[Product]]) -> Result<Option<u8>, String> {
    let mut k: Option<u8> = None;
    for p in rules.iter().flat_map(|r| r.iter()) {
        if let Some(x) = p.k {
            if k.is_some_and(|y| y != x) {
                return Err(format!("u{x} and u{} in one rule: lava allows one decimation", k.unwrap_or(0)));
            }
            k = Some(x);
        }
    }
    Ok(k)
}

/// The largest bracket constant a learning program adds as it is.
const KONST_HELD: i32 = 1 << 16;

/// The program a rule runs per synapse: dw, dd and dt in that order, each
/// from the variables' values before the epoch's update (state slots 0, 1,
/// 2: w, d = tag_2, t = tag_1); its operands in port order.
pub fn program(dw: &[Product], dd: &[Product], dt: &[Product], sign_mode: SignMode) -> Result<(Kernel, Vec<Operand>), String> {
    let mut b = KernelBuilder::new("loihi_learning");
    let slots = [b.state("w"), b.state("d"), b.state("t")];
    // Operands are ports in order of first use.
    let mut ops: Vec<Operand> = Vec::new();
    let mut used = |o: Operand| -> u8 {
        match ops.iter().position(|x| *x == o) {
            Some(i) => i as u8,
            None => {
                ops.push(o);
                (ops.len() - 1) as u8
            }
        }
    };
    // A first pass names every operand, so that ports are declared before the code.
    let dep_op = |d: Dep| match d {
        Dep::X0 => Operand::X0,
        Dep::Y0 => Operand::Y0,
        Dep::U => Operand::U,
    };
    let at = |d: Dep| match d {
        Dep::X0 => At::Pre,
        Dep::Y0 => At::Post,
        Dep::U => At::End,
    };
    let factor_op = |f: &Factor, d: Dep| -> Option<Operand> {
        match f.var {
            Var::X0 => Some(Operand::X0),
            Var::Y0 => Some(Operand::Y0),
            Var::Trace(q) => Some(Operand::Trace(q, at(d))),
            Var::W | Var::D | Var::T => None,
        }
    };
    let rules = [dw, dd, dt];
    for rule in rules {
        for p in rule {
            used(dep_op(p.dep));
            for f in &p.factors {
                if let Some(o) = factor_op(f, p.dep) {
                    used(o);
                }
            }
        }
    }
    if rules.iter().any(|r| !r.is_empty()) {
        used(Operand::Round);
    }
    if ops.len() > nerve_isa::instr::MAX_INPUT_PORTS {
        return Err(format!(
            "the rule reads {} operands (dependencies, traces at their times); a learning program has {} inputs",
            ops.len(),
            nerve_isa::instr::MAX_INPUT_PORTS
        ));
    }
    let inputs: Vec<Input> = (0..ops.len()).map(|i| b.input(&format!("op{i}"))).collect();
    // invariant: the first pass above calls used() on every operand the code below reads (the same loops over the same rules)
    let port = |o: Operand| inputs[ops.iter().position(|x| *x == o).expect("every operand read was declared by the first pass")];
    let old = [r(13), r(14), r(15)];
    let zero = r(12);
    b.movi(zero, 0);
    for (s, reg) in slots.iter().zip(old) {
        b.lds(reg, *s);
    }
    let clamp = |b: &mut KernelBuilder, x: Reg, lo: i32, hi: i32| {
        b.movi(r(3), lo).max(x, x, r(3)).movi(r(3), hi).min(x, x, r(3));
    };
    for (target, rule) in rules.iter().enumerate() {
        if rule.is_empty() {
            continue;
        }
        // acc = S << 7 (the accumulator's unit is 2^-7 of the variable).
        b.shl(r(0), old[target], 7);
        for p in rule.iter() {
            b.ldin(r(1), port(dep_op(p.dep)));
            let mut wsum = 0u32;
            for f in &p.factors {
                wsum += f.var.width();
                match factor_op(f, p.dep) {
                    Some(o) => {
                        b.ldin(r(2), port(o));
                    }
                    None => {
                        let src = match f.var {
                            Var::W => old[0],
                            Var::D => old[1],
                            _ => old[2],
                        };
                        b.mov(r(2), src);
                    }
                }
                if f.konst != 0 {
                    // lava adds the constant and clips the sum to the factor's
                    // width (bench/learning/lava/SPEC.md §5.5: no bound on the
                    // constant), in the variable's numpy type: `weights` are
                    // int32, so w + c wraps there as `addi` does (lava-nc 0.10:
                    // (w+2147483600) is negative for w > 47); tags and traces
                    // are int64 and never wrap. Every variable lies within
                    // ±2^10, so for those a constant beyond ±2^16 clips (and
                    // signs) as ±2^16 does.
                    let konst = if f.var == Var::W { f.konst } else { f.konst.clamp(-KONST_HELD, KONST_HELD) };
                    b.addi(r(2), r(2), konst);
                }
                if f.sgn {
                    b.cmplt(r(3), zero, r(2)).cmplt(r(4), r(2), zero).sub(r(2), r(3), r(4));
                }
                b.sat(r(2), r(2), (f.var.width() + 1) as u8);
                b.mul(r(1), r(1), r(2));
            }
            wsum += 4;
            b.movi(r(2), p.mant).mul(r(1), r(1), r(2));
            let mut sh = wsum.saturating_sub(15);
            while sh > 0 {
                let s = sh.min(31);
                b.shr(r(1), r(1), s as u8);
                sh -= s;
            }
            let e7 = (p.exp + 7) as u8;
            if e7 > 0 {
                b.shl(r(1), r(1), e7);
            }
            clamp(&mut b, r(1), -32769, 32767);
            b.add(r(0), r(0), r(1));
            clamp(&mut b, r(0), -32769, 32767);
        }
        // Sign saturation of the accumulator.
        match (target, sign_mode) {
            (0, SignMode::Excitatory) | (1, _) => {
                b.max(r(0), r(0), zero);
            }
            (0, SignMode::Inhibitory) => {
                b.min(r(0), r(0), zero);
            }
            _ => {}
        }
        // Stochastic rounding to the variable's unit: up when the epoch's
        // 7-bit random number is below the 7 fractional bits.
        b.movi(r(3), 127).and(r(4), r(0), r(3)).ldin(r(5), port(Operand::Round)).cmplt(r(6), r(5), r(4));
        b.shr(r(0), r(0), 7).add(r(0), r(0), r(6));
        let (lo, hi) = match (target, sign_mode) {
            (0, SignMode::Mixed) => (-256, 255),
            (0, SignMode::Excitatory) => (0, 255),
            (0, SignMode::Inhibitory) => (-255, 0),
            (1, _) => (0, 255),
            _ => (-257, 255),
        };
        clamp(&mut b, r(0), lo, hi);
        b.sts(slots[target], r(0));
    }
    let k = b.finish().map_err(|e| format!("learning program: {e}"))?;
    Ok((k, ops))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Shown = Vec<(Dep, i32, i32, Vec<(Var, i32, bool)>)>;

    /// A bracket constant as lava applies it: the variable plus the constant,
    /// clipped to the factor's width (as sgn takes its sign), for every value
    /// the variable can hold. The sum is lava's numpy type's: int32 for
    /// `w` (wrapping: lava-nc 0.10 gave weights 76 and 230 where nerve gave
    /// 124 and 255 for `u0*2^-7*(w+2147483600)`), int64 for `d` and `t`
    /// (whose sums never wrap, where the program's 32-bit add would).
    #[test]
    fn bracket_constants_clip_as_lava_does() {
        use nerve_isa::opcode::Opcode;
        use nerve_isa::semantics::sat;
        // The sum as lava's numpy type gives it: wrapped in 32 bits (w) or not (d, t).
        type Sum = fn(i32, i64) -> i64;
        let int32: Sum = |v, c| (v as i64 + c) as i32 as i64;
        let int64: Sum = |v, c| v as i64 + c;
        let cases: [(&str, i64, Sum); 8] = [
            ("x0*(w+2147483647)", 2147483647i64, int32),
            ("x0*(w-2147483647)", -2147483647, int32),
            ("x0*sgn(w-2000000000)", -2000000000, int32),
            ("x0*(w+2147483600)", 2147483600, int32),
            ("x0*(w-64)", -64, int32),
            ("x0*(d+2147483647)", 2147483647, int64),
            ("x0*sgn(t-2147483647)", -2147483647, int64),
            ("x0*(t+100)", 100, int64),
        ];
        for (rule, konst, sum) in cases {
            let (k, _) = program(&parse(rule).unwrap(), &[], &[], SignMode::Mixed).unwrap();
            let adds: Vec<i32> = k.code.iter().filter(|i| i.op == Opcode::Addi).map(|i| i.imm).collect();
            assert_eq!(adds.len(), 1, "{rule}: {adds:?}");
            for v in -1024i32..=1024 {
                let exact = sum(v, konst).clamp(-(1 << 9), (1 << 9) - 1);
                let ours = sat(v.wrapping_add(adds[0]), 10) as i64;
                if rule.contains("sgn") {
                    assert_eq!(exact.signum(), ours.signum(), "{rule} at {v}");
                } else {
                    assert_eq!(exact, ours, "{rule} at {v}");
                }
            }
        }
    }

    fn show(s: &str) -> Shown {
        parse(s).unwrap().into_iter().map(|p| (p.dep, p.mant, p.exp, p.factors.iter().map(|f| (f.var, f.konst, f.sgn)).collect())).collect()
    }

    /// Spaces go; any other whitespace is refused, as lava's parser fails on it.
    #[test]
    fn only_spaces_separate_symbols() {
        assert!(parse(" 2^-2 * x1*y0 - 2^-2*y1*x0 ").is_ok());
        for (rule, at) in
            [("2^-2*x1*y0\t- 2^-2*y1*x0", "'\\t' at character 11"), ("x0*y1\n", "'\\n' at character 6"), ("x0*\u{a0}y1", "'\\u{a0}' at character 4")]
        {
            let e = parse(rule).unwrap_err();
            assert!(e.contains(at) && e.contains("only spaces"), "{rule:?}: {e}");
        }
    }

    /// A misused sgn() is named for what is wrong ("not negated" was said of `sgn(sgn(w))`).
    #[test]
    fn sgn_misuse_says_what_is_wrong() {
        assert!(parse("x0*sgn(w)").is_ok());
        assert!(parse("x0*sgn(3-w)").unwrap_err().contains("not negated"));
        for rule in ["x0*sgn(sgn(w))", "x0*sgn(x1)", "x0*sgn(3)"] {
            let e = parse(rule).unwrap_err();
            assert!(e.contains("can only be applied to w, d or t") && !e.contains("negated"), "{rule}: {e}");
        }
    }

    /// The parses lava itself gives (lava-nc 0.10, checked with its parser).
    #[test]
    fn parses_as_lava() {
        use Var::Trace as Tr;
        assert_eq!(
            show("2^-2*x1*y0 - 2^-2*y1*x0"),
            vec![(Dep::Y0, 1, -2, vec![(Tr(Trace::X1), 0, false)]), (Dep::X0, -1, -2, vec![(Tr(Trace::Y1), 0, false)])]
        );
        assert_eq!(
            show("(1) * (-2) * x0 * y1 +(1) * (2) * y0 * x1"),
            vec![(Dep::X0, -2, 0, vec![(Tr(Trace::Y1), 0, false)]), (Dep::Y0, 2, 0, vec![(Tr(Trace::X1), 0, false)])]
        );
        assert_eq!(show("16*x0*y1"), vec![(Dep::X0, 4, 2, vec![(Tr(Trace::Y1), 0, false)])]);
        assert_eq!(show("x0*(3-y1)"), vec![(Dep::X0, -1, 0, vec![(Tr(Trace::Y1), -3, false)])]);
        assert_eq!(show("x0*(2*x1)"), vec![(Dep::X0, 1, 0, vec![(Tr(Trace::X1), 2, false)])]);
        assert_eq!(show("u1*sgn(w)*2^-1"), vec![(Dep::U, 1, -1, vec![(Var::W, 0, true)])]);
        assert_eq!(show("x0*y0*y1"), vec![(Dep::X0, 1, 0, vec![(Var::Y0, 0, false), (Tr(Trace::Y1), 0, false)])]);
        assert_eq!(show("x0*(-y1)"), vec![(Dep::X0, 1, 0, vec![(Tr(Trace::Y1), 0, false)])]);
        assert_eq!(parse("u12*x1").unwrap()[0].mant, 2);
        for bad in ["x1*y1", "x0*-y1", "9*x0", "x0*2^9", "x0*2^-8", "u*x1", "x3*x0", "x0*08", ""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        // Factors are joined by `*`: a missing, doubled, leading or trailing one is an error naming the rule and where.
        for (bad, want) in [
            ("x1 y0", "rule `x1 y0`: expected `*` before character 4"),
            ("x1*y0*", "rule `x1*y0*`: expected a factor after the operator at character 6"),
            ("x1**y0", "expected a factor before the `*` at character 4"),
            ("*x1*y0", "expected a factor before the `*` at character 1"),
            ("x0*(y1 2)", "rule `x0*(y1 2)`: expected `*` before character 8"),
            ("2^-2*x1*y0 -", "expected a factor after the operator at character 12"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }
}
