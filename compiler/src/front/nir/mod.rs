//! NIR (the Neuromorphic Intermediate Representation, nir 1.0.8): reading
//! `.nir` files, flattening nested graphs and lowering them to a nerve
//! network (docs/nir.md). Writing NIR is `crate::export::nir`.
pub mod conventions;
pub mod lower;
pub mod model;
pub mod read;
pub mod schedule;
