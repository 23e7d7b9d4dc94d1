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
    if path.extension().is_some_and(|e| e == "npy") && out.probes.len() != 1 {
        return Err(Error::Request("a .npy probe file holds one probe; probe one variable or write CSV".into()));
    }
    // Into a temporary file renamed into place: a failed write leaves nothing partial.
    crate::write_with(path, |tmp| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(tmp)?);
        write_to(&mut w, path, m, out, dt)
    })
}

fn write_to(w: &mut impl Write, path: &Path, m: &Machine, out: &RunOutput, dt: f64) -> std::io::Result<()> {
    if path.extension().is_some_and(|e| e == "npy") {
        let p = &out.probes[0];
        // invariant: out.probes come from session::probes, which resolved each POP:VAR to a variable of that population of `m`
        let v = &m.pops[p.pop as usize].vars.iter().find(|v| v.slot == p.slot).expect("a probe names one of its population's variables").clone();
        let n = m.pops[p.pop as usize].size;
        crate::spikes::write_npy_header(w, &format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}", p.values.len(), n))?;
        for row in &p.values {
            for &x in row {
                w.write_all(&(x as f64 * v.scale + v.offset).to_le_bytes())?;
            }
        }
    } else {
        writeln!(w, "population,var,neuron,time,value")?;
        for p in &out.probes {
            let pop = &m.pops[p.pop as usize];
            // invariant: out.probes come from session::probes, which resolved each POP:VAR to a variable of that population of `m`
            let v = pop.vars.iter().find(|v| v.slot == p.slot).expect("a probe names one of its population's variables");
            for (st, row) in p.values.iter().enumerate() {
                for (i, &x) in row.iter().enumerate() {
                    writeln!(w, "{},{},{},{},{}", pop.name, v.name, i, crate::spikes::fmt_time(st as f64 * dt), x as f64 * v.scale + v.offset)?;
                }
            }
        }
    }
    w.flush()?;
    Ok(())
}
