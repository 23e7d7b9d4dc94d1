//! Golden files that pin behaviour: the kernel of every neuron model on
//! every built-in profile, the mapping report of every example, the run
//! report of a small network. A difference fails with both versions
//! written side by side; `BLESS=1 cargo test` refreshes the files.

use std::path::{Path, PathBuf};

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::builder::NetworkBuilder;
use nerve_compiler::models::nir::{NirKind, NirNeuron};
use nerve_compiler::models::MODELS;
use nerve_compiler::net::model::*;
use nerve_emulator::machine::Machine;
use nerve_isa::arch::{Arch, BUILTIN_PROFILES};
use nerve_isa::kernel::asm::disassemble;
use nerve_report::session::{self, Request};
use nerve_report::summary;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden file `name` (or writes it under BLESS=1).
pub fn check(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1 to create it)", path.display()));
    if expected != actual {
        let new = std::env::temp_dir().join(format!("nerve-golden-{name}"));
        std::fs::write(&new, actual).unwrap();
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).map_or(expected.lines().count().min(actual.lines().count()), |l| l);
        panic!(
            "{name} differs from its golden file from line {} on: compare {} with {} (BLESS=1 cargo test refreshes it if the change is intended)",
            line + 1,
            path.display(),
            new.display()
        );
    }
}

/// One population of every neuron model (and the variants that give
/// different kernels), with input from a spike source on both receptors.
fn model_zoo() -> Network {
    let mut b = NetworkBuilder::new("zoo", 1.0);
    let src = b.population("src", 4, Model::SpikeSourceArray(vec![vec![1.0], vec![2.0], vec![3.0], vec![4.0]])).unwrap();
    let poisson = b.population("poisson", 4, Model::SpikeSourcePoisson { rate: 50.0.into(), seed: 1 }).unwrap();
    let nir = |kind: NirKind, reset: ResetMode, fire: bool| {
        Model::Neuron(
            NirNeuron {
                kind,
                tau_mem: 0.02.into(),
                tau_syn: 0.005.into(),
                r: 1.5.into(),
                v_leak: 0.1.into(),
                w_in: 1.0.into(),
                v_threshold: 1.0.into(),
                v_reset: 0.0.into(),
                reset,
                dt_s: 0.001,
                bias: 0.05.into(),
                fire,
            }
            .into_neuron(),
        )
    };
    let neuron = |name: &str, p: Vec<(&str, Values)>| Model::neuron(name, p).unwrap();
    let pops: Vec<(&str, Model)> = vec![
        ("lif", neuron("lif", vec![])),
        ("lif_two_currents", neuron("lif", vec![("tau_syn_E", 3.0.into()), ("tau_syn_I", 7.0.into())])),
        ("lif_per_neuron", neuron("lif", vec![("tau_m", Values::PerNeuron(vec![10.0, 12.0, 14.0, 16.0]))])),
        ("if", neuron("if", vec![])),
        ("adaptive_lif", neuron("adaptive_lif", vec![("a_jump", 2.0.into()), ("tau_a", 50.0.into())])),
        ("izhikevich", neuron("izhikevich", vec![])),
        ("loihi_lif", neuron("loihi_lif", vec![("du", 400.0.into()), ("dv", 200.0.into()), ("vth", 30.0.into())])),
        ("loihi_lif_nengo", neuron("loihi_lif", vec![("du", 400.0.into()), ("dv", 200.0.into()), ("vth", 30.0.into()), ("refractory", 2.0.into())])),
        ("nir_threshold", nir(NirKind::Threshold, ResetMode::ToReset, false)),
        ("nir_i", nir(NirKind::I, ResetMode::ToReset, false)),
        ("nir_if", nir(NirKind::IF, ResetMode::Subtract, false)),
        ("nir_li", nir(NirKind::LI, ResetMode::ToReset, false)),
        ("nir_lif", nir(NirKind::LIF, ResetMode::ToReset, false)),
        ("nir_cubali", nir(NirKind::CubaLI, ResetMode::ToReset, false)),
        ("nir_cubalif", nir(NirKind::CubaLIF, ResetMode::Subtract, false)),
        ("nir_li_threshold", nir(NirKind::LI, ResetMode::ToReset, true)),
        ("delay_relay", neuron("delay_relay", vec![])),
    ];
    for (name, model) in pops {
        let integer = model.neuron_model().is_some_and(|m| m.integer_weights());
        let p = b.population(name, 4, model).unwrap();
        if integer {
            // Excitatory-only lava weights: every profile's mantissas hold them (tiny's are 8 bits).
            let l = LoihiWeights { weight_exp: 1, num_weight_bits: 6, sign_mode: Some(SignMode::Excitatory) };
            b.project(src, p, Connector::AllToAll { allow_self_connections: true }).weight(40.0).loihi(l).add().unwrap();
            b.project(poisson, p, Connector::OneToOne).weight(20.0).loihi(l).delay_ms(2.0).add().unwrap();
        } else {
            b.project(src, p, Connector::AllToAll { allow_self_connections: true }).weight(0.5).add().unwrap();
            b.project(poisson, p, Connector::OneToOne).inhibitory().weight(-0.25).delay_ms(2.0).add().unwrap();
        }
    }
    b.finish().unwrap()
}

#[test]
fn kernels_of_every_model_on_every_profile() {
    let net = model_zoo();
    // Every registered model is in the zoo: a new model needs its golden kernel.
    for m in MODELS {
        assert!(net.pops().any(|(_, p)| p.model.neuron_model().is_some_and(|x| x.name() == m.name())), "model `{}` is not in the zoo", m.name());
    }
    for (profile, _) in BUILTIN_PROFILES {
        let arch = Arch::builtin(profile).unwrap();
        let out = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap();
        let img = &*out.image;
        let mut text = String::new();
        for (pi, p) in img.populations.iter().enumerate() {
            let Some(core) = img.cores.iter().find(|c| c.pop.index() == pi) else { continue };
            let Some(k) = core.kernel_id() else { continue };
            text.push_str(&format!("## {} ({})\n{}\n", p.name, p.model, disassemble(&img.kernels[k.index()])));
        }
        check(&format!("kernels_{profile}.txt"), &text);
    }
}

/// A mapping report without its stage times.
fn map_json(r: &nerve_compiler::compile::MapReport) -> String {
    let mut v = serde_json::to_value(r).unwrap();
    v["seconds"] = serde_json::Value::Null;
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

#[test]
fn mapping_report_of_every_example() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let net = nerve_compiler::front::read(&path, &Default::default()).unwrap();
        for profile in ["spinnaker", "loihi"] {
            let arch = Arch::builtin(profile).unwrap();
            let out = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap();
            let stem = path.file_stem().unwrap().to_string_lossy();
            check(&format!("map_{stem}_{profile}.json"), &map_json(&out.report));
            n += 1;
        }
    }
    assert!(n >= 2, "no example networks found in {}", dir.display());
}

#[test]
fn run_report_of_a_small_network() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    let net = nerve_compiler::front::read(&path, &Default::default()).unwrap();
    let arch = Arch::builtin("spinnaker").unwrap();
    let out = compile(&arch, &net, &Options::default(), &mut |_| {}).unwrap();
    let m = Machine::load_valid(out.image).unwrap();
    let ran = session::run(m, &Request { steps: 500, probes: vec!["exc:v".into()], decision: Some("inh".into()), ..Request::default() }, &mut |_| {}).unwrap();
    let s = summary::build(
        &ran.machine,
        &ran.output,
        &summary::Options {
            engine: "jit",
            threads: 1,
            inference_steps: Some(100),
            decision: Some("inh"),
            decision_spikes: &ran.decision_spikes,
            recorded: &ran.recorded,
            load_seconds: 0.0,
            huge_pages: false,
        },
    );
    let mut v = serde_json::to_value(&s).unwrap();
    v["host"] = serde_json::Value::Null;
    check("run_small_spinnaker.json", &(serde_json::to_string_pretty(&v).unwrap() + "\n"));
    let text: String = nerve_report::text::tables(&s, 5).into_iter().map(|(t, b)| format!("{t}\n{b}\n\n")).collect();
    check("run_small_spinnaker.txt", &text);
}
