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
