use clap::{Args, Subcommand};
use nerve_compiler::compile::{compile, Options};
use nerve_isa::arch::Arch;
use std::path::PathBuf;

use super::Result;

#[derive(Subcommand)]
pub enum ExportCmd {
    /// Write a network, with its weights as quantised for a target, as a NIR file.
    Nir(NirArgs),
}

#[derive(Args)]
pub struct NirArgs {
    /// The network (.nir or .json with NIR neuron models and input populations).
    network: PathBuf,
    /// The target whose weight quantisation the export carries.
    #[arg(long)]
    arch: String,
    /// Output file (.nir).
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run(c: ExportCmd) -> Result<()> {
    match c {
        ExportCmd::Nir(a) => {
            let arch = Arch::load(&a.arch)?;
            let net = nerve_compiler::front::read(&a.network, &Default::default())?;
            let out = compile(&arch, &net, &Options::default(), &mut |_| {})?;
            let g = nerve_compiler::export::nir::to_nir(&net, &out.quant)?;
            nerve_compiler::export::nir::write_nir(&g, &a.output)?;
            eprintln!("wrote {} ({} nodes, {} edges; weights as quantised for `{}`)", a.output.display(), g.nodes.len(), g.edges.len(), arch.name);
            Ok(())
        }
    }
}
