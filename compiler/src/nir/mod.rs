//! NIR (the Neuromorphic Intermediate Representation, nir 1.0.8): reading
//! `.nir` files, flattening nested graphs, lowering to a nerve network, and
//! writing networks back as NIR (docs/nir.md).
pub mod lower;
pub mod model;
pub mod read;
pub mod write;
