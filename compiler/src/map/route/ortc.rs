//! Routing-table compression: ORTC (Draves et al., "Constructing optimal IP
//! routing tables", INFOCOM 1999) extended with "don't care" keys.
//!
//! Input: the key blocks that actually reach this router, each with the set of
//! routes acceptable for it (its route, plus "no entry" when default routing
//! would forward it the same way). Keys that never reach the router may match
//! anything. Output: prefix entries that, taken longest prefix first (the
//! order the router's first-match rule then follows), give every block an
//! acceptable route. The construction is exact: no delivery changes; the
//! compiler still re-checks every source afterwards by tracing the tables.

/// A route id; `NONE` means "no entry matches" (default routing).
pub type RouteId = u32;
pub const NONE: RouteId = u32::MAX;

/// One block of keys reaching this router.
#[derive(Clone, Debug)]
pub struct Block {
    pub key: u32,
    /// Prefix length (mask = the top `len` bits).
    pub len: u8,
    /// Acceptable routes, sorted, at least one explicit.
    pub ok: Vec<RouteId>,
}

/// An output entry: prefix (key, len) → route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: u32,
    pub len: u8,
    pub route: RouteId,
}

pub fn mask_of(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

struct Node {
    key: u32,
    len: u8,
    set: Vec<RouteId>,
    kids: [Option<usize>; 2],
    /// Blocks below this node.
    leaves: u32,
    /// The route to emit here if one is needed: one the larger part of the
    /// subtree accepts, so fewer entries are needed below.
    prefer: RouteId,
}

fn intersect(a: &[RouteId], b: &[RouteId]) -> Vec<RouteId> {
    a.iter().filter(|x| b.binary_search(x).is_ok()).copied().collect()
}

fn union(a: &[RouteId], b: &[RouteId]) -> Vec<RouteId> {
    let mut v: Vec<RouteId> = a.iter().chain(b).copied().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Builds the trie over `blocks[lo..hi]` (sorted by key, disjoint) under the
/// prefix (key, len); returns the node index.
fn build(nodes: &mut Vec<Node>, blocks: &[Block], key: u32, len: u8) -> usize {
    if blocks.len() == 1 && blocks[0].len == len {
        let prefer = blocks[0].ok.iter().copied().find(|&r| r != NONE).unwrap_or(NONE);
        nodes.push(Node { key, len, set: blocks[0].ok.clone(), kids: [None, None], leaves: 1, prefer });
        return nodes.len() - 1;
    }
    // Descend through bits where every block agrees, without making nodes
    // (a path with one child has the child's set).
    let bit = 31 - len as u32;
    let split = blocks.partition_point(|b| b.key >> bit & 1 == 0);
    let mut kids = [None, None];
    for (side, part) in [(0usize, &blocks[..split]), (1, &blocks[split..])] {
        if part.is_empty() {
            continue;
        }
        let k = key | ((side as u32) << bit);
        let i = build(nodes, part, k, len + 1);
        kids[side] = Some(i);
    }
    let leaves = kids.iter().flatten().map(|&k| nodes[k].leaves).sum();
    let (set, prefer) = match (kids[0], kids[1]) {
        (Some(a), Some(b)) => {
            let i = intersect(&nodes[a].set, &nodes[b].set);
            if i.is_empty() {
                let big = if nodes[a].leaves >= nodes[b].leaves { a } else { b };
                (union(&nodes[a].set, &nodes[b].set), nodes[big].prefer)
            } else {
                let p = if i.contains(&nodes[a].prefer) {
                    nodes[a].prefer
                } else if i.contains(&nodes[b].prefer) {
                    nodes[b].prefer
                } else {
                    i.iter().copied().find(|&r| r != NONE).unwrap_or(NONE)
                };
                (i, p)
            }
        }
        (Some(a), None) | (None, Some(a)) => (nodes[a].set.clone(), nodes[a].prefer),
        (None, None) => unreachable!("a trie node has at least one block"),
    };
    nodes.push(Node { key, len, set, kids, leaves, prefer });
    nodes.len() - 1
}

/// Compresses. `blocks` must be disjoint; they are sorted here.
pub fn compress(mut blocks: Vec<Block>) -> Vec<Entry> {
    if blocks.is_empty() {
        return vec![];
    }
    blocks.sort_by_key(|b| b.key);
    let mut nodes = Vec::with_capacity(blocks.len() * 4);
    let root = build(&mut nodes, &blocks, 0, 0);
    let mut out = Vec::new();
    // Top-down: keep the inherited route where it is acceptable; otherwise
    // emit an entry with the smallest acceptable explicit route.
    let mut stack = vec![(root, NONE)];
    while let Some((i, inherited)) = stack.pop() {
        let n = &nodes[i];
        let here = if n.set.binary_search(&inherited).is_ok() {
            inherited
        } else if n.prefer != NONE || n.set.iter().any(|&r| r != NONE) {
            // invariant: this branch's condition: prefer != NONE, or the set holds a route other than NONE
            let r = if n.prefer != NONE { n.prefer } else { *n.set.iter().find(|&&r| r != NONE).expect("the branch condition guarantees an explicit route") };
            out.push(Entry { key: n.key, len: n.len, route: r });
            r
        } else {
            // Only "no entry" is acceptable here but an ancestor has an entry:
            // the children must each override it.
            inherited
        };
        for k in n.kids.iter().rev().flatten() {
            stack.push((*k, here));
        }
    }
    // Longest prefix first; equal lengths are disjoint, ordered by key.
    out.sort_by(|a, b| b.len.cmp(&a.len).then(a.key.cmp(&b.key)));
    out
}

/// A ternary entry after [`merge_pairs`]: `key`/`mask` with the priority level
/// (the prefix length it came from; higher levels are matched first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ternary {
    pub key: u32,
    pub mask: u32,
    pub route: RouteId,
    pub level: u8,
}

/// Merges entries of one priority level and one route whose keys differ in
/// exactly one cared-for bit into one entry that does not care about that
/// bit (Quine–McCluskey's step). The merged entry matches exactly the union
/// of the two, so no packet's route changes; repeated to a fixed point.
pub fn merge_pairs(entries: &[Entry]) -> Vec<Ternary> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(u8, RouteId, u32), std::collections::BTreeSet<u32>> = BTreeMap::new();
    for e in entries {
        groups.entry((e.len, e.route, mask_of(e.len))).or_default().insert(e.key);
    }
    let mut out = Vec::new();
    while let Some(((level, route, mask), keys)) = groups.pop_first() {
        let mut rest = keys;
        let mut promoted: BTreeMap<u32, std::collections::BTreeSet<u32>> = BTreeMap::new();
        while let Some(k) = rest.pop_first() {
            let mut merged = false;
            let mut m = mask;
            while m != 0 {
                let bit = m & m.wrapping_neg();
                m &= m - 1;
                if rest.remove(&(k ^ bit)) {
                    promoted.entry(mask & !bit).or_default().insert(k & !bit);
                    merged = true;
                    break;
                }
            }
            if !merged {
                out.push(Ternary { key: k, mask, route, level });
            }
        }
        for (m2, ks) in promoted {
            groups.entry((level, route, m2)).or_default().extend(ks);
        }
    }
    out.sort_by(|a, b| b.level.cmp(&a.level).then(a.key.cmp(&b.key)).then(a.mask.cmp(&b.mask)));
    out
}

/// Greedy covering merges (in the spirit of PACMAN's pair compressor): two
/// entries with the same route, neighbours in key order, become one entry
/// caring only about the bits they agree on, taking the place of the earlier
/// of the two (so every key either of them matched still matches it first).
/// A merge is kept only if every key block present at this router that the
/// wider entry now captures accepts its route; blocks that never reach the
/// router may match anything.
/// `entries` must be in priority order; the result is too.
pub fn merge_covering(blocks: &[Block], entries: Vec<Ternary>) -> Vec<Ternary> {
    // Priority: (level desc, seq asc); a merged entry inherits the priority of the earlier of its two.
    #[derive(Clone, Copy)]
    struct E {
        t: Ternary,
        seq: u32,
        alive: bool,
    }
    let mut es: Vec<E> = entries.iter().enumerate().map(|(i, &t)| E { t, seq: i as u32, alive: true }).collect();
    let before = |a: &E, b: &E| a.t.level > b.t.level || (a.t.level == b.t.level && a.seq < b.seq);
    let matches = |t: &Ternary, key: u32| key & t.mask == t.key;
    // First match per block.
    let mut first: Vec<Option<usize>> = blocks.iter().map(|b| es.iter().position(|e| matches(&e.t, b.key))).collect();
    for _pass in 0..3 {
        let mut merged_any = false;
        let mut by_route: std::collections::BTreeMap<RouteId, Vec<usize>> = std::collections::BTreeMap::new();
        for (i, e) in es.iter().enumerate() {
            if e.alive {
                by_route.entry(e.t.route).or_default().push(i);
            }
        }
        for (_, mut idx) in by_route {
            idx.sort_by_key(|&i| es[i].t.key);
            // Each entry tries the next few of its route group in key order.
            const WINDOW: usize = 8;
            let mut p = 0;
            while p < idx.len() {
                let mut q = p + 1;
                while q < idx.len() && q <= p + WINDOW {
                    let (i, j) = (idx[p], idx[q]);
                    let (a, b) = (es[i], es[j]);
                    let mask = a.t.mask & b.t.mask & !(a.t.key ^ b.t.key);
                    let early = if before(&a, &b) { a } else { b };
                    let m = E { t: Ternary { key: a.t.key & mask, mask, route: a.t.route, level: early.t.level }, seq: early.seq, alive: true };
                    // Every block the wider entry captures must accept its route.
                    let ok = blocks.iter().enumerate().all(|(bi, bl)| {
                        if !matches(&m.t, bl.key) {
                            return true;
                        }
                        match first[bi] {
                            Some(x) if x == i || x == j => true,
                            Some(x) if before(&es[x], &m) => true,
                            _ => bl.ok.contains(&m.t.route),
                        }
                    });
                    if !ok {
                        q += 1;
                        continue;
                    }
                    es[i].alive = false;
                    es[j].alive = false;
                    es.push(m);
                    let mi = es.len() - 1;
                    for (bi, bl) in blocks.iter().enumerate() {
                        if matches(&m.t, bl.key) {
                            let take = match first[bi] {
                                Some(x) => x == i || x == j || !before(&es[x], &es[mi]),
                                None => true,
                            };
                            if take {
                                first[bi] = Some(mi);
                            }
                        }
                    }
                    idx[p] = mi;
                    idx.remove(q);
                    merged_any = true;
                    q = p + 1;
                }
                p += 1;
            }
        }
        if !merged_any {
            break;
        }
    }
    let mut live: Vec<E> = es.into_iter().filter(|e| e.alive).collect();
    live.sort_by(|a, b| b.t.level.cmp(&a.t.level).then(a.seq.cmp(&b.seq)));
    live.into_iter().map(|e| e.t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Routes every block's key through the entries (first match) and checks it is acceptable.
    fn check(blocks: &[Block], entries: &[Entry]) {
        for b in blocks {
            let got = entries.iter().find(|e| b.key & mask_of(e.len) == e.key).map_or(NONE, |e| e.route);
            assert!(b.ok.contains(&got), "block {:x}/{} got {got}, wants {:?}", b.key, b.len, b.ok);
        }
    }

    #[test]
    fn merges_same_routes_and_keeps_exceptions() {
        // 8 blocks of 16 keys: all route 1 except block 5 (route 2) and block 6 (defaultable, straight = 3).
        let blocks: Vec<Block> = (0..8u32)
            .map(|i| Block {
                key: i << 4,
                len: 28,
                ok: match i {
                    5 => vec![2],
                    6 => vec![3, NONE],
                    _ => vec![1],
                },
            })
            .collect();
        let e = compress(blocks.clone());
        check(&blocks, &e);
        assert!(e.len() <= 3, "{e:?}");
    }

    #[test]
    fn dont_care_keys_allow_merging_across_gaps() {
        let blocks = vec![Block { key: 0x000, len: 28, ok: vec![7] }, Block { key: 0x100, len: 28, ok: vec![7] }, Block { key: 0xf00, len: 28, ok: vec![7] }];
        let e = compress(blocks.clone());
        check(&blocks, &e);
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn pair_merging_keeps_every_match() {
        // Three blocks: 0x000 and 0x200 route 1, 0x100 routes 2: no prefix covers
        // the first two without the third, a ternary entry does.
        let blocks = vec![Block { key: 0x000, len: 24, ok: vec![1] }, Block { key: 0x100, len: 24, ok: vec![2] }, Block { key: 0x200, len: 24, ok: vec![1] }];
        let e = compress(blocks.clone());
        let t = merge_pairs(&e);
        assert!(t.len() < e.len() || e.len() <= 2, "{e:?} {t:?}");
        for b in &blocks {
            let got = t.iter().find(|x| b.key & x.mask == x.key).map_or(NONE, |x| x.route);
            assert!(b.ok.contains(&got));
        }
    }

    #[test]
    fn random_tables_are_exact() {
        let mut x = 12345u64;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..200 {
            let mut blocks = Vec::new();
            let mut used = std::collections::BTreeSet::new();
            for _ in 0..rnd(60) + 1 {
                let k = (rnd(256) as u32) << 8;
                if !used.insert(k) {
                    continue;
                }
                let r = rnd(4) as u32;
                let ok = if rnd(4) == 0 { vec![r, NONE] } else { vec![r] };
                blocks.push(Block { key: k, len: 24, ok });
            }
            let e = compress(blocks.clone());
            check(&blocks, &e);
            assert!(e.len() <= blocks.len());
            let t = merge_pairs(&e);
            assert!(t.len() <= e.len());
            for b in &blocks {
                let got = t.iter().find(|x| b.key & x.mask == x.key).map_or(NONE, |x| x.route);
                assert!(b.ok.contains(&got), "after merging: block {:x}", b.key);
            }
            let c = merge_covering(&blocks, t.clone());
            assert!(c.len() <= t.len());
            for b in &blocks {
                let got = c.iter().find(|x| b.key & x.mask == x.key).map_or(NONE, |x| x.route);
                assert!(b.ok.contains(&got), "after covering: block {:x}", b.key);
            }
        }
    }
}
