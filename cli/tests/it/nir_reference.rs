//! NIR import against NIR's reference simulator (../shared/peers/nir_reference_sim.py,
//! run with --record-all on the same seeded inputs; the *.all.json files).
//!
//! nerve's chip delivers a projection's spikes one timestep later, where the
//! reference passes signals through any number of layers within a step. A
//! population at synaptic depth k therefore runs k steps behind; it is compared
//! over the reference's steps shifted by k (the run is k steps longer).
//! Spiking nodes: per-neuron spike counts, Σ|difference| ≤ 5% of the reference
//! total. Readouts (LI, CubaLI, I): relative RMS error ≤ 5%.

use std::collections::BTreeMap;

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::nir::lower::{to_network, NirOptions};
use nerve_compiler::front::nir::model::flatten;
use nerve_compiler::front::nir::read::read_nir;
use nerve_emulator::engine::{run, Recording};
use nerve_emulator::kernel::jit::Jit;
use nerve_emulator::machine::Machine;
use nerve_isa::arch::Arch;
use serde_json::Value;

fn data(f: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../compiler/tests/data/nir").join(f)
}

fn check(sample: &str, arch: &str) -> Vec<String> {
    let path = data(&format!("{sample}.nir"));
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(data(&format!("{sample}.all.json"))).unwrap()).unwrap();
    let steps = reference["steps"].as_u64().unwrap() as usize;
    let g = read_nir(&path).unwrap();
    let opts = NirOptions { dt_s: reference["dt"].as_f64(), ..NirOptions::default() };
    let (net, _) = to_network(&g, sample, &path.display().to_string(), &opts).unwrap();
    // Lag of each population behind the reference.
    let flat = flatten(&g).unwrap();
    let delayed: Vec<(String, String)> =
        reference["delayed_edges"].as_array().unwrap().iter().map(|e| (e[0].as_str().unwrap().to_string(), e[1].as_str().unwrap().to_string())).collect();
    let is_pop = |n: &str| net.find(n).is_some();
    let mut lag: BTreeMap<String, i64> = flat.inputs.iter().map(|i| (i.clone(), 0)).collect();
    for _ in 0..flat.nodes.len() + 1 {
        for (name, _) in &flat.nodes {
            if !is_pop(name) || flat.inputs.contains(name) {
                continue;
            }
            // Walk back through non-population nodes, counting delayed edges.
            let mut best: Option<i64> = None;
            let mut stack: Vec<(String, i64)> = vec![(name.clone(), 0)];
            let mut seen = std::collections::BTreeSet::new();
            while let Some((n, d)) = stack.pop() {
                for (a, b) in flat.edges.iter().filter(|(_, b)| *b == n) {
                    let dd = d + delayed.contains(&(a.clone(), b.clone())) as i64;
                    if is_pop(a) {
                        if let Some(l) = lag.get(a) {
                            best = Some(best.map_or(l + 1 - dd, |x: i64| x.max(l + 1 - dd)));
                        }
                    } else if seen.insert(a.clone()) {
                        stack.push((a.clone(), dd));
                    }
                }
            }
            if let Some(b) = best {
                lag.insert(name.clone(), b);
            }
        }
    }
    let max_lag = lag.values().copied().max().unwrap_or(0).max(0) as usize;
    let a = Arch::builtin(arch).unwrap();
    let out = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap();
    let mut m = Machine::load_valid(out.image).unwrap();
    // The reference's input spike trains, fed as external spikes.
    let mut ext = Vec::new();
    for (name, per_step) in reference["inputs"].as_object().unwrap() {
        for (t, row) in per_step.as_array().unwrap().iter().enumerate() {
            for (i, v) in row.as_array().unwrap().iter().enumerate() {
                if v.as_f64().unwrap() != 0.0 {
                    ext.push((name.clone(), i as u32, t as u32));
                }
            }
        }
    }
    m.inject(&ext).unwrap();
    let probes: Vec<(u32, u8)> = m
        .pops
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p.model.as_str(), "nir LI" | "nir CubaLI" | "nir I"))
        .map(|(i, p)| (i as u32, p.vars.iter().find(|v| v.name == "v").unwrap().slot))
        .collect();
    let rec = Recording { spikes: vec![true; m.pops.len()], probes: probes.clone(), per_step: false };
    let jit = Jit::compile(&m).unwrap();
    let r = run(&mut m, &jit, (steps + max_lag) as u64, 1, &rec, &mut |_| {}).unwrap();
    let mut report = Vec::new();
    for (pi, p) in m.pops.iter().enumerate() {
        let Some(want) = reference["all_nodes"].get(&p.name) else { continue };
        let l = *lag.get(&p.name).unwrap_or(&0) as usize;
        if p.model == "input" {
            continue;
        }
        let rows: Vec<Vec<f64>> = want.as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()).collect();
        if let Some(k) = probes.iter().position(|&(q, _)| q == pi as u32) {
            let v = m.pops[pi].vars.iter().find(|v| v.name == "v").unwrap();
            let (mut se, mut sr) = (0.0, 0.0);
            for (t, row) in rows.iter().enumerate() {
                for (i, &x) in row.iter().enumerate() {
                    let ours = r.probes[k].values[t + l][i] as f64 * v.scale + v.offset;
                    se += (ours - x).powi(2);
                    sr += x * x;
                }
            }
            assert!(sr > 0.0, "{sample}/{}: the reference readout is all zero, the check would be empty", p.name);
            let rel = (se / sr).sqrt();
            report.push(format!(
                "{sample}/{} (readout, lag {l}): relative RMS error {:.2e} (reference RMS {:.3e})",
                p.name,
                rel,
                (sr / (rows.len() * p.size as usize) as f64).sqrt()
            ));
            assert!(rel <= 0.05, "{sample}/{}: relative RMS error {rel}", p.name);
        } else {
            let mut want_c = vec![0.0; p.size as usize];
            for row in &rows {
                for (i, &x) in row.iter().enumerate() {
                    want_c[i] += x;
                }
            }
            let mut got_c = vec![0.0; p.size as usize];
            for s in r.spikes.iter().filter(|s| s.pop == pi as u32) {
                let t = s.step as usize;
                if t >= l && t < l + steps {
                    got_c[s.neuron as usize] += 1.0;
                }
            }
            let total: f64 = want_c.iter().sum();
            let diff: f64 = want_c.iter().zip(&got_c).map(|(a, b)| (a - b).abs()).sum();
            report.push(format!("{sample}/{} (spiking, lag {l}): reference {total} spikes, Σ|Δcount| {diff}", p.name));
            assert!(total > 0.0, "{sample}/{}: the reference has no spikes, the check would be empty", p.name);
            assert!(diff <= 0.05 * total, "{sample}/{}: Σ|Δ| {diff} > 5% of {total}\n ours {got_c:?}\n want {want_c:?}", p.name);
        }
    }
    report
}

#[test]
fn samples_agree_with_the_reference_simulator() {
    let mut all = Vec::new();
    for s in ["ff_lif_20_16_4", "recurrent_lif", "delay_lif", "cnn_if_8x8"] {
        all.extend(check(s, "spinnaker"));
    }
    eprintln!("{}", all.join("\n"));
}

#[test]
fn every_file_imports_and_all_but_the_invalid_one_compile() {
    for f in std::fs::read_dir(data("")).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_none_or(|e| e != "nir") {
            continue;
        }
        let g = read_nir(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let res = to_network(&g, "x", &p.display().to_string(), &NirOptions::default());
        if p.file_name().unwrap() == "braille_noDelay_bias_zero_subgraph.nir" {
            let e = res.unwrap_err().to_string();
            assert!(e.contains("`lif1.lif` is not a node of the graph"), "{e}");
            continue;
        }
        let (net, _) = res.unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let out = compile(&Arch::builtin("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let mut m = Machine::load_valid(out.image).unwrap();
        let jit = Jit::compile(&m).unwrap();
        let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: false };
        run(&mut m, &jit, 20, 1, &rec, &mut |_| {}).unwrap();
    }
}

/// Export (with the quantised weights) → import → compile → run gives the
/// same spikes as the original, for every sample.
#[test]
fn export_then_import_round_trips() {
    use nerve_compiler::export::nir::{to_nir, write_nir};
    let dir = tempfile::tempdir().unwrap();
    for s in ["ff_lif_20_16_4", "recurrent_lif", "delay_lif", "cnn_if_8x8"] {
        let path = data(&format!("{s}.nir"));
        let reference: Value = serde_json::from_str(&std::fs::read_to_string(data(&format!("{s}.all.json"))).unwrap()).unwrap();
        let opts = NirOptions { dt_s: reference["dt"].as_f64(), ..NirOptions::default() };
        let (net, _) = to_network(&read_nir(&path).unwrap(), s, "x", &opts).unwrap();
        let a = Arch::builtin("spinnaker").unwrap();
        let out = compile(&a, &net, &Options::default(), &mut |_| {}).unwrap();
        let g = to_nir(&net, &out.quant).unwrap();
        let file = dir.path().join(format!("{s}.nir"));
        write_nir(&g, &file).unwrap();
        let back = read_nir(&file).unwrap();
        let (net2, dt2) = to_network(&back, s, "y", &NirOptions::default()).unwrap();
        assert_eq!(dt2, reference["dt"].as_f64().unwrap(), "dt travels in the metadata");
        let out2 = compile(&a, &net2, &Options::default(), &mut |_| {}).unwrap();
        let mut spikes = Vec::new();
        for img in [out.image, out2.image] {
            let mut m = Machine::load_valid(img).unwrap();
            let mut ext = Vec::new();
            for (name, per_step) in reference["inputs"].as_object().unwrap() {
                for (t, row) in per_step.as_array().unwrap().iter().enumerate() {
                    for (i, v) in row.as_array().unwrap().iter().enumerate() {
                        if v.as_f64().unwrap() != 0.0 {
                            ext.push((name.clone(), i as u32, t as u32));
                        }
                    }
                }
            }
            m.inject(&ext).unwrap();
            let rec = Recording { spikes: vec![true; m.pops.len()], probes: vec![], per_step: false };
            let jit = Jit::compile(&m).unwrap();
            let r = run(&mut m, &jit, 60, 1, &rec, &mut |_| {}).unwrap();
            let named: Vec<(String, u32, u32)> = r.spikes.iter().map(|x| (m.pops[x.pop as usize].name.clone(), x.neuron, x.step)).collect();
            spikes.push(named);
        }
        assert!(!spikes[0].is_empty());
        let mut a0 = spikes[0].clone();
        let mut a1 = spikes[1].clone();
        a0.sort();
        a1.sort();
        assert_eq!(a0, a1, "{s}: spikes differ after export and import");
    }
}
