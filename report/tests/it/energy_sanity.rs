//! The energy model against published systems.
//!
//! SpiNNaker: Sharp et al. 2012 ran 10,000 neurons and 4 million synapses in real
//! time on 4 chips; Stromatias et al. 2013 report under 1 W per chip and about
//! 43 nJ per synaptic event, all included, with 0.35 W per idle chip. The same
//! shape here (10,000 LIF neurons firing at about 20 Hz, 400 synapses each, half
//! excitatory and half inhibitory so that the network stays asynchronous, 4
//! chips of the `spinnaker` profile, 1 ms real-time steps) must land there.
//!
//! Loihi: the energy charged per synaptic operation is Davies et al.'s 23.6 pJ.

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::json::parse_network;
use nerve_emulator::cost::energy;
use nerve_emulator::engine::{run, Recording};
use nerve_emulator::kernel::jit::Jit;
use nerve_emulator::machine::Machine;
use nerve_isa::arch::Arch;
use nerve_report::session::{self, Request};
use nerve_report::summary;

const NET: &str = r#"{"name": "sharp2012", "dt_ms": 1.0,
  "populations": [{"name": "lif", "size": 10000, "model": "lif",
     "params": {"tau_m": 20.0, "cm": 1.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
                "tau_refrac": 2.0, "i_offset": 0.825},
     "initial": {"v": {"uniform": [-65.0, -50.0], "seed": 3}}}],
  "projections": [{"pre": "lif", "post": "lif", "connector": {"type": "fixed_number_post", "n": 200, "seed": 4},
                   "weight": 0.002, "delay": 1.0},
                  {"pre": "lif", "post": "lif", "receptor": "inhibitory", "connector": {"type": "fixed_number_post", "n": 200, "seed": 5},
                   "weight": -0.002, "delay": 1.0}]}"#;

/// The run of `m` for `steps` on `threads` and its summary, as `nerve run --report` makes them.
fn run_summary(m: Machine, steps: u64, threads: usize) -> summary::Summary {
    let ran = session::run(m, &Request { steps, threads, ..Request::default() }, &mut |_| {}).unwrap();
    let o = summary::Options {
        engine: "jit",
        threads,
        inference_steps: None,
        decision: None,
        decision_spikes: &[],
        recorded: &ran.recorded,
        load_seconds: 0.0,
        huge_pages: false,
    };
    summary::build(&ran.machine, &ran.output, &o)
}

#[test]
fn spinnaker_power_and_energy_per_event_match_published_figures() {
    let net = parse_network(NET, std::path::Path::new("sharp2012.json")).unwrap();
    let mut a = Arch::builtin("spinnaker").unwrap();
    a.topology.chips = [2, 2]; // a 4-chip SpiNN-3 board
    let opts = Options { neurons_per_core: Some(150), ..Options::default() };
    let out = compile(&a, &net, &opts, &mut |_| {}).unwrap();
    let m = Machine::load_valid(out.image).unwrap();
    assert_eq!(m.footprint.chips, 4);
    let steps = 300;
    // The run and its summary as `nerve run --report` makes them.
    let s = run_summary(m, steps, 2);
    assert_eq!(s.chips_used, 4);
    assert_eq!(s.timing.overrun_steps, 0, "must keep real time");
    let wall_s = s.timing.time_to_solution_s;
    assert!((wall_s - steps as f64 * 1e-3).abs() < 1e-9, "real time: {wall_s}");
    let c = &s.counts;
    let rate = c.spikes as f64 / 10_000.0 / wall_s;
    assert!((15.0..=25.0).contains(&rate), "rate {rate} Hz");
    assert_eq!(c.synaptic_events, c.spikes * 400);
    // The summary's parts add up to its total, and its chips to the static part.
    assert!((s.energy.dynamic_j + s.energy.static_j - s.energy.total_j).abs() <= 1e-12 * s.energy.total_j);
    let chips_static: f64 = s.chips.iter().map(|ch| ch.static_j).sum();
    assert!((chips_static - s.energy.static_j).abs() <= 1e-9 * s.energy.static_j, "{chips_static} vs {}", s.energy.static_j);
    let per_chip_w = s.energy.power_w / 4.0;
    let per_event_nj = s.energy.per_synaptic_event_j.unwrap() * 1e9;
    eprintln!("rate {rate:.1} Hz, {per_chip_w:.3} W per chip, {per_event_nj:.1} nJ per synaptic event all included");
    assert!((0.35..1.0).contains(&per_chip_w), "{per_chip_w} W per chip");
    assert!((32.0..54.0).contains(&per_event_nj), "{per_event_nj} nJ per synaptic event (published: about 43)");
}

#[test]
fn loihi_charges_sanafe_calibrated_costs_per_event() {
    let net = parse_network(&NET.replace("10000", "2000").replace("\"n\": 200", "\"n\": 25"), std::path::Path::new("x.json")).unwrap();
    let a = Arch::builtin("loihi").unwrap();
    // 100 neurons per core: 20 cores on 5 tiles, so messages travel.
    let out = compile(&a, &net, &Options { neurons_per_core: Some(100), ..Options::default() }, &mut |_| {}).unwrap();
    let mut m = Machine::load_valid(out.image).unwrap();
    let jit = Jit::compile(&m).unwrap();
    let r = run(&mut m, &jit, 100, 1, &Recording { spikes: vec![false], probes: vec![], per_step: false, chunk_steps: None }, &mut |_| {}).unwrap();
    let c = &r.counts;
    assert!(c.synaptic_events > 0 && c.neuron_spikes > 0 && c.hops_ew + c.hops_ns > 0);
    // One message per destination core with a synapse: as many in as out.
    assert_eq!(c.packets_out, c.packets_in);
    // SANA-FE 2.2.9 loihi.yaml, written out (pJ): access 51.2 every update, +21.6
    // when updated, +69.3 per spike, 33.6 per sparse synapse, 111 per message out,
    // 3.0 / 4.2 per east-west / north-south hop.
    let hand = c.updates_idle as f64 * 51.2
        + c.updates_active as f64 * (51.2 + 21.6)
        + c.neuron_spikes as f64 * 69.3
        + c.synaptic_events as f64 * 33.6
        + c.packets_out as f64 * 111.0
        + c.hops_ew as f64 * 3.0
        + c.hops_ns as f64 * 4.2;
    let got = energy::total_pj(&energy::dynamic(&m.arch, c));
    assert!((got - hand).abs() <= 1e-9 * hand, "{got} pJ vs {hand} pJ by hand");
}

/// The decision line says what is known: a latency, no input, no decision
/// after the input, or (past the steps whose times are kept) both steps
/// and that the time between is not known.
#[test]
fn the_decision_line_says_what_is_known() {
    use nerve_report::summary::{Decision, Summary};
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/run_small.json");
    let mut s = Summary::read(&p).unwrap();
    let cap = nerve_emulator::engine::STEP_TIMES_CAP;
    for (f, d, l, says) in [
        (Some(3), Some(9), Some(7000.0), "7.0000 µs (input at step 3, decision at step 9)".to_string()),
        (None, None, None, "no input spike".to_string()),
        (Some(3), None, None, "no decision spike after the first input".to_string()),
        (Some(3), Some(9), None, format!("input at step 3, decision at step 9; the time between is not known (runs of more than {cap} steps")),
    ] {
        s.timing.decision = Some(Decision { population: "out".into(), first_input_step: f, decision_step: d, latency_ns: l });
        let text: String = nerve_report::text::tables(&s, 5).into_iter().map(|(t, b)| format!("{t}\n{b}\n")).collect();
        assert!(text.contains("decision latency (out)") && text.contains(&says), "{says}\n{text}");
    }
}

/// Percentiles from the histograms (runs past the steps kept one by one) say
/// so in the tables, as the JSON's `percentiles_approximate` does.
#[test]
fn approximate_percentiles_are_marked() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/run_small.json");
    let mut s = nerve_report::summary::Summary::read(&p).unwrap();
    for approximate in [false, true] {
        s.timing.percentiles_approximate = approximate;
        let tabs = nerve_report::text::tables(&s, 5);
        let title = &tabs.iter().find(|(t, _)| t.starts_with("Latency per timestep")).expect("a latency table").0;
        assert_eq!(title.contains("approximate"), approximate, "{title}");
    }
}

/// Activation sparsity is 1 − the neurons' spikes over their neuron-steps: a
/// spike source's spikes are not its neurons' (it has no neuron-steps), so 16
/// sources firing every step into one silent neuron leave sparsity 1 (it was
/// 1 − 160/10 = −15), and the figure stays in [0, 1] with the neuron firing.
#[test]
fn activation_sparsity_counts_the_neurons_spikes_only() {
    let sparsity = |weight: f64| {
        let net = format!(
            r#"{{"name": "sparsity", "dt_ms": 1.0, "populations": [
              {{"name": "src", "size": 16, "model": "spike_source_array", "spike_times": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}},
              {{"name": "post", "size": 1, "model": "if", "params": {{"cm": 1.0, "v_rest": 0.0, "v_reset": 0.0, "v_thresh": 1.0}}}}],
              "projections": [{{"pre": "src", "post": "post", "connector": {{"type": "all_to_all"}}, "weight": {weight}}}]}}"#
        );
        let net = parse_network(&net, std::path::Path::new("sparsity.json")).unwrap();
        let a = Arch::builtin("loihi").unwrap();
        let out = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap();
        let s = run_summary(Machine::load_valid(out.image).unwrap(), 10, 1);
        (s.neurobench.activation_sparsity, s.counts.neuron_spikes)
    };
    assert_eq!(sparsity(0.0), (1.0, 0));
    let (x, fired) = sparsity(5.0);
    assert!(fired > 0 && fired < 10, "the neuron fires on some steps: {fired}");
    assert_eq!(x, 1.0 - fired as f64 / 10.0);
    // A Poisson source runs as a kernel (charged as one) but has no membrane:
    // its updates and spikes were in the membrane updates and the sparsity.
    let net = r#"{"name": "poisson", "dt_ms": 1.0, "populations": [
      {"name": "src", "size": 16, "model": "spike_source_poisson", "params": {"rate": 500.0}},
      {"name": "post", "size": 1, "model": "if", "params": {"cm": 1.0, "v_rest": 0.0, "v_reset": 0.0, "v_thresh": 1000.0}}],
      "projections": [{"pre": "src", "post": "post", "connector": {"type": "all_to_all"}, "weight": 0.01}]}"#;
    let net = parse_network(net, std::path::Path::new("poisson.json")).unwrap();
    let out = compile(&Arch::builtin("loihi").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap();
    let s = run_summary(Machine::load_valid(out.image).unwrap(), 10, 1);
    assert!(s.counts.neuron_spikes > 0 && s.counts.updates_active + s.counts.updates_idle == 170, "the sources' work is the chip's: {:?}", s.counts);
    assert_eq!((s.neurobench.membrane_updates, s.neurobench.activation_sparsity), (10, 1.0));
}

/// 10 spike-array neurons into 10 `if` neurons one to one, 40 ms away:
/// past SpiNNaker's 32 delay slots (a relay population on `spinnaker`),
/// within Loihi's 63 (none on `loihi`).
const RELAYED: &str = r#"{"name": "relay", "dt_ms": 1.0, "populations": [
  {"name": "src", "size": 10, "model": "spike_source_array", "spike_times": [0.0, 10.0, 20.0, 30.0, 40.0]},
  {"name": "n", "size": 10, "model": "if", "params": {"cm": 1.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -64.9, "tau_refrac": 1.0, "tau_syn_E": 0.5, "tau_syn_I": 0.5}}],
  "projections": [{"pre": "src", "post": "n", "connector": {"type": "one_to_one"}, "weight": 5.0, "delay": 40.0}]}"#;

/// The run of RELAYED on `arch` for 100 steps with `n` the decision
/// population: its summary and the compile's report.
fn relayed(arch: &str) -> (summary::Summary, nerve_compiler::report::MapReport) {
    let net = parse_network(RELAYED, std::path::Path::new("relay.json")).unwrap();
    let out = compile(&Arch::builtin(arch).unwrap(), &net, &Options::default(), &mut |_| {}).unwrap();
    let request = Request { steps: 100, threads: 1, decision: Some("n".into()), ..Request::default() };
    let ran = session::run(Machine::load_valid(out.image).unwrap(), &request, &mut |_| {}).unwrap();
    let o = summary::Options {
        engine: "jit",
        threads: 1,
        inference_steps: None,
        decision: Some("n"),
        decision_spikes: &ran.decision_spikes,
        recorded: &ran.recorded,
        load_seconds: 0.0,
        huge_pages: false,
    };
    (summary::build(&ran.machine, &ran.output, &o), out.report)
}

/// The network's figures leave out the compiler's delay relays: the same
/// network had 150 spikes on `loihi` and 200 on `spinnaker`, 20 neurons and
/// 30, 10 synapses and 20, with the same spikes.
#[test]
fn network_figures_leave_out_delay_relays() {
    let ((lo, lo_map), (sp, sp_map)) = (relayed("loihi"), relayed("spinnaker"));
    let nb = |s: &summary::Summary| {
        let n = &s.neurobench;
        (n.neurons, n.synapses, n.spikes, n.synaptic_ops, n.membrane_updates, n.activation_sparsity)
    };
    assert_eq!(nb(&lo), nb(&sp));
    // src's 50 spikes, and two of n's for each input (100, in 1,000 neuron-steps).
    assert_eq!(nb(&lo), (20, 10, Some(150), 50, 1000, 0.9));
    assert_eq!((lo_map.neurons, lo_map.synapses, lo_map.relay_neurons, lo_map.relay_synapses), (20, 10, 0, 0));
    assert_eq!((sp_map.neurons, sp_map.synapses, sp_map.relay_neurons, sp_map.relay_synapses), (20, 10, 10, 10));
    // The chip's counts keep the relays' work, which they are charged for.
    assert_eq!((lo.counts.spikes, sp.counts.spikes), (150, 200));
    // Energy per synaptic event: all the energy, over the network's own events
    // (it was over the relays' too, 100 here).
    for s in [&lo, &sp] {
        assert_eq!(s.energy.per_synaptic_event_j, Some(s.energy.total_j / 50.0));
    }
    let line = nerve_report::text::run_lines(&sp, 0.0);
    assert!(line.contains("150 spikes (75.00 Hz mean), 50 synaptic events (and the compiler's delay relays: 50 spikes, 50 synaptic events)"), "{line}");
    let line = nerve_report::text::run_lines(&lo, 0.0);
    assert!(line.contains("150 spikes (75.00 Hz mean), 50 synaptic events\n"), "{line}");
    // A summary written before (no neurobench.spikes, the relays counted in)
    // reads with the network's figures.
    let mut old = serde_json::to_value(&sp).unwrap();
    old["neurobench"] = serde_json::json!({"synaptic_ops": 100, "activation_sparsity": 0.9, "membrane_updates": 2000, "neurons": 30, "synapses": 20});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    std::fs::write(&path, old.to_string()).unwrap();
    let read = summary::Summary::read(&path).unwrap();
    let n = &read.neurobench;
    assert_eq!((n.neurons, n.synapses, n.spikes, n.synaptic_ops), (20, 10, Some(150), 50));
}

/// The decision latency counts every step as the time to solution does, at
/// least the profile's real-time tick: on `spinnaker` (1 ms steps) 41 steps
/// from input to decision said 13 µs.
#[test]
fn the_decision_latency_counts_the_real_time_tick() {
    let (sp, _) = relayed("spinnaker");
    let d = sp.timing.decision.clone().unwrap();
    assert_eq!((d.first_input_step, d.decision_step), (Some(0), Some(40)));
    let tick = sp.timing.real_time_tick_ns.unwrap();
    assert_eq!(tick, 1e6);
    assert_eq!(d.latency_ns, Some(41.0 * tick));
    let lines = nerve_report::text::run_lines(&sp, 0.0);
    assert!(lines.contains("decision latency (n): 41.0000 ms (input at step 0, decision at step 40)"), "{lines}");
    // No tick on `loihi`: the steps' own times.
    let (lo, _) = relayed("loihi");
    let d = lo.timing.decision.clone().unwrap();
    assert!(d.latency_ns.unwrap() > 0.0 && d.latency_ns.unwrap() < 1e5, "{d:?}");
}
