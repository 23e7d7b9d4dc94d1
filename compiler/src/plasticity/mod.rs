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
            let sign_mode = p.loihi.sign_mode;
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
