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
}

pub struct ProjectionBuilder<'a> {
    b: &'a mut NetworkBuilder,
    pre: PopIx,
    post: PopIx,
    p: Projection,
}

impl NetworkBuilder {
    pub fn new(name: &str, dt_ms: f64) -> NetworkBuilder {
        NetworkBuilder { net: Network::new(name, dt_ms), labels: Default::default() }
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

    pub fn initial(&mut self, pop: PopIx, var: &str, init: Init) -> &mut Self {
        self.net.graph[pop].initial.push((var.to_string(), init));
        self
    }

    pub fn record(&mut self, pop: PopIx) -> &mut Self {
        self.net.graph[pop].record_spikes = true;
        self
    }

    pub fn max_per_core(&mut self, pop: PopIx, n: u32) -> &mut Self {
        self.net.graph[pop].max_per_core = Some(n);
        self
    }

    pub fn project(&mut self, pre: PopIx, post: PopIx, connector: Connector) -> ProjectionBuilder<'_> {
        let label = format!("{}→{}", self.net.graph[pre].name, self.net.graph[post].name);
        ProjectionBuilder {
            b: self,
            pre,
            post,
            p: Projection { label, receptor: Receptor::Excitatory, connector, weight: None, delay_ms: None, loihi: LoihiWeights::default(), plasticity: None },
        }
    }

    pub fn finish(self) -> Result<Network> {
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
        self
    }
    pub fn add(mut self) -> Result<ProjIx> {
        let (net, labels) = (&self.b.net, &self.b.labels);
        if let Some(why) = bad_projection_label(&self.p.label) {
            return Err(CompileError::Network(why));
        }
        // Labels name the rows of --save-weights: a default one is numbered as the JSON reader numbers it, a given one must be new.
        let taken = |l: &str| labels.contains(l);
        if taken(&self.p.label) {
            let base = format!("{}→{}", net.graph[self.pre].name, net.graph[self.post].name);
            if self.p.label != base {
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
