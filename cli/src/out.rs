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
        eprint!("{args}");
        return;
    }
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_fmt(args).and_then(|_| o.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
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

pub(crate) use {out, outln};
