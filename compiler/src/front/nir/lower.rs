//! NIR graph → nerve network.
//!
//! - Input nodes become input populations (fed by spike files); neuron nodes
//!   (IF, LIF, CubaLIF, Threshold; and the non-spiking readouts I, LI, CubaLI)
//!   become populations named after their nodes.
//! - Everything between neuron nodes (Affine, Linear, Scale, Conv, pooling,
//!   Flatten, Delay, identity Input/Output of nested graphs, several edges
//!   summed) is composed into one weight matrix per (source, target)
//!   population pair: a projection. Affine biases become constant input
//!   currents; Delay becomes synaptic delay.
//! - A stateful readout (I, LI, CubaLI) whose outputs go only to Thresholds
//!   (and Outputs) is, per Threshold, one spiking neuron without reset.
//! - NIR's reference semantics pass a signal through any number of layers
//!   within a step (an edge closing a cycle waits one); the chip's projections
//!   take at least one step each. A population runs its depth (`schedule`)
//!   steps behind the reference, and each projection's delay is what keeps
//!   its source and target that far apart; a loop through two or more
//!   populations, which NIR passes around within a step, is refused
//!   (docs/nir.md).

use std::collections::BTreeMap;

use super::model::*;
use crate::error::{CompileError, Result};
use crate::models::nir::{NirKind, NirNeuron};
use crate::net::model::*;

pub use super::conventions::{NirChoice, NirOptions, SourceConvention};

fn err(file: &str, what: String) -> CompileError {
    CompileError::Format { file: file.to_string(), path: "(NIR graph)".into(), reason: what }
}

/// A sparse linear map from one source population's neurons to a node's
/// output elements: `rows[i]` = (source neuron, weight, extra delay in steps).
#[derive(Clone, Debug, Default)]
struct Contrib {
    rows: Vec<Vec<(u32, f64, u32)>>,
}

/// What reaches a node: per source population, a sparse map, plus a bias vector.
#[derive(Clone, Debug, Default)]
struct Signal {
    n: usize,
    from: BTreeMap<String, Contrib>,
    bias: Vec<f64>,
}

impl Signal {
    fn zero(n: usize) -> Signal {
        Signal { n, from: BTreeMap::new(), bias: vec![0.0; n] }
    }
    fn add(&mut self, o: &Signal) {
        for (k, c) in &o.from {
            let e = self.from.entry(k.clone()).or_insert_with(|| Contrib { rows: vec![Vec::new(); self.n] });
            for (i, r) in c.rows.iter().enumerate() {
                e.rows[i].extend_from_slice(r);
            }
        }
        for (i, b) in o.bias.iter().enumerate() {
            self.bias[i] += b;
        }
    }
    /// y = A x, with A given row by row as (input index, weight) lists.
    fn map(&self, out_n: usize, a: &dyn Fn(usize) -> Vec<(usize, f64)>) -> Signal {
        let mut s = Signal::zero(out_n);
        for (k, c) in &self.from {
            let mut rows = vec![Vec::new(); out_n];
            for (i, row) in rows.iter_mut().enumerate() {
                let mut acc: BTreeMap<(u32, u32), f64> = BTreeMap::new();
                for (j, w) in a(i) {
                    for &(src, x, d) in &c.rows[j] {
                        *acc.entry((src, d)).or_insert(0.0) += w * x;
                    }
                }
                *row = acc.into_iter().filter(|(_, w)| *w != 0.0).map(|((src, d), w)| (src, w, d)).collect();
            }
            s.from.insert(k.clone(), Contrib { rows });
        }
        for (i, b) in s.bias.iter_mut().enumerate() {
            *b = a(i).iter().map(|&(j, w)| w * self.bias[j]).sum();
        }
        s
    }
}

/// Elements of a shape: 1 for a scalar (rank 0); a 0 dimension is refused
/// where shapes are found (`check_shape`).
fn numel(shape: &[usize]) -> usize {
    shape.iter().product::<usize>()
}

/// The largest kernel, stride, padding, dilation or group count a NIR file
/// may give: the JSON reader's and the expansion's bound.
const MAX_GEOMETRY: f64 = crate::net::expand::MAX_GEOMETRY as f64;

/// Refuses, before any shape is worked out or any array sized from one, the
/// numbers a NIR file gives as sizes and geometry that are not whole numbers
/// in range (a corrupted file once sized a 32 GiB array from one), and delays
/// that are not finite and non-negative.
fn check_numbers(flat: &FlatGraph, file: &str) -> Result<()> {
    let whole = |name: &str, node: &NirNode, what: &str, a: &Array, max: f64| -> Result<()> {
        if a.data.iter().any(|&x| !(x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= max)) {
            return Err(err(file, format!("node `{name}` ({}): `{what}` is {:?}: expected whole numbers in 0..={max}", node.type_name(), a.data)));
        }
        Ok(())
    };
    // How many values a field may have (a field read at an index past its
    // end, or an empty one, was an index panic).
    let count = |name: &str, node: &NirNode, what: &str, a: &Array, ok: &[usize]| -> Result<()> {
        if !ok.contains(&a.len()) {
            let mut want: Vec<String> = ok.iter().map(|k| k.to_string()).collect();
            want.dedup();
            return Err(err(file, format!("node `{name}` ({}): `{what}` has {} values, expected {}", node.type_name(), a.len(), want.join(" or "))));
        }
        Ok(())
    };
    let size = u32::MAX as f64;
    for (name, node) in &flat.nodes {
        match node {
            NirNode::Input { shape } | NirNode::Output { shape } => whole(name, node, "shape", shape, size)?,
            NirNode::Conv { dims, stride, padding, dilation, groups, input_shape, .. } => {
                for (what, a) in [("stride", stride), ("dilation", dilation), ("groups", groups)] {
                    if let Some(a) = a {
                        whole(name, node, what, a, MAX_GEOMETRY)?;
                        let ok = if what == "groups" { vec![1] } else { vec![1, *dims as usize] };
                        count(name, node, what, a, &ok)?;
                        // 0 groups ran as 1.
                        if what == "groups" && a.at(0) < 1.0 {
                            return Err(err(file, format!("node `{name}` ({}): `groups` is {}: groups must be ≥ 1", node.type_name(), a.at(0))));
                        }
                    }
                }
                // An empty padding ran as 0 here and as 1 on a pool; surplus values were dropped.
                if let Padding::Values(v) = padding {
                    let a = Array { data: v.clone(), shape: vec![] };
                    whole(name, node, "padding", &a, MAX_GEOMETRY)?;
                    count(name, node, "padding", &a, &[1, *dims as usize])?;
                }
                if let Some(a) = input_shape {
                    whole(name, node, "input_shape", a, size)?;
                }
            }
            NirNode::Pool { kernel_size, stride, padding, .. } => {
                whole(name, node, "kernel_size", kernel_size, MAX_GEOMETRY)?;
                count(name, node, "kernel_size", kernel_size, &[1, 2])?;
                if let Some(a) = stride {
                    whole(name, node, "stride", a, MAX_GEOMETRY)?;
                    count(name, node, "stride", a, &[1, 2])?;
                }
                if let Padding::Values(v) = padding {
                    let a = Array { data: v.clone(), shape: vec![] };
                    whole(name, node, "padding", &a, MAX_GEOMETRY)?;
                    count(name, node, "padding", &a, &[1, 2])?;
                }
            }
            NirNode::Flatten { start_dim, end_dim, .. } => {
                for (what, a) in [("start_dim", start_dim), ("end_dim", end_dim)] {
                    if let Some(a) = a {
                        count(name, node, what, a, &[1])?;
                        // 0.7 and NaN were read as 0.
                        let x = a.at(0);
                        if !(x.fract() == 0.0 && x.abs() <= MAX_GEOMETRY) {
                            return Err(err(
                                file,
                                format!(
                                    "node `{name}` (Flatten): `{what}` is {}: expected a whole number (negative counts from the end)",
                                    crate::error::num(x)
                                ),
                            ));
                        }
                    }
                }
            }
            NirNode::Delay { delay } if delay.data.iter().any(|&x| !(x.is_finite() && x >= 0.0)) => {
                return Err(err(file, format!("node `{name}` (Delay): `delay` is {:?}: expected finite times ≥ 0 s", delay.data)));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a node whose shape has more elements than a population may
/// have, or than this machine can build, before anything is sized from it.
fn check_shape(name: &str, node: &NirNode, shape: &[usize], file: &str) -> Result<()> {
    // An empty node has no neurons or elements to map (an Input of shape [0] became one neuron).
    if shape.contains(&0) {
        return Err(err(
            file,
            format!("node `{name}` ({}) has shape {shape:?}: a dimension of 0 (no elements); every dimension must be ≥ 1", node.type_name()),
        ));
    }
    let n = shape.iter().try_fold(1u64, |a, &x| a.checked_mul(x as u64));
    match n {
        Some(n) if n <= u32::MAX as u64 => {
            crate::compile::check_neurons_fit(n, 0).map_err(|m| err(file, format!("node `{name}` ({}) has shape {shape:?}: {m}", node.type_name())))
        }
        _ => Err(err(file, format!("node `{name}` ({}) has shape {shape:?}: more than {} elements (a population's limit)", node.type_name(), u32::MAX))),
    }
}

/// Output shapes of every node (a fixed point over the graph).
fn shapes(g: &FlatGraph, file: &str) -> Result<Vec<Option<Vec<usize>>>> {
    let n = g.nodes.len();
    let mut sh: Vec<Option<Vec<usize>>> = vec![None; n];
    let preds: Vec<Vec<usize>> = (0..n).map(|i| g.edges.iter().filter(|(_, b)| *b == g.nodes[i].0).filter_map(|(a, _)| g.index(a)).collect()).collect();
    // A map is lowered into the synapses between neurons: one that reads
    // nothing has none (an Affine fed by no edge was said to have an input
    // of the wrong size). A neuron without input is fine: its bias or leak drives it.
    for (i, (name, node)) in g.nodes.iter().enumerate() {
        if preds[i].is_empty() && !node.is_neuron() && !matches!(node, NirNode::Input { .. } | NirNode::Output { .. }) {
            return Err(err(file, format!("node `{name}` ({}) has no input: no edge leads into it, and a map between neurons needs one", node.type_name())));
        }
    }
    // A node that takes its input's shape, or failing that its parameter's,
    // waits for its input while any other node's shape can still be found
    // (`fallback` off): taken from its parameter before its input was
    // known (a node listed before its input), a Delay of 2 values after 4
    // outputs was 2 wide, and its 4 rows read its 2 values past their end.
    // Then one at a time does not wait.
    let mut fallback = false;
    for _round in 0..2 * n + 4 {
        let mut changed = false;
        for i in 0..n {
            if sh[i].is_some() {
                continue;
            }
            let (name, node) = &g.nodes[i];
            let input: Option<Vec<usize>> = preds[i].iter().find_map(|&p| sh[p].clone());
            let waits = input.is_none() && !preds[i].is_empty() && !fallback;
            if waits && (node.is_neuron() || matches!(node, NirNode::Output { .. } | NirNode::Scale { .. } | NirNode::Delay { .. } | NirNode::Conv { .. })) {
                continue;
            }
            let guessed = input.is_none() && !preds[i].is_empty();
            let param_shape = |a: &Array| if a.shape.is_empty() { None } else { Some(a.shape.clone()) };
            let s: Option<Vec<usize>> = match node {
                NirNode::Input { shape } => Some(shape.ints()),
                NirNode::Output { shape } => {
                    let own = shape.ints();
                    match input {
                        // An Output's shape is what it reads: one that disagrees was ignored.
                        Some(i) if !own.is_empty() && own.iter().product::<usize>() != i.iter().product::<usize>() => {
                            return Err(err(file, format!("node `{name}` (Output) has shape {own:?} but its input gives {i:?}")));
                        }
                        Some(i) => Some(i),
                        None => Some(own),
                    }
                }
                NirNode::Affine { weight, .. } | NirNode::Linear { weight } => {
                    if weight.shape.len() != 2 {
                        return Err(err(file, format!("node `{name}`: weight must be 2-D (out × in), has shape {:?}", weight.shape)));
                    }
                    Some(vec![weight.shape[0]])
                }
                NirNode::Scale { scale } => input.or_else(|| param_shape(scale)),
                NirNode::Flatten { start_dim, end_dim, .. } => match input {
                    None => None,
                    Some(s) if s.is_empty() => Some(s),
                    Some(s) => {
                        let nd = s.len() as i64;
                        let (start, end) = (start_dim.as_ref().map_or(1, |x| x.at(0) as i64), end_dim.as_ref().map_or(-1, |x| x.at(0) as i64));
                        // Exporters differ on whether the batch axis is counted, so a
                        // dim one past either end is taken as the nearest; further
                        // off (or start after end), PyTorch raises and the reference
                        // simulator reshapes wrongly: refused, not clamped.
                        let bad = |why: &str| err(file, format!("node `{name}` (Flatten): start_dim {start}, end_dim {end} on an input of shape {s:?}: {why}"));
                        if !(-nd - 1..=nd).contains(&start) || !(-nd - 1..=nd).contains(&end) {
                            return Err(bad(&format!("a dim must lie in -{nd}..={} (one more either way taken as the batch axis)", nd - 1)));
                        }
                        let norm = |v: i64| if v < 0 { (nd + v).max(0) as usize } else { (v as usize).min(s.len() - 1) };
                        let (a, b) = (norm(start), norm(end));
                        if a > b {
                            return Err(bad("start_dim comes after end_dim"));
                        }
                        let mut out = s[..a].to_vec();
                        out.push(s[a..=b].iter().product());
                        out.extend_from_slice(&s[b + 1..]);
                        Some(out)
                    }
                },
                NirNode::Delay { delay } => input.or_else(|| param_shape(delay)),
                NirNode::Conv { dims, weight, stride, padding, dilation, input_shape, groups, .. } => {
                    // NIR's input_shape is spatial only; shapes without a channel axis get one.
                    if let (Some(i), Some(is)) = (&input, input_shape) {
                        // NIR's input_shape is the spatial part (or all) of what the Conv reads; one
                        // that disagrees with the input was ignored.
                        let want = is.ints();
                        if want.len() > i.len() || i[i.len() - want.len()..] != want[..] {
                            return Err(err(file, format!("node `{name}` ({}): `input_shape` is {want:?} but its input gives {i:?}", node.type_name())));
                        }
                    }
                    let chans = weight.shape.get(1).copied().unwrap_or(1) * groups.as_ref().map_or(1, |g| g.at(0) as usize).max(1);
                    let ins = input.or_else(|| input_shape.as_ref().map(|a| a.ints())).map(|mut s| {
                        if s.len() == *dims as usize {
                            s.insert(0, chans);
                        }
                        s
                    });
                    match ins {
                        Some(s) => Some(conv_out(name, file, *dims, weight, stride, padding, dilation, &s)?),
                        None => None,
                    }
                }
                NirNode::Pool { kernel_size, stride, padding, .. } => match input {
                    Some(s) => {
                        if s.len() != 3 {
                            return Err(err(file, format!("node `{name}`: 2-D pooling needs (C, H, W) input, gets {s:?}")));
                        }
                        let k = pair(kernel_size);
                        let st = stride.as_ref().map_or(k, pair);
                        let p = match padding {
                            Padding::Values(v) => pair(&Array { data: v.clone(), shape: vec![] }),
                            Padding::Valid => [0, 0],
                            // PyTorch's pooling takes no 'same'; it was read as no padding.
                            Padding::Same => return Err(err(file, format!("node `{name}`: pooling with padding 'same': only numbers or 'valid'"))),
                        };
                        if k.contains(&0) || st.contains(&0) || (0..2).any(|d| s[d + 1] + 2 * p[d] < k[d]) {
                            return Err(err(file, format!("node `{name}`: pooling kernel {k:?} with stride {st:?} does not fit input {s:?} padded by {p:?}")));
                        }
                        Some(vec![s[0], (s[1] + 2 * p[0] - k[0]) / st[0] + 1, (s[2] + 2 * p[1] - k[1]) / st[1] + 1])
                    }
                    None => None,
                },
                NirNode::Threshold { threshold: a }
                | NirNode::I { r: a }
                | NirNode::IF { v_threshold: a, .. }
                | NirNode::LI { tau: a, .. }
                | NirNode::LIF { tau: a, .. }
                | NirNode::CubaLI { tau_mem: a, .. }
                | NirNode::CubaLIF { tau_mem: a, .. } => match (param_shape(a), input) {
                    // The parameter's shape where it agrees with the input's width; else
                    // the input's, so the parameter that disagrees is the one named (a `tau`
                    // of 3 values before a 5-wide input made `r`, of 5, the culprit).
                    (Some(p), Some(i)) if p.iter().product::<usize>() == i.iter().product::<usize>() => Some(p),
                    (p, i) => i.or(p),
                },
                NirNode::Graph(_) => None,
            };
            if let Some(s) = s {
                check_shape(name, node, &s, file)?;
                sh[i] = Some(s);
                changed = true;
                if guessed {
                    fallback = false;
                }
            }
        }
        if !changed {
            if fallback {
                break;
            }
            fallback = true;
        }
    }
    Ok(sh)
}

fn pair(a: &Array) -> [usize; 2] {
    let v = a.ints();
    match v.len() {
        0 => [1, 1],
        1 => [v[0], v[0]],
        _ => [v[0], v[1]],
    }
}

#[allow(clippy::too_many_arguments)]
fn conv_out(
    name: &str,
    file: &str,
    dims: u8,
    w: &Array,
    stride: &Option<Array>,
    padding: &Padding,
    dilation: &Option<Array>,
    ins: &[usize],
) -> Result<Vec<usize>> {
    let nd = dims as usize;
    if w.shape.len() != nd + 2 || ins.len() != nd + 1 {
        return Err(err(file, format!("node `{name}`: Conv{nd}d weight {:?} does not fit input {:?}", w.shape, ins)));
    }
    let k = &w.shape[2..];
    let st: Vec<usize> = (0..nd).map(|i| stride.as_ref().map_or(1, |s| s.at(i.min(s.len().max(1) - 1)) as usize)).collect();
    let dl: Vec<usize> = (0..nd).map(|i| dilation.as_ref().map_or(1, |s| s.at(i.min(s.len().max(1) - 1)) as usize)).collect();
    if k.contains(&0) || st.contains(&0) || dl.contains(&0) {
        return Err(err(file, format!("node `{name}`: kernel {k:?}, stride {st:?} and dilation {dl:?} must be ≥ 1")));
    }
    // PyTorch has 'same' for stride 1 only ("not supported for strided
    // convolutions"): what output a stride would give is not defined.
    if *padding == Padding::Same && st.iter().any(|&s| s != 1) {
        return Err(err(file, format!("node `{name}`: padding 'same' with stride {st:?}: PyTorch defines 'same' for stride 1 only")));
    }
    let pd = pads(padding, k, &dl);
    let mut out = vec![w.shape[0]];
    for i in 0..nd {
        let span = dl[i] * (k[i] - 1) + 1;
        // 'same' pads d(k−1) in all, the odd one past the end for an even
        // kernel (PyTorch's): twice the leading pad was one short, and an
        // even kernel's output one smaller than its input.
        let total = ins[i + 1] + if *padding == Padding::Same { dl[i] * (k[i] - 1) } else { 2 * pd[i] };
        if total < span {
            return Err(err(file, format!("node `{name}`: kernel {:?} larger than the padded input {:?}", k, ins)));
        }
        out.push((total - span) / st[i] + 1);
    }
    Ok(out)
}

fn pads(padding: &Padding, k: &[usize], dl: &[usize]) -> Vec<usize> {
    let nd = k.len();
    match padding {
        Padding::Valid => vec![0; nd],
        // PyTorch 'same' (stride 1): total padding d(k−1), the leading pad its
        // half rounded down (the rest trails: `conv_out`).
        Padding::Same => (0..nd).map(|i| dl[i] * (k[i] - 1) / 2).collect(),
        Padding::Values(v) => (0..nd).map(|i| if v.is_empty() { 0 } else { v[i.min(v.len() - 1)] as usize }).collect(),
    }
}

/// Builds the network from a NIR graph. Returns it with the dt and reset chosen, and why.
pub fn to_network(g: &NirGraph, name: &str, file: &str, opts: &NirOptions) -> Result<(Network, NirChoice)> {
    // The network is named after the file, which may be named anything.
    if let Some(why) = nerve_isa::names::bad_network_name(name) {
        return Err(err(file, format!("the network's name (the file's, without .nir): {why}")));
    }
    let flat = flatten(g).map_err(|e| err(file, e))?;
    // Taken as written: a sample_dt ≤ 0 or NaN is refused with the range check
    // below, naming it (it was dropped and the default dt used without a word).
    let file_dt = g.metadata.iter().find(|(k, _)| k == "sample_dt").map(|(_, v)| *v);
    if file_dt.is_some_and(f64::is_nan) && opts.dt_s.is_none() {
        return Err(err(file, "the file's sample_dt is not a number (text, a list, or NaN): it must be one, the timestep in seconds; or give --dt".into()));
    }
    let file_reset = g.metadata.iter().find(|(k, _)| k == "reset_subtract").map(|(_, v)| *v);
    if file_reset.is_some_and(f64::is_nan) && opts.reset.is_none() {
        return Err(err(file, "the file's reset_subtract is not a number (text, a list, or NaN): it must be one, 1 (or true) to subtract the threshold, 0 (false) to reset to v_reset; or give --reset".into()));
    }
    let file_reset = file_reset.map(|v| if v != 0.0 { ResetMode::Subtract } else { ResetMode::ToReset });
    let mut choice = opts.resolve(&flat, file_dt, file_reset);
    // Read as NIR up to 1.x (0.x files, of the NIR paper's exporters, read alike):
    // a file of a later major version was read without a word.
    if let Some(v) = g.version.as_deref().filter(|v| v.split('.').next().and_then(|m| m.trim().parse::<u32>().ok()).is_none_or(|m| m > 1)) {
        choice
            .warnings
            .push(format!("the file is NIR version {v}; nerve reads NIR up to 1.x (nir 1.0.8), and a node of a later version may mean something else"));
    }
    let (dt, reset) = (choice.dt_s, choice.reset);
    if !(dt * 1000.0).is_finite() || !DT_MS_RANGE.contains(&(dt * 1000.0)) {
        // In seconds, as NIR's dt and --dt are given.
        let (lo, hi) = (crate::error::num(nerve_isa::significant12(*DT_MS_RANGE.start() / 1000.0)), crate::error::num(*DT_MS_RANGE.end() / 1000.0));
        return Err(err(file, format!("dt {} s ({}) is outside {lo}..={hi} s", crate::error::num(dt), choice.dt_why)));
    }
    check_numbers(&flat, file)?;
    let sh = shapes(&flat, file)?;
    let n = flat.nodes.len();
    for (i, (nm, node)) in flat.nodes.iter().enumerate() {
        if sh[i].is_none() && !matches!(node, NirNode::Output { .. }) {
            return Err(err(file, format!("node `{nm}` ({}): its shape cannot be worked out (it has no input of known shape)", node.type_name())));
        }
    }
    let timing = super::schedule::timing(&flat);
    let pred_edges = super::schedule::preds(&flat);
    let preds: Vec<Vec<usize>> = pred_edges.iter().map(|v| v.iter().map(|&(p, _)| p).collect()).collect();
    // Per input of each node: whether the reference gives it the step before's value.
    let pdel: Vec<Vec<bool>> = pred_edges.iter().map(|v| v.iter().map(|&(_, e)| timing.delayed[e]).collect()).collect();
    outputs_read_neurons(&flat, &preds, file)?;
    let (fused, absorbed) = fuse_thresholds(&flat, &preds);
    for (t, s) in fused.iter().enumerate() {
        if let (Some(s), [true]) = (s, pdel[t].as_slice()) {
            return Err(err(file, format!("the edge `{}` → `{}` closes a cycle in NIR's schedule, so the Threshold reads its stateful node a step late; nerve makes them one neuron, which cannot", flat.nodes[*s].0, flat.nodes[t].0)));
        }
    }
    // Signals through linear nodes, memoised.
    let mut memo: Vec<Option<Signal>> = vec![None; n];
    let mut on_stack = vec![false; n];
    #[allow(clippy::too_many_arguments)]
    fn signal_of(
        i: usize,
        flat: &FlatGraph,
        sh: &[Option<Vec<usize>>],
        preds: &[Vec<usize>],
        pdel: &[Vec<bool>],
        memo: &mut Vec<Option<Signal>>,
        on_stack: &mut Vec<bool>,
        file: &str,
        dt: f64,
    ) -> Result<Signal> {
        if let Some(s) = &memo[i] {
            return Ok(s.clone());
        }
        let (name, node) = &flat.nodes[i];
        let out_n = numel(sh[i].as_deref().unwrap_or(&[]));
        // Population nodes are sources: their output is themselves.
        if matches!(node, NirNode::Input { .. }) && flat.inputs.contains(name) || node.is_neuron() {
            if node.is_neuron() && !node.is_spiking() {
                return Err(err(file, format!("`{name}` ({}) is a non-spiking readout whose analog value feeds other nodes; nerve's chip moves only spikes between cores, so a readout can only be probed, or be the one input of a Threshold (which makes it a spiking neuron without reset)", node.type_name())));
            }
            let mut s = Signal::zero(out_n);
            s.from.insert(name.clone(), Contrib { rows: (0..out_n).map(|k| vec![(k as u32, 1.0, 0)]).collect() });
            return Ok(s);
        }
        if on_stack[i] {
            return Err(err(file, format!("the graph has a cycle through `{name}` with no neuron on it (an algebraic loop)")));
        }
        on_stack[i] = true;
        let in_n = preds[i].iter().find_map(|&p| sh[p].as_ref().map(|s| numel(s))).unwrap_or(out_n);
        let mut x = Signal::zero(in_n);
        for (&p, &late) in preds[i].iter().zip(&pdel[i]) {
            let ps = delayed_by(signal_of(p, flat, sh, preds, pdel, memo, on_stack, file, dt)?, late);
            if ps.n != in_n {
                return Err(err(file, format!("node `{name}` receives inputs of sizes {} and {} (from `{}`)", in_n, ps.n, flat.nodes[p].0)));
            }
            x.add(&ps);
        }
        on_stack[i] = false;
        let mut in_shape = preds[i].iter().find_map(|&p| sh[p].clone()).unwrap_or_default();
        if let NirNode::Conv { dims, weight, groups, .. } = node {
            if in_shape.len() == *dims as usize {
                in_shape.insert(0, weight.shape[1] * groups.as_ref().map_or(1, |g| g.at(0) as usize).max(1));
            }
        }
        if let NirNode::Pool { .. } = node {
            if in_shape.len() == 2 {
                in_shape.insert(0, 1);
            }
        }
        let y = match node {
            NirNode::Input { .. } | NirNode::Output { .. } | NirNode::Flatten { .. } => x,
            NirNode::Affine { weight, .. } | NirNode::Linear { weight } => {
                let (o, k) = (weight.shape[0], weight.shape[1]);
                if k != in_n {
                    return Err(err(file, format!("node `{name}`: weight is {o} × {k} but its input has {in_n} elements")));
                }
                // NIR's Affine and Linear read a vector (as `nir.read`'s type
                // check says): an input of shape [2, 2] into a 4-wide weight
                // was flattened without a word. Leading dimensions of 1 are
                // a vector still.
                let vector = in_shape.iter().rev().skip(1).all(|&d| d == 1) && in_shape.last().is_none_or(|&d| d == k);
                if !vector {
                    return Err(err(
                        file,
                        format!(
                            "node `{name}` ({}): its input has shape {in_shape:?}, but its weight ({o} × {k}) reads a vector of {k} elements; put a Flatten node before it",
                            node.type_name()
                        ),
                    ));
                }
                if let NirNode::Affine { bias, .. } = node {
                    per_output(name, node, "bias", bias, o, "outputs", file)?;
                }
                let mut y = x.map(o, &|r| (0..k).filter(|&c| weight.data[r * k + c] != 0.0).map(|c| (c, weight.data[r * k + c])).collect());
                if let NirNode::Affine { bias, .. } = node {
                    for (r, b) in y.bias.iter_mut().enumerate() {
                        *b += bias.at(r);
                    }
                }
                y
            }
            NirNode::Scale { scale } => {
                per_output(name, node, "scale", scale, out_n, "elements", file)?;
                x.map(out_n, &|r| vec![(r, scale.at(r))])
            }
            NirNode::Delay { delay } => {
                per_output(name, node, "delay", delay, out_n, "elements", file)?;
                let mut y = x;
                for c in y.from.values_mut() {
                    for (r, row) in c.rows.iter_mut().enumerate() {
                        // As the reference simulator (np.rint): a tie to the even
                        // step (2.5 steps is 2, 0.5 is 0), not away from zero as
                        // the JSON format's delays round.
                        let steps = (delay.at(r) / dt).round_ties_even().max(0.0);
                        // Named here, at the node and its value: past 2^32 the
                        // projection's error showed 2^32 steps, naming no Delay.
                        if steps > u16::MAX as f64 {
                            return Err(err(
                                file,
                                format!(
                                    "node `{name}` (Delay): delay {} s is {} timesteps at dt {} s, more than any core supports ({})",
                                    crate::error::num(delay.at(r)),
                                    crate::error::num(steps),
                                    crate::error::num(dt),
                                    u16::MAX
                                ),
                            ));
                        }
                        let d = steps as u32;
                        for e in row.iter_mut() {
                            e.2 = e.2.saturating_add(d);
                        }
                    }
                }
                y
            }
            NirNode::Conv { dims, weight, bias, stride, padding, dilation, groups, .. } => {
                let nd = *dims as usize;
                // invariant: to_network refuses a graph with a node of unknown shape before signals are composed
                let outs = sh[i].clone().expect("shapes checked above");
                let ci = in_shape[0];
                let co = weight.shape[0];
                let g = groups.as_ref().map_or(1, |a| a.at(0) as usize).max(1);
                let cig = weight.shape[1];
                let k: Vec<usize> = weight.shape[2..].to_vec();
                let st: Vec<usize> = (0..nd).map(|d| stride.as_ref().map_or(1, |s| s.at(d.min(s.len() - 1)) as usize)).collect();
                let dl: Vec<usize> = (0..nd).map(|d| dilation.as_ref().map_or(1, |s| s.at(d.min(s.len() - 1)) as usize)).collect();
                let pd = pads(padding, &k, &dl);
                if ci != cig * g {
                    return Err(err(file, format!("node `{name}`: {ci} input channels, weight expects {} × {g} groups", cig)));
                }
                if co == 0 || co % g != 0 {
                    return Err(err(file, format!("node `{name}`: {co} output channels do not split into {g} groups")));
                }
                if let Some(b) = bias {
                    per_output(name, node, "bias", b, co, "output channels", file)?;
                }
                let (ih, iw) = if nd == 2 { (in_shape[1], in_shape[2]) } else { (1, in_shape[1]) };
                let (oh, ow) = if nd == 2 { (outs[1], outs[2]) } else { (1, outs[1]) };
                let (kh, kw) = if nd == 2 { (k[0], k[1]) } else { (1, k[0]) };
                let (sy, sx) = if nd == 2 { (st[0], st[1]) } else { (1, st[0]) };
                let (dy, dx) = if nd == 2 { (dl[0], dl[1]) } else { (1, dl[0]) };
                let (py, px) = if nd == 2 { (pd[0], pd[1]) } else { (0, pd[0]) };
                let cog = co / g;
                let mut y = x.map(out_n, &|r| {
                    let o = r / (oh * ow);
                    let oy = (r / ow) % oh;
                    let ox = r % ow;
                    let grp = o / cog;
                    let mut v = Vec::new();
                    for cl in 0..cig {
                        let c = grp * cig + cl;
                        for ky in 0..kh {
                            let iy = (oy * sy + ky * dy) as i64 - py as i64;
                            if iy < 0 || iy >= ih as i64 {
                                continue;
                            }
                            for kx in 0..kw {
                                let ix = (ox * sx + kx * dx) as i64 - px as i64;
                                if ix < 0 || ix >= iw as i64 {
                                    continue;
                                }
                                let wv = weight.data[((o * cig + cl) * kh + ky) * kw + kx];
                                if wv != 0.0 {
                                    v.push(((c * ih + iy as usize) * iw + ix as usize, wv));
                                }
                            }
                        }
                    }
                    v
                });
                if let Some(b) = bias {
                    for (r, yb) in y.bias.iter_mut().enumerate() {
                        *yb += b.at(r / (oh * ow));
                    }
                }
                y
            }
            NirNode::Pool { average, kernel_size, stride, padding } => {
                // invariant: to_network refuses a graph with a node of unknown shape before signals are composed
                let outs = sh[i].clone().expect("shapes checked above");
                let k = pair(kernel_size);
                let st = stride.as_ref().map_or(k, pair);
                let p = match padding {
                    Padding::Values(v) => pair(&Array { data: v.clone(), shape: vec![] }),
                    // 'same' was refused with the shapes.
                    Padding::Valid | Padding::Same => [0, 0],
                };
                let (ih, iw) = (in_shape[1], in_shape[2]);
                let (oh, ow) = (outs[1], outs[2]);
                let scale = if *average { 1.0 / (k[0] * k[1]) as f64 } else { 1.0 };
                x.map(out_n, &|r| {
                    let c = r / (oh * ow);
                    let oy = (r / ow) % oh;
                    let ox = r % ow;
                    let mut v = Vec::new();
                    for ky in 0..k[0] {
                        let iy = (oy * st[0] + ky) as i64 - p[0] as i64;
                        if iy < 0 || iy >= ih as i64 {
                            continue;
                        }
                        for kx in 0..k[1] {
                            let ix = (ox * st[1] + kx) as i64 - p[1] as i64;
                            if ix < 0 || ix >= iw as i64 {
                                continue;
                            }
                            v.push(((c * ih + iy as usize) * iw + ix as usize, scale));
                        }
                    }
                    v
                })
            }
            other => return Err(err(file, format!("node `{name}`: {} cannot be composed", other.type_name()))),
        };
        memo[i] = Some(y.clone());
        Ok(y)
    }

    // Populations.
    let mut net = Network::new(name, dt * 1000.0);
    let mut pop_of: BTreeMap<String, PopIx> = BTreeMap::new();
    for (i, (nm, node)) in flat.nodes.iter().enumerate() {
        let size = numel(sh[i].as_deref().unwrap_or(&[])) as u32;
        if absorbed[i] {
            continue;
        }
        let model = match (node, fused[i]) {
            (NirNode::Threshold { threshold }, Some(s)) => {
                // The stateful node's dynamics, spiking at the Threshold's θ, no reset.
                let mut nn = nir_neuron(&flat.nodes[s].0, &flat.nodes[s].1, size as usize, dt, reset, file)?;
                if threshold.len() != 1 && threshold.len() != size as usize {
                    return Err(err(file, format!("node `{nm}`: `threshold` has {} values for {size} neurons", threshold.len())));
                }
                if threshold.data.iter().any(|x| !x.is_finite()) {
                    return Err(err(file, format!("node `{nm}`: `threshold` is not finite")));
                }
                nn.v_threshold = vals(threshold, size as usize);
                nn.fire = true;
                Model::Neuron(nn.into_neuron())
            }
            (NirNode::Input { .. }, _) if flat.inputs.contains(nm) => Model::Input,
            (n, _) if n.is_neuron() => Model::Neuron(nir_neuron(nm, n, size as usize, dt, reset, file)?.into_neuron()),
            _ => continue,
        };
        // NIR allows any node name; the outputs that name populations do not.
        if let Some(why) = bad_population_name(nm) {
            return Err(err(file, format!("node `{}` ({}): {why}", nm.escape_debug(), node.type_name())));
        }
        let record = node.is_spiking();
        let id = net.graph.add_node(Population { name: nm.clone(), size, model, initial: vec![], record_spikes: record, max_per_core: None, labels: vec![] });
        pop_of.insert(nm.clone(), id);
    }
    // What reaches every neuron population; biases into its parameters.
    let mut inputs: Vec<(usize, Signal)> = Vec::new();
    for (i, (nm, node)) in flat.nodes.iter().enumerate() {
        if !node.is_neuron() || absorbed[i] {
            continue;
        }
        let size = numel(sh[i].as_deref().unwrap_or(&[]));
        let mut x = Signal::zero(size);
        // A fused Threshold receives what its stateful node receives.
        let into = fused[i].unwrap_or(i);
        for (&p, &late) in preds[into].iter().zip(&pdel[into]) {
            let ps = delayed_by(signal_of(p, &flat, &sh, &preds, &pdel, &mut memo, &mut on_stack, file, dt)?, late);
            if ps.n != size {
                return Err(err(file, format!("node `{nm}` has {size} neurons but receives {} values from `{}`", ps.n, flat.nodes[p].0)));
            }
            x.add(&ps);
        }
        let post = pop_of[nm];
        if x.bias.iter().any(|&b| b != 0.0) {
            if let Model::Neuron(nn) = &mut net.graph[post].model {
                // invariant: every NIR model's parameter table (models::nir::PARAMS) has `bias`
                nn.params.set("bias", Values::PerNeuron(x.bias.clone())).expect("NIR neurons take a bias");
            }
        }
        inputs.push((i, x));
    }
    let depth = settle_depths(&flat, &timing, &pop_of, &inputs, file)?;
    // A raise is a shift of those populations' timelines that the chip's network
    // does not keep: `export nir` reads its delays with the graph's own depths, and
    // writes the raise as Delays (its file then means, in NIR, a run whose raised
    // populations come that much later). Said where it happens.
    let raised: Vec<String> = (0..flat.nodes.len())
        .filter(|&k| pop_of.contains_key(&flat.nodes[k].0) && timing.depth[k].is_some_and(|d| depth[k] > d as i64))
        .map(|k| format!("`{}` by {}", flat.nodes[k].0, depth[k] - timing.depth[k].unwrap_or(0) as i64))
        .collect();
    if !raised.is_empty() {
        choice.warnings.push(format!(
            "a loop whose Delay lies on its forward part: populations run further behind NIR's reference than their depth, {} step(s), so that each projection takes a step; `nerve export nir` of this network writes those steps as Delays, and its file then means them in NIR (those populations later by that much)",
            raised.join(", ")
        ));
    }
    let depth = |k: usize| depth[k];
    // The projections.
    for (i, x) in &inputs {
        let (i, nm) = (*i, &flat.nodes[*i].0);
        let into = fused[i].unwrap_or(i);
        let post = pop_of[nm];
        for (src, c) in &x.from {
            let pre = *pop_of.get(src).ok_or_else(|| err(file, format!("`{src}` feeds `{nm}` but is not a population")))?;
            // invariant: a population is a node of the flattened graph
            let src_i = flat.index(src).expect("populations are nodes");
            let mut conns = ConnList::default();
            let mut steps_seen = Vec::new();
            for (post_i, row) in c.rows.iter().enumerate() {
                for &(pre_i, w, d) in row {
                    if !w.is_finite() {
                        return Err(err(file, format!("`{src}` → `{nm}`: weight {w} (to neuron {post_i} from {pre_i}) is not a finite number")));
                    }
                    if w != 0.0 {
                        // The target runs depth(post) steps behind the reference, the
                        // source depth(pre): the spike must take the difference, plus
                        // the NIR Delay and the reference's step on a cycle's edge (`d`).
                        let steps = depth(i) - depth(src_i) + d as i64;
                        // settle_depths made every projection at least a step
                        debug_assert!(steps >= 1, "`{src}` → `{nm}` takes {steps} steps");
                        if !steps_seen.contains(&steps) {
                            steps_seen.push(steps);
                        }
                        conns.push(Conn { pre: pre_i, post: post_i as u32, weight: Some(w), delay: Some(steps as f64 * dt * 1000.0) });
                    }
                }
            }
            if conns.is_empty() {
                continue;
            }
            // A lone Conv2d or pooling node between the two populations stays one
            // (its synapses are the composed ones), so a chip that shares kernels
            // shares it and `export nir` writes it back as that node.
            let (connector, delay_ms) = match (kernel_between(&flat, &sh, &preds, into, src), steps_seen.as_slice()) {
                (Some(k), &[steps]) => (k, Some(steps as f64 * dt * 1000.0)),
                _ => (Connector::FromList(conns), None),
            };
            net.graph.add_edge(
                pre,
                post,
                Projection {
                    label: format!("{src}→{nm}"),
                    receptor: Receptor::Excitatory,
                    connector,
                    weight: None,
                    delay_ms,
                    loihi: LoihiWeights::default(),
                    plasticity: None,
                },
            );
        }
    }
    if flat.outputs.is_empty() {
        return Err(err(file, "the graph has no Output node".into()));
    }
    Ok((net, choice))
}

/// Every top-level Output reads neurons (or an Input), through reshapings
/// and nested graphs' identities at most: nerve's outputs are populations'
/// spikes and states. An Output reading an Affine of a LIF's spikes was
/// dropped with the Affine, and the LIF's spikes written out instead.
fn outputs_read_neurons(flat: &FlatGraph, preds: &[Vec<usize>], file: &str) -> Result<()> {
    let mut seen = vec![false; flat.nodes.len()];
    for o in &flat.outputs {
        let Some(oi) = flat.index(o) else { continue };
        let mut stack = preds[oi].clone();
        while let Some(p) = stack.pop() {
            if std::mem::replace(&mut seen[p], true) {
                continue;
            }
            let (name, node) = &flat.nodes[p];
            match node {
                x if x.is_neuron() => {}
                NirNode::Input { .. } | NirNode::Output { .. } | NirNode::Flatten { .. } => stack.extend(preds[p].iter().copied()),
                other => {
                    return Err(err(
                        file,
                        format!(
                            "Output `{o}` reads node `{name}` ({}), which is no neuron: an Output gives a neuron node's spikes or state (to read `{name}`'s values, end the graph with a readout after it, e.g. an LI node)",
                            other.type_name()
                        ),
                    ))
                }
            }
        }
    }
    Ok(())
}

/// A signal read through an edge the reference delays by a step.
fn delayed_by(mut s: Signal, late: bool) -> Signal {
    if late {
        for c in s.from.values_mut() {
            for row in &mut c.rows {
                for e in row.iter_mut() {
                    e.2 = e.2.saturating_add(1);
                }
            }
        }
    }
    s
}

/// Each population node's depth (steps behind the reference), such that
/// every projection takes at least one step: the depth of `timing` (the
/// most projections on a path of undelayed edges), raised where a loop's
/// own delays fall short of it. `timing` counts no Delay node, so a loop
/// whose Delay sits on its forward part, not on the edge closing it, came
/// out short at its closing projection, and whether it did depended on
/// which node NIR's schedule reaches first (the inputs' names). Each
/// projection p → q whose synapses take at least `d` steps in NIR (Delays
/// and the cycle's late edge) asks depth(q) ≥ depth(p) + 1 − d; the least
/// raise meeting all of them is a longest-path relaxation (Bellman–Ford).
/// A loop still raised after every node had its turn takes fewer steps in
/// NIR than it has projections: refused, naming it and the steps it lacks.
fn settle_depths(
    flat: &FlatGraph,
    timing: &super::schedule::Timing,
    pop_of: &BTreeMap<String, PopIx>,
    inputs: &[(usize, Signal)],
    file: &str,
) -> Result<Vec<i64>> {
    let n = flat.nodes.len();
    // invariant: timing gives every population node a depth
    let mut depth: Vec<i64> =
        (0..n).map(|k| if pop_of.contains_key(&flat.nodes[k].0) { timing.depth[k].expect("a population has a depth") as i64 } else { 0 }).collect();
    // (source, target, the least NIR steps of its synapses)
    let mut need: Vec<(usize, usize, i64)> = Vec::new();
    for (i, x) in inputs {
        for (src, c) in &x.from {
            // (a source that is no population is refused with the projections)
            let Some(src_i) = flat.index(src).filter(|_| pop_of.contains_key(src)) else { continue };
            if let Some(d) = c.rows.iter().flatten().filter(|e| e.1 != 0.0).map(|e| e.2 as i64).min() {
                need.push((src_i, *i, d));
            }
        }
    }
    let mut raised_by: Vec<Option<usize>> = vec![None; n];
    let mut round = 0;
    loop {
        let mut last = None;
        for (k, &(p, q, d)) in need.iter().enumerate() {
            if depth[q] < depth[p] + 1 - d {
                depth[q] = depth[p] + 1 - d;
                raised_by[q] = Some(k);
                last = Some(q);
            }
        }
        let Some(mut q) = last else { return Ok(depth) };
        round += 1;
        if round <= n {
            continue;
        }
        // Still rising after n rounds: q is on a loop of too few steps, or
        // fed by one. n steps back along what raised it land on the loop.
        // (Bellman–Ford's walk back: every node on it was raised; walked without
        // unwrapping all the same, and at most n steps each way.)
        for _ in 0..n {
            match raised_by[q] {
                Some(k) => q = need[k].0,
                None => break,
            }
        }
        let (mut lp, mut steps, mut at) = (vec![q], 0i64, q);
        for _ in 0..n {
            let Some(k) = raised_by[at] else { break };
            let (p, _, d) = need[k];
            steps += d;
            if p == q {
                break;
            }
            lp.push(p);
            at = p;
        }
        lp.reverse();
        // Told from the loop's earliest population in NIR's schedule.
        if let Some(first) = (0..lp.len()).min_by_key(|&k| (timing.depth[lp[k]], k)) {
            lp.rotate_left(first);
        }
        let names: Vec<String> = lp.iter().map(|&k| format!("`{}`", flat.nodes[k].0)).collect();
        return Err(err(
            file,
            format!(
                "the loop through the populations {} (back to `{}`) takes {steps} step(s) in NIR's semantics, which pass a signal through any number of layers within a step; on the chip each of its {} projection(s) takes at least one step: {} more step(s) of Delay on the loop make it one the chip can run",
                names.join(" → "),
                flat.nodes[lp[0]].0,
                lp.len(),
                lp.len() as i64 - steps
            ),
        ));
    }
}

/// The conv2d or pool2d connector for the projection from population
/// `src` into the node `target`, if its one input is one Conv2d, SumPool2d
/// or AvgPool2d node whose one input is `src`, with a geometry the
/// connectors hold (symmetric padding: not 'same' with an even kernel).
/// Anything else (a Conv1d, a pooling followed by a Conv2d, several inputs
/// summed, a Delay) is composed into a connection list.
fn kernel_between(flat: &FlatGraph, sh: &[Option<Vec<usize>>], preds: &[Vec<usize>], target: usize, src: &str) -> Option<Connector> {
    let &[c] = preds[target].as_slice() else { return None };
    let &[s] = preds[c].as_slice() else { return None };
    if flat.nodes[s].0 != src {
        return None;
    }
    let u = |x: usize| u32::try_from(x).ok();
    let out = sh[c].as_deref()?;
    let mut ins = sh[s].clone()?;
    let (out, k, st, pd, dl, conv) = match &flat.nodes[c].1 {
        NirNode::Conv { dims: 2, weight, stride, padding, dilation, groups, .. } => {
            let g = groups.as_ref().map_or(1, |a| a.at(0) as usize).max(1);
            if ins.len() == 2 {
                ins.insert(0, weight.shape[1] * g);
            }
            let k = [weight.shape[2], weight.shape[3]];
            let at = |a: &Option<Array>, d: usize| a.as_ref().map_or(1, |s| s.at(d.min(s.len() - 1)) as usize);
            let dl = [at(dilation, 0), at(dilation, 1)];
            let pd = pads(padding, &k, &dl);
            (out, k, [at(stride, 0), at(stride, 1)], [pd[0], pd[1]], dl, Some((weight.data.clone(), u(g)?)))
        }
        NirNode::Pool { kernel_size, stride, padding, .. } => {
            if ins.len() == 2 {
                ins.insert(0, 1);
            }
            let k = pair(kernel_size);
            let p = match padding {
                Padding::Values(v) => pair(&Array { data: v.clone(), shape: vec![] }),
                Padding::Valid | Padding::Same => [0, 0],
            };
            (out, k, stride.as_ref().map_or(k, pair), p, [1, 1], None)
        }
        _ => return None,
    };
    let three = |v: &[usize]| -> Option<[u32; 3]> {
        (v.len() == 3).then_some(())?;
        Some([u(v[0])?, u(v[1])?, u(v[2])?])
    };
    let two = |v: [usize; 2]| -> Option<[u32; 2]> { Some([u(v[0])?, u(v[1])?]) };
    let (in_shape, out_shape) = (three(&ins)?, three(out)?);
    let (kernel, stride, padding, dilation) = (two(k)?, two(st)?, two(pd)?, two(dl)?);
    // The connector's geometry must give the node's output (an even kernel's 'same' pads unevenly).
    if crate::net::expand::conv_out_shape(in_shape, out_shape[0], kernel, stride, padding, dilation).ok()? != out_shape {
        return None;
    }
    Some(match conv {
        Some((weights, groups)) => Connector::Conv2d(Box::new(Conv2d { in_shape, out_shape, weights, kernel, stride, padding, dilation, groups })),
        None => {
            let average = matches!(flat.nodes[c].1, NirNode::Pool { average: true, .. });
            let scale = if average { 1.0 / (k[0] * k[1]) as f64 } else { 1.0 };
            Connector::Pool2d(Box::new(Pool2d { in_shape, out_shape, kernel, stride, padding, scale }))
        }
    })
}

/// NIR's stateful nodes followed by a Threshold (`I`, `LI`, `CubaLI` →
/// `Threshold`) are one spiking neuron without reset: `fused[t] = Some(s)`
/// for a Threshold `t` whose one input is such a node `s`, and `absorbed[s]`
/// when all of `s`'s outputs go to such Thresholds (else `s` stays a
/// readout of its own, e.g. for an Output). Any other use of a readout's
/// analog value is refused where its signal is asked for.
fn fuse_thresholds(flat: &FlatGraph, preds: &[Vec<usize>]) -> (Vec<Option<usize>>, Vec<bool>) {
    let n = flat.nodes.len();
    let readout = |i: usize| matches!(flat.nodes[i].1, NirNode::I { .. } | NirNode::LI { .. } | NirNode::CubaLI { .. });
    let mut fused = vec![None; n];
    for t in 0..n {
        if let (NirNode::Threshold { .. }, [s]) = (&flat.nodes[t].1, preds[t].as_slice()) {
            if readout(*s) {
                fused[t] = Some(*s);
            }
        }
    }
    let mut absorbed = vec![false; n];
    for s in (0..n).filter(|&s| readout(s)) {
        let succ: Vec<usize> = (0..n).filter(|&j| preds[j].contains(&s)).collect();
        absorbed[s] = !succ.is_empty() && succ.iter().all(|&j| fused[j] == Some(s));
    }
    (fused, absorbed)
}

/// A field with one value per output (or one for all): `n` or 1 values.
fn per_output(name: &str, node: &NirNode, what: &str, a: &Array, n: usize, of: &str, file: &str) -> Result<()> {
    if a.len() != 1 && a.len() != n {
        return Err(err(file, format!("node `{name}` ({}): `{what}` has {} values for its {n} {of} (expected 1 or {n})", node.type_name(), a.len())));
    }
    Ok(())
}

fn vals(a: &Array, n: usize) -> Values {
    if a.data.len() == 1 {
        Values::Scalar(a.data[0])
    } else {
        Values::PerNeuron((0..n).map(|i| a.at(i)).collect())
    }
}

fn nir_neuron(name: &str, node: &NirNode, n: usize, dt: f64, reset: ResetMode, file: &str) -> Result<NirNeuron> {
    let check = |a: &Array, what: &str| -> Result<()> {
        if a.data.len() != 1 && a.data.len() != n {
            return Err(err(file, format!("node `{name}`: `{what}` has {} values for {n} neurons (expected 1 or {n})", a.data.len())));
        }
        if a.data.iter().any(|x| !x.is_finite()) {
            return Err(err(file, format!("node `{name}`: `{what}` is not finite")));
        }
        Ok(())
    };
    let zero = Array::scalar(0.0);
    let one = Array::scalar(1.0);
    let (kind, tau_mem, tau_syn, r, v_leak, w_in, vth, vreset) = match node {
        NirNode::Threshold { threshold } => (NirKind::Threshold, &one, &one, &one, &zero, &one, threshold, &zero),
        NirNode::I { r } => (NirKind::I, &one, &one, r, &zero, &one, &zero, &zero),
        NirNode::IF { r, v_threshold, v_reset } => (NirKind::IF, &one, &one, r, &zero, &one, v_threshold, v_reset.as_ref().unwrap_or(&zero)),
        NirNode::LI { tau, r, v_leak } => (NirKind::LI, tau, &one, r, v_leak, &one, &zero, &zero),
        NirNode::LIF { tau, r, v_leak, v_threshold, v_reset } => (NirKind::LIF, tau, &one, r, v_leak, &one, v_threshold, v_reset.as_ref().unwrap_or(&zero)),
        NirNode::CubaLI { tau_syn, tau_mem, r, v_leak, w_in } => (NirKind::CubaLI, tau_mem, tau_syn, r, v_leak, w_in.as_ref().unwrap_or(&one), &zero, &zero),
        NirNode::CubaLIF { tau_syn, tau_mem, r, v_leak, w_in, v_threshold, v_reset } => {
            (NirKind::CubaLIF, tau_mem, tau_syn, r, v_leak, w_in.as_ref().unwrap_or(&one), v_threshold, v_reset.as_ref().unwrap_or(&zero))
        }
        other => return Err(err(file, format!("node `{name}`: {} is not a neuron", other.type_name()))),
    };
    for (a, w) in [(tau_mem, "tau"), (tau_syn, "tau_syn"), (r, "r"), (v_leak, "v_leak"), (w_in, "w_in"), (vth, "v_threshold"), (vreset, "v_reset")] {
        check(a, w)?;
    }
    if matches!(kind, NirKind::LI | NirKind::LIF | NirKind::CubaLI | NirKind::CubaLIF)
        && (tau_mem.data.iter().any(|&t| t <= 0.0) || tau_syn.data.iter().any(|&t| t <= 0.0))
    {
        return Err(err(file, format!("node `{name}`: time constants must be positive")));
    }
    Ok(NirNeuron {
        kind,
        tau_mem: vals(tau_mem, n),
        tau_syn: vals(tau_syn, n),
        r: vals(r, n),
        v_leak: vals(v_leak, n),
        w_in: vals(w_in, n),
        v_threshold: vals(vth, n),
        v_reset: vals(vreset, n),
        reset,
        dt_s: dt,
        bias: Values::Scalar(0.0),
        fire: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(v: &[f64]) -> Array {
        Array { data: v.to_vec(), shape: vec![v.len()] }
    }

    fn li() -> NirNode {
        NirNode::LI { tau: Array::scalar(0.01), r: Array::scalar(10.0), v_leak: Array::scalar(0.0) }
    }

    fn graph(nodes: Vec<(&str, NirNode)>, edges: &[(&str, &str)]) -> NirGraph {
        NirGraph {
            nodes: nodes.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            edges: edges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            version: None,
            metadata: vec![("sample_dt".into(), 1e-3)],
        }
    }

    /// A map that reads nothing is refused as such (it was said to have an
    /// input of the wrong size); a neuron without input is kept.
    #[test]
    fn a_map_without_input_is_refused_as_such() {
        let aff = NirNode::Affine { weight: Array { data: vec![1.0; 12], shape: vec![4, 3] }, bias: arr(&[1.0, 2.0, 3.0, 4.0]) };
        let lif4 = NirNode::LIF { tau: arr(&[0.01; 4]), r: arr(&[1.0; 4]), v_leak: arr(&[2.0; 4]), v_threshold: arr(&[1.0; 4]), v_reset: None };
        let g = graph(vec![("fc", aff), ("lif", lif4.clone()), ("o", NirNode::Output { shape: arr(&[4.0]) })], &[("fc", "lif"), ("lif", "o")]);
        let e = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
        assert!(e.contains("node `fc` (Affine) has no input"), "{e}");
        let alone = graph(vec![("in", NirNode::Input { shape: arr(&[4.0]) }), ("lif", lif4), ("o", NirNode::Output { shape: arr(&[4.0]) })], &[("lif", "o")]);
        if let Err(e) = to_network(&alone, "g", "g.nir", &NirOptions::default()) {
            panic!("{e}");
        }
    }

    /// An Output reads a neuron (through a Flatten, or a nested graph's
    /// identities); reading an Affine of one, or a Delay, is refused: it
    /// was dropped, and the neuron's own spikes written in its place.
    #[test]
    fn an_output_reads_a_neuron() {
        let input = || NirNode::Input { shape: arr(&[2.0]) };
        let lin = || NirNode::Linear { weight: Array { data: vec![1.0, 0.5, -0.5, 1.0], shape: vec![2, 2] } };
        let aff = || NirNode::Affine { weight: Array { data: vec![1.0, 0.5, -0.5, 1.0], shape: vec![2, 2] }, bias: arr(&[0.1, 0.2]) };
        let out = || NirNode::Output { shape: arr(&[2.0]) };
        let ok = graph(vec![("in", input()), ("w", lin()), ("li", li()), ("out", out())], &[("in", "w"), ("w", "li"), ("li", "out")]);
        assert!(to_network(&ok, "g", "g.nir", &NirOptions::default()).is_ok());
        let flat = graph(
            vec![("in", input()), ("w", lin()), ("li", li()), ("f", NirNode::Flatten { start_dim: None, end_dim: None, input_type: None }), ("out", out())],
            &[("in", "w"), ("w", "li"), ("li", "f"), ("f", "out")],
        );
        assert!(to_network(&flat, "g", "g.nir", &NirOptions::default()).is_ok());
        for (last, what) in [(aff(), "Affine"), (NirNode::Delay { delay: arr(&[0.002]) }, "Delay")] {
            let g = graph(
                vec![("in", input()), ("w", lin()), ("li", li()), ("fc2", last), ("out", out())],
                &[("in", "w"), ("w", "li"), ("li", "fc2"), ("fc2", "out")],
            );
            let e = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
            assert!(e.contains(&format!("Output `out` reads node `fc2` ({what}), which is no neuron")), "{e}");
        }
    }

    /// The network is named after the file: a file name no report could
    /// title (the pictures are XML) is refused, naming the file.
    #[test]
    fn a_file_name_that_cannot_name_the_network_is_refused() {
        let input = || NirNode::Input { shape: arr(&[2.0]) };
        let out = || NirNode::Output { shape: arr(&[2.0]) };
        let g = graph(vec![("in", input()), ("li", li()), ("out", out())], &[("in", "li"), ("li", "out")]);
        let e = to_network(&g, "g\u{FFFF}", "g\u{FFFF}.nir", &NirOptions::default()).unwrap_err().to_string();
        assert!(e.contains("the network's name (the file's, without .nir)") && e.contains("noncharacters"), "{e}");
        to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap();
    }

    #[test]
    fn a_readout_into_a_threshold_is_a_spiking_neuron_and_other_analog_uses_are_refused() {
        let input = || NirNode::Input { shape: arr(&[2.0]) };
        let lin = || NirNode::Linear { weight: Array { data: vec![1.0, 0.5, -0.5, 1.0], shape: vec![2, 2] } };
        let th = || NirNode::Threshold { threshold: Array::scalar(0.3) };
        let out = || NirNode::Output { shape: arr(&[2.0]) };
        // LI → Threshold: one population, named after the Threshold, spiking at 0.3 with no reset.
        let g =
            graph(vec![("in", input()), ("w", lin()), ("li", li()), ("th", th()), ("out", out())], &[("in", "w"), ("w", "li"), ("li", "th"), ("th", "out")]);
        let (net, _) = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap();
        assert!(net.find("li").is_none());
        let th_pop = net.pop(net.find("th").unwrap());
        let Model::Neuron(nn) = &th_pop.model else { panic!("th is a neuron") };
        let nn = NirNeuron::of(nn).unwrap();
        assert!(nn.fire && nn.kind == NirKind::LI && nn.v_threshold.get(0) == 0.3 && th_pop.record_spikes);
        assert_eq!(net.projections().count(), 1);
        // … and also read out: both stay.
        let g = graph(
            vec![("in", input()), ("w", lin()), ("li", li()), ("th", th()), ("out", out()), ("out_v", out())],
            &[("in", "w"), ("w", "li"), ("li", "th"), ("th", "out"), ("li", "out_v")],
        );
        let (net, _) = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap();
        assert!(net.find("li").is_some() && net.find("th").is_some());
        // The readout's analog value into a linear map, or summed with other input into a Threshold: refused, naming it.
        let bad = [
            graph(
                vec![
                    ("in", input()),
                    ("w", lin()),
                    ("li", li()),
                    ("w2", lin()),
                    (
                        "lif",
                        NirNode::LIF {
                            tau: Array::scalar(0.01),
                            r: Array::scalar(1.0),
                            v_leak: Array::scalar(0.0),
                            v_threshold: Array::scalar(1.0),
                            v_reset: None,
                        },
                    ),
                    ("out", out()),
                ],
                &[("in", "w"), ("w", "li"), ("li", "w2"), ("w2", "lif"), ("lif", "out")],
            ),
            graph(
                vec![("in", input()), ("w", lin()), ("li", li()), ("th", th()), ("out", out())],
                &[("in", "w"), ("w", "li"), ("li", "th"), ("w", "th"), ("th", "out")],
            ),
        ];
        for g in bad {
            let e = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
            assert!(e.contains("`li` (LI) is a non-spiking readout") && e.contains("the one input of a Threshold"), "{e}");
        }
    }

    /// A 2-D Input of shape [2, 2] into a Linear of 4 inputs was flattened
    /// without a word (`nir.read` refuses it: NIR's Affine and Linear read a
    /// vector): refused naming the node and the shapes. Leading dimensions
    /// of 1 are a vector still, and a Flatten before it makes it one.
    #[test]
    fn a_dense_node_reads_a_vector() {
        let lif =
            || NirNode::LIF { tau: Array::scalar(0.01), r: Array::scalar(10.0), v_leak: Array::scalar(0.0), v_threshold: Array::scalar(1.0), v_reset: None };
        let lin = || NirNode::Linear { weight: Array { data: vec![0.5; 12], shape: vec![3, 4] } };
        let chain = |shape: &[f64], flatten: bool| {
            let mut nodes = vec![("in", NirNode::Input { shape: arr(shape) }), ("m", lin()), ("lif", lif()), ("out", NirNode::Output { shape: arr(&[3.0]) })];
            let mut edges = vec![("in", "m"), ("m", "lif"), ("lif", "out")];
            if flatten {
                nodes.push(("f", NirNode::Flatten { start_dim: Some(Array::scalar(0.0)), end_dim: Some(Array::scalar(-1.0)), input_type: None }));
                edges[0] = ("in", "f");
                edges.push(("f", "m"));
            }
            graph(nodes, &edges)
        };
        for shape in [&[2.0, 2.0][..], &[4.0, 1.0], &[1.0, 2.0, 2.0]] {
            let e = to_network(&chain(shape, false), "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
            let want = format!(
                "node `m` (Linear): its input has shape {:?}, but its weight (3 × 4) reads a vector of 4 elements; put a Flatten node before it",
                arr(shape).ints()
            );
            assert!(e.contains(&want), "lacks `{want}`: {e}");
            to_network(&chain(shape, true), "g", "g.nir", &NirOptions::default()).unwrap();
        }
        for shape in [&[4.0][..], &[1.0, 4.0], &[1.0, 1.0, 4.0]] {
            to_network(&chain(shape, false), "g", "g.nir", &NirOptions::default()).unwrap();
        }
    }

    /// Fields shorter than their node needs, or empty, were read past their
    /// end (an index panic); groups that do not divide the output channels
    /// divided by zero; LIF parameters of different lengths panicked while
    /// the dt was read from them (found by a helper's hostile NIR files).
    /// Each is refused naming the node, the field, its length and the one wanted.
    #[test]
    fn fields_of_the_wrong_length_are_refused_naming_the_node() {
        let lif = |n: usize, r: usize| NirNode::LIF {
            tau: Array { data: vec![0.01; n], shape: vec![n] },
            r: Array { data: vec![10.0; r], shape: vec![r] },
            v_leak: Array::scalar(0.0),
            v_threshold: Array::scalar(1.0),
            v_reset: None,
        };
        let affine = |bias: &[f64]| NirNode::Affine { weight: Array { data: vec![1.0; 12], shape: vec![4, 3] }, bias: arr(bias) };
        let out = |n: f64| NirNode::Output { shape: arr(&[n]) };
        // in(3) → fc(4) → m → lif(4) → out, with `m` listed first (before its input).
        let through = |m: NirNode| {
            graph(
                vec![("m", m), ("in", NirNode::Input { shape: arr(&[3.0]) }), ("fc", affine(&[0.0; 4])), ("lif", lif(4, 1)), ("out", out(4.0))],
                &[("in", "fc"), ("fc", "m"), ("m", "lif"), ("lif", "out")],
            )
        };
        let conv = |co: usize, groups: &[f64], stride: Option<&[f64]>, bias: Option<&[f64]>| NirNode::Conv {
            dims: 2,
            weight: Array { data: vec![1.0; co * 9], shape: vec![co, 1, 3, 3] },
            bias: bias.map(arr),
            stride: stride.map(arr),
            padding: Padding::Valid,
            dilation: None,
            groups: Some(arr(groups)),
            input_shape: None,
        };
        let image = |m: NirNode, n: usize| {
            graph(
                vec![("in", NirNode::Input { shape: arr(&[3.0, 6.0, 6.0]) }), ("m", m), ("lif", lif(n, 1)), ("out", out(n as f64))],
                &[("in", "m"), ("m", "lif"), ("lif", "out")],
            )
        };
        let flat = |start: &[f64]| NirNode::Flatten { start_dim: Some(arr(start)), end_dim: None, input_type: None };
        let pool = |k: &[f64]| NirNode::Pool { average: false, kernel_size: arr(k), stride: None, padding: Padding::Valid };
        let rows: Vec<(NirGraph, &[&str])> = vec![
            (
                graph(
                    vec![("in", NirNode::Input { shape: arr(&[3.0]) }), ("m", affine(&[0.0, 0.0])), ("lif", lif(4, 1)), ("out", out(4.0))],
                    &[("in", "m"), ("m", "lif"), ("lif", "out")],
                ),
                &["node `m` (Affine): `bias` has 2 values for its 4 outputs (expected 1 or 4)"],
            ),
            (
                graph(
                    vec![("in", NirNode::Input { shape: arr(&[3.0]) }), ("m", affine(&[])), ("lif", lif(4, 1)), ("out", out(4.0))],
                    &[("in", "m"), ("m", "lif"), ("lif", "out")],
                ),
                &["`bias` has 0 values for its 4 outputs"],
            ),
            (through(NirNode::Scale { scale: arr(&[1.0, 2.0]) }), &["node `m` (Scale): `scale` has 2 values for its 4 elements (expected 1 or 4)"]),
            (through(NirNode::Delay { delay: arr(&[0.001, 0.002]) }), &["node `m` (Delay): `delay` has 2 values for its 4 elements"]),
            (through(NirNode::Delay { delay: arr(&[]) }), &["node `m` (Delay): `delay` has 0 values"]),
            (image(conv(2, &[3.0], None, None), 32), &["node `m`: 2 output channels do not split into 3 groups"]),
            (image(conv(0, &[3.0], None, None), 1), &["node `m` (Conv2d) has shape [0, 4, 4]: a dimension of 0"]),
            (image(conv(3, &[], None, None), 48), &["node `m` (Conv2d): `groups` has 0 values, expected 1"]),
            (image(conv(3, &[3.0], Some(&[]), None), 48), &["node `m` (Conv2d): `stride` has 0 values, expected 1 or 2"]),
            (image(conv(3, &[3.0], Some(&[1.0, 1.0, 1.0]), None), 48), &["`stride` has 3 values, expected 1 or 2"]),
            (image(conv(3, &[3.0], None, Some(&[])), 48), &["node `m` (Conv2d): `bias` has 0 values for its 3 output channels"]),
            (image(flat(&[]), 108), &["node `m` (Flatten): `start_dim` has 0 values, expected 1"]),
            // Dims far off the input's axes were clamped into them, and start after end made no Flatten.
            (image(flat(&[7.0]), 108), &["node `m` (Flatten): start_dim 7, end_dim -1 on an input of shape [3, 6, 6]", "a dim must lie in -3..=2"]),
            (
                image(NirNode::Flatten { start_dim: Some(arr(&[2.0])), end_dim: Some(arr(&[0.0])), input_type: None }, 108),
                &["node `m` (Flatten): start_dim 2, end_dim 0", "start_dim comes after end_dim"],
            ),
            (image(pool(&[]), 27), &["node `m` (SumPool2d): `kernel_size` has 0 values, expected 1 or 2"]),
            (
                graph(vec![("in", NirNode::Input { shape: arr(&[4.0]) }), ("lif", lif(4, 3)), ("out", out(4.0))], &[("in", "lif"), ("lif", "out")]),
                &["node `lif`: `r` has 3 values for 4 neurons"],
            ),
            // τ of 3 values, r of 4, a 4-wide input: τ is the odd one out (r was blamed, for 3 neurons).
            (
                graph(vec![("in", NirNode::Input { shape: arr(&[4.0]) }), ("lif", lif(3, 4)), ("out", out(4.0))], &[("in", "lif"), ("lif", "out")]),
                &["node `lif`: `tau` has 3 values for 4 neurons (expected 1 or 4)"],
            ),
            // 0 groups ran as 1.
            (image(conv(3, &[0.0], None, None), 48), &["node `m` (Conv2d): `groups` is 0: groups must be ≥ 1"]),
            // An input_shape, or an Output's shape, that disagrees with what the node reads was ignored.
            (
                image(
                    NirNode::Conv {
                        dims: 2,
                        weight: Array { data: vec![1.0; 27], shape: vec![1, 3, 3, 3] },
                        bias: None,
                        stride: None,
                        padding: Padding::Valid,
                        dilation: None,
                        groups: None,
                        input_shape: Some(arr(&[2.0, 2.0])),
                    },
                    16,
                ),
                &["node `m` (Conv2d): `input_shape` is [2, 2] but its input gives [3, 6, 6]"],
            ),
            (
                graph(vec![("in", NirNode::Input { shape: arr(&[4.0]) }), ("lif", lif(4, 1)), ("out", out(3.0))], &[("in", "lif"), ("lif", "out")]),
                &["node `out` (Output) has shape [3] but its input gives [4]"],
            ),
        ];
        for (mut g, want) in rows {
            // The dt is read from the LIF's τ/r when the file gives none.
            g.metadata.clear();
            let e = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
            for w in want {
                assert!(e.contains(w), "lacks `{w}`: {e}");
            }
        }
        // The same chain with fields of the right length compiles, `m` listed before its input or not.
        for m in [NirNode::Scale { scale: arr(&[1.0, 2.0, 3.0, 4.0]) }, NirNode::Delay { delay: arr(&[0.001; 4]) }, NirNode::Delay { delay: arr(&[0.001]) }] {
            to_network(&through(m), "g", "g.nir", &NirOptions::default()).unwrap();
        }
    }

    /// Found by corrupting one byte of lif_rockpool.nir: an Input's shape of
    /// 2^32 + 1 (or 7.2e16) sized an array of 32 GiB and aborted. Sizes and
    /// geometry that are not whole numbers in range are refused naming the
    /// node, the field and the limit, before anything is sized from them.
    #[test]
    fn absurd_shapes_and_geometry_are_refused_naming_the_node() {
        let lif =
            || NirNode::LIF { tau: Array::scalar(0.01), r: Array::scalar(1.0), v_leak: Array::scalar(0.0), v_threshold: Array::scalar(1.0), v_reset: None };
        let out = || NirNode::Output { shape: arr(&[1.0]) };
        let chain = |shape: &[f64], mid: Option<NirNode>| match mid {
            Some(m) => graph(
                vec![("in", NirNode::Input { shape: arr(shape) }), ("m", m), ("lif", lif()), ("out", out())],
                &[("in", "m"), ("m", "lif"), ("lif", "out")],
            ),
            None => graph(vec![("in", NirNode::Input { shape: arr(shape) }), ("lif", lif()), ("out", out())], &[("in", "lif"), ("lif", "out")]),
        };
        let pool = |stride: f64| NirNode::Pool { average: false, kernel_size: arr(&[2.0]), stride: Some(arr(&[stride])), padding: Padding::Valid };
        let rows: Vec<(NirGraph, &[&str])> = vec![
            (chain(&[4294967297.0], None), &["node `in` (Input)", "`shape` is [4294967297.0]", "0..=4294967295"]),
            (chain(&[7.205759403792794e16], None), &["node `in` (Input)", "7.205759403792794e16"]),
            (chain(&[-1.0], None), &["node `in` (Input)", "[-1.0]"]),
            (chain(&[f64::NAN], None), &["node `in` (Input)", "NaN"]),
            (chain(&[2.5], None), &["node `in` (Input)", "2.5"]),
            // Empty: it was one neuron.
            (chain(&[0.0], None), &["node `in` (Input) has shape [0]: a dimension of 0", "≥ 1"]),
            (chain(&[3.0, 0.0], None), &["node `in` (Input) has shape [3, 0]: a dimension of 0"]),
            (chain(&[65536.0, 65536.0], None), &["node `in` (Input) has shape [65536, 65536]", "more than 4294967295 elements"]),
            (chain(&[4294967295.0], None), &["node `in` (Input) has shape [4294967295]", "GiB", "available"]),
            (chain(&[1.0, 4.0, 4.0], Some(pool(f64::NAN))), &["node `m` (", "`stride` is [NaN]"]),
            (chain(&[1.0, 4.0, 4.0], Some(pool(1e300))), &["node `m` (", "1e300", "0..=1048576"]),
            (chain(&[1.0], Some(NirNode::Delay { delay: arr(&[f64::NAN]) })), &["node `m` (Delay)", "`delay` is [NaN]"]),
            (chain(&[1.0], Some(NirNode::Delay { delay: arr(&[-1.0]) })), &["node `m` (Delay)", "≥ 0"]),
        ];
        for (g, want) in rows {
            let e = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
            assert!(e.starts_with("g.nir: "), "{e}");
            for w in want {
                assert!(e.contains(w), "lacks `{w}`: {e}");
            }
        }
        // A node name that would break the outputs naming its population.
        let g = graph(vec![("in", NirNode::Input { shape: arr(&[1.0]) }), ("l:1", lif()), ("out", out())], &[("in", "l:1"), ("l:1", "out")]);
        let e = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
        assert!(e.contains("node `l:1` (LIF)") && e.contains("holds ':'"), "{e}");
        // A step (here the file's sample_dt) whose runs' times overflow, and
        // ones that are no step (they were dropped and the default used).
        for (dt, shown) in [(1e300, "1e300"), (-1.0, "-1"), (0.0, "0"), (f64::INFINITY, "inf")] {
            let mut g = chain(&[1.0], None);
            g.metadata = vec![("sample_dt".into(), dt)];
            let e = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
            assert!(e.contains(&format!("dt {shown} s (the file's sample_dt) is outside 1e-9..=10 s")), "{e}");
        }
        // A file of another NIR major version is read with a warning.
        for (v, warned) in [(Some("2.0.0"), true), (Some("1.0.8"), false), (Some("1.1"), false), (Some("0.2.0"), false), (None, false)] {
            let mut g = chain(&[1.0], None);
            g.version = v.map(String::from);
            let (_, c) = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap();
            assert_eq!(c.warnings.iter().any(|w| w.contains("NIR version 2.0.0")), warned, "{v:?}: {:?}", c.warnings);
        }
        // NaN: no number at all (the reader gives it for text or a list), which --dt overrides.
        let mut g = chain(&[1.0], None);
        g.metadata = vec![("sample_dt".into(), f64::NAN)];
        let e = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
        assert!(e.contains("the file's sample_dt is not a number") && e.contains("--dt"), "{e}");
        assert!(to_network(&g, "g", "g.nir", &NirOptions { dt_s: Some(1e-3), ..NirOptions::default() }).is_ok());
        // A scalar (rank-0) Input is one neuron.
        let (net, _) = to_network(&chain(&[], None), "g", "g.nir", &NirOptions::default()).unwrap();
        assert_eq!(net.pop(net.find("in").unwrap()).size, 1);
        // A Delay past the longest any core supports is refused at its node, with its value
        // (1e300 s saturated, and the projection's error then said 2^32 steps).
        for (d, shown) in [(1e300, "delay 1e300 s is 1e303 timesteps"), (65.536, "delay 65.536 s is 65536 timesteps")] {
            let e = to_network(&chain(&[1.0], Some(NirNode::Delay { delay: arr(&[d]) })), "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
            assert!(e.contains("node `m` (Delay)") && e.contains(shown) && e.contains("(65535)"), "{e}");
        }
        let (net, _) = to_network(&chain(&[1.0], Some(NirNode::Delay { delay: arr(&[65.535]) })), "g", "g.nir", &NirOptions::default()).unwrap();
        assert_eq!(net.projections().count(), 1);
    }

    /// Padding 'same' as PyTorch's: an even kernel pads d(k−1) in all, the
    /// odd one at the end (its output was one short of its input), a stride
    /// is refused (PyTorch has 'same' for stride 1 only), and a pooling's
    /// 'same', which PyTorch does not have, is refused (it was read as 0).
    #[test]
    fn padding_same_is_pytorchs() {
        let lif =
            || NirNode::LIF { tau: Array::scalar(0.01), r: Array::scalar(1.0), v_leak: Array::scalar(0.0), v_threshold: Array::scalar(1.0), v_reset: None };
        let chain = |m: NirNode| {
            graph(
                vec![("in", NirNode::Input { shape: arr(&[1.0, 1.0, 4.0]) }), ("m", m), ("lif", lif()), ("out", NirNode::Output { shape: arr(&[4.0]) })],
                &[("in", "m"), ("m", "lif"), ("lif", "out")],
            )
        };
        let conv = |stride: Option<&[f64]>| NirNode::Conv {
            dims: 2,
            weight: Array { data: vec![1.0, 2.0], shape: vec![1, 1, 1, 2] },
            bias: None,
            stride: stride.map(arr),
            padding: Padding::Same,
            dilation: None,
            groups: None,
            input_shape: None,
        };
        let (net, _) = to_network(&chain(conv(None)), "g", "g.nir", &NirOptions::default()).unwrap();
        let (_, _, _, p) = net.projections().next().unwrap();
        let Connector::FromList(l) = &p.connector else { panic!("{:?}", p.connector) };
        let mut got: Vec<(u32, u32, f64)> = (0..l.len()).map(|k| (l.post[k], l.pre[k], l.weight.as_ref().unwrap()[k])).collect();
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        // y[x] = 1·in[x] + 2·in[x + 1], in[4] being the trailing pad.
        assert_eq!(got, [(0, 0, 1.0), (0, 1, 2.0), (1, 1, 1.0), (1, 2, 2.0), (2, 2, 1.0), (2, 3, 2.0), (3, 3, 1.0)]);
        let e = to_network(&chain(conv(Some(&[2.0]))), "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
        assert!(e.contains("node `m`: padding 'same' with stride [2, 2]: PyTorch defines 'same' for stride 1 only"), "{e}");
        let pool = NirNode::Pool { average: false, kernel_size: arr(&[1.0]), stride: None, padding: Padding::Same };
        let e = to_network(&chain(pool), "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
        assert!(e.contains("node `m`: pooling with padding 'same'"), "{e}");
    }

    /// NIR passes a signal through any number of layers within a step, a
    /// cycle's closing edge waiting one. in → a → b plus in → b: b runs two
    /// steps behind, so in → b takes two (it took one and b, needing both
    /// inputs at once, never fired). a ↔ b: NIR goes round within a step,
    /// the chip's two projections take two: refused naming the loop and the
    /// delay it would need; a Delay of one step on it makes it run.
    #[test]
    fn skips_take_their_depth_and_a_loop_of_two_populations_is_refused() {
        let one = || arr(&[1.0]);
        let lif =
            || NirNode::LIF { tau: Array::scalar(1e-3), r: Array::scalar(1.0), v_leak: Array::scalar(0.0), v_threshold: Array::scalar(0.5), v_reset: None };
        let lin = || NirNode::Linear { weight: Array { data: vec![1.0], shape: vec![1, 1] } };
        let delays = |net: &Network| -> Vec<(String, Option<f64>)> {
            let mut v: Vec<(String, Option<f64>)> = net
                .projections()
                .map(|(_, _, _, p)| match &p.connector {
                    Connector::FromList(l) => (p.label.clone(), l.delay.as_ref().map(|d| d[0])),
                    _ => (p.label.clone(), p.delay_ms),
                })
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        let skip = graph(
            vec![
                ("in", NirNode::Input { shape: one() }),
                ("wa", lin()),
                ("a", lif()),
                ("wab", lin()),
                ("ws", lin()),
                ("b", lif()),
                ("out", NirNode::Output { shape: one() }),
            ],
            &[("in", "wa"), ("wa", "a"), ("a", "wab"), ("wab", "b"), ("in", "ws"), ("ws", "b"), ("b", "out")],
        );
        let (net, _) = to_network(&skip, "g", "g.nir", &NirOptions::default()).unwrap();
        assert_eq!(delays(&net), [("a→b".into(), Some(1.0)), ("in→a".into(), Some(1.0)), ("in→b".into(), Some(2.0))]);
        let looped = |back: Vec<(&'static str, NirNode)>, edges: &[(&str, &str)]| {
            let mut nodes = vec![
                ("in", NirNode::Input { shape: one() }),
                ("wi", lin()),
                ("a", lif()),
                ("wab", lin()),
                ("b", lif()),
                ("out", NirNode::Output { shape: one() }),
            ];
            nodes.extend(back);
            let mut e = vec![("in", "wi"), ("wi", "a"), ("a", "wab"), ("wab", "b"), ("b", "out")];
            e.extend_from_slice(edges);
            graph(nodes, &e)
        };
        let e = to_network(&looped(vec![("wba", lin())], &[("b", "wba"), ("wba", "a")]), "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
        for want in
            ["the loop through the populations `a` → `b` (back to `a`) takes 1 step(s)", "each of its 2 projection(s)", "1 more step(s) of Delay on the loop"]
        {
            assert!(e.contains(want), "lacks `{want}`: {e}");
        }
        let with_delay = looped(vec![("wba", lin()), ("d", NirNode::Delay { delay: arr(&[1e-3]) })], &[("b", "wba"), ("wba", "d"), ("d", "a")]);
        let (net, _) = to_network(&with_delay, "g", "g.nir", &NirOptions::default()).unwrap();
        assert_eq!(delays(&net), [("a→b".into(), Some(1.0)), ("b→a".into(), Some(1.0)), ("in→a".into(), Some(1.0))]);
        // The Delay on the loop's forward part (a → b), the closing edge b → a
        // without one: NIR takes 3 + 1 steps round the loop, enough for two
        // projections (it was refused as "would need a delay of 0 steps").
        let forward = graph(
            vec![
                ("in", NirNode::Input { shape: one() }),
                ("wi", lin()),
                ("a", lif()),
                ("wab", lin()),
                ("d", NirNode::Delay { delay: arr(&[3e-3]) }),
                ("b", lif()),
                ("wba", lin()),
                ("out", NirNode::Output { shape: one() }),
            ],
            &[("in", "wi"), ("wi", "a"), ("a", "wab"), ("wab", "d"), ("d", "b"), ("b", "wba"), ("wba", "a"), ("a", "out")],
        );
        let (net, choice) = to_network(&forward, "g", "g.nir", &NirOptions::default()).unwrap();
        assert!(choice.warnings.iter().any(|w| w.contains("`a` by 1") && w.contains("`nerve export nir`")), "{:?}", choice.warnings);
        // a runs two steps behind (in → a: 2), b too: a → b takes NIR's 3, b → a one.
        assert_eq!(delays(&net), [("a→b".into(), Some(3.0)), ("b→a".into(), Some(1.0)), ("in→a".into(), Some(2.0))]);
        // A Delay of 1 step on a loop of three projections: still one short.
        let three = graph(
            vec![
                ("in", NirNode::Input { shape: one() }),
                ("wi", lin()),
                ("a", lif()),
                ("wab", lin()),
                ("d", NirNode::Delay { delay: arr(&[1e-3]) }),
                ("b", lif()),
                ("wbc", lin()),
                ("c", lif()),
                ("wca", lin()),
                ("out", NirNode::Output { shape: one() }),
            ],
            &[("in", "wi"), ("wi", "a"), ("a", "wab"), ("wab", "d"), ("d", "b"), ("b", "wbc"), ("wbc", "c"), ("c", "wca"), ("wca", "a"), ("a", "out")],
        );
        let e = to_network(&three, "g", "g.nir", &NirOptions::default()).unwrap_err().to_string();
        assert!(e.contains("takes 2 step(s)") && e.contains("each of its 3 projection(s)") && e.contains("1 more step(s) of Delay"), "{e}");
        for p in ["`a`", "`b`", "`c`"] {
            assert!(e.contains(p), "lacks {p}: {e}");
        }
    }

    /// An integrator's v has no bound; its fixed point clamps it without a
    /// word (a spike counter stopped at 512, the reference at 1,047): the
    /// compile says so. A leaky readout settles, and is not warned about.
    #[test]
    fn an_integrators_saturation_is_said() {
        let n = || arr(&[2.0]);
        let readout = |node: NirNode| {
            graph(
                vec![
                    ("in", NirNode::Input { shape: n() }),
                    ("w", NirNode::Linear { weight: Array { data: vec![1.0; 4], shape: vec![2, 2] } }),
                    ("i", node),
                    ("out", NirNode::Output { shape: n() }),
                ],
                &[("in", "w"), ("w", "i"), ("i", "out")],
            )
        };
        let warnings = |g: &NirGraph| {
            let (net, _) = to_network(g, "g", "g.nir", &NirOptions::default()).unwrap();
            crate::compile::compile(&nerve_isa::arch::Arch::builtin("spinnaker").unwrap(), &net, &Default::default(), &mut |_| {}).unwrap().report.warnings
        };
        let ws = warnings(&readout(NirNode::I { r: Array::scalar(1000.0) }));
        assert!(
            ws.len() == 1
                && ws[0].starts_with("population `i` (nir I): an integrator has no leak")
                && ws[0].contains("holds v within ±")
                && ws[0].contains(" steps, and beyond it"),
            "{ws:?}"
        );
        let li = NirNode::LI { tau: Array::scalar(1e-2), r: Array::scalar(1.0), v_leak: Array::scalar(0.0) };
        assert!(warnings(&readout(li)).is_empty());
    }

    /// A factor or bias no fixed point holds names its value and the limit
    /// (r = 1e300 said "the input coefficient is out of the fixed-point
    /// range"; an infinite bias "need x's LSB at 2^inf").
    #[test]
    fn values_past_the_fixed_point_are_named() {
        let compile_err = |node: NirNode, bias: f64| {
            let g = graph(
                vec![
                    ("in", NirNode::Input { shape: arr(&[1.0]) }),
                    ("w", NirNode::Affine { weight: Array { data: vec![1.0], shape: vec![1, 1] }, bias: arr(&[bias]) }),
                    ("n", node),
                    ("out", NirNode::Output { shape: arr(&[1.0]) }),
                ],
                &[("in", "w"), ("w", "n"), ("n", "out")],
            );
            let (net, _) = to_network(&g, "g", "g.nir", &NirOptions::default()).unwrap();
            crate::compile::compile(&nerve_isa::arch::Arch::builtin("spinnaker").unwrap(), &net, &Default::default(), &mut |_| {})
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        let lif =
            NirNode::LIF { tau: Array::scalar(1e-2), r: Array::scalar(1e300), v_leak: Array::scalar(0.0), v_threshold: Array::scalar(1.0), v_reset: None };
        let e = compile_err(lif, 0.0);
        assert!(e.contains("the input coefficient is out of the fixed-point range: its largest value, ") && e.contains("(2^29)"), "{e}");
        let e = compile_err(NirNode::I { r: Array::scalar(1.0) }, f64::INFINITY);
        assert!(e.contains("are not all finite numbers") && !e.contains("2^inf"), "{e}");
    }

    #[test]
    fn conv_geometry_errors_name_the_node() {
        let w = Array { data: vec![1.0; 2 * 3 * 3], shape: vec![2, 1, 3, 3] };
        let ok = conv_out("c", "f.nir", 2, &w, &None, &Padding::Valid, &None, &[1, 5, 5]).unwrap();
        assert_eq!(ok, vec![2, 3, 3]);
        for (stride, dil, ins) in [(Some(arr(&[0.0])), None, [1, 5, 5]), (None, Some(arr(&[0.0])), [1, 5, 5]), (None, None, [1, 2, 2])] {
            let e = conv_out("c", "f.nir", 2, &w, &stride, &Padding::Valid, &dil, &ins).unwrap_err().to_string();
            assert!(e.contains("node `c`"), "{e}");
        }
        let w0 = Array { data: vec![], shape: vec![2, 1, 0, 3] };
        let e = conv_out("z", "f.nir", 2, &w0, &None, &Padding::Same, &None, &[1, 5, 5]).unwrap_err().to_string();
        assert!(e.contains("node `z`") && e.contains("≥ 1"), "{e}");
    }
}
