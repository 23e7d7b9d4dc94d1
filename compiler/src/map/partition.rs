//! Partitioning: split every population into equal contiguous slices, one per
//! core, so that every slice respects every per-core limit of the profile:
//! neurons, synaptic memory words, input keys (axons), input-table entries,
//! row length and output axons.
//!
//! Limits interact (splitting a target adds output axons to its sources,
//! splitting a source changes its targets' rows), so the
//! partition is refined until nothing changes. A population that still does
//! not fit at one neuron per core gets an error naming the limit.

use nerve_isa::arch::Arch;

use crate::error::{CompileError, Result};
use crate::net::expand::Synapses;
use crate::net::model::*;

/// How one population is split: `count` slices of `size` neurons (the last may be smaller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub size: u32,
    pub count: u32,
    pub n: u32,
    /// ⌊(2^64 − 1) / size⌋ + 1: `slice_of` divides by multiplying, since a
    /// hardware division per synapse dominated partitioning and codegen.
    magic: u128,
}

impl Split {
    pub fn new(n: u32, size: u32) -> Split {
        let size = size.clamp(1, n.max(1));
        Split { size, count: n.div_ceil(size), n, magic: (u64::MAX / size as u64) as u128 + 1 }
    }
    pub fn with_count(n: u32, count: u32) -> Split {
        Split::new(n, n.div_ceil(count.max(1)))
    }
    #[inline]
    pub fn slice_of(&self, neuron: u32) -> u32 {
        // Exact for every 32-bit numerator and divisor (Lemire, Kaser & Kurz,
        // "Faster remainder by direct computation", 2019); tested below.
        ((self.magic * neuron as u128) >> 64) as u32
    }
    pub fn range(&self, k: u32) -> std::ops::Range<u32> {
        let a = k * self.size;
        a..((k + 1) * self.size).min(self.n)
    }
    pub fn len(&self, k: u32) -> u32 {
        let r = self.range(k);
        r.end - r.start
    }
}

/// Per-slice resource needs of a population's slices as targets.
#[derive(Clone, Debug, Default)]
pub struct SliceNeeds {
    pub words: u64,
    pub keys: u64,
    pub entries: u64,
    pub max_row: u64,
}

/// Projections into `post`, grouped by presynaptic population (rows merge
/// them): groups in the order of their first projection, each group's in
/// projection order. From `post`'s incoming edges (sorted, as petgraph
/// lists them newest first), not a scan of every projection: called per
/// population, the scan was quadratic (1,200 populations × 57k projections:
/// ~7% of the compile's CPU samples).
pub fn groups_into(net: &Network, post: PopIx) -> Vec<(PopIx, Vec<ProjIx>)> {
    use petgraph::visit::EdgeRef;
    let mut into: Vec<(ProjIx, PopIx)> = net.graph.edges_directed(post, petgraph::Direction::Incoming).map(|e| (e.id(), e.source())).collect();
    into.sort_unstable_by_key(|&(e, _)| e);
    let mut groups: Vec<(PopIx, Vec<ProjIx>)> = Vec::new();
    // Group of each source population seen (a population may have many sources).
    let mut group_of: rustc_hash::FxHashMap<PopIx, usize> = Default::default();
    for (e, a) in into {
        match group_of.entry(a) {
            std::collections::hash_map::Entry::Occupied(g) => groups[*g.get()].1.push(e),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(groups.len());
                groups.push((a, vec![e]));
            }
        }
    }
    groups
}

/// Row lengths per (pre neuron, post slice) for one group, visited per pre neuron.
pub fn for_each_row(syns: &[&Synapses], n_pre: u32, post_split: Split, mut f: impl FnMut(u32, u32, u64)) {
    let mut counts = vec![0u64; post_split.count as usize];
    let mut touched: Vec<u32> = Vec::new();
    for i in 0..n_pre as usize {
        for s in syns {
            // A row's targets mostly come in runs within one slice (rows are
            // sorted by target): count a run in a register, not memory.
            let mut flush = |sl: u32, run: u64| {
                if run != 0 {
                    if counts[sl as usize] == 0 {
                        touched.push(sl);
                    }
                    counts[sl as usize] += run;
                }
            };
            let (mut cur, mut run) = (0u32, 0u64);
            for &j in &s.post[s.row(i)] {
                let sl = post_split.slice_of(j);
                if sl != cur {
                    flush(cur, run);
                    (cur, run) = (sl, 0);
                }
                run += 1;
            }
            flush(cur, run);
        }
        if touched.len() * 2 >= counts.len() {
            // Half the slices or more reached (dense fan-out): one ordered
            // scan costs less than sorting the list (measured both ways: at a
            // quarter, a 1M-neuron network's partition took 1.4 s, not 1.0).
            for (sl, c) in counts.iter_mut().enumerate() {
                if *c != 0 {
                    f(i as u32, sl as u32, *c);
                    *c = 0;
                }
            }
        } else {
            touched.sort_unstable();
            for &sl in &touched {
                f(i as u32, sl, counts[sl as usize]);
                counts[sl as usize] = 0;
            }
        }
        touched.clear();
    }
}

/// For each (source, target) population, the target slices each source slice
/// reaches (sorted): the slice graph's edges, and the input entries codegen writes.
pub type SliceConns = std::collections::BTreeMap<(PopIx, PopIx), Vec<Vec<u32>>>;

/// What each slice of `post` needs, and (into `conns`) which slices reach it.
fn needs(arch: &Arch, net: &Network, syn: &[Synapses], gap: &[Synapses], splits: &[Split], post: PopIx, conns: &mut SliceConns) -> Vec<SliceNeeds> {
    let sp = splits[post.index()];
    let mut out = vec![SliceNeeds::default(); sp.count as usize];
    gap_needs(net, gap, splits, post, &mut out);
    for (pre, projs) in groups_into(net, post) {
        let group: Vec<&Synapses> = projs.iter().map(|e| &syn[e.index()]).collect();
        // Shared kernels occupy their kernel's words once per slice they reach, not rows.
        let kernels: Vec<Option<crate::net::expand::SharedKernel>> =
            projs.iter().map(|e| crate::net::expand::shared_kernel(arch, net, *e, &syn[e.index()])).collect();
        let any_shared = kernels.iter().any(|k| k.is_some());
        if any_shared {
            let stored: Vec<&Synapses> = group.iter().zip(&kernels).filter(|(_, k)| k.is_none()).map(|(g, _)| *g).collect();
            for_each_row(&stored, net.pop(pre).size, sp, |_, sl, len| out[sl as usize].words += arch.row_words(len as u32));
            for (g, k) in group.iter().zip(&kernels) {
                let Some(k) = k else { continue };
                let mut reached = vec![false; sp.count as usize];
                for_each_row(&[*g], net.pop(pre).size, sp, |_, sl, _| reached[sl as usize] = true);
                for (sl, r) in reached.iter().enumerate() {
                    if *r {
                        out[sl].words += arch.row_words(k.weights.len() as u32);
                    }
                }
            }
        }
        // One input-table entry per source population (its slices' keys form one aligned run).
        let mut seen: Vec<bool> = vec![false; sp.count as usize];
        let ps = splits[pre.index()];
        let mut conn = vec![Vec::<u32>::new(); ps.count as usize];
        // Last source slice seen per target slice: source slices come in order.
        let mut mark = vec![u32::MAX; sp.count as usize];
        for_each_row(&group, net.pop(pre).size, sp, |i, sl, len| {
            let s = ps.slice_of(i);
            if mark[sl as usize] != s {
                mark[sl as usize] = s;
                conn[s as usize].push(sl);
            }
            let o = &mut out[sl as usize];
            if !any_shared {
                o.words += arch.row_words(len as u32);
            }
            o.keys += 1;
            o.max_row = o.max_row.max(len);
            if !seen[sl as usize] {
                seen[sl as usize] = true;
                o.entries += 1;
            }
        });
        for v in &mut conn {
            v.sort_unstable();
            v.dedup();
        }
        conns.insert((pre, post), conn);
    }
    out
}

/// What the gap junctions into `post` add to its slices' needs, as
/// `Image::validate` counts them: a word per junction term (each partner's,
/// and each neuron's self term per input port, here per electrical
/// projection, at least as many), and an input key per source neuron on
/// another core (its `v` arrives every step). They take no input-table
/// entry (their values go to their cores directly) and make no rows.
fn gap_needs(net: &Network, gap: &[Synapses], splits: &[Split], post: PopIx, out: &mut [SliceNeeds]) {
    let sp = splits[post.index()];
    let into: Vec<(usize, &Electrical)> = net.electrical.iter().enumerate().filter(|(_, e)| e.post == post).collect();
    // The compiler drops a junction of conductance 0 (`gap::edges`).
    let live = |k: usize, i: usize| gap[k].row(i).filter(move |&at| gap[k].weight(at) != 0.0).map(move |at| gap[k].post[at]);
    // Self terms: per target neuron, the last projection whose junction reached it.
    let mut self_mark = vec![usize::MAX; net.pop(post).size as usize];
    for &(k, _) in &into {
        for i in 0..gap[k].n_pre() {
            for j in live(k, i) {
                let sl = sp.slice_of(j) as usize;
                out[sl].words += 1;
                if self_mark[j as usize] != k {
                    self_mark[j as usize] = k;
                    out[sl].words += 1;
                }
            }
        }
    }
    // Keys: per source population, each source neuron once per target slice it reaches from another core.
    let mut pres: Vec<PopIx> = into.iter().map(|(_, e)| e.pre).collect();
    pres.sort_unstable();
    pres.dedup();
    for pre in pres {
        let ps = splits[pre.index()];
        let mut mark = vec![u32::MAX; sp.count as usize];
        for i in 0..net.pop(pre).size {
            for &(k, _) in into.iter().filter(|(_, e)| e.pre == pre) {
                for j in live(k, i as usize) {
                    let sl = sp.slice_of(j);
                    if (pre != post || ps.slice_of(i) != sl) && mark[sl as usize] != i {
                        mark[sl as usize] = i;
                        out[sl as usize].keys += 1;
                    }
                }
            }
        }
    }
}

/// `dest_counts` read off the slice graph `needs` built (`None` if it lacks
/// a projection out of `pre`): each (pre, post) list holds the distinct
/// target slices of each source slice.
fn dests_from_conns(net: &Network, conns: &SliceConns, pre: PopIx, count: u32) -> Option<Vec<u64>> {
    let mut out = vec![0u64; count as usize];
    for post in net.graph.neighbors_directed(pre, petgraph::Direction::Outgoing).collect::<std::collections::BTreeSet<_>>() {
        let c = conns.get(&(pre, post))?;
        if c.len() != count as usize {
            return None;
        }
        for (o, targets) in out.iter_mut().zip(c) {
            *o += targets.len() as u64;
        }
    }
    Some(out)
}

/// Distinct destination slices (cores) of each slice of `pre`.
fn dest_counts(net: &Network, syn: &[Synapses], splits: &[Split], pre: PopIx) -> Vec<u64> {
    let sp = splits[pre.index()];
    let mut out = vec![0u64; sp.count as usize];
    for post in net.graph.neighbors_directed(pre, petgraph::Direction::Outgoing).collect::<std::collections::BTreeSet<_>>() {
        let psplit = splits[post.index()];
        let projs: Vec<&Synapses> = net.graph.edges_connecting(pre, post).map(|e| &syn[petgraph::visit::EdgeRef::id(&e).index()]).collect();
        for k in 0..sp.count {
            let mut seen = vec![false; psplit.count as usize];
            let mut c = 0;
            for i in sp.range(k) {
                for s in &projs {
                    // Targets come in runs within a slice: test each run once.
                    let mut last = u32::MAX;
                    for &j in &s.post[s.row(i as usize)] {
                        let t = psplit.slice_of(j);
                        if t != last {
                            last = t;
                            if !seen[t as usize] {
                                seen[t as usize] = true;
                                c += 1;
                            }
                        }
                    }
                }
            }
            out[k as usize] += c;
        }
    }
    out
}

/// The worst excess of need over limit among `need`'s slices: (need ÷
/// limit, the limit's name, the need, the limit); `None` if every slice fits.
fn worst_excess(arch: &Arch, need: &[SliceNeeds]) -> Option<(f64, &'static str, u64, u64)> {
    let c = &arch.core;
    let mut worst: Option<(f64, &'static str, u64, u64)> = None;
    let mut consider = |what: &'static str, required: u64, limit: Option<u32>| {
        if let Some(l) = limit {
            if required > l as u64 {
                let r = required as f64 / l.max(1) as f64;
                if worst.is_none_or(|w| r > w.0) {
                    worst = Some((r, what, required, l as u64));
                }
            }
        }
    };
    for nd in need {
        consider("synaptic memory words per core", nd.words, Some(c.synapse_words));
        consider("input keys (axons) per core", nd.keys, c.max_input_keys);
        consider("input-table entries per core", nd.entries, c.max_input_table_entries);
        consider("synapses per row (one source neuron to one core)", nd.max_row, Some(c.max_row_length));
    }
    worst
}

/// Ratio steps a population takes before it is bisected: the rounds the
/// partition had before (64), so that every network that partitioned then
/// gets the same slices now.
const RATIO_STEPS: u32 = 64;

/// Shrinks the slices of `post`, which exceed a limit by `worst`.
///
/// Its first `RATIO_STEPS` times, one ratio step: slices as many times more
/// as the worst need exceeds its limit, checked next round (the other
/// populations may have changed by then). That lands at once when needs grow
/// with slice size, but a fixed cost per slice (a shared kernel's words, row
/// headers costing more than the rows) makes it creep by a slice a round;
/// after that, a bisection for the largest size that fits, the other splits
/// fixed (a slice's needs as a target depend on its own split only), one
/// neuron per core fitting or nothing does.
#[allow(clippy::too_many_arguments)]
fn shrink_to_fit(
    arch: &Arch,
    net: &Network,
    syn: &[Synapses],
    gap: &[Synapses],
    splits: &mut [Split],
    post: PopIx,
    worst: (f64, &'static str, u64, u64),
    steps: &mut u32,
) -> Result<()> {
    let pop = net.pop(post);
    let too_big = |(_, what, required, limit): (f64, &'static str, u64, u64)| CompileError::DoesNotFit {
        population: pop.name.clone(),
        arch: arch.name.clone(),
        limit: what.to_string(),
        required,
        available: limit,
        hint: " even with one neuron per core".to_string(),
    };
    let sp = splits[post.index()];
    if sp.size == 1 {
        return Err(too_big(worst));
    }
    if *steps < RATIO_STEPS {
        *steps += 1;
        let count = ((sp.count as f64 * worst.0).ceil() as u32).max(sp.count + 1).min(pop.size);
        // Equal slices: the size must shrink, or the same split comes back.
        let size = pop.size.div_ceil(count).min(sp.size - 1).max(1);
        splits[post.index()] = Split::new(pop.size, size);
        return Ok(());
    }
    let fits = |splits: &[Split]| worst_excess(arch, &needs(arch, net, syn, gap, splits, post, &mut SliceConns::new()));
    splits[post.index()] = Split::new(pop.size, 1);
    if let Some(w) = fits(splits) {
        return Err(too_big(w));
    }
    // Invariant: size `lo` fits, `hi` does not.
    let (mut lo, mut hi) = (1, sp.size);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        splits[post.index()] = Split::new(pop.size, mid);
        if fits(splits).is_none() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    splits[post.index()] = Split::new(pop.size, lo);
    Ok(())
}

/// The most distinct destination cores any one neuron of `pre` reaches: a
/// core holding that neuron alone needs that many output axons.
fn neuron_dests_max(net: &Network, syn: &[Synapses], splits: &[Split], pre: PopIx) -> u64 {
    let posts: std::collections::BTreeSet<PopIx> = net.graph.neighbors_directed(pre, petgraph::Direction::Outgoing).collect();
    // Per destination population, the last neuron that reached each slice.
    let mut stamp: Vec<Vec<u32>> = posts.iter().map(|q| vec![u32::MAX; splits[q.index()].count as usize]).collect();
    let groups: Vec<(Split, Vec<&Synapses>)> = posts
        .iter()
        .map(|&q| (splits[q.index()], net.graph.edges_connecting(pre, q).map(|e| &syn[petgraph::visit::EdgeRef::id(&e).index()]).collect()))
        .collect();
    let mut most = 0;
    for i in 0..net.pop(pre).size {
        let mut c = 0;
        for ((psplit, projs), st) in groups.iter().zip(&mut stamp) {
            for s in projs {
                for &j in &s.post[s.row(i as usize)] {
                    let t = psplit.slice_of(j) as usize;
                    if st[t] != i {
                        st[t] = i;
                        c += 1;
                    }
                }
            }
        }
        most = most.max(c);
    }
    most
}

/// Shrinks the slices of `pre` until each core's output axons (neurons ×
/// distinct destination cores) fit `limit`, its targets' splits fixed; an
/// error only if one neuron alone reaches more cores than that.
fn shrink_for_axons(arch: &Arch, net: &Network, syn: &[Synapses], splits: &mut [Split], pre: PopIx, dests: &[u64], limit: u64) -> Result<()> {
    let pop = net.pop(pre);
    let sp = splits[pre.index()];
    let max_dest = dests.iter().copied().max().unwrap_or(1).max(1);
    if max_dest <= limit {
        // Slices of limit ÷ destinations neurons: exact when the slices keep their destinations.
        let size = ((limit / max_dest) as u32).clamp(1, sp.size - 1);
        splits[pre.index()] = Split::new(pop.size, size);
        return Ok(());
    }
    // Smaller slices reach fewer cores: only a single neuron's reach is a floor.
    let one = neuron_dests_max(net, syn, splits, pre);
    if one > limit {
        return Err(CompileError::DoesNotFit {
            population: pop.name.clone(),
            arch: arch.name.clone(),
            limit: "output axons per core (neurons × destination cores)".into(),
            required: one,
            available: limit,
            hint: " even with one neuron per core (one of its neurons reaches that many cores)".into(),
        });
    }
    let fits = |splits: &[Split]| {
        let s = splits[pre.index()];
        let d = dest_counts(net, syn, splits, pre);
        (0..s.count).all(|k| s.len(k) as u64 * d[k as usize] <= limit)
    };
    // Invariant: size `lo` fits (one neuron per core reaches at most `limit` cores), `hi` does not.
    let (mut lo, mut hi) = (1, sp.size);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        splits[pre.index()] = Split::new(pop.size, mid);
        if fits(splits) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    splits[pre.index()] = Split::new(pop.size, lo);
    Ok(())
}

/// The most neurons a slice of `p` may hold: the tightest of the core's
/// limit, the population's own cap and the compile option's. Slices start
/// there and only shrink.
pub(crate) fn slice_cap(arch: &Arch, p: &Population, neurons_per_core: Option<u32>) -> u32 {
    [p.max_per_core, neurons_per_core].into_iter().flatten().fold(arch.core.max_neurons, u32::min)
}

/// Cores the network's neurons alone need, at the least (`slice_cap`).
pub(crate) fn least_cores(arch: &Arch, net: &Network, neurons_per_core: Option<u32>) -> u64 {
    net.pops().map(|(_, p)| u64::from(p.size.div_ceil(slice_cap(arch, p, neurons_per_core).max(1)))).sum()
}

/// From this many stored synapses up, populations are checked on several threads.
const PARALLEL_NEEDS: usize = 1 << 20;

/// Finds a split of every population under every core limit, checking
/// populations on up to `threads` threads (by the network's size if `None`;
/// the result does not depend on the count).
pub fn partition(
    arch: &Arch,
    net: &Network,
    neurons_per_core: Option<u32>,
    syn: &[Synapses],
    gap: &[Synapses],
    threads: Option<usize>,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Split>, SliceConns)> {
    let c = &arch.core;
    let mut splits: Vec<Split> = net.pops().map(|(_, p)| Split::new(p.size, slice_cap(arch, p, neurons_per_core))).collect();
    let mut steps = vec![0u32; splits.len()];
    let posts: Vec<PopIx> = net.pops().filter(|(_, p)| !p.model.is_source()).map(|(q, _)| q).collect();
    let stored: usize = syn.iter().chain(gap).map(|s| s.post.len()).sum();
    let threads = threads.unwrap_or_else(|| if stored < PARALLEL_NEEDS { 1 } else { nerve_isa::host_threads() });
    // Every change shrinks a slice size, so the rounds end.
    let mut round = 0u32;
    loop {
        round += 1;
        progress(&format!("partition round {round}"));
        let mut changed = false;
        // Valid when the round changes nothing: then every split it used is final.
        let mut conns = SliceConns::new();
        // Whether a population's slices fit depends on its own split alone
        // (its rows are per source neuron and target slice; only the slice
        // graph `conns` also depends on its sources' splits, and it is kept
        // from a round that changes none): so the populations are checked
        // side by side on the splits the round began with, and the changes
        // applied in population order, giving the splits, the slice graph
        // and the first error that checking them in turn gives.
        let (now, done) = (&splits, &steps);
        let checked = crate::par::map_in_order(posts.clone(), threads, |post| -> Result<(SliceConns, Option<(Split, u32)>)> {
            let mut c = SliceConns::new();
            let need = needs(arch, net, syn, gap, now, post, &mut c);
            let Some(worst) = worst_excess(arch, &need) else { return Ok((c, None)) };
            let (mut mine, mut step) = (now.to_vec(), done[post.index()]);
            shrink_to_fit(arch, net, syn, gap, &mut mine, post, worst, &mut step)?;
            Ok((c, Some((mine[post.index()], step))))
        });
        for (post, r) in posts.iter().zip(checked) {
            let (c, shrunk) = r?;
            conns.extend(c);
            if let Some((split, step)) = shrunk {
                (splits[post.index()], steps[post.index()]) = (split, step);
                changed = true;
            }
        }
        if let Some(limit) = c.max_output_axons {
            for (pre, pop) in net.pops() {
                let sp = splits[pre.index()];
                // While no split has changed this round, the slice graph just
                // built holds the answer; otherwise count again on the new splits.
                let dests = match (changed, dests_from_conns(net, &conns, pre, sp.count)) {
                    (false, Some(d)) => {
                        debug_assert_eq!(d, dest_counts(net, syn, &splits, pre), "{}", pop.name);
                        d
                    }
                    _ => dest_counts(net, syn, &splits, pre),
                };
                let worst = (0..sp.count).map(|k| sp.len(k) as u64 * dests[k as usize]).max().unwrap_or(0);
                if worst > limit as u64 {
                    shrink_for_axons(arch, net, syn, &mut splits, pre, &dests, limit as u64)?;
                    changed = true;
                }
            }
        }
        if std::env::var_os("NERVE_DEBUG_PARTITION").is_some() {
            eprintln!("round {round}: {:?}", splits.iter().map(|s| (s.size, s.count)).collect::<Vec<_>>());
        }
        if !changed {
            return Ok((splits, conns));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Split;

    #[test]
    fn groups_into_are_the_projections_into_a_population_grouped_by_source_in_order() {
        // Sources met in scrambled order, repeated pairs, self loops and a
        // population nothing reaches; labels make the repeated pairs valid.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let pops: Vec<String> = (0..7).map(|i| format!(r#"{{"name":"p{i}","size":3,"model":"lif"}}"#)).collect();
        let projs: Vec<String> = (0..300)
            .map(|k| {
                let (a, b) = (next(7), next(6));
                format!(r#"{{"pre":"p{a}","post":"p{b}","label":"e{k}","weight":1,"connector":{{"type":"all_to_all"}}}}"#)
            })
            .collect();
        let text = format!(r#"{{"populations":[{}],"projections":[{}]}}"#, pops.join(","), projs.join(","));
        let net = crate::front::json::parse_network(&text, std::path::Path::new("t.json")).unwrap();
        for (post, _) in net.pops() {
            // The definition: every projection in turn, into its source's group.
            let mut want: Vec<(crate::net::model::PopIx, Vec<crate::net::model::ProjIx>)> = Vec::new();
            for (e, a, b, _) in net.projections() {
                if b == post {
                    match want.iter_mut().find(|(q, _)| *q == a) {
                        Some((_, v)) => v.push(e),
                        None => want.push((a, vec![e])),
                    }
                }
            }
            assert_eq!(super::groups_into(&net, post), want, "into {}", net.pop(post).name);
        }
        assert!(super::groups_into(&net, net.pops().last().unwrap().0).is_empty(), "p6 has no incoming projection");
    }

    #[test]
    fn slice_of_divides_exactly() {
        let mut sizes: Vec<u32> = (1..=300).collect();
        sizes.extend([1023, 1024, 1025, 65_535, 65_536, 1 << 20, u32::MAX / 3, u32::MAX - 1, u32::MAX]);
        let mut ns: Vec<u32> = (0..=2000).collect();
        ns.extend([u32::MAX, u32::MAX - 1, 1 << 31, (1 << 31) - 1, 4_000_000_000, 123_456_789]);
        for &d in &sizes {
            let s = Split::new(u32::MAX, d);
            for &n in &ns {
                assert_eq!(s.slice_of(n), n / d, "{n} / {d}");
            }
            for k in [1u64, 2, 3, 1000] {
                let n = (k * d as u64).min(u32::MAX as u64) as u32;
                for m in [n.saturating_sub(1), n, n.saturating_add(1)] {
                    assert_eq!(s.slice_of(m), m / d, "{m} / {d}");
                }
            }
        }
    }
}
