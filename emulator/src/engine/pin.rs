//! Where the engine's threads run. A step is about a microsecond, and every
//! thread waits for every other at its end: two threads that the system
//! places on one CPU take turns, each spinning out its wait before yielding
//! (measured on this project's 2-vCPU VM: for the first few hundred steps
//! after the threads start, and again at times, every CUBA step took 50–100
//! µs instead of 1.2). Pinned, each thread keeps a CPU of its own.

/// Whether a run's threads are pinned to CPUs, one each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pin {
    /// When the run has as many threads as the process may use CPUs (then
    /// the threads have them all, and no other work of the process is
    /// crowded onto fewer); not with one thread.
    #[default]
    Auto,
    /// Always, thread t to the t-th CPU the process may use (modulo their number).
    On,
    Off,
}

/// Per thread, its CPU, if `pin` pins a run of `threads` threads (none
/// where the system cannot tell which CPUs the process may use).
pub fn plan(pin: Pin, threads: usize) -> Option<Vec<usize>> {
    if pin == Pin::Off {
        return None;
    }
    let cpus = allowed()?;
    if cpus.is_empty() || (pin == Pin::Auto && (threads < 2 || threads != cpus.len())) {
        return None;
    }
    Some((0..threads).map(|t| cpus[t % cpus.len()]).collect())
}

/// The CPUs the calling thread may run on, in order.
#[cfg(target_os = "linux")]
pub fn allowed() -> Option<Vec<usize>> {
    use nix::sched::{sched_getaffinity, CpuSet};
    let set = sched_getaffinity(nix::unistd::Pid::from_raw(0)).ok()?;
    Some((0..CpuSet::count()).filter(|&c| set.is_set(c).unwrap_or(false)).collect())
}

#[cfg(not(target_os = "linux"))]
pub fn allowed() -> Option<Vec<usize>> {
    None
}

/// The calling thread pinned to a CPU until dropped (then as before).
pub struct Pinned {
    #[cfg(target_os = "linux")]
    before: Option<nix::sched::CpuSet>,
}

/// Pins the calling thread to `cpu` (if any); a failure leaves it unpinned.
#[cfg(target_os = "linux")]
pub fn to(cpu: Option<usize>) -> Pinned {
    use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
    use nix::unistd::Pid;
    let Some(cpu) = cpu else { return Pinned { before: None } };
    let me = Pid::from_raw(0);
    let Ok(before) = sched_getaffinity(me) else { return Pinned { before: None } };
    let mut one = CpuSet::new();
    if one.set(cpu).is_err() || sched_setaffinity(me, &one).is_err() {
        return Pinned { before: None };
    }
    Pinned { before: Some(before) }
}

#[cfg(not(target_os = "linux"))]
pub fn to(_cpu: Option<usize>) -> Pinned {
    Pinned {}
}

impl Drop for Pinned {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(b) = self.before.take() {
            // Best effort: the thread keeps running either way.
            let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_pins_only_what_its_setting_says() {
        assert_eq!(plan(Pin::Off, 2), None);
        let Some(cpus) = allowed() else { return };
        let n = cpus.len();
        assert_eq!(plan(Pin::Auto, 1), None);
        assert_eq!(plan(Pin::Auto, n + 1), None);
        if n >= 2 {
            assert_eq!(plan(Pin::Auto, n), Some(cpus.clone()));
        }
        let on = plan(Pin::On, n + 1).expect("On pins");
        assert_eq!(on.len(), n + 1);
        assert_eq!(on[n], cpus[0]);
    }

    #[test]
    fn a_pinned_thread_runs_where_it_was_put_and_is_freed_after() {
        let Some(cpus) = allowed() else { return };
        let last = *cpus.last().expect("a thread runs somewhere");
        std::thread::spawn(move || {
            {
                let _p = to(Some(last));
                assert_eq!(allowed(), Some(vec![last]));
            }
            assert_eq!(allowed(), Some(cpus));
        })
        .join()
        .expect("the test thread ends");
    }
}
