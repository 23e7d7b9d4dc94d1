//! Compile → run, through the libraries: the invariants that tie the image to
//! the network, and determinism across engines and thread counts.

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::expand::expand;
use nerve_compiler::net::json::read_network;
use nerve_emulator::engine::{run, Interp, Recording, RunOutput};
use nerve_emulator::jit::Jit;
use nerve_emulator::machine::Machine;
use nerve_isa::arch::{Arch, MessageModel};
use std::path::Path;

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

fn emulate(img: nerve_isa::Image, steps: u64, jit: bool, threads: usize) -> (Machine, RunOutput) {
    let mut m = Machine::load(img).unwrap();
    let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: true };
    let out = if jit {
        let j = Jit::compile(&m).unwrap();
        run(&mut m, &j, steps, threads, &rec, &mut |_| {}).unwrap()
    } else {
        run(&mut m, &Interp, steps, threads, &rec, &mut |_| {}).unwrap()
    };
    (m, out)
}

/// Synaptic events delivered == Σ over spikes of the spiking neuron's
/// out-degree in the network (synapses whose delivery falls inside the run),
/// and no packet is lost: every packet sent reaches every core of its tree.
#[test]
fn synaptic_events_equal_spikes_times_out_degree() {
    let net = read_network(&example("small.json")).unwrap();
    for arch in ["spinnaker", "loihi"] {
        let a = Arch::builtin(arch).unwrap();
        let out = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap();
        let steps = 2000;
        let (m, r) = emulate(out.image, steps, true, 1);
        // Out-degree per (population, neuron) from the network itself.
        let mut deg: std::collections::BTreeMap<(usize, u32), u64> = Default::default();
        for (e, pre, _, _) in net.projections() {
            let s = expand(&net, e).unwrap();
            for i in 0..s.n_pre() {
                *deg.entry((pre.index(), i as u32)).or_insert(0) += s.row(i).len() as u64;
            }
        }
        let expected: u64 = r.spikes.iter().map(|s| deg.get(&(s.pop as usize, s.neuron)).copied().unwrap_or(0)).sum();
        assert!(expected > 1000, "{arch}: the test needs activity ({expected})");
        assert_eq!(r.counts.synaptic_events, expected, "{arch}");
        assert_eq!(r.counts.spikes, r.spikes.len() as u64, "{arch}: every spike is a packet");
        // Multicast: packets in == Σ over spikes of the tree's destination count.
        // Per destination: one message per (spike, core holding a synapse of it).
        let dests: u64 = r
            .spikes
            .iter()
            .map(|s| {
                let p = &m.pops[s.pop as usize];
                let sl = p.slices.iter().find(|x| s.neuron >= x.first && s.neuron < x.first + x.count).unwrap();
                let ci = m.cores.iter().position(|c| c.id == sl.core).unwrap();
                match a.router.messages {
                    MessageModel::Multicast => m.routes[ci].first().map_or(0, |rt| rt.dests.len() as u64),
                    MessageModel::PerDestination => {
                        let i = (s.neuron - sl.first) as usize;
                        m.fanout[ci].of(i).iter().filter(|sp| sp.len > 0).count() as u64
                    }
                }
            })
            .sum();
        assert_eq!(r.counts.packets_in, dests, "{arch}");
        if a.router.messages == MessageModel::PerDestination {
            assert_eq!(r.counts.packets_out, dests, "{arch}: one message out per message in");
            assert_eq!(r.counts.packets_no_row, 0, "{arch}");
        }
    }
}

/// The message model changes what is charged, never what is computed: the same
/// spikes and synaptic events either way; per-destination sends no packet to a
/// core without a row, and its hops are each message's direct path.
#[test]
fn message_models_change_costs_not_results() {
    let net = read_network(&example("small.json")).unwrap();
    let a = Arch::builtin("loihi").unwrap();
    let img = compile(&a, &net, &Options { neurons_per_core: Some(20), ..Options::default() }, &mut |_| {}).unwrap().image;
    let mut outs = Vec::new();
    for model in [MessageModel::Multicast, MessageModel::PerDestination] {
        let mut m = Machine::load(img.clone()).unwrap();
        m.arch.router.messages = model;
        let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: true };
        let j = Jit::compile(&m).unwrap();
        outs.push(run(&mut m, &j, 1000, 2, &rec, &mut |_| {}).unwrap());
    }
    let (mc, pd) = (&outs[0], &outs[1]);
    assert!(mc.counts.spikes > 100, "the test needs activity");
    assert_eq!(mc.spikes, pd.spikes);
    assert_eq!(mc.counts.synaptic_events, pd.counts.synaptic_events);
    assert_eq!(mc.counts.packets_out, mc.counts.spikes, "multicast: one packet per spike");
    assert_eq!(pd.counts.packets_in, mc.counts.packets_in - mc.counts.packets_no_row, "per destination: the arrivals that had a row");
    assert_eq!(pd.counts.packets_out, pd.counts.packets_in);
    assert_eq!(pd.counts.packets_no_row, 0);
    assert!(mc.counts.packets_no_row > 0 && pd.counts.packets_out > mc.counts.packets_out, "split populations make the models differ");
}

/// Without link contention the per-destination model totals link loads at the
/// end of the run from spike counts; with it, per step. Both must agree.
#[test]
fn per_destination_link_loads_same_either_way() {
    let net = read_network(&example("small.json")).unwrap();
    let a = Arch::builtin("loihi").unwrap();
    let img = compile(&a, &net, &Options { neurons_per_core: Some(20), ..Options::default() }, &mut |_| {}).unwrap().image;
    let mut outs = Vec::new();
    for link_ns in [0.0, 1e-300] {
        let mut m = Machine::load(img.clone()).unwrap();
        m.arch.router.messages = MessageModel::PerDestination;
        m.arch.timing.link_packet_ns = link_ns;
        let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: true };
        let j = Jit::compile(&m).unwrap();
        outs.push(run(&mut m, &j, 1000, 2, &rec, &mut |_| {}).unwrap());
    }
    assert!(outs[0].counts.packets_out > 100, "the test needs traffic");
    assert!(outs[0].links.len() > 1);
    assert_eq!(outs[0].links, outs[1].links);
    assert_eq!(outs[0].counts, outs[1].counts);
    let t = |o: &nerve_emulator::engine::RunOutput| o.step_times.iter().map(|s| s.step_ns).collect::<Vec<f64>>();
    assert_eq!(t(&outs[0]), t(&outs[1]));
}

#[test]
fn engines_and_thread_counts_agree() {
    let net = read_network(&example("small.json")).unwrap();
    let a = Arch::builtin("tiny").unwrap();
    // `tiny` has 4 delay slots: cap the 1 ms stimulus delay at the profile (dt 0.1 ms → 10 steps) by
    // compiling for spinnaker instead when it does not fit.
    let img = match compile(&a, &net, &Options::default(), &mut |_| {}) {
        Ok(o) => o.image,
        Err(_) => compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap().image,
    };
    let (_, base) = emulate(img.clone(), 1500, false, 1);
    for (jit, threads) in [(true, 1), (true, 2), (false, 3), (true, 4)] {
        let (_, r) = emulate(img.clone(), 1500, jit, threads);
        assert_eq!(r.spikes, base.spikes, "jit={jit} threads={threads}");
        assert_eq!(r.counts, base.counts, "jit={jit} threads={threads}");
        let a: Vec<f64> = r.step_times.iter().map(|s| s.step_ns).collect();
        let b: Vec<f64> = base.step_times.iter().map(|s| s.step_ns).collect();
        assert_eq!(a, b, "step times");
    }
}

#[test]
fn probes_record_every_step_in_neuron_order() {
    let net = read_network(&example("small.json")).unwrap();
    let mut o = Options::default();
    o.neurons_per_core = Some(64); // several cores per population, placed in any order
    let out = compile(&Arch::builtin("spinnaker").unwrap(), &net, &o, &mut |_| {}).unwrap();
    let mut m = Machine::load(out.image).unwrap();
    let (pi, p) = m.pops.iter().enumerate().find(|(_, p)| p.name == "exc").unwrap();
    let v = p.vars.iter().find(|v| v.name == "v").unwrap().clone();
    let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![(pi as u32, v.slot)], per_step: false };
    let r = run(&mut m, &Interp, 30, 2, &rec, &mut |_| {}).unwrap();
    let tr = &r.probes[0];
    assert_eq!(tr.values.len(), 30);
    assert_eq!(tr.values[0].len(), 400);
    // Every value is a plausible membrane voltage (mV), i.e. each neuron's own slot.
    for row in &tr.values {
        for &x in row {
            let mv = x as f64 * v.scale + v.offset;
            assert!((-61.0..=-48.0).contains(&mv), "{mv}");
        }
    }
    // Initial voltages differ per neuron (uniform draw): step 0 is not constant.
    assert!(tr.values[0].windows(2).any(|w| w[0] != w[1]));
}
