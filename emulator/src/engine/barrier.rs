//! Where the engine's threads meet: the step's posts (the barrier of every
//! step, carrying its spikes) and a plain barrier for the rarer meetings.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Spins, then yields, until `done` (a step is short: sleeping in the
/// kernel would cost more than the work). The spin is short too, about 5 µs
/// (200 PAUSEs of ~27 ns on this project's Zen 5 host): a wait that long is
/// the other thread descheduled, or both threads on one CPU, where each
/// spin is time the other cannot run (2,000 PAUSEs made such a step 54 µs).
/// A wait past the spin also looks at `gone`: a thread of the run that
/// panicked (a bug) never arrives, and waiting for it hung the process.
#[inline]
fn spin_until(gone: &AtomicBool, mut done: impl FnMut() -> bool) {
    let mut spins = 0u32;
    while !done() {
        if spins < 200 {
            std::hint::spin_loop();
            spins += 1;
        } else {
            if gone.load(Ordering::Relaxed) {
                panic!("another thread of this run panicked (its message is above); this one stops too");
            }
            std::thread::yield_now();
        }
    }
}

/// Marks `flags` when dropped in a panic: the run's other threads, waiting
/// for this one, panic too instead of waiting for ever (`spin_until`).
pub struct Abandon<'a>(pub [&'a AtomicBool; 2]);

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for f in self.0 {
                f.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// A spin-then-yield barrier for a fixed number of threads. In its own
/// cache line: every thread writes it.
#[repr(align(128))]
pub struct Barrier {
    n: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
    /// A thread of the run panicked ([`Abandon`]).
    pub gone: AtomicBool,
}

impl Barrier {
    pub fn new(n: usize) -> Barrier {
        Barrier { n, count: AtomicUsize::new(0), generation: AtomicUsize::new(0), gone: AtomicBool::new(false) }
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
            spin_until(&self.gone, || self.generation.load(Ordering::Acquire) != g);
        }
    }
}

/// Spikes a post carries itself (a 128-byte line pair less its three words).
pub const POST_SPIKES: usize = 13;

/// A thread's post of a step: that it has finished computing it, and its
/// spikes when they fit, in one line pair that only this thread writes.
#[repr(C, align(128))]
struct Post {
    /// The step posted, plus one (0: none yet).
    seq: AtomicU64,
    /// Its spike count.
    n: AtomicU64,
    /// What the thread says of the step before (its slowest core's time).
    before: AtomicU64,
    /// Its spikes as `core << 32 | neuron`, when `n ≤ POST_SPIKES`.
    spikes: [AtomicU64; POST_SPIKES],
}

/// The barrier of every step, all to all: each thread posts that it has
/// computed the step, with its spikes, and waits for every other thread's
/// post. A thread's spikes reach another in the one cache-line transfer
/// that releases it; a central barrier and then a locked spike list took
/// four or five transfers in a row, each ~50 ns between this host's cores
/// (CUBA on two threads: 0.2 µs of a 1.5 µs step).
///
/// Posts alternate by step parity: a thread posts step t + 2 only after
/// every thread has posted t + 1, which each does after it has read the
/// posts of t.
pub struct Posts {
    posts: Vec<Post>,
    /// A thread of the run panicked ([`Abandon`]).
    pub gone: AtomicBool,
}

impl Posts {
    pub fn new(threads: usize) -> Posts {
        Posts {
            posts: (0..2 * threads)
                .map(|_| Post { seq: AtomicU64::new(0), n: AtomicU64::new(0), before: AtomicU64::new(0), spikes: Default::default() })
                .collect(),
            gone: AtomicBool::new(false),
        }
    }

    fn at(&self, t: usize, step: u64) -> &Post {
        &self.posts[2 * t + (step & 1) as usize]
    }

    /// Thread `t` has computed `step`, whose spikes are `spikes`, and says
    /// `before` of the step before (what it wrote before is visible to a
    /// thread that has seen this post).
    pub fn post(&self, t: usize, step: u64, spikes: &[(u32, u32)], before: u64) {
        let p = self.at(t, step);
        p.before.store(before, Ordering::Relaxed);
        if spikes.len() <= POST_SPIKES {
            for (x, &(c, i)) in p.spikes.iter().zip(spikes) {
                x.store((c as u64) << 32 | i as u64, Ordering::Relaxed);
            }
        }
        p.n.store(spikes.len() as u64, Ordering::Relaxed);
        p.seq.store(step + 1, Ordering::Release);
    }

    /// Thread `t` takes back its line of `step` before posting it, once
    /// every other thread has posted `step - 1` (so has read the posts of
    /// `step - 2`, the line's last use). Each reader keeps a shared copy of
    /// the line it last read; a post stored into it waits for that copy to
    /// be taken away (a cache-line transfer) and the reader's load then
    /// fetches it (another), so a post took two transfers to be seen.
    /// Claimed a step's work ahead, the post's store completes at once and
    /// is seen after one. (Any store takes the line; `before` is rewritten
    /// by the post, and no reader looks at it before then.)
    pub fn claim(&self, t: usize, step: u64) {
        self.at(t, step).before.store(0, Ordering::Relaxed);
    }

    /// Asks for the other threads' lines of `step` without waiting, so that
    /// fetching a post already made overlaps the work between this thread's
    /// own post and its `wait`. With `claim`, CUBA's two threads took
    /// 1–2% less a step in 28 interleaved rounds on this project's Intel
    /// host, where the wait was 250–650 cycles of a ~4,600-cycle step.
    pub fn fetch(&self, t: usize, step: u64) {
        for tb in (0..self.posts.len() / 2).filter(|&tb| tb != t) {
            prefetch_index::prefetch_index(&self.posts, 2 * tb + (step & 1) as usize);
        }
    }

    /// Returns once every thread but `t` has posted `step`.
    pub fn wait(&self, t: usize, step: u64) {
        for tb in 0..self.posts.len() / 2 {
            if tb != t {
                let p = self.at(tb, step);
                spin_until(&self.gone, || p.seq.load(Ordering::Acquire) > step);
            }
        }
    }

    /// What thread `tb` said of the step before `step` (posted, waited for).
    pub fn before(&self, tb: usize, step: u64) -> u64 {
        self.at(tb, step).before.load(Ordering::Relaxed)
    }

    /// Thread `tb`'s spikes of `step` (posted, waited for) onto `out`, if
    /// its post carries them; false if they are only in its list.
    pub fn spikes(&self, tb: usize, step: u64, out: &mut Vec<(u32, u32)>) -> bool {
        let p = self.at(tb, step);
        let n = p.n.load(Ordering::Relaxed) as usize;
        if n > POST_SPIKES {
            return false;
        }
        out.extend(p.spikes[..n].iter().map(|x| {
            let v = x.load(Ordering::Relaxed);
            ((v >> 32) as u32, v as u32)
        }));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_carry_each_steps_spikes_between_threads() {
        // Three threads post 2000 steps of spike lists of varying lengths
        // (some past what a post holds); each checks every other's.
        let threads = 3;
        let posts = Posts::new(threads);
        let list = |t: usize, step: u64| -> Vec<(u32, u32)> { (0..(step as usize * 7 + t) % 20).map(|k| (t as u32, (step as u32) * 100 + k as u32)).collect() };
        // Mismatches are collected, not asserted in the threads: a thread
        // that panicked would leave the others waiting for its posts forever.
        let bad: Vec<String> = std::thread::scope(|sc| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (posts, list) = (&posts, &list);
                    sc.spawn(move || {
                        let (mut got, mut bad) = (Vec::new(), Vec::new());
                        for step in 0..2000u64 {
                            posts.post(t, step, &list(t, step), step * 10 + t as u64);
                            posts.fetch(t, step);
                            posts.wait(t, step);
                            // As the engine does: a claim must not touch a post still read.
                            posts.claim(t, step + 1);
                            for tb in (0..threads).filter(|&tb| tb != t) {
                                got.clear();
                                let before = posts.before(tb, step);
                                let want = list(tb, step);
                                let carried = posts.spikes(tb, step, &mut got);
                                if before != step * 10 + tb as u64 || carried != (want.len() <= POST_SPIKES) || (carried && got != want) {
                                    bad.push(format!("thread {t} reading {tb} at step {step}: before {before}, carried {carried}, spikes {got:?}"));
                                }
                            }
                        }
                        bad
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("a posting thread does not panic")).collect()
        });
        assert!(bad.is_empty(), "{} mismatches, the first: {}", bad.len(), bad[0]);
    }
}
