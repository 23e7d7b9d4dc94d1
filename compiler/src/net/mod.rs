//! The network: the graph IR ([`model`]: populations are nodes, projections
//! edges, insertion order canonical) and connectors expanded into synapses
//! ([`expand`]).
pub mod expand;
pub mod model;
