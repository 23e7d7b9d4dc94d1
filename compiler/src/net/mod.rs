//! The network: the graph IR ([`model`]: populations are nodes, projections
//! edges, insertion order canonical) and connectors expanded into synapses
//! ([`expand`]), and delays beyond a core's slots mapped onto delay-extension
//! relays ([`delays`]).
pub mod check;
pub mod delays;
pub mod expand;
pub mod model;
