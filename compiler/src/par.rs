//! Independent jobs on a few host threads, their results in job order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `f` of every item, on up to `threads` threads (each takes the next item
/// not yet taken), in the items' order: the same whatever the thread count
/// when `f` depends on its item alone. One thread (or one item): in turn, on
/// the caller's.
pub(crate) fn map_in_order<T: Send, R: Send>(items: Vec<T>, threads: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    if threads <= 1 || items.len() < 2 {
        return items.into_iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let jobs: Vec<Mutex<(Option<T>, Option<R>)>> = items.into_iter().map(|t| Mutex::new((Some(t), None))).collect();
    std::thread::scope(|sc| {
        for _ in 0..threads.min(jobs.len()) {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                // invariant: fetch_add gives each index to one thread, which alone locks its job (never poisoned: no panic while held)
                let item = job.lock().expect("a job's lock is not poisoned").0.take().expect("each job is taken once");
                let r = f(item);
                job.lock().expect("a job's lock is not poisoned").1 = Some(r);
            });
        }
    });
    // invariant: the scope re-raised any thread's panic, so every job was run and its lock is not poisoned
    jobs.into_iter().map(|j| j.into_inner().expect("a job's lock is not poisoned").1.expect("every job was run")).collect()
}

/// `f` of every item, on up to `threads` threads, in chunks of `chunk` items;
/// the first error in item order, as one thread going through them in turn
/// would give (a later chunk's error is dropped), whatever the count.
pub(crate) fn try_each_in_order<T: Sync, E: Send>(items: &[T], threads: usize, chunk: usize, f: impl Fn(&T) -> Result<(), E> + Sync) -> Result<(), E> {
    let chunks: Vec<&[T]> = items.chunks(chunk.max(1)).collect();
    map_in_order(chunks, threads, |c| c.iter().try_for_each(&f)).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_error_in_item_order_is_given_on_any_thread_count() {
        let items: Vec<u32> = (0..1000).collect();
        // Chunk 7's error comes late in its chunk, chunk 9's early: a thread
        // count that let the first finished chunk win would give 9's.
        let f = |&x: &u32| if x == 7 * 16 + 15 || x == 9 * 16 || x == 990 { Err(x) } else { Ok(()) };
        for threads in [1, 2, 3, 8] {
            assert_eq!(try_each_in_order(&items, threads, 16, f), Err(127), "{threads} threads");
            assert_eq!(try_each_in_order(&items, threads, 0, |_| Ok::<(), u32>(())), Ok(()), "chunk 0 is taken as 1");
        }
        assert_eq!(try_each_in_order(&[] as &[u32], 4, 16, f), Ok(()));
    }

    #[test]
    fn results_come_in_item_order_on_any_thread_count() {
        let items: Vec<u64> = (0..100).collect();
        let want: Vec<u64> = items.iter().map(|x| x * x + 1).collect();
        for threads in [0, 1, 2, 3, 8, 200] {
            assert_eq!(map_in_order(items.clone(), threads, |x| x * x + 1), want, "{threads} threads");
        }
        assert!(map_in_order(Vec::<u64>::new(), 4, |x| x).is_empty());
    }
}
