//! examples/cuba checks itself: the Vogels–Abbott CUBA network (N = 4000,
//! committed in examples/cuba/network) runs 1 s biological through the CLI on
//! the spinnaker and loihi profiles, and the mean rates of exc and inh must each
//! lie in [5.2, 6.4] Hz, as examples/cuba/check.py requires; a second run gives
//! the same spike file; the report renders to HTML; and with the inhibitory
//! weight scaled by 0.8 or 1.2 the check fails (so it can fail).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const LO: f64 = 5.2;
const HI: f64 = 6.4;

fn network() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/cuba/network/cuba.json")
}

fn nerve(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_nerve")).args(args).output().expect("nerve runs");
    assert!(out.status.success(), "nerve {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `net` 10000 steps on `arch`; returns (exc Hz, inh Hz) and the spike file.
fn rates(net: &Path, arch: &str, dir: &Path, extra: &[&str]) -> ((f64, f64), Vec<u8>) {
    let rec = dir.join(format!("cuba_{arch}.csv"));
    let mut args = vec!["run", "-q", net.to_str().unwrap(), "--arch", arch, "--steps", "10000", "--record", rec.to_str().unwrap()];
    args.extend_from_slice(extra);
    nerve(&args);
    let text = std::fs::read(&rec).unwrap();
    let s = String::from_utf8(text.clone()).unwrap();
    let mut lines = s.lines();
    assert_eq!(lines.next(), Some("population,neuron,time"));
    let (mut exc, mut inh) = (0usize, 0usize);
    for l in lines {
        match l.split(',').next() {
            Some("exc") => exc += 1,
            Some("inh") => inh += 1,
            p => panic!("unexpected population {p:?}"),
        }
    }
    ((exc as f64 / 3200.0, inh as f64 / 800.0), text)
}

fn in_bounds((e, i): (f64, f64)) -> bool {
    (LO..=HI).contains(&e) && (LO..=HI).contains(&i)
}

#[test]
fn cuba_rates_within_peer_bounds_on_both_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let net = network();
    for arch in ["spinnaker", "loihi"] {
        let report = dir.path().join("run.json");
        let (r, rec) = rates(&net, arch, dir.path(), &["--report", report.to_str().unwrap()]);
        assert!(in_bounds(r), "{arch}: exc {:.2} Hz, inh {:.2} Hz, want each in [{LO}, {HI}]", r.0, r.1);
        let (r2, rec2) = rates(&net, arch, dir.path(), &[]);
        assert_eq!(r, r2);
        assert!(rec == rec2, "{arch}: a second run gave other spikes");
        let html = dir.path().join("report.html");
        let plots = dir.path().join("plots");
        nerve(&["report", report.to_str().unwrap(), "--html", html.to_str().unwrap(), "--plots", plots.to_str().unwrap()]);
        assert!(std::fs::metadata(&html).unwrap().len() > 0);
    }
}

#[test]
fn cuba_check_fails_with_inhibition_off_by_20_percent() {
    let dir = tempfile::tempdir().unwrap();
    let net: Value = serde_json::from_str(&std::fs::read_to_string(network()).unwrap()).unwrap();
    for factor in [0.8, 1.2] {
        let mut edited = net.clone();
        for p in edited["projections"].as_array_mut().unwrap() {
            if p["pre"] == "inh" {
                p["weight"] = (p["weight"].as_f64().unwrap() * factor).into();
            }
            // the connection lists stay where they are
            let f = p["connector"]["file"].as_str().unwrap().to_string();
            p["connector"]["file"] = network().parent().unwrap().join(f).to_str().unwrap().into();
        }
        let path = dir.path().join("edited.json");
        std::fs::write(&path, serde_json::to_string(&edited).unwrap()).unwrap();
        let (r, _) = rates(&path, "spinnaker", dir.path(), &[]);
        assert!(!in_bounds(r), "inhibitory weight x{factor}: exc {:.2} Hz, inh {:.2} Hz still in bounds", r.0, r.1);
    }
}
