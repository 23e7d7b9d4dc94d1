//! A core's kernel operands laid out for the engines: structure-of-arrays,
//! each array padded to a multiple of [`LANES`] neurons so that vector code
//! needs no tail loop (padding lanes compute garbage that nothing reads).

/// Neurons per vector step of the JIT; arrays are padded to a multiple of it.
pub const LANES: usize = 4;

pub fn padded(n: usize) -> usize {
    n.div_ceil(LANES) * LANES
}

/// A parameter on one core.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Uniform(i32),
    /// `padded(n)` values.
    PerNeuron(Vec<i32>),
}

impl Param {
    #[inline]
    pub fn get(&self, i: usize) -> i32 {
        match self {
            Param::Uniform(v) => *v,
            Param::PerNeuron(v) => v[i],
        }
    }
}

/// The arrays one kernel pass reads and writes.
pub struct KernelData {
    pub n: usize,
    /// One padded array per state slot.
    pub state: Vec<Vec<i32>>,
    pub params: Vec<Param>,
}

/// Output of a kernel pass: one byte per group of [`LANES`] neurons; bit l
/// (0..4) = neuron 4g + l spiked, bit 4 + l = it was active (received input on
/// some port, spiked, or changed a state slot its kernel writes). Lanes past the last neuron are garbage; callers mask them.
pub fn groups(n: usize) -> usize {
    n.div_ceil(LANES)
}
