use clap::{Args, ValueEnum};
use nerve_emulator::engine::{self, Interp, KernelRunner, Recording, RunOutput};
use nerve_emulator::machine::Machine;
use nerve_isa::image::Image;
use serde_json::json;
use std::path::PathBuf;

use super::Result;
use crate::progress::Progress;
use crate::spikes::{self, Spike};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// Cranelift-compiled kernels (bit-identical to the interpreter, faster).
    Jit,
    /// The reference interpreter.
    Interp,
}

#[derive(Args)]
pub struct RunArgs {
    /// The chip image (from `nerve compile`).
    image: PathBuf,
    /// Timesteps to run.
    #[arg(long)]
    steps: u64,
    /// Kernel engine.
    #[arg(long, value_enum, default_value_t = EngineKind::Jit)]
    engine: EngineKind,
    /// Worker threads (0: one per available CPU). Results do not depend on it.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// External spikes for input or spike-source populations: CSV `population,neuron,time` (ms) or JSON. Repeatable.
    #[arg(long)]
    input: Vec<PathBuf>,
    /// Write recorded spikes here (CSV `population,neuron,time` sorted by time, population, neuron; .json or .npy by extension or --format).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Format of --record (default: from the extension, else CSV).
    #[arg(long, value_enum)]
    format: Option<spikes::Format>,
    /// Record every population's spikes, not only those the network marks.
    #[arg(long)]
    record_all: bool,
    /// Probe a state variable every step: POP:VAR (e.g. exc:v). Repeatable.
    #[arg(long)]
    probe: Vec<String>,
    /// Where probes go (CSV `population,var,neuron,time,value` or .npy: steps × neurons float64). Default: probes.csv.
    #[arg(long)]
    probe_out: Option<PathBuf>,
    /// Write the run summary (counts, timing, per core and link) as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(a: RunArgs) -> Result<()> {
    let img = Image::read(&a.image)?;
    let dt = img.meta.dt_ms;
    let mut m = Machine::load(img)?;
    // External input.
    let mut ext: Vec<(String, u32, u32)> = Vec::new();
    for f in &a.input {
        let sp = spikes::read(f)?;
        let mut seen = std::collections::BTreeSet::new();
        for s in sp {
            let step = (s.time_ms / dt + 0.5).floor();
            if step >= a.steps as f64 {
                continue; // after the run: not an error, just not reached
            }
            let key = (s.population.clone(), s.neuron, step as u32);
            if !seen.insert(key.clone()) {
                return Err(format!(
                    "{}: two spikes of `{}` neuron {} fall in timestep {} ({} ms with dt {} ms)",
                    f.display(),
                    s.population,
                    s.neuron,
                    step,
                    s.time_ms,
                    dt
                )
                .into());
            }
            ext.push(key);
        }
    }
    m.inject(&ext).map_err(|(k, msg)| format!("--input spike {} (`{}` neuron {} at step {}): {msg}", k, ext[k].0, ext[k].1, ext[k].2))?;
    // Recording.
    let any_marked = m.pops.iter().any(|p| p.record_spikes);
    let record: Vec<bool> = m.pops.iter().map(|p| a.record_all || !any_marked || p.record_spikes).collect();
    let mut probes = Vec::new();
    for spec in &a.probe {
        let (pop, var) = spec.split_once(':').ok_or_else(|| format!("--probe {spec}: expected POP:VAR"))?;
        let (pi, p) = m.pops.iter().enumerate().find(|(_, p)| p.name == pop).ok_or_else(|| {
            format!("--probe {spec}: no population `{pop}` (populations: {})", m.pops.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", "))
        })?;
        let v = p.vars.iter().find(|v| v.name == var).ok_or_else(|| {
            format!("--probe {spec}: `{pop}` has no variable `{var}` (it has: {})", p.vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", "))
        })?;
        probes.push((pi as u32, v.slot));
    }
    let rec = Recording { spikes: record, probes, per_step: true };
    let threads = if a.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { a.threads };
    let runner: Box<dyn KernelRunner> = match a.engine {
        EngineKind::Interp => Box::new(Interp),
        EngineKind::Jit => Box::new(nerve_emulator::jit::Jit::compile(&m)?),
    };
    let bar = Progress::bar(a.quiet, a.steps, "running");
    let out = engine::run(&mut m, runner.as_ref(), a.steps, threads, &rec, &mut |s| {
        if let Some(b) = &bar {
            b.set_position(s);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // Spikes out.
    let spk: Vec<Spike> = out
        .spikes
        .iter()
        .map(|e| Spike { population: m.pops[e.pop as usize].name.clone(), neuron: e.neuron, time_ms: e.step as f64 * dt })
        .collect();
    if let Some(r) = &a.record {
        let fmt = a.format.unwrap_or_else(|| spikes::Format::from_path(r));
        let names: Vec<String> = m.pops.iter().map(|p| p.name.clone()).collect();
        spikes::write(r, fmt, &spk, &|n| names.iter().position(|x| x == n).unwrap_or(0) as u32)?;
    }
    if !out.probes.is_empty() {
        write_probes(&m, &out, a.probe_out.clone().unwrap_or_else(|| PathBuf::from("probes.csv")), dt)?;
    }
    let summary = summary(&m, &out, &a, threads);
    if let Some(r) = &a.report {
        std::fs::write(r, serde_json::to_string_pretty(&summary)?).map_err(|e| format!("cannot write {}: {e}", r.display()))?;
    }
    if !a.quiet {
        print_summary(&m, &out, dt);
    }
    Ok(())
}

fn write_probes(m: &Machine, out: &RunOutput, path: PathBuf, dt: f64) -> Result<()> {
    use std::io::Write;
    let f = std::fs::File::create(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    if path.extension().is_some_and(|e| e == "npy") {
        if out.probes.len() != 1 {
            return Err("--probe-out .npy holds one probe; give one --probe or use CSV".into());
        }
        let p = &out.probes[0];
        let v = &m.pops[p.pop as usize].vars.iter().find(|v| v.slot == p.slot).expect("probed var").clone();
        let n = m.pops[p.pop as usize].size;
        spikes::write_npy_header(&mut w, &format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}", p.values.len(), n))?;
        for row in &p.values {
            for &x in row {
                w.write_all(&(x as f64 * v.scale + v.offset).to_le_bytes())?;
            }
        }
    } else {
        writeln!(w, "population,var,neuron,time,value")?;
        for p in &out.probes {
            let pop = &m.pops[p.pop as usize];
            let v = pop.vars.iter().find(|v| v.slot == p.slot).expect("probed var");
            for (st, row) in p.values.iter().enumerate() {
                for (i, &x) in row.iter().enumerate() {
                    writeln!(w, "{},{},{},{},{}", pop.name, v.name, i, spikes::fmt_time(st as f64 * dt), x as f64 * v.scale + v.offset)?;
                }
            }
        }
    }
    w.flush()?;
    Ok(())
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

pub fn summary(m: &Machine, out: &RunOutput, a: &RunArgs, threads: usize) -> serde_json::Value {
    let c = &out.counts;
    let mut st: Vec<f64> = out.step_times.iter().map(|s| s.step_ns).collect();
    st.sort_by(f64::total_cmp);
    let mean = if st.is_empty() { 0.0 } else { st.iter().sum::<f64>() / st.len() as f64 };
    let pops: Vec<serde_json::Value> = m
        .pops
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let spikes = out.per_core.iter().filter(|x| x.population == pi as u32).map(|x| x.counts.spikes).sum::<u64>();
            let syn = out.per_core.iter().filter(|x| x.population == pi as u32).map(|x| x.counts.synaptic_events).sum::<u64>();
            json!({"name": p.name, "size": p.size, "spikes": spikes, "synaptic_events_in": syn,
                   "rate_hz": spikes as f64 / p.size as f64 / (out.steps as f64 * m.dt_ms / 1000.0)})
        })
        .collect();
    let cores: Vec<serde_json::Value> = out
        .per_core
        .iter()
        .map(|x| json!({"core": x.core, "population": m.pops[x.population as usize].name, "spikes": x.counts.spikes,
                        "packets_in": x.counts.packets_in, "synaptic_events": x.counts.synaptic_events,
                        "updates_active": x.counts.updates_active, "updates_idle": x.counts.updates_idle,
                        "busy_ns": x.busy_ns, "max_step_ns": x.max_step_ns}))
        .collect();
    let links: Vec<serde_json::Value> = out
        .links
        .iter()
        .map(|(l, n)| json!({"tile": l / 6, "dir": nerve_isa::arch::Dir::from_index((l % 6) as usize).map_or("?", |d| d.name()), "packets": n}))
        .collect();
    json!({
        "network": m.network, "arch": m.arch.name, "dt_ms": m.dt_ms, "steps": out.steps,
        "engine": format!("{:?}", a.engine).to_lowercase(), "threads": threads,
        "cores_used": m.cores.len(), "tiles_used": m.tiles_in_use, "chips_used": m.chips_in_use,
        "counts": {
            "spikes": c.spikes, "packets_in": c.packets_in, "packets_no_row": c.packets_no_row,
            "synaptic_events": c.synaptic_events, "updates_active": c.updates_active, "updates_idle": c.updates_idle,
            "instructions": {"alu": c.instr_alu, "mul": c.instr_mul, "mem": c.instr_mem, "spike": c.instr_spike},
            "router_passes": c.router_passes, "hops": {"ew": c.hops_ew, "ns": c.hops_ns, "diag": c.hops_diag},
            "chip_crossings": c.chip_crossings, "barriers": c.barriers
        },
        "timing": {
            "emulated_ns": out.emulated_ns, "wall_ns": out.wall_ns, "overrun_steps": out.overruns,
            "step_ns": {"mean": mean, "p50": percentile(&st, 0.5), "p99": percentile(&st, 0.99), "max": st.last().copied().unwrap_or(0.0)},
            "real_time_tick_ns": m.arch.timing.timestep_ns
        },
        "populations": pops, "cores": cores, "links": links,
        "host": {"wall_seconds": out.wall_seconds, "emulator_bytes": m.memory_bytes()}
    })
}

fn print_summary(m: &Machine, out: &RunOutput, dt: f64) {
    let c = &out.counts;
    let secs = out.steps as f64 * dt / 1000.0;
    println!(
        "ran `{}` on `{}` for {} steps ({} ms biological) in {:.3} s: {} spikes ({:.2} Hz mean), {} synaptic events, {} packets",
        m.network,
        m.arch.name,
        out.steps,
        out.steps as f64 * dt,
        out.wall_seconds,
        c.spikes,
        c.spikes as f64 / m.pops.iter().map(|p| p.size as f64).sum::<f64>().max(1.0) / secs.max(1e-12),
        c.synaptic_events,
        c.spikes
    );
    let mut st: Vec<f64> = out.step_times.iter().map(|s| s.step_ns).collect();
    st.sort_by(f64::total_cmp);
    if !st.is_empty() {
        println!(
            "emulated time {:.3} ms ({} steps: mean {:.1} ns, p50 {:.1}, p99 {:.1}, max {:.1}){}",
            out.wall_ns / 1e6,
            st.len(),
            st.iter().sum::<f64>() / st.len() as f64,
            percentile(&st, 0.5),
            percentile(&st, 0.99),
            st.last().copied().unwrap_or(0.0),
            match m.arch.timing.timestep_ns {
                Some(t) => format!("; real-time tick {:.0} ns, {} overrun steps", t, out.overruns),
                None => String::new(),
            }
        );
    }
}
