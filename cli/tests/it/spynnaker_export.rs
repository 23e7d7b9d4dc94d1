//! The PyNN export for sPyNNaker against what sPyNNaker 1!7.4.1 takes: its
//! S16.15 parameters (the `if` cell's stand-in tau_m included), spike sources
//! without spikes, and the weight steps it rounds to silently (noted). The
//! scripts themselves ran on a virtual SpiNN-5 board (docs/exporters.md).

use nerve_compiler::compile::{prepare, Options};
use nerve_compiler::export::pynn;
use nerve_compiler::net::model::Network;
use nerve_isa::arch::Arch;

fn export(json: &str, backend: pynn::Backend) -> Result<pynn::Script, String> {
    export_with(json, backend)
}

/// The export's error message (the script where it exported).
fn refused(json: &str) -> String {
    match export_with(json, pynn::Backend::Spinnaker) {
        Ok(s) => panic!("exported: {}", s.text),
        Err(e) => e,
    }
}

fn export_with(json: &str, backend: pynn::Backend) -> Result<pynn::Script, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.json");
    std::fs::write(&path, json).unwrap();
    let net: Network = nerve_compiler::front::read(&path, &Default::default()).unwrap();
    let prep = prepare(&Arch::load("spinnaker").unwrap(), &net, &Options::default(), &mut |_| {}).unwrap();
    pynn::export(&net, &prep, &pynn::Options { backend, duration_ms: Some(10.0), ..Default::default() }, "d").map_err(|e| e.to_string())
}

/// A keyword argument's number in the line that makes population `pop`.
fn arg(s: &pynn::Script, pop: &str, key: &str) -> f64 {
    let line = s.text.lines().find(|l| l.starts_with(&format!("pops[\"{pop}\"] = sim.Population("))).unwrap_or_else(|| panic!("{pop}: {}", s.text));
    let at = line.find(&format!("{key}=")).unwrap_or_else(|| panic!("{key}: {line}")) + key.len() + 1;
    line[at..].split([',', ')']).next().unwrap().parse().unwrap_or_else(|e| panic!("{key} in {line}: {e}"))
}

fn one_into(model_params: &str) -> String {
    format!(
        r#"{{"name":"x","dt_ms":1.0,"populations":[{{"name":"src","size":1,"model":"spike_source_array","spike_times":[[1.0, 2.0]]}},{model_params}],
        "projections":[{{"pre":"src","post":"acc","weight":0.5,"delay":1.0,"connector":{{"type":"all_to_all"}}}}]}}"#
    )
}

/// sPyNNaker refused the `if` cell's tau_m of 1e9 ms (S16.15 holds below
/// 65,536): the script failed on every `if` population. Its stand-in leaks
/// by a 2^-15 step (exp(-dt/tau_m) still below 1 on the core) and its
/// tau_m/cm fits; NEST keeps 1e9 ms.
#[test]
fn spynnaker_if_tau_m_fits_s1615_and_out_of_range_values_are_refused() {
    let net = one_into(r#"{"name":"acc","size":1,"model":"if","params":{"v_thresh":-55.0}}"#);
    let s = export(&net, pynn::Backend::Spinnaker).unwrap();
    let tau = arg(&s, "acc", "tau_m");
    assert!(tau <= pynn::S1615_MAX && tau / arg(&s, "acc", "cm") <= pynn::S1615_MAX, "tau_m {tau}");
    assert!(1.0 / tau >= 2f64.powi(-15), "dt/tau_m {} rounds the decay to 1 on the core", 1.0 / tau);
    assert!(s.notes.iter().any(|n| n.contains("`acc` (if)") && n.contains(&format!("tau_m = {tau} ms"))), "{:?}", s.notes);
    // Every number the cell gets is one sPyNNaker's tools take.
    for key in ["cm", "v_rest", "v_reset", "v_thresh", "tau_refrac", "tau_syn_E", "tau_syn_I", "i_offset"] {
        assert!((pynn::S1615_MIN..=pynn::S1615_MAX).contains(&arg(&s, "acc", key)), "{key}");
    }
    let s = export(&net, pynn::Backend::Nest).unwrap();
    assert_eq!(arg(&s, "acc", "tau_m"), 1e9);

    // Out of S16.15: refused, naming the population, the parameter and the range.
    let e = refused(&one_into(r#"{"name":"acc","size":2,"model":"lif","params":{"tau_m":1e6}}"#));
    assert!(e.contains("population `acc` (lif)") && e.contains("tau_m 1000000 ms") && e.contains("S16.15") && e.contains("65536"), "{e}");
    assert!(!e.contains("neuron 0"), "a value shared by all neurons names none: {e}");
    let e = refused(&one_into(r#"{"name":"acc","size":2,"model":"lif","params":{"v_thresh":[-50.0, 70000.0]}}"#));
    assert!(e.contains("v_thresh 70000 mV (neuron 1)"), "{e}");
    let e = refused(&one_into(r#"{"name":"acc","size":2,"model":"lif","params":{"tau_m":[20.0, 200.0],"cm":0.001}}"#));
    assert!(e.contains("tau_m/cm") && e.contains("200000 MOhm (neuron 1)"), "{e}");
    // NEST takes them (its doubles hold them).
    assert!(export(&one_into(r#"{"name":"acc","size":2,"model":"lif","params":{"tau_m":1e6}}"#), pynn::Backend::Nest).is_ok());
}

/// sPyNNaker 7.4 fails on `spike_times=[[], []]` (IndexError in its spike
/// density check); one empty list is the same source and maps.
#[test]
fn spynnaker_source_without_spikes_is_one_empty_list() {
    let net = r#"{"name":"quiet","dt_ms":1.0,"populations":[{"name":"src","size":2,"model":"spike_source_array","spike_times":[[], []]},{"name":"post","size":1,"model":"lif"}],
        "projections":[{"pre":"src","post":"post","weight":0.5,"delay":1.0,"connector":{"type":"all_to_all"}}]}"#;
    let s = export(net, pynn::Backend::Spinnaker).unwrap();
    assert!(s.text.contains("pops[\"src\"] = sim.Population(2, sim.SpikeSourceArray(spike_times=[]), label=\"src\")"), "{}", s.text);
    // A source with some spikes keeps its per-neuron lists.
    let s = export(&net.replace("[[], []]", "[[], [3.0]]"), pynn::Backend::Spinnaker).unwrap();
    assert!(s.text.contains("spike_times=[[], [3.0]]"), "{}", s.text);
}

/// sPyNNaker rounds every weight onto a receptor of a core to one step from
/// the summed input it expects: beside 20 nA, 0.0005 nA read back 0 and
/// 0.003 as 0.0039 (sPyNNaker 1!7.4.1, virtual SpiNN-5). The export says so.
#[test]
fn spynnaker_weights_below_the_receptor_step_are_noted() {
    let net = r#"{"name":"wmix","dt_ms":1.0,"populations":[
        {"name":"a","size":4,"model":"spike_source_array","spike_times":[[1.0],[2.0],[3.0],[4.0]]},
        {"name":"b","size":4,"model":"spike_source_array","spike_times":[[1.0],[2.0],[3.0],[4.0]]},
        {"name":"post","size":3,"model":"lif","params":{"tau_m":20.0}}],
        "projections":[{"pre":"a","post":"post","receptor":"excitatory","connector":{"type":"all_to_all"},"weight":20.0,"delay":1.0,"label":"big"},
        {"pre":"b","post":"post","receptor":"excitatory","label":"small","connector":{"type":"from_list","connections":[[0,0,0.003,1.0],[1,1,0.01,1.0],[2,2,0.0005,1.0],[3,0,0.123456,2.0]]}}]}"#;
    let s = export(net, pynn::Backend::Spinnaker).unwrap();
    let note = s.notes.iter().find(|n| n.starts_with("projection small:")).unwrap_or_else(|| panic!("{:?}", s.notes));
    // The step lies between 2^-10 (20 nA needs 5 bits) and 2^-8 (4 × 20 + 2 × 0.12 nA needs 7); sPyNNaker chose 2^-9.
    assert!(note.contains("`post`'s excitatory receptor") && note.contains("9.766e-4 nA") && note.contains("3.906e-3 nA"), "{note}");
    assert!(note.contains("1 weights below half a step become 0 (e.g. 0.000500"), "{note}");
    assert!(!s.notes.iter().any(|n| n.starts_with("projection big:")), "{:?}", s.notes);
    // Weights of one size say nothing; NEST holds doubles.
    let even = net
        .replace("0.003,", "0.5,")
        .replace("0.01,", "0.5,")
        .replace("0.0005,", "0.5,")
        .replace("0.123456,", "0.5,")
        .replace("20.0,\"delay\"", "0.5,\"delay\"");
    assert!(!export(&even, pynn::Backend::Spinnaker).unwrap().notes.iter().any(|n| n.contains("rounds the weights")));
    assert!(!export(net, pynn::Backend::Nest).unwrap().notes.iter().any(|n| n.contains("rounds the weights")));
}

/// PACMAN 1!7.4.1's JSON schema holds 24-bit routes and its from_json
/// truncates wider ones silently: tables reaching a core past 17 (bit 24
/// and up) carry a warning, narrower ones none.
#[test]
fn spinnaker_tables_past_24_bits_are_warned() {
    use nerve_compiler::export::spinnaker::{notes, route_word, ChipTable, Entry};
    use nerve_isa::image::CoreMask;
    let table = |core: u32| {
        let mut cores = CoreMask::EMPTY;
        cores.insert(core);
        vec![ChipTable { x: 1, y: 2, entries: vec![Entry { key: 0x40, mask: !0, route: route_word(0, cores), defaultable: false }] }]
    };
    assert!(notes(&table(16)).is_empty(), "{:?}", notes(&table(16)));
    let n = notes(&table(17));
    assert!(
        n.len() == 1 && n[0].contains("1 entries route past 24 bits") && n[0].contains("chip (1, 2) key 0x00000040") && n[0].contains("truncates"),
        "{n:?}"
    );
}
