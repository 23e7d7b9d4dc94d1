//! Running an image as a user asks: the cost-model switches, external
//! spikes, what to record and probe, the engine; then the run itself.
//! `nerve run` and the Python package both come through here.

use std::path::PathBuf;

use nerve_emulator::engine::{self, Recording, RunOutput, SpikeEvent};
use nerve_emulator::kernel::jit::{Backend, Jit};
use nerve_emulator::kernel::{Interp, KernelRunner};
use nerve_emulator::machine::Machine;
use nerve_isa::arch::MessageModel;

use crate::spikes::{Spike, SpikeTable};
use crate::{Error, Result};

/// Which kernel engine runs the kernels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// Compiled kernels (bit-identical to the interpreter, faster), by the
    /// best backend for this host: AVX-512 where it has it, else AVX2, else Cranelift.
    #[default]
    Jit,
    /// Compiled by Cranelift (four neurons per iteration; every host).
    JitCranelift,
    /// Compiled by the AVX-512 backend (sixteen neurons per iteration; an
    /// error on hosts without AVX-512).
    JitAvx512,
    /// Compiled by the AVX2 backend (eight neurons per iteration; an error
    /// on hosts without AVX2).
    JitAvx2,
    /// The reference interpreter.
    Interp,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Jit => "jit",
            Engine::JitCranelift => "jit-cranelift",
            Engine::JitAvx512 => "jit-avx512",
            Engine::JitAvx2 => "jit-avx2",
            Engine::Interp => "interp",
        }
    }
}

/// Cost-model choices that differ from the image's profile: they change
/// what is charged, never what is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CostModel {
    pub messages: Option<MessageModel>,
    /// Overlap a core's send and receive sides (max instead of sum).
    pub overlap: Option<bool>,
    /// Count static power (`false`: dynamic energy only).
    pub static_power: bool,
}

/// External spikes from one source (a file, or an array from Python), in
/// physical time; `origin` names it in errors.
#[derive(Clone, Debug)]
pub struct Input {
    pub origin: String,
    pub spikes: Vec<Spike>,
}

impl Input {
    /// Reads a spike file (CSV or JSON).
    pub fn read(path: &std::path::Path) -> Result<Input> {
        Ok(Input { origin: path.display().to_string(), spikes: crate::spikes::read(path)? })
    }
}

/// [`Input`] with each population named once (`nerve run --input`: 16
/// bytes a spike, not a name's allocation each).
#[derive(Clone, Debug)]
pub struct InputTable {
    pub origin: String,
    pub table: SpikeTable,
}

impl InputTable {
    /// Reads a spike file (CSV or JSON).
    pub fn read(path: &std::path::Path) -> Result<InputTable> {
        Ok(InputTable { origin: path.display().to_string(), table: crate::spikes::read_table(path)? })
    }

    fn of(input: &Input) -> InputTable {
        InputTable { origin: input.origin.clone(), table: SpikeTable::from_spikes(&input.spikes) }
    }
}

/// Each spike array's schedule of `net` (None for other populations) as
/// the run of `m` held it, with the `inputs` spikes at or past `steps`
/// merged in: the spikes a saved network's continuation still has to
/// send (`nerve run --save-network`). Steps sorted, each once; spikes of
/// populations or neurons the network lacks were refused by the run.
pub fn continued_schedules(net: &nerve_compiler::net::model::Network, m: &Machine, steps: u64, inputs: &[InputTable]) -> Vec<Option<Vec<Vec<u32>>>> {
    use nerve_compiler::net::model::Model;
    let mut schedules: Vec<Option<Vec<Vec<u32>>>> = net
        .pops()
        .map(|(_, p)| match p.model {
            Model::SpikeSourceArray(_) => m.pops.iter().position(|q| q.name == p.name).and_then(|i| m.schedule_of(i)),
            _ => None,
        })
        .collect();
    for t in inputs {
        let of: Vec<Option<usize>> = t.table.pops.iter().map(|name| net.pops().position(|(_, p)| p.name == *name)).collect();
        for &(pop, neuron, time_ms) in &t.table.spikes {
            let Some(&Some(pi)) = of.get(pop as usize) else { continue };
            let step = nerve_isa::time::steps_of(time_ms, m.dt_ms);
            if let (Some(Some(held)), true) = (schedules.get_mut(pi), step >= steps as f64 && step <= u32::MAX as f64) {
                if let Some(v) = held.get_mut(neuron as usize) {
                    v.push(step as u32);
                }
            }
        }
    }
    for held in schedules.iter_mut().flatten() {
        for v in held.iter_mut() {
            v.sort_unstable();
            v.dedup();
        }
    }
    schedules
}

/// What a run records and how it runs.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub steps: u64,
    pub engine: Engine,
    /// Worker threads (0: one per available CPU). Results do not depend on it.
    pub threads: usize,
    /// Whether the threads are pinned to CPUs (results do not depend on it).
    pub pin: nerve_emulator::engine::pin::Pin,
    pub inputs: Vec<Input>,
    /// More external spikes, after `inputs` (as if they followed them).
    pub input_tables: Vec<InputTable>,
    /// Record every population's spikes, not only those the network marks.
    pub record_all: bool,
    /// State variables probed every step: `POP:VAR`.
    pub probes: Vec<String>,
    /// A population whose first spike ends the decision latency.
    pub decision: Option<String>,
    /// Where recordings go when they may exceed a memory budget; `None`:
    /// kept in memory, whatever their size.
    pub stream: Option<Stream>,
    /// Bytes per probe value the caller builds from the probes after the
    /// run while the run's own are still held (Python: 8, its float64
    /// arrays): counted when probes kept in memory are checked to fit.
    pub probe_copy_bytes: u64,
}

/// A memory budget for recordings, and the files they stream to beyond it.
#[derive(Clone, Debug)]
pub struct Stream {
    /// Bytes of spikes and probe values a run may hold; runs that could hold
    /// more write them to the files as they go, a chunk of steps at a time.
    pub max_memory: u64,
    /// The spike recording, if one is asked for (else spikes are kept only
    /// for the summary's bounded sample).
    pub record: Option<(PathBuf, crate::spikes::Format)>,
    /// The probe file.
    pub probe_out: PathBuf,
    /// Every recorded spike kept in memory even when streaming, as when
    /// not (`Ran::output.spikes` whole; the Python bindings return them):
    /// the spikes' 12 bytes each are then not bounded by `max_memory`, which
    /// bounds the probes alone (whether to stream, the chunk's length).
    pub keep_spikes: bool,
}

/// Bytes a recording may take per step at most: 12 per recorded neuron (a
/// spike event), 4 per probed neuron for the run's probe table and again
/// per thread (each worker's rows).
pub fn recording_bytes_per_step(m: &Machine, recorded: &[bool], probes: &[(u32, u8)], threads: usize) -> u64 {
    let spiking: u64 = m.pops.iter().zip(recorded).filter(|(_, r)| **r).map(|(p, _)| p.size as u64).sum();
    12 * spiking + probe_bytes_per_step(m, probes, threads)
}

/// The probes' part of `recording_bytes_per_step`: exact, not a bound (every
/// probed neuron gives a value every step).
fn probe_bytes_per_step(m: &Machine, probes: &[(u32, u8)], threads: usize) -> u64 {
    4 * probed(m, probes) * (threads as u64 + 1)
}

fn probed(m: &Machine, probes: &[(u32, u8)]) -> u64 {
    probes.iter().map(|&(p, _)| u64::from(m.pops[p as usize].size)).sum()
}

/// Probes kept in memory whole (no files to stream to, as from Python)
/// are refused before the run if they cannot fit in `avail` bytes (`what`
/// says what that is), not aborted by the allocator after its last step:
/// the most held at once, during the run (the threads' rows and the run's
/// table) or after it (the table and the caller's copy, `copy_bytes` a
/// value). Spikes are not checked: their bound is far above what runs
/// record.
fn probes_fit(m: &Machine, r: &Request, probes: &[(u32, u8)], threads: usize, (avail, what): (u64, &str)) -> Result<()> {
    let probed = probed(m, probes);
    let per_value = (4 * (threads as u64 + 1)).max(4 + r.probe_copy_bytes);
    let need = u128::from(probed) * u128::from(per_value) * u128::from(r.steps);
    if need <= u128::from(avail) {
        return Ok(());
    }
    let gib = |b: u128| b as f64 / (1u64 << 30) as f64;
    Err(Error::Memory(format!(
        "probes {}: {probed} neurons × {} steps need about {:.1} GiB in memory, and {what} {:.1} GiB: probe fewer steps or neurons, or give them a file (`nerve run --probe … --probe-out FILE`; Python: `probe_out=FILE`), which is written as the run goes",
        r.probes.join(", "),
        r.steps,
        gib(need),
        gib(u128::from(avail)),
    )))
}

/// A finished run: the machine after it, what it produced, and what was recorded.
pub struct Ran {
    pub machine: Machine,
    pub output: RunOutput,
    /// Per population: whether its spikes were recorded.
    pub recorded: Vec<bool>,
    /// Threads the run used.
    pub threads: usize,
    /// The engine that ran the kernels (`jit` resolved to its backend: `jit-avx512`, `jit-avx2` or `jit-cranelift`).
    pub engine: &'static str,
    /// Input spikes after the run's last step (checked, not delivered).
    pub late_inputs: usize,
    /// Steps per chunk if the recordings were streamed to their files
    /// (already written; `output.spikes` is then the summary's sample).
    pub streamed: Option<u64>,
    /// Spikes of populations not recorded that `--decision` watched: of
    /// each, its first and its first at or after the first input spike
    /// (`summary::Options::decision_spikes`).
    pub decision_spikes: Vec<SpikeEvent>,
}

impl Ran {
    /// A finished run whose `output.spikes` may hold populations watched
    /// for the decision latency but not recorded: those move to
    /// `decision_spikes`, the few the latency needs.
    fn new(machine: Machine, mut output: RunOutput, recorded: Vec<bool>, engine: &'static str, late_inputs: usize, streamed: Option<u64>) -> Ran {
        let mut decision_spikes = Vec::new();
        if output.spikes.iter().any(|s| !recorded[s.pop as usize]) {
            // The spikes are in step order (the emulator sorts them; the streamed sink keeps them so).
            let mut firsts = crate::stream::FirstSpikes::new(&machine);
            firsts.judge(&output.spikes, |s, needed| {
                if needed && !recorded[s.pop as usize] {
                    decision_spikes.push(*s);
                }
            });
            output.spikes.retain(|s| recorded[s.pop as usize]);
        }
        // As many threads as ran (the engine takes at most one per core).
        let threads = output.threads;
        Ran { machine, output, recorded, threads, engine, late_inputs, streamed, decision_spikes }
    }
}

/// Applies cost-model choices to a loaded machine.
pub fn apply_cost_model(m: &mut Machine, c: &CostModel) {
    if let Some(x) = c.messages {
        m.arch.router.messages = x;
    }
    if let Some(x) = c.overlap {
        m.arch.timing.overlap_send_receive = x;
    }
    if !c.static_power {
        m.arch.energy.static_chip_w.value = 0.0;
        m.arch.energy.active_core_w.value = 0.0;
    }
}

/// The network's populations, for messages: not the relays the compiler added.
fn names(m: &Machine) -> String {
    m.pops.iter().filter(|p| p.model != nerve_isa::image::RELAY_MODEL).map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// External spikes as (population, neuron, step).
pub type Spikes = Vec<(String, u32, u32)>;

/// An external spike as (population index, neuron, step).
type Indexed = (u32, u32, u32);

/// A time in a message: as written where that is short, in e-notation where
/// its digits would run on (1e300 printed as 301 digits).
fn shown_ms(t: f64) -> String {
    if t != 0.0 && !(1e-6..1e15).contains(&t.abs()) {
        format!("{t:e}")
    } else {
        t.to_string()
    }
}

/// The input files' spikes within the run, each step rounded to the
/// nearest, as (population index, neuron, step), and how many fall after
/// it (not reached, but checked all the same: a spike of a population the
/// network lacks is an error wherever it falls).
fn external(m: &Machine, r: &Request) -> Result<(Vec<Indexed>, usize)> {
    let converted: Vec<InputTable> = r.inputs.iter().map(InputTable::of).collect();
    let tables: Vec<&InputTable> = converted.iter().chain(&r.input_tables).collect();
    let said = |t: &InputTable, index: usize, reason: &dyn std::fmt::Display| {
        let (p, neuron, time_ms) = t.table.spikes[index];
        Error::File(format!("{}: spike {index} (`{}` neuron {neuron} at {} ms): {reason}", t.origin, t.table.pops[p as usize], shown_ms(time_ms)))
    };
    // Every spike, in its file: the machine would name a spike it cannot
    // take by its place in all the files' spikes together. Each name is
    // looked up once.
    for t in &tables {
        let pis: Vec<_> = t.table.pops.iter().map(|n| m.input_pop(n)).collect();
        for (index, &(p, neuron, _)) in t.table.spikes.iter().enumerate() {
            match &pis[p as usize] {
                Err(reason) => return Err(said(t, index, reason)),
                Ok(pi) => {
                    m.source_at(*pi, neuron).map_err(|reason| said(t, index, &reason))?;
                    // A file's label names the neuron its index does (a recording's always does).
                    if let Some(why) = t.table.labels.as_ref().and_then(|l| l.get(index)).and_then(|label| label_problem(&m.pops[*pi].labels, neuron, label)) {
                        return Err(said(t, index, &why));
                    }
                }
            }
        }
    }
    // A spike past the run is noted (a longer run takes it), but one past the
    // longest run is refused, as the exporters and spike arrays refuse it.
    let (names, ext, late) = table_steps(&tables, m.dt_ms, r.steps, &mut |fi, index| {
        let step = step_of(tables[fi].table.spikes[index].2, m.dt_ms);
        if step >= nerve_isa::MAX_STEPS as f64 {
            return Err(said(tables[fi], index, &format_args!("it is at step {step:e}, after {}, the last step of the longest run", nerve_isa::MAX_STEPS - 1)));
        }
        Ok(())
    })?;
    // invariant: every name was found just above
    let pis: Vec<u32> = names.iter().map(|n| m.input_pop(n).map_or(u32::MAX, |i| i as u32)).collect();
    let ext: Vec<(u32, u32, u32)> = ext.into_iter().map(|(g, neuron, step)| (pis[g as usize], neuron, step)).collect();
    // A spike-source array's own spike in the step would take the input
    // spike in as one: refused as two input spikes in one step are.
    for t in &tables {
        let pis: Vec<usize> = t.table.pops.iter().map(|n| m.input_pop(n).unwrap_or(usize::MAX)).collect();
        for (index, &(p, neuron, time_ms)) in t.table.spikes.iter().enumerate() {
            let step = step_of(time_ms, m.dt_ms);
            if step < r.steps as f64 && m.scheduled_at(pis[p as usize], neuron, step as u32) {
                return Err(Error::File(format!(
                    "{}: spike {index} (`{}` neuron {neuron} at {time_ms} ms) falls in timestep {step} (dt {} ms), where the population's spike array already spikes the neuron: a neuron spikes at most once a step",
                    t.origin, t.table.pops[p as usize], m.dt_ms
                )));
            }
        }
    }
    Ok((ext, late))
}

/// Why a spike file's `label` is not neuron `neuron`'s of a population with
/// `labels`, if it is not (`nerve run --input` and the exporters' `--input`
/// check it). Labels are compared as the file's fields are read: trimmed.
pub fn label_problem(labels: &[String], neuron: u32, label: &str) -> Option<String> {
    if labels.is_empty() {
        return Some(format!("label `{label}`, but the population has no labels (leave the field empty)"));
    }
    let own = labels.get(neuron as usize).map_or("", |l| l.trim());
    if own == label {
        return None;
    }
    let named = match labels.iter().position(|x| x.trim() == label) {
        Some(k) => format!("neuron {k}'s"),
        None => "no neuron's".to_string(),
    };
    Some(format!("label `{label}` is {named} (neuron {neuron} is `{own}`)"))
}

/// The step a spike at `time_ms` falls in: the nearest, a half up (`nerve_isa::time::steps_of`).
fn step_of(time_ms: f64, dt_ms: f64) -> f64 {
    nerve_isa::time::steps_of(time_ms, dt_ms)
}

/// The earliest input spike time, ms, that a run of `steps` does not reach:
/// half a step before its end, as spikes take their nearest step.
pub fn late_from_ms(dt_ms: f64, steps: u64) -> f64 {
    ((steps as f64 - 0.5) * dt_ms).max(0.0)
}

/// The warning for a run of `m` asked for `threads` threads (0: one per
/// CPU), as `asked` spells the request (`--threads 3`, `threads=3`), if the
/// threads it has ([`engine::threads_used`]: at most one per core of the
/// image) outnumber the CPUs this process may use: spinning at every step's
/// barrier, each waits for one the system has descheduled. None when they
/// fit, however many were asked for (`--threads 3` on two CPUs and an image
/// of two cores runs two threads, pinned, at full speed).
pub fn threads_warning(m: &Machine, threads: usize, asked: &str) -> Option<String> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let used = engine::threads_used(m, if threads == 0 { cpus } else { threads });
    let what = if used == threads { format!("{asked} exceeds") } else { format!("{asked} runs {used} threads (at most one per core of the image), more than") };
    (used > cpus).then(|| {
        format!(
            "{what} the {cpus} CPU(s) this process may use: the threads then wait for each other at every step (7–40× slower, measured); results are the same"
        )
    })
}

/// The note for `late` input spikes that a run of `steps` does not reach
/// (`late_from_ms` on): dropped, which a caller who meant a longer run must
/// hear about. `more` names how to ask for more steps (`--steps`, `steps`).
pub fn late_inputs_note(late: usize, dt_ms: f64, steps: u64, more: &str) -> String {
    format!(
        "{late} input spike(s) fall at or after {} ms, in step {steps} or later, after this {steps}-step run: not delivered (run more {more} to reach them)",
        crate::spikes::fmt_time(late_from_ms(dt_ms, steps), dt_ms),
    )
}

/// The spikes of `inputs` as (population, neuron, step), each time rounded
/// to the nearest step of `dt_ms`, and how many fall at or after `steps`:
/// those go to `late` (which may refuse them) instead. `nerve run` and the
/// exporters read `--input` files through here, so they take the same spikes.
pub fn input_steps(inputs: &[Input], dt_ms: f64, steps: u64, late: &mut dyn FnMut(&Input, usize, &Spike) -> Result<()>) -> Result<(Spikes, usize)> {
    let converted: Vec<InputTable> = inputs.iter().map(InputTable::of).collect();
    let tables: Vec<&InputTable> = converted.iter().collect();
    let (names, ext, n_late) = table_steps(&tables, dt_ms, steps, &mut |fi, index| late(&inputs[fi], index, &inputs[fi].spikes[index]))?;
    Ok((ext.into_iter().map(|(g, neuron, step)| (names[g as usize].to_string(), neuron, step)).collect(), n_late))
}

/// [`input_steps`] on tables: the spikes within the run as (name index,
/// neuron, step), with the names, in file order; `late` gets (file, index).
fn table_steps<'a>(
    tables: &[&'a InputTable],
    dt_ms: f64,
    steps: u64,
    late: &mut dyn FnMut(usize, usize) -> Result<()>,
) -> Result<(Vec<&'a str>, Vec<Indexed>, usize)> {
    // One index per name over all the files.
    let mut names: Vec<&str> = Vec::new();
    let mut index_of: std::collections::HashMap<&str, u32> = Default::default();
    let remap: Vec<Vec<u32>> = tables
        .iter()
        .map(|t| {
            t.table
                .pops
                .iter()
                .map(|n| {
                    *index_of.entry(n.as_str()).or_insert_with(|| {
                        names.push(n.as_str());
                        names.len() as u32 - 1
                    })
                })
                .collect()
        })
        .collect();
    let in_run = |time_ms: f64| Some(step_of(time_ms, dt_ms)).filter(|&st| st < steps as f64).map(|st| st as u32);
    // Across files too: a neuron spikes at most once a step, whichever file
    // gives the spike (merged, a spike given twice ran as one). Sorted, two
    // such are neighbours; the one reported is the first repeat in file
    // order (its (file, index) least), as a pass in order would meet it.
    let mut repeat: Option<(u32, u32, u32, u32)> = None; // (file, index, the other's file and index)
    {
        let mut keyed: Vec<(u32, u32, u32, u32, u32)> = Vec::new();
        for (fi, t) in tables.iter().enumerate() {
            for (index, &(p, neuron, time_ms)) in t.table.spikes.iter().enumerate() {
                if let Some(step) = in_run(time_ms) {
                    keyed.push((remap[fi][p as usize], neuron, step, fi as u32, index as u32));
                }
            }
        }
        keyed.sort_unstable();
        for w in keyed.windows(2) {
            if w[0].0 == w[1].0 && w[0].1 == w[1].1 && w[0].2 == w[1].2 && repeat.is_none_or(|(f, i, _, _)| (w[1].3, w[1].4) < (f, i)) {
                repeat = Some((w[1].3, w[1].4, w[0].3, w[0].4));
            }
        }
    }
    let mut ext: Vec<(u32, u32, u32)> = Vec::new();
    let mut n_late = 0;
    for (fi, t) in tables.iter().enumerate() {
        for (index, &(p, neuron, time_ms)) in t.table.spikes.iter().enumerate() {
            if let Some((rf, ri, other, oi)) = repeat {
                if (fi as u32, index as u32) == (rf, ri) {
                    // Both named, each by its place in its file (the message gave one time).
                    let o = tables[other as usize];
                    let other_ms = o.table.spikes[oi as usize].2;
                    let in_other = if other as usize == fi { String::new() } else { format!(" in {}", o.origin) };
                    return Err(Error::File(format!(
                        "{}: two spikes of `{}` neuron {neuron} fall in timestep {} with dt {dt_ms} ms: spike {oi} at {} ms{in_other} and spike {index} at {} ms (spikes counted from 0 in file order)",
                        t.origin,
                        t.table.pops[p as usize],
                        step_of(time_ms, dt_ms),
                        shown_ms(other_ms),
                        shown_ms(time_ms)
                    )));
                }
            }
            match in_run(time_ms) {
                Some(step) => ext.push((remap[fi][p as usize], neuron, step)),
                None => {
                    late(fi, index)?;
                    n_late += 1;
                }
            }
        }
    }
    Ok((names, ext, n_late))
}

/// (population, state slot) of each `POP:VAR`.
fn probes(m: &Machine, specs: &[String]) -> Result<Vec<(u32, u8)>> {
    let mut out = Vec::new();
    for spec in specs {
        let (pop, var) = spec.split_once(':').ok_or_else(|| Error::Request(format!("probe `{spec}`: expected POP:VAR")))?;
        let (pi, p) = m
            .pops
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == pop)
            .ok_or_else(|| Error::Request(format!("probe `{spec}`: no population `{pop}` (populations: {})", names(m))))?;
        let v = p.vars.iter().find(|v| v.name == var).ok_or_else(|| {
            Error::Request(if p.model == nerve_isa::image::RELAY_MODEL {
                format!("probe `{spec}`: `{pop}` is a relay the compiler added for long delays, not a population of the network: it has no variables, and its spikes are not recorded")
            } else if p.vars.is_empty() {
                format!("probe `{spec}`: `{pop}` (model `{}`) has no variables to probe; its spikes can be recorded", p.model)
            } else {
                format!("probe `{spec}`: `{pop}` has no variable `{var}` (it has: {})", p.vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", "))
            })
        })?;
        // Each row would be written twice.
        if out.contains(&(pi as u32, v.slot)) {
            return Err(Error::Request(format!("probe `{spec}` is given twice: give each variable once")));
        }
        out.push((pi as u32, v.slot));
    }
    Ok(out)
}

/// Runs a loaded machine as `r` asks; `progress` gets the steps done.
pub fn run(m: Machine, r: &Request, progress: &mut dyn FnMut(u64)) -> Result<Ran> {
    run_on(m, r, None, progress)
}

/// This rank's part of a run over several ranks (`transport`): every rank
/// calls it with the same request and plan, and a machine that holds at
/// least its own cores' rows (`plan`: which cores each rank runs, e.g.
/// `engine::ranks::partition`). `image` is the checksum of the image the
/// machine was loaded from (`Image::checksum`, or a file's
/// `Image::file_checksum`): the ranks must agree on it, as on the request.
/// Rank 0 gets the whole run's output and alone writes the streamed
/// recordings; the others' `Ran` holds only their cores' counts.
pub fn run_ranked(
    m: Machine,
    r: &Request,
    transport: &mut dyn nerve_emulator::engine::ranks::Transport,
    plan: &nerve_emulator::engine::ranks::Plan,
    image: u32,
    progress: &mut dyn FnMut(u64),
) -> Result<Ran> {
    run_on(m, r, Some((transport, plan, image)), progress)
}

type Ranks<'a> = Option<(&'a mut dyn nerve_emulator::engine::ranks::Transport, &'a nerve_emulator::engine::ranks::Plan, u32)>;

/// What a request asks of a machine, checked: its external spikes by step,
/// how many fall after the run, and its probes as (population, slot).
struct Checked {
    ext: Vec<(u32, u32, u32)>,
    late_inputs: usize,
    probes: Vec<(u32, u8)>,
}

/// Checks `r` against `m` without running it: the steps within the
/// longest run, every input spike one the machine takes, every probe and
/// the decision population ones it has, a .npy probe file holding one
/// probe. [`run`] makes the same checks first; a caller with outputs to
/// write before the run (`nerve run --save-image`) checks here, so that a
/// request the run would refuse leaves no file behind.
pub fn check(m: &Machine, r: &Request) -> Result<()> {
    checked(m, r).map(|_| ())
}

fn checked(m: &Machine, r: &Request) -> Result<Checked> {
    if r.steps > nerve_isa::MAX_STEPS {
        return Err(nerve_emulator::EmuError::TooManySteps { steps: r.steps, max: nerve_isa::MAX_STEPS }.into());
    }
    let (ext, late_inputs) = external(m, r)?;
    let probes = probes(m, &r.probes)?;
    if let Some(d) = &r.decision {
        match m.pops.iter().find(|p| &p.name == d) {
            None => return Err(Error::Request(format!("decision population `{d}`: no such population (populations: {})", names(m)))),
            // Its spikes are a delayed copy of another's, not a decision.
            Some(p) if p.model == nerve_isa::image::RELAY_MODEL => {
                return Err(Error::Request(format!(
                    "decision population `{d}`: a relay the compiler added for long delays, not a population of the network (populations: {})",
                    names(m)
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(st) = &r.stream {
        if crate::has_extension(&st.probe_out, "npy") && probes.len() > 1 {
            return Err(Error::Request("a .npy probe file holds one probe; probe one variable or write CSV".into()));
        }
        // Spikes may be recorded as JSON; probes not: a .json name would hold CSV.
        if crate::has_extension(&st.probe_out, "json") {
            return Err(Error::Request(format!(
                "probe file {}: probes are written as CSV (or NPY, one probe, for a .npy name), not JSON: name it .csv",
                st.probe_out.display()
            )));
        }
    }
    Ok(Checked { ext, late_inputs, probes })
}

fn run_on(mut m: Machine, r: &Request, mut ranks: Ranks, progress: &mut dyn FnMut(u64)) -> Result<Ran> {
    let Checked { ext, late_inputs, probes } = checked(&m, r)?;
    if let Some((t, plan, image)) = ranks.as_mut() {
        agreed_run(*t, run_fingerprint(&m, r, plan, *image, &ext, &probes))?;
    }
    m.inject_at(&ext).map_err(nerve_emulator::EmuError::from)?;
    drop(ext);
    let any_marked = m.pops.iter().any(|p| p.record_spikes);
    // Relays exist only where a profile's delays are short: recording them
    // made the same network's recordings differ between profiles.
    let recorded: Vec<bool> = m.pops.iter().map(|p| p.model != nerve_isa::image::RELAY_MODEL && (r.record_all || !any_marked || p.record_spikes)).collect();
    // The decision latency needs the first spikes of the inputs and of the
    // decision population, recorded or not: the emulator records those
    // populations too, and only the recorded ones' spikes reach the files.
    let mut watched = recorded.clone();
    if let Some(d) = &r.decision {
        let inputs = crate::summary::input_populations(&m);
        for (pi, w) in watched.iter_mut().enumerate() {
            *w |= inputs[pi] || m.pops[pi].name == *d;
        }
    }
    let rec = Recording { spikes: watched.clone(), probes, per_step: true, chunk_steps: None };
    // As many as the engine will use, at most one per core: a count asked
    // for beyond that (`--threads 18446744073709551615`) would overflow the
    // memory bounds below, which count per thread.
    let threads = if r.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { r.threads }.clamp(1, m.cores.len().max(1));
    m.pin = r.pin;
    let jit = |b: Backend| -> Result<(Box<dyn KernelRunner>, &'static str)> {
        let j = Jit::compile_with(&m, b)?;
        let name = match j.backend {
            Backend::Avx512 => Engine::JitAvx512.name(),
            Backend::Avx2 => Engine::JitAvx2.name(),
            _ => Engine::JitCranelift.name(),
        };
        Ok((Box::new(j), name))
    };
    let (runner, engine_name): (Box<dyn KernelRunner>, &'static str) = match r.engine {
        Engine::Interp => (Box::new(Interp), Engine::Interp.name()),
        Engine::Jit => jit(Backend::Auto)?,
        Engine::JitCranelift => jit(Backend::Cranelift)?,
        Engine::JitAvx512 => jit(Backend::Avx512)?,
        Engine::JitAvx2 => jit(Backend::Avx2)?,
    };
    if r.stream.is_none() {
        if let Some(avail) = nerve_isa::files::available_memory() {
            probes_fit(&m, r, &rec.probes, threads, avail)?;
        }
    }
    // Spikes kept whole anyway (`keep_spikes`) are not within the budget:
    // the probes alone decide whether to stream, and the chunk's length.
    let per_step = match &r.stream {
        Some(st) if st.keep_spikes => probe_bytes_per_step(&m, &rec.probes, threads),
        _ => recording_bytes_per_step(&m, &watched, &rec.probes, threads),
    }
    .max(1);
    let stream = r.stream.as_ref().filter(|st| per_step.saturating_mul(r.steps) > st.max_memory);
    if let Some((t, plan, _)) = ranks {
        let rank = t.rank();
        // Every chunk's end is a collective, so the ranks cut their chunks at
        // the same steps: the shortest chunk any rank's budget allows (a
        // rank's bytes per step count its own threads, and `--threads 0` is
        // its host's count; its --max-memory is its own), none if no rank
        // streams. A rank that cut its own panicked decoding another's
        // chunk as spikes.
        let chunk = agreed_chunk(t, stream.map_or(u64::MAX, |st| (st.max_memory / per_step).max(1)));
        let ranked = engine::Ranked { transport: t, plan };
        // The summary's threads are one process's for this request: this
        // rank's own ran at most one per core of its part (6 cores over 6
        // ranks at --threads 2 said 1, where one process says 2).
        let one_process = engine::threads_used(&m, threads);
        if chunk == u64::MAX {
            let output = engine::run_ranked(&mut m, runner.as_ref(), r.steps, threads, &rec, None, ranked, progress)?;
            return Ok(Ran { threads: one_process, ..Ran::new(m, output, recorded, engine_name, late_inputs, None) });
        }
        // Rank 0 writes the files; the others send it their chunks.
        let rec = Recording { chunk_steps: Some(chunk), ..rec };
        let mut sink = match (rank, r.stream.as_ref()) {
            (0, Some(st)) => Some(file_sink(&m, r.steps, st, &recorded, &rec.probes)?),
            (0, None) => return Err(Error::Request("rank 0 has no files to stream to while another rank streams its recording".into())),
            _ => None,
        };
        let mut output =
            engine::run_ranked(&mut m, runner.as_ref(), r.steps, threads, &rec, sink.as_mut().map(|s| s as &mut dyn engine::RecordSink), ranked, progress)?;
        if let Some(sink) = sink {
            output.spikes = sink.finish()?;
        }
        return Ok(Ran { threads: one_process, ..Ran::new(m, output, recorded, engine_name, late_inputs, Some(chunk)) });
    }
    let Some(st) = stream else {
        let output = engine::run(&mut m, runner.as_ref(), r.steps, threads, &rec, progress)?;
        return Ok(Ran::new(m, output, recorded, engine_name, late_inputs, None));
    };
    let chunk = (st.max_memory / per_step).max(1);
    let mut sink = file_sink(&m, r.steps, st, &recorded, &rec.probes)?;
    let rec = Recording { chunk_steps: Some(chunk), ..rec };
    let mut output = engine::run_streamed(&mut m, runner.as_ref(), r.steps, threads, &rec, &mut sink, progress)?;
    output.spikes = sink.finish()?;
    Ok(Ran::new(m, output, recorded, engine_name, late_inputs, Some(chunk)))
}

/// What every rank of a run must agree on, as one number (FNV-1a): the
/// image (its checksum `image`, and the cores and profile it was loaded
/// into, with the run's overrides, `--messages` and the like), the ranks'
/// plan, the steps, the input spikes, the probes and the decision
/// population. Threads, pinning, memory budgets, engines (all
/// bit-identical) and output paths may differ. Ranks started with other
/// `--steps` waited for each other for ever, with other probes rank 0
/// sized another rank's rows from its own (24 GB), and with images of one
/// layout and other weights each ran its own cores' weights.
fn run_fingerprint(m: &Machine, r: &Request, plan: &nerve_emulator::engine::ranks::Plan, image: u32, ext: &[(u32, u32, u32)], probes: &[(u32, u8)]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |x: u64| {
        for b in x.to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(image as u64);
    eat(r.steps);
    eat(m.cores.len() as u64);
    for c in &m.cores {
        for x in [c.id.0 as u64, c.pop as u64, c.n as u64, c.tile.0 as u64, c.key_base.map_or(u64::MAX, u64::from), c.ports as u64] {
            eat(x);
        }
    }
    for &b in &plan.bounds {
        eat(b as u64);
    }
    for b in serde_json::to_string(&m.arch).unwrap_or_default().bytes() {
        eat(b as u64);
    }
    eat(ext.len() as u64);
    for &(step, gi, i) in ext {
        eat(step as u64 | (gi as u64) << 32);
        eat(i as u64);
    }
    eat(probes.len() as u64);
    for &(p, slot) in probes {
        eat(p as u64 | (slot as u64) << 32);
    }
    eat(r.record_all as u64);
    for b in r.decision.as_deref().unwrap_or("\0").bytes() {
        eat(b as u64);
    }
    h
}

/// Refuses a run whose ranks do not agree on it (`run_fingerprint`): every
/// rank gets the same error, naming the first rank that differs from it (a
/// collective: every rank calls it before the run).
fn agreed_run(t: &mut dyn nerve_emulator::engine::ranks::Transport, mine: u64) -> Result<()> {
    let rank = t.rank();
    match every_ranks(t, mine).into_iter().position(|x| x != Some(mine)) {
        None => Ok(()),
        Some(q) => Err(Error::Request(format!(
            "rank {rank} and rank {q} were started with another image or other run options: every rank needs the same image, --steps, --input, --probe, --record-all, --decision and profile options (--messages and the like); only --threads, --pin, --max-memory, --engine and output paths may differ"
        ))),
    }
}

/// The least of every rank's `mine` (a collective: every rank calls it at
/// the same point, before the run).
fn agreed_chunk(t: &mut dyn nerve_emulator::engine::ranks::Transport, mine: u64) -> u64 {
    every_ranks(t, mine).into_iter().flatten().fold(mine, u64::min)
}

/// Every rank's `mine`, by rank (this rank's own at its place; `None` for a
/// rank that sent none): a collective, every rank calls it at the same point.
fn every_ranks(t: &mut dyn nerve_emulator::engine::ranks::Transport, mine: u64) -> Vec<Option<u64>> {
    let (rank, size) = (t.rank(), t.size());
    let words = vec![mine as u32, (mine >> 32) as u32];
    let out: Vec<Vec<u32>> = (0..size).map(|q| if q == rank { Vec::new() } else { words.clone() }).collect();
    let mut inb = vec![Vec::new(); size];
    t.exchange(&out, &mut inb);
    inb.iter().enumerate().map(|(q, w)| if q == rank { Some(mine) } else { (w.len() == 2).then(|| u64::from(w[0]) | u64::from(w[1]) << 32) }).collect()
}

/// The sink a streamed run of `steps` steps writes its files through.
fn file_sink(m: &Machine, steps: u64, st: &Stream, recorded: &[bool], probes: &[(u32, u8)]) -> Result<crate::stream::FileSink> {
    let probe_out = (!probes.is_empty()).then_some(st.probe_out.as_path());
    let mut sink = crate::stream::FileSink::new(m, steps, st.record.as_ref().map(|(p, f)| (p.as_path(), *f)), recorded, probes, probe_out)?;
    if st.keep_spikes {
        sink.keep_all_spikes();
    }
    Ok(sink)
}

/// Where probes go by default.
pub fn default_probe_path() -> PathBuf {
    PathBuf::from("probes.csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The image of one population "p" of 100 LIF neurons driven by a constant current.
    fn lif_100() -> nerve_isa::image::ValidImage {
        let net = r#"{"name": "p", "dt_ms": 1.0, "populations": [{"name": "p", "size": 100, "model": "lif", "params": {"i_offset": 1.0}}], "projections": []}"#;
        let net = nerve_compiler::front::json::parse_network(net, std::path::Path::new("p.json")).unwrap();
        let arch = nerve_isa::arch::Arch::builtin("spinnaker").unwrap();
        nerve_compiler::compile::compile(&arch, &net, &nerve_compiler::compile::Options::default(), &mut |_| {}).unwrap().image
    }

    #[test]
    fn probes_kept_in_memory_count_the_threads_and_the_callers_copy() {
        let m = Machine::load_valid(lif_100()).unwrap();
        let probes = [(0u32, 0u8)];
        let r = |copy: u64| Request { steps: 1000, probes: vec!["p:v".into()], probe_copy_bytes: copy, ..Request::default() };
        // 100 neurons × 1,000 steps: 8 bytes a value on one thread (its rows
        // and the run's table), 12 with a float64 copy after the run.
        let fits = |copy, threads, bytes_a_value: u64| probes_fit(&m, &r(copy), &probes, threads, (100 * 1000 * bytes_a_value, "fake")).is_ok();
        assert!(fits(0, 1, 8));
        assert!(!fits(0, 1, 7));
        assert!(!fits(8, 1, 11));
        assert!(fits(8, 1, 12));
        // Two threads hold 12 bytes a value during the run, copy or not.
        assert!(!fits(0, 2, 11));
        assert!(fits(8, 2, 12));
        let e = probes_fit(&m, &r(8), &probes, 1, (100 * 1000 * 11, "fake")).unwrap_err();
        assert!(matches!(&e, Error::Memory(msg) if msg.contains("probes p:v: 100 neurons × 1000 steps") && msg.contains("--probe-out")), "{e}");
    }

    /// Threads asked for beyond the machine's cores (Python's
    /// `threads=2**64-1`) overflowed the per-thread memory count (a panic;
    /// wrapped round to an under-count in release): the engine takes one
    /// per core at most, and so does the count.
    #[test]
    fn threads_beyond_the_cores_count_as_the_cores() {
        let dir = std::env::temp_dir().join(format!("nerve-threads-max-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for stream in [None, Some(Stream { max_memory: 1 << 30, record: None, probe_out: dir.join("v.csv"), keep_spikes: false })] {
            let r = Request { steps: 20, threads: usize::MAX, probes: vec!["p:v".into()], stream, ..Request::default() };
            let ran = run(Machine::load_valid(lif_100()).unwrap(), &r, &mut |_| {}).unwrap();
            assert_eq!(ran.threads, 1);
            assert_eq!(ran.output.probes[0].values.len(), 20);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn kept_spikes_leave_the_budget_to_the_probes() {
        let image = lif_100();
        let dir = std::env::temp_dir().join(format!("nerve-kept-spikes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // One thread, 1,000 steps: the probe's 100 values a step take 8 bytes
        // each (800,000 in all), the spikes' bound 12 a neuron a step
        // (1,200,000); a budget of 1,000,000 holds the probes but not both.
        let run = |keep_spikes: bool| {
            let stream = Stream { max_memory: 1_000_000, record: None, probe_out: dir.join(format!("v{keep_spikes}.csv")), keep_spikes };
            let r = Request { steps: 1000, threads: 1, probes: vec!["p:v".into()], stream: Some(stream), ..Request::default() };
            run(Machine::load_valid(image.clone()).unwrap(), &r, &mut |_| {}).unwrap()
        };
        let (kept, not) = (run(true), run(false));
        assert_eq!(kept.streamed, None, "the probes fit the budget: not streamed");
        assert_eq!(not.streamed, Some(1_000_000 / 2000), "spikes not kept count: streamed");
        assert_eq!(kept.output.spikes, not.output.spikes);
        assert!(!kept.output.spikes.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
