//! Standard output that a closed pipe ends quietly (`nerve disasm img | head`)
//! instead of the panic of `println!`.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Standard output carries an output file (`-o -`, `--record -`): what the
/// command says for people goes to standard error instead, so the file
/// stays whole (`compile -o - | run -`).
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Standard output is an output file's from now on.
pub fn take_stdout() {
    TAKEN.store(true, Ordering::Relaxed);
}

pub fn write(args: std::fmt::Arguments) {
    if TAKEN.load(Ordering::Relaxed) {
        write_err(args);
        return;
    }
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_fmt(args).and_then(|_| o.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        write_err(format_args!("error: cannot write to standard output: {e}\n"));
        std::process::exit(1);
    }
}

/// Standard error, whose failure is ignored: `eprintln!` panics when no one
/// reads it (a pipeline whose reader is gone), and the panic of the signal
/// thread left Ctrl-C and SIGTERM unanswered for the rest of a run, the one
/// of a note before the recordings were written lost them (exit 101).
pub fn write_err(args: std::fmt::Arguments) {
    // Formatted first, then one write: standard error is unbuffered, and a
    // line written piece by piece interleaves with other processes' (ranks
    // under mpirun share a terminal).
    let text = std::fmt::format(args);
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes()).and_then(|_| e.flush());
}

/// `eprintln!` through [`write_err`].
macro_rules! errln {
    () => { $crate::out::write_err(format_args!("\n")) };
    ($($t:tt)*) => { $crate::out::write_err(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` through [`write`].
macro_rules! out {
    ($($t:tt)*) => { $crate::out::write(format_args!($($t)*)) };
}

/// `println!` through [`write`].
macro_rules! outln {
    () => { $crate::out::write(format_args!("\n")) };
    ($($t:tt)*) => { $crate::out::write(format_args!("{}\n", format_args!($($t)*))) };
}

pub(crate) use {errln, out, outln};
