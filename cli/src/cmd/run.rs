use clap::{Args, ValueEnum};
use nerve_compiler::front::{Content, InputFile};
use nerve_emulator::engine::pin::Pin;
use nerve_emulator::machine::Machine;
use nerve_emulator::{EmuError, InjectError};
use nerve_isa::arch::{Arch, MessageModel};
use nerve_isa::image::Image;
use nerve_report::session::{self, CostModel, Engine, InputTable, Request};
use nerve_report::spikes;
use std::path::{Path, PathBuf};

use super::Result;
use crate::cmd::compile::BuildArgs;
use crate::progress::Progress;

/// A spike file's format (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SpikeFormat {
    Csv,
    Json,
    Npy,
}

impl From<SpikeFormat> for spikes::Format {
    fn from(f: SpikeFormat) -> Self {
        match f {
            SpikeFormat::Csv => spikes::Format::Csv,
            SpikeFormat::Json => spikes::Format::Json,
            SpikeFormat::Npy => spikes::Format::Npy,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// Compiled kernels (bit-identical to the interpreter, faster) by the best backend for this host: jit-avx512 where the CPU has AVX-512, else jit-avx2 where it has AVX2, else jit-cranelift.
    Jit,
    /// Compiled by Cranelift: four neurons per iteration in 128-bit vectors, on every host.
    JitCranelift,
    /// Compiled straight to AVX-512 code: sixteen neurons per iteration; an error on a CPU without AVX-512.
    JitAvx512,
    /// Compiled straight to AVX2 code: eight neurons per iteration; an error on a CPU without AVX2.
    JitAvx2,
    /// The reference interpreter.
    Interp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PinKind {
    /// Pinned when the threads that run equal the CPUs this process may use (and are more than 1):
    /// --threads, or fewer where the image's cores divide into fewer parts (a note says so).
    Auto,
    /// Thread t on the t-th CPU this process may use (Linux; elsewhere not pinned).
    On,
    /// Left to the system's scheduler.
    Off,
}

#[derive(Args)]
pub struct RunArgs {
    /// The chip image (from `nerve compile`), or a network (.json or .nir) to
    /// compile first, in memory, with --arch and the compile options.
    #[arg(value_parser = super::IN)]
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
    /// Pin each thread to a CPU of its own: threads wait for each other at every step, and two
    /// that the system puts on one CPU take turns (measured: 50–100 µs per step instead of 1).
    /// Results do not depend on it; the report's `host.pinned` lists the CPUs used.
    #[arg(long, value_enum, default_value_t = PinKind::Auto)]
    pin: PinKind,
    /// External spikes for `input` and `spike_source_array` populations: CSV `population,neuron,time` (ms; a fourth column `label`,
    /// as recordings of labelled networks have, must name each spike's neuron) or JSON. Repeatable. A neuron
    /// spikes at most once a step: two spikes in one step, or one in a step its spike array spikes it, are refused.
    #[arg(long, value_parser = super::IN)]
    input: Vec<PathBuf>,
    /// Write recorded spikes here (CSV `population,neuron,time` sorted by time, population, neuron; .json or .npy by extension or --format).
    #[arg(long, value_parser = super::OUT)]
    record: Option<PathBuf>,
    /// Format of --record (default: from the extension, else CSV).
    #[arg(long, value_enum)]
    format: Option<SpikeFormat>,
    /// Record every population's spikes, not only those the network marks (the compiler's delay-extension relays are not the network's: never recorded),
    /// in --record and the --report's raster; needs one of them (or --json).
    #[arg(long)]
    record_all: bool,
    /// Probe a state variable every step: POP:VAR (e.g. exc:v). Repeatable.
    #[arg(long)]
    probe: Vec<String>,
    /// Where probes go (CSV `population,var,neuron,time,value` or .npy: steps × neurons float64, one probe). Default: probes.csv. Needs --probe.
    #[arg(long, value_parser = super::OUT)]
    probe_out: Option<PathBuf>,
    /// Write the run summary (counts, timing, energy, per population, core, chip and link, per-step series) as JSON, for `nerve report`.
    #[arg(long, value_parser = super::OUT)]
    report: Option<PathBuf>,
    /// Steps per inference: report energy and energy-delay per inference, the run's mean per step
    /// times K (--steps need not be a multiple: 10 steps at K = 3 are 3⅓ inferences). At most
    /// --steps: a run shorter than one inference would only extrapolate it, and is refused.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
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
    /// After the run, write every learning projection's synapses: CSV `projection,pre,post,weight,delay`
    /// (weight in the projection's units, delay in ms), or .npy (rows: projection index, pre, post, weight, delay).
    #[arg(long, value_parser = super::OUT)]
    save_weights: Option<PathBuf>,
    /// After the run, write a network (JSON) that continues it: learned weights as static
    /// `from_list` connections, neuron states as initial values, spike arrays shifted, duration_ms less the time run. Needs a .json
    /// network.
    #[arg(long, value_parser = super::OUT)]
    save_network: Option<PathBuf>,
    /// Most memory for recorded spikes and probes (e.g. 512M, 2G; K, M, G, T are powers of 1024).
    /// A run that could need more (12 B per recorded neuron and 4 B per probed neuron per thread,
    /// every step) writes --record and --probe-out as it goes, a chunk of steps at a time: the
    /// same files, in bounded memory.
    #[arg(long, default_value = "2G", value_parser = parse_bytes)]
    max_memory: u64,
    /// Print nothing but errors and warnings (a warning is about the result: a coarse NIR dt, what the fixed point loses, threads waiting for CPUs).
    #[arg(short, long)]
    quiet: bool,
    /// Print the run summary as JSON on standard output (the --report file's contents) instead of the text lines.
    #[arg(long)]
    json: bool,
    // Last, so that their help heading covers only them.
    /// Architecture to compile a network for (`nerve arch list`); not for an image, which holds its own.
    #[arg(long, help_heading = "Compiling a network")]
    arch: Option<String>,
    #[command(flatten, next_help_heading = "Compiling a network")]
    build: BuildArgs,
    /// When compiling a network: also write its image here.
    #[arg(long, help_heading = "Compiling a network", value_parser = super::OUT)]
    save_image: Option<PathBuf>,
    /// When compiling a network: write the mapping report (as `nerve compile --report`).
    #[arg(long, help_heading = "Compiling a network", value_parser = super::OUT)]
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

pub fn run(a: RunArgs) -> Result<()> {
    let t_load = std::time::Instant::now();
    // Each rank reads the image and the spike inputs itself.
    if let Some(e) = std::iter::once(&a.image).chain(&a.input).find_map(|p| crate::mpi::unshared_input(p)) {
        // Every rank meets it alike: rank 0 says it.
        if crate::mpi::launched_rank() != 0 {
            std::process::exit(1);
        }
        return Err(e.into());
    }
    // Whether it is a network or an image: by its first bytes, else its
    // name (a pipe read whole to tell, and its bytes kept).
    let input = InputFile::open(&a.image).map_err(|e| format!("cannot read {}: {e}", a.image.display()))?;
    // Before MPI starts: every rank has the same command line, and ends here alike.
    check_usage(&a, &input);
    // Under mpirun: this process is one rank; rank 0 prints and writes.
    let mut world = match crate::mpi::world() {
        // Every rank meets it alike (a build without MPI): rank 0 says it.
        Err(_) if crate::mpi::launched_rank() != 0 => std::process::exit(1),
        w => w?,
    };
    let (rank, ranks) = world.as_ref().map_or((0, 1), |w| (w.rank(), w.size()));
    let ran = run_rank(a, input, &mut world, rank, ranks, t_load);
    match ran {
        // An error on one rank (rank 0 alone writes --save-image; a rank's
        // part of the image; an input only its owner checks) would leave the
        // others waiting for it in their next exchange: said here, then
        // every rank ended (MPI_Abort).
        Err(e) if ranks > 1 => {
            // An error every rank meets (a bad --input) was said once per
            // rank: rank 0 says it and ends the world; another rank says
            // it, naming itself, if rank 0 has not ended it meanwhile.
            if rank == 0 {
                crate::say_error(&*e);
            } else {
                std::thread::sleep(std::time::Duration::from_millis(500));
                crate::say_error_as(&*e, &format!("rank {rank}: "));
            }
            // Not dropped first: that would finalise MPI, itself waiting for the others.
            crate::mpi::abort(1)
        }
        r => r,
    }
}

/// Refuses, as a usage error (exit status 2, as clap's own), what the
/// command line alone shows cannot be run: an option without the one it
/// qualifies, two that contradict each other, an option for compiling given
/// with an image (or none given for a network), more steps than a run
/// takes or than --inference-steps asks for.
fn check_usage(a: &RunArgs, input: &InputFile) {
    if a.steps > nerve_isa::MAX_STEPS {
        usage_error(&format!("--steps {} exceeds {}, the most a run takes", a.steps, nerve_isa::MAX_STEPS));
    }
    // Energy per inference from a run shorter than one inference would be
    // extrapolated, not measured (the rule Python's `run` shares).
    if let Err(e) = nerve_report::summary::check_inference_steps(a.inference_steps, a.steps, ("--inference-steps", "--steps")) {
        usage_error(&e);
    }
    // It chooses what --record writes and what the report's raster holds.
    if a.record_all && a.record.is_none() && a.report.is_none() && !a.json {
        usage_error("--record-all chooses the populations --record writes (and the --report's raster holds): give --record FILE or --report FILE too");
    }
    if let (Some(f), Some(r)) = (a.format, &a.record) {
        let said = format!("{f:?}").to_lowercase();
        if let Some(ext) = r.extension().map(|e| e.to_string_lossy().to_lowercase()).filter(|e| ["csv", "json", "npy"].contains(&e.as_str())) {
            if ext != said {
                usage_error(&format!("--format {said} contradicts --record {} (a .{ext} file): give one or make them agree", r.display()));
            }
        }
    }
    if a.format.is_some() && a.record.is_none() {
        usage_error("--format is the format of --record: give --record FILE too");
    }
    // What a --probe says, known before any machine: its form, given once,
    // and one to a .npy file (the variables themselves are the image's).
    for (i, spec) in a.probe.iter().enumerate() {
        if !spec.split_once(':').is_some_and(|(p, v)| !p.is_empty() && !v.is_empty()) {
            usage_error(&format!("--probe `{spec}`: expected POP:VAR (e.g. exc:v)"));
        }
        if a.probe[..i].contains(spec) {
            usage_error(&format!("--probe `{spec}` is given twice: give each variable once"));
        }
    }
    if let Some(p) = &a.probe_out {
        if a.probe.len() > 1 && nerve_report::has_extension(p, "npy") {
            usage_error(&format!("--probe-out .npy holds one probe (steps × neurons): give one --probe, or write CSV ({})", p.display()));
        }
        if nerve_report::has_extension(p, "json") {
            usage_error(&format!("--probe-out {}: probes are written as CSV (or NPY, one probe, for a .npy name), not JSON: name it .csv", p.display()));
        }
    }
    if let (Some(p), true) = (&a.probe_out, a.probe.is_empty()) {
        usage_error(&format!("--probe-out {} is where --probe values go: give --probe POP:VAR too (without it there is nothing to write)", p.display()));
    }
    // A .json name would hold CSV.
    if let Some(w) = a.save_weights.as_deref().filter(|w| nerve_report::has_extension(w, "json")) {
        usage_error(&format!("--save-weights {}: learned weights are written as CSV (or NPY for a .npy name), not JSON: name it .csv", w.display()));
    }
    if let Some(p) = &a.save_network {
        if !nerve_report::has_extension(p, "json") {
            usage_error(&format!("--save-network {}: it writes a JSON network; give a .json path", p.display()));
        }
        if input.content != nerve_compiler::front::Content::Json {
            usage_error(&format!("--save-network rewrites a JSON network: run the JSON network itself rather than {}", a.image.display()));
        }
    }
    if input.is_network() {
        if a.arch.is_none() {
            usage_error(&format!("{}: a network needs --arch to be compiled (`nerve arch list`), or give an image from `nerve compile`", a.image.display()));
        }
        crate::cmd::compile::nir_options_fit(input, &a.build.nir, "run");
        crate::cmd::compile::placement_options_fit(&a.build, "run");
    } else {
        let mut wrong: Vec<&str> = a.build.given();
        for (name, set) in [("--arch", a.arch.is_some()), ("--save-image", a.save_image.is_some()), ("--compile-report", a.compile_report.is_some())] {
            if set {
                wrong.push(name);
            }
        }
        if !wrong.is_empty() {
            let what = if input.content == Content::Image {
                "is an image, which holds its own mapping"
            } else {
                "is no network (neither JSON nor NIR by its contents or its name), so it is read as an image, which holds its own mapping"
            };
            usage_error(&format!("{}: only for compiling a network (JSON or NIR); {} {what}", wrong.join(", "), a.image.display()));
        }
    }
}

/// A usage error of this subcommand (exit status 2).
fn usage_error(msg: &str) -> ! {
    super::usage_error("run", msg)
}

/// `run` on this process: the whole run, or rank `rank` of `ranks`.
fn run_rank(
    a: RunArgs,
    input: InputFile,
    world: &mut Option<Box<dyn nerve_emulator::engine::ranks::Transport>>,
    rank: usize,
    ranks: usize,
    t_load: std::time::Instant,
) -> Result<()> {
    if ranks > 1 {
        for (flag, set) in [("--save-weights", a.save_weights.is_some()), ("--save-network", a.save_network.is_some())] {
            if set {
                return Err(format!("{flag} is not available for runs over several ranks ({ranks} here): the learned weights and states stay on their ranks; run on one process").into());
            }
        }
    }
    let quiet = a.quiet || rank != 0;
    // A piped network can be read once: its bytes, kept for --save-network
    // (reading the path again found it empty, "EOF while parsing").
    let piped_text = a.save_network.as_ref().and(input.bytes.as_ref()).map(|b| String::from_utf8_lossy(b).into_owned());
    // Every output checked before the run, so that a typo loses no work.
    let probe_out = (!a.probe.is_empty()).then(|| a.probe_out.clone().unwrap_or_else(session::default_probe_path));
    let outputs: Vec<(&str, &Path)> = [
        ("--record", a.record.as_deref()),
        ("--report", a.report.as_deref()),
        ("--probe-out", probe_out.as_deref()),
        ("--save-weights", a.save_weights.as_deref()),
        ("--save-network", a.save_network.as_deref()),
        ("--save-image", a.save_image.as_deref()),
        ("--compile-report", a.compile_report.as_deref()),
    ]
    .into_iter()
    .filter_map(|(o, p)| p.map(|p| (o, p)))
    .collect();
    // A network's from_list files too (an image references none).
    let refs = input.referenced_files();
    let inputs: Vec<&Path> = std::iter::once(a.image.as_path())
        .chain(refs.iter().map(PathBuf::as_path))
        .chain(a.input.iter().map(PathBuf::as_path))
        .chain(a.arch.as_deref().and_then(crate::cmd::compile::arch_file))
        .chain(a.build.files())
        .collect();
    super::check_outputs("run", a.json, &outputs, &inputs)?;
    // What needs no machine is checked before compiling: the input files.
    let inputs = a.input.iter().map(|f| InputTable::read(f)).collect::<std::result::Result<Vec<_>, _>>()?;
    // Outputs of compiling, put in place once the run's options are checked
    // against the machine: a failing command leaves neither.
    let mut staged: Vec<nerve_report::Staged> = Vec::new();
    // Every image is validated once, however it was obtained: by the compiler
    // for a network, here for a file.
    let mut plan_ranks = None;
    // Over ranks, the image's checksum, which they must agree on (images of
    // one layout and other weights ran each rank's own weights).
    let mut checksum = 0u32;
    // For --save-network: the profile and what fixes the image's arithmetic,
    // to compare with the saved network's once it is written.
    let mut compiled: Option<(Arch, nerve_compiler::front::resume::Arithmetic)> = None;
    let mut m = if input.is_network() {
        // check_usage refused a network without --arch.
        let arch = Arch::load(a.arch.as_deref().unwrap_or_default())?;
        let mut out = crate::cmd::compile::build(input, &arch, &a.build, quiet)?;
        if rank == 0 {
            crate::cmd::compile::print_warnings(&out);
        }
        if a.save_network.is_some() {
            compiled = Some((arch.clone(), nerve_compiler::front::resume::Arithmetic::of(&out.image, &out.quant)));
        }
        if let (Some(p), 0) = (&a.save_image, rank) {
            let t_write = std::time::Instant::now();
            staged.push(nerve_report::Staged::write(p, |s| {
                out.image.write(s).map_err(|e| match e {
                    nerve_isa::image::ImageError::WriteIo { source, .. } => source,
                    e => std::io::Error::other(e.to_string()),
                })
            })?);
            out.report.seconds.write = t_write.elapsed().as_secs_f64();
        }
        if let (Some(p), 0) = (&a.compile_report, rank) {
            let json = serde_json::to_string_pretty(&out.report)?;
            staged.push(nerve_report::Staged::write(p, |s| std::fs::write(s, json))?);
        }
        too_many_ranks(&a.image, out.image.cores.len(), ranks)?;
        if ranks > 1 {
            checksum = out.image.checksum();
        }
        Machine::load_valid(out.image)?
    } else if let Some(bytes) = input.bytes {
        // A pipe, read whole to tell its kind: held whole by every rank, as
        // a network compiled here is.
        let img = Image::from_bytes_unvalidated(&bytes).map_err(|e| e.in_file(&a.image))?;
        drop(bytes);
        if ranks > 1 {
            checksum = img.checksum();
        }
        too_many_ranks(&a.image, img.cores.len(), ranks)?;
        Machine::load_valid(img.into_valid().map_err(|e| e.in_file(&a.image))?)?
    } else {
        if ranks > 1 {
            // Each rank reads its own cores' part (and the file once more,
            // all cores stripped, for the plan every rank computes alike).
            let (skeleton, stored) = Image::read_part(&a.image, &|_| false)?;
            too_many_ranks(&a.image, skeleton.cores.len(), ranks)?;
            let plan = nerve_emulator::engine::ranks::partition_stripped(&Machine::load(skeleton)?, ranks, &stored);
            let mine = plan.bounds[rank]..plan.bounds[rank + 1];
            let (part, _) = Image::read_part(&a.image, &|i| mine.contains(&i))?;
            checksum = Image::file_checksum(&a.image)?;
            plan_ranks = Some(plan);
            let part = part.into_valid()?;
            too_many_ranks(&a.image, part.cores.len(), ranks)?;
            Machine::load_valid(part)?
        } else {
            // One process: the rows and synapses stay in their packed columns
            // until the load lays them out (less new memory: docs/benchmarks.md).
            Machine::load_image(Image::read_for_load(&a.image)?)?
        }
    };
    // A network compiled here is held whole by every rank.
    let plan_ranks = plan_ranks.or_else(|| (ranks > 1).then(|| nerve_emulator::engine::ranks::partition(&m, ranks)));
    let load_seconds = t_load.elapsed().as_secs_f64();
    // Once the machine is known: the threads that run are at most one per
    // core, and only those can outnumber the CPUs. (Over ranks, counted over
    // every rank's cores: a rank runs no more.)
    match (session::threads_warning(&m, a.threads, &format!("--threads {}", a.threads)), rank) {
        (Some(w), 0) => crate::out::errln!("warning: {w}"),
        // The warning says how many run; otherwise fewer than asked is said
        // here (it decides, too, whether --pin auto pins).
        (None, 0) if !quiet && a.threads > 0 => {
            let used = nerve_emulator::engine::threads_used(&m, a.threads);
            // Three cores of uneven work ran two threads, said "as the
            // image's 3 core(s) divide (at most one thread per core)".
            let cores = m.cores.len();
            if used < a.threads && used == cores {
                crate::out::errln!("note: --threads {}: {used} run, one per core of the image (a thread takes whole cores)", a.threads);
            } else if used < a.threads {
                crate::out::errln!(
                    "note: --threads {}: {used} run: a thread takes whole cores, and the work of the image's {cores} cores (their neurons and synapses) splits into no more than {used} parts of similar size",
                    a.threads
                );
            }
        }
        _ => {}
    }
    session::apply_cost_model(
        &mut m,
        &CostModel {
            messages: a.messages.map(|x| match x {
                Messages::Multicast => MessageModel::Multicast,
                Messages::PerDestination => MessageModel::PerDestination,
            }),
            overlap: a.overlap.map(|x| x == OnOff::On),
            static_power: a.static_power == OnOff::On,
        },
    );
    let request = Request {
        steps: a.steps,
        engine: match a.engine {
            EngineKind::Jit => Engine::Jit,
            EngineKind::JitCranelift => Engine::JitCranelift,
            EngineKind::JitAvx512 => Engine::JitAvx512,
            EngineKind::JitAvx2 => Engine::JitAvx2,
            EngineKind::Interp => Engine::Interp,
        },
        threads: a.threads,
        pin: match a.pin {
            PinKind::Auto => Pin::Auto,
            PinKind::On => Pin::On,
            PinKind::Off => Pin::Off,
        },
        inputs: Vec::new(),
        input_tables: inputs,
        record_all: a.record_all,
        probes: a.probe.clone(),
        decision: a.decision.clone(),
        stream: Some(session::Stream {
            max_memory: a.max_memory,
            record: a.record.as_ref().map(|r| (r.clone(), a.format.map(Into::into).unwrap_or_else(|| nerve_report::spikes::Format::from_path(r)))),
            probe_out: a.probe_out.clone().unwrap_or_else(session::default_probe_path),
            keep_spikes: false,
        }),
        // Probes are written from the run's own table (streamed beyond --max-memory).
        probe_copy_bytes: 0,
    };
    // Rules, not plastic synapses: a learning projection may have none (its file is then a header).
    if a.save_weights.is_some() && m.rules.is_empty() {
        return Err(format!("--save-weights: {} has no learning projections (a projection with `plasticity`)", a.image.display()).into());
    }
    // The network read again (the run may have compiled it from this very
    // file) and checked for what it could not save, before the run.
    let to_save = match &a.save_network {
        Some(to) => Some(read_to_save(&a.image, piped_text, to)?),
        None => None,
    };
    if !staged.is_empty() {
        session::check(&m, &request).map_err(flag_words)?;
        for s in staged {
            s.commit()?;
        }
    }
    let bar = Progress::bar(quiet, a.steps, "running");
    let mut progress = |s| {
        if let Some(b) = &bar {
            b.set_position(s);
        }
    };
    let ran = match (world.as_deref_mut(), &plan_ranks) {
        (Some(w), Some(plan)) => session::run_ranked(m, &request, w, plan, checksum, &mut progress),
        _ => session::run(m, &request, &mut progress),
    }
    .map_err(flag_words)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let (m, out) = (&ran.machine, &ran.output);
    if rank != 0 {
        // Rank 0 holds the run's output and writes it.
        return Ok(());
    }
    if ran.late_inputs > 0 && !quiet {
        crate::out::errln!("note: {}", session::late_inputs_note(ran.late_inputs, m.dt_ms, a.steps, "--steps"));
    }
    match ran.streamed {
        // Written as the run went.
        Some(chunk) => {
            // Only where a file is written: a network's own recorded populations stream
            // past the budget too (their spikes go to the counts and the report), and the
            // note spoke of files that did not exist.
            if !a.quiet && (a.record.is_some() || !a.probe.is_empty()) {
                crate::out::errln!(
                    "note: the recordings could exceed --max-memory {}: written to their files as the run went, {chunk} steps at a time",
                    fmt_bytes(a.max_memory)
                );
            }
        }
        None => {
            if let Some(r) = &a.record {
                spikes::write_recorded(r, a.format.map(Into::into), m, out)?;
            }
            if !out.probes.is_empty() {
                nerve_report::probes::write(&a.probe_out.clone().unwrap_or_else(session::default_probe_path), m, out).map_err(flag_words)?;
            }
        }
    }
    let summary = nerve_report::summary::build(
        m,
        out,
        &nerve_report::summary::Options {
            engine: ran.engine,
            threads: ran.threads,
            inference_steps: a.inference_steps,
            decision: a.decision.as_deref(),
            decision_spikes: &ran.decision_spikes,
            recorded: &ran.recorded,
            load_seconds,
            huge_pages: crate::hugepages::requested(),
        },
    );
    if let Some(r) = &a.report {
        nerve_report::write_file(r, serde_json::to_string(&summary)?.as_bytes())?;
    }
    // After the recordings and the report: what fails here (nothing checked
    // before the run should) costs neither.
    if let Some(w) = &a.save_weights {
        let learned = m.learned();
        if learned.is_empty() && !a.quiet {
            crate::out::errln!("note: --save-weights: the learning projections of {} have no synapses; {} holds no rows", a.image.display(), w.display());
        }
        nerve_report::weights::write(w, &learned, m.dt_ms)?;
    }
    if let (Some(p), Some(read)) = (&a.save_network, &to_save) {
        save_network(read, p, ran.machine, a.steps, &request.input_tables, compiled.as_ref().map(|(arch, run)| (arch, run, &a.build)), a.quiet)?;
    }
    if a.json {
        crate::out::outln!("{}", serde_json::to_string(&summary)?);
    } else if !a.quiet {
        crate::out::out!("{}", nerve_report::text::run_lines(&summary, out.wall_seconds));
        match &a.report {
            Some(r) => crate::out::outln!("`nerve report {}` gives the breakdowns, pictures and an HTML page.", r.display()),
            None => crate::out::outln!("With `--report FILE`, `nerve report FILE` gives the breakdowns, pictures and an HTML page."),
        }
    }
    Ok(())
}

/// A network for `--save-network`: its text and what was read from it.
struct ToSave {
    file: PathBuf,
    text: String,
    net: nerve_compiler::net::model::Network,
}

/// The network `--save-network TO` rewrites, refused if it could not be
/// saved exactly: `network`'s text, or `piped` (a pipe's, read already).
fn read_to_save(network: &Path, piped: Option<String>, to: &Path) -> Result<ToSave> {
    let text = match piped {
        Some(t) => t,
        None => nerve_isa::files::read_to_string(network).map_err(|e| format!("cannot read {}: {e}", network.display()))?,
    };
    let net = nerve_compiler::front::json::parse_network(&text, network)?;
    nerve_compiler::front::resume::check(&net, &text, to)?;
    Ok(ToSave { file: network.to_path_buf(), text, net })
}

/// `--save-network`: the network rewritten to continue the run; then,
/// given the run's profile, arithmetic and compile options (`compiled`),
/// compiled alike in memory, with a note for each population and
/// projection that the continuation computes otherwise. The machine is
/// dropped once what it ran is read, before that compile: the two are not
/// held at once.
fn save_network(
    read: &ToSave,
    to: &Path,
    m: Machine,
    steps: u64,
    inputs: &[nerve_report::session::InputTable],
    compiled: Option<(&Arch, &nerve_compiler::front::resume::Arithmetic, &crate::cmd::compile::BuildArgs)>,
    quiet: bool,
) -> Result<()> {
    use nerve_compiler::front::resume::{differences, save_parts, Arithmetic, Continued, Delivered, Saved, SavedProjection};
    let (text, net) = (&read.text, &read.net);
    let learned: Vec<SavedProjection> = m
        .learned()
        .iter()
        .map(|l| SavedProjection { index: l.index as usize, conns: l.synapses.iter().map(|s| (s.pre, s.post, s.weight, s.delay as f64 * m.dt_ms)).collect() })
        .collect();
    let states: Vec<Vec<(String, Vec<f64>)>> =
        net.pops().map(|(_, p)| m.pops.iter().position(|q| q.name == p.name).map_or_else(Vec::new, |i| m.state_of(i))).collect();
    let in_flight = m.input_in_flight(steps);
    let schedules = nerve_report::session::continued_schedules(net, &m, steps, inputs);
    let written = save_parts(&Saved {
        net,
        text,
        learned: &learned,
        states: &states,
        t_end_ms: steps as f64 * m.dt_ms,
        to,
        from: &read.file,
        in_flight,
        schedules: &schedules,
    })?;
    nerve_report::write_file(to, written.text.as_bytes())?;
    let mut notes = written.notes.clone();
    if let Some((arch, run, build)) = compiled {
        // Each learning synapse's mantissa as the run delivered it at its end.
        let mut delivered: Vec<Delivered> = Vec::new();
        for c in &m.cores {
            let first = m.pops[c.pop as usize].slices.iter().find(|s| s.core == c.id).map_or(0, |s| s.first);
            for p in &c.plastic {
                let at = match delivered.iter().position(|d| d.index == p.index as usize) {
                    Some(i) => i,
                    None => {
                        delivered.push(Delivered { index: p.index as usize, synapses: Vec::new() });
                        delivered.len() - 1
                    }
                };
                delivered[at].synapses.extend(p.syn.iter().enumerate().map(|(k, x)| (p.pre[k], first + x.post, x.delay as u32, x.w)));
            }
        }
        drop(m);
        // The saved network as the continuation compiles it: with the run's
        // profile and options, quietly (its progress is not the run's).
        let not_compiled = |e: &dyn std::fmt::Display| {
            format!("--save-network {}: written, but it does not compile for `{}` with the run's options: {e}", to.display(), arch.name)
        };
        // From the text written, not the file read back: a FIFO or a link to
        // standard output cannot be read back (the run waited for ever).
        let input = nerve_compiler::front::InputFile {
            path: to.to_path_buf(),
            content: nerve_compiler::front::Content::Json,
            bytes: Some(written.text.as_bytes().to_vec()),
        };
        let out = crate::cmd::compile::build(input, arch, build, true).map_err(|e| not_compiled(&e))?;
        let saved = nerve_compiler::front::json::parse_network(&written.text, to).map_err(|e| not_compiled(&e))?;
        notes.extend(differences(&Continued {
            run,
            delivered: &delivered,
            saved: &saved,
            cont: &Arithmetic::of(&out.image, &out.quant),
            written: &written,
            states: &states,
            arch: &arch.name,
        }));
    }
    // What the continuation will not carry is about the result: said under
    // --quiet too (which keeps "warnings about the result"), as warnings.
    for n in notes {
        crate::out::errln!("{}: {n}", if quiet { "warning" } else { "note" });
    }
    Ok(())
}

/// The library's words for a run's requests, as the command line spells them.
fn flag_words(e: nerve_report::Error) -> Box<dyn std::error::Error> {
    use nerve_report::Error as E;
    match e {
        E::Request(m) => m
            .replacen("probe `", "--probe `", 1)
            .replacen("decision population `", "--decision `", 1)
            .replacen("a .npy probe file holds one probe; probe one variable", "--probe-out .npy holds one probe; give one --probe", 1)
            .into(),
        E::Emu(EmuError::Inject(InjectError { index, population, neuron, step, reason })) => {
            format!("--input spike {index} (`{population}` neuron {neuron} at step {step}): {reason}").into()
        }
        E::Emu(EmuError::TooManySteps { steps, max }) => format!("--steps {steps} exceeds {max}").into(),
        e => e.into(),
    }
}

/// A size in bytes: a number with an optional K, M, G or T (powers of 1024; a trailing B or iB is allowed).
fn parse_bytes(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    // A plain number may have an exponent (1e9); a unit starts at the first letter otherwise.
    let at = if t.parse::<f64>().is_ok() { t.len() } else { t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()) };
    let x: f64 = t[..at].trim().parse().map_err(|_| format!("`{s}` is not a size (e.g. 512M, 2G)"))?;
    let unit = t[at..].to_ascii_uppercase();
    // One B or iB after the unit (MiB, MB, M) or B alone: not BBB, nor iB without a unit.
    let prefix = match unit.strip_suffix("IB") {
        Some(p) if !p.is_empty() => p,
        Some(_) => "?",
        None => unit.strip_suffix('B').unwrap_or(&unit),
    };
    let mult: u64 = match prefix {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(format!("`{s}`: unknown unit `{}` (use K, M, G or T)", &t[at..])),
    };
    if !x.is_finite() || x * (mult as f64) < 1.0 {
        return Err(format!("`{s}`: give at least 1 byte"));
    }
    Ok((x * mult as f64).min(u64::MAX as f64) as u64)
}

fn fmt_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / (1u64 << 10) as f64),
        b => format!("{b} B"),
    }
}

/// A rank runs at least one core: more ranks than the image has cores is refused.
fn too_many_ranks(image: &std::path::Path, cores: usize, ranks: usize) -> Result<()> {
    if ranks > cores.max(1) {
        return Err(format!(
            "{}: its {cores} core(s) cannot be shared among {ranks} ranks (each rank runs at least one core): start at most {cores} (`mpirun -np {cores}`)",
            image.display()
        )
        .into());
    }
    Ok(())
}
