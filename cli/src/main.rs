//! `nerve`: compile spiking networks for neuromorphic chips, run them on the
//! emulator, and report what they cost.
#![forbid(unsafe_code)]

mod cmd;
mod hugepages;
mod out;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "nerve", version, about = "A toolchain for neuromorphic chips: compile, emulate, report", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a network into a chip image.
    Compile(cmd::compile::CompileArgs),
    /// Run a chip image (or a network, compiled in memory) on the emulator.
    Run(Box<cmd::run::RunArgs>),
    /// Hand a network to a board's own toolchain (PyNN/sPyNNaker, Lava, SpiNNaker routing tables) or write it as NIR.
    Export(cmd::export::ExportArgs),
    /// Print a run's energy and latency report; write pictures and an HTML page.
    Report(cmd::report::ReportArgs),
    /// List or show architecture profiles.
    #[command(subcommand)]
    Arch(cmd::arch::ArchCmd),
    /// Show what an image uses of its machine: per core, tile and chip, against the limits.
    Inspect(cmd::inspect::InspectArgs),
    /// Disassemble the neuron kernels of an image.
    Disasm(cmd::disasm::DisasmArgs),
    /// Assemble a hand-written kernel and print its listing (or write its encoding).
    Asm(cmd::asm::AsmArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Compile(_) | Command::Run(_)) {
        hugepages::request();
    }
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
        Err(e) => {
            eprintln!("error: {e}");
            let mut src = e.source();
            while let Some(s) = src {
                eprintln!("  caused by: {s}");
                src = s.source();
            }
            ExitCode::FAILURE
        }
    }
}
