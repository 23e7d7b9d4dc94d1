//! NIR's timing, as its reference simulator defines it, and where nerve's
//! populations sit in it.
//!
//! The reference evaluates the nodes once per step in one order: a
//! depth-first search from the top-level Input nodes (sorted by name, then
//! any node not reached, sorted), successors in edge-list order, the order
//! being the reverse post-order. An edge u → v with u not before v in it is
//! *delayed* (v reads u's output of the step before: it closes a cycle);
//! every other edge passes its signal on within the step. The chip's
//! projections take at least one step each, so a population runs `depth`
//! steps behind the reference, `depth` being the most projections on a path
//! of undelayed edges from an input. The importer and the exporter both
//! use [`timing`], so what one writes the other reads back.

use super::model::{FlatGraph, NirNode};

/// The reference's schedule of a flattened graph and each population
/// node's depth.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Per edge of `FlatGraph::edges`: whether the reference delays it by a step.
    pub delayed: Vec<bool>,
    /// Per node: a population node's depth (a fused Threshold's is its
    /// stateful node's); for a linear node the depth of the deepest
    /// population feeding it within the step, if any.
    pub depth: Vec<Option<u64>>,
}

/// `preds[v]` = (node, edge index) of each edge into `v`, in edge order.
pub fn preds(flat: &FlatGraph) -> Vec<Vec<(usize, usize)>> {
    let index: std::collections::HashMap<&str, usize> = flat.nodes.iter().enumerate().map(|(i, (n, _))| (n.as_str(), i)).collect();
    let mut p = vec![Vec::new(); flat.nodes.len()];
    for (k, (a, b)) in flat.edges.iter().enumerate() {
        // flatten checked that every edge joins existing nodes
        if let (Some(&a), Some(&b)) = (index.get(a.as_str()), index.get(b.as_str())) {
            p[b].push((a, k));
        }
    }
    p
}

/// The reference simulator's order (nir_reference_sim.py `schedule`) and
/// its delayed edges, then the depths.
pub fn timing(flat: &FlatGraph) -> Timing {
    let n = flat.nodes.len();
    let index: std::collections::HashMap<&str, usize> = flat.nodes.iter().enumerate().map(|(i, (n, _))| (n.as_str(), i)).collect();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, b) in &flat.edges {
        if let (Some(&a), Some(&b)) = (index.get(a.as_str()), index.get(b.as_str())) {
            succ[a].push(b);
        }
    }
    let mut roots: Vec<usize> = flat.inputs.iter().filter_map(|i| index.get(i.as_str()).copied()).collect();
    roots.sort_by(|&a, &b| flat.nodes[a].0.cmp(&flat.nodes[b].0));
    let mut rest: Vec<usize> = (0..n).collect();
    rest.sort_by(|&a, &b| flat.nodes[a].0.cmp(&flat.nodes[b].0));
    roots.extend(rest);
    let mut seen = vec![false; n];
    let mut post = Vec::with_capacity(n);
    for r in roots {
        if seen[r] {
            continue;
        }
        seen[r] = true;
        // Iterative: a long chain must not overflow the stack.
        let mut stack: Vec<(usize, usize)> = vec![(r, 0)];
        while let Some(top) = stack.last_mut() {
            let (u, k) = *top;
            match succ[u][k..].iter().position(|&v| !seen[v]) {
                Some(off) => {
                    let v = succ[u][k + off];
                    top.1 = k + off + 1;
                    seen[v] = true;
                    stack.push((v, 0));
                }
                None => {
                    post.push(u);
                    stack.pop();
                }
            }
        }
    }
    let mut pos = vec![0usize; n];
    for (i, &u) in post.iter().rev().enumerate() {
        pos[u] = i;
    }
    let delayed: Vec<bool> = flat
        .edges
        .iter()
        .map(|(a, b)| match (index.get(a.as_str()), index.get(b.as_str())) {
            (Some(&a), Some(&b)) => pos[a] >= pos[b],
            _ => false,
        })
        .collect();
    let preds = preds(flat);
    let mut depth: Vec<Option<u64>> = vec![None; n];
    for &v in post.iter().rev() {
        let (name, node) = &flat.nodes[v];
        let within = preds[v].iter().filter(|&&(_, e)| !delayed[e]).filter_map(|&(u, _)| depth[u]).max();
        depth[v] = if matches!(node, NirNode::Input { .. }) && flat.inputs.contains(name) {
            Some(0)
        } else if let Some(s) = fused_with(flat, &preds, v) {
            // One population with its stateful node: its depth (an undelayed edge: its node came first).
            depth[s]
        } else if node.is_neuron() {
            Some(within.map_or(0, |d| d + 1))
        } else {
            within
        };
    }
    Timing { delayed, depth }
}

/// The nodes reachable from `start` along `adj` (itself included).
pub fn reachable(adj: &[Vec<usize>], start: usize) -> Vec<bool> {
    let mut seen = vec![false; adj.len()];
    let mut stack = vec![start];
    seen[start] = true;
    while let Some(u) = stack.pop() {
        for &v in &adj[u] {
            if !seen[v] {
                seen[v] = true;
                stack.push(v);
            }
        }
    }
    seen
}

/// The stateful readout a Threshold is fused with (its one input an I, LI
/// or CubaLI: one spiking neuron without reset).
pub fn fused_with(flat: &FlatGraph, preds: &[Vec<(usize, usize)>], t: usize) -> Option<usize> {
    match (&flat.nodes[t].1, preds[t].as_slice()) {
        (NirNode::Threshold { .. }, [(s, _)]) if matches!(flat.nodes[*s].1, NirNode::I { .. } | NirNode::LI { .. } | NirNode::CubaLI { .. }) => Some(*s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::front::nir::model::Array;

    fn flat(nodes: &[(&str, bool)], edges: &[(&str, &str)]) -> FlatGraph {
        let lif = || NirNode::IF { r: Array::scalar(1.0), v_threshold: Array::scalar(1.0), v_reset: None };
        let lin = || NirNode::Linear { weight: Array { data: vec![1.0], shape: vec![1, 1] } };
        let nodes: Vec<(String, NirNode)> = nodes
            .iter()
            .map(|&(n, pop)| {
                let node = if n.starts_with("in") {
                    NirNode::Input { shape: Array::scalar(1.0) }
                } else if pop {
                    lif()
                } else {
                    lin()
                };
                (n.to_string(), node)
            })
            .collect();
        let inputs = nodes.iter().filter(|(_, n)| matches!(n, NirNode::Input { .. })).map(|(k, _)| k.clone()).collect();
        FlatGraph { nodes, edges: edges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(), inputs, outputs: vec![] }
    }

    /// The reference's own results on these graphs (nir_reference_sim.py
    /// `schedule`): a skip edge is undelayed, a loop's closing edge delayed.
    #[test]
    fn delayed_edges_and_depths_are_the_references() {
        let g = flat(
            &[("a", true), ("b", true), ("in", false), ("wa", false), ("wab", false), ("ws", false)],
            &[("in", "wa"), ("wa", "a"), ("a", "wab"), ("wab", "b"), ("in", "ws"), ("ws", "b")],
        );
        let t = timing(&g);
        assert!(t.delayed.iter().all(|d| !d));
        let d = |n: &str| t.depth[g.nodes.iter().position(|(k, _)| k == n).unwrap()];
        assert_eq!((d("in"), d("a"), d("b")), (Some(0), Some(1), Some(2)));
        // a ↔ b: b → a closes the loop.
        let g = flat(
            &[("a", true), ("b", true), ("in", false), ("wab", false), ("wba", false), ("wi", false)],
            &[("in", "wi"), ("wi", "a"), ("a", "wab"), ("wab", "b"), ("b", "wba"), ("wba", "a")],
        );
        let t = timing(&g);
        assert_eq!(t.delayed, [false, false, false, false, false, true]);
    }
}
