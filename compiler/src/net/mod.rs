//! The network graph: the IR ([`model`]), the JSON format ([`json`]) and a
//! Rust builder API ([`builder`]).
pub mod builder;
pub mod json;
pub mod model;
