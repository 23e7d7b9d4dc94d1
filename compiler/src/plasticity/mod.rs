//! Learning rules: a projection's `plasticity` compiled into what the image
//! carries (`nerve_isa::learning`): Loihi's learning engine with rules in
//! lava-nc's grammar ([`loihi`]), SpiNNaker's pair STDP in sPyNNaker's fixed
//! point ([`stdp`]).

pub mod loihi;
pub mod stdp;

use nerve_isa::kernel::Kernel;
use nerve_isa::learning::{LearningRule, LoihiRule, Reward, TraceSpec};

use crate::error::{CompileError, Result};
use crate::net::model::*;

/// A projection's rule and the program it runs (to be added to the image's kernels).
pub struct Compiled {
    pub rule: LearningRule,
    pub program: Kernel,
    /// An STDP rule's words and how they are delivered.
    pub stdp: Option<stdp::Planned>,
}

/// Compiles projection `e`'s learning rule (its synapses `sy`, quantised as
/// `q`); `program` in the rule is a placeholder until the caller knows the
/// program's kernel id.
pub fn compile(net: &Network, e: ProjIx, pl: &Plasticity, q: &crate::lower::ProjQuant, sy: &crate::net::expand::Synapses) -> Result<Compiled> {
    let p = &net.graph[e];
    let err = |e: String| CompileError::Projection { projection: p.label.clone(), reason: format!("learning rule: {e}") };
    // invariant: callers pass `e` from net.projections()
    let post = net.graph.edge_endpoints(e).expect("the projection is the network's").1;
    match pl {
        Plasticity::Stdp(st) => {
            let reward = match &st.reward {
                Some(r) => {
                    let pop = net.find(&r.pop).ok_or_else(|| err(format!("no reward population `{}`", r.pop)))?;
                    let (rs, ps) = (net.pop(pop).size, net.pop(post).size);
                    if rs != 1 && rs != ps {
                        return Err(err(format!("the reward population `{}` has {rs} neurons: one per post neuron ({ps}) or one for all", r.pop)));
                    }
                    Some(pop.index() as u32)
                }
                None => None,
            };
            let planned = stdp::plan(net, p, st, q, sy, reward).map_err(err)?;
            Ok(Compiled { rule: LearningRule::Stdp(planned.rule.clone()), program: planned.program.clone(), stdp: Some(planned) })
        }
        Plasticity::Loihi(l) => {
            let parse = |s: &Option<String>| -> Result<Vec<loihi::Product>> { s.as_deref().map_or(Ok(vec![]), |s| loihi::parse(s).map_err(err)) };
            let (dw, dd, dt) = (parse(&l.dw)?, parse(&l.dd)?, parse(&l.dt)?);
            let decimation = loihi::decimation(&[&dw, &dd, &dt]).map_err(err)?;
            let sign_mode = p.sign_mode();
            let (program, operands) = loihi::program(&dw, &dd, &dt, sign_mode).map_err(err)?;
            let t = |q: usize| TraceSpec::new(l.impulse[q], l.tau[q]);
            let reward = match &l.reward {
                Some(r) => {
                    let pop = net.find(&r.pop).ok_or_else(|| err(format!("no reward population `{}`", r.pop)))?;
                    let (rs, ps) = (net.pop(pop).size, net.pop(post).size);
                    if rs != 1 && rs != ps {
                        return Err(err(format!("the reward population `{}` has {rs} neurons: one per post neuron ({ps}) or one for all", r.pop)));
                    }
                    if r.weight.fract() != 0.0 || r.weight < i32::MIN as f64 || r.weight > i32::MAX as f64 {
                        return Err(err(format!("reward_weight {} is not an integer in {}..={}", crate::error::num(r.weight), i32::MIN, i32::MAX)));
                    }
                    Some(Reward { pop: nerve_isa::ids::PopId(pop.index() as u32), weight: r.weight as i32, y1_impulse: r.y1_impulse, y1_tau: r.y1_tau })
                }
                None => None,
            };
            // A third factor's post traces come from the neuron: lava's Loihi3FLearningRule sets them to impulse 0, tau 65535.
            let y = match reward {
                Some(_) => [TraceSpec::new(0.0, 65535.0); 3],
                None => [t(2), t(3), t(4)],
            };
            Ok(Compiled {
                rule: LearningRule::Loihi(LoihiRule {
                    t_epoch: l.t_epoch,
                    x: [t(0), t(1)],
                    y,
                    rng_seed: l.rng_seed,
                    program: nerve_isa::ids::KernelId(u32::MAX),
                    operands,
                    decimation,
                    sign_mode,
                    reward,
                    text: [l.dw.clone().unwrap_or_default(), l.dd.clone().unwrap_or_default(), l.dt.clone().unwrap_or_default()],
                }),
                program,
                stdp: None,
            })
        }
    }
}

/// Why a projection's `plasticity` cannot be: the key it is about (a path
/// within the `plasticity` object, `weight_dependence.w_max`; empty for the
/// object itself) and the reason.
#[derive(Debug)]
pub struct Bad {
    pub key: String,
    pub reason: String,
}

/// The one check of a learning rule, before anything is compiled: the JSON
/// reader (which names the key's JSON path) and the Rust builder (which
/// names the projection) both run it. The rule's type against the post
/// population's model, every number's range (NaN refused), w_min ≤ w_max,
/// the rule strings, the reward population.
pub fn check(net: &Network, post: PopIx, pl: &Plasticity) -> std::result::Result<(), Bad> {
    let bad = |key: &str, reason: String| Err(Bad { key: key.to_string(), reason });
    let n = crate::error::num;
    let pop = net.pop(post);
    let into_loihi = pop.model.neuron_model().is_some_and(|m| m.integer_weights());
    let reward_pop = |name: &str| -> std::result::Result<(), Bad> {
        match net.find(name) {
            Some(_) => Ok(()),
            None => bad("reward", format!("no population `{name}` (the reward must be a population defined before this projection)")),
        }
    };
    match pl {
        Plasticity::Loihi(l) => {
            if !into_loihi {
                return bad(
                    "type",
                    format!("Loihi learning rules act on lava's integer weights: the target `{}` must be a loihi_lif population (PyNN-style models take \"type\": \"stdp\")", pop.name),
                );
            }
            for (k, s) in [("dw", &l.dw), ("dd", &l.dd), ("dt", &l.dt)] {
                if let Some(s) = s {
                    loihi::parse(s).map_err(|reason| Bad { key: k.into(), reason })?;
                }
            }
            if l.dw.is_none() && l.dd.is_none() && l.dt.is_none() {
                return bad("", "a Loihi rule needs at least one of dw, dd, dt".into());
            }
            let range = |k: &str, v: f64, lo: f64, hi: f64| -> std::result::Result<(), Bad> {
                if (lo..=hi).contains(&v) {
                    Ok(())
                } else {
                    bad(k, format!("`{k}` must be in {}..={}, found {}", n(lo), n(hi), n(v)))
                }
            };
            // A 3F rule's post traces come from the neuron and the reward.
            let traces = if l.reward.is_some() { 2 } else { 5 };
            for (q, name) in ["x1", "x2", "y1", "y2", "y3"].iter().enumerate().take(traces) {
                range(&format!("{name}_impulse"), l.impulse[q], 0.0, 127.0)?;
                range(&format!("{name}_tau"), l.tau[q], 0.0, 1e9)?;
            }
            if !(1..=63).contains(&l.t_epoch) {
                return bad("t_epoch", format!("`t_epoch` must be in 1..=63 steps, found {}", l.t_epoch));
            }
            if let Some(r) = &l.reward {
                reward_pop(&r.pop)?;
                // The learning engine multiplies by it as a 32-bit integer.
                if r.weight.fract() != 0.0 || !(i32::MIN as f64..=i32::MAX as f64).contains(&r.weight) {
                    return bad("reward_weight", format!("`reward_weight` must be an integer in {}..={}, found {}", i32::MIN, i32::MAX, n(r.weight)));
                }
                range("y1_impulse", r.y1_impulse, 0.0, 127.0)?;
                range("y1_tau", r.y1_tau, 0.0, 1e9)?;
            }
        }
        Plasticity::Stdp(st) => {
            if into_loihi {
                return bad(
                    "type",
                    format!(
                        "PyNN's STDP acts on weights in nA: `{}` is a loihi_lif population, whose integer weights learn with \"type\": \"loihi\"",
                        pop.name
                    ),
                );
            }
            let sign = |k: &str, v: f64, positive: bool| -> std::result::Result<(), Bad> {
                if !v.is_finite() || (positive && v <= 0.0) || v < 0.0 {
                    let name = k.rsplit('.').next().unwrap_or(k);
                    return bad(k, format!("`{name}` must be a {} number, found {}", if positive { "positive" } else { "non-negative" }, n(v)));
                }
                Ok(())
            };
            sign("timing_dependence.tau_plus", st.tau_plus, true)?;
            sign("timing_dependence.tau_minus", st.tau_minus, true)?;
            sign("timing_dependence.A_plus", st.a_plus, false)?;
            sign("timing_dependence.A_minus", st.a_minus, false)?;
            sign("weight_dependence.w_min", st.w_min, false)?;
            sign("weight_dependence.w_max", st.w_max, false)?;
            if st.w_min > st.w_max {
                return bad("weight_dependence", format!("w_min {} exceeds w_max {}", n(st.w_min), n(st.w_max)));
            }
            if let Some(r) = &st.reward {
                reward_pop(&r.pop)?;
                sign("reward_weight", r.weight, true)?;
                // The third factor is a 16-bit S4.11 number: beyond it the weight was clamped, below half a unit it was 0.
                let one = nerve_isa::learning::stdp::ONE as f64;
                let (lo, hi) = (0.5 / one, i16::MAX as f64 / one);
                if !(lo..=hi).contains(&r.weight) {
                    return bad(
                        "reward_weight",
                        format!("`reward_weight` must be in {lo}..={hi} (a 16-bit number with 11 fraction bits), found {}", n(r.weight)),
                    );
                }
                sign("reward_tau", r.tau, true)?;
            }
            if let Some(s) = st.weight_shift.filter(|&s| s > 16) {
                return bad("weight_shift", format!("`weight_shift` must be in 0..=16, found {s}"));
            }
        }
    }
    Ok(())
}
