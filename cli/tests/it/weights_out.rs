//! Weights and networks out of a learning run: `nerve run --save-weights`
//! (CSV and NPY) on a JSON network with lava's STDP, equal to lava-nc's
//! final weights; `--save-network` giving a network whose static run
//! continues where the learning run ended; the misuses refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn nerve() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nerve"))
}

fn data(f: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(f)
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("nerve runs");
    assert!(out.status.success(), "failed: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stderr).unwrap()
}

fn err(cmd: &mut Command) -> String {
    let out = cmd.output().expect("nerve runs");
    assert!(!out.status.success(), "succeeded: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

/// A spike CSV's spikes at or after `shift` ms, as `population,neuron,time`
/// lines with times counted from `shift` (a continued run's clock).
fn spikes_from(f: &str, shift: f64) -> Vec<String> {
    std::fs::read_to_string(f)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            let t: f64 = v[2].parse().unwrap();
            (t >= shift).then(|| format!("{},{},{}", v[0], v[1], (t - shift).round()))
        })
        .collect()
}

/// (projection, pre, post, weight, delay) rows of a weights CSV.
fn csv_rows(p: &Path) -> Vec<(String, u32, u32, f64, f64)> {
    let t = std::fs::read_to_string(p).unwrap();
    let mut lines = t.lines();
    assert_eq!(lines.next(), Some("projection,pre,post,weight,delay"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].parse().unwrap(), f[2].parse().unwrap(), f[3].parse().unwrap(), f[4].parse().unwrap())
        })
        .collect()
}

fn npy_rows(p: &Path) -> Vec<[f64; 5]> {
    let b = std::fs::read(p).unwrap();
    assert_eq!(&b[..6], b"\x93NUMPY");
    let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
    let header = std::str::from_utf8(&b[10..10 + hlen]).unwrap();
    assert!(header.contains("'descr': '<f8'") && header.contains(", 5)"), "{header}");
    let vals: Vec<f64> = b[10 + hlen..].chunks(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect();
    vals.chunks(5).map(|c| c.try_into().unwrap()).collect()
}

/// The JSON network of lava's reference case b (STDPLoihi), run through the
/// CLI: its saved weights are lava-nc's final weights.
#[test]
fn saved_weights_are_lavas() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, npy) = (dir.path().join("w.csv"), dir.path().join("w.npy"));
    let net = data("loihi_stdp.json");
    for (w, engine) in [(&csv, "jit"), (&npy, "interp")] {
        ok(nerve().args(["run", net.to_str().unwrap(), "--arch", "loihi", "--steps", "60", "-q", "--engine", engine, "--save-weights", w.to_str().unwrap()]));
    }
    let lava: Value = serde_json::from_str(&std::fs::read_to_string(data("lava_learning/b_stdploihi.json")).unwrap()).unwrap();
    let want: Vec<Vec<f64>> =
        lava["final_weights"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()).collect();
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 12);
    for (proj, pre, post, w, d) in &rows {
        assert_eq!((proj.as_str(), *d), ("stdp", 1.0));
        assert_eq!(*w, want[*post as usize][*pre as usize], "pre {pre} post {post}");
    }
    // Learning updates are counted, charged and reported by population.
    let rep = dir.path().join("r.json");
    ok(nerve().args(["run", net.to_str().unwrap(), "--arch", "loihi", "--steps", "60", "-q", "--report", rep.to_str().unwrap()]));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&rep).unwrap()).unwrap();
    let total = r["counts"]["synaptic_updates"].as_u64().unwrap();
    assert!(total > 12, "{total} updates");
    assert_eq!(r["populations"][1]["synaptic_updates"].as_u64(), Some(total));
    assert!(r["populations"][0].get("synaptic_updates").is_none());
    let kinds = r["energy"]["by_kind"].as_array().unwrap();
    let learn = kinds.iter().find(|k| k["kind"] == "synaptic updates (learning)").expect("a learning energy row");
    assert_eq!((learn["count"].as_u64(), learn["per_event_pj"].as_f64()), (Some(total), Some(120.0)));
    let out = nerve().args(["report", rep.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("learning updates") && text.contains(&total.to_string()), "{text}");
    // The NPY holds the same rows (projection 0 of the network).
    let n = npy_rows(&npy);
    assert_eq!(n.len(), rows.len());
    for (a, (_, pre, post, w, d)) in n.iter().zip(&rows) {
        assert_eq!(*a, [0.0, *pre as f64, *post as f64, *w, *d]);
    }
}

/// A network whose learning ends early (its pre neurons fall silent and the
/// traces decay to 0), driven on by a static input afterwards: the network
/// saved at step 80 and run for 120 steps spikes as the whole run's steps
/// 80..200 did, with the weights the whole run ends with.
#[test]
fn a_saved_network_continues_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let pre: Vec<Vec<f64>> = (0..6).map(|i| (0..8).map(|k| (i * 3 + k * 4) as f64).filter(|t| *t < 40.0).collect()).collect();
    let drive: Vec<Vec<f64>> = (0..3).map(|j| (0..12).map(|k| (100 + j * 5 + k * 8) as f64).collect()).collect();
    let conns: Vec<Value> = (0..6).flat_map(|i| (0..3).map(move |j| json!([i, j, 20 + 7 * i + 11 * j]))).collect();
    let net = json!({
        "name": "resume", "dt_ms": 1.0,
        "populations": [
            {"name": "pre", "size": 6, "model": "spike_source_array", "spike_times": pre},
            {"name": "drive", "size": 3, "model": "spike_source_array", "spike_times": drive},
            {"name": "post", "size": 3, "model": "loihi_lif", "params": {"du": 400, "dv": 200, "vth": 120, "bias_mant": [0, 2, 5], "bias_exp": [0, 0, 0]}, "record": ["spikes"]}
        ],
        "projections": [
            {"pre": "pre", "post": "post", "label": "learn", "sign_mode": "excitatory", "connector": {"type": "from_list", "connections": conns},
             "plasticity": {"type": "loihi", "dw": "2^-2*y0*x1 - 2^-3*x0*y1", "x1_impulse": 20, "x1_tau": 2, "y1_impulse": 20, "y1_tau": 2, "rng_seed": 5}},
            {"pre": "drive", "post": "post", "connector": {"type": "one_to_one"}, "weight": 90}
        ]
    });
    let orig = dir.path().join("orig.json");
    std::fs::write(&orig, net.to_string()).unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    let o = orig.to_str().unwrap();
    ok(nerve().args(["run", o, "--arch", "loihi", "--steps", "200", "-q", "--record", &p("all.csv"), "--save-weights", &p("all_w.csv")]));
    let notes = ok(nerve().args(["run", o, "--arch", "loihi", "--steps", "80", "--save-network", &p("saved.json"), "--save-weights", &p("w80.csv")]));
    assert!(notes.contains("saved static"), "{notes}");
    // Its continuation compiles to the run's arithmetic: no note says otherwise.
    assert!(!notes.contains("will not compute exactly"), "{notes}");
    ok(nerve().args(["run", &p("saved.json"), "--arch", "loihi", "--steps", "120", "-q", "--record", &p("rest.csv")]));

    // The learning happened before step 80 and not after (so the saved weights are the final ones).
    let (w80, wall) = (csv_rows(Path::new(&p("w80.csv"))), csv_rows(Path::new(&p("all_w.csv"))));
    assert_eq!(w80, wall);
    let initial: Vec<f64> = (0..6).flat_map(|i| (0..3).map(move |j| (20 + 7 * i + 11 * j) as f64)).collect();
    assert_ne!(w80.iter().map(|r| r.3).collect::<Vec<_>>(), initial, "the weights learned");

    let (whole, rest) = (spikes_from(&p("all.csv"), 80.0), spikes_from(&p("rest.csv"), 0.0));
    assert!(rest.len() > 20, "{} spikes after step 80", rest.len());
    assert_eq!(rest, whole);
}

/// A variant of `a_saved_network_continues_the_run` whose learned weights
/// lava's truncation would change: `mixed` sign mode with 4 weight bits, the
/// rule driving each weight to the cap of its sign (255 and −256) while the
/// pre neurons go on firing. The saved network keeps every bit (255 read
/// back as 224 before), its negative weights in a second projection, and
/// spikes as the whole run did. With a negative weight_exp, which rounds
/// each projection's sum apart, the split is refused.
#[test]
fn a_saved_mixed_network_keeps_every_learned_bit() {
    let dir = tempfile::tempdir().unwrap();
    // Pre neuron i fires at t ≡ i (mod 7), i < 6: none fires in the step before the save at 84 (none in flight).
    let pre: Vec<Vec<f64>> = (0..6).map(|i| (i..200).step_by(7).map(|t| t as f64).collect()).collect();
    let drive: Vec<Vec<f64>> = (0..3).map(|j| (2 + j..60).step_by(5).map(|t| t as f64).collect()).collect();
    let conns: Vec<Value> = (0..6).flat_map(|i| (0..3).map(move |j| json!([i, j, if (i + j) % 3 == 0 { -1 } else { 1 } * (40 + 9 * i + 13 * j)]))).collect();
    let net = |weight_exp: i32| {
        json!({
            "name": "resume", "dt_ms": 1.0,
            "populations": [
                {"name": "pre", "size": 6, "model": "spike_source_array", "spike_times": pre},
                {"name": "drive", "size": 3, "model": "spike_source_array", "spike_times": drive},
                {"name": "post", "size": 3, "model": "loihi_lif", "params": {"du": 500, "dv": 300, "vth": 2000}, "record": ["spikes"]}
            ],
            "projections": [
                {"pre": "pre", "post": "post", "label": "learn", "sign_mode": "mixed", "num_weight_bits": 4, "weight_exp": weight_exp,
                 "connector": {"type": "from_list", "connections": conns}, "plasticity": {"type": "loihi", "dw": "2^2*y0*w", "rng_seed": 5}},
                {"pre": "drive", "post": "post", "connector": {"type": "one_to_one"}, "weight": 200 >> weight_exp.max(0)}
            ]
        })
    };
    let orig = dir.path().join("orig.json");
    std::fs::write(&orig, net(0).to_string()).unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    let o = orig.to_str().unwrap();
    ok(nerve().args(["run", o, "--arch", "loihi", "--steps", "200", "-q", "--record", &p("all.csv"), "--save-weights", &p("all_w.csv")]));
    let notes = ok(nerve().args(["run", o, "--arch", "loihi", "--steps", "84", "--save-network", &p("saved.json"), "--save-weights", &p("w84.csv")]));
    assert!(notes.contains("`learn (negative weights)`"), "{notes}");
    assert!(!notes.contains("will not compute exactly"), "{notes}");
    // None in flight at step 84, so no note says so (it was printed for
    // every network with chemical synapses); pre neuron 5 fires at step
    // 82, and a run of 83 steps leaves its spike in flight.
    assert!(!notes.contains("in flight"), "{notes}");
    let notes83 = ok(nerve().args(["run", o, "--arch", "loihi", "--steps", "83", "--save-network", &p("saved83.json")]));
    assert!(notes83.contains("spikes still in flight"), "{notes83}");
    ok(nerve().args(["run", &p("saved.json"), "--arch", "loihi", "--steps", "116", "-q", "--record", &p("rest.csv")]));

    // Learning reached both caps before step 84, so the saved weights are the final ones.
    let (w84, wall) = (csv_rows(Path::new(&p("w84.csv"))), csv_rows(Path::new(&p("all_w.csv"))));
    assert_eq!(w84, wall);
    let mut ws: Vec<f64> = w84.iter().map(|r| r.3).collect();
    ws.sort_by(f64::total_cmp);
    ws.dedup();
    assert_eq!(ws, [-256.0, 255.0]);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(p("saved.json")).unwrap()).unwrap();
    let projs = saved["projections"].as_array().unwrap();
    assert_eq!(projs.len(), 3);
    assert_eq!((projs[0]["sign_mode"].as_str(), projs[0]["num_weight_bits"].as_u64()), (Some("excitatory"), Some(8)));
    assert_eq!((projs[2]["label"].as_str(), projs[2]["sign_mode"].as_str()), (Some("learn (negative weights)"), Some("inhibitory")));
    // −256 is two synapses, −255 and −1.
    let neg = projs[2]["connector"]["connections"].as_array().unwrap();
    assert_eq!(neg.len(), 2 * w84.iter().filter(|r| r.3 < 0.0).count());

    let (whole, rest) = (spikes_from(&p("all.csv"), 84.0), spikes_from(&p("rest.csv"), 0.0));
    assert!(rest.len() > 40, "{} spikes after step 84", rest.len());
    assert_eq!(rest, whole);

    std::fs::write(&orig, net(-1).to_string()).unwrap();
    let e = err(nerve().args(["run", o, "--arch", "loihi", "--steps", "84", "-q", "--save-network", &p("saved.json")]));
    assert!(e.contains("learn") && e.contains("both signs") && e.contains("weight_exp -1"), "{e}");
}

/// The same with `lif` neurons whose two synaptic currents are kept as one
/// (equal time constants) and STDP: the current flowing when the run is
/// saved (drive spikes just before) goes on in the saved network.
#[test]
fn a_saved_lif_network_keeps_its_synaptic_current() {
    let dir = tempfile::tempdir().unwrap();
    let pre: Vec<Vec<f64>> = (0..5).map(|i| (0..6).map(|k| (2 + i * 3 + k * 6) as f64).collect()).collect();
    // Drive spikes up to 3 ms before the save at 80 ms (none in flight then), and after it.
    let drive: Vec<Vec<f64>> = (0..2).map(|j| [60.0, 66.0, 72.0, 77.0, 83.0, 95.0, 110.0].iter().map(|t| t + j as f64).collect()).collect();
    let net = json!({
        "name": "resume_lif", "dt_ms": 1.0,
        "populations": [
            {"name": "pre", "size": 5, "model": "spike_source_array", "spike_times": pre},
            {"name": "drive", "size": 2, "model": "spike_source_array", "spike_times": drive},
            {"name": "post", "size": 2, "model": "lif", "params": {"tau_syn_E": 5.0, "tau_syn_I": 5.0, "tau_refrac": 1.0}, "record": ["spikes"]}
        ],
        "projections": [
            {"pre": "pre", "post": "post", "label": "learn", "weight": 2.0, "connector": {"type": "all_to_all"},
             "plasticity": {"type": "stdp", "timing_dependence": {"type": "spike_pair", "tau_plus": 10.0, "tau_minus": 10.0, "A_plus": 0.2, "A_minus": 0.25},
                            "weight_dependence": {"type": "additive", "w_min": 0.0, "w_max": 4.0}}},
            {"pre": "drive", "post": "post", "connector": {"type": "one_to_one"}, "weight": 2.5}
        ]
    });
    let orig = dir.path().join("orig.json");
    std::fs::write(&orig, net.to_string()).unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    let o = orig.to_str().unwrap();
    ok(nerve().args(["run", o, "--arch", "spinnaker", "--steps", "160", "-q", "--record", &p("all.csv")]));
    ok(nerve().args([
        "run",
        o,
        "--arch",
        "spinnaker",
        "--steps",
        "80",
        "-q",
        "--save-network",
        &p("saved.json"),
        "--probe",
        "post:isyn",
        "--probe-out",
        &p("isyn.csv"),
    ]));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(p("saved.json")).unwrap()).unwrap();
    let isyn = &saved["populations"][2]["initial"]["isyn_exc"];
    assert!(isyn.as_array().unwrap().iter().all(|x| x.as_f64().unwrap() > 0.1), "the current at the save: {isyn}");
    ok(nerve().args(["run", &p("saved.json"), "--arch", "spinnaker", "--steps", "80", "-q", "--record", &p("rest.csv")]));
    let (whole, rest) = (spikes_from(&p("all.csv"), 80.0), spikes_from(&p("rest.csv"), 0.0));
    assert!(rest.len() >= 4, "{rest:?}");
    assert_eq!(rest, whole);
}

/// Learning synapses deliver themselves, outside the emulator's synapse
/// arena: the report still counts them among the network's synapses.
#[test]
fn the_report_counts_learning_synapses() {
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("r.json");
    ok(nerve().args(["run", data("loihi_stdp.json").to_str().unwrap(), "--arch", "loihi", "--steps", "20", "-q", "--report", rep.to_str().unwrap()]));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&rep).unwrap()).unwrap();
    assert_eq!(r["neurobench"]["synapses"], 12, "4 × 3 learning synapses");
}

#[test]
fn misuses_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("n.img");
    let net = data("loihi_stdp.json");
    ok(nerve().args(["compile", net.to_str().unwrap(), "--arch", "loihi", "-o", img.to_str().unwrap(), "-q"]));
    let e = err(nerve().args(["run", img.to_str().unwrap(), "--steps", "5", "--save-network", dir.path().join("x.json").to_str().unwrap()]));
    assert!(e.contains("--save-network") && e.contains("n.img"), "{e}");
    // An image keeps its weights out: --save-weights works on it.
    ok(nerve().args(["run", img.to_str().unwrap(), "--steps", "5", "-q", "--save-weights", dir.path().join("w.csv").to_str().unwrap()]));
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/small.json");
    let e = err(nerve().args([
        "run",
        small.to_str().unwrap(),
        "--arch",
        "spinnaker",
        "--steps",
        "5",
        "--save-weights",
        dir.path().join("w.csv").to_str().unwrap(),
    ]));
    assert!(e.contains("no learning projections"), "{e}");
}

/// An electrical projection listed before the learning one: it is no graph
/// edge, yet it counts among the network's projections. The learned
/// weights are saved into the learning projection (not the one at its edge
/// index), and the NPY names it by its position in the file.
#[test]
fn an_electrical_projection_first_keeps_the_indices() {
    let dir = tempfile::tempdir().unwrap();
    let net = json!({
        "name": "elec_then_stdp", "dt_ms": 1.0,
        "populations": [
            {"name": "stim", "size": 2, "model": "spike_source_array", "spike_times": [[5, 15, 25, 35], [8, 18, 28, 38]]},
            {"name": "a", "size": 2, "model": "lif", "params": {"v_thresh": -50.0}},
            {"name": "b", "size": 2, "model": "lif", "params": {"v_thresh": -50.0}, "record": ["spikes"]}
        ],
        "projections": [
            {"pre": "a", "post": "a", "receptor": "electrical", "label": "gap", "connector": {"type": "from_list", "connections": [[0, 1, 0.001], [1, 0, 0.001]]}},
            {"pre": "stim", "post": "b", "label": "static", "connector": {"type": "one_to_one"}, "weight": 3.0},
            {"pre": "stim", "post": "b", "label": "plastic", "connector": {"type": "all_to_all"}, "weight": 0.5,
             "plasticity": {"type": "stdp",
                "timing_dependence": {"type": "spike_pair", "tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.05, "A_minus": 0.01},
                "weight_dependence": {"type": "additive", "w_min": 0.0, "w_max": 1.0}}}
        ]
    });
    let orig = dir.path().join("orig.json");
    std::fs::write(&orig, net.to_string()).unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    ok(nerve().args([
        "run",
        orig.to_str().unwrap(),
        "--arch",
        "spinnaker",
        "--steps",
        "50",
        "-q",
        "--save-weights",
        &p("w.npy"),
        "--save-network",
        &p("saved.json"),
    ]));
    let rows = npy_rows(Path::new(&p("w.npy")));
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r[0] == 2.0), "the learning projection is the file's third: {rows:?}");
    assert!(rows.iter().any(|r| r[3] != 0.5), "the weights learned: {rows:?}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(p("saved.json")).unwrap()).unwrap();
    let projs = saved["projections"].as_array().unwrap();
    assert_eq!(projs[0], net["projections"][0], "the electrical projection is as it was");
    assert_eq!(projs[1], net["projections"][1], "the static projection is as it was");
    assert!(projs[2].get("plasticity").is_none());
    let conns = projs[2]["connector"]["connections"].as_array().unwrap();
    let got: Vec<[f64; 4]> = conns.iter().map(|c| [0, 1, 2, 3].map(|k| c[k].as_f64().unwrap())).collect();
    let want: Vec<[f64; 4]> = rows.iter().map(|r| [r[1], r[2], r[3], r[4]]).collect();
    assert_eq!(got, want);
    ok(nerve().args(["run", &p("saved.json"), "--arch", "spinnaker", "--steps", "10", "-q"]));
}

/// `rng_seed` = 2^64 − 1: lava seeds the trace generators `rng_seed + 1` …
/// `+ 3` in Python ints (past 2^64); the emulator added in u64, which
/// panicked in this (debug) build and wrapped in release. It runs, and its
/// generators are seeded past 2^64 (`rng::seeds_past_64_bits_as_numpy`).
#[test]
fn the_largest_rng_seed_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut net: Value = serde_json::from_str(&std::fs::read_to_string(data("loihi_stdp.json")).unwrap()).unwrap();
    net["projections"][0]["plasticity"]["rng_seed"] = json!(u64::MAX);
    let f = dir.path().join("seed.json");
    std::fs::write(&f, net.to_string()).unwrap();
    let w = dir.path().join("w.csv");
    ok(nerve().args(["run", f.to_str().unwrap(), "--arch", "loihi", "--steps", "60", "-q", "--save-weights", w.to_str().unwrap()]));
    assert_eq!(csv_rows(&w).len(), 12);
}

/// `projections` is optional: a network without it saves, and the run's
/// other outputs are written with it (all three were lost to an error
/// raised after the run, "--save-network: : the network has no
/// `projections` list").
#[test]
fn a_network_without_projections_saves_with_the_other_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    let net = json!({"name": "one", "dt_ms": 1.0, "populations": [{"name": "n", "size": 1, "model": "lif", "params": {"i_offset": 1.0, "tau_refrac": 1.0}, "record": ["spikes"]}]});
    std::fs::write(p("noproj.json"), net.to_string()).unwrap();
    ok(nerve().args([
        "run",
        &p("noproj.json"),
        "--arch",
        "loihi",
        "--steps",
        "60",
        "-q",
        "--record",
        &p("r.csv"),
        "--report",
        &p("r.json"),
        "--save-network",
        &p("s.json"),
    ]));
    for f in ["r.csv", "r.json", "s.json"] {
        assert!(Path::new(&p(f)).exists(), "{f} not written");
    }
    ok(nerve().args(["run", &p("s.json"), "--arch", "loihi", "--steps", "5", "-q"]));
}

/// A save that could not be exact (a `mixed` learning projection with a
/// negative weight_exp may learn both signs) is refused before the run:
/// nothing is written, and the error names the output.
#[test]
fn an_inexact_save_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    let net = json!({
        "name": "m", "dt_ms": 1.0,
        "populations": [
            {"name": "pre", "size": 2, "model": "spike_source_array", "spike_times": [[1, 3], [2]]},
            {"name": "post", "size": 2, "model": "loihi_lif", "params": {"du": 500, "dv": 300, "vth": 2000}, "record": ["spikes"]}
        ],
        "projections": [{"pre": "pre", "post": "post", "label": "learn", "weight_exp": -1, "weight": 20,
                         "connector": {"type": "all_to_all"}, "plasticity": {"type": "loihi", "dw": "2^2*y0*w"}}]
    });
    std::fs::write(p("m.json"), net.to_string()).unwrap();
    let e = err(nerve().args(["run", &p("m.json"), "--arch", "loihi", "--steps", "20", "-q", "--record", &p("r.csv"), "--save-network", &p("s.json")]));
    assert!(e.contains("`learn`") || e.contains("learn:"), "{e}");
    assert!(e.contains("both signs") && e.contains("weight_exp -1") && e.contains("s.json") && e.contains("before the run"), "{e}");
    assert!(!Path::new(&p("r.csv")).exists(), "the run went ahead");
}

/// A network saved into another directory runs from there: its
/// `from_list` file is given as reached from the saved file (it was
/// copied as written, then read from the saved file's directory — another
/// file of that name there, silently).
#[test]
fn a_network_saved_elsewhere_finds_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    std::fs::create_dir_all(p("net")).unwrap();
    std::fs::create_dir_all(p("out")).unwrap();
    let net = json!({"name": "fl", "dt_ms": 1.0,
        "populations": [{"name": "s", "size": 2, "model": "spike_source_array", "spike_times": [[5.0, 8.0], [6.0]]},
                        {"name": "d", "size": 2, "model": "lif", "params": {"tau_refrac": 1.0}, "record": ["spikes"]}],
        "projections": [{"pre": "s", "post": "d", "connector": {"type": "from_list", "file": "c.csv"}}]});
    std::fs::write(p("net/net.json"), net.to_string()).unwrap();
    std::fs::write(p("net/c.csv"), "pre,post,weight,delay\n0,0,20,1\n1,1,20,1\n").unwrap();
    // A decoy of that name beside the saved file: no synapse onto `d`'s neuron 1.
    std::fs::write(p("out/c.csv"), "pre,post,weight,delay\n0,0,20,1\n").unwrap();
    ok(nerve().args(["run", &p("net/net.json"), "--arch", "loihi", "--steps", "10", "-q", "--record", &p("all.csv")]));
    ok(nerve().args(["run", &p("net/net.json"), "--arch", "loihi", "--steps", "3", "-q", "--save-network", &p("out/saved.json")]));
    // Nothing happened before the save at 3 ms (a state at rest, no spike in
    // flight): the saved network spikes as the rest of the whole run did.
    // Run from a third directory, so that nothing resolves against the working one.
    ok(nerve().current_dir(dir.path()).args(["run", "out/saved.json", "--arch", "loihi", "--steps", "7", "-q", "--record", &p("rest.csv")]));
    let (whole, rest) = (spikes_from(&p("all.csv"), 3.0), spikes_from(&p("rest.csv"), 0.0));
    assert!(whole.iter().any(|l| l.starts_with("d,1,")), "{whole:?}");
    assert_eq!(rest, whole);
}

/// A probe CSV's values of one neuron, step by step.
fn probe_values(f: &str, neuron: &str) -> Vec<String> {
    std::fs::read_to_string(f)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) == Some(neuron))
        .map(|l| l.rsplit(',').next().unwrap().to_string())
        .collect()
}

/// A saved network whose continuation the compiler maps to other fixed
/// point than the run's gets a note naming the population or projection
/// (it ran on silently, its probes apart from the first continued step):
/// an `izhikevich` cell whose saved v (−104.6 mV, after an inhibitory jump)
/// widens v's range, `lif` cells whose large initial v (2047.5 mV) had
/// coarsened it, and an STDP projection whose saved weights are quantised
/// anew on `loihi` (its post population's current scale came from w_max,
/// now from the largest saved weight, and a weight rounds apart). A
/// continuation at the run's fixed point gets none, and probes as the
/// whole run did.
#[test]
fn a_continuation_at_another_fixed_point_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let p = |x: &str| dir.path().join(x).to_str().unwrap().to_string();
    let izh = |w: f64| {
        json!({"name": "izh", "dt_ms": 0.1,
            "populations": [
                {"name": "src", "size": 1, "model": "spike_source_array", "spike_times": [[0.1]]},
                {"name": "n", "size": 1, "model": "izhikevich", "params": {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0, "i_offset": 0.0}, "initial": {"v": -65.0, "u": -13.0}}],
            "projections": [{"pre": "src", "post": "n", "receptor": "inhibitory", "connector": {"type": "one_to_one"}, "weight": w, "delay": 0.1}]})
    };
    let lif = json!({"name": "lifbig", "dt_ms": 1.0,
        "populations": [{"name": "n", "size": 2, "model": "lif",
            "params": {"tau_m": 20.0, "cm": 1.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0, "tau_refrac": 1.0, "i_offset": 0.8},
            "initial": {"v": [2047.5, -60.0]}}]});
    let stdp = json!({"name": "stdp", "dt_ms": 1.0,
        "populations": [
            {"name": "pre", "size": 2, "model": "spike_source_array", "spike_times": [[5.0, 30.0], [5.0, 30.0]]},
            {"name": "post", "size": 1, "model": "lif", "params": {"tau_m": 20.0, "cm": 1.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0, "tau_syn_E": 5.0, "tau_syn_I": 5.0}}],
        "projections": [{"pre": "pre", "post": "post", "label": "stdp", "receptor": "excitatory", "delay": 1.0,
            "connector": {"type": "from_list", "connections": [[0, 0, 0.3], [1, 0, 0.0102]]},
            "plasticity": {"type": "stdp", "timing_dependence": {"type": "spike_pair", "tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.01, "A_minus": 0.01},
                           "weight_dependence": {"type": "additive", "w_min": 0.0, "w_max": 1.0}}}]});
    // (network, arch, steps in all, steps saved at, neuron probed, what the notes hold)
    type Case<'a> = (&'a str, Value, &'a str, u32, u32, &'a [&'a str]);
    let cases: [Case; 4] = [
        (
            "izh",
            izh(-0.05),
            "spinnaker",
            60,
            3,
            &["population `n`: the continuation holds v (one unit 2^-16 mV in the run, 2^-14 mV now)", "its saved v reaches -104.6429 mV"],
        ),
        ("lif", lif, "spinnaker", 100, 10, &["population `n`: the continuation holds v (one unit 2^-19 mV in the run, 2^-20 mV now)"]),
        (
            "stdp",
            stdp,
            "loihi",
            40,
            20,
            &[
                "population `post`: the continuation holds isyn",
                "largest saved one",
                "projection `stdp`: saved static, its weights are quantised anew on `loihi`",
                "1 of its 2 synapses' weights",
                "worst relative error 0.25",
            ],
        ),
        ("exact", izh(-0.01), "spinnaker", 60, 3, &[]),
    ];
    for (name, net, arch, all, at, want) in cases {
        let f = p(&format!("{name}.json"));
        std::fs::write(&f, net.to_string()).unwrap();
        let var = if name == "stdp" { "post:v" } else { "n:v" };
        ok(nerve().args(["run", &f, "--arch", arch, "--steps", &all.to_string(), "-q", "--probe", var, "--probe-out", &p("whole.csv")]));
        let notes = ok(nerve().args(["run", &f, "--arch", arch, "--steps", &at.to_string(), "--save-network", &p("saved.json")]));
        ok(nerve().args(["run", &p("saved.json"), "--arch", arch, "--steps", &(all - at).to_string(), "-q", "--probe", var, "--probe-out", &p("rest.csv")]));
        let (whole, rest) = (probe_values(&p("whole.csv"), "0"), probe_values(&p("rest.csv"), "0"));
        assert_eq!(whole.len(), all as usize);
        if want.is_empty() {
            assert!(!notes.contains("will not compute exactly"), "{name}: {notes}");
            assert_eq!(rest, whole[at as usize..], "{name}");
        } else {
            for w in want {
                assert!(notes.contains(w), "{name}: `{w}` not in {notes}");
            }
            assert_eq!(
                notes.matches("will not compute exactly").count(),
                want.iter().filter(|w| w.contains(": the continuation") || w.contains(": saved static")).count(),
                "{name}: {notes}"
            );
            assert_ne!(rest, whole[at as usize..], "{name}: the note said it would compute otherwise");
        }
    }
}

/// A learning projection whose weights a finer grid moves by far less than
/// 1e-4 (its population's current scale halved: w_max 0.6 gone, 0.2 the
/// largest saved weight) says by how much, not "worst relative error 0".
#[test]
fn a_tiny_requantisation_error_is_written_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dup.json");
    let net = json!({"name": "dup", "dt_ms": 1.0,
        "populations": [
            {"name": "s", "size": 4, "model": "spike_source_array", "spike_times": [[20.0], [30.0], [40.0], [50.0]]},
            {"name": "x", "size": 3, "model": "lif"}],
        "projections": [{"pre": "s", "post": "x", "connector": {"type": "all_to_all"}, "weight": 0.2, "label": "learn",
            "plasticity": {"type": "stdp", "timing_dependence": {"type": "spike_pair", "A_plus": 0.05, "A_minus": 0.06},
                           "weight_dependence": {"type": "additive", "w_min": 0.0, "w_max": 0.6}}}]});
    std::fs::write(&f, net.to_string()).unwrap();
    let saved = dir.path().join("saved.json");
    let notes = ok(nerve().args(["run", f.to_str().unwrap(), "--arch", "spinnaker", "--steps", "5", "--save-network", saved.to_str().unwrap()]));
    assert!(notes.contains("population `x`: the continuation holds isyn"), "{notes}");
    let at = notes.find("worst relative error ").expect("the projection's note") + "worst relative error ".len();
    let err: f64 = notes[at..].split(';').next().unwrap().parse().unwrap();
    assert!(err > 0.0 && err < 1e-3, "{notes}");
}
