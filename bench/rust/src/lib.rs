//! Shared pieces of the benchmark binaries.
#![forbid(unsafe_code)]

pub mod pyrandom;
