use clap::Args;
use nerve_compiler::compile::{compile, Options};
use nerve_compiler::net::json::read_network;
use nerve_compiler::place::{PlaceOptions, Strategy};
use nerve_isa::arch::Arch;
use std::path::{Path, PathBuf};

use super::Result;
use crate::progress::Progress;
use crate::table::table;

#[derive(Args)]
pub struct CompileArgs {
    /// The network: a JSON network file (docs/network-format.md) or a NIR file (.nir, docs/nir.md).
    network: PathBuf,
    /// Architecture: a built-in profile (`nerve arch list`) or a .toml/.json profile file.
    #[arg(long)]
    arch: String,
    /// Output image (default: the network's file name with .img).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Write the mapping report as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    build: BuildArgs,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

/// How a network becomes an image: `nerve compile`'s options, which `nerve
/// run` takes too when it is given a network instead of an image.
#[derive(Args, Clone, PartialEq)]
pub struct BuildArgs {
    /// Seed for placement refinement (connectors carry their own seeds).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Placement: `pack` (fewest tiles and chips), `spread` (every tile), or a CSV
    /// file with header `population,slice,core`.
    #[arg(long, default_value = "pack")]
    placement: String,
    /// Most neurons per core for every population (the profile's limit applies too).
    #[arg(long)]
    neurons_per_core: Option<u32>,
    /// Placement refinement effort: annealing moves per slice (0 turns refinement off).
    #[arg(long, default_value_t = 60)]
    effort: u32,
    /// NIR: the timestep in seconds (default: the file's `sample_dt` metadata, else the source's default).
    #[arg(long)]
    dt: Option<f64>,
    /// NIR: reset after a spike (default: the source's convention).
    #[arg(long, value_parser = ["zero", "subtract"])]
    reset: Option<String>,
    /// NIR: the exporter's conventions for defaults of --dt and --reset.
    #[arg(long, default_value = "generic", value_parser = ["generic", "snntorch", "sinabs", "norse"])]
    source: String,
}

impl BuildArgs {
    /// The option names given other values than their defaults (to refuse them where they do not apply).
    pub fn given(&self) -> Vec<&'static str> {
        let mut g = Vec::new();
        let flags: [(&'static str, bool); 7] = [
            ("--seed", self.seed != 0),
            ("--placement", self.placement != "pack"),
            ("--neurons-per-core", self.neurons_per_core.is_some()),
            ("--effort", self.effort != 60),
            ("--dt", self.dt.is_some()),
            ("--reset", self.reset.is_some()),
            ("--source", self.source != "generic"),
        ];
        for (name, set) in flags {
            if set {
                g.push(name);
            }
        }
        g
    }
}

/// Reads `network` and compiles it for `arch`; the report's read time is set, its write time is not.
pub fn build(network: &Path, arch: &Arch, b: &BuildArgs, quiet: bool) -> Result<nerve_compiler::compile::Output> {
    let t_read = std::time::Instant::now();
    let net = read_any(network, b.dt, b.reset.as_deref(), &b.source)?;
    let read_s = t_read.elapsed().as_secs_f64();
    let strategy = match b.placement.as_str() {
        "pack" => Strategy::Pack,
        "spread" => Strategy::Spread,
        f => {
            let p = Path::new(f);
            if !p.exists() {
                return Err(format!("--placement `{f}`: expected `pack`, `spread` or an existing CSV file").into());
            }
            Strategy::Explicit(read_placement(p)?)
        }
    };
    let opts = Options { place: PlaceOptions { strategy, effort: b.effort, seed: b.seed }, neurons_per_core: b.neurons_per_core, seed: b.seed, threads: None };
    let mut prog = Progress::new(quiet, "compiling");
    let mut out = compile(arch, &net, &opts, &mut |s: &str| prog.stage(s))?;
    prog.finish();
    out.report.seconds.read = read_s;
    Ok(out)
}

fn read_placement(path: &Path) -> Result<Vec<(String, u32, u32)>> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(path).map_err(|e| format!("placement file {}: {e}", path.display()))?;
    let h = rdr.headers().map_err(|e| format!("placement file {}: {e}", path.display()))?.clone();
    if h.iter().collect::<Vec<_>>() != ["population", "slice", "core"] {
        return Err(format!("placement file {}: the header must be `population,slice,core`", path.display()).into());
    }
    let mut out = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| format!("placement file {} line {}: {e}", path.display(), i + 2))?;
        let num = |k: usize| -> Result<u32> {
            r.get(k)
                .unwrap_or("")
                .parse::<u32>()
                .map_err(|_| format!("placement file {} line {}: `{}` is not a number", path.display(), i + 2, r.get(k).unwrap_or("")).into())
        };
        out.push((r.get(0).unwrap_or("").to_string(), num(1)?, num(2)?));
    }
    Ok(out)
}

/// Reads a JSON network or a NIR file (with NIR's import options).
pub fn read_any(path: &Path, dt: Option<f64>, reset: Option<&str>, source: &str) -> Result<nerve_compiler::net::model::Network> {
    if path.extension().is_some_and(|e| e == "nir") {
        let g = nerve_compiler::nir::read::read_nir(path)?;
        let opts = nerve_compiler::nir::lower::NirOptions {
            dt_s: dt,
            reset: reset
                .map(|r| if r == "subtract" { nerve_compiler::net::model::ResetMode::Subtract } else { nerve_compiler::net::model::ResetMode::ToReset }),
            source: nerve_compiler::nir::lower::SourceConvention::parse(source)
                .ok_or_else(|| format!("--source {source}: generic, snntorch, sinabs or norse"))?,
        };
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "nir".into());
        Ok(nerve_compiler::nir::lower::to_network(&g, &name, &path.display().to_string(), &opts)?.0)
    } else {
        if dt.is_some() || reset.is_some() || source != "generic" {
            return Err("--dt, --reset and --source apply to NIR files".into());
        }
        Ok(read_network(path)?)
    }
}

pub fn run(a: CompileArgs) -> Result<()> {
    let arch = Arch::load(&a.arch)?;
    let out_path = a.output.clone().unwrap_or_else(|| a.network.with_extension("img"));
    let mut out = build(&a.network, &arch, &a.build, a.quiet)?;
    let t_write = std::time::Instant::now();
    out.image.write(&out_path)?;
    out.report.seconds.write = t_write.elapsed().as_secs_f64();
    write_report(&out.report, a.report.as_deref())?;
    if !a.quiet {
        print_report(&out.report, &arch, &out_path.display().to_string());
    }
    Ok(())
}

/// Writes the mapping report as JSON, if asked.
pub fn write_report(r: &nerve_compiler::compile::MapReport, path: Option<&Path>) -> Result<()> {
    if let Some(p) = path {
        std::fs::write(p, serde_json::to_string_pretty(r)?).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
    }
    Ok(())
}

/// The mapping report as tables; `dest` says where the image went.
pub fn print_report(r: &nerve_compiler::compile::MapReport, arch: &Arch, dest: &str) {
    let s = &r.seconds;
    println!("compiled `{}` for `{}` → {} ({} neurons, {} synapses)", r.network, r.arch, dest, r.neurons, r.synapses);
    let rt = &r.routing;
    println!(
        "{}",
        table(
            &[
                "cores",
                "tiles",
                "chips",
                "trees",
                "entries (raw)",
                "after default-route elision",
                "compressed",
                "largest table",
                "busiest link (trees / neurons)"
            ],
            vec![vec![
                r.cores_used.to_string(),
                r.tiles_used.to_string(),
                r.chips_used.to_string(),
                rt.trees.to_string(),
                rt.entries_uncompressed.to_string(),
                rt.entries_after_elision.to_string(),
                rt.entries_compressed.to_string(),
                format!("{} / {}", rt.max_table_compressed, arch.router.table_entries),
                format!("{} / {}", rt.max_link_trees, rt.max_link_neurons),
            ]]
        )
    );
    let rows: Vec<Vec<String>> =
        r.populations.iter().map(|p| vec![p.name.clone(), p.model.clone(), p.size.to_string(), p.neurons_per_core.to_string(), p.cores.to_string()]).collect();
    println!("{}", table(&["population", "model", "neurons", "per core", "cores"], rows));
    let q: Vec<Vec<String>> = r
        .quantisation
        .iter()
        .map(|q| {
            vec![
                q.projection.clone(),
                q.port.to_string(),
                q.exp.to_string(),
                format!("{:.3}%", 100.0 * q.worst_rel_error),
                q.clipped.to_string(),
                q.underflow.to_string(),
            ]
        })
        .collect();
    if !q.is_empty() {
        println!("{}", table(&["projection", "port", "weight exp", "worst weight error", "clipped", "rounded to 0"], q));
    }
    println!(
        "time: read {:.3} s; expand {:.3} s, quantise {:.3} s, partition {:.3} s, place {:.3} s, route {:.3} s, codegen {:.3} s, check {:.3} s (stages {:.3} s); write image {:.3} s",
        s.read, s.expand, s.lower, s.partition, s.place, s.route, s.codegen, s.check, s.total, s.write
    );
}
