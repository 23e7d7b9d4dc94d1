//! Networks out, for other tools: [`nir`] (NIR files with the weights as
//! quantised for a target).
pub mod nir;
