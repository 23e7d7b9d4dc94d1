//! Neuron models: one file each, behind one trait, registered in [`MODELS`].
//!
//! A model says what it is called (in the network format, PyNN and NIR),
//! which parameters it takes (with units, defaults and ranges: the JSON
//! front end reads and checks them from this table, and the docs list
//! them), which state variables take initial values, and how it becomes a
//! fixed-point kernel for a core (`lower`). Adding a model is one new file
//! here plus its line in [`MODELS`].
//!
//! Spike sources (arrays, Poisson generators, external input) are not
//! neuron models: they receive no synapses and are variants of
//! [`crate::net::model::Model`] of their own.

/// The registry: each model file and the models it defines. Adding a
/// model is its file plus one line here.
macro_rules! registry {
    ($( $file:ident: [$($model:ident),*], )*) => {
        $( pub mod $file; )*
        /// Every neuron model, in the order the docs list them.
        pub static MODELS: &[&dyn NeuronModel] = &[$( $( &$file::$model, )* )*];
    };
}

registry! {
    lif: [LIF, IF, ADAPTIVE_LIF],
    izhikevich: [IZHIKEVICH],
    loihi_lif: [LOIHI_LIF],
    nir: [THRESHOLD, I, IF, LI, LIF, CUBA_LI, CUBA_LIF],
    relay: [RELAY],
}

pub mod poisson;

use nerve_isa::arch::Arch;

use crate::error::Result;
use crate::lower::{Incoming, Lowered};
use crate::net::model::{Population, Receptor, Values};

/// The model of this name.
pub fn find(name: &str) -> Option<&'static dyn NeuronModel> {
    MODELS.iter().copied().find(|m| m.name() == name)
}

/// A parameter's default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Default {
    Value(f64),
    /// The network must give it.
    Required,
    /// It may be left out, which means something of its own (the model's doc says what).
    Optional,
}

/// The values a parameter may take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    Any,
    /// > 0.
    Positive,
    /// ≥ 0.
    NonNegative,
    /// Integers in lo..=hi.
    Int(i64, i64),
}

impl Range {
    /// Why `x` is out of range, if it is.
    pub fn check(self, name: &str, x: f64) -> Option<String> {
        match self {
            Range::Any => x.is_nan().then(|| format!("`{name}` must be a number, found {x}")),
            Range::Positive => (x.is_nan() || x <= 0.0).then(|| format!("`{name}` must be > 0 (found {x})")),
            Range::NonNegative => (x.is_nan() || x < 0.0).then(|| format!("`{name}` must be ≥ 0 (found {x})")),
            Range::Int(lo, hi) => (x.fract() != 0.0 || x < lo as f64 || x > hi as f64).then(|| format!("`{name}` must be integers in {lo}..={hi}, found {x}")),
        }
    }
}

/// One parameter of a model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub unit: &'static str,
    pub default: Default,
    pub range: Range,
    pub doc: &'static str,
}

/// A state variable that takes an initial value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarSpec {
    pub name: &'static str,
    pub unit: &'static str,
    /// Initial values must be integers of this many bits (signed), or any number.
    pub int_bits: Option<u8>,
    /// The initial value when the network gives none.
    pub initial: Initial,
}

/// A state variable's initial value when the network gives none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Initial {
    Value(f64),
    /// The value of one of the model's parameters (`v` starts at `v_rest`).
    Param(&'static str),
}

impl Params {
    /// A state variable's initial values for `n` neurons as the model starts
    /// them: the population's `initial`, else the variable's default.
    pub fn initial(&self, pop: &Population, var: &VarSpec) -> Vec<f64> {
        let default = match var.initial {
            Initial::Value(x) => Values::Scalar(x),
            Initial::Param(p) => self.get(p).clone(),
        };
        // An integer variable's uniform draw is of integers (`initial_int`), so that
        // every reader (the kernel's state, the lava export, --save-network) agrees.
        match var.int_bits {
            Some(_) => crate::lower::fixed::initial_int(pop, var.name, &default).into_iter().map(f64::from).collect(),
            None => crate::lower::fixed::initial(pop, var.name, &default),
        }
    }
}

/// A model's parameter values for one population, aligned with its spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    specs: &'static [ParamSpec],
    values: Vec<Option<Values>>,
}

impl Params {
    /// The defaults of `specs` (required and optional parameters unset).
    pub fn defaults(specs: &'static [ParamSpec]) -> Params {
        Params {
            specs,
            values: specs
                .iter()
                .map(|s| match s.default {
                    Default::Value(v) => Some(Values::Scalar(v)),
                    Default::Required | Default::Optional => None,
                })
                .collect(),
        }
    }
    fn index(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.name == name)
    }
    /// A parameter's values, if set.
    pub fn opt(&self, name: &str) -> Option<&Values> {
        self.index(name).and_then(|i| self.values[i].as_ref())
    }
    /// A parameter the model always has: declared with a default, or
    /// required (and so checked present when the population was made).
    pub fn get(&self, name: &str) -> &Values {
        // A model reads its own declared parameters only; `Neuron::new` fills defaults and refuses missing required ones.
        self.opt(name).unwrap_or_else(|| panic!("parameter `{name}` is declared and set"))
    }
    /// Sets a parameter; `Err` if the model has no such parameter.
    pub fn set(&mut self, name: &str, v: Values) -> std::result::Result<(), String> {
        let i = self.index(name).ok_or_else(|| format!("no parameter `{name}`"))?;
        self.values[i] = Some(v);
        Ok(())
    }
    pub fn specs(&self) -> &'static [ParamSpec] {
        self.specs
    }
    /// (spec, values) of every parameter that is set.
    pub fn iter(&self) -> impl Iterator<Item = (&'static ParamSpec, &Values)> {
        self.specs.iter().zip(&self.values).filter_map(|(s, v)| v.as_ref().map(|v| (s, v)))
    }
}

/// A population's neuron model with its parameters.
#[derive(Clone)]
pub struct Neuron {
    pub model: &'static dyn NeuronModel,
    pub params: Params,
}

impl PartialEq for Neuron {
    fn eq(&self, o: &Self) -> bool {
        self.model.name() == o.model.name() && self.params == o.params
    }
}

impl std::fmt::Debug for Neuron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Neuron").field("model", &self.model.name()).field("params", &self.params.values).finish()
    }
}

impl Neuron {
    /// Model `name` with the given parameters (the others at their defaults).
    /// Values are checked when the population is made (`check`), when its size is known.
    pub fn new(name: &str, given: Vec<(&str, Values)>) -> std::result::Result<Neuron, String> {
        let model = find(name).ok_or_else(|| format!("unknown model `{name}` (known: {})", names().join(", ")))?;
        let mut params = Params::defaults(model.params());
        for (k, v) in given {
            params.set(k, v).map_err(|e| format!("`{name}`: {e}"))?;
        }
        Ok(Neuron { model, params })
    }
    /// Checks every parameter of a population of `n` neurons: per-neuron
    /// arrays of length `n`, values in range, the model's own rules;
    /// `Err((parameter, message))`.
    pub fn check(&self, n: usize) -> std::result::Result<(), (&'static str, String)> {
        for s in self.params.specs {
            match self.params.opt(s.name) {
                Some(v) => {
                    if let Values::PerNeuron(x) = v {
                        if x.len() != n {
                            return Err((s.name, format!("`{}` has {} values for {n} neurons", s.name, x.len())));
                        }
                    }
                    for &x in v.stored() {
                        if let Some(m) = s.range.check(s.name, x) {
                            return Err((s.name, m));
                        }
                    }
                }
                None if s.default == Default::Required => return Err((s.name, format!("missing required parameter `{}`", s.name))),
                None => {}
            }
        }
        self.model.check(&self.params, n)
    }
    pub fn label(&self) -> &'static str {
        self.model.label(&self.params)
    }
}

/// The names of the models the JSON format accepts.
pub fn names() -> Vec<&'static str> {
    MODELS.iter().filter(|m| m.in_json()).map(|m| m.name()).collect()
}

/// A PyNN parameter's value: one of the model's parameters, or a constant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PynnParam {
    Param(&'static str),
    Const(f64),
    /// A membrane time constant that stands for no leak: the backend's
    /// longest it can hold (1e9 ms on NEST; on sPyNNaker, whose tau_m is
    /// S16.15, the export chooses one for the timestep and says so).
    NoLeak,
    /// A refractory period (ms), written as the steps nerve holds a neuron
    /// after its spike: NEST and sPyNNaker hold it one step more than
    /// nerve (ceil(tau_refrac/dt) steps, where nerve holds R − 1,
    /// R = tau_refrac/dt rounded half up), so the export writes R − 1 steps.
    Refractory(&'static str),
}

/// How a model maps to a PyNN cell type (PyNN's units: ms, mV, nA, nF).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PynnMap {
    pub cell: &'static str,
    /// PyNN parameter ← its value.
    pub params: &'static [(&'static str, PynnParam)],
    /// PyNN initial-value name ← nerve state variable.
    pub state: &'static [(&'static str, &'static str)],
    /// PyNN weight = nerve weight × this.
    pub weight_scale: f64,
    /// How the PyNN cell differs from nerve's model, if it does.
    pub note: &'static str,
}

/// What lowering a population needs besides the population.
pub struct Cx<'a> {
    pub arch: &'a Arch,
    /// The network's timestep, ms.
    pub dt_ms: f64,
}

/// A neuron model.
pub trait NeuronModel: Sync + Send {
    /// The name in the network format (`lif`).
    fn name(&self) -> &'static str;
    /// One line on what it computes.
    fn about(&self) -> &'static str;
    fn params(&self) -> &'static [ParamSpec];
    /// State variables that take initial values (the network format's `initial`).
    fn state(&self) -> &'static [VarSpec];
    /// Its input receptors.
    fn receptors(&self) -> &'static [Receptor] {
        &[Receptor::Excitatory, Receptor::Inhibitory]
    }
    /// Whether weights into it are the hardware's integers (with the
    /// projection's `weight_exp`, `num_weight_bits`, `sign_mode`), not
    /// physical units; the sign of the weight then decides the receptor.
    fn integer_weights(&self) -> bool {
        false
    }
    /// Whether the JSON network format accepts it (NIR's neurons come from NIR files).
    fn in_json(&self) -> bool {
        true
    }
    /// The name in reports and the image's symbol table (may depend on the parameters).
    fn label(&self, _p: &Params) -> &'static str {
        self.name()
    }
    /// PyNN's cell type for it and how its parameters map, where one matches.
    fn pynn(&self) -> Option<&'static PynnMap> {
        None
    }
    /// Whether it is lava-nc's `LIF` exactly (bit for bit) with these parameters.
    fn lava_lif(&self, _p: &Params) -> bool {
        false
    }
    /// NIR's primitive for it, where one matches.
    fn nir(&self) -> Option<&'static str> {
        None
    }
    /// Rules between parameters beyond their ranges; `Err((parameter, message))`.
    fn check(&self, _p: &Params, _n: usize) -> std::result::Result<(), (&'static str, String)> {
        Ok(())
    }
    /// Advice for a parameter the model does not take.
    fn hint(&self, _key: &str) -> Option<&'static str> {
        None
    }
    /// The per-step input (in its excitatory weight's units, nA) that gives
    /// neuron `n` a steady current of 1 nA at `dt_ms` (a gap junction's
    /// g·Δv enters times it). A model with an exponential excitatory
    /// current (`tau_syn_E`) adds each step's input to that current, which
    /// then decays, so a constant input x carries the charge x·τ a step and
    /// the current is x·τ/dt: dt/τ. Otherwise the input is taken as a
    /// current for one step, 1.
    fn current_step(&self, p: &Params, n: usize, dt_ms: f64) -> f64 {
        p.opt("tau_syn_E").map_or(1.0, |t| (dt_ms / t.get(n)).min(1.0))
    }
    /// The population as a kernel, its parameters and initial state, its
    /// input ports and the quantisation of each projection into it.
    fn lower(&self, cx: &Cx, pop: &Population, p: &Params, incoming: &[Incoming]) -> Result<Lowered>;
}
