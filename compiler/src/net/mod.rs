//! The network graph: the IR ([`model`]), the JSON format ([`json`]) and a
//! Rust builder API ([`builder`]).
pub mod builder;
mod conn_csv;
pub mod json;
pub mod model;
