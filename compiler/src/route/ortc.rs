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
        nodes.push(Node { key, len, set: blocks[0].ok.clone(), kids: [None, None] });
        return nodes.len() - 1;
    }
    // Descend through bits where every block agrees, without making nodes
    // (a path with one child has the child's set).
    let bit = 31 - len as u32;
    let split = blocks.partition_point(|b| b.key >> bit & 1 == 0);
    let mut kids = [None, None];
    let mut sets: [Option<Vec<RouteId>>; 2] = [None, None];
    for (side, part) in [(0usize, &blocks[..split]), (1, &blocks[split..])] {
        if part.is_empty() {
            continue;
        }
        let k = key | ((side as u32) << bit);
        let i = build(nodes, part, k, len + 1);
        sets[side] = Some(nodes[i].set.clone());
        kids[side] = Some(i);
    }
    let set = match (&sets[0], &sets[1]) {
        (Some(a), Some(b)) => {
            let i = intersect(a, b);
            if i.is_empty() {
                union(a, b)
            } else {
                i
            }
        }
        (Some(a), None) | (None, Some(a)) => a.clone(),
        (None, None) => unreachable!("a trie node has at least one block"),
    };
    nodes.push(Node { key, len, set, kids });
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
        } else if let Some(&r) = n.set.iter().find(|&&r| r != NONE) {
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
        let blocks = vec![
            Block { key: 0x000, len: 28, ok: vec![7] },
            Block { key: 0x100, len: 28, ok: vec![7] },
            Block { key: 0xf00, len: 28, ok: vec![7] },
        ];
        let e = compress(blocks.clone());
        check(&blocks, &e);
        assert_eq!(e.len(), 1);
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
        }
    }
}
