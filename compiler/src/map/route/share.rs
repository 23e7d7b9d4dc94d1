//! Shared routes: the slices of a projection's source population route to
//! every slice of its target population when most slice pairs are connected
//! anyway, so that the population's slices take one route and their entries
//! merge under the population's key run (`allocate_keys`).
//!
//! Why: a slice routed to exactly the cores holding its synapses has a tree
//! of its own wherever its destinations differ from its siblings', and the
//! compressor cannot merge entries whose routes differ. Thinning a random
//! network leaves a few slice pairs unconnected and so made its tables grow
//! (rand_big: 59,429 entries at p = 0.1, 67,026 at p = 0.02). Sharing costs
//! packets that reach a core with no row for them (counted by the emulator as
//! `packets_no_row`, and charged as arrivals are), which is why it is bounded
//! by `max_extra`. A pair whose slices connect one to one (k of k² pairs, k
//! times the exact deliveries if shared) is left exact for k ≥ 3 at the default.

use serde::Serialize;

use super::SliceGraph;
use crate::map::partition::Split;
use crate::net::model::{Connector, Network};

/// The default bound on the deliveries sharing may add, as a fraction of a
/// population pair's exact ones: at most twice as many. It is what keeps
/// rand_big's tables from growing when p goes from 0.1 to 0.02: 57,639 and
/// 57,609 entries (exact routes: 59,429 and 67,026; at a bound of 0.75,
/// 57,611 and 57,793: docs/benchmarks.md).
pub const DEFAULT_MAX_EXTRA: f64 = 1.0;

/// What sharing did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ShareStats {
    /// The bound it ran with (`--shared-routes`).
    pub max_extra: f64,
    /// Population pairs (pre, post) with at least one connected slice pair.
    pub population_pairs: u64,
    /// Of those, the pairs routed to every slice of post whose exact routes
    /// did not already reach every slice from every slice.
    pub pairs_shared: u64,
    /// Σ over connected slice pairs of the source slice's neurons: packet
    /// deliveries per spike of every neuron, with exact routes…
    pub deliveries_exact: u64,
    /// …and as routed.
    pub deliveries_routed: u64,
}

/// The chance that a slice of `la` neurons of `pre` (of `n_pre`) reaches a
/// slice of `lb` of `post` (of `n_post`) through a connector that draws its
/// synapses at random, or `None` for a connector with a structure (one to one,
/// lists, matrices, convolutions), whose realised synapses are what counts.
/// Self-connection exclusions are ignored: this is an estimate for a choice
/// of routes, not a count.
fn chance(c: &Connector, n_pre: u32, n_post: u32, la: u32, lb: u32) -> Option<f64> {
    let none = match *c {
        Connector::AllToAll { .. } => 0.0,
        Connector::FixedProbability { p, .. } => (1.0 - p).powf(la as f64 * lb as f64),
        // Each post neuron draws n of the pre neurons (≈ independently).
        Connector::FixedNumberPre { n, .. } => (1.0 - la as f64 / n_pre.max(1) as f64).max(0.0).powf(n as f64 * lb as f64),
        Connector::FixedNumberPost { n, .. } => (1.0 - lb as f64 / n_post.max(1) as f64).max(0.0).powf(n as f64 * la as f64),
        _ => return None,
    };
    Some(1.0 - none)
}

/// `graph` with every population pair whose sharing adds at most `max_extra`
/// of its deliveries connected in full, and what that did (`max_extra` 0:
/// `graph` as it is).
///
/// A pair's deliveries (Σ over its connected slice pairs of the source
/// slice's neurons) are, when every projection between the two populations
/// draws its synapses at random, the expected ones: the choice then depends on
/// the connectors' parameters and the slices, not on the draw, so that a
/// thinned random network is routed as the denser one was (the realised
/// counts fluctuate across the bound on small slices). Shared, every slice of
/// pre routes to every slice of post. Otherwise the realised deliveries count,
/// and sharing routes the slices of pre that send at all (a slice with no
/// target keeps sending nothing).
///
/// `len(g)` is slice g's neuron count, `slice_pop[g]` its population.
///
/// `max_output_axons` is the profile's limit on a core's output axons (Σ over
/// its neurons of distinct destination cores, `core.max_output_axons`): a pair
/// whose sharing would take a source slice past it stays exact, since sharing
/// adds destination cores that partitioning (which counts only cores with
/// synapses) did not plan for. Pairs are decided in (pre, post) order, each
/// against the destinations the pairs before it left, so the choice is
/// deterministic; a network whose shared routes stay within the limit is
/// routed as without it.
#[allow(clippy::too_many_arguments)]
pub fn share(
    net: &Network,
    graph: &SliceGraph,
    splits: &[Split],
    slice_pop: &[u32],
    base: &[u32],
    len: impl Fn(u32) -> u32,
    max_extra: f64,
    max_output_axons: Option<u32>,
) -> (SliceGraph, ShareStats) {
    // Per population pair, in (pre, post) order: realised deliveries and connected slice pairs.
    let mut pairs: Vec<((u32, u32), u64)> = graph.edges.iter().map(|&(s, t)| ((slice_pop[s as usize], slice_pop[t as usize]), len(s) as u64)).collect();
    pairs.sort_unstable_by_key(|x| x.0);
    let mut per_pair: Vec<((u32, u32), u64, u64)> = Vec::new();
    for (pq, n) in pairs {
        match per_pair.last_mut() {
            Some((last, exact, edges)) if *last == pq => {
                *exact += n;
                *edges += 1;
            }
            _ => per_pair.push((pq, n, 1)),
        }
    }
    let mut sends = vec![false; slice_pop.len()];
    // Per slice: its destination slices (one core each), as routed so far.
    let mut dests = vec![0u64; slice_pop.len()];
    for &(s, _) in &graph.edges {
        sends[s as usize] = true;
        dests[s as usize] += 1;
    }
    let mut connectors: std::collections::BTreeMap<(u32, u32), Vec<&Connector>> = std::collections::BTreeMap::new();
    for (_, a, b, pr) in net.projections() {
        connectors.entry((a.index() as u32, b.index() as u32)).or_default().push(&pr.connector);
    }
    let slices = |p: u32| base[p as usize]..base[p as usize] + splits[p as usize].count;
    let mut stats = ShareStats { max_extra, population_pairs: per_pair.len() as u64, ..ShareStats::default() };
    let mut add: Vec<(u32, u32)> = Vec::new();
    for &((p, q), exact, edges) in &per_pair {
        stats.deliveries_exact += exact;
        let (sp, sq) = (splits[p as usize], splits[q as usize]);
        let count_q = sq.count as u64;
        let cs = connectors.get(&(p, q)).map_or(&[][..], |v| v.as_slice());
        // The chance that each slice pair connects, if every connector is random.
        let odds = |la: u32, lb: u32| -> Option<f64> {
            let mut none = 1.0;
            for c in cs {
                none *= 1.0 - chance(c, sp.n, sq.n, la, lb)?;
            }
            Some(1.0 - none)
        };
        let random = !cs.is_empty() && odds(1, 1).is_some();
        let sources: Vec<u32> = slices(p).filter(|&g| random || sends[g as usize]).collect();
        let routed = sources.iter().map(|&g| len(g) as u64).sum::<u64>() * count_q;
        let expected = if random {
            sources.iter().map(|&a| (0..sq.count).map(|k| len(a) as f64 * odds(len(a), sq.len(k)).unwrap_or(1.0)).sum::<f64>()).sum::<f64>()
        } else {
            exact as f64
        };
        let full = sources.len() as u64 * count_q;
        // Per source slice: the destinations in q it reaches already (edges are sorted, (pre, post)).
        let exact_in_q = |a: u32| {
            let qs = slices(q);
            let from = graph.edges.partition_point(|&e| e < (a, qs.start));
            let to = graph.edges.partition_point(|&e| e < (a, qs.end));
            (to - from) as u64
        };
        let fits = |a: u32| max_output_axons.is_none_or(|m| len(a) as u64 * (dests[a as usize] + count_q - exact_in_q(a)) <= m as u64);
        if max_extra > 0.0 && edges < full && routed as f64 <= expected * (1.0 + max_extra) && sources.iter().all(|&a| fits(a)) {
            stats.pairs_shared += 1;
            stats.deliveries_routed += routed;
            for &a in &sources {
                dests[a as usize] += count_q - exact_in_q(a);
                add.extend(slices(q).map(|b| (a, b)));
            }
        } else {
            stats.deliveries_routed += exact;
        }
    }
    if add.is_empty() {
        return (graph.clone(), stats);
    }
    let mut edges: Vec<(u32, u32)> = graph.edges.clone();
    edges.append(&mut add);
    edges.sort_unstable();
    edges.dedup();
    (SliceGraph { edges }, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Populations a and b of 25 neurons, three slices (10, 10, 5) each, one projection a → b.
    fn setup(connector: &str) -> (Network, Vec<Split>, Vec<u32>, Vec<u32>) {
        let text = format!(
            r#"{{"name": "t", "dt_ms": 1.0, "populations": [{{"name": "a", "size": 25, "model": "lif"}}, {{"name": "b", "size": 25, "model": "lif"}}],
            "projections": [{{"pre": "a", "post": "b", "connector": {connector}, "weight": 0.1}}]}}"#
        );
        let net = crate::front::json::parse_network(&text, std::path::Path::new("t.json")).unwrap();
        let splits = vec![Split::new(25, 10), Split::new(25, 10)];
        let base = crate::map::place::slice_base(&splits);
        (net, splits, vec![0, 0, 0, 1, 1, 1], base)
    }

    fn run(c: &str, edges: &[(u32, u32)], x: f64) -> (Vec<(u32, u32)>, ShareStats) {
        let (net, splits, slice_pop, base) = setup(c);
        let len = |g: u32| splits[slice_pop[g as usize] as usize].len(g - base[slice_pop[g as usize] as usize]);
        let (g, st) = share(&net, &SliceGraph { edges: edges.to_vec() }, &splits, &slice_pop, &base, len, x, None);
        (g.edges, st)
    }

    const LIST: &str = r#"{"type": "from_list", "connections": [[0, 0], [0, 10], [0, 20], [10, 0], [10, 10], [10, 20], [20, 0], [20, 10]]}"#;

    #[test]
    fn a_structured_pair_is_shared_by_its_realised_deliveries() {
        // 8 of 9 slice pairs: (2, 5) missing. Exact 10·3 + 10·3 + 5·2 = 70, shared 25·3 = 75 (+7.1%).
        let dense: Vec<(u32, u32)> = (0..3).flat_map(|a| (3..6).map(move |b| (a, b))).filter(|&e| e != (2, 5)).collect();
        let (g, st) = run(LIST, &dense, DEFAULT_MAX_EXTRA);
        assert_eq!(g.len(), 9);
        assert_eq!((st.population_pairs, st.pairs_shared, st.deliveries_exact, st.deliveries_routed), (1, 1, 70, 75));
        assert_eq!(run(LIST, &dense, 0.08).1.pairs_shared, 1);
        for x in [0.07, 0.0] {
            let (g, st) = run(LIST, &dense, x);
            assert_eq!((&g, st.pairs_shared, st.deliveries_routed), (&dense, 0, 70));
        }
        // One to one: 25 exact deliveries, 75 shared (+200%).
        let diag = vec![(0, 3), (1, 4), (2, 5)];
        let (g, st) = run(r#"{"type": "one_to_one"}"#, &diag, DEFAULT_MAX_EXTRA);
        assert_eq!((g, st.pairs_shared, st.deliveries_exact), (diag.clone(), 0, 25));
        assert_eq!(run(r#"{"type": "one_to_one"}"#, &diag, 2.0).0.len(), 9);
        // A slice with no target keeps sending nothing: slice 2 here.
        let (g, st) = run(LIST, &[(0, 3), (0, 4), (1, 3)], DEFAULT_MAX_EXTRA);
        assert_eq!((st.deliveries_exact, st.deliveries_routed), (30, 60));
        assert_eq!(g, vec![(0, 3), (0, 4), (0, 5), (1, 3), (1, 4), (1, 5)]);
    }

    #[test]
    fn a_random_pair_is_shared_by_its_expected_deliveries_whatever_the_draw() {
        // p = 0.05: slices of 10 and 10 connect with chance 1 − 0.95^100 = 0.994, 10 and 5 0.92,
        // 5 and 5 0.72: 25·3 = 75 routed against ≈ 71.4 expected, whichever pairs the draw connected.
        let fp = r#"{"type": "fixed_probability", "p": 0.05, "seed": 1}"#;
        for drawn in [vec![(0, 3)], vec![(2, 5)], vec![(0, 3), (1, 4), (2, 5)]] {
            let (g, st) = run(fp, &drawn, 0.06);
            assert_eq!((g.len(), st.pairs_shared, st.deliveries_routed), (9, 1, 75), "{drawn:?}");
            // Every slice sends, even one the draw left without a target.
            let (g, st) = run(fp, &drawn, 0.04);
            assert_eq!((g, st.pairs_shared), (drawn.clone(), 0));
        }
        // p = 0.001: 1 − 0.999^100 ≈ 0.095 for the largest slices: sharing would multiply deliveries ≈ 10×.
        let thin = r#"{"type": "fixed_probability", "p": 0.001, "seed": 1}"#;
        assert_eq!(run(thin, &[(0, 3)], DEFAULT_MAX_EXTRA).1.pairs_shared, 0);
        assert_eq!(run(thin, &[(0, 3)], 20.0).1.pairs_shared, 1);
        // fixed_number_pre 3 of 25: a slice of 10 misses a post neuron's 3 draws with (1 − 10/25)^3.
        let fnp = r#"{"type": "fixed_number_pre", "n": 3, "seed": 1}"#;
        assert_eq!(run(fnp, &[(0, 3)], DEFAULT_MAX_EXTRA).1.pairs_shared, 1);
    }
}
