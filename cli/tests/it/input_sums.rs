//! A step's synaptic input to a port is summed in 32 bits before the
//! port's shift (the emulator's wrapping adds, as a chip's accumulator):
//! the compiler chooses each port's exponent so that every synapse into a
//! neuron's port, delivering at once, stays within them. Before, 76,112
//! sources of 1 nA into one cell wrapped to −243 nA (inhibited it), and 8
//! coincident 0.5 nA inputs at 32-bit weights gave −0.43 nA.

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::json::parse_network;
use nerve_isa::arch::Arch;
use std::path::Path;

/// `n` sources firing once at 0 ms into one lif (dt 1 ms, τsyn 5 ms), all
/// to all at `w` nA.
fn fan_in(n: u32, w: f64, tau_refrac: f64) -> nerve_compiler::net::model::Network {
    let receptor = if w < 0.0 { "inhibitory" } else { "excitatory" };
    let text = format!(
        r#"{{"name": "fanin", "dt_ms": 1.0, "populations": [{{"name": "s", "size": {n}, "model": "spike_source_array", "spike_times": [0.0]}},
        {{"name": "a", "size": 1, "model": "lif", "params": {{"tau_syn_E": 5.0, "tau_syn_I": 5.0, "tau_refrac": {tau_refrac}}}}}],
        "projections": [{{"pre": "s", "post": "a", "receptor": "{receptor}", "connector": {{"type": "all_to_all"}}, "weight": {w}, "label": "s_to_a"}}]}}"#
    );
    parse_network(&text, Path::new("fanin.json")).unwrap()
}

/// spinnaker with `weight_bits`-bit weights.
fn arch(weight_bits: u8) -> Arch {
    let mut a = Arch::builtin("spinnaker").unwrap();
    a.core.weight_bits = weight_bits;
    a
}

/// The cell's `isyn` (nA) over `steps` steps, and its spikes.
fn isyn(image: nerve_isa::image::ValidImage, steps: u64, jit: bool) -> (Vec<f64>, usize) {
    let (spikes, rows) = crate::end_to_end::trace(image, "a", "isyn", steps, jit);
    (rows.iter().map(|row| row[0]).collect(), spikes)
}

/// Coincident inputs whose mantissas pass 2^31 together arrive with their
/// sign: their sum (after a step's decay, e^−0.2) where the current holds
/// it, saturated where it does not (76,112 × 1 nA), never wrapped.
#[test]
fn coincident_inputs_past_32_bits_keep_their_sign() {
    // (weight bits, sources, |weight| nA, whether the current saturates)
    let cases: &[(u8, u32, f64, bool)] = &[(32, 8, 0.5, false), (28, 64, 0.5, false), (24, 512, 0.5, false), (16, 76_112, 1.0, true)];
    for &(bits, n, w, saturates) in cases {
        for sign in [1.0, -1.0] {
            let case = format!("{n} × {} nA at {bits}-bit weights", sign * w);
            let out = compile(&arch(bits), &fan_in(n, sign * w, 0.1), &Options::default(), &mut |_| {}).unwrap();
            let (xs, spikes) = isyn(out.image.clone(), 4, false);
            assert_eq!(isyn(out.image, 4, true), (xs.clone(), spikes), "{case}: the JIT differs from the interpreter");
            // The spike arrives at step 1.
            let got = xs[1];
            assert_eq!(got.signum(), sign, "{case}: isyn = {got} nA");
            if saturates {
                assert!(got.abs() > 100.0, "{case}: isyn = {got} nA");
            } else {
                let want = sign * n as f64 * w * (-0.2f64).exp();
                assert!((got - want).abs() < 1e-3 * want.abs(), "{case}: isyn = {got} nA, want {want}");
            }
            // An inhibitory barrage never fires the cell (the wrapped one of
            // 76,112 fired it); a saturating excitatory one does.
            if sign < 0.0 || saturates {
                assert_eq!(spikes > 0, sign > 0.0, "{case}: {spikes} spikes");
            }
        }
    }
}

/// Where no exponent of the profile holds the sum, or the one that does
/// would round a projection's weights to 0, the compiler refuses, naming
/// the population, the projection, the fan-in, the weight bits and the
/// limit.
#[test]
fn sums_no_exponent_holds_are_refused() {
    // 8 × 0.5 nA take mantissas of 2^30..2^31 at 32 bits (exponent −12): the
    // sum needs three bits more, past a weight_exp_max of −10.
    let mut a = arch(32);
    a.core.weight_exp_max = -10;
    let e = compile(&a, &fan_in(8, 0.5, 0.1), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    for want in ["population `a`", "`s_to_a`", "8 synapses", "weight_bits 32", "2^31", "weight_exp_max -10"] {
        assert!(e.contains(want), "{want:?} not in: {e}");
    }
    // One port for both projections (max_input_ports 1): the coarser
    // exponent the barrage needs rounds `tiny`'s 2..4 mantissa units to 0.
    let mut a = arch(32);
    a.core.max_input_ports = 1;
    let text = r#"{"name": "fanin", "dt_ms": 1.0, "populations": [{"name": "s", "size": 8, "model": "spike_source_array", "spike_times": [0.0]},
        {"name": "a", "size": 1, "model": "lif", "params": {"tau_syn_E": 5.0, "tau_syn_I": 5.0}}],
        "projections": [{"pre": "s", "post": "a", "connector": {"type": "all_to_all"}, "weight": 0.5, "label": "big"},
        {"pre": "s", "post": "a", "connector": {"type": "all_to_all"}, "weight": 9.313225746154785e-10, "label": "tiny"}]}"#;
    let net = parse_network(text, Path::new("fanin.json")).unwrap();
    let e = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    for want in ["population `a`", "`big`", "`tiny`", "round to 0", "2^31"] {
        assert!(e.contains(want), "{want:?} not in: {e}");
    }
    // Given its own port, `tiny` keeps its exponent and the network compiles.
    compile(&arch(32), &net, &Options::default(), &mut |_| {}).unwrap();
}

/// The refractory counter holds 2^31 steps: a longer tau_refrac is
/// refused, naming the population, the value and the limit (it was held at
/// 2^31 steps without a word).
#[test]
fn refractory_periods_past_the_counter_are_refused() {
    let a = arch(16);
    compile(&a, &fan_in(1, 1.0, 2f64.powi(31)), &Options::default(), &mut |_| {}).unwrap();
    let e = compile(&a, &fan_in(1, 1.0, 2f64.powi(31) + 1.0), &Options::default(), &mut |_| {}).unwrap_err().to_string();
    for want in ["population `a`", "tau_refrac = 2147483649 ms", "2^31 steps"] {
        assert!(e.contains(want), "{want:?} not in: {e}");
    }
}
