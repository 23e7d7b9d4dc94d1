//! A time written as a half step rounds up, whatever its binary error:
//! 0.15 ms at 0.1 ms is step 2 (0.15 / 0.1 = 1.4999999999999998 rounded
//! down to 1 while 0.25 went up to 3), alike for spike arrays, `--input`
//! spikes and delays (`nerve_isa::time::steps_of`; delays: compiler/tests/it/connectors.rs).

use std::process::Command;

const TIMES: [f64; 5] = [0.15, 0.25, 0.35, 1.15, 2.05];
const STEPS: [u32; 5] = [2, 3, 4, 12, 21];

#[test]
fn half_step_spike_times_round_up_in_arrays_and_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let times = TIMES.map(|t| t.to_string()).join(",");
    std::fs::write(
        d.join("r.json"),
        format!(
            r#"{{"name":"r","dt_ms":0.1,"populations":[
            {{"name":"arr","size":1,"model":"spike_source_array","spike_times":[{times}],"record":["spikes"]}},
            {{"name":"inp","size":1,"model":"input","record":["spikes"]}}]}}"#
        ),
    )
    .unwrap();
    let input: String = TIMES.iter().map(|t| format!("inp,0,{t}\n")).collect();
    std::fs::write(d.join("in.csv"), format!("population,neuron,time\n{input}")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(d)
        .args(["run", "r.json", "--arch", "spinnaker", "--steps", "30", "--input", "in.csv", "--record", "rec.csv", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rec = std::fs::read_to_string(d.join("rec.csv")).unwrap();
    for pop in ["arr", "inp"] {
        let steps: Vec<u32> =
            rec.lines().skip(1).filter_map(|l| l.strip_prefix(&format!("{pop},0,"))).map(|t| (t.parse::<f64>().unwrap() / 0.1).round() as u32).collect();
        assert_eq!(steps, STEPS, "{pop}: {rec}");
    }
}
