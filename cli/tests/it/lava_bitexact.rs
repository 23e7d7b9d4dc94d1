//! Loihi mode is bit-exact with lava-nc's bit-accurate models: the golden files
//! (emulator/tests/data/lava/, made by ../shared/peers/lava_reference.py with
//! lava-nc 0.10.0, see bench/lava/) are rebuilt as nerve networks, compiled for
//! the `loihi` profile, run, and compared spike for spike and u, v for every
//! neuron at every step.

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::builder::NetworkBuilder;
use nerve_compiler::net::model::*;
use nerve_emulator::engine::{run, Interp, KernelRunner, Recording};
use nerve_emulator::kernel::jit::Jit;
use nerve_emulator::machine::Machine;
use nerve_isa::arch::Arch;
use serde_json::Value;

fn ints(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap() as f64).collect()
}

fn check(file: &str, arch: &str) {
    let path = format!("{}/../emulator/tests/data/lava/{file}", env!("CARGO_MANIFEST_DIR"));
    let g: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let net = &g["network"];
    let steps = net["steps"].as_u64().unwrap();
    let mut b = NetworkBuilder::new("lava_golden", 1.0);
    let names = ["A", "B", "C"];
    let mut ids = Vec::new();
    for name in names {
        let p = &net["populations"][name];
        let n = p["n"].as_u64().unwrap() as u32;
        let model = Model::neuron(
            "loihi_lif",
            vec![
                ("du", Values::Scalar(p["du"].as_f64().unwrap())),
                ("dv", Values::Scalar(p["dv"].as_f64().unwrap())),
                ("vth", Values::Scalar(p["vth"].as_f64().unwrap())),
                ("bias_mant", Values::PerNeuron(ints(&p["bias_mant"]))),
                ("bias_exp", Values::PerNeuron(ints(&p["bias_exp"]))),
            ],
        )
        .unwrap();
        let id = b.population(name, n, model).unwrap();
        b.initial(id, "u", Init::Values(Values::PerNeuron(ints(&p["u0"]))));
        b.initial(id, "v", Init::Values(Values::PerNeuron(ints(&p["v0"]))));
        b.record(id);
        ids.push(id);
    }
    for c in net["connections"].as_array().unwrap() {
        let pre = ids[names.iter().position(|n| *n == c["pre"].as_str().unwrap()).unwrap()];
        let post = ids[names.iter().position(|n| *n == c["post"].as_str().unwrap()).unwrap()];
        let conn = match c["kind"].as_str().unwrap() {
            "dense" => Connector::Dense(c["weights"].as_array().unwrap().iter().map(ints).collect()),
            _ => {
                let (pi, qi, w) = (ints(&c["pre_idx"]), ints(&c["post_idx"]), ints(&c["weight"]));
                Connector::FromList((0..w.len()).map(|k| Conn { pre: pi[k] as u32, post: qi[k] as u32, weight: Some(w[k]), delay: None }).collect())
            }
        };
        let lw = LoihiWeights {
            weight_exp: c["weight_exp"].as_i64().unwrap() as i8,
            num_weight_bits: c["num_weight_bits"].as_u64().unwrap() as u8,
            // null: none given, lava's default (golden_sign_default.json).
            sign_mode: c["sign_mode"].as_str().map(|m| match m {
                "excitatory" => SignMode::Excitatory,
                "inhibitory" => SignMode::Inhibitory,
                _ => SignMode::Mixed,
            }),
        };
        b.project(pre, post, conn).loihi(lw).label(c["name"].as_str().unwrap()).add().unwrap();
    }
    let network = b.finish().unwrap();
    let a = Arch::builtin(arch).unwrap();
    let out = compile(&a, &network, &Options::default(), &mut |_| {}).unwrap();
    for engine in ["interp", "jit"] {
        let mut m = Machine::load_valid(out.image.clone()).unwrap();
        let mut probes = Vec::new();
        for name in names {
            let (pi, p) = m.pops.iter().enumerate().find(|(_, p)| p.name == name).unwrap();
            for var in ["u", "v"] {
                probes.push((pi as u32, p.vars.iter().find(|v| v.name == var).unwrap().slot));
            }
        }
        let rec = Recording { spikes: vec![true; 3], probes, per_step: false, chunk_steps: None };
        let runner: Box<dyn KernelRunner> = if engine == "jit" { Box::new(Jit::compile(&m).unwrap()) } else { Box::new(Interp) };
        let r = run(&mut m, runner.as_ref(), steps, 1, &rec, &mut |_| {}).unwrap();
        for (k, name) in names.iter().enumerate() {
            let res = &g["results"][*name];
            let pi = m.pops.iter().position(|p| p.name == *name).unwrap() as u32;
            // Spikes: lava's 1-based step t is nerve's step t − 1.
            let want: Vec<Vec<u64>> =
                res["spikes"].as_array().unwrap().iter().map(|s| s.as_array().unwrap().iter().map(|t| t.as_u64().unwrap() - 1).collect()).collect();
            let mut got: Vec<Vec<u64>> = vec![Vec::new(); want.len()];
            for s in r.spikes.iter().filter(|s| s.pop == pi) {
                got[s.neuron as usize].push(s.step as u64);
            }
            assert_eq!(got, want, "{file} on {arch} ({engine}): spikes of {name}");
            for (vi, var) in ["u", "v"].iter().enumerate() {
                let trace = &res[format!("trace_{var}")];
                let probe = &r.probes[k * 2 + vi];
                for t in 0..steps as usize {
                    let want: Vec<i64> = trace[t].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
                    let got: Vec<i64> = probe.values[t].iter().map(|&x| x as i64).collect();
                    assert_eq!(got, want, "{file} on {arch} ({engine}): {name}.{var} after lava step {}", t + 1);
                }
            }
        }
    }
}

#[test]
fn small_golden_is_bit_exact() {
    check("golden_small.json", "loihi");
}

/// Projections given no sign_mode take lava's default: a static Dense or
/// Sparse infers it from its weights (bench/lava/sign_default.py: odd
/// all-positive weights keep their last bit, all-negative ones are
/// `inhibitory`, an all-zero matrix `excitatory`).
#[test]
fn default_sign_mode_is_lavas() {
    check("golden_sign_default.json", "loihi");
    check("golden_sign_default.json", "spinnaker");
}

#[test]
fn default_golden_is_bit_exact() {
    check("golden_default.json", "loihi");
}

/// The same network on a SpiNNaker-like machine: different partitioning,
/// placement and routing, identical arithmetic.
#[test]
fn golden_is_bit_exact_on_another_machine() {
    check("golden_small.json", "spinnaker");
}
