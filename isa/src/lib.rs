//! nerve-isa: the single source of truth shared by the compiler and the emulator.
//!
//! - [`arch`]: the architecture description (cores, memories, router, links,
//!   timing and energy per operation) as data, with built-in named profiles.
//! - [`opcode`], [`instr`], [`kernel`], [`asm`], [`semantics`]: the neuron-kernel
//!   instruction set: one opcode table drives the encoder, decoder, assembler,
//!   disassembler and docs; `semantics` defines every non-trivial operation.
//! - [`image`]: the versioned chip-image format and its validation.
//! - [`route`]: what an image's routing tables do to a packet.
//! - [`ids`]: typed dense ids.
#![forbid(unsafe_code)]

pub mod arch;
pub mod asm;
pub mod ids;
pub mod image;
pub mod instr;
pub mod kernel;
pub mod opcode;
pub mod packed;
pub mod route;
pub mod sample;
pub mod semantics;
pub mod stats;

pub use arch::Arch;
pub use image::{Image, ValidImage};
pub use kernel::Kernel;

/// Threads for host work split by size (reading, compiling, checking and
/// loading large inputs): the host's, at most 8 (each thread keeps count
/// arrays of its own; the splits were measured on two cores only).
pub fn host_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
}
