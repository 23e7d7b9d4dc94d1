//! Frame-of-reference columns: the encoding of the image's bulk arrays
//! (synapses, row starts, gap junctions), used through
//! `#[serde(with = "crate::packed")]`.
//!
//! Why: an image is mostly synapses and rows (the 1M-neuron ring: 100 M and
//! 94 M), and each byte of it is written at compile and read at load, at
//! the speed the host's memory gives new pages (docs/benchmarks.md). Within
//! one core most fields span a small range (targets < 256, one or two
//! weights, rows a few apart), so each field is stored as a column of its
//! values less the column's least, in as few bytes as the largest needs:
//! a field that is the same throughout takes none. Fields that grow along
//! the array (row numbers, row starts) are stored as differences from the
//! record before. Columns keep the inner loops free of per-record
//! branching, for encoding and decoding alike.
//!
//! Layout of one array (a bincode byte string; empty for an empty array):
//! per field, in the record's field order, its width in bytes (u8) and its
//! base (u64 LE); then the columns, field by field, each `n × width` bytes of
//! `value − base` (LE). `n` is the body's length over the sum of the widths,
//! which is at least 1 (the encoder gives the first field a byte when every
//! field is constant), so decoding allocates in proportion to the input.
//!
//! Decoding checks every width against its field's size and every value
//! against its field's range: a corrupt array is a decode error naming the
//! field, never a value silently cut to fit.

use serde::de::Visitor;
use serde::{Deserializer, Serializer};

/// One field of a record, as the encoding sees it.
pub struct Field {
    pub name: &'static str,
    /// The field's size in bytes: its values are below 2^(8 × bytes).
    pub bytes: u8,
    /// Stored as the difference from the previous record's value (modulo
    /// 2^(8 × bytes), so any sequence round-trips; the first record's from 0).
    pub delta: bool,
}

/// Most fields a record may have.
pub const MAX_FIELDS: usize = 8;

/// A record stored as columns of unsigned fields. Signed fields are mapped
/// to unsigned ones in order (`x ^ 0x8000_0000` for an i32), so that a
/// range of mixed signs stays narrow.
pub trait Packed: Sized {
    /// What the record is, for errors.
    const NAME: &'static str;
    const FIELDS: &'static [Field];
    /// The field values, in `FIELDS` order (the rest 0), each within its size.
    fn fields(&self) -> [u64; MAX_FIELDS];
    /// The record from field values each within its field's size.
    fn from_fields(f: &[u64; MAX_FIELDS]) -> Self;
}

/// Records encoded or decoded per block: the columns' scratch stays in cache.
const BLOCK: usize = 256;

fn mask(bytes: u8) -> u64 {
    if bytes >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * bytes as u32)) - 1
    }
}

/// Bytes needed for values up to `x`.
fn width_of(x: u64) -> u8 {
    (64 - x.leading_zeros()).div_ceil(8) as u8
}

/// Each record's stored values (deltas where the field is delta-coded),
/// block by block: `f(first, records)`.
fn for_each_block<T: Packed>(v: &[T], mut f: impl FnMut(usize, &[[u64; MAX_FIELDS]])) {
    let fields = T::FIELDS;
    let mut recs = vec![[0u64; MAX_FIELDS]; BLOCK.min(v.len())];
    let mut prev = [0u64; MAX_FIELDS];
    for (b, chunk) in v.chunks(BLOCK).enumerate() {
        for (o, r) in recs.iter_mut().zip(chunk) {
            let x = r.fields();
            for (j, fd) in fields.iter().enumerate() {
                o[j] = if fd.delta { x[j].wrapping_sub(prev[j]) & mask(fd.bytes) } else { x[j] };
            }
            prev = x;
        }
        f(b * BLOCK, &recs[..chunk.len()]);
    }
}

pub fn serialize<T: Packed, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(&encode(v))
}

/// The array's bytes (see the module).
pub fn encode<T: Packed>(v: &[T]) -> Vec<u8> {
    let nf = T::FIELDS.len();
    if v.is_empty() {
        return Vec::new();
    }
    let (mut lo, mut hi) = ([u64::MAX; MAX_FIELDS], [0u64; MAX_FIELDS]);
    for_each_block(v, |_, recs| {
        for x in recs {
            for j in 0..MAX_FIELDS {
                lo[j] = lo[j].min(x[j]);
                hi[j] = hi[j].max(x[j]);
            }
        }
    });
    let mut width: Vec<u8> = (0..nf).map(|j| width_of(hi[j] - lo[j])).collect();
    if width.iter().all(|&w| w == 0) {
        width[0] = 1;
    }
    let head = 9 * nf;
    let mut col_at = vec![head; nf];
    for j in 1..nf {
        col_at[j] = col_at[j - 1] + v.len() * width[j - 1] as usize;
    }
    let mut out = vec![0u8; col_at[nf - 1] + v.len() * width[nf - 1] as usize];
    for j in 0..nf {
        out[9 * j] = width[j];
        out[9 * j + 1..9 * j + 9].copy_from_slice(&lo[j].to_le_bytes());
    }
    for_each_block(v, |first, recs| {
        for (j, &w) in width.iter().enumerate() {
            let (w, at) = (w as usize, col_at[j] + first * w as usize);
            write_col(&mut out[at..at + recs.len() * w], w, recs, j, lo[j]);
        }
    });
    out
}

fn write_col(out: &mut [u8], w: usize, recs: &[[u64; MAX_FIELDS]], j: usize, base: u64) {
    match w {
        0 => {}
        1 => write_n::<1>(out, recs, j, base),
        2 => write_n::<2>(out, recs, j, base),
        3 => write_n::<3>(out, recs, j, base),
        4 => write_n::<4>(out, recs, j, base),
        _ => out.chunks_exact_mut(w).zip(recs).for_each(|(o, x)| o.copy_from_slice(&(x[j] - base).to_le_bytes()[..w])),
    }
}

/// `write_col` for a width known when compiling (the common ones), so the
/// inner loop has no variable-length copy.
fn write_n<const N: usize>(out: &mut [u8], recs: &[[u64; MAX_FIELDS]], j: usize, base: u64) {
    out.chunks_exact_mut(N).zip(recs).for_each(|(o, x)| o.copy_from_slice(&(x[j] - base).to_le_bytes()[..N]));
}

/// Reads a column of `w`-byte values into field `j` of `out`, each plus
/// `base` (wrapping: the caller checks the largest value, which this
/// returns without the base, before using any).
fn read_col(col: &[u8], w: usize, base: u64, out: &mut [[u64; MAX_FIELDS]], j: usize) -> u64 {
    match w {
        0 => {
            out.iter_mut().for_each(|o| o[j] = base);
            0
        }
        1 => read_words::<u8>(col, base, out, j),
        2 => read_words::<u16>(col, base, out, j),
        4 => read_words::<u32>(col, base, out, j),
        8 => read_words::<u64>(col, base, out, j),
        _ => {
            let mut top = 0u64;
            out.iter_mut().zip(col.chunks_exact(w)).for_each(|(o, b)| {
                let mut a = [0u8; 8];
                a[..w].copy_from_slice(b);
                let x = u64::from_le_bytes(a);
                top = top.max(x);
                o[j] = base.wrapping_add(x);
            });
            top
        }
    }
}

/// The least and the largest of a column's `w`-byte values ((0, 0) for none).
fn column_range(col: &[u8], w: usize) -> (u64, u64) {
    fn of<W: Word>(col: &[u8]) -> (u64, u64) {
        let (mut lo, mut hi) = (W::MAX, W::ZERO);
        for x in col.chunks_exact(std::mem::size_of::<W>()).map(W::from_le) {
            lo = lo.min(x);
            hi = hi.max(x);
        }
        if col.is_empty() {
            (0, 0)
        } else {
            (lo.into(), hi.into())
        }
    }
    match w {
        0 => (0, 0),
        1 => of::<u8>(col),
        2 => of::<u16>(col),
        4 => of::<u32>(col),
        8 => of::<u64>(col),
        _ => {
            let xs = col.chunks_exact(w).map(|b| {
                let mut a = [0u8; 8];
                a[..w].copy_from_slice(b);
                u64::from_le_bytes(a)
            });
            (xs.clone().min().unwrap_or(0), xs.max().unwrap_or(0))
        }
    }
}

/// A column of machine words: their maximum taken in the word's own type
/// (which vectorises; in u64 decoding ran ~25% slower).
trait Word: Copy + Ord + Into<u64> {
    const ZERO: Self;
    const MAX: Self;
    fn from_le(b: &[u8]) -> Self;
}

macro_rules! word {
    ($($t:ty),*) => {$(
        impl Word for $t {
            const ZERO: Self = 0;
            const MAX: Self = <$t>::MAX;
            fn from_le(b: &[u8]) -> Self {
                <$t>::from_le_bytes(le(b, 0))
            }
        }
    )*};
}
word!(u8, u16, u32, u64);

fn read_words<W: Word>(col: &[u8], base: u64, out: &mut [[u64; MAX_FIELDS]], j: usize) -> u64 {
    let mut top = W::ZERO;
    out.iter_mut().zip(col.chunks_exact(std::mem::size_of::<W>())).for_each(|(o, b)| {
        let x = W::from_le(b);
        top = top.max(x);
        o[j] = base.wrapping_add(x.into());
    });
    top.into()
}

pub fn deserialize<'de, T: Packed, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<T: Packed> Visitor<'_> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "packed {} records", T::NAME)
        }
        fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<Vec<T>, E> {
            if keeping() {
                keep_slice(b);
                return Ok(Vec::new());
            }
            decode(b).map_err(E::custom)
        }
        fn visit_byte_buf<E: serde::de::Error>(self, b: Vec<u8>) -> Result<Vec<T>, E> {
            if keeping() {
                keep(b);
                return Ok(Vec::new());
            }
            decode(&b).map_err(E::custom)
        }
    }
    d.deserialize_bytes(V::<T>(std::marker::PhantomData))
}

std::thread_local! {
    /// The arrays kept undecoded by `deferred`, in the order they were read.
    static KEPT: std::cell::RefCell<Option<Vec<Kept>>> = const { std::cell::RefCell::new(None) };
    /// The buffer `deferred_in` decodes from (address, length): arrays
    /// within it are kept as where they lie, not copied.
    static BASE: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// An array kept by `deferred`: its bytes, or where they lie in the
/// buffer `deferred_in` decodes.
enum Kept {
    Own(Vec<u8>),
    At(std::ops::Range<usize>),
}

/// Whether arrays are being kept undecoded on this thread (`deferred`).
fn keeping() -> bool {
    KEPT.with(|k| k.borrow().is_some())
}

fn keep(b: Vec<u8>) {
    KEPT.with(|k| k.borrow_mut().as_mut().map(|kept| kept.push(Kept::Own(b))));
}

/// Keeps `b` as where it lies in `deferred_in`'s buffer if it lies there
/// (the addresses compared as numbers), else as a copy.
fn keep_slice(b: &[u8]) {
    let (at, n) = BASE.get();
    let p = b.as_ptr() as usize;
    let k = if n > 0 && p >= at && p + b.len() <= at + n { Kept::At(p - at..p - at + b.len()) } else { Kept::Own(b.to_vec()) };
    KEPT.with(|kept| kept.borrow_mut().as_mut().map(|kept| kept.push(k)));
}

/// Runs `f` (a decode) with every packed array it reads kept as its bytes
/// and decoded as empty; gives `f`'s result and those bytes, in the order
/// read, for [`decode`] on several threads: decoding an image's arrays is
/// most of the work of reading it, and where new memory is dear (a VM's,
/// docs/benchmarks.md) two threads get it faster than one.
pub fn deferred<R>(f: impl FnOnce() -> R) -> (R, Vec<Bytes>) {
    deferred_in(Vec::new(), |_| f())
}

/// As `deferred`, `f` decoding from `buf`: the arrays it reads from `buf`
/// (all, if the decoder lends its input's bytes) are kept as stretches of
/// `buf`, which they share, not copied (a file read whole: its arrays are
/// most of it).
pub fn deferred_in<R>(buf: Vec<u8>, f: impl FnOnce(&[u8]) -> R) -> (R, Vec<Bytes>) {
    let (r, kept) = keeping_in((buf.as_ptr() as usize, buf.len()), || f(&buf));
    let buf = std::sync::Arc::new(buf);
    let kept = kept
        .into_iter()
        .map(|k| match k {
            Kept::Own(b) => Bytes::Own(b),
            Kept::At(r) => Bytes::Shared(buf.clone(), r),
        })
        .collect();
    (r, kept)
}

fn keeping_in<R>(base: (usize, usize), f: impl FnOnce() -> R) -> (R, Vec<Kept>) {
    // Restores the enclosing state (a `deferred` within another, or none),
    // also if `f` panics.
    struct Restore(Option<Vec<Kept>>, (usize, usize));
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            KEPT.with(|k| *k.borrow_mut() = outer);
            BASE.set(self.1);
        }
    }
    let _restore = Restore(KEPT.with(|k| k.borrow_mut().replace(Vec::new())), BASE.replace(base));
    let r = f();
    let kept = KEPT.with(|k| k.borrow_mut().replace(Vec::new())).unwrap_or_default();
    (r, kept)
}

/// A packed array's bytes: its own, or a stretch of a buffer it shares
/// with other arrays (`deferred_in`).
#[derive(Clone, Debug)]
pub enum Bytes {
    Own(Vec<u8>),
    Shared(std::sync::Arc<Vec<u8>>, std::ops::Range<usize>),
}

impl Default for Bytes {
    fn default() -> Bytes {
        Bytes::Own(Vec::new())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(b: Vec<u8>) -> Bytes {
        Bytes::Own(b)
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Own(b) => b,
            Bytes::Shared(b, r) => &b[r.clone()],
        }
    }
}

/// How many records an array's bytes hold, from its header and length alone
/// (the values are not read: the check of each against its field is
/// `decode`'s), or what is wrong with them.
pub fn count<T: Packed>(b: &[u8]) -> Result<usize, String> {
    Ok(header::<T>(b)?.map_or(0, |h| h.n))
}

struct Header {
    width: [usize; MAX_FIELDS],
    base: [u64; MAX_FIELDS],
    n: usize,
    col_at: [usize; MAX_FIELDS],
}

/// An array's header and where its columns start (`None`: the empty array).
fn header<T: Packed>(b: &[u8]) -> Result<Option<Header>, String> {
    let fields = T::FIELDS;
    let nf = fields.len();
    if b.is_empty() {
        return Ok(None);
    }
    let name = T::NAME;
    let head = 9 * nf;
    if b.len() < head {
        return Err(format!("packed {name} records: {} bytes, shorter than the {head}-byte header", b.len()));
    }
    let (mut width, mut base) = ([0usize; MAX_FIELDS], [0u64; MAX_FIELDS]);
    for (j, fd) in fields.iter().enumerate() {
        width[j] = b[9 * j] as usize;
        base[j] = u64::from_le_bytes(le(b, 9 * j + 1));
        if width[j] > fd.bytes as usize {
            return Err(format!("packed {name} records: field {} is {} bytes wide, more than its {}", fd.name, width[j], fd.bytes));
        }
    }
    let rec: usize = width[..nf].iter().sum();
    let body = b.len() - head;
    if rec == 0 || body % rec != 0 {
        return Err(format!("packed {name} records: a body of {body} bytes is not a whole number of {rec}-byte records"));
    }
    let n = body / rec;
    let mut col_at = [head; MAX_FIELDS];
    for j in 1..nf {
        col_at[j] = col_at[j - 1] + n * width[j - 1];
    }
    Ok(Some(Header { width, base, n, col_at }))
}

/// The records of an array's bytes (see the module), or what is wrong with them.
pub fn decode<T: Packed>(b: &[u8]) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    decode_into(b, &mut out)?;
    Ok(out)
}

/// As [`decode`], into `out` (cleared first; its memory reused).
fn decode_into<T: Packed>(b: &[u8], out: &mut Vec<T>) -> Result<(), String> {
    out.clear();
    decode_blocks::<T>(b, |recs| out.extend(recs.iter().map(T::from_fields)))
}

/// Decodes an array block by block, each block's records (field values)
/// given to `f`, checking every width and value as [`decode`] documents.
fn decode_blocks<T: Packed>(b: &[u8], mut f: impl FnMut(&[[u64; MAX_FIELDS]])) -> Result<(), String> {
    let fields = T::FIELDS;
    let name = T::NAME;
    let Some(Header { width, base, n, col_at }) = header::<T>(b)? else { return Ok(()) };
    // The block's records as field values (unused fields stay 0).
    let mut recs = vec![[0u64; MAX_FIELDS]; BLOCK.min(n)];
    let mut prev = [0u64; MAX_FIELDS];
    let mut first = 0;
    while first < n {
        let m = BLOCK.min(n - first);
        let r = &mut recs[..m];
        for (j, fd) in fields.iter().enumerate() {
            let (w, lim) = (width[j], mask(fd.bytes));
            let top = read_col(&b[col_at[j] + first * w..col_at[j] + (first + m) * w], w, base[j], r, j);
            // Every stored value plus its base is within the field (for a
            // delta, the difference): checked once per block.
            if base[j] > lim || top > lim - base[j] {
                return Err(format!("packed {name} records: field {} holds a value above its {}-byte range", fd.name, fd.bytes));
            }
            if fd.delta {
                let mut p = prev[j];
                for x in r.iter_mut() {
                    p = p.wrapping_add(x[j]) & lim;
                    x[j] = p;
                }
                prev[j] = p;
            }
        }
        f(r);
        first += m;
    }
    Ok(())
}

/// An array left in its columns and read in place: for arrays read once,
/// at random (the emulator's load reads each synapse once, from wherever
/// its row lies), this holds the array in its packed bytes rather than in
/// decoded records (the 1M ring's synapses and rows: ~290 MB against 1.55
/// GB). Records without delta-coded fields are read a range at a time
/// (`get_range_into`); delta-coded fields give their steps (`steps_into`)
/// or are decoded in order.
pub struct Columns<T> {
    bytes: Bytes,
    width: [usize; MAX_FIELDS],
    base: [u64; MAX_FIELDS],
    col_at: [usize; MAX_FIELDS],
    /// Each field's least and largest value (steps, for a delta-coded field).
    min: [u64; MAX_FIELDS],
    max: [u64; MAX_FIELDS],
    n: usize,
    _t: std::marker::PhantomData<T>,
}

impl<T: Packed> std::fmt::Debug for Columns<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Columns<{}> {{ n: {}, widths: {:?} }}", T::NAME, self.n, &self.width[..T::FIELDS.len()])
    }
}

impl<T: Packed> Columns<T> {
    /// The array of `bytes`, every width and value checked as [`decode`]
    /// checks them (so that `get` gives exactly what `decode` would), or
    /// what is wrong with them.
    pub fn new(bytes: impl Into<Bytes>) -> Result<Columns<T>, String> {
        let bytes = bytes.into();
        let Some(Header { width, base, n, col_at }) = header::<T>(&bytes)? else {
            let (z, zu) = ([0u64; MAX_FIELDS], [0usize; MAX_FIELDS]);
            return Ok(Columns { bytes, width: zu, base: z, col_at: zu, min: z, max: z, n: 0, _t: std::marker::PhantomData });
        };
        // `decode`'s check, on each column's largest stored value at once
        // (the same test as per block, without decoding the records).
        let (mut min, mut max) = ([0u64; MAX_FIELDS], [0u64; MAX_FIELDS]);
        for (j, fd) in T::FIELDS.iter().enumerate() {
            let (w, lim) = (width[j], mask(fd.bytes));
            let (least, top) = column_range(&bytes[col_at[j]..col_at[j] + n * w], w);
            if base[j] > lim || top > lim - base[j] {
                return Err(format!("packed {} records: field {} holds a value above its {}-byte range", T::NAME, fd.name, fd.bytes));
            }
            (min[j], max[j]) = (base[j] + least, base[j] + top);
        }
        Ok(Columns { bytes, width, base, col_at, min, max, n, _t: std::marker::PhantomData })
    }

    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the array lies in a buffer shared with others (`deferred_in`).
    #[cfg(test)]
    pub(crate) fn shares_a_buffer(&self) -> bool {
        matches!(self.bytes, Bytes::Shared(..))
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The largest value of field `j` (0 for an empty array); for a
    /// delta-coded field, its largest step.
    pub fn max(&self, j: usize) -> u64 {
        self.max[j]
    }

    /// The records of each field's least and of each field's largest values
    /// (for records without delta-coded fields; `None` for an empty array):
    /// where a check of each value holds for a range, it holds for the
    /// array if it holds for these two.
    pub fn bounds(&self) -> Option<(T, T)> {
        (self.n > 0).then(|| (T::from_fields(&self.min), T::from_fields(&self.max)))
    }

    /// Field `j` of record `i` (below `len`) as stored, plus its base: the
    /// value, or for a delta-coded field the step from record `i − 1`. One
    /// record at a time: the reference the range readers are tested against
    /// (the load reads ranges: a width test per field and record cost it).
    #[cfg(test)]
    fn step(&self, j: usize, i: usize) -> u64 {
        let w = self.width[j];
        let at = self.col_at[j] + i * w;
        let v = match w {
            0 => 0,
            1 => self.bytes[at] as u64,
            2 => u16::from_le_bytes(le(&self.bytes, at)) as u64,
            4 => u32::from_le_bytes(le(&self.bytes, at)) as u64,
            _ => {
                let mut a = [0u8; 8];
                a[..w].copy_from_slice(&self.bytes[at..at + w]);
                u64::from_le_bytes(a)
            }
        };
        // Checked in `new`: within the field (for a step, modulo its size).
        (self.base[j] + v) & mask(T::FIELDS[j].bytes)
    }

    /// Record `i` (below `len`), for records without delta-coded fields
    /// (whose values need the records before them: `decode_into`); as
    /// `step`, for tests.
    #[cfg(test)]
    fn get(&self, i: usize) -> T {
        debug_assert!(T::FIELDS.iter().all(|f| !f.delta), "`get` reads records without delta-coded fields");
        let mut f = [0u64; MAX_FIELDS];
        for (j, x) in f.iter_mut().enumerate().take(T::FIELDS.len()) {
            *x = self.step(j, i);
        }
        T::from_fields(&f)
    }

    /// A hint that record `i` (below `len`) is wanted soon: its bytes in
    /// every stored column are requested from memory now.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        for j in 0..T::FIELDS.len() {
            if self.width[j] > 0 {
                prefetch_index::prefetch_index(&*self.bytes, self.col_at[j] + i * self.width[j]);
            }
        }
    }

    /// Records `a..b` (within `len`) appended to `out`, as `get` gives them,
    /// for records without delta-coded fields: read a column at a time, a
    /// block at a time (a run of records costs a loop per field, not a
    /// width test per field and record).
    /// `recs` is scratch, kept by the caller from call to call (a block of
    /// records zeroed per call would cost more than a short run's reading).
    pub fn get_range_into(&self, a: usize, b: usize, out: &mut Vec<T>, recs: &mut Vec<[u64; MAX_FIELDS]>) {
        debug_assert!(T::FIELDS.iter().all(|f| !f.delta), "`get_range_into` reads records without delta-coded fields");
        // Columns lie side by side: a range past the end would read the next one's.
        assert!(a <= b && b <= self.n, "records {a}..{b} of {}", self.n);
        if recs.len() < BLOCK.min(b - a) {
            recs.resize(BLOCK, [0; MAX_FIELDS]);
        }
        let mut i = a;
        while i < b {
            let m = (b - i).min(BLOCK);
            for j in 0..T::FIELDS.len() {
                let (w, at) = (self.width[j], self.col_at[j] + i * self.width[j]);
                read_col(&self.bytes[at..at + m * w], w, self.base[j], &mut recs[..m], j);
            }
            out.extend(recs[..m].iter().map(T::from_fields));
            i += m;
        }
    }

    /// Field `j` of records `a..b` (within `len`) as stored plus its base,
    /// appended to `out`: the values, or for a delta-coded field the steps
    /// from each record before.
    pub fn steps_into(&self, j: usize, a: usize, b: usize, out: &mut Vec<u64>) {
        assert!(a <= b && b <= self.n, "records {a}..{b} of {}", self.n);
        let (w, base, m) = (self.width[j], self.base[j], mask(T::FIELDS[j].bytes));
        let col = &self.bytes[self.col_at[j] + a * w..self.col_at[j] + b * w];
        fn words<W: Word>(col: &[u8], base: u64, m: u64, out: &mut Vec<u64>) {
            out.extend(col.chunks_exact(std::mem::size_of::<W>()).map(|x| base.wrapping_add(W::from_le(x).into()) & m));
        }
        match w {
            0 => out.extend(std::iter::repeat_n(base & m, b - a)),
            1 => words::<u8>(col, base, m, out),
            2 => words::<u16>(col, base, m, out),
            4 => words::<u32>(col, base, m, out),
            8 => words::<u64>(col, base, m, out),
            _ => out.extend(col.chunks_exact(w).map(|x| {
                let mut v = [0u8; 8];
                v[..w].copy_from_slice(x);
                base.wrapping_add(u64::from_le_bytes(v)) & m
            })),
        }
    }

    /// Every record, into `out` (cleared first; its memory reused).
    pub fn decode_into(&self, out: &mut Vec<T>) {
        out.clear();
        // invariant: `new` decoded these same bytes without error, and decoding is deterministic
        decode_blocks::<T>(&self.bytes, |recs| out.extend(recs.iter().map(T::from_fields))).expect("checked when made");
    }
}

/// Reads `N` bytes at `at`; callers pass slices of at least `at + N` bytes.
pub fn le<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[at..at + N]);
    a
}

/// An i32 as an unsigned field, in order.
pub fn from_i32(x: i32) -> u64 {
    (x as u32 ^ 0x8000_0000) as u64
}

/// The i32 of [`from_i32`].
pub fn to_i32(x: u64) -> i32 {
    (x as u32 ^ 0x8000_0000) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test record: a u16, an i32 and a u32 named `$last`, delta-coded or not.
    macro_rules! record {
        ($t:ident, $name:literal, $last:literal, $delta:literal) => {
            #[derive(Clone, Copy, Debug, PartialEq)]
            struct $t(u16, i32, u32);
            impl Packed for $t {
                const NAME: &'static str = $name;
                const FIELDS: &'static [Field] =
                    &[Field { name: "a", bytes: 2, delta: false }, Field { name: "w", bytes: 4, delta: false }, Field { name: $last, bytes: 4, delta: $delta }];
                fn fields(&self) -> [u64; MAX_FIELDS] {
                    [self.0 as u64, from_i32(self.1), self.2 as u64, 0, 0, 0, 0, 0]
                }
                fn from_fields(f: &[u64; MAX_FIELDS]) -> Self {
                    $t(f[0] as u16, to_i32(f[1]), f[2] as u32)
                }
            }
        };
    }
    record!(P, "test", "d", true);
    record!(Q, "flat", "e", false);

    fn round_trip(v: &[P]) -> Vec<u8> {
        let b = encode(v);
        assert_eq!(decode::<P>(&b).unwrap(), v);
        b
    }

    #[test]
    fn any_records_round_trip_in_the_fewest_bytes() {
        assert!(round_trip(&[]).is_empty());
        // Constant fields take no bytes, but a record takes at least one.
        assert_eq!(round_trip(&[P(7, -3, 9); 5000]).len(), 27 + 5000);
        // a: 10..=200 (1 byte), w: -1..=1 (1), d: steps of 1..=3 (1).
        let v: Vec<P> = (0..3000u32).map(|i| P(10 + (i * 7 % 191) as u16, (i % 3) as i32 - 1, 5 + 2 * i + i % 2)).collect();
        assert_eq!(round_trip(&v).len(), 27 + 3 * 3000);
        // A 3-byte column (no machine word): w spans 0..=897,299.
        let v: Vec<P> = (0..300).map(|i| P(1, i * 3001, 0)).collect();
        assert_eq!(round_trip(&v).len(), 27 + 3 * 300);
        // Extremes, and a delta field that falls (wraps): full widths.
        let v = [P(u16::MAX, i32::MIN, u32::MAX), P(0, i32::MAX, 0), P(1, 0, 1 << 31), P(65535, -1, 3)];
        assert_eq!(round_trip(&v).len(), 27 + 4 * 10);
        let mut s = 1u64;
        let v: Vec<P> = (0..2500)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                P((s >> 48) as u16, (s >> 16) as i32, (s >> 5) as u32)
            })
            .collect();
        round_trip(&v);
    }

    #[test]
    fn columns_read_in_place_give_what_decoding_gives() {
        let mut s = 7u64;
        let mut rnd = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            s >> 11
        };
        // Widths 0..=4 (and 3, no machine word) in every field, any length.
        for (n, wa, ww, we) in [(0, 0, 0, 0), (1, 1, 0, 2), (300, 0, 3, 1), (2000, 2, 4, 0), (513, 1, 1, 4), (7, 2, 2, 3)] {
            let lim = |w: u32| if w == 0 { 1 } else { 1u64 << (8 * w - 1) };
            let v: Vec<Q> = (0..n)
                .map(|_| Q(100 + (rnd() % lim(wa).min(60000)) as u16, (rnd() % lim(ww)) as i32 - 5, (rnd() % lim(we).min(u32::MAX as u64)) as u32))
                .collect();
            let b = encode(&v);
            let c = Columns::<Q>::new(b.clone()).unwrap();
            assert_eq!(c.len(), n);
            assert_eq!((0..n).map(|i| c.get(i)).collect::<Vec<_>>(), v);
            // Ranges: empty, short, across blocks, to the end; appended.
            let mut recs = Vec::new();
            for (a, b) in [(0, 0), (0, n), (n / 3, n / 2), (n.saturating_sub(1), n), (n / 7, (n / 7 + 600).min(n))] {
                let mut got = vec![Q(9, 9, 9)];
                c.get_range_into(a, b, &mut got, &mut recs);
                assert_eq!(got[1..], v[a..b], "records {a}..{b} of {n}");
                let mut steps = vec![7];
                c.steps_into(1, a, b, &mut steps);
                assert_eq!(steps[1..], (a..b).map(|i| c.step(1, i)).collect::<Vec<_>>()[..]);
            }
            let mut out = vec![Q(1, 1, 1)];
            c.decode_into(&mut out);
            assert_eq!(out, decode::<Q>(&b).unwrap());
            assert_eq!(c.max(0), v.iter().map(|q| q.0 as u64).max().unwrap_or(0));
            assert_eq!(c.max(2), v.iter().map(|q| q.2 as u64).max().unwrap_or(0));
            let least = |f: fn(&Q) -> i64| v.iter().map(f).min();
            let most = |f: fn(&Q) -> i64| v.iter().map(f).max();
            let (lo, hi) = (c.bounds().map(|b| b.0), c.bounds().map(|b| b.1));
            assert_eq!((lo.map(|q| q.0 as i64), hi.map(|q| q.0 as i64)), (least(|q| q.0 as i64), most(|q| q.0 as i64)));
            assert_eq!((lo.map(|q| q.1 as i64), hi.map(|q| q.1 as i64)), (least(|q| q.1 as i64), most(|q| q.1 as i64)));
            assert_eq!((lo.map(|q| q.2 as i64), hi.map(|q| q.2 as i64)), (least(|q| q.2 as i64), most(|q| q.2 as i64)));
        }
        // The same checks as decoding: a corrupt array is refused whole.
        let mut b = encode(&[Q(1, 2, 3), Q(4, 5, 6)]);
        b[1..9].copy_from_slice(&65535u64.to_le_bytes());
        assert!(Columns::<Q>::new(b).err().unwrap().contains("field a holds a value above its 2-byte range"));
        // The image's records name their fields' indices for `max` and `step`.
        use crate::image::{RowStart, Synapse};
        assert_eq!(
            (Synapse::FIELDS[Synapse::DELAY].name, RowStart::FIELDS[RowStart::ROW].name, RowStart::FIELDS[RowStart::START].name),
            ("delay", "row", "start")
        );
        // Delta-coded fields: decoded in order, or read as steps.
        let v: Vec<P> = (0..700u32).map(|i| P(i as u16, -(i as i32), 3 * i + i % 5 + (i / 300) * 70_000)).collect();
        let c = Columns::<P>::new(encode(&v)).unwrap();
        let mut out = Vec::new();
        c.decode_into(&mut out);
        assert_eq!(out, v);
        assert_eq!(c.max(2), (1..v.len()).map(|i| v[i].2.wrapping_sub(v[i - 1].2) as u64).chain([v[0].2 as u64]).max().unwrap());
        for i in 1..v.len() {
            assert_eq!(c.step(2, i), v[i].2.wrapping_sub(v[i - 1].2) as u64, "record {i}");
        }
        assert_eq!(c.step(2, 0), v[0].2 as u64);
        let mut steps = Vec::new();
        c.steps_into(2, 0, v.len(), &mut steps);
        assert_eq!(steps, (0..v.len()).map(|i| c.step(2, i)).collect::<Vec<_>>());
    }

    #[test]
    fn corrupt_arrays_are_errors_that_name_the_field() {
        let v: Vec<P> = (0..10u32).map(|i| P(i as u16, 0, i)).collect();
        let good = encode(&v);
        let err = |b: &[u8]| decode::<P>(b).expect_err("a corrupt array is an error");
        assert!(err(&good[..20]).contains("shorter than the 27-byte header"));
        assert!(err(&good[..good.len() - 1]).contains("not a whole number"));
        let mut b = good.clone();
        b[0] = 3;
        assert!(err(&b).contains("field a is 3 bytes wide, more than its 2"), "{}", err(&b));
        // A base that puts the column's values past u16.
        let mut b = good.clone();
        b[1..9].copy_from_slice(&65530u64.to_le_bytes());
        assert!(err(&b).contains("field a holds a value above its 2-byte range"), "{}", err(&b));
        // Every width zero: no record length to count records by.
        let mut b = vec![0u8; 27];
        b[10..18].copy_from_slice(&5u64.to_le_bytes());
        assert!(err(&b).contains("0-byte records"));
    }
}
