//! The NIR paper examples check themselves: examples/nir-cnn (the Sinabs CNN on
//! recorded N-MNIST digits) and examples/nir-braille (the snnTorch recurrent
//! CubaLIF models on synthetic tactile input) run through the CLI as their
//! run.sh runs them, on the same samples, scored with their check.py's bounds; and read at the wrong dt (`--source generic`, 1 ms, on
//! the same spike trains step for step) each fails its check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

fn nir_file(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../compiler/tests/data/nir").join(name).display().to_string()
}

fn nerve(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_nerve")).args(args).arg("-q").output().expect("nerve runs");
    assert!(out.status.success(), "nerve {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Rows of a CSV with a header, as field vectors.
fn csv_rows(p: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(p).unwrap().lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

/// Spike counts per neuron of population `pop` in a recorded spike file.
fn counts(p: &Path, pop: &str, n: usize) -> Vec<u64> {
    let mut c = vec![0; n];
    for f in csv_rows(p).iter().filter(|f| f[0] == pop) {
        c[f[1].parse::<usize>().unwrap()] += 1;
    }
    c
}

/// The class with most spikes (the first on a tie), as check.py picks it.
fn argmax(c: &[u64]) -> Option<usize> {
    let best = *c.iter().max()?;
    (best > 0).then(|| c.iter().position(|&x| x == best).unwrap())
}

/// (step, neuron) of an N-MNIST recording, as make_inputs.py bins it: 1 ms
/// bins from the first event, neuron = polarity·34·34 + y·34 + x, one spike
/// per bin, pixel and polarity.
fn nmnist_spikes(path: &Path) -> Vec<(u64, u32)> {
    let b = std::fs::read(path).unwrap();
    assert_eq!(b.len() % 5, 0);
    let ev: Vec<(u32, u32, u32, u64)> =
        b.chunks(5).map(|e| (e[0] as u32, e[1] as u32, (e[2] >> 7) as u32, (((e[2] & 0x7f) as u64) << 16) | ((e[3] as u64) << 8) | e[4] as u64)).collect();
    let t0 = ev[0].3;
    let set: std::collections::BTreeSet<(u64, u32)> = ev.iter().map(|&(x, y, p, t)| ((t - t0) / 1000, p * 34 * 34 + y * 34 + x)).collect();
    set.into_iter().collect()
}

fn write_spikes(path: &Path, spikes: &[(u64, u32)], step_ms: f64) {
    let mut s = String::from("population,neuron,time\n");
    for &(step, n) in spikes {
        s += &format!("input,{n},{}\n", step as f64 * step_ms);
    }
    std::fs::write(path, s).unwrap();
}

/// Runs the first `k` N-MNIST samples on an image compiled with `opts`, inputs
/// timed at `step_ms` per step; returns (sample, label, nerve's class).
fn cnn_run(dir: &Path, k: usize, opts: &[&str], step_ms: f64) -> Vec<(String, usize, Option<usize>)> {
    let ex = example("nir-cnn");
    let img = dir.join("cnn.img");
    let model = nir_file("cnn_sinabs.nir");
    let mut args = vec!["compile", model.as_str(), "--arch", "spinnaker", "-o", img.to_str().unwrap()];
    args.extend_from_slice(opts);
    nerve(&args);
    let mut res = Vec::new();
    for f in csv_rows(&ex.join("data/labels.csv")).into_iter().take(k) {
        let (input, rec) = (dir.join(format!("{}.in.csv", f[0])), dir.join(format!("{}.out.csv", f[0])));
        write_spikes(&input, &nmnist_spikes(&ex.join(format!("data/{}.bs2", f[0]))), step_ms);
        nerve(&["run", img.to_str().unwrap(), "--steps", "320", "--input", input.to_str().unwrap(), "--record", rec.to_str().unwrap()]);
        res.push((f[0].clone(), f[1].parse().unwrap(), argmax(&counts(&rec, "12", 10))));
    }
    res
}

#[test]
fn nir_cnn_classifies_recorded_nmnist_digits() {
    let dir = tempfile::tempdir().unwrap();
    let reference = read_json(&example("nir-cnn").join("reference.json"));
    let ref_class = |s: &str| reference["counts"].get(s).map(|c| argmax(&c.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect::<Vec<_>>()));
    // check.py's bounds: >= 95% accuracy over all 100 samples, >= 95% the
    // reference's class over those it has (the first 20).
    let res = cnn_run(dir.path(), 100, &[], 1000.0);
    let correct = res.iter().filter(|(_, l, c)| *c == Some(*l)).count();
    let with_ref: Vec<_> = res.iter().filter_map(|(s, _, c)| ref_class(s).map(|r| r == *c)).collect();
    let agree = with_ref.iter().filter(|&&x| x).count();
    assert!(res.len() == 100 && with_ref.len() >= 20, "{} samples, {} references", res.len(), with_ref.len());
    assert!(correct * 100 >= 95 * res.len() && agree * 100 >= 95 * with_ref.len(), "accuracy {correct}/100, agreement {agree}/{}: {res:?}", with_ref.len());
    // Control: read at 1 ms (NIR's generic default) instead of Sinabs' one
    // step per unit, the same spike trains reach nothing.
    let res = cnn_run(dir.path(), 10, &["--source", "generic"], 1.0);
    let correct = res.iter().filter(|(_, l, c)| *c == Some(*l)).count();
    assert!(correct * 100 < 95 * res.len(), "at the wrong dt the check still passes: {res:?}");
}

/// Per model: (same class as the reference, Σ|Δ count|, reference spikes, samples).
fn braille_run(dir: &Path, k: usize, models: &[(&str, &[&str])], step_ms: f64) -> BTreeMap<String, (usize, u64, u64, usize)> {
    let ex = example("nir-braille");
    let reference = read_json(&ex.join("reference.json"));
    let mut res = BTreeMap::new();
    for (model, opts) in models {
        let img = dir.join(format!("{model}.img"));
        let path = nir_file(&format!("{model}.nir"));
        let mut args = vec!["compile", path.as_str(), "--arch", "spinnaker", "-o", img.to_str().unwrap()];
        args.extend_from_slice(opts);
        nerve(&args);
        let (mut agree, mut diff, mut total) = (0, 0, 0);
        for f in csv_rows(&ex.join("samples.csv")).into_iter().take(k) {
            let s = &f[0];
            let spikes: Vec<(u64, u32)> = csv_rows(&ex.join(format!("inputs/{s}.csv")))
                .iter()
                .map(|r| ((r[2].parse::<f64>().unwrap() / 0.1).round() as u64, r[1].parse().unwrap()))
                .collect();
            let (input, rec) = (dir.join(format!("{s}.in.csv")), dir.join(format!("{model}_{s}.csv")));
            write_spikes(&input, &spikes, step_ms);
            nerve(&["run", img.to_str().unwrap(), "--steps", "258", "--input", input.to_str().unwrap(), "--record", rec.to_str().unwrap()]);
            let got = counts(&rec, "lif2", 7);
            let want: Vec<u64> = reference["counts"][*model][s].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            agree += (argmax(&got) == argmax(&want)) as usize;
            diff += got.iter().zip(&want).map(|(a, b)| a.abs_diff(*b)).sum::<u64>();
            total += want.iter().sum::<u64>();
        }
        res.insert(model.to_string(), (agree, diff, total, k));
    }
    res
}

/// check.py's bounds: >= 80% same class, Σ|Δ count| <= 15% of the reference's spikes.
fn within_bounds(&(agree, diff, total, n): &(usize, u64, u64, usize)) -> bool {
    agree * 100 >= 80 * n && diff * 100 <= 15 * total && total > 0
}

#[test]
fn nir_braille_agrees_with_the_reference_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let res = braille_run(dir.path(), 35, &[("braille_noDelay_bias_zero", &["--reset", "zero"]), ("braille_noDelay_noBias_subtract", &[])], 0.1);
    for (model, r) in &res {
        assert!(within_bounds(r), "{model}: (same class, Σ|Δ|, reference spikes, samples) = {r:?}");
    }
    // Control: at NIR's generic 1 ms (the same spike trains, step for step)
    // the decay factors 1 − dt/τ are negative and the agreement is gone.
    let res = braille_run(dir.path(), 35, &[("braille_noDelay_noBias_subtract", &["--source", "generic"])], 1.0);
    let r = &res["braille_noDelay_noBias_subtract"];
    assert!(!within_bounds(r), "at the wrong dt the check still passes: {r:?}");
}
