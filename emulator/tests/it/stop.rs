//! A run stopped by its caller (`Machine::stop`, a Python caller's Ctrl-C)
//! ends on every thread at the same step, 1,024 steps after the flag is
//! read, and
//! says so; it neither hangs nor returns a shortened run as if whole.

use nerve_emulator::engine::{run, Interp, Recording};
use nerve_emulator::machine::Machine;
use nerve_emulator::EmuError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn machine(stop: &Arc<AtomicBool>) -> Machine {
    let mut m = Machine::load(nerve_isa::sample::sample_image()).unwrap();
    m.stop = Some(stop.clone());
    m
}

fn stopped(r: nerve_emulator::Result<nerve_emulator::engine::RunOutput>) -> EmuError {
    match r {
        Ok(out) => panic!("the run was not stopped: {} steps", out.steps),
        Err(e) => e,
    }
}

#[test]
fn a_stopped_run_ends_1024_steps_after_the_flag_is_read() {
    let rec = Recording { spikes: vec![true, true], probes: vec![], per_step: true, chunk_steps: None };
    // The sample's two cores: one thread, and one each.
    for threads in [1, 2] {
        // Set as progress hears of step 2048: read then, the run ends after 3072.
        let stop = Arc::new(AtomicBool::new(false));
        let mut m = machine(&stop);
        let e = stopped(run(&mut m, &Interp, 100_000, threads, &rec, &mut |s| {
            if s >= 2048 {
                stop.store(true, Ordering::Relaxed);
            }
        }));
        assert!(matches!(e, EmuError::Stopped { ran: 3072, steps: 100_000 }), "{threads} thread(s): {e}");
        assert_eq!(e.to_string(), "the run was stopped after 3072 of 100000 steps");
        // Set before the run: read at the first progress (1,024 steps), ended after 2,048.
        let stop = Arc::new(AtomicBool::new(true));
        let e = stopped(run(&mut machine(&stop), &Interp, 100_000, threads, &rec, &mut |_| {}));
        assert!(matches!(e, EmuError::Stopped { ran: 2048, .. }), "{threads} thread(s): {e}");
        // Never set, or set too late to matter: the run is whole.
        let stop = Arc::new(AtomicBool::new(false));
        let whole = run(&mut machine(&stop), &Interp, 3000, threads, &rec, &mut |_| {}).unwrap();
        let stop = Arc::new(AtomicBool::new(true));
        let late = run(&mut machine(&stop), &Interp, 2048, threads, &rec, &mut |_| {}).unwrap();
        assert_eq!(whole.steps, 3000);
        assert_eq!(late.steps, 2048);
    }
}
