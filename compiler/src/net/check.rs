//! The contract every [`Network`] meets before it is compiled, whoever made
//! it: the JSON and NIR readers refuse what breaks it with their own paths
//! to the culprit, and [`network`] holds it for networks built in Rust
//! (`front::builder`, or a `Network` put together by hand), which had reached
//! the compiler unchecked: a `one_to_one` between unequal populations or a
//! list index past a population panicked in the partitioner, a spike time
//! of NaN ran at step 0, a `fixed_probability` of 1.5 connected every pair.
//!
//! The PyNN sign convention (negative weights on inhibitory projections)
//! is the JSON format's and the builder's, not the IR's: NIR's layers carry
//! weights of both signs on one projection.

use super::expand::check_geometry;
use super::model::*;
use crate::error::{num, CompileError, Result};
use nerve_isa::time::{below_one_step, steps_of};
use nerve_isa::MAX_STEPS;

/// Checks `net` against the contract (module docs).
pub fn network(net: &Network) -> Result<()> {
    for (_, p) in net.pops() {
        population(net, p)?;
    }
    for (_, pre, post, p) in net.projections() {
        projection(net, pre, post, p)?;
    }
    for e in &net.electrical {
        for ix in [e.pre, e.post] {
            if net.graph.node_weight(ix).is_none() {
                return Err(proj_err(&e.p, format!("population index {} is not one of the network's {}", ix.index(), net.num_pops())));
            }
        }
        connector(net, e.pre, e.post, &e.p)?;
    }
    check_geometry(net)
}

fn pop_err(p: &Population, reason: String) -> CompileError {
    CompileError::Network(format!("population `{}` ({}): {reason}", p.name, p.model.name()))
}

fn proj_err(p: &Projection, reason: String) -> CompileError {
    CompileError::Projection { projection: p.label.clone(), reason }
}

/// One value, or one per neuron, each finite.
fn values(p: &Population, what: &str, v: &Values) -> Result<()> {
    if let Values::PerNeuron(x) = v {
        if x.len() != p.size as usize {
            return Err(pop_err(p, format!("{what}: {} values for {} neurons (give one, or one per neuron)", x.len(), p.size)));
        }
    }
    if let Some(x) = v.stored().iter().find(|x| !x.is_finite()) {
        return Err(pop_err(p, format!("{what}: {} is not a finite number", num(*x))));
    }
    Ok(())
}

fn population(net: &Network, p: &Population) -> Result<()> {
    if p.size == 0 {
        return Err(pop_err(p, "a population needs at least one neuron".into()));
    }
    if p.max_per_core == Some(0) {
        return Err(pop_err(p, "max_per_core must be ≥ 1".into()));
    }
    if !p.labels.is_empty() {
        if p.labels.len() != p.size as usize {
            return Err(pop_err(p, format!("{} labels for {} neurons: give one per neuron", p.labels.len(), p.size)));
        }
        let mut seen = std::collections::HashMap::with_capacity(p.labels.len());
        for (i, l) in p.labels.iter().enumerate() {
            if let Some(why) = nerve_isa::names::bad_label(l) {
                return Err(pop_err(p, why));
            }
            if let Some(j) = seen.insert(l.as_str(), i) {
                return Err(pop_err(p, format!("label `{l}` is used by neurons {j} and {i}")));
            }
        }
    }
    let dt = net.dt_ms;
    match &p.model {
        Model::Neuron(n) => n.check(p.size as usize).map_err(|(_, m)| pop_err(p, m))?,
        Model::SpikeSourcePoisson { rate, .. } => {
            values(p, "rate", rate)?;
            let (lo, hi) = rate.min_max(p.size as usize);
            if lo < 0.0 {
                return Err(pop_err(p, format!("rates must be ≥ 0 Hz, found {}", num(lo))));
            }
            if hi * dt / 1000.0 > 1.0 {
                return Err(pop_err(p, format!("a rate of {} Hz means more than one spike per {} ms timestep", num(hi), num(dt))));
            }
        }
        Model::SpikeSourceArray(lists) => {
            if lists.len() != p.size as usize {
                return Err(pop_err(p, format!("{} lists of spike times for {} neurons: give one per neuron", lists.len(), p.size)));
            }
            for (i, ts) in lists.iter().enumerate() {
                for &t in ts {
                    if !(t.is_finite() && t >= 0.0) {
                        return Err(pop_err(p, format!("neuron {i}: spike times must be finite and ≥ 0 ms, found {}", num(t))));
                    }
                    if steps_of(t, dt) > MAX_STEPS as f64 {
                        return Err(pop_err(p, format!("neuron {i}: spike time {} ms is beyond step {MAX_STEPS}, the most a run takes", num(t))));
                    }
                }
                for w in ts.windows(2) {
                    if w[1] < w[0] {
                        return Err(pop_err(p, format!("neuron {i}: spike times {} and {} ms are out of order (give them ascending)", num(w[0]), num(w[1]))));
                    }
                    if steps_of(w[0], dt) == steps_of(w[1], dt) {
                        return Err(pop_err(p, format!("neuron {i}: spike times {} and {} ms fall in the same {} ms timestep", num(w[0]), num(w[1]), num(dt))));
                    }
                }
            }
        }
        Model::Input => {}
    }
    for (var, init) in &p.initial {
        let Some(spec) = p.model.state().iter().find(|v| v.name == var) else {
            let names: Vec<&str> = p.model.state().iter().map(|v| v.name).collect();
            return Err(pop_err(
                p,
                format!("no state variable `{var}` to give an initial value (it has: {})", if names.is_empty() { "none".into() } else { names.join(", ") }),
            ));
        };
        let what = format!("initial `{var}`");
        let ends: Vec<f64> = match init {
            Init::Values(v) => {
                values(p, &what, v)?;
                v.stored().to_vec()
            }
            Init::Uniform { lo, hi, .. } => {
                if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                    return Err(pop_err(p, format!("{what}: uniform [{}, {}) is not a range of finite numbers, lo ≤ hi", num(*lo), num(*hi))));
                }
                vec![*lo, *hi]
            }
        };
        if let Some(bits) = spec.int_bits {
            if let Some(x) = ends.iter().find(|x| !(x.fract() == 0.0 && x.abs() < (1u64 << bits) as f64)) {
                return Err(pop_err(p, format!("{what}: {} is not one of its {bits}-bit integers", num(*x))));
            }
        }
    }
    Ok(())
}

fn projection(net: &Network, pre: PopIx, post: PopIx, p: &Projection) -> Result<()> {
    let to = net.pop(post);
    if to.model.is_source() {
        return Err(proj_err(p, format!("`{}` is a {} and cannot receive synapses", to.name, to.model.name())));
    }
    if let Some(w) = p.weight.filter(|w| !w.is_finite()) {
        return Err(proj_err(p, format!("the weight {} is not a finite number", num(w))));
    }
    if let Some(d) = p.delay_ms {
        delay(net, p, d, "delay")?;
    }
    let integer = to.model.neuron_model().is_some_and(|m| m.integer_weights());
    let l = p.loihi;
    if !integer && l != LoihiWeights::default() {
        return Err(proj_err(
            p,
            format!("weight_exp, num_weight_bits and sign_mode apply to projections into loihi_lif populations, not `{}`", to.model.name()),
        ));
    }
    if !(-8..=7).contains(&l.weight_exp) {
        return Err(proj_err(p, format!("weight_exp must be in -8..=7, found {}", l.weight_exp)));
    }
    if !(1..=8).contains(&l.num_weight_bits) {
        return Err(proj_err(p, format!("num_weight_bits must be in 1..=8, found {}", l.num_weight_bits)));
    }
    connector(net, pre, post, p)
}

/// A delay: finite, and at least one step (as the JSON reader says it).
fn delay(net: &Network, p: &Projection, d: f64, what: &str) -> Result<()> {
    if !d.is_finite() {
        return Err(proj_err(p, format!("{what} {} ms is not a finite number", num(d))));
    }
    if below_one_step(d, net.dt_ms) {
        return Err(proj_err(p, format!("{what} {} ms is shorter than one timestep ({} ms)", num(d), num(net.dt_ms))));
    }
    Ok(())
}

/// The connector's shape against its populations, and its numbers finite.
fn connector(net: &Network, pre: PopIx, post: PopIx, p: &Projection) -> Result<()> {
    let (na, nb) = (net.pop(pre).size, net.pop(post).size);
    let finite = |w: f64, at: &dyn Fn() -> String| -> Result<()> {
        if w.is_finite() {
            Ok(())
        } else {
            Err(proj_err(p, format!("{} {} is not a finite number", at(), num(w))))
        }
    };
    match &p.connector {
        Connector::AllToAll { .. } | Connector::Conv2d(_) | Connector::Pool2d(_) => {}
        Connector::OneToOne if na != nb => {
            return Err(proj_err(p, format!("one_to_one needs equal sizes, pre has {na} and post {nb}")));
        }
        Connector::OneToOne => {}
        Connector::FixedProbability { p: prob, .. } => {
            if !(0.0..=1.0).contains(prob) {
                return Err(proj_err(p, format!("p must be in [0, 1], found {}", num(*prob))));
            }
        }
        Connector::FixedNumberPre { n, allow_self_connections, .. } | Connector::FixedNumberPost { n, allow_self_connections, .. } => {
            let from = if matches!(p.connector, Connector::FixedNumberPre { .. }) { na } else { nb };
            let avail = if pre == post && !allow_self_connections { from.saturating_sub(1) } else { from };
            if *n > avail {
                return Err(proj_err(p, format!("n = {n} exceeds the {avail} distinct candidates")));
            }
        }
        Connector::FromList(l) => {
            let k = l.len();
            let cols = [("post", Some(l.post.len())), ("weight", l.weight.as_ref().map(Vec::len)), ("delay", l.delay.as_ref().map(Vec::len))];
            if let Some((c, Some(m))) = cols.iter().find(|(_, m)| m.is_some_and(|m| m != k)) {
                return Err(proj_err(p, format!("the connection list's `{c}` column has {m} entries where `pre` has {k}")));
            }
            for (i, (&a, &b)) in l.pre.iter().zip(&l.post).enumerate() {
                if a >= na || b >= nb {
                    return Err(proj_err(p, format!("connection {i} ({a}, {b}) is out of range: pre has {na} neurons, post {nb}")));
                }
            }
            // NaN is "not given" (the projection's own), any other value must be finite.
            for (i, &w) in l.weight.iter().flatten().enumerate().filter(|(_, w)| !w.is_nan()) {
                finite(w, &|| format!("connection {i}'s weight"))?;
            }
            for (i, &d) in l.delay.iter().flatten().enumerate().filter(|(_, d)| !d.is_nan()) {
                delay(net, p, d, &format!("connection {i}'s delay"))?;
            }
        }
        Connector::Dense(m) => {
            if m.len() != nb as usize {
                return Err(proj_err(p, format!("dense: expected {nb} rows (one per post neuron), found {}", m.len())));
            }
            for (j, r) in m.iter().enumerate() {
                if r.len() != na as usize {
                    return Err(proj_err(p, format!("dense row {j}: expected {na} weights (one per pre neuron), found {}", r.len())));
                }
                for (i, &w) in r.iter().enumerate() {
                    finite(w, &|| format!("dense[{j}][{i}]"))?;
                }
            }
        }
    }
    if let Connector::Conv2d(c) = &p.connector {
        for (i, &w) in c.weights.iter().enumerate() {
            finite(w, &|| format!("conv2d kernel weight {i}"))?;
        }
    }
    Ok(())
}
