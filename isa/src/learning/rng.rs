//! numpy's `default_rng(seed)`: SeedSequence → PCG64 (XSL-RR 128/64), with
//! the two draws lava-nc's learning engine makes: `random()` (a float in
//! [0, 1), (next64 >> 11)·2^-53) and `integers(0, 2^k)` (the top k bits of
//! a buffered 32-bit draw: numpy hands out a 64-bit output's low half, then
//! its high half). Checked against numpy's own output (tests).

const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;
const POOL: usize = 4;
const PCG_MULT: u128 = (2_549_297_995_355_413_924u128 << 64) + 4_865_540_595_714_422_341;

/// numpy's SeedSequence(seed).generate_state(4, uint64). The seed is a
/// u128 because Python's are unbounded: lava seeds its generators
/// `rng_seed + 1` … `+ 3`, past 2^64 for a u64 `rng_seed` near the top.
fn seed_state(seed: u128) -> [u64; 4] {
    // The seed as little-endian 32-bit words, without leading zero words ([0] for 0).
    let n = (4 - seed.leading_zeros() as usize / 32).max(1);
    let entropy: Vec<u32> = (0..n).map(|i| (seed >> (32 * i)) as u32).collect();
    let mut hash = INIT_A;
    let mut hashmix = |v: u32| -> u32 {
        let mut v = v ^ hash;
        hash = hash.wrapping_mul(MULT_A);
        v = v.wrapping_mul(hash);
        v ^ (v >> XSHIFT)
    };
    let mix = |x: u32, y: u32| -> u32 {
        let r = MIX_MULT_L.wrapping_mul(x).wrapping_sub(MIX_MULT_R.wrapping_mul(y));
        r ^ (r >> XSHIFT)
    };
    let mut pool = [0u32; POOL];
    for (i, p) in pool.iter_mut().enumerate() {
        *p = hashmix(entropy.get(i).copied().unwrap_or(0));
    }
    for src in 0..POOL {
        for dst in 0..POOL {
            if src != dst {
                let h = hashmix(pool[src]);
                pool[dst] = mix(pool[dst], h);
            }
        }
    }
    for &e in entropy.iter().skip(POOL) {
        for p in pool.iter_mut() {
            let h = hashmix(e);
            *p = mix(*p, h);
        }
    }
    let mut hb = INIT_B;
    let mut words = [0u32; 8];
    for (i, w) in words.iter_mut().enumerate() {
        let mut v = pool[i % POOL] ^ hb;
        hb = hb.wrapping_mul(MULT_B);
        v = v.wrapping_mul(hb);
        *w = v ^ (v >> XSHIFT);
    }
    [0, 1, 2, 3].map(|i| words[2 * i] as u64 | ((words[2 * i + 1] as u64) << 32))
}

/// numpy's PCG64 bit generator, seeded as `default_rng(seed)` seeds it.
#[derive(Clone, Debug)]
pub struct NumpyRng {
    state: u128,
    inc: u128,
    /// numpy's buffered half of a 64-bit output, for 32-bit draws.
    half: Option<u32>,
}

impl NumpyRng {
    pub fn new(seed: u128) -> NumpyRng {
        let v = seed_state(seed);
        let initstate = ((v[0] as u128) << 64) | v[1] as u128;
        let initseq = ((v[2] as u128) << 64) | v[3] as u128;
        let mut r = NumpyRng { state: 0, inc: (initseq << 1) | 1, half: None };
        r.step();
        r.state = r.state.wrapping_add(initstate);
        r.step();
        r
    }
    fn step(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULT).wrapping_add(self.inc);
    }
    pub fn next64(&mut self) -> u64 {
        self.step();
        let s = self.state;
        let x = ((s >> 64) as u64) ^ (s as u64);
        x.rotate_right((s >> 122) as u32)
    }
    fn next32(&mut self) -> u32 {
        if let Some(h) = self.half.take() {
            return h;
        }
        let n = self.next64();
        self.half = Some((n >> 32) as u32);
        n as u32
    }
    /// `Generator.random()`: a float in [0, 1) with 53 random bits.
    pub fn random_bits(&mut self) -> u64 {
        self.next64() >> 11
    }
    /// `Generator.random()` as a float.
    pub fn random(&mut self) -> f64 {
        self.random_bits() as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
    /// `Generator.integers(0, 2^k)` for k ≤ 32: the top k bits of a 32-bit draw.
    pub fn integers_pow2(&mut self, k: u32) -> u32 {
        ((self.next32() as u64 * (1u64 << k)) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy 1.26.4: `default_rng(s).random()` and `integers(0, 128)` draws.
    #[test]
    fn matches_numpy() {
        let mut r = NumpyRng::new(2);
        assert_eq!([r.random(), r.random(), r.random()], [0.2616121342493164, 0.2984911434141233, 0.8142257405942803]);
        let mut r = NumpyRng::new(3);
        assert_eq!([r.random(), r.random(), r.random()], [0.08564916714362436, 0.2368105065960997, 0.8012744652063969]);
        let mut r = NumpyRng::new(4);
        let ints: Vec<u32> = (0..8).map(|_| r.integers_pow2(7)).collect();
        assert_eq!(ints, [92, 120, 112, 65, 120, 124, 124, 10]);
    }

    /// Seeds past 64 bits (lava's `rng_seed + 3` for `rng_seed` = 2^64 − 1)
    /// are seeded from all their 32-bit words, as numpy's SeedSequence
    /// takes a Python int: `bench/learning/lava/pcg64_pure.py` (checked
    /// against numpy) gives these draws. They used to wrap to 0, 1, 2.
    #[test]
    fn seeds_past_64_bits_as_numpy() {
        for (seed, want, int7) in [
            ((1u128 << 64) - 1, [0.6800266789616931, 0.8453117585624743], 70),
            (1u128 << 64, [0.4492388188116676, 0.39104163833546157], 113),
            ((1u128 << 64) + 1, [0.6922753364723951, 0.22334387706847014], 124),
            ((1u128 << 64) + 2, [0.45788796046309277, 0.9882967992426548], 53),
            ((1u128 << 96) + 5, [0.5757322714295288, 0.25903683658244914], 5),
        ] {
            let mut r = NumpyRng::new(seed);
            assert_eq!([r.random(), r.random()], want, "seed {seed}");
            assert_eq!(NumpyRng::new(seed).integers_pow2(7), int7, "seed {seed}");
        }
    }
}
