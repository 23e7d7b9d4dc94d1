//! What events cost: time ([`timing`]: per core and per step, from the
//! profile's `[timing]`) and energy ([`energy`]: from the counter table and
//! the profile's `[energy]`). The cost model changes what is charged, never
//! what is computed.

pub mod energy;
pub mod timing;
