//! Writing a network as a NIR file (nir 1.0.8 layout, readable by `nir.read`).
//!
//! Supported: input populations and NIR neuron populations (a network read
//! from NIR, or built with `Model::Nir`). Weights are *quantised* as the
//! target applies them. A conv2d connector becomes a Conv2d node, a pool2d
//! connector an AvgPool2d (an average whose weight the chip applies exactly)
//! or a SumPool2d (with a Scale where its weight is not 1); the populations
//! they join are written with their (C, H, W) shapes, and a dense projection
//! out of one reads it through a Flatten ([`Layout`]: a connector whose
//! populations cannot take its shapes is written dense). Every other
//! projection becomes a Linear node (an Affine carrying the target's
//! constant input); the target's bias rides on its first incoming dense
//! projection or on a Conv2d where it is one value per output channel, and
//! is refused where it can ride on neither. A Delay node follows where the
//! delay is more than NIR's schedule gives it ([`write_delays`]), after the
//! weights (one delay per target neuron) or, where only that fits, before
//! them (one per source neuron: [`delay_side`]); every
//! population whose projections lead nowhere they cannot come back from
//! (none, onto itself, a loop of layers) gets an Output node.

use std::path::Path;

use hdf5_pure::FileBuilder;

use crate::error::{CompileError, Result};
use crate::front::nir::model::*;
use crate::lower::ProjQuant;
use crate::models::nir::{NirKind, NirNeuron};
use crate::net::expand::expand;
use crate::net::model::*;

/// Most weight-matrix entries (all projections written dense together) a
/// NIR export writes: 2^27, 1 GiB as f64. A connection list composed from a
/// convolution of a few KB would otherwise ask for many GiB (and abort).
pub const MAX_DENSE_ENTRIES: u64 = 1 << 27;

fn bad(msg: String) -> CompileError {
    CompileError::Network(format!("NIR export: {msg}"))
}

/// Builds the NIR graph for a network, with weights as quantised by `quant`
/// (projection index → its quantisation), as the chip would apply them.
pub fn to_nir(net: &Network, quant: &[(ProjIx, ProjQuant)]) -> Result<NirGraph> {
    super::no_electrical("nir", net)?;
    let mut g = NirGraph { version: Some("1.0.8".into()), ..NirGraph::default() };
    g.metadata.push(("sample_dt".into(), net.dt_ms / 1000.0));
    // NIR has no reset field; the one the neurons share travels as metadata
    // (read back by the importer), so a subtract-reset model stays one.
    let resets: std::collections::BTreeSet<bool> = net
        .pops()
        .filter_map(|(_, p)| match &p.model {
            Model::Neuron(n) => NirNeuron::of(n).filter(|x| x.kind.spikes()).map(|x| x.reset == ResetMode::Subtract),
            _ => None,
        })
        .collect();
    if resets.len() == 1 {
        g.metadata.push(("reset_subtract".into(), if resets.contains(&true) { 1.0 } else { 0.0 }));
    }
    let mut dense = 0u64;
    let mut biased = vec![false; net.num_pops()];
    // Node names: the populations' own, and generated ones made unique
    // against them and each other (a population named `out_x` beside `x`).
    let mut names = Names { taken: net.pops().map(|(_, p)| p.name.clone()).collect() };
    // Where a population's input goes: a firing readout is written as its
    // stateful node `NAME.state` followed by the Threshold `NAME`.
    let entries: Vec<String> = net
        .pops()
        .map(|(_, pop)| match nir_neuron(&pop.model) {
            Some(n) if n.fire => names.fresh(format!("{}.state", pop.name)),
            _ => pop.name.clone(),
        })
        .collect();
    let entry = |ix: PopIx| -> String { entries[ix.index()].clone() };
    let projs: Vec<(ProjIx, PopIx, PopIx, &Projection)> = net.projections().collect();
    for (_, _, _, p) in &projs {
        if p.plasticity.is_some() {
            // NIR 1.0 describes trained networks: it has no learning rules.
            return Err(bad(format!(
                "projection {} learns (`plasticity`); NIR has no learning rules (save the learned network with `nerve run --save-network` and export that)",
                p.label
            )));
        }
    }
    let layout = Layout::of(net, &projs);
    let last_layer = last_layers(net, &projs);
    // Each population's shape as written: (C, H, W) where a Conv2d or pooling node meets it, else flat.
    let dims = |ix: PopIx| -> Vec<usize> {
        match layout.shape[ix.index()] {
            Some(s) => s.iter().map(|&x| x as usize).collect(),
            None => vec![net.pop(ix).size as usize],
        }
    };
    let arr = |v: &Values, pi: PopIx| {
        let shape = dims(pi);
        Array { data: (0..shape.iter().product()).map(|i| v.get(i)).collect(), shape }
    };
    // The target's constant input rides on its first incoming projection that
    // can carry it: a dense one (an Affine), or a Conv2d where it is one value
    // per output channel (NIR's Conv2d bias). A pooling carries none.
    let mut carrier: Vec<Option<ProjIx>> = vec![None; net.num_pops()];
    for (pi, pop) in net.pops() {
        let Some(n) = nir_neuron(&pop.model) else { continue };
        // No bias, no carrier: a dense projection is then a Linear, as docs/nir.md says (it was an Affine of zeros).
        if n.bias.iter(pop.size as usize).all(|b| b == 0.0) {
            continue;
        }
        let incoming: Vec<&(ProjIx, PopIx, PopIx, &Projection)> = projs.iter().filter(|x| x.2 == pi).collect();
        carrier[pi.index()] = incoming
            .iter()
            .find(|(e, _, _, p)| match (&p.connector, layout.node[e.index()]) {
                (_, false) => true,
                (Connector::Conv2d(c), true) => per_channel(&n.bias, c.out_shape).is_some(),
                _ => false,
            })
            .map(|x| x.0);
        if carrier[pi.index()].is_none() && n.bias.iter(pop.size as usize).any(|b| b != 0.0) {
            if let Some((_, _, _, p)) = incoming.first() {
                return Err(super::refuse(
                    "nir",
                    format!("projection {}", p.label),
                    format!(
                        "its target `{}` has a constant input (bias) that no incoming projection can carry: it is written as a Conv2d or pooling node (a Conv2d carries one bias per output channel, a pooling none) and the bias is not one value per channel",
                        pop.name
                    ),
                ));
            }
        }
    }
    // A flattened view of a (C, H, W) population, for its dense projections (one per population).
    let mut flats: Vec<Option<String>> = vec![None; net.num_pops()];
    let mut pending: Vec<Pending> = Vec::new();
    for &(e, pre, post, p) in &projs {
        let as_node = layout.node[e.index()];
        let (npre, npost) = (net.pop(pre).size as usize, net.pop(post).size as usize);
        if !as_node {
            // A projection written as a dense matrix: its size checked before any is built.
            let entries = npre as u64 * npost as u64;
            dense += entries;
            if dense > MAX_DENSE_ENTRIES {
                return Err(super::refuse(
                    "nir",
                    format!("projection {}", p.label),
                    format!(
                        "its dense weight matrix is {} × {} = {entries} entries ({:.1} GiB as f64){}: more than {MAX_DENSE_ENTRIES} ({} GiB), the most NIR export writes as dense Linear/Affine matrices (conv2d and pool2d connectors are written as Conv2d and pooling nodes, other connectors dense)",
                        npost,
                        npre,
                        entries as f64 * 8.0 / (1u64 << 30) as f64,
                        if dense > entries { format!(", {dense} with the projections before it") } else { String::new() },
                        (MAX_DENSE_ENTRIES * 8) >> 30
                    ),
                ));
            }
        }
        let syn = expand(net, e)?;
        let q = quant.iter().find(|(x, _)| *x == e).map(|(_, q)| q);
        // The weight as the chip applies it.
        let wq = |w: f64| match q {
            Some(q) => q.value(q.mantissa(w).0),
            None => w,
        };
        // NIR's Delay acts per element of what it is given: after the
        // weights, one delay per target neuron; before them, one per source
        // neuron. The first that fits the synapses is written.
        let side = delay_side(&syn, npre, npost).map_err(|(post_d, pre_d)| {
            bad(format!(
                "projection {}: target {} receives synapses with delays {} and {}, and source {} sends synapses with delays {} and {}; NIR's Delay is one delay per element, so a projection is written with one delay per target neuron (a Delay after its weights) or one per source neuron (a Delay before them)",
                p.label, post_d.0, post_d.1, post_d.2, pre_d.0, pre_d.1, pre_d.2
            ))
        })?;
        let bias = match nir_neuron(&net.pop(post).model) {
            Some(n) if carrier[post.index()] == Some(e) => {
                biased[post.index()] = true;
                Some(n.bias)
            }
            _ => None,
        };
        let scale = p.weight.unwrap_or(1.0);
        // The nodes written for the projection: the first takes the source's output, the last feeds the delay or target.
        let (first, last) = match &p.connector {
            Connector::Conv2d(c) if as_node => {
                let name = names.fresh(format!("conv_{}_{}", net.pop(pre).name, e.index()));
                let [co, _, _] = c.out_shape;
                let shape = vec![co as usize, (c.in_shape[0] / c.groups) as usize, c.kernel[0] as usize, c.kernel[1] as usize];
                let weight = Array { data: c.weights.iter().map(|&w| wq(w * scale)).collect(), shape };
                let b = match &bias {
                    // invariant: the carrier was chosen where the bias is one value per channel
                    Some(b) => per_channel(b, c.out_shape).expect("chosen as the carrier for it"),
                    None => vec![0.0; co as usize],
                };
                let ints = |v: &[u32]| Array { data: v.iter().map(|&x| x as f64).collect(), shape: vec![v.len()] };
                g.nodes.push((
                    name.clone(),
                    NirNode::Conv {
                        dims: 2,
                        weight,
                        bias: Some(Array { data: b, shape: vec![co as usize] }),
                        stride: Some(ints(&c.stride)),
                        padding: Padding::Values(c.padding.iter().map(|&x| x as f64).collect()),
                        dilation: Some(ints(&c.dilation)),
                        groups: Some(Array::scalar(c.groups as f64)),
                        input_shape: Some(ints(&c.in_shape[1..])),
                    },
                ));
                (name.clone(), name)
            }
            Connector::Pool2d(c) if as_node => {
                let name = names.fresh(format!("pool_{}_{}", net.pop(pre).name, e.index()));
                let w = wq(scale * c.scale);
                // An average pooling whose weight the chip applies exactly is an AvgPool2d;
                // any other a SumPool2d, scaled by its weight where that is not 1.
                let average = c.scale != 1.0 && w == c.scale;
                let ints = |v: &[u32]| Array { data: v.iter().map(|&x| x as f64).collect(), shape: vec![v.len()] };
                g.nodes.push((
                    name.clone(),
                    NirNode::Pool {
                        average,
                        kernel_size: ints(&c.kernel),
                        stride: Some(ints(&c.stride)),
                        padding: Padding::Values(c.padding.iter().map(|&x| x as f64).collect()),
                    },
                ));
                if average || w == 1.0 {
                    (name.clone(), name)
                } else {
                    let sname = names.fresh(format!("scale_{}_{}", net.pop(pre).name, e.index()));
                    let shape = dims(post);
                    g.nodes.push((sname.clone(), NirNode::Scale { scale: Array { data: vec![w; npost], shape } }));
                    g.edges.push((name.clone(), sname.clone()));
                    (name, sname)
                }
            }
            _ => {
                let mut w = vec![0.0f64; npre * npost];
                for i in 0..syn.n_pre() {
                    for k in syn.row(i) {
                        w[syn.post[k] as usize * npre + i] += wq(syn.weight(k));
                    }
                }
                let wname = names.fresh(format!("w_{}_{}", net.pop(pre).name, e.index()));
                let weight = Array { data: w, shape: vec![npost, npre] };
                g.nodes.push((
                    wname.clone(),
                    match &bias {
                        Some(b) => NirNode::Affine { weight, bias: Array { data: (0..npost).map(|i| b.get(i)).collect(), shape: vec![npost] } },
                        None => NirNode::Linear { weight },
                    },
                ));
                (wname.clone(), wname)
            }
        };
        // A dense projection out of a (C, H, W) population reads it through a Flatten.
        let source = match layout.shape[pre.index()] {
            Some(s) if !as_node => match &flats[pre.index()] {
                Some(f) => f.clone(),
                None => {
                    let f = names.fresh(format!("flat_{}", net.pop(pre).name));
                    let input_type = Array { data: s.iter().map(|&x| x as f64).collect(), shape: vec![3] };
                    g.nodes.push((
                        f.clone(),
                        NirNode::Flatten { start_dim: Some(Array::scalar(0.0)), end_dim: Some(Array::scalar(-1.0)), input_type: Some(input_type) },
                    ));
                    g.edges.push((net.pop(pre).name.clone(), f.clone()));
                    flats[pre.index()] = Some(f.clone());
                    f
                }
            },
            _ => net.pop(pre).name.clone(),
        };
        // The edges a spike takes from `pre` to `post` in the graph written.
        let mut path = Vec::new();
        if source != net.pop(pre).name {
            path.push((net.pop(pre).name.clone(), source.clone()));
        }
        path.push((source.clone(), first.clone()));
        if first != last {
            path.push((first.clone(), last.clone()));
        }
        path.push((last.clone(), entry(post)));
        if entry(post) != net.pop(post).name {
            path.push((entry(post), net.pop(post).name.clone()));
        }
        // Where a Delay node goes, once NIR's schedule of the whole graph is
        // known: on the edge into the target, or out of the source.
        let (source_side, into, delays, shape) = match side {
            DelaySide::Target(d) => (false, (last.clone(), entry(post)), d, dims(post)),
            // Before the weights: the source as they read it (through its Flatten, if any).
            DelaySide::Source(d) => (true, (source.clone(), first.clone()), d, if source == net.pop(pre).name { dims(pre) } else { vec![npre] }),
        };
        // The edge (source, first) goes at this index, (last, target) one after it.
        let edge = g.edges.len() + usize::from(!source_side);
        g.edges.push((source, first));
        pending.push(Pending { label: p.label.clone(), proj: e.index(), pre, post, edge, into, path, delays, source_side, shape });
        g.edges.push((last, entry(post)));
    }
    let shape_of = |pi: PopIx| {
        let d = dims(pi);
        Array { shape: vec![d.len()], data: d.into_iter().map(|x| x as f64).collect() }
    };
    for (pi, pop) in net.pops() {
        let n = pop.size as usize;
        let node = match &pop.model {
            Model::Input => NirNode::Input { shape: shape_of(pi) },
            Model::Neuron(nm) if NirNeuron::of(nm).is_some() => {
                // invariant: the match guard just above is NirNeuron::of(nm).is_some()
                let p = NirNeuron::of(nm).expect("checked in the guard");
                if !biased[pi.index()] && p.bias.iter(n).any(|b| b != 0.0) {
                    return Err(bad(format!("population `{}` has a constant input but no incoming projection to carry it", pop.name)));
                }
                let dt = p.dt_s;
                if (dt - net.dt_ms / 1000.0).abs() > 1e-12 * dt.max(1e-12) {
                    return Err(bad(format!("population `{}` was discretised at dt {dt} s, the network runs at {} ms", pop.name, net.dt_ms)));
                }
                let state = match p.kind {
                    NirKind::Threshold => NirNode::Threshold { threshold: arr(&p.v_threshold, pi) },
                    NirKind::I => NirNode::I { r: arr(&p.r, pi) },
                    NirKind::IF => NirNode::IF { r: arr(&p.r, pi), v_threshold: arr(&p.v_threshold, pi), v_reset: Some(arr(&p.v_reset, pi)) },
                    NirKind::LI => NirNode::LI { tau: arr(&p.tau_mem, pi), r: arr(&p.r, pi), v_leak: arr(&p.v_leak, pi) },
                    NirKind::LIF => NirNode::LIF {
                        tau: arr(&p.tau_mem, pi),
                        r: arr(&p.r, pi),
                        v_leak: arr(&p.v_leak, pi),
                        v_threshold: arr(&p.v_threshold, pi),
                        v_reset: Some(arr(&p.v_reset, pi)),
                    },
                    NirKind::CubaLI => NirNode::CubaLI {
                        tau_syn: arr(&p.tau_syn, pi),
                        tau_mem: arr(&p.tau_mem, pi),
                        r: arr(&p.r, pi),
                        v_leak: arr(&p.v_leak, pi),
                        w_in: Some(arr(&p.w_in, pi)),
                    },
                    NirKind::CubaLIF => NirNode::CubaLIF {
                        tau_syn: arr(&p.tau_syn, pi),
                        tau_mem: arr(&p.tau_mem, pi),
                        r: arr(&p.r, pi),
                        v_leak: arr(&p.v_leak, pi),
                        w_in: Some(arr(&p.w_in, pi)),
                        v_threshold: arr(&p.v_threshold, pi),
                        v_reset: Some(arr(&p.v_reset, pi)),
                    },
                };
                if p.fire && matches!(p.kind, NirKind::I | NirKind::LI | NirKind::CubaLI) {
                    g.nodes.push((entry(pi), state));
                    g.edges.push((entry(pi), pop.name.clone()));
                    NirNode::Threshold { threshold: arr(&p.v_threshold, pi) }
                } else {
                    state
                }
            }
            other => {
                return Err(bad(format!(
                    "population `{}` is a {}; NIR export supports input populations and NIR neuron models (import from NIR to get them)",
                    pop.name,
                    other.name()
                )))
            }
        };
        g.nodes.push((pop.name.clone(), node));
        if last_layer[pi.index()] {
            let oname = names.fresh(format!("out_{}", pop.name));
            g.nodes.push((oname.clone(), NirNode::Output { shape: shape_of(pi) }));
            g.edges.push((pop.name.clone(), oname));
        }
    }
    write_delays(&mut g, net, &pending, &mut names)?;
    g.nodes.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(g)
}

/// The populations that get an Output node: those whose projections lead
/// nowhere they cannot come back from (a terminal strongly connected part
/// of the projection graph: no projection, a recurrent layer onto itself, a
/// loop of layers). A recurrent output layer was written with no Output, a
/// loop of two layers (NIR's skip_lif sample) with none at all, and the
/// file could not be read back.
fn last_layers(net: &Network, projs: &[(ProjIx, PopIx, PopIx, &Projection)]) -> Vec<bool> {
    let n = net.num_pops();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (_, pre, post, _) in projs {
        succ[pre.index()].push(post.index());
    }
    let reached: Vec<Vec<bool>> = (0..n).map(|s| crate::front::nir::schedule::reachable(&succ, s)).collect();
    (0..n).map(|p| (0..n).all(|q| !reached[p][q] || reached[q][p])).collect()
}

/// A projection as written, before its Delay node: `edge` indexes the
/// edge the Delay would go on (`into`, one of `path`'s): the one into the
/// target, or with `source_side` the one out of the source; `delays` the
/// nerve delay (steps) of each element there (`shape`): target neurons, or
/// source neurons.
struct Pending {
    label: String,
    proj: usize,
    pre: PopIx,
    post: PopIx,
    edge: usize,
    into: (String, String),
    path: Vec<(String, String)>,
    delays: Vec<Option<u16>>,
    source_side: bool,
    shape: Vec<usize>,
}

/// Where a projection's delays can be written: one per target neuron (a
/// Delay node after the weights) or one per source neuron (before them),
/// each element's delay in steps (`None`: no synapse).
enum DelaySide {
    Target(Vec<Option<u16>>),
    Source(Vec<Option<u16>>),
}

/// A (neuron, delay, other delay) where one side's neuron has two delays.
type Clash = (u32, u16, u16);

/// The side a projection's synapse delays fit, preferring the target (the
/// Delay after the weights); where neither fits, a neuron of each side
/// with two delays.
fn delay_side(syn: &crate::net::expand::Synapses, npre: usize, npost: usize) -> std::result::Result<DelaySide, (Clash, Clash)> {
    let mut post_d: Vec<Option<u16>> = vec![None; npost];
    let mut pre_d: Vec<Option<u16>> = vec![None; npre];
    let (mut post_clash, mut pre_clash) = (None, None);
    for (i, pre_slot) in pre_d.iter_mut().enumerate().take(syn.n_pre()) {
        for k in syn.row(i) {
            let d = syn.delay(k);
            for (slot, who, clash) in [(&mut post_d[syn.post[k] as usize], syn.post[k], &mut post_clash), (&mut *pre_slot, i as u32, &mut pre_clash)] {
                match slot {
                    Some(x) if *x != d => {
                        if clash.is_none() {
                            *clash = Some((who, *x, d));
                        }
                    }
                    _ => *slot = Some(d),
                }
            }
        }
    }
    match (post_clash, pre_clash) {
        (None, _) => Ok(DelaySide::Target(post_d)),
        (Some(_), None) => Ok(DelaySide::Source(pre_d)),
        (Some(a), Some(b)) => Err((a, b)),
    }
}

/// Node name → its depth in NIR's schedule.
type Depths = std::collections::HashMap<String, Option<u64>>;
/// Edge → whether NIR's schedule delays it.
type Delayed = std::collections::HashMap<(String, String), bool>;

/// Each population's depth and each edge's delay in NIR's schedule of `g`
/// (the one the importer reads it with: front::nir::schedule).
fn schedule_of(g: &NirGraph) -> Result<(Depths, Delayed)> {
    let flat = crate::front::nir::model::flatten(g).map_err(bad)?;
    let t = crate::front::nir::schedule::timing(&flat);
    let depth = flat.nodes.iter().zip(&t.depth).map(|((n, _), d)| (n.clone(), *d)).collect();
    let delayed = flat.edges.iter().cloned().zip(t.delayed.iter().copied()).collect();
    Ok((depth, delayed))
}

/// The steps NIR's reference itself puts between a projection's source and
/// target in `g`: the target's depth less the source's (the chip runs each
/// population that many steps behind), plus one per edge of the path that
/// closes a cycle (the reference reads it a step late).
fn nir_steps(depth: &Depths, delayed: &Delayed, net: &Network, p: &Pending, path: &[(String, String)]) -> i64 {
    let d = |ix: PopIx| depth.get(&net.pop(ix).name).copied().flatten().unwrap_or(0) as i64;
    d(p.post) - d(p.pre) + path.iter().filter(|e| delayed.get(*e).copied().unwrap_or(false)).count() as i64
}

/// Inverts the importer's timing: a projection whose synapses take `d`
/// steps is written with a Delay of `d` less the steps NIR's schedule of the
/// graph already gives it, so reading the file back gives `d` again. One
/// whose synapses are quicker than that (a skip connection of a JSON
/// network, say: NIR would deliver it the step its target runs) is refused.
fn write_delays(g: &mut NirGraph, net: &Network, pending: &[Pending], names: &mut Names) -> Result<()> {
    let (depth, delayed) = schedule_of(g)?;
    let mut inserts: Vec<(usize, String, NirNode)> = Vec::new();
    let mut dnames: Vec<Option<String>> = Vec::with_capacity(pending.len());
    for p in pending {
        let base = nir_steps(&depth, &delayed, net, p, &p.path);
        let mut per = Vec::with_capacity(p.delays.len());
        for (k, d) in p.delays.iter().enumerate() {
            // A target element with no synapse: any delay; none.
            let x = d.map_or(0, |d| d as i64 - base);
            if x < 0 {
                return Err(super::refuse(
                    "nir",
                    format!("projection {}", p.label),
                    format!(
                        "its synapses {} `{}` neuron {k} take {} step(s), but in NIR's semantics (signals pass through any number of layers within a step) the graph as written puts `{}` {base} step(s) behind `{}` on the chip, the least a projection between them can take there; a network whose paths of different lengths meet (a skip connection) runs in NIR only with delays at least that",
                        if p.source_side { "from" } else { "into" },
                        net.pop(if p.source_side { p.pre } else { p.post }).name,
                        d.unwrap_or(0),
                        net.pop(p.post).name,
                        net.pop(p.pre).name,
                    ),
                ));
            }
            per.push(x);
        }
        if per.iter().any(|&x| x > 0) {
            let dname = names.fresh(format!("d_{}_{}", net.pop(p.pre).name, p.proj));
            let secs: Vec<f64> = per.iter().map(|&x| x as f64 * net.dt_ms / 1000.0).collect();
            inserts.push((p.edge, dname.clone(), NirNode::Delay { delay: Array { data: secs, shape: p.shape.clone() } }));
            dnames.push(Some(dname));
        } else {
            dnames.push(None);
        }
    }
    // Last first, so the earlier edges' indices hold; each Delay takes its
    // edge's place in the list (NIR's schedule follows the edge order).
    inserts.sort_by_key(|x| std::cmp::Reverse(x.0));
    for (k, dname, node) in inserts {
        let (from, to) = g.edges[k].clone();
        g.edges[k] = (from, dname.clone());
        g.edges.insert(k + 1, (dname.clone(), to));
        g.nodes.push((dname, node));
    }
    // A Delay node changes the schedule only where it becomes a search root
    // (a part of the graph no Input reaches); checked, not assumed.
    let (depth2, delayed2) = schedule_of(g)?;
    for (p, dname) in pending.iter().zip(&dnames) {
        let mut path = p.path.clone();
        if let Some(dname) = dname {
            // the edge the Delay went on, now through it
            if let Some(k) = path.iter().position(|e| *e == p.into) {
                let (from, to) = path.remove(k);
                path.insert(k, (dname.clone(), to));
                path.insert(k, (from, dname.clone()));
            }
        }
        if nir_steps(&depth2, &delayed2, net, p, &path) != nir_steps(&depth, &delayed, net, p, &p.path) {
            return Err(bad(format!(
                "projection {}: its Delay node changes NIR's schedule of the graph written (a part no Input reaches), so the file would not read back with its delays",
                p.label
            )));
        }
    }
    Ok(())
}

/// Which projections are written as Conv2d / pooling nodes, and the
/// (C, H, W) shape that gives the populations they join. A conv2d or
/// pool2d connector is written as a node where both its populations can
/// take its shapes: a population takes one (C, H, W) shape, and only nodes
/// may feed it (NIR has no reshape back from a dense layer's flat output);
/// where they cannot, the connector is written dense like any other. A
/// dense projection out of a shaped population reads it through a Flatten.
struct Layout {
    node: Vec<bool>,
    shape: Vec<Option<[u32; 3]>>,
}

impl Layout {
    fn of(net: &Network, projs: &[(ProjIx, PopIx, PopIx, &Projection)]) -> Layout {
        let geom = |p: &Projection| match &p.connector {
            Connector::Conv2d(c) => Some((c.in_shape, c.out_shape)),
            Connector::Pool2d(c) => Some((c.in_shape, c.out_shape)),
            _ => None,
        };
        let n_edges = projs.iter().map(|x| x.0.index() + 1).max().unwrap_or(0);
        let mut node = vec![false; n_edges];
        for (e, _, _, p) in projs {
            node[e.index()] = geom(p).is_some();
        }
        loop {
            let mut shape: Vec<Option<[u32; 3]>> = vec![None; net.num_pops()];
            let mut clash = vec![false; net.num_pops()];
            for (e, pre, post, p) in projs {
                if let (true, Some((i, o))) = (node[e.index()], geom(p)) {
                    for (pop, s) in [(pre, i), (post, o)] {
                        match shape[pop.index()] {
                            Some(x) if x != s => clash[pop.index()] = true,
                            _ => shape[pop.index()] = Some(s),
                        }
                    }
                }
            }
            for (e, _, post, _) in projs {
                if !node[e.index()] && shape[post.index()].is_some() {
                    clash[post.index()] = true;
                }
            }
            let mut changed = false;
            for (e, pre, post, _) in projs {
                if node[e.index()] && (clash[pre.index()] || clash[post.index()]) {
                    node[e.index()] = false;
                    changed = true;
                }
            }
            if !changed {
                return Layout { node, shape };
            }
        }
    }
}

/// A population's bias as one value per output channel of `shape`, if it is that.
fn per_channel(bias: &Values, shape: [u32; 3]) -> Option<Vec<f64>> {
    let plane = shape[1] as usize * shape[2] as usize;
    (0..shape[0] as usize)
        .map(|c| {
            let b = bias.get(c * plane);
            (0..plane).all(|k| bias.get(c * plane + k) == b).then_some(b)
        })
        .collect()
}

/// The node names of a graph being written: `fresh` gives a name no node
/// has, the one asked for or, where that is taken, it with `_1`, `_2`, …
/// (deterministic: the network's order decides).
struct Names {
    taken: std::collections::HashSet<String>,
}

impl Names {
    fn fresh(&mut self, base: String) -> String {
        let mut k = 0u64;
        let mut name = base.clone();
        while !self.taken.insert(name.clone()) {
            k += 1;
            name = format!("{base}_{k}");
        }
        name
    }
}

/// Writes a NIR graph to `path` whole (HDF5, the layout `nir.write` produces).
pub fn write_nir(g: &NirGraph, path: &Path) -> Result<()> {
    let file = path.display().to_string();
    let mut fb = FileBuilder::new();
    fb.create_dataset("version").with_vlen_strings(&[g.version.as_deref().unwrap_or("1.0.8")]).with_shape(&[]);
    let mut node = fb.create_group("node");
    fill_graph(&mut node, g)?;
    if !g.metadata.is_empty() {
        let mut md = node.create_group("metadata");
        for (k, v) in &g.metadata {
            md.create_dataset(k).with_f64_data(&[*v]).with_shape(&[]);
        }
        node.add_group(md.finish());
    }
    fb.add_group(node.finish());
    // Whole: through a temporary file renamed into place (a failed write leaves no partial file).
    nerve_isa::files::write_whole(path, |tmp| fb.write(tmp).map_err(|e| std::io::Error::other(e.to_string())))
        .map_err(|source| CompileError::Write { path: file, source })
}

/// An integer field (a shape or geometry: nir's shape arithmetic indexes with it).
fn ints(nb: &mut hdf5_pure::GroupBuilder, k: &str, a: &Array) {
    let v: Vec<i64> = a.data.iter().map(|&x| x as i64).collect();
    let shape: Vec<u64> = a.shape.iter().map(|&x| x as u64).collect();
    nb.create_dataset(k).with_i64_data(&v).with_shape(&shape);
}

fn floats(nb: &mut hdf5_pure::GroupBuilder, k: &str, a: &Array) {
    let shape: Vec<u64> = a.shape.iter().map(|&x| x as u64).collect();
    nb.create_dataset(k).with_f64_data(&a.data).with_shape(&shape);
}

fn pad(nb: &mut hdf5_pure::GroupBuilder, name: &str, p: &Padding) -> Result<()> {
    match p {
        Padding::Values(v) => ints(nb, "padding", &Array { data: v.clone(), shape: vec![v.len()] }),
        Padding::Same | Padding::Valid => return Err(bad(format!("node `{name}`: padding is written as numbers"))),
    }
    Ok(())
}

fn fill_graph(gb: &mut hdf5_pure::GroupBuilder, g: &NirGraph) -> Result<()> {
    gb.create_dataset("type").with_vlen_strings(&["NIRGraph"]).with_shape(&[]);
    let flat: Vec<&str> = g.edges.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]).collect();
    gb.create_dataset("edges").with_vlen_strings(&flat).with_shape(&[g.edges.len() as u64, 2]);
    let mut nodes = gb.create_group("nodes");
    for (name, n) in &g.nodes {
        let mut nb = nodes.create_group(name);
        nb.create_dataset("type").with_vlen_strings(&[n.type_name()]).with_shape(&[]);
        match n {
            NirNode::Input { shape } | NirNode::Output { shape } => {
                let v: Vec<i64> = shape.data.iter().map(|&x| x as i64).collect();
                nb.create_dataset("shape").with_i64_data(&v).with_shape(&[v.len() as u64]);
            }
            NirNode::Affine { weight, bias } => {
                floats(&mut nb, "weight", weight);
                floats(&mut nb, "bias", bias);
            }
            NirNode::Linear { weight } => floats(&mut nb, "weight", weight),
            NirNode::Delay { delay } => floats(&mut nb, "delay", delay),
            NirNode::Threshold { threshold } => floats(&mut nb, "threshold", threshold),
            NirNode::I { r } => floats(&mut nb, "r", r),
            NirNode::IF { r, v_threshold, v_reset } => {
                floats(&mut nb, "r", r);
                floats(&mut nb, "v_threshold", v_threshold);
                if let Some(v) = v_reset {
                    floats(&mut nb, "v_reset", v);
                }
            }
            NirNode::LI { tau, r, v_leak } => {
                floats(&mut nb, "tau", tau);
                floats(&mut nb, "r", r);
                floats(&mut nb, "v_leak", v_leak);
            }
            NirNode::LIF { tau, r, v_leak, v_threshold, v_reset } => {
                floats(&mut nb, "tau", tau);
                floats(&mut nb, "r", r);
                floats(&mut nb, "v_leak", v_leak);
                floats(&mut nb, "v_threshold", v_threshold);
                if let Some(v) = v_reset {
                    floats(&mut nb, "v_reset", v);
                }
            }
            NirNode::CubaLI { tau_syn, tau_mem, r, v_leak, w_in } => {
                floats(&mut nb, "tau_syn", tau_syn);
                floats(&mut nb, "tau_mem", tau_mem);
                floats(&mut nb, "r", r);
                floats(&mut nb, "v_leak", v_leak);
                if let Some(w) = w_in {
                    floats(&mut nb, "w_in", w);
                }
            }
            NirNode::CubaLIF { tau_syn, tau_mem, r, v_leak, w_in, v_threshold, v_reset } => {
                floats(&mut nb, "tau_syn", tau_syn);
                floats(&mut nb, "tau_mem", tau_mem);
                floats(&mut nb, "r", r);
                floats(&mut nb, "v_leak", v_leak);
                if let Some(w) = w_in {
                    floats(&mut nb, "w_in", w);
                }
                floats(&mut nb, "v_threshold", v_threshold);
                if let Some(v) = v_reset {
                    floats(&mut nb, "v_reset", v);
                }
            }
            // Geometry as integers (nir's shape arithmetic indexes with them).
            NirNode::Conv { weight, bias, stride, padding, dilation, groups, input_shape, .. } => {
                floats(&mut nb, "weight", weight);
                if let Some(b) = bias {
                    floats(&mut nb, "bias", b);
                }
                for (k, a) in [("stride", stride), ("dilation", dilation), ("input_shape", input_shape)] {
                    if let Some(a) = a {
                        ints(&mut nb, k, a);
                    }
                }
                if let Some(gr) = groups {
                    ints(&mut nb, "groups", gr);
                }
                pad(&mut nb, name, padding)?;
            }
            NirNode::Pool { kernel_size, stride, padding, .. } => {
                ints(&mut nb, "kernel_size", kernel_size);
                if let Some(s) = stride {
                    ints(&mut nb, "stride", s);
                }
                pad(&mut nb, name, padding)?;
            }
            NirNode::Flatten { start_dim, end_dim, input_type } => {
                for (k, a) in [("start_dim", start_dim), ("end_dim", end_dim), ("input_type", input_type)] {
                    if let Some(a) = a {
                        ints(&mut nb, k, a);
                    }
                }
            }
            NirNode::Scale { scale } => floats(&mut nb, "scale", scale),
            NirNode::Graph(_) => {
                return Err(bad(format!("node `{name}` ({}) is not produced by the exporter", n.type_name())));
            }
        }
        nodes.add_group(nb.finish());
    }
    gb.add_group(nodes.finish());
    Ok(())
}

/// The NIR neuron a population is, if it is one.
fn nir_neuron(m: &Model) -> Option<NirNeuron> {
    match m {
        Model::Neuron(n) => NirNeuron::of(n),
        Model::SpikeSourceArray(_) | Model::SpikeSourcePoisson { .. } | Model::Input => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::front::nir::lower::{to_network, NirOptions};

    fn arr(v: &[f64], shape: &[usize]) -> Array {
        Array { data: v.to_vec(), shape: shape.to_vec() }
    }

    /// in → W → LIF with a recurrent W → Output: the LIF's only outgoing
    /// projection is onto itself, and the export had no Output node
    /// ("the graph has no Output node" on reading it back).
    #[test]
    fn a_recurrent_output_population_keeps_its_output() {
        let lif = NirNode::LIF {
            tau: arr(&[0.01, 0.01], &[2]),
            r: arr(&[10.0, 10.0], &[2]),
            v_leak: arr(&[0.0, 0.0], &[2]),
            v_threshold: arr(&[1.0, 1.0], &[2]),
            v_reset: Some(arr(&[0.0, 0.0], &[2])),
        };
        let g = NirGraph {
            nodes: vec![
                ("in".into(), NirNode::Input { shape: arr(&[2.0], &[1]) }),
                ("w".into(), NirNode::Linear { weight: arr(&[1.0, 0.5, 0.25, 1.0], &[2, 2]) }),
                ("lif".into(), lif),
                ("rec".into(), NirNode::Linear { weight: arr(&[0.0, 0.3, 0.3, 0.0], &[2, 2]) }),
                ("out".into(), NirNode::Output { shape: arr(&[2.0], &[1]) }),
            ],
            edges: [("in", "w"), ("w", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            version: None,
            metadata: vec![("sample_dt".into(), 1e-3)],
        };
        let (net, _) = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap();
        let back = to_nir(&net, &[]).unwrap();
        let outs: Vec<&(String, String)> =
            back.edges.iter().filter(|(_, b)| matches!(back.nodes.iter().find(|(n, _)| n == b), Some((_, NirNode::Output { .. })))).collect();
        assert_eq!(outs.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(), ["lif"], "{:?}", back.edges);
        // Read back: the same populations and synapses.
        let (net2, _) = to_network(&back, "g", "g2.nir", &NirOptions::default()).unwrap();
        assert_eq!(syns(&net), syns(&net2));
    }

    /// Every synapse: (pre, post, pre neuron, post neuron, weight bits, delay steps).
    fn syns(n: &Network) -> Vec<(String, String, u32, u32, u64, u16)> {
        let mut v = Vec::new();
        for (e, pre, post, _) in n.projections() {
            let s = expand(n, e).unwrap();
            for i in 0..s.n_pre() {
                for k in s.row(i) {
                    v.push((n.pop(pre).name.clone(), n.pop(post).name.clone(), i as u32, s.post[k], s.weight(k).to_bits(), s.delay(k)));
                }
            }
        }
        v.sort();
        v
    }

    /// in → a → b plus in → b (NIR delivers both to b within the step): the
    /// import gives in → b two steps (b runs two behind), the export writes
    /// no Delay for it, and the file reads back with the same delays. A
    /// network whose skip takes one step (as a JSON network's would) cannot
    /// be written in NIR's semantics: refused, naming it and the delays.
    #[test]
    fn a_skip_connection_round_trips_and_a_quicker_one_is_refused() {
        let one = |x: f64| arr(&[x], &[1]);
        let lif = |th: f64| NirNode::LIF { tau: one(1e-3), r: one(1.0), v_leak: one(0.0), v_threshold: one(th), v_reset: Some(one(0.0)) };
        let lin = || NirNode::Linear { weight: arr(&[1.0], &[1, 1]) };
        let g = NirGraph {
            nodes: vec![
                ("in".into(), NirNode::Input { shape: arr(&[1.0], &[1]) }),
                ("wa".into(), lin()),
                ("a".into(), lif(0.5)),
                ("wab".into(), lin()),
                ("wskip".into(), lin()),
                ("b".into(), lif(1.5)),
                ("out".into(), NirNode::Output { shape: arr(&[1.0], &[1]) }),
            ],
            edges: [("in", "wa"), ("wa", "a"), ("a", "wab"), ("wab", "b"), ("in", "wskip"), ("wskip", "b"), ("b", "out")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            version: None,
            metadata: vec![("sample_dt".into(), 1e-3)],
        };
        let (mut net, _) = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap();
        let delays: Vec<(String, String, u16)> = syns(&net).into_iter().map(|x| (x.0, x.1, x.5)).collect();
        assert_eq!(delays, [("a".into(), "b".into(), 1), ("in".into(), "a".into(), 1), ("in".into(), "b".into(), 2)]);
        let back = to_nir(&net, &[]).unwrap();
        assert!(!back.nodes.iter().any(|(_, n)| matches!(n, NirNode::Delay { .. })), "{:?}", back.edges);
        let (net2, _) = to_network(&back, "g", "g2.nir", &NirOptions::default()).unwrap();
        assert_eq!(syns(&net), syns(&net2));
        // The skip at one step.
        let e = net.projections().find(|x| x.3.label == "in→b").unwrap().0;
        let Connector::FromList(l) = &mut net.graph[e].connector else { panic!("a connection list") };
        l.delay = Some(vec![1.0]);
        let msg = to_nir(&net, &[]).unwrap_err().to_string();
        for want in ["projection in→b", "take 1 step(s)", "puts `b` 2 step(s) behind `in`"] {
            assert!(msg.contains(want), "lacks `{want}`: {msg}");
        }
    }
    /// `in` (n wide) → Delay → `w` → IF (n wide), read at dt 1 ms.
    fn delayed(delay: &[f64], weight: &[f64], before_weights: bool) -> NirGraph {
        let n = delay.len();
        let v = |x: f64| arr(&vec![x; n], &[n]);
        let mut edges = vec![("in", "d"), ("d", "w"), ("w", "n"), ("n", "out")];
        if !before_weights {
            edges = vec![("in", "w"), ("w", "d"), ("d", "n"), ("n", "out")];
        }
        NirGraph {
            nodes: vec![
                ("in".into(), NirNode::Input { shape: arr(&[n as f64], &[1]) }),
                ("d".into(), NirNode::Delay { delay: arr(delay, &[n]) }),
                ("w".into(), NirNode::Linear { weight: arr(weight, &[n, n]) }),
                ("n".into(), NirNode::IF { r: v(1000.0), v_threshold: v(0.5), v_reset: Some(v(0.0)) }),
                ("out".into(), NirNode::Output { shape: arr(&[n as f64], &[1]) }),
            ],
            edges: edges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            version: None,
            metadata: vec![("sample_dt".into(), 1e-3)],
        }
    }

    /// A Delay of n + 0.5 steps rounds half to even, as the reference
    /// simulator's np.rint (it rounded away from zero: 2.5 steps took 3,
    /// 0.5 took 1); the export writes the steps taken, and its file reads
    /// back with the same delays.
    #[test]
    fn a_delay_of_half_a_step_more_rounds_to_even_and_round_trips() {
        for (secs, extra) in [(0.0025, 2u16), (0.0005, 0), (0.0015, 2), (0.0035, 4)] {
            let (net, _) = to_network(&delayed(&[secs], &[1.0], false), "g", "g.nir", &NirOptions::default()).unwrap();
            // One step for the projection (n runs a step behind in), plus the Delay's.
            let delays: Vec<u16> = syns(&net).iter().map(|x| x.5).collect();
            assert_eq!(delays, [1 + extra], "delay {secs} s");
            let back = to_nir(&net, &[]).unwrap();
            let written: Vec<f64> = back.nodes.iter().filter_map(|(_, n)| if let NirNode::Delay { delay } = n { Some(delay.data[0]) } else { None }).collect();
            assert_eq!(written, if extra == 0 { vec![] } else { vec![extra as f64 * 1e-3] }, "delay {secs} s");
            let (net2, _) = to_network(&back, "g", "g2.nir", &NirOptions::default()).unwrap();
            assert_eq!(syns(&net), syns(&net2), "delay {secs} s");
        }
    }

    /// Input → per-element Delay → Linear → IF (a valid NIR file) gives each
    /// source neuron one delay and a target several: the export refused it
    /// ("NIR's Delay is one delay per target element"). Now its Delay goes
    /// before the weights and the file reads back with the same synapses.
    /// Delays that are one per neither side are refused naming a neuron of
    /// each with two.
    #[test]
    fn per_source_delays_are_written_before_the_weights() {
        let w = [0.3, -0.2, 0.5, 1.0, 0.8, 0.1, -0.4, 0.6, 0.2, 0.9, 0.3, -0.1, 0.7, 0.2, 0.4, 0.5];
        let (net, _) = to_network(&delayed(&[0.003, 0.001, 0.002, 0.005], &w, true), "g", "g.nir", &NirOptions::default()).unwrap();
        let back = to_nir(&net, &[]).unwrap();
        // The one node `from` feeds.
        let next = |g: &NirGraph, from: &str| -> NirNode {
            let to: Vec<&String> = g.edges.iter().filter(|(a, _)| a == from).map(|(_, b)| b).collect();
            assert_eq!(to.len(), 1, "{:?}", g.edges);
            g.nodes.iter().find(|(n, _)| n == to[0]).unwrap().1.clone()
        };
        let NirNode::Delay { delay } = next(&back, "in") else { panic!("{:?}", back.edges) };
        assert_eq!(delay.data, [0.003, 0.001, 0.002, 0.005]);
        assert!(matches!(next(&back, "d_in_0"), NirNode::Linear { .. } | NirNode::Affine { .. }), "{:?}", back.edges);
        let (net2, _) = to_network(&back, "g", "g2.nir", &NirOptions::default()).unwrap();
        assert_eq!(syns(&net), syns(&net2));
        // A delay per target still goes after the weights.
        let (net, _) = to_network(&delayed(&[0.003, 0.001, 0.002, 0.005], &w, false), "g", "g.nir", &NirOptions::default()).unwrap();
        let back = to_nir(&net, &[]).unwrap();
        assert!(matches!(next(&back, "in"), NirNode::Linear { .. } | NirNode::Affine { .. }), "{:?}", back.edges);
        assert!(matches!(next(&back, "w_in_0"), NirNode::Delay { .. }), "{:?}", back.edges);
        let (net2, _) = to_network(&back, "g", "g2.nir", &NirOptions::default()).unwrap();
        assert_eq!(syns(&net), syns(&net2));
        // in 0 → n 0 at 1 step, in 0 → n 1 and in 1 → n 0 at 2: neither side has one delay.
        let (mut net, _) = to_network(&delayed(&[0.0, 0.0], &[1.0, 1.0, 1.0, 1.0], false), "g", "g.nir", &NirOptions::default()).unwrap();
        let e = net.projections().find(|x| x.3.label == "in→n").unwrap().0;
        let Connector::FromList(l) = &mut net.graph[e].connector else { panic!("a connection list") };
        let d: Vec<f64> = (0..l.len()).map(|k| if l.pre[k] == l.post[k] { 1.0 } else { 2.0 }).collect();
        l.delay = Some(d);
        let msg = to_nir(&net, &[]).unwrap_err().to_string();
        for want in [
            "projection in→n: target 0 receives synapses with delays",
            "and source 0 sends synapses with delays",
            "one delay per target neuron (a Delay after its weights) or one per source neuron (a Delay before them)",
        ] {
            assert!(msg.contains(want), "lacks `{want}`: {msg}");
        }
    }
}
