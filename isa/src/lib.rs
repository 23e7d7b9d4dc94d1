//! nerve-isa: the single source of truth shared by the compiler and the emulator.
//!
//! - [`arch`]: the architecture description (cores, memories, router, links,
//!   timing and energy per operation) as data, with built-in named profiles.
//! - [`opcode`], [`instr`], [`kernel`] (with its assembler and typed builder),
//!   [`semantics`]: the neuron-kernel instruction set: one opcode table drives
//!   the encoder, decoder, assembler, disassembler, builder and docs;
//!   `semantics` defines every non-trivial operation.
//! - [`image`]: the versioned chip-image format and its validation.
//! - [`learning`]: learning rules and plastic synapses in the image, and the
//!   learning engine's trace and rounding arithmetic (numpy's generators included).
//! - [`route`]: what an image's routing tables do to a packet.
//! - [`counters`]: the counter table (every event the emulator counts, its
//!   JSON name and its energy row).
//! - [`ids`]: typed dense ids.
//! - [`names`]: what populations, labels and variables may be called, and
//!   the timesteps a network may have (front ends and images alike).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod arch;
pub mod counters;
pub mod files;
pub mod ids;
pub mod image;
pub mod instr;
pub mod kernel;
pub mod learning;
pub mod names;
pub mod opcode;
pub mod packed;
pub mod route;
pub mod sample;
pub mod semantics;
pub mod stats;
pub mod time;

pub use arch::Arch;
pub use image::{Image, ValidImage};
pub use kernel::Kernel;

/// The most timesteps one run takes: the image holds spike steps, and the
/// emulator counts them, as 32-bit numbers. The compiler, the emulator and
/// the exporters all bound runs, durations and spike steps by it.
pub const MAX_STEPS: u64 = u32::MAX as u64;

/// The most synapses one row (one source neuron's to one core) may hold: the
/// emulator counts a row's synapses in 16 bits (its spans), so a profile's
/// `core.max_row_length` is at most this.
pub const MAX_ROW_LENGTH: u32 = u16::MAX as u32;

/// A number as people read it in a message: 1e307 and 1e-300, not ~300
/// digits. The compiler's and the reports' messages print through it.
pub fn num(x: f64) -> String {
    if !x.is_finite() || x.abs() >= 1e15 || (x != 0.0 && x.abs() < 1e-4) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// `x` rounded to 12 significant digits: a product of steps and dt as it was
/// meant (3 × 0.1 is 0.3, not 0.30000000000000004), for times people and
/// other tools read.
pub fn significant12(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// Threads for host work split by size (reading, compiling, checking and
/// loading large inputs): the host's, at most 8 (each thread keeps count
/// arrays of its own; the splits were measured on two cores only).
pub fn host_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
}

/// Boundaries 0 = c0 ≤ c1 ≤ … ≤ c_parts = n of `parts` ranges of indices
/// 0..n, balanced by the prefix sums `at` (length n + 1, nondecreasing):
/// how the compiler and the emulator split large work over threads. Each
/// boundary is the one nearest its share (the first at or past it put a
/// whole extra item on the earlier part: twenty equal cores split 11 / 9
/// when the first ten weighed a hair under half).
pub fn cuts(at: &[usize], parts: usize) -> Vec<usize> {
    let n = at.len() - 1;
    let total = at[n];
    let mut c = vec![0usize];
    for k in 1..parts {
        let want = (total as u128 * k as u128 / parts as u128) as usize;
        let prev = c[k - 1];
        let p = at.partition_point(|&x| x < want).min(n);
        let p = if p > 0 && want - at[p - 1] < at[p] - want { p - 1 } else { p };
        c.push(p.clamp(prev, n));
    }
    c.push(n);
    c
}

#[cfg(test)]
mod tests {
    use super::cuts;

    fn prefix(w: &[usize]) -> Vec<usize> {
        std::iter::once(0)
            .chain(w.iter().scan(0, |s, &x| {
                *s += x;
                Some(*s)
            }))
            .collect()
    }

    #[test]
    fn cuts_fall_at_the_boundary_nearest_each_share() {
        // Twenty cores of nearly equal work, the first ten a hair under half.
        let mut w = vec![1000usize; 20];
        w[3] = 990;
        assert_eq!(cuts(&prefix(&w), 2), vec![0, 10, 20]);
        // One heavy item: the light one alone is nearer half than both.
        assert_eq!(cuts(&prefix(&[1, 100]), 2), vec![0, 1, 2]);
        assert_eq!(cuts(&prefix(&[100, 1]), 2), vec![0, 1, 2]);
        // CUBA's cores (neurons): 8 | 9, not 9 | 8.
        let cuba: Vec<usize> = [[256; 12].as_slice(), &[128], &[256; 3], &[32]].concat();
        assert_eq!(cuts(&prefix(&cuba), 2), vec![0, 8, 17]);
    }

    #[test]
    fn cuts_are_ordered_and_cover_everything() {
        for parts in 1..9 {
            for w in [vec![], vec![0, 0, 0], vec![5], vec![1, 2, 3, 4, 5, 6, 7, 8, 9], vec![1000, 1, 1, 1, 1000, 3]] {
                let c = cuts(&prefix(&w), parts);
                assert_eq!(c.len(), parts + 1);
                assert_eq!((c[0], c[parts]), (0, w.len()));
                assert!(c.windows(2).all(|x| x[0] <= x[1]), "{w:?} in {parts}: {c:?}");
            }
        }
    }
}
