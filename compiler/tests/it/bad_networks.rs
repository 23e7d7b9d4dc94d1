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
