//! Seeded randomness for connectors, initial values and placement.
//!
//! Generator: xoshiro256++ (rand_xoshiro), its state filled by SplitMix64 from
//! `seed` mixed with a stream number, so that independent uses of one seed do
//! not share a sequence. Floats are the top 53 bits over 2^53, in [0, 1).
//! These definitions are part of nerve's reproducibility promise: the same
//! network file and seeds give the same synapses in every nerve version that
//! keeps this module's definitions (docs/network-format.md).

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

pub struct Rng(Xoshiro256PlusPlus);

/// SplitMix64's output function: a good 64-bit mixer.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64, stream: u64) -> Rng {
        Rng(Xoshiro256PlusPlus::seed_from_u64(mix64(seed) ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03)))
    }
    #[inline]
    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in [0, 1).
    #[inline]
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in 0..n (n > 0), exactly: Lemire's multiply-and-reject.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = self.u64() as u128 * n as u128;
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// The seed of a random element whose file gives none, from its identity:
/// `parts` (names, which hold no control characters, joined by NUL) hashed
/// by FNV-1a 64, a fixed definition (std's hasher may change between Rust
/// versions), then mixed with `stream`. Distinct elements draw distinct
/// sequences (seed 0 for all made two Poisson sources spike alike), and the
/// same file gives the same seeds, so the same image.
pub fn seed_of(stream: u64, parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for (k, p) in parts.iter().enumerate() {
        if k > 0 {
            // A NUL byte between parts (x ^ 0 = x).
            h = h.wrapping_mul(PRIME);
        }
        for &b in p.as_bytes() {
            h = (h ^ b as u64).wrapping_mul(PRIME);
        }
    }
    mix64(h ^ mix64(stream))
}

/// Streams: fixed numbers so that each use of a seed draws its own sequence.
pub mod stream {
    pub const CONNECTOR: u64 = 1;
    pub const INITIAL: u64 = 2;
    pub const POISSON: u64 = 3;
    pub const PLACEMENT: u64 = 4;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_of_names_are_fixed_and_distinct() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c: the hash is the published one.
        assert_eq!(seed_of(0, &["a"]), mix64(0xaf63_dc4c_8601_ec8c ^ mix64(0)));
        let all = [
            seed_of(stream::POISSON, &["a"]),
            seed_of(stream::POISSON, &["b"]),
            seed_of(stream::CONNECTOR, &["a"]),
            seed_of(stream::INITIAL, &["ab", "c"]),
            seed_of(stream::INITIAL, &["a", "bc"]),
        ];
        for (i, x) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|y| y != x), "{all:x?}");
        }
    }

    #[test]
    fn deterministic_and_in_range() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 1);
        let mut c = Rng::new(7, 2);
        let xa: Vec<u64> = (0..10).map(|_| a.u64()).collect();
        let xb: Vec<u64> = (0..10).map(|_| b.u64()).collect();
        let xc: Vec<u64> = (0..10).map(|_| c.u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
        let mut r = Rng::new(1, 1);
        let mut hist = [0u32; 7];
        for _ in 0..70_000 {
            let f = r.f64();
            assert!((0.0..1.0).contains(&f));
            hist[r.below(7) as usize] += 1;
        }
        for h in hist {
            assert!((9_500..10_500).contains(&h), "{hist:?}");
        }
    }
}
