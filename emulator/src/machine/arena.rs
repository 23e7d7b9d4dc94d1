//! The synapse arena: every synaptic row of the image, laid out so that one
//! source neuron's rows at all its destinations are contiguous, with each
//! source core's fan-out (which spans of the arena each neuron's spike
//! reaches), and the ring of pending input the rows deliver into.

use nerve_isa::image::{CoreColumns, CoreKind, Image, RowStart, Synapse};

use super::{Fanout, PackedSyn, Span};
use crate::error::{EmuError, Result};
use crate::kernel::padded;
use crate::mesh::Route;
use prefetch_index::prefetch_index;

/// Synapses at which the arena is laid out on several threads.
const PARALLEL_ARENA: u64 = 1 << 20;

/// A core's rows and synapses: decoded, or read in place from their packed
/// columns (`nerve_isa::image::LoadImage`).
#[derive(Clone, Copy)]
pub(super) enum Arrays<'a> {
    Decoded { rows: &'a [RowStart], synapses: &'a [Synapse] },
    Columns(&'a CoreColumns),
}

impl<'a> Arrays<'a> {
    pub fn n_rows(&self) -> usize {
        match self {
            Arrays::Decoded { rows, .. } => rows.len(),
            Arrays::Columns(c) => c.rows.len(),
        }
    }

    pub fn n_syn(&self) -> usize {
        match self {
            Arrays::Decoded { synapses, .. } => synapses.len(),
            Arrays::Columns(c) => c.synapses.len(),
        }
    }

    fn max_delay(&self) -> usize {
        match self {
            Arrays::Decoded { synapses, .. } => synapses.iter().map(|s| s.delay as usize).max().unwrap_or(0),
            Arrays::Columns(c) => c.synapses.max(Synapse::DELAY) as usize,
        }
    }

    /// The rows, decoded into `scratch` if need be.
    fn rows<'s>(&self, scratch: &'s mut Vec<RowStart>) -> &'s [RowStart]
    where
        'a: 's,
    {
        match *self {
            Arrays::Decoded { rows, .. } => rows,
            Arrays::Columns(c) => {
                c.rows.decode_into(scratch);
                scratch
            }
        }
    }

    /// A hint that row k, starting at synapse `start`, is wanted soon.
    #[inline]
    fn prefetch(&self, k: usize, start: usize) {
        match *self {
            Arrays::Decoded { rows, synapses } => {
                prefetch_index(rows, k);
                prefetch_index(synapses, start);
            }
            Arrays::Columns(c) => {
                // The row's length is the next row's step.
                c.rows.prefetch((k + 1).min(c.rows.len().saturating_sub(1)));
                if start < c.synapses.len() {
                    c.synapses.prefetch(start);
                }
            }
        }
    }

    /// Each of rows `k0..k1`'s number less row k0's, into `offs` (cleared first).
    fn offsets(&self, k0: usize, k1: usize, offs: &mut Vec<u64>) {
        offs.clear();
        match *self {
            Arrays::Decoded { rows, .. } => offs.extend(rows[k0..k1].iter().map(|r| (r.row - rows[k0].row) as u64)),
            Arrays::Columns(c) => {
                // Row numbers are stored as steps from the row before's.
                if k1 == k0 {
                    return;
                }
                offs.push(0);
                c.rows.steps_into(RowStart::ROW, k0 + 1, k1, offs);
                let mut at = 0u64;
                for d in offs.iter_mut() {
                    at += *d;
                    *d = at;
                }
            }
        }
    }

    /// Rows `k0..k1`, the first starting at synapse `start`: their lengths
    /// into `lens` (cleared first), and their synapses, in place or read
    /// into `syn`. One pass per field over the run, not a lookup per row
    /// and synapse.
    fn run<'s>(&self, k0: usize, k1: usize, start: usize, lens: &mut Vec<u64>, syn: &'s mut Vec<Synapse>, recs: &mut Recs) -> &'s [Synapse]
    where
        'a: 's,
    {
        lens.clear();
        let (n_rows, n_syn) = (self.n_rows(), self.n_syn());
        match *self {
            Arrays::Decoded { rows, .. } => lens.extend((k0..k1).map(|k| rows.get(k + 1).map_or(n_syn, |n| n.start as usize) as u64 - rows[k].start as u64)),
            Arrays::Columns(c) => {
                // A row's start is stored as its step from the row before's:
                // the steps of the rows after k0..k1 are their lengths, and
                // the last row's runs to the end.
                c.rows.steps_into(RowStart::START, k0 + 1, (k1 + 1).min(n_rows), lens);
                if k1 == n_rows && k1 > k0 {
                    let before: u64 = lens.iter().sum();
                    lens.push((n_syn - start) as u64 - before);
                }
            }
        }
        let end = start + lens.iter().sum::<u64>() as usize;
        match *self {
            Arrays::Decoded { synapses, .. } => &synapses[start..end],
            Arrays::Columns(c) => {
                syn.clear();
                c.synapses.get_range_into(start, end, syn, recs);
                syn
            }
        }
    }
}

/// Scratch for reading packed records.
type Recs = Vec<[u64; nerve_isa::packed::MAX_FIELDS]>;

/// What `lay_out` builds.
pub(super) struct Laid {
    pub arena: Vec<u64>,
    pub spans: Vec<Span>,
    pub fanout: Vec<Fanout>,
    /// Per core, where its inputs start in a ring slot; and a slot's length.
    pub in_off: Vec<usize>,
    pub in_total: usize,
    pub ring_slots: usize,
    /// The (source, destination) population pairs of the spans, each at
    /// least once: which populations a population's spikes land on (the
    /// summary's connections, without reading every span again).
    pub pop_edges: Vec<(u32, u32)>,
}

/// Lays out the arena on `threads` threads (`None`: the host's, for large
/// images), by source core or by walking every row (`by_source`; `None`:
/// by the runs' lengths). The result is the same either way (tested).
pub(super) fn lay_out(img: &Image, arrays: &[Arrays], all_routes: &[Vec<Route>], threads: Option<usize>, by_source: Option<bool>) -> Result<Laid> {
    let n_syn: Vec<usize> = arrays.iter().map(Arrays::n_syn).collect();
    // Fan-out. Work from the rows: each non-empty row of a destination core
    // belongs to one key (its input entry's key plus the row's offset), the
    // key to one source neuron; the row is used if that neuron's route
    // reaches this core. Rows are then copied into the arena grouped by
    // source neuron. Arrivals without a row are counted from the routes.
    let mut key_owner: Vec<(u32, u32, usize)> = img.cores.iter().enumerate().filter_map(|(i, c)| c.key_base.map(|k| (k.0, k.0 + c.n_neurons - 1, i))).collect();
    key_owner.sort_unstable();
    // Group by source (core, neuron) into the arena, each group in
    // destination order: a counting sort. `used_rows` walks the rows in
    // destination order once, counting per source neuron and noting runs
    // of rows (below); the rows are then moved in that order without
    // walking the routes again.
    let mut first = Vec::with_capacity(img.cores.len() + 1);
    let mut total = 0usize;
    for c in &img.cores {
        first.push(total);
        total += c.n_neurons as usize;
    }
    // Per core, the index of its first row among all cores' rows.
    let mut row_base = Vec::with_capacity(img.cores.len() + 1);
    let mut n_rows = 0usize;
    for a in arrays {
        row_base.push(n_rows);
        n_rows += a.n_rows();
    }
    row_base.push(n_rows);
    if total >= u32::MAX as usize {
        return Err(EmuError::Invalid("more than 2^32 − 2 neurons".into()));
    }
    let stored: usize = n_syn.iter().sum();
    // The walk counts each source neuron's rows and synapses in u32s.
    if stored >= u32::MAX as usize || n_rows >= u32::MAX as usize {
        return Err(EmuError::Invalid(format!("{stored} synapses in {n_rows} rows: the emulator holds at most 2^32 − 2 of each")));
    }
    let threads = match threads {
        Some(k) => k.max(1),
        None if stored as u64 >= PARALLEL_ARENA => nerve_isa::host_threads(),
        None => 1,
    };
    // The walk, on several threads for large images, each over a range of
    // destination cores, counting spans and synapses per source neuron;
    // the counts are then summed. It also notes runs: consecutive used
    // rows of one destination core owned by neurons of one source core
    // whose neuron and row numbers differ by the same amount (rows of one
    // input entry), so that a run's first owner gives every row's owner
    // (`Run6`) and no owner per row is stored (the 1M ring's 94 M rows).
    let dcut = nerve_isa::cuts(&row_base, threads);
    // Per source neuron: its spans and synapses (counts, side by side:
    // the walk adds to both at once, in one cache line, scattered over
    // every source neuron), spans in all, runs.
    // And the (source, destination) population pairs of its runs, each
    // once per destination core: every used row is in a run, with a span
    // per used row, so these are the spans' pairs.
    type Walked = (Vec<[u32; 2]>, usize, Vec<Run6>, usize, Vec<(u32, u32)>);
    // Learning synapses deliver their own (changing) weights: the arena
    // leaves them out (their rows still count them as arrivals).
    let plastic: Vec<Vec<bool>> = img
        .cores
        .iter()
        .zip(&n_syn)
        .map(|(c, &n)| {
            let mut m = vec![false; if c.plastic.is_empty() { 0 } else { n }];
            for s in &c.plastic {
                for &k in &s.synapses {
                    m[k as usize] = true;
                }
            }
            m
        })
        .collect();
    // The synapses of the row at `start..start + len` of core di that the arena holds.
    // (Most images have none: then not even the core's mask is read, per row.)
    let any_plastic = plastic.iter().any(|m| !m.is_empty());
    let stored_of = |di: usize, start: usize, len: usize| -> usize {
        if !any_plastic {
            return len;
        }
        let m = &plastic[di];
        if m.is_empty() {
            return len;
        }
        m[start..start + len].iter().filter(|&&p| !p).count()
    };
    let reached = reached_by(all_routes);
    let walk = |d0: usize, d1: usize| -> Walked {
        let (mut counts, mut n) = (vec![[0u32; 2]; total], 0usize);
        let mut runs: Vec<Run6> = Vec::new();
        let mut longest = 0usize;
        // The last run's owner less row number (modulo 2^32).
        let mut shift = 0u32;
        let mut pend = Vec::with_capacity(TALLY);
        let (mut edges, mut last_dest) = (Vec::new(), vec![u32::MAX; img.populations.len()]);
        used_rows(img, arrays, all_routes, &key_owner, d0..d1, &reached, |src, i, di, k, row, start, len| {
            longest = longest.max(len as usize);
            let b = (first[src as usize] + i as usize) as u32;
            pend.push((b, stored_of(di as usize, start as usize, len as usize) as u32));
            if pend.len() == TALLY {
                tally(&mut counts, &mut pend);
            }
            n += 1;
            let s = b.wrapping_sub(row);
            match runs.last_mut() {
                Some(r) if r[0] == src && r[1] == di && r[3] == k && s == shift => r[3] = k + 1,
                _ => {
                    runs.push([src, di, k, k + 1, start, b]);
                    shift = s;
                    let p = img.cores[src as usize].pop.0;
                    if last_dest[p as usize] != di {
                        last_dest[p as usize] = di;
                        edges.push((p, img.cores[di as usize].pop.0));
                    }
                }
            }
        });
        tally(&mut counts, &mut pend);
        (counts, n, runs, longest, edges)
    };
    let counted: Vec<Walked> = if threads == 1 {
        vec![walk(0, img.cores.len())]
    } else {
        std::thread::scope(|sc| {
            let hs: Vec<_> = dcut
                .windows(2)
                .map(|w| {
                    let (d0, d1, walk) = (w[0], w[1], &walk);
                    sc.spawn(move || walk(d0, d1))
                })
                .collect();
            // invariant: the walk cannot fail (errors are found before it); a panic there is a bug, which the join passes on
            hs.into_iter().map(|h| h.join().expect("a load thread panicked")).collect()
        })
    };
    let (mut span_at, mut syn_at) = (vec![0usize; total + 1], vec![0usize; total + 1]);
    let (mut n_spans, mut runs, mut longest, mut pop_edges) = (0usize, Vec::new(), 0usize, Vec::new());
    for (counts, n, r, l, e) in counted {
        pop_edges.extend(e);
        longest = longest.max(l);
        for (k, c) in counts.iter().enumerate() {
            span_at[k + 1] += c[0] as usize;
            syn_at[k + 1] += c[1] as usize;
        }
        n_spans += n;
        if runs.is_empty() {
            runs = r;
        } else {
            runs.extend_from_slice(&r);
        }
    }
    for k in 1..=total {
        span_at[k] += span_at[k - 1];
        syn_at[k] += syn_at[k - 1];
    }
    if syn_at[total] >= u32::MAX as usize {
        return Err(EmuError::Invalid("more than 2^32 − 1 synapses".into()));
    }
    if longest > super::MAX_ROW {
        return Err(EmuError::Invalid(format!(
            "a synaptic row (one source neuron's synapses on one core) of {longest} synapses: the emulator holds at most {} per row",
            super::MAX_ROW
        )));
    }
    // Inputs: each neuron core's ports × padded neurons, one core after
    // another in every slot of the ring, each core's in whole cache lines
    // (the thread that owns a core writes its inputs; `crate::lines`); a
    // synapse's offset addresses them in 24 bits.
    const LINE_I32: usize = crate::lines::LINE / 4;
    let mut in_off = Vec::with_capacity(img.cores.len());
    let mut in_total = 0usize;
    for c in &img.cores {
        in_off.push(in_total);
        if let CoreKind::Neuron { kernel, .. } = &c.kind {
            in_total += (img.kernels[kernel.index()].inputs.len() * padded(c.n_neurons as usize)).next_multiple_of(LINE_I32);
        }
    }
    if in_total >= 1 << 24 {
        return Err(EmuError::Invalid(format!(
            "the image's cores have {in_total} inputs (input ports × neurons, padded to 4, each core's to 32), more than the emulator's 2^24 − 1"
        )));
    }
    let max_delay = arrays.iter().map(Arrays::max_delay).max().unwrap_or(0);
    let ring_slots = (max_delay + 1).next_power_of_two();
    let mut arena = vec![0u64; syn_at[total]];
    let mut all_spans = vec![0u64; n_spans];
    {
        // Moving the rows writes all over the arena (one row of each
        // source neuron per destination core). Taken by source core,
        // each core's runs in destination order, the writes stay in the
        // core's stretch of the arena (which fits a cache) and each
        // neuron's rows still come in destination order. Several threads
        // share the work, each owning a range of source cores (and so one
        // stretch of the arena and of the spans); each writes exactly what
        // one would. (Where runs are short, e.g. one row each, grouping
        // them would cost more memory than it saves time: then each
        // thread walks every row and takes its own, in destination order.)
        let by_source = by_source.unwrap_or(runs.len() <= n_rows / 4);
        let n_cores = img.cores.len();
        let mut run_at = vec![0usize; n_cores + 1];
        let mut grouped: Vec<[u32; 5]> = Vec::new();
        // Each row's source neuron plus 1, or NO_OWNER for a row no packet
        // reaches (for the fill in destination order).
        const NO_OWNER: u32 = 0;
        let mut row_owner = Vec::new();
        let mut offs = Vec::new();
        if !by_source {
            row_owner = vec![NO_OWNER; n_rows];
            for &[_, di, k0, k1, _, b0] in &runs {
                arrays[di as usize].offsets(k0 as usize, k1 as usize, &mut offs);
                let at = row_base[di as usize] + k0 as usize;
                for (o, &d) in row_owner[at..at + offs.len()].iter_mut().zip(&offs) {
                    *o = b0 + d as u32 + 1;
                }
            }
        } else {
            for r in &runs {
                run_at[r[0] as usize + 1] += 1;
            }
            for c in 0..n_cores {
                run_at[c + 1] += run_at[c];
            }
            let mut next = run_at.clone();
            grouped = vec![[0u32; 5]; runs.len()];
            for r in &runs {
                grouped[next[r[0] as usize]] = [r[1], r[2], r[3], r[4], r[5]];
                next[r[0] as usize] += 1;
            }
        }
        drop(runs);
        // Threads' ranges of source neurons, at source core boundaries.
        let core_syn_at: Vec<usize> = first.iter().map(|&f| syn_at[f]).chain([syn_at[total]]).collect();
        let ccut = nerve_isa::cuts(&core_syn_at, threads);
        let cut: Vec<usize> = ccut.iter().map(|&c| if c < n_cores { first[c] } else { total }).collect();
        let mut arena_parts = split_by(&mut arena, &syn_at, &cut);
        let mut span_parts = split_by(&mut all_spans, &span_at, &cut);
        let (img, row_owner, row_base, syn_at, span_at, first, grouped, run_at, in_off, plastic) =
            (&img, &row_owner, &row_base, &syn_at, &span_at, &first, &grouped, &run_at, &in_off, &plastic);
        let fill = move |c0: usize, c1: usize, arena: &mut [u64], spans: &mut [u64]| {
            let lo = if c0 < n_cores { first[c0] } else { total };
            let hi = if c1 < n_cores { first[c1] } else { total };
            let (syn0, sp0) = (syn_at[lo], span_at[lo]);
            let mut out = Out {
                arena,
                spans,
                syn_next: syn_at[lo..hi].iter().map(|&x| x - syn0).collect(),
                sp_next: span_at[lo..hi].iter().map(|&x| x - sp0).collect(),
                lo,
            };
            let (mut lens, mut offs, mut syn, mut recs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            if by_source {
                // Each run lies elsewhere in memory (its destination core's
                // rows and synapses): ask for the runs ahead (the 1M ring's
                // fill: 1.43-1.57 s without, 1.20-1.24 s with 8 ahead).
                const AHEAD: usize = 8;
                let runs = &grouped[run_at[c0]..run_at[c1]];
                for (ri, &[di, k0, k1, start, b0]) in runs.iter().enumerate() {
                    if let Some(&[dn, kn, _, sn, _]) = runs.get(ri + AHEAD) {
                        arrays[dn as usize].prefetch(kn as usize, sn as usize);
                    }
                    let (di, k0, k1) = (di as usize, k0 as usize, k1 as usize);
                    let syns = arrays[di].run(k0, k1, start as usize, &mut lens, &mut syn, &mut recs);
                    arrays[di].offsets(k0, k1, &mut offs);
                    let (np, off, mask) = (padded(img.cores[di].n_neurons as usize), in_off[di], &plastic[di][..]);
                    let mut a = 0;
                    for (&len, &d) in lens.iter().zip(&offs) {
                        let len = len as usize;
                        out.row(di, np, off, mask, start as usize + a, &syns[a..a + len], b0 as usize + d as usize);
                        a += len;
                    }
                }
            } else {
                // Destination order, as the walk: each neuron's rows in it.
                let mut scratch = Vec::new();
                for di in 0..n_cores {
                    let owners = &row_owner[row_base[di]..row_base[di + 1]];
                    if !owners.iter().any(|&b| b != NO_OWNER && (lo..hi).contains(&(b as usize - 1))) {
                        continue; // none of this thread's
                    }
                    let rows = arrays[di].rows(&mut scratch);
                    let (np, off, mask) = (padded(img.cores[di].n_neurons as usize), in_off[di], &plastic[di][..]);
                    for (k, &b) in owners.iter().enumerate() {
                        if b == NO_OWNER {
                            continue; // unused
                        }
                        let b = b as usize - 1;
                        if b < lo || b >= hi {
                            continue; // another thread's
                        }
                        let a = rows[k].start as usize;
                        out.row(di, np, off, mask, a, arrays[di].run(k, k + 1, a, &mut lens, &mut syn, &mut recs), b);
                    }
                }
            }
        };
        if threads == 1 {
            // invariant: threads == 1 here: cuts(_, 1) gives two bounds, so split_by made exactly one part
            fill(0, n_cores, arena_parts.pop().expect("one thread, one part"), span_parts.pop().expect("one thread, one part"));
        } else {
            std::thread::scope(|sc| {
                for (k, (a, sp)) in arena_parts.into_iter().zip(span_parts).enumerate() {
                    let (c0, c1) = (ccut[k], ccut[k + 1]);
                    let fill = &fill;
                    sc.spawn(move || fill(c0, c1, a, sp));
                }
            });
        }
    }
    let mut fanout: Vec<Fanout> = img.cores.iter().map(|_| Fanout::default()).collect();
    for (ci, c) in img.cores.iter().enumerate() {
        if all_routes[ci].is_empty() {
            continue;
        }
        let (g0, n) = (first[ci], c.n_neurons as usize);
        let base = span_at[g0];
        fanout[ci] = Fanout { at: (0..=n).map(|i| [(span_at[g0 + i] - base) as u32, syn_at[g0 + i] as u32]).collect(), base };
    }
    Ok(Laid { arena, spans: Span::from_words(all_spans), fanout, in_off, in_total, ring_slots, pop_edges })
}

/// Where a thread's fill writes: its stretches of the arena and the spans,
/// and where each of its source neurons' next synapse and span go.
struct Out<'x> {
    arena: &'x mut [u64],
    spans: &'x mut [u64],
    syn_next: Vec<usize>,
    sp_next: Vec<usize>,
    /// The first source neuron of the stretch.
    lo: usize,
}

impl Out<'_> {
    /// A row of core di, its synapses `syns` from synapse `a` on, owned by
    /// source neuron b; `np` and `off` the core's padded neurons and first
    /// input, `mask` its learning synapses. (Inlined into the fill's loops:
    /// a call per row, ~94 M of them, costs.)
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn row(&mut self, di: usize, np: usize, off: usize, mask: &[bool], a: usize, syns: &[Synapse], b: usize) {
        let b = b - self.lo;
        let at = self.syn_next[b];
        let mut n = 0;
        for (j, s) in syns.iter().enumerate() {
            if !mask.get(a + j).is_some_and(|&p| p) {
                self.arena[at + n] = PackedSyn::new((off + s.port as usize * np + s.target as usize) as u32, s.delay, s.weight).0;
                n += 1;
            }
        }
        self.spans[self.sp_next[b]] = Span::word(di as u32, syns.len() as u16, n as u16);
        self.sp_next[b] += 1;
        self.syn_next[b] += n;
    }
}

/// A run of rows: source core, destination core, first row, end row, the
/// first row's start (the rest follow from the rows' lengths), the first
/// row's owner (a global source neuron index; a row `d` numbers after the
/// first is owned by the neuron `d` after it).
type Run6 = [u32; 6];

/// Rows counted at once by `tally`.
const TALLY: usize = 256;

/// Adds each pending row (source neuron, synapses the arena holds) to its
/// neuron's counts. The counts are scattered over every source neuron (the
/// 1M ring's: 8 MB a thread): each is asked for ahead of its turn.
fn tally(counts: &mut [[u32; 2]], pend: &mut Vec<(u32, u32)>) {
    const AHEAD: usize = 16;
    for i in 0..pend.len() {
        if let Some(&(b, _)) = pend.get(i + AHEAD) {
            prefetch_index(&*counts, b as usize);
        }
        let (b, s) = pend[i];
        let c = &mut counts[b as usize];
        c[0] += 1;
        c[1] += s;
    }
    pend.clear();
}

/// `xs` split into the stretches `at[c[k]]..at[c[k + 1]]`, one per range.
fn split_by<'a, T>(xs: &'a mut [T], at: &[usize], c: &[usize]) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(c.len() - 1);
    let mut rest = xs;
    for w in c.windows(2) {
        let (a, b) = std::mem::take(&mut rest).split_at_mut(at[w[1]] - at[w[0]]);
        parts.push(a);
        rest = b;
    }
    parts
}

/// Every used row of the destination cores `dests`, in core order, as (source core,
/// source neuron, destination core, row index in the core, row number, start, length): each
/// non-empty row belongs to one key (its input entry's key plus the row's
/// offset), the key to one source neuron, and the row is used if that
/// neuron's route reaches the row's core.
fn used_rows(
    img: &Image,
    arrays: &[Arrays],
    all_routes: &[Vec<Route>],
    key_owner: &[(u32, u32, usize)],
    dests: std::ops::Range<usize>,
    reached: &Reached,
    mut visit: impl FnMut(u32, u32, u32, u32, u32, u32, u32),
) {
    let mut cursor: Vec<Vec<u32>> = all_routes.iter().map(|rs| if rs.len() > 1 { vec![0; rs.len()] } else { Vec::new() }).collect();
    let mut scratch = Vec::new();
    // The source cores with one route that reach the current destination.
    let mut from = vec![0u64; img.cores.len().div_ceil(64)];
    for (di, d) in img.cores.iter().enumerate().skip(dests.start).take(dests.len()) {
        if arrays[di].n_rows() == 0 {
            continue;
        }
        let senders = &reached.src[reached.at[di]..reached.at[di + 1]];
        for &s in senders {
            from[s as usize / 64] |= 1 << (s % 64);
        }
        let rows = arrays[di].rows(&mut scratch);
        let mut by_row: Vec<&nerve_isa::image::InputEntry> = d.inputs.iter().collect();
        by_row.sort_by_key(|e| e.row);
        // Rows and entries are both in row order, and consecutive rows
        // mostly share their entry, owner and route: walk the entries
        // with the rows and keep the last owner and route decision.
        let mut ei = 0usize;
        let mut owner_range: Option<(u32, u32, usize)> = None;
        // Where in `key_owner` the last owner was found: a core's entries
        // mostly come in key order, so the next owner is mostly the next
        // one there (a search per entry was a tenth of the walk).
        let mut oi = 0usize;
        let mut reach: Option<(usize, usize, bool)> = None;
        for (k, r) in rows.iter().enumerate() {
            while ei + 1 < by_row.len() && by_row[ei + 1].row <= r.row {
                ei += 1;
            }
            let e = match by_row.get(ei) {
                Some(e) if e.row <= r.row && r.row - e.row < e.count => *e,
                _ => continue,
            };
            let key = e.key.0 + (r.row - e.row);
            if !matches!(owner_range, Some((lo, hi, _)) if key >= lo && key <= hi) {
                oi = match key_owner.get(oi + 1) {
                    Some(&(lo, hi, _)) if key >= lo && key <= hi => oi + 1,
                    _ => key_owner.partition_point(|o| o.0 <= key).saturating_sub(1),
                };
                owner_range = key_owner.get(oi).copied().filter(|&(lo, hi, _)| key >= lo && key <= hi);
            }
            let Some((lo, _, src)) = owner_range else {
                continue; // no core sends this key: the row is never used
            };
            let owner = (src, key - lo);
            let rs = &all_routes[owner.0];
            if rs.is_empty() {
                continue;
            }
            let ri = if rs.len() == 1 { 0 } else { owner.1 as usize };
            let reaches = match reach {
                Some((s, i, yes)) if s == src && i == ri => yes,
                _ if rs.len() == 1 => {
                    let yes = from[src / 64] >> (src % 64) & 1 != 0;
                    reach = Some((src, ri, yes));
                    yes
                }
                _ => {
                    // Destination cores come in increasing order and every
                    // route's destinations are sorted: a cursor per route
                    // only moves forward (linear overall, no search per row).
                    let ds = &rs[ri].dests;
                    let cur = &mut cursor[src][ri];
                    while (*cur as usize) < ds.len() && (ds[*cur as usize].core as usize) < di {
                        *cur += 1;
                    }
                    let yes = ds.get(*cur as usize).is_some_and(|x| x.core as usize == di);
                    reach = Some((src, ri, yes));
                    yes
                }
            };
            if !reaches {
                continue; // the tables do not bring this key here
            }
            let end = rows.get(k + 1).map_or(arrays[di].n_syn(), |n| n.start as usize);
            visit(owner.0 as u32, owner.1, di as u32, k as u32, r.row, r.start, (end - r.start as usize) as u32);
        }
        for &s in senders {
            from[s as usize / 64] = 0;
        }
    }
}

/// Per destination core, the source cores whose one route (shared by all
/// their neurons) reaches it, in increasing order: `src[at[d]..at[d + 1]]`.
/// The walk tests a run's source against a bit set of these rather than
/// reading the source's route, which lies anywhere in memory.
struct Reached {
    at: Vec<usize>,
    src: Vec<u32>,
}

fn reached_by(all_routes: &[Vec<Route>]) -> Reached {
    let n = all_routes.len();
    fn one(rs: &[Route]) -> &[u32] {
        if rs.len() == 1 {
            &rs[0].cores
        } else {
            &[]
        }
    }
    let mut at = vec![0usize; n + 1];
    for rs in all_routes {
        for &c in one(rs) {
            at[c as usize + 1] += 1;
        }
    }
    for d in 0..n {
        at[d + 1] += at[d];
    }
    let mut next = at.clone();
    let mut src = vec![0u32; at[n]];
    for (s, rs) in all_routes.iter().enumerate() {
        for &c in one(rs) {
            src[next[c as usize]] = s as u32;
            next[c as usize] += 1;
        }
    }
    Reached { at, src }
}
