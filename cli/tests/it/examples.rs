//! The examples that learn check themselves: examples/stdp-pattern and
//! examples/stdp-memory run through the CLI on the spinnaker and loihi
//! profiles, scored as their check.py scores them; a second run gives the
//! same spikes; and with the learning that matters switched off, each fails
//! its own check (so the check can fail).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn run(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_nerve")).args(args).arg("-q").output().expect("nerve runs");
    assert!(out.status.success(), "nerve {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// (neuron, time ms) of one population in a spike CSV.
fn spikes(p: &Path, pop: &str) -> Vec<(u32, f64)> {
    let t = std::fs::read_to_string(p).unwrap();
    let mut lines = t.lines();
    assert_eq!(lines.next(), Some("population,neuron,time"));
    lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0] == pop).then(|| (f[1].parse().unwrap(), f[2].parse().unwrap()))
        })
        .collect()
}

/// Writes `net` with the plastic projection's rule changed by `edit`.
fn with_rule(net: &Value, dir: &Path, edit: impl Fn(&mut Value)) -> PathBuf {
    let mut net = net.clone();
    for p in net["projections"].as_array_mut().unwrap() {
        if p.get("plasticity").is_some() {
            edit(&mut p["plasticity"]["timing_dependence"]);
        }
    }
    let path = dir.join("edited.json");
    std::fs::write(&path, serde_json::to_string(&net).unwrap()).unwrap();
    path
}

/// Trains, freezes the weights with --save-network, tests; returns
/// (detected, false positives) out of 100 each, and the test's spike file.
fn pattern_run(net: &Path, sched: &Value, arch: &str, dir: &Path) -> (usize, usize, Vec<u8>) {
    let learnt = dir.join(format!("learnt_{arch}.json"));
    let rec = dir.join(format!("spikes_{arch}.csv"));
    let train = sched["train_ms"].as_u64().unwrap().to_string();
    let test = sched["test_ms"].as_u64().unwrap().to_string();
    run(&["run", net.to_str().unwrap(), "--arch", arch, "--steps", &train, "--save-network", learnt.to_str().unwrap()]);
    run(&["run", learnt.to_str().unwrap(), "--arch", arch, "--steps", &test, "--record", rec.to_str().unwrap()]);
    let times: Vec<f64> = spikes(&rec, "detector").into_iter().map(|(_, t)| t).collect();
    let w = sched["window_ms"].as_f64().unwrap();
    let (mut hit, mut fp, mut n) = (0, 0, [0, 0]);
    for win in sched["windows"].as_array().unwrap() {
        let (t0, kind) = (win[0].as_f64().unwrap(), win[1].as_str().unwrap());
        let fired = times.iter().any(|&t| t0 <= t && t < t0 + w);
        match kind {
            "pattern" => {
                n[0] += 1;
                hit += fired as usize
            }
            "random" => {
                n[1] += 1;
                fp += fired as usize
            }
            k => panic!("unknown window kind {k}"),
        }
    }
    assert_eq!(n, [100, 100], "the schedule holds 100 windows of each kind");
    (hit, fp, std::fs::read(&rec).unwrap())
}

#[test]
fn stdp_pattern_learns_and_detects_on_both_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let ex = example("stdp-pattern");
    let (net, sched) = (ex.join("network.json"), read_json(&ex.join("schedule.json")));
    for arch in ["spinnaker", "loihi"] {
        let (hit, fp, rec) = pattern_run(&net, &sched, arch, dir.path());
        assert!(hit >= 95 && fp <= 5, "{arch}: detected {hit}/100, false positives {fp}/100");
        let (hit2, fp2, rec2) = pattern_run(&net, &sched, arch, dir.path());
        assert_eq!((hit, fp), (hit2, fp2));
        assert!(rec == rec2, "{arch}: a second run gave other spikes");
    }
    // Without learning the detector cannot tell the pattern from the rest.
    let frozen = with_rule(&read_json(&net), dir.path(), |td| {
        td["A_plus"] = 0.0.into();
        td["A_minus"] = 0.0.into();
    });
    let (hit, fp, _) = pattern_run(&frozen, &sched, "spinnaker", dir.path());
    assert!(hit < 95 || fp > 5, "without learning: detected {hit}/100, false positives {fp}/100");
}

/// Per phase: (exact recalls, recalls).
fn memory_run(net: &Path, sched: &Value, arch: &str, dir: &Path) -> (Vec<(String, usize, usize)>, Vec<u8>) {
    let rec = dir.join(format!("mem_{arch}.csv"));
    let steps = sched["duration_ms"].as_u64().unwrap().to_string();
    run(&["run", net.to_str().unwrap(), "--arch", arch, "--steps", &steps, "--record", rec.to_str().unwrap()]);
    let sp = spikes(&rec, "content");
    let w = sched["window_ms"].as_f64().unwrap();
    let mut phases: Vec<(String, usize, usize)> = Vec::new();
    for win in sched["windows"].as_array().unwrap() {
        let t0 = win["start_ms"].as_f64().unwrap();
        let got: BTreeSet<u32> = sp.iter().filter(|&&(_, t)| t0 <= t && t < t0 + w).map(|&(n, _)| n).collect();
        let want: BTreeSet<u32> = win["expect"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let phase = win["phase"].as_str().unwrap();
        if phases.last().map(|p| p.0.as_str()) != Some(phase) {
            phases.push((phase.to_string(), 0, 0));
        }
        let p = phases.last_mut().unwrap();
        p.1 += (got == want) as usize;
        p.2 += 1;
    }
    (phases, std::fs::read(&rec).unwrap())
}

#[test]
fn stdp_memory_learns_forgets_and_recalls_on_both_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let ex = example("stdp-memory");
    let (net, sched) = (ex.join("network.json"), read_json(&ex.join("schedule.json")));
    for arch in ["spinnaker", "loihi"] {
        let (phases, rec) = memory_run(&net, &sched, arch, dir.path());
        assert_eq!(phases.len(), 4, "{phases:?}");
        for (phase, good, total) in &phases {
            assert!(*total > 0 && good == total, "{arch}: {phase}: {good}/{total} recalls exact");
        }
        let (_, rec2) = memory_run(&net, &sched, arch, dir.path());
        assert!(rec == rec2, "{arch}: a second run gave other spikes");
    }
    // Without depression nothing is forgotten: the forgotten cue still recalls.
    let no_forgetting = with_rule(&read_json(&net), dir.path(), |td| td["A_minus"] = 0.0.into());
    let (phases, _) = memory_run(&no_forgetting, &sched, "spinnaker", dir.path());
    let forgot = phases.iter().find(|p| p.0.contains("forgetting")).unwrap();
    assert!(forgot.1 < forgot.2, "without depression: {phases:?}");
    assert_eq!((phases[1].1, phases[1].2), (phases[1].2, phases[1].2), "learning alone still works: {phases:?}");
}
