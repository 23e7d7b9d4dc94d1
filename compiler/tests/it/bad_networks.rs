//! Bad network files, one table: each row a small network a stranger might
//! write and the words its error must hold (the culprit's JSON path or name
//! and the limit). Each must be refused by the parser with a typed error,
//! never a panic, an abort or a network that means something else.

use nerve_compiler::front::json::parse_network;
use std::path::Path;

/// (network JSON, message fragments).
const ROWS: &[(&str, &[&str])] = &[
    // One list of spike times for 2^32 − 1 neurons: refused before it is copied per neuron (an abort allocating 100 GB).
    (
        r#"{"populations":[{"name":"n","size":4294967295,"model":"spike_source_array","spike_times":[1.0]}]}"#,
        &["$.populations[0].spike_times", "population `n`", "4294967295 neurons", "GiB", "available"],
    ),
    (
        r#"{"populations":[{"name":"n","size":4294967295,"model":"spike_source_array","spike_times":[]}]}"#,
        &["$.populations[0].spike_times", "population `n`", "GiB", "available"],
    ),
    // Times: a run of such steps overflows its reports' time axes (1e307 hung `nerve report`), or a step leaves 32 bits.
    (r#"{"dt_ms":1e307,"populations":[{"name":"n","size":2,"model":"lif"}]}"#, &["$.dt_ms", "1e307 ms", "outside 1e-6..=10000 ms"]),
    (r#"{"dt_ms":1e-300,"populations":[{"name":"n","size":2,"model":"lif"}]}"#, &["$.dt_ms", "1e-300 ms", "outside 1e-6..=10000 ms"]),
    (r#"{"dt_ms":-1e300,"populations":[{"name":"n","size":2,"model":"lif"}]}"#, &["$.dt_ms", "positive, found -1e300"]),
    (r#"{"dt_ms":1,"duration_ms":1e307,"populations":[{"name":"n","size":2,"model":"lif"}]}"#, &["$.duration_ms", "1e307 ms", "4294967295"]),
    (
        r#"{"dt_ms":1,"populations":[{"name":"n","size":2,"model":"spike_source_array","spike_times":[[1.0],[5e9]]}]}"#,
        &["$.populations[0].spike_times[1][0]", "spike time 5000000000 ms is step 5e9", "4294967295"],
    ),
    // Numbers in messages compactly, not ~300 digits.
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[{"pre":"a","post":"a","weight":1,"delay":1e-300,"connector":{"type":"one_to_one"}}]}"#,
        &["$.projections[0].delay", "delay 1e-300 ms is shorter than one timestep (0.1 ms)"],
    ),
    (r#"{"populations":[{"name":"a","size":2,"model":"spike_source_poisson","params":{"rate":-1e300}}]}"#, &["rate", "found -1e300"]),
    (r#"{"populations":[{"name":"a","size":2,"model":"spike_source_poisson","params":{"rate":1e300}}]}"#, &["a rate of 1e300 Hz"]),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[{"pre":"a","post":"a","weight":1,"connector":{"type":"fixed_probability","p":1e300}}]}"#,
        &["p must be in [0, 1], found 1e300"],
    ),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[{"pre":"a","post":"a","weight":-1e300,"connector":{"type":"one_to_one"}}]}"#,
        &["weight -1e300 on an excitatory projection"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"stdp",
            "timing_dependence":{"type":"spike_pair","tau_plus":-1e300},"weight_dependence":{"type":"additive"}}}]}"#,
        &["tau_plus", "must be a positive number, found -1e300"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"loihi","dw":"x0*y1","x1_tau":1e300}}]}"#,
        &["x1_tau", "0..=1000000000, found 1e300"],
    ),
    // Names that would break the outputs naming them: recordings (CSV rows, unquoted), probes (POP:VAR), weights (one row per label).
    (r#"{"populations":[{"name":"a:b","size":2,"model":"lif"}]}"#, &["$.populations[0].name", "\"a:b\" holds ':'", "colons"]),
    (r#"{"populations":[{"name":"a,b\n","size":2,"model":"lif"}]}"#, &["$.populations[0].name", "\"a,b\\n\" holds ','"]),
    (r#"{"populations":[{"name":"a\"b","size":2,"model":"lif"}]}"#, &["$.populations[0].name", "holds '\"'"]),
    (r#"{"populations":[{"name":"ab\n","size":2,"model":"lif"}]}"#, &["$.populations[0].name", "holds '\\n'", "control characters"]),
    (r#"{"populations":[{"name":"a\u0007","size":2,"model":"lif"}]}"#, &["$.populations[0].name", "holds '\\u{7}'"]),
    // Names the SVG pictures (XML) cannot hold: noncharacters; and the network's name, which titles them.
    (r#"{"populations":[{"name":"p\uFFFF","size":2,"model":"lif"}]}"#, &["$.populations[0].name", "holds '\\u{ffff}'", "noncharacters"]),
    (r#"{"populations":[{"name":"a","size":2,"model":"lif","labels":["x","y\uFFFE"]}]}"#, &["$.populations[0].labels[1]", "noncharacters"]),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[{"pre":"a","post":"a","weight":1,"connector":{"type":"one_to_one"},"label":"x\uFDD0"}]}"#,
        &["$.projections[0].label", "holds '\\u{fdd0}'", "noncharacters"],
    ),
    (
        r#"{"name":"a\u0007b","populations":[{"name":"a","size":2,"model":"lif"}]}"#,
        &["$.name", "network name \"a\\u{7}b\" holds '\\u{7}'", "control characters"],
    ),
    (r#"{"name":"n\uFFFF","populations":[{"name":"a","size":2,"model":"lif"}]}"#, &["$.name", "holds '\\u{ffff}'", "noncharacters"]),
    (r#"{"name":"","populations":[{"name":"a","size":2,"model":"lif"}]}"#, &["$.name", "a network name cannot be empty"]),
    // `--input` files are read trimmed: `a ` would take the spikes of `a`.
    (
        r#"{"populations":[{"name":"a","size":2,"model":"input"},{"name":"a ","size":2,"model":"lif"}]}"#,
        &["$.populations[1].name", "\"a \" starts or ends with whitespace"],
    ),
    (r#"{"populations":[{"name":"\u00a0a","size":2,"model":"lif"}]}"#, &["$.populations[0].name", "\"\\u{a0}a\" starts or ends with whitespace"]),
    (r#"{"populations":[{"name":"a","size":2,"model":"lif","labels":["x","y\nz"]}]}"#, &["$.populations[0].labels[1]", "control characters"]),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[{"pre":"a","post":"a","weight":1,"connector":{"type":"one_to_one"},"label":"x\ny"}]}"#,
        &["$.projections[0].label", "\"x\\ny\" holds '\\n'"],
    ),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[{"pre":"a","post":"a","weight":1,"connector":{"type":"one_to_one"},"label":"p"},
            {"pre":"a","post":"a","weight":2,"connector":{"type":"one_to_one"},"label":"p"}]}"#,
        &["$.projections[1].label", "label `p` is used twice", "--save-weights"],
    ),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[{"pre":"a","post":"a","weight":1,"connector":{"type":"one_to_one"}},
            {"pre":"a","post":"a","weight":2,"connector":{"type":"one_to_one"},"label":"a→a"}]}"#,
        &["$.projections[1].label", "label `a→a` is used twice"],
    ),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[{"pre":"a","post":"a","weight":1,"connector":{"type":"one_to_one"},"label":"a→a#2"},
            {"pre":"a","post":"a","weight":1,"connector":{"type":"one_to_one"}}]}"#,
        &["$.projections[1]", "label `a→a#2` is used twice (this projection's default label: give it a `label`)"],
    ),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[{"pre":"a","post":"a","weight":1,"connector":{"type":"one_to_one"},"label":"g"},
            {"pre":"a","post":"a","receptor":"electrical","weight":1,"connector":{"type":"one_to_one"},"label":"g"}]}"#,
        &["$.projections[1].label", "label `g` is used twice"],
    ),
    // A negative conductance in any connector (a dense one compiled and drove `v` to the −1024 mV rail).
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"},{"name":"b","size":1,"model":"lif"}],
            "projections":[{"pre":"a","post":"b","receptor":"electrical","connector":{"type":"dense","weights":[[0.2,-0.5]]}}]}"#,
        &["$.projections[0].connector.weights[0][1]", "dense[0][1] is a conductance of -0.5 µS", "conductances are ≥ 0"],
    ),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"},{"name":"b","size":1,"model":"lif"}],
            "projections":[{"pre":"a","post":"b","receptor":"electrical","weight":2,"connector":{"type":"dense","weights":[[-0.5,0]]}}]}"#,
        &["$.projections[0].connector.weights[0][0]", "dense[0][0] is a conductance of -0.5 µS"],
    ),
    (
        r#"{"populations":[{"name":"a","size":2,"model":"lif"},{"name":"b","size":1,"model":"lif"}],
            "projections":[{"pre":"a","post":"b","receptor":"electrical","connector":{"type":"from_list","connections":[[0,0,0.1],[1,0,-0.5]]}}]}"#,
        &["$.projections[0].connector", "connection (1, 0) has conductance -0.5 µS"],
    ),
    // loihi_lif weights are integers (docs/network-format.md): a fraction was cut off while the report said 0% error.
    (
        r#"{"populations":[{"name":"s","size":2,"model":"input"},{"name":"l","size":2,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","connector":{"type":"from_list","connections":[[0,0,3],[1,0,5.5]]}}]}"#,
        &["$.projections[0]", "connection 1 (1, 0): loihi_lif weights are integers, found 5.5"],
    ),
    (
        r#"{"populations":[{"name":"s","size":2,"model":"input"},{"name":"l","size":1,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","connector":{"type":"dense","weights":[[2,0.5]]}}]}"#,
        &["$.projections[0]", "dense[0][1]: loihi_lif weights are integers, found 0.5"],
    ),
    (
        r#"{"populations":[{"name":"s","size":4,"model":"input"},{"name":"l","size":1,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"avg_pool2d","in_shape":[1,2,2],"kernel":2}}]}"#,
        &["$.projections[0]", "the pooling's scale", "found 0.25"],
    ),
    // Learning: numbers beyond what the engine holds were clamped or wrapped without a word.
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"r","size":1,"model":"input"},{"name":"l","size":1,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"loihi3f","dw":"x0*y1","reward":"r","reward_weight":1e12}}]}"#,
        &["$.projections[0].plasticity.reward_weight", "an integer in -2147483648..=2147483647, found 1000000000000"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"r","size":1,"model":"input"},{"name":"l","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"stdp","reward":"r","reward_weight":100,
            "timing_dependence":{"type":"spike_pair"},"weight_dependence":{"type":"additive"}}}]}"#,
        &["$.projections[0].plasticity.reward_weight", "0.000244140625..=15.99951171875", "found 100"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"loihi","dw":"2^4294967298*x0*y1"}}]}"#,
        &["$.projections[0].plasticity.dw", "exponent 4294967298 is out of range"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"loihi","dw":"9999999999*9999999999*x0*y1"}}]}"#,
        &["$.projections[0].plasticity.dw", "out of range"],
    ),
    // The sign convention holds for the weight a synapse gets: a dense entry times the projection's weight (+1 reached an inhibitory port).
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"l","receptor":"inhibitory","weight":-2,"connector":{"type":"dense","weights":[[-0.5]]}}]}"#,
        &["$.projections[0]", "dense[0][0] (-0.5) times the projection's weight (-2) gives a weight 1 on an inhibitory projection"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"l","weight":-1,"connector":{"type":"dense","weights":[[0.5]]}}]}"#,
        &["$.projections[0]", "dense[0][0] (0.5) times the projection's weight (-1) gives a weight -0.5 on an excitatory projection"],
    ),
    // A rule's scale of exactly −2^63: its absolute value and negation overflowed (a panic in a debug build).
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"loihi","dw":"-2*4611686018427387904*x0"}}]}"#,
        &["$.projections[0].plasticity.dw", "mantissa -36028797018963968 is outside -8..7"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"loihi","dw":"2*4611686018427387904*(-w)*x0"}}]}"#,
        &["$.projections[0].plasticity.dw"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"loihi","dw":"-2*4611686018427387904*(-w+1)*x0"}}]}"#,
        &["$.projections[0].plasticity.dw", "the product's scale -9223372036854775808 is out of range"],
    ),
    // Convolution and pooling geometry: an output dimension past 32 bits was cast round to 0 (a pooling of no synapses, silently).
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"sum_pool2d","in_shape":[1,1,1],"kernel":1,"padding":[1048576,0]}}]}"#,
        &["$.projections[0].connector", "output shape [1, 2097153, 1] has 2097153 neurons, post has 1"],
    ),
    (
        r#"{"populations":[{"name":"s","size":4294967295,"model":"input"},{"name":"l","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"sum_pool2d","in_shape":[1,4294967295,1],"kernel":1,"padding":[1048576,0]}}]}"#,
        &["$.projections[0].connector", "the output is 4297064447 wide in dimension 1 (padded input 4297064447), beyond 4294967295"],
    ),
    // Beyond the bound NIR files have (their index arithmetic and a shared kernel's size overflowed).
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"sum_pool2d","in_shape":[1,1,1],"kernel":1,"padding":[2147483648,0]}}]}"#,
        &["$.projections[0].connector", "padding 2147483648 is beyond 1048576, the largest kernel, stride, padding or dilation"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"conv2d","in_shape":[1,1,1],"weights":[[[[1]]]],"dilation":[1,4294967295]}}]}"#,
        &["$.projections[0].connector", "dilation 4294967295 is beyond 1048576"],
    ),
    (
        r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"lif"}],
            "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"conv2d","in_shape":[1,1,1],"weights":[[[[1]]]],"stride":[2000000,1]}}]}"#,
        &["stride 2000000 is beyond 1048576"],
    ),
];

/// An average pooling's kernel of 2^32 taps within the geometry bound: its
/// scale is 2^-32 (the kernel's size was a 32-bit product that overflowed).
#[test]
fn a_large_average_pooling_has_its_scale() {
    use nerve_compiler::net::model::Connector;
    let text = r#"{"populations":[{"name":"s","size":1,"model":"input"},{"name":"l","size":1,"model":"lif"}],
        "projections":[{"pre":"s","post":"l","weight":1,"connector":{"type":"avg_pool2d","in_shape":[1,1,1],"kernel":[65536,65536],"padding":[40000,40000],"stride":65536}}]}"#;
    let net = parse_network(text, Path::new("t.json")).unwrap();
    let (_, _, _, p) = net.projections().next().unwrap();
    let Connector::Pool2d(c) = &p.connector else { panic!("{:?}", p.connector) };
    assert_eq!((c.out_shape, c.scale), ([1, 1, 1], 2f64.powi(-32)));
}

/// What the sign convention allows: a dense matrix whose entries and scale
/// are both negative on an excitatory projection (their products positive),
/// a negative matrix scaled positively on an inhibitory one, and a conv2d
/// kernel of mixed signs (PyTorch's, as NIR's exporters give them) whatever its scale.
#[test]
fn signs_are_judged_on_the_synapses_weight() {
    for proj in [
        r#""weight":-2,"connector":{"type":"dense","weights":[[-0.5]]}"#,
        r#""receptor":"inhibitory","weight":2,"connector":{"type":"dense","weights":[[-0.5]]}"#,
        r#""receptor":"inhibitory","weight":-2,"connector":{"type":"dense","weights":[[0.5]]}"#,
        r#""weight":-2,"connector":{"type":"conv2d","in_shape":[1,1,1],"weights":[[[[-0.5]]]]}"#,
    ] {
        let text = format!(
            r#"{{"populations":[{{"name":"s","size":1,"model":"input"}},{{"name":"l","size":1,"model":"lif"}}],"projections":[{{"pre":"s","post":"l",{proj}}}]}}"#
        );
        if let Err(e) = parse_network(&text, Path::new("t.json")) {
            panic!("{proj}: {e}");
        }
    }
}

/// The builder keeps the same rules: names that break outputs and a label
/// given twice are refused; default labels are numbered, as the reader numbers them.
#[test]
fn the_builder_refuses_the_same_names() {
    use nerve_compiler::front::builder::NetworkBuilder;
    use nerve_compiler::net::model::{Connector, Model};
    let mut b = NetworkBuilder::new("b", 1.0);
    let e = b.population("a:b", 2, Model::Input).unwrap_err().to_string();
    assert!(e.contains("\"a:b\" holds ':'"), "{e}");
    let a = b.population("a", 2, Model::Input).unwrap();
    let n = b.population("n", 2, Model::neuron("lif", vec![]).unwrap()).unwrap();
    b.project(a, n, Connector::OneToOne).weight(1.0).add().unwrap();
    b.project(a, n, Connector::OneToOne).weight(1.0).label("w").add().unwrap();
    b.project(a, n, Connector::OneToOne).weight(1.0).add().unwrap();
    let e = b.project(a, n, Connector::OneToOne).weight(1.0).label("w").add().unwrap_err().to_string();
    assert!(e.contains("label `w` is used twice"), "{e}");
    let e = b.project(a, n, Connector::OneToOne).weight(1.0).label("w\n").add().unwrap_err().to_string();
    assert!(e.contains("holds '\\n'"), "{e}");
    let e = b.project(a, n, Connector::OneToOne).weight(1.0).label("w\u{FFFF}").add().unwrap_err().to_string();
    assert!(e.contains("holds '\\u{ffff}'") && e.contains("noncharacters"), "{e}");
    let e = b.population("p\u{FFFE}", 2, Model::Input).unwrap_err().to_string();
    assert!(e.contains("noncharacters"), "{e}");
    let net = b.finish().unwrap();
    let labels: Vec<&str> = net.projections().map(|(_, _, _, p)| p.label.as_str()).collect();
    assert_eq!(labels, ["a→n", "w", "a→n#2"]);
    // The network's name titles the reports and their SVG (XML) pictures.
    for (name, says) in [("a\u{7}b", "network name \"a\\u{7}b\" holds '\\u{7}'"), ("n\u{FFFF}", "noncharacters"), ("", "cannot be empty")] {
        let mut b = NetworkBuilder::new(name, 1.0);
        b.population("a", 2, Model::Input).unwrap();
        let e = b.finish().unwrap_err().to_string();
        assert!(e.contains(says), "{name:?}: {e}");
    }
}

/// A network without a `name` is named after its file, which may be named
/// anything: a name no report could title is refused, naming the file.
#[test]
fn a_file_name_that_cannot_name_the_network_is_refused() {
    let text = r#"{"populations":[{"name":"a","size":2,"model":"lif"}]}"#;
    let e = parse_network(text, Path::new("a\u{7}.json")).unwrap_err().to_string();
    assert!(e.contains("named after its file for want of a `name`") && e.contains("holds '\\u{7}'"), "{e}");
    assert_eq!(parse_network(text, Path::new("dir/ok net.json")).unwrap().name, "ok net");
}

/// The builder refuses fractional loihi_lif weights as the reader does (5.5 was cut to 5).
#[test]
fn the_builder_refuses_fractional_loihi_weights() {
    use nerve_compiler::front::builder::NetworkBuilder;
    use nerve_compiler::net::model::{Connector, Model, Values};
    let mut b = NetworkBuilder::new("b", 1.0);
    let s = b.population("s", 2, Model::Input).unwrap();
    let lif = || Model::neuron("loihi_lif", vec![("du", Values::Scalar(1.0)), ("dv", Values::Scalar(1.0)), ("vth", Values::Scalar(10.0))]).unwrap();
    let l = b.population("l", 2, lif()).unwrap();
    let e = b.project(s, l, Connector::AllToAll { allow_self_connections: true }).weight(5.5).add().unwrap_err().to_string();
    assert!(e.contains("projection s→l: the weight: loihi_lif weights are integers, found 5.5"), "{e}");
    let e = b.project(s, l, Connector::Dense(vec![vec![2.0, 0.5], vec![1.0, 1.0]])).label("d").add().unwrap_err().to_string();
    assert!(e.contains("projection d: dense[0][1]: loihi_lif weights are integers, found 0.5"), "{e}");
    b.project(s, l, Connector::OneToOne).weight(5.0).add().unwrap();
}

#[test]
fn every_bad_network_is_refused_with_its_culprit() {
    for &(text, want) in ROWS {
        let e = match std::panic::catch_unwind(|| parse_network(text, Path::new("t.json"))) {
            Ok(Ok(_)) => panic!("accepted: {text}"),
            Ok(Err(e)) => e.to_string(),
            Err(_) => panic!("panicked: {text}"),
        };
        assert!(e.starts_with("t.json: "), "the error does not name the file: {e}");
        for w in want {
            assert!(e.contains(w), "{text}\nthe message lacks `{w}`: {e}");
        }
    }
}

/// The builder runs the JSON reader's check of a learning rule (it checked
/// none: an STDP rule onto loihi_lif, w_min above w_max or a NaN time
/// constant went on to compile): each refused, naming the projection and key.
#[test]
fn the_builder_checks_learning_rules_as_the_reader_does() {
    use nerve_compiler::front::builder::NetworkBuilder;
    use nerve_compiler::net::model::{Connector, LoihiPlasticity, Model, Plasticity, StdpPlasticity, Values};
    let stdp = |f: &dyn Fn(&mut StdpPlasticity)| {
        let mut st = StdpPlasticity {
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
        f(&mut st);
        Plasticity::Stdp(st)
    };
    let loihi = |dw: Option<&str>, t_epoch: u16| {
        Plasticity::Loihi(LoihiPlasticity {
            dw: dw.map(String::from),
            dd: None,
            dt: None,
            impulse: [0.0; 5],
            tau: [0.0; 5],
            t_epoch,
            rng_seed: 1,
            reward: None,
        })
    };
    let try_rule = |pl: Plasticity, onto_loihi: bool| -> Result<(), String> {
        let mut b = NetworkBuilder::new("b", 1.0);
        let s = b.population("s", 2, Model::Input).unwrap();
        let m = if onto_loihi {
            Model::neuron("loihi_lif", vec![("du", Values::Scalar(1.0)), ("dv", Values::Scalar(1.0)), ("vth", Values::Scalar(10.0))]).unwrap()
        } else {
            Model::neuron("lif", vec![]).unwrap()
        };
        let l = b.population("l", 2, m).unwrap();
        b.project(s, l, Connector::OneToOne).weight(1.0).label("p").plasticity(pl).add().map(|_| ()).map_err(|e| e.to_string())
    };
    try_rule(stdp(&|_| {}), false).unwrap();
    try_rule(loihi(Some("x0*y1"), 1), true).unwrap();
    for (pl, onto_loihi, want) in [
        (stdp(&|_| {}), true, "plasticity.type: PyNN's STDP acts on weights in nA: `l` is a loihi_lif population"),
        (loihi(Some("x0*y1"), 1), false, "plasticity.type: Loihi learning rules act on lava's integer weights"),
        (stdp(&|s| s.w_min = 2.0), false, "plasticity.weight_dependence: w_min 2 exceeds w_max 1"),
        (stdp(&|s| s.tau_plus = f64::NAN), false, "plasticity.timing_dependence.tau_plus: `tau_plus` must be a positive number, found NaN"),
        (stdp(&|s| s.w_max = f64::NAN), false, "plasticity.weight_dependence.w_max: `w_max` must be a non-negative number"),
        (stdp(&|s| s.weight_shift = Some(17)), false, "plasticity.weight_shift: `weight_shift` must be in 0..=16, found 17"),
        (loihi(Some("x1*y1"), 1), true, "plasticity.dw:"),
        (loihi(None, 1), true, "plasticity: a Loihi rule needs at least one of dw, dd, dt"),
        (loihi(Some("x0*y1"), 64), true, "plasticity.t_epoch: `t_epoch` must be in 1..=63 steps, found 64"),
    ] {
        let e = try_rule(pl, onto_loihi).unwrap_err();
        assert!(e.contains("projection p: ") && e.contains(want), "want {want}: {e}");
    }
}

/// Limits met when compiling print their numbers compactly too: an STDP
/// time constant of 1e300 ms printed as a 301-digit integer.
#[test]
fn compile_time_limits_print_compact_numbers() {
    use nerve_compiler::compile::{compile, Options};
    let text = r#"{"dt_ms":1.0,"populations":[{"name":"s","size":1,"model":"spike_source_array","spike_times":[1.0]},{"name":"b","size":1,"model":"lif"}],
        "projections":[{"pre":"s","post":"b","weight":0.5,"connector":{"type":"one_to_one"},
        "plasticity":{"type":"stdp","timing_dependence":{"type":"spike_pair","tau_plus":1e300},"weight_dependence":{"type":"additive"}}}]}"#;
    let net = parse_network(text, Path::new("t.json")).unwrap();
    let arch = nerve_isa::arch::Arch::builtin("spinnaker").unwrap();
    let e = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(
        e.contains("tau_plus = 1e300 ms at dt 1 ms needs a decay table of 7.6")
            && e.contains("e300 entries (at most 65534, sPyNNaker's 16-bit table length: τ ≤ 8595.05 ms)"),
        "{e}"
    );
    assert!(!e.contains("00000000"), "{e}");
    // At the bound: 8595.05 ms is 65,534 entries, sPyNNaker's largest table;
    // 8595.2 ms (65,536 entries, which sPyNNaker's 16-bit header cannot hold) was taken.
    for (tau, fits) in [(8595.05, true), (8595.06, false), (8595.2, false)] {
        let net = parse_network(&text.replace("1e300", &tau.to_string()), Path::new("t.json")).unwrap();
        assert_eq!(compile(&arch, &net, &Options::default(), &mut |_| {}).is_ok(), fits, "tau_plus {tau}");
    }
    // The bound and the table are sized alike to the last ulp: ln(2048)·τ/dt and
    // ln(2048)/(dt/τ) differ by one here, and the check took a table of 65,536.
    for (dt, tau) in [(1.5, 12892.578655856909), (0.01, 85.95052437237939)] {
        let net = parse_network(&text.replace("\"dt_ms\":1.0", &format!("\"dt_ms\":{dt}")).replace("1e300", &tau.to_string()), Path::new("t.json")).unwrap();
        let e = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("needs a decay table of 65536 entries (at most 65534"), "dt {dt}, tau_plus {tau}: {e}");
    }
}

/// A current factor out of its fixed point's range names the parameters it
/// comes from, their values and the range (it said only "the excitatory
/// current factor is out of the fixed-point range").
#[test]
fn a_current_factor_out_of_range_names_its_parameters() {
    use nerve_compiler::compile::{compile, Options};
    let arch = nerve_isa::arch::Arch::builtin("spinnaker").unwrap();
    for (model, params, want) in [
        (
            "lif",
            r#"{"tau_m":1e308}"#,
            &["tau_m = 1e308 ms, cm = 1 nF and tau_syn_E = 5 ms (neuron 0, at dt 0.1 ms)", "tau_m × tau_syn_E overflows", "model `if`"][..],
        ),
        ("lif", r#"{"cm":1e-320}"#, &["tau_m = 20 ms, cm = 1e-320 nF and tau_syn_E = 5 ms", "1/cm overflows: cm = 1e-320 nF is too small"]),
        ("if", r#"{"cm":1e-320}"#, &["(if): cm = 1e-320 nF and tau_syn_E = 5 ms", "1/cm overflows"]),
        (
            "lif",
            r#"{"cm":[1,1,1e-30],"tau_syn_I":1}"#,
            &[
                "cm = 1e-30 nF and tau_syn_E = 5 ms (neuron 2, at dt 0.1 ms)",
                "factor into v 9.87587e28 mV a step per nA: its fixed point holds at most ±33554400 mV per nA",
            ],
        ),
        // ∞ · 0 made NaN factors, which became 0 (both currents dropped,
        // the network compiled); the factor's difference of exponentials
        // now keeps its digits (expm1), so it is ∞ · ε: overflow, named.
        (
            "lif",
            r#"{"tau_m":1e308,"tau_syn_E":1e300,"tau_syn_I":1e300}"#,
            &["tau_m = 1e308 ms, cm = 1 nF and tau_syn_E = 1e300 ms", "inf mV", "tau_m × tau_syn_E overflows"],
        ),
        ("adaptive_lif", r#"{"tau_m":1e308,"tau_syn_E":1e300}"#, &["tau_m = 1e308 ms, cm = 1 nF and tau_syn_E = 1e300 ms", "tau_m × tau_syn_E overflows"]),
    ] {
        let text = format!(r#"{{"populations":[{{"name":"a","size":3,"model":"{model}","params":{params}}}]}}"#);
        let net = parse_network(&text, Path::new("t.json")).unwrap();
        let e = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("excitatory current's factor into v") && e.contains("its fixed point holds at most ±"), "{params}: {e}");
        for w in want {
            assert!(e.contains(w), "{params}: want {w}: {e}");
        }
    }
}
