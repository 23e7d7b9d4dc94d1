//! `nerve`: compile spiking networks for neuromorphic chips, run them on the
//! emulator, and report what they cost.
#![forbid(unsafe_code)]

mod cmd;
mod hugepages;
mod interrupt;
mod mpi;
mod out;
mod progress;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "nerve",
    version,
    about = "A toolchain for neuromorphic chips: compile, emulate, report",
    long_about = None,
    after_help = "Example (a network to an energy report):\n  nerve compile examples/small.json --arch spinnaker -o small.img\n  nerve run small.img --steps 1000 --record spikes.csv --report run.json\n  nerve report run.json --html report.html\n\nExit status: 0 done; 1 an error (bad input, an unwritable output, a run that failed: the message names the culprit); 2 a usage error (an unknown option, a bad option value, options that cannot go together); 128 + the signal's number when stopped by Ctrl-C (130), SIGTERM (143) or SIGHUP (129), the files it was writing removed."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a network into a chip image.
    #[command(
        after_help = "Example:\n  nerve compile examples/small.json --arch spinnaker -o small.img --report map.json\n  nerve compile model.nir --arch loihi -o model.img --source snntorch"
    )]
    Compile(cmd::compile::CompileArgs),
    /// Run a chip image (or a network, compiled in memory) on the emulator.
    #[command(
        after_help = "Example:\n  nerve run small.img --steps 1000 --record spikes.csv --probe exc:v --report run.json\n  nerve run net.json --arch loihi --steps 1000 --input spikes_in.csv --json > run.json"
    )]
    Run(Box<cmd::run::RunArgs>),
    /// Hand a network to a board's own toolchain (PyNN/sPyNNaker, Lava, SpiNNaker routing tables) or write it as NIR.
    #[command(after_help = "Example:\n  nerve export --list\n  nerve export pynn net.json --arch spinnaker -o net.py")]
    Export(cmd::export::ExportArgs),
    /// Print a run's energy and latency report; write pictures and an HTML page.
    #[command(after_help = "Example:\n  nerve report run.json --html report.html --plots pictures/")]
    Report(cmd::report::ReportArgs),
    /// List or show architecture profiles.
    #[command(subcommand, after_help = "Example:\n  nerve arch list\n  nerve arch show loihi --format json")]
    Arch(cmd::arch::ArchCmd),
    /// Show what an image uses of its machine: per core, tile and chip, against the limits.
    #[command(after_help = "Example:\n  nerve inspect small.img\n  nerve inspect small.img --json | jq .chips")]
    Inspect(cmd::inspect::InspectArgs),
    /// Disassemble the neuron kernels of an image.
    #[command(after_help = "Example:\n  nerve disasm small.img --core 3")]
    Disasm(cmd::disasm::DisasmArgs),
    /// Assemble a hand-written kernel and print its listing (and, with -o, write its encoding).
    #[command(after_help = "Example:\n  nerve asm kernel.s -o kernel.bin")]
    Asm(cmd::asm::AsmArgs),
}

/// Prints a usage error and exits (2). For a missing required argument,
/// clap's usage line lists the options given on the command line beside the
/// required ones, as if they were required too (`nerve compile net.json -o
/// x.img` showed `--output <OUTPUT>` as required): the command's own usage
/// line (as in its --help) replaces it.
fn usage_error(e: clap::Error) -> ! {
    if e.kind() != clap::error::ErrorKind::MissingRequiredArgument {
        e.exit()
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut cmd = &cmd;
    for a in std::env::args_os().skip(1) {
        match a.to_str().and_then(|a| cmd.find_subcommand(a)) {
            Some(sub) => cmd = sub,
            None if a.to_string_lossy().starts_with('-') => continue,
            None => break,
        }
    }
    let usage = cmd.clone().render_usage().to_string();
    let text = e.render().to_string();
    let fixed: Vec<&str> = text.lines().map(|l| if l.starts_with("Usage: ") { usage.trim_end() } else { l }).collect();
    crate::out::errln!("{}", fixed.join("\n"));
    std::process::exit(e.exit_code())
}

fn main() -> ExitCode {
    let matches = Cli::command().try_get_matches().unwrap_or_else(|e| usage_error(e));
    cmd::note_given(&matches);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| usage_error(e));
    match cli.command {
        Command::Run(_) | Command::Compile(_) => hugepages::request(false),
        _ => {}
    }
    interrupt::install();
    let result = match cli.command {
        Command::Compile(a) => cmd::compile::run(a),
        Command::Run(a) => cmd::run::run(*a),
        Command::Report(a) => cmd::report::run(a),
        Command::Export(c) => cmd::export::run(c),
        Command::Arch(c) => cmd::arch::run(c),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Disasm(a) => cmd::disasm::run(a),
        Command::Asm(a) => cmd::asm::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Usage errors exit with 2 (clap's); everything else that fails, 1.
        Err(e) => {
            say_error(&*e);
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on stderr, as every command ends with one.
fn say_error(e: &(dyn std::error::Error + 'static)) {
    say_error_as(e, "");
}

/// [`say_error`] with `who` before the message ("rank 2: "), in one write:
/// ranks under mpirun share a terminal, and lines written piece by piece
/// interleaved ("error: error: ----").
fn say_error_as(e: &(dyn std::error::Error + 'static), who: &str) {
    let mut said = e.to_string();
    let mut text = format!("error: {who}{said}\n");
    let mut src = e.source();
    while let Some(s) = src {
        // A cause the message already quotes is not said twice.
        let cause = s.to_string();
        if !said.contains(&cause) {
            text.push_str(&format!("  caused by: {cause}\n"));
            said.push_str(&cause);
        }
        src = s.source();
    }
    crate::out::write_err(format_args!("{text}"));
}
