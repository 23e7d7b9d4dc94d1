//! examples/synfire checks itself: the synfire chain (10 groups of 100 LIF,
//! fan-in 50, per-synapse delays uniform in 1–5 ms) runs 100 ms through the CLI
//! on the spinnaker and loihi profiles; as examples/synfire/check.py requires,
//! every group fires (>= 90 of 100), the group means come in order and the mean
//! inter-group latency lies in [2.0, 4.0] ms (the mean delay, 3 ms, ± 1 ms). The
//! control replaces every delay by a constant D on the same connections: the
//! latency then follows D one for one (D = 2 and D = 5 give latencies D + r
//! with the same r), and D = 5 fails the bounds (so the check can fail).

use std::path::{Path, PathBuf};
use std::process::Command;

const LO: f64 = 2.0;
const HI: f64 = 4.0;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/synfire")
}

fn nerve(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_nerve")).args(args).arg("-q").output().expect("nerve runs");
    assert!(out.status.success(), "nerve {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// The wave of one run: per group (fired, mean first-spike ms, spread ms).
struct Wave {
    groups: Vec<(usize, f64, f64)>,
}

impl Wave {
    fn gaps(&self) -> Vec<f64> {
        self.groups.windows(2).map(|w| w[1].1 - w[0].1).collect()
    }
    fn latency(&self) -> f64 {
        let g = self.gaps();
        g.iter().sum::<f64>() / g.len() as f64
    }
    /// check.py's verdict.
    fn passes(&self) -> bool {
        self.groups.len() == 10 && self.groups.iter().all(|g| g.0 >= 90) && self.gaps().iter().all(|&d| d > 0.0) && (LO..=HI).contains(&self.latency())
    }
}

fn wave(net: &Path, arch: &str, dir: &Path) -> Wave {
    let rec = dir.join(format!("synfire_{arch}.csv"));
    nerve(&["run", net.to_str().unwrap(), "--arch", arch, "--steps", "1000", "--record", rec.to_str().unwrap()]);
    let text = std::fs::read_to_string(&rec).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("population,neuron,time"));
    // first spike per (group, neuron); the file is sorted by time
    let mut first = vec![[None::<f64>; 100]; 10];
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let k: usize = f[0].strip_prefix('g').expect("only the groups are recorded").parse().unwrap();
        let slot = &mut first[k][f[1].parse::<usize>().unwrap()];
        slot.get_or_insert(f[2].parse().unwrap());
    }
    let groups = first
        .iter()
        .filter_map(|g| {
            let ts: Vec<f64> = g.iter().flatten().copied().collect();
            if ts.is_empty() {
                return None;
            }
            let n = ts.len() as f64;
            let m = ts.iter().sum::<f64>() / n;
            let sd = (ts.iter().map(|t| (t - m) * (t - m)).sum::<f64>() / n).sqrt();
            Some((ts.len(), m, sd))
        })
        .collect();
    Wave { groups }
}

/// The example's network with every connection's delay set to `d` ms, in `dir`.
fn constant_delay(d: f64, dir: &Path) -> PathBuf {
    let ex = example();
    std::fs::create_dir_all(dir.join("connections")).unwrap();
    for e in std::fs::read_dir(ex.join("connections")).unwrap() {
        let e = e.unwrap();
        let text = std::fs::read_to_string(e.path()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("pre,post,delay"));
        let mut out = String::from("pre,post,delay\n");
        for l in lines {
            let (pre_post, _) = l.rsplit_once(',').unwrap();
            out.push_str(&format!("{pre_post},{d}\n"));
        }
        std::fs::write(dir.join("connections").join(e.file_name()), out).unwrap();
    }
    let net = dir.join("network.json");
    std::fs::copy(ex.join("network.json"), &net).unwrap();
    net
}

#[test]
fn synfire_wave_arrives_in_order_with_the_mean_delay() {
    let dir = tempfile::tempdir().unwrap();
    let net = example().join("network.json");
    for arch in ["spinnaker", "loihi"] {
        let w = wave(&net, arch, dir.path());
        eprintln!("{arch}: latency {:.2} ms, groups (fired, mean ms, spread ms) {:?}", w.latency(), w.groups);
        assert!(
            w.passes(),
            "{arch}: groups (fired, mean, spread) {:?}, latency {:.2} ms, want every group >= 90, in order, latency in [{LO}, {HI}]",
            w.groups,
            w.latency()
        );
        // the groups stay synchronous: heterogeneous delays do not smear the wave
        assert!(w.groups.iter().all(|g| g.2 < 1.0), "{arch}: spreads {:?}", w.groups);
    }
}

#[test]
fn synfire_latency_tracks_a_constant_delay() {
    let dir = tempfile::tempdir().unwrap();
    let mut lat = Vec::new();
    for d in [2.0, 5.0] {
        let sub = dir.path().join(format!("d{d}"));
        let w = wave(&constant_delay(d, &sub), "spinnaker", &sub);
        assert!(w.groups.len() == 10 && w.groups.iter().all(|g| g.0 == 100), "delay {d}: {:?}", w.groups);
        lat.push((d, w.latency(), w.passes()));
    }
    eprintln!("constant delays (delay, latency, passes): {lat:?}");
    let (r2, r5) = (lat[0].1 - lat[0].0, lat[1].1 - lat[1].0);
    assert!((r2 - r5).abs() < 0.1, "latency - delay should not depend on the delay: {lat:?}");
    assert!(r2 > 0.0 && r2 < 1.0, "a synchronous volley fires the next group within 1 ms: {lat:?}");
    assert!(lat[0].2, "constant 2 ms lies inside the bounds: {lat:?}");
    assert!(!lat[1].2, "constant 5 ms must fail the bounds: {lat:?}");
}
