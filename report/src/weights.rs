//! Learned weights out (`nerve run --save-weights`): every learning
//! projection's synapses as the run left them. CSV `projection,pre,post,
//! weight,delay` (weight in the projection's units: integers for integer
//! weights, nA otherwise; delay in ms), or, for a `.npy` path, a float64
//! array of rows (projection index in the network, pre, post, weight, delay).

use std::io::Write;
use std::path::Path;

use nerve_emulator::learning::Learned;

use crate::Result;

pub fn write(path: &Path, learned: &[Learned], dt_ms: f64) -> Result<()> {
    let mut buf = Vec::new();
    let n: usize = learned.iter().map(|l| l.synapses.len()).sum();
    if crate::has_extension(path, "npy") {
        // invariant: writing into a Vec<u8> cannot fail
        crate::spikes::write_npy_header(&mut buf, &format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({n}, 5), }}")).expect("a Vec takes writes");
        for l in learned {
            for s in &l.synapses {
                // + 0.0: a weight depressed to −0 is written 0 (it read "-0").
                for x in [l.index as f64, s.pre as f64, s.post as f64, s.weight + 0.0, crate::spikes::steps_ms(s.delay as u32, dt_ms)] {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
    } else {
        buf.extend_from_slice(b"projection,pre,post,weight,delay\n");
        for l in learned {
            let name = csv_field(&l.projection);
            for s in &l.synapses {
                // invariant: writing into a Vec<u8> cannot fail
                writeln!(buf, "{name},{},{},{},{}", s.pre, s.post, s.weight + 0.0, crate::spikes::fmt_time(s.delay as f64 * dt_ms, dt_ms))
                    .expect("a Vec takes writes");
            }
        }
    }
    crate::write_file(path, &buf)
}

/// A label as one CSV field (quoted where it holds a comma, quote or newline).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
