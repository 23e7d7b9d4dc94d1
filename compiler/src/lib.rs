//! nerve-compiler: network graph → chip image.
//!
//! Stages (see [`compile::compile`]): [`expand`] connectors into synapses,
//! [`lower`] neuron models into fixed-point kernels and weights into
//! mantissas, [`partition`] populations into per-core slices, [`place`]
//! slices on cores, [`route`] (keys, multicast trees, tables, compression),
//! and code generation into an [`nerve_isa::Image`].
#![forbid(unsafe_code)]

pub mod compile;
pub mod error;
pub mod expand;
pub mod lower;
pub mod net;
pub mod nir;
pub mod partition;
pub mod place;
pub mod rng;
pub mod route;
pub mod verify;

pub use compile::{compile, MapReport, Options, Output};
pub use error::{CompileError, Result};
