//! The energy model: E = Σ count × energy per event + P_static × T_wall.
//!
//! Counts come from the emulation (the counter table, `nerve_isa::counters`,
//! says which counter costs what); energies and static power from the
//! architecture profile (`[energy]`, each figure with its source); T_wall is
//! the emulated time to solution (per step: slowest core + network +
//! barrier, stretched to the real-time tick where the profile has one).
//! docs/energy-model.md states the model and what it leaves out.

use nerve_isa::arch::Arch;
use nerve_isa::counters::{energy_rows, Counts, EnergyRow};

/// Dynamic energy of a set of counts, by kind of event, in the table's order.
pub fn dynamic(arch: &Arch, c: &Counts) -> Vec<EnergyRow> {
    energy_rows(&arch.energy, c)
}

/// Σ of a breakdown, pJ.
pub fn total_pj(rows: &[EnergyRow]) -> f64 {
    rows.iter().map(|r| r.picojoules).sum()
}

/// Static power of `chips` chips and `cores` cores in use, W.
pub fn static_power_w(arch: &Arch, chips: u32, cores: u32) -> f64 {
    chips as f64 * arch.energy.static_chip_w.charged() + cores as f64 * arch.energy.active_core_w.charged()
}

/// Energy a core's own events cost (synapses it applied, its neuron updates
/// and instructions, and the network path of the packets it sent), pJ.
pub fn core_dynamic_pj(arch: &Arch, c: &Counts) -> f64 {
    total_pj(&dynamic(arch, &Counts { barriers: 0, ..*c }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_figures_by_hand() {
        let a = Arch::builtin("tiny").unwrap();
        let c = Counts {
            synaptic_events: 10,
            updates_active: 3,
            updates_idle: 5,
            instr_alu: 100,
            packets_out: 2,
            router_passes: 4,
            hops_ew: 1,
            hops_ns: 1,
            hops_diag: 1,
            barriers: 2,
            ..Counts::default()
        };
        // tiny: sop 1, active 4, idle 2, instr 0.5, spike 8, router 16, hops 32 each, barrier 64 (pJ).
        let pj = 10.0 * 1.0 + 3.0 * 4.0 + 5.0 * 2.0 + 100.0 * 0.5 + 2.0 * 8.0 + 4.0 * 16.0 + 3.0 * 32.0 + 2.0 * 64.0;
        assert_eq!(total_pj(&dynamic(&a, &c)), pj);
        assert_eq!(static_power_w(&a, 2, 3), 2.0 * 0.001 + 3.0 * 0.0005);
    }
}
