#!/usr/bin/env python3
"""Pure-Python re-implementation of numpy's default_rng(seed) stream
(SeedSequence -> PCG64 XSL-RR 128/64) and of the two draws lava-nc 0.10.0
makes: Generator.random(1)[0] and Generator.integers(0, 2**7, size=1,
dtype=int)[0].  No numpy needed; meant as a template for the Rust port.

Run with the lava venv's python to compare against numpy:
    python pcg64_pure.py
"""

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
M128 = (1 << 128) - 1

# --- numpy/random/bit_generator.pyx : SeedSequence -------------------------
INIT_A = 0x43B0D7E5
MULT_A = 0x931E8875
INIT_B = 0x8B51F9DD
MULT_B = 0x58F38DED
MIX_MULT_L = 0xCA01F9DD
MIX_MULT_R = 0x4973F715
XSHIFT = 16  # 4 * 8 // 2
POOL_SIZE = 4


def _coerce_to_uint32_words(n: int):
    """Non-negative int -> little-endian list of 32-bit words ([0] for 0)."""
    if n < 0:
        raise ValueError("seed must be non-negative")
    if n == 0:
        return [0]
    out = []
    while n:
        out.append(n & M32)
        n >>= 32
    return out


def seed_sequence_pool(seed: int):
    entropy = _coerce_to_uint32_words(seed)
    hash_const = [INIT_A]

    def hashmix(value):
        value ^= hash_const[0]
        hash_const[0] = (hash_const[0] * MULT_A) & M32
        value = (value * hash_const[0]) & M32
        value ^= value >> XSHIFT
        return value

    def mix(x, y):
        r = (MIX_MULT_L * x - MIX_MULT_R * y) & M32
        r ^= r >> XSHIFT
        return r

    pool = [0] * POOL_SIZE
    for i in range(POOL_SIZE):
        pool[i] = hashmix(entropy[i] if i < len(entropy) else 0)
    for i_src in range(POOL_SIZE):
        for i_dst in range(POOL_SIZE):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
    for i_src in range(POOL_SIZE, len(entropy)):
        for i_dst in range(POOL_SIZE):
            pool[i_dst] = mix(pool[i_dst], hashmix(entropy[i_src]))
    return pool


def generate_state_u64(pool, n_words64):
    n = 2 * n_words64
    hash_const = INIT_B
    words = []
    for i in range(n):
        v = pool[i % POOL_SIZE]
        v ^= hash_const
        hash_const = (hash_const * MULT_B) & M32
        v = (v * hash_const) & M32
        v ^= v >> XSHIFT
        words.append(v)
    # view as little-endian uint64: (lo word, hi word) pairs
    return [words[2 * i] | (words[2 * i + 1] << 32) for i in range(n_words64)]


# --- numpy/random/src/pcg64 -------------------------------------------------
PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341


class PCG64:
    def __init__(self, seed: int):
        v = generate_state_u64(seed_sequence_pool(seed), 4)
        initstate = (v[0] << 64) | v[1]
        initseq = (v[2] << 64) | v[3]
        self.inc = ((initseq << 1) | 1) & M128
        self.state = 0
        self._step()
        self.state = (self.state + initstate) & M128
        self._step()
        self.has_uint32 = False
        self.uinteger = 0

    def _step(self):
        self.state = (self.state * PCG_MULT + self.inc) & M128

    def next64(self):
        self._step()
        s = self.state
        x = ((s >> 64) ^ s) & M64
        rot = s >> 122
        return ((x >> rot) | (x << ((64 - rot) & 63))) & M64

    def next32(self):
        if self.has_uint32:
            self.has_uint32 = False
            return self.uinteger
        n = self.next64()
        self.has_uint32 = True
        self.uinteger = n >> 32
        return n & M32

    # Generator.random(): (next64 >> 11) * 2**-53
    def random(self):
        return (self.next64() >> 11) * (1.0 / 9007199254740992.0)

    # Generator.integers(0, 2**k, size=1, dtype=int64): range-1 < 2**32 ->
    # Lemire on a 32-bit draw; 2**32 % 2**k == 0 so it never rejects and the
    # result is simply the top k bits of next32().
    def integers_pow2(self, k=7):
        rng_excl = 1 << k
        m = self.next32() * rng_excl
        return m >> 32


if __name__ == "__main__":
    import numpy as np
    ok = True
    for seed in [0, 1, 2, 3, 4, 5, 42, 2**31 - 2, 2**40 + 7]:
        a = np.random.default_rng(seed)
        b = PCG64(seed)
        fa = [a.random(1)[0] for _ in range(50)]
        fb = [b.random() for _ in range(50)]
        a = np.random.default_rng(seed)
        b = PCG64(seed)
        ia = [int(a.integers(0, 2**7, size=1, dtype=int)[0]) for _ in range(50)]
        ib = [b.integers_pow2(7) for _ in range(50)]
        same = fa == fb and ia == ib
        ok &= same
        print(f"seed {seed}: random() match={fa == fb}  integers(0,128) "
              f"match={ia == ib}")
    print("ALL MATCH" if ok else "MISMATCH")
