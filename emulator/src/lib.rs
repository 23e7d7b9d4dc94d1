//! nerve-emulator: runs chip images. Laid out as the chip is:
//!
//! - [`machine`]: an image loaded for emulation: per-core state, the delay
//!   ring, the synapse arena (every row, grouped by source neuron) and each
//!   core's fan-out.
//! - [`mesh`]: the network between cores: multicast routes resolved through
//!   the routing tables, links, hops, per-destination paths.
//! - [`kernel`]: the kernel engines behind one trait: the reference
//!   interpreter (the meaning of every opcode) and the JIT, by Cranelift or
//!   straight to AVX-512 code (bit-identical; the only `unsafe` code).
//! - [`engine`]: the barrier-synchronised timestep loop: phases, threads,
//!   delivery, counters.
//! - [`cost`]: what events cost: timing per core and step, energy.
//! - [`lines`]: arrays in whole cache lines (threads share none).
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod cost;
pub mod engine;
pub mod error;
pub mod kernel;
pub mod learning;
pub mod lines;
pub mod machine;
pub mod mesh;

pub use engine::Counts;
pub use error::{EmuError, InjectError, InjectReason, Result};
pub use kernel::jit::Jit;
pub use kernel::{Interp, KernelRunner};
