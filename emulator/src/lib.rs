//! nerve-emulator: runs chip images.
//!
//! - [`machine`]: an image loaded for emulation (state, ring buffers, packed
//!   rows, routes resolved through the routing tables).
//! - [`interp`]: the reference interpreter, the meaning of every opcode.
//! - [`jit`]: the Cranelift JIT, bit-identical to the interpreter.
//! - [`engine`]: the barrier-synchronised timestep loop, threads, counters and timing.
//! - [`io`]: spike files in and out.
#![deny(unsafe_code)]

pub mod energy;
pub mod engine;
pub mod error;
pub mod interp;
pub mod jit;
pub mod kernel_data;
pub mod machine;

pub use error::{EmuError, Result};
