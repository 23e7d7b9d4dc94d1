//! examples/celegans checks itself: the whole C. elegans hermaphrodite
//! connectome (Cook et al. 2019; one LIF population per cell class, chemical
//! synapses from one edge file by `select`, gap junctions as `"receptor":
//! "electrical"`, Poisson drive into the touch receptors) runs 1 s through the
//! CLI. As examples/celegans/check.py requires, on both profiles: every class
//! fires (>= 10 cells), each driven receptor fires (>= 20 spikes), >= 30 motor
//! neurons fire, and the gap junctions matter: control.json (the same network
//! without them) differs by >= 20 active cells (measured on spinnaker 278 with,
//! 328 without; on loihi 287 with, 328 without). A second run gives identical
//! spikes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const CLASSES: [&str; 4] = ["Sensory", "Interneuron", "Motorneuron", "Other"];
const DRIVEN: [&str; 5] = ["ALML", "ALMR", "AVM", "PLML", "PLMR"];

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/celegans")
}

fn nerve(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_nerve")).args(args).arg("-q").output().expect("nerve runs");
    assert!(out.status.success(), "nerve {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// Spikes per (class, cell label) of one 1 s run, and the recording's text.
fn run(net: &str, arch: &str, dir: &Path, tag: &str) -> (BTreeMap<(String, String), usize>, String) {
    let rec = dir.join(format!("{tag}_{arch}.csv"));
    nerve(&["run", example().join(net).to_str().unwrap(), "--arch", arch, "--steps", "10000", "--record", rec.to_str().unwrap()]);
    let text = std::fs::read_to_string(&rec).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("population,neuron,time,label"));
    let mut n = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        *n.entry((f[0].to_string(), f[3].to_string())).or_insert(0) += 1;
    }
    (n, text)
}

fn cells(n: &BTreeMap<(String, String), usize>, class: &str) -> usize {
    n.keys().filter(|(c, _)| c == class).count()
}

fn active(n: &BTreeMap<(String, String), usize>) -> usize {
    n.keys().collect::<BTreeSet<_>>().len()
}

fn summary(n: &BTreeMap<(String, String), usize>) -> String {
    CLASSES
        .iter()
        .map(|c| format!("{c} {} spikes {} cells", n.iter().filter(|((k, _), _)| k == c).map(|(_, v)| v).sum::<usize>(), cells(n, c)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn celegans_touch_drive_reaches_every_class_and_gap_junctions_matter() {
    let dir = tempfile::tempdir().unwrap();
    for arch in ["loihi", "spinnaker"] {
        let img = dir.path().join(format!("celegans_{arch}.img"));
        nerve(&["compile", example().join("network.json").to_str().unwrap(), "--arch", arch, "-o", img.to_str().unwrap()]);
    }
    for arch in ["spinnaker", "loihi"] {
        let (with, text) = run("network.json", arch, dir.path(), "gap");
        let (without, _) = run("control.json", arch, dir.path(), "nogap");
        eprintln!("{arch} with gap junctions: {}; active {}", summary(&with), active(&with));
        eprintln!("{arch} without: {}; active {}", summary(&without), active(&without));
        for c in CLASSES {
            assert!(cells(&with, c) >= 10, "{arch}: {c} fires in too few cells: {}", summary(&with));
        }
        for d in DRIVEN {
            let k = with.get(&("Sensory".to_string(), d.to_string())).copied().unwrap_or(0);
            assert!(k >= 20, "{arch}: driven receptor {d} fired {k} times, want >= 20");
        }
        assert!(cells(&with, "Motorneuron") >= 30, "{arch}: activity reaches too few motor neurons: {}", summary(&with));
        let (a, b) = (active(&with), active(&without));
        assert!(a.abs_diff(b) >= 20, "{arch}: gap junctions should change the active cells by >= 20: {a} with, {b} without");
        let (_, again) = run("network.json", arch, dir.path(), "again");
        assert!(text == again, "{arch}: a second run gives different spikes");
    }
}
