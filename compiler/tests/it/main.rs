//! The crate's integration tests as one binary: one link per crate instead
//! of one per file (the workspace's test binaries dominate CI's build time).

mod bad_networks;
mod builder_contract;
mod connectors;
mod mapping;
mod precision;
mod seeds;
