//! Populations → what runs on their cores: neuron models become
//! fixed-point kernels with parameters and initial state (each model's own
//! file in `crate::models` says how), weights become mantissas with
//! per-port exponents ([`quant`]), sources become spike schedules.
//!
//! Physical models (lif, if, adaptive_lif, izhikevich) are discretised with
//! exact propagators where they exist, then quantised: voltages to Q(kv) mV,
//! synaptic currents to Q(kg) nA per receptor, multiplicative factors to
//! Q(sh) with a per-factor shift. The choice of kv, kg and each projection's
//! exponent is documented in docs/quantisation.md; the error it introduces
//! is reported per projection.

pub mod fixed;
pub mod quant;

use nerve_isa::arch::Arch;
use nerve_isa::image::VarSymbol;
use nerve_isa::kernel::Kernel;

use crate::error::{CompileError, Result};
use crate::models::Cx;
use crate::net::expand::Synapses;
use crate::net::model::*;
pub use quant::{Port, ProjQuant};

/// A parameter's fixed-point values over a whole population.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamVals {
    Uniform(i32),
    PerNeuron(Vec<i32>),
}

impl ParamVals {
    pub fn from_vec(v: Vec<i32>) -> ParamVals {
        if v.windows(2).all(|w| w[0] == w[1]) {
            ParamVals::Uniform(v.first().copied().unwrap_or(0))
        } else {
            ParamVals::PerNeuron(v)
        }
    }
}

/// What runs on a population's cores.
#[derive(Clone, Debug)]
pub enum Body {
    Kernel { kernel: Kernel, params: Vec<ParamVals>, state: Vec<Vec<i32>> },
    SpikeArray(Vec<Vec<u32>>),
    External,
}

/// A lowered population.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub body: Body,
    pub ports: Vec<Port>,
    pub vars: Vec<VarSymbol>,
    /// Quantisation of each projection into this population, by projection index.
    pub quant: Vec<(ProjIx, ProjQuant)>,
    /// What the fixed point loses that a run would show, in words (warnings
    /// the compile report carries and the CLI prints).
    pub warnings: Vec<String>,
}

pub(crate) fn bad(pop: &Population, msg: impl Into<String>) -> CompileError {
    CompileError::Network(format!("population `{}` ({}): {}", pop.name, pop.model.name(), msg.into()))
}

/// Incoming projections of a population with their synapses.
pub struct Incoming<'a> {
    pub proj: ProjIx,
    pub p: &'a Projection,
    pub syn: &'a Synapses,
    /// Gap junctions' terms, g·(v_pre − v): of either sign, whatever `syn`'s
    /// weights (g·100 mV, standing in for their size).
    pub electrical: bool,
}

impl Incoming<'_> {
    /// Whether every value the projection delivers is ≥ 0 (`sign` 1) or
    /// ≤ 0 (`sign` −1): its weights, and what a learning rule lets them
    /// become; never for gap junctions.
    pub fn one_signed(&self, sign: f64) -> bool {
        let ok = |w: f64| w * sign >= 0.0;
        let syn = match &self.syn.weights {
            crate::net::expand::Weights::Uniform(w) => ok(*w),
            crate::net::expand::Weights::PerSynapse(v) => v.iter().all(|&w| ok(w)),
        };
        let rule = match self.p.plasticity.as_deref() {
            None => true,
            Some(Plasticity::Stdp(st)) => ok(st.w_min) && ok(st.w_max),
            Some(_) => false,
        };
        !self.electrical && syn && rule
    }
    /// The largest weight the projection can have: its synapses', or what
    /// its STDP rule lets them grow to.
    pub fn max_abs_weight(&self) -> f64 {
        let w = self.syn.max_abs_weight();
        match self.p.plasticity.as_deref() {
            Some(Plasticity::Stdp(st)) => crate::plasticity::stdp::largest_delivered(st, self.syn),
            _ => w,
        }
    }
}

/// Lowers one population.
pub fn lower(arch: &Arch, pop: &Population, incoming: &[Incoming], dt: f64) -> Result<Lowered> {
    match &pop.model {
        Model::Neuron(nm) => {
            let l = nm.model.lower(&Cx { arch, dt_ms: dt }, pop, &nm.params, incoming)?;
            // A profile with a small kernel memory or few slots: this
            // population's error, not an invalid image at the end.
            if let Body::Kernel { kernel, .. } = &l.body {
                if let Some((what, key, need, max)) = kernel.core_needs(&arch.core).into_iter().find(|&(_, _, need, max)| need > max) {
                    return Err(CompileError::DoesNotFit {
                        population: pop.name.clone(),
                        arch: arch.name.clone(),
                        limit: format!("its kernel `{}`'s {what} ({key})", kernel.name),
                        required: need,
                        available: max,
                        hint: String::new(),
                    });
                }
            }
            Ok(l)
        }
        Model::SpikeSourceArray(times) => {
            let steps = times.iter().map(|ts| ts.iter().map(|&t| nerve_isa::time::steps_of(t, dt) as u32).collect()).collect();
            Ok(Lowered { body: Body::SpikeArray(steps), ports: vec![], vars: vec![], quant: vec![], warnings: vec![] })
        }
        Model::SpikeSourcePoisson { rate, seed } => crate::models::poisson::lower(pop, rate, *seed, dt),
        Model::Input => Ok(Lowered { body: Body::External, ports: vec![], vars: vec![], quant: vec![], warnings: vec![] }),
    }
}
