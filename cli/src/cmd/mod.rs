pub mod arch;
pub mod asm;
pub mod compile;
pub mod disasm;
pub mod export;
pub mod inspect;
pub mod report;
pub mod run;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The ids of the options given on the command line (the subcommands' included),
/// as opposed to taken from their defaults.
static GIVEN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Notes which options the command line gave (once, before a command runs),
/// so that an option refused where it does not apply is refused even when
/// its value is the default one (`--seed 0` with a placement file).
pub fn note_given(m: &clap::ArgMatches) {
    use clap::CommandFactory;
    let mut ids = Vec::new();
    let mut cmd = crate::Cli::command();
    let mut m = m;
    loop {
        // The command's own arguments: `m.ids()` also holds argument groups, which have no value source.
        let given = cmd.get_arguments().filter(|a| m.value_source(a.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine));
        ids.extend(given.map(|a| a.get_id().to_string()));
        let Some((name, sub)) = m.subcommand() else { break };
        let Some(next) = cmd.find_subcommand(name).cloned() else { break };
        (cmd, m) = (next, sub);
    }
    let _ = GIVEN.set(ids);
}

/// Whether option `id` (its field name) was given on the command line.
pub fn given(id: &str) -> bool {
    GIVEN.get().is_some_and(|ids| ids.iter().any(|i| i == id))
}

/// A usage error of subcommand `sub` (options that cannot go together):
/// clap's message and usage line, exit status 2, as for a bad option value.
pub fn usage_error(sub: &str, msg: &str) -> ! {
    use clap::CommandFactory;
    // Every rank under mpirun meets a usage error alike (the command line
    // is theirs all): rank 0 says it.
    if crate::mpi::launched_processes().is_some_and(|k| k > 1) && crate::mpi::launched_rank() != 0 {
        std::process::exit(2);
    }
    let mut cli = crate::Cli::command();
    cli.build();
    match cli.find_subcommand_mut(sub) {
        Some(c) => c.error(clap::error::ErrorKind::ArgumentConflict, msg).exit(),
        None => cli.error(clap::error::ErrorKind::ArgumentConflict, msg).exit(),
    }
}

/// `nerve_report::check_outputs`, and standard output given to the output
/// that names it: the command's text goes to standard error then, and
/// `--json` (`json`), which would print into that file, is a usage error.
pub fn check_outputs(sub: &str, json: bool, outputs: &[(&str, &std::path::Path)], inputs: &[&std::path::Path]) -> Result<()> {
    // Two outputs into one standard stream run together in it (an image
    // then a JSON report: neither readable), whatever the stream is
    // redirected to, so this is asked before files are compared.
    for (fd, name) in [(1, "standard output"), (2, "standard error")] {
        let to: Vec<&str> = outputs.iter().filter(|(_, p)| nerve_isa::files::own_stream(p) == Some(fd)).map(|(o, _)| *o).collect();
        if to.len() > 1 {
            usage_error(sub, &format!("{} all write to {name}, where their contents would run together: give all but one a file", to.join(" and ")));
        }
    }
    nerve_report::check_outputs(outputs, inputs)?;
    // A second read of standard input finds it empty: a file that looked malformed.
    let n = inputs.iter().filter(|p| p.to_str().is_some_and(|p| matches!(p, "/dev/stdin" | "/dev/fd/0" | "/proc/self/fd/0"))).count();
    if n > 1 {
        usage_error(sub, &format!("standard input (-) is given as {n} of this command's inputs: it can be read once; give the others as files"));
    }
    if let Some((opt, _)) = outputs.iter().find(|(_, p)| nerve_isa::files::own_stream(p) == Some(1)) {
        if json {
            usage_error(sub, &format!("--json prints to standard output, which {opt} writes its file to: give {opt} a file, or leave out --json"));
        }
        crate::out::take_stdout();
    }
    Ok(())
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
