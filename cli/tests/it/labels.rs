//! Neuron labels (`"labels"` on a population): `from_list` files name
//! neurons by them, the image keeps them, and a recording gives each
//! spike's label next to its index (and is still a valid input file).

use std::process::Command;

#[test]
fn labels_name_neurons_in_connections_and_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("edges.csv"), "pre,post,kind,weight\nS0,AVA,chem,3.0\nS1,AVB,chem,3.0\nS1,AVA,gap,0.1\n").unwrap();
    let net = serde_json::json!({"name": "lab", "dt_ms": 1.0, "populations": [
        {"name": "stim", "size": 2, "model": "spike_source_array", "spike_times": [[2.0, 9.0], [5.0]], "labels": ["S0", "S1"]},
        {"name": "cells", "size": 3, "model": "lif", "labels": ["AVA", "AVB", "RIM"],
         "params": {"tau_m": 10.0, "cm": 0.25, "v_rest": -65.0, "v_reset": -70.0, "v_thresh": -64.0, "tau_refrac": 1.0, "tau_syn_E": 2.0, "tau_syn_I": 2.0, "i_offset": 0.0}}
    ], "projections": [
        {"pre": "stim", "post": "cells", "connector": {"type": "from_list", "file": "edges.csv", "select": {"kind": "chem"}}}
    ]});
    std::fs::write(d.join("lab.json"), net.to_string()).unwrap();
    let nerve = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_nerve")).current_dir(d).args(args).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        o
    };
    nerve(&["run", "lab.json", "--arch", "spinnaker", "--steps", "20", "--record", "rec.csv", "--record-all", "-q"]);
    let rec = std::fs::read_to_string(d.join("rec.csv")).unwrap();
    let mut lines = rec.lines();
    assert_eq!(lines.next(), Some("population,neuron,time,label"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // The stimulus by its labels; the cells it reaches by theirs (S0 → AVA, S1 → AVB; RIM gets nothing).
    assert!(rows.iter().any(|r| r[0] == "stim" && r[1] == "0" && r[3] == "S0"), "{rec}");
    assert!(rows.iter().any(|r| r[0] == "cells" && r[1] == "0" && r[3] == "AVA"), "{rec}");
    assert!(rows.iter().any(|r| r[0] == "cells" && r[1] == "1" && r[3] == "AVB"), "{rec}");
    assert!(!rows.iter().any(|r| r[3] == "RIM"), "{rec}");
    // A recording with labels is an input file still.
    let back = nerve_report::spikes::read(&d.join("rec.csv")).unwrap();
    assert_eq!(back.len(), rows.len());
    // A column neither selected on nor ignored is an error, not read past.
    let mut bad = net.clone();
    bad["projections"][0]["connector"] = serde_json::json!({"type": "from_list", "file": "edges.csv"});
    std::fs::write(d.join("bad.json"), bad.to_string()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_nerve")).current_dir(d).args(["compile", "bad.json", "--arch", "spinnaker", "-o", "b.img"]).output().unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && e.contains("unknown column `kind`"), "{e}");
}

/// An input file's `label` column (a recording of a labelled network has
/// one) must name the neuron its index does: it was read and dropped, so a
/// label naming another neuron, or none, went unnoticed.
#[test]
fn an_input_files_labels_must_name_its_neurons() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let net = serde_json::json!({"name": "i", "dt_ms": 1.0, "populations": [
        {"name": "in", "size": 3, "model": "input", "labels": ["x", "y", "z"], "record": ["spikes"]},
        {"name": "plain", "size": 2, "model": "input", "record": ["spikes"]}
    ]});
    std::fs::write(d.join("in.json"), net.to_string()).unwrap();
    let run = |spikes: &str| {
        std::fs::write(d.join("s.csv"), spikes).unwrap();
        Command::new(env!("CARGO_BIN_EXE_nerve"))
            .current_dir(d)
            .args(["run", "in.json", "--arch", "spinnaker", "--steps", "5", "--input", "s.csv", "--record", "rec.csv", "-q"])
            .output()
            .unwrap()
    };
    let o = run("population,neuron,time,label\nin,0,1,x\nin,2,2,z\nplain,1,2,\n");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rec = std::fs::read_to_string(d.join("rec.csv")).unwrap();
    assert_eq!(rec, "population,neuron,time,label\nin,0,1,x\nin,2,2,z\nplain,1,2,\n");
    // The recording is an input as it is.
    let o = run(&rec);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (spikes, want) in [
        ("population,neuron,time,label\nin,0,1,x\nin,0,2,y\n", "spike 1 (`in` neuron 0 at 2 ms): label `y` is neuron 1's (neuron 0 is `x`)"),
        ("population,neuron,time,label\nin,1,2,w\n", "spike 0 (`in` neuron 1 at 2 ms): label `w` is no neuron's (neuron 1 is `y`)"),
        ("population,neuron,time,label\nplain,1,2,x\n", "label `x`, but the population has no labels"),
    ] {
        let o = run(spikes);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{spikes}: {e}");
        assert!(e.contains("s.csv") && e.contains(want), "{spikes}: {e}");
        // The exporters read --input as `nerve run` does.
        let o = Command::new(env!("CARGO_BIN_EXE_nerve"))
            .current_dir(d)
            .args(["export", "pynn", "in.json", "--arch", "spinnaker", "--input", "s.csv", "-o", "x.py", "-q"])
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.code() == Some(1) && e.contains("s.csv") && e.contains(want), "export: {spikes}: {e}");
    }
}
