//! The crate's integration tests as one binary: one link per crate instead
//! of one per file (the workspace's test binaries dominate CI's build time).

mod energy_latency;
mod inject;
mod jit_vs_interp;
mod load_limits;
mod panics;
mod run_once;
mod stop;
