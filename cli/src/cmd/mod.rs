pub mod arch;
pub mod asm;
pub mod compile;
pub mod disasm;
pub mod export;
pub mod inspect;
pub mod report;
pub mod run;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A usage error of subcommand `sub` (options that cannot go together):
/// clap's message and usage line, exit status 2, as for a bad option value.
pub fn usage_error(sub: &str, msg: &str) -> ! {
    use clap::CommandFactory;
    let mut cli = crate::Cli::command();
    cli.build();
    match cli.find_subcommand_mut(sub) {
        Some(c) => c.error(clap::error::ErrorKind::ArgumentConflict, msg).exit(),
        None => cli.error(clap::error::ErrorKind::ArgumentConflict, msg).exit(),
    }
}
