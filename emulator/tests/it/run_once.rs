//! A machine runs once: a run starts from the state as loaded (ring slots,
//! spike schedules and junctions count from its step 0), so a second run of
//! the same machine would not continue the first. It is refused, by name,
//! whether the first ended whole or was stopped; a run refused before it
//! began (too many steps) leaves the machine runnable.

use nerve_emulator::engine::{run, Interp, Recording};
use nerve_emulator::machine::Machine;
use nerve_emulator::EmuError;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[test]
fn a_second_run_of_one_machine_is_refused() {
    let rec = Recording { spikes: vec![true, true], probes: vec![], per_step: false, chunk_steps: None };
    let load = || Machine::load(nerve_isa::sample::sample_image()).unwrap();
    for threads in [1, 2] {
        let mut m = load();
        assert_eq!(m.ran(), None);
        let e = run(&mut m, &Interp, nerve_isa::MAX_STEPS + 1, threads, &rec, &mut |_| {}).err().unwrap();
        assert!(matches!(e, EmuError::TooManySteps { .. }), "{e}");
        assert_eq!(m.ran(), None, "a run refused before it began leaves the machine as loaded");
        let first = run(&mut m, &Interp, 37, threads, &rec, &mut |_| {}).unwrap();
        assert_eq!(m.ran(), Some(37));
        let e = run(&mut m, &Interp, 37, threads, &rec, &mut |_| {}).err().unwrap();
        assert!(matches!(e, EmuError::RanBefore { before: 37, steps: 37 }), "{threads} thread(s): {e}");
        assert!(e.to_string().contains("has run already (37 steps asked)") && e.to_string().contains("load the image again"), "{e}");
        // A fresh machine runs as the first did.
        let again = run(&mut load(), &Interp, 37, threads, &rec, &mut |_| {}).unwrap();
        assert_eq!(again.spikes, first.spikes);
        // A stopped run began too.
        let mut m = load();
        m.stop = Some(Arc::new(AtomicBool::new(true)));
        assert!(matches!(run(&mut m, &Interp, 5000, threads, &rec, &mut |_| {}), Err(EmuError::Stopped { .. })));
        assert!(matches!(run(&mut m, &Interp, 10, threads, &rec, &mut |_| {}), Err(EmuError::RanBefore { before: 5000, steps: 10 })));
    }
}
