//! What the fixed point loses that a run would show is said: the compile
//! report's warnings (printed by the CLI, raised by Python), measured
//! against the exact float model (review of session 43: a 1.5 nA spike at
//! dt 1e-4 ms delivered 0.5% of its charge, a 0.1 Hz Poisson source at dt
//! 1e-6 ms never fired, an `if` driven by 0.01 nA at dt 1e-5 ms never
//! moved, without a word). The bundled examples compile with none.

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::json::parse_network;
use nerve_isa::arch::Arch;
use std::path::Path;

fn warnings(text: &str, arch: &str) -> Vec<String> {
    let net = parse_network(text, Path::new("t.json")).unwrap();
    compile(&Arch::builtin(arch).unwrap(), &net, &Options::default(), &mut |_| {}).unwrap().report.warnings
}

/// One spike of `w` nA into a lif at `dt` ms (tau_syn_E `tau` ms).
fn one_spike(dt: f64, w: f64, tau: f64) -> String {
    format!(
        r#"{{"name": "psp", "dt_ms": {dt}, "populations": [
          {{"name": "src", "size": 1, "model": "spike_source_array", "spike_times": [[0.5]]}},
          {{"name": "n", "size": 1, "model": "lif", "params": {{"tau_syn_E": {tau}}}}}],
          "projections": [{{"pre": "src", "post": "n", "weight": {w}, "connector": {{"type": "one_to_one"}}}}]}}"#
    )
}

#[test]
fn a_current_that_drains_in_whole_lsbs_is_said() {
    // The review's cases, and the share of the charge the estimate gives
    // (PSP peaks measured against the float model: 0.5%, 29%).
    for (dt, w, tau, share) in [(1e-4, 1.5, 5.0, "0.2%"), (0.01, 0.1, 100.0, "5%")] {
        let ws = warnings(&one_spike(dt, w, tau), "spinnaker");
        assert!(
            ws.len() == 1
                && ws[0].starts_with("population `n` (lif): a spike of projection src→n's smallest weight")
                && ws[0].contains(&format!("delivers about {share} of its exact charge")),
            "dt {dt}: {ws:?}"
        );
    }
    // At the usual dt, or with a larger weight, nothing to say.
    assert!(warnings(&one_spike(0.1, 1.5, 5.0), "spinnaker").is_empty());
    assert!(warnings(&one_spike(0.01, 10.0, 5.0), "spinnaker").is_empty());
}

/// A 1 nS junction from a cell held at −55 mV into one at rest (−65 mV),
/// at `dt` ms with tau_syn_E `tau` ms (docs/network-format.md's case: it
/// lifts b by 0.740 mV at dt 0.1).
fn junction(dt: f64, tau: f64) -> String {
    format!(
        r#"{{"name": "gap", "dt_ms": {dt}, "populations": [
          {{"name": "a", "size": 1, "model": "lif", "params": {{"i_offset": 0.125, "cm": 0.25, "tau_m": 20.0, "v_thresh": -50.0}}, "initial": {{"v": -55.0}}}},
          {{"name": "b", "size": 1, "model": "lif", "params": {{"cm": 0.25, "tau_m": 20.0, "v_thresh": -50.0, "tau_syn_E": {tau}}}}}],
          "projections": [{{"pre": "a", "post": "b", "receptor": "electrical", "weight": 0.001, "connector": {{"type": "one_to_one"}}}}]}}"#
    )
}

/// A junction whose input a step is one or two LSBs of the current was
/// lost, or held, without a word (measured in the review: b not lifted at
/// all at dt 0.001; 0.2% of it with tau_syn_E 5 ms at dt 0.01; 10 nS at dt
/// 0.002 held the current at 277% once the difference fell to 3 mV).
#[test]
fn a_junction_that_whole_lsbs_lose_is_said() {
    for (dt, tau, g, says) in [
        (0.001, 1.0, 0.001, "passes none of its current"),
        (0.01, 5.0, 0.001, "settles anywhere from 0.2% to 179% of its exact current"),
        (0.002, 1.0, 0.01, "settles anywhere from 90% to 149% of its exact current"),
    ] {
        let ws = warnings(&junction(dt, tau).replace(r#""weight": 0.001"#, &format!(r#""weight": {g}"#)), "spinnaker");
        assert!(
            ws.len() == 1 && ws[0].starts_with("population `b` (lif): the gap junctions into its neuron 0 (electrical projection a⇄b)") && ws[0].contains(says),
            "dt {dt}, tau {tau}, g {g}: {ws:?}"
        );
    }
    // On Loihi the port's step follows the largest conductance into the
    // population: 1 nS beside 300 nS passed nothing (b0 stayed at -65 mV
    // where it rises 0.74 mV; 0.77 on spinnaker).
    let mixed = junction(0.1, 1.0).replace(r#""name": "b", "size": 1"#, r#""name": "b", "size": 2"#).replace(
        r#""weight": 0.001, "connector": {"type": "one_to_one"}"#,
        r#""connector": {"type": "from_list", "connections": [[0, 0, 0.001], [0, 1, 0.3]]}"#,
    );
    let ws = warnings(&mixed, "loihi");
    assert!(ws.len() == 1 && ws[0].contains("into its neuron 0") && ws[0].contains("(1 of its 2 neurons with junctions settle outside 75–133%"), "{ws:?}");
    assert!(warnings(&mixed, "spinnaker").is_empty(), "{:?}", warnings(&mixed, "spinnaker"));
    // A conductance too large for v's fixed point is named as a junction
    // (it was "weights of up to 1000000000 nA … a spike").
    let huge = parse_network(&junction(0.1, 1.0).replace(r#""weight": 0.001"#, r#""weight": 1e8"#), Path::new("t.json")).unwrap();
    let e = compile(&Arch::builtin("spinnaker").unwrap(), &huge, &Options::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("the gap junctions of electrical projection a⇄b move v by up to") && !e.contains("a spike"), "{e}");
    // At the usual dt, and at dt 0.01 (x 4.2 steps: 84% to 108%, measured 91%), left to the docs.
    for dt in [0.1, 0.01] {
        assert!(warnings(&junction(dt, 1.0), "spinnaker").is_empty(), "dt {dt}: {:?}", warnings(&junction(dt, 1.0), "spinnaker"));
    }
}

/// Weights whose mantissa is nonzero but whose port's shift rounds them to
/// 0: the table counted them (underflow 1,000, worst error 1), the warning
/// looked at the mantissa before the shift and said nothing.
#[test]
fn weights_the_ports_shift_rounds_to_zero_are_said() {
    let net = r#"{"name": "chem", "dt_ms": 0.001, "populations": [
      {"name": "s", "size": 1000, "model": "spike_source_poisson", "params": {"rate": 1000}, "seed": 3},
      {"name": "b", "size": 1, "model": "lif"}],
      "projections": [{"pre": "s", "post": "b", "connector": {"type": "all_to_all"}, "weight": 0.0001}]}"#;
    let ws = warnings(net, "spinnaker");
    assert!(ws.iter().any(|w| w.starts_with("projection s→b: of its weights, 1000 rounded to 0, 100.0% of its summed |weight|")), "{ws:?}");
    // The port's step as delivered: a weight rounded to 0 is under half of
    // it (a negative exponent's step was given before its shift, 1.5e-7
    // where 0.002 delivered nothing).
    let w = ws.iter().find(|w| w.starts_with("projection s→b")).unwrap();
    let step: f64 = w.split("whose step is ").nth(1).and_then(|t| t.split(' ').next()).unwrap().parse().unwrap();
    assert!(step > 2.0 * 0.0001, "{w}");
}

/// Physical weights are never clipped (docs/quantisation.md): a receptor's
/// largest weight at, or just under, a power of two had needed the mantissa
/// 2^(wb−1), one past the largest, and was clipped at weight_exp_max
/// (1 nA on tiny's 8 bits delivered 0.992).
#[test]
fn physical_weights_at_a_power_of_two_are_not_clipped() {
    let na_tiny = r#"{"name": "t", "dt_ms": 0.1, "populations": [{"name": "src", "size": 4, "model": "spike_source_array", "spike_times": [[1.0], [1.0], [1.0], [1.0]]},
      {"name": "dst", "size": 4, "model": "lif", "params": {"cm": [1.0, 2.0, 1.0, 1.0], "tau_m": 20.0, "tau_syn_E": 5.0, "tau_syn_I": 10.0}}],
      "projections": [{"pre": "src", "post": "dst", "connector": {"type": "from_list", "connections": [[0, 0, 1.0], [1, 1, 0.5], [2, 2, 0.998], [3, 3, 0.3]]}},
        {"pre": "src", "post": "dst", "receptor": "inhibitory", "connector": {"type": "from_list", "connections": [[0, 0, -1.0], [1, 1, -0.25], [2, 2, -0.7], [3, 3, -0.999]]}}]}"#;
    let volts_loihi = r#"{"name": "t", "dt_ms": 0.1, "populations": [{"name": "src", "size": 2, "model": "spike_source_array", "spike_times": [[1.0], [1.0]]},
      {"name": "dst", "size": 2, "model": "lif", "params": {"cm": 1.0, "tau_m": 20.0, "tau_syn_E": 5.0, "tau_syn_I": 10.0}}],
      "projections": [{"pre": "src", "post": "dst", "connector": {"type": "from_list", "connections": [[0, 0, 1.2657111983499303], [1, 1, 0.3]]}},
        {"pre": "src", "post": "dst", "receptor": "inhibitory", "connector": {"type": "from_list", "connections": [[0, 0, -0.2]]}}]}"#;
    for (net, arch) in [(na_tiny, "tiny"), (volts_loihi, "loihi")] {
        let out = compile(&Arch::builtin(arch).unwrap(), &parse_network(net, Path::new("t.json")).unwrap(), &Options::default(), &mut |_| {}).unwrap();
        for q in &out.report.quantisation {
            assert_eq!(q.clipped, 0, "{arch}: {q:?}");
        }
    }
}

#[test]
fn a_drive_a_rate_and_a_weight_rounded_off_are_said() {
    let drive = r#"{"name": "drive", "dt_ms": 1e-5, "populations": [
      {"name": "if_slow", "size": 1, "model": "if", "params": {"i_offset": 0.01}},
      {"name": "lif_late", "size": 1, "model": "lif", "params": {"i_offset": 0.5}, "initial": {"v": -60.0}}]}"#;
    let ws = warnings(drive, "spinnaker");
    assert!(ws.iter().any(|w| w.starts_with("population `if_slow` (if)") && w.contains("changes its i_offset's drive by 100%")), "{ws:?}");
    assert!(ws.iter().any(|w| w.starts_with("population `lif_late` (lif)") && w.contains("moves its resting point by up to")), "{ws:?}");
    // tau_m so long that e^(−dt/τ) is 1, and no i_offset: no drive to change
    // (it was said to change i_offset's drive by 100%); with one, measured against it.
    let slow = |i: f64| {
        format!(
            r#"{{"name": "slow", "dt_ms": 0.1, "populations": [{{"name": "n", "size": 1, "model": "lif", "params": {{"tau_m": 1e300, "i_offset": {i}}}}}]}}"#
        )
    };
    assert!(warnings(&slow(0.0), "spinnaker").is_empty(), "{:?}", warnings(&slow(0.0), "spinnaker"));
    assert!(warnings(&slow(1.0), "spinnaker").is_empty(), "{:?}", warnings(&slow(1.0), "spinnaker"));
    let rates = r#"{"name": "rates", "dt_ms": 1e-6, "populations": [
      {"name": "p01", "size": 1, "model": "spike_source_poisson", "params": {"rate": 0.1}},
      {"name": "p100", "size": 1, "model": "spike_source_poisson", "params": {"rate": 100.0}}]}"#;
    let ws = warnings(rates, "spinnaker");
    assert!(
        ws.len() == 1 && ws[0].starts_with("population `p01` (spike_source_poisson): a rate of 0.1 Hz") && ws[0].ends_with("32 bits hold as 0: it never fires"),
        "{ws:?}"
    );
    // Weights the port's step rounds to 0, beside a much larger one: said
    // where they hold more than 1% of the projection's |weight| (2,000 of
    // 0.001 nA beside 100 nA: 2%), left to the table where they hold less.
    let mixed = |n: usize| {
        let conns: Vec<String> = std::iter::once("[0, 0, 100.0, 0.1]".to_string()).chain((1..=n).map(|i| format!("[{i}, 0, 0.001, 0.1]"))).collect();
        format!(
            r#"{{"name": "mixed", "dt_ms": 0.1, "populations": [
              {{"name": "s", "size": {}, "model": "spike_source_array", "spike_times": [1.0]}},
              {{"name": "n", "size": 1, "model": "lif"}}],
              "projections": [{{"pre": "s", "post": "n", "connector": {{"type": "from_list", "connections": [{}]}}}}]}}"#,
            n + 1,
            conns.join(", ")
        )
    };
    let ws = warnings(&mixed(2000), "spinnaker");
    assert!(
        ws.iter().any(|w| w.starts_with("projection s→n: of its weights, 2000 rounded to 0, 2.0% of its summed |weight| (they deliver nothing)")),
        "{ws:?}"
    );
    let ws = warnings(&mixed(10), "spinnaker");
    assert!(!ws.iter().any(|w| w.contains("rounded to 0")), "{ws:?}");
}

/// Izhikevich's u recovers by a·dt·(b·v − u) a step: below two of u's LSBs
/// after a jump d, said (at dt 1e-4 ms u's change was 72% off; at 1e-5 it froze).
#[test]
fn an_izhikevich_recovery_in_few_lsbs_is_said() {
    let net = |dt: f64| {
        format!(r#"{{"name": "iz", "dt_ms": {dt}, "populations": [{{"name": "z", "size": 2, "model": "izhikevich", "params": {{"i_offset": 0.01}}}}]}}"#)
    };
    let ws = warnings(&net(1e-4), "spinnaker");
    assert!(ws.len() == 1 && ws[0].starts_with("population `z` (izhikevich): u's recovery a step") && ws[0].contains("LSBs of u (2^-"), "{ws:?}");
    for dt in [1e-3, 0.1, 1.0] {
        assert!(warnings(&net(dt), "spinnaker").is_empty(), "dt {dt}");
    }
}

/// The examples compile without a warning on every built-in profile that
/// takes them (C. elegans on Loihi: its weak junctions, said).
#[test]
fn the_examples_compile_without_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("examples");
    let mut nets = vec![root.join("small.json"), root.join("cuba/network/cuba.json")];
    for d in ["celegans", "liquid-state-machine", "stdp-memory", "stdp-pattern", "synfire"] {
        nets.push(root.join(d).join("network.json"));
    }
    let mut compiled = 0;
    for path in nets.iter().filter(|p| p.exists()) {
        let net = nerve_compiler::front::read(path, &Default::default()).unwrap();
        for arch in ["spinnaker", "spinnaker2", "loihi", "tiny"] {
            if let Ok(out) = compile(&Arch::builtin(arch).unwrap(), &net, &Options::default(), &mut |_| {}) {
                let mut ws = out.report.warnings.clone();
                // C. elegans: on Loihi its one-contact gap junctions fall below
                // the port's step, which the hubs' conductances set; on
                // spinnaker one cell's are 1.6 steps (said, and in its README).
                if path.ends_with("celegans/network.json") && arch != "tiny" {
                    let before = ws.len();
                    ws.retain(|w| !w.contains("): the gap junctions into its neuron"));
                    // Loihi: every class; spinnaker and spinnaker2: one `Other` cell of 166.
                    assert_eq!(before - ws.len(), if arch == "loihi" { 4 } else { 1 }, "{:?}", out.report.warnings);
                }
                assert!(ws.is_empty(), "{} on {arch}: {ws:?}", path.display());
                compiled += 1;
            }
        }
    }
    assert!(compiled >= 12, "{compiled} compiles");
}

/// STDP weights its word rounds to 0 are warned of as other weights are
/// (the warning measured them through the plain mantissa, found none, and
/// 3 of 4 synapses delivering nothing went unsaid).
#[test]
fn stdp_weights_its_word_rounds_to_zero_are_said() {
    let net = r#"{"name":"stdp1","dt_ms":1.0,"populations":[
      {"name":"src","size":4,"model":"spike_source_array","spike_times":[[1.0],[2.0],[3.0],[4.0]]},
      {"name":"dst","size":4,"model":"lif","params":{"cm":1.0,"tau_m":20.0,"tau_syn_E":5.0,"tau_syn_I":10.0}}],
     "projections":[{"pre":"src","post":"dst","connector":{"type":"from_list","connections":[[0,0,0.5],[1,1,0.01],[2,2,0.012],[3,3,0.011]]},
       "plasticity":{"type":"stdp","weight_shift":10,"timing_dependence":{"type":"spike_pair","tau_plus":20.0,"tau_minus":20.0,"A_plus":0.0,"A_minus":0.0},
         "weight_dependence":{"type":"additive","w_min":0.0,"w_max":1.0}}}]}"#;
    let ws = warnings(net, "spinnaker");
    assert!(ws.iter().any(|w| w.starts_with("projection src→dst: of its weights, 3 rounded to 0, 6.2% of its summed |weight|")), "{ws:?}");
}

/// Izhikevich's Euler step saturates; what would take a term of it past 32
/// bits is refused, naming the parameter and the range, and a u that can
/// leave its range (where it is then held) is said.
#[test]
fn izhikevich_ranges_are_refused_or_said() {
    let net = |dt: f64, params: &str, init: &str| {
        format!(
            r#"{{"name": "iz", "dt_ms": {dt}, "populations": [{{"name": "z", "size": 1, "model": "izhikevich", "params": {{{params}}}, "initial": {{{init}}}}}]}}"#
        )
    };
    let err = |text: &str| {
        let net = parse_network(text, Path::new("t.json")).unwrap();
        compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).err().map(|e| e.to_string()).unwrap_or_default()
    };
    let e = err(&net(60.0, "", ""));
    assert!(e.contains("dt = 60 ms: one forward Euler step moves v") && e.contains("past the ±16384 mV"), "{e}");
    let e = err(&net(0.1, r#""a": 1000.0, "b": 1000.0"#, ""));
    assert!(e.contains("a·b = 1000000") && e.contains("±16384 mV/ms"), "{e}");
    // a·dt = 2: u is held within ±2^12 mV/ms, where a·dt·u fits.
    let e = err(&net(0.1, r#""a": 20.0"#, r#""u": 5000.0"#));
    assert!(e.contains("the initial u = 5000 mV/ms") && e.contains("±4096 mV/ms"), "{e}");
    for (params, words) in [
        (r#""a": -0.01"#, "a = -0.01 < 0"),
        (r#""a": 0.0, "d": -2.0"#, "d = -2 mV/ms lowers it"),
        (r#""a": 0.0, "d": 100.0, "i_offset": 40.0"#, "balances i_offset = 40 nA"),
    ] {
        let ws = warnings(&net(0.1, params, ""), "spinnaker");
        assert!(ws.iter().any(|w| w.starts_with("population `z` (izhikevich): u can leave the ±32768 mV/ms") && w.contains(words)), "{params}: {ws:?}");
    }
    // PyNN's cells, and a = 0 with d > 0 and a modest drive, have nothing to say of u's range.
    for params in ["", r#""a": 0.0, "i_offset": 1.0"#, r#""d": 8.0, "a": 0.02, "i_offset": 20.0"#] {
        let ws = warnings(&net(0.1, params, ""), "spinnaker");
        assert!(!ws.iter().any(|w| w.contains("u can leave")), "{params}: {ws:?}");
    }
}

/// Merged (tau_syn_E = tau_syn_I), the current's step is the coarser
/// receptor's: a small excitatory weight's warning names the inhibitory
/// projection that set it (it blamed the excitatory weights alone, which
/// kept 8× finer steps with the currents apart).
#[test]
fn a_merged_current_says_which_receptor_set_its_step() {
    let net = |tau_i: f64| {
        format!(
            r#"{{"name": "m", "dt_ms": 0.1, "populations": [
              {{"name": "src", "size": 2, "model": "spike_source_array", "spike_times": [[1.0, 2.0], [40.0]]}},
              {{"name": "n", "size": 1, "model": "lif", "params": {{"tau_syn_E": 5.0, "tau_syn_I": {tau_i}}}}}],
              "projections": [{{"pre": "src", "post": "n", "connector": {{"type": "from_list", "connections": [[0, 0, 0.01]]}}}},
                {{"pre": "src", "post": "n", "label": "big_inh", "receptor": "inhibitory", "connector": {{"type": "from_list", "connections": [[1, 0, -100.0]]}}}}]}}"#
        )
    };
    let ws = warnings(&net(5.0), "spinnaker");
    assert!(
        ws.len() == 1
            && ws[0].contains("of its synaptic (isyn) current, whose step the inhibitory weights set (projection big_inh's largest |weight|, 100 nA")
            && ws[0].contains("delivers about 42%"),
        "{ws:?}"
    );
    // Apart, the excitatory current keeps its own step: no word of the other.
    let ws = warnings(&net(5.000001), "spinnaker");
    assert!(ws.iter().all(|w| !w.contains("big_inh") && !w.contains("whose step")), "{ws:?}");
}

/// a = 0 has no recovery to round (it was warned of, "a larger dt keeps
/// it"); where v's range, not dt, makes u's step coarse, that is the cause said.
#[test]
fn an_izhikevich_recovery_warning_names_its_cause() {
    let net = |params: &str, init: &str| {
        format!(
            r#"{{"name": "iz", "dt_ms": 0.01, "populations": [{{"name": "z", "size": 2, "model": "izhikevich", "params": {{{params}}}, "initial": {{{init}}}}}]}}"#
        )
    };
    let ws = warnings(&net(r#""a": 0.0, "i_offset": 0.01"#, ""), "spinnaker");
    assert!(!ws.iter().any(|w| w.contains("u's recovery")), "{ws:?}");
    // One neuron without recovery beside one with: that one is not the one named.
    let ws = warnings(&net(r#""a": [0.0, 0.02]"#, ""), "spinnaker");
    assert!(!ws.iter().any(|w| w.contains("u's recovery")), "{ws:?}");
    let ws = warnings(&net("", r#""v": 1000.0"#), "spinnaker");
    assert!(
        ws.iter().any(|w| w.contains("u's recovery a step")
            && w.contains("(2^-8)")
            && w.contains("because the initial v is at |v| = 1000 mV")
            && !w.contains("larger dt")),
        "{ws:?}"
    );
}
