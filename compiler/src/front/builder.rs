//! A Rust API for building networks without a file.
//!
//! ```
//! use nerve_compiler::front::builder::NetworkBuilder;
//! use nerve_compiler::net::model::*;
//! let mut b = NetworkBuilder::new("demo", 1.0);
//! let src = b.population("src", 10, Model::SpikeSourcePoisson { rate: 20.0.into(), seed: 1 }).unwrap();
//! let lif = b.population("lif", 20, Model::neuron("lif", vec![("tau_m", 10.0.into())]).unwrap()).unwrap();
//! b.record(lif);
//! b.project(src, lif, Connector::FixedProbability { p: 0.5, seed: 2, allow_self_connections: true })
//!     .weight(0.5).delay_ms(1.0).add().unwrap();
//! let net = b.finish().unwrap();
//! assert_eq!(net.num_neurons(), 30);
//! ```

use crate::error::{CompileError, Result};
use crate::net::model::*;

pub struct NetworkBuilder {
    net: Network,
    /// The projections' labels so far, looked up per projection.
    labels: std::collections::HashSet<String>,
    /// A misuse met by a call that returns no `Result` (`record` of a
    /// population this builder did not make), said by `finish`.
    misuse: Option<String>,
}

pub struct ProjectionBuilder<'a> {
    b: &'a mut NetworkBuilder,
    pre: PopIx,
    post: PopIx,
    p: Projection,
    /// Whether `label` named it (a given label must be new; a default one is numbered).
    labelled: bool,
}

impl NetworkBuilder {
    pub fn new(name: &str, dt_ms: f64) -> NetworkBuilder {
        NetworkBuilder { net: Network::new(name, dt_ms), labels: Default::default(), misuse: None }
    }

    pub fn population(&mut self, name: &str, size: u32, model: Model) -> Result<PopIx> {
        if let Some(why) = bad_population_name(name) {
            return Err(CompileError::Network(why));
        }
        if size == 0 {
            return Err(CompileError::Network(format!("population `{name}` has no neurons")));
        }
        if self.net.find(name).is_some() {
            return Err(CompileError::Network(format!("population name `{name}` is used twice")));
        }
        if let Model::Neuron(n) = &model {
            n.check(size as usize).map_err(|(_, m)| CompileError::Network(format!("population `{name}` ({}): {m}", n.model.name())))?;
        }
        // Spike times in any order, as the JSON reader takes them (the image
        // wants them ascending: unsorted ones were "an internal error").
        let mut model = model;
        if let Model::SpikeSourceArray(lists) = &mut model {
            for ts in lists.iter_mut() {
                ts.sort_by(f64::total_cmp);
            }
        }
        Ok(self.net.graph.add_node(Population {
            name: name.to_string(),
            size,
            model,
            initial: vec![],
            record_spikes: false,
            max_per_core: None,
            labels: vec![],
        }))
    }

    /// An initial value of state variable `var` (checked by `finish`: a
    /// variable the model has, one value or one per neuron).
    pub fn initial(&mut self, pop: PopIx, var: &str, init: Init) -> &mut Self {
        if let Some(p) = self.own(pop, "initial") {
            p.initial.push((var.to_string(), init));
        }
        self
    }

    pub fn record(&mut self, pop: PopIx) -> &mut Self {
        if let Some(p) = self.own(pop, "record") {
            p.record_spikes = true;
        }
        self
    }

    pub fn max_per_core(&mut self, pop: PopIx, n: u32) -> &mut Self {
        if let Some(p) = self.own(pop, "max_per_core") {
            p.max_per_core = Some(n);
        }
        self
    }

    /// Population `pop` of this builder, or `None` with the misuse kept for
    /// `finish` (an index of another builder's indexed past the graph: a panic).
    fn own(&mut self, pop: PopIx, call: &str) -> Option<&mut Population> {
        let n = self.net.num_pops();
        if self.net.graph.node_weight(pop).is_none() && self.misuse.is_none() {
            self.misuse = Some(format!("{call}: population index {} is not one of this builder's {n}", pop.index()));
        }
        self.net.graph.node_weight_mut(pop)
    }

    pub fn project(&mut self, pre: PopIx, post: PopIx, connector: Connector) -> ProjectionBuilder<'_> {
        let name = |p: PopIx| self.net.graph.node_weight(p).map_or_else(|| format!("#{}", p.index()), |p| p.name.clone());
        let label = format!("{}→{}", name(pre), name(post));
        ProjectionBuilder {
            b: self,
            pre,
            post,
            p: Projection { label, receptor: Receptor::Excitatory, connector, weight: None, delay_ms: None, loihi: LoihiWeights::default(), plasticity: None },
            labelled: false,
        }
    }

    /// The network, checked against the contract the compiler holds every
    /// network to (`net::check`: connector shapes against the populations,
    /// values per neuron, spike times, initial values, ranges).
    pub fn finish(self) -> Result<Network> {
        if let Some(m) = self.misuse {
            return Err(CompileError::Network(m));
        }
        if let Some(why) = nerve_isa::names::bad_network_name(&self.net.name) {
            return Err(CompileError::Network(why));
        }
        if !(self.net.dt_ms.is_finite() && self.net.dt_ms > 0.0) {
            return Err(CompileError::Network(format!("the timestep must be positive, found {}", crate::error::num(self.net.dt_ms))));
        }
        if !DT_MS_RANGE.contains(&self.net.dt_ms) {
            return Err(CompileError::Network(format!(
                "a timestep of {} ms is outside {}..={} ms",
                crate::error::num(self.net.dt_ms),
                crate::error::num(*DT_MS_RANGE.start()),
                crate::error::num(*DT_MS_RANGE.end())
            )));
        }
        crate::net::check::network(&self.net)?;
        Ok(self.net)
    }
}

impl ProjectionBuilder<'_> {
    pub fn weight(mut self, w: f64) -> Self {
        self.p.weight = Some(w);
        self
    }
    pub fn delay_ms(mut self, d: f64) -> Self {
        self.p.delay_ms = Some(d);
        self
    }
    pub fn inhibitory(mut self) -> Self {
        self.p.receptor = Receptor::Inhibitory;
        self
    }
    pub fn loihi(mut self, l: LoihiWeights) -> Self {
        self.p.loihi = l;
        self
    }
    pub fn plasticity(mut self, p: Plasticity) -> Self {
        self.p.plasticity = Some(Box::new(p));
        self
    }
    pub fn label(mut self, l: &str) -> Self {
        self.p.label = l.to_string();
        self.labelled = true;
        self
    }
    pub fn add(mut self) -> Result<ProjIx> {
        let (net, labels) = (&self.b.net, &self.b.labels);
        for (end, ix) in [("pre", self.pre), ("post", self.post)] {
            if net.graph.node_weight(ix).is_none() {
                return Err(CompileError::Network(format!(
                    "projection: {end} population index {} is not one of this builder's {}",
                    ix.index(),
                    net.num_pops()
                )));
            }
        }
        if let Some(why) = bad_projection_label(&self.p.label) {
            return Err(CompileError::Network(why));
        }
        // Labels name the rows of --save-weights: a default one is numbered as the JSON reader numbers it, a given one must be new
        // (one given as the default's spelling was renamed `a→b#2`, and no longer named its row).
        let taken = |l: &str| labels.contains(l);
        if taken(&self.p.label) {
            let base = format!("{}→{}", net.graph[self.pre].name, net.graph[self.post].name);
            if self.labelled || self.p.label != base {
                return Err(CompileError::Network(format!("projection label `{}` is used twice: labels must be unique", self.p.label)));
            }
            // invariant: a network has fewer than usize::MAX projections, so some number is free
            self.p.label = (2..).map(|k| format!("{base}#{k}")).find(|l| !taken(l)).expect("a free number");
        }
        if net.graph[self.post].model.is_source() {
            return Err(CompileError::Network(format!(
                "`{}` is a {} and cannot receive synapses",
                net.graph[self.post].name,
                net.graph[self.post].model.name()
            )));
        }
        if let Some(why) = net.graph[self.post]
            .model
            .neuron_model()
            .filter(|m| m.integer_weights())
            .and_then(|m| fractional_weight(m.name(), self.p.weight, &self.p.connector))
        {
            return Err(CompileError::Network(format!("projection {}: {why}", self.p.label)));
        }
        // PyNN's sign convention, as the JSON format's (a conv2d kernel is
        // signed as PyTorch's; loihi_lif's weights carry their own sign): -2
        // on an excitatory projection had delivered a negative current.
        let integer = net.graph[self.post].model.neuron_model().is_some_and(|m| m.integer_weights());
        if !integer && !matches!(self.p.connector, Connector::Conv2d(_)) {
            let (neg, pos) = self.p.weight_signs();
            let bad = match self.p.receptor {
                Receptor::Excitatory => neg.then_some("negative"),
                Receptor::Inhibitory => pos.then_some("positive"),
            };
            if let Some(sign) = bad {
                return Err(CompileError::Projection {
                    projection: self.p.label.clone(),
                    reason: format!(
                        "a {sign} weight on an {} projection: PyNN's convention is positive excitatory and negative inhibitory weights",
                        self.p.receptor.name()
                    ),
                });
            }
        }
        // The JSON reader's check of a learning rule, the same function.
        if let Some(pl) = &self.p.plasticity {
            crate::plasticity::check(net, self.post, pl).map_err(|b| CompileError::Projection {
                projection: self.p.label.clone(),
                reason: format!("plasticity{}{}: {}", if b.key.is_empty() { "" } else { "." }, b.key, b.reason),
            })?;
        }
        self.b.labels.insert(self.p.label.clone());
        Ok(self.b.net.graph.add_edge(self.pre, self.post, self.p))
    }
}
