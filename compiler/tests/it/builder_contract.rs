//! Networks built in Rust meet the contract the JSON reader holds a file to
//! (`net::check`): one table, each row a misuse of the builder and the words
//! its typed error must hold. Before, these panicked in the partitioner or
//! the expansion, or compiled to something else (a `fixed_probability` of
//! 1.5 connected every pair, a NaN spike time ran at step 0).

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::builder::NetworkBuilder;
use nerve_compiler::net::model::*;
use nerve_isa::arch::Arch;

type Build = fn(&mut NetworkBuilder) -> Result<(), nerve_compiler::error::CompileError>;

fn lif() -> Model {
    Model::neuron("lif", vec![]).unwrap()
}

fn loihi() -> Model {
    Model::neuron("loihi_lif", vec![("du", 1.0.into()), ("dv", 1.0.into()), ("vth", 10.0.into())]).unwrap()
}

fn list(pairs: &[(u32, u32)]) -> Connector {
    Connector::FromList(pairs.iter().map(|&(pre, post)| Conn { pre, post, weight: None, delay: None }).collect())
}

fn two(b: &mut NetworkBuilder, na: u32, nb: u32) -> (PopIx, PopIx) {
    (b.population("a", na, lif()).unwrap(), b.population("b", nb, lif()).unwrap())
}

const ROWS: &[(&str, Build, &[&str])] = &[
    (
        "one_to_one of unequal sizes",
        |b| {
            let (a, c) = two(b, 3, 2);
            b.project(a, c, Connector::OneToOne).weight(1.0).add().map(drop)
        },
        &["a→b", "one_to_one needs equal sizes, pre has 3 and post 2"],
    ),
    (
        "list index past pre",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, list(&[(0, 0), (5, 1)])).weight(1.0).add().map(drop)
        },
        &["connection 1 (5, 1) is out of range: pre has 2 neurons, post 2"],
    ),
    (
        "list index past post",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, list(&[(0, 9)])).weight(1.0).add().map(drop)
        },
        &["connection 0 (0, 9) is out of range"],
    ),
    (
        "ragged list",
        |b| {
            let (a, c) = two(b, 2, 2);
            let l = ConnList { pre: vec![0, 1], post: vec![0], weight: None, delay: None };
            b.project(a, c, Connector::FromList(l)).weight(1.0).add().map(drop)
        },
        &["`post` column has 1 entries where `pre` has 2"],
    ),
    (
        "dense of too many rows",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, Connector::Dense(vec![vec![1.0, 1.0]; 3])).add().map(drop)
        },
        &["expected 2 rows (one per post neuron), found 3"],
    ),
    (
        "dense row too wide",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, Connector::Dense(vec![vec![1.0; 3], vec![1.0; 2]])).add().map(drop)
        },
        &["dense row 0: expected 2 weights (one per pre neuron), found 3"],
    ),
    (
        "fixed_number_post past the population",
        |b| {
            let (a, c) = two(b, 2, 3);
            b.project(a, c, Connector::FixedNumberPost { n: 4, seed: 1, allow_self_connections: true }).weight(1.0).add().map(drop)
        },
        &["n = 4 exceeds the 3 distinct candidates"],
    ),
    (
        "fixed_probability past 1",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, Connector::FixedProbability { p: 1.5, seed: 1, allow_self_connections: true }).weight(1.0).add().map(drop)
        },
        &["p must be in [0, 1], found 1.5"],
    ),
    (
        "fixed_probability NaN",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, Connector::FixedProbability { p: f64::NAN, seed: 1, allow_self_connections: true }).weight(1.0).add().map(drop)
        },
        &["p must be in [0, 1], found NaN"],
    ),
    (
        "NaN weight",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, Connector::AllToAll { allow_self_connections: true }).weight(f64::NAN).add().map(drop)
        },
        &["the weight NaN is not a finite number"],
    ),
    (
        "negative weight on an excitatory projection",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, Connector::AllToAll { allow_self_connections: true }).weight(-2.0).add().map(drop)
        },
        &["a→b", "a negative weight on an excitatory projection", "PyNN's convention"],
    ),
    (
        "positive weight on an inhibitory projection",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, Connector::AllToAll { allow_self_connections: true }).weight(2.0).inhibitory().add().map(drop)
        },
        &["a positive weight on an inhibitory projection"],
    ),
    (
        "loihi fields into lif",
        |b| {
            let (a, c) = two(b, 2, 2);
            let l = LoihiWeights { weight_exp: 2, ..LoihiWeights::default() };
            b.project(a, c, Connector::AllToAll { allow_self_connections: true }).weight(1.0).loihi(l).add().map(drop)
        },
        &["apply to projections into loihi_lif populations, not `lif`"],
    ),
    (
        "num_weight_bits 0",
        |b| {
            let a = b.population("a", 2, Model::Input).unwrap();
            let c = b.population("b", 2, loihi()).unwrap();
            let l = LoihiWeights { num_weight_bits: 0, ..LoihiWeights::default() };
            b.project(a, c, Connector::OneToOne).weight(100.0).loihi(l).add().map(drop)
        },
        &["num_weight_bits must be in 1..=8, found 0"],
    ),
    (
        "num_weight_bits 200",
        |b| {
            let a = b.population("a", 2, Model::Input).unwrap();
            let c = b.population("b", 2, loihi()).unwrap();
            let l = LoihiWeights { num_weight_bits: 200, ..LoihiWeights::default() };
            b.project(a, c, Connector::OneToOne).weight(100.0).loihi(l).add().map(drop)
        },
        &["num_weight_bits must be in 1..=8, found 200"],
    ),
    (
        "Poisson rates of the wrong length",
        |b| b.population("p", 3, Model::SpikeSourcePoisson { rate: Values::PerNeuron(vec![1.0, 2.0]), seed: 1 }).map(drop),
        &["population `p` (spike_source_poisson): rate: 2 values for 3 neurons"],
    ),
    (
        "Poisson rate NaN",
        |b| b.population("p", 3, Model::SpikeSourcePoisson { rate: f64::NAN.into(), seed: 1 }).map(drop),
        &["rate: NaN is not a finite number"],
    ),
    (
        "Poisson rate negative",
        |b| b.population("p", 3, Model::SpikeSourcePoisson { rate: (-5.0).into(), seed: 1 }).map(drop),
        &["rates must be ≥ 0 Hz, found -5"],
    ),
    (
        "Poisson rate past one a step",
        |b| b.population("p", 3, Model::SpikeSourcePoisson { rate: 5000.0.into(), seed: 1 }).map(drop),
        &["a rate of 5000 Hz means more than one spike per 1 ms timestep"],
    ),
    ("too few spike lists", |b| b.population("s", 3, Model::SpikeSourceArray(vec![vec![1.0]])).map(drop), &["1 lists of spike times for 3 neurons"]),
    (
        "a NaN spike time",
        |b| b.population("s", 1, Model::SpikeSourceArray(vec![vec![1.0, f64::NAN]])).map(drop),
        &["neuron 0: spike times must be finite and ≥ 0 ms, found NaN"],
    ),
    ("a negative spike time", |b| b.population("s", 1, Model::SpikeSourceArray(vec![vec![-1.0]])).map(drop), &["found -1"]),
    (
        "a spike time past the steps",
        |b| b.population("s", 1, Model::SpikeSourceArray(vec![vec![1e12]])).map(drop),
        &["spike time 1000000000000 ms is beyond step 4294967295"],
    ),
    (
        "two spikes in a step",
        |b| b.population("s", 1, Model::SpikeSourceArray(vec![vec![3.0, 1.0, 1.2]])).map(drop),
        &["spike times 1 and 1.2 ms fall in the same 1 ms timestep"],
    ),
    (
        "an initial value of no variable",
        |b| {
            let (a, _) = two(b, 2, 2);
            b.initial(a, "vv", Init::Values(0.0.into()));
            Ok(())
        },
        &["population `a` (lif): no state variable `vv`", "it has: v"],
    ),
    (
        "an initial value of a source",
        |b| {
            let s = b.population("s", 2, Model::Input).unwrap();
            b.initial(s, "v", Init::Values(0.0.into()));
            Ok(())
        },
        &["population `s` (input): no state variable `v` to give an initial value (it has: none)"],
    ),
    (
        "initial values of the wrong length",
        |b| {
            let (a, _) = two(b, 2, 2);
            b.initial(a, "v", Init::Values(Values::PerNeuron(vec![0.0; 5])));
            Ok(())
        },
        &["initial `v`: 5 values for 2 neurons"],
    ),
    (
        "a fractional loihi state",
        |b| {
            let c = b.population("c", 2, loihi()).unwrap();
            b.initial(c, "v", Init::Values(1000.7.into()));
            Ok(())
        },
        &["initial `v`: 1000.7 is not one of its 24-bit integers"],
    ),
    (
        "max_per_core 0",
        |b| {
            let (a, _) = two(b, 2, 2);
            b.max_per_core(a, 0);
            Ok(())
        },
        &["max_per_core must be ≥ 1"],
    ),
    (
        "another builder's population",
        |b| {
            let (a, _) = two(b, 2, 2);
            b.project(a, PopIx::new(7), Connector::OneToOne).weight(1.0).add().map(drop)
        },
        &["post population index 7 is not one of this builder's 2"],
    ),
    (
        "another builder's population, recorded",
        |b| {
            b.record(PopIx::new(3));
            Ok(())
        },
        &["record: population index 3 is not one of this builder's 0"],
    ),
    (
        "a given label that is taken",
        |b| {
            let (a, c) = two(b, 2, 2);
            b.project(a, c, Connector::OneToOne).weight(1.0).add()?;
            b.project(a, c, Connector::OneToOne).weight(2.0).label("a→b").add().map(drop)
        },
        &["projection label `a→b` is used twice"],
    ),
];

#[test]
fn builder_misuse_is_refused_with_its_culprit() {
    for (what, build, want) in ROWS {
        let mut b = NetworkBuilder::new("t", 1.0);
        let e = match build(&mut b) {
            Err(e) => e.to_string(),
            Ok(()) => match b.finish() {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{what}: accepted"),
            },
        };
        for w in *want {
            assert!(e.contains(w), "{what}: `{w}` not in: {e}");
        }
    }
}

/// A network put together without the builder is held to the same
/// contract by `compile` itself (it had panicked in the partitioner).
#[test]
fn compile_checks_a_hand_made_network() {
    let mut net = Network::new("t", 1.0);
    let pop =
        |name: &str, size| Population { name: name.into(), size, model: lif(), initial: vec![], record_spikes: false, max_per_core: None, labels: vec![] };
    let a = net.graph.add_node(pop("a", 3));
    let b = net.graph.add_node(pop("b", 2));
    let p = Projection {
        label: "a→b".into(),
        receptor: Receptor::Excitatory,
        connector: Connector::OneToOne,
        weight: Some(1.0),
        delay_ms: None,
        loihi: LoihiWeights::default(),
        plasticity: None,
    };
    net.graph.add_edge(a, b, p);
    let e = compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("one_to_one needs equal sizes, pre has 3 and post 2"), "{e}");
}

/// Spike times in any order are taken, as the JSON reader takes them
/// (unsorted ones had made "an internal error: the generated image is invalid").
#[test]
fn spike_times_in_any_order_are_sorted() {
    let mut b = NetworkBuilder::new("t", 1.0);
    let s = b.population("s", 2, Model::SpikeSourceArray(vec![vec![5.0, 1.0, 3.0], vec![]])).unwrap();
    let n = b.population("n", 2, lif()).unwrap();
    b.project(s, n, Connector::OneToOne).weight(1.0).add().unwrap();
    let net = b.finish().unwrap();
    assert!(matches!(&net.pop(s).model, Model::SpikeSourceArray(l) if l[0] == [1.0, 3.0, 5.0]));
    compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap();
}
