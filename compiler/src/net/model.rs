//! The network graph IR: populations are nodes, projections are edges of a
//! petgraph `DiGraph`. Node and edge insertion order is the canonical order of
//! everything downstream, so the same network gives the same image.

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};

pub use crate::models::{Neuron, NeuronModel, VarSpec};
pub use nerve_isa::learning::SignMode;

/// A population's index in the graph (insertion order).
pub type PopIx = NodeIndex<u32>;
/// A projection's index in the graph (insertion order).
pub type ProjIx = EdgeIndex<u32>;

/// A parameter: one value for the population or one per neuron.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Scalar(f64),
    PerNeuron(Vec<f64>),
}

impl Values {
    #[inline]
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Values::Scalar(v) => *v,
            Values::PerNeuron(v) => v[i],
        }
    }
    pub fn is_uniform(&self) -> bool {
        match self {
            Values::Scalar(_) => true,
            Values::PerNeuron(v) => v.windows(2).all(|w| w[0] == w[1]),
        }
    }
    pub fn iter(&self, n: usize) -> impl Iterator<Item = f64> + '_ {
        (0..n).map(move |i| self.get(i))
    }
    /// The values as stored: one for a scalar, whatever the population's
    /// size (checks go over these, not over every neuron).
    pub fn stored(&self) -> &[f64] {
        match self {
            Values::Scalar(v) => std::slice::from_ref(v),
            Values::PerNeuron(v) => v,
        }
    }
    pub fn min_max(&self, _n: usize) -> (f64, f64) {
        self.stored().iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
    }
}

impl From<f64> for Values {
    fn from(v: f64) -> Self {
        Values::Scalar(v)
    }
}

/// An initial value.
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    Values(Values),
    /// Uniform on [lo, hi), drawn per neuron in order from `seed`.
    Uniform {
        lo: f64,
        hi: f64,
        seed: u64,
    },
}

/// How NIR-style neurons reset after a spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetMode {
    /// v ← v_reset.
    ToReset,
    /// v ← v − v_threshold.
    Subtract,
}

/// The model of a population: a neuron model of the registry
/// (`crate::models`) with its parameters, or a spike source.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    Neuron(Neuron),
    /// Spike times in ms, per neuron.
    SpikeSourceArray(Vec<Vec<f64>>),
    /// Rate in Hz; neuron i's generator is seeded from `seed` and i.
    SpikeSourcePoisson {
        rate: Values,
        seed: u64,
    },
    /// An input population: spikes are supplied when the image is run.
    Input,
}

impl Model {
    /// Neuron model `name` with the given parameters (the rest at their defaults).
    pub fn neuron(name: &str, params: Vec<(&str, Values)>) -> Result<Model, String> {
        Ok(Model::Neuron(Neuron::new(name, params)?))
    }
    /// The name in reports and the image's symbol table.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Neuron(n) => n.label(),
            Model::SpikeSourceArray(_) => "spike_source_array",
            Model::SpikeSourcePoisson { .. } => "spike_source_poisson",
            Model::Input => "input",
        }
    }
    /// True for models that receive no synaptic input.
    pub fn is_source(&self) -> bool {
        match self {
            Model::SpikeSourceArray(_) | Model::SpikeSourcePoisson { .. } | Model::Input => true,
            Model::Neuron(_) => false,
        }
    }
    /// The input receptors of the model.
    pub fn receptors(&self) -> &'static [Receptor] {
        match self {
            Model::Neuron(n) => n.model.receptors(),
            Model::SpikeSourceArray(_) | Model::SpikeSourcePoisson { .. } | Model::Input => &[],
        }
    }
    /// The neuron model, for a neuron population.
    pub fn neuron_model(&self) -> Option<&'static dyn NeuronModel> {
        match self {
            Model::Neuron(n) => Some(n.model),
            Model::SpikeSourceArray(_) | Model::SpikeSourcePoisson { .. } | Model::Input => None,
        }
    }
    /// State variables that take initial values.
    pub fn state(&self) -> &'static [VarSpec] {
        match self {
            Model::Neuron(n) => n.model.state(),
            Model::SpikeSourceArray(_) | Model::SpikeSourcePoisson { .. } | Model::Input => &[],
        }
    }
}

/// A population of neurons.
#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    pub name: String,
    pub size: u32,
    pub model: Model,
    /// Initial values by variable name (`v`, `u`, ...), in file order.
    pub initial: Vec<(String, Init)>,
    pub record_spikes: bool,
    /// Most neurons per core for this population (a user constraint, below the core limit).
    pub max_per_core: Option<u32>,
    /// Per neuron, its name (`labels`), or empty: carried to the image,
    /// recordings and pictures; `from_list` files may name neurons by them.
    pub labels: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Receptor {
    Excitatory,
    Inhibitory,
}

impl Receptor {
    pub fn name(self) -> &'static str {
        match self {
            Receptor::Excitatory => "excitatory",
            Receptor::Inhibitory => "inhibitory",
        }
    }
}

/// One explicit connection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conn {
    pub pre: u32,
    pub post: u32,
    pub weight: Option<f64>,
    pub delay: Option<f64>,
}

/// Explicit connections, stored column by column: lists reach millions of
/// connections (a 16k-neuron network has 5M), 8 bytes each without weights or
/// delays against 40 as `Conn` structs.
///
/// A weight (delay) column exists once any connection gives a weight (delay);
/// in it, a connection that gives none holds NaN. Given values are finite (the
/// readers reject others), so NaN cannot be mistaken for a value.
#[derive(Clone, Debug, Default)]
pub struct ConnList {
    pub pre: Vec<u32>,
    pub post: Vec<u32>,
    pub weight: Option<Vec<f64>>,
    pub delay: Option<Vec<f64>>,
}

impl ConnList {
    pub fn len(&self) -> usize {
        self.pre.len()
    }
    pub fn is_empty(&self) -> bool {
        self.pre.is_empty()
    }
    pub fn push(&mut self, c: Conn) {
        let k = self.pre.len();
        self.pre.push(c.pre);
        self.post.push(c.post);
        put(&mut self.weight, k, c.weight);
        put(&mut self.delay, k, c.delay);
    }
    pub fn get(&self, k: usize) -> Conn {
        let at = |col: &Option<Vec<f64>>| col.as_ref().map(|c| c[k]).filter(|x| !x.is_nan());
        Conn { pre: self.pre[k], post: self.post[k], weight: at(&self.weight), delay: at(&self.delay) }
    }
    pub fn iter(&self) -> impl Iterator<Item = Conn> + '_ {
        (0..self.len()).map(|k| self.get(k))
    }
}

fn put(col: &mut Option<Vec<f64>>, k: usize, v: Option<f64>) {
    match (col.as_mut(), v) {
        (Some(c), v) => c.push(v.unwrap_or(f64::NAN)),
        (None, Some(x)) => {
            let mut c = vec![f64::NAN; k];
            c.push(x);
            *col = Some(c);
        }
        (None, None) => {}
    }
}

impl FromIterator<Conn> for ConnList {
    fn from_iter<I: IntoIterator<Item = Conn>>(it: I) -> Self {
        let mut l = ConnList::default();
        for c in it {
            l.push(c);
        }
        l
    }
}

/// Connection by connection (NaN, "not given", equals NaN).
impl PartialEq for ConnList {
    fn eq(&self, o: &Self) -> bool {
        self.len() == o.len() && self.iter().zip(o.iter()).all(|(a, b)| a == b)
    }
}

/// A 2-D convolution between populations laid out as (channels, height, width), row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    pub in_shape: [u32; 3],
    pub out_shape: [u32; 3],
    /// Weights (out channel, in channel, kh, kw), row-major.
    pub weights: Vec<f64>,
    pub kernel: [u32; 2],
    pub stride: [u32; 2],
    pub padding: [u32; 2],
    pub dilation: [u32; 2],
    pub groups: u32,
}

/// A 2-D sum pooling (each channel separately); `scale` multiplies every weight
/// (1 for sum pooling, 1/(kh·kw) for average pooling).
#[derive(Clone, Debug, PartialEq)]
pub struct Pool2d {
    pub in_shape: [u32; 3],
    pub out_shape: [u32; 3],
    pub kernel: [u32; 2],
    pub stride: [u32; 2],
    pub padding: [u32; 2],
    pub scale: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Connector {
    AllToAll {
        allow_self_connections: bool,
    },
    OneToOne,
    FixedProbability {
        p: f64,
        seed: u64,
        allow_self_connections: bool,
    },
    /// Each post neuron receives from `n` distinct pre neurons.
    FixedNumberPre {
        n: u32,
        seed: u64,
        allow_self_connections: bool,
    },
    /// Each pre neuron projects to `n` distinct post neurons.
    FixedNumberPost {
        n: u32,
        seed: u64,
        allow_self_connections: bool,
    },
    FromList(ConnList),
    /// post × pre weights; zero means no synapse.
    Dense(Vec<Vec<f64>>),
    Conv2d(Box<Conv2d>),
    Pool2d(Box<Pool2d>),
}

impl Connector {
    pub fn name(&self) -> &'static str {
        match self {
            Connector::AllToAll { .. } => "all_to_all",
            Connector::OneToOne => "one_to_one",
            Connector::FixedProbability { .. } => "fixed_probability",
            Connector::FixedNumberPre { .. } => "fixed_number_pre",
            Connector::FixedNumberPost { .. } => "fixed_number_post",
            Connector::FromList(_) => "from_list",
            Connector::Dense(_) => "dense",
            Connector::Conv2d(_) => "conv2d",
            Connector::Pool2d(_) => "pool2d",
        }
    }
}

/// Lava's weight handling for projections into `loihi_lif`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoihiWeights {
    pub weight_exp: i8,
    pub num_weight_bits: u8,
    /// lava's sign mode: mixed (−256..255), excitatory (0..255) or inhibitory
    /// (−255..0) weights; `None`: lava's default ([`Projection::sign_mode`]).
    pub sign_mode: Option<SignMode>,
}

impl Default for LoihiWeights {
    fn default() -> Self {
        LoihiWeights { weight_exp: 0, num_weight_bits: 8, sign_mode: None }
    }
}

/// A projection between two populations.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// `pre→post` plus `#k` when several projections join the same pair; used in messages.
    pub label: String,
    pub receptor: Receptor,
    pub connector: Connector,
    /// Weight for every synapse the connector does not give one (nA; integer for loihi_lif).
    pub weight: Option<f64>,
    /// Delay in ms for every synapse the connector does not give one; `None`: one timestep.
    pub delay_ms: Option<f64>,
    pub loihi: LoihiWeights,
    /// A learning rule, if the projection's weights learn (boxed: most
    /// projections have none, and the rule is larger than the rest).
    pub plasticity: Option<Box<Plasticity>>,
}

impl Projection {
    /// lava's sign mode for the projection's weights: the one given, else
    /// lava's default. That is `LearningDense`'s `mixed` for a learning
    /// projection; a static `Dense`, `Sparse` or `DelayDense` takes what
    /// lava's `determine_sign_mode` makes of its weights: `excitatory` when
    /// none is negative, else `inhibitory` when none is positive, else `mixed`
    /// (defaulting to `mixed` dropped the last bit of every all-positive
    /// projection's weights, where lava keeps all 8).
    pub fn sign_mode(&self) -> SignMode {
        if let Some(m) = self.loihi.sign_mode {
            return m;
        }
        if self.plasticity.is_some() {
            return SignMode::Mixed;
        }
        let (neg, pos) = self.weight_signs();
        match (neg, pos) {
            (false, _) => SignMode::Excitatory,
            (true, false) => SignMode::Inhibitory,
            (true, true) => SignMode::Mixed,
        }
    }

    /// Whether any of the weights the connector gives is negative, and
    /// whether any is positive (a list's entry without one takes `weight`).
    pub fn weight_signs(&self) -> (bool, bool) {
        let scalar = self.weight.unwrap_or(0.0);
        let mut signs = (false, false);
        let mut see = |w: f64| {
            signs.0 |= w < 0.0;
            signs.1 |= w > 0.0;
        };
        match &self.connector {
            Connector::FromList(l) => match &l.weight {
                Some(col) => col.iter().for_each(|&w| see(if w.is_nan() { scalar } else { w })),
                None if !l.is_empty() => see(scalar),
                None => {}
            },
            Connector::Dense(m) => m.iter().flatten().for_each(|&w| see(w * self.weight.unwrap_or(1.0))),
            Connector::Conv2d(c) => c.weights.iter().for_each(|&w| see(w * self.weight.unwrap_or(1.0))),
            Connector::Pool2d(c) => see(self.weight.unwrap_or(1.0) * c.scale),
            _ => see(scalar),
        }
        signs
    }
}

/// A projection's learning rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Plasticity {
    /// Loihi's learning engine, with lava-nc's `LoihiLearningRule` arguments.
    Loihi(LoihiPlasticity),
    /// Pair STDP as PyNN's `STDPMechanism` names it, in sPyNNaker's fixed point.
    Stdp(StdpPlasticity),
}

/// PyNN's `STDPMechanism(timing_dependence=SpikePairRule(tau_plus, tau_minus,
/// A_plus, A_minus), weight_dependence=Additive|MultiplicativeWeightDependence(w_min, w_max))`.
#[derive(Clone, Debug, PartialEq)]
pub struct StdpPlasticity {
    /// ms.
    pub tau_plus: f64,
    pub tau_minus: f64,
    pub a_plus: f64,
    pub a_minus: f64,
    pub multiplicative: bool,
    /// The weight bounds, in the projection's units (nA), as magnitudes.
    pub w_min: f64,
    pub w_max: f64,
    /// A third factor: a population whose spikes set the learning rate.
    pub reward: Option<StdpReward>,
    /// The weight words' shift (sPyNNaker's ring-buffer left shift), to
    /// match a board's; default: the finest that holds the weights and w_max.
    pub weight_shift: Option<u8>,
}

/// A reward-modulated STDP's third factor: each post neuron's reward level
/// rises by `weight` at each spike of its reward neuron (the population's
/// neuron j for post neuron j, or its one neuron for all) and decays with
/// `tau` ms; potentiation and depression are scaled by it (0: no learning).
#[derive(Clone, Debug, PartialEq)]
pub struct StdpReward {
    pub pop: String,
    pub weight: f64,
    pub tau: f64,
}

/// lava-nc's `Loihi2FLearningRule` / `Loihi3FLearningRule` arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct LoihiPlasticity {
    /// Rule strings for the weight (dw), delay tag (dd) and tag (dt).
    pub dw: Option<String>,
    pub dd: Option<String>,
    pub dt: Option<String>,
    /// Impulse and time constant of x1, x2, y1, y2, y3 (impulse 0 and tau 0 when not given, as lava).
    pub impulse: [f64; 5],
    pub tau: [f64; 5],
    pub t_epoch: u16,
    pub rng_seed: u64,
    /// Third factor: the reward population, its weight, and the post neuron's own y1 trace.
    pub reward: Option<RewardSpec>,
}

/// Where a third factor comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct RewardSpec {
    pub pop: String,
    pub weight: f64,
    pub y1_impulse: f64,
    pub y1_tau: f64,
}

/// Shared with image validation, which refuses a hand-edited image beyond them.
pub use nerve_isa::names::{bad_population_name, DT_MS_RANGE};

/// Why a projection's weights cannot go into a model whose kernel takes
/// integer weights as they are (loihi_lif), if they cannot: the first one
/// with a fraction, which would be cut off without a word.
pub fn fractional_weight(model: &str, weight: Option<f64>, connector: &Connector) -> Option<String> {
    let why = |w: f64, at: String| Some(format!("{at}: {model} weights are integers, found {}", crate::error::num(w)));
    if let Some(w) = weight.filter(|w| w.fract() != 0.0) {
        return why(w, "the weight".into());
    }
    match connector {
        // NaN: the connection takes the projection's weight.
        Connector::FromList(l) => l
            .weight
            .iter()
            .flatten()
            .enumerate()
            .find(|(_, w)| !w.is_nan() && w.fract() != 0.0)
            .and_then(|(k, &w)| why(w, format!("connection {k} ({}, {})", l.pre[k], l.post[k]))),
        Connector::Dense(rows) => rows
            .iter()
            .enumerate()
            .find_map(|(j, r)| r.iter().position(|w| w.fract() != 0.0).map(|i| (j, i)))
            .and_then(|(j, i)| why(rows[j][i], format!("dense[{j}][{i}]"))),
        Connector::Conv2d(c) => c.weights.iter().position(|w| w.fract() != 0.0).and_then(|k| why(c.weights[k], format!("conv2d weight {k}"))),
        Connector::Pool2d(p) if p.scale.fract() != 0.0 => why(p.scale, "the pooling's scale (avg_pool2d divides by the kernel's size)".into()),
        _ => None,
    }
}

/// Why `label` cannot label a projection, if it cannot: a line break or
/// other control character would break the rows of `--save-weights` and of
/// the compile report, a noncharacter the SVG pictures ([`nerve_isa::names::bad_char`]).
pub fn bad_projection_label(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("a projection label cannot be empty".into());
    }
    let c = label.chars().find(|&c| nerve_isa::names::bad_char(c))?;
    Some(format!("projection label \"{}\" holds {c:?}: a label cannot hold control characters or noncharacters (U+FFFE, U+FFFF, …)", label.escape_debug()))
}

/// A whole network.
#[derive(Clone, Debug)]
pub struct Network {
    pub name: String,
    pub dt_ms: f64,
    /// How long the network is meant to run, ms, if it says (exporters' default run).
    pub duration_ms: Option<f64>,
    pub graph: DiGraph<Population, Projection, u32>,
    /// Electrical synapses (gap junctions, `"receptor": "electrical"`): kept
    /// apart from the graph's projections, which carry spikes; each step the
    /// post neuron receives g·(v_pre − v_post) (docs/network-format.md).
    pub electrical: Vec<Electrical>,
}

/// A projection of electrical synapses: its weights are conductances (µS).
#[derive(Clone, Debug)]
pub struct Electrical {
    pub pre: PopIx,
    pub post: PopIx,
    pub p: Projection,
    /// Its position among the network's projections as given (spike-carrying
    /// and electrical together, the network file's `projections` order).
    pub position: usize,
}

impl Network {
    pub fn new(name: impl Into<String>, dt_ms: f64) -> Network {
        Network { name: name.into(), dt_ms, duration_ms: None, graph: DiGraph::default(), electrical: Vec::new() }
    }
    pub fn pop(&self, p: PopIx) -> &Population {
        &self.graph[p]
    }
    pub fn pops(&self) -> impl Iterator<Item = (PopIx, &Population)> {
        self.graph.node_indices().map(move |i| (i, &self.graph[i]))
    }
    pub fn projections(&self) -> impl Iterator<Item = (ProjIx, PopIx, PopIx, &Projection)> {
        self.graph.edge_indices().map(move |e| {
            // invariant: `e` comes from this graph's own edge_indices()
            let (a, b) = self.graph.edge_endpoints(e).expect("an edge index of this graph has endpoints");
            (e, a, b, &self.graph[e])
        })
    }
    /// A projection's position among the network's projections as given
    /// (the file's `projections` array, electrical ones included): the
    /// index `--save-weights` and `--save-network` name it by. Electrical
    /// projections are not graph edges, so an edge's index counts only the
    /// spike-carrying projections before it.
    pub fn position_of(&self, e: ProjIx) -> usize {
        let mut p = e.index();
        // `electrical` is in the order given, so its positions ascend.
        for el in &self.electrical {
            if el.position <= p {
                p += 1;
            } else {
                break;
            }
        }
        p
    }
    /// The graph edge at a position among the network's projections as
    /// given; `None` for an electrical projection's (or past the end).
    pub fn edge_at(&self, position: usize) -> Option<ProjIx> {
        if self.electrical.iter().any(|el| el.position == position) {
            return None;
        }
        let e = ProjIx::new(position - self.electrical.iter().filter(|el| el.position < position).count());
        (e.index() < self.graph.edge_count()).then_some(e)
    }
    pub fn find(&self, name: &str) -> Option<PopIx> {
        self.graph.node_indices().find(|&i| self.graph[i].name == name)
    }
    pub fn num_pops(&self) -> usize {
        self.graph.node_count()
    }
    pub fn num_neurons(&self) -> u64 {
        self.pops().map(|(_, p)| p.size as u64).sum()
    }
}
