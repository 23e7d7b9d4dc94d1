//! Probe files: the values of probed state variables, every step.

use std::io::Write;
use std::path::Path;

use nerve_emulator::engine::RunOutput;
use nerve_emulator::machine::Machine;

use crate::{Error, Result};

/// Writes a run's probes: CSV `population,var,neuron,time,value`, or (for
/// a `.npy` path) one probe as a steps × neurons float64 array; values in
/// the variable's physical units.
pub fn write(path: &Path, m: &Machine, out: &RunOutput) -> Result<()> {
    let dt = m.dt_ms;
    if crate::has_extension(path, "npy") && out.probes.len() != 1 {
        return Err(Error::Request("a .npy probe file holds one probe; probe one variable or write CSV".into()));
    }
    // Into a temporary file renamed into place: a failed write leaves nothing partial.
    crate::write_with(path, |tmp| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(tmp)?);
        write_to(&mut w, path, m, out, dt)
    })
}

fn write_to(w: &mut impl Write, path: &Path, m: &Machine, out: &RunOutput, dt: f64) -> std::io::Result<()> {
    if crate::has_extension(path, "npy") {
        let p = &out.probes[0];
        // invariant: out.probes come from session::probes, which resolved each POP:VAR to a variable of that population of `m`
        let v = &m.pops[p.pop as usize].vars.iter().find(|v| v.slot == p.slot).expect("a probe names one of its population's variables").clone();
        let n = m.pops[p.pop as usize].size;
        crate::spikes::write_npy_header(w, &npy_dict(p.values.len() as u64, n))?;
        npy_rows(w, v.scale, v.offset, &p.values)?;
    } else {
        w.write_all(CSV_HEADER)?;
        for p in &out.probes {
            let pop = &m.pops[p.pop as usize];
            // invariant: out.probes come from session::probes, which resolved each POP:VAR to a variable of that population of `m`
            let v = pop.vars.iter().find(|v| v.slot == p.slot).expect("a probe names one of its population's variables");
            csv_rows(w, &pop.name, &v.name, v.scale, v.offset, dt, 0, &p.values)?;
        }
    }
    w.flush()?;
    Ok(())
}

pub(crate) const CSV_HEADER: &[u8] = b"population,var,neuron,time,value\n";

/// The NPY header of one probe of `steps` × `n` values.
pub(crate) fn npy_dict(steps: u64, n: u32) -> String {
    format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({steps}, {n}), }}")
}

/// Raw rows as float64 in physical units.
pub(crate) fn npy_rows(w: &mut impl Write, scale: f64, offset: f64, rows: &[Vec<i32>]) -> std::io::Result<()> {
    for row in rows {
        for &x in row {
            w.write_all(&(x as f64 * scale + offset).to_le_bytes())?;
        }
    }
    Ok(())
}

/// Raw rows of steps `first..` as CSV lines in physical units.
#[allow(clippy::too_many_arguments)]
pub(crate) fn csv_rows(w: &mut impl Write, pop: &str, var: &str, scale: f64, offset: f64, dt: f64, first: u64, rows: &[Vec<i32>]) -> std::io::Result<()> {
    // A line's start and a step's time are formatted once, indices as digits:
    // only the value goes through the formatter.
    let head = format!("{pop},{var},");
    let mut digits = [0u8; 10];
    for (k, row) in rows.iter().enumerate() {
        let time = crate::spikes::fmt_time((first + k as u64) as f64 * dt, dt);
        for (i, &x) in row.iter().enumerate() {
            w.write_all(head.as_bytes())?;
            w.write_all(crate::spikes::decimal(i as u32, &mut digits))?;
            w.write_all(b",")?;
            w.write_all(time.as_bytes())?;
            writeln!(w, ",{}", x as f64 * scale + offset)?;
        }
    }
    Ok(())
}
