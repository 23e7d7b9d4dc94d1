//! Bad network files, one table: each row a small network a stranger might
//! write and the words its error must hold (the culprit's JSON path or name
//! and the limit). Each must be refused by the parser with a typed error,
//! never a panic, an abort or a network that means something else.

use nerve_compiler::front::json::parse_network;
use std::path::Path;

/// (network JSON, message fragments).
const ROWS: &[(&str, &[&str])] = &[
    // One list of spike times for 2^32 − 1 neurons: refused before it is copied per neuron (an abort allocating 100 GB).
    (
        r#"{"populations":[{"name":"n","size":4294967295,"model":"spike_source_array","spike_times":[1.0]}]}"#,
        &["$.populations[0].spike_times", "population `n`", "4294967295 neurons", "GiB", "available"],
    ),
    (
        r#"{"populations":[{"name":"n","size":4294967295,"model":"spike_source_array","spike_times":[]}]}"#,
        &["$.populations[0].spike_times", "population `n`", "GiB", "available"],
    ),
    // Times: a run of such steps overflows its reports' time axes (1e307 hung `nerve report`), or a step leaves 32 bits.
    (r#"{"dt_ms":1e307,"populations":[{"name":"n","size":2,"model":"lif"}]}"#, &["$.dt_ms", "1e307 ms", "outside 1e-6..=10000 ms"]),
    (r#"{"dt_ms":1e-300,"populations":[{"name":"n","size":2,"model":"lif"}]}"#, &["$.dt_ms", "1e-300 ms", "outside 1e-6..=10000 ms"]),
    (r#"{"dt_ms":-1e300,"populations":[{"name":"n","size":2,"model":"lif"}]}"#, &["$.dt_ms", "positive, found -1e300"]),
    (r#"{"dt_ms":1,"duration_ms":1e307,"populations":[{"name":"n","size":2,"model":"lif"}]}"#, &["$.duration_ms", "1e307 ms", "4294967295"]),
    (
        r#"{"dt_ms":1,"populations":[{"name":"n","size":2,"model":"spike_source_array","spike_times":[[1.0],[5e9]]}]}"#,
        &["$.populations[0].spike_times[1][0]", "spike time 5000000000 ms is step 5e9", "4294967295"],
    ),
];

#[test]
fn every_bad_network_is_refused_with_its_culprit() {
    for &(text, want) in ROWS {
        let e = match std::panic::catch_unwind(|| parse_network(text, Path::new("t.json"))) {
            Ok(Ok(_)) => panic!("accepted: {text}"),
            Ok(Err(e)) => e.to_string(),
            Err(_) => panic!("panicked: {text}"),
        };
        assert!(e.starts_with("t.json: "), "the error does not name the file: {e}");
        for w in want {
            assert!(e.contains(w), "{text}\nthe message lacks `{w}`: {e}");
        }
    }
}
