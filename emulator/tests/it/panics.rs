//! A panic on one of a run's threads (a bug, here a sink's) ends the run
//! with a panic on the caller's thread; the other threads, which wait for
//! the one that panicked at every step, stopped waiting only when the
//! process was killed.

use nerve_emulator::engine::{run_streamed, Interp, RecordSink, Recording, SpikeEvent};
use nerve_emulator::machine::Machine;
use std::time::Duration;

struct Panics;

impl RecordSink for Panics {
    fn chunk(&mut self, _: u64, _: &[SpikeEvent], _: &[Vec<Vec<i32>>]) -> std::io::Result<()> {
        panic!("a sink's bug");
    }
}

#[test]
fn a_panic_on_one_thread_ends_the_run_not_hangs_it() {
    // The sample's two cores: one per thread. Thread 0 gives the sink its
    // chunk while thread 1 waits at the chunk's end.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| {
            let mut m = Machine::load(nerve_isa::sample::sample_image()).unwrap();
            let rec = Recording { spikes: vec![true, true], probes: vec![], per_step: false, chunk_steps: Some(16) };
            let _ = run_streamed(&mut m, &Interp, 1000, 2, &rec, &mut Panics, &mut |_| {});
        });
        let _ = tx.send(r.is_err());
    });
    // A hang is a failure after a minute, not a test that never ends.
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(panicked) => assert!(panicked, "the sink's panic reaches the caller"),
        Err(_) => panic!("the run still waits a minute after one of its threads panicked"),
    }
}
