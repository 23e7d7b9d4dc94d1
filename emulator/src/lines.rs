//! Arrays that own whole cache lines (pairs of them: 128 bytes).
//!
//! Threads own cores; a core's arrays are written every step by the thread
//! that owns it. Two arrays of different threads that shared a cache line
//! would pass that line between the cores on every write (false sharing):
//! CUBA with two threads had a core whose state array shared a line with
//! another thread's core, and its kernel took 2× as long as the others.
//! A [`LineVec`] starts on a line and fills its last line up, so it shares
//! no line with anything. Lines are taken in aligned pairs: x86 cores fetch
//! a line's neighbour in its 128-byte pair along with it (the adjacent-line
//! prefetcher), which shares a pair the way a store shares a line.

use bytemuck::{Pod, Zeroable};

/// What one thread owns alone: a pair of 64-byte cache lines (see above;
/// also the line size of Apple's ARM cores).
pub const LINE: usize = 128;

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(128))]
struct Line([u8; LINE]);

/// A fixed-length array of `T` (whose size divides a line: the primitive
/// numbers) in whole, aligned cache lines; reads and writes as a slice.
#[derive(Clone, Default)]
pub struct LineVec<T> {
    lines: Vec<Line>,
    len: usize,
    _t: std::marker::PhantomData<T>,
}

impl<T: Pod> LineVec<T> {
    /// `len` zeroed elements.
    pub fn zeroed(len: usize) -> LineVec<T> {
        const { assert!(LINE % std::mem::size_of::<T>() == 0, "a LineVec's element size divides a line") };
        let bytes = len * std::mem::size_of::<T>();
        LineVec { lines: vec![Line([0; LINE]); bytes.div_ceil(LINE)], len, _t: std::marker::PhantomData }
    }

    /// `len` zeroed elements in this array's storage (grown if too short).
    pub fn reset_zeroed(&mut self, len: usize) {
        let lines = (len * std::mem::size_of::<T>()).div_ceil(LINE);
        self.lines.clear();
        self.lines.resize(lines, Line([0; LINE]));
        self.len = len;
    }

    /// A copy of `xs`, `pad` zeroed elements longer when `pad > xs.len()`.
    pub fn from_slice_padded(xs: &[T], pad: usize) -> LineVec<T> {
        let mut v = LineVec::zeroed(xs.len().max(pad));
        v[..xs.len()].copy_from_slice(xs);
        v
    }
}

impl<T: Pod> std::ops::Deref for LineVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // Lines to `T` directly: no pointer check (a line is aligned for any
        // `T`), only lengths, so indexing in a loop stays cheap.
        &bytemuck::cast_slice(&self.lines)[..self.len]
    }
}

impl<T: Pod> std::ops::DerefMut for LineVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut bytemuck::cast_slice_mut(&mut self.lines)[..self.len]
    }
}

impl<T: Pod> From<Vec<T>> for LineVec<T> {
    fn from(v: Vec<T>) -> LineVec<T> {
        LineVec::from_slice_padded(&v, 0)
    }
}

impl<T: Pod> From<&[T]> for LineVec<T> {
    fn from(v: &[T]) -> LineVec<T> {
        LineVec::from_slice_padded(v, 0)
    }
}

impl<T: Pod> FromIterator<T> for LineVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> LineVec<T> {
        LineVec::from(it.into_iter().collect::<Vec<T>>())
    }
}

impl<T: Pod + std::fmt::Debug> std::fmt::Debug for LineVec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: Pod + PartialEq> PartialEq for LineVec<T> {
    fn eq(&self, o: &LineVec<T>) -> bool {
        **self == **o
    }
}

impl<T: Pod + PartialEq> PartialEq<Vec<T>> for LineVec<T> {
    fn eq(&self, o: &Vec<T>) -> bool {
        **self == **o
    }
}

/// A value alone in its cache line(s): for what one thread writes and
/// another reads every step (locks, atomics), so that neighbours in an
/// array do not share a line.
#[derive(Default)]
#[repr(align(128))]
pub struct OwnLine<T>(pub T);

impl<T> std::ops::Deref for OwnLine<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Writes into every page of `v`'s memory, its length and spare capacity
/// (values unchanged), so that the memory is mapped now rather than page by
/// page as the run fills it in: a page's first write is a fault, which in a
/// VM can take tens of µs, and a thread stalled in one stalls every other at
/// the next step (a 100,000-step CUBA run's per-step series, filled as it
/// went, cost its two threads 10–40 ms this way).
pub fn map_now<T: Copy + Default>(v: &mut Vec<T>) {
    let per = (4096 / std::mem::size_of::<T>().max(1)).max(1);
    // Opaque values: a store of what is already there (zero pages) would
    // otherwise be dropped.
    for x in v.iter_mut().step_by(per) {
        *x = std::hint::black_box(*x);
    }
    for x in v.spare_capacity_mut().iter_mut().step_by(per) {
        x.write(std::hint::black_box(T::default()));
    }
    std::hint::black_box(v.spare_capacity_mut());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_line_and_reads_back_what_was_written() {
        for n in [0usize, 1, 15, 16, 17, 100] {
            let src: Vec<i32> = (0..n as i32).map(|x| x * 3 - 7).collect();
            let mut v = LineVec::from_slice_padded(&src, n + 5);
            assert_eq!(v.as_ptr() as usize % LINE, 0);
            assert_eq!(v.len(), n + 5);
            assert_eq!(&v[..n], &src[..]);
            assert!(v[n..].iter().all(|&x| x == 0));
            if n > 0 {
                v[n - 1] = 42;
                assert_eq!(v[n - 1], 42);
            }
            // Just enough whole lines: the last is this array's alone.
            assert!(v.lines.len() * LINE >= v.len() * 4 && v.lines.len() * LINE < v.len() * 4 + LINE);
        }
        let pair = [OwnLine(1u64), OwnLine(2u64)];
        assert_eq!(&pair[1] as *const _ as usize - &pair[0] as *const _ as usize, LINE);
        let mut m: Vec<u32> = Vec::with_capacity(5000);
        m.extend([7, 8, 9]);
        map_now(&mut m);
        assert_eq!(m, [7, 8, 9]);
        assert!(m.capacity() >= 5000);
        let u: LineVec<u64> = LineVec::zeroed(9);
        assert_eq!(u.len(), 9);
        assert_eq!(u.as_ptr() as usize % LINE, 0);
    }
}
