//! Random elements without a `seed`: each draws its own sequence, from its
//! identity, and the same file gives the same image (docs/network-format.md).

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::json::parse_network;
use nerve_compiler::lower::fixed::initial;
use nerve_compiler::models::poisson::spike_steps;
use nerve_compiler::net::expand::expand;
use nerve_compiler::net::model::{Model, Network, Values};
use nerve_isa::arch::Arch;
use petgraph::graph::EdgeIndex;
use std::path::Path;

const NET: &str = r#"{"name": "seeds", "dt_ms": 1.0,
  "populations": [
    {"name": "p1", "size": 50, "model": "spike_source_poisson", "params": {"rate": 100.0}},
    {"name": "p2", "size": 50, "model": "spike_source_poisson", "params": {"rate": 100.0}},
    {"name": "l1", "size": 40, "model": "lif", "initial": {"v": {"uniform": [-65.0, -55.0]}, "isyn_exc": {"uniform": [-65.0, -55.0]}}},
    {"name": "l2", "size": 40, "model": "lif", "initial": {"v": {"uniform": [-65.0, -55.0]}}}],
  "projections": [
    {"pre": "p1", "post": "l1", "weight": 0.1, "connector": {"type": "fixed_probability", "p": 0.2}},
    {"pre": "p1", "post": "l1", "weight": 0.1, "connector": {"type": "fixed_probability", "p": 0.2}},
    {"pre": "p1", "post": "l2", "weight": 0.1, "connector": {"type": "fixed_number_pre", "n": 5}},
    {"pre": "p1", "post": "l2", "weight": 0.1, "connector": {"type": "fixed_number_pre", "n": 5}},
    {"pre": "l1", "post": "l2", "receptor": "electrical", "weight": 0.01, "connector": {"type": "fixed_probability", "p": 0.2}},
    {"pre": "l1", "post": "l2", "receptor": "electrical", "weight": 0.01, "connector": {"type": "fixed_probability", "p": 0.2}}]}"#;

fn parse(text: &str) -> Network {
    parse_network(text, Path::new("t.json")).unwrap_or_else(|e| panic!("{e}"))
}

fn pairs(n: &Network, e: usize) -> Vec<(u32, u32)> {
    let s = expand(n, EdgeIndex::new(e)).unwrap();
    let s = &s;
    (0..s.n_pre()).flat_map(|i| s.row(i).map(move |k| (i as u32, s.post[k]))).collect()
}

fn spikes(n: &Network, name: &str) -> Vec<Vec<u32>> {
    let (_, pop) = n.pops().find(|(_, p)| p.name == name).unwrap();
    let Model::SpikeSourcePoisson { rate, seed } = &pop.model else { panic!("{name} is not Poisson") };
    spike_steps(pop, rate, *seed, n.dt_ms, 200)
}

fn init(n: &Network, name: &str, var: &str) -> Vec<f64> {
    let (_, pop) = n.pops().find(|(_, p)| p.name == name).unwrap();
    initial(pop, var, &Values::Scalar(f64::NAN))
}

#[test]
fn unseeded_poisson_sources_spike_differently() {
    let n = parse(NET);
    let (a, b) = (spikes(&n, "p1"), spikes(&n, "p2"));
    assert!(a.iter().map(Vec::len).sum::<usize>() > 500, "a 100 Hz source spikes");
    assert_ne!(a, b, "two unseeded Poisson populations spiked alike");
    // An explicit seed is kept as given: equal seeds, equal trains.
    let seeded = NET.replace(r#""rate": 100.0}}"#, r#""rate": 100.0}, "seed": 3}"#);
    let n = parse(&seeded);
    assert_eq!(spikes(&n, "p1"), spikes(&n, "p2"));
}

#[test]
fn unseeded_projections_connect_differently() {
    let n = parse(NET);
    assert_ne!(pairs(&n, 0), pairs(&n, 1), "two unseeded fixed_probability projections");
    assert_ne!(pairs(&n, 2), pairs(&n, 3), "two unseeded fixed_number_pre projections");
    let el: Vec<u64> = n
        .electrical
        .iter()
        .map(|e| match e.p.connector {
            nerve_compiler::net::model::Connector::FixedProbability { seed, .. } => seed,
            _ => unreachable!(),
        })
        .collect();
    assert_ne!(el[0], el[1], "two unseeded electrical projections");
    let seeded = NET.replace(r#""p": 0.2}"#, r#""p": 0.2, "seed": 4}"#);
    let n = parse(&seeded);
    assert_eq!(pairs(&n, 0), pairs(&n, 1));
}

#[test]
fn unseeded_initial_values_differ() {
    let n = parse(NET);
    let (v1, v2, i1) = (init(&n, "l1", "v"), init(&n, "l2", "v"), init(&n, "l1", "isyn_exc"));
    assert!(v1.iter().all(|x| (-65.0..-55.0).contains(x)));
    assert_ne!(v1, v2, "two populations' unseeded uniform v");
    assert_ne!(v1, i1, "two unseeded uniform variables of one population");
}

#[test]
fn the_same_file_gives_the_same_image() {
    let a = Arch::builtin("spinnaker").unwrap();
    let image = || compile(&a, &parse(NET), &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{e}")).image.to_bytes();
    assert!(image() == image());
}
