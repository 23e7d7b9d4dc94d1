//! The end-of-phase barrier between the engine's threads.

use std::sync::atomic::{AtomicUsize, Ordering};

/// A spin-then-yield barrier for a fixed number of threads (a step is short:
/// sleeping in the kernel would cost more than the work). In its own
/// cache line: every thread writes it every step.
#[repr(align(128))]
pub struct Barrier {
    n: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
}

impl Barrier {
    pub fn new(n: usize) -> Barrier {
        Barrier { n, count: AtomicUsize::new(0), generation: AtomicUsize::new(0) }
    }
    pub fn wait(&self) {
        if self.n == 1 {
            return;
        }
        let g = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
        } else {
            let mut spins = 0u32;
            while self.generation.load(Ordering::Acquire) == g {
                if spins < 2000 {
                    std::hint::spin_loop();
                    spins += 1;
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}
