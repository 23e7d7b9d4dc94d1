//! Spike files: byte 0 picks JSON (odd) or CSV (even); the rest is the text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let _ = nerve_report::spikes::read_text(text, "fuzz", mode & 1 == 1);
});
