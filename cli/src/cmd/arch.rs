use clap::{Subcommand, ValueEnum};
use nerve_isa::arch::{Arch, BUILTIN_PROFILES};

use super::Result;
use nerve_report::format::table;

#[derive(Subcommand)]
pub enum ArchCmd {
    /// List the built-in profiles.
    #[command(after_help = "Example:\n  nerve arch list --json")]
    List {
        /// Print JSON (every profile with every field) instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Print a profile (a built-in name or a .toml/.json file) with every field.
    #[command(after_help = "Example:\n  nerve arch show spinnaker2\n  nerve arch show my_chip.toml --format json")]
    Show {
        /// Profile name or file.
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Toml)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Toml,
    Json,
}

pub fn run(c: ArchCmd) -> Result<()> {
    match c {
        ArchCmd::List { json: true } => {
            let all: Vec<Arch> = BUILTIN_PROFILES.iter().map(|(n, _)| Arch::builtin(n)).collect::<std::result::Result<_, _>>()?;
            crate::out::outln!("{}", serde_json::to_string_pretty(&all)?);
            Ok(())
        }
        ArchCmd::List { json: false } => {
            let mut rows = Vec::new();
            for (n, _) in BUILTIN_PROFILES {
                let a = Arch::builtin(n)?;
                rows.push(vec![
                    a.name.clone(),
                    a.topology.kind.name().to_string(),
                    a.num_chips().to_string(),
                    (a.num_cores() / a.num_chips()).to_string(),
                    a.core.max_neurons.to_string(),
                    a.router.table_entries.to_string(),
                    a.core.weight_bits.to_string(),
                    a.core.max_delay_steps.to_string(),
                ]);
            }
            crate::out::outln!(
                "{}",
                table(&["profile", "topology", "chips", "cores/chip", "neurons/core", "router entries", "weight bits", "max delay"], rows)
            );
            crate::out::outln!("`nerve arch show NAME` prints every field with its unit and source.");
            Ok(())
        }
        ArchCmd::Show { name, format } => {
            let a = Arch::load(&name)?;
            match format {
                Format::Toml => {
                    // The built-in file carries comments with units and sources: print it as written.
                    if let Some((_, src)) = BUILTIN_PROFILES.iter().find(|(n, _)| *n == name) {
                        crate::out::out!("{src}");
                    } else {
                        crate::out::out!("{}", a.to_toml());
                    }
                }
                Format::Json => crate::out::outln!("{}", serde_json::to_string_pretty(&a)?),
            }
            Ok(())
        }
    }
}
