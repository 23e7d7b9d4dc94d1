//! The crate's integration tests as one binary: one link per crate instead
//! of one per file (the workspace's test binaries dominate CI's build time).

mod bad_inputs;
mod cli_consistency;
mod cli_flags;
mod cli_foundation;
mod cli_reference;
mod documented_params;
mod electrical;
mod end_to_end;
mod example_celegans;
mod example_cuba;
mod example_liquid_state_machine;
mod example_nir;
mod example_synfire;
mod examples;
mod exporters;
mod golden;
mod input_sums;
mod labels;
mod lava_bitexact;
mod learning;
mod library_invariants;
mod lif_dynamics;
mod nir_reference;
mod ranks;
mod spynnaker_export;
mod stdp;
mod time_steps;
mod weights_out;
