//! A network file that continues a run (`nerve run --save-network`): the
//! original JSON with each learning projection's synapses as the run left
//! them (a `from_list` of pre, post, weight, delay, its `plasticity` removed,
//! so that it runs static), every neuron's state as its initial value, and
//! spike-source arrays shifted to start where the run ended, and its
//! `duration_ms` less the time run. What the file cannot hold is said in the
//! returned notes (spikes in flight, Poisson draws, learning traces,
//! refractory counters, `--input` spikes, a duration already run through).

use serde_json::{json, Map, Value};
use std::path::Path;

use nerve_isa::image::{CoreKind, Image, ParamArray};
use nerve_isa::kernel::Kernel;

use crate::error::{CompileError, Result};
use crate::lower::ProjQuant;
use crate::net::model::{Connector, Model, Network, ProjIx, SignMode};

/// A learning projection's synapses after a run: its index in the
/// network's `projections` (electrical ones counted: `Network::position_of`) and (pre, post, weight in its units, delay in ms).
pub struct SavedProjection {
    pub index: usize,
    pub conns: Vec<(u32, u32, f64, f64)>,
}

/// What a saved network is made of.
pub struct Saved<'a> {
    /// The network as read from `text`.
    pub net: &'a Network,
    /// The network file's text (JSON).
    pub text: &'a str,
    pub learned: &'a [SavedProjection],
    /// Per population (network order): its state variables' values now, physical units.
    pub states: &'a [Vec<(String, Vec<f64>)>],
    /// The time the run ended, ms (steps × dt).
    pub t_end_ms: f64,
    /// Where the saved network goes (named in errors).
    pub to: &'a Path,
    /// The network file `text` was read from: its files (`from_list`'s
    /// `file`) are resolved against its directory.
    pub from: &'a Path,
    /// Whether spikes were in flight when the run ended (sent less than
    /// their delay before its end; the machine's `input_in_flight`):
    /// `None` when that cannot be told.
    pub in_flight: Option<bool>,
    /// Per population (network order): a spike array's spikes as the run
    /// held them, per neuron, in steps (the network's and those `--input`
    /// gave it); `None` (or an empty list) to take the network's own. The
    /// spikes `--input` gave an array were dropped from the saved network.
    pub schedules: &'a [Option<Vec<Vec<u32>>>],
}

/// An error of `--save-network TO`, naming the file it would have written.
fn refusal(to: &Path, reason: String) -> CompileError {
    CompileError::Options(format!("--save-network {}: {reason}", to.display()))
}

/// What keeps `net` from being saved exactly whatever its run learns:
/// called before the run, so that a refusal costs no run (and no other
/// output of it).
pub fn check(net: &Network, text: &str, to: &Path) -> Result<()> {
    let root: Value = serde_json::from_str(text).map_err(|e| refusal(to, format!("the network is not JSON: {e}")))?;
    if !root.get("populations").is_some_and(Value::is_array) {
        return Err(refusal(to, "the network has no `populations` list".into()));
    }
    // `projections` is optional (none when absent), but not another type.
    if root.get("projections").is_some_and(|p| !p.is_array()) {
        return Err(refusal(to, "the network's `projections` is not a list".into()));
    }
    for e in net.graph.edge_indices() {
        let proj = &net.graph[e];
        let integer = net.graph.edge_endpoints(e).is_some_and(|(_, b)| net.pop(b).model.neuron_model().is_some_and(|m| m.integer_weights()));
        // Only `mixed` learns weights of both signs (excitatory keeps
        // 0..255, inhibitory −255..0): see the split in `save`.
        if proj.plasticity.is_some() && integer && proj.sign_mode() == SignMode::Mixed && proj.loihi.weight_exp < 0 {
            return Err(CompileError::Projection {
                projection: proj.label.clone(),
                reason: format!(
                    "--save-network {} cannot save it exactly: with sign_mode `mixed` it can learn weights of both signs, which a static projection keeps without truncation only as two projections, and with weight_exp {} (< 0) two projections' sums round apart; give it sign_mode `excitatory` or `inhibitory`, or a weight_exp ≥ 0 (refused before the run, which would be lost)",
                    to.display(),
                    proj.loihi.weight_exp
                ),
            });
        }
    }
    Ok(())
}

/// A saved network: its JSON, notes on what it cannot carry, and under
/// which labels each learning projection was saved (for [`differences`]).
pub struct Written {
    pub text: String,
    pub notes: Vec<String>,
    /// Per learning projection (network order, as `Saved::learned`): its
    /// index and the labels of the static projections that hold it (its
    /// own, and that of its negative half when it was split).
    pub parts: Vec<(usize, Vec<String>)>,
}

/// The continuing network's JSON, and notes on what it cannot carry.
pub fn save(s: &Saved) -> Result<(String, Vec<String>)> {
    save_parts(s).map(|w| (w.text, w.notes))
}

/// [`save`], with the labels each learning projection was saved under.
pub fn save_parts(s: &Saved) -> Result<Written> {
    check(s.net, s.text, s.to)?;
    let bad = |reason: String| refusal(s.to, reason);
    let mut root: Value = serde_json::from_str(s.text).map_err(|e| bad(format!("the network is not JSON: {e}")))?;
    let mut notes = Vec::new();
    let net = s.net;
    // The files it references are read relative to the saved file's
    // directory, maybe another: each given as reached from there.
    rebase_files(&mut root, s.from, s.to);
    {
        let pops = root.get_mut("populations").and_then(Value::as_array_mut).ok_or_else(|| bad("the network has no `populations` list".into()))?;
        if pops.len() != net.num_pops() {
            return Err(bad(format!("the file has {} populations, the network read from it {}", pops.len(), net.num_pops())));
        }
        for (pj, (pi, pop)) in pops.iter_mut().zip(net.pops()) {
            let o = pj.as_object_mut().ok_or_else(|| bad(format!("population `{}` is not an object", pop.name)))?;
            match &pop.model {
                Model::Neuron(n) => {
                    let state = &s.states[pi.index()];
                    let mut init = Map::new();
                    let var = |name: &str| state.iter().find(|(n, _)| n == name).map(|(_, v)| v);
                    for spec in n.model.state() {
                        // Equal synaptic time constants keep one current, `isyn`: it is
                        // given back as the excitatory one (initial values add).
                        let vals = match (var(spec.name), spec.name, var("isyn")) {
                            (Some(v), _, _) => v.clone(),
                            (None, "isyn_exc", Some(v)) => v.clone(),
                            (None, "isyn_inh", Some(v)) => vec![0.0; v.len()],
                            _ => continue,
                        };
                        let vals: Vec<Value> = vals.iter().map(|&x| if spec.int_bits.is_some() { json!(x.round() as i64) } else { json!(x) }).collect();
                        init.insert(spec.name.to_string(), Value::Array(vals));
                    }
                    o.insert("initial".into(), Value::Object(init));
                    // `lif`'s counter is `refr`, nengo-loihi's (`loihi_lif` with
                    // `refractory`) `refc`; neither is an `initial` value.
                    if let Some(counts) = var("refr").or_else(|| var("refc")) {
                        let n = counts.iter().filter(|&&x| x > 0.0).count();
                        if n > 0 {
                            notes.push(format!("`{}`: {n} neuron(s) were refractory when the run ended; the saved network starts them integrating", pop.name));
                        }
                    }
                }
                Model::SpikeSourceArray(times) => {
                    let steps: Vec<Vec<f64>> = match s.schedules.get(pi.index()).and_then(|x| x.as_ref()) {
                        Some(held) => held.iter().map(|v| v.iter().map(|&k| k as f64).collect()).collect(),
                        None => times.iter().map(|ts| ts.iter().map(|&t| nerve_isa::time::steps_of(t, net.dt_ms)).collect()).collect(),
                    };
                    let shifted: Vec<Vec<f64>> = steps
                        .iter()
                        .map(|ts| ts.iter().map(|&k| net.dt_ms * k - s.t_end_ms).filter(|&t| t >= -1e-9).map(|t| t.max(0.0)).collect())
                        .collect();
                    o.insert("spike_times".into(), json!(shifted));
                }
                Model::SpikeSourcePoisson { .. } => {
                    notes.push(format!("`{}`: a Poisson source starts its draws afresh in the saved network (its spikes differ from a longer run's)", pop.name))
                }
                Model::Input => notes.push(format!(
                    "`{}`: an input population's spikes come from --input files, which the saved network does not hold: give its run the spikes from {} ms on, {} ms earlier",
                    pop.name,
                    // 7 steps of 0.1 ms: "0.7", not 0.7000000000000001.
                    crate::error::num(nerve_isa::significant12(s.t_end_ms)),
                    crate::error::num(nerve_isa::significant12(s.t_end_ms))
                )),
            }
        }
    }
    if let Some(d) = net.duration_ms {
        let o = root.as_object_mut().ok_or_else(|| bad("the network is not a JSON object".into()))?;
        // To a nanosecond: 100 − 3 × 0.1 is 99.7, not 99.69999999999999.
        let left = ((d - s.t_end_ms) * 1e6).round() / 1e6;
        if left > 0.0 {
            o.insert("duration_ms".into(), json!(left));
        } else {
            // A network file's duration is positive: none is left to give.
            o.remove("duration_ms");
            notes.push(format!(
                "the run reached the network's duration_ms ({} ms): the saved network has none (exporters then run their default, 1000 ms)",
                crate::error::num(d)
            ));
        }
    }
    // A network without `projections` has none to rewrite (and gains none
    // unless a learning one is split, which needs one).
    let mut none = Vec::new();
    let projs = root.get_mut("projections").and_then(Value::as_array_mut).unwrap_or(&mut none);
    // The negative halves of mixed-sign Loihi projections, appended.
    let mut split: Vec<Value> = Vec::new();
    let mut parts: Vec<(usize, Vec<String>)> = Vec::new();
    for l in s.learned {
        let pj = projs.get_mut(l.index).and_then(Value::as_object_mut).ok_or_else(|| bad(format!("projection {} is missing from the file", l.index)))?;
        let edge = net.edge_at(l.index).ok_or_else(|| bad(format!("projection {} of the file is not a learning projection of the network", l.index)))?;
        if net.graph[edge].plasticity.is_none() {
            return Err(bad(format!("projection {} (`{}`) of the file does not learn", l.index, net.graph[edge].label)));
        }
        let post = net.graph.edge_endpoints(edge).map(|(_, b)| b);
        let integer = post.is_some_and(|b| net.pop(b).model.neuron_model().is_some_and(|m| m.integer_weights()));
        pj.remove("plasticity");
        pj.remove("weight");
        pj.remove("delay");
        parts.push((l.index, vec![net.graph[edge].label.clone()]));
        if !integer {
            // + 0.0: a weight depressed to −0 is saved 0 (it read "-0.0").
            let conns: Vec<Value> = l.conns.iter().map(|&(a, b, w, d)| json!([a, b, w + 0.0, d])).collect();
            pj.insert("connector".into(), json!({"type": "from_list", "connections": conns}));
            continue;
        }
        // Lava's weights: learned ones keep all 8 bits and the sign, but a
        // static projection's weights pass lava's truncation again, which
        // keeps every bit only with 8 bits and one sign (`mixed` drops the
        // last bit even with 8: quant.rs). So the saved projection is
        // `excitatory` or `inhibitory` with 8 bits, and a projection that
        // learned both signs is split in two, its negative weights in a
        // second projection appended to the file (so that the others keep
        // their indices). −256 (mixed's floor) is past inhibitory's −255:
        // it is saved as two synapses, −255 and −1, which add on one port.
        let proj = &net.graph[edge];
        let ws: Vec<(u32, u32, i64, f64)> = l.conns.iter().map(|&(a, b, w, d)| (a, b, w.round() as i64, d)).collect();
        let ints = |v: &[&(u32, u32, i64, f64)]| -> Vec<Value> {
            v.iter()
                .flat_map(|&&(a, b, w, d)| if w < -255 { vec![json!([a, b, -255, d]), json!([a, b, w + 255, d])] } else { vec![json!([a, b, w, d])] })
                .collect()
        };
        let (neg, nonneg): (Vec<_>, Vec<_>) = ws.iter().partition(|c| c.2 < 0);
        pj.insert("num_weight_bits".into(), json!(8));
        if neg.is_empty() {
            pj.insert("sign_mode".into(), json!("excitatory"));
            pj.insert("connector".into(), json!({"type": "from_list", "connections": ints(&nonneg)}));
        } else if nonneg.iter().all(|c| c.2 == 0) {
            pj.insert("sign_mode".into(), json!("inhibitory"));
            pj.insert("connector".into(), json!({"type": "from_list", "connections": ints(&ws.iter().collect::<Vec<_>>())}));
        } else {
            // A negative weight_exp shifts each projection's sum on its own
            // port, with rounding: two projections would not sum as one.
            if proj.loihi.weight_exp < 0 {
                return Err(CompileError::Projection {
                    projection: proj.label.clone(),
                    reason: format!(
                        "--save-network cannot save it exactly: it learned weights of both signs ({} negative, {} positive), which a static projection keeps without truncation only as two projections, and with weight_exp {} (< 0) two projections' sums round apart",
                        neg.len(),
                        nonneg.iter().filter(|c| c.2 > 0).count(),
                        proj.loihi.weight_exp
                    ),
                });
            }
            pj.insert("sign_mode".into(), json!("excitatory"));
            pj.insert("connector".into(), json!({"type": "from_list", "connections": ints(&nonneg)}));
            let mut part = pj.clone();
            let taken = |x: &str| net.graph.edge_weights().map(|p| &p.label).chain(net.electrical.iter().map(|e| &e.p.label)).any(|l| l == x);
            let mut label = format!("{} (negative weights)", proj.label);
            let mut k = 2;
            while taken(&label) || split.iter().any(|p: &Value| p["label"] == json!(label)) {
                label = format!("{} (negative weights {k})", proj.label);
                k += 1;
            }
            part.insert("label".into(), json!(label));
            if let Some((_, labels)) = parts.last_mut() {
                labels.push(label.clone());
            }
            part.insert("sign_mode".into(), json!("inhibitory"));
            part.insert("connector".into(), json!({"type": "from_list", "connections": ints(&neg)}));
            notes.push(format!(
                "`{}` learned weights of both signs: saved as two static projections, its non-negative weights and `{label}` (appended) with its negative ones, so that lava's truncation keeps every bit",
                proj.label
            ));
            split.push(Value::Object(part));
        }
    }
    projs.extend(split);
    if !s.learned.is_empty() {
        notes.push("learning projections are saved static (their `plasticity` removed): traces and tags are not carried".into());
    }
    // Chemical synapses only: an electrical one's value is sent every step
    // and a run's first step receives its initial state's (the engine's
    // `deliver_initial_gaps`), so a continuation's first step receives what
    // the longer run's next step did.
    if net.graph.edge_count() > 0 {
        match s.in_flight {
            Some(true) => notes.push("spikes still in flight when the run ended (sent less than their delay before its end) are not carried".into()),
            None => notes.push(
                "spikes may still have been in flight when the run ended (sent less than their delay before its end; their input at the next step cannot be told from the electrical synapses'): any are not carried".into(),
            ),
            Some(false) => {}
        }
    }
    let mut text = serde_json::to_string(&root).map_err(|e| bad(e.to_string()))?;
    text.push('\n');
    Ok(Written { text, notes, parts })
}

/// What fixes a compiled network's arithmetic: per neuron population its
/// kernel, its parameters neuron by neuron and its variables' units; per
/// projection how its weights become mantissas. Taken from the run's image
/// before it runs and from the saved network's, compiled alike, so that
/// [`differences`] can tell where the continuation computes otherwise.
pub struct Arithmetic {
    pops: Vec<PopArithmetic>,
    quant: Vec<ProjQuant>,
}

struct PopArithmetic {
    name: String,
    /// Its cores' kernels, each once, in slice order.
    kernels: Vec<Kernel>,
    /// Per parameter slot name: its values over the whole population.
    params: Vec<(String, ParamArray)>,
    /// Per state variable: one unit's value and its unit (`VarSymbol`).
    units: Vec<(String, f64, String)>,
}

impl Arithmetic {
    /// `image`'s kernels, parameters and units, and `quant`, its projections'
    /// quantisation (`compile::Output`'s).
    pub fn of(image: &Image, quant: &[(ProjIx, ProjQuant)]) -> Arithmetic {
        let pops = image
            .populations
            .iter()
            .filter_map(|p| {
                let mut kernels: Vec<Kernel> = Vec::new();
                let mut by_name: Vec<(String, Vec<SliceParams>)> = Vec::new();
                for sl in &p.slices {
                    let core = image.cores.iter().find(|c| c.core == sl.core)?;
                    let CoreKind::Neuron { kernel, params, .. } = &core.kind else { return None };
                    let k = image.kernels.get(kernel.index())?;
                    if !kernels.contains(k) {
                        kernels.push(k.clone());
                    }
                    for (name, vals) in k.params.iter().zip(params) {
                        let at = match by_name.iter().position(|(n, _)| n == name) {
                            Some(i) => i,
                            None => {
                                by_name.push((name.clone(), Vec::new()));
                                by_name.len() - 1
                            }
                        };
                        by_name[at].1.push((sl.first, sl.count, vals.clone()));
                    }
                }
                if kernels.is_empty() {
                    return None;
                }
                let params = by_name.into_iter().map(|(n, parts)| (n, whole(p.size as usize, parts))).collect();
                let units = p.vars.iter().map(|v| (v.name.clone(), v.scale, v.unit.clone())).collect();
                Some(PopArithmetic { name: p.name.clone(), kernels, params, units })
            })
            .collect();
        Arithmetic { pops, quant: quant.iter().map(|(_, q)| q.clone()).collect() }
    }
}

/// A parameter's values on one slice: its first neuron, its neurons, the values.
type SliceParams = (u32, u32, ParamArray);

/// A parameter's values over a population from its slices' (uniform when
/// every neuron has one value).
fn whole(size: usize, parts: Vec<SliceParams>) -> ParamArray {
    if let Some(ParamArray::Uniform(v)) = parts.first().map(|x| &x.2) {
        if parts.iter().all(|x| x.2 == ParamArray::Uniform(*v)) {
            return ParamArray::Uniform(*v);
        }
    }
    let mut all = vec![0i32; size];
    for (first, count, vals) in &parts {
        for i in 0..*count as usize {
            if let Some(x) = all.get_mut(*first as usize + i) {
                *x = vals.get(i);
            }
        }
    }
    ParamArray::PerNeuron(all)
}

/// A learning projection's synapses as the run's image delivered them when
/// it ended: (pre, post, delay in steps, weight mantissa) at its port.
pub struct Delivered {
    /// Its index among the network's projections (as `SavedProjection`'s).
    pub index: usize,
    pub synapses: Vec<(u32, u32, u32, i32)>,
}

/// What the continuation needs to compute as the longer run would: the
/// run's arithmetic and its learning projections' delivered weights.
pub struct Continued<'a> {
    pub run: &'a Arithmetic,
    pub delivered: &'a [Delivered],
    /// The saved network (as read back) and its arithmetic, compiled with
    /// the run's architecture and options.
    pub saved: &'a Network,
    pub cont: &'a Arithmetic,
    pub written: &'a Written,
    /// Per population (network order): its state when the run ended (`Saved::states`).
    pub states: &'a [Vec<(String, Vec<f64>)>],
    /// The architecture's name, for the notes.
    pub arch: &'a str,
}

/// One note per population whose kernel, parameters or units differ
/// between the run's image and its continuation's, and per projection
/// whose synapses the continuation delivers differently (mantissa or port
/// exponent): where none differs, none (the continuation computes as the
/// longer run, up to what the other notes say).
pub fn differences(c: &Continued) -> Vec<String> {
    let mut notes = Vec::new();
    let tail = "it will not compute exactly as the longer run would";
    // Populations whose scale moved: their projections' mantissas move with it.
    let mut noted = Vec::new();
    for (pi, pop) in c.saved.pops() {
        let (Some(a), Some(b)) = (c.run.pops.iter().find(|p| p.name == pop.name), c.cont.pops.iter().find(|p| p.name == pop.name)) else { continue };
        let moved: Vec<String> = a
            .units
            .iter()
            .filter_map(|(var, sa, unit)| {
                let (_, sb, _) = b.units.iter().find(|u| &u.0 == var)?;
                (sa != sb).then(|| format!("{var} (one unit {} {unit} in the run, {} {unit} now)", unit_of(*sa), unit_of(*sb)))
            })
            .collect();
        if !moved.is_empty() {
            // What the saved values reach, for the variables that moved.
            let reach: Vec<String> = a
                .units
                .iter()
                .filter(|(var, sa, _)| b.units.iter().any(|u| &u.0 == var && u.1 != *sa))
                .filter_map(|(var, _, unit)| {
                    let vals = c.states.get(pi.index())?.iter().find(|(n, _)| n == var)?.1.as_slice();
                    let far = vals.iter().copied().fold(None, |m: Option<f64>, x| if m.is_none_or(|m| x.abs() > m.abs()) { Some(x) } else { m })?;
                    Some(format!("its saved {var} reaches {} {unit}", crate::error::num((far * 1e4).round() / 1e4)))
                })
                .collect();
            let reach = if reach.is_empty() { String::new() } else { format!(": {}", reach.join(", ")) };
            // A learning projection's largest weight was its rule's bound (STDP's w_max), now its largest saved one.
            let learner = c.written.parts.iter().flat_map(|(_, ls)| ls).any(|l| c.saved.projections().any(|(_, _, b, p)| b == pi && &p.label == l));
            let why = if learner {
                "initial values and largest weights the saved network gives anew (a learning projection's largest weight is now its largest saved one, not what its rule let it reach)"
            } else {
                "initial values and weights the saved network gives anew"
            };
            notes.push(format!(
                "population `{}`: the continuation holds {} at another fixed point, chosen by the compiler from {why}{reach}; {tail}",
                pop.name,
                moved.join(", ")
            ));
            noted.push(pi);
            continue;
        }
        let params: Vec<&str> =
            a.params.iter().filter(|(n, v)| b.params.iter().find(|(m, _)| m == n).is_none_or(|(_, w)| w != v)).map(|(n, _)| n.as_str()).collect();
        if a.kernels != b.kernels {
            notes.push(format!(
                "population `{}`: the continuation's kernel differs from the run's ({}: the shifts and clamps of its input follow the largest weights, which the saved network gives anew); {tail}",
                pop.name,
                code_change(&a.kernels, &b.kernels)
            ));
            noted.push(pi);
        } else if !params.is_empty() {
            notes.push(format!("population `{}`: the continuation computes with other parameter values ({}); {tail}", pop.name, params.join(", ")));
            noted.push(pi);
        }
    }
    // Learning projections: each synapse's mantissa and port exponent, the
    // run's (as it delivered them at its end) against the saved weights'
    // (as the continuation quantises them).
    let quant = |set: &Arithmetic, label: &str| set.quant.iter().find(|q| q.projection == label).cloned();
    let mut learned_labels: Vec<&str> = Vec::new();
    for (index, labels) in &c.written.parts {
        learned_labels.extend(labels.iter().map(String::as_str));
        let Some(d) = c.delivered.iter().find(|d| d.index == *index) else { continue };
        let Some(label) = labels.first() else { continue };
        let Some(qa) = quant(c.run, label) else { continue };
        type Key = (u32, u32, u32);
        let mut run: std::collections::BTreeMap<Key, Vec<(i64, i32)>> = std::collections::BTreeMap::new();
        for &(pre, post, delay, m) in &d.synapses {
            run.entry((pre, post, delay)).or_default().push((m as i64, qa.exp as i32));
        }
        let mut cont: std::collections::BTreeMap<Key, Vec<(i64, i32)>> = std::collections::BTreeMap::new();
        let mut units: Vec<(i32, f64)> = Vec::new();
        let mut exps: Vec<i32> = Vec::new();
        let mut post = None;
        for l in labels {
            let Some(qb) = quant(c.cont, l) else { continue };
            let Some((_, _, b, p)) = c.saved.projections().find(|(_, _, _, p)| &p.label == l) else { continue };
            post = Some(b);
            let Connector::FromList(list) = &p.connector else { continue };
            exps.push(qb.exp as i32);
            units.push((qb.exp as i32, qb.unit));
            for k in 0..list.len() {
                let conn = list.get(k);
                let w = conn.weight.or(p.weight).unwrap_or(0.0);
                let delay = conn.delay.or(p.delay_ms).unwrap_or(c.saved.dt_ms);
                let steps = nerve_isa::time::steps_of(delay, c.saved.dt_ms) as u32;
                cont.entry((conn.pre, conn.post, steps)).or_default().push((qb.mantissa(w).0 as i64, qb.exp as i32));
            }
        }
        let value = |xs: &[(i64, i32)], unit: f64| xs.iter().map(|&(m, e)| m as f64 * unit * 2f64.powi(e)).sum::<f64>();
        let unit_b = units.first().map_or(qa.unit, |u| u.1);
        // Synapses delivered as other mantissas or exponents, and those of them delivering another value.
        let (mut changed, mut moved, mut worst) = (0u64, 0u64, 0f64);
        let keys: std::collections::BTreeSet<&Key> = run.keys().chain(cont.keys()).collect();
        for key in &keys {
            let mut x = run.get(key).cloned().unwrap_or_default();
            let mut y = cont.get(key).cloned().unwrap_or_default();
            x.sort_unstable();
            y.sort_unstable();
            // Two synapses on ports of exponents ≥ 0 add exactly (a split −256: −255 and −1).
            let sum = |v: &[(i64, i32)]| v.iter().map(|&(m, e)| (m as i128) << e.max(0)).sum::<i128>();
            let exact = x == y || (x.iter().chain(&y).all(|&(_, e)| e >= 0) && sum(&x) == sum(&y));
            if !exact {
                changed += 1;
                let (va, vb) = (value(&x, qa.unit), value(&y, unit_b));
                // The same weight in another unit can differ in its last bits as an f64.
                if (vb - va).abs() > 1e-12 * va.abs().max(vb.abs()) {
                    moved += 1;
                    worst = worst.max(if va == 0.0 { f64::INFINITY } else { (vb - va).abs() / va.abs() });
                }
            }
        }
        exps.dedup();
        let exp_b = exps.iter().map(|e| format!("2^{e}")).collect::<Vec<_>>().join(" and ");
        if moved > 0 {
            // Two significant digits: a weight moved by a finer grid is off by far less than 1e-4.
            let worst = if !worst.is_finite() {
                "unbounded (a weight of 0 in the run)".into()
            } else if worst < 1e-3 {
                format!("{worst:.1e}")
            } else {
                crate::error::num((worst * 1e4).round() / 1e4)
            };
            notes.push(format!(
                "projection `{label}`: saved static, its weights are quantised anew on `{}`: the continuation delivers {moved} of its {} synapses' weights otherwise than the run did (worst relative error {worst}; port exponent 2^{} in the run, {exp_b} now); {tail}",
                c.arch,
                keys.len(),
                qa.exp
            ));
        } else if changed > 0 && !post.is_some_and(|b| noted.contains(&b)) {
            // The same values as other mantissas: where the population's
            // scale did not move (else its note says it), at another exponent.
            notes.push(format!(
                "projection `{label}`: saved static, its weights are quantised anew on `{}`: the continuation delivers {changed} of its {} synapses' weights as other mantissas (port exponent 2^{} in the run, {exp_b} now), rounded otherwise in their port's sum; {tail}",
                c.arch,
                keys.len(),
                qa.exp
            ));
        }
    }
    // The other projections keep their weights: they differ only where
    // their quantisation moved (a port's exponent shared with a learning
    // projection's, whose largest weight is now its saved one's).
    for qa in &c.run.quant {
        if learned_labels.contains(&qa.projection.as_str()) {
            continue;
        }
        let Some(qb) = c.cont.quant.iter().find(|q| q.projection == qa.projection) else { continue };
        let post = c.saved.projections().find(|(_, _, _, p)| p.label == qa.projection).map(|(_, _, b, _)| b);
        // Where its population's scale moved, its weights' moved with it: that population's note.
        if (qa.exp != qb.exp || qa.unit != qb.unit) && !post.is_some_and(|b| noted.contains(&b)) {
            notes.push(format!(
                "projection `{}`: the continuation quantises its weights at another scale (one mantissa unit {} × 2^{} in the run, {} × 2^{} now); {tail}",
                qa.projection,
                crate::error::num(qa.unit),
                qa.exp,
                crate::error::num(qb.unit),
                qb.exp
            ));
        }
    }
    notes
}

/// How a population's kernels changed: the instructions that differ, or their counts.
fn code_change(a: &[Kernel], b: &[Kernel]) -> String {
    let count = |ks: &[Kernel]| ks.iter().map(|k| k.code.len()).sum::<usize>();
    if a.len() != b.len() || a.iter().zip(b).any(|(x, y)| x.code.len() != y.code.len()) {
        return format!("{} instructions in the run, {} now", count(a), count(b));
    }
    let mut ops: Vec<&str> = a.iter().zip(b).flat_map(|(x, y)| x.code.iter().zip(&y.code).filter(|(i, j)| i != j).map(|(i, _)| i.op.mnemonic())).collect();
    ops.sort_unstable();
    ops.dedup();
    if ops.is_empty() {
        // Equal code: its names (of parameters, ports) differ.
        return "its parameters or input ports differ".into();
    }
    format!("its {} instructions differ", ops.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", "))
}

/// One unit of a fixed-point variable: 2^k where it is a power of two.
fn unit_of(x: f64) -> String {
    let k = x.abs().log2();
    if x > 0.0 && k.fract() == 0.0 {
        format!("2^{k}")
    } else {
        format!("{x:.6e}")
    }
}

/// Every relative `file` of a `from_list` (whatever holds it, as
/// `refs::referenced_files` finds them), resolved against `from`'s
/// directory, rewritten relative to `to`'s (absolute where there is no
/// such path, as across Windows drives).
fn rebase_files(v: &mut Value, from: &Path, to: &Path) {
    let dir_of = |p: &Path| {
        let base = super::refs::base_dir(p);
        let d = Some(base.as_path()).filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        // Resolved, links too, so that the two directories compare.
        std::fs::canonicalize(d).or_else(|_| std::path::absolute(d)).unwrap_or_else(|_| d.to_path_buf())
    };
    let (src, dst) = (dir_of(from), dir_of(to));
    if src == dst {
        return;
    }
    walk_files(v, &mut |f| {
        let p = Path::new(f.as_str());
        if p.is_absolute() {
            return;
        }
        let target = src.join(p);
        let target = std::fs::canonicalize(&target).unwrap_or(target);
        *f = relative_to(&target, &dst).unwrap_or(target).to_string_lossy().into_owned();
    });
}

fn walk_files(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("from_list") {
                if let Some(Value::String(file)) = o.get_mut("file") {
                    f(file);
                }
            }
            o.values_mut().for_each(|x| walk_files(x, f));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| walk_files(x, f)),
        _ => {}
    }
}

/// `target` as a path from directory `dir` (both absolute), if they share a root or drive.
fn relative_to(target: &Path, dir: &Path) -> Option<std::path::PathBuf> {
    use std::path::Component;
    let (t, d): (Vec<Component>, Vec<Component>) = (target.components().collect(), dir.components().collect());
    let common = t.iter().zip(&d).take_while(|(a, b)| a == b).count();
    // No shared root or drive: only the absolute path reaches it.
    (common > 0).then(|| std::iter::repeat_n(Component::ParentDir, d.len() - common).chain(t[common..].iter().copied()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(text: &str, t_end_ms: f64) -> (Value, Vec<String>) {
        let net = crate::front::json::parse_network(text, std::path::Path::new("t.json")).unwrap();
        let states = vec![Vec::new(); net.num_pops()];
        let (json, notes) = save(&Saved {
            net: &net,
            text,
            learned: &[],
            states: &states,
            t_end_ms,
            to: Path::new("s.json"),
            from: Path::new("t.json"),
            in_flight: Some(true),
            schedules: &[],
        })
        .unwrap();
        (serde_json::from_str(&json).unwrap(), notes)
    }

    /// Every number of the original network is saved as it was written: a
    /// parameter read by a parser that lands an ulp off changed the
    /// continuation's arithmetic (tau_syn_E 9.953376066547685 was saved as
    /// …683, and the run's note said so).
    #[test]
    fn saved_numbers_keep_every_bit() {
        let text = r#"{"dt_ms": 0.1, "populations": [{"name": "x", "size": 1, "model": "lif", "params": {"tau_syn_E": 9.953376066547685, "tau_m": 0.30000000000000004}}], "projections": []}"#;
        let (v, _) = saved(text, 5.0);
        let params = &v["populations"][0]["params"];
        assert_eq!(params["tau_syn_E"].as_f64(), Some(9.953376066547685));
        assert_eq!(params["tau_m"].as_f64(), Some(0.30000000000000004));
        let back = crate::front::json::parse_network(&v.to_string(), std::path::Path::new("s.json")).unwrap();
        let orig = crate::front::json::parse_network(text, std::path::Path::new("t.json")).unwrap();
        assert_eq!(format!("{:?}", back.pops().next().unwrap().1.model), format!("{:?}", orig.pops().next().unwrap().1.model));
    }

    /// The duration left after the run, as the spike arrays are shifted by
    /// it: a saved network kept the whole duration, so exporting it ran the
    /// time already run again.
    #[test]
    fn the_saved_duration_is_what_the_run_left() {
        let net = |d: &str| {
            format!(
                r#"{{"dt_ms": 0.1, "duration_ms": {d}, "populations": [{{"name": "a", "size": 1, "model": "spike_source_array", "spike_times": [[1, 120]]}}], "projections": []}}"#
            )
        };
        let (v, notes) = saved(&net("14900"), 200.0);
        assert_eq!(v["duration_ms"], json!(14700.0));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(saved(&net("100"), 0.3).0["duration_ms"], json!(99.7));
        for t_end in [100.0, 150.0] {
            let (v, notes) = saved(&net("100"), t_end);
            assert!(v.get("duration_ms").is_none(), "{t_end}: {v}");
            assert!(notes.iter().any(|n| n.contains("reached the network's duration_ms (100 ms)")), "{notes:?}");
            // The saved network reads back.
            crate::front::json::parse_network(&v.to_string(), std::path::Path::new("s.json")).unwrap();
        }
        let no_duration = r#"{"dt_ms": 1, "populations": [{"name": "a", "size": 1, "model": "input"}], "projections": []}"#;
        assert!(saved(no_duration, 50.0).0.get("duration_ms").is_none());
    }

    /// A `from_list` file is given as reached from the saved file's
    /// directory (it was copied as written, and read from there: another
    /// file, or none).
    #[test]
    fn referenced_files_are_rebased_to_the_saved_file() {
        let mut v = json!({"projections": [
            {"connector": {"type": "from_list", "file": "c.csv"}},
            {"connector": {"type": "from_list", "file": "/abs/d.csv"}},
            {"connector": {"type": "all_to_all", "file": "e.csv"}}]});
        rebase_files(&mut v, Path::new("/nowhere/net/n.json"), Path::new("/nowhere/out/sub/s.json"));
        assert_eq!(v["projections"][0]["connector"]["file"], json!("../../net/c.csv"));
        assert_eq!(v["projections"][1]["connector"]["file"], json!("/abs/d.csv"));
        assert_eq!(v["projections"][2]["connector"]["file"], json!("e.csv"));
        let mut same = json!({"connector": {"type": "from_list", "file": "c.csv"}});
        rebase_files(&mut same, Path::new("/nowhere/n.json"), Path::new("/nowhere/s.json"));
        assert_eq!(same["connector"]["file"], json!("c.csv"));
    }

    /// A refractory counter is not an `initial` value: the note counts the
    /// neurons refractory at the run's end under either model's name for it
    /// (`lif`'s `refr`, `loihi_lif`'s `refc` with `refractory`: dropped
    /// without a note before, though the continuation spiked steps late).
    #[test]
    fn refractory_neurons_are_noted_under_either_counter() {
        for (model, params, var) in [("lif", "{}", "refr"), ("loihi_lif", r#"{"du": 4095, "dv": 0, "vth": 2, "refractory": 5}"#, "refc")] {
            let text = format!(r#"{{"dt_ms": 1, "populations": [{{"name": "a", "size": 3, "model": "{model}", "params": {params}}}]}}"#);
            let net = crate::front::json::parse_network(&text, Path::new("t.json")).unwrap();
            let states = vec![vec![(var.to_string(), vec![0.0, 3.0, 1.0])]];
            let (_, notes) = save(&Saved {
                net: &net,
                text: &text,
                learned: &[],
                states: &states,
                t_end_ms: 5.0,
                to: Path::new("s.json"),
                from: Path::new("t.json"),
                in_flight: Some(true),
                schedules: &[],
            })
            .unwrap();
            assert!(notes.iter().any(|n| n.contains("`a`: 2 neuron(s) were refractory")), "{model}: {notes:?}");
        }
    }

    /// An `input` population's spikes are the run's `--input` files, which
    /// the saved network cannot hold: the note says to shift them.
    #[test]
    fn input_populations_are_noted() {
        let (_, notes) = saved(r#"{"dt_ms": 0.5, "populations": [{"name": "in", "size": 2, "model": "input"}]}"#, 12.5);
        assert!(notes.iter().any(|n| n.contains("`in`") && n.contains("--input") && n.contains("12.5 ms")), "{notes:?}");
    }

    /// Electrical synapses carry no spikes: a network joined only by them
    /// has none in flight (its continuation receives the junctions' current
    /// from its first step: `cli/tests/it/electrical.rs`).
    #[test]
    fn junctions_alone_leave_nothing_in_flight() {
        let net = r#"{"dt_ms": 1, "populations": [{"name": "a", "size": 2, "model": "lif"}],
            "projections": [{"pre": "a", "post": "a", "receptor": "electrical", "connector": {"type": "from_list", "connections": [[0, 1, 0.01]]}}]}"#;
        let (_, notes) = saved(net, 5.0);
        assert!(!notes.iter().any(|n| n.contains("in flight")), "{notes:?}");
        let chem = net.replace(r#""electrical""#, r#""excitatory""#);
        assert!(saved(&chem, 5.0).1.iter().any(|n| n.contains("in flight")));
    }

    /// The note on spikes in flight says what the run left: none when
    /// nothing was in flight (it was printed for every network with
    /// chemical synapses), "may" when the machine cannot tell.
    #[test]
    fn spikes_in_flight_are_noted_as_the_run_left_them() {
        let text = r#"{"dt_ms": 1, "populations": [{"name": "a", "size": 2, "model": "lif"}],
            "projections": [{"pre": "a", "post": "a", "connector": {"type": "from_list", "connections": [[0, 1, 0.01]]}}]}"#;
        let net = crate::front::json::parse_network(text, Path::new("t.json")).unwrap();
        let states = vec![Vec::new(); net.num_pops()];
        let notes = |in_flight| {
            save(&Saved {
                net: &net,
                text,
                learned: &[],
                states: &states,
                t_end_ms: 5.0,
                to: Path::new("s.json"),
                from: Path::new("t.json"),
                in_flight,
                schedules: &[],
            })
            .unwrap()
            .1
        };
        assert!(notes(Some(true)).iter().any(|n| n.starts_with("spikes still in flight")));
        assert!(!notes(Some(false)).iter().any(|n| n.contains("in flight")), "{:?}", notes(Some(false)));
        assert!(notes(None).iter().any(|n| n.starts_with("spikes may still have been in flight")));
    }

    /// `projections` is optional: a network without it saves (it failed
    /// with "the network has no `projections` list", after the run).
    #[test]
    fn a_network_without_projections_saves() {
        let (v, _) = saved(r#"{"dt_ms": 1, "populations": [{"name": "a", "size": 2, "model": "lif"}]}"#, 5.0);
        assert!(v.get("projections").is_none(), "{v}");
        assert!(v["populations"][0]["initial"].is_object(), "{v}");
    }
}
