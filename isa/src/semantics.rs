//! The arithmetic of the neuron processor, written out once.
//!
//! Every opcode whose result is not a plain wrapping 32-bit operation is defined by
//! one function here. The interpreter calls these functions; the JIT is tested
//! against them on edge values. docs/isa.md restates each definition in prose.
//!
//! Conventions that hold for every function:
//! - Registers, state, parameters and inputs are `i32`, two's complement.
//! - "wrap" means: keep the low 32 bits of the exact result (two's complement).
//! - Intermediate products are exact in `i64` (|a·b| ≤ 2^62 for 32-bit a, b).
//! - Shift amounts are validated when an instruction is decoded, so these
//!   functions may assume them in range and say so.

/// `mulsh`: floor(a·b / 2^sh), wrapped to 32 bits. `sh` in 0..=63.
///
/// The product is exact in i64; the shift is arithmetic, so negative products
/// round toward −∞ (e.g. `mulsh(-3, 1, 1) == -2`).
#[inline]
pub fn mulsh(a: i32, b: i32, sh: u8) -> i32 {
    debug_assert!(sh <= 63);
    ((a as i64 * b as i64) >> sh) as i32
}

/// `mulshr`: round-half-up(a·b / 2^sh), wrapped to 32 bits. `sh` in 1..=62.
///
/// Computed as floor((a·b + 2^(sh−1)) / 2^sh); the addition cannot overflow i64
/// because |a·b| ≤ 2^62 and 2^(sh−1) ≤ 2^61. Ties round toward +∞
/// (`mulshr(-1, 1, 1) == 0`, `mulshr(1, 1, 1) == 1`).
#[inline]
pub fn mulshr(a: i32, b: i32, sh: u8) -> i32 {
    debug_assert!((1..=62).contains(&sh));
    ((a as i64 * b as i64 + (1i64 << (sh - 1))) >> sh) as i32
}

/// `mulshz`: sgn(a·b)·(|a·b| >> sh), wrapped to 32 bits: rounds toward zero.
/// `sh` in 0..=63. This is Loihi's decay rounding (`sgn(u·f)·(|u·f| >> 12)`).
#[inline]
pub fn mulshz(a: i32, b: i32, sh: u8) -> i32 {
    debug_assert!(sh <= 63);
    let p = a as i64 * b as i64;
    // |p| ≤ 2^62, so the negation cannot overflow.
    let m = p.abs() >> sh;
    (if p < 0 { -m } else { m }) as i32
}

/// `shl`: a << sh, wrapped (bits shifted past bit 31 are lost). `sh` in 0..=31.
#[inline]
pub fn shl(a: i32, sh: u8) -> i32 {
    debug_assert!(sh <= 31);
    ((a as u32) << sh) as i32
}

/// `shr`: arithmetic a >> sh (rounds toward −∞; −1 >> k == −1). `sh` in 0..=31.
#[inline]
pub fn shr(a: i32, sh: u8) -> i32 {
    debug_assert!(sh <= 31);
    a >> sh
}

/// `shv`: shift by a signed register amount b.
/// - b ≥ 32: 0. 0 ≤ b ≤ 31: a << b, wrapped.
/// - −31 ≤ b < 0: arithmetic a >> −b. b ≤ −32: a >> 31 (0 or −1, the sign).
///
/// This is the shift lava applies to a summed input with `weight_exp`, and the
/// one used for `bias_mant << bias_exp`.
#[inline]
pub fn shv(a: i32, b: i32) -> i32 {
    if b >= 32 {
        0
    } else if b >= 0 {
        ((a as u32) << b) as i32
    } else if b >= -31 {
        a >> (-b)
    } else {
        a >> 31
    }
}

/// `wrap`: sign-wrap to `bits` bits: the unique value congruent to a modulo
/// 2^bits in [−2^(bits−1), 2^(bits−1)). `bits` in 1..=32 (32 is the identity).
#[inline]
pub fn wrap(a: i32, bits: u8) -> i32 {
    debug_assert!((1..=32).contains(&bits));
    let s = 32 - bits as u32;
    ((a as u32) << s) as i32 >> s
}

/// `sat`: clamp to the signed range of `bits` bits, [−2^(bits−1), 2^(bits−1)−1].
/// `bits` in 1..=32 (32 is the identity).
#[inline]
pub fn sat(a: i32, bits: u8) -> i32 {
    debug_assert!((1..=32).contains(&bits));
    let hi = ((1i64 << (bits - 1)) - 1) as i32;
    let lo = (-(1i64 << (bits - 1))) as i32;
    a.clamp(lo, hi)
}

/// `abs`: |a| wrapped, so `abs(i32::MIN) == i32::MIN`.
#[inline]
pub fn abs(a: i32) -> i32 {
    a.wrapping_abs()
}

/// `rand`: one step of Marsaglia's xorshift32 (shifts 13, 17, 5; the right
/// shift is logical) on the 32-bit pattern of `x`. Zero maps to zero, so
/// generators are seeded non-zero by the compiler.
#[inline]
pub fn xorshift32(x: i32) -> i32 {
    let mut x = x as u32;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x as i32
}

/// Boolean results of compare instructions: 1 for true, 0 for false.
#[inline]
pub fn flag(b: bool) -> i32 {
    b as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_of_negatives() {
        assert_eq!(shr(-1, 31), -1);
        assert_eq!(shr(-5, 1), -3);
        assert_eq!(shr(i32::MIN, 31), -1);
        assert_eq!(shl(i32::MIN, 1), 0);
        assert_eq!(shl(-1, 31), i32::MIN);
        assert_eq!(shl(0x4000_0000, 1), i32::MIN);
        assert_eq!(shv(-5, -1), -3);
        assert_eq!(shv(-5, -40), -1);
        assert_eq!(shv(5, -40), 0);
        assert_eq!(shv(5, 32), 0);
        assert_eq!(shv(5, i32::MAX), 0);
        assert_eq!(shv(-5, i32::MIN), -1);
        assert_eq!(shv(3, 30), i32::MIN + (1 << 30));
    }

    #[test]
    fn mul_roundings() {
        assert_eq!(mulsh(-3, 1, 1), -2);
        assert_eq!(mulshz(-3, 1, 1), -1);
        assert_eq!(mulshr(-3, 1, 1), -1);
        assert_eq!(mulshr(-1, 1, 1), 0);
        assert_eq!(mulshr(1, 1, 1), 1);
        assert_eq!(mulsh(i32::MIN, i32::MIN, 63), 0);
        assert_eq!(mulsh(i32::MIN, i32::MIN, 62), 1);
        assert_eq!(mulshz(i32::MIN, i32::MAX, 63), 0);
        assert_eq!(mulsh(i32::MIN, i32::MAX, 63), -1);
        assert_eq!(mulshr(i32::MIN, i32::MIN, 62), 1);
        // wrap of an over-wide quotient
        assert_eq!(mulsh(i32::MAX, i32::MAX, 0), 1);
        // Loihi decay, rounding toward zero
        assert_eq!(mulshz(-4097, 4095, 12), -4095);
        assert_eq!(mulsh(-4097, 4095, 12), -4096);
    }

    #[test]
    fn wrap_and_sat_edges() {
        assert_eq!(wrap(1 << 23, 24), -(1 << 23));
        assert_eq!(wrap(-(1 << 23) - 1, 24), (1 << 23) - 1);
        assert_eq!(wrap(i32::MIN, 32), i32::MIN);
        assert_eq!(wrap(1, 1), -1);
        assert_eq!(wrap(2, 1), 0);
        assert_eq!(sat(i32::MAX, 24), (1 << 23) - 1);
        assert_eq!(sat(i32::MIN, 24), -(1 << 23));
        assert_eq!(sat(5, 1), 0);
        assert_eq!(sat(-5, 1), -1);
        assert_eq!(sat(i32::MIN, 32), i32::MIN);
        assert_eq!(abs(i32::MIN), i32::MIN);
    }

    #[test]
    fn xorshift_known_values() {
        // First outputs of Marsaglia's xorshift32 from seed 1 (13/17/5 triple).
        assert_eq!(xorshift32(1) as u32, 270_369);
        assert_eq!(xorshift32(270_369) as u32, 67_634_689);
        assert_eq!(xorshift32(0), 0);
    }
}
