//! Building kernels in Rust: slots are declared once and return typed
//! handles, and every instruction is a method generated from the opcode
//! table (`crate::opcode`) whose operands are typed by its format. A
//! register where a slot belongs, or a state slot where a parameter
//! belongs, does not compile; ranges (shift amounts, bit widths) and slot
//! limits are checked by [`KernelBuilder::finish`], as for assembled text.
//!
//! ```
//! use nerve_isa::instr::r;
//! use nerve_isa::kernel::builder::KernelBuilder;
//! let mut b = KernelBuilder::new("counter");
//! let n = b.state("n");
//! let step = b.param("step");
//! b.lds(r(0), n).ldp(r(1), step).add(r(0), r(0), r(1)).sts(n, r(0));
//! let k = b.finish().unwrap();
//! assert_eq!(k.code.len(), 4);
//! ```

use super::{Kernel, KernelError};
use crate::instr::Instr;

/// A declared per-neuron state slot (`lds`, `sts`, `rand`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State(pub(crate) u8);
/// A declared per-neuron parameter slot (`ldp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param(pub(crate) u8);
/// A declared synaptic input port (`ldin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Input(pub(crate) u8);

/// A kernel under construction.
#[derive(Clone, Debug)]
pub struct KernelBuilder {
    k: Kernel,
}

impl KernelBuilder {
    pub fn new(name: &str) -> KernelBuilder {
        KernelBuilder { k: Kernel { name: name.to_string(), state: vec![], params: vec![], inputs: vec![], code: vec![] } }
    }
    /// Declares the next state slot.
    pub fn state(&mut self, name: &str) -> State {
        self.k.state.push(name.to_string());
        State((self.k.state.len() - 1) as u8)
    }
    /// Declares the next parameter slot.
    pub fn param(&mut self, name: &str) -> Param {
        self.k.params.push(name.to_string());
        Param((self.k.params.len() - 1) as u8)
    }
    /// Declares the next input port.
    pub fn input(&mut self, name: &str) -> Input {
        self.k.inputs.push(name.to_string());
        Input((self.k.inputs.len() - 1) as u8)
    }
    /// A declared parameter, by name.
    pub fn param_named(&self, name: &str) -> Option<Param> {
        self.k.params.iter().position(|p| p == name).map(|i| Param(i as u8))
    }
    /// A declared state slot, by name.
    pub fn state_named(&self, name: &str) -> Option<State> {
        self.k.state.iter().position(|p| p == name).map(|i| State(i as u8))
    }
    pub(crate) fn emit(&mut self, i: Instr) -> &mut Self {
        self.k.code.push(i);
        self
    }
    /// The kernel, checked as the assembler checks its text (slot counts and
    /// names, operand ranges, slot references).
    pub fn finish(self) -> Result<Kernel, KernelError> {
        self.k.validate()?;
        Ok(self.k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instr::r;
    use crate::kernel::asm::assemble;

    #[test]
    fn builds_what_the_assembler_assembles() {
        let text = ".kernel t\n.state v, rng\n.param a, e0\n.input exc0\n    ldin r0, exc0\n    ldp r1, e0\n    shv r0, r0, r1\n    lds r2, v\n    mulshr r3, r2, r0, 12\n    sel r4, r3, r2, r0\n    wrap r4, r4, 24\n    shl r5, r4, 6\n    addi r5, r5, -3\n    rand r6, rng\n    sts v, r4\n    movi r7, 9\n    spike r7\n";
        let mut b = KernelBuilder::new("t");
        let (v, rng) = (b.state("v"), b.state("rng"));
        let (_a, e0) = (b.param("a"), b.param("e0"));
        let exc0 = b.input("exc0");
        b.ldin(r(0), exc0).ldp(r(1), e0).shv(r(0), r(0), r(1)).lds(r(2), v).mulshr(r(3), r(2), r(0), 12).sel(r(4), r(3), r(2), r(0));
        b.wrap(r(4), r(4), 24).shl(r(5), r(4), 6).addi(r(5), r(5), -3).rand(r(6), rng).sts(v, r(4)).movi(r(7), 9).spike(r(7));
        assert_eq!(b.finish().unwrap(), assemble(text).unwrap());
    }

    #[test]
    fn out_of_range_operands_are_refused() {
        let mut b = KernelBuilder::new("t");
        b.mulshr(r(0), r(0), r(0), 63);
        assert!(b.finish().is_err());
        let mut b = KernelBuilder::new("t");
        b.wrap(r(0), r(0), 0);
        assert!(b.finish().is_err());
    }
}
