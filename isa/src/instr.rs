//! Instructions and their 64-bit encoding.
//!
//! ```text
//! byte 0      opcode
//! byte 1      rd (bits 0-3) | ra (bits 4-7)
//! byte 2      rb (bits 0-3) | rc (bits 4-7)
//! byte 3      aux: shift amount, bit width, or state/param/input slot
//! bytes 4-7   imm, i32 little-endian
//! ```
//! Encoding is canonical: a field that the format does not use must be zero,
//! so every program has exactly one encoding and decode(encode(x)) == x.

use crate::opcode::{Format, Opcode, Operand};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Number of general registers, r0..r15. All are zero when a neuron's program starts.
pub const NUM_REGS: usize = 16;
/// Most state slots a kernel may declare.
pub const MAX_STATE_SLOTS: usize = 32;
/// Most parameter slots a kernel may declare.
pub const MAX_PARAM_SLOTS: usize = 64;
/// Most synaptic input ports a kernel may declare.
pub const MAX_INPUT_PORTS: usize = 16;

/// A general register index, 0..16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Reg(u8);

impl Reg {
    /// Returns `None` for an index ≥ 16.
    pub fn new(i: u8) -> Option<Reg> {
        ((i as usize) < NUM_REGS).then_some(Reg(i))
    }
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Shorthand for register `i`, for hand-built programs. Panics if `i` ≥ 16.
pub fn r(i: u8) -> Reg {
    // invariant: `r` is for hand-built programs, whose callers pass literal register numbers < 16 (documented: panics otherwise)
    Reg::new(i).expect("r(i) takes a register number below 16")
}

/// One instruction. Fields a format does not use are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instr {
    pub op: Opcode,
    pub rd: Reg,
    pub ra: Reg,
    pub rb: Reg,
    pub rc: Reg,
    pub aux: u8,
    pub imm: i32,
}

/// Why a 64-bit word is not an instruction.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("unknown opcode byte 0x{0:02x}")]
    UnknownOpcode(u8),
    #[error("`{mnemonic}` does not use field {field}, which must be zero (found {value})")]
    NonCanonical { mnemonic: &'static str, field: &'static str, value: i64 },
    #[error("`{mnemonic}` operand {value} is out of range {min}..={max}")]
    AuxOutOfRange { mnemonic: &'static str, value: u8, min: u8, max: u8 },
}

impl Instr {
    /// An instruction with every field zero but the opcode.
    pub fn new(op: Opcode) -> Instr {
        Instr { op, rd: Reg(0), ra: Reg(0), rb: Reg(0), rc: Reg(0), aux: 0, imm: 0 }
    }

    pub fn encode(&self) -> u64 {
        let b = [self.op as u8, self.rd.0 | (self.ra.0 << 4), self.rb.0 | (self.rc.0 << 4), self.aux];
        let lo = u32::from_le_bytes(b) as u64;
        lo | ((self.imm as u32 as u64) << 32)
    }

    pub fn decode(word: u64) -> Result<Instr, DecodeError> {
        let b = (word as u32).to_le_bytes();
        let op = Opcode::from_byte(b[0]).ok_or(DecodeError::UnknownOpcode(b[0]))?;
        let i = Instr { op, rd: Reg(b[1] & 0xf), ra: Reg(b[1] >> 4), rb: Reg(b[2] & 0xf), rc: Reg(b[2] >> 4), aux: b[3], imm: (word >> 32) as u32 as i32 };
        i.check_canonical()?;
        Ok(i)
    }

    /// Checks that unused fields are zero and `aux` is in its format's range.
    /// Slot indices are checked against a kernel's declarations by
    /// [`crate::kernel::Kernel::validate`], not here.
    pub fn check_canonical(&self) -> Result<(), DecodeError> {
        let ops = self.op.format().operands();
        let uses = |o: Operand| ops.iter().any(|x| std::mem::discriminant(x) == std::mem::discriminant(&o));
        let mn = self.op.mnemonic();
        let zero = |used: bool, field: &'static str, value: i64| {
            if !used && value != 0 {
                Err(DecodeError::NonCanonical { mnemonic: mn, field, value })
            } else {
                Ok(())
            }
        };
        zero(uses(Operand::Rd), "rd", self.rd.0 as i64)?;
        zero(uses(Operand::Ra), "ra", self.ra.0 as i64)?;
        zero(uses(Operand::Rb), "rb", self.rb.0 as i64)?;
        zero(uses(Operand::Rc), "rc", self.rc.0 as i64)?;
        zero(uses(Operand::Imm), "imm", self.imm as i64)?;
        let aux_used = ops.iter().any(|o| matches!(o, Operand::Aux { .. } | Operand::State | Operand::Param | Operand::Input));
        zero(aux_used, "aux", self.aux as i64)?;
        for o in ops {
            if let Operand::Aux { min, max } = *o {
                if self.aux < min || self.aux > max {
                    return Err(DecodeError::AuxOutOfRange { mnemonic: mn, value: self.aux, min, max });
                }
            }
        }
        Ok(())
    }

    /// The registers this instruction reads.
    pub fn reads(&self) -> Vec<Reg> {
        let mut v = Vec::new();
        for o in self.op.format().operands() {
            match o {
                Operand::Ra => v.push(self.ra),
                Operand::Rb => v.push(self.rb),
                Operand::Rc => v.push(self.rc),
                Operand::Rd | Operand::Imm | Operand::Aux { .. } | Operand::State | Operand::Param | Operand::Input => {}
            }
        }
        v
    }

    /// The register this instruction writes, if any.
    pub fn writes(&self) -> Option<Reg> {
        self.op.format().operands().contains(&Operand::Rd).then_some(self.rd)
    }
}

// Constructors for hand-written and generated programs. Each builds a canonical
// instruction of its format.
impl Instr {
    pub fn rd_imm(op: Opcode, rd: Reg, imm: i32) -> Instr {
        debug_assert_eq!(op.format(), Format::RdImm);
        Instr { rd, imm, ..Instr::new(op) }
    }
    pub fn rd_ra(op: Opcode, rd: Reg, ra: Reg) -> Instr {
        Instr { rd, ra, ..Instr::new(op) }
    }
    pub fn rd_ra_rb(op: Opcode, rd: Reg, ra: Reg, rb: Reg) -> Instr {
        Instr { rd, ra, rb, ..Instr::new(op) }
    }
    pub fn rd_ra_imm(op: Opcode, rd: Reg, ra: Reg, imm: i32) -> Instr {
        Instr { rd, ra, imm, ..Instr::new(op) }
    }
    pub fn rd_ra_rb_aux(op: Opcode, rd: Reg, ra: Reg, rb: Reg, aux: u8) -> Instr {
        Instr { rd, ra, rb, aux, ..Instr::new(op) }
    }
    pub fn rd_ra_aux(op: Opcode, rd: Reg, ra: Reg, aux: u8) -> Instr {
        Instr { rd, ra, aux, ..Instr::new(op) }
    }
    pub fn sel(rd: Reg, rc: Reg, ra: Reg, rb: Reg) -> Instr {
        Instr { rd, rc, ra, rb, ..Instr::new(Opcode::Sel) }
    }
    pub fn rd_slot(op: Opcode, rd: Reg, slot: u8) -> Instr {
        Instr { rd, aux: slot, ..Instr::new(op) }
    }
    pub fn sts(slot: u8, ra: Reg) -> Instr {
        Instr { ra, aux: slot, ..Instr::new(Opcode::Sts) }
    }
    pub fn spike(ra: Reg) -> Instr {
        Instr { ra, ..Instr::new(Opcode::Spike) }
    }
}

/// Serde as the encoded word, so images carry the binary encoding and a
/// corrupt word fails to decode with a [`DecodeError`].
impl Serialize for Instr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.encode())
    }
}

impl<'de> Deserialize<'de> for Instr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = u64::deserialize(d)?;
        Instr::decode(w).map_err(serde::de::Error::custom)
    }
}
