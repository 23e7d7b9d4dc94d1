//! Energy and latency of a run worked out by hand, checked to the last unit.
//!
//! The image is nerve-isa's hand-built sample on the `tiny` profile: a
//! 3-neuron spike array (core 0, tile 0) spiking at steps 0, 1, 2, 3, 4, 5
//! (neurons 0, 1, 2, 2, 2, 0), all-to-all onto 4 integrate-and-fire neurons
//! (core 4, tile 1, one hop east) with weights 40 + pre, delay 1 (neurons 0, 2)
//! or 2 (neurons 1, 3), threshold 60, initial v 0, 10, 20, 30. The IF core
//! sends nothing. 8 steps.
//!
//! By hand (see the derivation in docs/energy-model.md, "A worked example"):
//! IF spikes: n0 at 2, 4, 6; n1 at 3, 5, 7; n2 at 2, 4, 6; n3 at 2, 4, 6.

use nerve_emulator::cost::energy;
use nerve_emulator::engine::{run, Counts, Interp, Recording};
use nerve_emulator::machine::Machine;
use nerve_isa::arch::MessageModel;

#[test]
fn sample_on_tiny_by_hand() {
    let mut m = Machine::load(nerve_isa::sample::sample_image()).unwrap();
    let rec = Recording { spikes: vec![true, true], probes: vec![], per_step: true, chunk_steps: None };
    let r = run(&mut m, &Interp, 8, 1, &rec, &mut |_| {}).unwrap();
    let got: Vec<(u32, u32, u32)> = r.spikes.iter().filter(|s| s.pop == 1).map(|s| (s.step, s.neuron, 0)).collect();
    let mut want: Vec<(u32, u32, u32)> =
        [(0, [2, 4, 6]), (1, [3, 5, 7]), (2, [2, 4, 6]), (3, [2, 4, 6])].iter().flat_map(|(n, ts)| ts.iter().map(move |&t| (t, *n, 0))).collect();
    want.sort();
    assert_eq!(got, want);
    let c = r.counts;
    let expect = Counts {
        spikes: 6 + 12,
        neuron_spikes: 12,
        packets_out: 6,
        packets_in: 6,
        synaptic_events: 24,
        updates_active: 24,
        updates_idle: 8,
        instr_alu: 4 * 32,
        instr_mem: 4 * 32,
        instr_spike: 32,
        router_passes: 12,
        hops_ew: 6,
        chip_crossings: 6,
        barriers: 8,
        ..Counts::default()
    };
    assert_eq!(c, expect);
    // Step times (ns): slowest core + network + barrier (72 ns for 2 tiles on tiny).
    let steps: Vec<f64> = r.step_times.iter().map(|s| s.step_ns).collect();
    assert_eq!(steps, vec![204.0, 208.0, 212.0, 212.0, 212.0, 212.0, 124.0, 120.0]);
    assert_eq!(r.emulated_ns, 1504.0);
    assert_eq!(r.wall_ns, 1504.0);
    // Energy (pJ): dynamic 1224, static 0.003 W × 1504 ns = 4512 pJ.
    let dynamic = energy::total_pj(&energy::dynamic(&m.arch, &c));
    assert_eq!(dynamic, 1224.0);
    let static_w = energy::static_power_w(&m.arch, m.footprint.chips, m.cores.len() as u32);
    assert_eq!(static_w, 0.003);
    assert_eq!((static_w * r.wall_ns * 1e3).round(), 4512.0);
}

/// The same run with Loihi/SANA-FE-style choices: one message per destination
/// core, send and receive overlapping (core time = max, not sum) and 2 ns + 1 pJ
/// per neuron spike. The spike array's only destination is the IF core, so the
/// messages are the packets above; what changes is the core time and the spikes' cost.
#[test]
fn sample_on_tiny_per_destination_overlapped_by_hand() {
    let mut m = Machine::load(nerve_isa::sample::sample_image()).unwrap();
    m.arch.router.messages = MessageModel::PerDestination;
    m.arch.timing.overlap_send_receive = true;
    m.arch.timing.neuron_spike_ns = 2.0;
    m.arch.energy.neuron_spike_pj.value = 1.0;
    let rec = Recording { spikes: vec![true, true], probes: vec![], per_step: true, chunk_steps: None };
    let r = run(&mut m, &Interp, 8, 1, &rec, &mut |_| {}).unwrap();
    let c = r.counts;
    assert_eq!((c.spikes, c.neuron_spikes, c.packets_out, c.packets_in, c.packets_no_row), (18, 12, 6, 6, 0));
    assert_eq!((c.hops_ew, c.router_passes, c.chip_crossings), (6, 12, 6));
    // IF core per step: send = 36 ns of instructions + 4 ns per active and 2 ns per idle
    // update + 2 ns per spike; receive = 16 ns per packet + 8 ns per synapse (48 ns on
    // steps 0-5). Active per step 0, 2, 4, 4, 4, 4, 4, 2; IF spikes 0, 0, 3, 1, 3, 1, 3, 1.
    // send: 44, 48, 58, 54, 58, 54, 58, 50; step = max(send, 48 or 0) + network
    // (40 ns on steps 0-5) + barrier 72.
    let steps: Vec<f64> = r.step_times.iter().map(|s| s.step_ns).collect();
    assert_eq!(steps, vec![160.0, 160.0, 170.0, 166.0, 170.0, 166.0, 130.0, 122.0]);
    assert_eq!(r.emulated_ns, 1244.0);
    let dynamic = energy::total_pj(&energy::dynamic(&m.arch, &c));
    assert_eq!(dynamic, 1224.0 + 12.0);
}
