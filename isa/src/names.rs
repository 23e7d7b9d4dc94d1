//! What a network may call its populations, neurons and variables, and the
//! timesteps it may have: the front ends refuse a network beyond these, and
//! image validation refuses an image beyond them (a hand-edited one too),
//! since every report reads them back.

/// The timesteps a network may have, ms. Beyond them a run's times leave
/// what the reports can draw (2^32 steps of 1e307 ms overflow to infinity
/// and their time axes never end), a spike time's step leaves 32 bits, or
/// recorded times (six decimals of a ms) all print as 0.
pub const DT_MS_RANGE: std::ops::RangeInclusive<f64> = 1e-6..=1e4;

/// Most characters a network's name may have: it titles every report and
/// picture.
pub const MAX_NETWORK_NAME: usize = 256;

/// Whether `c` may not be in a name: a control character (it would break a
/// CSV row or a line of a report), or a noncharacter (U+FFFE, U+FFFF and
/// the 64 others: U+FDD0..=U+FDEF and the last two of every plane), which
/// the SVG pictures, being XML, cannot hold (surrogates cannot occur in a
/// Rust string). A name is refused for one: a C1 control, valid XML, is a
/// control character all the same.
pub fn bad_char(c: char) -> bool {
    let u = c as u32;
    c.is_control() || (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE
}

/// Whether XML 1.0 allows `c` in a document at all (its `Char`): the
/// pictures replace the others with U+FFFD, since an edited run summary
/// can hold anything.
pub fn xml_char(c: char) -> bool {
    matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Why `name` cannot name a network, if it cannot: it titles every report
/// and picture (the pictures are SVG, which is XML), so it is non-empty, at
/// most [`MAX_NETWORK_NAME`] characters, without control characters or
/// noncharacters ([`bad_char`]).
pub fn bad_network_name(name: &str) -> Option<String> {
    bad_title(name, "network", &format!("network name \"{}\"", name.escape_debug()))
}

/// Why `name` cannot name an architecture profile, if it cannot: it is
/// printed with every run and titles the reports beside the network's name,
/// so it follows the network name's rule.
pub fn bad_arch_name(name: &str) -> Option<String> {
    bad_title(name, "profile", "it")
}

/// The rule of a name that titles reports (a network's, a profile's): `what`
/// names the kind, `shown` the name in the message about a character.
fn bad_title(name: &str, what: &str, shown: &str) -> Option<String> {
    if name.is_empty() {
        return Some(format!("a {what} name cannot be empty"));
    }
    let n = name.chars().count();
    if n > MAX_NETWORK_NAME {
        return Some(format!("the {what} name has {n} characters, beyond {MAX_NETWORK_NAME}"));
    }
    let c = name.chars().find(|&c| bad_char(c))?;
    Some(format!(
        "{shown} holds {c:?}: a {what} name cannot hold control characters or noncharacters (U+FFFE, U+FFFF, …; it titles the reports and their SVG pictures)"
    ))
}

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
    if let Some(c) = name.chars().find(|&c| matches!(c, ',' | '"' | ':') || bad_char(c)) {
        return Some(format!(
            "population name \"{}\" holds {c:?}: a population name cannot hold commas, quotes, colons, control characters or noncharacters (recordings are CSV, probes are POP:VAR, pictures are SVG)",
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
    if label.is_empty() || label.contains([',', '"']) || label.contains(bad_char) {
        return Some(format!("label \"{}\": a label is a non-empty name without commas, quotes, control characters or noncharacters", label.escape_debug()));
    }
    None
}

/// Why `name` cannot name a probed variable, if it cannot: probes are
/// `--probe POP:VAR`, and a probe file's header names `POP:VAR` in CSV.
pub fn bad_variable_name(name: &str) -> Option<String> {
    if name.is_empty() || name.contains([',', '"', ':']) || name.contains(bad_char) {
        return Some(format!(
            "variable name \"{}\": a variable name is non-empty, without commas, quotes, colons, control characters or noncharacters (probes are POP:VAR)",
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
        // Noncharacters: SVG (XML) cannot hold U+FFFE or U+FFFF.
        for bad in ["p\u{FFFF}", "\u{FFFE}", "a\u{FDD0}", "a\u{10FFFF}", "a\u{1FFFE}"] {
            assert!(bad_population_name(bad).is_some_and(|why| why.contains("noncharacters")), "{bad:?}");
            assert!(bad_variable_name(bad).is_some(), "{bad:?}");
            assert!(bad_label(bad).is_some(), "{bad:?}");
            assert!(bad_network_name(bad).is_some_and(|why| why.contains("noncharacters")), "{bad:?}");
        }
        for bad in ["", "a\u{7}b", "a\nb", "a\u{85}"] {
            assert!(bad_network_name(bad).is_some(), "{bad:?}");
        }
        let long = "n".repeat(MAX_NETWORK_NAME + 1);
        assert!(bad_network_name(&long).is_some_and(|why| why.contains("257 characters, beyond 256")));
        assert_eq!(bad_network_name(&long[1..]), None);
        for good in ["my net: v2, \"final\"", " padded ", "\u{FFFD}", "\u{10FFFD}"] {
            assert_eq!(bad_network_name(good), None, "{good:?}");
        }
        assert!(!xml_char('\u{7}') && !xml_char('\u{FFFE}') && !xml_char('\u{FFFF}') && xml_char('\t') && xml_char('\u{FFFD}') && xml_char('\u{10000}'));
        for good in ["exc", "layer 1", "lif1.lif", "ñ"] {
            assert_eq!(bad_population_name(good), None);
            assert_eq!(bad_variable_name(good), None);
            assert_eq!(bad_label(good), None);
        }
    }
}
