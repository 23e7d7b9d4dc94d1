//! A neuron kernel: a straight-line program run once per neuron per timestep,
//! over that neuron's state, parameters and synaptic inputs.
//!
//! There are no branches: conditional behaviour is compare + select. Every
//! program therefore terminates, runs the same instructions for every neuron
//! (so cycle counts are exact and engines may vectorise across neurons), and
//! has one meaning that the interpreter defines.

pub mod asm;
pub mod builder;

use crate::instr::{Instr, MAX_INPUT_PORTS, MAX_PARAM_SLOTS, MAX_STATE_SLOTS};
use crate::opcode::{OpClass, Opcode, Operand};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A kernel program with the names of its slots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kernel {
    /// A short name, e.g. `loihi_lif`.
    pub name: String,
    /// Names of the per-neuron state slots, read and written with `lds`/`sts`.
    pub state: Vec<String>,
    /// Names of the per-neuron parameter slots, read with `ldp`.
    pub params: Vec<String>,
    /// Names of the synaptic input ports, read with `ldin`.
    pub inputs: Vec<String>,
    pub code: Vec<Instr>,
}

/// Why a kernel is not well formed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KernelError {
    #[error("kernel `{kernel}` declares {count} {what} slots; the ISA allows {max}")]
    TooManySlots { kernel: String, what: &'static str, count: usize, max: usize },
    #[error("kernel `{kernel}` instruction {index} (`{mnemonic}`) uses {what} slot {slot}, but only {declared} are declared")]
    SlotOutOfRange { kernel: String, index: usize, mnemonic: &'static str, what: &'static str, slot: u8, declared: usize },
    #[error("kernel `{kernel}` instruction {index}: {source}")]
    Instr { kernel: String, index: usize, source: crate::instr::DecodeError },
    #[error("kernel `{kernel}` has {len} instructions; the core's instruction memory holds {max}")]
    TooLong { kernel: String, len: usize, max: usize },
    #[error("kernel `{kernel}`: duplicate {what} name `{name}`")]
    DuplicateName { kernel: String, what: &'static str, name: String },
}

/// Instruction counts per cost class, per neuron update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts {
    pub alu: u32,
    pub mul: u32,
    pub mem: u32,
    pub spike: u32,
}

impl Kernel {
    /// What this kernel needs of a core against what `core` has, as (the
    /// need, the profile key limiting it, need, limit): image validation and
    /// the compiler check neuron kernels against this one list.
    pub fn core_needs(&self, core: &crate::arch::CoreSpec) -> [(&'static str, &'static str, u64, u64); 4] {
        [
            ("instructions", "core.kernel_max_instructions", self.code.len() as u64, core.kernel_max_instructions as u64),
            ("state slots", "core.max_state_slots", self.state.len() as u64, core.max_state_slots as u64),
            ("parameter slots", "core.max_param_slots", self.params.len() as u64, core.max_param_slots as u64),
            ("input ports", "core.max_input_ports", self.inputs.len() as u64, core.max_input_ports as u64),
        ]
    }

    /// Checks slot declarations against the ISA and every slot reference
    /// against the declarations. The architecture's limits are checked by
    /// [`crate::image::Image::validate`] (see [`Kernel::core_needs`]).
    pub fn validate(&self) -> Result<(), KernelError> {
        let k = || self.name.clone();
        for (what, names, max) in [("state", &self.state, MAX_STATE_SLOTS), ("param", &self.params, MAX_PARAM_SLOTS), ("input", &self.inputs, MAX_INPUT_PORTS)]
        {
            if names.len() > max {
                return Err(KernelError::TooManySlots { kernel: k(), what, count: names.len(), max });
            }
            for (i, a) in names.iter().enumerate() {
                if names[..i].contains(a) {
                    return Err(KernelError::DuplicateName { kernel: k(), what, name: a.clone() });
                }
            }
        }
        for (index, ins) in self.code.iter().enumerate() {
            ins.check_canonical().map_err(|source| KernelError::Instr { kernel: k(), index, source })?;
            for o in ins.op.format().operands() {
                let (what, declared) = match o {
                    Operand::State => ("state", self.state.len()),
                    Operand::Param => ("param", self.params.len()),
                    Operand::Input => ("input", self.inputs.len()),
                    Operand::Rd | Operand::Ra | Operand::Rb | Operand::Rc | Operand::Imm | Operand::Aux { .. } => continue,
                };
                if ins.aux as usize >= declared {
                    return Err(KernelError::SlotOutOfRange { kernel: k(), index, mnemonic: ins.op.mnemonic(), what, slot: ins.aux, declared });
                }
            }
        }
        Ok(())
    }

    /// Instructions per class for one neuron update (every instruction runs once).
    pub fn class_counts(&self) -> ClassCounts {
        let mut c = ClassCounts::default();
        for i in &self.code {
            match i.op.class() {
                OpClass::Alu => c.alu += 1,
                OpClass::Mul => c.mul += 1,
                OpClass::Mem => c.mem += 1,
                OpClass::Spike => c.spike += 1,
            }
        }
        c
    }

    pub fn state_slot(&self, name: &str) -> Option<u8> {
        self.state.iter().position(|s| s == name).map(|i| i as u8)
    }
    pub fn param_slot(&self, name: &str) -> Option<u8> {
        self.params.iter().position(|s| s == name).map(|i| i as u8)
    }
    pub fn input_slot(&self, name: &str) -> Option<u8> {
        self.inputs.iter().position(|s| s == name).map(|i| i as u8)
    }

    /// The state slots the program writes, ascending. A neuron update is
    /// "active" if one of them ends the step with a different value, if any
    /// input port is non-zero, or if the neuron spikes (docs/emulator.md).
    pub fn written_state(&self) -> Vec<u8> {
        let mut v: Vec<u8> = self.code.iter().filter(|i| i.op.writes_state()).map(|i| i.aux).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// True if any instruction is `op`.
    pub fn uses(&self, op: Opcode) -> bool {
        self.code.iter().any(|i| i.op == op)
    }
}
