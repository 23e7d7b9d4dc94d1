//! Compiling: format errors, limit errors, routing correctness, determinism.

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::json::parse_network;
use nerve_compiler::net::model::Network;
use nerve_compiler::verify::check_routing;
use nerve_isa::arch::Arch;
use std::path::Path;

fn parse(text: &str) -> Network {
    parse_network(text, Path::new("t.json")).unwrap()
}

fn err(text: &str) -> String {
    parse_network(text, Path::new("t.json")).unwrap_err().to_string()
}

fn build(arch: &str, net: &Network) -> nerve_compiler::Output {
    let a = Arch::builtin(arch).unwrap();
    let out = compile(&a, net, &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    let chk = check_routing(net, &out.image).unwrap_or_else(|e| panic!("routing check on {arch}: {e}"));
    assert!(chk.keys_traced > 0);
    out
}

/// A layered network with recurrence, big enough to need many cores and chips on `tiny`.
fn layered(n: u32, p: f64) -> String {
    format!(
        r#"{{"name": "layered", "dt_ms": 1.0,
        "populations": [
          {{"name": "in", "size": {n}, "model": "spike_source_poisson", "params": {{"rate": 50.0}}, "seed": 1}},
          {{"name": "h1", "size": {n}, "model": "lif", "params": {{"tau_m": 10.0}}}},
          {{"name": "h2", "size": {n}, "model": "lif"}},
          {{"name": "out", "size": 10, "model": "lif", "record": ["spikes"]}}],
        "projections": [
          {{"pre": "in", "post": "h1", "connector": {{"type": "fixed_probability", "p": {p}, "seed": 2}}, "weight": 0.5}},
          {{"pre": "h1", "post": "h2", "connector": {{"type": "fixed_probability", "p": {p}, "seed": 3}}, "weight": 0.5, "delay": 2.0}},
          {{"pre": "h2", "post": "h1", "receptor": "inhibitory", "connector": {{"type": "fixed_probability", "p": {p}, "seed": 4}}, "weight": -0.5}},
          {{"pre": "h2", "post": "out", "connector": {{"type": "all_to_all"}}, "weight": 0.2}}]}}"#
    )
}

#[test]
fn format_errors_name_the_json_path() {
    let base = r#"{"populations": [{"name": "a", "size": 3, "model": "lif", "params": {"tau_m": 20.0}}]}"#;
    parse(base);
    let e = err(&base.replace("\"tau_m\"", "\"tau_mm\""));
    assert!(e.contains("$.populations[0].params.tau_mm") && e.contains("unknown key"), "{e}");
    let e = err(&base.replace("20.0", "\"fast\""));
    assert!(e.contains("$.populations[0].params.tau_m") && e.contains("expected a number"), "{e}");
    let e = err(&base.replace("20.0", "[1, 2]"));
    assert!(e.contains("array of 3 numbers"), "{e}");
    let e = err(&base.replace("\"size\": 3, ", ""));
    assert!(e.contains("$.populations[0]") && e.contains("missing required key `size`"), "{e}");
    let e = err(&base.replace("\"lif\"", "\"hh\""));
    assert!(e.contains("unknown model `hh`"), "{e}");
    let e = err(
        r#"{"populations": [{"name": "a", "size": 3, "model": "lif"}], "projections": [{"pre": "a", "post": "z", "connector": {"type": "all_to_all"}, "weight": 1.0}]}"#,
    );
    assert!(e.contains("$.projections[0].post") && e.contains("no population named `z`"), "{e}");
    let e = err(
        r#"{"populations": [{"name": "a", "size": 3, "model": "lif"}], "projections": [{"pre": "a", "post": "a", "receptor": "inhibitory", "connector": {"type": "all_to_all"}, "weight": 1.0}]}"#,
    );
    assert!(e.contains("inhibitory") && e.contains("PyNN's convention"), "{e}");
    let e = err(
        r#"{"dt_ms": 0.1, "populations": [{"name": "a", "size": 3, "model": "lif"}], "projections": [{"pre": "a", "post": "a", "connector": {"type": "all_to_all"}, "weight": 1.0, "delay": 0.04}]}"#,
    );
    assert!(e.contains("$.projections[0].delay") && e.contains("shorter than one timestep"), "{e}");
    let e =
        err(r#"{"populations": [{"name": "a", "size": 3, "model": "lif"}], "projections": [{"pre": "a", "post": "a", "connector": {"type": "all_to_all"}}]}"#);
    assert!(e.contains("missing required key `weight`"), "{e}");
    let e = err(r#"{"populations": [{"name": "a", "size": 3, "model": "spike_source_array", "spike_times": [[1.0], [2.0]]}]}"#);
    assert!(e.contains("expected 3 lists"), "{e}");
    let e = err(
        r#"{"populations": [{"name": "a", "size": 3, "model": "lif"}], "projections": [{"pre": "a", "post": "a", "connector": {"type": "all_to_all"}, "weight": 1.0, "plasticity": {"type": "hebb"}}]}"#,
    );
    assert!(e.contains("$.projections[0].plasticity.type") && e.contains("unknown plasticity type `hebb`"), "{e}");
    let e = err(
        r#"{"populations": [{"name": "a", "size": 3, "model": "lif"}], "projections": [{"pre": "a", "post": "a", "connector": {"type": "all_to_all"}, "weight": 1.0, "plasticity": {"type": "loihi", "dw": "x0*y1"}}]}"#,
    );
    assert!(e.contains("loihi_lif"), "{e}");
    let e = err(
        r#"{"populations": [{"name": "a", "size": 3, "model": "loihi_lif", "params": {"du": 1, "dv": 1, "vth": 5}}], "projections": [{"pre": "a", "post": "a", "connector": {"type": "all_to_all"}, "weight": 1.0, "plasticity": {"type": "loihi", "dw": "x1*y1"}}]}"#,
    );
    assert!(e.contains("$.projections[0].plasticity.dw") && e.contains("no dependency"), "{e}");
    let e = err("{\"populations\": [}");
    assert!(e.contains("not valid JSON") && e.contains("line 1"), "{e}");
}

#[test]
fn limit_errors_name_population_limit_and_amounts() {
    let tiny = Arch::builtin("tiny").unwrap();
    // One neuron receiving from 100 distinct sources: 64 input keys per core on `tiny`.
    let net = parse(
        r#"{"populations": [{"name": "src", "size": 100, "model": "spike_source_poisson", "params": {"rate": 1.0}},
                            {"name": "sink", "size": 1, "model": "lif"}],
            "projections": [{"pre": "src", "post": "sink", "connector": {"type": "all_to_all"}, "weight": 1.0}]}"#,
    );
    let e = compile(&tiny, &net, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("`sink`") && e.contains("input keys") && e.contains("needs 100") && e.contains("has 64"), "{e}");
    // More cores than the machine has.
    let big = parse(r#"{"populations": [{"name": "huge", "size": 1000, "model": "lif"}]}"#);
    let e = compile(&tiny, &big, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("needs at least 63 cores") && e.contains("has 36"), "{e}");
    // A delay beyond the ring buffer.
    let d = parse(
        r#"{"dt_ms": 1.0, "populations": [{"name": "a", "size": 2, "model": "lif"}],
            "projections": [{"pre": "a", "post": "a", "connector": {"type": "one_to_one"}, "weight": 1.0, "delay": 9.0}]}"#,
    );
    let e = compile(&tiny, &d, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("a→a") && e.contains("9 timesteps") && e.contains("4 delay slots"), "{e}");
    // Lava mixed-sign weights need 9-bit mantissas; tiny has 8.
    let net = |extra: &str| {
        parse(&format!(
            r#"{{"populations": [{{"name": "a", "size": 2, "model": "loihi_lif", "params": {{"du": 0, "dv": 0, "vth": 10}}}}],
                "projections": [{{"pre": "a", "post": "a", "connector": {{"type": "one_to_one"}}, "weight": 4{extra}}}]}}"#
        ))
    };
    let e = compile(&tiny, &net(r#", "sign_mode": "mixed""#), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("9-bit") && e.contains("has 8"), "{e}");
    // Given none, positive weights are lava's default `excitatory` (0..255), which fits.
    compile(&tiny, &net(""), &Options::default(), &mut |_| {}).unwrap();
    // Negative ones infer `inhibitory`: the refusal says the mode was inferred, and the way out.
    let l = parse(
        r#"{"populations": [{"name": "a", "size": 2, "model": "loihi_lif", "params": {"du": 0, "dv": 0, "vth": 10}}],
            "projections": [{"pre": "a", "post": "a", "connector": {"type": "one_to_one"}, "weight": -4}]}"#,
    );
    let e = compile(&tiny, &l, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("9-bit") && e.contains("its sign mode, `inhibitory`, is lava's default for its weights") && e.contains("non-negative weights"), "{e}");
}

#[test]
fn synapse_memory_forces_splitting() {
    // 16 neurons per core fit by count, but 60 sources × dense rows need more than
    // 512 words per core on `tiny`: the partitioner must split further.
    let net = parse(
        r#"{"populations": [{"name": "src", "size": 60, "model": "spike_source_poisson", "params": {"rate": 1.0}},
                            {"name": "dst", "size": 16, "model": "lif"}],
            "projections": [{"pre": "src", "post": "dst", "connector": {"type": "fixed_number_pre", "n": 60, "seed": 1}, "weight": 1.0}]}"#,
    );
    let out = build("tiny", &net);
    let dst = out.report.populations.iter().find(|p| p.name == "dst").unwrap();
    assert!(dst.cores > 1, "dst on {} cores", dst.cores);
    out.image.validate().unwrap();
}

#[test]
fn multi_chip_routing_is_exact_on_every_profile() {
    for (arch, n, p) in [("tiny", 40, 0.2), ("spinnaker", 900, 0.05), ("loihi", 3000, 0.01)] {
        let net = parse(&layered(n, p));
        let out = build(arch, &net);
        if arch == "tiny" {
            assert!(out.report.chips_used > 1, "tiny should need several chips");
            assert!(out.report.routing.tree_hops > 0);
        }
    }
}

#[test]
fn compression_reduces_and_tables_fit() {
    // Many small populations all projecting to one: entries compress by population.
    let mut pops = vec![r#"{"name": "sink", "size": 16, "model": "lif"}"#.to_string()];
    let mut projs = vec![];
    for i in 0..12 {
        pops.push(format!(r#"{{"name": "s{i}", "size": 8, "model": "spike_source_poisson", "params": {{"rate": 5.0}}, "seed": {i}}}"#));
        projs.push(format!(r#"{{"pre": "s{i}", "post": "sink", "connector": {{"type": "fixed_probability", "p": 0.2, "seed": {i}}}, "weight": 0.1}}"#));
    }
    let text = format!(r#"{{"dt_ms": 1.0, "populations": [{}], "projections": [{}]}}"#, pops.join(","), projs.join(","));
    let net = parse(&text);
    let out = build("tiny", &net);
    let r = &out.report.routing;
    assert!(r.entries_compressed <= r.entries_after_elision, "{r:?}");
    assert!(r.max_table_compressed <= 16);
}

#[test]
fn the_same_network_gives_the_same_bytes() {
    let a = Arch::builtin("tiny").unwrap();
    let net = parse(&layered(40, 0.2));
    let x = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap().image.to_bytes();
    let y = compile(&a, &parse(&layered(40, 0.2)), &Options::default(), &mut |_| {}).unwrap().image.to_bytes();
    assert_eq!(x, y);
    let mut o = Options::default();
    o.place.seed = 99;
    let z = compile(&a, &net, &o, &mut |_| {}).unwrap();
    check_routing(&net, &z.image).unwrap();
}

#[test]
fn placement_strategies_and_neurons_per_core() {
    use nerve_compiler::map::place::{PlacementFile, Strategy};
    let a = Arch::builtin("loihi").unwrap();
    let net = parse(&layered(2000, 0.01));
    let mut o = Options { neurons_per_core: Some(100), ..Options::default() };
    o.place.strategy = Strategy::Spread;
    let out = compile(&a, &net, &o, &mut |_| {}).unwrap();
    check_routing(&net, &out.image).unwrap();
    assert_eq!(out.report.populations[1].neurons_per_core, 100);
    assert_eq!(out.report.populations[1].cores, 20);
    let spread_tiles = out.report.tiles_used;
    o.place.strategy = Strategy::Pack;
    let packed = compile(&a, &net, &o, &mut |_| {}).unwrap();
    assert!(packed.report.tiles_used < spread_tiles, "{} vs {}", packed.report.tiles_used, spread_tiles);
    // Explicit placement.
    let list = vec![("in".to_string(), 0u32, 5u32), ("h1".to_string(), 0, 9)];
    o.place.strategy = Strategy::Explicit(PlacementFile { file: "mine.csv".into(), slices: list, lines: Vec::new() });
    let e = compile(&a, &net, &o, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("placement file mine.csv: ") && e.contains("has no core"), "{e}");
}

#[test]
fn quantisation_report_is_honest() {
    let net = parse(&layered(40, 0.2));
    let out = build("spinnaker", &net);
    for q in &out.report.quantisation {
        assert_eq!(q.clipped, 0, "{q:?}");
        assert!(q.worst_rel_error < 1e-3, "{q:?}");
    }
    let out = build("tiny", &net);
    for q in &out.report.quantisation {
        assert!(q.worst_rel_error < 0.01, "8-bit weights: {q:?}");
    }
}

#[test]
fn full_tables_trigger_rerouting_then_a_clear_error() {
    let net = parse(&layered(40, 0.2));
    let mut a = Arch::builtin("tiny").unwrap();
    let base = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap();
    let max = base.report.routing.max_table_compressed;
    assert!(max >= 2, "{:?}", base.report.routing);
    // One entry fewer than needed: re-routing either finds room (and the routes
    // stay exact) or the error names the router and the counts.
    a.router.table_entries = max - 1;
    match compile(&a, &net, &Options::default(), &mut |_| {}) {
        Ok(out) => {
            assert!(out.report.routing.max_table_compressed < max);
            check_routing(&net, &out.image).unwrap();
        }
        Err(e) => {
            let e = e.to_string();
            assert!(e.contains("routing table of tile") && e.contains("routings tried") && e.contains(&format!("the router has {}", max - 1)), "{e}");
        }
    }
    a.router.table_entries = 1;
    let e = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("routing table of tile") && e.contains("the router has 1"), "{e}");
}

/// Code generation and the image check split large work over threads (by
/// source neurons); the image must be byte-identical for any thread count,
/// including counts that leave a thread no source or split a core's rows.
#[test]
fn images_are_the_same_on_any_thread_count() {
    let a = Arch::builtin("spinnaker").unwrap();
    let net = parse(&layered(600, 0.05));
    let with = |k: usize| {
        let o = Options { neurons_per_core: Some(37), threads: Some(k), ..Options::default() };
        compile(&a, &net, &o, &mut |_| {}).unwrap().image.to_bytes()
    };
    let one = with(1);
    for k in [2, 3, 7, 64] {
        assert!(with(k) == one, "{k} threads gave another image");
    }
}

/// Partition checks populations side by side: a profile whose synaptic
/// memory makes several populations shrink, over more than one round, gives
/// the same image on any thread count, and one where two cannot fit at all
/// names the first of them.
#[test]
fn partition_is_the_same_on_any_thread_count() {
    let mut a = Arch::builtin("spinnaker").unwrap();
    let net = parse(&layered(900, 0.3));
    let with = |a: &Arch, k: usize| compile(a, &net, &Options { threads: Some(k), ..Options::default() }, &mut |_| {});
    let roomy = with(&a, 1).unwrap().image.cores.len();
    a.core.synapse_words = 4_000;
    let one = with(&a, 1).unwrap();
    assert!(one.image.cores.len() > roomy + 10, "the small memory splits populations further: {} cores, {roomy} with room", one.image.cores.len());
    for k in [2, 3, 8] {
        assert!(with(&a, k).unwrap().image.to_bytes() == one.image.to_bytes(), "{k} threads gave another image");
    }
    // Three words hold no row of h1's or h2's even at one neuron per core (out's rows are one synapse long).
    a.core.synapse_words = 3;
    for k in [1, 2, 3, 8] {
        let e = with(&a, k).unwrap_err().to_string();
        assert!(e.contains("`h1`") && e.contains("synaptic memory words"), "{k} threads: {e}");
    }
}

#[test]
fn routing_check_against_a_smaller_image_is_an_error() {
    // The network has neurons the image does not: an error naming one (was a panic).
    let a = Arch::builtin("tiny").unwrap();
    let img = compile(&a, &parse(&layered(40, 0.2)), &Options::default(), &mut |_| {}).unwrap().image;
    let e = check_routing(&parse(&layered(80, 0.2)), &img).unwrap_err();
    assert!(e.contains("no slice of the image holds it"), "{e}");
}

/// rand_big in miniature (`../shared/peers/pacman2net.py`'s shape): `pops`
/// LIF populations of 20–100 neurons, `projections` distinct random pairs,
/// each fixed_probability `p`; sizes and pairs from `seed`, not from `p`.
fn random_pairs(pops: u32, projections: usize, p: f64, seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let sizes: Vec<u64> = (0..pops).map(|_| 20 + next(81)).collect();
    let mut pairs = std::collections::BTreeSet::new();
    while pairs.len() < projections {
        pairs.insert((next(pops as u64), next(pops as u64)));
    }
    let pops_json: Vec<String> = sizes.iter().enumerate().map(|(i, n)| format!(r#"{{"name": "p{i}", "size": {n}, "model": "lif"}}"#)).collect();
    let proj_json: Vec<String> = pairs
        .iter()
        .enumerate()
        .map(|(k, (a, b))| {
            format!(r#"{{"pre": "p{a}", "post": "p{b}", "connector": {{"type": "fixed_probability", "p": {p}, "seed": {k}}}, "weight": 0.1, "delay": 1.0}}"#)
        })
        .collect();
    format!(r#"{{"name": "pairs", "dt_ms": 1.0, "populations": [{}], "projections": [{}]}}"#, pops_json.join(","), proj_json.join(","))
}

#[test]
fn shared_routes_keep_a_thinned_network_s_tables_from_growing() {
    let a = Arch::builtin("spinnaker").unwrap();
    for seed in [1, 2, 3] {
        let entries = |p: f64, shared: f64| {
            let net = parse(&random_pairs(40, 400, p, seed));
            let o = Options { neurons_per_core: Some(32), shared_routes: shared, ..Options::default() };
            let out = compile(&a, &net, &o, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
            let chk = check_routing(&net, &out.image).unwrap_or_else(|e| panic!("seed {seed}, p {p}, shared {shared}: {e}"));
            let s = &out.report.routing.sharing;
            assert_eq!(s.deliveries_routed > s.deliveries_exact, s.pairs_shared > 0);
            (out.report.routing.entries_compressed, s.pairs_shared, chk.deliveries_without_row)
        };
        let (dense, dense_shared, dense_no_row) = entries(0.1, 1.0);
        let (thin, thin_shared, thin_no_row) = entries(0.02, 1.0);
        assert!(thin_shared > dense_shared && dense_shared > 0, "seed {seed}: {thin_shared} vs {dense_shared} pairs shared");
        assert!(thin <= dense, "seed {seed}: {thin} entries at p = 0.02 against {dense} at 0.1");
        // Exact routes: the thinned network needs more entries (what sharing is for).
        let (dense0, _, dense0_no_row) = entries(0.1, 0.0);
        let (thin0, _, thin0_no_row) = entries(0.02, 0.0);
        assert!(thin0 > dense0 && dense0 > dense, "seed {seed}: exact {thin0} and {dense0}, shared {dense}");
        // The price: packets that reach cores with no row for them (the check counts them).
        assert!(dense_no_row > dense0_no_row && thin_no_row > thin0_no_row, "seed {seed}");
    }
    let net = parse(&random_pairs(4, 4, 0.1, 1));
    for bad in [-0.5, f64::NAN, f64::INFINITY] {
        let e = compile(&a, &net, &Options { shared_routes: bad, ..Options::default() }, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("shared routes") && e.contains(">= 0"), "{e}");
    }
}

/// Sharing routes a slice to every slice of its target population, cores
/// without synapses for it too; partitioning counts only the cores with
/// synapses against `max_output_axons`. On loihi (4096 output axons per core),
/// 1024 sources each reaching 4 of the 5 slices of 5120 neurons fit exactly;
/// shared, they would need 5 × 1024: that pair stays exact. With 512 sources,
/// 5 × 512 fits, and the pair is shared as before.
#[test]
fn shared_routes_stay_within_the_output_axon_limit() {
    let net = |n: u32| {
        let conns: Vec<String> = (0..n).flat_map(|i| (0..4).map(move |k| format!("[{i}, {}]", k * 1024 + i))).collect();
        parse(&format!(
            r#"{{"name": "axons", "dt_ms": 1.0, "populations": [
              {{"name": "a", "size": {n}, "model": "spike_source_poisson", "params": {{"rate": 10.0}}, "seed": 1}},
              {{"name": "b", "size": 5120, "model": "lif"}}],
            "projections": [{{"pre": "a", "post": "b", "connector": {{"type": "from_list", "connections": [{}]}}, "weight": 0.1}}]}}"#,
            conns.join(", ")
        ))
    };
    let out = build("loihi", &net(1024));
    let s = &out.report.routing.sharing;
    assert_eq!((s.pairs_shared, s.deliveries_exact, s.deliveries_routed), (0, 4096, 4096));
    let out = build("loihi", &net(512));
    let s = &out.report.routing.sharing;
    assert_eq!((s.pairs_shared, s.deliveries_exact, s.deliveries_routed), (1, 2048, 2560));
}

/// Target populations are filled side by side on several threads; a fault
/// found there is the one the first faulty population (in network order)
/// gives, on any thread count. A profile with 1024 delay slots lets delays
/// of 300 steps through to code generation, whose synapse words hold 255.
#[test]
fn the_first_faulty_population_gives_the_error_on_any_thread_count() {
    let mut a = Arch::builtin("spinnaker").unwrap();
    a.core.max_delay_steps = 1024;
    a.core.max_extended_delay_steps = None;
    let pops: Vec<String> = (0..8)
        .map(|k| format!(r#"{{"name": "p{k}", "size": 40, "model": "lif", "params": {{"tau_m": 20.0, "cm": 0.2, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0, "tau_refrac": 2.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0}}}}"#))
        .collect();
    let projs: Vec<String> = (0..8)
        .map(|k| {
            let delay = if k == 3 || k == 6 { 30.0 } else { 1.0 };
            format!(
                r#"{{"pre": "src", "post": "p{k}", "connector": {{"type": "fixed_probability", "p": 0.2, "seed": {}}}, "weight": 0.1, "delay": {delay}}}"#,
                k + 3
            )
        })
        .collect();
    let net = parse(&format!(
        r#"{{"name": "late", "dt_ms": 0.1, "populations": [{{"name": "src", "size": 50, "model": "spike_source_poisson", "params": {{"rate": 10.0}}, "seed": 1}}, {}], "projections": [{}]}}"#,
        pops.join(", "),
        projs.join(", ")
    ));
    for k in [1, 2, 3, 8] {
        let o = Options { threads: Some(k), ..Options::default() };
        let e = compile(&a, &net, &o, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("src→p3") && e.contains("exceeds 255"), "{k} threads: {e}");
    }
}

/// A convolution or pooling built in Rust (no reader to check it) whose
/// geometry the expansion cannot follow is refused by the compiler, naming
/// the projection and the bound: padding 2^31 overflowed its 32-bit index
/// arithmetic, and a kernel shorter than its shape was read past its end.
#[test]
fn conv_geometry_from_rust_is_checked() {
    use nerve_compiler::net::model::Connector;
    let tiny = Arch::builtin("tiny").unwrap();
    let good = parse(
        r#"{"populations": [{"name": "s", "size": 4, "model": "input"}, {"name": "l", "size": 1, "model": "lif"}, {"name": "c", "size": 4, "model": "lif"}],
            "projections": [{"pre": "s", "post": "l", "connector": {"type": "sum_pool2d", "in_shape": [1, 2, 2], "kernel": 2}, "weight": 1.0},
                            {"pre": "s", "post": "c", "connector": {"type": "conv2d", "in_shape": [1, 2, 2], "weights": [[[[1]]]]}, "label": "k"}]}"#,
    );
    let refused = |edit: &dyn Fn(&mut Connector)| -> String {
        let mut net = good.clone();
        for e in net.graph.edge_indices().collect::<Vec<_>>() {
            edit(&mut net.graph[e].connector);
        }
        match compile(&tiny, &net, &Options::default(), &mut |_| {}) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    };
    let msg = refused(&|c| {
        if let Connector::Pool2d(c) = c {
            c.padding = [1 << 31, 0];
        }
    });
    assert!(msg.contains("s→l") && msg.contains("padding 2147483648 is beyond 1048576"), "{msg}");
    let msg = refused(&|c| {
        if let Connector::Pool2d(c) = c {
            c.kernel = [1, 1];
            c.stride = [1, 1];
        }
    });
    assert!(msg.contains("s→l") && msg.contains("the output shape is [1, 1, 1], its geometry gives [1, 2, 2]"), "{msg}");
    let msg = refused(&|c| {
        if let Connector::Conv2d(c) = c {
            c.weights.clear();
        }
    });
    assert!(msg.contains("projection k") && msg.contains("0 kernel weights where its shape needs 1"), "{msg}");
}

/// A uniform initial u or v of `loihi_lif` (integers) is drawn as integers
/// spread evenly over lo..=hi: a float draw cut toward zero gave [-3, 3] as
/// -2..=2 with 0 twice as often, and [0, 1] as all 0.
#[test]
fn loihi_lif_uniform_initial_values_are_even_integers() {
    use nerve_isa::image::CoreKind;
    let counts = |lo: i32, hi: i32| -> std::collections::BTreeMap<i32, usize> {
        let net = parse(&format!(
            r#"{{"populations":[{{"name":"n","size":7000,"model":"loihi_lif","params":{{"du":0,"dv":0,"vth":100000}},"initial":{{"v":{{"uniform":[{lo},{hi}],"seed":3}}}}}}]}}"#
        ));
        let out = compile(&Arch::builtin("loihi").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap();
        let slot = out.image.populations[0].vars.iter().find(|x| x.name == "v").unwrap().slot as usize;
        let mut c = std::collections::BTreeMap::new();
        for core in &out.image.cores {
            let CoreKind::Neuron { state, .. } = &core.kind else { continue };
            for &v in &state[slot] {
                *c.entry(v).or_insert(0) += 1;
            }
        }
        c
    };
    let c = counts(-3, 3);
    assert_eq!(c.keys().copied().collect::<Vec<_>>(), (-3..=3).collect::<Vec<_>>(), "{c:?}");
    assert!(c.values().all(|&k| (850..=1150).contains(&k)), "about 1,000 each: {c:?}");
    let c = counts(0, 1);
    assert!(c.len() == 2 && c.values().all(|&k| (3200..=3800).contains(&k)), "{c:?}");
}

/// An initial v past half of v's range (where the LIF kernel holds v, so
/// that a step's adds cannot wrap) widens the scale: 2047.5 mV at Q20
/// (±2048 mV) wrapped round to −2048 mV on the first step. One within it
/// leaves the scale as the parameters chose it; one no scale holds is refused.
#[test]
fn lif_initial_v_is_held_by_its_scale() {
    use nerve_isa::image::CoreKind;
    let tiny = Arch::builtin("tiny").unwrap();
    let v_of = |v: &str| -> Result<(i32, f64), String> {
        let net = parse(&format!(r#"{{"populations":[{{"name":"n","size":1,"model":"if","params":{{"i_offset":10}},"initial":{{"v":{v}}}}}]}}"#));
        let out = compile(&tiny, &net, &Options::default(), &mut |_| {}).map_err(|e| e.to_string())?;
        let img = &out.image;
        let scale = img.populations[0].vars.iter().find(|x| x.name == "v").unwrap().scale;
        let core = img.cores.iter().find(|c| c.n_neurons == 1).unwrap();
        let CoreKind::Neuron { state, .. } = &core.kind else { panic!("{:?}", core.kind) };
        Ok((state[0][0], scale))
    };
    assert_eq!(v_of("-70").unwrap(), (-70 << 20, 2f64.powi(-20)));
    let (v0, scale) = v_of("2047.5").unwrap();
    assert!(v0.unsigned_abs() <= 1 << 30 && v0 as f64 * scale == 2047.5, "{v0} × {scale}");
    let e = v_of("-3e9").unwrap_err();
    assert!(e.contains("`n`") && e.contains("the initial v reaches |v| = 3000000000 mV") && e.contains("at most 2^30 mV"), "{e}");
}

/// Delay-extension relays are counted before they are built: one delay
/// slot and a delay of 65,535 steps from 100k neurons made 6.5e9 relays and
/// the compiler ran out of memory; it is refused naming the projection, the
/// source and the memory.
#[test]
fn delay_relays_beyond_memory_are_refused() {
    let mut arch = Arch::builtin("spinnaker").unwrap();
    arch.core.max_delay_steps = 1;
    arch.core.max_extended_delay_steps = Some(65535);
    let net = parse(
        r#"{"dt_ms": 0.1, "populations": [{"name": "src", "size": 100000, "model": "input"}, {"name": "l", "size": 1, "model": "lif"}],
            "projections": [{"pre": "src", "post": "l", "connector": {"type": "all_to_all"}, "weight": 1.0, "delay": 6553.5, "label": "far"}]}"#,
    );
    let e = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(
        e.contains("projection far")
            && e.contains("a delay of 65535 timesteps runs through 65534 delay-extension stages of `spinnaker`'s 1 delay slots")
            && e.contains("`src` (100000 neurons)")
            && e.contains("6553400000 neurons")
            && e.contains("GiB"),
        "{e}"
    );
}

/// STDP's words are magnitudes delivered with the receptor's sign, so a
/// learning projection's weight of the other sign would be delivered
/// flipped (a conv2d kernel's −0.5 delivered +0.5): refused for every
/// connector, naming the projection, the kernel entry or synapse and the
/// receptor. A kernel all of the receptor's sign compiles.
#[test]
fn stdp_weights_take_their_receptors_sign() {
    let loihi = Arch::builtin("loihi").unwrap();
    let stdp =
        r#""plasticity": {"type": "stdp", "timing_dependence": {"type": "spike_pair"}, "weight_dependence": {"type": "additive", "w_min": 0.0, "w_max": 1.0}}"#;
    let net = |proj: &str| {
        parse(&format!(
            r#"{{"populations": [{{"name": "inp", "size": 2, "model": "spike_source_array", "spike_times": [[], [5.0]]}}, {{"name": "out", "size": 1, "model": "lif"}}],
                "projections": [{{"pre": "inp", "post": "out", "label": "conv", {proj}, {stdp}}}]}}"#
        ))
    };
    let compiled = |n: &Network| compile(&loihi, n, &Options::default(), &mut |_| {}).map(|_| ()).map_err(|e| e.to_string());
    let e = compiled(&net(r#""connector": {"type": "conv2d", "in_shape": [1, 1, 2], "weights": [[[[0.5, -0.5]]]]}"#)).unwrap_err();
    assert!(e.contains("projection conv") && e.contains("conv2d kernel entry [0][0][0][1] is -0.5") && e.contains("excitatory receptor"), "{e}");
    let e = compiled(&net(r#""receptor": "inhibitory", "weight": 2, "connector": {"type": "conv2d", "in_shape": [1, 1, 2], "weights": [[[[-0.5, 0.25]]]]}"#))
        .unwrap_err();
    assert!(e.contains("kernel entry [0][0][0][1] is 0.25 (× the projection's weight 2: 0.5 nA)") && e.contains("inhibitory receptor"), "{e}");
    compiled(&net(r#""receptor": "inhibitory", "connector": {"type": "conv2d", "in_shape": [1, 1, 2], "weights": [[[[-0.5, -0.25]]]]}"#)).unwrap();
    // Through the Rust builder: a positive weight on the inhibitory receptor.
    use nerve_compiler::front::builder::NetworkBuilder;
    use nerve_compiler::net::model::{Connector, Model, Plasticity, StdpPlasticity};
    let mut b = NetworkBuilder::new("b", 1.0);
    let s = b.population("s", 2, Model::SpikeSourceArray(vec![vec![1.0], vec![2.0]])).unwrap();
    let l = b.population("l", 2, Model::neuron("lif", vec![]).unwrap()).unwrap();
    let st = StdpPlasticity {
        tau_plus: 20.0,
        tau_minus: 20.0,
        a_plus: 0.01,
        a_minus: 0.01,
        multiplicative: false,
        w_min: 0.0,
        w_max: 1.0,
        reward: None,
        weight_shift: None,
    };
    // The builder holds PyNN's convention as the JSON reader does (this
    // network reached the compiler's STDP check before, which names the synapse).
    let e = b
        .project(s, l, Connector::Dense(vec![vec![-0.5, -0.5], vec![-0.5, 0.5]]))
        .inhibitory()
        .label("p")
        .plasticity(Plasticity::Stdp(st))
        .add()
        .unwrap_err()
        .to_string();
    assert!(e.contains("projection p") && e.contains("a positive weight on an inhibitory projection"), "{e}");
}

/// A valid `weight_shift` can make a word worth more than the weights: at
/// 16 a word is 2 nA, so w_max 1 nA caps every learned word at 0 (nothing
/// could ever be learned): refused, naming w_max, the shift and the largest
/// that holds it. At 15 a word is 1 nA, w_max fits, but the initial 0.5 nA
/// is word 0 and delivers nothing: the report counts it as underflow (it
/// measured the raw weight and said 0). The default shift holds it.
#[test]
fn stdp_weights_below_one_word() {
    let spinnaker = Arch::builtin("spinnaker").unwrap();
    let net = |shift: &str| {
        parse(&format!(
            r#"{{"populations": [{{"name": "pre", "size": 1, "model": "spike_source_array", "spike_times": [[5.0, 20.0]]}}, {{"name": "post", "size": 1, "model": "lif"}}],
                "projections": [{{"pre": "pre", "post": "post", "label": "learn", "weight": 0.5, "connector": {{"type": "all_to_all"}},
                  "plasticity": {{"type": "stdp", "timing_dependence": {{"type": "spike_pair"}}, "weight_dependence": {{"type": "additive", "w_min": 0.0, "w_max": 1.0}}{shift}}}}}]}}"#
        ))
    };
    let e = compile(&spinnaker, &net(r#", "weight_shift": 16"#), &Options::default(), &mut |_| {}).map(|_| ()).unwrap_err().to_string();
    assert!(
        e.contains("projection learn") && e.contains("w_max 1 nA is less than one weight word at weight_shift 16 (2 nA)") && e.contains("at most 15"),
        "{e}"
    );
    let learn = |shift: &str| {
        let out = build("spinnaker", &net(shift));
        let q = out.report.quantisation.iter().find(|q| q.projection == "learn").unwrap().clone();
        (q.underflow, q.worst_rel_error)
    };
    assert_eq!(learn(r#", "weight_shift": 15"#), (1, 1.0));
    let (underflow, err) = learn("");
    assert_eq!(underflow, 0);
    assert!(err < 1e-3, "{err}");
}

/// `tiny` with row headers of 5,000 words and room for `extra` synapse
/// words more: a slice fits while it holds at most `extra` neurons of one
/// source's row, and the header, a fixed cost per slice, dominates the need.
fn header_heavy(extra: u32) -> Arch {
    let mut a = Arch::builtin("tiny").unwrap();
    a.name = "header-heavy".into();
    a.topology.chips = [16, 16];
    a.core.max_neurons = 1000;
    a.core.row_header_words = 5000;
    a.core.synapse_words = 5000 + extra;
    a.core.max_row_length = 1000;
    a.core.max_output_axons = None;
    a.validate().unwrap();
    a
}

/// One source neuron onto `n` neurons.
fn one_to_many(n: u32) -> Network {
    parse(&format!(
        r#"{{"populations": [{{"name": "s", "size": 1, "model": "spike_source_poisson", "params": {{"rate": 10.0}}}},
                            {{"name": "t", "size": {n}, "model": "lif"}}],
            "projections": [{{"pre": "s", "post": "t", "connector": {{"type": "all_to_all"}}, "weight": 0.5}}]}}"#
    ))
}

/// A need dominated by a fixed cost per slice shrinks the slice count by
/// one a ratio step; the partition then bisects for the largest slice that
/// fits (it stopped at 64 rounds with an internal error), and a population
/// that cannot fit even one neuron a core is a limit error naming it.
#[test]
fn fixed_costs_per_slice_still_partition() {
    let (n, extra) = (4000, 5);
    let arch = header_heavy(extra);
    let fit = extra * arch.synapses_per_word();
    let out = compile(&arch, &one_to_many(n), &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    let t = out.report.populations.iter().find(|p| p.name == "t").unwrap();
    // The largest slice whose row (header plus its synapses) fits, not a smaller one.
    assert_eq!(t.cores, n.div_ceil(fit), "{t:?}");
    out.image.validate().unwrap();

    let e = compile(&header_heavy(0), &one_to_many(n), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("`t`") && e.contains("synaptic memory words") && e.contains("needs 5001") && e.contains("has 5000"), "{e}");
}

/// The output-axon limit counts neurons × destination cores of a slice, so
/// a slice whose neurons reach more cores than the limit together (but not
/// one by one) is split, not refused.
#[test]
fn output_axons_split_a_slice_whose_neurons_fit_alone() {
    let mut arch = Arch::builtin("tiny").unwrap();
    arch.core.max_output_axons = Some(8);
    let net = parse(
        r#"{"populations": [{"name": "s", "size": 16, "model": "spike_source_poisson", "params": {"rate": 300.0}, "seed": 1},
                            {"name": "t", "size": 16, "model": "lif", "max_per_core": 1}],
            "projections": [{"pre": "s", "post": "t", "connector": {"type": "one_to_one"}, "weight": 0.5}]}"#,
    );
    let out = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    out.image.validate().unwrap();
    // Each source reaches one core: slices of k neurons reach k cores, k² ≤ 8.
    let s = out.report.populations.iter().find(|p| p.name == "s").unwrap();
    assert_eq!(s.cores, 8, "{s:?}");

    // A neuron that alone reaches 16 cores cannot fit 8 output axons.
    let net = parse(
        r#"{"populations": [{"name": "s", "size": 2, "model": "spike_source_poisson", "params": {"rate": 300.0}, "seed": 1},
                            {"name": "t", "size": 16, "model": "lif", "max_per_core": 1}],
            "projections": [{"pre": "s", "post": "t", "connector": {"type": "all_to_all"}, "weight": 0.5}]}"#,
    );
    let e = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("`s`") && e.contains("output axons") && e.contains("needs 16") && e.contains("has 8"), "{e}");
}

/// `n` LIF neurons joined all to all by gap junctions.
fn gap_net(n: u32) -> Network {
    parse(&format!(
        r#"{{"populations": [{{"name": "a", "size": {n}, "model": "lif"}}],
            "projections": [{{"pre": "a", "post": "a", "connector": {{"type": "all_to_all", "allow_self_connections": false}}, "weight": 0.01, "receptor": "electrical"}}]}}"#
    ))
}

/// A gap junction occupies its target core: a word per term (each
/// partner's, each neuron's self term) and an input key per partner on
/// another core. The partition splits for them, validation counts them the
/// same way, and one neuron that cannot fit its junctions is a limit error.
#[test]
fn gap_junctions_take_words_and_keys() {
    let mut arch = Arch::builtin("tiny").unwrap();
    // 16 neurons, each with 15 partners and its self term: 16 words a neuron.
    arch.core.synapse_words = 64;
    let out = compile(&arch, &gap_net(16), &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    let a = &out.report.populations[0];
    assert_eq!((a.neurons_per_core, a.cores), (4, 4), "{a:?}");
    assert_eq!(out.report.gap_terms, 16 * 16);
    for c in &out.image.cores {
        assert_eq!(out.image.synapse_words(c), c.gap.len() as u64);
        assert_eq!(c.gap_sources(), 12, "{}", c.core);
    }
    // The same image where a core holds fewer words, or fewer keys, than its junctions need.
    let img = out.image.into_image();
    let mut small = img.clone();
    small.arch.core.synapse_words = 63;
    let e = small.validate().unwrap_err().to_string();
    assert!(e.contains("synaptic memory words") && e.contains("64"), "{e}");
    let mut few = img;
    few.arch.core.max_input_keys = Some(11);
    let e = few.validate().unwrap_err().to_string();
    assert!(e.contains("input keys") && e.contains("12"), "{e}");

    // Smaller slices have more partners elsewhere: 4 keys fit no split.
    arch.core.max_input_keys = Some(4);
    let e = compile(&arch, &gap_net(16), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("`a`") && e.contains("input keys") && e.contains("has 4"), "{e}");
}

/// `spread` deals the slices over every tile, and refinement keeps that:
/// it only swaps slices, so min(slices, tiles) tiles stay in use however
/// strongly the slices attract each other.
#[test]
fn spread_uses_every_tile_after_refinement() {
    use nerve_compiler::map::place::Strategy;
    let a = Arch::builtin("tiny").unwrap();
    let tiles = a.num_tiles();
    for per_core in [16, 4, 2] {
        let net = parse(&layered(16, 0.5));
        let mut o = Options { neurons_per_core: Some(per_core), ..Options::default() };
        o.place.strategy = Strategy::Spread;
        let out = compile(&a, &net, &o, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
        check_routing(&net, &out.image).unwrap();
        let slices: u32 = out.report.populations.iter().map(|p| p.cores).sum();
        let mut used: Vec<_> = out.image.cores.iter().map(|c| a.tile_of(c.core)).collect();
        used.sort();
        used.dedup();
        assert_eq!(used.len() as u32, slices.min(tiles), "{per_core} neurons per core: {slices} slices");
        // Dealt evenly: no tile holds more than its share.
        let most = used.iter().map(|t| out.image.cores.iter().filter(|c| a.tile_of(c.core) == *t).count()).max().unwrap();
        assert_eq!(most as u32, slices.div_ceil(tiles), "{per_core} neurons per core");
    }
}

/// `Options::stop`, set while a compile runs (here by its progress report
/// of a stage), ends it at its next stage with `Interrupted`: no later stage
/// runs (Python sets it from a KeyboardInterrupt).
#[test]
fn a_stopped_compile_ends_at_its_next_stage() {
    let net = parse(&layered(300, 0.1));
    let a = Arch::builtin("spinnaker").unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opts = Options { stop: Some(stop.clone()), ..Options::default() };
    for at in ["expanding connectors", "quantising", "partition round 1", "placement refinement", "routing trees", "generating code", "checking the image"] {
        stop.store(false, std::sync::atomic::Ordering::Relaxed);
        let mut seen: Vec<String> = Vec::new();
        let r = compile(&a, &net, &opts, &mut |s: &str| {
            seen.push(s.to_string());
            if s == at {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        });
        assert!(matches!(r, Err(nerve_compiler::CompileError::Interrupted)), "stopped at {at}: {:?}", r.map(|_| ()));
        let k = seen.iter().position(|s| s == at).unwrap_or_else(|| panic!("no stage {at}: {seen:?}"));
        // Within the stage's own loop (partition rounds, routing) its next report may come; no later stage starts.
        let later = ["quantising", "placement refinement", "routing trees", "generating code", "checking the image"];
        let stages_after: Vec<&String> = seen[k + 1..].iter().filter(|s| later.contains(&s.as_str())).collect();
        assert!(stages_after.is_empty(), "stopped at {at}, then {stages_after:?}");
    }
    stop.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(compile(&a, &net, &opts, &mut |_| {}).is_ok());
}

/// A population's slices that share a tree share the tree of the first
/// of them, each joined by its own path, with branches to nothing cut:
/// rerooted slice after slice, it kept every earlier source's join (one
/// 2,000-neuron population in 500 slices took 9,400 hops, and 75 routers
/// passed packets on to be dropped, where 500 populations of 4 took 2,890).
#[test]
fn a_shared_tree_does_not_grow_with_the_slices() {
    // `slices` populations of `per` neurons, or one of slices × per, into one.
    let net = |pops: u32, per: u32| {
        let mut p = vec![r#"{"name": "sink", "size": 10, "model": "lif"}"#.to_string()];
        let mut j = vec![];
        for i in 0..pops {
            p.push(format!(r#"{{"name": "s{i}", "size": {per}, "model": "spike_source_poisson", "params": {{"rate": 5.0}}, "seed": {i}}}"#));
            j.push(format!(r#"{{"pre": "s{i}", "post": "sink", "connector": {{"type": "all_to_all"}}, "weight": 0.1}}"#));
        }
        parse(&format!(r#"{{"dt_ms": 1.0, "populations": [{}], "projections": [{}]}}"#, p.join(","), j.join(",")))
    };
    let a = Arch::builtin("spinnaker").unwrap();
    let o = Options { neurons_per_core: Some(4), ..Options::default() };
    let mut hops = vec![];
    for n in [net(1, 800), net(200, 4)] {
        let out = compile(&a, &n, &o, &mut |_| {}).unwrap();
        check_routing(&n, &out.image).unwrap();
        let r = &out.report.routing;
        assert_eq!(r.trees, 200, "{r:?}");
        assert!(out.report.chips_used > 10, "the sources span chips");
        // Every router of every tree delivers or passes packets on.
        for t in nerve_compiler::export::spinnaker::uncompressed(&out.image).unwrap() {
            assert!(t.entries.iter().all(|e| e.route != 0), "a router at ({}, {}) drops packets", t.x, t.y);
        }
        hops.push(r.tree_hops);
    }
    assert!(hops[0] * 10 <= hops[1] * 12, "one population's trees take {} hops, 200 populations' {}", hops[0], hops[1]);
}

/// Where the first trees' tables overflow, the slices' trees shared slice
/// to slice are tried (their routes merge more): this network's largest
/// table is 19 with the first and 16 with the second, and it compiles on
/// routers of 16 to 18 entries (it was refused at 16 and 17 with "needs
/// 19"). A router still full is reported with the fewest entries any
/// routing tried needed, a limit that then compiles (the last round's count
/// was reported, and then the first routing's, 19 where 16 would do).
#[test]
fn a_full_router_is_reported_with_the_fewest_entries_any_routing_needed() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/reroute_r6.json")).unwrap();
    let net = parse(&text);
    let mut a = Arch::builtin("spinnaker").unwrap();
    (a.topology.chips, a.topology.cores_per_tile, a.topology.chips_per_board, a.core.max_neurons) = ([10, 10], 3, 1, 7);
    (a.core.synapse_words, a.core.max_row_length, a.core.max_delay_steps) = (4000, 5, 4);
    let first = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap().report.routing.max_table_compressed;
    assert_eq!(first, 19);
    for limit in [18, 17, 16] {
        a.router.table_entries = limit;
        let out = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("at {limit}: {e}"));
        assert!(out.report.routing.max_table_compressed <= limit);
    }
    for limit in [15, 14, 12] {
        a.router.table_entries = limit;
        let e = compile(&a, &net, &Options::default(), &mut |_| {}).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("routings tried") && e.contains(&format!("the router has {limit}")), "{e}");
        let need: u32 = e.split(" needs ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert!(need > limit, "{e}");
        a.router.table_entries = need;
        assert!(compile(&a, &net, &Options::default(), &mut |_| {}).is_ok(), "{need} entries, as said, compile");
    }
}

/// Refinement never hands back a placement worse than its start: on synfire
/// (one slice per population, so its objective is the traffic cost) it
/// ended at 400 from 200 in 5 of 8 seeds on spinnaker, with 21 → 24
/// routing entries and 14% more dynamic energy.
#[test]
fn refinement_never_ends_worse_than_it_began() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/synfire/network.json");
    let net = nerve_compiler::front::read(&root, &Default::default()).unwrap();
    let mut kept = 0;
    for arch in ["spinnaker", "loihi"] {
        for seed in 0..8 {
            let mut o = Options::default();
            o.place.seed = seed;
            let r = compile(&Arch::builtin(arch).unwrap(), &net, &o, &mut |_| {}).unwrap().report;
            assert!(r.placement_cost_final <= r.placement_cost_initial, "{arch} seed {seed}: {} → {}", r.placement_cost_initial, r.placement_cost_final);
            kept += r.placement_refinement.kept_start as usize;
        }
    }
    assert!(kept > 0, "some seed ends worse and keeps its start (the review's 5 of 8 on spinnaker)");
}

/// Cores taken by the compiler's own delay relays are named when the cores
/// run out: 400,000 sources through a 14.4 ms delay need 7,816 cores, 6,252
/// of them relays (the message named neither the relays nor the delay; with
/// 3.2 ms the network fits).
#[test]
fn relays_that_run_out_of_cores_are_named() {
    let net = |delay: f64| {
        parse(&format!(
            r#"{{"name": "rel", "dt_ms": 0.1, "populations": [
              {{"name": "s", "size": 400000, "model": "spike_source_poisson", "params": {{"rate": 1}}}},
              {{"name": "q", "size": 10, "model": "lif"}}],
              "projections": [{{"pre": "s", "post": "q", "connector": {{"type": "fixed_number_post", "n": 1, "seed": 1}}, "weight": 0.1, "delay": {delay}}}]}}"#
        ))
    };
    let e = compile(&Arch::builtin("spinnaker").unwrap(), &net(14.4), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(
        e.contains("needs at least 7816 cores")
            && e.contains(
                "6252 of the 7816 are relays the compiler adds for delays past `spinnaker`'s 32 delay slots (the longest: projection s→q, 144 timesteps)"
            ),
        "{e}"
    );
    assert!(compile(&Arch::builtin("spinnaker").unwrap(), &net(3.2), &Options::default(), &mut |_| {}).is_ok());
}

/// The cores delay-extension relays will take are counted before any relay
/// is built: a delay of 400 steps of 4-step slots (99 stages of one relay)
/// on `tiny`'s 36 cores is refused at once, the relays' share said (65,534
/// stages on a 64-core profile were refused only after 30 s of building,
/// partitioning and placing them). An exporter, placing nothing, still
/// takes the network.
#[test]
fn relay_cores_are_counted_before_the_relays_are_built() {
    let mut tiny = Arch::builtin("tiny").unwrap();
    tiny.core.max_extended_delay_steps = Some(1000);
    let net = parse(
        r#"{"dt_ms": 1.0, "populations": [{"name": "src", "size": 1, "model": "spike_source_array", "spike_times": [[1.0]]},
                                          {"name": "dst", "size": 1, "model": "lif"}],
            "projections": [{"pre": "src", "post": "dst", "connector": {"type": "all_to_all"}, "weight": 1.0, "delay": 400.0}]}"#,
    );
    let mut stages = Vec::new();
    let e = compile(&tiny, &net, &Options::default(), &mut |s| stages.push(s.to_string())).unwrap_err().to_string();
    assert!(
        e.contains("needs at least 101 cores but `tiny` has 36")
            && e.contains("99 of the 101 are relays the compiler adds for delays past `tiny`'s 4 delay slots (the longest: projection src→dst, 400 timesteps)"),
        "{e}"
    );
    assert!(!stages.iter().any(|s| s.starts_with("quantising") || s.starts_with("partition")), "{stages:?}");
    // Within the cores, the same network compiles (8 steps: one relay).
    let short = parse(
        r#"{"dt_ms": 1.0, "populations": [{"name": "src", "size": 1, "model": "spike_source_array", "spike_times": [[1.0]]},
                                          {"name": "dst", "size": 1, "model": "lif"}],
            "projections": [{"pre": "src", "post": "dst", "connector": {"type": "all_to_all"}, "weight": 1.0, "delay": 8.0}]}"#,
    );
    assert!(compile(&tiny, &short, &Options::default(), &mut |_| {}).is_ok());
    assert!(nerve_compiler::compile::prepare(&tiny, &net, &Options::default(), &mut |_| {}).is_ok());
}
