//! Ctrl-C (and SIGTERM, SIGHUP: a batch system's notice) ends the process
//! as the signal's default action would, at once, with status 130, but
//! first removes the temporary files it was writing: the default action
//! left `.NAME.nerve-tmp` beside an output written when the signal came (a
//! large recording takes seconds to write). A run's spill files need
//! nothing: they have no name.

/// The exit status of a process ended by SIGINT, as shells report it.
const EXIT: i32 = 130;

/// Installs the handler (once per process; an error leaves the default).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        nerve_isa::files::remove_unfinished();
        eprintln!("\ninterrupted: stopped, its unfinished files removed");
        std::process::exit(EXIT);
    });
}
