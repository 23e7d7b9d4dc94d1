use clap::Args;
use nerve_isa::kernel::asm::{assemble, disassemble};
use std::path::PathBuf;

use super::Result;

#[derive(Args)]
pub struct AsmArgs {
    /// Kernel source (`.kernel`, `.state`, `.param`, `.input` directives, then instructions).
    #[arg(value_parser = super::IN)]
    file: PathBuf,
    /// Write the encoded program (64-bit little-endian words) to this file.
    #[arg(short, long, value_parser = super::OUT)]
    output: Option<PathBuf>,
}

pub fn run(a: AsmArgs) -> Result<()> {
    if let Some(out) = &a.output {
        super::check_outputs("asm", false, &[("-o", out)], &[a.file.as_path()])?;
    }
    let text = nerve_isa::files::read_to_string(&a.file).map_err(|e| format!("cannot read {}: {e}", a.file.display()))?;
    let k = assemble(&text).map_err(|e| format!("{}: {e}", a.file.display()))?;
    let c = k.class_counts();
    crate::out::outln!(
        "; {}: {} instructions ({} alu, {} mul, {} mem, {} spike), {} state, {} params, {} inputs",
        k.name,
        k.code.len(),
        c.alu,
        c.mul,
        c.mem,
        c.spike,
        k.state.len(),
        k.params.len(),
        k.inputs.len()
    );
    crate::out::out!("{}", disassemble(&k));
    if let Some(out) = a.output {
        let bytes: Vec<u8> = k.code.iter().flat_map(|i| i.encode().to_le_bytes()).collect();
        nerve_report::write_file(&out, &bytes)?;
        crate::out::errln!("wrote {} ({} bytes)", out.display(), k.code.len() * 8);
    }
    Ok(())
}
