use clap::{Args, Subcommand, ValueEnum};
use nerve_compiler::export::{lava, pynn, spinnaker, WeightMode, TARGETS};
use nerve_compiler::front::{Content, InputFile};
use nerve_isa::arch::Arch;
use nerve_isa::image::Image;
use nerve_report::session::{Input, InputTable};
use std::path::{Path, PathBuf};

use super::Result;
use crate::cmd::compile::PrepareArgs;

// Not `args_conflicts_with_subcommands`: it took the global `-q` given
// before the target for one of the command's own options, and refused it;
// `run` refuses `--list` with a target instead.
#[derive(Args)]
#[command(arg_required_else_help = true)]
pub struct ExportArgs {
    /// List every target: what it writes, the models it represents and as what, its weights, delays and connectors.
    #[arg(long)]
    list: bool,
    #[command(subcommand)]
    target: Option<ExportCmd>,
    /// Print nothing but errors and warnings (no "wrote …" lines or notes).
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
pub enum ExportCmd {
    // The examples close each help, as every other command's do (getting-started says so).
    /// A PyNN script for sPyNNaker (SpiNNaker 1 and 2) or NEST, with nerve's quantised weights and partition.
    #[command(after_help = "Example:\n  nerve export pynn net.json --arch spinnaker -o net.py\n  python net.py --duration 1000 --out spikes.csv")]
    Pynn(PynnArgs),
    /// A lava-nc script for Loihi 2 (fixed_pt), bit-identical with nerve's loihi-profile emulation.
    #[command(after_help = "Example:\n  nerve export lava net.json --arch loihi -o net_lava.py\n  python net_lava.py --steps 1000")]
    Lava(LavaArgs),
    /// An image's SpiNNaker routing tables: PACMAN's JSON and the router's binary form.
    #[command(after_help = "Example:\n  nerve export spinnaker-tables net.img -o tables.json --binary tables.bin")]
    SpinnakerTables(TablesArgs),
    /// A NIR network, with its weights as quantised for a target, as a NIR file (NIR neurons come from a NIR import).
    #[command(after_help = "Example:\n  nerve export nir model.nir --arch loihi -o quantised.nir")]
    Nir(NirArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    Spinnaker,
    Nest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum WeightsArg {
    /// As nerve quantised them for --arch (what the board runs).
    Quantised,
    /// As the network gives them.
    Original,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PoissonArg {
    /// SpikeSourceArray carrying exactly nerve's Poisson spikes.
    Array,
    /// PyNN's SpikeSourcePoisson with the rate.
    Native,
}

#[derive(Args)]
pub struct PynnArgs {
    /// The network (.json: a .nir network's NIR neurons have no PyNN cell type; `export nir` writes NIR).
    #[arg(value_parser = super::IN)]
    network: PathBuf,
    /// The architecture whose quantisation and partition the script carries.
    #[arg(long)]
    arch: String,
    /// The script to write (bulk data goes to a directory beside it, named after it).
    #[arg(short, long, value_parser = super::OUT)]
    output: PathBuf,
    /// The PyNN backend the script imports.
    #[arg(long, value_enum, default_value_t = BackendArg::Spinnaker)]
    backend: BackendArg,
    #[arg(long, value_enum, default_value_t = WeightsArg::Quantised)]
    weights: WeightsArg,
    #[arg(long, value_enum, default_value_t = PoissonArg::Array)]
    poisson: PoissonArg,
    /// Run length the script defaults to and spike arrays cover, ms (default: the network's duration_ms, else 1000).
    #[arg(long, value_parser = positive_ms, allow_hyphen_values = true)]
    duration: Option<f64>,
    /// Spikes for input populations (CSV population,neuron,time or JSON, as `nerve run --input`). Repeatable.
    #[arg(long, value_parser = super::IN)]
    input: Vec<PathBuf>,
    #[command(flatten)]
    build: PrepareArgs,
}

#[derive(Args)]
pub struct LavaArgs {
    /// The network (.json; loihi_lif populations and spike sources: a .nir network's NIR neurons are not Lava's LIF).
    #[arg(value_parser = super::IN)]
    network: PathBuf,
    /// The architecture to compile for (the loihi profile: what the script must match).
    #[arg(long)]
    arch: String,
    /// The script to write (bulk data goes to a directory beside it, named after it).
    #[arg(short, long, value_parser = super::OUT)]
    output: PathBuf,
    /// Timesteps the script runs by default and spike sources cover (default: the network's duration_ms, else 1000 ms).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    steps: Option<u32>,
    /// Spikes for input populations (as `nerve run --input`). Repeatable.
    #[arg(long, value_parser = super::IN)]
    input: Vec<PathBuf>,
    // No --neurons-per-core: the script builds lava processes, not cores.
    // No NIR import options: a NIR network is refused (`not_nir`).
}

#[derive(Args)]
pub struct TablesArgs {
    /// The chip image (from `nerve compile`) on a SpiNNaker-like profile.
    #[arg(value_parser = super::IN)]
    image: PathBuf,
    /// PACMAN's JSON routing tables to write.
    #[arg(short, long, value_parser = super::OUT)]
    output: PathBuf,
    /// Also write the router's binary form here.
    #[arg(long, value_parser = super::OUT)]
    binary: Option<PathBuf>,
    /// The tables before compression (one entry per source core and router, default-routable ones marked).
    #[arg(long)]
    uncompressed: bool,
}

#[derive(Args)]
pub struct NirArgs {
    /// The network: a NIR file (.nir), written back with its weights quantised for --arch (NIR neurons come from a NIR import only: a JSON network's models have no NIR form).
    #[arg(value_parser = super::IN)]
    network: PathBuf,
    /// The target whose weight quantisation the export carries.
    #[arg(long)]
    arch: String,
    /// Output file (.nir).
    #[arg(short, long, value_parser = super::OUT)]
    output: PathBuf,
    #[command(flatten)]
    nir: super::compile::NirImportArgs,
}

/// A usage error of this subcommand (exit status 2).
fn usage_error(msg: &str) -> ! {
    super::usage_error("export", msg)
}

pub fn run(a: ExportArgs) -> Result<()> {
    if a.list && a.target.is_some() {
        usage_error("--list lists every target; it takes no target")
    }
    if a.list {
        print_list();
        return Ok(());
    }
    let quiet = a.quiet;
    match a.target {
        None => Err("give a target (pynn, lava, spinnaker-tables, nir) or --list".into()),
        Some(ExportCmd::Pynn(a)) => {
            let network = InputFile::open(&a.network).map_err(|e| format!("cannot read {}: {e}", a.network.display()))?;
            not_nir(&network, "pynn", "has no PyNN cell type for them")?;
            if a.backend == BackendArg::Nest && a.build.neurons_per_core().is_some() {
                usage_error("--neurons-per-core sets sPyNNaker's neurons per core; --backend nest has no cores (give it for --backend spinnaker only)")
            }
            let inputs = inputs_of(&network, &a.input, &a.arch);
            let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
            super::check_outputs("export", false, &[("-o", &a.output)], &inputs)?;
            let arch = Arch::load(&a.arch)?;
            let (net, prep) = crate::cmd::compile::prepare(network, &arch, &a.build, true)?;
            let o = pynn::Options {
                backend: match a.backend {
                    BackendArg::Spinnaker => pynn::Backend::Spinnaker,
                    BackendArg::Nest => pynn::Backend::Nest,
                },
                weights: match a.weights {
                    WeightsArg::Quantised => WeightMode::Quantised,
                    WeightsArg::Original => WeightMode::Original,
                },
                poisson: match a.poisson {
                    PoissonArg::Array => pynn::PoissonMode::Array,
                    PoissonArg::Native => pynn::PoissonMode::Native,
                },
                duration_ms: a.duration,
                inputs: read_inputs(&a.input, &net)?,
            };
            let s = pynn::export(&net, &prep, &o, &data_dir(&a.output))?;
            write_script(&a.output, &s, &inputs, quiet)
        }
        Some(ExportCmd::Lava(a)) => {
            let network = InputFile::open(&a.network).map_err(|e| format!("cannot read {}: {e}", a.network.display()))?;
            not_nir(&network, "lava", "represents loihi_lif neurons only")?;
            let inputs = inputs_of(&network, &a.input, &a.arch);
            let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
            super::check_outputs("export", false, &[("-o", &a.output)], &inputs)?;
            let arch = Arch::load(&a.arch)?;
            let (net, prep) = crate::cmd::compile::prepare(network, &arch, &PrepareArgs::without_cores(), true)?;
            let o = lava::Options { steps: a.steps, inputs: read_inputs(&a.input, &net)? };
            let s = lava::export(&net, &prep, &o, &data_dir(&a.output))?;
            write_script(&a.output, &s, &inputs, quiet)
        }
        Some(ExportCmd::SpinnakerTables(a)) => {
            let outputs: Vec<(&str, &Path)> = std::iter::once(("-o", a.output.as_path())).chain(a.binary.as_deref().map(|b| ("--binary", b))).collect();
            super::check_outputs("export", false, &outputs, &[a.image.as_path()])?;
            let img = Image::read(&a.image)?;
            let tables = if a.uncompressed { spinnaker::uncompressed(&img)? } else { spinnaker::compressed(&img)? };
            // Both staged, then put in place: a --binary that cannot be written leaves no -o behind.
            let json = nerve_report::Staged::write(&a.output, |s| std::fs::write(s, spinnaker::to_json(&tables)))?;
            let binary = a.binary.as_deref().map(|b| nerve_report::Staged::write(b, |s| std::fs::write(s, spinnaker::to_binary(&tables)))).transpose()?;
            json.commit()?;
            if let Some(b) = binary {
                b.commit()?;
            }
            // Warnings, printed even with --quiet.
            for n in spinnaker::notes(&tables) {
                crate::out::errln!("warning: {n}");
            }
            let entries: usize = tables.iter().map(|t| t.entries.len()).sum();
            let largest = tables.iter().map(|t| t.entries.len()).max().unwrap_or(0);
            if !quiet {
                crate::out::errln!(
                    "wrote {}{} ({} chips, {entries} {} entries, largest table {largest} of {})",
                    a.output.display(),
                    a.binary.as_ref().map_or(String::new(), |b| format!(" and {}", b.display())),
                    tables.len(),
                    if a.uncompressed { "uncompressed" } else { "compressed" },
                    img.arch.router.table_entries
                );
            }
            Ok(())
        }
        Some(ExportCmd::Nir(a)) => {
            let network = InputFile::open(&a.network).map_err(|e| format!("cannot read {}: {e}", a.network.display()))?;
            super::compile::nir_options_fit(&network, &a.nir, "export");
            let inputs = inputs_of(&network, &[], &a.arch);
            let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
            super::check_outputs("export", false, &[("-o", &a.output)], &inputs)?;
            let arch = Arch::load(&a.arch)?;
            let net = super::compile::read_network(network, &a.nir, quiet)?;
            let prep = nerve_compiler::compile::prepare(&arch, &net, &Default::default(), &mut |_| {})?;
            let g = nerve_compiler::export::nir::to_nir(&net, &prep.quant)?;
            nerve_compiler::export::nir::write_nir(&g, &a.output)?;
            if !quiet {
                crate::out::errln!("wrote {} ({} nodes, {} edges; weights as quantised for `{}`)", a.output.display(), g.nodes.len(), g.edges.len(), arch.name);
            }
            Ok(())
        }
    }
}

/// Refuses a NIR network for a script exporter, before anything is read or
/// written: NIR imports as NIR neurons (nir_lif, nir_if, nir_cubalif, …),
/// which neither PyNN nor Lava represents, so every NIR network failed later
/// naming its first population.
fn not_nir(network: &InputFile, target: &str, why: &str) -> Result<()> {
    if network.content == Content::Nir {
        return Err(format!(
            "{}: a NIR network becomes NIR neurons (nir_lif, nir_if, nir_cubalif, …), and `export {target}` {why} (`nerve export --list`); `nerve export nir` writes it as NIR with the weights quantised for --arch",
            network.path.display()
        )
        .into());
    }
    Ok(())
}

/// The directory beside a script that holds its bulk data: `net.py` → `net_data`.
fn data_dir(script: &Path) -> String {
    format!("{}_data", script.file_stem().map_or("export".into(), |s| s.to_string_lossy()))
}

/// `--input` files as `nerve run` reads them: the same spikes, the same
/// refusals (two spikes of a neuron in one step, within a file or across files).
fn read_inputs(files: &[PathBuf], net: &nerve_compiler::net::model::Network) -> Result<Vec<(String, u32, f64)>> {
    let dt_ms = net.dt_ms;
    let tables = files.iter().map(|f| InputTable::read(f)).collect::<std::result::Result<Vec<_>, _>>()?;
    // A CSV's label column names each spike's neuron, as `nerve run --input` checks.
    for t in &tables {
        let Some(labels) = &t.table.labels else { continue };
        // Each of the file's population names looked up once, not per spike.
        let pops: Vec<_> = t.table.pops.iter().map(|name| net.pops().find(|(_, q)| &q.name == name).map(|(_, q)| q)).collect();
        for (index, &(p, neuron, time_ms)) in t.table.spikes.iter().enumerate() {
            let name = &t.table.pops[p as usize];
            // (A neuron the population lacks is refused below, as such.)
            if let (Some(label), Some(pop)) = (labels.get(index), pops[p as usize].filter(|q| neuron < q.size)) {
                if let Some(why) = nerve_report::session::label_problem(&pop.labels, neuron, label) {
                    return Err(format!("{}: spike {index} (`{name}` neuron {neuron} at {time_ms} ms): {why}", t.origin).into());
                }
            }
        }
    }
    let inputs: Vec<Input> = tables.iter().map(|t| Input { origin: t.origin.clone(), spikes: t.table.to_spikes() }).collect();
    // Each spike named in its file (the exporter would name it by its place among all the files' spikes).
    for input in &inputs {
        for (index, s) in input.spikes.iter().enumerate() {
            if let Some(why) = nerve_compiler::export::input_spike_problem(net, &s.population, s.neuron, s.time_ms) {
                return Err(format!("{}: spike {index} (`{}` neuron {} at {} ms): {why}", input.origin, s.population, s.neuron, s.time_ms).into());
            }
        }
    }
    // No step at or after MAX_STEPS: a run never reaches it (and lava's step t + 1 would wrap).
    nerve_report::session::input_steps(&inputs, dt_ms, nerve_isa::MAX_STEPS, &mut |input, index, s| {
        Err(nerve_report::Error::File(format!(
            "{}: spike {index} (`{}` neuron {} at {} ms) is at step {:e}, after {}, the last of the longest run",
            input.origin,
            s.population,
            s.neuron,
            s.time_ms,
            nerve_isa::time::steps_of(s.time_ms, dt_ms),
            nerve_isa::MAX_STEPS - 1
        )))
    })?;
    Ok(inputs.into_iter().flat_map(|i| i.spikes).map(|s| (s.population, s.neuron, s.time_ms)).collect())
}

/// What an exporter reads: the network and the files it references, the
/// `--input` files and a profile file.
fn inputs_of(network: &InputFile, input: &[PathBuf], arch: &str) -> Vec<PathBuf> {
    std::iter::once(network.path.clone())
        .chain(network.referenced_files())
        .chain(input.iter().cloned())
        .chain(super::compile::arch_file(arch).map(Path::to_path_buf))
        .collect()
}

fn write_script(path: &Path, s: &pynn::Script, inputs: &[&Path], quiet: bool) -> Result<()> {
    let dir = path.with_file_name(&s.data_dir);
    // A script read from a stream has no directory beside it to find its data in.
    if !s.data.is_empty() && nerve_isa::files::is_stream(path) {
        return Err(format!(
            "-o {}: the script reads {} data file(s) from a directory beside it, which a stream or device has not: give -o a file path",
            path.display(),
            s.data.len()
        )
        .into());
    }
    // The data files are known only now: checked, with the script, before any is written.
    if !s.data.is_empty() && dir.exists() && !dir.is_dir() {
        return Err(format!("-o {}: its data directory {} is a file", path.display(), dir.display()).into());
    }
    if dir.is_dir() {
        let files: Vec<PathBuf> = s.data.iter().map(|(name, _)| dir.join(name)).collect();
        let outputs: Vec<(&str, &Path)> = std::iter::once(("-o", path)).chain(files.iter().map(|f| ("-o (data)", f.as_path()))).collect();
        nerve_report::check_outputs(&outputs, inputs)?;
    }
    // Every file staged, then put in place: a script that cannot be written
    // leaves no data files (nor a data directory made for them) behind.
    let made_dir = !s.data.is_empty() && !dir.exists();
    let staged = (|| -> Result<Vec<nerve_report::Staged>> {
        let mut staged = Vec::new();
        if !s.data.is_empty() {
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            for (name, bytes) in &s.data {
                staged.push(nerve_report::Staged::write(&dir.join(name), |f| std::fs::write(f, bytes))?);
            }
        }
        let text = s.text_for(&path.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned()));
        staged.push(nerve_report::Staged::write(path, |f| std::fs::write(f, text))?);
        Ok(staged)
    })();
    let staged = match staged {
        Ok(staged) => staged,
        Err(e) => {
            if made_dir {
                // Its stages are gone with `staged`; only an empty directory is removed.
                let _ = std::fs::remove_dir(&dir);
            }
            return Err(e);
        }
    };
    for f in staged {
        f.commit()?;
    }
    if quiet {
        return Ok(());
    }
    crate::out::errln!(
        "wrote {}{}",
        path.display(),
        if s.data.is_empty() { String::new() } else { format!(" and {} data file(s) in {}", s.data.len(), s.data_dir) }
    );
    for n in &s.notes {
        crate::out::errln!("note: {n}");
    }
    Ok(())
}

fn print_list() {
    for t in TARGETS {
        crate::out::outln!("{}: {}", t.name, t.writes);
        for (model, as_what) in (t.models)() {
            crate::out::outln!("    {model} → {as_what}");
        }
        crate::out::outln!("    weights: {}\n    delays: {}\n    connectors: {}\n    learning: {}\n", t.weights, t.delays, t.connectors, t.plasticity);
    }
}

/// A run length in ms: a finite number > 0 (a bad one is a usage error, status 2).
fn positive_ms(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(x) => Err(format!("{x} is not a run length: give a number of ms > 0 (e.g. 1000)")),
        Err(_) => Err(format!("`{s}` is not a number of ms (e.g. 1000)")),
    }
}
