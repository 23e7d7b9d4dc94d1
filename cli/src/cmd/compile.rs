use clap::Args;
use nerve_compiler::compile::{compile, Options};
use nerve_compiler::front::nir::lower::{NirOptions, SourceConvention};
use nerve_compiler::front::{Content, InputFile};
use nerve_compiler::map::place::{read_placement, PlaceOptions, Strategy};
use nerve_compiler::net::model::{Network, ResetMode};
use nerve_isa::arch::Arch;
use std::path::{Path, PathBuf};

use super::Result;
use crate::progress::Progress;

#[derive(Args)]
pub struct CompileArgs {
    /// The network: a JSON network file (docs/network-format.md) or a NIR file (.nir, docs/nir.md).
    #[arg(value_parser = super::IN)]
    network: PathBuf,
    /// Architecture: a built-in profile (`nerve arch list`) or a .toml/.json profile file.
    #[arg(long)]
    arch: String,
    /// Output image (default: the network's file name with .img).
    #[arg(short, long, value_parser = super::OUT)]
    output: Option<PathBuf>,
    /// Write the mapping report as JSON.
    #[arg(long, value_parser = super::OUT)]
    report: Option<PathBuf>,
    #[command(flatten)]
    build: BuildArgs,
    /// Print nothing but errors and warnings (a warning is about the result: a coarse NIR dt, what the fixed point loses).
    #[arg(short, long)]
    quiet: bool,
    /// Print the mapping report as JSON on standard output (the --report file's contents) instead of the tables.
    #[arg(long)]
    json: bool,
}

/// How a network becomes an image: `nerve compile`'s options, which `nerve
/// run` takes too when it is given a network instead of an image.
#[derive(Args, Clone, PartialEq)]
pub struct BuildArgs {
    /// Seed for placement refinement (connectors carry their own seeds; refused with a
    /// placement file, which is used as it is).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Placement: `pack` (fewest tiles and chips), `spread` (every tile), or a CSV
    /// file with header `population,slice,core`, a row per slice (the compiler's
    /// delay-extension relays `POP.delayK` included).
    #[arg(long, default_value = "pack", value_parser = placement)]
    placement: String,
    /// Most neurons per core for every population (the profile's limit applies too).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    neurons_per_core: Option<u32>,
    /// Placement refinement effort: annealing moves per slice (0 turns refinement off). The moves
    /// in all are capped at 1e7 / (the slices' mean number of neighbours), at least one per slice,
    /// so that dense slice graphs place in seconds; the mapping report gives the moves tried.
    /// A refinement that ends worse than it began keeps its start. Refused with a placement file,
    /// which is used as it is.
    #[arg(long, default_value_t = 60)]
    effort: u32,
    /// Shared routes: a projection's source slices all route to every slice of its target population
    /// when that adds at most this fraction of its packet deliveries (the extra packets reach cores
    /// with no synapse for them), so that their routing entries merge; 0 routes every slice to
    /// exactly the cores holding its synapses.
    #[arg(long, default_value_t = nerve_compiler::map::route::share::DEFAULT_MAX_EXTRA, value_parser = fraction, allow_hyphen_values = true, value_name = "MAX_EXTRA")]
    shared_routes: f64,
    #[command(flatten)]
    pub(crate) nir: NirImportArgs,
}

/// How a NIR file's parameters are read (docs/nir.md); `compile`, `run` and `export nir` take them.
#[derive(Args, Clone, PartialEq)]
pub struct NirImportArgs {
    /// NIR: the timestep in seconds (default: the file's `sample_dt` metadata, else the source's default).
    #[arg(long, value_parser = positive_seconds, allow_hyphen_values = true)]
    dt: Option<f64>,
    /// NIR: reset after a spike (default: the source's convention).
    #[arg(long, value_parser = ["zero", "subtract"])]
    reset: Option<String>,
    /// NIR: the exporter whose conventions give --dt and --reset their defaults; `auto` detects
    /// snnTorch (r = τ/dt) and Sinabs (IF with r = 1) from the file, else `generic` (1 ms, reset to v_reset).
    #[arg(long, default_value = "auto", value_parser = SourceConvention::NAMES)]
    source: String,
}

impl Default for NirImportArgs {
    /// The options' defaults, for a reader that takes none of them (a JSON network).
    fn default() -> Self {
        NirImportArgs { dt: None, reset: None, source: "auto".into() }
    }
}

impl NirImportArgs {
    /// The NIR import options.
    pub fn options(&self) -> Result<NirOptions> {
        Ok(NirOptions {
            dt_s: self.dt,
            reset: self.reset.as_deref().map(|r| if r == "subtract" { ResetMode::Subtract } else { ResetMode::ToReset }),
            source: SourceConvention::parse(&self.source).ok_or_else(|| format!("--source {}: one of {}", self.source, SourceConvention::NAMES.join(", ")))?,
        })
    }
}

impl NirImportArgs {
    /// The option names given on the command line.
    pub fn given(&self) -> Vec<&'static str> {
        [("--dt", self.dt.is_some()), ("--reset", self.reset.is_some()), ("--source", super::given("source"))]
            .into_iter()
            .filter(|f| f.1)
            .map(|f| f.0)
            .collect()
    }
}

/// Refuses NIR import options for a network that is not NIR, as a usage
/// error of subcommand `sub` (exit status 2): they mean nothing for JSON.
/// An image given where a network goes is left to the reader, which says so.
pub fn nir_options_fit(network: &InputFile, nir: &NirImportArgs, sub: &str) {
    let given = nir.given();
    if !given.is_empty() && network.content != Content::Nir && network.content != Content::Image {
        super::usage_error(sub, &format!("{}: only for a NIR network (HDF5, .nir); {} is not one", given.join(", "), network.path.display()));
    }
}

/// Refuses the placement refinement's options with a placement file, as a
/// usage error of subcommand `sub`: the file's placement is used as given
/// (they were ignored without a word).
pub fn placement_options_fit(b: &BuildArgs, sub: &str) {
    if matches!(b.placement.as_str(), "pack" | "spread") {
        return;
    }
    let given: Vec<&str> = [("--effort", super::given("effort")), ("--seed", super::given("seed"))].into_iter().filter(|f| f.1).map(|f| f.0).collect();
    if !given.is_empty() {
        super::usage_error(sub, &format!("{}: refine a placement by pack or spread; the placement file {} is used as it is", given.join(", "), b.placement));
    }
}

impl BuildArgs {
    /// The option names given on the command line (to refuse them where they do not apply), a default value too.
    pub fn given(&self) -> Vec<&'static str> {
        let mut g = Vec::new();
        let flags: [(&'static str, bool); 5] = [
            ("--seed", super::given("seed")),
            ("--placement", super::given("placement")),
            ("--neurons-per-core", self.neurons_per_core.is_some()),
            ("--effort", super::given("effort")),
            ("--shared-routes", super::given("shared_routes")),
        ];
        for (name, set) in flags {
            if set {
                g.push(name);
            }
        }
        g.extend(self.nir.given());
        g
    }
}

impl BuildArgs {
    /// The files these options read (a placement file): inputs that no output may overwrite.
    pub fn files(&self) -> Vec<&Path> {
        match self.placement.as_str() {
            "pack" | "spread" => Vec::new(),
            f => vec![Path::new(f)],
        }
    }
}

/// An architecture given as a profile file rather than a built-in name: an
/// input that no output may overwrite.
pub fn arch_file(arch: &str) -> Option<&Path> {
    Some(Path::new(arch)).filter(|p| p.is_file())
}

/// The compile options a script exporter (pynn, lava) takes: the
/// partition's. Placement and routing make nothing an exporter writes (it
/// stops after the partition), so their options are not among these; nor
/// are the NIR import's, as neither exporter represents NIR neurons.
#[derive(Args, Clone, PartialEq)]
pub struct PrepareArgs {
    /// Most neurons per core for every population (the profile's limit applies too).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    neurons_per_core: Option<u32>,
}

impl PrepareArgs {
    /// The arguments of an export that fills no cores (lava): no --neurons-per-core.
    pub fn without_cores() -> Self {
        PrepareArgs { neurons_per_core: None }
    }

    /// --neurons-per-core, if given.
    pub fn neurons_per_core(&self) -> Option<u32> {
        self.neurons_per_core
    }
}

/// Reads `network` and compiles it for `arch`; the report's read time is set, its write time is not.
pub fn build(network: InputFile, arch: &Arch, b: &BuildArgs, quiet: bool) -> Result<nerve_compiler::compile::Output> {
    let (net, read_s) = read(network, arch, b.neurons_per_core, &b.nir, quiet)?;
    let opts = options(b)?;
    let mut prog = Progress::new(quiet, "compiling");
    let mut out = compile(arch, &net, &opts, &mut |s: &str| prog.stage(s))?;
    prog.finish();
    out.report.seconds.read = read_s;
    // Not freed: the process ends soon after, and the exit returns all its
    // memory at once, where freeing a large network's projections piece by
    // piece kept the user waiting (see `run`'s end).
    std::mem::forget(net);
    Ok(out)
}

/// The compile's warnings on what the image computes (`MapReport::warnings`):
/// said under -q too, by the caller that compiled for the user (not again
/// for a check, nor by every rank).
pub fn print_warnings(out: &nerve_compiler::compile::Output) {
    for w in &out.report.warnings {
        crate::out::errln!("warning: {w}");
    }
}

/// The network and what an exporter needs of its compilation (quantisation,
/// partition, synapses: no placement, routing or code).
pub fn prepare(network: InputFile, arch: &Arch, p: &PrepareArgs, quiet: bool) -> Result<(Network, nerve_compiler::compile::Prepared)> {
    let (net, _) = read(network, arch, p.neurons_per_core, &NirImportArgs::default(), quiet)?;
    let opts = Options { neurons_per_core: p.neurons_per_core, ..Options::default() };
    let mut prog = Progress::new(quiet, "preparing");
    let prep = nerve_compiler::compile::prepare(arch, &net, &opts, &mut |s: &str| prog.stage(s))?;
    prog.finish();
    Ok((net, prep))
}

/// The network, and the seconds reading it.
fn read(network: InputFile, arch: &Arch, neurons_per_core: Option<u32>, nir: &NirImportArgs, quiet: bool) -> Result<(Network, f64)> {
    if let (Some(k), Some(past)) = (neurons_per_core, Options { neurons_per_core, ..Options::default() }.neurons_per_core_past(arch)) {
        if !quiet {
            crate::out::errln!("note: --neurons-per-core {k} {past}");
        }
    }
    let t_read = std::time::Instant::now();
    let net = read_network(network, nir, quiet)?;
    Ok((net, t_read.elapsed().as_secs_f64()))
}

/// The compile options the flags ask for.
fn options(b: &BuildArgs) -> Result<Options> {
    let strategy = match b.placement.as_str() {
        "pack" => Strategy::Pack,
        "spread" => Strategy::Spread,
        // The value parser (`placement`) lets only an existing path through.
        f => Strategy::Explicit(read_placement(Path::new(f))?),
    };
    Ok(Options {
        place: PlaceOptions { strategy, effort: b.effort, seed: b.seed },
        neurons_per_core: b.neurons_per_core,
        seed: b.seed,
        threads: None,
        shared_routes: b.shared_routes,
        // Ctrl-C ends the process (`interrupt`), removing what it was writing.
        stop: None,
    })
}

/// Reads a network file; for NIR, says which dt and reset it chose and why
/// (unless `quiet`), and warns of a dt that is coarse against a time constant.
pub fn read_network(network: InputFile, nir: &NirImportArgs, quiet: bool) -> Result<Network> {
    let (net, choice) = nerve_compiler::front::read_input_noting(network, &nir.options()?).map_err(flag_words)?;
    if let Some(c) = choice {
        if !quiet {
            crate::out::errln!("{}", c.summary());
        }
        // Said under -q too: a warning is about the result (what the emulator
        // will compute), not progress, and -q keeps errors and warnings.
        for w in &c.warnings {
            crate::out::errln!("warning: {w}");
        }
    }
    Ok(net)
}

/// The library's words for options, as the command line spells them.
fn flag_words(e: nerve_compiler::CompileError) -> Box<dyn std::error::Error> {
    match e {
        nerve_compiler::CompileError::Options(m) => m.replace("the timestep, reset and source options", "--dt, --reset and --source").into(),
        e => e.into(),
    }
}

pub fn run(a: CompileArgs) -> Result<()> {
    let network = InputFile::open(&a.network).map_err(|e| format!("cannot read {}: {e}", a.network.display()))?;
    nir_options_fit(&network, &a.build.nir, "compile");
    placement_options_fit(&a.build, "compile");
    let arch = Arch::load(&a.arch)?;
    let out_path = match &a.output {
        Some(o) => o.clone(),
        // A pipe's or device's name is no place for the image (`-` made
        // /dev/stdin.img, `<(…)` /dev/fd/63.img).
        None if nerve_isa::files::is_stream(&a.network) => {
            super::usage_error("compile", &format!("{} is a pipe or a stream, not a file: give the image's path with -o", a.network.display()))
        }
        None => a.network.with_extension("img"),
    };
    let outputs: Vec<(&str, &Path)> = std::iter::once(("-o", out_path.as_path())).chain(a.report.as_deref().map(|p| ("--report", p))).collect();
    let refs = network.referenced_files();
    let inputs: Vec<&Path> =
        std::iter::once(a.network.as_path()).chain(refs.iter().map(PathBuf::as_path)).chain(arch_file(&a.arch)).chain(a.build.files()).collect();
    super::check_outputs("compile", a.json, &outputs, &inputs)?;
    let mut out = build(network, &arch, &a.build, a.quiet || a.json)?;
    print_warnings(&out);
    // Both outputs staged, then put in place: a report that cannot be
    // written leaves no image behind (nor a changed old one).
    let t_write = std::time::Instant::now();
    let image = nerve_report::Staged::write(&out_path, |s| {
        out.image.write(s).map_err(|e| match e {
            nerve_isa::image::ImageError::WriteIo { source, .. } => source,
            e => std::io::Error::other(e.to_string()),
        })
    })?;
    out.report.seconds.write = t_write.elapsed().as_secs_f64();
    let report = match &a.report {
        Some(p) => {
            let json = serde_json::to_string_pretty(&out.report)?;
            Some(nerve_report::Staged::write(p, |s| std::fs::write(s, json))?)
        }
        None => None,
    };
    image.commit()?;
    if let Some(r) = report {
        r.commit()?;
    }
    if a.json {
        crate::out::outln!("{}", serde_json::to_string_pretty(&out.report)?);
    } else if !a.quiet {
        crate::out::out!("{}", nerve_report::text::map_report(&out.report, &arch, &out_path.display().to_string()));
    }
    // The image and report are not freed either: the exit returns their
    // memory at once (rand_big at p = 0.1: 60-120 ms of freeing after the
    // files were in place).
    std::mem::forget(out);
    Ok(())
}

/// A timestep in seconds: a finite number > 0.
fn fraction(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        Ok(x) => Err(format!("{x} is not a fraction of deliveries: give a number >= 0 (1 allows twice the deliveries; 0 routes every slice exactly)")),
        Err(_) => Err(format!("`{s}` is not a number (e.g. 1)")),
    }
}

/// --placement: `pack`, `spread` or a path that exists (what is in the file is
/// checked when it is read); anything else is a usage error (status 2).
fn placement(s: &str) -> std::result::Result<String, String> {
    if s == "pack" || s == "spread" || Path::new(s).exists() {
        Ok(s.to_string())
    } else {
        Err("expected `pack`, `spread` or an existing CSV file".into())
    }
}

fn positive_seconds(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(x) => Err(format!("{x} is not a timestep: give a number of seconds > 0 (e.g. 0.001)")),
        Err(_) => Err(format!("`{s}` is not a number of seconds (e.g. 0.001)")),
    }
}
