//! A run summary as `nerve run --report` writes it reads back, and one a
//! user broke is refused saying where.

use nerve_emulator::machine::Machine;
use nerve_isa::image::PopSymbol;
use nerve_report::session::{self, Request};
use nerve_report::summary::{self, Summary};

/// The sample's summary after 50 steps, with `extra` populations appended
/// to the machine's symbol table after the run (a valid image has none
/// empty: this is how the summary's arithmetic meets one).
fn sample_summary(extra: Vec<PopSymbol>) -> Summary {
    let m = Machine::load(nerve_isa::sample::sample_image()).unwrap();
    let mut ran = session::run(m, &Request { steps: 50, threads: 1, ..Request::default() }, &mut |_| {}).unwrap();
    ran.machine.pops.extend(extra);
    let recorded = vec![true; ran.machine.pops.len()];
    summary::build(
        &ran.machine,
        &ran.output,
        &summary::Options {
            engine: "interp",
            threads: 1,
            inference_steps: None,
            decision: None,
            decision_spikes: &[],
            recorded: &recorded,
            load_seconds: 0.0,
            huge_pages: false,
        },
    )
}

fn write(dir: &tempfile::TempDir, v: &serde_json::Value) -> std::path::PathBuf {
    let p = dir.path().join("run.json");
    std::fs::write(&p, serde_json::to_string(v).unwrap()).unwrap();
    p
}

/// A population of no neurons has a rate of 0, never NaN (written as null,
/// which `nerve report` then refused in the run's own summary); the image
/// validation refuses one in the first place.
#[test]
fn an_empty_population_has_a_rate_not_null() {
    let empty = PopSymbol { name: "empty".into(), size: 0, model: "lif".into(), slices: vec![], record_spikes: true, vars: vec![], labels: vec![] };
    let mut img = nerve_isa::sample::sample_image();
    img.populations.push(empty.clone());
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("population `empty` has no neurons (size 0, at least 1)"), "{e}");

    let s = sample_summary(vec![empty]);
    let row = s.populations.iter().find(|p| p.name == "empty").unwrap();
    assert_eq!(row.rate_hz, 0.0);
    let text = serde_json::to_string(&s).unwrap();
    assert!(!text.contains("\"rate_hz\":null"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, &serde_json::from_str(&text).unwrap());
    Summary::read(&p).unwrap();
}

/// A field missing or of the wrong type is named with its place in the file.
#[test]
fn a_bad_field_is_named_where_it_is() {
    let s = sample_summary(vec![]);
    let v = serde_json::to_value(&s).unwrap();
    let dir = tempfile::tempdir().unwrap();
    Summary::read(&write(&dir, &v)).unwrap();
    assert!(v["cores"].as_array().unwrap().len() >= 2);

    let mut missing = v.clone();
    missing["cores"][1].as_object_mut().unwrap().remove("busy_ns").unwrap();
    let e = Summary::read(&write(&dir, &missing)).unwrap_err();
    assert!(matches!(e, nerve_report::Error::SummaryField { .. }), "{e}");
    let e = e.to_string();
    assert!(e.contains("at `cores[1]`: missing field `busy_ns`"), "{e}");

    let mut mistyped = v.clone();
    mistyped["cores"][0]["busy_ns"] = serde_json::json!("soon");
    let e = Summary::read(&write(&dir, &mistyped)).unwrap_err().to_string();
    assert!(e.contains("at `cores[0].busy_ns`: invalid type: string \"soon\""), "{e}");
}

/// A key given twice is refused where it is, as every JSON reader of nerve
/// refuses it: serde kept the last (`"steps":999,"steps":50` reported 50
/// steps without a word).
#[test]
fn a_key_given_twice_is_refused_where_it_is() {
    let v = serde_json::to_value(sample_summary(vec![])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = serde_json::to_string(&v).unwrap();
    let read = |text: &str| {
        let p = dir.path().join("twice.json");
        std::fs::write(&p, text).unwrap();
        Summary::read(&p).map_err(|e| e.to_string())
    };
    read(&text).unwrap();
    let e = read(&format!("{{\"steps\":999,{}", &text[1..])).unwrap_err();
    assert!(e.ends_with("twice.json: $: key `steps` appears twice"), "{e}");
    // Deeper: the object named by its path.
    let mut marked = v.clone();
    marked["cores"][1] = serde_json::json!("@core@");
    let core = serde_json::to_string(&v["cores"][1]).unwrap();
    let e = read(&serde_json::to_string(&marked).unwrap().replace("\"@core@\"", &format!("{{\"busy_ns\":1,{}", &core[1..]))).unwrap_err();
    assert!(e.ends_with("twice.json: $.cores[1]: key `busy_ns` appears twice"), "{e}");
}

/// A raster spike no run writes, of a neuron past its population or at a
/// step past the run, is refused naming it (a hand-edited one was drawn).
#[test]
fn a_raster_spike_past_its_population_or_the_run_is_refused() {
    let s = sample_summary(vec![]);
    let v = serde_json::to_value(&s).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (pi, p) = s.raster.populations.iter().enumerate().find(|(_, p)| !p.spikes.is_empty()).expect("a population with spikes");
    for (spike, says) in [
        (serde_json::json!([0, p.size]), format!("neuron {} is past the population's {} neurons", p.size, p.size)),
        (serde_json::json!([s.steps, 0]), format!("step {} is past the run's {} steps", s.steps, s.steps)),
    ] {
        let mut bad = v.clone();
        bad["raster"]["populations"][pi]["spikes"][0] = spike;
        let e = Summary::read(&write(&dir, &bad)).unwrap_err().to_string();
        assert!(e.contains(&format!("raster.populations[{pi}].spikes[0]")) && e.contains(&says), "{e}");
    }
}
