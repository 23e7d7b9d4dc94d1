//! Writing a network as a NIR file (nir 1.0.8 layout, readable by `nir.read`).
//!
//! Supported: input populations and NIR neuron populations (a network read
//! from NIR, or built with `Model::Nir`). Each projection becomes a Linear node
//! (an Affine carrying the target's constant input) with the *quantised*
//! weights, followed by a Delay node when its delay is more than one step;
//! every population that has no outgoing projection gets an Output node.

use std::path::Path;

use hdf5_pure::FileBuilder;

use crate::error::{CompileError, Result};
use crate::front::nir::model::*;
use crate::lower::ProjQuant;
use crate::models::nir::{NirKind, NirNeuron};
use crate::net::expand::expand;
use crate::net::model::*;

/// Most weight-matrix entries (all projections together) a NIR export
/// writes: 2^27, 1 GiB as f64. Every projection is a dense matrix, so a
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
    let arr = |v: &Values, n: usize| Array { data: (0..n).map(|i| v.get(i)).collect(), shape: vec![n] };
    let mut has_out = vec![false; net.num_pops()];
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
    for (e, pre, post, p) in net.projections() {
        if p.plasticity.is_some() {
            // NIR 1.0 describes trained networks: it has no learning rules.
            return Err(bad(format!(
                "projection {} learns (`plasticity`); NIR has no learning rules (save the learned network with `nerve run --save-network` and export that)",
                p.label
            )));
        }
        has_out[pre.index()] = true;
        // Every projection is written as a dense matrix: its size checked before any is built.
        let entries = net.pop(pre).size as u64 * net.pop(post).size as u64;
        dense += entries;
        if dense > MAX_DENSE_ENTRIES {
            return Err(super::refuse(
                "nir",
                format!("projection {}", p.label),
                format!(
                    "its dense weight matrix is {} × {} = {entries} entries ({:.1} GiB as f64){}: more than {MAX_DENSE_ENTRIES} ({} GiB), the most NIR export writes (it writes every projection as a dense Linear/Affine matrix; conv and pool connectors are not written as Conv2d/SumPool2d nodes)",
                    net.pop(post).size,
                    net.pop(pre).size,
                    entries as f64 * 8.0 / (1u64 << 30) as f64,
                    if dense > entries { format!(", {dense} with the projections before it") } else { String::new() },
                    (MAX_DENSE_ENTRIES * 8) >> 30
                ),
            ));
        }
        let syn = expand(net, e)?;
        let (npre, npost) = (net.pop(pre).size as usize, net.pop(post).size as usize);
        let q = quant.iter().find(|(x, _)| *x == e).map(|(_, q)| q);
        let mut w = vec![0.0f64; npre * npost];
        for i in 0..syn.n_pre() {
            for k in syn.row(i) {
                let wq = match q {
                    Some(q) => q.value(q.mantissa(syn.weight(k)).0),
                    None => syn.weight(k),
                };
                w[syn.post[k] as usize * npre + i] += wq;
            }
        }
        // NIR's Delay acts per element of the weighted output: one delay per target neuron.
        let mut delay_of: Vec<Option<u16>> = vec![None; npost];
        for i in 0..syn.n_pre() {
            for k in syn.row(i) {
                let d = syn.delay(k);
                let slot = &mut delay_of[syn.post[k] as usize];
                match slot {
                    Some(x) if *x != d => {
                        return Err(bad(format!(
                            "projection {}: target {} receives synapses with delays {x} and {d}; NIR's Delay is one delay per target element",
                            p.label, syn.post[k]
                        )));
                    }
                    _ => *slot = Some(d),
                }
            }
        }
        let delays: Vec<u16> = delay_of.iter().map(|d| d.unwrap_or(1)).collect();
        let wname = names.fresh(format!("w_{}_{}", net.pop(pre).name, e.index()));
        let weight = Array { data: w, shape: vec![npost, npre] };
        // The target's constant input rides on its first incoming projection.
        let bias = match nir_neuron(&net.pop(post).model) {
            Some(n) if !biased[post.index()] => {
                biased[post.index()] = true;
                Some(arr(&n.bias, npost))
            }
            _ => None,
        };
        g.nodes.push((
            wname.clone(),
            match bias {
                Some(b) => NirNode::Affine { weight, bias: b },
                None => NirNode::Linear { weight },
            },
        ));
        g.edges.push((net.pop(pre).name.clone(), wname.clone()));
        if delays.iter().any(|&d| d > 1) {
            let dname = names.fresh(format!("d_{}_{}", net.pop(pre).name, e.index()));
            let secs: Vec<f64> = delays.iter().map(|&d| (d - 1) as f64 * net.dt_ms / 1000.0).collect();
            g.nodes.push((dname.clone(), NirNode::Delay { delay: Array { data: secs, shape: vec![npost] } }));
            g.edges.push((wname, dname.clone()));
            g.edges.push((dname, entry(post)));
        } else {
            g.edges.push((wname, entry(post)));
        }
    }
    for (pi, pop) in net.pops() {
        let n = pop.size as usize;
        let node = match &pop.model {
            Model::Input => NirNode::Input { shape: Array { data: vec![n as f64], shape: vec![1] } },
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
                    NirKind::Threshold => NirNode::Threshold { threshold: arr(&p.v_threshold, n) },
                    NirKind::I => NirNode::I { r: arr(&p.r, n) },
                    NirKind::IF => NirNode::IF { r: arr(&p.r, n), v_threshold: arr(&p.v_threshold, n), v_reset: Some(arr(&p.v_reset, n)) },
                    NirKind::LI => NirNode::LI { tau: arr(&p.tau_mem, n), r: arr(&p.r, n), v_leak: arr(&p.v_leak, n) },
                    NirKind::LIF => NirNode::LIF {
                        tau: arr(&p.tau_mem, n),
                        r: arr(&p.r, n),
                        v_leak: arr(&p.v_leak, n),
                        v_threshold: arr(&p.v_threshold, n),
                        v_reset: Some(arr(&p.v_reset, n)),
                    },
                    NirKind::CubaLI => NirNode::CubaLI {
                        tau_syn: arr(&p.tau_syn, n),
                        tau_mem: arr(&p.tau_mem, n),
                        r: arr(&p.r, n),
                        v_leak: arr(&p.v_leak, n),
                        w_in: Some(arr(&p.w_in, n)),
                    },
                    NirKind::CubaLIF => NirNode::CubaLIF {
                        tau_syn: arr(&p.tau_syn, n),
                        tau_mem: arr(&p.tau_mem, n),
                        r: arr(&p.r, n),
                        v_leak: arr(&p.v_leak, n),
                        w_in: Some(arr(&p.w_in, n)),
                        v_threshold: arr(&p.v_threshold, n),
                        v_reset: Some(arr(&p.v_reset, n)),
                    },
                };
                if p.fire && matches!(p.kind, NirKind::I | NirKind::LI | NirKind::CubaLI) {
                    g.nodes.push((entry(pi), state));
                    g.edges.push((entry(pi), pop.name.clone()));
                    NirNode::Threshold { threshold: arr(&p.v_threshold, n) }
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
        if !has_out[pi.index()] {
            let oname = names.fresh(format!("out_{}", pop.name));
            g.nodes.push((oname.clone(), NirNode::Output { shape: Array { data: vec![n as f64], shape: vec![1] } }));
            g.edges.push((pop.name.clone(), oname));
        }
    }
    g.nodes.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(g)
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
        .map_err(|source| CompileError::Io { path: file, source })
}

fn fill_graph(gb: &mut hdf5_pure::GroupBuilder, g: &NirGraph) -> Result<()> {
    gb.create_dataset("type").with_vlen_strings(&["NIRGraph"]).with_shape(&[]);
    let flat: Vec<&str> = g.edges.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]).collect();
    gb.create_dataset("edges").with_vlen_strings(&flat).with_shape(&[g.edges.len() as u64, 2]);
    let mut nodes = gb.create_group("nodes");
    for (name, n) in &g.nodes {
        let mut nb = nodes.create_group(name);
        nb.create_dataset("type").with_vlen_strings(&[n.type_name()]).with_shape(&[]);
        let mut put = |k: &str, a: &Array| {
            let shape: Vec<u64> = a.shape.iter().map(|&x| x as u64).collect();
            nb.create_dataset(k).with_f64_data(&a.data).with_shape(&shape);
        };
        match n {
            NirNode::Input { shape } | NirNode::Output { shape } => {
                let v: Vec<i64> = shape.data.iter().map(|&x| x as i64).collect();
                nb.create_dataset("shape").with_i64_data(&v).with_shape(&[v.len() as u64]);
            }
            NirNode::Affine { weight, bias } => {
                put("weight", weight);
                put("bias", bias);
            }
            NirNode::Linear { weight } => put("weight", weight),
            NirNode::Delay { delay } => put("delay", delay),
            NirNode::Threshold { threshold } => put("threshold", threshold),
            NirNode::I { r } => put("r", r),
            NirNode::IF { r, v_threshold, v_reset } => {
                put("r", r);
                put("v_threshold", v_threshold);
                if let Some(v) = v_reset {
                    put("v_reset", v);
                }
            }
            NirNode::LI { tau, r, v_leak } => {
                put("tau", tau);
                put("r", r);
                put("v_leak", v_leak);
            }
            NirNode::LIF { tau, r, v_leak, v_threshold, v_reset } => {
                put("tau", tau);
                put("r", r);
                put("v_leak", v_leak);
                put("v_threshold", v_threshold);
                if let Some(v) = v_reset {
                    put("v_reset", v);
                }
            }
            NirNode::CubaLI { tau_syn, tau_mem, r, v_leak, w_in } => {
                put("tau_syn", tau_syn);
                put("tau_mem", tau_mem);
                put("r", r);
                put("v_leak", v_leak);
                if let Some(w) = w_in {
                    put("w_in", w);
                }
            }
            NirNode::CubaLIF { tau_syn, tau_mem, r, v_leak, w_in, v_threshold, v_reset } => {
                put("tau_syn", tau_syn);
                put("tau_mem", tau_mem);
                put("r", r);
                put("v_leak", v_leak);
                if let Some(w) = w_in {
                    put("w_in", w);
                }
                put("v_threshold", v_threshold);
                if let Some(v) = v_reset {
                    put("v_reset", v);
                }
            }
            NirNode::Scale { .. } | NirNode::Conv { .. } | NirNode::Pool { .. } | NirNode::Flatten { .. } | NirNode::Graph(_) => {
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
