//! Ctrl-C, SIGTERM or SIGHUP (a batch system's or a closed terminal's
//! notice) ends the process at once, as the signal's default action would,
//! with status 128 + the signal's number (130 for Ctrl-C, as shells report
//! it), but first removes the temporary files it was writing: the default
//! action left `.NAME.PID.nerve-tmp` beside an output being written (a large
//! recording takes seconds to write). A run's spill files need nothing:
//! they have no name. A signal the process started with ignored (`nohup`,
//! a background job of a non-interactive shell) stays ignored.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Installs the handler (once per process; an error leaves the default).
pub fn install() {
    let ignored = ignored_at_start();
    let wanted: Vec<i32> = [SIGINT, SIGTERM, SIGHUP].into_iter().filter(|s| !ignored.contains(s)).collect();
    let Ok(mut signals) = signal_hook::iterator::Signals::new(&wanted) else { return };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            nerve_isa::files::remove_unfinished();
            // Under mpirun, one rank's error ends the others with SIGTERM,
            // which read as if the user had pressed Ctrl-C, once per rank.
            match crate::mpi::launched_processes() {
                Some(k) if k > 1 => {
                    if crate::mpi::launched_rank() == 0 {
                        crate::out::errln!("\nstopped by the MPI launcher (a rank's error, or the run cancelled, ends all {k}): unfinished files removed");
                    }
                }
                _ => crate::out::errln!("\ninterrupted: stopped, its unfinished files removed"),
            }
            std::process::exit(128 + sig);
        }
    });
}

/// The signals this process was started with ignored: Linux's
/// `/proc/self/status` (`SigIgn`, a mask with bit n − 1 for signal n); none
/// known elsewhere (a handler is then installed for each).
fn ignored_at_start() -> Vec<i32> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mask = status.lines().find_map(|l| l.strip_prefix("SigIgn:")).and_then(|m| u64::from_str_radix(m.trim(), 16).ok()).unwrap_or(0);
    (1..=64).filter(|&s| mask >> (s - 1) & 1 == 1).collect()
}
