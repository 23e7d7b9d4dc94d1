//! examples/liquid-state-machine checks itself: the 400-neuron reservoir runs
//! the 400 trials of its temporal XOR (inputs.csv, 60000 steps) through the CLI
//! on the spinnaker and loihi profiles; the linear readout of
//! examples/liquid-state-machine/readout.py, done here the same way (spike
//! counts in 3 bins of 25 ms per neuron, ridge regression in its dual form,
//! Gaussian elimination with partial pivoting, same order of operations),
//! must reach >= 75 % on the 100 test trials and beat the readout on the input
//! alone by >= 15 points, as check.py requires. Controls: the input-alone
//! readout fails the accuracy bound, and so does the reservoir without its
//! recurrent projections (so the check can fail).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN_MS: f64 = 25.0;
const BINS: usize = 3;
const LAMBDA: f64 = 10.0;
const MIN_ACC: f64 = 0.75;
const MIN_GAIN: f64 = 0.15;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/liquid-state-machine")
}

fn nerve(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_nerve")).args(args).arg("-q").output().expect("nerve runs");
    assert!(out.status.success(), "nerve {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

struct Trials {
    trial_ms: f64,
    train: usize,
    labels: Vec<bool>,
    channels: usize,
    exc: usize,
}

fn trials() -> Trials {
    let t: Value = serde_json::from_str(&std::fs::read_to_string(example().join("trials.json")).unwrap()).unwrap();
    Trials {
        trial_ms: t["trial_ms"].as_f64().unwrap(),
        train: t["train"].as_u64().unwrap() as usize,
        labels: t["trials"].as_array().unwrap().iter().map(|x| x["label"].as_u64().unwrap() == 1).collect(),
        channels: t["channels"].as_u64().unwrap() as usize,
        exc: t["neurons"]["exc"].as_u64().unwrap() as usize,
    }
}

/// Per trial a sparse state: feature (neuron offset + neuron) * BINS + bin -> count.
fn states(csv: &Path, tr: &Trials, offsets: &[(&str, usize)]) -> Vec<HashMap<usize, i64>> {
    let mut st = vec![HashMap::new(); tr.labels.len()];
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("population,neuron,time"));
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let Some(&(_, off)) = offsets.iter().find(|o| o.0 == f[0]) else { continue };
        let t: f64 = f[2].parse().unwrap();
        let (k, b) = ((t / tr.trial_ms).floor() as usize, ((t % tr.trial_ms) as usize as f64 / BIN_MS) as usize);
        if k < st.len() && b < BINS {
            *st[k].entry((off + f[1].parse::<usize>().unwrap()) * BINS + b).or_insert(0) += 1;
        }
    }
    st
}

/// 1 (the bias feature) + x . y; the counts are integers, so this is exact.
fn dot(x: &HashMap<usize, i64>, y: &HashMap<usize, i64>) -> f64 {
    let (x, y) = if x.len() > y.len() { (y, x) } else { (x, y) };
    1.0 + x.iter().map(|(f, v)| v * y.get(f).copied().unwrap_or(0)).sum::<i64>() as f64
}

/// Gaussian elimination with partial pivoting (the first largest pivot), as readout.py.
fn solve(a: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let n = y.len();
    let mut m: Vec<Vec<f64>> = a.iter().zip(y).map(|(r, &v)| r.iter().copied().chain([v]).collect()).collect();
    for c in 0..n {
        let mut p = c;
        for r in c + 1..n {
            if m[r][c].abs() > m[p][c].abs() {
                p = r;
            }
        }
        m.swap(c, p);
        let (top, rest) = m.split_at_mut(c + 1);
        let pivot = &top[c];
        for row in rest.iter_mut() {
            let f = row[c] / pivot[c];
            if f != 0.0 {
                for (x, v) in row[c..].iter_mut().zip(&pivot[c..]) {
                    *x -= f * v;
                }
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).fold(0.0, |s, j| s + m[r][j] * x[j]);
        x[r] = (m[r][n] - s) / m[r][r];
    }
    x
}

/// (train, test) accuracy of the ridge readout on `st`.
fn accuracy(st: &[HashMap<usize, i64>], tr: &Trials) -> (f64, f64) {
    let ntr = tr.train;
    let y: Vec<f64> = tr.labels[..ntr].iter().map(|&l| if l { 1.0 } else { -1.0 }).collect();
    let mut k = vec![vec![0.0; ntr]; ntr];
    for i in 0..ntr {
        for j in 0..=i {
            let d = dot(&st[i], &st[j]);
            k[i][j] = d;
            k[j][i] = d;
        }
        k[i][i] += LAMBDA;
    }
    let a = solve(&k, &y);
    let correct = |t: usize| {
        let s = (0..ntr).fold(0.0, |s, i| s + a[i] * dot(&st[i], &st[t]));
        (s > 0.0) == tr.labels[t]
    };
    let n = tr.labels.len();
    let train = (0..ntr).filter(|&t| correct(t)).count() as f64 / ntr as f64;
    let test = (ntr..n).filter(|&t| correct(t)).count() as f64 / (n - ntr) as f64;
    (train, test)
}

/// Runs `net` over every trial; returns the reservoir's (train, test) accuracy and the spike file.
fn reservoir(net: &Path, arch: &str, dir: &Path, tr: &Trials) -> ((f64, f64), Vec<u8>) {
    let rec = dir.join(format!("lsm_{arch}.csv"));
    let inputs = example().join("inputs.csv");
    let steps = ((tr.labels.len() as f64) * tr.trial_ms).to_string();
    nerve(&["run", net.to_str().unwrap(), "--arch", arch, "--steps", &steps, "--input", inputs.to_str().unwrap(), "--record", rec.to_str().unwrap()]);
    let acc = accuracy(&states(&rec, tr, &[("exc", 0), ("inh", tr.exc)]), tr);
    (acc, std::fs::read(&rec).unwrap())
}

#[test]
fn lsm_readout_beats_chance_and_the_input_alone_on_both_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let tr = trials();
    let input = accuracy(&states(&example().join("inputs.csv"), &tr, &[("input", 0)]), &tr);
    assert_eq!(tr.channels, 40);
    // control: the same readout on the input alone fails (XOR is not linearly separable)
    assert!(input.1 < MIN_ACC, "input alone: test {:.3}", input.1);
    let net = example().join("network.json");
    for arch in ["spinnaker", "loihi"] {
        let (acc, rec) = reservoir(&net, arch, dir.path(), &tr);
        eprintln!("{arch}: reservoir train {:.3} test {:.3}; input alone train {:.3} test {:.3}", acc.0, acc.1, input.0, input.1);
        assert!(acc.1 >= MIN_ACC && acc.1 - input.1 >= MIN_GAIN, "{arch}: reservoir test {:.3} (train {:.3}), input alone test {:.3}", acc.1, acc.0, input.1);
        if arch == "spinnaker" {
            let (acc2, rec2) = reservoir(&net, arch, dir.path(), &tr);
            assert_eq!(acc, acc2);
            assert!(rec == rec2, "a second run gave other spikes");
        }
    }
}

#[test]
fn lsm_without_recurrence_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let tr = trials();
    let mut net: Value = serde_json::from_str(&std::fs::read_to_string(example().join("network.json")).unwrap()).unwrap();
    net["projections"].as_array_mut().unwrap().retain(|p| p["pre"] == "input");
    let path = dir.path().join("norec.json");
    std::fs::write(&path, serde_json::to_string(&net).unwrap()).unwrap();
    let (acc, _) = reservoir(&path, "spinnaker", dir.path(), &tr);
    assert!(acc.1 < MIN_ACC, "without recurrence: test {:.3}", acc.1);
}
