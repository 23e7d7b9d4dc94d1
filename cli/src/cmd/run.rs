use clap::{Args, ValueEnum};
use nerve_emulator::engine::{self, Interp, KernelRunner, Recording, RunOutput};
use nerve_emulator::machine::Machine;
use nerve_isa::arch::Arch;
use nerve_isa::arch::MessageModel;
use nerve_isa::image::Image;
use std::path::{Path, PathBuf};

use super::Result;
use crate::cmd::compile::BuildArgs;
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
    /// The chip image (from `nerve compile`), or a network (.json or .nir) to
    /// compile first, in memory, with --arch and the compile options.
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
    /// Write the run summary (counts, timing, energy, per population, core, chip and link, per-step series) as JSON, for `nerve report`.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Steps per inference: report energy and energy-delay per inference.
    #[arg(long)]
    inference_steps: Option<u64>,
    /// Decision population: report the latency from the first input spike to its first spike.
    #[arg(long)]
    decision: Option<String>,
    /// Message model for counting and timing packets (default: the image's profile).
    /// `multicast`: one packet per spike along its routing tree (SpiNNaker);
    /// `per-destination`: one message per destination core with a synapse, on its own
    /// dimension-order path (Loihi, SANA-FE). Delivery and spikes are the same either way.
    #[arg(long, value_enum)]
    messages: Option<Messages>,
    /// Count static power (`off`: dynamic energy only, as SANA-FE). Default: on, as the profile says.
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    static_power: OnOff,
    /// A core's step time: `on`: max(send, receive) (they overlap, as SANA-FE); `off`: their sum. Default: the profile's.
    #[arg(long, value_enum)]
    overlap: Option<OnOff>,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    // Last, so that their help heading covers only them.
    /// Architecture to compile a network for (`nerve arch list`); not for an image, which holds its own.
    #[arg(long, help_heading = "Compiling a network")]
    arch: Option<String>,
    #[command(flatten, next_help_heading = "Compiling a network")]
    build: BuildArgs,
    /// When compiling a network: also write its image here.
    #[arg(long, help_heading = "Compiling a network")]
    save_image: Option<PathBuf>,
    /// When compiling a network: write the mapping report (as `nerve compile --report`).
    #[arg(long, help_heading = "Compiling a network")]
    compile_report: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Messages {
    Multicast,
    PerDestination,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// A network file (to compile) rather than an image.
fn is_network(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "json" || e == "nir")
}

pub fn run(a: RunArgs) -> Result<()> {
    let t_load = std::time::Instant::now();
    // Every image is validated once, however it was obtained: by the compiler
    // for a network, here for a file.
    let img = if is_network(&a.image) {
        let arch =
            a.arch.as_deref().ok_or_else(|| format!("{}: a network needs --arch to be compiled (or give an image from `nerve compile`)", a.image.display()))?;
        let arch = Arch::load(arch)?;
        let mut out = crate::cmd::compile::build(&a.image, &arch, &a.build, a.quiet)?;
        if let Some(p) = &a.save_image {
            let t_write = std::time::Instant::now();
            out.image.write(p)?;
            out.report.seconds.write = t_write.elapsed().as_secs_f64();
        }
        crate::cmd::compile::write_report(&out.report, a.compile_report.as_deref())?;
        out.image
    } else {
        let mut wrong: Vec<&str> = a.build.given();
        for (name, set) in [("--arch", a.arch.is_some()), ("--save-image", a.save_image.is_some()), ("--compile-report", a.compile_report.is_some())] {
            if set {
                wrong.push(name);
            }
        }
        if !wrong.is_empty() {
            return Err(format!(
                "{}: only for compiling a network (.json or .nir); {} is an image, which holds its own mapping",
                wrong.join(", "),
                a.image.display()
            )
            .into());
        }
        Image::read_unvalidated(&a.image)?.into_valid()?
    };
    let dt = img.meta.dt_ms;
    let mut m = Machine::load_valid(img)?;
    let load_seconds = t_load.elapsed().as_secs_f64();
    // Cost-model overrides: they change what is charged, never what is computed.
    if let Some(x) = a.messages {
        m.arch.router.messages = match x {
            Messages::Multicast => MessageModel::Multicast,
            Messages::PerDestination => MessageModel::PerDestination,
        };
    }
    if let Some(x) = a.overlap {
        m.arch.timing.overlap_send_receive = x == OnOff::On;
    }
    if a.static_power == OnOff::Off {
        m.arch.energy.static_chip_w.value = 0.0;
        m.arch.energy.active_core_w.value = 0.0;
    }
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
    if let Some(d) = &a.decision {
        if !m.pops.iter().any(|p| &p.name == d) {
            return Err(format!(
                "--decision {d}: no population `{d}` (populations: {})",
                m.pops.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
            )
            .into());
        }
    }
    let rec = Recording { spikes: record.clone(), probes, per_step: true };
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
    let spk: Vec<Spike> =
        out.spikes.iter().map(|e| Spike { population: m.pops[e.pop as usize].name.clone(), neuron: e.neuron, time_ms: e.step as f64 * dt }).collect();
    if let Some(r) = &a.record {
        let fmt = a.format.unwrap_or_else(|| spikes::Format::from_path(r));
        let names: Vec<String> = m.pops.iter().map(|p| p.name.clone()).collect();
        spikes::write(r, fmt, &spk, &|n| names.iter().position(|x| x == n).unwrap_or(0) as u32)?;
    }
    if !out.probes.is_empty() {
        write_probes(&m, &out, a.probe_out.clone().unwrap_or_else(|| PathBuf::from("probes.csv")), dt)?;
    }
    let engine = format!("{:?}", a.engine).to_lowercase();
    let summary = crate::summary::build(
        &m,
        &out,
        &crate::summary::Options {
            engine: &engine,
            threads,
            inference_steps: a.inference_steps,
            decision: a.decision.as_deref(),
            recorded: &record,
            load_seconds,
        },
    );
    if let Some(r) = &a.report {
        std::fs::write(r, serde_json::to_string(&summary)?).map_err(|e| format!("cannot write {}: {e}", r.display()))?;
    }
    if !a.quiet {
        print_summary(&summary, out.wall_seconds);
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

fn print_summary(s: &crate::summary::Summary, wall_seconds: f64) {
    use crate::cmd::report::eng;
    let c = &s.counts;
    let neurons: u32 = s.populations.iter().map(|p| p.size).sum();
    let bio_s = s.steps as f64 * s.dt_ms / 1000.0;
    println!(
        "ran `{}` on `{}` for {} steps ({} ms biological) in {:.3} s: {} spikes ({:.2} Hz mean), {} synaptic events",
        s.network,
        s.arch,
        s.steps,
        s.steps as f64 * s.dt_ms,
        wall_seconds,
        c.spikes,
        c.spikes as f64 / neurons.max(1) as f64 / bio_s.max(1e-12),
        c.synaptic_events
    );
    let t = &s.timing;
    println!(
        "on the chip: time to solution {} (step mean {}, p99 {}, max {}){}; energy {} ({} per step, mean power {})",
        eng(t.time_to_solution_s, "s"),
        eng(t.step_ns.mean * 1e-9, "s"),
        eng(t.step_ns.p99 * 1e-9, "s"),
        eng(t.step_ns.max * 1e-9, "s"),
        match t.real_time_tick_ns {
            Some(tk) => format!(", real-time tick {}, {} overrun steps", eng(tk * 1e-9, "s"), t.overrun_steps),
            None => String::new(),
        },
        eng(s.energy.total_j, "J"),
        eng(s.energy.per_step_j, "J"),
        eng(s.energy.power_w, "W")
    );
    println!("`nerve report` on the --report file gives the breakdowns, pictures and an HTML page.");
}
