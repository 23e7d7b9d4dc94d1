//! nerve-compiler: network graph → chip image.
//!
//! - [`front`]: networks in (JSON, NIR, the Rust builder API).
//! - [`net`]: the graph IR and its connectors expanded into synapses.
//! - [`models`]: neuron models, one file each behind one trait.
//! - [`lower`]: populations into fixed-point kernels (through their
//!   models), weights into mantissas.
//! - [`map`]: partition into per-core slices, placement, routing (keys,
//!   multicast trees, tables, compression).
//! - [`compile`]: the driver, code generation into an [`nerve_isa::Image`],
//!   the mapping report; `gap`: electrical synapses into graded edges.
//! - [`export`]: networks out (NIR).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod compile;
pub mod emit;
pub mod error;
pub mod export;
pub mod front;
pub(crate) mod gap;
pub mod lower;
pub mod map;
pub mod models;
pub mod net;
mod par;
pub mod plasticity;
pub mod report;
pub mod rng;
pub mod verify;

pub use compile::{compile, MapReport, Options, Output};
pub use error::{CompileError, Result};
