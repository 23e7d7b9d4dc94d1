//! The kernel engines: what runs a core's neuron kernel over its neurons
//! each step. [`KernelRunner`] is the seam: the reference interpreter
//! ([`interp`], the meaning of every opcode) and the JIT ([`jit`],
//! bit-identical, the only `unsafe` code; its backends Cranelift and
//! [`avx512`]) implement it, and tests plug fakes.
//!
//! A core's operands are laid out for the engines as structure-of-arrays,
//! each array padded to a multiple of [`LANES`] neurons so that vector code
//! needs no tail loop (padding lanes compute garbage that nothing reads).

pub mod avx2;
pub mod avx512;
pub mod interp;
pub mod jit;

use nerve_isa::kernel::Kernel;

/// How kernels are executed.
pub trait KernelRunner: Sync {
    /// Runs core `core`'s kernel over its neurons, then clears `input` (this
    /// step's ring slot) for its reuse `slots` steps later.
    fn run(&self, core: usize, k: &Kernel, d: &mut KernelData, input: &mut [i32], stride: usize, flags: &mut [u8]);
    /// Runs a learning program (the machine's kernel `kernel`) over the
    /// synapses of `d`, its operands in `input`; `input` is left as it is.
    fn run_program(&self, kernel: usize, k: &Kernel, d: &mut KernelData, input: &mut [i32], stride: usize, flags: &mut [u8]);
}

/// The reference interpreter as a runner.
pub struct Interp;

impl KernelRunner for Interp {
    fn run(&self, _core: usize, k: &Kernel, d: &mut KernelData, input: &mut [i32], stride: usize, flags: &mut [u8]) {
        interp::run(k, d, input, stride, flags);
        input.fill(0);
    }
    fn run_program(&self, _kernel: usize, k: &Kernel, d: &mut KernelData, input: &mut [i32], stride: usize, flags: &mut [u8]) {
        interp::run(k, d, input, stride, flags);
    }
}

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
    /// One padded array per state slot, in whole cache lines (the kernel
    /// writes it every step; no other core's thread may share its lines).
    pub state: Vec<crate::lines::LineVec<i32>>,
    pub params: Vec<Param>,
}

/// Output of a kernel pass: one byte per group of [`LANES`] neurons; bit l
/// (0..4) = neuron 4g + l spiked, bit 4 + l = it was active (received input on
/// some port, spiked, or changed a state slot its kernel writes). Lanes past the last neuron are garbage; callers mask them.
pub fn groups(n: usize) -> usize {
    n.div_ceil(LANES)
}

/// How a multiply–shift rounds (mulsh, mulshr, mulshz): both JIT backends.
#[derive(Clone, Copy)]
pub(crate) enum Rounding {
    Floor,
    HalfUp,
    TowardZero,
}

impl Rounding {
    /// The rounding of a multiply–shift opcode.
    pub(crate) fn of(op: nerve_isa::opcode::Opcode) -> Rounding {
        match op {
            nerve_isa::opcode::Opcode::Mulsh => Rounding::Floor,
            nerve_isa::opcode::Opcode::Mulshr => Rounding::HalfUp,
            _ => Rounding::TowardZero,
        }
    }
}
