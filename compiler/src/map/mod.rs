//! Mapping: [`partition`] populations into per-core slices under every core
//! limit, [`place`] slices on cores, [`route`] (keys, multicast trees,
//! tables, compression).
pub mod partition;
pub mod place;
pub mod route;
