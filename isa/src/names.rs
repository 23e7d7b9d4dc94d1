//! What a network may call its populations, neurons and variables, and the
//! timesteps it may have: the front ends refuse a network beyond these, and
//! image validation refuses an image beyond them (a hand-edited one too),
//! since every report reads them back.

/// The timesteps a network may have, ms. Beyond them a run's times leave
/// what the reports can draw (2^32 steps of 1e307 ms overflow to infinity
/// and their time axes never end), a spike time's step leaves 32 bits, or
/// recorded times (six decimals of a ms) all print as 0.
pub const DT_MS_RANGE: std::ops::RangeInclusive<f64> = 1e-6..=1e4;

/// Why `name` cannot name a population, if it cannot: recordings are CSV
/// rows `population,neuron,time` with the name unquoted, and probes are
/// `--probe POP:VAR`, so a comma, quote, colon or line break in a name would
/// make them mean something else. `--input` files are read with their fields
/// trimmed, so a name starting or ending in whitespace would be taken for
/// the name without it (another population's, or none).
pub fn bad_population_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a population name cannot be empty".into());
    }
    if let Some(c) = name.chars().find(|&c| matches!(c, ',' | '"' | ':') || c.is_control()) {
        return Some(format!(
            "population name \"{}\" holds {c:?}: a population name cannot hold commas, quotes, colons or control characters (recordings are CSV, probes are POP:VAR)",
            name.escape_debug()
        ));
    }
    if name.trim() != name {
        return Some(format!(
            "population name \"{}\" starts or ends with whitespace: a population name cannot (spike files are read with their fields trimmed)",
            name.escape_debug()
        ));
    }
    None
}

/// Why `label` cannot label a neuron, if it cannot: recordings of labelled
/// networks carry the label in an unquoted CSV column.
pub fn bad_label(label: &str) -> Option<String> {
    if label.is_empty() || label.contains([',', '"']) || label.contains(char::is_control) {
        return Some(format!("label \"{}\": a label is a non-empty name without commas, quotes or control characters", label.escape_debug()));
    }
    None
}

/// Why `name` cannot name a probed variable, if it cannot: probes are
/// `--probe POP:VAR`, and a probe file's header names `POP:VAR` in CSV.
pub fn bad_variable_name(name: &str) -> Option<String> {
    if name.is_empty() || name.contains([',', '"', ':']) || name.contains(char::is_control) {
        return Some(format!(
            "variable name \"{}\": a variable name is non-empty, without commas, quotes, colons or control characters (probes are POP:VAR)",
            name.escape_debug()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_break_a_recording_are_refused() {
        for bad in ["", "a,b", "a\"b", "a:b", "a\nb"] {
            assert!(bad_population_name(bad).is_some(), "{bad:?}");
            assert!(bad_variable_name(bad).is_some(), "{bad:?}");
        }
        for bad in ["", "a,b", "a\"b", "a\tb"] {
            assert!(bad_label(bad).is_some(), "{bad:?}");
        }
        for bad in ["a ", " a", "\u{a0}a", "a\u{3000}"] {
            assert!(bad_population_name(bad).is_some_and(|why| why.contains("whitespace")), "{bad:?}");
        }
        assert_eq!(bad_label("a:b"), None, "a label is no probe, so it may hold a colon");
        for good in ["exc", "layer 1", "lif1.lif", "ñ"] {
            assert_eq!(bad_population_name(good), None);
            assert_eq!(bad_variable_name(good), None);
            assert_eq!(bad_label(good), None);
        }
    }
}
