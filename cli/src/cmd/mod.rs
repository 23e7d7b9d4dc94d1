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

/// A file argument where `-` is the process's own stream, as in most
/// command-line tools: standard input for what is read, standard output for
/// what is written (the paths the file layer already treats as streams).
/// A file named `-` is still reachable as `./-`.
#[derive(Clone, Copy)]
pub struct Dash(pub &'static str);

/// An input file: `-` is standard input.
pub const IN: Dash = Dash("/dev/stdin");
/// An output file: `-` is standard output.
pub const OUT: Dash = Dash("/dev/stdout");

impl clap::builder::TypedValueParser for Dash {
    type Value = std::path::PathBuf;

    fn parse_ref(&self, _: &clap::Command, _: Option<&clap::Arg>, value: &std::ffi::OsStr) -> std::result::Result<Self::Value, clap::Error> {
        // OsStr, not str: a file name need not be UTF-8.
        Ok(std::path::PathBuf::from(if value == "-" { std::ffi::OsStr::new(self.0) } else { value }))
    }
}
